import type { ClusterBus } from '../hub/cluster-bus';
import { LocalClusterBus } from '../hub/cluster-bus';
import type { RedisConnection } from './redis-connection';

interface Envelope {
  from: string;
  topic: string;
  payload: unknown;
}

/**
 * The ClusterBus of cluster mode: one Redis channel (`<prefix>:bus`) carries every topic as JSON.
 * A publish runs this node's handlers at once and goes to Redis; a message that comes back from
 * Redis with this node's id is skipped, so every handler runs once per publish. While Redis is
 * down a publish reaches this node only (the outage is counted by RedisConnection).
 */
export class RedisClusterBus extends LocalClusterBus implements ClusterBus {
  override readonly clustered = true;
  private readonly channel: string;

  constructor(private readonly redis: RedisConnection) {
    super(redis.instanceId);
    this.channel = redis.key('bus');
  }

  async start(): Promise<void> {
    this.redis.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const { from, topic, payload } = JSON.parse(message) as Envelope;
      if (from !== this.instanceId) this.dispatch(topic, payload, from);
    });
    await this.redis.subscriber.subscribe(this.channel);
  }

  override publish(topic: string, payload: unknown): void {
    super.publish(topic, payload);
    if (!this.redis.isUp) return;
    const envelope: Envelope = { from: this.instanceId, topic, payload };
    this.redis.command.publish(this.channel, JSON.stringify(envelope)).catch(() => undefined);
  }
}
