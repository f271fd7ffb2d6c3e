import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { CreateMessages1763769600000 } from './migrations/1763769600000-create-messages';
import { RoomsAndDirectMessages1763780400000 } from './migrations/1763780400000-rooms-and-direct-messages';
import { UniqueClientMsgIds1763791200000 } from './migrations/1763791200000-unique-client-msg-ids';
import { StoreProbe1765065600000 } from './migrations/1765065600000-store-probe';
import { UsersAndPrivateRooms1766448000000 } from './migrations/1766448000000-users-and-private-rooms';
import { DirectMessagesInMessages1766451600000 } from './migrations/1766451600000-direct-messages-in-messages';
import { ClientMsgIdsPerSender1766455200000 } from './migrations/1766455200000-client-msg-ids-per-sender';
import { AuditLog1766520000000 } from './migrations/1766520000000-audit-log';
import { EditsDeletionsAndRoomSettings1766523600000 } from './migrations/1766523600000-edits-deletions-and-room-settings';
import { BansAndMutes1766527200000 } from './migrations/1766527200000-bans-and-mutes';
import { MessageChanges1766527300000 } from './migrations/1766527300000-message-changes';
import { RetentionMarks1766527400000 } from './migrations/1766527400000-retention-marks';
import { sqliteOptions } from './typeorm-options';
import { undoThrough } from './undo-migrations';

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

/** The WHERE clause of a partial index, as SQLite stores its CREATE INDEX; null for a full index. */
const indexWhere = async (ds: DataSource, index: string): Promise<string | null> => {
  const rows: { sql: string }[] = await ds.query(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, [index]);
  if (rows.length !== 1) throw new Error(`no index named ${index}`);
  return /WHERE (.*)$/.exec(rows[0].sql)?.[1] ?? null;
};

const columnsOf = async (ds: DataSource, table: string): Promise<string[]> => {
  const rows: { name: string }[] = await ds.query('SELECT name FROM pragma_table_info(?) ORDER BY cid', [table]);
  return rows.map((r) => r.name);
};

