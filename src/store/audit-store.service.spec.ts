import { DIALECT_KINDS, StoreFixture } from '../database/store-fixture';
import { AUDIT_QUEUE_LIMIT } from './audit-store.service';

describe.each(DIALECT_KINDS)('AuditStore (%s)', (kind) => {
  let store: StoreFixture;

  beforeEach(async () => {
    store = await StoreFixture.open(kind);
  });

  afterEach(() => store.close());

  it('writes the rows recorded in one turn in one transaction, and each promise settles after the commit', async () => {
    const transactions = store.countTransactions();
    await Promise.all([
      store.audit.record({ actor: 'alice', action: 'kick', target: 'bob', reason: 'spam', address: '10.0.0.1' }),
      store.audit.record({ actor: 'alice', action: 'ban', target: 'bob', room: null }),
      store.audit.record({ actor: null, action: 'auth_failed', reason: 'expired', address: '10.0.0.9' }),
    ]);
    expect(transactions()).toBe(1);
    const rows = await store.query('SELECT actor, action, target, room, reason, address FROM audit_log ORDER BY id');
    expect(rows).toEqual([
      { actor: 'alice', action: 'kick', target: 'bob', room: null, reason: 'spam', address: '10.0.0.1' },
      { actor: 'alice', action: 'ban', target: 'bob', room: null, reason: null, address: null },
      { actor: null, action: 'auth_failed', target: null, room: null, reason: 'expired', address: '10.0.0.9' },
    ]);
  });

  it('pages newest first, before an id, by actor and by action', async () => {
    for (let i = 0; i < 5; i++) await store.audit.record({ actor: i % 2 ? 'bob' : 'alice', action: i < 3 ? 'mute' : 'unmute', target: `t${i}` });
    const all = await store.audit.page({ limit: 10 });
    expect(all.map((r) => r.target)).toEqual(['t4', 't3', 't2', 't1', 't0']);
    expect(all[0]).toEqual({ id: all[0].id, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), actor: 'alice', action: 'unmute', target: 't4', room: null, reason: null, address: null });
    expect((await store.audit.page({ limit: 2, before: all[1].id })).map((r) => r.target)).toEqual(['t2', 't1']);
    expect((await store.audit.page({ limit: 10, actor: 'bob' })).map((r) => r.target)).toEqual(['t3', 't1']);
    expect((await store.audit.page({ limit: 10, action: 'mute', actor: 'alice' })).map((r) => r.target)).toEqual(['t2', 't0']);
  });

  it('rejects the rows of a failed commit, and writes later ones once the store takes writes again', async () => {
    await store.rejectInserts('audit_log');
    await expect(store.audit.record({ actor: 'a', action: 'kick' })).rejects.toThrow();
    await store.allowInserts('audit_log');
    await store.audit.record({ actor: 'a', action: 'unban' });
    expect(await store.query('SELECT action FROM audit_log')).toEqual([{ action: 'unban' }]);
  });

  it(`drops rows beyond ${AUDIT_QUEUE_LIMIT} queued in one turn, counts them, and keeps the rest`, async () => {
    const results = Array.from({ length: AUDIT_QUEUE_LIMIT + 3 }, () =>
      store.audit.record({ actor: null, action: 'auth_failed' }).then(
        () => 'written',
        () => 'dropped',
      ),
    );
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r === 'dropped')).toHaveLength(3);
    expect(store.audit.dropped).toBe(3);
    expect(await store.query('SELECT COUNT(*) AS n FROM audit_log')).toEqual([{ n: AUDIT_QUEUE_LIMIT }]);
  });

  it('drain waits for the rows queued so far', async () => {
    store.audit.note({ actor: 'x', action: 'export', target: 'y' });
    await store.audit.drain();
    expect(await store.query('SELECT action, target FROM audit_log')).toEqual([{ action: 'export', target: 'y' }]);
  });
});
