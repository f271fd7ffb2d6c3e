import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** The row the store rewrites to learn whether the database takes writes again (readiness). */
export class StoreProbe1765065600000 implements MigrationInterface {
  name = 'StoreProbe1765065600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'store_probe',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'checked_at', type: 'varchar', length: '24' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('store_probe');
  }
}
