// `npm run bench [-- --quick] [--no-profile] [--only=fanout,idle,cluster] [--rounds=N] [--idle=19500] [--profile=fanout] [--keep] [--storm=10000] [--previous=path/to/dist/main.js]`
// Runs every scenario against the product and the raw baseline in alternation (and an earlier
// build of the product between them, when given) and writes the report.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chartSvg, rampCurve, renderPng, type Curves } from './runner/chart';
import { clusterFailures, emptyClusterResults, runCluster, type ClusterKind, type ClusterRun } from './runner/cluster';
import { FULL, profileParams, QUICK, type Params } from './runner/params';
import { summarizeProfile, type ProfileSummary } from './runner/profile';
import { fmt, generatedBlock, previousVerdict, writeReport } from './runner/report';
import {
  SCENARIOS,
  serverOptions,
  type Context,
  type FanoutResult,
  type HistoryResult,
  type IdleResult,
  type RampResult,
  type ScenarioName,
  type SendPathResult,
  type FloodResult,
  type SingleServerScenario,
} from './runner/scenarios';
import { freshCopy, makeTemplate, seedMessages } from './runner/seed';
import { LoadGen } from './runner/loadgen-client';
import { fanoutKinds, runKinds, startServer, stopServer, type RunKind, type RunningServer } from './runner/servers';
import { stormKinds, type StormResult } from './runner/storm';
import { backgroundLoad, clusterFigures, figures, harnessProblems, missed, stormLiveSeconds, type Figure, type Results } from './runner/summary';

const ORDER: ScenarioName[] = ['fanout', 'ramp', 'sendpath', 'idle', 'history', 'storm', 'flood', 'cluster'];
/**
 * The suite must finish within 10 minutes (15 with an earlier build as a third server); profiles
 * are taken only while this leaves room.
 */
const BUDGET_MS = 570_000;
const BUDGET_WITH_PREVIOUS_MS = 870_000;
const PROFILE_RUN_MS = 30_000;
const HERE = __dirname; // node_modules/.cache/nest-chat-bench
const ROOT = resolve(HERE, '..', '..', '..');

function option(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
}

function machine(): string[] {
  const cpu = cpus();
  const limits = readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+(\d+)\s+(\d+)/m);
  return [
    `CPU: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}${cpu[0]?.speed ? ` at ${cpu[0].speed} MHz` : ' (clock speed not reported by this VM)'}`,
    `Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${release()}`,
    `Node.js ${process.version}; open files limit ${limits ? `${limits[1]} (hard ${limits[2]})` : 'unknown'}`,
    `Load average at start: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`,
    'Everything on loopback: the servers, the WebSocket load generator and autocannon share these cores.',
  ];
}

