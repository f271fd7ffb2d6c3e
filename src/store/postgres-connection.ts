import type { DataSource, QueryRunner } from 'typeorm';
import { PostgresRunner, type StoreRunner } from './dialect';
import type { DatabaseConnection, TransactionChecks, TransactionOptions } from './store-connection';

/**
 * The key of the cluster-wide order lock (a PostgreSQL session advisory lock): every transaction
 * that takes message ids from the sequence, or records the newest one, holds it from before BEGIN
 * until its commit is acknowledged and published. Any constant works, as long as every node uses it.
 */
export const ORDER_LOCK_KEY = 7_163_206_114;
const LOCK = 'SELECT pg_advisory_lock($1)';
const UNLOCK = 'SELECT pg_advisory_unlock($1)';

/**
 * The store's connection to PostgreSQL: a pool, so reads run side by side, and each transaction
 * takes a pooled connection of its own for its whole BEGIN ... COMMIT (released afterwards, or
 * destroyed when its state is unknown). Lock waits are PostgreSQL's own, bounded by the pool's
 * statement_timeout; there is no SQLITE_BUSY to retry.
 *
 * Order across instances (docs/protocol.md): sequences hand out ids at INSERT, not at COMMIT, so
 * two nodes committing side by side could make id 8 visible before id 7; a client whose `since` is
 * already 8 would never see 7. An `ordered` transaction therefore takes pg_advisory_lock before
 * BEGIN and lets go after `committed` ran (the group commit's acknowledgements and the publish
 * fence): ids are assigned, committed and published in one cluster-wide order. Its cost is two
 * round trips per batch (lock, unlock), not per message: within the noise of a quick local check
 * (20,000 appends, batches of ~50: 1 node 2,900-3,600 msg/s with it, 2,900-4,400 without).
 */
export class PostgresConnection implements DatabaseConnection {
  constructor(private readonly dataSource: DataSource) {}

  async read<T>(work: (runner: StoreRunner) => Promise<T>): Promise<T> {
    const runner = this.queryRunner();
    try {
      return await work(new PostgresRunner(runner));
    } finally {
      await runner.release();
    }
  }

  async transaction<T>(
    work: (runner: StoreRunner) => Promise<T>,
    checks: TransactionChecks,
    _since?: number,
    { ordered = false, committed }: TransactionOptions<T> = {},
  ): Promise<T> {
    checks.before();
    const runner = this.queryRunner();
    // Set when the connection's state is unknown (a failed ROLLBACK or unlock): it is destroyed, not pooled.
    let broken: Error | undefined;
    let locked = false;
    try {
      if (ordered) {
        await runner.query(LOCK, [ORDER_LOCK_KEY]);
        locked = true;
      }
      await runner.query('BEGIN');
      let result: T;
      try {
        result = await work(new PostgresRunner(runner));
        await runner.query('COMMIT');
      } catch (error) {
        broken = await attempt(runner, 'ROLLBACK');
        throw error;
      }
      checks.after();
      if (committed) await committed(result);
      return result;
    } finally {
      if (locked && !broken) broken = await attempt(runner, UNLOCK, [ORDER_LOCK_KEY]);
      // Ending the client first makes the pool discard it rather than hand it out again.
      if (broken) await discard(runner);
      await runner.release();
    }
  }

  private queryRunner(): QueryRunner {
    if (!this.dataSource.isInitialized) throw new Error('data source is not initialized');
    return this.dataSource.createQueryRunner();
  }
}

/** Runs a statement of the transaction's bracket; the error when it failed (the connection is then destroyed, which ends its transaction and its locks). */
async function attempt(runner: QueryRunner, sql: string, parameters?: unknown[]): Promise<Error | undefined> {
  try {
    await runner.query(sql, parameters);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

async function discard(runner: QueryRunner): Promise<void> {
  const client = (await runner.connect()) as { end(): Promise<void> };
  await client.end().catch(() => undefined);
}
