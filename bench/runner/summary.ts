// Medians over rounds, ratios product/baseline with the targets, and product/earlier build
// (when one ran) with the 5% bound issue 10 sets for CPU-per-work and throughput figures.
import type { BroadcastReport } from '../loadgen/commands';
import type { FanoutResult, FloodResult, HistoryResult, IdleResult, RampResult, ScenarioName, SendPathResult } from './scenarios';
import type { RunKind } from './servers';
import type { StormResult } from './storm';
import type { ClusterResults, ClusterRun } from './cluster';
import type { Usage } from './proc-stats';

const EVERY_KIND: readonly RunKind[] = ['product', 'jwt', 'previous', 'baseline'];

/** Every run of each scenario by server; `previous` stays empty without `--previous`. */
export interface Results {
  fanout: Record<RunKind, FanoutResult[]>;
  ramp: Record<RunKind, RampResult[]>;
  sendpath: Record<RunKind, SendPathResult[]>;
  idle: Record<RunKind, IdleResult[]>;
  history: Record<RunKind, HistoryResult[]>;
  storm: Record<RunKind, StormResult[]>;
  flood: Record<RunKind, FloodResult[]>;
}

/**
 * How a figure is held against the earlier build: CPU per unit of work must not grow by more than
 * the tolerance, throughput must not drop by more than it. Other figures are shown side by side.
 */
export type Versus = 'cpu' | 'throughput';

/** Issue 10: fan-out and send path within 5% of the build before it. */
export const PREVIOUS_TOLERANCE = 0.05;

