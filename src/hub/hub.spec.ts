import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import {
  notification,
  type DirectFrame,
  type MessageFrame,
  type NickUpdateFrame,
  type ServerFrame,
  type TypingFrame,
} from '../protocol/frames';
import type { Broker, Delivery } from './broker';
import { FakeTransport } from './fake-transport';
import { Hub, type HubSettings } from './hub';
import { LocalBroker } from './local-broker';
import type { Session } from './session';
import { SLOW_CONSUMER_HARD_BYTES } from './session';

/** A LocalBroker that also records what was published. */
class RecordingBroker implements Broker {
  readonly published: Delivery[] = [];
  private readonly local = new LocalBroker();
  receive!: (delivery: Delivery) => void;

  publish(delivery: Delivery): void {
    this.published.push(delivery);
    this.local.publish(delivery);
  }

  subscribe(receive: (delivery: Delivery) => void): void {
    this.receive = receive;
    this.local.subscribe(receive);
  }
}

interface Client {
  session: Session;
  transport: FakeTransport;
}

const SMALL_ROOMS: HubSettings = { presenceBatchThreshold: 100, presenceBatchMs: 1000, nickHoldMs: 30_000 };

const message = (id: number, room = 'general'): MessageFrame => ({
  type: 'message',
  id,
  room,
  nickname: 'alice',
  message: `m${id}`,
  sentAt: '2026-11-21T23:44:19.123Z',
  clientMsgId: `c${id}`,
});

const direct: DirectFrame = { type: 'direct', id: 1, from: 'alice', to: 'bob', message: 'psst', sentAt: '2026-11-21T23:44:19.123Z' };
const typing = (room: string, nickname: string): TypingFrame => ({ type: 'typing', room, nickname });
const joined = (room: string, nickname: string) => notification('join', room, nickname);
const left = (room: string, nickname: string) => notification('leave', room, nickname);
const nickUpdate = (previous: string, nickname: string): NickUpdateFrame => ({
  type: 'nick_update',
  nickname,
  previous,
  message: `${previous} is now known as ${nickname}`,
});

