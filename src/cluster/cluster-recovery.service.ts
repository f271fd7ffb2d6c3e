import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { Hub } from '../hub/hub';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { CLUSTER_RESYNC_CLOSE } from '../protocol/frames';
import { REDIS_CONNECTION, type RedisConnection } from './redis-connection';

/** How long a closed client is given to answer the 1012 before it is dropped. */
const RESYNC_CLOSE_GRACE_MS = 2000;

/**
 * What a node does about a Redis outage (docs/operations.md#redis-outage). Down: it counts it and
 * goes on serving its own clients (RedisBroker delivers locally). Back: every client of this node
 * is closed with 1012, so that it reconnects (to any node) and resumes. That is how a client gets,
 * exactly, what other nodes' clients sent during the outage: from the store, as any resume does,
 * with the presence of the whole cluster in its new welcome. A hint frame would have needed a new
 * client behaviour; the web client already reconnects and resumes after any close but a sanction.
 */
@Injectable()
export class ClusterRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger('ClusterRecovery');

  constructor(
    @Optional() @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null,
    private readonly hub: Hub,
    private readonly metrics: ChatMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const redis = this.redis;
    if (!redis) return;
    this.metrics.redisUp.set(redis.isUp ? 1 : 0);
    redis.onStatus((up) => {
      this.metrics.redisUp.set(up ? 1 : 0);
      if (!up) this.metrics.redisOutages.inc();
      else this.resync();
    });
  }

  private resync(): void {
    let closed = 0;
    for (const session of [...this.hub.sessions()]) {
      closed++;
      void session.close(CLUSTER_RESYNC_CLOSE.code, CLUSTER_RESYNC_CLOSE.reason, RESYNC_CLOSE_GRACE_MS);
    }
    this.metrics.clusterResyncCloses.inc(closed);
    if (closed > 0) this.logger.log(`Redis is back: closed ${closed} connections with 1012 so that they resume what other nodes sent meanwhile`);
  }
}