/** The commit of the tree a build comes from (`root`, its dist/main.js being `main`) and when it was built. */
function buildVersion(root: string, main: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    const built = statSync(main).mtime.toISOString().slice(0, 16).replace('T', ' ');
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' plus uncommitted changes in src/' : ''}, dist/ built ${built} UTC`;
  } catch {
    return 'unknown version';
  }
}

/** Builds the product if needed, then runs a copy of dist/, so a rebuild during the run cannot change it. */
function snapshotProduct(): string {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) {
    console.log('dist/ is missing: building the product (npx nest build)');
    execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  const copy = join(HERE, 'product-dist');
  rmSync(copy, { recursive: true, force: true });
  cpSync(join(ROOT, 'dist'), copy, { recursive: true });
  return join(copy, 'main.js');
}

async function prepare(params: Params, workDir: string, scenarios: ScenarioName[]): Promise<Context> {
  const previous = option('previous');
  if (previous !== undefined && !existsSync(previous)) throw new Error(`--previous: no such file ${previous}`);
  const entry = { product: snapshotProduct(), baseline: join(HERE, 'baseline', 'server.js'), socketio: join(HERE, 'baseline', 'socketio-server.js'), previous: previous && resolve(previous) };
  const perKind = (name: string) => ({
    product: join(workDir, `${name}-product.sqlite`),
    jwt: join(workDir, `${name}-jwt.sqlite`),
    previous: join(workDir, `${name}-previous.sqlite`),
    baseline: join(workDir, `${name}-baseline.sqlite`),
  });
  const ctx: Context = {
    params,
    entry,
    wsLoadScript: join(HERE, 'loadgen', 'ws-load.js'),
    httpLoadScript: join(HERE, 'loadgen', 'http-load.js'),
    workDir,
    templates: perKind('template'),
    historyDbs: perKind('history'),
  };
  // The storm and the cluster start servers of their own; the other scenarios need each server's schema.
  const kinds = scenarios.some((s) => s !== 'storm' && s !== 'cluster') ? (scenarios.includes('fanout') ? fanoutKinds(entry) : runKinds(entry)) : [];
  if (params.mode === 'quick') {
    // One server per kind, migrated at boot, history rows added while it runs (SQLite WAL allows it).
    const shared: Partial<Record<RunKind, RunningServer>> = {};
    for (const kind of kinds) {
      const options = { dbPath: ctx.historyDbs[kind], heartbeatMs: params.idle.heartbeatMs, logFile: join(workDir, `shared-${kind}.log`), nodeArgs: ['--inspect'] };
      shared[kind] = await startServer(kind, entry, options);
      if (scenarios.includes('history') && kind !== 'jwt') seedMessages(ctx.historyDbs[kind], params.history.rows);
    }
    return { ...ctx, shared };
  }
  // Each server makes its own schema (the earlier build from its own migrations) and gets its own
  // history rows; the product in jwt mode starts from the product's template.
  for (const kind of kinds.filter((k) => k !== 'jwt')) {
    await makeTemplate(kind, entry, ctx.templates[kind], join(workDir, `template-${kind}.log`));
    if (!scenarios.includes('history')) continue;
    freshCopy(ctx.templates[kind], ctx.historyDbs[kind]);
    const t = performance.now();
    seedMessages(ctx.historyDbs[kind], params.history.rows);
    console.log(`seeded ${params.history.rows.toLocaleString('en-US')} messages for ${kind} in ${fmt((performance.now() - t) / 1000)} s`);
  }
  return ctx;
}

function headline(scenario: SingleServerScenario, result: unknown): string {
  switch (scenario) {
    case 'fanout': {
      const r = result as FanoutResult;
      return `p99 ${fmt(r.report.latency.p99)} ms, ${fmt(r.cpuPer100k)} CPU s/100k, lost ${r.report.lost}`;
    }
    case 'ramp': {
      const r = result as RampResult;
      return `max ${fmt(r.maxDeliveries)} deliveries/s over ${r.steps.length} steps`;
    }
    case 'sendpath': {
      const r = result as SendPathResult;
      return `${fmt(r.report.ackedPerSecond)} acked/s, ack p99 ${fmt(r.report.ack.p99)} ms`;
    }
    case 'idle': {
      const r = result as IdleResult;
      return `${r.connect.ready} conns at ${fmt(r.connect.perSecond)}/s, ${fmt(r.rssPerConnKB)} KB/conn`;
    }
    case 'history': {
      const r = result as HistoryResult;
      return `${fmt(r.report.perSecond)} req/s, p99 ${fmt(r.report.p99)} ms`;
    }
    case 'flood': {
      const r = result as FloodResult;
      return `p99 ${fmt(r.quiet.latency.p99)} ms without, ${fmt(r.flooded.latency.p99)} ms with a flooder (${fmt(r.p99Ratio)}x); flooder sent ${fmt(r.flood.sent)}, ${r.flood.limited} RATE_LIMITED`;
    }
    case 'storm': {
      const r = result as StormResult;
      const live = Number.isNaN(stormLiveSeconds(r)) ? `${fmt(r.report.ready)} of ${fmt(r.report.requested)} live` : `all live in ${fmt(stormLiveSeconds(r))} s`;
      return `${live}, ${fmt(r.report.frames)} frames (${fmt(r.report.bytes / 2 ** 20)} MB), probes p50 ${fmt(r.probes.latency.p50)} / max ${fmt(r.probes.latency.max)} ms`;
    }
  }
}

/**
 * Per scenario: its servers started once and kept for its rounds, which run them in turn, each with
 * a load generator of its own where the clients stay connected across rounds. The order rotates
 * each round (round 1: product, previous, baseline; round 2: previous, baseline, product; …): with
 * the product always first, the same build measured up to 12% apart depending on its place in the
 * round (docs/benchmarks.md), which hides a 5% difference. Rotation gives every server every place
 * equally often when the rounds are a multiple of the servers' count.
 */
async function runAll(ctx: Context, scenarios: SingleServerScenario[]): Promise<Results> {
  const results = Object.fromEntries(ORDER.map((s) => [s, { product: [], jwt: [], previous: [], baseline: [] }])) as unknown as Results;
  for (const scenario of scenarios) {
    if (scenario === 'storm') {
      await runStorm(ctx, results);
      continue;
    }
    // The flood runs on the product alone (the baseline has no limits), on a server of its own with its limits on.
    const kinds: RunKind[] = scenario === 'fanout' ? fanoutKinds(ctx.entry) : scenario === 'flood' ? ['product'] : runKinds(ctx.entry);
    const own = scenario === 'flood' || !ctx.shared;
    const shared = own || !ctx.shared ? await startServers(ctx, scenario, kinds) : ctx.shared;
    // Idle measures connecting, so each of its rounds connects anew; the others keep their clients.
    const keeps = scenario !== 'idle' && scenario !== 'history';
    const generators = keeps ? Object.fromEntries(kinds.map((kind) => [kind, new LoadGen(ctx.wsLoadScript)])) : undefined;
    try {
      for (let round = 1; round <= ctx.params.rounds; round++) {
        for (const kind of rotated(kinds, round - 1)) {
          const t = performance.now();
          const run = SCENARIOS[scenario] as (ctx: Context, kind: RunKind, label: string) => Promise<unknown>;
          const result = await run({ ...ctx, shared, generators }, kind, `${scenario}-r${round}`);
          (results[scenario] as Record<RunKind, unknown[]>)[kind].push(result);
          console.log(`[${scenario} r${round} ${kind}] ${headline(scenario, result)} (${fmt((performance.now() - t) / 1000)} s)`);
        }
      }
    } finally {
      for (const gen of Object.values(generators ?? {})) await gen.kill();
      if (own) for (const server of Object.values(shared)) await stopServer(server, false);
    }
  }
  return results;
}

const isSingleServer = (s: ScenarioName): s is SingleServerScenario => s !== 'cluster';

function logCluster(round: number, kind: ClusterKind, run: ClusterRun, ms: number): void {
  const redis = run.redisPer100k === null ? '' : ` + Redis ${fmt(run.redisPer100k)}`;
  console.log(`[cluster r${round} ${kind}] p99 ${fmt(run.report.latency.p99)} ms, ${fmt(run.cpuPer100k)}${redis} CPU s/100k, lost ${run.report.lost} of ${run.report.expected} (${fmt(ms / 1000)} s)`);
}

/** The order of a round: `kinds` rotated left by `by`. */
function rotated<T>(kinds: readonly T[], by: number): T[] {
  const at = kinds.length === 0 ? 0 : by % kinds.length;
  return [...kinds.slice(at), ...kinds.slice(0, at)];
}

/** The storm, a server of its own per run: product, previous build (if given), baseline, rotated each round as in runAll. */
async function runStorm(ctx: Context, results: Results): Promise<void> {
  for (let round = 1; round <= ctx.params.storm.rounds; round++) {
    for (const kind of rotated(stormKinds(ctx), round - 1)) {
      const t = performance.now();
      const result = await SCENARIOS.storm(ctx, kind, `storm-r${round}`);
      results.storm[kind].push(result);
      console.log(`[storm r${round} ${kind}] ${headline('storm', result)} (${fmt((performance.now() - t) / 1000)} s)`);
    }
  }
}

async function startServers(ctx: Context, scenario: SingleServerScenario, kinds: RunKind[]): Promise<Partial<Record<RunKind, RunningServer>>> {
  const servers: Partial<Record<RunKind, RunningServer>> = {};
  for (const kind of kinds) servers[kind] = await startServer(kind, ctx.entry, serverOptions(ctx, scenario, kind, scenario));
  return servers;
}

/** One shorter run of each scenario on a product started with --cpu-prof, while the time budget allows. */
async function profileProduct(ctx: Context, scenarios: SingleServerScenario[], dir: string, deadline: number): Promise<Partial<Record<ScenarioName, ProfileSummary>>> {
  const profiles: Partial<Record<ScenarioName, ProfileSummary>> = {};
  for (const scenario of scenarios) {
    if (performance.now() + PROFILE_RUN_MS > deadline) {
      console.log(`[profile ${scenario}] skipped: over the time budget (run \`npm run bench -- --only=${scenario}\` to profile it)`);
      continue;
    }
    const name = `${scenario}.cpuprofile`;
    const result = await SCENARIOS[scenario]({ ...ctx, params: profileParams(ctx.params), shared: undefined, profile: { dir, name } }, 'product', `profile-${scenario}`);
    profiles[scenario] = summarizeProfile(join(dir, name), result.window);
    console.log(`[profile ${scenario}] ${join(dir, name)}`);
  }
  return profiles;
}