describe(Hub.name, () => {
  let metrics: ChatMetrics;
  let broker: RecordingBroker;
  let sut: Hub;
  let clients: Client[];

  beforeEach(() => {
    metrics = new ChatMetrics();
    broker = new RecordingBroker();
    sut = new Hub(broker, metrics, SMALL_ROOMS);
    clients = [];
  });

  afterEach(() => {
    sut.onModuleDestroy();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** Opens a connection; it stays in its connect sequence (everything held) unless `live`. */
  function open(nickname?: string, rooms: string[] = ['general'], live = true, reconnectToken?: string): Client {
    const transport = new FakeTransport();
    const session = sut.open(transport, '127.0.0.1', reconnectToken);
    if (nickname) sut.rename(session, nickname);
    sut.enter(session, rooms);
    if (live) sut.goLive(session);
    const client = { session, transport };
    clients.push(client);
    return client;
  }

  const clearAll = (): void => clients.forEach((c) => c.transport.clear());
  const connectedGauge = async (): Promise<number> => (await metrics.connectedClients.get()).values[0].value;
  const framesCounter = async (): Promise<number> => (await metrics.framesDeliveredCounter.get()).values[0].value;

  describe('connections', () => {
    it('opens sessions under fresh guest names, in connection order, counted in the gauge', async () => {
      const a = open();
      const b = open();

      expect([a.session.nickname, b.session.nickname]).toEqual(['Guest1', 'Guest2']);
      expect(a.session.id).not.toBe(b.session.id);
      expect(sut.size).toBe(2);
      expect([...sut.sessions()]).toEqual([a.session, b.session]);
      await expect(connectedGauge()).resolves.toBe(2);
    });

    it('holds every broadcast to a connecting session until goLive, then drops what its history had', () => {
      const bob = open('bob');
      const guest = open(undefined, ['general', 'dev'], false);
      clearAll();

      sut.toRoom('general', message(3));
      sut.toAll(nickUpdate('bob', 'robert'));
      sut.toRoom('dev', message(4, 'dev'));
      sut.toRoom('general', message(5));
      expect(guest.transport.written).toEqual([]);

      sut.goLive(
        guest.session,
        new Map([
          ['general', 3],
          ['dev', 4],
        ]),
      );

      expect(guest.transport.frames()).toEqual([joined('general', 'Guest2'), joined('dev', 'Guest2'), nickUpdate('bob', 'robert'), message(5)]);
      expect(bob.transport.frames()).toEqual([message(3), nickUpdate('bob', 'robert'), message(5), joined('general', 'Guest2')]);
    });

    it('welcomes with the nickname, the users online in connection order, their total and the rooms', () => {
      open('alice');
      const guest = open(undefined, ['dev', 'general'], false);

      expect(sut.welcome(guest.session)).toEqual({
        type: 'welcome',
        nickname: 'Guest2',
        message: 'Welcome, Guest2',
        users: ['alice', 'Guest2'],
        usersTotal: 2,
        room: 'general',
        rooms: ['dev', 'general'],
        reconnectToken: guest.session.reconnectToken,
      });
      expect(guest.session.reconnectToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('does nothing on goLive for a session that closed while connecting', () => {
      const bob = open('bob');
      const guest = open(undefined, ['general'], false);
      clearAll();
      sut.close(guest.session);

      sut.goLive(guest.session);

      expect(bob.transport.written).toEqual([]);
      expect(guest.transport.written).toEqual([]);
    });

    it('on close, leaves every room (one leave notification each), takes the nickname offline and counts down', async () => {
      const alice = open('alice', ['general', 'dev']);
      const bob = open('bob', ['general', 'dev']);
      const carol = open('carol', ['ops']);
      clearAll();

      sut.close(alice.session);

      expect(alice.session.isClosed).toBe(true);
      expect(bob.transport.frames()).toEqual([left('general', 'alice'), left('dev', 'alice')]);
      expect(carol.transport.written).toEqual([]);
      expect(sut.findUser('alice')).toBeUndefined();
      expect(sut.roomCounts()).toEqual(
        new Map([
          ['general', 1],
          ['dev', 1],
          ['ops', 1],
        ]),
      );
      expect([...sut.sessions()]).toEqual([bob.session, carol.session]);
      await expect(connectedGauge()).resolves.toBe(2);
    });

    it('is harmless when closing twice', async () => {
      const alice = open('alice');
      const bob = open('bob');
      clearAll();

      sut.close(alice.session);
      sut.close(alice.session);

      expect(bob.transport.frames()).toEqual([left('general', 'alice')]);
      await expect(connectedGauge()).resolves.toBe(1);
    });

    it('announces no leave for a session that closes before it went live, or while joining a room', async () => {
      const bob = open('bob', ['general', 'dev']);
      const connecting = open(undefined, ['general'], false);
      const joining = open('joining');
      const read = deferred<{ frames: ServerFrame[]; lastId: number }>();
      const join = sut.join(joining.session, 'dev', () => read.promise);
      clearAll();

      sut.close(connecting.session);
      sut.close(joining.session);
      read.resolve({ frames: [], lastId: 0 });
      await join;

      expect(bob.transport.frames()).toEqual([left('general', 'joining')]);
    });

    it('holds the nickname of a closed session for NICK_HOLD_MS, then frees it', () => {
      jest.useFakeTimers();
      const alice = open('alice');
      const bob = open('bob');
      sut.close(alice.session);

      expect(() => sut.rename(bob.session, 'Alice')).toThrow(new ChatException(ErrorCode.NICK_TAKEN, 'Nickname "Alice" is held for a reconnecting user'));
      expect(sut.heldNicknames).toBe(1);
      jest.advanceTimersByTime(SMALL_ROOMS.nickHoldMs);
      sut.rename(bob.session, 'Alice');
      expect(sut.findUser('alice')).toBe(bob.session);
    });

    it('frees the nickname at once with NICK_HOLD_MS=0', () => {
      sut.onModuleDestroy();
      sut = new Hub(broker, metrics, { ...SMALL_ROOMS, nickHoldMs: 0 });
      const alice = open('alice');
      const bob = open('bob');
      sut.close(alice.session);

      sut.rename(bob.session, 'alice');

      expect(sut.findUser('alice')).toBe(bob.session);
      expect(sut.heldNicknames).toBe(0);
    });

    it('announces no departures and holds no nicknames once quietened (shutdown)', () => {
      const alice = open('alice');
      const bob = open('bob');
      clearAll();

      sut.quieten();
      sut.close(alice.session);

      expect(bob.transport.written).toEqual([]);
      expect(sut.size).toBe(1);
      expect(sut.heldNicknames).toBe(0);
    });
  });

  describe('reconnect tokens', () => {
    it('give a new connection the nickname held for the token, with no nick_update, and a fresh token', () => {
      const alice = open('alice');
      const bob = open('bob');
      const token = alice.session.reconnectToken;
      sut.close(alice.session);
      clearAll();

      const back = open(undefined, ['general'], false, token);

      expect(back.session.nickname).toBe('alice');
      const welcome = sut.welcome(back.session);
      expect(welcome).toMatchObject({ nickname: 'alice', message: 'Welcome, alice', users: ['bob', 'alice'] });
      expect(welcome.reconnectToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(welcome.reconnectToken).not.toBe(token);
      sut.goLive(back.session);
      expect(bob.transport.frames()).toEqual([joined('general', 'alice')]);
      expect(sut.findUser('alice')).toBe(back.session);
      expect(sut.heldNicknames).toBe(0);
    });

    it('work once: the same token again gets a guest name', () => {
      const alice = open('alice');
      const token = alice.session.reconnectToken;
      sut.close(alice.session);
      const back = open(undefined, ['general'], true, token);
      sut.close(back.session);

      const again = open(undefined, ['general'], true, token);

      expect(again.session.nickname).toBe('Guest2');
      expect(() => sut.rename(again.session, 'alice')).toThrow('Nickname "alice" is held for a reconnecting user');
      expect(open(undefined, ['general'], true, back.session.reconnectToken).session.nickname).toBe('alice');
    });

    it('are ignored when unknown or expired: a guest name, and the held name stays held until it ends', () => {
      jest.useFakeTimers();
      const alice = open('alice');
      const token = alice.session.reconnectToken;
      sut.close(alice.session);

      const stranger = open(undefined, ['general'], true, 'B'.repeat(43));
      expect(stranger.session.nickname).toBe('Guest2');
      expect(() => sut.rename(stranger.session, 'alice')).toThrow('Nickname "alice" is held for a reconnecting user');

      jest.advanceTimersByTime(SMALL_ROOMS.nickHoldMs);
      expect(open(undefined, ['general'], true, token).session.nickname).toBe('Guest3');
    });

    it('take the nickname over from a session still online: it leaves its rooms, is closed with 4002, then the new one joins', async () => {
      const old = open('alice', ['general', 'dev']);
      const bob = open('bob', ['general', 'dev']);
      clearAll();

      const back = open(undefined, ['general', 'dev'], false, old.session.reconnectToken);

      expect(old.session.isClosed).toBe(true);
      expect(old.transport.closes).toEqual([{ code: 4002, reason: 'Replaced by a new connection', graceMs: 3000 }]);
      expect(old.transport.written).toEqual([]);
      expect(back.session.nickname).toBe('alice');
      expect(sut.findUser('ALICE')).toBe(back.session);
      expect([...sut.sessions()]).toEqual([bob.session, back.session]);
      await expect(connectedGauge()).resolves.toBe(2);
      sut.goLive(back.session);
      expect(bob.transport.frames()).toEqual([left('general', 'alice'), left('dev', 'alice'), joined('general', 'alice'), joined('dev', 'alice')]);

      // The old socket's close event comes later: nothing more happens, and the name is not held.
      sut.close(old.session);
      expect(bob.transport.frames()).toHaveLength(4);
      await expect(connectedGauge()).resolves.toBe(2);
      expect(sut.heldNicknames).toBe(0);
      expect(sut.findUser('alice')).toBe(back.session);
    });

    it('leave a replaced session inert: its late frames change no name and join no room', async () => {
      const old = open('alice');
      const bob = open('bob');
      open(undefined, ['general'], true, old.session.reconnectToken);
      clearAll();

      sut.rename(old.session, 'mallory');
      await sut.join(old.session, 'dev', () => Promise.resolve({ frames: [], lastId: 0 }));
      await sut.resume(old.session, ['ops'], () => Promise.resolve(new Map()), 0);

      expect(sut.findUser('mallory')).toBeUndefined();
      sut.rename(bob.session, 'mallory');
      expect(sut.roomCounts()).toEqual(new Map([['general', 2]]));
      expect(bob.transport.frames()).toEqual([nickUpdate('bob', 'mallory')]);
    });

    it('of a session still connecting take it over too, announcing no leave for it', () => {
      const bob = open('bob');
      const connecting = open(undefined, ['general'], false);
      clearAll();

      const back = open(undefined, ['general'], true, connecting.session.reconnectToken);

      expect(back.session.nickname).toBe('Guest2');
      expect(connecting.transport.closes).toHaveLength(1);
      expect(bob.transport.frames()).toEqual([joined('general', 'Guest2')]);
    });
  });

  describe('nicknames', () => {
    it('tells everyone of a rename, connecting sessions once they are live', () => {
      const alice = open('alice', ['general']);
      const bob = open('bob', ['dev']);
      const guest = open(undefined, ['general'], false);
      clearAll();

      sut.rename(alice.session, 'alicia');

      expect(alice.transport.frames()).toEqual([nickUpdate('alice', 'alicia')]);
      expect(bob.transport.frames()).toEqual([nickUpdate('alice', 'alicia')]);
      expect(guest.transport.written).toEqual([]);
      sut.goLive(guest.session);
      expect(guest.transport.frames()).toEqual([joined('general', 'Guest3'), nickUpdate('alice', 'alicia')]);
      expect(sut.findUser('alicia')).toBe(alice.session);
      expect(sut.findUser('alice')).toBeUndefined();
    });

    it('confirms a rename to the same nickname to the sender only', () => {
      const alice = open('alice');
      const bob = open('bob');
      clearAll();

      sut.rename(alice.session, 'alice');

      expect(alice.transport.frames()).toEqual([nickUpdate('alice', 'alice')]);
      expect(bob.transport.written).toEqual([]);
    });

    it('throws NICK_TAKEN for a name someone else holds, telling no one', () => {
      const alice = open('alice');
      const bob = open('bob');
      clearAll();

      expect(() => sut.rename(bob.session, 'ALICE')).toThrow(new ChatException(ErrorCode.NICK_TAKEN, 'Nickname "ALICE" is already taken'));

      expect(bob.session.nickname).toBe('bob');
      expect(alice.transport.written).toEqual([]);
      expect(bob.transport.written).toEqual([]);
    });

    it('lists online users with ISO connectedAt in connection order, a page at a time, with the total', () => {
      jest.useFakeTimers({ now: new Date('2026-11-21T23:44:19.123Z') });
      const first = open();
      jest.setSystemTime(new Date('2026-11-21T23:45:00.000Z'));
      open();
      open('carol');
      sut.rename(first.session, 'alice');

      expect(sut.onlineUsers()).toEqual({
        users: [
          { nickname: 'alice', connectedAt: '2026-11-21T23:44:19.123Z' },
          { nickname: 'Guest2', connectedAt: '2026-11-21T23:45:00.000Z' },
          { nickname: 'carol', connectedAt: '2026-11-21T23:45:00.000Z' },
        ],
        total: 3,
      });
      expect(sut.onlineUsers(1, 1)).toEqual({ users: [{ nickname: 'Guest2', connectedAt: '2026-11-21T23:45:00.000Z' }], total: 3 });
      expect(sut.onlineUsers(3, 10)).toEqual({ users: [], total: 3 });
    });
  });

  describe('rooms', () => {
    it('knows the rooms of a session and the member counts of every room with members', () => {
      const alice = open('alice', ['general', 'dev']);
      open('bob', ['dev']);

      expect([...sut.roomsOf(alice.session)]).toEqual(['general', 'dev']);
      expect(sut.roomCounts()).toEqual(
        new Map([
          ['general', 1],
          ['dev', 2],
        ]),
      );
    });

    it('assertMember throws NOT_IN_ROOM for a room the session is not in', () => {
      const alice = open('alice', ['general']);

      expect(() => sut.assertMember(alice.session, 'general')).not.toThrow();
      expect(() => sut.assertMember(alice.session, 'dev')).toThrow(
        new ChatException(ErrorCode.NOT_IN_ROOM, 'You are not in room "dev"; join it first'),
      );
    });

    it("pages a room's members in join order, with current nicknames and the total", () => {
      jest.useFakeTimers({ now: new Date('2026-11-21T23:44:19.123Z') });
      const bob = open('bob', ['dev']);
      open('carol', ['dev']);
      open('alice', ['dev', 'general']);
      sut.rename(bob.session, 'robert');

      expect(sut.presence('dev')).toEqual({ type: 'presence', room: 'dev', users: ['robert', 'carol', 'alice'], usersTotal: 3, offset: 0 });
      expect(sut.presence('dev', 1, 1)).toEqual({ type: 'presence', room: 'dev', users: ['carol'], usersTotal: 3, offset: 1 });
      expect(sut.presence('dev', 5, 10)).toEqual({ type: 'presence', room: 'dev', users: [], usersTotal: 3, offset: 5 });
      expect(sut.presence('empty')).toEqual({ type: 'presence', room: 'empty', users: [], usersTotal: 0, offset: 0 });
      const at = '2026-11-21T23:44:19.123Z';
      expect(sut.roomUsers('dev', 1, 5)).toEqual({
        users: [
          { nickname: 'carol', connectedAt: at },
          { nickname: 'alice', connectedAt: at },
        ],
        total: 3,
      });
      expect(sut.roomUsers('empty')).toEqual({ users: [], total: 0 });
    });

    it('lists at most 1000 members in a presence frame by default', () => {
      for (let i = 0; i < 1001; i++) open(undefined, ['big']);

      const presence = sut.presence('big');

      expect(presence.users).toHaveLength(1000);
      expect(presence.users[0]).toBe('Guest1');
      expect(presence.usersTotal).toBe(1001);
    });
  });

  describe('join', () => {
    it('sends the snapshot, then presence, then the join notification to all members; others get only the notification', async () => {
      const bob = open('bob', ['general', 'dev']);
      const alice = open('alice', ['general']);
      const outsider = open('outsider', ['general']);
      clearAll();
      const history: ServerFrame = { type: 'history', room: 'dev', messages: [], hasMore: false };

      await sut.join(alice.session, 'dev', () => Promise.resolve({ frames: [history], lastId: 0 }));

      expect(alice.transport.frames()).toEqual([
        history,
        { type: 'presence', room: 'dev', users: ['bob', 'alice'], usersTotal: 2, offset: 0 },
        joined('dev', 'alice'),
      ]);
      expect(bob.transport.frames()).toEqual([joined('dev', 'alice')]);
      expect(outsider.transport.written).toEqual([]);
      expect(alice.session.isJoining('dev')).toBe(false);
    });

    it('holds the room while the snapshot is read and releases what is newer than it', async () => {
      const alice = open('alice', ['general']);
      clearAll();
      const read = deferred<{ frames: ServerFrame[]; lastId: number }>();

      const joining = sut.join(alice.session, 'dev', () => read.promise);
      sut.toRoom('dev', message(3, 'dev'));
      sut.toRoom('general', message(4));
      sut.toRoom('dev', message(5, 'dev'));
      expect(alice.transport.frames()).toEqual([message(4)]);
      read.resolve({ frames: [], lastId: 3 });
      await joining;

      expect(alice.transport.frames().slice(-2)).toEqual([joined('dev', 'alice'), message(5, 'dev')]);
    });

    it('does not read or send anything when the session is in the room already', async () => {
      const alice = open('alice', ['general']);
      clearAll();
      const read = jest.fn();

      await expect(sut.join(alice.session, 'general', read)).resolves.toBeUndefined();

      expect(read).not.toHaveBeenCalled();
      expect(alice.transport.written).toEqual([]);
    });

    it('rejects with the read failure, leaving the room and announcing nothing', async () => {
      const alice = open('alice', ['general']);
      const bob = open('bob', ['dev']);
      clearAll();
      const failure = new Error('read failed');

      await expect(sut.join(alice.session, 'dev', () => Promise.reject(failure))).rejects.toBe(failure);

      expect([...sut.roomsOf(alice.session)]).toEqual(['general']);
      expect(alice.session.isHeld('dev')).toBe(false);
      expect(bob.transport.written).toEqual([]);
    });
  });

  describe('resume', () => {
    it('holds the rooms while replaying, joins the new ones, announces them after, and releases without duplicates', async () => {
      const alice = open('alice', ['general']);
      const bob = open('bob', ['general', 'dev']);
      clearAll();
      const replay = deferred<ReadonlyMap<string, number>>();
      const asked: string[][] = [];

      const resuming = sut.resume(
        alice.session,
        ['general', 'dev', 'dev'],
        (rooms) => {
          asked.push(rooms);
          return replay.promise;
        },
        0,
      );
      sut.toRoom('general', message(1));
      sut.toRoom('dev', message(2, 'dev'));
      sut.toRoom('dev', message(3, 'dev'));
      expect(alice.transport.written).toEqual([]);
      replay.resolve(new Map([['general', 1]])); // dev: nothing replayed, `since` (0) counts
      await resuming;

      expect(asked).toEqual([['general', 'dev']]);
      expect(alice.transport.frames()).toEqual([joined('dev', 'alice'), message(2, 'dev'), message(3, 'dev')]);
      expect(bob.transport.frames()).toEqual([message(1), message(2, 'dev'), message(3, 'dev'), joined('dev', 'alice')]);
    });

    it('leaves a room being joined to that join', async () => {
      const alice = open('alice', ['general']);
      clearAll();
      const read = deferred<{ frames: ServerFrame[]; lastId: number }>();
      const joining = sut.join(alice.session, 'dev', () => read.promise);

      await sut.resume(alice.session, ['dev', 'general'], () => Promise.resolve(new Map()), 0);

      expect(alice.session.isJoining('dev')).toBe(true);
      read.resolve({ frames: [], lastId: 0 });
      await joining;
      expect(alice.transport.frames()).toEqual([
        { type: 'presence', room: 'dev', users: ['alice'], usersTotal: 1, offset: 0 },
        joined('dev', 'alice'),
      ]);
    });
  });

  describe('leave', () => {
    it('tells the remaining members, and the leaver gets nothing more of the room', () => {
      const alice = open('alice', ['general', 'dev']);
      const bob = open('bob', ['dev']);
      clearAll();

      sut.leave(alice.session, 'dev');
      sut.toRoom('dev', message(1, 'dev'));

      expect(alice.transport.written).toEqual([]);
      expect(bob.transport.frames()).toEqual([left('dev', 'alice'), message(1, 'dev')]);
      expect([...sut.roomsOf(alice.session)]).toEqual(['general']);
    });

    it('does nothing for a room the session is not in', () => {
      const alice = open('alice', ['general']);
      const bob = open('bob', ['dev']);
      clearAll();

      sut.leave(alice.session, 'dev');

      expect(bob.transport.written).toEqual([]);
    });

    it('forgets the typing throttle of that room only', () => {
      jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
      const alice = open('alice', ['general', 'dev']);
      const bob = open('bob', ['general', 'dev']);
      sut.typing(alice.session, 'general');
      sut.typing(alice.session, 'dev');
      sut.leave(alice.session, 'dev');
      sut.enter(alice.session, ['dev']);
      clearAll();

      sut.typing(alice.session, 'dev');
      sut.typing(alice.session, 'general');

      expect(bob.transport.frames()).toEqual([typing('dev', 'alice')]);
    });
  });

  describe('delivery', () => {
    it('toAll reaches every connected session, whatever its rooms, with the same buffer', () => {
      const inGeneral = open('a', ['general']);
      const inDev = open('b', ['dev']);
      const inNone = open('c', []);
      clearAll();

      sut.toAll(nickUpdate('x', 'y'));

      const data = inGeneral.transport.written[0];
      expect(JSON.parse(data.toString('utf8'))).toStrictEqual(nickUpdate('x', 'y'));
      for (const { transport } of [inGeneral, inDev, inNone]) {
        expect(transport.written).toHaveLength(1);
        expect(transport.written[0]).toBe(data);
      }
    });

    it('does not deliver to closed sessions', () => {
      const a = open('a', ['general']);
      const b = open('b', ['general']);
      sut.close(a.session);
      clearAll();

      sut.toAll(nickUpdate('x', 'y'));
      sut.toRoom('general', message(1));
      sut.toUsers(['a'], direct);

      expect(a.transport.written).toEqual([]);
      expect(b.transport.frames()).toEqual([nickUpdate('x', 'y'), message(1)]);
    });

    it('toAll is not held back by a room hold', () => {
      const a = open('a', ['dev']);
      clearAll();
      a.session.holdRoom('dev');

      sut.toAll(nickUpdate('x', 'y'));

      expect(a.transport.frames()).toEqual([nickUpdate('x', 'y')]);
    });

    it('toRoom reaches only the members of the room, encoded once: every member gets the same buffer', () => {
      const a = open('a', ['dev']);
      const b = open('b', ['dev']);
      const outsider = open('outsider', ['general']);
      clearAll();

      sut.toRoom('dev', message(1, 'dev'));

      expect(a.transport.frames()).toEqual([message(1, 'dev')]);
      expect(b.transport.written[0]).toBe(a.transport.written[0]);
      expect(outsider.transport.written).toEqual([]);
    });

    it('toRoom of a room with no members sends nothing', () => {
      const a = open('a', ['general']);
      clearAll();

      sut.toRoom('empty', message(1, 'empty'));

      expect(a.transport.written).toEqual([]);
    });

    it('delivers in call order', () => {
      const a = open('a', ['general']);
      clearAll();

      sut.toRoom('general', message(1));
      sut.toAll(nickUpdate('x', 'y'));
      sut.toRoom('general', message(2));

      expect(a.transport.frames()).toEqual([message(1), nickUpdate('x', 'y'), message(2)]);
    });

    it('toUsers reaches every listed user once, with the same buffer, and no one else', () => {
      const alice = open('alice');
      const bob = open('bob');
      const carol = open('carol');
      clearAll();

      sut.toUsers(['alice', 'BOB', 'alice'], direct);
      sut.toUsers(['nobody'], direct);

      expect(alice.transport.frames()).toEqual([direct]);
      expect(bob.transport.frames()).toEqual([direct]);
      expect(alice.transport.written[0]).toBe(bob.transport.written[0]);
      expect(carol.transport.written).toEqual([]);
    });

    it('toUsers is not held back by a room hold, and is never deduplicated against a history', () => {
      const alice = open('alice', ['dev']);
      const bob = open('bob', ['dev'], false);
      clearAll();
      alice.session.holdRoom('dev');

      sut.toUsers(['alice', 'bob'], direct);
      sut.goLive(
        bob.session,
        new Map([
          ['dev', 1000],
          ['general', 1000],
        ]),
      );

      expect(alice.transport.frames()).toEqual([direct]);
      expect(bob.transport.frames()).toEqual([joined('dev', 'bob'), nickUpdate('Guest2', 'bob'), direct]);
    });

    it('keeps delivering to the others when one client is gone or too slow', async () => {
      const gone = open('gone');
      const slow = open('slow');
      const ok = open('ok');
      clearAll();
      const before = await framesCounter();
      await new Promise((resolve) => process.nextTick(resolve)); // the connects' turn is over
      gone.transport.isOpen = false;
      slow.transport.bufferedBytes = SLOW_CONSUMER_HARD_BYTES + 1;

      sut.toRoom('general', message(1));

      expect(gone.transport.written).toEqual([]);
      expect(slow.transport.written).toEqual([]);
      expect(slow.transport.terminated).toBe(1);
      expect(ok.transport.frames()).toEqual([message(1)]);
      await expect(framesCounter()).resolves.toBe(before + 1);
    });

    it('goes through the broker: one delivery per broadcast, with the audience, the message id and the exception', () => {
      const alice = open('alice', ['dev']);
      broker.published.length = 0;

      sut.toRoom('dev', message(9, 'dev'));
      sut.toUsers(['alice'], direct);
      sut.toAll(nickUpdate('x', 'y'));
      sut.typing(alice.session, 'dev');

      expect(broker.published.map(({ audience, messageId, except }) => ({ audience, messageId, except }))).toEqual([
        { audience: { kind: 'room', room: 'dev' }, messageId: 9, except: 0 },
        { audience: { kind: 'users', nicknames: ['alice'] }, messageId: 0, except: 0 },
        { audience: { kind: 'everyone' }, messageId: 0, except: 0 },
        { audience: { kind: 'room', room: 'dev' }, messageId: 0, except: alice.session.id },
      ]);
      expect(JSON.parse(broker.published[0].data.toString('utf8'))).toStrictEqual(message(9, 'dev'));
    });

    it("delivers what the broker brings from another node to this node's sessions", () => {
      const alice = open('alice', ['dev']);
      const joining = open('joining', ['general']);
      clearAll();
      joining.session.holdRoom('dev');
      sut.enter(joining.session, ['dev']);
      const data = Buffer.from(JSON.stringify(message(5, 'dev')));

      broker.receive({ audience: { kind: 'room', room: 'dev' }, data, messageId: 5, except: 0 });
      joining.session.releaseRoom('dev', 5);

      expect(alice.transport.written).toEqual([data]);
      expect(joining.transport.written).toEqual([]); // the id tells the hold it was in the snapshot
    });
  });

  describe('typing', () => {
    it("relays to the room's other members only", () => {
      const alice = open('alice', ['dev']);
      const bob = open('bob', ['dev']);
      const carol = open('carol', ['general']);
      clearAll();

      sut.typing(alice.session, 'dev');

      expect(bob.transport.frames()).toEqual([typing('dev', 'alice')]);
      expect(alice.transport.written).toEqual([]);
      expect(carol.transport.written).toEqual([]);
    });

    it('throws NOT_IN_ROOM for a room the session is not in', () => {
      const alice = open('alice', ['general']);
      expect(() => sut.typing(alice.session, 'dev')).toThrow(new ChatException(ErrorCode.NOT_IN_ROOM, 'You are not in room "dev"; join it first'));
    });
  });
});

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
