// Databases for the runs: each server creates its own schema (migrations for the product),
// then the history scenario's rows are bulk-inserted with better-sqlite3 in big transactions.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { startServer, stopServer, type Entrypoints, type RunKind } from './servers';

/** An empty database with the server's schema, made by starting the server on it once. */
export async function makeTemplate(kind: RunKind, entry: Entrypoints, dbPath: string, logFile: string): Promise<void> {
  const server = await startServer(kind, entry, { dbPath, heartbeatMs: 30_000, logFile });
  await stopServer(server, true);
  const db = new Database(dbPath);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** A fresh copy of a template for one run. */
export function freshCopy(template: string, dbPath: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  copyFileSync(template, dbPath);
}

/**
 * `rows` messages in `general`, ids 1..rows, about 60 characters of text each, generated inside SQLite
 * in one statement. Indexes are dropped for the load and rebuilt from their own definitions.
 */
export function seedMessages(dbPath: string, rows: number): void {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL").all() as Array<{ name: string; sql: string }>;
  db.transaction(() => {
    for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO messages (room, nickname, body, sent_at, client_msg_id)
       SELECT 'general', 'user' || (i % 1000), 'seeded message ' || i || ': the quick brown fox jumps over the lazy dog',
              strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i / 10.0, 'unixepoch'), NULL FROM n`,
    ).run(rows);
    for (const { sql } of indexes) db.exec(sql);
    const hasRooms = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rooms'").get() !== undefined;
    if (hasRooms) db.prepare("INSERT OR REPLACE INTO rooms (name, last_message_id) SELECT 'general', MAX(id) FROM messages").run();
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

export function countMessages(dbPath: string): number {
  if (!existsSync(dbPath)) return 0;
  // Read-write: after a SIGKILL the WAL needs recovery, which a read-only handle cannot do.
  const db = new Database(dbPath);
  const row = db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number };
  db.close();
  return row.n;
}
