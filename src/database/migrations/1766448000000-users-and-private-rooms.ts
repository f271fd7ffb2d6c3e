import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

const lastMessageId = (isNullable: boolean) => new TableColumn({ name: 'last_message_id', type: 'integer', isNullable });

/**
 * Users (jwt mode), their stored room membership, and private rooms: `rooms` gains visibility,
 * owner and creation time, and a created room has no message yet (last_message_id NULL).
 */
export class UsersAndPrivateRooms1766448000000 implements MigrationInterface {
  name = 'UsersAndPrivateRooms1766448000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', type: 'varchar', length: '255', isPrimary: true },
          { name: 'nickname', type: 'varchar', length: '64' },
          { name: 'nickname_key', type: 'text' },
          { name: 'roles', type: 'text' },
          { name: 'first_seen', type: 'varchar', length: '24' },
          { name: 'last_seen', type: 'varchar', length: '24' },
          { name: 'dm_delivered_id', type: 'integer', default: 0 },
        ],
      }),
    );
    await queryRunner.createIndex('users', new TableIndex({ name: 'idx_users_nickname_key', columnNames: ['nickname_key'] }));

    await queryRunner.createTable(
      new Table({
        name: 'room_members',
        columns: [
          { name: 'room', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '255', isPrimary: true },
          { name: 'joined_at', type: 'varchar', length: '24' },
        ],
      }),
    );
    // "The rooms of user X" on every connect; "the members of room X" is the primary key.
    await queryRunner.createIndex('room_members', new TableIndex({ name: 'idx_room_members_user_id', columnNames: ['user_id'] }));

    // rooms holds one row per room: SQLite rebuilding it for each change costs nothing worth saving.
    await queryRunner.addColumns('rooms', [
      new TableColumn({ name: 'visibility', type: 'varchar', length: '7', default: "'public'" }),
      new TableColumn({ name: 'owner_id', type: 'varchar', length: '255', isNullable: true }),
      new TableColumn({ name: 'created_at', type: 'varchar', length: '24', isNullable: true }),
    ]);
    await queryRunner.changeColumn('rooms', 'last_message_id', lastMessageId(true));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Created rooms without a message cannot be kept: last_message_id is NOT NULL again.
    await queryRunner.query('DELETE FROM rooms WHERE last_message_id IS NULL');
    await queryRunner.changeColumn('rooms', 'last_message_id', lastMessageId(false));
    await queryRunner.dropColumns('rooms', ['visibility', 'owner_id', 'created_at']);
    await queryRunner.dropTable('room_members');
    await queryRunner.dropTable('users');
  }
}
