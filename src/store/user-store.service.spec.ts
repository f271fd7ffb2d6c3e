import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { StoreUnavailableError } from './store-database';
import { STORE_KINDS, StoreFixture } from '../database/store-fixture';
import { UserStore, type UserRecord } from './user-store.service';

const T1 = '2026-11-21T23:44:19.123Z';
const T2 = '2026-11-22T08:00:00.000Z';

describe.each(STORE_KINDS)(`${UserStore.name} (%s)`, (kind) => {
  let store: StoreFixture;
  let sut: UserStore;

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'setInterval', 'clearInterval', 'setTimeout'], now: new Date(T1) });
    store = await StoreFixture.open(kind);
    sut = store.users;
  });

  afterEach(async () => {
    jest.useRealTimers();
    await store.close();
  });

  const alice = { id: 'sub-alice', nickname: 'Alice Smith', roles: ['admin', 'dev'] };
  const aliceAt = (at: string, extra: Partial<UserRecord> = {}): UserRecord => ({
    id: 'sub-alice',
    nickname: 'Alice Smith',
    roles: ['admin', 'dev'],
    firstSeen: T1,
    lastSeen: at,
    dmDeliveredId: 0,
    ...extra,
  });

  describe('upsertUser', () => {
    it('records a user seen for the first time, and makes them a member of general in the same transaction', async () => {
      const transactions = store.countTransactions();

      await expect(sut.upsertUser(alice)).resolves.toStrictEqual({ user: aliceAt(T1), created: true });

      expect(transactions()).toBe(1);
      await expect(store.query('SELECT * FROM users')).resolves.toEqual([
        {
          id: 'sub-alice',
          nickname: 'Alice Smith',
          nickname_key: 'alice smith',
          roles: '["admin","dev"]',
          first_seen: T1,
          last_seen: T1,
          dm_delivered_id: 0,
        },
      ]);
      await expect(store.query('SELECT room, user_id, joined_at FROM room_members')).resolves.toEqual([
        { room: 'general', user_id: 'sub-alice', joined_at: T1 },
      ]);
    });

    it('updates nickname, roles and last seen of a known user, keeping first seen, the cursor and their rooms', async () => {
      await sut.upsertUser(alice);
      await store.rooms.removeMember('general', 'sub-alice');
      await store.rooms.addMember('eng', 'sub-alice');
      await store.dms.markDmsDelivered('sub-alice', 7);
      jest.setSystemTime(new Date(T2));

      const again = await sut.upsertUser({ id: 'sub-alice', nickname: 'ALICE', roles: [] });

      expect(again).toStrictEqual({ user: aliceAt(T2, { nickname: 'ALICE', roles: [], dmDeliveredId: 7 }), created: false });
      await expect(store.query('SELECT nickname_key FROM users')).resolves.toEqual([{ nickname_key: 'alice' }]);
      // leaving general is remembered: only the first sight adds it
      await expect(store.rooms.roomsOfUser('sub-alice')).resolves.toEqual(['eng']);
    });

    it('stores neither the user nor the membership when the transaction fails', async () => {
      await store.rejectInserts('room_members');

      await expect(sut.upsertUser(alice)).rejects.toBeInstanceOf(StoreUnavailableError);

      await expect(store.query('SELECT COUNT(*) AS n FROM users')).resolves.toEqual([{ n: 0 }]);
      expect(store.messages.status()).toEqual({ writable: false, reason: `recording a user failed: ${store.rejected}` });
      await store.allowInserts('room_members');
      await expect(sut.upsertUser(alice)).resolves.toMatchObject({ created: true });
      expect(store.messages.status()).toEqual({ writable: true });
    });

    it('keeps users apart that share a nickname', async () => {
      await sut.upsertUser({ id: 'sub-1', nickname: 'Sam', roles: [] });
      await expect(sut.upsertUser({ id: 'sub-2', nickname: 'Sam', roles: [] })).resolves.toMatchObject({ created: true, user: { id: 'sub-2' } });
      await expect(store.query('SELECT id FROM users ORDER BY id')).resolves.toEqual([{ id: 'sub-1' }, { id: 'sub-2' }]);
    });
  });

  describe('touchUser', () => {
    it('sets last seen, nothing else, and tells whether the user exists', async () => {
      await sut.upsertUser(alice);
      jest.setSystemTime(new Date(T2));

      await expect(sut.touchUser('sub-alice')).resolves.toBe(true);
      await expect(sut.touchUser('sub-nobody')).resolves.toBe(false);

      await expect(sut.getUser('sub-alice')).resolves.toStrictEqual(aliceAt(T2));
      await expect(store.query('SELECT COUNT(*) AS n FROM users')).resolves.toEqual([{ n: 1 }]);
    });
  });

  describe('getUser', () => {
    it('returns the user, or null for an unknown id', async () => {
      await sut.upsertUser(alice);
      await expect(sut.getUser('sub-alice')).resolves.toStrictEqual(aliceAt(T1));
      await expect(sut.getUser('Alice Smith')).resolves.toBeNull();
    });

    it('reads roles that are not a JSON array of strings as what strings there are', async () => {
      await sut.upsertUser(alice);
      await store.query(`UPDATE users SET roles = '["ok", 3, null]'`);
      await expect(sut.getUser('sub-alice')).resolves.toMatchObject({ roles: ['ok'] });
      await store.query(`UPDATE users SET roles = 'not json'`);
      await expect(sut.getUser('sub-alice')).resolves.toMatchObject({ roles: [] });
    });
  });

  describe('findUsers', () => {
    beforeEach(async () => {
      await sut.upsertUser({ id: 'sub-2', nickname: 'Sam', roles: [] });
      await sut.upsertUser({ id: 'sub-1', nickname: 'sam', roles: [] });
      await sut.upsertUser({ id: 'sub-3', nickname: 'Ｓａｍ Jones', roles: [] });
      // a user whose nickname is another user's id
      await sut.upsertUser({ id: 'sub-4', nickname: 'sub-3', roles: [] });
    });

    const found = async (query: string) => (await sut.findUsers(query)).map((u) => u.id);

    it('finds the user whose id is exactly the query first, and only them', async () => {
      await expect(found('sub-3')).resolves.toEqual(['sub-3']);
      await expect(sut.findUsers('sub-1')).resolves.toStrictEqual([
        { id: 'sub-1', nickname: 'sam', roles: [], firstSeen: T1, lastSeen: T1, dmDeliveredId: 0 },
      ]);
    });

    it('else every user whose nickname matches ignoring case and compatibility forms, by id', async () => {
      await expect(found('SAM')).resolves.toEqual(['sub-1', 'sub-2']);
      await expect(found('sam jones')).resolves.toEqual(['sub-3']);
      await expect(found('SUB-4')).resolves.toEqual([]);
      await expect(found('Sub-3')).resolves.toEqual(['sub-4']);
    });

    it('finds nobody for an unknown name', async () => {
      await expect(found('nobody')).resolves.toEqual([]);
      await expect(found('')).resolves.toEqual([]);
    });
  });

  it('rejects every call with StoreUnavailableError when the database cannot be used', async () => {
    await store.ds.destroy();
    await expect(sut.upsertUser(alice)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.touchUser('sub-alice')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.getUser('sub-alice')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.findUsers('sub-alice')).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe(`${UserStore.name} on the shared StoreDatabase (SQLite file)`, () => {
  let store: StoreFixture;
  let other: Database.Database | null = null;

  afterEach(async () => {
    if (other?.inTransaction) other.exec('ROLLBACK');
    other?.close();
    other = null;
    await store.close();
  });

  const lockOut = () => {
    other = new Database(join(store.dir!, 'db', 'chat.sqlite'));
    other.exec('BEGIN EXCLUSIVE');
  };
  const user = { id: 'sub-1', nickname: 'one', roles: [] };

  it("waits for another process's lock with timers, and writes once it is released", async () => {
    store = await StoreFixture.open('file', { busyTimeoutMs: 5000 });
    lockOut();

    const upsert = store.users.upsertUser(user);
    await new Promise((resolve) => setTimeout(resolve, 100));
    other!.exec('COMMIT');

    await expect(upsert).resolves.toMatchObject({ created: true });
    expect((await store.metrics.storeLockWaits.get()).values[0].value).toBeGreaterThan(0);
  });

  it('answers UNAVAILABLE once STORE_BUSY_TIMEOUT_MS has passed, and the store is not ready until a write succeeds', async () => {
    store = await StoreFixture.open('file', { busyTimeoutMs: 100 });
    lockOut();

    await expect(store.users.upsertUser(user)).rejects.toMatchObject({ code: 'UNAVAILABLE', cause: { driverError: { code: 'SQLITE_BUSY' } } });
    expect(store.messages.status()).toEqual({
      writable: false,
      reason: 'recording a user failed: the database stayed locked by another process for 100 ms (SQLITE_BUSY)',
    });

    other!.exec('ROLLBACK');
    await expect(store.users.upsertUser(user)).resolves.toMatchObject({ created: true });
    expect(store.messages.status()).toEqual({ writable: true });
  });

  it('refuses every call of every store once the database files are lost', async () => {
    store = await StoreFixture.open('file');
    await store.users.upsertUser(user);

    rmSync(join(store.dir!, 'db'), { recursive: true, force: true });

    // the next write notices (or the timer, or the status check): from then on nothing is served
    await expect(store.users.upsertUser(user)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/chat\.sqlite was removed/) } });
    await expect(store.users.getUser('sub-1')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.rooms.roomsOfUser('sub-1')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.rooms.addMember('eng', 'sub-1')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.dms.dmsSince('sub-1', 0, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.dms.markDmsDelivered('sub-1', 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(store.messages.status()).toMatchObject({ writable: false, reason: expect.stringContaining('chat.sqlite') });
  });
});
