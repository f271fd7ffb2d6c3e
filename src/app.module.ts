import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiModule } from './api/api.module';
import { AuthModule } from './auth/auth.module';
import { ClusterLimitsModule } from './cluster/cluster-limits.module';
import { ClusterModule } from './cluster/cluster.module';
import { validateEnvironment, type EnvironmentVariables } from './config/env.validation';
import { LoggingModule } from './config/logging.module';
import { sqliteOptions } from './database/typeorm-options';
import { DocsModule } from './docs/docs.module';
import { GatewayModule } from './gateway/gateway.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { WebModule } from './web/web.module';

@Module({})
export class AppModule {
  /**
   * Reads and validates the environment when called, so each app instance (and test) gets its own.
   * Awaiting ConfigModule here turns a bad value into a rejection the caller handles.
   */
  static async forRoot(): Promise<DynamicModule> {
    const config = await ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validateEnvironment });
    return {
      module: AppModule,
      imports: [
        config,
        LoggingModule.forRoot(),
        MetricsModule,
        AuthModule,
        ClusterModule,
        ClusterLimitsModule,
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<EnvironmentVariables, true>) =>
            sqliteOptions({
              path: config.get('SQLITE_PATH', { infer: true }),
              synchronous: config.get('SQLITE_SYNCHRONOUS', { infer: true }),
              busyTimeoutMs: config.get('STORE_BUSY_TIMEOUT_MS', { infer: true }),
              lockingMode: config.get('SQLITE_LOCKING_MODE', { infer: true }),
            }),
        }),
        GatewayModule,
        ApiModule,
        HealthModule,
        DocsModule,
        WebModule,
      ],
    };
  }
}
