import type { DataSource, QueryRunner } from 'typeorm';
import type { StoreRunner } from './dialect';

/** The SQLite result code of a failed query (TypeORM keeps the driver's error as `driverError`). */
export function sqliteCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/** SQLITE_BUSY or one of its extended codes: another connection holds a lock this one needs. */
export function isBusy(error: unknown): boolean {
  return sqliteCode(error)?.startsWith('SQLITE_BUSY') ?? false;
}

const FIRST_PAUSE_MS = 1;
/** Longest pause between two attempts: a lock released by another process is noticed this fast. */
const MAX_PAUSE_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How a write transaction runs beyond its statements. */
export interface TransactionOptions<T> {
  /**
   * It assigns message ids or records the newest one (changed_at_id): on PostgreSQL it runs under
   * the cluster-wide order lock (PostgresConnection). SQLite's one writer gives that order anyway.
   */
  ordered?: boolean;
  /**
   * Runs after COMMIT and the checks, before the order lock is let go (PostgreSQL); on SQLite once
   * the connection's turn is passed on. It must not throw.
   */
  committed?: (result: T) => Promise<void>;
}

/** The store's way to its database: SQLite's one connection (StoreConnection) or a PostgreSQL pool (PostgresConnection). */
export interface DatabaseConnection {
  read<T>(work: (runner: StoreRunner) => Promise<T>, since?: number): Promise<T>;
  transaction<T>(work: (runner: StoreRunner) => Promise<T>, checks: TransactionChecks, since?: number, options?: TransactionOptions<T>): Promise<T>;
}

/** Checks run around a write transaction; each throws to stop it. */
export interface TransactionChecks {
  /** Before BEGIN: nothing has touched the database yet. */
  before(): void;
  /** After COMMIT, before the caller acknowledges anything. */
  after(): void;
}

/**
 * The store's only way to the database: one statement sequence at a time, never blocking the
 * event loop to wait for a lock.
 *
 * TypeORM's better-sqlite3 driver has one connection and one query runner for the whole process,
 * and a transaction on it spans several awaits. Were a read to run meanwhile, it would run inside
 * the open transaction and could return rows that are then rolled back. So every read and every
 * transaction takes its turn here.
 *
 * The connection's busy timeout is 0 while serving (SQLite's busy handler sleeps synchronously);
 * a statement that finds the database locked by another process fails with SQLITE_BUSY at once,
 * gives up its turn, and is tried again after a pause (1 ms, doubling up to 50 ms) until
 * `busyTimeoutMs` after `since`; then the SQLITE_BUSY error is thrown.
 */
export class StoreConnection implements DatabaseConnection {
  private runner: QueryRunner | null = null;
  private inUse = false;
  private readonly waiting: Array<() => void> = [];
  /** A ROLLBACK failed: the next turn rolls back first, so no stale transaction carries over. */
  private transactionMayBeOpen = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly busyTimeoutMs: number,
    private readonly onLockWait: () => void = () => undefined,
  ) {}

  read<T>(work: (runner: StoreRunner) => Promise<T>, since: number = Date.now()): Promise<T> {
    return this.run(work, since);
  }

  /** BEGIN IMMEDIATE, `work`, COMMIT, with `checks` around it; rolled back if `work` or COMMIT fails. */
  async transaction<T>(work: (runner: StoreRunner) => Promise<T>, checks: TransactionChecks, since: number = Date.now(), options?: TransactionOptions<T>): Promise<T> {
    const result = await this.run((runner) => this.commit(runner, work, checks), since);
    if (options?.committed) await options.committed(result);
    return result;
  }

  /** Runs `attempt` on its turn; on SQLITE_BUSY, gives the turn up, pauses and tries again until the deadline. */
  private async run<T>(attempt: (runner: QueryRunner) => Promise<T>, since: number): Promise<T> {
    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
      const turn = this.takeTurn();
      if (turn) await turn;
      let failure: unknown;
      try {
        const runner = this.queryRunner();
        if (this.transactionMayBeOpen) await this.rollback(runner);
        return await attempt(runner);
      } catch (error) {
        failure = error;
      } finally {
        this.passTurn();
      }
      const left = since + this.busyTimeoutMs - Date.now();
      if (!isBusy(failure) || left <= 0) throw failure;
      this.onLockWait();
      await sleep(Math.min(pause, left));
    }
  }

  private async commit<T>(runner: QueryRunner, work: (runner: QueryRunner) => Promise<T>, checks: TransactionChecks): Promise<T> {
    checks.before();
    // IMMEDIATE takes the write lock now, so a lock held elsewhere fails here, before any work.
    await runner.query('BEGIN IMMEDIATE');
    let result: T;
    try {
      result = await work(runner);
      await runner.query('COMMIT');
    } catch (error) {
      await this.rollback(runner);
      throw error;
    }
    checks.after();
    return result;
  }

  /** Null when the connection was free (now taken); else a promise that resolves once it is handed over. */
  private takeTurn(): Promise<void> | null {
    if (!this.inUse) {
      this.inUse = true;
      return null;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private passTurn(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inUse = false;
  }

  private queryRunner(): QueryRunner {
    if (!this.dataSource.isInitialized) throw new Error('data source is not initialized');
    // better-sqlite3: the driver's one shared runner (PostgreSQL's pool is PostgresConnection's).
    return (this.runner ??= this.dataSource.createQueryRunner());
  }

  private async rollback(runner: QueryRunner): Promise<void> {
    try {
      await runner.query('ROLLBACK');
      this.transactionMayBeOpen = false;
    } catch (error) {
      // SQLite rolls back by itself on some errors (SQLITE_FULL, SQLITE_IOERR): nothing left to undo.
      this.transactionMayBeOpen = !/no transaction is active/.test(String((error as Error).message));
    }
  }
}
