import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type QueryRunner } from 'typeorm';
import { sqliteOptions } from './typeorm-options';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { AuditStore } from '../store/audit-store.service';
import { DataSubjectStore } from '../store/data-subject-store.service';
import { DirectMessageStore } from '../store/direct-message-store.service';
import { MessageChanges } from '../store/message-changes.service';
import { MessageStore, type StoreOptions } from '../store/message-store.service';
import { RetentionStore } from '../store/retention-store.service';
import { RoomDirectory } from '../store/room-directory.service';
import { UserStore } from '../store/user-store.service';

/** Where a spec's database lives: SQLite in memory, or a WAL file database in a fresh folder. */
export type StoreKind = ':memory:' | 'file';
export const STORE_KINDS: StoreKind[] = [':memory:', 'file'];

/**
 * Every store class over one real SQLite database built by the migrations, wired as StoreModule
 * wires them (one MessageStore owning the StoreDatabase the others share), for the store specs.
 */
export class StoreFixture {
  readonly metrics = new ChatMetrics();
  readonly messages: MessageStore;
  readonly users: UserStore;
  readonly rooms: RoomDirectory;
  readonly dms: DirectMessageStore;
  readonly audit: AuditStore;
  readonly changes: MessageChanges;
  readonly retention: RetentionStore;
  readonly subjects: DataSubjectStore;
  /** The shared query runner every store call goes through (better-sqlite3 has one per data source). */
  readonly runner: QueryRunner;
  private readonly logs: jest.SpyInstance[];

  private constructor(
    readonly ds: DataSource,
    readonly dir: string | null,
    options: Partial<StoreOptions>,
  ) {
    this.messages = new MessageStore(ds, this.metrics, { checkIntervalMs: 60_000, ...options });
    this.users = new UserStore(this.messages.database);
    this.rooms = new RoomDirectory(this.messages.database);
    this.dms = new DirectMessageStore(this.messages.database);
    this.audit = new AuditStore(this.messages.database);
    this.changes = new MessageChanges(this.messages.database);
    this.retention = new RetentionStore(this.messages.database);
    this.subjects = new DataSubjectStore(this.messages.database);
    this.runner = ds.createQueryRunner();
    this.logs = (['error', 'log', 'debug', 'warn'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined));
  }

  static async open(kind: StoreKind, options: Partial<StoreOptions> = {}): Promise<StoreFixture> {
    const dir = kind === 'file' ? mkdtempSync(join(tmpdir(), 'chat-store-')) : null;
    const ds = new DataSource(sqliteOptions({ path: dir ? join(dir, 'db', 'chat.sqlite') : ':memory:', synchronous: 'NORMAL' }));
    await ds.initialize();
    const fixture = new StoreFixture(ds, dir, options);
    await fixture.messages.onModuleInit();
    return fixture;
  }

  /** The error lines the store logged (its health), as objects. */
  get errorLines(): Array<Record<string, unknown>> {
    return this.logs[0].mock.calls.map(([line]) => line as Record<string, unknown>);
  }

  async close(): Promise<void> {
    this.messages.onApplicationShutdown();
    if (this.ds.isInitialized) await this.ds.destroy();
    this.logs.forEach((spy) => spy.mockRestore());
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  query<T = Array<Record<string, unknown>>>(sql: string, params: unknown[] = []): Promise<T> {
    return this.ds.query<T>(sql, params);
  }

  /** Counts the write transactions begun from now on. */
  countTransactions(): () => number {
    const spy = jest.spyOn(this.runner, 'query');
    return () => spy.mock.calls.filter(([sql]) => sql === 'BEGIN IMMEDIATE').length;
  }

  /** Makes every INSERT into `table` fail while `when` (an SQL condition on NEW) holds. */
  rejectInserts(table: string, when = '1'): Promise<unknown> {
    return this.query(`CREATE TRIGGER reject_${table} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'rejected'); END`);
  }
}
