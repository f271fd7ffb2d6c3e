import { MigrationInterface, QueryRunner } from 'typeorm';

// Plain ALTER TABLE, not queryRunner.addColumns: on SQLite TypeORM rebuilds the table for that,
// and a rebuilt `messages` loses its AUTOINCREMENT sequence (ids of deleted newest messages would
// be handed out again). Both statements are the same in PostgreSQL.
const COLUMNS: Array<[table: string, column: string, definition: string]> = [
  ['messages', 'edited_at', 'varchar(24)'],
  ['messages', 'deleted_at', 'varchar(24)'],
  ['rooms', 'slow_mode_seconds', 'integer NOT NULL DEFAULT (0)'],
  ['rooms', 'retention_days', 'integer'],
];

/** Issue 13: messages can be edited and deleted (tombstones); rooms get slow mode and their own retention. */
export class EditsDeletionsAndRoomSettings1766523600000 implements MigrationInterface {
  name = 'EditsDeletionsAndRoomSettings1766523600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, column, definition] of COLUMNS) await queryRunner.query(`ALTER TABLE "${table}" ADD COLUMN "${column}" ${definition}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Deleted messages stay deleted (their text is gone): below this migration they read as empty messages.
    for (const [table, column] of [...COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "${column}"`);
  }
}
