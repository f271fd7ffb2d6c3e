import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13, retention: the highest message id the retention job deleted, per room and for direct
 * messages, so that a resume from below it is told with a `gap` (ids are not consecutive within a
 * room, so a missing range cannot be inferred from the rows left). A new table, not a column of
 * `rooms`: direct messages have no room row.
 */
export class RetentionMarks1766527400000 implements MigrationInterface {
  name = 'RetentionMarks1766527400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "retention_marks" ("scope" varchar(70) PRIMARY KEY NOT NULL, "purged_through_id" integer NOT NULL, "purged_at" varchar(24) NOT NULL)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "retention_marks"');
  }
}
