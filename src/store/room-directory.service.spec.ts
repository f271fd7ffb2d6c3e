import type { StoredRoom } from './message-store.service';
import { RoomDirectory } from './room-directory.service';
import { StoreUnavailableError } from './store-database';
import { STORE_KINDS, StoreFixture } from '../database/store-fixture';

const T1 = '2026-11-21T23:44:19.123Z';
const T2 = '2026-11-21T23:45:00.000Z';
const T3 = '2026-11-21T23:46:00.000Z';

describe.each(STORE_KINDS)(`${RoomDirectory.name} (%s)`, (kind) => {
  let store: StoreFixture;
  let sut: RoomDirectory;

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'setInterval', 'clearInterval', 'setTimeout'], now: new Date(T1) });
    store = await StoreFixture.open(kind);
    sut = store.rooms;
  });

  afterEach(async () => {
    jest.useRealTimers();
    await store.close();
  });

  const eng: StoredRoom = { name: 'eng', lastMessageId: null, visibility: 'private', ownerId: 'sub-owner', createdAt: T1 };
  const post = (room: string, body = 'hi') => store.messages.append({ room, nickname: 'bob', body });

  describe('createRoom', () => {
    it('stores the room with its visibility, owner and creation time, and makes the owner its first member, in one transaction', async () => {
      const transactions = store.countTransactions();

      await expect(sut.createRoom({ name: 'eng', visibility: 'private', ownerId: 'sub-owner' })).resolves.toBe('created');

      expect(transactions()).toBe(1);
      await expect(sut.roomInfo('eng')).resolves.toStrictEqual(eng);
      await expect(sut.membersOf('eng')).resolves.toEqual(['sub-owner']);
      await expect(store.messages.rooms()).resolves.toEqual([eng]);
    });

    it('creates a public room, and one without an owner (no member then)', async () => {
      await expect(sut.createRoom({ name: 'lobby', visibility: 'public', ownerId: 'sub-1' })).resolves.toBe('created');
      await expect(sut.createRoom({ name: 'orphan', visibility: 'private', ownerId: null })).resolves.toBe('created');

      await expect(sut.roomInfo('lobby')).resolves.toMatchObject({ visibility: 'public', ownerId: 'sub-1' });
      await expect(sut.roomInfo('orphan')).resolves.toMatchObject({ visibility: 'private', ownerId: null, createdAt: T1 });
      await expect(sut.membersOf('orphan')).resolves.toEqual([]);
    });

    it('answers exists, changing nothing, for a room created before', async () => {
      await sut.createRoom({ name: 'eng', visibility: 'private', ownerId: 'sub-owner' });
      jest.setSystemTime(new Date(T2));

      await expect(sut.createRoom({ name: 'eng', visibility: 'public', ownerId: 'sub-thief' })).resolves.toBe('exists');

      await expect(sut.roomInfo('eng')).resolves.toStrictEqual(eng);
      await expect(sut.membersOf('eng')).resolves.toEqual(['sub-owner']);
    });

    it('answers exists for a room that has messages', async () => {
      await post('dev');

      await expect(sut.createRoom({ name: 'dev', visibility: 'private', ownerId: 'sub-1' })).resolves.toBe('exists');

      await expect(sut.roomInfo('dev')).resolves.toStrictEqual({ name: 'dev', lastMessageId: 1, visibility: 'public', ownerId: null, createdAt: null });
      await expect(sut.isMember('dev', 'sub-1')).resolves.toBe(false);
    });

    it('answers exists for a room that has members but no row (general, after a first sign-in)', async () => {
      await store.users.upsertUser({ id: 'sub-1', nickname: 'one', roles: [] });
      await sut.addMember('quiet', 'sub-2');

      await expect(sut.createRoom({ name: 'general', visibility: 'private', ownerId: 'sub-3' })).resolves.toBe('exists');
      await expect(sut.createRoom({ name: 'quiet', visibility: 'private', ownerId: 'sub-3' })).resolves.toBe('exists');

      await expect(sut.roomInfo('general')).resolves.toBeNull();
      await expect(sut.roomInfo('quiet')).resolves.toBeNull();
      await expect(sut.membersOf('quiet')).resolves.toEqual(['sub-2']);
    });

    it('treats names as given (the caller validates and normalizes them)', async () => {
      await sut.createRoom({ name: 'eng', visibility: 'private', ownerId: 'sub-1' });
      await expect(sut.createRoom({ name: 'Eng', visibility: 'private', ownerId: 'sub-1' })).resolves.toBe('created');
    });

    it('creates nothing when the transaction fails', async () => {
      await store.rejectInserts('room_members');

      await expect(sut.createRoom({ name: 'eng', visibility: 'private', ownerId: 'sub-1' })).rejects.toBeInstanceOf(StoreUnavailableError);

      await expect(sut.roomInfo('eng')).resolves.toBeNull();
    });
  });

  describe('with messages', () => {
    it('keeps visibility, owner and creation time when the room gets messages', async () => {
      await sut.createRoom({ name: 'eng', visibility: 'private', ownerId: 'sub-owner' });

      await post('eng');
      const { record } = await post('eng', 'again');

      await expect(sut.roomInfo('eng')).resolves.toStrictEqual({ ...eng, lastMessageId: record.id });
    });
  });

  describe('roomInfo, privateRooms and rooms', () => {
    beforeEach(async () => {
      await post('general');
      await sut.createRoom({ name: 'zeta', visibility: 'private', ownerId: 'sub-z' });
      await sut.createRoom({ name: 'eng', visibility: 'private', ownerId: 'sub-owner' });
      await sut.createRoom({ name: 'lobby', visibility: 'public', ownerId: 'sub-l' });
    });

    it('roomInfo returns null for a room without a row', async () => {
      await expect(sut.roomInfo('nowhere')).resolves.toBeNull();
    });

    it('privateRooms lists the private rooms only, by name', async () => {
      await expect(sut.privateRooms()).resolves.toStrictEqual([eng, { name: 'zeta', lastMessageId: null, visibility: 'private', ownerId: 'sub-z', createdAt: T1 }]);
    });

    it('rooms() lists every room, created or written in, with visibility and owner', async () => {
      const rooms = await store.messages.rooms();
      expect(rooms.map((r) => [r.name, r.visibility, r.ownerId, r.lastMessageId]).sort()).toEqual([
        ['eng', 'private', 'sub-owner', null],
        ['general', 'public', null, 1],
        ['lobby', 'public', 'sub-l', null],
        ['zeta', 'private', 'sub-z', null],
      ]);
    });
  });

  describe('membership', () => {
    it('adds a member once: true when added, false when they already were', async () => {
      await expect(sut.addMember('eng', 'sub-1')).resolves.toBe(true);
      await expect(sut.addMember('eng', 'sub-1')).resolves.toBe(false);

      await expect(store.query('SELECT room, user_id, joined_at FROM room_members')).resolves.toEqual([{ room: 'eng', user_id: 'sub-1', joined_at: T1 }]);
    });

    it('removes a member: true when they were one, false when nothing changed', async () => {
      await sut.addMember('eng', 'sub-1');
      await sut.addMember('eng', 'sub-2');

      await expect(sut.removeMember('eng', 'sub-1')).resolves.toBe(true);
      await expect(sut.removeMember('eng', 'sub-1')).resolves.toBe(false);
      await expect(sut.removeMember('nowhere', 'sub-2')).resolves.toBe(false);

      await expect(sut.membersOf('eng')).resolves.toEqual(['sub-2']);
      await expect(sut.isMember('eng', 'sub-1')).resolves.toBe(false);
      await expect(sut.isMember('eng', 'sub-2')).resolves.toBe(true);
    });

    it('lists a user’s rooms and a room’s members in join order', async () => {
      await sut.addMember('zeta', 'sub-1');
      jest.setSystemTime(new Date(T2));
      await sut.addMember('alpha', 'sub-1');
      await sut.addMember('zeta', 'sub-3');
      jest.setSystemTime(new Date(T3));
      await sut.addMember('mid', 'sub-1');
      await sut.addMember('zeta', 'sub-2');
      await sut.addMember('beta', 'sub-1');

      await expect(sut.roomsOfUser('sub-1')).resolves.toEqual(['zeta', 'alpha', 'beta', 'mid']);
      await expect(sut.membersOf('zeta')).resolves.toEqual(['sub-1', 'sub-3', 'sub-2']);
      await expect(sut.roomsOfUser('sub-nobody')).resolves.toEqual([]);
      await expect(sut.membersOf('nowhere')).resolves.toEqual([]);
    });

    it('lists every private room’s members with their nicknames in one read: by room, in join order, the user id for a user never recorded', async () => {
      await sut.createRoom({ name: 'eng', visibility: 'private', ownerId: 'sub-owner' });
      await sut.createRoom({ name: 'ops', visibility: 'private', ownerId: 'sub-2' });
      await sut.createRoom({ name: 'lobby', visibility: 'public', ownerId: 'sub-2' });
      await store.users.upsertUser({ id: 'sub-owner', nickname: 'Olive', roles: [] });
      await store.users.upsertUser({ id: 'sub-2', nickname: 'Bo', roles: [] });
      jest.setSystemTime(new Date(T2));
      await sut.addMember('eng', 'sub-2');
      await sut.addMember('eng', 'sub-unrecorded');
      await sut.addMember('lobby', 'sub-owner');
      const reads = store.countReads();

      await expect(sut.privateRoomMembers()).resolves.toEqual([
        { room: 'eng', userId: 'sub-owner', nickname: 'Olive' },
        { room: 'eng', userId: 'sub-2', nickname: 'Bo' },
        { room: 'eng', userId: 'sub-unrecorded', nickname: 'sub-unrecorded' },
        { room: 'ops', userId: 'sub-2', nickname: 'Bo' },
      ]);
      expect(reads).toHaveBeenCalledTimes(1);
    });

    it('keeps membership in the database: another store over the same data source sees it', async () => {
      await sut.addMember('eng', 'sub-1');
      const again = new RoomDirectory(store.messages.database);
      await expect(again.roomsOfUser('sub-1')).resolves.toEqual(['eng']);
    });
  });

  it('rejects every call with StoreUnavailableError when the database cannot be used', async () => {
    await store.ds.destroy();
    await expect(sut.createRoom({ name: 'eng', visibility: 'private', ownerId: 'sub-1' })).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.roomInfo('eng')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.privateRooms()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.roomsOfUser('sub-1')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.membersOf('eng')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.isMember('eng', 'sub-1')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.addMember('eng', 'sub-1')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.removeMember('eng', 'sub-1')).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
