import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { notification, type MessageFrame, type ServerFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { FakeTransport } from './fake-transport';
import { Hub, type HubSettings, type Snapshot } from './hub';
import { LocalBroker } from './local-broker';
import type { Session } from './session';

interface Client {
  session: Session;
  transport: FakeTransport;
  frames(): ServerFrame[];
}

const JWT: HubSettings = { presenceBatchThreshold: 100, presenceBatchMs: 1000, nickHoldMs: 30_000, identified: true };

const identity = (userId: string, nickname = userId, roles: string[] = []): Identity => ({ userId, nickname, roles, expiresAt: Date.now() + 3_600_000 });
const joined = (room: string, nickname: string) => notification('join', room, nickname, `id-${nickname}`);
const left = (room: string, nickname: string) => notification('leave', room, nickname, `id-${nickname}`);
const message = (id: number, room: string): MessageFrame => ({
  type: 'message',
  id,
  room,
  nickname: 'alice',
  userId: 'id-alice',
  message: `m${id}`,
  sentAt: '2026-11-21T23:44:19.123Z',
});
const history = (room: string): Snapshot => ({ frames: [{ type: 'history', room, messages: [], hasMore: false }], lastId: 0 });

/** Throws unless `act` throws a ChatException with `code`; returns its message. */
function errorOf(act: () => unknown, code: ErrorCode): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(ChatException);
    expect((error as ChatException).code).toBe(code);
    return (error as ChatException).message;
  }
  throw new Error(`expected ${code}`);
}

