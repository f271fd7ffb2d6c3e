export interface RateLimitSettings {
  /** Tokens added per second. */
  perSecond: number;
  /** The bucket's size: frames that may come at once. */
  burst: number;
}

/** A connection still over its limit this long after it was first limited (in one flood) is closed with 1008. */
export const FLOOD_CLOSE_MS = 10_000;
/**
 * At most one RATE_LIMITED frame per connection per this many ms (or per retryAfterMs, if longer):
 * answering every dropped frame would turn the flood around at the flooder's own rate.
 */
export const NOTICE_INTERVAL_MS = 1000;

/**
 * How long a connection's socket stops being read once it is over its limit (at least; longer when
 * the bucket needs longer to refill). Dropping a frame is cheap, but reading and unmasking a flood
 * of them is not: measured, a client sending 140,000 frames a second raised the p99 of a room's
 * other clients 2.4 times while every one of its frames was dropped (docs/benchmarks.md). Not
 * reading its socket for a while pushes back on the flooder through TCP instead (its own send
 * buffer fills), so the server reads at most one socket buffer of its frames per pause.
 */
export const FLOOD_PAUSE_MS = 250;
/**
 * A flood that goes on after a pause is paused twice as long each time, up to this: each resume
 * reads a whole socket buffer of queued frames at once, so fewer resumes mean fewer stalls for the
 * others. Well below the heartbeat interval, whose pong also waits for the socket to be read.
 */
export const MAX_FLOOD_PAUSE_MS = 1000;

/** What to do with one inbound frame: a number, so deciding allocates nothing. */
export enum FrameVerdict {
  /** Within the limit: process it. */
  Take,
  /** Over the limit: drop it, quietly. */
  Drop,
  /** Over the limit: drop it and tell the client (RATE_LIMITED with retryAfterMs). */
  DropAndNotify,
  /** Over the limit for FLOOD_CLOSE_MS: drop it and close the connection with 1008. */
  Close,
}

/**
 * A token bucket over inbound frames: `burst` at once, then `perSecond`. Refilled lazily from the
 * time of each frame, so an idle connection costs no timer. In jwt mode all connections of a user
 * share one.
 */
export class TokenBucket {
  protected tokens: number;
  private last: number;
  private readonly perMs: number;
  /** Connections holding this bucket (jwt mode: the user's); it is dropped with the last. */
  holders = 0;

  constructor(
    protected readonly settings: RateLimitSettings,
    now: number,
  ) {
    this.tokens = settings.burst;
    this.last = now;
    this.perMs = settings.perSecond / 1000;
  }

  take(now: number): boolean {
    let tokens = this.tokens + (now - this.last) * this.perMs;
    if (tokens > this.settings.burst) tokens = this.settings.burst;
    this.last = now;
    if (tokens >= 1) {
      this.tokens = tokens - 1;
      return true;
    }
    this.tokens = tokens;
    return false;
  }

  /** Milliseconds until the next frame will be taken (as of the last `take`). */
  retryAfterMs(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perMs));
  }
}

/**
 * A user's bucket in cluster mode: what this node takes is counted for the other nodes (RateShare
 * sends it every SHARE_INTERVAL_MS), and what they took is taken from it here, so the user's
 * connections on all nodes draw on one budget. A subclass, so that one node's buckets do no extra
 * work per frame.
 */
export class SharedTokenBucket extends TokenBucket {
  /** Frames taken here since the last share. */
  spent = 0;

  constructor(
    settings: RateLimitSettings,
    now: number,
    readonly userId: string,
    /** The buckets with frames to share: one tick's work is theirs, not every user's. */
    private readonly spending: Set<SharedTokenBucket>,
  ) {
    super(settings, now);
  }

  override take(now: number): boolean {
    if (!super.take(now)) return false;
    if (this.spent++ === 0) this.spending.add(this);
    return true;
  }

  /** Frames the user's connections on other nodes took: the bucket may go below 0, down to one burst's debt. */
  debit(frames: number): void {
    this.tokens = Math.max(this.tokens - frames, -this.settings.burst);
  }
}

