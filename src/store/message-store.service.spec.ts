import { Logger } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { DIALECT_KINDS, StoreFixture } from '../database/store-fixture';
import { sqliteOptions } from '../database/typeorm-options';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import type { DirectMessageRecord, MessageRecord } from '../protocol/frames';
import { MessageStore, StoreUnavailableError, type NewDirectMessage, type NewMessage, type StoredRoom } from './message-store.service';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const general = (body: string, extra: Partial<NewMessage> = {}): NewMessage => ({ room: 'general', nickname: 'alice', body, ...extra });
const inRoom = (room: string, body: string): NewMessage => ({ room, nickname: 'bob', body });
const dm = (body: string, extra: Partial<NewDirectMessage> = {}): NewDirectMessage => ({ from: 'alice', to: 'bob', body, ...extra });
const ids = (records: Array<{ id: number }>): number[] => records.map((r) => r.id);
const byName = (rooms: StoredRoom[]): StoredRoom[] => [...rooms].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
/** A room as the write path leaves it: public, no owner, no creation time. */
const room = (name: string, lastMessageId: number): StoredRoom => ({ name, lastMessageId, visibility: 'public', ownerId: null, createdAt: null });
/** The DM columns of `messages` (room NULL), named as direct_messages named them. */
const DM_ROWS = 'SELECT id, nickname AS sender, recipient, body, sent_at, client_msg_id FROM messages WHERE room IS NULL ORDER BY id';

