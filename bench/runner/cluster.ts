// The cluster scenario (issue 14): the fan-out load on two product instances sharing Redis and a
// database, the clients split between them, against one instance, and against Socket.IO 4 with
// @socket.io/redis-adapter on one and on two processes. Every group of processes is started once
// and kept for the rounds; each kind has a load generator of its own with its clients connected.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { BroadcastReport, ConnectCommand, ConnectReport } from '../loadgen/commands';
import { LoadGen } from './loadgen-client';
import { localPortsTo, machineBusySeconds, sample, sampleAll, waitQuiet, type ProcSample, type Usage } from './proc-stats';
import type { Context, Window } from './scenarios';
import { startProcess, startServer, stopServer, type RunningServer, type ServerOptions } from './servers';

/** Ours on one node (the default: SQLite, no Redis) and on two; Socket.IO on one process and on two. */
export type ClusterKind = 'single' | 'cluster' | 'sio-single' | 'sio-cluster';
export const CLUSTER_KINDS: readonly ClusterKind[] = ['single', 'cluster', 'sio-single', 'sio-cluster'];
export const CLUSTER_NAMES: Record<ClusterKind, string> = {
  single: 'Product, one node',
  cluster: 'Product, cluster of 2',
  'sio-single': 'Socket.IO, one process',
  'sio-cluster': 'Socket.IO + Redis adapter, 2 processes',
};

/** The slice of node-postgres used here: pg ships no types of its own and @types/pg is not a dependency. */
interface PgClient {
  connect(): Promise<void>;
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  end(): Promise<void>;
}
const { Client } = createRequire(__filename)('pg') as { Client: new (config: { connectionString: string; connectionTimeoutMillis: number }) => PgClient };

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MB = 1024 * 1024;
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface ClusterRun {
  connect: ConnectReport;
  report: BroadcastReport;
  /** serverCpuSeconds: every instance of the kind together; "others" leaves out Redis and the database's backends too. */
  usage: Usage;
  instanceCpuSeconds: number[];
  /** Redis's CPU meanwhile (null: its process is not on this machine); shared with anyone else using this Redis. */
  redisCpuSeconds: number | null;
  /** The PostgreSQL backends of our instances (null: no such backend, the store is SQLite). */
  databaseCpuSeconds: number | null;
  /** Servers' CPU seconds per 100,000 delivered frames, and Redis's, and the database's. */
  cpuPer100k: number;
  redisPer100k: number | null;
  databasePer100k: number | null;
  rssMB: number;
  window: Window;
}

export interface ClusterResults {
  runs: Record<ClusterKind, ClusterRun[]>;
  /** Which store our cluster's instances shared, found out after they started. */
  store: string;
  redis: string;
}

export const emptyClusterResults = (): ClusterResults => ({ runs: { single: [], cluster: [], 'sio-single': [], 'sio-cluster': [] }, store: 'not run', redis: REDIS_URL });

interface Group {
  kind: ClusterKind;
  instances: RunningServer[];
  /** Where the clients connect, client i to urls[i % urls.length]. */
  urls: string[];
  protocol: 'ws' | 'socketio';
}

/** What one run of the scenario shares: names in Redis and PostgreSQL of its own, dropped at the end. */
interface Setup {
  prefix: string;
  schema: string;
  /** PostgreSQL answered: our instances get DATABASE_URL and DATABASE_SCHEMA. */
  postgres: boolean;
  redisPid: number | null;
}

async function redisPid(redis: Redis): Promise<number | null> {
  const pid = Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]);
  try {
    readFileSync(`/proc/${pid}/stat`);
    return pid;
  } catch {
    return null; // another machine's (or container's) process
  }
}

async function withPostgres<T>(body: (client: PgClient) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/**
 * The PostgreSQL backends serving our instances: the ones whose client port is a local port of a
 * TCP connection to the database held by one of `pids` (the app names every connection `chat`,
 * as other clusters and test runs on this PostgreSQL do).
 */
async function backends(setup: Setup, pids: number[]): Promise<number[]> {
  if (!setup.postgres) return [];
  const ports = localPortsTo(pids, Number(new URL(DATABASE_URL).port || 5432));
  if (ports.length === 0) return [];
  const rows = await withPostgres((c) => c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports]));
  return rows.rows.map((r) => r.pid);
}

