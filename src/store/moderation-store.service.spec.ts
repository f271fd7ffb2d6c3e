import { ModerationStore } from './moderation-store.service';
import { DIALECT_KINDS, StoreFixture } from '../database/store-fixture';

const T0 = new Date('2026-12-07T21:00:00.000Z');
const LATER = '2026-12-07T22:00:00.000Z';
const EARLIER = '2026-12-07T20:00:00.000Z';

describe.each(DIALECT_KINDS)(`${ModerationStore.name} (%s)`, (kind) => {
  let store: StoreFixture;
  let sut: ModerationStore;

  beforeEach(async () => {
    store = await StoreFixture.open(kind);
    sut = new ModerationStore(store.messages.database);
  });

  afterEach(() => store.close());

  const ban = (kind: 'user' | 'address', target: string, expiresAt: string | null) => ({
    kind,
    target,
    expiresAt,
    reason: 'spam',
    actor: '@admin',
    createdAt: T0.toISOString(),
  });

  it('keeps bans and mutes that have not ended, and deletes the ended ones when read', async () => {
    await sut.putBan(ban('user', 'sub-1', LATER));
    await sut.putBan(ban('address', '203.0.113.9', null));
    await sut.putBan(ban('user', 'sub-2', EARLIER));
    await sut.putMute({ room: 'general', target: 'sub-1', expiresAt: LATER, reason: null, actor: 'sub-a', createdAt: T0.toISOString() });
    await sut.putMute({ room: 'general', target: 'sub-2', expiresAt: EARLIER, reason: null, actor: 'sub-a', createdAt: T0.toISOString() });

    await expect(sut.active(T0)).resolves.toEqual({
      bans: [ban('address', '203.0.113.9', null), ban('user', 'sub-1', LATER)],
      mutes: [{ room: 'general', target: 'sub-1', expiresAt: LATER, reason: null, actor: 'sub-a', createdAt: T0.toISOString() }],
    });
    await expect(store.ds.query('SELECT target FROM bans ORDER BY target')).resolves.toEqual([{ target: '203.0.113.9' }, { target: 'sub-1' }]);
    await expect(store.ds.query('SELECT target FROM mutes')).resolves.toEqual([{ target: 'sub-1' }]);
  });

  it('replaces a ban or mute of the same target, and removes them (false when there was none)', async () => {
    await sut.putBan(ban('user', 'sub-1', LATER));
    await sut.putBan({ ...ban('user', 'sub-1', null), reason: 'again' });
    await expect(sut.active(T0)).resolves.toMatchObject({ bans: [{ target: 'sub-1', expiresAt: null, reason: 'again' }] });

    await expect(sut.removeBan('user', 'sub-1')).resolves.toBe(true);
    await expect(sut.removeBan('user', 'sub-1')).resolves.toBe(false);
    await expect(sut.removeBan('address', 'sub-1')).resolves.toBe(false);

    await sut.putMute({ room: 'eng', target: 'bob', expiresAt: null, reason: null, actor: 'admin', createdAt: T0.toISOString() });
    await expect(sut.removeMute('general', 'bob')).resolves.toBe(false);
    await expect(sut.removeMute('eng', 'bob')).resolves.toBe(true);
    await expect(sut.active(T0)).resolves.toEqual({ bans: [], mutes: [] });
  });

  it('sets slow mode on a stored room and on one that has no row yet, and lists rooms with it on, with their owners', async () => {
    await store.rooms.createRoom({ name: 'eng', visibility: 'public', ownerId: 'sub-owner' });

    await sut.setSlowMode('eng', 30);
    await sut.setSlowMode('general', 5);
    await sut.setSlowMode('quiet', 0);

    await expect(sut.slowModes()).resolves.toEqual([
      { room: 'eng', seconds: 30, ownerId: 'sub-owner' },
      { room: 'general', seconds: 5, ownerId: null },
    ]);
    await expect(store.ds.query("SELECT name FROM rooms WHERE name = 'quiet'")).resolves.toEqual([]);

    await sut.setSlowMode('eng', 0);
    await expect(sut.slowModes()).resolves.toEqual([{ room: 'general', seconds: 5, ownerId: null }]);
  });
});
