import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ensurePostgresSchema } from './typeorm-options';

/**
 * For specs under src/ (which must not import test/support): the PostgreSQL that jest's
 * globalSetup found, or undefined (the PostgreSQL variants are then skipped).
 */
export const TEST_POSTGRES_URL: string | undefined = process.env.TEST_POSTGRES_URL;

/** `describe` when PostgreSQL is reachable, else `describe.skip`. */
export const describeWithPostgres = TEST_POSTGRES_URL ? describe : describe.skip;

/** A fresh schema name of its own, so parallel workers and helpers never share tables. */
export function testSchemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** Creates the schema (nothing in it). */
export function createTestSchema(url: string, schema: string): Promise<void> {
  return ensurePostgresSchema({ url, schema });
}

/** Drops the schema and everything in it. */
export async function dropTestSchema(url: string, schema: string): Promise<void> {
  const ds = new DataSource({ type: 'postgres', url, poolSize: 1 });
  await ds.initialize();
  try {
    await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await ds.destroy();
  }
}
