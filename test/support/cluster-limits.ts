import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { withTimeout } from './chat-client';
import { freePort, spawnServer, type ServerProcess } from './server-process';
import { TEST_REDIS_URL } from './services';

export interface LimitsNode extends ServerProcess {
  httpUrl: string;
}

export interface LimitsCluster {
  nodes: LimitsNode[];
  prefix: string;
  /** SIGKILL one node (a crash: nothing is cleaned up by it). */
  kill(node: LimitsNode): Promise<void>;
  /** Stops every node, deletes the run's Redis keys and database. */
  close(): Promise<void>;
}

/**
 * N built instances (dist/main.js) on port 0 sharing one SQLite file (SQLITE_LOCKING_MODE=NORMAL:
 * each process waits for the others' locks) and one Redis under a CLUSTER_PREFIX of their own, so
 * parallel runs never meet. Started one after the other, so that one runs the migrations first.
 * INSTANCE_TTL_MS is 2 s: a killed node's counts lapse quickly.
 */
export async function startLimitsCluster(count: number, env: Record<string, string>, redisUrl = TEST_REDIS_URL!): Promise<LimitsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-limits-'));
  const prefix = `test-${randomBytes(6).toString('hex')}`;
  const shared = { SQLITE_PATH: join(dir, 'chat.db'), SQLITE_LOCKING_MODE: 'NORMAL', REDIS_URL: redisUrl, CLUSTER_PREFIX: prefix, INSTANCE_TTL_MS: '2000' };
  const nodes: LimitsNode[] = [];
  const stop = async (node: LimitsNode, signal: NodeJS.Signals) => {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill(signal);
    await withTimeout(node.exited, 10000, 'node to exit');
  };
  const close = async () => {
    await Promise.all(nodes.map((node) => stop(node, 'SIGTERM').catch(() => stop(node, 'SIGKILL'))));
    const redis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    try {
      await redis.connect();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } catch {
      // A private Redis (the outage test) may be stopped already: nothing of it is left to clean.
    } finally {
      redis.disconnect();
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const node = await spawnServer({ ...shared, ...env });
      nodes.push({ ...node, httpUrl: `http://127.0.0.1:${node.port}` });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { nodes, prefix, kill: (node) => stop(node, 'SIGKILL'), close };
}

/** A Redis of one test's own (the outage test stops and restarts it; the machine's shared one is never touched). */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) on its port, without persistence, and waits until it answers. */
  async restart(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    for (;;) {
      const probe = new Redis(this.url, { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** SIGKILL: an outage, not a shutdown. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await withTimeout(exited, 5000, 'redis-server to exit');
  }
}
