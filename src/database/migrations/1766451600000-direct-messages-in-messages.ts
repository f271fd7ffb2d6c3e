import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

// The WHERE clauses of the partial indexes, exactly as MessageEntity declares them.
const DM_USER_CLIENT_MSG_ID = 'room IS NULL AND user_id IS NOT NULL';
const DM_NICKNAME_CLIENT_MSG_ID = 'room IS NULL AND user_id IS NULL';
const DM_ONLY = 'room IS NULL';

const DM_INDEXES = [
  new TableIndex({ name: 'uq_messages_dm_user_client_msg_id', columnNames: ['user_id', 'client_msg_id'], isUnique: true, where: DM_USER_CLIENT_MSG_ID }),
  new TableIndex({ name: 'uq_messages_dm_nickname_client_msg_id', columnNames: ['nickname', 'client_msg_id'], isUnique: true, where: DM_NICKNAME_CLIENT_MSG_ID }),
  new TableIndex({ name: 'idx_messages_dm_recipient_id', columnNames: ['recipient_id', 'id'], where: DM_ONLY }),
  new TableIndex({ name: 'idx_messages_dm_user_id', columnNames: ['user_id', 'id'], where: DM_ONLY }),
];

const NEW_COLUMNS = ['user_id varchar(255)', 'recipient varchar(64)', 'recipient_id varchar(255)'];

const room = (isNullable: boolean) => new TableColumn({ name: 'room', type: 'varchar', length: '64', isNullable });
const nickname = (length: string) => new TableColumn({ name: 'nickname', type: 'varchar', length });

/**
 * Direct messages move into `messages` (room NULL), so that room messages and DMs share one id
 * sequence and `?since=` replays both in id order. Existing direct_messages rows are copied in
 * their old order, with new ids above every message id, and the table is dropped. The sender's
 * and recipient's user ids (jwt) are new columns; nicknames widen to 64 (jwt display names).
 * The room write path keeps its INSERT and its (room, client_msg_id) unique index: DMs have a
 * NULL room and never conflict there; their own idempotency is in partial unique indexes.
 */
export class DirectMessagesInMessages1766451600000 implements MigrationInterface {
  name = 'DirectMessagesInMessages1766451600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // ADD COLUMN is plain SQL in SQLite and PostgreSQL alike, and costs SQLite no table rebuild;
    // TypeORM's addColumns would rebuild the whole table once more.
    for (const column of NEW_COLUMNS) await queryRunner.query(`ALTER TABLE messages ADD COLUMN ${column}`);
    if (isPostgres(queryRunner)) {
      // In place: TypeORM's changeColumn would drop and re-add a column whose length changes.
      await queryRunner.query('ALTER TABLE messages ALTER COLUMN room DROP NOT NULL, ALTER COLUMN nickname TYPE varchar(64)');
    } else {
      await keepingSequence(queryRunner, async () => {
        // SQLite cannot drop a NOT NULL in place: TypeORM rebuilds the table (once, for both changes).
        const messages = await queryRunner.getTable('messages');
        await queryRunner.changeColumns(messages!, [
          { oldColumn: room(false), newColumn: room(true) },
          { oldColumn: nickname('32'), newColumn: nickname('64') },
        ]);
      });
    }
    await queryRunner.query(
      'INSERT INTO messages (room, nickname, body, sent_at, client_msg_id, recipient) ' +
        'SELECT NULL, sender, body, sent_at, client_msg_id, recipient FROM direct_messages ORDER BY id',
    );
    await queryRunner.dropTable('direct_messages');
    for (const index of DM_INDEXES) await queryRunner.createIndex('messages', index);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of DM_INDEXES) await queryRunner.dropIndex('messages', index.name!);
    await queryRunner.createTable(
      new Table({
        name: 'direct_messages',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'sender', type: 'varchar', length: '32' },
          { name: 'recipient', type: 'varchar', length: '32' },
          { name: 'body', type: 'text' },
          { name: 'sent_at', type: 'varchar', length: '24' },
          { name: 'client_msg_id', type: 'varchar', length: '64', isNullable: true },
        ],
        indices: [
          { name: 'idx_direct_messages_recipient_id', columnNames: ['recipient', 'id'] },
          { name: 'idx_direct_messages_sender_id', columnNames: ['sender', 'id'] },
          { name: 'uq_direct_messages_sender_client_msg_id', columnNames: ['sender', 'client_msg_id'], isUnique: true },
        ],
      }),
    );
    // Back to one row per (sender nickname, client_msg_id): two users sharing a nickname may have
    // used the same id; the later row keeps its text and loses its id. User ids are lost.
    await queryRunner.query(
      'INSERT INTO direct_messages (sender, recipient, body, sent_at, client_msg_id) ' +
        'SELECT nickname, recipient, body, sent_at, CASE WHEN id IN ' +
        '(SELECT MIN(id) FROM messages WHERE room IS NULL AND client_msg_id IS NOT NULL GROUP BY nickname, client_msg_id) ' +
        'THEN client_msg_id END FROM messages WHERE room IS NULL ORDER BY id',
    );
    await keepingSequence(queryRunner, async () => {
      await queryRunner.query('DELETE FROM messages WHERE room IS NULL');
      for (const column of NEW_COLUMNS) await queryRunner.query(`ALTER TABLE messages DROP COLUMN ${column.split(' ')[0]}`);
      if (isPostgres(queryRunner)) {
        // Nicknames longer than 32 (jwt display names) cannot go back whole: they are cut.
        await queryRunner.query('ALTER TABLE messages ALTER COLUMN room SET NOT NULL, ALTER COLUMN nickname TYPE varchar(32) USING left(nickname, 32)');
        return;
      }
      const messages = await queryRunner.getTable('messages');
      await queryRunner.changeColumns(messages!, [
        { oldColumn: room(true), newColumn: room(false) },
        { oldColumn: nickname('64'), newColumn: nickname('32') },
      ]);
    });
  }
}

const isPostgres = (queryRunner: QueryRunner): boolean => queryRunner.connection.driver.options.type === 'postgres';

/**
 * SQLite only: a table rebuild (TypeORM copies the rows into a new table) resets the AUTOINCREMENT
 * sequence to the highest id copied, which may be below the last id ever given out (a resend or a
 * rolled-back batch uses one up). Ids must never be reused (clients resume with `since`), so the
 * sequence is put back. PostgreSQL keeps its sequence through ALTER TABLE: nothing to do there.
 * (better-sqlite3 is the only SQLite driver this server configures.)
 */
async function keepingSequence(queryRunner: QueryRunner, work: () => Promise<void>): Promise<void> {
  const sqlite = queryRunner.connection.options.type === 'better-sqlite3';
  const before = sqlite ? await sequence(queryRunner) : 0;
  await work();
  if (!sqlite || before <= (await sequence(queryRunner))) return;
  const updated = (await queryRunner.query("UPDATE sqlite_sequence SET seq = ? WHERE name = 'messages'", [before], true)) as { affected?: number };
  if (!updated.affected) await queryRunner.query("INSERT INTO sqlite_sequence (name, seq) VALUES ('messages', ?)", [before]);
}

async function sequence(queryRunner: QueryRunner): Promise<number> {
  const rows = (await queryRunner.query("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")) as Array<{ seq: number }>;
  return rows[0]?.seq ?? 0;
}
