// What the runner asks the WebSocket load generator (a separate process, over IPC) and what it answers.
import type { LatencySummary } from './histogram';

/**
 * How clients are spread over rooms:
 * - general: everyone connects plainly and is in `general` (welcome, history, join);
 * - idle: resume URL with rooms of `roomSize` clients each, so joins are not an N² broadcast;
 * - sendpath: the first `count - receivers` clients each in a room of their own (`s<i>`), the
 *   last `receivers` clients split those rooms between them (each message reaches one receiver).
 */
export type Layout = 'general' | 'idle' | 'sendpath';

export interface ConnectCommand {
  kind: 'connect';
  url: string;
  count: number;
  layout: Layout;
  receivers: number;
  roomSize: number;
  /** Most handshakes (up to the end of the connect sequence) in progress at once. */
  inFlight: number;
  /** Source addresses 127.0.0.1 .. 127.0.0.<n>, so large counts do not run out of ports. */
  sourceAddresses: number;
  timeoutMs: number;
}

/** Open loop: `rate` messages/s in total from the first `senders` clients, timestamps in the text. */
export interface BroadcastCommand {
  kind: 'broadcast';
  senders: number;
  rate: number;
  durationMs: number;
  drainMs: number;
}

/** Closed loop: each sender sends the next message (with clientMsgId) when the previous is acked. */
export interface SendPathCommand {
  kind: 'sendpath';
  durationMs: number;
  drainMs: number;
}

export interface StatusCommand {
  kind: 'status';
}

export type Command = ConnectCommand | BroadcastCommand | SendPathCommand | StatusCommand;

export interface ConnectReport {
  requested: number;
  ready: number;
  failed: number;
  durationMs: number;
  perSecond: number;
  latency: LatencySummary;
}

export interface Health {
  /** Connections closed after they were ready (heartbeat or slow-consumer termination, crash). */
  closed: number;
  /** Error frames received. */
  errors: number;
  /** Generator CPU seconds used during the command, to tell when the generator is the limit. */
  cpuSeconds: number;
}

export interface BroadcastReport extends Health {
  sent: number;
  expected: number;
  received: number;
  lost: number;
  durationMs: number;
  deliveriesPerSecond: number;
  latency: LatencySummary;
  /** How late the generator's sends were against the schedule (p99, ms). */
  scheduleLagP99: number;
}

export interface SendPathReport extends Health {
  sent: number;
  acked: number;
  unacked: number;
  durationMs: number;
  ackedPerSecond: number;
  ack: LatencySummary;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  delivery: LatencySummary;
}

export interface StatusReport {
  open: number;
  closed: number;
  errors: number;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
