// The scenarios. Each run returns raw figures (the storm's are in storm.ts); a load generator is kept
// across rounds per server where the clients stay connected, a fresh one otherwise.
import { join } from 'node:path';
import type { BroadcastReport, ConnectCommand, ConnectReport, FloodReport, SendPathReport, StatusReport } from '../loadgen/commands';
import type { HttpLoadReport } from '../loadgen/http-load';
import { httpLoad, LoadGen } from './loadgen-client';
import type { Params } from './params';
import { measure, sample, waitQuiet, type Usage } from './proc-stats';
import { countMessages, freshCopy } from './seed';
import { storm } from './storm';
import { BENCH_JWT_SECRET, collectGarbage, profiled, startServer, stopServer, type Entrypoints, type MemoryUsage, type RunKind, type RunningServer, type ServerOptions } from './servers';

export type ScenarioName = 'fanout' | 'ramp' | 'sendpath' | 'idle' | 'history' | 'storm' | 'flood' | 'cluster';
/** The scenarios of SCENARIOS, run on one server at a time; the cluster scenario runs groups of them (cluster.ts). */
export type SingleServerScenario = Exclude<ScenarioName, 'cluster'>;

/** The measured part of a run on the monotonic clock, in µs (what --cpu-prof timestamps use). */
export interface Window {
  startUs: number;
  endUs: number;
}

