import { FLOOD_CLOSE_MS, FLOOD_PAUSE_MS, FrameVerdict, MAX_FLOOD_PAUSE_MS, RateLimits, SharedTokenBucket, TokenBucket } from './rate-limit';

describe(TokenBucket.name, () => {
  it('takes a burst at once, then refills at the rate', () => {
    const sut = new TokenBucket({ perSecond: 10, burst: 3 }, 0);
    expect([sut.take(0), sut.take(0), sut.take(0), sut.take(0)]).toEqual([true, true, true, false]);
    expect(sut.retryAfterMs()).toBe(100);
    expect(sut.take(100)).toBe(true);
    expect(sut.take(100)).toBe(false);
    // Never more than the burst, however long it was idle.
    expect([sut.take(60_000), sut.take(60_000), sut.take(60_000), sut.take(60_000)]).toEqual([true, true, true, false]);
  });
});

describe(RateLimits.name, () => {
  const settings = { perSecond: 10, burst: 2 };

  it('tells the client once a second at most, and closes a flood that lasts FLOOD_CLOSE_MS', () => {
    const sut = new RateLimits(settings).open(undefined, 0);
    const verdicts: FrameVerdict[] = [];
    let closedAt = -1;
    for (let t = 0; closedAt < 0 && t <= 2 * FLOOD_CLOSE_MS; t += 10) {
      verdicts.push(sut.check(t));
      if (verdicts.at(-1) === FrameVerdict.Close) closedAt = t;
    }
    expect(verdicts.slice(0, 3)).toEqual([FrameVerdict.Take, FrameVerdict.Take, FrameVerdict.DropAndNotify]);
    expect(verdicts.filter((v) => v === FrameVerdict.DropAndNotify)).toHaveLength(10);
    // First limited at 20 ms; closed at the first limited frame FLOOD_CLOSE_MS later (a token every 100 ms still gets through).
    expect(closedAt).toBeGreaterThanOrEqual(20 + FLOOD_CLOSE_MS);
    expect(closedAt).toBeLessThanOrEqual(50 + FLOOD_CLOSE_MS);
    expect(sut.check(FLOOD_CLOSE_MS + 1000)).toBe(FrameVerdict.Drop);
  });

  it('pauses a flooding connection longer each time, up to MAX_FLOOD_PAUSE_MS, and counts the pauses as flood time', () => {
    const sut = new RateLimits(settings).open(undefined, 0);
    sut.check(0);
    sut.check(0);
    expect(sut.check(0)).toBe(FrameVerdict.DropAndNotify);
    const pauses: number[] = [];
    let t = 0;
    let verdict = FrameVerdict.Drop;
    // The server reads again after each pause: the waiting frames arrive at once, a token or two are
    // taken, the next one is over the limit and pauses the connection again.
    while (verdict !== FrameVerdict.Close && t < 2 * FLOOD_CLOSE_MS) {
      const pause = sut.nextPauseMs(t);
      pauses.push(pause);
      t += pause;
      do verdict = sut.check(t);
      while (verdict === FrameVerdict.Take);
    }
    expect(pauses.slice(0, 4)).toEqual([FLOOD_PAUSE_MS, 2 * FLOOD_PAUSE_MS, MAX_FLOOD_PAUSE_MS, MAX_FLOOD_PAUSE_MS]);
    // Pauses longer than the quiet time that ends a flood do not end it: it is closed at FLOOD_CLOSE_MS.
    expect(verdict).toBe(FrameVerdict.Close);
    expect(t).toBeGreaterThanOrEqual(FLOOD_CLOSE_MS);
    expect(t).toBeLessThanOrEqual(FLOOD_CLOSE_MS + MAX_FLOOD_PAUSE_MS);
  });

  it('forgets a flood once the client paused as long as the bucket takes to refill', () => {
    const sut = new RateLimits(settings).open(undefined, 0);
    for (let t = 0; t < 9000; t += 10) sut.check(t);
    // Quiet for over a second (the refill time, at least a second), then limited again: a new flood.
    for (let t = 10_500; t < 10_500 + FLOOD_CLOSE_MS - 100; t += 10) expect(sut.check(t)).not.toBe(FrameVerdict.Close);
  });

  it('shares a user bucket among its connections, and drops it with the last', () => {
    const sut = new RateLimits(settings);
    const a = sut.open('u1', 0);
    const b = sut.open('u1', 0);
    const other = sut.open('u2', 0);
    expect([a.check(0), b.check(0), b.check(0)]).toEqual([FrameVerdict.Take, FrameVerdict.Take, FrameVerdict.DropAndNotify]);
    expect(other.check(0)).toBe(FrameVerdict.Take);
    sut.release(a, 'u1');
    sut.release(b, 'u1');
    expect(sut.open('u1', 0).check(0)).toBe(FrameVerdict.Take);
  });

  it('on one node (not shared) keeps plain buckets and has nothing to share', () => {
    const sut = new RateLimits(settings);
    const limit = sut.open('u1', 0);
    limit.check(0);
    expect(limit.bucket).not.toBeInstanceOf(SharedTokenBucket);
    expect(sut.spent()).toEqual([]);
  });

  it("shared (cluster mode): counts each user's frames taken here once per share, and takes the other nodes' from the user's bucket", () => {
    const sut = new RateLimits({ perSecond: 1, burst: 4 }, true);
    const u1 = sut.open('u1', 0);
    const anonymous = sut.open(undefined, 0);
    expect(u1.bucket).toBeInstanceOf(SharedTokenBucket);
    expect(anonymous.bucket).not.toBeInstanceOf(SharedTokenBucket);
    u1.check(0);
    u1.check(0);
    anonymous.check(0);
    expect(sut.spent()).toEqual([['u1', 2]]);
    expect(sut.spent()).toEqual([]);

    // Another node took 2 of the user's frames: 0 left here, and none for a user not connected here.
    sut.debit('u1', 2);
    sut.debit('nobody', 5);
    expect(u1.check(0)).toBe(FrameVerdict.DropAndNotify);
    // The debt is at most one burst: 100 frames elsewhere cost this node 4 s of refill, not 100.
    sut.debit('u1', 100);
    expect(u1.bucket.retryAfterMs()).toBe(5000);
    expect(u1.check(4000)).not.toBe(FrameVerdict.Take);
    expect(u1.check(5000)).toBe(FrameVerdict.Take);
    expect(sut.spent()).toEqual([['u1', 1]]);
  });
});
