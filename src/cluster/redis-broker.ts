import { Logger } from '@nestjs/common';
import type { Broker, Delivery } from '../hub/broker';
import type { ChatMetrics } from '../metrics/chat-metrics.service';
import type { PublishFence } from '../store/publish-fence';
import { decodeDelivery, encodeDelivery } from './delivery-codec';
import type { RedisConnection } from './redis-connection';

/**
 * The Broker of cluster mode: every delivery is encoded once (delivery-codec.ts) and PUBLISHed on
 * one channel, `<prefix>:deliveries`; every node, the publisher included, delivers it when it
 * comes back on the subscriber connection. So every node sees the deliveries in one order, Redis's,
 * and a store that publishes under a cluster-wide lock (waiting on settle() before releasing it)
 * gets its messages delivered in id order everywhere.
 *
 * While Redis is down a publish is delivered locally at once (this node's clients keep chatting),
 * and so is one whose PUBLISH failed; what other nodes miss meanwhile their clients fetch by
 * resume once the outage ends (ClusterRecovery closes them with 1012).
 */
export class RedisBroker implements Broker, PublishFence {
  private readonly channel: string;
  private readonly channelBytes: Buffer;
  private receive: (delivery: Delivery) => void = () => undefined;
  /** Settles when the last PUBLISH issued has been answered (or failed): replies come in order. */
  private lastReply: Promise<void> = Promise.resolve();
  private readonly logger = new Logger('RedisBroker');
  private failuresLogged = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly metrics: ChatMetrics,
  ) {
    this.channel = redis.key('deliveries');
    this.channelBytes = Buffer.from(this.channel);
  }

  async start(): Promise<void> {
    this.redis.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (!channel.equals(this.channelBytes)) return;
      this.deliver(message);
    });
    await this.redis.subscriber.subscribe(this.channel);
    this.redis.onStatus((up) => {
      if (up) this.failuresLogged = false;
    });
  }

  subscribe(receive: (delivery: Delivery) => void): void {
    this.receive = receive;
  }

  publish(delivery: Delivery): void {
    if (!this.redis.isUp) {
      this.receive(delivery);
      return;
    }
    const sent = this.redis.command.publish(this.channel, encodeDelivery(delivery, this.redis.instanceId));
    this.lastReply = sent.then(
      () => undefined,
      (error: unknown) => this.failed(delivery, error),
    );
  }

  /** Resolves once Redis has answered every PUBLISH issued so far (PublishFence). */
  settle(): Promise<void> {
    return this.lastReply;
  }

  /**
   * A PUBLISH that failed (Redis went away with it in flight) may or may not have reached the
   * others; this node's clients get it now, the others' fill by resume after the outage.
   */
  private failed(delivery: Delivery, error: unknown): void {
    this.metrics.redisPublishFailures.inc();
    if (!this.failuresLogged) {
      this.failuresLogged = true;
      this.logger.warn(`PUBLISH failed, delivering locally only: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.receive(delivery);
  }

  private deliver(message: Buffer): void {
    let envelope;
    try {
      envelope = decodeDelivery(message);
    } catch (error) {
      this.logger.error(`Dropped an undecodable delivery: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const { delivery, origin } = envelope;
    // Session ids and user keys are numbered per process: another node's `except` names nobody here.
    if (origin !== this.redis.instanceId) delivery.except = 0;
    this.receive(delivery);
  }
}
