import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { WebSocket } from 'ws';
import { FanoutService } from '../fanout/fanout.service';
import { MessageStore, StoreUnavailableError } from '../messages/message-store.service';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { NicknamesService } from '../users/nicknames.service';
import { RoomMembersService } from '../users/room-members.service';
import { ChatException } from './chat.exception';
import { ChatService } from './chat.service';
import { ErrorCode, type MessageFrame } from './protocol';
import { ResumeService } from './resume.service';
import { RoomsService, TYPING_THROTTLE_MS } from './rooms.service';
import { ChatWorld } from '../../test/support/chat-world';
import { fakeSocket, joinedNote, leftNote, recorded, thrownBy, type RecordedClient as Client } from '../../test/support/fakes';

const presence = (room: string, users: string[]) => ({ type: 'presence', room, users });

describe(RoomsService.name, () => {
  let metrics: ChatMetrics;
  let world: ChatWorld;
  let store: MessageStore;
  let members: RoomMembersService;
  let fanout: FanoutService;
  let sut: RoomsService;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    world = await ChatWorld.open(metrics);
    ({ store, members, fanout } = world);
    sut = new RoomsService(members, fanout, store);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await world.close();
  });

  /** A live client in `general`, as ChatService leaves it after connecting. */
  const connect = (nickname: string): Client => world.connect(nickname);
  const post = (room: string, body: string, nickname?: string): Promise<MessageFrame> => world.post(room, body, nickname);

  /**
   * Makes the next history read slow: it reads the database at once (`read` settles then),
   * but hands the page over only on `release()`, so the test can act while a join waits for it.
   */
  function slowHistory(): { read: Promise<void>; release: () => void } {
    const realPage = store.page.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let readDone!: () => void;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    jest.spyOn(store, 'page').mockImplementationOnce(async (query) => {
      const page = await realPage(query);
      readDone();
      await gate;
      return page;
    });
    return { read, release };
  }

  describe('join', () => {
    it('sends the joiner history, then presence, then the join notification; the other members only the notification', async () => {
      const bob = connect('bob');
      const carol = connect('carol');
      const alice = connect('alice');
      members.join(bob.session, 'dev');
      members.join(carol.session, 'dev');
      const hello = await post('dev', 'hello dev');
      await post('general', 'not for dev');
      for (const c of [alice, bob, carol]) c.clear();

      await sut.join(alice.socket, { room: 'dev' });

      expect(alice.frames()).toEqual([
        { type: 'history', room: 'dev', messages: [hello], hasMore: false },
        presence('dev', ['bob', 'carol', 'alice']),
        joinedNote('dev', 'alice'),
      ]);
      expect(bob.frames()).toEqual([joinedNote('dev', 'alice')]);
      expect(carol.frames()).toEqual([joinedNote('dev', 'alice')]);
      expect([...alice.session.rooms]).toEqual(['general', 'dev']);
      expect(alice.session.isJoining('dev')).toBe(false);
    });

    it('reaches no one outside the room', async () => {
      const alice = connect('alice');
      const outsider = connect('outsider');
      outsider.clear();

      await sut.join(alice.socket, { room: 'dev' });

      expect(outsider.frames()).toEqual([]);
    });

    it("sends the room's last 50 messages with hasMore", async () => {
      const alice = connect('alice');
      const stored = await Promise.all(
        Array.from({ length: 51 }, async (_, i) => (await store.append({ room: 'dev', nickname: 'bob', body: `m${i}` })).frame),
      );
      alice.clear();

      await sut.join(alice.socket, { room: 'dev' });

      expect(alice.frames()[0]).toEqual({ type: 'history', room: 'dev', messages: stored.slice(1), hasMore: true });
    });

    it('creates a room nobody was in, with the joiner as its only member', async () => {
      const alice = connect('alice');
      alice.clear();

      await sut.join(alice.socket, { room: 'new-room' });

      expect(alice.frames()).toEqual([
        { type: 'history', room: 'new-room', messages: [], hasMore: false },
        presence('new-room', ['alice']),
        joinedNote('new-room', 'alice'),
      ]);
      expect(members.counts().get('new-room')).toBe(1);
    });

    it("delivers the room's frames to the joiner afterwards", async () => {
      const alice = connect('alice');
      await sut.join(alice.socket, { room: 'dev' });
      alice.clear();

      const later = await post('dev', 'later');

      expect(alice.frames()).toEqual([later]);
    });

    it('does nothing when joining a room twice', async () => {
      const alice = connect('alice');
      const bob = connect('bob');
      members.join(bob.session, 'dev');
      await sut.join(alice.socket, { room: 'dev' });
      alice.clear();
      bob.clear();

      await expect(sut.join(alice.socket, { room: 'dev' })).resolves.toBeUndefined();
      await expect(sut.join(alice.socket, { room: 'general' })).resolves.toBeUndefined();

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect([...alice.session.rooms]).toEqual(['general', 'dev']);
      expect(members.nicknames('dev')).toEqual(['bob', 'alice']);
    });

    it('holds the room frames that arrive while the history is read and drops those it already had', async () => {
      const alice = connect('alice');
      const bob = connect('bob');
      members.join(bob.session, 'dev');
      const { frame: inHistory } = await store.append({ room: 'dev', nickname: 'bob', body: 'committed before the read' });
      alice.clear();
      const history = slowHistory();

      const joining = sut.join(alice.socket, { room: 'dev' });
      await history.read;
      fanout.toRoom('dev', inHistory); // its broadcast comes after the read: already in the history
      const after = await post('dev', 'committed after the read');
      const elsewhere = await post('general', 'meanwhile in general');
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
      const alice = connect('alice');
      const bob = connect('bob');
      members.join(bob.session, 'dev');
      alice.clear();
      const history = slowHistory();

      const joining = sut.join(alice.socket, { room: 'dev' });
      await history.read;
      await post('dev', 'held, then discarded');
      bob.clear();
      sut.leave(alice.socket, { room: 'dev' });
      history.release();
      await expect(joining).resolves.toBeUndefined();

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect([...alice.session.rooms]).toEqual(['general']);
      expect(alice.session.isJoining('dev')).toBe(false);
      expect(members.nicknames('dev')).toEqual(['bob']);
    });

    it('sends nothing when the joiner disconnects while the history is read', async () => {
      const alice = connect('alice');
      const bob = connect('bob');
      members.join(bob.session, 'dev');
      alice.clear();
      const history = slowHistory();

      const joining = sut.join(alice.socket, { room: 'dev' });
      await history.read;
      await post('dev', 'held');
      bob.clear();
      // what ChatService.disconnect does
      alice.session.markClosed();
      fanout.remove(alice.session);
      members.leaveAll(alice.session);
      history.release();
      await expect(joining).resolves.toBeUndefined();

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
    });

    it('rejects, leaves the room and announces nothing when the history cannot be read', async () => {
      const alice = connect('alice');
      const bob = connect('bob');
      members.join(bob.session, 'dev');
      alice.clear();
      bob.clear();
      const failure = new StoreUnavailableError(new Error('SQLITE_IOERR'));
      jest.spyOn(store, 'page').mockRejectedValueOnce(failure);

      await expect(sut.join(alice.socket, { room: 'dev' })).rejects.toBe(failure);

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect([...alice.session.rooms]).toEqual(['general']);
      expect(alice.session.isJoining('dev')).toBe(false);

      await sut.join(alice.socket, { room: 'dev' });
      expect(alice.frames()).toEqual([
        { type: 'history', room: 'dev', messages: [], hasMore: false },
        presence('dev', ['bob', 'alice']),
        joinedNote('dev', 'alice'),
      ]);
    });

    it('rejects for a socket with no session', async () => {
      const stranger = fakeSocket() as unknown as WebSocket;
      await expect(sut.join(stranger, { room: 'dev' })).rejects.toThrow('frame from a socket with no session');
    });
  });

  describe('leave', () => {
    it('tells the remaining members only, and the leaver stops receiving the room', async () => {
      const alice = connect('alice');
      const bob = connect('bob');
      const carol = connect('carol');
      const outsider = connect('outsider');
      for (const c of [alice, bob, carol]) await sut.join(c.socket, { room: 'dev' });
      for (const c of [alice, bob, carol, outsider]) c.clear();

      sut.leave(alice.socket, { room: 'dev' });

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([leftNote('dev', 'alice')]);
      expect(carol.frames()).toEqual([leftNote('dev', 'alice')]);
      expect(outsider.frames()).toEqual([]);
      expect([...alice.session.rooms]).toEqual(['general']);
      expect(members.nicknames('dev')).toEqual(['bob', 'carol']);

      const after = await post('dev', 'after alice left');
      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([leftNote('dev', 'alice'), after]);
    });

    it('can leave general', () => {
      const alice = connect('alice');
      const bob = connect('bob');
      bob.clear();

      sut.leave(alice.socket, { room: 'general' });

      expect(bob.frames()).toEqual([leftNote('general', 'alice')]);
      expect([...alice.session.rooms]).toEqual([]);
    });

    it('does nothing for a room the client is not in', () => {
      const alice = connect('alice');
      const bob = connect('bob');
      members.join(bob.session, 'dev');
      alice.clear();
      bob.clear();

      sut.leave(alice.socket, { room: 'dev' });
      sut.leave(alice.socket, { room: 'nowhere' });

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
      expect(members.nicknames('dev')).toEqual(['bob']);
    });

    it('forgets a room its last member left', async () => {
      const alice = connect('alice');
      await sut.join(alice.socket, { room: 'dev' });

      sut.leave(alice.socket, { room: 'dev' });

      expect(members.counts().has('dev')).toBe(false);
    });

    // The adapter gates frames until the connect sequence ends, so this cannot happen over a socket;
    // RoomsService and ChatService still must not leave a ghost member if it ever does.
    it('announces neither join nor leave for a client that leaves general while it is still connecting', async () => {
      jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
      const resume = new ResumeService(members, fanout, store, new ConfigService({ RESUME_MAX: 1000 }));
      const chat = new ChatService(new NicknamesService(), members, fanout, store, metrics, resume);
      const bobSocket = fakeSocket();
      await chat.connect(bobSocket as unknown as WebSocket, '10.0.0.1');
      const bob = recorded(bobSocket, fanout.sessionOf(bobSocket as unknown as WebSocket));
      const guestSocket = fakeSocket();
      bob.clear();
      const history = slowHistory();

      const connecting = chat.connect(guestSocket as unknown as WebSocket, '10.0.0.2');
      await history.read;
      sut.leave(guestSocket as unknown as WebSocket, { room: 'general' });
      history.release();
      await connecting;

      expect(members.nicknames('general')).toEqual([bob.session.nickname]);
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
      alice = connect('alice');
      bob = connect('bob');
      carol = connect('carol'); // in general only
      await sut.join(alice.socket, { room: 'dev' });
      await sut.join(bob.session.socket, { room: 'dev' });
      for (const c of [alice, bob, carol]) c.clear();
      now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    });

    it("is relayed to the room's other members only", () => {
      sut.typing(alice.socket, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice')]);
      expect(alice.frames()).toEqual([]);
      expect(carol.frames()).toEqual([]);
    });

    it(`is relayed at most once per ${TYPING_THROTTLE_MS} ms per user and room, extras dropped silently`, () => {
      expect(TYPING_THROTTLE_MS).toBe(2000);

      sut.typing(alice.socket, { room: 'dev' });
      now.mockReturnValue(1_000_500);
      sut.typing(alice.socket, { room: 'dev' });
      now.mockReturnValue(1_001_999);
      sut.typing(alice.socket, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice')]);
      expect(alice.frames()).toEqual([]);

      now.mockReturnValue(1_002_000);
      sut.typing(alice.socket, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice'), typing('dev', 'alice')]);
    });

    it('throttles each room and each user separately', () => {
      sut.typing(alice.socket, { room: 'dev' });
      now.mockReturnValue(1_000_100);
      sut.typing(alice.socket, { room: 'general' });
      sut.typing(bob.socket, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice'), typing('general', 'alice')]);
      expect(carol.frames()).toEqual([typing('general', 'alice')]);
      expect(alice.frames()).toEqual([typing('dev', 'bob')]);
    });

    it('starts afresh after leaving and joining again', async () => {
      sut.typing(alice.socket, { room: 'dev' });
      sut.leave(alice.socket, { room: 'dev' });
      await sut.join(alice.socket, { room: 'dev' });
      bob.clear();

      sut.typing(alice.socket, { room: 'dev' });

      expect(bob.frames()).toEqual([typing('dev', 'alice')]);
    });

    it('throws NOT_IN_ROOM for a room the client is not in, relaying nothing', () => {
      const error = thrownBy(() => sut.typing(carol.socket, { room: 'dev' }));

      expect(error).toBeInstanceOf(ChatException);
      expect((error as ChatException).code).toBe(ErrorCode.NOT_IN_ROOM);
      expect((error as ChatException).message).toBe('You are not in room "dev"; join it first');
      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
    });
  });

  describe('who', () => {
    it("returns the room's presence, in join order, and sends nothing", async () => {
      const alice = connect('alice');
      const bob = connect('bob');
      const carol = connect('carol');
      await sut.join(bob.socket, { room: 'dev' });
      await sut.join(alice.socket, { room: 'dev' });
      for (const c of [alice, bob, carol]) c.clear();

      expect(sut.who(carol.socket, { room: 'dev' })).toEqual(presence('dev', ['bob', 'alice']));
      expect(sut.who(carol.socket, { room: 'general' })).toEqual(presence('general', ['alice', 'bob', 'carol']));
      expect(sut.who(carol.socket, { room: 'empty' })).toEqual(presence('empty', []));
      for (const c of [alice, bob, carol]) expect(c.frames()).toEqual([]);
    });

    it('follows leaves and renames', async () => {
      const alice = connect('alice');
      const bob = connect('bob');
      await sut.join(alice.socket, { room: 'dev' });
      await sut.join(bob.socket, { room: 'dev' });

      sut.leave(alice.socket, { room: 'dev' });
      bob.session.nickname = 'robert';

      expect(sut.who(alice.socket, { room: 'dev' })).toEqual(presence('dev', ['robert']));
    });
  });
});
