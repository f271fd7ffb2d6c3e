// Medians over rounds, ratios product/baseline, and the targets.
import type { FanoutResult, HistoryResult, IdleResult, RampResult, ScenarioName, SendPathResult } from './scenarios';
import type { ServerKind, RunKind } from './servers';
import type { StormResult } from './storm';
import type { Usage } from './proc-stats';

export interface Results {
  fanout: Record<ServerKind, FanoutResult[]>;
  ramp: Record<ServerKind, RampResult[]>;
  sendpath: Record<ServerKind, SendPathResult[]>;
  idle: Record<ServerKind, IdleResult[]>;
  history: Record<RunKind, HistoryResult[]>;
  storm: Record<RunKind, StormResult[]>;
}

export interface Figure {
  scenario: ScenarioName;
  label: string;
  unit: string;
  product: number;
  baseline: number;
  /** product / baseline */
  ratio: number | null;
  target: string;
  /** null for figures shown for context, with no target. */
  pass: boolean | null;
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

function figure<R>(scenario: ScenarioName, runs: Record<ServerKind, R[]>, label: string, unit: string, pick: Pick<R>, target = '', check?: Check, combine = median): Figure {
  const product = combine(runs.product.map(pick));
  const baseline = combine(runs.baseline.map(pick));
  const ratio = baseline > 0 ? product / baseline : null;
  return { scenario, label, unit, product, baseline, ratio, target, pass: check ? check(product, ratio) : null };
}

const ratioAtMost = (limit: number): Check => (_p, ratio) => ratio !== null && ratio <= limit;
const ratioAtLeast = (limit: number): Check => (_p, ratio) => ratio !== null && ratio >= limit;
const atMost = (limit: number): Check => (product) => product <= limit;
const atLeast = (limit: number): Check => (product) => product >= limit;

export function figures(r: Results, p99LimitMs: number): Figure[] {
  return [
    figure('fanout', r.fanout, 'server CPU per 100k delivered frames', 's', (x) => x.cpuPer100k, 'ratio ≤ 1.25', ratioAtMost(1.25)),
    figure('fanout', r.fanout, 'p99 delivery latency', 'ms', (x) => x.report.latency.p99, '≤ 25 ms', atMost(25)),
    figure('fanout', r.fanout, 'frames lost or cut off (all rounds)', 'frames', (x) => x.report.lost + x.report.closed, '0', atMost(0), sum),
    figure('fanout', r.fanout, 'p50 delivery latency', 'ms', (x) => x.report.latency.p50),
    figure('fanout', r.fanout, 'server RSS with the clients connected', 'MB', (x) => x.rssMB),
    figure('ramp', r.ramp, `highest deliveries/s with p99 ≤ ${p99LimitMs} ms and 0 lost`, '/s', (x) => x.maxDeliveries, 'ratio ≥ 0.9', ratioAtLeast(0.9)),
    figure('ramp', r.ramp, 'connect rate, 1,000 clients in one room', 'conn/s', (x) => x.connect.perSecond),
    figure('sendpath', r.sendpath, 'acked (stored) messages/s', '/s', (x) => x.report.ackedPerSecond, '≥ 10,000/s', atLeast(10_000)),
    figure('sendpath', r.sendpath, 'p99 send-to-ack', 'ms', (x) => x.report.ack.p99, '≤ 50 ms', atMost(50)),
    figure('sendpath', r.sendpath, 'p99 send-to-delivery (receivers)', 'ms', (x) => x.report.delivery.p99),
    figure('sendpath', r.sendpath, 'deliveries lost (all rounds)', 'frames', (x) => x.report.lost, '0', atMost(0), sum),
    figure('sendpath', r.sendpath, 'acked but not in the store (all rounds)', 'rows', (x) => Math.max(0, x.ackedTotal - x.storedRows), '0', atMost(0), sum),
    figure('idle', r.idle, 'RSS per connection after GC', 'KB', (x) => x.rssPerConnKB, 'ratio ≤ 1.5', ratioAtMost(1.5)),
    figure('idle', r.idle, 'connect rate', 'conn/s', (x) => x.connect.perSecond, 'ratio ≥ 0.75', ratioAtLeast(0.75)),
    figure('idle', r.idle, 'RSS per connection before GC (after settling)', 'KB', (x) => x.rssPerConnSettledKB),
    figure('idle', r.idle, 'JS heap per connection after GC', 'KB', (x) => x.heapPerConnKB),
    figure('idle', r.idle, 'server CPU while idle (heartbeats)', '%', (x) => (100 * x.settle.serverCpuSeconds) / x.settle.seconds),
    figure('idle', r.idle, 'connections still open after settling', 'conn', (x) => x.open),
    figure('history', r.history, 'requests/s', '/s', (x) => x.report.perSecond, '≥ 4,000/s', atLeast(4000)),
    figure('history', r.history, 'p99 latency', 'ms', (x) => x.report.p99, '≤ 25 ms', atMost(25)),
    figure('history', r.history, 'server CPU per 1,000 requests', 's', (x) => x.cpuPer1kRequests),
    ...stormFigures(r.storm),
  ];
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

/** Scenarios whose product figures missed a target: the ones to profile. */
export function missed(list: Figure[]): ScenarioName[] {
  return [...new Set(list.filter((f) => f.pass === false).map((f) => f.scenario))];
}

/** Signs that the harness, not a server, is broken: no traffic got through at all. */
export function harnessProblems(r: Results): string[] {
  const problems: string[] = [];
  for (const kind of ['product', 'baseline'] as const) {
    if (r.fanout[kind].some((x) => x.report.received === 0)) problems.push(`fanout/${kind}: nothing delivered`);
    if (r.ramp[kind].some((x) => x.steps.length === 0 || x.steps[0].report.received === 0)) problems.push(`ramp/${kind}: nothing delivered`);
    if (r.sendpath[kind].some((x) => x.report.acked === 0)) problems.push(`sendpath/${kind}: nothing acked`);
    if (r.idle[kind].some((x) => x.connect.ready === 0)) problems.push(`idle/${kind}: no connection completed`);
    if (r.history[kind].some((x) => x.report.ok === 0)) problems.push(`history/${kind}: no successful request`);
    if (r.storm[kind].some((x) => x.report.ready === 0 || x.probes.received === 0)) problems.push(`storm/${kind}: no client live or no probe message delivered`);
  }
  return problems;
}

/** CPU that other processes on the machine used during the measured windows, in % of one core. */
export function backgroundLoad(r: Results): { mean: number; max: number } {
  const usages: Usage[] = [];
  for (const kind of ['product', 'baseline'] as const) {
    usages.push(...r.fanout[kind].map((x) => x.usage), ...r.ramp[kind].flatMap((x) => x.steps.map((s) => s.usage)));
    usages.push(...r.sendpath[kind].map((x) => x.usage), ...r.idle[kind].map((x) => x.settle), ...r.history[kind].map((x) => x.usage));
  }
  for (const runs of Object.values(r.storm)) usages.push(...runs.map((x) => x.usage));
  const seconds = sum(usages.map((u) => u.seconds));
  const mean = seconds > 0 ? sum(usages.map((u) => u.otherCpuPercent * u.seconds)) / seconds : 0;
  return { mean, max: Math.max(0, ...usages.map((u) => u.otherCpuPercent)) };
}