async function main(): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  const base = process.argv.includes('--quick') ? QUICK : FULL;
  const idleConnections = Number(option('idle') ?? base.idle.connections);
  const stormClients = Math.min(Number(option('storm') ?? base.storm.clients), 19_500);
  const params: Params = {
    ...base,
    rounds: Number(option('rounds') ?? base.rounds),
    idle: { ...base.idle, connections: Math.min(idleConnections, 19_500) },
    storm: { ...base.storm, clients: stormClients },
  };
  const scenarios = option('only')?.split(',').filter((s): s is ScenarioName => ORDER.includes(s as ScenarioName)) ?? ORDER;
  const workDir = mkdtempSync(join(tmpdir(), 'nest-chat-bench-'));
  // Only a complete full run writes docs/; quick (CI smoke) and partial runs write to a temporary folder.
  const complete = params.mode === 'full' && scenarios.length === ORDER.length;
  const outDir = complete ? join(ROOT, 'docs') : mkdtempSync(join(tmpdir(), `nest-chat-bench-${params.mode}-`));
  mkdirSync(outDir, { recursive: true });
  console.log(`${params.mode} run: ${scenarios.join(', ')}; ${params.rounds} round(s); work dir ${workDir}`);
  const machineLines = machine();
  const ctx = await prepare(params, workDir, scenarios);
  const results = await runAll(ctx, scenarios.filter(isSingleServer));
  for (const server of Object.values(ctx.shared ?? {})) await stopServer(server, false);
  ctx.shared = undefined;
  const clusterStart = performance.now();
  const cluster = scenarios.includes('cluster') ? await runCluster(ctx, rotated, logCluster) : emptyClusterResults();
  // The cluster scenario (about 3 minutes) came after the budget was set: it does not eat the profiles' time.
  const clusterMs = performance.now() - clusterStart;
  const figs = [...figures(results, params.ramp), ...clusterFigures(cluster)].filter((f) => scenarios.includes(f.scenario));
  const problems = harnessProblems(results);
  const failures = clusterFailures(cluster);
  const toProfile = option('profile')?.split(',') ?? (params.mode === 'full' && !process.argv.includes('--no-profile') ? missed(figs) : []);
  // The cluster scenario runs groups of processes: profile its instances by hand (--keep, node --cpu-prof).
  if (toProfile.includes('cluster')) console.log('[profile cluster] not profiled: it runs several servers at once');
  const budget = ctx.entry.previous ? BUDGET_WITH_PREVIOUS_MS : BUDGET_MS;
  const profiles = await profileProduct(ctx, toProfile.filter((s): s is SingleServerScenario => ORDER.includes(s as ScenarioName) && isSingleServer(s as ScenarioName)), join(workDir, 'profiles'), t0 + budget + clusterMs);
  const curves: Curves = Object.fromEntries(runKinds(ctx.entry).map((kind) => [kind, rampCurve(results.ramp[kind], params.ramp.rates)]));
  const jsonFile = 'benchmarks.json';
  const title = `Fan-out ramp, ${params.ramp.clients} clients in one room: p99 delivery latency (median of ${params.rounds} round(s))`;
  const chartFile = await writeChart(chartSvg(curves, params.ramp.p99LimitMs, title), outDir);
  const seconds = (performance.now() - t0) / 1000;
  const previous = ctx.entry.previous && `${ctx.entry.previous} (${buildVersion(dirname(dirname(ctx.entry.previous)), ctx.entry.previous)})`;
  const product = buildVersion(ROOT, join(ROOT, 'dist', 'main.js'));
  const input = { params, figures: figs, results, cluster, curves, profiles, machine: machineLines, background: backgroundLoad(results), product, previous, startedAt: started, seconds, chartFile, jsonFile };
  writeFileSync(join(outDir, jsonFile), `${JSON.stringify(input, null, 1)}\n`);
  writeReport(join(outDir, 'benchmarks.md'), generatedBlock(input));
  printFigures(figs, ctx.entry.previous !== undefined);
  console.log(`wrote ${join(outDir, 'benchmarks.md')} in ${fmt(seconds)} s`);
  if (problems.length > 0) throw new Error(`the harness looks broken:\n  ${problems.join('\n  ')}`);
  // Loud, in quick mode too: a frame our cluster loses is a broken product, not a missed figure.
  if (failures.length > 0) throw new Error(`CLUSTER SCENARIO FAILED:\n  ${failures.join('\n  ')}`);
  if (!process.argv.includes('--keep')) rmSync(workDir, { recursive: true, force: true });
}

