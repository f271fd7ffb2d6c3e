import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { defaultErrorMessage, ErrorCode } from '../protocol/error-code';
import { DatabaseFiles } from './database-files';
import { dialectOf, type Dialect, type StoreRunner } from './dialect';
import { PostgresConnection } from './postgres-connection';
import { isBusy, sqliteCode, StoreConnection, type DatabaseConnection, type TransactionChecks, type TransactionOptions } from './store-connection';
import { StoreHealth, type StoreStatus } from './store-health';

export const STORE_OPTIONS = Symbol('STORE_OPTIONS');

export interface StoreOptions {
  /** How long a call waits for a lock held by another process (STORE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs: number;
  /** How often the files are checked and, while writes fail, a probe write is tried. */
  checkIntervalMs: number;
  /** Longest wait for the publish fence while the order lock is held (PostgreSQL; see MessageStore). */
  fenceTimeoutMs: number;
}

const DEFAULT_OPTIONS: StoreOptions = { busyTimeoutMs: 5000, checkIntervalMs: 1000, fenceTimeoutMs: 5000 };

const PROBE = 'INSERT INTO store_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at';

/** The database could not take or give messages; nothing was stored. Clients are told UNAVAILABLE. */
export class StoreUnavailableError extends ChatException {
  constructor(cause: unknown) {
    super(ErrorCode.UNAVAILABLE, defaultErrorMessage(ErrorCode.UNAVAILABLE), { cause });
    this.name = StoreUnavailableError.name;
  }

  /** `error` itself if it is one, else a StoreUnavailableError caused by it. */
  static from(error: unknown): StoreUnavailableError {
    return error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
  }
}

/**
 * The one way of every store class to the database: reads and write transactions take their turn
 * on one StoreConnection (busy retries with timers, never a blocking wait), every write transaction
 * checks the database files before BEGIN and after COMMIT (DatabaseFiles), and the write health
 * (readiness, chat_store_writable) follows every write. MessageStore owns it (its group commit is
 * the main writer) and opens and stops it; UserStore, RoomDirectory and DirectMessageStore share it.
 *
 * Once the files are lost, every call is refused with StoreUnavailableError.
 */
