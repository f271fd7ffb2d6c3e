import { performance } from 'node:perf_hooks';
import type { BroadcastCommand, BroadcastReport, SendPathCommand, SendPathReport } from './commands';
import { Histogram } from './histogram';
import { FRAME, TYPE_AT, type Client, type Pool } from './pool';

const TILDE = 0x7e;
/** A typical short chat line: the payload is `~<phase>~<send time>~` plus this. */
const PAD = 'the quick brown fox jumps over the lazy dog, 0123456789';
let phase = 0;
/** Makes clientMsgIds unique across generator processes: both servers keep them (the product dedupes on them). */
const RUN = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** Starts a new phase: frames of earlier ones (still in flight) are no longer counted. */
export function beginPhase(): void {
  phase++;
}

/** Message text carries the phase and a performance.now() send time; both servers echo it verbatim. */
export function text(sentAt: number): string {
  return `~${phase}~${sentAt.toFixed(3)}~${PAD}`;
}

/** The send time in a message frame of the current phase, or -1 (another phase, or not ours). */
export function stampOf(data: Buffer): number {
  const a = data.indexOf(TILDE);
  if (a < 0) return -1;
  const b = data.indexOf(TILDE, a + 1);
  const c = data.indexOf(TILDE, b + 1);
  if (Number(data.toString('latin1', a + 1, b)) !== phase) return -1;
  return Number(data.toString('latin1', b + 1, c));
}

/** The same for a frame as a string (Socket.IO's raw event packet), where no `~` comes before the text's. */
export function stampOfText(message: string): number {
  const [, p, stamp] = message.split('~', 3);
  return Number(p) === phase ? Number(stamp) : -1;
}

/**
 * What the open-loop broadcast needs of a pool of clients, whatever their protocol: the raw
 * WebSocket pool (wsFanout) and the Socket.IO one (SioPool).
 */
export interface FanoutClients {
  /** Clients connected and live now: each should get every message. */
  recipients(): number;
  /** The first `count` live clients, each as a function that sends one chat message with this text. */
  senders(count: number): Array<(text: string) => void>;
  /** From now on, called with the send time in every message frame delivered (-1: not of the current phase). */
  listen(onStamp: (stamp: number) => void): void;
  closed: number;
  errors: number;
}

/** The raw WebSocket pool as FanoutClients: frames are read unparsed. */
export function wsFanout(pool: Pool): FanoutClients {
  return {
    recipients: () => pool.readyClients().length,
    senders: (count) => pool.readyClients().slice(0, count).map((c) => (text: string) => c.ws.send(`{"event":"message","data":{"message":"${text}"}}`)),
    listen: (onStamp) => {
      pool.handler = (_client, data) => {
        const type = data[TYPE_AT];
        if (type === FRAME.message) onStamp(stampOf(data));
        else if (type === FRAME.error) pool.errors++;
      };
    },
    get closed() {
      return pool.closed;
    },
    get errors() {
      return pool.errors;
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!done() && performance.now() < end) await sleep(5);
}

export function cpuSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
}

/** Open loop at a fixed total rate; every client in the room should get every message. */
export async function broadcast(pool: FanoutClients, cmd: BroadcastCommand): Promise<BroadcastReport> {
  beginPhase();
  const latency = new Histogram();
  const lag = new Histogram();
  let received = 0;
  const errors0 = pool.errors;
  const closed0 = pool.closed;
  pool.listen((stamp) => {
    if (stamp < 0) return;
    received++;
    latency.record(performance.now() - stamp);
  });
  const recipients = pool.recipients();
  const senders = pool.senders(cmd.senders);
  const total = Math.round((cmd.rate * cmd.durationMs) / 1000);
  const cpu = process.cpuUsage();
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * cmd.rate) / 1000) + 1);
      for (; sent < due; sent++) {
        lag.record(now - (start + (sent * 1000) / cmd.rate));
        senders[sent % senders.length](text(performance.now()));
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const durationMs = performance.now() - start;
  const expected = sent * recipients;
  await waitUntil(() => received >= expected, cmd.drainMs);
  return {
    sent,
    expected,
    received,
    lost: Math.max(0, expected - received),
    durationMs,
    deliveriesPerSecond: (received * 1000) / durationMs,
    latency: latency.summary(),
    scheduleLagP99: lag.percentile(99),
    closed: pool.closed - closed0,
    errors: pool.errors - errors0,
    cpuSeconds: cpuSince(cpu),
  };
}

/** Closed loop, one message in flight per sender: send, wait for its ack, send the next. */
export async function sendPath(pool: Pool, cmd: SendPathCommand): Promise<SendPathReport> {
  beginPhase();
  const ackPrefix = `${RUN}.${phase}-`;
  const ack = new Histogram();
  const delivery = new Histogram();
  let running = true;
  let sent = 0;
  let acked = 0;
  let delivered = 0;
  const errors0 = pool.errors;
  const closed0 = pool.closed;
  const sendNext = (c: Client): void => {
    c.seq++;
    c.sentAt = performance.now();
    sent++;
    c.ws.send(`{"event":"message","data":{"message":"${text(c.sentAt)}","clientMsgId":"${ackPrefix}${c.index}-${c.seq}","room":"${c.room}"}}`);
  };
  pool.handler = (client, data) => {
    const type = data[TYPE_AT];
    if (type === FRAME.ack) {
      // `{"type":"ack","clientMsgId":"` is 29 bytes; an ack of an earlier phase is ignored.
      if (client.sentAt < 0 || data.toString('latin1', 29, 29 + ackPrefix.length) !== ackPrefix) return;
      ack.record(performance.now() - client.sentAt);
      acked++;
      client.sentAt = -1;
      if (running) sendNext(client);
    } else if (type === FRAME.message) {
      const stamp = stampOf(data);
      if (stamp >= 0) {
        delivered++;
        delivery.record(performance.now() - stamp);
      }
    } else if (type === FRAME.error) pool.errors++;
  };
  const senders = pool.readyClients().filter((c) => c.index < pool.senderCount);
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (const c of senders) sendNext(c);
  await sleep(cmd.durationMs);
  running = false;
  const durationMs = performance.now() - start;
  const ackedInWindow = acked;
  // Each message reaches its sender (the echo) and the one receiver of its room.
  await waitUntil(() => senders.every((c) => c.sentAt < 0) && delivered >= sent * 2, cmd.drainMs);
  return {
    sent,
    acked,
    unacked: sent - acked,
    durationMs,
    ackedPerSecond: (ackedInWindow * 1000) / durationMs,
    ack: ack.summary(),
    expectedDeliveries: sent * 2,
    delivered,
    lost: Math.max(0, sent * 2 - delivered),
    delivery: delivery.summary(),
    closed: pool.closed - closed0,
    errors: pool.errors - errors0,
    cpuSeconds: cpuSince(cpu),
  };
}
