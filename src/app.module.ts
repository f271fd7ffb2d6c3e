import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChatModule } from './chat/chat.module';
import { validateEnvironment, type EnvironmentVariables } from './config/env.validation';
import { sqliteOptions } from './database/typeorm-options';
import { HealthModule } from './health/health.module';

@Module({})
export class AppModule {
  /** Reads and validates the environment when called, so each app instance (and test) gets its own. */
  static forRoot(): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validateEnvironment }),
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<EnvironmentVariables, true>) =>
            sqliteOptions({
              path: config.get('SQLITE_PATH', { infer: true }),
              synchronous: config.get('SQLITE_SYNCHRONOUS', { infer: true }),
            }),
        }),
        ChatModule,
        HealthModule,
      ],
    };
  }
}
