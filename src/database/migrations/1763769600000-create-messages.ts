import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

export class CreateMessages1763769600000 implements MigrationInterface {
  name = 'CreateMessages1763769600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'messages',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'room', type: 'varchar', length: '64' },
          { name: 'nickname', type: 'varchar', length: '32' },
          { name: 'body', type: 'text' },
          { name: 'sent_at', type: 'varchar', length: '24' },
          { name: 'client_msg_id', type: 'varchar', length: '64', isNullable: true },
        ],
      }),
    );
    // Keyset paging (room = ? AND id < ? ORDER BY id DESC) is a range scan of this index.
    await queryRunner.createIndex('messages', new TableIndex({ name: 'idx_messages_room_id', columnNames: ['room', 'id'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('messages', 'idx_messages_room_id');
    await queryRunner.dropTable('messages');
  }
}
