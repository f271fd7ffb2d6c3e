import { ConfigService } from '@nestjs/config';
import { StoreFixture } from '../database/store-fixture';
import { StoreUnavailableError } from '../store/message-store.service';
import { RETENTION_BATCH } from '../store/retention-store.service';
import { RetentionService } from './retention.service';

const OLD = '2000-01-01T00:00:00.000Z';

describe(RetentionService.name, () => {
  let store: StoreFixture;
  let sut: RetentionService | undefined;

  beforeEach(async () => {
    store = await StoreFixture.open(':memory:');
  });

  afterEach(async () => {
    await sut?.beforeApplicationShutdown();
    sut = undefined;
    await store.close();
  });

  function service(env: { RETENTION_DAYS?: number; RETENTION_INTERVAL_MS?: number }): RetentionService {
    sut = new RetentionService(store.retention, store.audit, store.metrics, new ConfigService({ RETENTION_INTERVAL_MS: 3_600_000, ...env }));
    return sut;
  }

  async function seedOld(room: string, n: number): Promise<void> {
    await Promise.all(Array.from({ length: n }, (_, i) => store.messages.append({ room, nickname: 'a', body: `m${i}` })));
    await store.query('UPDATE messages SET sent_at = ? WHERE room = ?', [OLD, room]);
  }

  const auditRows = () => store.query<Array<{ actor: string; reason: string }>>("SELECT actor, reason FROM audit_log WHERE action = 'retention_run' ORDER BY id");
  const counted = async (name: string, labels: Record<string, string> = {}) =>
    (await store.metrics.registry.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;

  it(`deletes in transactions of at most ${RETENTION_BATCH} rows, counts them and writes one audit row`, async () => {
    await seedOld('general', RETENTION_BATCH * 2 + 5);
    const transactions = store.countTransactions();
    const report = await service({ RETENTION_DAYS: 30 }).runNow('root');
    expect(report).toEqual({ rooms: { general: RETENTION_BATCH * 2 + 5 }, roomMessages: RETENTION_BATCH * 2 + 5, directMessages: 0, durationMs: expect.any(Number) });
    expect(transactions()).toBe(3 + 1 + 1); // three batches, the direct messages' (none), the audit row
    await expect(store.query('SELECT COUNT(*) AS n FROM messages')).resolves.toEqual([{ n: 0 }]);
    await expect(counted('chat_retention_deleted_total', { kind: 'room' })).resolves.toBe(RETENTION_BATCH * 2 + 5);
    await expect(counted('chat_retention_runs_total', { outcome: 'ok' })).resolves.toBe(1);
    await expect(auditRows()).resolves.toEqual([{ actor: 'root', reason: expect.stringMatching(/^deleted 2005 room message\(s\) \(general 2005\) and 0 direct message\(s\) in \d+ ms; RETENTION_DAYS 30$/) }]);
  });

  it('on schedule: does nothing, and writes no row, while nothing is configured to expire', async () => {
    await seedOld('general', 2);
    service({ RETENTION_INTERVAL_MS: 20 }).onApplicationBootstrap();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await expect(store.query('SELECT COUNT(*) AS n FROM messages')).resolves.toEqual([{ n: 2 }]);
    await expect(auditRows()).resolves.toEqual([]);
    await expect(counted('chat_retention_runs_total', { outcome: 'ok' })).resolves.toBe(0);
  });

  it('on schedule: runs as system when a room has its own retention', async () => {
    await seedOld('general', 2);
    await store.retention.setRoomRetention('general', 7);
    service({ RETENTION_INTERVAL_MS: 20 }).onApplicationBootstrap();
    const deadline = Date.now() + 2000;
    while ((await auditRows()).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    // Every run writes its row, also those that find nothing left.
    expect((await auditRows())[0]).toEqual({ actor: 'system', reason: expect.stringContaining('deleted 2 room message(s) (general 2)') });
  });

  it('stops between batches at shutdown', async () => {
    await seedOld('general', 10);
    const running = service({ RETENTION_DAYS: 1 }).runNow('root');
    await sut!.beforeApplicationShutdown();
    await expect(running).resolves.toEqual(expect.objectContaining({ roomMessages: 0 }));
    await expect(auditRows()).resolves.toEqual([{ actor: 'root', reason: expect.stringMatching(/; stopped by shutdown$/) }]);
  });

  it('rejects with StoreUnavailableError when the store refuses a batch, counted failed and audited', async () => {
    await seedOld('general', 3);
    await store.query("CREATE TRIGGER refuse_delete BEFORE DELETE ON messages BEGIN SELECT RAISE(ABORT, 'refused'); END");
    await expect(service({ RETENTION_DAYS: 1 }).runNow('root')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(counted('chat_retention_runs_total', { outcome: 'failed' })).resolves.toBe(1);
    await expect(auditRows()).resolves.toEqual([{ actor: 'root', reason: expect.stringMatching(/^deleted 0 room message\(s\).*; failed: /) }]);
  });
});
