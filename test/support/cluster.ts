import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { withTimeout } from './chat-client';
import { spawnServer, type ServerProcess } from './server-process';
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from './services';

export interface ClusterNode extends ServerProcess {
  url: string;
  /** http://127.0.0.1:<port> */
  http: string;
}

export interface Cluster {
  nodes: ClusterNode[];
  /** CLUSTER_PREFIX of this run: every key and channel of its nodes starts with it. */
  prefix: string;
  /** The environment every node got (for starting another one like them). */
  env: Record<string, string>;
  /** Starts one more node like the others (or with `extra` on top). */
  add(extra?: Record<string, string>): Promise<ClusterNode>;
  /** Stops every node (SIGTERM, then SIGKILL after 5 s), deletes the run's keys and files. */
  stop(): Promise<void>;
}

/**
 * Starts `count` built servers (dist/main.js) as one chat: port 0 each, REDIS_URL (the machine's,
 * or `env.REDIS_URL`), a fresh CLUSTER_PREFIX, and one fresh schema of the test PostgreSQL database
 * (cluster mode needs DATABASE_URL). One after the other, so that only the first runs the migrations.
 */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  const redisUrl = env.REDIS_URL ?? TEST_REDIS_URL;
  const postgresUrl = TEST_POSTGRES_URL;
  if (!redisUrl || !postgresUrl) throw new Error('startCluster needs Redis and PostgreSQL (TEST_REDIS_URL, TEST_POSTGRES_URL)');
  const dir = mkdtempSync(join(tmpdir(), 'chat-cluster-'));
  const prefix = `test-${randomBytes(6).toString('hex')}`;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const shared: Record<string, string> = {
    REDIS_URL: redisUrl,
    CLUSTER_PREFIX: prefix,
    DATABASE_URL: postgresUrl,
    DATABASE_SCHEMA: schema,
    INSTANCE_TTL_MS: '2000',
    ...env,
  };
  const nodes: ClusterNode[] = [];
  const add = async (extra: Record<string, string> = {}): Promise<ClusterNode> => {
    const server = await spawnServer({ ...shared, ...extra });
    const node = { ...server, url: server.wsUrl, http: `http://127.0.0.1:${server.port}` };
    nodes.push(node);
    return node;
  };
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => stopNode(node)));
    await deleteKeys(redisUrl, prefix).catch(() => undefined);
    await dropSchema(postgresUrl, schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) await add();
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, prefix, env: shared, add, stop };
}

/** SIGTERM, and SIGKILL if it has not exited within 5 s. */
export async function stopNode(node: ServerProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  node.child.kill('SIGTERM');
  await withTimeout(node.exited, 5000, 'node to exit').catch(() => node.child.kill('SIGKILL'));
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const ds = new DataSource({ type: 'postgres', url, poolSize: 1 });
  await ds.initialize();
  try {
    await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await ds.destroy();
  }
}

/** Deletes every key of a run: the prefix is the run's own. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  // No retries: a private Redis of an outage test may be gone already, and nothing of it is left.
  const redis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The run's keys that match `pattern` (after the prefix), for asserting what a node left behind. */
export async function keysOf(redisUrl: string, prefix: string, pattern: string): Promise<string[]> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await redis.keys(`${prefix}:${pattern}`);
  } finally {
    redis.disconnect();
  }
}
