import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiModule } from './api/api.module';
import { AuthModule } from './auth/auth.module';
import { ClusterLimitsModule } from './cluster/cluster-limits.module';
import { ClusterNodeModule } from './cluster/cluster-node.module';
import { ClusterModule } from './cluster/cluster.module';
import { validateEnvironment, type EnvironmentVariables } from './config/env.validation';
import { LoggingModule } from './config/logging.module';
import { databaseOptions, initializePostgres } from './database/typeorm-options';
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
            databaseOptions({
              DATABASE_URL: config.get('DATABASE_URL', { infer: true }),
              DATABASE_SCHEMA: config.get('DATABASE_SCHEMA', { infer: true }),
              SQLITE_PATH: config.get('SQLITE_PATH', { infer: true }),
              SQLITE_SYNCHRONOUS: config.get('SQLITE_SYNCHRONOUS', { infer: true }),
              STORE_BUSY_TIMEOUT_MS: config.get('STORE_BUSY_TIMEOUT_MS', { infer: true }),
              SQLITE_LOCKING_MODE: config.get('SQLITE_LOCKING_MODE', { infer: true }),
            }),
          // PostgreSQL: the schema is created and migrated by one instance at a time.
          dataSourceFactory: (options) => (options!.type === 'postgres' ? initializePostgres(options) : new DataSource(options!).initialize()),
        }),
        GatewayModule,
        ClusterNodeModule,
        ApiModule,
        HealthModule,
        DocsModule,
        WebModule,
      ],
    };
  }
}
