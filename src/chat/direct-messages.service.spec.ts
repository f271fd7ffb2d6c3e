import { Logger } from '@nestjs/common';
import { FakeTransport } from '../hub/fake-transport';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import type { AckFrame, DirectFrame, ServerFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { StoreUnavailableError } from '../store/message-store.service';
import { ChatFixture, type Client } from './chat-fixture';
import { DirectMessagesService } from './direct-messages.service';

const PAGE = 2; // RESUME_MAX: the DMs read per page at connect

const identity = (userId: string, nickname = userId): Identity => ({ userId, nickname, roles: [], expiresAt: Date.now() + 300_000 });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe(DirectMessagesService.name, () => {
  let metrics: ChatMetrics;
  let fixture: ChatFixture;
  let sut: DirectMessagesService;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    fixture = await ChatFixture.open(metrics, { resumeMax: PAGE, identified: true });
    sut = fixture.directs;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  /** A signed-in connection of `userId`, past its connect sequence. */
  async function signIn(userId: string, nickname = userId, url = '/'): Promise<Client> {
    const client = fixture.open(url, new FakeTransport(), identity(userId, nickname));
    await client.session.whenLive();
    return client;
  }

  /** A user who signed in once and is away now. */
  async function away(userId: string, nickname = userId): Promise<void> {
    fixture.disconnect(await signIn(userId, nickname));
  }

  const directs = (client: Client): DirectFrame[] => client.frames().filter((f): f is DirectFrame => f.type === 'direct');
  const cursor = async (userId: string): Promise<number | undefined> => (await fixture.users.getUser(userId))?.dmDeliveredId;

  /** Sends `dm` as `client`; returns the direct frame it was stored as. */
  async function dm(client: Client, to: string, message: string, clientMsgId?: string): Promise<DirectFrame> {
    await sut.post(client.session, { to, message, clientMsgId });
    return directs(client).at(-1)!;
  }

  describe('a signed-in connect', () => {
    it('records the user before the welcome, so that it can be addressed once away', async () => {
      const alice = await signIn('u-alice', 'Alice Smith');
      expect(alice.frames()[0]).toMatchObject({ type: 'welcome', nickname: 'Alice Smith' });
      await expect(fixture.users.getUser('u-alice')).resolves.toMatchObject({ id: 'u-alice', nickname: 'Alice Smith', dmDeliveredId: 0 });
    });
  });

  describe('dm', () => {
    it('stores a DM to a user who is away, acknowledges it with toId and sends it to the sender', async () => {
      await away('u-bob', 'Bob');
      const alice = await signIn('u-alice', 'Alice');
      alice.clear();

      await sut.post(alice.session, { to: 'bob', message: 'are you there?', clientMsgId: 'd-1' });

      const sent: DirectFrame = {
        type: 'direct',
        id: 1,
        from: 'Alice',
        to: 'Bob',
        message: 'are you there?',
        sentAt: expect.stringMatching(/Z$/) as string,
        clientMsgId: 'd-1',
        fromId: 'u-alice',
        toId: 'u-bob',
      };
      const ack: AckFrame = { type: 'ack', clientMsgId: 'd-1', id: 1, to: 'Bob', toId: 'u-bob' };
      expect(alice.frames()).toEqual([ack, sent]);
      await expect(fixture.dmStore.undeliveredDms('u-bob', 10)).resolves.toEqual({ messages: [expect.objectContaining({ id: 1, body: 'are you there?' })], hasMore: false });
      await expect(cursor('u-bob')).resolves.toBe(0);
    });

    it('finds the recipient by user id first, else by nickname as nicknames compare', async () => {
      await away('u-bob', 'Bob Builder');
      await away('Bob Builder', 'someone else'); // a user whose id is another's nickname
      const alice = await signIn('u-alice');

      await expect(dm(alice, 'BOB  BUILDER'.replace('  ', ' '), 'by nickname')).resolves.toMatchObject({ toId: 'u-bob' });
      await expect(dm(alice, 'u-bob', 'by id')).resolves.toMatchObject({ toId: 'u-bob', to: 'Bob Builder' });
      await expect(dm(alice, 'Bob Builder', 'the id wins')).resolves.toMatchObject({ toId: 'Bob Builder', to: 'someone else' });
    });

    it('answers NO_SUCH_USER for a user who never signed in, and stores nothing', async () => {
      const alice = await signIn('u-alice');
      await expect(sut.post(alice.session, { to: 'carol', message: 'hi' })).rejects.toEqual(
        new ChatException(ErrorCode.NO_SUCH_USER, 'No user "carol" has ever signed in'),
      );
      await expect(fixture.dmStore.dmsSince('u-alice', 0, 10)).resolves.toEqual({ messages: [], hasMore: false });
    });

    it('answers VALIDATION for a nickname several users share; their ids reach each', async () => {
      await away('u-alex-1', 'Alex');
      await away('u-alex-2', 'alex');
      const alice = await signIn('u-alice');

      await expect(sut.post(alice.session, { to: 'ALEX', message: 'which one?' })).rejects.toEqual(
        new ChatException(ErrorCode.VALIDATION, 'Several users are named "ALEX"; use the user id'),
      );
      await expect(dm(alice, 'u-alex-2', 'you')).resolves.toMatchObject({ toId: 'u-alex-2', to: 'alex' });
    });

    it('reaches every connection of the recipient and of the sender, once each', async () => {
      const bob1 = await signIn('u-bob');
      const bob2 = await signIn('u-bob');
      const alice1 = await signIn('u-alice');
      const alice2 = await signIn('u-alice');
      const carol = await signIn('u-carol');
      fixture.clearAll();

      const sent = await dm(alice1, 'u-bob', 'to all your devices');

      for (const client of [alice1, alice2, bob1, bob2]) expect(directs(client)).toEqual([sent]);
      expect(carol.frames()).toEqual([]);
    });

    it('moves the recipient delivery cursor with a DM it gets live, so its next connect sends it no more', async () => {
      const bob = await signIn('u-bob');
      const alice = await signIn('u-alice');

      const sent = await dm(alice, 'u-bob', 'live');

      expect(directs(bob)).toEqual([sent]);
      await expect(cursor('u-bob')).resolves.toBe(sent.id);
      const again = await signIn('u-bob');
      expect(directs(again)).toEqual([]);
    });

    it('acknowledges a resend again and delivers it once', async () => {
      const bob = await signIn('u-bob');
      const alice = await signIn('u-alice');

      const sent = await dm(alice, 'u-bob', 'once', 'd-1');
      await sut.post(alice.session, { to: 'u-bob', message: 'once', clientMsgId: 'd-1' });

      expect(alice.frames().filter((f) => f.type === 'ack')).toEqual([
        { type: 'ack', clientMsgId: 'd-1', id: sent.id, to: 'u-bob', toId: 'u-bob' },
        { type: 'ack', clientMsgId: 'd-1', id: sent.id, to: 'u-bob', toId: 'u-bob' },
      ]);
      expect(directs(bob)).toEqual([sent]);
    });

    it('lets a user write to itself (notes), delivered once per connection', async () => {
      const alice = await signIn('u-alice', 'Alice');
      const sent = await dm(alice, 'Alice', 'note to self');
      expect(sent).toMatchObject({ fromId: 'u-alice', toId: 'u-alice' });
      expect(directs(alice)).toEqual([sent]);
    });
  });

  describe('at connect, the DMs that waited', () => {
    async function waiting(count: number): Promise<DirectFrame[]> {
      await away('u-bob');
      const alice = await signIn('u-alice');
      const sent: DirectFrame[] = [];
      for (let i = 1; i <= count; i++) sent.push(await dm(alice, 'u-bob', `while you were away ${i}`));
      return sent;
    }

    it('come after the history, before the join notification, and are sent once', async () => {
      const sent = await waiting(1);
      await fixture.store.append({ room: 'general', nickname: 'carol', body: 'in general' });

      const bob = await signIn('u-bob');

      expect(bob.frames().map((f) => f.type)).toEqual(['welcome', 'history', 'direct', 'notification']);
      expect(directs(bob)).toEqual(sent);
      await expect(cursor('u-bob')).resolves.toBe(sent[0].id);
      fixture.disconnect(bob);
      expect(directs(await signIn('u-bob'))).toEqual([]);
    });

    it(`are read a page (RESUME_MAX, ${PAGE}) at a time, oldest first, and all sent`, async () => {
      const sent = await waiting(5);
      const reads = jest.spyOn(fixture.dmStore, 'undeliveredDms');

      const bob = await signIn('u-bob');

      expect(directs(bob)).toEqual(sent);
      expect(reads).toHaveBeenCalledTimes(3);
      await expect(cursor('u-bob')).resolves.toBe(sent[4].id);
    });

    it('are not sent again with the live DMs that arrive while they are read, nor are those lost', async () => {
      const [first] = await waiting(1);
      const alice = await signIn('u-alice');
      const read = deferred();
      const gate = deferred();
      const realRead = fixture.dmStore.undeliveredDms.bind(fixture.dmStore);
      jest.spyOn(fixture.dmStore, 'undeliveredDms').mockImplementationOnce(async (userId, limit) => {
        await new Promise((resolve) => setImmediate(resolve));
        const page = await realRead(userId, limit);
        read.resolve();
        await gate.promise;
        return page;
      });

      const bob = fixture.open('/', new FakeTransport(), identity('u-bob'));
      await read.promise;
      const live = await dm(alice, 'u-bob', 'while you connect');
      gate.resolve();
      await bob.session.whenLive();

      expect(directs(bob)).toEqual([first, live]);
      await expect(cursor('u-bob')).resolves.toBe(first.id); // the live one went to a connection still connecting
    });

    it('are sent once when one of them is also delivered live while they are read', async () => {
      await away('u-bob');
      const alice = await signIn('u-alice');
      const committed = deferred();
      const broadcast = deferred();
      const realAppend = fixture.store.appendDirect.bind(fixture.store);
      jest.spyOn(fixture.store, 'appendDirect').mockImplementationOnce(async (message) => {
        const stored = await realAppend(message);
        committed.resolve();
        await broadcast.promise; // the commit is in, the broadcast waits
        return stored;
      });
      const posting = dm(alice, 'u-bob', 'committed before the read, broadcast after it');
      await committed.promise;
      const read = deferred();
      const gate = deferred();
      const realRead = fixture.dmStore.undeliveredDms.bind(fixture.dmStore);
      jest.spyOn(fixture.dmStore, 'undeliveredDms').mockImplementationOnce(async (userId, limit) => {
        const page = await realRead(userId, limit);
        read.resolve();
        await gate.promise;
        return page;
      });

      const bob = fixture.open('/', new FakeTransport(), identity('u-bob'));
      await read.promise;
      broadcast.resolve();
      const sent = await posting; // delivered to bob's connection, which holds it
      gate.resolve();
      await bob.session.whenLive();

      expect(directs(bob)).toEqual([sent]);
      await expect(cursor('u-bob')).resolves.toBe(sent.id);
    });

    it('are replaced by an UNAVAILABLE error frame when the store cannot be read, and the connection goes live', async () => {
      await waiting(1);
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      jest.spyOn(fixture.dmStore, 'undeliveredDms').mockRejectedValueOnce(new StoreUnavailableError(new Error('I/O error')));

      const bob = await signIn('u-bob');

      expect(bob.frames().map((f) => f.type)).toEqual(['welcome', 'history', 'error', 'notification']);
      expect(bob.frames()[2]).toEqual({
        type: 'error',
        code: ErrorCode.UNAVAILABLE,
        message: 'The message store is unavailable; nothing was stored or sent, try again',
        event: 'dm',
      } satisfies ServerFrame);
      expect(bob.session.isLive).toBe(true);
      await expect(cursor('u-bob')).resolves.toBe(0);
    });

    it('are not skipped when they could not be sent: live DMs then leave the cursor where it is', async () => {
      const [waited] = await waiting(1);
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      jest.spyOn(fixture.dmStore, 'undeliveredDms').mockRejectedValueOnce(new StoreUnavailableError(new Error('I/O error')));
      const bob = await signIn('u-bob');
      const alice = await signIn('u-alice');

      const live = await dm(alice, 'u-bob', 'live, while the one before still waits');

      expect(directs(bob)).toEqual([live]);
      await expect(cursor('u-bob')).resolves.toBe(0);
      fixture.disconnect(bob);
      expect(directs(await signIn('u-bob'))).toEqual([waited, live]);
    });

    it('do not move the cursor when the client is gone before they are written', async () => {
      await waiting(1);
      const transport = new FakeTransport();
      const realRead = fixture.dmStore.undeliveredDms.bind(fixture.dmStore);
      jest.spyOn(fixture.dmStore, 'undeliveredDms').mockImplementationOnce(async (userId, limit) => {
        const page = await realRead(userId, limit);
        transport.isOpen = false; // the socket went; its close event has not reached the hub yet
        return page;
      });

      const bob = fixture.open('/', transport, identity('u-bob'));
      await bob.session.whenLive();

      expect(directs(bob)).toEqual([]);
      await expect(cursor('u-bob')).resolves.toBe(0);
    });

    it('are not read for an anonymous connection', async () => {
      const reads = jest.spyOn(fixture.dmStore, 'undeliveredDms');
      const guest = fixture.open();
      await guest.session.whenLive();
      expect(guest.frames().map((f) => f.type)).toEqual(['welcome', 'history', 'notification']);
      expect(reads).not.toHaveBeenCalled();
    });
  });
});
