import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { sqliteOptions } from './typeorm-options';

describe(sqliteOptions.name, () => {
  let dir: string;
  let path: string;
  let sut: DataSource;
  let other: Database.Database | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-options-'));
    path = join(dir, 'chat.sqlite');
  });

  afterEach(async () => {
    other?.close();
    other = undefined;
    if (sut?.isInitialized) await sut.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const readElsewhere = () => {
    other = new Database(path, { timeout: 0 });
    return other.prepare('SELECT count(*) AS n FROM messages').get();
  };

  it('opens the file in WAL mode with a -shm that other processes share, so they can read (online backups)', async () => {
    sut = new DataSource(sqliteOptions({ path, synchronous: 'FULL' }));
    await sut.initialize();

    await expect(sut.query('PRAGMA journal_mode')).resolves.toEqual([{ journal_mode: 'wal' }]);
    await expect(sut.query('PRAGMA locking_mode')).resolves.toEqual([{ locking_mode: 'normal' }]);
    expect(existsSync(`${path}-shm`)).toBe(true);
    expect(readElsewhere()).toEqual({ n: 0 });
  });

  it('with EXCLUSIVE locking keeps no -shm file and shuts other processes out', async () => {
    sut = new DataSource(sqliteOptions({ path, synchronous: 'FULL', lockingMode: 'EXCLUSIVE' }));
    await sut.initialize();

    await expect(sut.query('PRAGMA journal_mode')).resolves.toEqual([{ journal_mode: 'wal' }]);
    await expect(sut.query('PRAGMA locking_mode')).resolves.toEqual([{ locking_mode: 'exclusive' }]);
    expect(existsSync(`${path}-shm`)).toBe(false);
    expect(readElsewhere).toThrow('database is locked');
  });

  it('with EXCLUSIVE locking opens a database that NORMAL mode left in WAL without a -shm', async () => {
    const first = new DataSource(sqliteOptions({ path, synchronous: 'FULL' }));
    await first.initialize();
    await first.query(`INSERT INTO messages (room, nickname, body, sent_at) VALUES ('general', 'alice', 'hi', '2026-11-21T23:44:19.123Z')`);
    await first.destroy();

    sut = new DataSource(sqliteOptions({ path, synchronous: 'FULL', lockingMode: 'EXCLUSIVE' }));
    await sut.initialize();

    await expect(sut.query('SELECT body FROM messages')).resolves.toEqual([{ body: 'hi' }]);
    expect(existsSync(`${path}-shm`)).toBe(false);
  });
});