const ALL_TABLES = ['messages', 'rooms', 'direct_messages', 'store_probe', 'users', 'room_members', 'audit_log'];
const allTables = (ds: DataSource) => tablesNamed(ds, ...ALL_TABLES);

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
      'UsersAndPrivateRooms1766448000000',
      'DirectMessagesInMessages1766451600000',
      'ClientMsgIdsPerSender1766455200000',
      'AuditLog1766520000000',
      'EditsDeletionsAndRoomSettings1766523600000',
      'BansAndMutes1766527200000',
      'MessageChanges1766527300000',
      'RetentionMarks1766527400000',
      'PostgresIdCeiling1766527500000',
    ]);
  });

  it('produce exactly the schema the entities describe', async () => {
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('create the paging index on (room, id)', async () => {
    await expect(indexColumns(sut, 'idx_messages_room_id')).resolves.toEqual(['room', 'id']);
  });

  it('keep direct messages in messages (room NULL), with no direct_messages table', async () => {
    await expect(allTables(sut)).resolves.toEqual(['audit_log', 'messages', 'room_members', 'rooms', 'store_probe', 'users']);
    await expect(columnsOf(sut, 'messages')).resolves.toEqual([
      'id',
      'room',
      'nickname',
      'body',
      'sent_at',
      'client_msg_id',
      'user_id',
      'recipient',
      'recipient_id',
      'edited_at',
      'deleted_at',
      'changed_at_id',
    ]);
  });

  it('create the partial indexes that hold only direct messages: "DMs to or from user X above id N"', async () => {
    await expect(indexColumns(sut, 'idx_messages_dm_recipient_id')).resolves.toEqual(['recipient_id', 'id']);
    await expect(indexColumns(sut, 'idx_messages_dm_user_id')).resolves.toEqual(['user_id', 'id']);
    await expect(indexWhere(sut, 'idx_messages_dm_recipient_id')).resolves.toBe('room IS NULL');
    await expect(indexWhere(sut, 'idx_messages_dm_user_id')).resolves.toBe('room IS NULL');
    await expect(indexWhere(sut, 'idx_messages_room_id')).resolves.toBeNull();
  });

  it('create the unique indexes on (room, client_msg_id) per anonymous sender, (room, user_id, client_msg_id) per signed-in one and, for direct messages, (user_id or nickname, client_msg_id)', async () => {
    await expect(indexColumns(sut, 'uq_messages_room_client_msg_id')).resolves.toEqual(['room', 'client_msg_id']);
    await expect(indexColumns(sut, 'uq_messages_room_user_client_msg_id')).resolves.toEqual(['room', 'user_id', 'client_msg_id']);
    await expect(indexColumns(sut, 'uq_messages_dm_user_client_msg_id')).resolves.toEqual(['user_id', 'client_msg_id']);
    await expect(indexColumns(sut, 'uq_messages_dm_nickname_client_msg_id')).resolves.toEqual(['nickname', 'client_msg_id']);
    await expect(indexWhere(sut, 'uq_messages_room_client_msg_id')).resolves.toBe('user_id IS NULL');
    await expect(indexWhere(sut, 'uq_messages_room_user_client_msg_id')).resolves.toBe('room IS NOT NULL AND user_id IS NOT NULL');
    await expect(indexWhere(sut, 'uq_messages_dm_user_client_msg_id')).resolves.toBe('room IS NULL AND user_id IS NOT NULL');
    await expect(indexWhere(sut, 'uq_messages_dm_nickname_client_msg_id')).resolves.toBe('room IS NULL AND user_id IS NULL');
    await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual([
      'uq_messages_dm_nickname_client_msg_id',
      'uq_messages_dm_user_client_msg_id',
      'uq_messages_room_client_msg_id',
      'uq_messages_room_user_client_msg_id',
    ]);
  });

  it('give the partial indexes the WHERE clauses the entity declares (the schema diff does not compare them)', () => {
    const declared = sut.getMetadata('messages').indices.map((index) => [index.name, index.where ?? null]);
    expect(declared.sort()).toEqual([
      ['idx_messages_changed_at_id', 'changed_at_id IS NOT NULL'],
      ['idx_messages_dm_recipient_id', 'room IS NULL'],
      ['idx_messages_dm_user_id', 'room IS NULL'],
      ['idx_messages_room_id', null],
      ['uq_messages_dm_nickname_client_msg_id', 'room IS NULL AND user_id IS NULL'],
      ['uq_messages_dm_user_client_msg_id', 'room IS NULL AND user_id IS NOT NULL'],
      ['uq_messages_room_client_msg_id', 'user_id IS NULL'],
      ['uq_messages_room_user_client_msg_id', 'room IS NOT NULL AND user_id IS NOT NULL'],
    ]);
  });

  it('create users (looked up by nickname_key) and room_members (primary key (room, user_id), looked up by user_id)', async () => {
    await expect(columnsOf(sut, 'users')).resolves.toEqual(['id', 'nickname', 'nickname_key', 'roles', 'first_seen', 'last_seen', 'dm_delivered_id']);
    await expect(indexColumns(sut, 'idx_users_nickname_key')).resolves.toEqual(['nickname_key']);
    await expect(columnsOf(sut, 'room_members')).resolves.toEqual(['room', 'user_id', 'joined_at']);
    const primaryKey: { name: string }[] = await sut.query('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk', ['room_members']);
    expect(primaryKey.map((c) => c.name)).toEqual(['room', 'user_id']);
    await expect(indexColumns(sut, 'idx_room_members_user_id')).resolves.toEqual(['user_id']);
  });

  it('give rooms a visibility (default public), an owner and a creation time, and a nullable last_message_id', async () => {
    await expect(columnsOf(sut, 'rooms')).resolves.toEqual(['name', 'last_message_id', 'visibility', 'owner_id', 'created_at', 'slow_mode_seconds', 'retention_days']);
    await sut.query("INSERT INTO rooms (name, last_message_id) VALUES ('general', 7)");
    await sut.query("INSERT INTO rooms (name, last_message_id, visibility, owner_id, created_at) VALUES ('eng', NULL, 'private', 'sub-1', 'now')");
    await expect(sut.query('SELECT * FROM rooms ORDER BY name')).resolves.toEqual([
      { name: 'eng', last_message_id: null, visibility: 'private', owner_id: 'sub-1', created_at: 'now', slow_mode_seconds: 0, retention_days: null },
      { name: 'general', last_message_id: 7, visibility: 'public', owner_id: null, created_at: null, slow_mode_seconds: 0, retention_days: null },
    ]);
  });

  it('create the store_probe table, empty', async () => {
    await expect(tablesNamed(sut, 'store_probe')).resolves.toEqual(['store_probe']);
    await expect(sut.query('SELECT * FROM store_probe')).resolves.toEqual([]);
  });

  it('create the audit_log table, empty, indexed by actor and by action', async () => {
    await expect(sut.query('SELECT * FROM audit_log')).resolves.toEqual([]);
    await expect(indexColumns(sut, 'idx_audit_log_actor')).resolves.toEqual(['actor', 'id']);
    await expect(indexColumns(sut, 'idx_audit_log_action')).resolves.toEqual(['action', 'id']);
  });

  it('undo back through AuditLog cleanly and apply it again', async () => {
    await undoAndRedo(AuditLog1766520000000, ['messages', 'room_members', 'rooms', 'store_probe', 'users']);
  });

  it('add the columns of edits, deletions and room settings without rebuilding messages: its id sequence is kept', async () => {
    await sut.query("INSERT INTO messages (id, room, nickname, body, sent_at) VALUES (41, 'general', 'a', 'x', 'now')");
    await sut.query('DELETE FROM messages');
    await undoThrough(sut, EditsDeletionsAndRoomSettings1766523600000);
    await sut.runMigrations();
    await sut.query("INSERT INTO messages (room, nickname, body, sent_at) VALUES ('general', 'a', 'y', 'now')");
    await expect(sut.query('SELECT id FROM messages')).resolves.toEqual([{ id: 42 }]);
  });

  it('undo back through EditsDeletionsAndRoomSettings cleanly and apply it again', async () => {
    await undoAndRedo(EditsDeletionsAndRoomSettings1766523600000, ['audit_log', 'messages', 'room_members', 'rooms', 'store_probe', 'users'], async () => {
      await expect(columnsOf(sut, 'messages')).resolves.not.toContain('edited_at');
      await expect(columnsOf(sut, 'rooms')).resolves.toEqual(['name', 'last_message_id', 'visibility', 'owner_id', 'created_at']);
    });
  });

  it('create bans (keyed by kind and target) and mutes (keyed by room and target), empty', async () => {
    await expect(columnsOf(sut, 'bans')).resolves.toEqual(['kind', 'target', 'expires_at', 'reason', 'actor', 'created_at']);
    await expect(columnsOf(sut, 'mutes')).resolves.toEqual(['room', 'target', 'expires_at', 'reason', 'actor', 'created_at']);
    for (const table of ['bans', 'mutes']) {
      const primaryKey: { name: string }[] = await sut.query('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk', [table]);
      expect(primaryKey.map((c) => c.name)).toEqual(table === 'bans' ? ['kind', 'target'] : ['room', 'target']);
      await expect(sut.query(`SELECT * FROM ${table}`)).resolves.toEqual([]);
    }
  });

  it('undo back through BansAndMutes cleanly and apply it again', async () => {
    await undoAndRedo(BansAndMutes1766527200000, ['audit_log', 'messages', 'room_members', 'rooms', 'store_probe', 'users'], async () => {
      await expect(tablesNamed(sut, 'bans', 'mutes')).resolves.toEqual([]);
    });
  });

  it('add changed_at_id and its partial index without rebuilding messages; undo and apply it again', async () => {
    await expect(indexColumns(sut, 'idx_messages_changed_at_id')).resolves.toEqual(['changed_at_id']);
    await expect(indexWhere(sut, 'idx_messages_changed_at_id')).resolves.toBe('changed_at_id IS NOT NULL');
    await sut.query("INSERT INTO messages (id, room, nickname, body, sent_at) VALUES (41, 'general', 'a', 'x', 'now')");
    await sut.query('DELETE FROM messages');
    await undoAndRedo(MessageChanges1766527300000, ['audit_log', 'messages', 'room_members', 'rooms', 'store_probe', 'users'], async () => {
      await expect(columnsOf(sut, 'messages')).resolves.not.toContain('changed_at_id');
    });
  });

  it('create retention_marks, empty, and undo it cleanly (the messages id sequence is kept)', async () => {
    await expect(sut.query('SELECT * FROM retention_marks')).resolves.toEqual([]);
    await expect(columnsOf(sut, 'retention_marks')).resolves.toEqual(['scope', 'purged_through_id', 'purged_at']);
    await sut.query("INSERT INTO messages (id, room, nickname, body, sent_at) VALUES (41, 'general', 'a', 'x', 'now')");
    await sut.query('DELETE FROM messages');
    await undoAndRedo(RetentionMarks1766527400000, ALL_TABLES.filter((t) => t !== 'direct_messages').sort(), async () => {
      await expect(tablesNamed(sut, 'retention_marks')).resolves.toEqual([]);
    });
    await expect(tablesNamed(sut, 'retention_marks')).resolves.toEqual(['retention_marks']);
    await sut.query("INSERT INTO messages (room, nickname, body, sent_at) VALUES ('general', 'a', 'y', 'now')");
    await expect(sut.query('SELECT id FROM messages')).resolves.toEqual([{ id: 42 }]);
  });

  /** Undoes the migrations back through `migration`, checks `tables` and `check`, then applies them again: the schema is the entities' again. */
  async function undoAndRedo(migration: (typeof MIGRATIONS)[number], tables: string[], check: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    const allNow = await allTables(sut);
    const n = await undoThrough(sut, migration);
    await expect(allTables(sut)).resolves.toEqual(tables);
    await check();
    await expect(sut.showMigrations()).resolves.toBe(n > 0);

    await sut.runMigrations();

    await expect(sut.showMigrations()).resolves.toBe(false);
    await expect(allTables(sut)).resolves.toEqual(allNow);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  }

  it('undo back through ClientMsgIdsPerSender cleanly and apply it again', async () => {
    await undoAndRedo(ClientMsgIdsPerSender1766455200000, ['messages', 'room_members', 'rooms', 'store_probe', 'users'], async () => {
      await expect(indexWhere(sut, 'uq_messages_room_client_msg_id')).resolves.toBeNull();
      await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual([
        'uq_messages_dm_nickname_client_msg_id',
        'uq_messages_dm_user_client_msg_id',
        'uq_messages_room_client_msg_id',
      ]);
    });
  });

  it('undo back through DirectMessagesInMessages cleanly and apply them again', async () => {
    await undoAndRedo(DirectMessagesInMessages1766451600000, ['direct_messages', 'messages', 'room_members', 'rooms', 'store_probe', 'users'], async () => {
      await expect(columnsOf(sut, 'messages')).resolves.toEqual(['id', 'room', 'nickname', 'body', 'sent_at', 'client_msg_id']);
      const room: unknown[] = await sut.query("SELECT type, \"notnull\" FROM pragma_table_info('messages') WHERE name IN ('room', 'nickname') ORDER BY cid");
      expect(room).toEqual([
        { type: 'varchar(64)', notnull: 1 },
        { type: 'varchar(32)', notnull: 1 },
      ]);
      await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual(['uq_messages_room_client_msg_id']);
      await expect(uniqueIndexes(sut, 'direct_messages')).resolves.toEqual(['uq_direct_messages_sender_client_msg_id']);
      await expect(indexColumns(sut, 'idx_direct_messages_recipient_id')).resolves.toEqual(['recipient', 'id']);
      await expect(indexColumns(sut, 'idx_direct_messages_sender_id')).resolves.toEqual(['sender', 'id']);
    });
  });

  it('undo back through UsersAndPrivateRooms (users, membership, private rooms) cleanly and apply them again', async () => {
    await undoAndRedo(UsersAndPrivateRooms1766448000000, ['direct_messages', 'messages', 'rooms', 'store_probe'], async () => {
      await expect(columnsOf(sut, 'rooms')).resolves.toEqual(['name', 'last_message_id']);
      await expect(sut.query("INSERT INTO rooms (name, last_message_id) VALUES ('general', NULL)")).rejects.toThrow(/NOT NULL constraint failed/);
    });
  });

  it('undo back through StoreProbe cleanly and apply them again', async () => {
    await undoAndRedo(StoreProbe1765065600000, ['direct_messages', 'messages', 'rooms'], async () => {
      await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual(['uq_messages_room_client_msg_id']);
    });
  });

  it('undo back through UniqueClientMsgIds cleanly and apply them again', async () => {
    await undoAndRedo(UniqueClientMsgIds1763791200000, ['direct_messages', 'messages', 'rooms'], async () => {
      await expect(uniqueIndexes(sut, 'messages')).resolves.toEqual([]);
      await expect(uniqueIndexes(sut, 'direct_messages')).resolves.toEqual([]);
    });
  });

  it('undo back through RoomsAndDirectMessages cleanly and apply them again', async () => {
    await undoAndRedo(RoomsAndDirectMessages1763780400000, ['messages']);
  });

  it('undo all the way down and apply again', async () => {
    await undoAndRedo(CreateMessages1763769600000, []);
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
          await expect(upgraded.query('SELECT * FROM messages')).resolves.toEqual([]);
        } finally {
          await upgraded.destroy();
        }
      });
    });

    describe('UniqueClientMsgIds1763791200000', () => {
      const beforeUnique = MIGRATIONS.slice(0, 2);
      const at = '2026-11-21T23:44:19.123Z';

      it('is the migration after the first two, followed by StoreProbe and the issue 12 ones', () => {
        expect(beforeUnique).toEqual([CreateMessages1763769600000, RoomsAndDirectMessages1763780400000]);
        expect(MIGRATIONS.slice(0, 7)).toEqual([
          ...beforeUnique,
          UniqueClientMsgIds1763791200000,
          StoreProbe1765065600000,
          UsersAndPrivateRooms1766448000000,
          DirectMessagesInMessages1766451600000,
          ClientMsgIdsPerSender1766455200000,
        ]);
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
          await expect(upgraded.query('SELECT id, body, client_msg_id FROM messages WHERE room IS NOT NULL ORDER BY id')).resolves.toEqual([
            { id: 1, body: 'one', client_msg_id: 'c-1' },
            { id: 2, body: 'one again', client_msg_id: null },
            { id: 3, body: 'same id, other room', client_msg_id: 'c-1' },
            { id: 4, body: 'two', client_msg_id: 'c-2' },
            { id: 5, body: 'one, a third time', client_msg_id: null },
            { id: 6, body: 'no id', client_msg_id: null },
            { id: 7, body: 'no id', client_msg_id: null },
            { id: 8, body: 'two in dev', client_msg_id: 'c-2' },
          ]);
          // since moved into messages (DirectMessagesInMessages), after the room messages
          await expect(upgraded.query('SELECT id, body, client_msg_id FROM messages WHERE room IS NULL ORDER BY id')).resolves.toEqual([
            { id: 9, body: 'psst', client_msg_id: 'd-1' },
            { id: 10, body: 'psst again', client_msg_id: null },
            { id: 11, body: 'same id, other sender', client_msg_id: 'd-1' },
            { id: 12, body: 'no id', client_msg_id: null },
          ]);
          await expect(uniqueIndexes(upgraded, 'messages')).resolves.toEqual([
            'uq_messages_dm_nickname_client_msg_id',
            'uq_messages_dm_user_client_msg_id',
            'uq_messages_room_client_msg_id',
            'uq_messages_room_user_client_msg_id',
          ]);
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
          const insertDirect = `INSERT INTO messages (room, nickname, recipient, body, sent_at, client_msg_id) VALUES (NULL, 'alice', ?, 'x', '${at}', 'd-1')`;
          await upgraded.query(insertDirect, ['bob']);
          await expect(upgraded.query(insertDirect, ['carol'])).rejects.toThrow(/UNIQUE constraint failed/);
        } finally {
          await upgraded.destroy();
        }
      });
    });
  });
});
