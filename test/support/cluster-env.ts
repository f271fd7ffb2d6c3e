import { join } from 'node:path';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './services';

export interface ClusterStorage {
  /** The environment every instance of the cluster gets: Redis with the run's own prefix, one shared database. */
  env: Record<string, string>;
  /** Deletes the run's Redis keys (and its database schema). */
  cleanup(): Promise<void>;
}

/**
 * The shared services of one cluster test run: Redis under a key prefix of its own, and a database
 * every instance shares. `name` makes the prefix unique; `dir` holds a shared SQLite file.
 */
export function clusterEnv(name: string, dir: string): Promise<ClusterStorage> {
  const redisUrl = TEST_REDIS_URL;
  if (!redisUrl) throw new Error('cluster tests need Redis (TEST_REDIS_URL)');
  const prefix = `test-${name}`;
  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    CLUSTER_PREFIX: prefix,
    SQLITE_PATH: join(dir, 'chat.sqlite'),
    SQLITE_LOCKING_MODE: 'NORMAL',
  };
  return Promise.resolve({
    env,
    cleanup: async () => {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  });
}
