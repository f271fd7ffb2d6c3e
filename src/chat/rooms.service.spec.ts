import { Logger } from '@nestjs/common';
import { TYPING_THROTTLE_MS } from '../hub/hub';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import type { MessageFrame, NotificationFrame, PresenceFrame } from '../protocol/frames';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';
import { ChatFixture, type Client } from './chat-fixture';
import { RoomsService } from './rooms.service';

const presence = (room: string, users: string[], usersTotal = users.length, offset = 0): PresenceFrame => ({
  type: 'presence',
  room,
  users,
  usersTotal,
  offset,
});
const joinedNote = (room: string, nickname: string): NotificationFrame => ({
  type: 'notification',
  event: 'join',
  room,
  nickname,
  message: `${nickname} joined`,
});
const leftNote = (room: string, nickname: string): NotificationFrame => ({
  type: 'notification',
  event: 'leave',
  room,
  nickname,
  message: `${nickname} left`,
});

describe(RoomsService.name, () => {
  let metrics: ChatMetrics;
  let fixture: ChatFixture;
  let store: MessageStore;
  let sut: RoomsService;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    fixture = await ChatFixture.open(metrics);
    store = fixture.store;
    sut = fixture.rooms;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  const connect = (nickname: string, rooms?: string[]): Promise<Client> => fixture.connect(nickname, rooms);
  const post = (client: Client, room: string, body: string): Promise<MessageFrame> => fixture.post(client, room, body);
  const roomsOf = (client: Client): string[] => [...fixture.hub.roomsOf(client.session)];
  const nicknames = (room: string): string[] => fixture.hub.presence(room).users;

  /**
   * Makes the next history read slow: it reads the database at once (`read` settles then),
   * but hands the page over only on `release()`, so the test can act while a join waits for it.
   */
  function slowHistory(): { read: Promise<void>; release: () => void } {
    const realPage = store.page.bind(store);
    const gate = deferred();
    const read = deferred();
    jest.spyOn(store, 'page').mockImplementationOnce(async (query) => {
      const page = await realPage(query);
      read.resolve();
      await gate.promise;
      return page;
    });
    return { read: read.promise, release: gate.resolve };
  }

  /** The next append commits at once, but its caller (ChatService, which broadcasts it) resumes only on `release()`. */
  function lateBroadcast(): { committed: Promise<void>; release: () => void } {
    const realAppend = store.append.bind(store);
    const gate = deferred();
    const committed = deferred();
    jest.spyOn(store, 'append').mockImplementationOnce(async (message) => {
      const stored = await realAppend(message);
      committed.resolve();
      await gate.promise;
      return stored;
    });
    return { committed: committed.promise, release: gate.resolve };
  }

  describe('join', () => {
    it('sends the joiner history, then presence, then the join notification; the other members only the notification', async () => {
      const bob = await connect('bob', ['general', 'dev']);
      const carol = await connect('carol', ['general', 'dev']);
      const alice = await connect('alice');
      const hello = await post(bob, 'dev', 'hello dev');
      await post(alice, 'general', 'not for dev');
      fixture.clearAll();

      await sut.join(alice.session, { room: 'dev' });

      expect(alice.frames()).toEqual([
        { type: 'history', room: 'dev', messages: [hello], hasMore: false },
        presence('dev', ['bob', 'carol', 'alice']),
        joinedNote('dev', 'alice'),
      ]);
      expect(bob.frames()).toEqual([joinedNote('dev', 'alice')]);
      expect(carol.frames()).toEqual([joinedNote('dev', 'alice')]);
      expect(roomsOf(alice)).toEqual(['general', 'dev']);
      expect(alice.session.isJoining('dev')).toBe(false);
    });

    it('reaches no one outside the room', async () => {
      const alice = await connect('alice');
      const outsider = await connect('outsider', ['ops']);

      await sut.join(alice.session, { room: 'dev' });

      expect(outsider.frames()).toEqual([]);
    });

    it("sends the room's last 50 messages with hasMore", async () => {
      const alice = await connect('alice');
      const stored = await fixture.storedIn(...Array.from({ length: 51 }, () => 'dev'));

      await sut.join(alice.session, { room: 'dev' });

      expect(alice.frames()[0]).toEqual({ type: 'history', room: 'dev', messages: stored.slice(1), hasMore: true });
    });

    it('creates a room nobody was in, with the joiner as its only member', async () => {
      const alice = await connect('alice');

      await sut.join(alice.session, { room: 'new-room' });

      expect(alice.frames()).toEqual([
        { type: 'history', room: 'new-room', messages: [], hasMore: false },
        presence('new-room', ['alice']),
        joinedNote('new-room', 'alice'),
      ]);
      expect(fixture.hub.roomCounts().get('new-room')).toBe(1);
    });

    it("delivers the room's frames to the joiner afterwards", async () => {
      const alice = await connect('alice');
      const bob = await connect('bob', ['dev']);
      await sut.join(alice.session, { room: 'dev' });
      alice.clear();

      const later = await post(bob, 'dev', 'later');

      expect(alice.frames()).toEqual([later]);
    });

    it('does nothing when joining a room twice', async () => {
      const bob = await connect('bob', ['general', 'dev']);
      const alice = await connect('alice');
      await sut.join(alice.session, { room: 'dev' });
      fixture.clearAll();

      await expect(sut.join(alice.session, { room: 'dev' })).resolves.toBeUndefined();
      await expect(sut.join(alice.session, { room: 'general' })).resolves.toBeUndefined();

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect(roomsOf(alice)).toEqual(['general', 'dev']);
      expect(nicknames('dev')).toEqual(['bob', 'alice']);
    });

    it('holds the room frames that arrive while the history is read and drops those it already had', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob', ['general', 'dev']);
      const late = lateBroadcast();
      const posting = post(bob, 'dev', 'committed before the read');
      await late.committed;
      const history = slowHistory();

      const joining = sut.join(alice.session, { room: 'dev' });
      await history.read;
      late.release(); // its broadcast comes after the read: already in the history
      const inHistory = await posting;
      const after = await post(bob, 'dev', 'committed after the read');
      const elsewhere = await post(bob, 'general', 'meanwhile in general');
      expect(alice.frames()).toEqual([elsewhere]);
      history.release();
      await joining;

      expect(alice.frames()).toEqual([
        elsewhere,
        { type: 'history', room: 'dev', messages: [inHistory], hasMore: false },
        presence('dev', ['bob', 'alice']),
        joinedNote('dev', 'alice'),
        after,
      ]);
    });

    it('announces nothing and discards the held frames when the joiner leaves while the history is read', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob', ['dev']);
      const history = slowHistory();

      const joining = sut.join(alice.session, { room: 'dev' });
      await history.read;
      await post(bob, 'dev', 'held, then discarded');
      bob.clear();
      sut.leave(alice.session, { room: 'dev' });
      history.release();
      await expect(joining).resolves.toBeUndefined();

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect(roomsOf(alice)).toEqual(['general']);
      expect(alice.session.isJoining('dev')).toBe(false);
      expect(nicknames('dev')).toEqual(['bob']);
    });

    it('sends nothing when the joiner disconnects while the history is read', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob', ['dev']);
      const history = slowHistory();

      const joining = sut.join(alice.session, { room: 'dev' });
      await history.read;
      await post(bob, 'dev', 'held');
      bob.clear();
      fixture.disconnect(alice);
      history.release();
      await expect(joining).resolves.toBeUndefined();

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect(nicknames('dev')).toEqual(['bob']);
    });

    it('rejects, leaves the room and announces nothing when the history cannot be read', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob', ['dev']);
      const failure = new StoreUnavailableError(new Error('SQLITE_IOERR'));
      jest.spyOn(store, 'page').mockRejectedValueOnce(failure);

      await expect(sut.join(alice.session, { room: 'dev' })).rejects.toBe(failure);

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect(roomsOf(alice)).toEqual(['general']);
      expect(alice.session.isJoining('dev')).toBe(false);

      await sut.join(alice.session, { room: 'dev' });
      expect(alice.frames()).toEqual([
        { type: 'history', room: 'dev', messages: [], hasMore: false },
        presence('dev', ['bob', 'alice']),
        joinedNote('dev', 'alice'),
      ]);
    });
  });

  describe('leave', () => {
    it('tells the remaining members only, and the leaver stops receiving the room', async () => {
      const alice = await connect('alice', ['general', 'dev']);
      const bob = await connect('bob', ['general', 'dev']);
      const carol = await connect('carol', ['general', 'dev']);
      const outsider = await connect('outsider');

      sut.leave(alice.session, { room: 'dev' });

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([leftNote('dev', 'alice')]);
      expect(carol.frames()).toEqual([leftNote('dev', 'alice')]);
      expect(outsider.frames()).toEqual([]);
      expect(roomsOf(alice)).toEqual(['general']);
      expect(nicknames('dev')).toEqual(['bob', 'carol']);

      const after = await post(bob, 'dev', 'after alice left');
      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([leftNote('dev', 'alice'), after]);
    });

    it('can leave general', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');

      sut.leave(alice.session, { room: 'general' });

      expect(bob.frames()).toEqual([leftNote('general', 'alice')]);
      expect(roomsOf(alice)).toEqual([]);
    });

    it('does nothing for a room the client is not in', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob', ['dev']);

      sut.leave(alice.session, { room: 'dev' });
      sut.leave(alice.session, { room: 'nowhere' });

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect(nicknames('dev')).toEqual(['bob']);
    });

    it('forgets a room its last member left', async () => {
      const alice = await connect('alice');
      await sut.join(alice.session, { room: 'dev' });

      sut.leave(alice.session, { room: 'dev' });

      expect(fixture.hub.roomCounts().has('dev')).toBe(false);
    });

    // The adapter gates frames until the connect sequence ends, so this cannot happen over a socket;
    // the hub still must not leave a ghost member, or announce a join or leave, if it ever does.
    it('announces neither join nor leave for a client that leaves general while it is still connecting', async () => {
      const bob = await connect('bob');
      const history = slowHistory();

      const guest = fixture.open();
      await history.read;
      sut.leave(guest.session, { room: 'general' });
      history.release();
      await guest.session.whenLive();

      expect(nicknames('general')).toEqual(['bob']);
      expect(bob.frames()).toEqual([]);
    });
  });

  describe('typing', () => {
    let alice: Client;
    let bob: Client;
    let carol: Client;
    let now: jest.SpyInstance<number, []>;

    const typing = (room: string, nickname: string) => ({ type: 'typing', room, nickname });

    beforeEach(async () => {
      alice = await connect('alice', ['general', 'dev']);
      bob = await connect('bob', ['general', 'dev']);
      carol = await connect('carol'); // in general only
      now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    });

    it("is relayed to the room's other members only", () => {
      sut.typing(alice.session, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice')]);
      expect(alice.frames()).toEqual([]);
      expect(carol.frames()).toEqual([]);
    });

    it(`is relayed at most once per ${TYPING_THROTTLE_MS} ms per user and room, extras dropped silently`, () => {
      expect(TYPING_THROTTLE_MS).toBe(2000);

      sut.typing(alice.session, { room: 'dev' });
      now.mockReturnValue(1_000_500);
      sut.typing(alice.session, { room: 'dev' });
      now.mockReturnValue(1_001_999);
      sut.typing(alice.session, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice')]);
      expect(alice.frames()).toEqual([]);

      now.mockReturnValue(1_002_000);
      sut.typing(alice.session, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice'), typing('dev', 'alice')]);
    });

    it('throttles each room and each user separately', () => {
      sut.typing(alice.session, { room: 'dev' });
      now.mockReturnValue(1_000_100);
      sut.typing(alice.session, { room: 'general' });
      sut.typing(bob.session, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice'), typing('general', 'alice')]);
      expect(carol.frames()).toEqual([typing('general', 'alice')]);
      expect(alice.frames()).toEqual([typing('dev', 'bob')]);
    });

    it('starts afresh after leaving and joining again', async () => {
      sut.typing(alice.session, { room: 'dev' });
      sut.leave(alice.session, { room: 'dev' });
      await sut.join(alice.session, { room: 'dev' });
      bob.clear();

      sut.typing(alice.session, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice')]);
    });

    it('throws NOT_IN_ROOM for a room the client is not in, relaying nothing', () => {
      let error: unknown;
      try {
        sut.typing(carol.session, { room: 'dev' });
      } catch (e) {
        error = e;
      }

      expect(error).toBeInstanceOf(ChatException);
      expect(error).toMatchObject({ code: ErrorCode.NOT_IN_ROOM, message: 'You are not in room "dev"; join it first' });
      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
    });
  });

  describe('who', () => {
    it("returns the room's presence, in join order, and sends nothing", async () => {
      const alice = await connect('alice');
      const bob = await connect('bob', ['general', 'dev']);
      const carol = await connect('carol');
      await sut.join(alice.session, { room: 'dev' });
      fixture.clearAll();

      expect(sut.who({ room: 'dev' })).toEqual(presence('dev', ['bob', 'alice']));
      expect(sut.who({ room: 'general' })).toEqual(presence('general', ['alice', 'bob', 'carol']));
      expect(sut.who({ room: 'empty' })).toEqual(presence('empty', []));
      for (const c of [alice, bob, carol]) expect(c.frames()).toEqual([]);
    });

    it('pages with offset and limit, counting every member in usersTotal', async () => {
      await connect('alice');
      await connect('bob');
      await connect('carol');

      expect(sut.who({ room: 'general', offset: 1, limit: 1 })).toEqual(presence('general', ['bob'], 3, 1));
      expect(sut.who({ room: 'general', offset: 2 })).toEqual(presence('general', ['carol'], 3, 2));
      expect(sut.who({ room: 'general', limit: 2 })).toEqual(presence('general', ['alice', 'bob'], 3, 0));
      expect(sut.who({ room: 'general', offset: 3 })).toEqual(presence('general', [], 3, 3));
    });

    it('follows leaves and renames', async () => {
      const alice = await connect('alice', ['dev']);
      const bob = await connect('bob', ['dev']);

      sut.leave(alice.session, { room: 'dev' });
      await fixture.chat.rename(bob.session, 'robert');

      expect(sut.who({ room: 'dev' })).toEqual(presence('dev', ['robert']));
    });
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
