import { DIALECT_KINDS, StoreFixture } from '../database/store-fixture';
import { SCAN_ROWS, type DataSubject } from './data-subject-store.service';

describe.each(DIALECT_KINDS)('DataSubjectStore (%s)', (kind) => {
  let store: StoreFixture;

  beforeEach(async () => {
    store = await StoreFixture.open(kind);
  });

  afterEach(() => store.close());

  async function all(pages: AsyncGenerator<Array<Record<string, unknown>>>): Promise<Array<Record<string, unknown>>> {
    const rows: Array<Record<string, unknown>> = [];
    for await (const page of pages) rows.push(...page);
    return rows;
  }

  /** Signed-in users alice and bob, with messages and DMs both ways, and a room of alice's. */
  async function seedSignedIn(): Promise<Record<string, number>> {
    await store.users.upsertUser({ id: 'u-alice', nickname: 'Alice', roles: [] });
    await store.users.upsertUser({ id: 'u-bob', nickname: 'Bob', roles: [] });
    await store.rooms.createRoom({ name: 'plans', visibility: 'private', ownerId: 'u-alice' });
    const mine = await store.messages.append({ room: 'general', nickname: 'Alice', body: 'alice secret', userId: 'u-alice' });
    const theirs = await store.messages.append({ room: 'general', nickname: 'Bob', body: 'bob text', userId: 'u-bob' });
    const sent = await store.messages.appendDirect({ from: 'Alice', to: 'Bob', body: 'dm from alice', fromId: 'u-alice', toId: 'u-bob' });
    const received = await store.messages.appendDirect({ from: 'Bob', to: 'Alice', body: 'dm to alice', fromId: 'u-bob', toId: 'u-alice' });
    const other = await store.messages.appendDirect({ from: 'Bob', to: 'Carol', body: 'not hers', fromId: 'u-bob', toId: 'u-carol' });
    await store.audit.record({ actor: 'u-alice', action: 'delete', target: '12' });
    await store.audit.record({ actor: '@admin', action: 'kick', target: 'u-alice' });
    await store.audit.record({ actor: '@admin', action: 'kick', target: 'u-bob' });
    return { mine: mine.record.id, theirs: theirs.record.id, sent: sent.record.id, received: received.record.id, other: other.record.id };
  }

  it('exports what is stored about a signed-in user: account, memberships, rooms owned, messages, DMs both ways, audit rows', async () => {
    const ids = await seedSignedIn();
    const subject: DataSubject = { userId: 'u-alice' };
    await expect(store.subjects.account('u-alice')).resolves.toEqual(expect.objectContaining({ id: 'u-alice', nickname: 'Alice', roles: '[]' }));
    await expect(store.subjects.account('u-nobody')).resolves.toBeNull();
    await expect(store.subjects.memberships('u-alice')).resolves.toEqual([
      { room: 'general', joinedAt: expect.any(String) },
      { room: 'plans', joinedAt: expect.any(String) },
    ]);
    await expect(store.subjects.ownedRooms('u-alice')).resolves.toEqual([{ name: 'plans', visibility: 'private', createdAt: expect.any(String), retentionDays: null }]);
    await expect(all(store.subjects.messages(subject))).resolves.toEqual([expect.objectContaining({ id: ids.mine, room: 'general', body: 'alice secret' })]);
    await expect(all(store.subjects.directMessages(subject))).resolves.toEqual([
      expect.objectContaining({ id: ids.sent, senderId: 'u-alice', body: 'dm from alice' }),
      expect.objectContaining({ id: ids.received, recipientId: 'u-alice', body: 'dm to alice' }),
    ]);
    const audit = await all(store.subjects.audit(subject));
    expect(audit.map((r) => [r.actor, r.action, r.target])).toEqual([
      ['u-alice', 'delete', '12'],
      ['@admin', 'kick', 'u-alice'],
    ]);
  });

  it('reads a subject in bounded pages, across windows, in id order', async () => {
    const n = SCAN_ROWS + 5;
    for (let i = 0; i < n; i++) await store.messages.append({ room: 'general', nickname: 'ann', body: `m${i}` });
    await store.messages.append({ room: 'general', nickname: 'Ann', body: 'someone else: another nickname' });
    const pages: number[] = [];
    const bodies: unknown[] = [];
    for await (const page of store.subjects.messages({ nickname: 'ann' })) {
      pages.push(page.length);
      bodies.push(...page.map((r) => r.body));
    }
    expect(pages).toEqual([SCAN_ROWS, 5]);
    expect(bodies).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
  });

  it('erases a signed-in user: tombstones of their messages and DMs both ways, pseudonymised, audit rows anonymised, the users row deleted', async () => {
    const ids = await seedSignedIn();
    await expect(store.subjects.erase({ userId: 'u-alice' }, 'erased:abc')).resolves.toEqual({ messages: 1, directMessages: 2, auditRows: 2, account: 1 });
    const rows = await store.query('SELECT id, nickname, user_id, recipient, recipient_id, body, deleted_at IS NOT NULL AS "gone" FROM messages ORDER BY id');
    expect(rows).toEqual([
      { id: ids.mine, nickname: 'erased:abc', user_id: 'erased:abc', recipient: null, recipient_id: null, body: '', gone: 1 },
      { id: ids.theirs, nickname: 'Bob', user_id: 'u-bob', recipient: null, recipient_id: null, body: 'bob text', gone: 0 },
      { id: ids.sent, nickname: 'erased:abc', user_id: 'erased:abc', recipient: 'Bob', recipient_id: 'u-bob', body: '', gone: 1 },
      { id: ids.received, nickname: 'Bob', user_id: 'u-bob', recipient: 'erased:abc', recipient_id: 'erased:abc', body: '', gone: 1 },
      { id: ids.other, nickname: 'Bob', user_id: 'u-bob', recipient: 'Carol', recipient_id: 'u-carol', body: 'not hers', gone: 0 },
    ]);
    await expect(store.query('SELECT actor, target FROM audit_log ORDER BY id')).resolves.toEqual([
      { actor: 'erased:abc', target: '12' },
      { actor: '@admin', target: 'erased:abc' },
      { actor: '@admin', target: 'u-bob' },
    ]);
    await expect(store.query("SELECT id FROM users WHERE id = 'u-alice'")).resolves.toEqual([]);
    await expect(store.subjects.erase({ userId: 'u-alice' }, 'erased:def')).resolves.toEqual({ messages: 0, directMessages: 0, auditRows: 0, account: 0 });
  });

  it('records erased rows as changes, so a client resuming from before the erasure is sent their deletion', async () => {
    const ids = await seedSignedIn();
    const newest = Math.max(...Object.values(ids));
    await store.subjects.erase({ userId: 'u-alice' }, 'erased:abc');
    const changes = await store.changes.changesSince(newest, ['general'], 'u-bob', 100);
    expect(changes.map((c) => [c.id, c.deletedAt !== null])).toEqual([
      [ids.mine, true],
      [ids.sent, true],
      [ids.received, true],
    ]);
  });

  it('erases an anonymous nickname exactly (not its look-alikes), one transaction per window', async () => {
    const a = await store.messages.append({ room: 'general', nickname: 'ann', body: 'hers', clientMsgId: 'c1' });
    const b = await store.messages.append({ room: 'general', nickname: 'Ann', body: 'not hers' });
    const dm = await store.messages.appendDirect({ from: 'bob', to: 'ann', body: 'to her', clientMsgId: 'c1' });
    const transactions = store.countTransactions();
    await expect(store.subjects.erase({ nickname: 'ann' }, 'erased:1')).resolves.toEqual({ messages: 1, directMessages: 1, auditRows: 0, account: 0 });
    expect(transactions()).toBe(1); // one window of messages, none of an empty audit log
    await expect(store.query('SELECT id, nickname, recipient, body FROM messages ORDER BY id')).resolves.toEqual([
      { id: a.record.id, nickname: 'erased:1', recipient: null, body: '' },
      { id: b.record.id, nickname: 'Ann', recipient: null, body: 'not hers' },
      { id: dm.record.id, nickname: 'bob', recipient: 'erased:1', body: '' },
    ]);
  });
});
