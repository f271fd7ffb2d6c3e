import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/**
 * Makes resends idempotent in the database: one row per (room, clientMsgId) and per
 * (sender, clientMsgId) for direct messages. Rows stored before this kept their text;
 * a repeated id on them is cleared so the index can be built.
 */
export class UniqueClientMsgIds1763791200000 implements MigrationInterface {
  name = 'UniqueClientMsgIds1763791200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'UPDATE messages SET client_msg_id = NULL WHERE client_msg_id IS NOT NULL AND id NOT IN ' +
        '(SELECT MIN(id) FROM messages WHERE client_msg_id IS NOT NULL GROUP BY room, client_msg_id)',
    );
    await queryRunner.query(
      'UPDATE direct_messages SET client_msg_id = NULL WHERE client_msg_id IS NOT NULL AND id NOT IN ' +
        '(SELECT MIN(id) FROM direct_messages WHERE client_msg_id IS NOT NULL GROUP BY sender, client_msg_id)',
    );
    await queryRunner.createIndex(
      'messages',
      new TableIndex({ name: 'uq_messages_room_client_msg_id', columnNames: ['room', 'client_msg_id'], isUnique: true }),
    );
    await queryRunner.createIndex(
      'direct_messages',
      new TableIndex({ name: 'uq_direct_messages_sender_client_msg_id', columnNames: ['sender', 'client_msg_id'], isUnique: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('direct_messages', 'uq_direct_messages_sender_client_msg_id');
    await queryRunner.dropIndex('messages', 'uq_messages_room_client_msg_id');
  }
}
