import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { withTimeout } from './chat-client';
import { spawnServer, type ServerProcess } from './server-process';
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
export async function startLimitsCluster(count: number, env: Record<string, string>): Promise<LimitsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-limits-'));
  const prefix = `test-${randomBytes(6).toString('hex')}`;
  const shared = { SQLITE_PATH: join(dir, 'chat.db'), SQLITE_LOCKING_MODE: 'NORMAL', REDIS_URL: TEST_REDIS_URL!, CLUSTER_PREFIX: prefix, INSTANCE_TTL_MS: '2000' };
  const nodes: LimitsNode[] = [];
  const stop = async (node: LimitsNode, signal: NodeJS.Signals) => {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill(signal);
    await withTimeout(node.exited, 10000, 'node to exit');
  };
  const close = async () => {
    await Promise.all(nodes.map((node) => stop(node, 'SIGTERM').catch(() => stop(node, 'SIGKILL'))));
    const redis = new Redis(TEST_REDIS_URL!);
    try {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
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