describe(MessageStore.name, () => {
  let ds: DataSource;
  let sut: MessageStore;
  let runner: QueryRunner;
  let logError: jest.SpyInstance;
  let logOther: jest.SpyInstance[];

  beforeEach(async () => {
    ds = new DataSource(sqliteOptions({ path: ':memory:', synchronous: 'FULL' }));
    await ds.initialize();
    sut = new MessageStore(ds, new ChatMetrics());
    await sut.onModuleInit();
    runner = ds.createQueryRunner();
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    logOther = (['log', 'debug'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined));
  });

  afterEach(async () => {
    sut.onApplicationShutdown();
    logError.mockRestore();
    logOther.forEach((spy) => spy.mockRestore());
    if (ds.isInitialized) await ds.destroy();
  });

  const query = <T = Array<Record<string, unknown>>>(sql: string, params: unknown[] = []): Promise<T> => ds.query<T>(sql, params);
  const rowCount = async (where = 'room IS NOT NULL'): Promise<number> => (await query<[{ n: number }]>(`SELECT count(*) AS n FROM messages WHERE ${where}`))[0].n;
  const dmCount = () => rowCount('room IS NULL');
  /** Counts the store's write transactions from now on. */
  const countTransactions = (): (() => number) => {
    const spy = jest.spyOn(runner, 'query');
    return () => spy.mock.calls.filter(([sql]) => sql === 'BEGIN IMMEDIATE').length;
  };
  const rejectBody = (table: string, body: string) =>
    query(`CREATE TRIGGER reject_${body} BEFORE INSERT ON ${table} WHEN NEW.body = '${body}' BEGIN SELECT RAISE(ABORT, 'no ${body}'); END`);

  describe('append', () => {
    it('stores the message and resolves with its row', async () => {
      const stored = await sut.append({ room: 'general', nickname: 'alice', body: '<b>hi</b> 张三 😀', clientMsgId: 'c-1' });

      expect(stored).toStrictEqual({
        record: { id: 1, room: 'general', nickname: 'alice', body: '<b>hi</b> 张三 😀', sentAt: expect.stringMatching(ISO_UTC), clientMsgId: 'c-1', userId: null },
        duplicate: false,
      });
      await expect(query('SELECT id, room, nickname, body, sent_at, client_msg_id, user_id, recipient, recipient_id FROM messages')).resolves.toEqual([
        {
          id: 1,
          room: 'general',
          nickname: 'alice',
          body: '<b>hi</b> 张三 😀',
          sent_at: stored.record.sentAt,
          client_msg_id: 'c-1',
          user_id: null,
          recipient: null,
          recipient_id: null,
        },
      ]);
    });

    it("stores the sender's user id when given, and page() returns it", async () => {
      const { record } = await sut.append(general('signed in', { userId: 'sub-alice', clientMsgId: 'c-1' }));

      expect(record).toMatchObject({ id: 1, nickname: 'alice', userId: 'sub-alice' });
      await expect(query('SELECT user_id FROM messages')).resolves.toEqual([{ user_id: 'sub-alice' }]);
      await expect(sut.page({ room: 'general', limit: 5 })).resolves.toStrictEqual({ messages: [record], hasMore: false });
      // a resend answers with the stored row, user id included
      await expect(sut.append(general('again', { userId: 'sub-alice', clientMsgId: 'c-1' }))).resolves.toStrictEqual({ record, duplicate: true });
    });

    it('resolves clientMsgId as null when none was given', async () => {
      const { record } = await sut.append(general('hi'));
      expect(record.clientMsgId).toBeNull();
    });

    it('commits appends made in the same tick in one transaction, resolving in call order', async () => {
      const transactions = countTransactions();
      const resolved: number[] = [];

      const records = await Promise.all(
        ['one', 'two', 'three'].map((body) =>
          sut.append(general(body)).then(({ record }) => {
            resolved.push(record.id);
            return record;
          }),
        ),
      );

      expect(transactions()).toBe(1);
      expect(ids(records)).toEqual([1, 2, 3]);
      expect(resolved).toEqual([1, 2, 3]);
      expect(records.map((r) => r.body)).toEqual(['one', 'two', 'three']);
      expect(new Set(records.map((r) => r.sentAt)).size).toBe(1);
      expect(records[0].sentAt).toMatch(ISO_UTC);
    });

    it('commits appends made in later ticks in later transactions, with increasing ids', async () => {
      const transactions = countTransactions();

      const { record: first } = await sut.append(general('first'));
      const { record: second } = await sut.append(general('second'));

      expect(transactions()).toBe(2);
      expect(second.id).toBeGreaterThan(first.id);
      expect(second.sentAt >= first.sentAt).toBe(true);
    });

    it('splits a burst larger than one batch (512) into several transactions, keeping order', async () => {
      const transactions = countTransactions();

      const records = await Promise.all(Array.from({ length: 600 }, async (_, i) => (await sut.append(general(`m${i}`))).record));

      expect(transactions()).toBe(2);
      expect(ids(records)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      expect(records.map((r) => r.body)).toEqual(Array.from({ length: 600 }, (_, i) => `m${i}`));
      await expect(rowCount()).resolves.toBe(600);
    });

    it('rejects every append of a failed batch with StoreUnavailableError and stores none of them', async () => {
      await sut.append(general('before the outage'));
      await query('PRAGMA query_only = 1');

      const results = await Promise.allSettled([sut.append(general('a')), sut.append(general('b')), sut.append(general('c'))]);

      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const result of results) {
        const reason = (result as PromiseRejectedResult).reason as StoreUnavailableError;
        expect(reason).toBeInstanceOf(StoreUnavailableError);
        expect(reason.message).toBe('The message store is unavailable; nothing was stored or sent, try again');
        expect(reason.cause).toMatchObject({ driverError: { code: 'SQLITE_READONLY' } });
      }
      expect(logError).toHaveBeenCalledTimes(1);
      await query('PRAGMA query_only = 0');
      await expect(rowCount()).resolves.toBe(1);
    });

    it('rolls back the whole batch when a row in the middle fails', async () => {
      await rejectBody('messages', 'b');

      const results = await Promise.allSettled([sut.append(general('a')), sut.append(general('b')), sut.append(general('c'))]);

      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(results.map((r): unknown => (r as PromiseRejectedResult).reason)).toEqual([
        expect.any(StoreUnavailableError),
        expect.any(StoreUnavailableError),
        expect.any(StoreUnavailableError),
      ]);
      await expect(rowCount()).resolves.toBe(0);

      await query('DROP TRIGGER reject_b');
      await expect(sut.append(general('after'))).resolves.toMatchObject({ record: { id: 1, body: 'after' }, duplicate: false });
    });

    it('recovers once the database takes writes again', async () => {
      await query('PRAGMA query_only = 1');
      await expect(sut.append(general('lost'))).rejects.toBeInstanceOf(StoreUnavailableError);

      await query('PRAGMA query_only = 0');
      const { record } = await sut.append(general('kept'));

      expect(record).toMatchObject({ id: 1, body: 'kept' });
      await expect(sut.page({ room: 'general', limit: 10 })).resolves.toEqual({ messages: [record], hasMore: false });
    });

    it('rejects with StoreUnavailableError when the data source is gone', async () => {
      await ds.destroy();
      await expect(sut.append(general('x'))).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  describe('appendDirect', () => {
    it('stores the message in messages with a NULL room and resolves with its row', async () => {
      const stored = await sut.appendDirect(dm('<i>psst</i> 😀', { clientMsgId: 'd-1' }));

      expect(stored).toStrictEqual({
        record: {
          id: 1,
          sender: 'alice',
          recipient: 'bob',
          body: '<i>psst</i> 😀',
          sentAt: expect.stringMatching(ISO_UTC),
          clientMsgId: 'd-1',
          senderId: null,
          recipientId: null,
        },
        duplicate: false,
      });
      await expect(query('SELECT id, room, nickname, recipient, body, sent_at, client_msg_id, user_id, recipient_id FROM messages')).resolves.toEqual([
        {
          id: 1,
          room: null,
          nickname: 'alice',
          recipient: 'bob',
          body: '<i>psst</i> 😀',
          sent_at: stored.record.sentAt,
          client_msg_id: 'd-1',
          user_id: null,
          recipient_id: null,
        },
      ]);
    });

    it('stores the user ids when given', async () => {
      const stored = await sut.appendDirect(dm('psst', { clientMsgId: 'd-1', fromId: 'sub-a', toId: 'sub-b' }));

      expect(stored).toMatchObject({ record: { id: 1, sender: 'alice', recipient: 'bob', senderId: 'sub-a', recipientId: 'sub-b' }, duplicate: false });
      await expect(query('SELECT user_id, recipient_id FROM messages')).resolves.toEqual([{ user_id: 'sub-a', recipient_id: 'sub-b' }]);
    });

    it('takes the next id of the sequence room messages use, and never shows in a room or in rooms()', async () => {
      await sut.append(general('public'));
      const { record } = await sut.appendDirect(dm('private'));
      await sut.append(general('public again'));

      expect(record.id).toBe(2);
      await expect(rowCount()).resolves.toBe(2);
      await expect(dmCount()).resolves.toBe(1);
      const { messages } = await sut.page({ room: 'general', limit: 200 });
      expect(messages.map((m) => [m.id, m.body])).toEqual([
        [1, 'public'],
        [3, 'public again'],
      ]);
      await expect(sut.newestSince('general', 0, 200)).resolves.toMatchObject({ messages: [{ id: 1 }, { id: 3 }], hasMore: false });
      await expect(sut.rooms()).resolves.toEqual([room('general', 3)]);
    });

    it('commits room and direct appends made in the same tick in one transaction, resolving in call order', async () => {
      const transactions = countTransactions();
      const resolved: string[] = [];
      const track = <T extends MessageRecord | DirectMessageRecord>(p: Promise<{ record: T }>) =>
        p.then(({ record }) => {
          resolved.push(record.body);
          return record;
        });

      const [first, second, third, fourth] = await Promise.all([
        track(sut.append(general('r1'))),
        track(sut.appendDirect(dm('d1'))),
        track(sut.append(inRoom('dev', 'r2'))),
        track(sut.appendDirect(dm('d2', { from: 'bob', to: 'alice' }))),
      ]);

      expect(transactions()).toBe(1);
      expect(resolved).toEqual(['r1', 'd1', 'r2', 'd2']);
      expect(new Set([first, second, third, fourth].map((r) => r.sentAt)).size).toBe(1);
      // one sequence for both, in call order
      expect([first.id, second.id, third.id, fourth.id]).toEqual([1, 2, 3, 4]);
      expect(fourth).toMatchObject({ sender: 'bob', recipient: 'alice' });
      await expect(rowCount()).resolves.toBe(2);
      await expect(dmCount()).resolves.toBe(2);
    });

    it('rejects every append of a failed batch, room and direct alike, and stores none of them', async () => {
      await rejectBody('messages', 'b');

      const results = await Promise.allSettled([sut.append(general('a')), sut.appendDirect(dm('b')), sut.appendDirect(dm('c'))]);

      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const result of results) {
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      }
      await expect(rowCount()).resolves.toBe(0);
      await expect(dmCount()).resolves.toBe(0);
      await expect(sut.rooms()).resolves.toEqual([]);
    });

    it('is refused after close', async () => {
      await sut.close();
      await expect(sut.appendDirect(dm('too late'))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(dmCount()).resolves.toBe(0);
    });
  });

  describe('idempotency by clientMsgId', () => {
    const T1 = '2026-11-21T23:44:19.123Z';
    const T2 = '2026-11-21T23:45:00.000Z';

    /** Each later batch gets a later sentAt, so a resend answered with the original is told apart. */
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'setInterval', 'clearInterval'], now: new Date(T1) });
    });

    afterEach(() => {
      jest.useRealTimers();
    });

    const messageRows = () => query('SELECT id, room, nickname, body, sent_at, client_msg_id FROM messages WHERE room IS NOT NULL ORDER BY id');
    const directRows = () => query(DM_ROWS);
    const original: MessageRecord = { id: 1, room: 'general', nickname: 'alice', body: 'original', sentAt: T1, clientMsgId: 'c-1', userId: null };

    it('stores a clientMsgId sent twice in one batch once; the second resolves as a duplicate of the first', async () => {
      const transactions = countTransactions();

      const [first, second] = await Promise.all([
        sut.append(general('original', { clientMsgId: 'c-1' })),
        sut.append(general('resent text', { clientMsgId: 'c-1' })),
      ]);

      expect(transactions()).toBe(1);
      expect(first).toStrictEqual({ record: original, duplicate: false });
      expect(second).toStrictEqual({ record: original, duplicate: true });
      await expect(messageRows()).resolves.toEqual([{ id: 1, room: 'general', nickname: 'alice', body: 'original', sent_at: T1, client_msg_id: 'c-1' }]);
    });

    it('answers a resend in a later batch with the original id, text and sentAt, storing nothing new', async () => {
      const first = await sut.append(general('original', { clientMsgId: 'c-1' }));
      await sut.append(general('in between'));
      jest.setSystemTime(new Date(T2));

      const resend = await sut.append(general('resent text', { clientMsgId: 'c-1', nickname: 'renamed' }));

      expect(first.duplicate).toBe(false);
      expect(resend).toStrictEqual({ record: original, duplicate: true });
      await expect(rowCount()).resolves.toBe(2);
      await expect(sut.rooms()).resolves.toEqual([room('general', 2)]);
      // ids stay strictly increasing; a resend may use up one (SQLite AUTOINCREMENT), never reuse it
      const next = await sut.append(general('new', { clientMsgId: 'c-2' }));
      expect(next).toMatchObject({ record: { sentAt: T2 }, duplicate: false });
      expect(next.record.id).toBeGreaterThan(2);
    });

    it('keeps resolving in call order when a batch mixes new messages and resends', async () => {
      await sut.append(general('original', { clientMsgId: 'c-1' }));
      const resolved: string[] = [];
      const track = (p: Promise<{ record: MessageRecord; duplicate: boolean }>) =>
        p.then(({ record, duplicate }) => {
          resolved.push(`${record.body}${duplicate ? ' (dup)' : ''}`);
          return record.id;
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
      await expect(rowCount()).resolves.toBe(3);
      await expect(sut.rooms()).resolves.toEqual([room('general', b)]);
    });

    it('stores the same clientMsgId once per room', async () => {
      const inGeneral = await sut.append(general('hi general', { clientMsgId: 'c-1' }));
      const inDev = await sut.append(general('hi dev', { clientMsgId: 'c-1', room: 'dev' }));

      expect(inGeneral).toMatchObject({ record: { id: 1, room: 'general', body: 'hi general' }, duplicate: false });
      expect(inDev).toMatchObject({ record: { id: 2, room: 'dev', body: 'hi dev' }, duplicate: false });
      await expect(rowCount()).resolves.toBe(2);
    });

    it('never deduplicates messages without a clientMsgId', async () => {
      const results = await Promise.all([sut.append(general('same')), sut.append(general('same'))]);
      const later = await sut.append(general('same'));

      expect([...results, later].map(({ record, duplicate }) => [record.id, duplicate])).toEqual([
        [1, false],
        [2, false],
        [3, false],
      ]);
      await expect(rowCount()).resolves.toBe(3);
    });

    it('deduplicates direct messages per sender, answering with the original', async () => {
      const first = await sut.appendDirect(dm('original', { clientMsgId: 'd-1' }));
      jest.setSystemTime(new Date(T2));

      const [sameRecipient, otherRecipient] = await Promise.all([
        sut.appendDirect(dm('resent', { clientMsgId: 'd-1' })),
        sut.appendDirect(dm('resent elsewhere', { clientMsgId: 'd-1', to: 'carol' })),
      ]);

      const row: DirectMessageRecord = {
        id: 1,
        sender: 'alice',
        recipient: 'bob',
        body: 'original',
        sentAt: T1,
        clientMsgId: 'd-1',
        senderId: null,
        recipientId: null,
      };
      expect(first).toStrictEqual({ record: row, duplicate: false });
      expect(sameRecipient).toStrictEqual({ record: row, duplicate: true });
      expect(otherRecipient).toStrictEqual({ record: row, duplicate: true });
      await expect(dmCount()).resolves.toBe(1);
    });

    it('stores a direct message from another sender with the same clientMsgId as a new row', async () => {
      await sut.appendDirect(dm('from alice', { clientMsgId: 'd-1' }));

      const fromBob = await sut.appendDirect(dm('from bob', { clientMsgId: 'd-1', from: 'bob', to: 'alice' }));

      expect(fromBob).toMatchObject({ record: { id: 2, sender: 'bob', recipient: 'alice', body: 'from bob' }, duplicate: false });
      await expect(directRows()).resolves.toEqual([
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
      await expect(Promise.all([rowCount(), dmCount()])).resolves.toEqual([1, 1]);
    });

    it('stores a retry of a failed batch once, as a new message', async () => {
      await query('PRAGMA query_only = 1');
      await expect(sut.append(general('first try', { clientMsgId: 'c-1' }))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(sut.appendDirect(dm('first try', { clientMsgId: 'd-1' }))).rejects.toBeInstanceOf(StoreUnavailableError);
      await query('PRAGMA query_only = 0');
      jest.setSystemTime(new Date(T2));

      const [retry, retryAgain] = await Promise.all([
        sut.append(general('retry', { clientMsgId: 'c-1' })),
        sut.append(general('retry', { clientMsgId: 'c-1' })),
      ]);
      const directRetry = await sut.appendDirect(dm('retry', { clientMsgId: 'd-1' }));

      expect(retry).toStrictEqual({ record: { ...original, body: 'retry', sentAt: T2 }, duplicate: false });
      expect(retryAgain).toStrictEqual({ record: retry.record, duplicate: true });
      expect(directRetry).toMatchObject({ record: { body: 'retry', sentAt: T2 }, duplicate: false });
      expect(directRetry.record.id).toBeGreaterThan(retry.record.id);
      await expect(messageRows()).resolves.toEqual([{ id: 1, room: 'general', nickname: 'alice', body: 'retry', sent_at: T2, client_msg_id: 'c-1' }]);
      await expect(dmCount()).resolves.toBe(1);
    });

    it('keeps signed-in senders apart: the same clientMsgId from two users in one room is two messages, each resend its own', async () => {
      const alice = await sut.append(general('from alice', { userId: 'sub-alice', clientMsgId: 'c-1' }));
      const bob = await sut.append(general('from bob', { userId: 'sub-bob', clientMsgId: 'c-1' }));
      const anonymous = await sut.append(general('from a guest', { clientMsgId: 'c-1' }));

      expect([alice.duplicate, bob.duplicate, anonymous.duplicate]).toEqual([false, false, false]);
      expect([alice.record.id, bob.record.id, anonymous.record.id]).toEqual([1, 2, 3]);
      await expect(sut.append(general('bob again', { userId: 'sub-bob', clientMsgId: 'c-1' }))).resolves.toStrictEqual({ record: bob.record, duplicate: true });
      await expect(sut.append(general('alice again', { userId: 'sub-alice', clientMsgId: 'c-1' }))).resolves.toStrictEqual({ record: alice.record, duplicate: true });
      await expect(sut.append(general('guest again', { clientMsgId: 'c-1' }))).resolves.toStrictEqual({ record: anonymous.record, duplicate: true });
      // Anonymous senders keep the per-room rule: another guest's resend of c-1 is the first guest's message.
      await expect(sut.append({ room: 'general', nickname: 'carol', body: 'other guest', clientMsgId: 'c-1' })).resolves.toMatchObject({ record: { id: 3 }, duplicate: true });
      await expect(rowCount()).resolves.toBe(3);
    });

    it('stores a resend once when the batch it was in rolled back for another row', async () => {
      await rejectBody('messages', 'b');
      const failed = await Promise.allSettled([sut.append(general('a', { clientMsgId: 'c-a' })), sut.append(general('b'))]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      await query('DROP TRIGGER reject_b');

      await expect(sut.append(general('a', { clientMsgId: 'c-a' }))).resolves.toMatchObject({ record: { id: 1 }, duplicate: false });
      await expect(sut.append(general('a', { clientMsgId: 'c-a' }))).resolves.toMatchObject({ record: { id: 1 }, duplicate: true });
      await expect(rowCount()).resolves.toBe(1);
    });
  });

  describe('rooms', () => {
    it('is empty before the first message', async () => {
      await expect(sut.rooms()).resolves.toEqual([]);
    });

    it('lists every room that has messages with its newest id, after each commit', async () => {
      await Promise.all([sut.append(general('g1')), sut.append(inRoom('dev', 'd2')), sut.append(general('g3'))]);

      expect(byName(await sut.rooms())).toEqual([room('dev', 2), room('general', 3)]);

      await sut.append(inRoom('dev', 'd4'));
      await Promise.all([sut.append(inRoom('ops', 'o5')), sut.append(inRoom('dev', 'd6'))]);

      expect(byName(await sut.rooms())).toEqual([room('dev', 6), room('general', 3), room('ops', 5)]);
    });

    it('agrees with the messages table after batches touching any number of rooms', async () => {
      // 300 rooms in one batch: the upsert runs in chunks of 256, 32 and 8 rooms
      await Promise.all(Array.from({ length: 600 }, (_, i) => sut.append(inRoom(`r${i % 300}`, `m${i}`))));
      await Promise.all(Array.from({ length: 7 }, (_, i) => sut.append(inRoom(`r${i * 40}`, 'late'))));

      const newest = await query<Array<{ name: string; lastMessageId: number }>>(
        'SELECT room AS name, MAX(id) AS lastMessageId FROM messages GROUP BY room ORDER BY room',
      );
      expect(newest).toHaveLength(300);
      expect(byName(await sut.rooms())).toEqual(newest.map(({ name, lastMessageId }) => room(name, lastMessageId)));
    });

    it('is not touched by a failing batch', async () => {
      await sut.append(general('kept'));
      await rejectBody('messages', 'b');

      const results = await Promise.allSettled([sut.append(general('a')), sut.append(inRoom('dev', 'x')), sut.append(general('b'))]);

      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      await expect(sut.rooms()).resolves.toEqual([room('general', 1)]);
    });

    it('is not touched when the database refuses writes', async () => {
      await sut.append(general('kept'));
      await query('PRAGMA query_only = 1');

      await expect(sut.append(inRoom('dev', 'lost'))).rejects.toBeInstanceOf(StoreUnavailableError);

      await expect(sut.rooms()).resolves.toEqual([room('general', 1)]);
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
      const pending = [sut.append(general('a')), sut.append(general('b'))].map((p) => p.then(({ record }) => settled.push(record.id)));
      await expect(rowCount()).resolves.toBe(0);

      await sut.drain();

      await expect(rowCount()).resolves.toBe(2);
      expect(settled).toEqual([1, 2]);
      await Promise.all(pending);
    });
  });

  describe('close', () => {
    it('flushes appends already accepted, then refuses new ones', async () => {
      const accepted = sut.append(general('accepted'));

      await sut.close();

      await expect(accepted).resolves.toMatchObject({ record: { id: 1, body: 'accepted' }, duplicate: false });
      await expect(rowCount()).resolves.toBe(1);
      const refused = sut.append(general('too late'));
      await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(refused).rejects.toMatchObject({ cause: new Error('store is shut down') });
      await expect(rowCount()).resolves.toBe(1);
    });
  });
});

// The reads, on every dialect (SQLite, and PostgreSQL where TEST_POSTGRES_URL is reachable).
describe.each(DIALECT_KINDS)(`${MessageStore.name} reads (%s)`, (kind) => {
  let store: StoreFixture;
  let ds: DataSource;
  let sut: MessageStore;

  beforeEach(async () => {
    store = await StoreFixture.open(kind);
    ds = store.ds;
    sut = store.messages;
  });

  afterEach(() => store.close());

  describe('page', () => {
    // general: ids 1..10, 14, 15; other: ids 11..13
    beforeEach(async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => sut.append(general(`g${i + 1}`))));
      await Promise.all(['o1', 'o2', 'o3'].map((body) => sut.append({ room: 'other', nickname: 'bob', body })));
      await Promise.all(['g14', 'g15'].map((body) => sut.append(general(body, { clientMsgId: `c-${body}` }))));
    });

    const page = async (q: { room?: string; limit: number; before?: number; after?: number }) => {
      const result = await sut.page({ room: 'general', ...q });
      return { ids: ids(result.messages), hasMore: result.hasMore };
    };

    it('returns rows exactly as append resolved them', async () => {
      const { record: g16 } = await sut.append(general('g16', { clientMsgId: 'c-g16' }));
      await expect(sut.page({ room: 'general', limit: 1 })).resolves.toStrictEqual({ messages: [g16], hasMore: true });
      const [plain] = (await sut.page({ room: 'general', limit: 1, before: 2 })).messages;
      expect(plain).toStrictEqual({ id: 1, room: 'general', nickname: 'alice', body: 'g1', sentAt: expect.stringMatching(ISO_UTC), clientMsgId: null, userId: null });
    });

    it('returns any text exactly as stored: quotes, backslashes, control characters, NUL, emoji, RTL', async () => {
      const bodies = ['"quoted" \\ back\\slash', 'tab\tnew\nline\r\u0001\u001f', 'nul\u0000inside', '😀 张三 \u2028\u2029', 'مرحبا <b>&amp;</b>'];
      const appended = await Promise.all(bodies.map((body, i) => sut.append({ room: 'text', nickname: 'ünï', body, clientMsgId: `"${i}"` })));

      const { messages } = await sut.page({ room: 'text', limit: 50 });

      // PostgreSQL's text cannot hold NUL: it is stored as U+FFFD (see dialect.ts).
      const stored = store.postgres ? bodies.map((body) => body.replaceAll('\0', '\uFFFD')) : bodies;
      expect(messages).toStrictEqual(appended.map((s) => s.record));
      expect(messages.map((m) => m.body)).toEqual(stored);
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

    it('pages forwards with `after`, ascending from it, from 0 included', async () => {
      await expect(page({ limit: 3, after: 8 })).resolves.toEqual({ ids: [9, 10, 14], hasMore: true });
      await expect(page({ limit: 3, after: 1 })).resolves.toEqual({ ids: [2, 3, 4], hasMore: true });
      await expect(page({ limit: 3, after: 0 })).resolves.toEqual({ ids: [1, 2, 3], hasMore: true });
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

    it('returns the same rows as page()', async () => {
      const { messages } = await sut.newestSince('general', 9, 3);
      await expect(sut.page({ room: 'general', limit: 3, after: 9 })).resolves.toEqual({ messages, hasMore: false });
      expect(messages[2]).toStrictEqual({
        id: 15,
        room: 'general',
        nickname: 'alice',
        body: 'g15',
        sentAt: expect.stringMatching(ISO_UTC),
        clientMsgId: 'c-g15',
        userId: null,
      });
    });

    it('rejects with StoreUnavailableError when the database cannot be read', async () => {
      await ds.destroy();
      await expect(sut.newestSince('general', 0, 5)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});
