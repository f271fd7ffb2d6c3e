import { Sanctions, type Ban } from './sanctions';

describe(Sanctions.name, () => {
  let now: number;
  let sut: Sanctions;

  beforeEach(() => {
    now = 1_000_000;
    sut = new Sanctions(() => now);
  });

  const ban = (kind: Ban['kind'], target: string, until: number | null): Ban => ({ kind, target, until, reason: null, actor: 'admin', at: now });

  it('finds a ban in force by kind and target, and drops it once it has ended', () => {
    const forever = ban('address', '203.0.113.9', null);
    sut.ban(ban('user', 'sub-1', now + 1000));
    sut.ban(forever);

    expect(sut.banOf('user', 'sub-1')).toMatchObject({ target: 'sub-1' });
    expect(sut.banOf('address', 'sub-1')).toBeUndefined();
    now += 1000;
    expect(sut.banOf('user', 'sub-1')).toBeUndefined();
    expect(sut.banCount).toBe(1);
    expect(sut.listBans()).toEqual([forever]);
  });

  it('lifts a ban, answering undefined when none was in force', () => {
    sut.ban(ban('user', 'sub-1', null));
    expect(sut.unban('user', 'sub-1')).toMatchObject({ target: 'sub-1' });
    expect(sut.unban('user', 'sub-1')).toBeUndefined();
    expect(sut.banCount).toBe(0);
  });

  it('mutes a target in one room only, until the end', () => {
    sut.mute({ room: 'general', target: 'bob', until: now + 500, reason: null, actor: 'admin', at: now });

    expect(sut.hasMutes('general')).toBe(true);
    expect(sut.hasMutes('eng')).toBe(false);
    expect(sut.muteOf('general', 'bob')).toMatchObject({ until: now + 500 });
    expect(sut.muteOf('eng', 'bob')).toBeUndefined();
    expect(sut.muteOf('general', 'alice')).toBeUndefined();
    now += 500;
    expect(sut.muteOf('general', 'bob')).toBeUndefined();
    expect(sut.hasMutes('general')).toBe(false);
  });

  it('lists mutes in force, oldest first, and unmutes', () => {
    sut.mute({ room: 'eng', target: 'b', until: null, reason: 'x', actor: 'admin', at: now + 1 });
    sut.mute({ room: 'general', target: 'a', until: null, reason: null, actor: 'admin', at: now });
    expect(sut.listMutes().map((m) => m.target)).toEqual(['a', 'b']);
    expect(sut.unmute('eng', 'b')).toMatchObject({ target: 'b' });
    expect(sut.unmute('eng', 'b')).toBeUndefined();
    expect(sut.listMutes().map((m) => m.target)).toEqual(['a']);
  });
});
