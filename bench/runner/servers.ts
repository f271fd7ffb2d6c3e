// Starting, probing and stopping the servers under test, each its own process on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';

export type ServerKind = 'product' | 'baseline';
export const SERVERS: readonly ServerKind[] = ['product', 'baseline'];
/**
 * An earlier build of the product, when one is given (`--previous=…/main.js`), runs every scenario
 * too; `jwt` is this product in AUTH_MODE=jwt, run in the fan-out scenario only (issue 12: its
 * CPU per delivered frame against the product's in anonymous mode).
 */
export type RunKind = ServerKind | 'previous' | 'jwt';

/** The HS256 secret of the `jwt` server; the load generator signs each client's token with it. */
export const BENCH_JWT_SECRET = 'nest-chat-bench-secret-of-at-least-32-bytes!';

/** The servers of the fan-out scenario: the product in jwt mode right after it in anonymous mode. */
export function fanoutKinds(entry: Entrypoints): RunKind[] {
  return runKinds(entry).flatMap((kind): RunKind[] => (kind === 'product' ? ['product', 'jwt'] : [kind]));
}

/** The servers of a run, in the order each round runs them: product, the earlier build if given, baseline. */
export function runKinds(entry: Entrypoints): RunKind[] {
  return entry.previous ? ['product', 'previous', 'baseline'] : ['product', 'baseline'];
}

export interface ServerOptions {
  dbPath: string;
  heartbeatMs: number;
  logFile: string;
  /** Extra node flags: --cpu-prof for profiles, --inspect for a GC from outside. */
  nodeArgs?: string[];
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Run the product with its abuse limits at their defaults (the flood scenario). The others lift
   * them: the send path's closed loop sends far more than 20 frames a second per client, and the
   * storm connects more than 500 clients per source address.
   */
  abuseLimits?: boolean;
  /** More environment for this process (the cluster scenario's REDIS_URL, CLUSTER_PREFIX, …). */
  env?: Record<string, string>;
}

export interface RunningServer {
  /** The server kind, or the process's name in the cluster scenario (`cluster-1`, `sio-cluster-0`, …). */
  kind: string;
  pid: number;
  port: number;
  wsUrl: string;
  httpUrl: string;
  inspectPort?: number;
  dbPath: string;
  logFile: string;
  process: ChildProcess;
}

export interface Entrypoints {
  product: string;
  baseline: string;
  /** The cluster scenario's Socket.IO peer (bench/baseline/socketio-server.ts). */
  socketio: string;
  previous?: string;
}

/** The server started with --cpu-prof, writing `name` into `dir` when it stops gracefully. */
export function profiled(options: ServerOptions, profile?: { dir: string; name: string }): ServerOptions {
  if (!profile) return options;
  return { ...options, nodeArgs: [...(options.nodeArgs ?? []), '--cpu-prof', `--cpu-prof-dir=${profile.dir}`, `--cpu-prof-name=${profile.name}`] };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

// Every server still running; killed if the runner itself exits early, so none is left behind.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
// Ctrl-C or a kill of the runner: exit through the handler above.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startServer(kind: RunKind, entry: Entrypoints, options: ServerOptions): Promise<RunningServer> {
  const script = kind === 'jwt' ? entry.product : entry[kind];
  if (!script) throw new Error(`no ${kind} build given`);
  const jwt: Record<string, string> = kind === 'jwt' ? { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: BENCH_JWT_SECRET } : {};
  return startProcess(kind, script, { ...options, env: { ...jwt, ...options.env } });
}

/** Any server script (the product, the baselines) on a free port, with the runner's common environment. */
export async function startProcess(name: string, script: string, options: ServerOptions): Promise<RunningServer> {
  const port = await freePort();
  const inspectPort = options.nodeArgs?.some((a) => a.startsWith('--inspect')) ? await freePort() : undefined;
  const nodeArgs = (options.nodeArgs ?? []).map((a) => (a === '--inspect' ? `--inspect=127.0.0.1:${inspectPort}` : a));
  const log = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: {
      ...process.env,
      PORT: String(port),
      SQLITE_PATH: options.dbPath,
      SQLITE_SYNCHRONOUS: options.synchronous ?? 'NORMAL',
      HEARTBEAT_INTERVAL_MS: String(options.heartbeatMs),
      LOG_LEVEL: 'warn',
      ...(options.abuseLimits ? {} : { RATE_LIMIT_PER_SEC: '1000000', RATE_LIMIT_BURST: '1000000', MAX_CONNECTIONS_PER_IP: '1000000' }),
      ...options.env,
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  const server: RunningServer = { kind: name, pid: child.pid ?? -1, port, wsUrl: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}`, inspectPort, dbPath: options.dbPath, logFile: options.logFile, process: child };
  await waitReady(server, options.logFile);
  return server;
}

async function waitReady(server: RunningServer, logFile: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (server.process.exitCode !== null || server.process.signalCode !== null) break;
    try {
      const res = await fetch(`${server.httpUrl}/health/live`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  await stopServer(server, false);
  throw new Error(`${server.kind} did not become ready on port ${server.port}; see ${logFile}`);
}

/** Graceful (SIGTERM, needed for --cpu-prof to write its profile) or not; SIGKILL after 10 s either way. */
export async function stopServer(server: RunningServer, graceful: boolean): Promise<void> {
  const child = server.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface MemoryUsage {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Forces a full GC in the server through its inspector, then reads process.memoryUsage() there. */
export async function collectGarbage(server: RunningServer): Promise<MemoryUsage> {
  if (!server.inspectPort) throw new Error('server was started without --inspect');
  const targets = (await (await fetch(`http://127.0.0.1:${server.inspectPort}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { perMessageDeflate: false });
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data: Buffer) => {
    const reply = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (reply.id !== undefined) pending.get(reply.id)?.(reply.result);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let nextId = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      pending.set(++nextId, resolve);
      ws.send(JSON.stringify({ id: nextId, method, params }));
    });
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.collectGarbage');
  const result = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
  ws.close();
  return JSON.parse(result.result.value) as MemoryUsage;
}

export function logPath(dir: string, name: string): string {
  return join(dir, `${name}.log`);
}