export interface Figure {
  scenario: ScenarioName;
  label: string;
  unit: string;
  product: number;
  /** null where the baseline did not run (the storm, when an earlier build took its place). */
  baseline: number | null;
  /** product / baseline */
  ratio: number | null;
  target: string;
  /** null for figures shown for context, with no target. */
  pass: boolean | null;
  /** The earlier build's figure; null when none ran. */
  previous: number | null;
  /** product / previous */
  previousRatio: number | null;
  versus: Versus | null;
  /** Within the tolerance of the earlier build, or better; null when there is no such check or no earlier build. */
  withinPrevious: boolean | null;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

type Pick<R> = (r: R) => number;
type Check = (product: number, ratio: number | null) => boolean;

interface FigureOptions {
  /** The issue-6 target against the baseline (or an absolute one), and its check. */
  target?: string;
  check?: Check;
  /** How rounds are combined: the median, or the sum for counts of failures. */
  combine?: (values: number[]) => number;
  versus?: Versus;
}

/** a / b where both are figures (NaN stands for "not all storm clients got live") and b is not 0. */
const ratioOf = (a: number, b: number | null): number | null => (b !== null && b > 0 && Number.isFinite(a) ? a / b : null);

function withinPrevious(versus: Versus | undefined, ratio: number | null): boolean | null {
  if (!versus || ratio === null) return null;
  return versus === 'cpu' ? ratio <= 1 + PREVIOUS_TOLERANCE : ratio >= 1 - PREVIOUS_TOLERANCE;
}

function figure<R>(scenario: ScenarioName, runs: Record<RunKind, R[]>, label: string, unit: string, pick: Pick<R>, options: FigureOptions = {}): Figure {
  const { target = '', check, combine = median, versus } = options;
  const product = combine(runs.product.map(pick));
  const baseline = runs.baseline.length > 0 ? combine(runs.baseline.map(pick)) : null;
  const ratio = ratioOf(product, baseline);
  const previous = runs.previous.length > 0 ? combine(runs.previous.map(pick)) : null;
  const previousRatio = ratioOf(product, previous);
  return {
    scenario,
    label,
    unit,
    product,
    baseline,
    ratio,
    target,
    pass: check ? check(product, ratio) : null,
    previous,
    previousRatio,
    versus: versus ?? null,
    withinPrevious: withinPrevious(versus, previousRatio),
  };
}

const ratioAtMost = (limit: number): Check => (_p, ratio) => ratio !== null && ratio <= limit;
const ratioAtLeast = (limit: number): Check => (_p, ratio) => ratio !== null && ratio >= limit;
const atMost = (limit: number): Check => (product) => product <= limit;
const atLeast = (limit: number): Check => (product) => product >= limit;
const noneLost = { target: '0', check: atMost(0), combine: sum };

// Idle CPU is not held against the earlier build: a few dozen 10 ms clock ticks over the settle
// time, too coarse for a 5% bound. Storm figures neither: a server that does not get every client
// live within the time given has done less work, so its CPU and frames are not comparable.
export function figures(r: Results, ramp: { p99LimitMs: number; clients: number }): Figure[] {
  return [
    figure('fanout', r.fanout, 'server CPU per 100k delivered frames', 's', (x) => x.cpuPer100k, { target: 'ratio ≤ 1.25', check: ratioAtMost(1.25), versus: 'cpu' }),
    figure('fanout', r.fanout, 'p99 delivery latency', 'ms', (x) => x.report.latency.p99, { target: '≤ 25 ms', check: atMost(25) }),
    figure('fanout', r.fanout, 'frames lost or cut off (all rounds)', 'frames', (x) => x.report.lost + x.report.closed, noneLost),
    figure('fanout', r.fanout, 'p50 delivery latency', 'ms', (x) => x.report.latency.p50),
    figure('fanout', r.fanout, 'server RSS with the clients connected', 'MB', (x) => x.rssMB),
    figure('ramp', r.ramp, `highest deliveries/s with p99 ≤ ${ramp.p99LimitMs} ms and 0 lost`, '/s', (x) => x.maxDeliveries, { target: 'ratio ≥ 0.9', check: ratioAtLeast(0.9), versus: 'throughput' }),
    figure('ramp', r.ramp, `connect rate, ${ramp.clients.toLocaleString('en-US')} clients in one room`, 'conn/s', (x) => x.connect.perSecond, { versus: 'throughput' }),
    figure('sendpath', r.sendpath, 'acked (stored) messages/s', '/s', (x) => x.report.ackedPerSecond, { target: '≥ 10,000/s', check: atLeast(10_000), versus: 'throughput' }),
    figure('sendpath', r.sendpath, 'server CPU per 1,000 acked messages', 's', (x) => x.cpuPer1kAcked, { versus: 'cpu' }),
    figure('sendpath', r.sendpath, 'p99 send-to-ack', 'ms', (x) => x.report.ack.p99, { target: '≤ 50 ms', check: atMost(50) }),
    figure('sendpath', r.sendpath, 'p99 send-to-delivery (receivers)', 'ms', (x) => x.report.delivery.p99),
    figure('sendpath', r.sendpath, 'deliveries lost (all rounds)', 'frames', (x) => x.report.lost, noneLost),
    figure('sendpath', r.sendpath, 'acked but not in the store (all rounds)', 'rows', (x) => Math.max(0, x.ackedTotal - x.storedRows), noneLost),
    figure('idle', r.idle, 'RSS per connection after GC', 'KB', (x) => x.rssPerConnKB, { target: 'ratio ≤ 1.5', check: ratioAtMost(1.5) }),
    figure('idle', r.idle, 'connect rate', 'conn/s', (x) => x.connect.perSecond, { target: 'ratio ≥ 0.75', check: ratioAtLeast(0.75), versus: 'throughput' }),
    figure('idle', r.idle, 'RSS per connection before GC (after settling)', 'KB', (x) => x.rssPerConnSettledKB),
    figure('idle', r.idle, 'JS heap per connection after GC', 'KB', (x) => x.heapPerConnKB),
    figure('idle', r.idle, 'server CPU while idle (heartbeats)', '%', (x) => (100 * x.settle.serverCpuSeconds) / x.settle.seconds),
    figure('idle', r.idle, 'connections still open after settling', 'conn', (x) => x.open),
    figure('history', r.history, 'requests/s', '/s', (x) => x.report.perSecond, { target: '≥ 4,000/s', check: atLeast(4000), versus: 'throughput' }),
    figure('history', r.history, 'p99 latency', 'ms', (x) => x.report.p99, { target: '≤ 25 ms', check: atMost(25) }),
    figure('history', r.history, 'server CPU per 1,000 requests', 's', (x) => x.cpuPer1kRequests, { versus: 'cpu' }),
    ...stormFigures(r.storm),
    ...jwtFigures(r.fanout),
    ...floodFigures(r.flood),
  ];
}

/**
 * Issue 13: the room's p99 while one client floods it, against the same product and room without
 * the flooder, which stands in the baseline column of these rows.
 */
function floodFigures(runs: Results['flood']): Figure[] {
  if (runs.product.length === 0) return [];
  const versusQuiet = (pick: (x: FloodResult) => BroadcastReport) => ({ product: runs.product.map(pick), jwt: [], previous: [], baseline: runs.product.map((x) => x.quiet) });
  return [
    figure('flood', versusQuiet((x) => x.flooded), 'p99 delivery latency with a flooder in the room (vs without)', 'ms', (x) => x.latency.p99, { target: 'ratio ≤ 1.2', check: ratioAtMost(1.2) }),
    figure('flood', versusQuiet((x) => x.flooded), 'frames lost or cut off with a flooder (all rounds)', 'frames', (x) => x.lost + x.closed, noneLost),
    figure('flood', { product: runs.product, jwt: [], previous: [], baseline: [] }, 'flooder: frames sent per second', '/s', (x) => (x.flood.sent * 1000) / x.flood.durationMs),
    figure('flood', { product: runs.product, jwt: [], previous: [], baseline: [] }, 'flooder: RATE_LIMITED frames received', 'frames', (x) => x.flood.limited),
  ];
}

/**
 * Issue 12: the fan-out scenario with every client signed in (AUTH_MODE=jwt), against the same
 * product in anonymous mode, which stands in the baseline column of these rows. Tokens are
 * verified once per handshake, so the cost per delivered frame must stay within 5%.
 */
function jwtFigures(runs: Results['fanout']): Figure[] {
  if (runs.jwt.length === 0) return [];
  const versusAnonymous = { product: runs.jwt, jwt: [], previous: [], baseline: runs.product };
  return [
    figure('fanout', versusAnonymous, 'jwt mode: server CPU per 100k frames (vs anonymous)', 's', (x) => x.cpuPer100k, { target: 'ratio ≤ 1.05', check: ratioAtMost(1.05) }),
    figure('fanout', versusAnonymous, 'jwt mode: p99 delivery latency (vs anonymous)', 'ms', (x) => x.report.latency.p99),
    figure('fanout', versusAnonymous, 'jwt mode: frames lost or cut off (all rounds)', 'frames', (x) => x.report.lost + x.report.closed, noneLost),
  ];
}

/**
 * Issue 14: our cluster of two against one node (the default deployment, in the same rounds) and
 * against Socket.IO with its Redis adapter on two processes, each standing in the baseline column
 * of its rows. CPU is every instance's together; Redis's is a row of its own.
 */
export function clusterFigures(c: ClusterResults): Figure[] {
  const runs = c.runs;
  if (runs.cluster.length === 0) return [];
  const versus = <R>(product: R[], baseline: R[]) => ({ product, jwt: [], previous: [], baseline });
  const ofRedis = (x: ClusterRun) => x.redisPer100k ?? NaN;
  const rows = [
    figure('cluster', versus(runs.cluster, runs.single), 'cluster of 2: CPU per 100k frames, both instances (vs one node)', 's', (x) => x.cpuPer100k, { target: 'ratio ≤ 1.3', check: ratioAtMost(1.3) }),
    figure('cluster', versus(runs.cluster, runs['sio-cluster']), 'cluster of 2: CPU per 100k frames (vs Socket.IO cluster of 2)', 's', (x) => x.cpuPer100k, { target: 'ratio < 1', check: (_p, ratio) => ratio !== null && ratio < 1 }),
    figure('cluster', versus(runs.cluster, runs['sio-cluster']), 'cluster of 2: p99 delivery latency (vs Socket.IO cluster of 2)', 'ms', (x) => x.report.latency.p99, { target: 'ratio < 1', check: (_p, ratio) => ratio !== null && ratio < 1 }),
    figure('cluster', versus(runs.cluster, runs['sio-cluster']), 'cluster of 2: frames lost or cut off, all rounds (vs Socket.IO)', 'frames', (x) => x.report.lost + x.report.closed, noneLost),
    figure('cluster', versus(runs.cluster, runs['sio-cluster']), 'cluster of 2: Redis CPU per 100k frames (vs Socket.IO)', 's', ofRedis),
    figure('cluster', versus(runs.cluster, runs['sio-cluster']), 'cluster of 2: CPU per 100k with Redis and PostgreSQL (vs Socket.IO with Redis)', 's', (x) => x.cpuPer100k + (x.redisPer100k ?? 0) + (x.databasePer100k ?? 0)),
    figure('cluster', versus(runs.cluster, runs['sio-cluster']), 'cluster of 2: p50 delivery latency (vs Socket.IO)', 'ms', (x) => x.report.latency.p50),
    figure('cluster', versus(runs.single, runs['sio-single']), 'one node: CPU per 100k frames (vs Socket.IO, one process)', 's', (x) => x.cpuPer100k),
    figure('cluster', versus(runs.single, runs['sio-single']), 'one node: p99 delivery latency (vs Socket.IO, one process)', 'ms', (x) => x.report.latency.p99),
  ];
  // A quick run has no one-node runs: rows against a kind that did not run would only read "not run" (the loss row stays).
  return rows.filter((f) => f.target === noneLost.target || (f.baseline !== null && !Number.isNaN(f.product)));
}

/** Seconds until every storm client was live; NaN (shown as –) when some never were. */
export function stormLiveSeconds(x: StormResult): number {
  return x.report.ready === x.report.requested ? x.report.durationMs / 1000 : NaN;
}

function stormFigures(runs: Results['storm']): Figure[] {
  return [
    figure('storm', runs, 'clients live (of all that connected at once)', 'conn', (x) => x.report.ready),
    figure('storm', runs, 'time until every client is live', 's', stormLiveSeconds),
    figure('storm', runs, 'frames the clients received', 'frames', (x) => x.report.frames),
    figure('storm', runs, 'bytes the clients received', 'MB', (x) => x.report.bytes / 2 ** 20),
    figure('storm', runs, 'server CPU during the storm', 's', (x) => x.usage.serverCpuSeconds),
    figure('storm', runs, 'other users\' latency meanwhile, p50', 'ms', (x) => x.probes.latency.p50),
    figure('storm', runs, 'other users\' latency meanwhile, max', 'ms', (x) => x.probes.latency.max),
  ];
}

/** Scenarios whose product figures missed a target or fell outside the bound against the earlier build: the ones to profile. */
export function missed(list: Figure[]): ScenarioName[] {
  return [...new Set(list.filter((f) => f.pass === false || f.withinPrevious === false).map((f) => f.scenario))];
}

/** Signs that the harness, not a server, is broken: no traffic got through at all. */
export function harnessProblems(r: Results): string[] {
  const problems: string[] = [];
  for (const kind of EVERY_KIND) {
    if (r.fanout[kind].some((x) => x.report.received === 0)) problems.push(`fanout/${kind}: nothing delivered`);
    if (r.ramp[kind].some((x) => x.steps.length === 0 || x.steps[0].report.received === 0)) problems.push(`ramp/${kind}: nothing delivered`);
    if (r.sendpath[kind].some((x) => x.report.acked === 0)) problems.push(`sendpath/${kind}: nothing acked`);
    if (r.idle[kind].some((x) => x.connect.ready === 0)) problems.push(`idle/${kind}: no connection completed`);
    if (r.history[kind].some((x) => x.report.ok === 0)) problems.push(`history/${kind}: no successful request`);
    if (r.storm[kind].some((x) => x.report.ready === 0 || x.probes.received === 0)) problems.push(`storm/${kind}: no client live or no probe message delivered`);
    if (r.flood[kind].some((x) => x.quiet.received === 0 || x.flood.limited === 0)) problems.push(`flood/${kind}: nothing delivered, or the flooder was never limited`);
  }
  return problems;
}

/** CPU that other processes on the machine used during the measured windows, in % of one core. */
export function backgroundLoad(r: Results): { mean: number; max: number } {
  const usages: Usage[] = [];
  for (const kind of EVERY_KIND) {
    usages.push(...r.fanout[kind].map((x) => x.usage), ...r.ramp[kind].flatMap((x) => x.steps.map((s) => s.usage)));
    usages.push(...r.sendpath[kind].map((x) => x.usage), ...r.idle[kind].map((x) => x.settle), ...r.history[kind].map((x) => x.usage));
    usages.push(...r.storm[kind].map((x) => x.usage));
  }
  const seconds = sum(usages.map((u) => u.seconds));
  const mean = seconds > 0 ? sum(usages.map((u) => u.otherCpuPercent * u.seconds)) / seconds : 0;
  return { mean, max: Math.max(0, ...usages.map((u) => u.otherCpuPercent)) };
}
