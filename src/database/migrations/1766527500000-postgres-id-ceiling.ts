import { MigrationInterface, QueryRunner } from 'typeorm';
import { POSTGRES_INT_MAX } from '../../store/dialect';

/**
 * PostgreSQL only (nothing to do on SQLite, whose integers are 64-bit). The store passes any id a
 * client gives beyond `integer` as POSTGRES_INT_MAX (dialect.ts: PostgreSQL would otherwise fail
 * the statement, and a valid `since` would get UNAVAILABLE); for that value to mean "beyond every
 * id" in `=`, `<` and `>` alike, no row may ever have it: the sequences stop one below.
 */
export class PostgresIdCeiling1766527500000 implements MigrationInterface {
  name = 'PostgresIdCeiling1766527500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    for (const table of ['messages', 'audit_log']) {
      await queryRunner.query(`ALTER SEQUENCE ${table}_id_seq MAXVALUE ${POSTGRES_INT_MAX - 1}`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    for (const table of ['messages', 'audit_log']) await queryRunner.query(`ALTER SEQUENCE ${table}_id_seq NO MAXVALUE`);
  }
}
