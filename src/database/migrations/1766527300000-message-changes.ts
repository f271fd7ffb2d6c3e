import { MigrationInterface, QueryRunner } from 'typeorm';

// Plain ALTER TABLE (see 1766523600000): TypeORM's addColumn would rebuild `messages` on SQLite and
// lose its id sequence. The index is partial: only edited or deleted rows are in it, so the room
// write path (whose rows have changed_at_id NULL) does not maintain it.

/** Issue 13: an edit or deletion records the newest message id at the time, so a resume can replay the changes it missed. */
export class MessageChanges1766527300000 implements MigrationInterface {
  name = 'MessageChanges1766527300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "messages" ADD COLUMN "changed_at_id" integer');
    await queryRunner.query('CREATE INDEX "idx_messages_changed_at_id" ON "messages" ("changed_at_id") WHERE changed_at_id IS NOT NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "idx_messages_changed_at_id"');
    await queryRunner.query('ALTER TABLE "messages" DROP COLUMN "changed_at_id"');
  }
}