describe(`${Hub.name} user model (jwt mode)`, () => {
  let sut: Hub;
  let clients: Client[];

  beforeEach(() => {
    sut = new Hub(new LocalBroker(), new ChatMetrics(), JWT);
    clients = [];
  });

  afterEach(() => {
    sut.onModuleDestroy();
    jest.useRealTimers();
  });

  /** A connection of user `id-<nickname>`, connected as ChatService does it; `stored` the rooms the store lists at the user's first connection. */
  function connect(nickname: string, stored: string[] = ['general'], live = true, roles: string[] = []): Client {
    const transport = new FakeTransport();
    const session = sut.open(transport, '127.0.0.1', undefined, identity(`id-${nickname}`, nickname, roles));
    if (sut.needsRooms(session)) sut.loadRooms(session, stored);
    sut.enter(session, ['ignored-in-jwt-mode']);
    if (live) sut.goLive(session);
    const client = { session, transport, frames: () => transport.frames() };
    clients.push(client);
    return client;
  }

  const clearAll = (): void => clients.forEach((c) => c.transport.clear());

  describe('one user, many connections', () => {
    it('lists the user once, with its id, however many connections it has', () => {
      connect('alice');
      connect('bob');
      const phone = connect('alice', [], false);

      expect(sut.welcome(phone.session)).toEqual({
        type: 'welcome',
        nickname: 'alice',
        userId: 'id-alice',
        roles: [],
        message: 'Welcome, alice',
        users: ['alice', 'bob'],
        userIds: ['id-alice', 'id-bob'],
        usersTotal: 2,
        room: 'general',
        rooms: ['general'],
      });
      expect(sut.size).toBe(3);
      expect(sut.onlineUsers()).toEqual({
        users: [expect.objectContaining({ nickname: 'alice', userId: 'id-alice' }), expect.objectContaining({ nickname: 'bob', userId: 'id-bob' })],
        total: 2,
      });
      expect(sut.presence('general')).toEqual({ type: 'presence', room: 'general', users: ['alice', 'bob'], userIds: ['id-alice', 'id-bob'], usersTotal: 2, offset: 0 });
      expect(sut.roomCounts()).toEqual(new Map([['general', 2]]));
      expect(sut.roomUsers('general').total).toBe(2);
    });

    it("tells a room of the user's first connection only; every connection gets its own join notification", () => {
      const bob = connect('bob');
      clearAll();
      const laptop = connect('alice');
      expect(bob.frames()).toEqual([joined('general', 'alice')]);
      expect(laptop.frames()).toEqual([joined('general', 'alice')]);
      clearAll();

      const phone = connect('alice');

      expect(phone.frames()).toEqual([joined('general', 'alice')]);
      expect(bob.frames()).toEqual([]);
      expect(laptop.frames()).toEqual([]);
    });

    it("gives a further connection all of the user's rooms, whatever the store read says", () => {
      connect('alice', ['general', 'eng']);

      const phone = connect('alice', ['never-read'], false);

      expect(sut.welcome(phone.session).rooms).toEqual(['general', 'eng']);
      expect([...sut.roomsOf(phone.session)]).toEqual(['general', 'eng']);
      expect(sut.roomsOfUser('id-alice')).toEqual(['general', 'eng']);
    });

    it("delivers a room's frames to every connection of every member, the sender's own included", () => {
      const laptop = connect('alice');
      const phone = connect('alice');
      const bob = connect('bob');
      clearAll();

      sut.toRoom('general', message(1, 'general'));

      for (const client of [laptop, phone, bob]) expect(client.frames()).toEqual([message(1, 'general')]);
    });

    it('tells the room only when the last connection goes', () => {
      const bob = connect('bob');
      const laptop = connect('alice');
      const phone = connect('alice');
      clearAll();

      sut.close(laptop.session);
      expect(bob.frames()).toEqual([]);
      expect(sut.presence('general').users).toEqual(['bob', 'alice']);

      sut.close(phone.session);
      expect(bob.frames()).toEqual([left('general', 'alice')]);
      expect(sut.onlineUsers().total).toBe(1);
      expect(sut.roomsOfUser('id-alice')).toBeUndefined();
    });

    it('never tells a room of a user whose only connection closed while connecting', () => {
      const bob = connect('bob');
      const alice = connect('alice', ['general'], false);
      clearAll();

      sut.close(alice.session);

      expect(bob.frames()).toEqual([]);
      expect(sut.presence('general').users).toEqual(['bob']);
    });

    it('relays typing to the other users only (none of the typist’s connections), throttled per user', () => {
      jest.useFakeTimers({ now: 1_000_000 });
      const laptop = connect('alice');
      const phone = connect('alice');
      const bob = connect('bob');
      clearAll();

      sut.typing(laptop.session, 'general');
      sut.typing(phone.session, 'general'); // the same user, within the throttle

      expect(bob.frames()).toEqual([{ type: 'typing', room: 'general', nickname: 'alice', userId: 'id-alice' }]);
      expect(laptop.frames()).toEqual([]);
      expect(phone.frames()).toEqual([]);
    });

    it('reaches every connection of the users named by id, each once', () => {
      const laptop = connect('alice');
      const phone = connect('alice');
      const bob = connect('bob');
      const carol = connect('carol');
      clearAll();
      const direct = { type: 'direct', id: 1, from: 'alice', to: 'bob', message: 'hi', sentAt: '2026-11-21T23:44:19.123Z' } as const;

      sut.toUserIds(['id-alice', 'id-bob', 'id-alice', 'id-nobody'], direct);

      for (const client of [laptop, phone, bob]) expect(client.frames()).toEqual([direct]);
      expect(carol.frames()).toEqual([]);
    });

    it('finds an online user by id, else by nickname ignoring case; several with that nickname is VALIDATION', () => {
      connect('alice');
      const other = sut.open(new FakeTransport(), '127.0.0.1', undefined, identity('id-other', 'Alice'));
      sut.loadRooms(other, []);

      expect(sut.findOnline('id-alice')?.userId).toBe('id-alice');
      expect(sut.findOnline('nobody')).toBeUndefined();
      expect(errorOf(() => sut.findOnline('ALICE'), ErrorCode.VALIDATION)).toBe('Several users are named "ALICE"; use the user id');
    });

    it('refuses nick: the nickname comes from the sign-in', () => {
      const alice = connect('alice');

      expect(errorOf(() => sut.rename(alice.session, 'mallory'), ErrorCode.FORBIDDEN)).toBe('Your nickname comes from your sign-in; it cannot be changed here');
    });
  });

  describe('join and leave', () => {
    it('joins every live connection of the user: each gets history and presence, the room hears once', async () => {
      const bob = connect('bob', ['general', 'eng']);
      const laptop = connect('alice');
      const phone = connect('alice');
      clearAll();

      await sut.join(laptop.session, 'eng', () => Promise.resolve(history('eng')));

      const presence = { type: 'presence', room: 'eng', users: ['bob', 'alice'], userIds: ['id-bob', 'id-alice'], usersTotal: 2, offset: 0 };
      for (const device of [laptop, phone]) expect(device.frames()).toEqual([...history('eng').frames, presence, joined('eng', 'alice')]);
      expect(bob.frames()).toEqual([joined('eng', 'alice')]);
      expect(sut.roomsOfUser('id-alice')).toEqual(['general', 'eng']);
    });

    it('holds the room on every connection while the history is read, and drops what the history had', async () => {
      const bob = connect('bob', ['eng']);
      const laptop = connect('alice');
      const phone = connect('alice');
      clearAll();
      let release!: (snapshot: Snapshot) => void;
      const joining = sut.join(phone.session, 'eng', () => new Promise<Snapshot>((resolve) => (release = resolve)));

      sut.toRoom('eng', message(7, 'eng'));
      sut.toRoom('eng', message(8, 'eng'));
      expect(laptop.frames()).toEqual([]);
      release({ frames: [{ type: 'history', room: 'eng', messages: [message(7, 'eng')], hasMore: false }], lastId: 7 });
      await joining;

      for (const device of [laptop, phone]) {
        expect(device.frames().map((f) => f.type)).toEqual(['history', 'presence', 'notification', 'message']);
        expect(device.frames().at(-1)).toEqual(message(8, 'eng'));
      }
      expect(bob.frames()).toEqual([message(7, 'eng'), message(8, 'eng'), joined('eng', 'alice')]);
    });

    it('undoes the join on every connection when the history cannot be read', async () => {
      const laptop = connect('alice');
      const phone = connect('alice');

      await expect(sut.join(laptop.session, 'eng', () => Promise.reject(new Error('disk')))).rejects.toThrow('disk');

      expect(sut.roomsOfUser('id-alice')).toEqual(['general']);
      expect([...sut.roomsOf(phone.session)]).toEqual(['general']);
      expect(sut.roomCounts().has('eng')).toBe(false);
    });

    it('does nothing for a room the user is in already', async () => {
      const alice = connect('alice');
      clearAll();
      const read = jest.fn(() => Promise.resolve(history('general')));

      await sut.join(alice.session, 'general', read);

      expect(read).not.toHaveBeenCalled();
      expect(alice.frames()).toEqual([]);
    });

    it('takes every connection out on a leave: the room hears once, the other devices get the leave, the leaving one nothing', () => {
      const bob = connect('bob');
      const laptop = connect('alice');
      const phone = connect('alice');
      clearAll();

      sut.leave(laptop.session, 'general');
      sut.toRoom('general', message(9, 'general'));

      expect(bob.frames()).toEqual([left('general', 'alice'), message(9, 'general')]);
      expect(phone.frames()).toEqual([left('general', 'alice')]);
      expect(laptop.frames()).toEqual([]);
      expect(sut.roomsOfUser('id-alice')).toEqual([]);
      expect(errorOf(() => sut.assertMember(phone.session, 'general'), ErrorCode.NOT_IN_ROOM)).toBe('You are not in room "general"; join it first');
    });

    it("lists presence_diff changes with the users' ids in a large room", () => {
      jest.useFakeTimers();
      sut.onModuleDestroy();
      sut = new Hub(new LocalBroker(), new ChatMetrics(), { ...JWT, presenceBatchThreshold: 1 });
      const bob = connect('bob');
      connect('alice');
      connect('alice');
      jest.advanceTimersByTime(1000);

      expect(bob.frames().filter((f) => f.type === 'presence_diff')).toEqual([
        { type: 'presence_diff', room: 'general', joins: ['alice'], leaves: [], joinsTotal: 1, leavesTotal: 0, joinIds: ['id-alice'], leaveIds: [], usersTotal: 2 },
      ]);
    });

    it('replays only rooms of the user on resume: NOT_IN_ROOM for another public room', () => {
      const alice = connect('alice', ['general', 'eng']);

      expect(() => sut.assertResumable(alice.session, ['general', 'eng'])).not.toThrow();
      expect(errorOf(() => sut.assertResumable(alice.session, ['general', 'ops']), ErrorCode.NOT_IN_ROOM)).toBe('You are not in room "ops"; join it first');
    });
  });

  describe('private rooms', () => {
    const privateRoom = { name: 'secret', ownerId: 'id-olga', members: [{ userId: 'id-olga', nickname: 'olga' }] };

    beforeEach(() => sut.loadPrivateRooms([privateRoom]));

    it("gives a member the private room with its other rooms, and keeps it from anyone else's, whatever the store read", () => {
      const olga = connect('olga', ['general']);
      const bob = connect('bob', ['general', 'secret']);

      expect([...sut.roomsOf(olga.session)]).toEqual(['general', 'secret']);
      expect([...sut.roomsOf(bob.session)]).toEqual(['general']);
    });

    it('is FORBIDDEN to a non-member for join, message, history, typing, who and resume; NOT_IN_ROOM elsewhere', async () => {
      const bob = connect('bob');
      const forbidden = 'Room "secret" is private: only its members can use it';

      await expect(sut.join(bob.session, 'secret', () => Promise.resolve(history('secret')))).rejects.toThrow(forbidden);
      expect(errorOf(() => sut.assertMember(bob.session, 'secret'), ErrorCode.FORBIDDEN)).toBe(forbidden);
      expect(errorOf(() => sut.typing(bob.session, 'secret'), ErrorCode.FORBIDDEN)).toBe(forbidden);
      expect(errorOf(() => sut.assertMayRead(bob.session.userId, 'secret'), ErrorCode.FORBIDDEN)).toBe(forbidden);
      expect(errorOf(() => sut.assertResumable(bob.session, ['general', 'secret']), ErrorCode.FORBIDDEN)).toBe(forbidden);
      expect(errorOf(() => sut.assertMember(bob.session, 'open'), ErrorCode.NOT_IN_ROOM)).toBe('You are not in room "open"; join it first');
      expect(sut.mayRead('secret', 'id-bob')).toBe(false);
      expect(sut.mayRead('secret', undefined)).toBe(false);
      expect(sut.mayRead('secret', 'id-olga')).toBe(true);
      expect(sut.mayRead('open', undefined)).toBe(true);
    });

    it('lets its owner come back after leaving it', async () => {
      const olga = connect('olga');
      sut.leave(olga.session, 'secret');
      expect(sut.mayRead('secret', 'id-olga')).toBe(false);

      await sut.join(olga.session, 'secret', () => Promise.resolve(history('secret')));

      expect(sut.mayRead('secret', 'id-olga')).toBe(true);
      expect([...sut.roomsOf(olga.session)]).toEqual(['general', 'secret']);
    });

    it('lets only the owner or an admin manage it, with one answer for every other case', () => {
      const olga = connect('olga');
      const bob = connect('bob');
      const admin = connect('root', ['general'], true, ['admin']);
      const refusal = 'Only the owner of a private room "secret" or an admin can invite to it or remove from it';

      expect(sut.assertManages(olga.session, 'secret').userId).toBe('id-olga');
      expect(sut.assertManages(admin.session, 'secret').userId).toBe('id-root');
      expect(errorOf(() => sut.assertManages(bob.session, 'secret'), ErrorCode.FORBIDDEN)).toBe(refusal);
      expect(errorOf(() => sut.assertManages(olga.session, 'general'), ErrorCode.FORBIDDEN)).toBe(
        'Only the owner of a private room "general" or an admin can invite to it or remove from it',
      );
    });

    it('invites: every connection of the invitee gets invited, then joins the room like a join of its own', async () => {
      const olga = connect('olga');
      const laptop = connect('bob');
      const phone = connect('bob');
      clearAll();

      await sut.invite(olga.session, 'secret', { userId: 'id-bob', nickname: 'bob' }, () => Promise.resolve(history('secret')));

      const invited = { type: 'invited', room: 'secret', by: 'olga', byId: 'id-olga' };
      const presence = { type: 'presence', room: 'secret', users: ['olga', 'bob'], userIds: ['id-olga', 'id-bob'], usersTotal: 2, offset: 0 };
      for (const device of [laptop, phone]) expect(device.frames()).toEqual([invited, ...history('secret').frames, presence, joined('secret', 'bob')]);
      expect(olga.frames()).toEqual([joined('secret', 'bob')]);
      expect(sut.isMember('secret', 'id-bob')).toBe(true);
    });

    it('keeps an invitation of an offline user for its next connection', async () => {
      const olga = connect('olga');

      await sut.invite(olga.session, 'secret', { userId: 'id-bob', nickname: 'bob' }, () => Promise.reject(new Error('never read')));
      const bob = connect('bob', ['general']);

      expect([...sut.roomsOf(bob.session)]).toEqual(['general', 'secret']);
    });

    it('removes at once: no frame of the room reaches any connection of the removed user afterwards', async () => {
      const olga = connect('olga');
      const laptop = connect('bob');
      const phone = connect('bob');
      await sut.invite(olga.session, 'secret', { userId: 'id-bob', nickname: 'bob' }, () => Promise.resolve(history('secret')));
      clearAll();

      expect(sut.remove(olga.session, 'secret', { userId: 'id-bob', nickname: 'bob' })).toBe(true);
      sut.toRoom('secret', message(11, 'secret'));

      const removed = { type: 'removed', room: 'secret', by: 'olga', byId: 'id-olga' };
      for (const device of [laptop, phone]) expect(device.frames()).toEqual([removed]);
      expect(olga.frames()).toEqual([left('secret', 'bob'), message(11, 'secret')]);
      expect(errorOf(() => sut.assertMember(laptop.session, 'secret'), ErrorCode.FORBIDDEN)).toContain('private');
      expect(sut.remove(olga.session, 'secret', { userId: 'id-bob', nickname: 'bob' })).toBe(false);
    });

    it('drops what was held for a removed user that was still joining', async () => {
      const olga = connect('olga');
      const bob = connect('bob');
      let release!: (snapshot: Snapshot) => void;
      const inviting = sut.invite(olga.session, 'secret', { userId: 'id-bob', nickname: 'bob' }, () => new Promise((resolve) => (release = resolve)));
      sut.toRoom('secret', message(12, 'secret'));
      bob.transport.clear();

      sut.remove(olga.session, 'secret', { userId: 'id-bob', nickname: 'bob' });
      release(history('secret'));
      await inviting;

      expect(bob.frames()).toEqual([{ type: 'removed', room: 'secret', by: 'olga', byId: 'id-olga' }]);
    });

    it('finds a member by id, else by nickname; two members of one nickname is VALIDATION', () => {
      sut.loadPrivateRooms([
        {
          name: 'secret',
          ownerId: 'id-olga',
          members: [
            { userId: 'id-olga', nickname: 'olga' },
            { userId: 'u1', nickname: 'Sam' },
            { userId: 'u2', nickname: 'sam' },
          ],
        },
      ]);

      expect(sut.findMember('secret', 'u1')).toEqual({ userId: 'u1', nickname: 'Sam' });
      expect(sut.findMember('secret', 'OLGA')).toEqual({ userId: 'id-olga', nickname: 'olga' });
      expect(sut.findMember('secret', 'nobody')).toBeUndefined();
      expect(errorOf(() => sut.findMember('secret', 'sam'), ErrorCode.VALIDATION)).toBe('Several users are named "sam"; use the user id');
    });

    it('claims a new private room for its creator at once, and forgets it when the store refuses it', () => {
      const olga = connect('olga');
      const bob = connect('bob');

      const undo = sut.claimRoom(olga.session, 'plans', 'private');
      expect(sut.mayRead('plans', 'id-olga')).toBe(true);
      expect(errorOf(() => sut.claimRoom(bob.session, 'plans', 'public'), ErrorCode.ROOM_EXISTS)).toBe('Room "plans" exists already');
      undo();

      expect(sut.isPrivate('plans')).toBe(false);
      expect(errorOf(() => sut.claimRoom(bob.session, 'general', 'public'), ErrorCode.ROOM_EXISTS)).toBe('Room "general" exists already');
      expect(errorOf(() => sut.claimRoom(bob.session, 'secret', 'private'), ErrorCode.ROOM_EXISTS)).toBe('Room "secret" exists already');
    });
  });
});

