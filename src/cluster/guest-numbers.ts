import type { RedisConnection } from './redis-connection';

/** Guest numbers a node takes at a time. */
export const GUEST_BLOCK = 10_000;
/** A new block is fetched when this few numbers are left of the current one. */
const REFILL_AT = 1_000;

/**
 * Guest numbers no other node hands out: each node takes blocks of GUEST_BLOCK from one Redis
 * counter (`INCR <prefix>:guest-blocks`; block b is numbers (b-1)·GUEST_BLOCK+1 to b·GUEST_BLOCK)
 * and fetches the next block before the current one runs out. So `Guest<N>` names are unique
 * across the cluster without a Redis round trip per connection. Undefined while it has no block
 * (Redis was never reached): the hub then numbers on its own, and the mirror still skips the
 * names other nodes are known to use.
 */
export class GuestNumbers {
  private current: { next: number; end: number } | null = null;
  private spare: { next: number; end: number } | null = null;
  private fetching: Promise<void> | null = null;

  constructor(private readonly redis: RedisConnection) {}

  /** Fetches a block (when none is spare); resolves even when Redis cannot be reached. */
  refill(): Promise<void> {
    if (this.spare) return Promise.resolve();
    this.fetching ??= this.redis.command
      .incr(this.redis.key('guest-blocks'))
      .then((block) => {
        this.spare = { next: (block - 1) * GUEST_BLOCK + 1, end: block * GUEST_BLOCK };
      })
      .catch(() => undefined)
      .finally(() => (this.fetching = null));
    return this.fetching;
  }

  take(): number | undefined {
    if (!this.current || this.current.next > this.current.end) {
      this.current = this.spare;
      this.spare = null;
    }
    const current = this.current;
    if (!current) {
      void this.refill();
      return undefined;
    }
    if (current.end - current.next < REFILL_AT && !this.spare) void this.refill();
    return current.next++;
  }
}
