import { Logger } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import type { DirectFrame, MessageFrame } from '../chat/protocol';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { sqliteOptions } from '../database/typeorm-options';
import {
  MessageStore,
  StoreUnavailableError,
  type NewDirectMessage,
  type NewMessage,
  type Stored,
  type StoredRoom,
} from './message-store.service';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const general = (body: string, extra: Partial<NewMessage> = {}): NewMessage => ({ room: 'general', nickname: 'alice', body, ...extra });
const inRoom = (room: string, body: string): NewMessage => ({ room, nickname: 'bob', body });
const dm = (body: string, extra: Partial<NewDirectMessage> = {}): NewDirectMessage => ({ from: 'alice', to: 'bob', body, ...extra });
const frameOf = async <F>(stored: Promise<Stored<F>>): Promise<F> => (await stored).frame;

describe(MessageStore.name, () => {
  let ds: DataSource;
  let db: Database;
  let sut: MessageStore;
  let logError: jest.SpyInstance;
  let metrics: ChatMetrics;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    ds = new DataSource(sqliteOptions({ path: ':memory:', synchronous: 'FULL' }));
    await ds.initialize();
    db = (ds.driver as unknown as { databaseConnection: Database }).databaseConnection;
    sut = new MessageStore(ds, metrics);
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    logError.mockRestore();
    if (ds.isInitialized) await ds.destroy();
  });

  const rowCount = (): number => (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
  const ids = (frames: MessageFrame[]): number[] => frames.map((m) => m.id);
  const directRowCount = (): number => (db.prepare('SELECT count(*) AS n FROM direct_messages').get() as { n: number }).n;
  const byName = (rooms: StoredRoom[]): StoredRoom[] => [...rooms].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  describe('append', () => {
    it('stores the message and resolves with its frame', async () => {
      const stored = await sut.append({ room: 'general', nickname: 'alice', body: '<b>hi</b> 张三 😀', clientMsgId: 'c-1' });

      expect(stored).toStrictEqual({
        frame: {
          type: 'message',
          id: 1,
          room: 'general',
          nickname: 'alice',
          message: '<b>hi</b> 张三 😀',
          sentAt: expect.stringMatching(ISO_UTC),
          clientMsgId: 'c-1',
        },
        duplicate: false,
      });
      expect(db.prepare('SELECT id, room, nickname, body, sent_at, client_msg_id FROM messages').all()).toEqual([
        { id: 1, room: 'general', nickname: 'alice', body: '<b>hi</b> 张三 😀', sent_at: stored.frame.sentAt, client_msg_id: 'c-1' },
      ]);
    });

    it('leaves clientMsgId out of the frame when none was given', async () => {
      const { frame } = await sut.append(general('hi'));
      expect(Object.keys(frame)).toEqual(['type', 'id', 'room', 'nickname', 'message', 'sentAt']);
    });

    it('commits appends made in the same tick in one transaction, resolving in call order', async () => {
      const transaction = jest.spyOn(db, 'transaction');
      const resolved: number[] = [];

      const frames = await Promise.all(
        ['one', 'two', 'three'].map((body) =>
          sut.append(general(body)).then(({ frame }) => {
            resolved.push(frame.id);
            return frame;
          }),
        ),
      );

      expect(transaction).toHaveBeenCalledTimes(1);
      expect(ids(frames)).toEqual([1, 2, 3]);
      expect(resolved).toEqual([1, 2, 3]);
      expect(frames.map((f) => f.message)).toEqual(['one', 'two', 'three']);
      expect(new Set(frames.map((f) => f.sentAt)).size).toBe(1);
      expect(frames[0].sentAt).toMatch(ISO_UTC);
    });

    it('commits appends made in later ticks in later transactions, with increasing ids', async () => {
      const transaction = jest.spyOn(db, 'transaction');

      const { frame: first } = await sut.append(general('first'));
      const { frame: second } = await sut.append(general('second'));

      expect(transaction).toHaveBeenCalledTimes(2);
      expect(second.id).toBeGreaterThan(first.id);
      expect(second.sentAt >= first.sentAt).toBe(true);
    });

    it('splits a burst larger than one batch (512) into several transactions, keeping order', async () => {
      const transaction = jest.spyOn(db, 'transaction');

      const frames = await Promise.all(Array.from({ length: 600 }, (_, i) => frameOf(sut.append(general(`m${i}`)))));

      expect(transaction).toHaveBeenCalledTimes(2);
      expect(ids(frames)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      expect(frames.map((f) => f.message)).toEqual(Array.from({ length: 600 }, (_, i) => `m${i}`));
      expect(rowCount()).toBe(600);
    });

    it('rejects every append of a failed batch with StoreUnavailableError and stores none of them', async () => {
      await sut.append(general('before the outage'));
      db.pragma('query_only = 1');

      const results = await Promise.allSettled([sut.append(general('a')), sut.append(general('b')), sut.append(general('c'))]);

      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const result of results) {
        const reason = (result as PromiseRejectedResult).reason as StoreUnavailableError;
        expect(reason).toBeInstanceOf(StoreUnavailableError);
        expect(reason.message).toBe('message store unavailable');
        expect(reason.cause).toMatchObject({ code: 'SQLITE_READONLY' });
      }
      expect(logError).toHaveBeenCalledTimes(1);
      expect(rowCount()).toBe(1);
    });

    it('rolls back the whole batch when a row in the middle fails', async () => {
      db.exec(`CREATE TRIGGER reject_b BEFORE INSERT ON messages WHEN NEW.body = 'b' BEGIN SELECT RAISE(ABORT, 'no b'); END`);

      const results = await Promise.allSettled([sut.append(general('a')), sut.append(general('b')), sut.append(general('c'))]);

      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(results.map((r): unknown => (r as PromiseRejectedResult).reason)).toEqual([
        expect.any(StoreUnavailableError),
        expect.any(StoreUnavailableError),
        expect.any(StoreUnavailableError),
      ]);
      expect(rowCount()).toBe(0);

      db.exec('DROP TRIGGER reject_b');
      await expect(sut.append(general('after'))).resolves.toMatchObject({ frame: { id: 1, message: 'after' }, duplicate: false });
    });

    it('recovers once the database takes writes again', async () => {
      db.pragma('query_only = 1');
      await expect(sut.append(general('lost'))).rejects.toBeInstanceOf(StoreUnavailableError);

      db.pragma('query_only = 0');
      const { frame: stored } = await sut.append(general('kept'));

      expect(stored).toMatchObject({ id: 1, message: 'kept' });
      await expect(sut.page({ room: 'general', limit: 10 })).resolves.toEqual({ messages: [stored], hasMore: false });
    });

    it('rejects with StoreUnavailableError when the data source is gone', async () => {
      await ds.destroy();
      await expect(sut.append(general('x'))).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  describe('appendDirect', () => {
    it('stores the message in direct_messages and resolves with its frame', async () => {
      const stored = await sut.appendDirect(dm('<i>psst</i> 😀', { clientMsgId: 'd-1' }));

      expect(stored).toStrictEqual({
        frame: {
          type: 'direct',
          id: 1,
          from: 'alice',
          to: 'bob',
          message: '<i>psst</i> 😀',
          sentAt: expect.stringMatching(ISO_UTC),
          clientMsgId: 'd-1',
        },
        duplicate: false,
      });
      expect(db.prepare('SELECT id, sender, recipient, body, sent_at, client_msg_id FROM direct_messages').all()).toEqual([
        { id: 1, sender: 'alice', recipient: 'bob', body: '<i>psst</i> 😀', sent_at: stored.frame.sentAt, client_msg_id: 'd-1' },
      ]);
    });

    it('leaves clientMsgId out of the frame when none was given', async () => {
      const { frame } = await sut.appendDirect(dm('hi'));
      expect(Object.keys(frame)).toEqual(['type', 'id', 'from', 'to', 'message', 'sentAt']);
    });

    it('stores nothing in messages or rooms, and page() never returns it', async () => {
      await sut.append(general('public'));
      await sut.appendDirect(dm('private'));

      expect(rowCount()).toBe(1);
      expect(directRowCount()).toBe(1);
      const { messages } = await sut.page({ room: 'general', limit: 200 });
      expect(messages.map((m) => m.message)).toEqual(['public']);
      await expect(sut.rooms()).resolves.toEqual([{ name: 'general', lastMessageId: 1 }]);
    });

    it('commits room and direct appends made in the same tick in one transaction, resolving in call order', async () => {
      const transaction = jest.spyOn(db, 'transaction');
      const resolved: string[] = [];
      const track = <T extends MessageFrame | DirectFrame>(promise: Promise<Stored<T>>): Promise<T> =>
        promise.then(({ frame }) => {
          resolved.push(frame.message);
          return frame;
        });

      const [first, second, third, fourth] = await Promise.all([
        track(sut.append(general('r1'))),
        track(sut.appendDirect(dm('d1'))),
        track(sut.append(inRoom('dev', 'r2'))),
        track(sut.appendDirect(dm('d2', { from: 'bob', to: 'alice' }))),
      ]);

      expect(transaction).toHaveBeenCalledTimes(1);
      expect(resolved).toEqual(['r1', 'd1', 'r2', 'd2']);
      expect([first.type, second.type, third.type, fourth.type]).toEqual(['message', 'direct', 'message', 'direct']);
      expect(new Set([first, second, third, fourth].map((f) => f.sentAt)).size).toBe(1);
      // each table numbers its own rows
      expect([first.id, third.id]).toEqual([1, 2]);
      expect([second.id, fourth.id]).toEqual([1, 2]);
      expect(fourth).toMatchObject({ from: 'bob', to: 'alice' });
      expect(rowCount()).toBe(2);
      expect(directRowCount()).toBe(2);
    });

    it('rejects every append of a failed batch, room and direct alike, and stores none of them', async () => {
      db.exec(`CREATE TRIGGER reject_b BEFORE INSERT ON direct_messages WHEN NEW.body = 'b' BEGIN SELECT RAISE(ABORT, 'no b'); END`);

      const results = await Promise.allSettled([sut.append(general('a')), sut.appendDirect(dm('b')), sut.appendDirect(dm('c'))]);

      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const result of results) {
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      }
      expect(rowCount()).toBe(0);
      expect(directRowCount()).toBe(0);
      await expect(sut.rooms()).resolves.toEqual([]);
    });

    it('is refused after close', async () => {
      await sut.close();
      await expect(sut.appendDirect(dm('too late'))).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(directRowCount()).toBe(0);
    });
  });

  describe('idempotency by clientMsgId', () => {
    const T1 = '2026-11-21T23:44:19.123Z';
    const T2 = '2026-11-21T23:45:00.000Z';

    /** Each later batch gets a later sentAt, so a resend answered with the original is told apart. */
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'], now: new Date(T1) });
    });

    afterEach(() => {
      jest.useRealTimers();
    });

    const messageRows = () => db.prepare('SELECT id, room, nickname, body, sent_at, client_msg_id FROM messages ORDER BY id').all();
    const directRows = () =>
      db.prepare('SELECT id, sender, recipient, body, sent_at, client_msg_id FROM direct_messages ORDER BY id').all();

    it('stores a clientMsgId sent twice in one batch once; the second resolves as a duplicate of the first', async () => {
      const transaction = jest.spyOn(db, 'transaction');

      const [first, second] = await Promise.all([
        sut.append(general('original', { clientMsgId: 'c-1' })),
        sut.append(general('resent text', { clientMsgId: 'c-1' })),
      ]);

      expect(transaction).toHaveBeenCalledTimes(1);
      expect(first).toStrictEqual({
        frame: { type: 'message', id: 1, room: 'general', nickname: 'alice', message: 'original', sentAt: T1, clientMsgId: 'c-1' },
        duplicate: false,
      });
      expect(second).toStrictEqual({ frame: first.frame, duplicate: true });
      expect(messageRows()).toEqual([{ id: 1, room: 'general', nickname: 'alice', body: 'original', sent_at: T1, client_msg_id: 'c-1' }]);
    });

    it('answers a resend in a later batch with the original id, text and sentAt, storing nothing new', async () => {
      const first = await sut.append(general('original', { clientMsgId: 'c-1' }));
      await sut.append(general('in between'));
      jest.setSystemTime(new Date(T2));

      const resend = await sut.append(general('resent text', { clientMsgId: 'c-1', nickname: 'renamed' }));

      expect(first.duplicate).toBe(false);
      expect(resend).toStrictEqual({
        frame: { type: 'message', id: 1, room: 'general', nickname: 'alice', message: 'original', sentAt: T1, clientMsgId: 'c-1' },
        duplicate: true,
      });
      expect(rowCount()).toBe(2);
      await expect(sut.rooms()).resolves.toEqual([{ name: 'general', lastMessageId: 2 }]);
      // ids stay strictly increasing; a resend may use up one (SQLite AUTOINCREMENT), never reuse it
      const next = await sut.append(general('new', { clientMsgId: 'c-2' }));
      expect(next).toMatchObject({ frame: { sentAt: T2 }, duplicate: false });
      expect(next.frame.id).toBeGreaterThan(2);
    });

    it('keeps resolving in call order when a batch mixes new messages and resends', async () => {
      await sut.append(general('original', { clientMsgId: 'c-1' }));
      const resolved: string[] = [];
      const track = (p: Promise<Stored<MessageFrame>>) =>
        p.then(({ frame, duplicate }) => {
          resolved.push(`${frame.message}${duplicate ? ' (dup)' : ''}`);
          return frame.id;
        });

      const [a, again, b, bAgain] = await Promise.all([
        track(sut.append(general('a'))),
        track(sut.append(general('again', { clientMsgId: 'c-1' }))),
        track(sut.append(general('b', { clientMsgId: 'c-2' }))),
        track(sut.append(general('b again', { clientMsgId: 'c-2' }))),
      ]);

      expect(resolved).toEqual(['a', 'original (dup)', 'b', 'b (dup)']);
      expect(again).toBe(1);
      expect(b).toBeGreaterThan(a);
      expect(bAgain).toBe(b);
      expect(rowCount()).toBe(3);
    });

    it('stores the same clientMsgId once per room', async () => {
      const inGeneral = await sut.append(general('hi general', { clientMsgId: 'c-1' }));
      const inDev = await sut.append(general('hi dev', { clientMsgId: 'c-1', room: 'dev' }));

      expect(inGeneral).toMatchObject({ frame: { id: 1, room: 'general', message: 'hi general' }, duplicate: false });
      expect(inDev).toMatchObject({ frame: { id: 2, room: 'dev', message: 'hi dev' }, duplicate: false });
      expect(rowCount()).toBe(2);
    });

    it('never deduplicates messages without a clientMsgId', async () => {
      const results = await Promise.all([sut.append(general('same')), sut.append(general('same'))]);
      const later = await sut.append(general('same'));

      expect([...results, later].map(({ frame, duplicate }) => [frame.id, duplicate])).toEqual([
        [1, false],
        [2, false],
        [3, false],
      ]);
      expect(rowCount()).toBe(3);
    });

    it('deduplicates direct messages per sender, answering with the original', async () => {
      const first = await sut.appendDirect(dm('original', { clientMsgId: 'd-1' }));
      jest.setSystemTime(new Date(T2));

      const [sameRecipient, otherRecipient] = await Promise.all([
        sut.appendDirect(dm('resent', { clientMsgId: 'd-1' })),
        sut.appendDirect(dm('resent elsewhere', { clientMsgId: 'd-1', to: 'carol' })),
      ]);

      const original = { type: 'direct', id: 1, from: 'alice', to: 'bob', message: 'original', sentAt: T1, clientMsgId: 'd-1' };
      expect(first).toStrictEqual({ frame: original, duplicate: false });
      expect(sameRecipient).toStrictEqual({ frame: original, duplicate: true });
      expect(otherRecipient).toStrictEqual({ frame: original, duplicate: true });
      expect(directRowCount()).toBe(1);
    });

    it('stores a direct message from another sender with the same clientMsgId as a new row', async () => {
      await sut.appendDirect(dm('from alice', { clientMsgId: 'd-1' }));

      const fromBob = await sut.appendDirect(dm('from bob', { clientMsgId: 'd-1', from: 'bob', to: 'alice' }));

      expect(fromBob).toMatchObject({ frame: { id: 2, from: 'bob', to: 'alice', message: 'from bob' }, duplicate: false });
      expect(directRows()).toEqual([
        { id: 1, sender: 'alice', recipient: 'bob', body: 'from alice', sent_at: T1, client_msg_id: 'd-1' },
        { id: 2, sender: 'bob', recipient: 'alice', body: 'from bob', sent_at: T1, client_msg_id: 'd-1' },
      ]);
    });

    it('keeps room and direct clientMsgIds apart', async () => {
      const [room, direct] = await Promise.all([
        sut.append(general('room', { clientMsgId: 'x' })),
        sut.appendDirect(dm('direct', { clientMsgId: 'x' })),
      ]);

      expect([room.duplicate, direct.duplicate]).toEqual([false, false]);
      expect([rowCount(), directRowCount()]).toEqual([1, 1]);
    });

    it('stores a retry of a failed batch once, as a new message', async () => {
      db.pragma('query_only = 1');
      await expect(sut.append(general('first try', { clientMsgId: 'c-1' }))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(sut.appendDirect(dm('first try', { clientMsgId: 'd-1' }))).rejects.toBeInstanceOf(StoreUnavailableError);
      db.pragma('query_only = 0');
      jest.setSystemTime(new Date(T2));

      const [retry, retryAgain] = await Promise.all([
        sut.append(general('retry', { clientMsgId: 'c-1' })),
        sut.append(general('retry', { clientMsgId: 'c-1' })),
      ]);
      const directRetry = await sut.appendDirect(dm('retry', { clientMsgId: 'd-1' }));

      expect(retry).toStrictEqual({
        frame: { type: 'message', id: 1, room: 'general', nickname: 'alice', message: 'retry', sentAt: T2, clientMsgId: 'c-1' },
        duplicate: false,
      });
      expect(retryAgain).toStrictEqual({ frame: retry.frame, duplicate: true });
      expect(directRetry).toMatchObject({ frame: { id: 1, message: 'retry', sentAt: T2 }, duplicate: false });
      expect(messageRows()).toEqual([{ id: 1, room: 'general', nickname: 'alice', body: 'retry', sent_at: T2, client_msg_id: 'c-1' }]);
      expect(directRowCount()).toBe(1);
    });

    it('stores a resend once when the batch it was in rolled back for another row', async () => {
      db.exec(`CREATE TRIGGER reject_b BEFORE INSERT ON messages WHEN NEW.body = 'b' BEGIN SELECT RAISE(ABORT, 'no b'); END`);
      const failed = await Promise.allSettled([sut.append(general('a', { clientMsgId: 'c-a' })), sut.append(general('b'))]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      db.exec('DROP TRIGGER reject_b');

      await expect(sut.append(general('a', { clientMsgId: 'c-a' }))).resolves.toMatchObject({ frame: { id: 1 }, duplicate: false });
      await expect(sut.append(general('a', { clientMsgId: 'c-a' }))).resolves.toMatchObject({ frame: { id: 1 }, duplicate: true });
      expect(rowCount()).toBe(1);
    });
  });

  describe('rooms', () => {
    it('is empty before the first message', async () => {
      await expect(sut.rooms()).resolves.toEqual([]);
    });

    it('lists every room that has messages with its newest id, after each commit', async () => {
      await Promise.all([sut.append(general('g1')), sut.append(inRoom('dev', 'd2')), sut.append(general('g3'))]);

      expect(byName(await sut.rooms())).toEqual([
        { name: 'dev', lastMessageId: 2 },
        { name: 'general', lastMessageId: 3 },
      ]);

      await sut.append(inRoom('dev', 'd4'));
      await Promise.all([sut.append(inRoom('ops', 'o5')), sut.append(inRoom('dev', 'd6'))]);

      expect(byName(await sut.rooms())).toEqual([
        { name: 'dev', lastMessageId: 6 },
        { name: 'general', lastMessageId: 3 },
        { name: 'ops', lastMessageId: 5 },
      ]);
    });

    it('agrees with the messages table', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => sut.append(inRoom(['a', 'b', 'c'][i % 3], `m${i}`))));
      await sut.append(inRoom('b', 'late'));

      const expected = db.prepare('SELECT room AS name, MAX(id) AS lastMessageId FROM messages GROUP BY room ORDER BY room').all();
      expect(byName(await sut.rooms())).toEqual(expected);
    });

    it('is not touched by a failing batch', async () => {
      await sut.append(general('kept'));
      db.exec(`CREATE TRIGGER reject_b BEFORE INSERT ON messages WHEN NEW.body = 'b' BEGIN SELECT RAISE(ABORT, 'no b'); END`);

      const results = await Promise.allSettled([sut.append(general('a')), sut.append(inRoom('dev', 'x')), sut.append(general('b'))]);

      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      await expect(sut.rooms()).resolves.toEqual([{ name: 'general', lastMessageId: 1 }]);
    });

    it('is not touched when the database refuses writes', async () => {
      await sut.append(general('kept'));
      db.pragma('query_only = 1');

      await expect(sut.append(inRoom('dev', 'lost'))).rejects.toBeInstanceOf(StoreUnavailableError);

      await expect(sut.rooms()).resolves.toEqual([{ name: 'general', lastMessageId: 1 }]);
    });

    it('rejects with StoreUnavailableError when the database cannot be read', async () => {
      await ds.destroy();
      await expect(sut.rooms()).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  describe('drain', () => {
    it('resolves at once when nothing is pending', async () => {
      await expect(sut.drain()).resolves.toBeUndefined();
    });

    it('waits until every pending append is committed', async () => {
      const settled: number[] = [];
      const pending = [sut.append(general('a')), sut.append(general('b'))].map((p) => p.then(({ frame }) => settled.push(frame.id)));
      expect(rowCount()).toBe(0);

      await sut.drain();

      expect(rowCount()).toBe(2);
      expect(settled).toEqual([1, 2]);
      await Promise.all(pending);
    });
  });

  describe('close', () => {
    it('flushes appends already accepted, then refuses new ones', async () => {
      const accepted = sut.append(general('accepted'));

      await sut.close();

      await expect(accepted).resolves.toMatchObject({ frame: { id: 1, message: 'accepted' }, duplicate: false });
      expect(rowCount()).toBe(1);
      const refused = sut.append(general('too late'));
      await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(refused).rejects.toMatchObject({ cause: new Error('store is shut down') });
      expect(rowCount()).toBe(1);
    });
  });

  describe('page', () => {
    // general: ids 1..10, 14, 15; other: ids 11..13
    beforeEach(async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => sut.append(general(`g${i + 1}`))));
      await Promise.all(['o1', 'o2', 'o3'].map((body) => sut.append({ room: 'other', nickname: 'bob', body })));
      await Promise.all(['g14', 'g15'].map((body) => sut.append(general(body, { clientMsgId: `c-${body}` }))));
    });

    const page = async (query: { room?: string; limit: number; before?: number; after?: number }) => {
      const result = await sut.page({ room: 'general', ...query });
      return { ids: ids(result.messages), hasMore: result.hasMore };
    };

    it('returns message frames as append resolved them', async () => {
      const result = await sut.page({ room: 'general', limit: 2 });
      expect(result.messages).toStrictEqual([
        { type: 'message', id: 14, room: 'general', nickname: 'alice', message: 'g14', sentAt: expect.stringMatching(ISO_UTC), clientMsgId: 'c-g14' },
        { type: 'message', id: 15, room: 'general', nickname: 'alice', message: 'g15', sentAt: expect.stringMatching(ISO_UTC), clientMsgId: 'c-g15' },
      ]);
      const [plain] = (await sut.page({ room: 'general', limit: 1, before: 2 })).messages;
      expect(plain).toStrictEqual({ type: 'message', id: 1, room: 'general', nickname: 'alice', message: 'g1', sentAt: expect.stringMatching(ISO_UTC) });
    });

    it('returns the newest `limit` messages, oldest first, with hasMore', async () => {
      await expect(page({ limit: 5 })).resolves.toEqual({ ids: [8, 9, 10, 14, 15], hasMore: true });
      await expect(page({ limit: 11 })).resolves.toEqual({ ids: [2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15], hasMore: true });
      await expect(page({ limit: 12 })).resolves.toEqual({ ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15], hasMore: false });
      await expect(page({ limit: 200 })).resolves.toEqual({ ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15], hasMore: false });
    });

    it('pages backwards with `before`', async () => {
      await expect(page({ limit: 3, before: 10 })).resolves.toEqual({ ids: [7, 8, 9], hasMore: true });
      await expect(page({ limit: 3, before: 4 })).resolves.toEqual({ ids: [1, 2, 3], hasMore: false });
      await expect(page({ limit: 5, before: 3 })).resolves.toEqual({ ids: [1, 2], hasMore: false });
      await expect(page({ limit: 3, before: 14 })).resolves.toEqual({ ids: [8, 9, 10], hasMore: true });
      await expect(page({ limit: 3, before: 1 })).resolves.toEqual({ ids: [], hasMore: false });
    });

    it('pages forwards with `after`, ascending from it', async () => {
      await expect(page({ limit: 3, after: 8 })).resolves.toEqual({ ids: [9, 10, 14], hasMore: true });
      await expect(page({ limit: 3, after: 1 })).resolves.toEqual({ ids: [2, 3, 4], hasMore: true });
      await expect(page({ limit: 5, after: 10 })).resolves.toEqual({ ids: [14, 15], hasMore: false });
      await expect(page({ limit: 2, after: 10 })).resolves.toEqual({ ids: [14, 15], hasMore: false });
      await expect(page({ limit: 5, after: 15 })).resolves.toEqual({ ids: [], hasMore: false });
    });

    it('returns the window between `after` and `before`, ascending from `after`', async () => {
      await expect(page({ limit: 3, after: 2, before: 9 })).resolves.toEqual({ ids: [3, 4, 5], hasMore: true });
      await expect(page({ limit: 10, after: 2, before: 9 })).resolves.toEqual({ ids: [3, 4, 5, 6, 7, 8], hasMore: false });
      await expect(page({ limit: 5, after: 9, before: 15 })).resolves.toEqual({ ids: [10, 14], hasMore: false });
      await expect(page({ limit: 5, after: 5, before: 6 })).resolves.toEqual({ ids: [], hasMore: false });
      await expect(page({ limit: 5, after: 9, before: 3 })).resolves.toEqual({ ids: [], hasMore: false });
    });

    it('keeps rooms apart', async () => {
      await expect(page({ room: 'other', limit: 50 })).resolves.toEqual({ ids: [11, 12, 13], hasMore: false });
      await expect(page({ room: 'other', limit: 2 })).resolves.toEqual({ ids: [12, 13], hasMore: true });
      await expect(page({ room: 'other', limit: 50, after: 1 })).resolves.toEqual({ ids: [11, 12, 13], hasMore: false });
      await expect(page({ room: 'nobody-here', limit: 50 })).resolves.toEqual({ ids: [], hasMore: false });
    });

    it('rejects with StoreUnavailableError when the database cannot be read', async () => {
      await ds.destroy();
      await expect(sut.page({ room: 'general', limit: 5 })).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  describe('newestSince', () => {
    // general: ids 1..10, 14, 15; other: ids 11..13
    beforeEach(async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => sut.append(general(`g${i + 1}`))));
      await Promise.all(['o1', 'o2', 'o3'].map((body) => sut.append(inRoom('other', body))));
      await Promise.all(['g14', 'g15'].map((body) => sut.append(general(body, { clientMsgId: `c-${body}` }))));
    });

    const newest = async (room: string, after: number, limit: number) => {
      const result = await sut.newestSince(room, after, limit);
      return { ids: ids(result.messages), hasMore: result.hasMore };
    };

    it('returns every message above `after`, oldest first, when they fit', async () => {
      await expect(newest('general', 0, 12)).resolves.toEqual({ ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15], hasMore: false });
      await expect(newest('general', 0, 200)).resolves.toEqual({ ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15], hasMore: false });
      await expect(newest('general', 9, 3)).resolves.toEqual({ ids: [10, 14, 15], hasMore: false });
    });

    it('returns the newest `limit` with hasMore when older ones above `after` were left out', async () => {
      await expect(newest('general', 0, 5)).resolves.toEqual({ ids: [8, 9, 10, 14, 15], hasMore: true });
      await expect(newest('general', 8, 3)).resolves.toEqual({ ids: [10, 14, 15], hasMore: true });
      await expect(newest('general', 0, 1)).resolves.toEqual({ ids: [15], hasMore: true });
    });

    it('keeps rooms apart', async () => {
      await expect(newest('other', 0, 50)).resolves.toEqual({ ids: [11, 12, 13], hasMore: false });
      await expect(newest('other', 11, 1)).resolves.toEqual({ ids: [13], hasMore: true });
      await expect(newest('general', 10, 5)).resolves.toEqual({ ids: [14, 15], hasMore: false });
      await expect(newest('general', 12, 5)).resolves.toEqual({ ids: [14, 15], hasMore: false });
      await expect(newest('nobody-here', 0, 50)).resolves.toEqual({ ids: [], hasMore: false });
    });

    it('is empty when `after` is the newest id or beyond it', async () => {
      await expect(newest('general', 15, 5)).resolves.toEqual({ ids: [], hasMore: false });
      await expect(newest('general', 1000, 5)).resolves.toEqual({ ids: [], hasMore: false });
      await expect(newest('other', 13, 5)).resolves.toEqual({ ids: [], hasMore: false });
    });

    it('returns the same frames as page()', async () => {
      const { messages } = await sut.newestSince('general', 9, 3);
      await expect(sut.page({ room: 'general', limit: 3, after: 9 })).resolves.toEqual({ messages, hasMore: false });
      expect(messages[2]).toStrictEqual({
        type: 'message',
        id: 15,
        room: 'general',
        nickname: 'alice',
        message: 'g15',
        sentAt: expect.stringMatching(ISO_UTC),
        clientMsgId: 'c-g15',
      });
    });

    it('rejects with StoreUnavailableError when the database cannot be read', async () => {
      await ds.destroy();
      await expect(sut.newestSince('general', 0, 5)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});