describe(`${Hub.name} private rooms in anonymous mode`, () => {
  let sut: Hub;

  beforeEach(() => {
    sut = new Hub(new LocalBroker(), new ChatMetrics(), { presenceBatchThreshold: 100, presenceBatchMs: 1000, nickHoldMs: 0 });
    sut.loadPrivateRooms([{ name: 'secret', ownerId: 'id-olga', members: [{ userId: 'id-olga', nickname: 'olga' }] }]);
  });

  afterEach(() => sut.onModuleDestroy());

  it('keeps every private room (stored in jwt mode) from anonymous connections, and lets none be created', async () => {
    const session = sut.open(new FakeTransport(), '127.0.0.1');
    sut.enter(session, ['general']);
    sut.goLive(session);

    await expect(sut.join(session, 'secret', () => Promise.resolve(history('secret')))).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    expect(errorOf(() => sut.assertResumable(session, ['secret']), ErrorCode.FORBIDDEN)).toContain('private');
    expect(errorOf(() => sut.assertMayRead(session.userId, 'secret'), ErrorCode.FORBIDDEN)).toContain('private');
    expect(errorOf(() => sut.claimRoom(session, 'mine', 'private'), ErrorCode.FORBIDDEN)).toBe(
      'Private rooms need signed-in users (AUTH_MODE=jwt): this server is anonymous',
    );
    expect(errorOf(() => sut.assertManages(session, 'secret'), ErrorCode.FORBIDDEN)).toBe('Only signed-in users (AUTH_MODE=jwt) have private rooms to invite to');
    expect(() => sut.claimRoom(session, 'mine', 'public')).not.toThrow();
  });

  it('makes no user of an identity: a connection is a user', () => {
    const session = sut.open(new FakeTransport(), '127.0.0.1', undefined, identity('id-alice', 'alice'));

    expect(session.user).toBeNull();
    expect(session.key).toBe(session.id);
  });
});
