import { SlowMode } from './slow-mode';

describe(SlowMode.name, () => {
  let now: number;
  let sut: SlowMode;

  beforeEach(() => {
    now = 1_000_000;
    sut = new SlowMode(() => now);
  });

  it('lets one message per sender per interval through, and says how long to wait', () => {
    sut.set('general', 10, 'sub-owner');

    expect(sut.take('general', 'a')).toBe(0);
    expect(sut.take('general', 'b')).toBe(0);
    now += 4000;
    expect(sut.take('general', 'a')).toBe(6000);
    // A refused message does not restart the interval.
    now += 6000;
    expect(sut.take('general', 'a')).toBe(0);
    expect(sut.take('eng', 'a')).toBe(0);
    expect(sut.take('eng', 'a')).toBe(0);
  });

  it('knows the interval and owner, and forgets the room when set to 0', () => {
    sut.set('general', 30, null);
    expect(sut.has('general')).toBe(true);
    expect(sut.secondsOf('general')).toBe(30);
    expect(sut.ownerOf('general')).toBeNull();

    sut.set('general', 0, null);
    expect(sut.has('general')).toBe(false);
    expect(sut.take('general', 'a')).toBe(0);
    expect(sut.take('general', 'a')).toBe(0);
  });

  it('keeps who sent when across a change of interval', () => {
    sut.set('general', 60, null);
    expect(sut.take('general', 'a')).toBe(0);
    sut.set('general', 5, null);
    now += 1000;
    expect(sut.take('general', 'a')).toBe(4000);
  });

  it('forgets senders whose interval has passed once many are remembered, and still limits the others', () => {
    sut.set('general', 1, null);
    for (let i = 0; i < 1024; i++) sut.take('general', i);
    now += 1000;
    expect(sut.take('general', 'late')).toBe(0);
    expect(sut.take('general', 'new')).toBe(0);
    expect(sut.take('general', 'late')).toBe(1000);
    expect(sut.take('general', 0)).toBe(0);
  });

  it("starts a sender's interval at a send on another node (cluster mode), never earlier than one seen here", () => {
    sut.set('general', 10, null);
    sut.record('general', 'a', now - 2000);
    expect(sut.take('general', 'a')).toBe(8000);
    sut.record('general', 'a', now - 9000);
    expect(sut.take('general', 'a')).toBe(8000);
    sut.record('eng', 'a', now);
    expect(sut.take('eng', 'a')).toBe(0);
  });

  it('keeps only the rooms named (a reload), with who sent when', () => {
    sut.set('general', 10, null);
    sut.set('eng', 10, null);
    expect(sut.take('general', 'a')).toBe(0);
    sut.keepOnly(new Set(['general']));
    expect(sut.has('eng')).toBe(false);
    sut.set('general', 10, null);
    expect(sut.take('general', 'a')).toBe(10_000);
  });
});
