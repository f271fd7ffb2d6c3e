import type { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';

/**
 * For the migration specs: undoes every migration from the last back to `migration`, included,
 * so a spec about one migration keeps working when later ones are added.
 */
export async function undoThrough(ds: DataSource, migration: (typeof MIGRATIONS)[number]): Promise<number> {
  const at = MIGRATIONS.indexOf(migration);
  if (at === -1) throw new Error(`${migration.name} is not in MIGRATIONS`);
  const n = MIGRATIONS.length - at;
  for (let i = 0; i < n; i++) await ds.undoLastMigration();
  return n;
}
