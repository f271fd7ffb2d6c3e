import { DIALECT_KINDS, StoreFixture } from '../database/store-fixture';

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

describe.each(DIALECT_KINDS)('RetentionStore (%s)', (kind) => {
  let store: StoreFixture;

  beforeEach(async () => {
    store = await StoreFixture.open(kind);
  });

  afterEach(() => store.close());

  /** Stores `n` messages in `room` (DMs for null), then dates them `days` ago. Returns their ids. */
  async function seed(room: string | null, n: number, days: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const stored =
        room === null
          ? await store.messages.appendDirect({ from: 'alice', to: 'bob', body: `dm ${i}` })
          : await store.messages.append({ room, nickname: 'alice', body: `${room} ${i}` });
      ids.push(stored.record.id);
    }
    await store.query(`UPDATE messages SET sent_at = ? WHERE id IN (${ids.join(', ')})`, [daysAgo(days)]);
    return ids;
  }

  const idsIn = async (room: string | null) =>
    (await store.query<Array<{ id: number }>>(`SELECT id FROM messages WHERE ${room === null ? 'room IS NULL' : 'room = ?'} ORDER BY id`, room === null ? [] : [room])).map(
      (r) => r.id,
    );

  it('deletes the oldest rows sent before the cutoff, at most `limit` per transaction, and marks the highest id deleted', async () => {
    const old = await seed('general', 5, 10);
    const recent = await seed('general', 2, 0);
    const transactions = store.countTransactions();
    await expect(store.retention.purgeBatch({ room: 'general' }, daysAgo(5), 3)).resolves.toEqual({ deleted: 3, done: false });
    await expect(store.retention.purgeBatch({ room: 'general' }, daysAgo(5), 3)).resolves.toEqual({ deleted: 2, done: true });
    await expect(store.retention.purgeBatch({ room: 'general' }, daysAgo(5), 3)).resolves.toEqual({ deleted: 0, done: true });
    expect(transactions()).toBe(3);
    await expect(idsIn('general')).resolves.toEqual(recent);
    await expect(store.retention.marks(['general', 'other'], false)).resolves.toEqual({ rooms: new Map([['general', old[4]]]), direct: 0 });
  });

  it('touches only its scope: one room, or the direct messages', async () => {
    const general = await seed('general', 2, 10);
    const dms = await seed(null, 2, 10);
    await store.retention.purgeBatch({ room: 'other' }, daysAgo(5));
    await expect(idsIn('general')).resolves.toEqual(general);
    await store.retention.purgeBatch('direct', daysAgo(5));
    await expect(idsIn(null)).resolves.toEqual([]);
    await expect(idsIn('general')).resolves.toEqual(general);
    await expect(store.retention.marks(['general'], true)).resolves.toEqual({ rooms: new Map(), direct: dms[1] });
  });

  it('keeps the id sequence and rooms.last_message_id when the newest rows are deleted', async () => {
    const old = await seed('general', 3, 10);
    await store.retention.purgeBatch({ room: 'general' }, daysAgo(5));
    await expect(idsIn('general')).resolves.toEqual([]);
    await expect(store.query('SELECT last_message_id AS "last" FROM rooms WHERE name = ?', ['general'])).resolves.toEqual([{ last: old[2] }]);
    const next = await store.messages.append({ room: 'general', nickname: 'alice', body: 'after' });
    expect(next.record.id).toBe(old[2] + 1);
  });

  it('never lowers a mark', async () => {
    await store.query("INSERT INTO retention_marks (scope, purged_through_id, purged_at) VALUES ('room:general', 1000, 'then')");
    await seed('general', 2, 10);
    await expect(store.retention.purgeBatch({ room: 'general' }, daysAgo(5))).resolves.toEqual({ deleted: 2, done: true });
    await expect(store.retention.marks(['general'], false)).resolves.toEqual({ rooms: new Map([['general', 1000]]), direct: 0 });
  });

  it('lists every room with its own retention, and sets it (null: back to RETENTION_DAYS); false for an unknown room', async () => {
    await seed('general', 1, 0);
    await seed('random', 1, 0);
    await expect(store.retention.setRoomRetention('random', 7)).resolves.toBe(true);
    await expect(store.retention.setRoomRetention('nowhere', 7)).resolves.toBe(false);
    await expect(store.retention.rooms()).resolves.toEqual([
      { room: 'general', days: null },
      { room: 'random', days: 7 },
    ]);
    await store.retention.setRoomRetention('random', null);
    await expect(store.retention.rooms()).resolves.toEqual([
      { room: 'general', days: null },
      { room: 'random', days: null },
    ]);
  });
});
