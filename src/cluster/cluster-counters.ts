import { Logger } from '@nestjs/common';
import type { RedisConnection } from './redis-connection';

export const CLUSTER_COUNTERS = Symbol('ClusterCounters');

/**
 * Takes one place in each field when every field's sum over the live nodes is under its cap.
 * KEYS: the set of nodes that have counts, this node's hash. ARGV: the hashes' key prefix, this
 * node's id, the TTL (ms), n, n fields, n caps. Returns 0 when taken, else the 1-based index of the
 * first full field. A node whose hash has expired (its process is gone: no renewal for the TTL)
 * counts for nothing and leaves the set. One script: the check and the increment are atomic, so
 * two nodes never both take the last place.
 */
const TAKE = `
local n = tonumber(ARGV[4])
local sums = {}
for i = 1, n do sums[i] = 0 end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 0 then
    if id ~= ARGV[2] then redis.call('SREM', KEYS[1], id) end
  else
    local values = redis.call('HMGET', key, unpack(ARGV, 5, 4 + n))
    for i = 1, n do sums[i] = sums[i] + (tonumber(values[i]) or 0) end
  end
end
for i = 1, n do
  if sums[i] >= tonumber(ARGV[4 + n + i]) then return i end
end
for i = 1, n do redis.call('HINCRBY', KEYS[2], ARGV[4 + i], 1) end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[1], ARGV[2])
return 0
`;

/** Gives back one place in each field (ARGV); a field at 0 is removed, so an idle node's hash is gone. */
const GIVE = `
for _, field in ipairs(ARGV) do
  if redis.call('HINCRBY', KEYS[1], field, -1) <= 0 then redis.call('HDEL', KEYS[1], field) end
end
`;

/** Replaces this node's hash with its local counts (ARGV: TTL, this node's id, then field, count pairs). */
const RESET = `
redis.call('DEL', KEYS[2])
if #ARGV > 2 then
  redis.call('HSET', KEYS[2], unpack(ARGV, 3))
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[1], ARGV[2])
end
`;

/**
 * The connection caps counted across nodes (cluster mode): each node keeps its own counts in a hash
 * `<prefix>:conns:<instanceId>` (fields `total`, `a:<address>`, `u:<userId>`) with the TTL
 * INSTANCE_TTL_MS, renewed here every third of it, and a handshake is admitted by a script that sums
 * the live nodes' hashes. Independent of the instance heartbeat's reaper: a killed node's hash
 * expires on its own. The handshake is async already, so one Redis round trip there is fine;
 * frames never come here. While Redis is down the node counts locally only (the gateway's
 * HandshakeLimits), and when it is back the hash is rewritten from the local counts.
 */
export class ClusterCounters {
  private readonly logger = new Logger('ClusterCounters');
  private readonly registry: string;
  private readonly own: string;
  private readonly renewal: NodeJS.Timeout;
  private local: () => ReadonlyMap<string, number> = () => new Map();

  constructor(
    private readonly redis: RedisConnection,
    private readonly ttlMs: number,
  ) {
    this.registry = redis.key('conns');
    this.own = redis.key('conns', redis.instanceId);
    this.renewal = setInterval(() => void this.renew(), Math.max(100, Math.floor(ttlMs / 3)));
    this.renewal.unref();
    redis.onStatus((up) => {
      if (up) void this.reset();
    });
  }

  /** Where this node's own counts come from when its hash must be rewritten (HandshakeLimits.snapshot). */
  attach(local: () => ReadonlyMap<string, number>): void {
    this.local = local;
  }

  /**
   * One place in each field, if each is under its cap across the live nodes: -1 when taken, else
   * the index of the full field; undefined when Redis cannot be asked (the caller goes by its own
   * counts, as one node does).
   */
  async take(fields: readonly string[], caps: readonly number[]): Promise<number | undefined> {
    if (!this.redis.isUp) return undefined;
    try {
      const args = [this.redis.key('conns', ''), this.redis.instanceId, this.ttlMs, fields.length, ...fields, ...caps];
      const full = (await this.redis.command.eval(TAKE, 2, this.registry, this.own, ...args)) as number;
      return full - 1;
    } catch (error) {
      this.logger.debug({ msg: 'connection count not shared', err: error });
      return undefined;
    }
  }

  /** Gives back the places `take` took (best effort: a failure is repaired by the next reset). */
  give(fields: readonly string[]): void {
    if (!this.redis.isUp) return;
    this.redis.command.eval(GIVE, 1, this.own, ...fields).catch(() => undefined);
  }

  /** On shutdown: this node's connections no longer count anywhere. */
  async close(): Promise<void> {
    clearInterval(this.renewal);
    if (this.redis.isUp) await this.redis.command.del(this.own).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    if (!this.redis.isUp) return;
    const renewed = await this.redis.command.pexpire(this.own, this.ttlMs).catch(() => undefined);
    // Gone though this node holds connections: it lapsed (a long pause), so it is written again.
    if (renewed === 0 && (this.local().get('total') ?? 0) > 0) await this.reset();
  }

  /** This node's hash from its local counts: after an outage, the counts Redis missed. */
  private async reset(): Promise<void> {
    const pairs = [...this.local()].flatMap(([field, count]) => [field, count]);
    await this.redis.command.eval(RESET, 2, this.registry, this.own, this.ttlMs, this.redis.instanceId, ...pairs).catch((error: unknown) => {
      this.logger.debug({ msg: 'connection counts not rewritten', err: error });
    });
  }
}