/** The figures on the console: product, previous build and its verdict (if given), baseline and the target's verdict. */
function printFigures(figs: Figure[], withPrevious: boolean): void {
  const head = ['scenario'.padEnd(9), 'figure'.padEnd(55), 'product'.padStart(10), ...(withPrevious ? ['previous'.padStart(10), 'prod/prev'.padStart(9)] : []), 'baseline'.padStart(10), 'unit'.padEnd(6), 'target', ...(withPrevious ? ['against previous'] : [])];
  console.log(head.join(' '));
  for (const f of figs) {
    const previous = withPrevious ? [fmt(f.previous).padStart(10), (f.previousRatio === null ? '–' : `${f.previousRatio.toFixed(2)}x`).padStart(9)] : [];
    const verdict = (f.pass === null ? '' : f.pass ? 'pass' : 'MISS').padEnd(6);
    console.log([f.scenario.padEnd(9), f.label.padEnd(55), fmt(f.product).padStart(10), ...previous, fmt(f.baseline).padStart(10), f.unit.padEnd(6), verdict, ...(withPrevious ? [previousVerdict(f).replace(/\*\*/g, '')] : [])].join(' '));
  }
}

/**
 * The chart as a PNG rendered by Chromium; where there is none (or it fails), the SVG itself, so a
 * machine without a browser still gets its figures. Returns the file name the report links to.
 */
async function writeChart(svg: string, outDir: string): Promise<string> {
  try {
    await renderPng(svg, join(outDir, 'benchmarks-p99.png'));
    return 'benchmarks-p99.png';
  } catch (error) {
    console.warn(`could not render the chart with Chromium (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); writing it as SVG`);
    writeFileSync(join(outDir, 'benchmarks-p99.svg'), svg);
    return 'benchmarks-p99.svg';
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
