import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

export class RoomsAndDirectMessages1763780400000 implements MigrationInterface {
  name = 'RoomsAndDirectMessages1763780400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'rooms',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'last_message_id', type: 'integer' },
        ],
      }),
    );
    await queryRunner.query('INSERT INTO rooms (name, last_message_id) SELECT room, MAX(id) FROM messages GROUP BY room');

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
      }),
    );
    await queryRunner.createIndex(
      'direct_messages',
      new TableIndex({ name: 'idx_direct_messages_recipient_id', columnNames: ['recipient', 'id'] }),
    );
    await queryRunner.createIndex(
      'direct_messages',
      new TableIndex({ name: 'idx_direct_messages_sender_id', columnNames: ['sender', 'id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('direct_messages');
    await queryRunner.dropTable('rooms');
  }
}
