import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric the server exports. One registry per application instance,
 * so several apps in one process (tests) do not collide.
 */
@Injectable()
export class ChatMetrics {
  readonly registry = new Registry();

  readonly connectedClients = new Gauge({
    name: 'chat_connected_clients',
    help: 'WebSocket clients connected now',
    registers: [this.registry],
  });

  readonly messagesReceived = new Counter({
    name: 'chat_messages_received_total',
    help: 'Valid chat messages received from clients',
    registers: [this.registry],
  });

  readonly messagesStored = new Counter({
    name: 'chat_messages_stored_total',
    help: 'Messages committed to the store',
    registers: [this.registry],
  });

  readonly messagesBroadcast = new Counter({
    name: 'chat_messages_broadcast_total',
    help: 'Stored messages broadcast to their recipients',
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'chat_errors_total',
    help: 'Error frames sent to clients, by protocol error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly storeWriteSeconds = new Histogram({
    name: 'chat_store_write_seconds',
    help: 'Duration of one group-commit transaction',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly storeBatchSize = new Histogram({
    name: 'chat_store_batch_size',
    help: 'Messages written per group-commit transaction',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 512],
    registers: [this.registry],
  });

  readonly storeWritable = new Gauge({
    name: 'chat_store_writable',
    help: '1 while the message store takes writes, 0 from a failed write until a write or probe succeeds',
    registers: [this.registry],
  });

  readonly redisUp = new Gauge({
    name: 'chat_redis_up',
    help: 'Cluster mode: 1 while this node reaches Redis, 0 during an outage (it then serves its own clients only)',
    registers: [this.registry],
  });

  readonly redisOutages = new Counter({
    name: 'chat_redis_outages_total',
    help: 'Cluster mode: times this node lost Redis',
    registers: [this.registry],
  });

  readonly redisPublishFailures = new Counter({
    name: 'chat_redis_publish_failures_total',
    help: 'Cluster mode: deliveries whose PUBLISH failed (delivered to this node only; other nodes fill by resume)',
    registers: [this.registry],
  });

  readonly clusterResyncCloses = new Counter({
    name: 'chat_cluster_resync_closes_total',
    help: 'Cluster mode: connections closed with 1012 when Redis came back, so that they resume what other nodes sent meanwhile',
    registers: [this.registry],
  });

  readonly storeLockWaits = new Counter({
    name: 'chat_store_lock_waits_total',
    help: 'Times a store call found the database locked by another process and waited to try again',
    registers: [this.registry],
  });

  /**
   * Frames written to client sockets. Counted once per recipient of every broadcast, so a plain
   * increment: prom-client's Counter.inc() validates its argument and looks its labels up on every
   * call, which the fan-out benchmark measured at about a tenth of the server's CPU per delivered
   * frame. The exported counter reads this number when scraped.
   */
  readonly framesDelivered = new FrameTally();

  readonly framesDeliveredCounter = new Counter({
    name: 'chat_frames_delivered_total',
    help: 'Frames written to client sockets',
    registers: [this.registry],
    collect: collectTally(this.framesDelivered),
  });

  // Retention (issue 13): the job that deletes messages older than RETENTION_DAYS or a room's own setting.
  readonly retentionDeleted = new Counter({
    name: 'chat_retention_deleted_total',
    help: 'Messages deleted by retention, by kind: room (room messages) or direct (direct messages)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly retentionRuns = new Counter({
    name: 'chat_retention_runs_total',
    help: 'Retention runs finished, by outcome: ok, or failed (the store refused a batch; the next run goes on)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly retentionLastRunSeconds = new Gauge({
    name: 'chat_retention_last_run_seconds',
    help: 'How long the last retention run took',
    registers: [this.registry],
  });

  // --- Abuse limits (docs/security.md#abuse-limits) ---

  /** Connections refused before the upgrade (or, for a timeout or oversized headers, before the request was read), by reason. */
  readonly connectionsRefused = new Counter({
    name: 'chat_connections_refused_total',
    help: 'Connections and handshakes refused, by reason: origin, address_limit, user_limit, server_full, handshake_timeout, headers_too_large, bad_handshake, unauthorized, banned',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Inbound frames dropped by the rate limit: a plain tally, as framesDelivered (a flood must cost as little as possible). */
  readonly rateLimitedFrames = new FrameTally();

  readonly rateLimitedFramesCounter = new Counter({
    name: 'chat_rate_limited_frames_total',
    help: 'Inbound frames over the rate limit, not processed',
    registers: [this.registry],
    collect: collectTally(this.rateLimitedFrames),
  });

  readonly rateLimitedConnections = new Counter({
    name: 'chat_rate_limited_connections_total',
    help: 'Connections that went over the rate limit at least once',
    registers: [this.registry],
  });

  readonly floodCloses = new Counter({
    name: 'chat_flood_closes_total',
    help: 'Connections closed with 1008 for flooding on after being rate limited',
    registers: [this.registry],
  });

  // ---- moderation (issue 13)

  readonly moderationActions = new Counter({
    name: 'chat_moderation_actions_total',
    help: 'Moderation actions taken (kick, ban, unban, mute, unmute, slow_mode), by action',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  readonly banRefusals = new Counter({
    name: 'chat_ban_refusals_total',
    help: 'WebSocket handshakes refused with 403 because the user or the address is banned, by the kind of ban (user, address)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    for (const reason of REFUSAL_REASONS) this.connectionsRefused.inc({ reason }, 0);
  }
}

/** Every `reason` of chat_connections_refused_total, exported at 0 from the start so that a dashboard sees them all. */
export const REFUSAL_REASONS = ['origin', 'address_limit', 'user_limit', 'server_full', 'handshake_timeout', 'headers_too_large', 'bad_handshake', 'unauthorized', 'banned'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** A counter of frames that costs one addition per frame; read into Prometheus when scraped. */
export class FrameTally {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

function collectTally(tally: FrameTally): (this: Counter) => void {
  return function (this: Counter) {
    this.reset();
    this.inc(tally.value);
  };
}
