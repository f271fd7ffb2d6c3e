// What the runner asks the WebSocket load generator (a separate process, over IPC) and what it answers.
import type { LatencySummary } from './histogram';

/**
 * How clients are spread over rooms:
 * - general: everyone connects plainly and is in `general` (welcome, history, join);
 * - idle: resume URL with rooms of `roomSize` clients each, so joins are not an N² broadcast;
 * - sendpath: the first `count - receivers` clients each in a room of their own (`s<i>`), the
 *   last `receivers` clients split those rooms between them (each message reaches one receiver);
 * - storm: resume URL into `general` (clients coming back after a restart);
 * - probe: resume URL into `probe`, a room of their own (other users, whose latency is watched).
 */
export type Layout = 'general' | 'idle' | 'sendpath' | 'storm' | 'probe';

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
  /** Several servers (a cluster): client i connects to urls[i % urls.length] instead of `url`. */
  urls?: string[];
  /** `socketio`: Socket.IO clients (socket.io-client) for the cluster scenario's Socket.IO peer; `general` layout only. */
  protocol?: 'ws' | 'socketio';
  /** Sign in (AUTH_MODE=jwt): each client sends `Authorization: Bearer` with an HS256 token of its own, signed with this. */
  jwtSecret?: string;
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

/** Every client connects at once (as many handshakes in flight as the server's backlog takes); frames are counted until the server goes quiet. */
export interface StormCommand {
  kind: 'storm';
  url: string;
  count: number;
  inFlight: number;
  sourceAddresses: number;
  /** How long the clients are given to become live. */
  liveTimeoutMs: number;
  /** Counting ends once no frame has arrived for this long (after all are live or the timeout) ... */
  quietMs: number;
  /** ... or this long after that, whichever comes first. */
  drainMaxMs: number;
}

/** Connects `probes` clients in their own room and starts them sending `rate` messages/s in all (open loop). */
export interface ProbeStartCommand {
  kind: 'probe-start';
  url: string;
  probes: number;
  rate: number;
  timeoutMs: number;
}

/** Stops the probes sending and reports their latency once every message arrived (or `drainMs` passed). */
export interface ProbeStopCommand {
  kind: 'probe-stop';
  drainMs: number;
}

/** One client in `general` sending messages as fast as its socket takes them (the abuse limits' scenario). */
export interface FloodCommand {
  kind: 'flood';
  url: string;
  durationMs: number;
}

export interface FloodReport {
  sent: number;
  /** RATE_LIMITED frames received. */
  limited: number;
  /** The close code if the server closed the connection (1008 after 10 s of flooding), else 0. */
  closeCode: number;
  durationMs: number;
}

export type Command = ConnectCommand | BroadcastCommand | SendPathCommand | StatusCommand | StormCommand | ProbeStartCommand | ProbeStopCommand | FloodCommand;

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

export interface StormReport extends ConnectReport {
  /** Frames and bytes the clients received, from their first connect until counting ended. */
  frames: number;
  bytes: number;
  /** Frames by `type` (welcome, notification, presence_diff, …). */
  framesByType: Record<string, number>;
  /** From the start until counting ended. */
  countedMs: number;
  /** False when frames were still arriving when counting had to end. */
  quiet: boolean;
  closed: number;
  errors: number;
  /** Connections that ended, by close code or socket error (see Pool.endings). */
  endings: Record<string, number>;
  cpuSeconds: number;
}

export interface ProbeReport {
  sent: number;
  expected: number;
  received: number;
  lost: number;
  latency: LatencySummary;
  closed: number;
  errors: number;
}

export interface StatusReport {
  open: number;
  closed: number;
  errors: number;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
