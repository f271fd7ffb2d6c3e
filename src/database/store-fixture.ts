import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type QueryRunner } from 'typeorm';
import { postgresText } from '../store/dialect';
import { createTestSchema, dropTestSchema, TEST_POSTGRES_URL, testSchemaName } from './postgres-schema-fixture';
import { postgresOptions, sqliteOptions } from './typeorm-options';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { AuditStore } from '../store/audit-store.service';
import { DataSubjectStore } from '../store/data-subject-store.service';
import { DirectMessageStore } from '../store/direct-message-store.service';
import { MessageChanges } from '../store/message-changes.service';
import { MessageStore, type StoreOptions } from '../store/message-store.service';
import { RetentionStore } from '../store/retention-store.service';
import { RoomDirectory } from '../store/room-directory.service';
import { UserStore } from '../store/user-store.service';

/**
 * Where a spec's database lives: SQLite in memory, a WAL file database in a fresh folder, or a
 * fresh schema of the PostgreSQL at TEST_POSTGRES_URL (dropped on close).
 */
export type StoreKind = ':memory:' | 'file' | 'postgres';
/** Both SQLite kinds, and PostgreSQL when jest's globalSetup found one. */
export const STORE_KINDS: StoreKind[] = TEST_POSTGRES_URL ? [':memory:', 'file', 'postgres'] : [':memory:', 'file'];
/** One SQLite kind and PostgreSQL when there is one: for specs about SQL rather than files. */
export const DIALECT_KINDS: StoreKind[] = TEST_POSTGRES_URL ? [':memory:', 'postgres'] : [':memory:'];

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
    /** The PostgreSQL schema of this fixture, or null on SQLite. */
    readonly schema: string | null = null,
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
    if (kind === 'postgres') return StoreFixture.openPostgres(options);
    const dir = kind === 'file' ? mkdtempSync(join(tmpdir(), 'chat-store-')) : null;
    const ds = new DataSource(sqliteOptions({ path: dir ? join(dir, 'db', 'chat.sqlite') : ':memory:', synchronous: 'NORMAL' }));
    await ds.initialize();
    const fixture = new StoreFixture(ds, dir, options);
    await fixture.messages.onModuleInit();
    return fixture;
  }

  private static async openPostgres(options: Partial<StoreOptions>): Promise<StoreFixture> {
    const url = TEST_POSTGRES_URL;
    if (!url) throw new Error('TEST_POSTGRES_URL is not set: no PostgreSQL to open');
    const schema = testSchemaName();
    await createTestSchema(url, schema);
    const ds = new DataSource(postgresOptions({ url, schema, applicationName: `chat-test-${schema}` }));
    await ds.initialize();
    const fixture = new StoreFixture(ds, null, options, schema);
    await fixture.messages.onModuleInit();
    return fixture;
  }

  get postgres(): boolean {
    return this.schema !== null;
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
    if (this.schema) await dropTestSchema(TEST_POSTGRES_URL!, this.schema);
  }

  /**
   * A statement of the spec's own, with `?` placeholders on both dialects. On PostgreSQL, integers
   * that come back as text (COUNT: bigint) are numbers and booleans are 1 or 0, as SQLite gives them.
   */
  async query<T = Array<Record<string, unknown>>>(sql: string, params: unknown[] = []): Promise<T> {
    if (!this.postgres) return this.ds.query<T>(sql, params);
    const rows = await this.ds.query<unknown>(postgresText(sql), params);
    return (Array.isArray(rows) ? rows.map(sqliteLike) : rows) as T;
  }

  /** Counts the write transactions begun from now on. */
  countTransactions(): () => number {
    if (this.postgres) {
      const spy = jest.spyOn(this.messages.database, 'transaction');
      return () => spy.mock.calls.length;
    }
    const spy = jest.spyOn(this.runner, 'query');
    return () => spy.mock.calls.filter(([sql]) => sql === 'BEGIN IMMEDIATE').length;
  }

  /** Makes every INSERT into `table` fail while `when` (an SQL condition on NEW) holds. */
  async rejectInserts(table: string, when = '1'): Promise<unknown> {
    if (!this.postgres) {
      return this.query(`CREATE TRIGGER reject_${table} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'rejected'); END`);
    }
    const condition = when === '1' ? 'true' : when;
    await this.ds.query(
      `CREATE FUNCTION reject_${table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF ${condition} THEN RAISE EXCEPTION 'rejected'; END IF; RETURN NEW; END $$`,
    );
    return this.ds.query(`CREATE TRIGGER reject_${table} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION reject_${table}()`);
  }

  /** How the store describes the failure rejectInserts causes. */
  get rejected(): string {
    return this.postgres ? 'P0001: rejected' : 'SQLITE_CONSTRAINT_TRIGGER: rejected';
  }

  /** Counts the store's statements (SQLite: on its one runner) or reads (PostgreSQL: each on a pooled connection) from now on. */
  countReads(): jest.SpyInstance {
    return this.postgres ? jest.spyOn(this.messages.database, 'read') : jest.spyOn(this.runner, 'query');
  }

  /** Undoes rejectInserts. */
  allowInserts(table: string): Promise<unknown> {
    return this.postgres ? this.ds.query(`DROP FUNCTION reject_${table}() CASCADE`) : this.query(`DROP TRIGGER reject_${table}`);
  }
}

/** A PostgreSQL row as SQLite would give it: booleans as 1 and 0, and `n` (the specs' COUNT(*) AS n, a bigint node-postgres gives as text) as a number. */
function sqliteLike(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return row;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = typeof value === 'boolean' ? Number(value) : typeof value === 'string' && /^(0|[1-9][0-9]{0,14})$/.test(value) && key === 'n' ? Number(value) : value;
  }
  return out;
}
