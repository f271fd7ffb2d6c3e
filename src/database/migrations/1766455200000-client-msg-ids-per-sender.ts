import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

// The WHERE clauses of the partial indexes, exactly as MessageEntity declares them.
const ANONYMOUS_ROOM_MESSAGE = 'user_id IS NULL';
const SIGNED_IN_ROOM_MESSAGE = 'room IS NOT NULL AND user_id IS NOT NULL';

const OLD = new TableIndex({ name: 'uq_messages_room_client_msg_id', columnNames: ['room', 'client_msg_id'], isUnique: true });
const ANONYMOUS = new TableIndex({ name: 'uq_messages_room_client_msg_id', columnNames: ['room', 'client_msg_id'], isUnique: true, where: ANONYMOUS_ROOM_MESSAGE });
const SIGNED_IN = new TableIndex({
  name: 'uq_messages_room_user_client_msg_id',
  columnNames: ['room', 'user_id', 'client_msg_id'],
  isUnique: true,
  where: SIGNED_IN_ROOM_MESSAGE,
});

/**
 * A room message's clientMsgId is unique per sender once senders have user ids (jwt mode): with one
 * index over (room, client_msg_id) for everyone, a user who happened to pick an id another user had
 * used in the room got the other user's message acknowledged as theirs, and their own was never
 * stored. Anonymous senders have no stable identity (nicknames change and are reused), so their
 * messages keep the per-room rule; the two sets of rows are told apart by user_id.
 */
export class ClientMsgIdsPerSender1766455200000 implements MigrationInterface {
  name = 'ClientMsgIdsPerSender1766455200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('messages', OLD.name!);
    await queryRunner.createIndex('messages', ANONYMOUS);
    await queryRunner.createIndex('messages', SIGNED_IN);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('messages', SIGNED_IN.name!);
    await queryRunner.dropIndex('messages', ANONYMOUS.name!);
    // Back to one row per (room, client_msg_id): a later row whose id another sender had used first
    // keeps its text and loses its clientMsgId.
    await queryRunner.query(
      'UPDATE messages SET client_msg_id = NULL WHERE room IS NOT NULL AND client_msg_id IS NOT NULL AND id NOT IN ' +
        '(SELECT MIN(id) FROM messages WHERE room IS NOT NULL AND client_msg_id IS NOT NULL GROUP BY room, client_msg_id)',
    );
    await queryRunner.createIndex('messages', OLD);
  }
}
