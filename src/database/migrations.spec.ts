import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { CreateMessages1763769600000 } from './migrations/1763769600000-create-messages';
import { sqliteOptions } from './typeorm-options';

const tablesNamed = async (ds: DataSource, ...names: string[]): Promise<string[]> => {
  const rows: { name: string }[] = await ds.query(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${names.map(() => '?').join(', ')}) ORDER BY name`,
    names,
  );
  return rows.map((r) => r.name);
};

const indexColumns = async (ds: DataSource, index: string): Promise<string[]> => {
  const columns: { name: string }[] = await ds.query(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, [index]);
  return columns.map((c) => c.name);
};

describe('migrations', () => {
  let sut: DataSource;

  beforeEach(async () => {
    sut = new DataSource(sqliteOptions({ path: ':memory:', synchronous: 'FULL' }));
    await sut.initialize();
  });

  afterEach(async () => {
    if (sut.isInitialized) await sut.destroy();
  });

  it('run at initialize, leaving none pending', async () => {
    await expect(sut.showMigrations()).resolves.toBe(false);
    const applied: { name: string }[] = await sut.query('SELECT name FROM migrations ORDER BY id');
    expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(applied.map((m) => m.name)).toEqual(['CreateMessages1763769600000', 'RoomsAndDirectMessages1763780400000']);
  });

  it('produce exactly the schema the entities describe', async () => {
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('create the paging index on (room, id)', async () => {
    await expect(indexColumns(sut, 'idx_messages_room_id')).resolves.toEqual(['room', 'id']);
  });

  it('create the direct message indexes on (recipient, id) and (sender, id)', async () => {
    await expect(indexColumns(sut, 'idx_direct_messages_recipient_id')).resolves.toEqual(['recipient', 'id']);
    await expect(indexColumns(sut, 'idx_direct_messages_sender_id')).resolves.toEqual(['sender', 'id']);
  });

  it('undo the last one cleanly and apply it again', async () => {
    await sut.undoLastMigration();
    await expect(tablesNamed(sut, 'messages', 'rooms', 'direct_messages')).resolves.toEqual(['messages']);
    await expect(sut.showMigrations()).resolves.toBe(true);

    await sut.runMigrations();

    await expect(sut.showMigrations()).resolves.toBe(false);
    await expect(tablesNamed(sut, 'messages', 'rooms', 'direct_messages')).resolves.toEqual(['direct_messages', 'messages', 'rooms']);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries).toEqual([]);
  });

  it('undo all the way down and apply again', async () => {
    for (const _ of MIGRATIONS) await sut.undoLastMigration();
    await expect(tablesNamed(sut, 'messages', 'rooms', 'direct_messages')).resolves.toEqual([]);

    await sut.runMigrations();

    await expect(sut.showMigrations()).resolves.toBe(false);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries).toEqual([]);
  });

  describe('RoomsAndDirectMessages1763780400000', () => {
    let dir: string;
    let path: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'chat-migrations-'));
      path = join(dir, 'chat.sqlite');
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    /** A database as the previous release left it: only the first migration applied. */
    async function previousRelease(seed: (ds: DataSource) => Promise<void>): Promise<void> {
      const old = new DataSource({ ...sqliteOptions({ path, synchronous: 'FULL' }), migrations: [CreateMessages1763769600000] });
      await old.initialize();
      try {
        await seed(old);
      } finally {
        await old.destroy();
      }
    }

    async function upgrade(): Promise<DataSource> {
      const ds = new DataSource(sqliteOptions({ path, synchronous: 'FULL' }));
      await ds.initialize();
      return ds;
    }

    it("backfills rooms with each room's newest message id", async () => {
      await previousRelease(async (old) => {
        await expect(tablesNamed(old, 'messages', 'rooms')).resolves.toEqual(['messages']);
        const insert = `INSERT INTO messages (room, nickname, body, sent_at) VALUES (?, 'alice', 'hi', '2026-11-21T23:44:19.123Z')`;
        for (const room of ['general', 'dev', 'general', 'dev', 'general', 'dev', 'dev']) await old.query(insert, [room]);
      });

      const upgraded = await upgrade();
      try {
        await expect(upgraded.showMigrations()).resolves.toBe(false);
        const rooms: unknown[] = await upgraded.query('SELECT name, last_message_id FROM rooms ORDER BY name');
        expect(rooms).toEqual([
          { name: 'dev', last_message_id: 7 },
          { name: 'general', last_message_id: 5 },
        ]);
        const diff = await upgraded.driver.createSchemaBuilder().log();
        expect(diff.upQueries).toEqual([]);
      } finally {
        await upgraded.destroy();
      }
    });

    it('backfills nothing from an empty messages table', async () => {
      await previousRelease(async (old) => {
        await expect(old.showMigrations()).resolves.toBe(false);
      });

      const upgraded = await upgrade();
      try {
        await expect(upgraded.query('SELECT * FROM rooms')).resolves.toEqual([]);
        await expect(upgraded.query('SELECT * FROM direct_messages')).resolves.toEqual([]);
      } finally {
        await upgraded.destroy();
      }
    });
  });
});
