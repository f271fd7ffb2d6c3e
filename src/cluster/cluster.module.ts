import { randomUUID } from 'node:crypto';
import { Global, Module, type OnApplicationShutdown, Inject, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { BROKER, type Broker } from '../hub/broker';
import { CLUSTER_BUS, LocalClusterBus, type ClusterBus } from '../hub/cluster-bus';
import { LocalBroker } from '../hub/local-broker';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { NO_FENCE, PUBLISH_FENCE, type PublishFence } from '../store/publish-fence';
import { RedisBroker } from './redis-broker';
import { RedisClusterBus } from './redis-cluster-bus';
import { REDIS_CONNECTION, RedisConnection } from './redis-connection';

/**
 * One node, or one of N (REDIS_URL): provides the Broker (with its PublishFence) and the ClusterBus the hub and the
 * services use, and the Redis connection of cluster mode (null on one node). Global, so that the
 * hub's module names the tokens without importing this folder (cluster sits above hub).
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_CONNECTION,
      inject: [ConfigService],
      useFactory: async (config: ConfigService<EnvironmentVariables, true>): Promise<RedisConnection | null> => {
        const url = config.get('REDIS_URL', { infer: true });
        if (url === undefined) return null;
        const redis = new RedisConnection({ url, prefix: config.get('CLUSTER_PREFIX', { infer: true }), instanceId: randomUUID() });
        await redis.connect();
        return redis;
      },
    },
    {
      provide: CLUSTER_BUS,
      inject: [REDIS_CONNECTION],
      useFactory: async (redis: RedisConnection | null): Promise<ClusterBus> => {
        if (!redis) return new LocalClusterBus();
        const bus = new RedisClusterBus(redis);
        await bus.start();
        return bus;
      },
    },
    {
      provide: BROKER,
      inject: [REDIS_CONNECTION, ChatMetrics],
      useFactory: async (redis: RedisConnection | null, metrics: ChatMetrics): Promise<Broker> => {
        if (!redis) return new LocalBroker();
        const broker = new RedisBroker(redis, metrics);
        await broker.start();
        return broker;
      },
    },
    {
      provide: PUBLISH_FENCE,
      inject: [BROKER],
      useFactory: (broker: Broker): PublishFence => (broker instanceof RedisBroker ? broker : NO_FENCE),
    },
  ],
  exports: [REDIS_CONNECTION, CLUSTER_BUS, BROKER, PUBLISH_FENCE],
})
export class ClusterModule implements OnApplicationShutdown {
  constructor(@Optional() @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null) {}

  onApplicationShutdown(): void {
    this.redis?.close();
  }
}