async function startGroup(ctx: Context, kind: ClusterKind, setup: Setup): Promise<Group> {
  const p = ctx.params.cluster;
  const base = (name: string, env: Record<string, string> = {}): ServerOptions => ({ dbPath: join(ctx.workDir, `cluster-${name}.sqlite`), heartbeatMs: p.heartbeatMs, logFile: join(ctx.workDir, `cluster-${name}.log`), env });
  const instances: RunningServer[] = [];
  const sio = kind.startsWith('sio');
  const count = kind.endsWith('cluster') ? 2 : 1;
  try {
    for (let i = 0; i < count; i++) {
      if (kind === 'single') instances.push(await startServer('product', ctx.entry, base('single')));
      if (sio) instances.push(await startProcess(`${kind}-${i}`, ctx.entry.socketio, base(`${kind}-${i}`, { INSTANCE: String(i), ...(count > 1 ? { REDIS_URL, CLUSTER_PREFIX: `${setup.prefix}-sio` } : {}) })));
      if (kind === 'cluster') {
        // One shared database; started one after the other, so that only the first runs the migrations.
        const options = base(`cluster-${i}`, { REDIS_URL, CLUSTER_PREFIX: setup.prefix, DATABASE_URL, DATABASE_SCHEMA: setup.schema });
        instances.push(await startProcess(`cluster-${i}`, ctx.entry.product, options));
      }
    }
  } catch (error) {
    for (const server of instances) await stopServer(server, false);
    throw error;
  }
  return { kind, instances, urls: instances.map((s) => (sio ? s.httpUrl : s.wsUrl)), protocol: sio ? 'socketio' : 'ws' };
}

/** What the cluster's instances use as their store: the run's own schema, which must have their tables. */
async function storeInUse(setup: Setup): Promise<string> {
  const tables = await withPostgres((c) => c.query<{ n: string }>('SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1', [setup.schema]));
  if (Number(tables.rows[0].n) === 0) throw new Error(`the cluster's instances created no tables in schema ${setup.schema}`);
  return `PostgreSQL (${DATABASE_URL.replace(/\/\/[^@/]*@/, '//')}, a schema of its own)`;
}

function connectCommand(group: Group, clients: number): ConnectCommand {
  return { kind: 'connect', url: group.urls[0], urls: group.urls, protocol: group.protocol, count: clients, layout: 'general', receivers: 0, roomSize: 100, inFlight: 128, sourceAddresses: 4, timeoutMs: 60_000 };
}

/** One measured run of a kind, its generator's clients connected on the first. */
async function runOnce(ctx: Context, group: Group, gen: LoadGen, setup: Setup): Promise<ClusterRun> {
  const p = ctx.params.cluster;
  for (const server of group.instances) {
    if (server.process.exitCode !== null || server.process.signalCode !== null) throw new Error(`${server.kind} exited during the cluster scenario; see ${server.logFile}`);
  }
  const command = connectCommand(group, p.clients);
  gen.connected ??= await gen.request<ConnectReport>(command, command.timeoutMs + 10_000);
  const load = (durationMs: number) => ({ kind: 'broadcast', senders: p.senders, rate: p.rate, durationMs, drainMs: p.drainMs }) as const;
  await gen.request<BroadcastReport>(load(p.warmupMs), p.warmupMs + p.drainMs + 10_000);
  const pids = group.instances.map((s) => s.pid);
  const database = group.kind === 'cluster' ? await backends(setup, pids) : [];
  // Redis is sampled only for the kinds that use it: on one node its CPU is other people's.
  const redisPid = group.instances.length > 1 ? setup.redisPid : null;
  const snapshot = () => ({ servers: pids.map(sample), all: sampleAll(pids), gen: sample(gen.pid), redis: redisPid === null ? null : sample(redisPid), db: database.length ? sampleAll(database) : null, busy: machineBusySeconds() });
  const start = nowUs();
  const before = snapshot();
  const report = await gen.request<BroadcastReport>(load(p.durationMs), p.durationMs + p.drainMs + 10_000);
  const after = snapshot();
  const cpu = (a: ProcSample | null, b: ProcSample | null) => (a && b ? b.cpuSeconds - a.cpuSeconds : null);
  const seconds = (after.all.at - before.all.at) / 1000;
  const serverCpuSeconds = after.all.cpuSeconds - before.all.cpuSeconds;
  const generatorCpuSeconds = after.gen.cpuSeconds - before.gen.cpuSeconds;
  const redisCpuSeconds = cpu(before.redis, after.redis);
  const databaseCpuSeconds = cpu(before.db, after.db);
  const other = after.busy - before.busy - serverCpuSeconds - generatorCpuSeconds - (redisCpuSeconds ?? 0) - (databaseCpuSeconds ?? 0);
  const usage: Usage = { seconds, serverCpuSeconds, generatorCpuSeconds, otherCpuPercent: Math.max(0, (100 * other) / seconds), serverRssBytes: after.all.rssBytes };
  const per100k = (cpu: number | null) => (cpu === null || report.received === 0 ? null : (cpu / report.received) * 1e5);
  return {
    connect: gen.connected,
    report,
    usage,
    instanceCpuSeconds: after.servers.map((s, i) => s.cpuSeconds - before.servers[i].cpuSeconds),
    redisCpuSeconds,
    databaseCpuSeconds,
    cpuPer100k: per100k(serverCpuSeconds) ?? 0,
    redisPer100k: per100k(redisCpuSeconds),
    databasePer100k: per100k(databaseCpuSeconds),
    rssMB: usage.serverRssBytes / MB,
    window: { startUs: start, endUs: nowUs() },
  };
}