export interface Context {
  params: Params;
  entry: Entrypoints;
  wsLoadScript: string;
  httpLoadScript: string;
  workDir: string;
  /** Per server kind: an empty database with its own schema, and the history scenario's seeded one. */
  templates: Record<RunKind, string>;
  historyDbs: Record<RunKind, string>;
  /** Set for a profiled run: the product gets --cpu-prof and a graceful stop, so the profile is written. */
  profile?: { dir: string; name: string };
  /** The servers the runs use: started once per scenario (once in all for quick mode) and kept across rounds. */
  shared?: Partial<Record<RunKind, RunningServer>>;
  /** Load generators kept across rounds, one per server, with their clients connected (fan-out, ramp, send path). */
  generators?: Partial<Record<RunKind, LoadGen>>;
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How a scenario's server is started: heartbeat, database, and an inspector where GC is forced from outside. */
export function serverOptions(ctx: Context, scenario: SingleServerScenario, kind: RunKind, label: string): ServerOptions {
  const heartbeatMs = scenario === 'history' ? 30_000 : ctx.params[scenario].heartbeatMs;
  const logFile = join(ctx.workDir, `${label}-${kind}.log`);
  const nodeArgs = scenario === 'idle' ? ['--inspect'] : [];
  if (scenario === 'history') return { dbPath: ctx.historyDbs[kind], heartbeatMs, logFile, nodeArgs };
  const dbPath = join(ctx.workDir, `${label}-${kind}.sqlite`);
  // The flood's server has the limits on and a database of its own, made at its start (quick runs make no templates).
  if (scenario === 'flood') return { dbPath, heartbeatMs, logFile, nodeArgs, abuseLimits: true };
  freshCopy(ctx.templates[kind === 'jwt' ? 'product' : kind], dbPath);
  return { dbPath, heartbeatMs, logFile, nodeArgs };
}

/**
 * One run: a fresh load generator against the scenario's running server (ctx.shared), which is
 * left idle again afterwards; or, for a profiled run, a server of its own, stopped gracefully.
 */
async function session<T>(ctx: Context, scenario: SingleServerScenario, kind: RunKind, label: string, body: (server: RunningServer, gen: LoadGen) => Promise<T>): Promise<T> {
  const shared = ctx.shared?.[kind];
  if (shared && (shared.process.exitCode !== null || shared.process.signalCode !== null)) {
    throw new Error(`the ${kind} server exited during ${scenario}; see ${shared.logFile}`);
  }
  const server = shared ?? (await startServer(kind, ctx.entry, profiled(serverOptions(ctx, scenario, kind, label), ctx.profile)));
  const kept = ctx.generators?.[kind];
  const gen = kept ?? new LoadGen(ctx.wsLoadScript);
  try {
    return await body(server, gen);
  } finally {
    if (!kept) await gen.kill();
    if (shared) await waitQuiet(server.pid);
    else await stopServer(server, true);
  }
}

/** Connects once per generator: a generator kept across rounds keeps its clients (and its first connect report). */
async function connectOnce(gen: LoadGen, command: ConnectCommand): Promise<ConnectReport> {
  gen.connected ??= await gen.request<ConnectReport>(command, command.timeoutMs + 10_000);
  return gen.connected;
}

function connectCommand(server: RunningServer, count: number, layout: ConnectCommand['layout'], extra: Partial<ConnectCommand> = {}): ConnectCommand {
  return { kind: 'connect', url: server.wsUrl, count, layout, receivers: 0, roomSize: 100, inFlight: 128, sourceAddresses: 4, timeoutMs: 60_000, ...extra };
}

export interface FanoutResult {
  connect: ConnectReport;
  report: BroadcastReport;
  usage: Usage;
  cpuPer100k: number;
  rssMB: number;
  window: Window;
}

export function fanout(ctx: Context, kind: RunKind, label: string): Promise<FanoutResult> {
  const p = ctx.params.fanout;
  return session(ctx, 'fanout', kind, label, async (server, gen) => {
    // In jwt mode every client is a user of its own, with a token signed for it (sent as a header).
    const signedIn = kind === 'jwt' ? { jwtSecret: BENCH_JWT_SECRET } : {};
    const connect = await connectOnce(gen, connectCommand(server, p.clients, 'general', signedIn));
    const load = (durationMs: number) => ({ kind: 'broadcast', senders: p.senders, rate: p.rate, durationMs, drainMs: p.drainMs }) as const;
    await gen.request<BroadcastReport>(load(p.warmupMs), p.warmupMs + p.drainMs + 10_000);
    const start = nowUs();
    const done = measure(server.pid, gen.pid);
    const report = await gen.request<BroadcastReport>(load(p.durationMs), p.durationMs + p.drainMs + 10_000);
    const usage = done();
    const cpuPer100k = report.received > 0 ? (usage.serverCpuSeconds / report.received) * 1e5 : 0;
    return { connect, report, usage, cpuPer100k, rssMB: usage.serverRssBytes / MB, window: { startUs: start, endUs: nowUs() } };
  });
}

export interface RampStep {
  rate: number;
  offered: number;
  report: BroadcastReport;
  usage: Usage;
  pass: boolean;
}

export interface RampResult {
  connect: ConnectReport;
  steps: RampStep[];
  /** Highest measured deliveries/s of any step with p99 within the limit and nothing lost; 0 if none. */
  maxDeliveries: number;
  window: Window;
}

export function ramp(ctx: Context, kind: RunKind, label: string): Promise<RampResult> {
  const p = ctx.params.ramp;
  return session(ctx, 'ramp', kind, label, async (server, gen) => {
    const connect = await connectOnce(gen, connectCommand(server, p.clients, 'general'));
    const load = (rate: number, durationMs: number) => ({ kind: 'broadcast', senders: p.senders, rate, durationMs, drainMs: p.drainMs }) as const;
    await gen.request<BroadcastReport>(load(p.rates[0], p.warmupMs), p.warmupMs + p.drainMs + 10_000);
    const steps: RampStep[] = [];
    const start = nowUs();
    for (const rate of p.rates) {
      const done = measure(server.pid, gen.pid);
      const report = await gen.request<BroadcastReport>(load(rate, p.stepMs), p.stepMs + p.drainMs + 20_000);
      const usage = done();
      const pass = report.latency.p99 <= p.p99LimitMs && report.lost === 0 && report.closed === 0;
      steps.push({ rate, offered: rate * connect.ready, report, usage, pass });
      // Past the limit the curve goes on (for the chart) until latency is ten times over it or frames are lost.
      if (report.latency.p99 > 10 * p.p99LimitMs || report.lost > 0 || report.closed > 0) break;
    }
    const maxDeliveries = Math.max(0, ...steps.filter((s) => s.pass).map((s) => s.report.deliveriesPerSecond));
    return { connect, steps, maxDeliveries, window: { startUs: start, endUs: nowUs() } };
  });
}

export interface SendPathResult {
  connect: ConnectReport;
  report: SendPathReport;
  usage: Usage;
  /** Server CPU seconds per 1,000 messages acked during the measured command (its drain included, as is the CPU). */
  cpuPer1kAcked: number;
  /** Rows the run added to the store, against every message it had acked (warm-up included). */
  storedRows: number;
  ackedTotal: number;
  window: Window;
}

export function sendPath(ctx: Context, kind: RunKind, label: string): Promise<SendPathResult> {
  const p = ctx.params.sendpath;
  return session(ctx, 'sendpath', kind, label, async (server, gen) => {
    const count = p.senders + p.receivers;
    const connect = await connectOnce(gen, connectCommand(server, count, 'sendpath', { receivers: p.receivers }));
    const load = (durationMs: number) => ({ kind: 'sendpath', durationMs, drainMs: p.drainMs }) as const;
    const rowsBefore = countMessages(server.dbPath);
    const warm = await gen.request<SendPathReport>(load(p.warmupMs), p.warmupMs + p.drainMs + 10_000);
    const start = nowUs();
    const done = measure(server.pid, gen.pid);
    const report = await gen.request<SendPathReport>(load(p.durationMs), p.durationMs + p.drainMs + 10_000);
    const usage = done();
    const storedRows = countMessages(server.dbPath) - rowsBefore;
    const cpuPer1kAcked = report.acked > 0 ? (usage.serverCpuSeconds / report.acked) * 1000 : 0;
    return { connect, report, usage, cpuPer1kAcked, storedRows, ackedTotal: warm.acked + report.acked, window: { startUs: start, endUs: nowUs() } };
  });
}

export interface IdleResult {
  connect: ConnectReport;
  open: number;
  closed: number;
  rssBaseMB: number;
  rssSettledMB: number;
  rssAfterGcMB: number;
  rssPerConnKB: number;
  rssPerConnSettledKB: number;
  heapPerConnKB: number;
  connectUsage: Usage;
  /** While settling: the server's heartbeats and the clients' pongs. */
  settle: Usage;
  base: MemoryUsage;
  afterGc: MemoryUsage;
  window: Window;
}

export function idle(ctx: Context, kind: RunKind, label: string): Promise<IdleResult> {
  const p = ctx.params.idle;
  return session(ctx, 'idle', kind, label, async (server, gen) => {
    await sleep(500);
    const base = await collectGarbage(server);
    const rssBase = sample(server.pid).rssBytes;
    const start = nowUs();
    const command = connectCommand(server, p.connections, 'idle', { roomSize: p.roomSize, inFlight: p.inFlight, sourceAddresses: p.sourceAddresses, timeoutMs: p.connectTimeoutMs });
    const connecting = measure(server.pid, gen.pid);
    const connect = await gen.request<ConnectReport>(command, p.connectTimeoutMs + 10_000);
    const connectUsage = connecting();
    const done = measure(server.pid, gen.pid);
    await sleep(p.settleMs);
    const settle = done();
    const afterGc = await collectGarbage(server);
    await sleep(500);
    const rssAfterGc = sample(server.pid).rssBytes;
    const status = await gen.request<StatusReport>({ kind: 'status' }, 10_000);
    const n = Math.max(1, connect.ready);
    return {
      connect,
      open: status.open,
      closed: status.closed,
      rssBaseMB: rssBase / MB,
      rssSettledMB: settle.serverRssBytes / MB,
      rssAfterGcMB: rssAfterGc / MB,
      rssPerConnKB: (rssAfterGc - rssBase) / n / 1024,
      rssPerConnSettledKB: (settle.serverRssBytes - rssBase) / n / 1024,
      heapPerConnKB: (afterGc.heapUsed - base.heapUsed) / n / 1024,
      connectUsage,
      settle,
      base,
      afterGc,
      window: { startUs: start, endUs: nowUs() },
    };
  });
}

export interface HistoryResult {
  report: HttpLoadReport;
  usage: Usage;
  cpuPer1kRequests: number;
  window: Window;
}

export function history(ctx: Context, kind: RunKind, label: string): Promise<HistoryResult> {
  const p = ctx.params.history;
  return session(ctx, 'history', kind, label, async (server) => {
    const config = (durationS: number) => ({ url: server.httpUrl, connections: p.connections, durationS, maxId: p.rows });
    if (p.warmupS > 0) await httpLoad(ctx.httpLoadScript, config(p.warmupS), p.warmupS * 1000 + 30_000);
    const start = nowUs();
    const done = measure(server.pid);
    const report = await httpLoad(ctx.httpLoadScript, config(p.durationS), p.durationS * 1000 + 30_000);
    const usage = done(report.cpuSeconds);
    return { report, usage, cpuPer1kRequests: report.ok > 0 ? (usage.serverCpuSeconds / report.ok) * 1000 : 0, window: { startUs: start, endUs: nowUs() } };
  });
}

export interface FloodResult {
  connect: ConnectReport;
  /** The room's traffic without the flooder, then the same with it. */
  quiet: BroadcastReport;
  flooded: BroadcastReport;
  flood: FloodReport;
  /** flooded p99 / quiet p99: the issue allows 1.2. */
  p99Ratio: number;
  window: Window;
}

/**
 * Abuse limits: `clients` in `general`, `senders` of them at `rate` messages/s (open loop), measured
 * without a flooder and then while one more client (a load generator of its own, so its sending
 * does not delay the measuring one) sends into the same room as fast as its socket takes frames.
 * The product runs with its default limits: the flooder gets 20 messages/s through, the rest is
 * dropped unparsed. Product only: the raw baseline has no limit to measure.
 */
export function flood(ctx: Context, kind: RunKind, label: string): Promise<FloodResult> {
  const p = ctx.params.flood;
  return session(ctx, 'flood', kind, label, async (server, gen) => {
    const connect = await connectOnce(gen, connectCommand(server, p.clients, 'general'));
    const load = (durationMs: number) => ({ kind: 'broadcast', senders: p.senders, rate: p.rate, durationMs, drainMs: p.drainMs }) as const;
    const deadline = p.durationMs + p.drainMs + 10_000;
    await gen.request<BroadcastReport>(load(p.warmupMs), p.warmupMs + deadline);
    const start = nowUs();
    const quiet = await gen.request<BroadcastReport>(load(p.durationMs), deadline);
    const flooder = new LoadGen(ctx.wsLoadScript);
    try {
      // The flood starts half a second before the measured run and ends after it.
      const flooding = flooder.request<FloodReport>({ kind: 'flood', url: server.wsUrl, durationMs: p.durationMs + 1000 }, deadline + 10_000);
      await sleep(500);
      const flooded = await gen.request<BroadcastReport>(load(p.durationMs), deadline);
      const report = await flooding;
      return { connect, quiet, flooded, flood: report, p99Ratio: flooded.latency.p99 / quiet.latency.p99, window: { startUs: start, endUs: nowUs() } };
    } finally {
      await flooder.kill();
    }
  });
}

export const SCENARIOS = { fanout, ramp, sendpath: sendPath, idle, history, storm, flood } as const;
