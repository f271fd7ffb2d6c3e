import { Logger } from '@nestjs/common';
import { FakeTransport } from '../hub/fake-transport';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import type { MessageFrame, NotificationFrame } from '../protocol/frames';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';
import { ChatFixture, type Client } from './chat-fixture';
import { ChatService, GOING_AWAY } from './chat.service';

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
const UNAVAILABLE_TEXT = 'The message store is unavailable; nothing was stored or sent, try again';

describe(ChatService.name, () => {
  let metrics: ChatMetrics;
  let fixture: ChatFixture;
  let store: MessageStore;
  let sut: ChatService;
  let logError: jest.SpyInstance;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    fixture = await ChatFixture.open(metrics);
    store = fixture.store;
    sut = fixture.chat;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  const connect = (nickname: string, rooms?: string[]): Promise<Client> => fixture.connect(nickname, rooms);

  describe('connect', () => {
    it('sends welcome, the history of general and the join notification, then delivers live', async () => {
      const alice = await connect('alice');
      const hello = await fixture.post(alice, 'general', 'hello');

      const guest = fixture.open();
      await guest.session.whenLive();
      const later = await fixture.post(alice, 'general', 'later');

      expect(guest.frames()).toEqual([
        {
          type: 'welcome',
          nickname: 'Guest2',
          message: 'Welcome, Guest2',
          users: ['alice', 'Guest2'],
          usersTotal: 2,
          room: 'general',
          rooms: ['general'],
          reconnectToken: guest.session.reconnectToken,
        },
        { type: 'history', room: 'general', messages: [hello], hasMore: false },
        joinedNote('general', 'Guest2'),
        later,
      ]);
      expect(alice.frames()).toEqual([hello, joinedNote('general', 'Guest2'), later]);
    });

    it('answers a bad `?since=` with VALIDATION for `resume`, then connects as usual', async () => {
      const guest = fixture.open('/?since=-1&rooms=general');
      await guest.session.whenLive();

      expect(guest.frames().slice(1)).toEqual([
        { type: 'error', code: ErrorCode.VALIDATION, message: 'since must not be less than 0', event: 'resume' },
        { type: 'history', room: 'general', messages: [], hasMore: false },
        joinedNote('general', 'Guest1'),
      ]);
    });

    it('reports an unreadable history as UNAVAILABLE for `history`, and still joins general', async () => {
      jest.spyOn(store, 'page').mockRejectedValueOnce(new Error('SQLITE_IOERR'));

      const guest = fixture.open();
      await guest.session.whenLive();

      expect(guest.frames().slice(1)).toEqual([
        { type: 'error', code: ErrorCode.UNAVAILABLE, message: UNAVAILABLE_TEXT, event: 'history' },
        joinedNote('general', 'Guest1'),
      ]);
      expect(guest.session.isLive).toBe(true);
    });

    it('closes with 1011 and logs when the connect sequence fails unexpectedly', async () => {
      const failure = new Error('welcome exploded');
      jest.spyOn(fixture.hub, 'welcome').mockImplementationOnce(() => {
        throw failure;
      });

      const guest = fixture.open();
      await new Promise((resolve) => setImmediate(resolve));

      expect(guest.transport.closes).toEqual([{ code: 1011, reason: 'Internal error', graceMs: 3000 }]);
      expect(logError).toHaveBeenCalledWith(expect.objectContaining({ msg: 'connection setup failed', err: failure }));
    });

    it('counts connected clients', async () => {
      const gauge = async (): Promise<number> => (await metrics.connectedClients.get()).values[0].value;
      const before = await gauge();
      const alice = await connect('alice');
      await expect(gauge()).resolves.toBe(before + 1);

      fixture.disconnect(alice);

      await expect(gauge()).resolves.toBe(before);
    });
  });

  describe('disconnect', () => {
    it('leaves every room, telling their members, and holds the nickname for its token', async () => {
      const alice = await connect('alice', ['general', 'dev']);
      const bob = await connect('bob', ['general', 'dev']);

      fixture.disconnect(alice);

      expect(bob.frames()).toEqual([leftNote('general', 'alice'), leftNote('dev', 'alice')]);
      expect(fixture.hub.findUser('alice')).toBeUndefined();
      expect(fixture.hub.heldNicknames).toBe(1);
      expect(alice.session.isClosed).toBe(true);
    });
  });

  describe('connect with ?token=', () => {
    let logged: jest.SpyInstance;

    beforeEach(() => {
      logged = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    });

    it('gives back the nickname held for the token, alongside ?since=&rooms=, and never logs the token', async () => {
      const alice = await connect('alice', ['general', 'dev']);
      const token = alice.session.reconnectToken;
      fixture.disconnect(alice);
      const missed = await fixture.stored('dev');

      const back = fixture.open(`/?since=0&token=${token}&rooms=dev`);
      await back.session.whenLive();

      const [welcome, ...rest] = back.frames();
      expect(welcome).toMatchObject({ type: 'welcome', nickname: 'alice', message: 'Welcome, alice', rooms: ['dev'] });
      expect(welcome).toHaveProperty('reconnectToken', back.session.reconnectToken);
      expect(back.session.reconnectToken).not.toBe(token);
      expect(rest).toEqual([missed, { type: 'resumed', lastId: missed.id }, joinedNote('dev', 'alice')]);
      fixture.disconnect(back);
      const logs = JSON.stringify(logged.mock.calls);
      expect(logs).toContain('"msg":"connection open","remoteAddress":"127.0.0.1","nickname":"alice"');
      expect(logs).not.toContain(token);
      expect(logs).not.toContain(back.session.reconnectToken);
    });

    it.each([
      ['with base64 padding', (token: string) => `${token}=`],
      ['cut short', (token: string) => token.slice(0, 42)],
      ['in plain base64', (token: string) => `${token.slice(0, 42)}+`],
      ['empty', () => ''],
    ])('treats a malformed token (%s) as unknown: a guest name and no error frame', async (_, malformed) => {
      const alice = await connect('alice');
      fixture.disconnect(alice);

      const guest = fixture.open(`/?token=${encodeURIComponent(malformed(alice.session.reconnectToken))}`);
      await guest.session.whenLive();

      expect(guest.frames().map((f) => f.type)).toEqual(['welcome', 'history', 'notification']);
      expect(guest.frames()[0]).toMatchObject({ nickname: 'Guest2' });
    });

    it('takes the nickname over from a connection still open, and its late frames do nothing', async () => {
      const old = await connect('alice');
      const bob = await connect('bob');
      const appendDirect = jest.spyOn(store, 'appendDirect');
      const append = jest.spyOn(store, 'append');

      const back = fixture.open(`/?token=${old.session.reconnectToken}`);
      await back.session.whenLive();

      expect(old.transport.closes).toEqual([{ code: 4002, reason: 'Replaced by a new connection', graceMs: 3000 }]);
      expect(back.frames()[0]).toMatchObject({ type: 'welcome', nickname: 'alice' });
      bob.clear();
      await expect(sut.postDirect(old.session, { to: 'bob', message: 'from the old socket' })).resolves.toBeUndefined();
      await expect(sut.postMessage(old.session, { message: 'from the old socket' })).rejects.toMatchObject({ code: ErrorCode.NOT_IN_ROOM });
      expect(appendDirect).not.toHaveBeenCalled();
      expect(append).not.toHaveBeenCalled();
      expect(bob.frames()).toEqual([]);
    });
  });

  describe('postMessage', () => {
    it('stores the message, acks the sender only, and broadcasts it to the room', async () => {
      const alice = await connect('alice', ['general', 'dev']);
      const bob = await connect('bob', ['dev']);
      const carol = await connect('carol');

      await sut.postMessage(alice.session, { room: 'dev', message: 'hi', clientMsgId: 'c-1' });

      const [row] = (await store.page({ room: 'dev', limit: 10 })).messages;
      const frame: MessageFrame = { type: 'message', id: row.id, room: 'dev', nickname: 'alice', message: 'hi', sentAt: row.sentAt, clientMsgId: 'c-1' };
      expect(alice.frames()).toEqual([{ type: 'ack', clientMsgId: 'c-1', id: row.id, room: 'dev' }, frame]);
      expect(bob.frames()).toEqual([frame]);
      expect(carol.frames()).toEqual([]);
    });

    it('posts to general by default, and acks nothing without a clientMsgId', async () => {
      const alice = await connect('alice');

      await sut.postMessage(alice.session, { message: 'hi' });

      expect(alice.frames()).toEqual([expect.objectContaining({ type: 'message', room: 'general', message: 'hi' })]);
    });

    it('acks a resend again but never broadcasts it twice', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');

      await sut.postMessage(alice.session, { message: 'once', clientMsgId: 'c-1' });
      await sut.postMessage(alice.session, { message: 'once', clientMsgId: 'c-1' });

      expect(alice.frames().map((f) => f.type)).toEqual(['ack', 'message', 'ack']);
      expect(bob.frames().map((f) => f.type)).toEqual(['message']);
      expect(alice.frames()[0]).toEqual(alice.frames()[2]);
    });

    it('rejects NOT_IN_ROOM for a room the sender is not in, storing nothing', async () => {
      const alice = await connect('alice');

      await expect(sut.postMessage(alice.session, { room: 'dev', message: 'hi' })).rejects.toEqual(
        new ChatException(ErrorCode.NOT_IN_ROOM, 'You are not in room "dev"; join it first'),
      );
      await expect(store.rooms()).resolves.toEqual([]);
    });

    it('rejects with the store error, acking and broadcasting nothing', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');
      const failure = new StoreUnavailableError(new Error('SQLITE_FULL'));
      jest.spyOn(store, 'append').mockRejectedValueOnce(failure);

      await expect(sut.postMessage(alice.session, { message: 'hi', clientMsgId: 'c-1' })).rejects.toBe(failure);

      expect(alice.frames()).toEqual([]);
      expect(bob.frames()).toEqual([]);
    });
  });

  describe('postDirect', () => {
    it('acks the sender with the recipient, and delivers to both, no one else', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob', ['dev']);
      const carol = await connect('carol');

      await sut.postDirect(alice.session, { to: 'BOB', message: 'psst', clientMsgId: 'd-1' });

      const direct = { type: 'direct', id: expect.any(Number), from: 'alice', to: 'bob', message: 'psst', sentAt: expect.any(String), clientMsgId: 'd-1' };
      expect(alice.frames()).toEqual([{ type: 'ack', clientMsgId: 'd-1', id: expect.any(Number), to: 'bob' }, direct]);
      expect(bob.frames()).toEqual([direct]);
      expect(carol.frames()).toEqual([]);
    });

    it('delivers a message to oneself once', async () => {
      const alice = await connect('alice');

      await sut.postDirect(alice.session, { to: 'alice', message: 'note to self' });

      expect(alice.frames()).toEqual([expect.objectContaining({ type: 'direct', from: 'alice', to: 'alice' })]);
    });

    it('rejects NO_SUCH_USER for a nickname nobody online has', async () => {
      const alice = await connect('alice');

      await expect(sut.postDirect(alice.session, { to: 'zed', message: 'hi' })).rejects.toEqual(
        new ChatException(ErrorCode.NO_SUCH_USER, 'No user named "zed" is online'),
      );
      expect(alice.frames()).toEqual([]);
    });

    it('does not deliver a resend twice', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');

      await sut.postDirect(alice.session, { to: 'bob', message: 'psst', clientMsgId: 'd-1' });
      await sut.postDirect(alice.session, { to: 'bob', message: 'psst', clientMsgId: 'd-1' });

      expect(bob.frames().map((f) => f.type)).toEqual(['direct']);
      expect(alice.frames().map((f) => f.type)).toEqual(['ack', 'direct', 'ack']);
    });
  });

  describe('history', () => {
    it('returns a page of a room the session is in', async () => {
      const alice = await connect('alice', ['general', 'dev']);
      const frames = await fixture.storedIn('dev', 'dev', 'dev');

      await expect(sut.history(alice.session, { room: 'dev', limit: 2 })).resolves.toEqual({
        type: 'history',
        room: 'dev',
        messages: frames.slice(1),
        hasMore: true,
      });
      await expect(sut.history(alice.session, { room: 'dev', before: frames[1].id })).resolves.toEqual({
        type: 'history',
        room: 'dev',
        messages: frames.slice(0, 1),
        hasMore: false,
      });
    });

    it('rejects NOT_IN_ROOM for a room the session is not in', async () => {
      const alice = await connect('alice');
      await expect(sut.history(alice.session, { room: 'dev' })).rejects.toMatchObject({ code: ErrorCode.NOT_IN_ROOM });
    });
  });

  describe('beforeApplicationShutdown', () => {
    it('closes every client with 1001, announces no departures, and refuses new connections', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');

      await sut.beforeApplicationShutdown();
      fixture.disconnect(alice);

      for (const client of [alice, bob]) {
        expect(client.transport.closes).toEqual([{ code: GOING_AWAY, reason: 'Server shutting down', graceMs: 3000 }]);
      }
      expect(bob.frames()).toEqual([]);
      const refused = new FakeTransport();
      expect(sut.connect(refused, '127.0.0.1')).toBeUndefined();
      expect(refused.closes).toEqual([{ code: GOING_AWAY, reason: 'Server shutting down', graceMs: 3000 }]);
      expect(refused.written).toEqual([]);
    });
  });
});
