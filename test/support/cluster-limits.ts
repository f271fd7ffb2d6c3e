import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { withTimeout } from './chat-client';
import { startCluster } from './cluster';
import { freePort, type ServerProcess } from './server-process';
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
 * N built instances as startCluster (test/support/cluster.ts) starts them: one Redis under a
 * CLUSTER_PREFIX of their own, one fresh PostgreSQL schema, INSTANCE_TTL_MS of 2 s so that a killed
 * node's counts lapse quickly.
 */
export async function startLimitsCluster(count: number, env: Record<string, string>, redisUrl = TEST_REDIS_URL!): Promise<LimitsCluster> {
  const cluster = await startCluster(count, { ...env, REDIS_URL: redisUrl });
  const nodes: LimitsNode[] = cluster.nodes.map((node) => Object.assign(node, { httpUrl: node.http }));
  const kill = async (node: LimitsNode) => {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await withTimeout(node.exited, 10000, 'node to exit');
  };
  return { nodes, prefix: cluster.prefix, kill, close: () => cluster.stop() };
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
