import { Inject, Module, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { CLUSTER_COUNTERS, ClusterCounters } from './cluster-counters';
import { REDIS_CONNECTION, type RedisConnection } from './redis-connection';

/**
 * The abuse limits' share of cluster mode: the connection counts every node sums (null on one
 * node). The edge (app.setup.ts) hands them to the WebSocket adapter; sanctions and the per-user
 * rate limit go over the ClusterBus instead (ModerationService, gateway/rate-share.ts).
 */
@Module({
  providers: [
    {
      provide: CLUSTER_COUNTERS,
      inject: [REDIS_CONNECTION, ConfigService],
      useFactory: (redis: RedisConnection | null, config: ConfigService<EnvironmentVariables, true>): ClusterCounters | null =>
        redis === null ? null : new ClusterCounters(redis, config.get('INSTANCE_TTL_MS', { infer: true })),
    },
  ],
  exports: [CLUSTER_COUNTERS],
})
export class ClusterLimitsModule implements OnApplicationShutdown {
  constructor(@Optional() @Inject(CLUSTER_COUNTERS) private readonly counters: ClusterCounters | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.counters?.close();
  }
}