export class StoreDatabase {
  readonly options: StoreOptions;
  /** Which SQL the store classes send (see dialect.ts). */
  readonly dialect: Dialect;
  private readonly connection: DatabaseConnection;
  private readonly health: StoreHealth;
  // Before BEGIN only the -shm must be checked (SIGBUS); after COMMIT, before any ack, all the files.
  private readonly checks: TransactionChecks = { before: () => this.assertFiles(true), after: () => this.assertFiles() };
  private files: DatabaseFiles | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    metrics: ChatMetrics,
    options: Partial<StoreOptions> | undefined,
    private readonly logger: Logger,
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.dialect = dialectOf(dataSource);
    this.connection =
      this.dialect === 'postgres'
        ? new PostgresConnection(dataSource)
        : new StoreConnection(dataSource, this.options.busyTimeoutMs, () => metrics.storeLockWaits.inc());
    this.health = new StoreHealth(logger, metrics.storeWritable);
  }

  /**
   * Switches the connection to non-blocking lock waits, records the database files and proves with
   * one write that the database takes writes: the server does not start when it cannot store.
   */
  async open(): Promise<void> {
    // SQLite's busy handler would sleep on the event loop; the store waits with timers instead.
    if (this.dialect === 'sqlite') await this.connection.read((runner) => runner.query('PRAGMA busy_timeout = 0'));
    const { type, database } = this.dataSource.options;
    if (type === 'better-sqlite3' && database !== ':memory:') {
      this.files = new DatabaseFiles(database);
      this.files.snapshot();
      this.files.watch(() => this.checkFiles(true));
    }
    try {
      await this.probe();
    } catch (error) {
      throw new Error(`the message store cannot write: ${this.describe(error)}${this.files ? `; ${this.files.diagnose()}` : ''}`, {
        cause: error,
      });
    }
    this.timer = setInterval(() => void this.tick(), this.options.checkIntervalMs).unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.files?.unwatch();
  }

  /** Whether the store takes writes: the last write or probe succeeded and its files are intact. */
  status(): StoreStatus {
    if (!this.dataSource.isInitialized) return { writable: false, reason: 'the database is closed' };
    this.checkFiles();
    return this.health.status;
  }

  /** Why every call is refused (the files were lost), or null. */
  get refusal(): string | null {
    return this.health.lostFiles;
  }

  /** A read on its turn; any failure is a StoreUnavailableError. */
  read<T>(query: (runner: StoreRunner) => Promise<T>): Promise<T> {
    const lost = this.health.lostFiles;
    // Not even a read may touch a connection whose files were lost (a truncated -shm is a SIGBUS).
    if (lost !== null) return Promise.reject(new StoreUnavailableError(new Error(lost)));
    return this.connection.read(query).catch((error: unknown) => {
      throw new StoreUnavailableError(error);
    });
  }

  /**
   * A small write transaction of its own (a user, a membership, a room, a delivery cursor), with
   * the file checks around it; a failure marks the store unwritable like a failed group commit
   * and rejects with StoreUnavailableError. `what` names it in the log.
   */
  async write<T>(what: string, work: (runner: StoreRunner) => Promise<T>, options?: TransactionOptions<T>): Promise<T> {
    const lost = this.health.lostFiles;
    if (lost !== null) throw new StoreUnavailableError(new Error(lost));
    let result: T;
    try {
      result = await this.transaction(work, undefined, options);
    } catch (error) {
      throw this.writeFailed(`${what} failed`, error);
    }
    this.health.writeSucceeded();
    return result;
  }

  /**
   * BEGIN (IMMEDIATE on SQLite), `work`, COMMIT with the file checks; on SQLite, waits for another
   * process's lock until `since` + busyTimeoutMs. `options.ordered`: under the order lock on PostgreSQL.
   */
  transaction<T>(work: (runner: StoreRunner) => Promise<T>, since?: number, options?: TransactionOptions<T>): Promise<T> {
    return this.connection.transaction(work, this.checks, since, options);
  }

  /** Records a failed write (`what`, and why) in the health, and returns the error to reject with. */
  writeFailed(what: string, error: unknown): StoreUnavailableError {
    this.health.writeFailed(`${what}: ${this.describe(error)}`, this.files?.diagnose());
    return StoreUnavailableError.from(error);
  }

  writeSucceeded(): void {
    this.health.writeSucceeded();
  }

  /** One committed write to a row of its own, to learn whether the database takes writes. */
  private probe(): Promise<void> {
    return this.transaction(async (runner) => {
      await runner.query(PROBE, [new Date().toISOString()]);
    });
  }

  /** Every checkIntervalMs: the files, and while writes fail (and no client writes), a probe. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      if (this.checkFiles() && this.health.failing) {
        await this.probe().then(
          () => this.health.writeSucceeded(),
          (error: unknown) => this.health.writeFailed(`probe write failed: ${this.describe(error)}`),
        );
      }
    } finally {
      this.ticking = false;
    }
  }

  /** False once the database files were removed, replaced or truncated (then they stay lost). */
  private checkFiles(shmOnly = false): boolean {
    if (this.health.lostFiles !== null) {
      this.files?.keepShmMapped();
      return false;
    }
    const problem = this.files?.verify(shmOnly);
    if (!problem) return true;
    this.health.filesLost(problem.reason);
    return false;
  }

  private assertFiles(shmOnly = false): void {
    if (!this.checkFiles(shmOnly)) throw new Error(this.health.lostFiles ?? 'database files lost');
  }

  private describe(error: unknown): string {
    if (isBusy(error)) return `the database stayed locked by another process for ${this.options.busyTimeoutMs} ms (${sqliteCode(error)})`;
    const code = sqliteCode(error);
    const driverMessage = (error as { driverError?: { message?: unknown } } | null)?.driverError?.message;
    const message = typeof driverMessage === 'string' ? driverMessage : error instanceof Error ? error.message : String(error);
    return code && !message.startsWith(code) ? `${code}: ${message}` : message;
  }
}
