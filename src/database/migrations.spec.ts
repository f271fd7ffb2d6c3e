import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { CreateMessages1763769600000 } from './migrations/1763769600000-create-messages';
import { RoomsAndDirectMessages1763780400000 } from './migrations/1763780400000-rooms-and-direct-messages';
import { UniqueClientMsgIds1763791200000 } from './migrations/1763791200000-unique-client-msg-ids';
import { StoreProbe1765065600000 } from './migrations/1765065600000-store-probe';
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

/** Names of the UNIQUE indexes created on `table` by CREATE INDEX (not primary keys). */
const uniqueIndexes = async (ds: DataSource, table: string): Promise<string[]> => {
  const rows: { name: string }[] = await ds.query(
    `SELECT name FROM pragma_index_list(?) WHERE "unique" = 1 AND origin = 'c' ORDER BY name`,
    [table],
  );
  return rows.map((r) => r.name);
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
    expect(applied.map((m) => m.name)).toEqual([
      'CreateMessages1763769600000',
      'RoomsAndDirectMessages1763780400000',
      'UniqueClientMsgIds1763791200000',
      'StoreProbe1765065600000',
    ]);
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

  it('create the unique indexes on (room, client_msg_id) and (sender, client_msg_id)', async () => {
    await expect(indexColumns(sut, 'uq_messages_room_client_msg_id')).resolves.toEqual(['room', 'client_msg_id']);
    await expect(indexColumns(sut, 'uq_direct_messages_sender_client_msg_id')).resolves.toEqual(['sender', 'client_msg_id']);
    await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual(['uq_messages_room_client_msg_id']);
    await expect(uniqueIndexes(sut, 'direct_messages')).resolves.toEqual(['uq_direct_messages_sender_client_msg_id']);
  });

  it('create the store_probe table, empty', async () => {
    await expect(tablesNamed(sut, 'store_probe')).resolves.toEqual(['store_probe']);
    await expect(sut.query('SELECT * FROM store_probe')).resolves.toEqual([]);
  });

  it('undo the last one cleanly and apply it again', async () => {
    await sut.undoLastMigration();
    await expect(tablesNamed(sut, 'messages', 'rooms', 'direct_messages', 'store_probe')).resolves.toEqual(['direct_messages', 'messages', 'rooms']);
    await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual(['uq_messages_room_client_msg_id']);
    await expect(sut.showMigrations()).resolves.toBe(true);

    await sut.runMigrations();

    await expect(sut.showMigrations()).resolves.toBe(false);
    await expect(tablesNamed(sut, 'store_probe')).resolves.toEqual(['store_probe']);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries).toEqual([]);
  });

  it('undo the last two cleanly and apply them again', async () => {
    await sut.undoLastMigration();
    await sut.undoLastMigration();
    await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual([]);
    await expect(uniqueIndexes(sut, 'direct_messages')).resolves.toEqual([]);
    await expect(tablesNamed(sut, 'messages', 'rooms', 'direct_messages')).resolves.toEqual(['direct_messages', 'messages', 'rooms']);
    await expect(sut.showMigrations()).resolves.toBe(true);

    await sut.runMigrations();

    await expect(sut.showMigrations()).resolves.toBe(false);
    await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual(['uq_messages_room_client_msg_id']);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries).toEqual([]);
  });

  it('undo the last three cleanly and apply them again', async () => {
    await sut.undoLastMigration();
    await sut.undoLastMigration();
    await sut.undoLastMigration();
    await expect(tablesNamed(sut, 'messages', 'rooms', 'direct_messages', 'store_probe')).resolves.toEqual(['messages']);
    await expect(sut.showMigrations()).resolves.toBe(true);

    await sut.runMigrations();

    await expect(sut.showMigrations()).resolves.toBe(false);
    await expect(tablesNamed(sut, 'messages', 'rooms', 'direct_messages', 'store_probe')).resolves.toEqual([
      'direct_messages',
      'messages',
      'rooms',
      'store_probe',
    ]);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries).toEqual([]);
  });

  it('undo all the way down and apply again', async () => {
    for (const _ of MIGRATIONS) await sut.undoLastMigration();
    await expect(tablesNamed(sut, 'messages', 'rooms', 'direct_messages', 'store_probe')).resolves.toEqual([]);

    await sut.runMigrations();

    await expect(sut.showMigrations()).resolves.toBe(false);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries).toEqual([]);
  });

  describe('upgrading a file database', () => {
    let dir: string;
    let path: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'chat-migrations-'));
      path = join(dir, 'chat.sqlite');
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    /** A database as an earlier release left it: only its `migrations` applied. */
    async function earlierRelease(migrations: DataSourceOptions['migrations'], seed: (ds: DataSource) => Promise<void>): Promise<void> {
      const old = new DataSource({ ...sqliteOptions({ path, synchronous: 'FULL' }), migrations });
      await old.initialize();
      try {
        await seed(old);
      } finally {
        await old.destroy();
      }
    }

    /** Opens the database the way the app does: every migration runs at initialize. */
    async function upgrade(): Promise<DataSource> {
      const ds = new DataSource(sqliteOptions({ path, synchronous: 'FULL' }));
      await ds.initialize();
      return ds;
    }

    describe('RoomsAndDirectMessages1763780400000', () => {
      const previousRelease = (seed: (ds: DataSource) => Promise<void>) => earlierRelease([CreateMessages1763769600000], seed);

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

    describe('UniqueClientMsgIds1763791200000', () => {
      const beforeUnique = MIGRATIONS.slice(0, 2);
      const at = '2026-11-21T23:44:19.123Z';

      it('is the migration after the first two, followed by StoreProbe', () => {
        expect(beforeUnique).toEqual([CreateMessages1763769600000, RoomsAndDirectMessages1763780400000]);
        expect(MIGRATIONS).toEqual([...beforeUnique, UniqueClientMsgIds1763791200000, StoreProbe1765065600000]);
      });

      it('keeps the first of each repeated client_msg_id and clears it on the later rows, keeping their text', async () => {
        await earlierRelease(beforeUnique, async (old) => {
          const insert = `INSERT INTO messages (room, nickname, body, sent_at, client_msg_id) VALUES (?, ?, ?, '${at}', ?)`;
          const rows: [string, string, string, string | null][] = [
            ['general', 'alice', 'one', 'c-1'], // 1 kept
            ['general', 'alice', 'one again', 'c-1'], // 2 cleared
            ['dev', 'alice', 'same id, other room', 'c-1'], // 3 kept
            ['general', 'bob', 'two', 'c-2'], // 4 kept
            ['general', 'bob', 'one, a third time', 'c-1'], // 5 cleared
            ['general', 'carol', 'no id', null], // 6
            ['general', 'carol', 'no id', null], // 7
            ['dev', 'bob', 'two in dev', 'c-2'], // 8 kept
          ];
          for (const row of rows) await old.query(insert, row);
          const insertDirect = `INSERT INTO direct_messages (sender, recipient, body, sent_at, client_msg_id) VALUES (?, ?, ?, '${at}', ?)`;
          const directs: [string, string, string, string | null][] = [
            ['alice', 'bob', 'psst', 'd-1'], // 1 kept
            ['alice', 'carol', 'psst again', 'd-1'], // 2 cleared: same sender
            ['bob', 'alice', 'same id, other sender', 'd-1'], // 3 kept
            ['alice', 'bob', 'no id', null], // 4
          ];
          for (const row of directs) await old.query(insertDirect, row);
        });

        const upgraded = await upgrade();
        try {
          await expect(upgraded.showMigrations()).resolves.toBe(false);
          await expect(upgraded.query('SELECT id, body, client_msg_id FROM messages ORDER BY id')).resolves.toEqual([
            { id: 1, body: 'one', client_msg_id: 'c-1' },
            { id: 2, body: 'one again', client_msg_id: null },
            { id: 3, body: 'same id, other room', client_msg_id: 'c-1' },
            { id: 4, body: 'two', client_msg_id: 'c-2' },
            { id: 5, body: 'one, a third time', client_msg_id: null },
            { id: 6, body: 'no id', client_msg_id: null },
            { id: 7, body: 'no id', client_msg_id: null },
            { id: 8, body: 'two in dev', client_msg_id: 'c-2' },
          ]);
          await expect(upgraded.query('SELECT id, body, client_msg_id FROM direct_messages ORDER BY id')).resolves.toEqual([
            { id: 1, body: 'psst', client_msg_id: 'd-1' },
            { id: 2, body: 'psst again', client_msg_id: null },
            { id: 3, body: 'same id, other sender', client_msg_id: 'd-1' },
            { id: 4, body: 'no id', client_msg_id: null },
          ]);
          await expect(uniqueIndexes(upgraded, 'messages')).resolves.toEqual(['uq_messages_room_client_msg_id']);
          await expect(uniqueIndexes(upgraded, 'direct_messages')).resolves.toEqual(['uq_direct_messages_sender_client_msg_id']);
          const diff = await upgraded.driver.createSchemaBuilder().log();
          expect(diff.upQueries).toEqual([]);
        } finally {
          await upgraded.destroy();
        }
      });

      it('leaves a database without repeated client_msg_ids untouched', async () => {
        await earlierRelease(beforeUnique, async (old) => {
          const insert = `INSERT INTO messages (room, nickname, body, sent_at, client_msg_id) VALUES ('general', 'alice', ?, '${at}', ?)`;
          for (const [body, id] of [['a', 'c-1'], ['b', 'c-2'], ['c', null]]) await old.query(insert, [body, id]);
        });

        const upgraded = await upgrade();
        try {
          await expect(upgraded.query('SELECT id, client_msg_id FROM messages ORDER BY id')).resolves.toEqual([
            { id: 1, client_msg_id: 'c-1' },
            { id: 2, client_msg_id: 'c-2' },
            { id: 3, client_msg_id: null },
          ]);
        } finally {
          await upgraded.destroy();
        }
      });

      it('then refuses a repeated (room, client_msg_id) but not repeated NULLs', async () => {
        await earlierRelease(beforeUnique, () => Promise.resolve());

        const upgraded = await upgrade();
        try {
          const insert = `INSERT INTO messages (room, nickname, body, sent_at, client_msg_id) VALUES ('general', 'alice', 'x', '${at}', ?)`;
          await upgraded.query(insert, ['c-1']);
          await upgraded.query(insert, [null]);
          await upgraded.query(insert, [null]);
          await expect(upgraded.query(insert, ['c-1'])).rejects.toThrow(/UNIQUE constraint failed/);
          const insertDirect = `INSERT INTO direct_messages (sender, recipient, body, sent_at, client_msg_id) VALUES ('alice', ?, 'x', '${at}', 'd-1')`;
          await upgraded.query(insertDirect, ['bob']);
          await expect(upgraded.query(insertDirect, ['carol'])).rejects.toThrow(/UNIQUE constraint failed/);
        } finally {
          await upgraded.destroy();
        }
      });
    });
  });
});
