import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

export const REDIS_CONNECTION = Symbol('RedisConnection');

export interface RedisSettings {
  url: string;
  /** CLUSTER_PREFIX: the first part of every key and channel. */
  prefix: string;
  /** This node's id (ClusterBus.instanceId). */
  instanceId: string;
}

/**
 * Cluster mode's two Redis connections: `command` for keys and PUBLISH, `subscriber` for
 * SUBSCRIBE (a subscribed connection takes no other command). ioredis reconnects both on its own,
 * with backoff, and resubscribes `subscriber`'s channels; commands issued while Redis is down fail
 * at once (no offline queue), so callers never wait on an outage: they count it and go on locally.
 */
export class RedisConnection {
  readonly command: Redis;
  readonly subscriber: Redis;
  readonly prefix: string;
  readonly instanceId: string;
  private readonly logger = new Logger('Redis');
  private up = false;
  /** Whether it has been up since the start: the first 'ready' is the connect, not a recovery. */
  private everUp = false;
  private readonly ready = { command: false, subscriber: false };
  private downSince: number | null = Date.now();
  private readonly listeners: Array<(up: boolean) => void> = [];

  constructor(settings: RedisSettings) {
    this.prefix = settings.prefix;
    this.instanceId = settings.instanceId;
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // 50 ms, doubling, at most 1 s between attempts: Redis back is noticed within a second.
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 5), 1000),
      connectionName: `${settings.prefix}:${settings.instanceId}`,
    };
    this.command = new Redis(settings.url, options);
    this.subscriber = new Redis(settings.url, { ...options, enableOfflineQueue: true });
    // Up while both are: a node whose subscriber is gone would not get its own publishes back.
    for (const name of ['command', 'subscriber'] as const) {
      this[name].on('ready', () => this.setReady(name, true));
      this[name].on('close', () => this.setReady(name, false));
    }
    // ioredis emits 'error' on every failed reconnect attempt; the outage is logged once by setUp.
    this.command.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
  }

  /** Connects both; rejects when Redis cannot be reached at startup (a node does not start half-clustered). */
  async connect(): Promise<void> {
    await Promise.all([this.command.connect(), this.subscriber.connect()]);
  }

  /** Drops both connections at once: nothing waits on a Redis that may be gone. */
  close(): void {
    this.command.disconnect();
    this.subscriber.disconnect();
  }

  /** `${prefix}:${parts...}`. */
  key(...parts: Array<string | number>): string {
    return [this.prefix, ...parts].join(':');
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Since when Redis has been unreachable (epoch ms), or null while it is up. */
  get outageSince(): number | null {
    return this.downSince;
  }

  /** Called with true when the command connection is ready again, false when it is lost. */
  onStatus(listener: (up: boolean) => void): void {
    this.listeners.push(listener);
  }

  private setReady(name: 'command' | 'subscriber', ready: boolean): void {
    this.ready[name] = ready;
    this.setUp(this.ready.command && this.ready.subscriber);
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    if (up) {
      const down = this.downSince === null ? 0 : Date.now() - this.downSince;
      this.downSince = null;
      if (this.everUp) this.logger.log(`Redis reachable again after ${down} ms`);
      this.everUp = true;
    } else {
      this.downSince = Date.now();
      this.logger.warn('Redis unreachable: serving local clients only until it is back');
    }
    for (const listener of this.listeners) listener(up);
  }
}