/** Removes the run's keys (the product's; the Socket.IO adapter keeps none) and its PostgreSQL schema. */
async function cleanUp(redis: Redis, setup: Setup): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${setup.prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  if (setup.postgres) await withPostgres((c) => c.query(`DROP SCHEMA IF EXISTS "${setup.schema}" CASCADE`));
}

async function postgresAnswers(): Promise<boolean> {
  try {
    await withPostgres((c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Every round runs each kind once, the order rotated from round to round as in the other scenarios.
 * `log` prints a run's headline.
 */
export async function runCluster(ctx: Context, rotated: (kinds: readonly ClusterKind[], by: number) => ClusterKind[], log: (round: number, kind: ClusterKind, run: ClusterRun, ms: number) => void): Promise<ClusterResults> {
  const results = emptyClusterResults();
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  let refused: Error | undefined;
  redis.on('error', (error: Error) => (refused = error));
  let why: string | undefined;
  try {
    await redis.connect();
  } catch (error) {
    why = `Redis at ${REDIS_URL} does not answer (${(refused ?? (error as Error)).message})`;
  }
  // Cluster mode needs both: the nodes share one PostgreSQL database (REDIS_URL without DATABASE_URL is refused).
  if (why === undefined && !(await postgresAnswers())) why = `PostgreSQL at ${DATABASE_URL.replace(/\/\/[^@/]*@/, '//')} does not answer`;
  if (why !== undefined) {
    // As in the test suites: a laptop without the services skips it in one loud line; CI (REQUIRE_SERVICES=1) fails.
    redis.disconnect();
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`cluster scenario: ${why}; REQUIRE_SERVICES=1`);
    console.warn(`!!! cluster scenario SKIPPED: ${why}. Start Redis and PostgreSQL (docs/testing.md) or set BENCH_REDIS_URL / BENCH_DATABASE_URL.`);
    return { ...results, store: `not run: ${why}` };
  }
  const id = randomBytes(4).toString('hex');
  const setup: Setup = { prefix: `bench-${id}`, schema: `bench_${id}`, postgres: true, redisPid: await redisPid(redis) };
  const groups: Partial<Record<ClusterKind, Group>> = {};
  const generators: Partial<Record<ClusterKind, LoadGen>> = {};
  try {
    const kinds = CLUSTER_KINDS.filter((k) => ctx.params.cluster.kinds.includes(k));
    // The groups start side by side (the instances of one group one after the other); all settle before a failure is thrown, so none is left running.
    const started = await Promise.allSettled(kinds.map(async (kind) => (groups[kind] = await startGroup(ctx, kind, setup))));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (groups.cluster) results.store = await storeInUse(setup);
    for (const kind of kinds) generators[kind] = new LoadGen(ctx.wsLoadScript);
    for (let round = 1; round <= ctx.params.rounds; round++) {
      for (const kind of rotated(kinds, round - 1)) {
        const t = performance.now();
        const run = await runOnce(ctx, groups[kind]!, generators[kind]!, setup);
        results.runs[kind].push(run);
        log(round, kind, run, performance.now() - t);
        for (const server of groups[kind]!.instances) await waitQuiet(server.pid);
      }
    }
    return results;
  } finally {
    for (const gen of Object.values(generators)) await gen.kill();
    for (const group of Object.values(groups)) for (const server of group.instances) await stopServer(server, false);
    await cleanUp(redis, setup);
    redis.disconnect();
  }
}

/** The zero-loss target of our cluster, checked loudly: a lost frame fails the run. */
export function clusterFailures(r: ClusterResults): string[] {
  const failures: string[] = [];
  for (const kind of CLUSTER_KINDS) {
    if (r.runs[kind].some((x) => x.report.received === 0)) failures.push(`cluster/${kind}: nothing delivered (the harness, or the servers, are broken)`);
  }
  const lost = r.runs.cluster.reduce((n, x) => n + x.report.lost + x.report.closed, 0);
  const expected = r.runs.cluster.reduce((n, x) => n + x.report.expected, 0);
  if (lost > 0) failures.push(`cluster/cluster: ${lost.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} frames lost or cut off across the two instances (the target is 0)`);
  return failures;
}
