import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { MessageStore } from '../store/message-store.service';
import { MIGRATIONS } from './migrations';
import { UsersAndPrivateRooms1766448000000 } from './migrations/1766448000000-users-and-private-rooms';
import { DirectMessagesInMessages1766451600000 } from './migrations/1766451600000-direct-messages-in-messages';
import { sqliteOptions } from './typeorm-options';
import { undoThrough } from './undo-migrations';

const AT = '2026-11-21T23:44:19.123Z';

/** Upgrades of a file database by the two migrations of issue 12 (users, private rooms, DMs in messages). */
describe('migrations of issue 12, upgrading a file database', () => {
  let dir: string;
  let path: string;
  const open: DataSource[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-migrations-12-'));
    path = join(dir, 'chat.sqlite');
  });

  afterEach(async () => {
    for (const ds of open.splice(0)) if (ds.isInitialized) await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The database as the release before `migration` left it, seeded by `seed`. */
  async function releaseBefore(migration: (typeof MIGRATIONS)[number], seed: (ds: DataSource) => Promise<void>): Promise<void> {
    const old = new DataSource({ ...sqliteOptions({ path, synchronous: 'FULL' }), migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(migration)) });
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
    open.push(ds);
    await ds.initialize();
    await expect(ds.showMigrations()).resolves.toBe(false);
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
    return ds;
  }

  const insertMessage = (ds: DataSource, room: string, body: string, clientMsgId: string | null = null) =>
    ds.query(`INSERT INTO messages (room, nickname, body, sent_at, client_msg_id) VALUES (?, 'alice', ?, '${AT}', ?)`, [room, body, clientMsgId]);
  const insertDirect = (ds: DataSource, id: number, sender: string, recipient: string, body: string, clientMsgId: string | null) =>
    ds.query(`INSERT INTO direct_messages (id, sender, recipient, body, sent_at, client_msg_id) VALUES (?, ?, ?, ?, '${AT}', ?)`, [
      id,
      sender,
      recipient,
      body,
      clientMsgId,
    ]);
  const setSequence = (ds: DataSource, seq: number) => ds.query(`UPDATE sqlite_sequence SET seq = ? WHERE name = 'messages'`, [seq]);
  const dmRows = (ds: DataSource) =>
    ds.query('SELECT id, room, nickname, recipient, body, sent_at, client_msg_id, user_id, recipient_id FROM messages WHERE room IS NULL ORDER BY id');

  describe(DirectMessagesInMessages1766451600000.name, () => {
    const before = (seed: (ds: DataSource) => Promise<void>) => releaseBefore(DirectMessagesInMessages1766451600000, seed);

    it('copies direct_messages rows in their old order, with new ids above every message id, and drops the table', async () => {
      await before(async (old) => {
        for (const body of ['g1', 'g2', 'g3']) await insertMessage(old, 'general', body);
        // inserted out of id order: "old order" is their id order
        await insertDirect(old, 7, 'bob', 'alice', 'third', null);
        await insertDirect(old, 2, 'alice', 'bob', 'first', 'd-1');
        await insertDirect(old, 5, 'carol', 'alice', 'second', 'd-1');
      });

      const upgraded = await upgrade();

      await expect(upgraded.query('SELECT id, room, body FROM messages WHERE room IS NOT NULL ORDER BY id')).resolves.toEqual([
        { id: 1, room: 'general', body: 'g1' },
        { id: 2, room: 'general', body: 'g2' },
        { id: 3, room: 'general', body: 'g3' },
      ]);
      const dm = (id: number, nickname: string, recipient: string, body: string, clientMsgId: string | null) => ({
        id,
        room: null,
        nickname,
        recipient,
        body,
        sent_at: AT,
        client_msg_id: clientMsgId,
        user_id: null,
        recipient_id: null,
      });
      await expect(dmRows(upgraded)).resolves.toEqual([
        dm(4, 'alice', 'bob', 'first', 'd-1'),
        dm(5, 'carol', 'alice', 'second', 'd-1'),
        dm(6, 'bob', 'alice', 'third', null),
      ]);
      await expect(upgraded.query("SELECT name FROM sqlite_master WHERE name LIKE '%direct_messages%'")).resolves.toEqual([]);
      await expect(upgraded.query("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")).resolves.toEqual([{ seq: 6 }]);
    });

    it('never gives out an id again: the sequence stays above ids used up before the table rebuild', async () => {
      await before(async (old) => {
        await insertMessage(old, 'general', 'g1');
        await insertMessage(old, 'general', 'g2');
        // ids up to 100 were given out (resends and rolled-back batches use ids up)
        await setSequence(old, 100);
        await insertDirect(old, 1, 'alice', 'bob', 'psst', null);
      });

      const upgraded = await upgrade();

      await expect(dmRows(upgraded)).resolves.toMatchObject([{ id: 101, body: 'psst' }]);
      const store = new MessageStore(upgraded, new ChatMetrics());
      await expect(store.append({ room: 'general', nickname: 'bob', body: 'next' })).resolves.toMatchObject({ record: { id: 102 } });
    });

    it('keeps the sequence when there are no DMs to copy', async () => {
      await before(async (old) => {
        await insertMessage(old, 'general', 'g1');
        await setSequence(old, 41);
      });

      const upgraded = await upgrade();

      const store = new MessageStore(upgraded, new ChatMetrics());
      await expect(store.appendDirect({ from: 'alice', to: 'bob', body: 'first DM' })).resolves.toMatchObject({ record: { id: 42 } });
    });

    it('upgrades an empty database, whose sequence starts at 1', async () => {
      await before(() => Promise.resolve());

      const upgraded = await upgrade();

      const store = new MessageStore(upgraded, new ChatMetrics());
      await expect(store.append({ room: 'general', nickname: 'bob', body: 'hi' })).resolves.toMatchObject({ record: { id: 1 } });
    });

    it('keeps DMs idempotent: a resend of a copied DM is answered with the copied row, nothing stored', async () => {
      await before(async (old) => {
        await insertMessage(old, 'general', 'g1', 'd-1');
        await insertDirect(old, 1, 'alice', 'bob', 'original', 'd-1');
      });

      const upgraded = await upgrade();
      const store = new MessageStore(upgraded, new ChatMetrics());

      const resend = await store.appendDirect({ from: 'alice', to: 'bob', body: 'resent', clientMsgId: 'd-1' });
      expect(resend).toStrictEqual({
        record: { id: 2, sender: 'alice', recipient: 'bob', body: 'original', sentAt: AT, clientMsgId: 'd-1', senderId: null, recipientId: null },
        duplicate: true,
      });
      // another sender may use the same id; so may a room message (it already did: id 1)
      const other = await store.appendDirect({ from: 'bob', to: 'alice', body: 'mine', clientMsgId: 'd-1' });
      expect(other).toMatchObject({ record: { body: 'mine' }, duplicate: false });
      expect(other.record.id).toBeGreaterThan(2);
      await expect(upgraded.query('SELECT COUNT(*) AS n FROM messages')).resolves.toEqual([{ n: 3 }]);
    });

    it('undoes cleanly with DMs stored: they go back to direct_messages in order, the user ids are dropped', async () => {
      await before(async (old) => {
        await insertMessage(old, 'general', 'g1');
        await insertDirect(old, 1, 'alice', 'bob', 'anonymous', 'd-1');
      });
      const upgraded = await upgrade();
      const store = new MessageStore(upgraded, new ChatMetrics());
      await store.appendDirect({ from: 'Sam', to: 'bob', body: 'from one Sam', clientMsgId: 'x', fromId: 'sub-1', toId: 'sub-b' });
      await store.appendDirect({ from: 'Sam', to: 'bob', body: 'from another Sam', clientMsgId: 'x', fromId: 'sub-2', toId: 'sub-b' });
      await store.append({ room: 'general', nickname: 'bob', body: 'g5' });

      await undoThrough(upgraded, DirectMessagesInMessages1766451600000);

      await expect(upgraded.query('SELECT id, sender, recipient, body, client_msg_id FROM direct_messages ORDER BY id')).resolves.toEqual([
        { id: 1, sender: 'alice', recipient: 'bob', body: 'anonymous', client_msg_id: 'd-1' },
        { id: 2, sender: 'Sam', recipient: 'bob', body: 'from one Sam', client_msg_id: 'x' },
        // one row per (sender, client_msg_id) again: the later one keeps its text, not its id
        { id: 3, sender: 'Sam', recipient: 'bob', body: 'from another Sam', client_msg_id: null },
      ]);
      await expect(upgraded.query('SELECT id, room, body FROM messages ORDER BY id')).resolves.toEqual([
        { id: 1, room: 'general', body: 'g1' },
        { id: 5, room: 'general', body: 'g5' },
      ]);
      await expect(upgraded.query("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")).resolves.toEqual([{ seq: 5 }]);

      await upgraded.runMigrations();

      await expect(dmRows(upgraded)).resolves.toMatchObject([
        { id: 6, nickname: 'alice', body: 'anonymous', user_id: null },
        { id: 7, nickname: 'Sam', body: 'from one Sam', user_id: null },
        { id: 8, nickname: 'Sam', body: 'from another Sam', user_id: null },
      ]);
    });
  });

  describe(UsersAndPrivateRooms1766448000000.name, () => {
    const before = (seed: (ds: DataSource) => Promise<void>) => releaseBefore(UsersAndPrivateRooms1766448000000, seed);

    it('keeps every room with its newest id, public, with no owner or creation time', async () => {
      await before(async (old) => {
        await insertMessage(old, 'general', 'g1');
        await insertMessage(old, 'dev', 'd2');
        await old.query('INSERT INTO rooms (name, last_message_id) SELECT room, MAX(id) FROM messages GROUP BY room');
      });

      const upgraded = await upgrade();

      await expect(upgraded.query('SELECT name, last_message_id, visibility, owner_id, created_at FROM rooms ORDER BY name')).resolves.toEqual([
        { name: 'dev', last_message_id: 2, visibility: 'public', owner_id: null, created_at: null },
        { name: 'general', last_message_id: 1, visibility: 'public', owner_id: null, created_at: null },
      ]);
      await expect(upgraded.query('SELECT COUNT(*) AS n FROM users')).resolves.toEqual([{ n: 0 }]);
      await expect(upgraded.query('SELECT COUNT(*) AS n FROM room_members')).resolves.toEqual([{ n: 0 }]);
    });

    it('undoes cleanly: created rooms without messages go, rooms with messages stay', async () => {
      await before(async (old) => {
        await insertMessage(old, 'general', 'g1');
        await old.query('INSERT INTO rooms (name, last_message_id) VALUES (?, 1)', ['general']);
      });
      const upgraded = await upgrade();
      await upgraded.query(`INSERT INTO rooms (name, last_message_id, visibility, owner_id, created_at) VALUES ('eng', NULL, 'private', 'sub-1', '${AT}')`);
      await upgraded.query("UPDATE rooms SET visibility = 'private', owner_id = 'sub-1' WHERE name = 'general'");

      await undoThrough(upgraded, UsersAndPrivateRooms1766448000000);

      await expect(upgraded.query('SELECT * FROM rooms')).resolves.toEqual([{ name: 'general', last_message_id: 1 }]);
      await expect(upgraded.query("SELECT name FROM sqlite_master WHERE name IN ('users', 'room_members')")).resolves.toEqual([]);
    });
  });
});