/**
 * One connection under the rate limit: its bucket (its own, or its user's), and its flood. A flood
 * begins with a limited frame and lasts while limited frames keep coming, no further apart than
 * the time the bucket takes to refill (a client that paused that long had stopped flooding).
 */
export class FrameLimit {
  private floodStart = 0;
  private lastLimited = -Infinity;
  private noticeAt = 0;
  /** Whether this connection was ever limited: it is logged and counted once. */
  limited = false;
  /** Set when closed for flooding: nothing more is processed or answered. */
  closing = false;
  /** The last pause of this flood (0: none yet); see nextPauseMs. */
  private pauseMs = 0;

  constructor(
    readonly bucket: TokenBucket,
    /** How long without a limited frame ends a flood: the bucket's refill time. */
    private readonly quietMs: number,
  ) {}

  check(now: number): FrameVerdict {
    if (this.closing) return FrameVerdict.Drop;
    if (this.bucket.take(now)) return FrameVerdict.Take;
    if (now - this.lastLimited > this.quietMs) {
      this.floodStart = now;
      this.pauseMs = 0;
    }
    this.lastLimited = now;
    if (now - this.floodStart >= FLOOD_CLOSE_MS) {
      this.closing = true;
      return FrameVerdict.Close;
    }
    if (now < this.noticeAt) return FrameVerdict.Drop;
    this.noticeAt = now + Math.max(NOTICE_INTERVAL_MS, this.bucket.retryAfterMs());
    return FrameVerdict.DropAndNotify;
  }

  /** How long to stop reading this connection now: FLOOD_PAUSE_MS, doubling with each pause of one flood, at most MAX_FLOOD_PAUSE_MS; never less than the bucket's refill. */
  nextPauseMs(now: number): number {
    this.pauseMs = this.pauseMs === 0 ? FLOOD_PAUSE_MS : Math.min(this.pauseMs * 2, MAX_FLOOD_PAUSE_MS);
    const pause = Math.max(this.pauseMs, this.bucket.retryAfterMs());
    // The flood goes on through the pause: the client's frames are only waiting in its socket.
    this.lastLimited = now + pause;
    return pause;
  }
}

/** The buckets: one per connection, or one per user shared by that user's connections (jwt mode). */
export class RateLimits {
  private readonly users = new Map<string, TokenBucket>();
  private readonly spending = new Set<SharedTokenBucket>();
  private readonly quietMs: number;

  constructor(
    private readonly settings: RateLimitSettings,
    /** Cluster mode: users' buckets are SharedTokenBuckets (see spent, debit). */
    private readonly shared = false,
  ) {
    this.quietMs = Math.max(1000, (settings.burst / settings.perSecond) * 1000);
  }

  /** A new connection's limit; `userId` (jwt mode) shares the user's bucket. Give it back with `release`. */
  open(userId: string | undefined, now: number): FrameLimit {
    let bucket = userId === undefined ? undefined : this.users.get(userId);
    if (!bucket) {
      bucket = this.shared && userId !== undefined ? new SharedTokenBucket(this.settings, now, userId, this.spending) : new TokenBucket(this.settings, now);
      if (userId !== undefined) this.users.set(userId, bucket);
    }
    bucket.holders++;
    return new FrameLimit(bucket, this.quietMs);
  }

  release(limit: FrameLimit, userId: string | undefined): void {
    if (--limit.bucket.holders === 0 && userId !== undefined && this.users.get(userId) === limit.bucket) this.users.delete(userId);
  }

  /** Cluster mode: each user's frames taken here since the last call (users with none left out), counted anew from now. */
  spent(): Array<[string, number]> {
    const spent: Array<[string, number]> = [];
    for (const bucket of this.spending) {
      spent.push([bucket.userId, bucket.spent]);
      bucket.spent = 0;
    }
    this.spending.clear();
    return spent;
  }

  /** Cluster mode: frames the user took on another node. */
  debit(userId: string, frames: number): void {
    const bucket = this.users.get(userId);
    if (bucket instanceof SharedTokenBucket) bucket.debit(frames);
  }
}
