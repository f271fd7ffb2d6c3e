import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createTestSchema, describeWithPostgres, dropTestSchema, TEST_POSTGRES_URL, testSchemaName } from '../database/postgres-schema-fixture';
import { postgresOptions } from '../database/typeorm-options';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { MessageStore, StoreUnavailableError } from './message-store.service';
import { ORDER_LOCK_KEY } from './postgres-connection';
import type { PublishFence } from './publish-fence';

const ROOMS = ['general', 'random'];
/** Messages each of the two stores appends. */
const PER_WRITER = 3000;

/**
 * The PostgreSQL-only parts of the message store: two nodes (two data sources, two stores) on one
 * schema, the order lock that keeps `since` from skipping a message, and the publish fence.
 */
describeWithPostgres(`${MessageStore.name} on PostgreSQL`, () => {
  const url = TEST_POSTGRES_URL!;
  let schema: string;
  const sources: DataSource[] = [];
  const stores: MessageStore[] = [];
  let logs: jest.SpyInstance[];

  const node = async (fence?: PublishFence, fenceTimeoutMs?: number): Promise<MessageStore> => {
    const ds = new DataSource(postgresOptions({ url, schema, applicationName: `chat-test-${schema}` }));
    await ds.initialize();
    sources.push(ds);
    const store = new MessageStore(ds, new ChatMetrics(), { checkIntervalMs: 60_000, ...(fenceTimeoutMs ? { fenceTimeoutMs } : {}) }, fence);
    await store.onModuleInit();
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    schema = testSchemaName();
    await createTestSchema(url, schema);
    logs = (['error', 'log', 'debug', 'warn'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) store.onApplicationShutdown();
    for (const ds of sources.splice(0)) if (ds.isInitialized) await ds.destroy();
    logs.forEach((spy) => spy.mockRestore());
    await dropTestSchema(url, schema);
  });

  /** Appends PER_WRITER messages over many turns of the event loop, so that each store commits many batches. */
  const write = async (store: MessageStore, name: string): Promise<number[]> => {
    const pending: Array<Promise<number>> = [];
    for (let i = 0; i < PER_WRITER; i++) {
      pending.push(store.append({ room: ROOMS[i % ROOMS.length], nickname: name, body: `${name} ${i}` }).then((stored) => stored.record.id));
      if (i % 7 === 6) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return Promise.all(pending);
  };

  it('lets a reader paging `since` its last seen id see every message of two nodes writing side by side, exactly once', async () => {
    const [one, two, reader] = [await node(), await node(), await node()];
    const seen = new Map<string, number[]>(ROOMS.map((room) => [room, []]));
    let writing = true;
    const read = async (): Promise<void> => {
      for (const room of ROOMS) {
        const ids = seen.get(room)!;
        for (;;) {
          const { messages, hasMore } = await reader.page({ room, after: ids.at(-1) ?? 0, limit: 100 });
          ids.push(...messages.map((m) => m.id));
          if (!hasMore) break;
        }
      }
    };
    const reading = (async () => {
      while (writing) await read();
    })();

    const written = (await Promise.all([write(one, 'ann'), write(two, 'bob')])).flat();
    writing = false;
    await reading;
    await read();

    const stored: Array<{ id: number; room: string }> = await sources[0].query('SELECT id, room FROM messages ORDER BY id');
    expect(stored).toHaveLength(2 * PER_WRITER);
    expect(new Set(written).size).toBe(2 * PER_WRITER);
    for (const room of ROOMS) {
      expect(seen.get(room)).toEqual(stored.filter((row) => row.room === room).map((row) => row.id));
    }
  }, 120_000);

  it('holds the order lock until the batch is acknowledged and the publish fence settled', async () => {
    let release!: () => void;
    const settled = new Promise<void>((resolve) => (release = resolve));
    const fence: PublishFence = { settle: jest.fn(() => settled) };
    const [sut, other] = [await node(fence), await node()];
    const first = sut.append({ room: 'general', nickname: 'ann', body: 'one' });
    await expect(first).resolves.toMatchObject({ record: { id: 1 } });
    await waitFor(() => (fence.settle as jest.Mock).mock.calls.length === 1);

    // The other node's append waits for the lock: nothing of it is stored until the fence settles.
    let secondDone = false;
    const second = other.append({ room: 'general', nickname: 'bob', body: 'two' }).then((stored) => ((secondDone = true), stored));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondDone).toBe(false);
    const locks: Array<{ n: number }> = await sources[0].query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1", [ORDER_LOCK_KEY % 2 ** 32]);
    expect(locks[0].n).toBeGreaterThanOrEqual(1);

    release();
    await expect(second).resolves.toMatchObject({ record: { id: 2 }, duplicate: false });
  });

  it('lets the order lock go when the fence does not settle within fenceTimeoutMs, logging it, so the other nodes go on writing', async () => {
    const fence: PublishFence = { settle: () => new Promise<void>(() => undefined) };
    const [sut, other] = [await node(fence, 200), await node()];
    await expect(sut.append({ room: 'general', nickname: 'ann', body: 'one' })).resolves.toMatchObject({ duplicate: false });
    const started = Date.now();
    await expect(other.append({ room: 'general', nickname: 'bob', body: 'two' })).resolves.toMatchObject({ duplicate: false });
    expect(Date.now() - started).toBeLessThan(5000);
    await waitFor(() => logs[3].mock.calls.some(([line]) => (line as { msg?: string }).msg?.startsWith('publish fence failed') === true));
  });

  it('stores, pages and deduplicates as on SQLite: ids are numbers, sentAt the ISO text, resends answered with the original', async () => {
    const sut = await node();
    const a = await sut.append({ room: 'general', nickname: 'ann', body: 'hi', clientMsgId: 'c-1' });
    const again = await sut.append({ room: 'general', nickname: 'ann', body: 'hi again', clientMsgId: 'c-1' });
    const dm = await sut.appendDirect({ from: 'ann', to: 'bob', body: 'psst', clientMsgId: 'c-1' });

    expect(a.record).toStrictEqual({ id: 1, room: 'general', nickname: 'ann', body: 'hi', sentAt: expect.stringMatching(/^\d{4}-.*Z$/), clientMsgId: 'c-1', userId: null });
    expect(again).toStrictEqual({ record: a.record, duplicate: true });
    // A resend still draws a value from the sequence (PostgreSQL evaluates the default before ON CONFLICT): ids have gaps, as after a rollback.
    expect(dm.record.id).toBeGreaterThan(a.record.id);
    await expect(sut.page({ room: 'general', limit: 10 })).resolves.toStrictEqual({ messages: [a.record], hasMore: false });
    await expect(sut.newestSince('general', 0, 10)).resolves.toStrictEqual({ messages: [a.record], hasMore: false });
    await expect(sut.page({ room: 'empty', limit: 10 })).resolves.toStrictEqual({ messages: [], hasMore: false });
    await expect(sut.rooms()).resolves.toEqual([{ name: 'general', lastMessageId: 1, visibility: 'public', ownerId: null, createdAt: null }]);
  });

  it('stores a NUL as U+FFFD (PostgreSQL text cannot hold it) instead of failing the batch of every sender', async () => {
    const sut = await node();
    const [nul, plain] = await Promise.all([
      sut.append({ room: 'general', nickname: 'ann', body: 'nul\u0000inside' }),
      sut.append({ room: 'general', nickname: 'bob', body: 'fine' }),
    ]);
    const { messages } = await sut.page({ room: 'general', limit: 10 });
    expect(messages.map((m) => m.body)).toEqual(['nul\uFFFDinside', 'fine']);
    expect([nul.duplicate, plain.duplicate]).toEqual([false, false]);
    // What the append resolves with (the ack and the broadcast) is what is stored.
    expect(nul.record.body).toBe('nul\uFFFDinside');
  });

  it('rejects the batch with StoreUnavailableError and reports unwritable while PostgreSQL refuses writes, and recovers', async () => {
    const sut = await node();
    await sources[0].query('ALTER TABLE messages ADD CONSTRAINT no_poison CHECK (body <> \'poison\')');
    await expect(sut.append({ room: 'general', nickname: 'ann', body: 'poison' })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(sut.status()).toEqual({ writable: false, reason: expect.stringContaining('23514') });
    await expect(sut.append({ room: 'general', nickname: 'ann', body: 'fine' })).resolves.toMatchObject({ duplicate: false });
    expect(sut.status()).toEqual({ writable: true });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
