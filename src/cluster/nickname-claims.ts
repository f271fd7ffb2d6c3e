import type { NicknameClaims } from '../hub/remote-members';
import type { RedisConnection } from './redis-connection';

/**
 * Takes every key of a name for `owner` (ARGV[1], `<instance>/<session>`), or none: none when
 * another owner holds one and its node's heartbeat key (ARGV[2] .. instance) still exists. A
 * claim of a node that is gone counts as free, so a dead node's names need no cleaning up.
 */
const CLAIM = `
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and holder ~= ARGV[1] then
    local instance = string.match(holder, '^(.*)/')
    if instance and redis.call('EXISTS', ARGV[2] .. instance) == 1 then return 0 end
  end
end
for _, key in ipairs(KEYS) do redis.call('SET', key, ARGV[1]) end
return 1`;

/** Frees the keys `owner` (ARGV[1]) holds, and no one else's. */
const RELEASE = `
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 1`;

/**
 * Chosen nicknames claimed cluster-wide under `<prefix>:nick:<key>` (Hub.renameClaimed), one Lua
 * call each way. While Redis is down a claim succeeds (each node serves its own clients; the
 * mirror still refuses the names other nodes were known to use).
 */
export class RedisNicknameClaims implements NicknameClaims {
  constructor(private readonly redis: RedisConnection) {}

  claim(keys: readonly string[], owner: string): Promise<boolean> {
    if (!this.redis.isUp) return Promise.resolve(true);
    return this.redis.command
      .eval(CLAIM, keys.length, ...keys.map((key) => this.redis.key('nick', key)), owner, this.redis.key('instance', ''))
      .then((won) => won === 1)
      .catch(() => true);
  }

  release(keys: readonly string[], owner: string): void {
    if (keys.length === 0 || !this.redis.isUp) return;
    this.redis.command.eval(RELEASE, keys.length, ...keys.map((key) => this.redis.key('nick', key)), owner).catch(() => undefined);
  }
}
