import type { DirectMessageRecord } from '../protocol/frames';
import { CONVERSATIONS, DM_PAGE_BETWEEN, DMS_SINCE, UNDELIVERED } from './direct-message-sql';
import { DirectMessageStore } from './direct-message-store.service';
import type { NewDirectMessage } from './message-store.service';
import { StoreUnavailableError } from './store-database';
import { STORE_KINDS, StoreFixture } from '../database/store-fixture';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The users of these specs: a user id and the nickname it signs in with. */
const USERS = { alice: 'sub-alice', bob: 'sub-bob', carol: 'sub-carol' } as const;
type Name = keyof typeof USERS;

const ids = (page: { messages: Array<{ id: number }> }) => page.messages.map((m) => m.id);

describe.each(STORE_KINDS)(`${DirectMessageStore.name} (%s)`, (kind) => {
  let store: StoreFixture;
  let sut: DirectMessageStore;

  beforeEach(async () => {
    store = await StoreFixture.open(kind);
    sut = store.dms;
    for (const [nickname, id] of Object.entries(USERS)) await store.users.upsertUser({ id, nickname, roles: [] });
  });

  afterEach(async () => {
    await store.close();
  });

  /** A DM between signed-in users, as the chat service appends it in jwt mode. */
  const dm = (from: Name, to: Name, body: string, extra: Partial<NewDirectMessage> = {}): NewDirectMessage => ({
    from,
    to,
    fromId: USERS[from],
    toId: USERS[to],
    body,
    ...extra,
  });
  const send = async (from: Name, to: Name, body = `${from} to ${to}`, extra: Partial<NewDirectMessage> = {}) =>
    (await store.messages.appendDirect(dm(from, to, body, extra))).record;
  const post = async (room: string, body = `in ${room}`) => (await store.messages.append({ room, nickname: 'alice', body, userId: USERS.alice })).record;
  const cursor = async (name: Name) => (await store.users.getUser(USERS[name]))?.dmDeliveredId;

  describe('one id sequence with room messages', () => {
    it('numbers room messages and DMs in one sequence, in commit order, and keeps each out of the other’s reads', async () => {
      const r1 = await post('general');
      const d2 = await send('alice', 'bob');
      const [r3, d4, r5] = await Promise.all([
        store.messages.append({ room: 'general', nickname: 'bob', body: 'r3' }),
        store.messages.appendDirect(dm('bob', 'alice', 'd4')),
        store.messages.append({ room: 'dev', nickname: 'bob', body: 'r5' }),
      ]);

      expect([r1.id, d2.id, r3.record.id, d4.record.id, r5.record.id]).toEqual([1, 2, 3, 4, 5]);
      await expect(store.messages.newestSince('general', 0, 50).then(ids)).resolves.toEqual([1, 3]);
      await expect(store.messages.page({ room: 'general', limit: 50 }).then(ids)).resolves.toEqual([1, 3]);
      await expect(sut.dmsSince(USERS.alice, 0, 50).then(ids)).resolves.toEqual([2, 4]);
      await expect(store.messages.rooms()).resolves.toMatchObject([
        { name: 'general', lastMessageId: 3 },
        { name: 'dev', lastMessageId: 5 },
      ]);
    });
  });

  describe('appendDirect with user ids', () => {
    it('resolves with the row, user ids included, and dmsSince returns exactly that row', async () => {
      const stored = await store.messages.appendDirect(dm('alice', 'bob', 'hi', { clientMsgId: 'd-1' }));

      const row: DirectMessageRecord = {
        id: 1,
        sender: 'alice',
        recipient: 'bob',
        body: 'hi',
        sentAt: expect.stringMatching(ISO_UTC),
        clientMsgId: 'd-1',
        senderId: USERS.alice,
        recipientId: USERS.bob,
      };
      expect(stored).toStrictEqual({ record: row, duplicate: false });
      await expect(sut.dmsSince(USERS.bob, 0, 10)).resolves.toStrictEqual({ messages: [stored.record], hasMore: false });
    });

    it('is idempotent per (sender user id, clientMsgId), whatever nickname the sender has now', async () => {
      const first = await store.messages.appendDirect(dm('alice', 'bob', 'original', { clientMsgId: 'd-1' }));

      const renamed = await store.messages.appendDirect({ ...dm('alice', 'bob', 'resent', { clientMsgId: 'd-1' }), from: 'Alice Smith' });
      const toAnother = await store.messages.appendDirect(dm('alice', 'carol', 'resent elsewhere', { clientMsgId: 'd-1' }));

      expect(renamed).toStrictEqual({ record: first.record, duplicate: true });
      expect(toAnother).toStrictEqual({ record: first.record, duplicate: true });
      await expect(store.query('SELECT COUNT(*) AS n FROM messages')).resolves.toEqual([{ n: 1 }]);
    });

    it('keeps the same clientMsgId of two users apart, though they share a nickname, and apart from anonymous DMs', async () => {
      const one = await store.messages.appendDirect({ from: 'Sam', to: 'bob', fromId: 'sub-sam-1', toId: USERS.bob, body: 'one', clientMsgId: 'x' });
      const two = await store.messages.appendDirect({ from: 'Sam', to: 'bob', fromId: 'sub-sam-2', toId: USERS.bob, body: 'two', clientMsgId: 'x' });
      const anonymous = await store.messages.appendDirect({ from: 'Sam', to: 'bob', body: 'anonymous', clientMsgId: 'x' });
      const anonymousAgain = await store.messages.appendDirect({ from: 'Sam', to: 'bob', body: 'again', clientMsgId: 'x' });
      const inRoom = await store.messages.append({ room: 'general', nickname: 'Sam', userId: 'sub-sam-1', body: 'room', clientMsgId: 'x' });

      expect([one, two, anonymous, inRoom].map((s) => s.duplicate)).toEqual([false, false, false, false]);
      expect(anonymousAgain).toStrictEqual({ record: anonymous.record, duplicate: true });
      expect(anonymous.record).toMatchObject({ senderId: null, recipientId: null, body: 'anonymous' });
    });

    it('stores a retry of a failed batch once, and a resend in the same batch as a duplicate', async () => {
      await store.rejectInserts('messages', "NEW.body = 'poison'");
      const failed = await Promise.allSettled([send('alice', 'bob', 'first try', { clientMsgId: 'd-1' }), post('general', 'poison')]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      await store.allowInserts('messages');

      const [retry, resend] = await Promise.all([
        store.messages.appendDirect(dm('alice', 'bob', 'retry', { clientMsgId: 'd-1' })),
        store.messages.appendDirect(dm('alice', 'bob', 'resend', { clientMsgId: 'd-1' })),
      ]);

      expect(retry).toMatchObject({ record: { body: 'retry' }, duplicate: false });
      expect(resend).toStrictEqual({ record: retry.record, duplicate: true });
    });
  });

  describe('delivered: the recipient is online', () => {
    it('moves the recipient’s cursor to the DM in the same group commit, and only the recipient’s', async () => {
      const transactions = store.countTransactions();

      const [a, , c] = await Promise.all([
        send('alice', 'bob', 'one', { delivered: true }),
        post('general'),
        send('carol', 'bob', 'two', { delivered: true }),
        send('bob', 'carol', 'offline'),
      ]);

      expect(transactions()).toBe(1);
      expect(c.id).toBeGreaterThan(a.id);
      await expect(cursor('bob')).resolves.toBe(c.id);
      await expect(cursor('carol')).resolves.toBe(0);
      await expect(cursor('alice')).resolves.toBe(0);
    });

    it('never moves a cursor back', async () => {
      await sut.markDmsDelivered(USERS.bob, 1000);
      await send('alice', 'bob', 'late', { delivered: true });
      await expect(cursor('bob')).resolves.toBe(1000);
    });

    it('does not move it for a resend (its original was not delivered live), nor for a failed batch', async () => {
      const original = await send('alice', 'bob', 'while away', { clientMsgId: 'd-1' });
      await send('alice', 'bob', 'resent', { clientMsgId: 'd-1', delivered: true });
      await expect(cursor('bob')).resolves.toBe(0);

      await store.rejectInserts('messages', "NEW.body = 'poison'");
      await Promise.allSettled([send('carol', 'bob', 'lost', { delivered: true }), post('general', 'poison')]);
      await expect(cursor('bob')).resolves.toBe(0);
      await expect(sut.undeliveredDms(USERS.bob, 10).then(ids)).resolves.toEqual([original.id]);
    });

    it('needs the recipient’s user id: without one nothing moves', async () => {
      await store.messages.appendDirect({ from: 'alice', to: 'bob', body: 'anonymous', delivered: true });
      await expect(cursor('bob')).resolves.toBe(0);
    });
  });

  describe('dmsSince', () => {
    // 1 a→b, 2 room, 3 b→a, 4 a→c, 5 c→b, 6 room, 7 a→a, 8 b→a, 9 anonymous alice→bob
    beforeEach(async () => {
      await send('alice', 'bob');
      await post('general');
      await send('bob', 'alice');
      await send('alice', 'carol');
      await send('carol', 'bob');
      await post('dev');
      await send('alice', 'alice', 'note to self');
      await send('bob', 'alice');
      await store.messages.appendDirect({ from: 'alice', to: 'bob', body: 'anonymous' });
    });

    it('returns the DMs to or from the user above afterId, oldest first, never room messages or others’ DMs', async () => {
      await expect(sut.dmsSince(USERS.alice, 0, 50)).resolves.toMatchObject({ messages: [{ id: 1 }, { id: 3 }, { id: 4 }, { id: 7 }, { id: 8 }], hasMore: false });
      await expect(sut.dmsSince(USERS.bob, 0, 50).then(ids)).resolves.toEqual([1, 3, 5, 8]);
      await expect(sut.dmsSince(USERS.carol, 0, 50).then(ids)).resolves.toEqual([4, 5]);
      await expect(sut.dmsSince(USERS.alice, 3, 50).then(ids)).resolves.toEqual([4, 7, 8]);
      await expect(sut.dmsSince('sub-nobody', 0, 50).then(ids)).resolves.toEqual([]);
    });

    it('returns a DM to oneself once', async () => {
      const { messages } = await sut.dmsSince(USERS.alice, 6, 50);
      expect(messages.filter((m) => m.body === 'note to self')).toHaveLength(1);
    });

    it('returns the newest `limit`, with hasMore when older ones above afterId were left out', async () => {
      await expect(sut.dmsSince(USERS.alice, 0, 2)).resolves.toMatchObject({ messages: [{ id: 7 }, { id: 8 }], hasMore: true });
      await expect(sut.dmsSince(USERS.alice, 3, 3)).resolves.toMatchObject({ messages: [{ id: 4 }, { id: 7 }, { id: 8 }], hasMore: false });
      await expect(sut.dmsSince(USERS.alice, 8, 3)).resolves.toEqual({ messages: [], hasMore: false });
    });

    it('returns the rows exactly as appendDirect resolved them', async () => {
      const record = await send('carol', 'alice', 'exact', { clientMsgId: 'c-1' });
      await expect(sut.dmsSince(USERS.alice, record.id - 1, 5)).resolves.toStrictEqual({ messages: [record], hasMore: false });
    });
  });

  describe('undeliveredDms and markDmsDelivered', () => {
    it('returns the oldest DMs to the user above the cursor, oldest first, with hasMore; not those the user sent', async () => {
      const sent = [await send('alice', 'bob', '1'), await send('bob', 'alice', 'mine'), await send('carol', 'bob', '2'), await send('alice', 'bob', '3')];

      await expect(sut.undeliveredDms(USERS.bob, 2)).resolves.toStrictEqual({ messages: [sent[0], sent[2]], hasMore: true });
      await expect(sut.undeliveredDms(USERS.bob, 10)).resolves.toStrictEqual({ messages: [sent[0], sent[2], sent[3]], hasMore: false });

      await expect(sut.markDmsDelivered(USERS.bob, sent[2].id)).resolves.toBe(true);

      await expect(sut.undeliveredDms(USERS.bob, 10)).resolves.toStrictEqual({ messages: [sent[3]], hasMore: false });
      await expect(sut.undeliveredDms(USERS.alice, 10)).resolves.toStrictEqual({ messages: [sent[1]], hasMore: false });
    });

    it('moves the cursor only forward', async () => {
      await expect(sut.markDmsDelivered(USERS.bob, 5)).resolves.toBe(true);
      await expect(sut.markDmsDelivered(USERS.bob, 3)).resolves.toBe(false);
      await expect(sut.markDmsDelivered(USERS.bob, 5)).resolves.toBe(false);
      await expect(cursor('bob')).resolves.toBe(5);
      await expect(sut.markDmsDelivered(USERS.bob, 6)).resolves.toBe(true);
      await expect(cursor('bob')).resolves.toBe(6);
    });

    it('finds nothing for, and moves nothing of, a user who is not recorded', async () => {
      await store.messages.appendDirect({ from: 'alice', to: 'ghost', fromId: USERS.alice, toId: 'sub-ghost', body: 'boo' });
      await expect(sut.undeliveredDms('sub-ghost', 10)).resolves.toEqual({ messages: [], hasMore: false });
      await expect(sut.markDmsDelivered('sub-ghost', 10)).resolves.toBe(false);
    });
  });

  describe('conversations', () => {
    it('lists each other user once with the newest DM between the two, newest conversation first', async () => {
      await send('alice', 'bob', 'old');
      await send('carol', 'alice', 'from carol');
      const newestWithBob = await send('bob', 'alice', 'newest with bob');
      await send('bob', 'carol', 'not alice’s');
      const self = await send('alice', 'alice', 'note');

      const conversations = await sut.conversations(USERS.alice);

      expect(conversations.map((c) => [c.userId, c.nickname, c.lastMessage.body])).toEqual([
        [USERS.alice, 'alice', 'note'],
        [USERS.bob, 'bob', 'newest with bob'],
        [USERS.carol, 'carol', 'from carol'],
      ]);
      expect(conversations[1]).toStrictEqual({ userId: USERS.bob, nickname: 'bob', lastId: newestWithBob.id, lastMessage: newestWithBob });
      expect(conversations[0].lastId).toBe(self.id);
    });

    it('shows only the asking user’s conversations', async () => {
      await send('alice', 'bob', 'private');
      await expect(sut.conversations(USERS.carol)).resolves.toEqual([]);
      await expect(sut.conversations('sub-nobody')).resolves.toEqual([]);
      await expect(sut.conversations(USERS.bob)).resolves.toMatchObject([{ userId: USERS.alice, lastMessage: { body: 'private' } }]);
    });

    it('names the other user as they last signed in, else as the newest DM recorded them', async () => {
      await send('alice', 'bob', 'hi');
      await store.messages.appendDirect({ from: 'alice', to: 'Dave', fromId: USERS.alice, toId: 'sub-dave', body: 'never signed in' });
      await store.users.upsertUser({ id: USERS.bob, nickname: 'Robert', roles: [] });

      await expect(sut.conversations(USERS.alice).then((cs) => cs.map((c) => [c.userId, c.nickname]))).resolves.toEqual([
        ['sub-dave', 'Dave'],
        [USERS.bob, 'Robert'],
      ]);
    });

    it('lists at most `limit`, the newest', async () => {
      await send('alice', 'bob');
      await send('alice', 'carol');
      await expect(sut.conversations(USERS.alice, 1).then((cs) => cs.map((c) => c.userId))).resolves.toEqual([USERS.carol]);
    });

    it('leaves out anonymous DMs (no user ids)', async () => {
      await store.messages.appendDirect({ from: 'alice', to: 'bob', body: 'anonymous' });
      await expect(sut.conversations(USERS.alice)).resolves.toEqual([]);
    });
  });

  describe('dmPage', () => {
    // alice↔bob: 1, 2, 4, 5, 7, 9, 10; alice↔carol: 3, 8; bob↔carol: 6; room: 11
    let ab: number[];
    beforeEach(async () => {
      const order: Array<[Name, Name]> = [
        ['alice', 'bob'],
        ['bob', 'alice'],
        ['alice', 'carol'],
        ['alice', 'bob'],
        ['bob', 'alice'],
        ['bob', 'carol'],
        ['alice', 'bob'],
        ['carol', 'alice'],
        ['bob', 'alice'],
        ['alice', 'bob'],
      ];
      for (const [from, to] of order) await send(from, to);
      await post('general');
      ab = [1, 2, 4, 5, 7, 9, 10];
    });

    const page = (user: Name, other: Name, q: { limit: number; before?: number; after?: number }) => sut.dmPage(USERS[user], USERS[other], q);

    it('returns the newest `limit` of the conversation, both directions, oldest first, with hasMore', async () => {
      await expect(page('alice', 'bob', { limit: 50 })).resolves.toMatchObject({ messages: ab.map((id) => ({ id })), hasMore: false });
      await expect(page('bob', 'alice', { limit: 50 }).then(ids)).resolves.toEqual(ab);
      await expect(page('alice', 'bob', { limit: 3 })).resolves.toMatchObject({ messages: [{ id: 7 }, { id: 9 }, { id: 10 }], hasMore: true });
      await expect(page('alice', 'bob', { limit: 7 }).then((p) => p.hasMore)).resolves.toBe(false);
    });

    it('pages backwards with `before`, forwards with `after`, and the window between them', async () => {
      await expect(page('alice', 'bob', { limit: 2, before: 7 })).resolves.toMatchObject({ messages: [{ id: 4 }, { id: 5 }], hasMore: true });
      await expect(page('alice', 'bob', { limit: 5, before: 4 })).resolves.toMatchObject({ messages: [{ id: 1 }, { id: 2 }], hasMore: false });
      await expect(page('alice', 'bob', { limit: 2, after: 2 })).resolves.toMatchObject({ messages: [{ id: 4 }, { id: 5 }], hasMore: true });
      await expect(page('alice', 'bob', { limit: 5, after: 7 })).resolves.toMatchObject({ messages: [{ id: 9 }, { id: 10 }], hasMore: false });
      await expect(page('alice', 'bob', { limit: 2, after: 0 }).then(ids)).resolves.toEqual([1, 2]);
      await expect(page('alice', 'bob', { limit: 2, after: 1, before: 9 })).resolves.toMatchObject({ messages: [{ id: 2 }, { id: 4 }], hasMore: true });
      await expect(page('alice', 'bob', { limit: 5, after: 1, before: 9 })).resolves.toMatchObject({ messages: [{ id: 2 }, { id: 4 }, { id: 5 }, { id: 7 }], hasMore: false });
      await expect(page('alice', 'bob', { limit: 5, after: 9, before: 2 })).resolves.toEqual({ messages: [], hasMore: false });
    });

    it('returns nothing of a conversation the asking user is not in', async () => {
      await expect(page('carol', 'alice', { limit: 50 }).then(ids)).resolves.toEqual([3, 8]);
      await expect(page('carol', 'bob', { limit: 50 }).then(ids)).resolves.toEqual([6]);
      await expect(sut.dmPage('sub-nobody', USERS.alice, { limit: 50 })).resolves.toEqual({ messages: [], hasMore: false });
      await expect(page('carol', 'carol', { limit: 50 })).resolves.toEqual({ messages: [], hasMore: false });
    });

    it('pages a conversation with oneself', async () => {
      const notes = [await send('alice', 'alice', 'n1'), await send('alice', 'alice', 'n2')];
      await expect(page('alice', 'alice', { limit: 50 })).resolves.toStrictEqual({ messages: notes, hasMore: false });
    });
  });

  describe('group commit with DMs under concurrency', () => {
    it('commits interleaved room messages, DMs and user writes: every append once, resolved in call order, ids increasing', async () => {
      const resolved: number[] = [];
      const appends: Array<Promise<number>> = [];
      const others: Array<Promise<unknown>> = [];
      for (let i = 0; i < 300; i++) {
        const append =
          i % 3 === 0
            ? store.messages.append({ room: `r${i % 7}`, nickname: 'alice', userId: USERS.alice, body: `m${i}`, clientMsgId: `c-${i % 250}` })
            : store.messages.appendDirect(dm(i % 2 ? 'alice' : 'bob', i % 2 ? 'bob' : 'alice', `d${i}`, { clientMsgId: `d-${i}`, delivered: i % 5 === 0 }));
        appends.push(append.then(({ record }) => (resolved.push(record.id), record.id)));
        if (i % 50 === 0) {
          others.push(store.users.upsertUser({ id: `sub-${i}`, nickname: `n${i}`, roles: [] }));
          others.push(store.rooms.addMember('eng', `sub-${i}`));
          others.push(sut.dmsSince(USERS.alice, 0, 10));
        }
      }

      const got = await Promise.all(appends);
      await Promise.all(others);

      expect(resolved).toEqual(got);
      expect(new Set(got).size).toBe(300);
      expect([...got].sort((a, b) => a - b)).toEqual(got);
      await expect(store.query('SELECT COUNT(*) AS n FROM messages')).resolves.toEqual([{ n: 300 }]);
      await expect(store.rooms.membersOf('eng')).resolves.toHaveLength(6);
      const dmIds = got.filter((_, i) => i % 3 !== 0);
      await expect(sut.dmsSince(USERS.bob, 0, 1000).then(ids)).resolves.toEqual(dmIds);
      const lastDeliveredToBob = Math.max(...got.filter((_, i) => i % 3 !== 0 && i % 5 === 0 && i % 2 === 1));
      const lastDeliveredToAlice = Math.max(...got.filter((_, i) => i % 3 !== 0 && i % 5 === 0 && i % 2 === 0));
      await expect(cursor('bob')).resolves.toBe(lastDeliveredToBob);
      await expect(cursor('alice')).resolves.toBe(lastDeliveredToAlice);
    });
  });

  it('rejects every call with StoreUnavailableError when the database cannot be used', async () => {
    await store.ds.destroy();
    await expect(sut.dmsSince(USERS.alice, 0, 5)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.undeliveredDms(USERS.alice, 5)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.markDmsDelivered(USERS.alice, 5)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.conversations(USERS.alice)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(sut.dmPage(USERS.alice, USERS.bob, { limit: 5 })).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('direct message reads use the partial DM indexes', () => {
  let store: StoreFixture;

  beforeEach(async () => {
    store = await StoreFixture.open(':memory:');
  });

  afterEach(async () => {
    await store.close();
  });

  const plan = async (sql: string, params: unknown[]): Promise<string[]> =>
    (await store.query<Array<{ detail: string }>>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((row) => row.detail);

  it('reads "DMs to or from X above N" as two index range scans, never a scan of messages', async () => {
    const details = await plan(DMS_SINCE, ['u', 0, 5, 'u', 0, 5, 5]);
    expect(details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/SEARCH messages USING INDEX idx_messages_dm_recipient_id \(recipient_id=\? AND id>\?\)/),
        expect.stringMatching(/SEARCH messages USING INDEX idx_messages_dm_user_id \(user_id=\? AND id>\?\)/),
      ]),
    );
    expect(details.filter((d) => d.startsWith('SCAN messages'))).toEqual([]);
  });

  it('reads undelivered DMs, conversations and a conversation page through the DM indexes', async () => {
    for (const [sql, params] of [
      [UNDELIVERED, ['u', 'u', 5]],
      [CONVERSATIONS, ['u', 'u', 5]],
      [DM_PAGE_BETWEEN, ['u', 'v', 0, 9, 5, 'v', 'u', 0, 9, 5, 5]],
    ] as const) {
      const details = await plan(sql, [...params]);
      expect(details.filter((d) => d.startsWith('SCAN messages') || /USING (COVERING )?INDEX idx_messages_room_id/.test(d))).toEqual([]);
      expect(details.some((d) => /USING INDEX idx_messages_dm_(recipient_id|user_id)/.test(d))).toBe(true);
    }
  });
});
