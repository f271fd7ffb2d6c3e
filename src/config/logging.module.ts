import { Global, Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppLogger } from './app-logger';
import type { EnvironmentVariables } from './env.validation';
import { resolveLogFormat } from './logger.options';
import { proxyTrust } from './trust-proxy';

/** Provides the AppLogger (main.ts makes it Nest's logger) and mounts its request logger. */
@Global()
@Module({})
export class LoggingModule implements NestModule {
  static forRoot(): DynamicModule {
    return {
      module: LoggingModule,
      providers: [
        {
          provide: AppLogger,
          inject: [ConfigService],
          useFactory: (config: ConfigService<EnvironmentVariables, true>) =>
            new AppLogger({
              level: config.get('LOG_LEVEL', { infer: true }),
              format: resolveLogFormat(config.get('LOG_FORMAT', { infer: true }), config.get('NODE_ENV', { infer: true }), process.stdout.isTTY === true),
              ...trusted(config.get('TRUST_PROXY', { infer: true })),
            }),
        },
      ],
      exports: [AppLogger],
    };
  }

  constructor(private readonly logger: AppLogger) {}

  configure(consumer: MiddlewareConsumer): void {
    const { middleware, forRoutes } = this.logger.requestMiddleware();
    if (forRoutes.length > 0) consumer.apply(...middleware).forRoutes(...forRoutes);
  }
}

/** TRUST_PROXY for the request log: none when unset, so the line is pino's as it always was. */
function trusted(value: string | undefined): { trust?: ReturnType<typeof proxyTrust> } {
  return value === undefined || value.trim() === '' ? {} : { trust: proxyTrust(value) };
}
