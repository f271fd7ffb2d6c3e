import { MigrationInterface, QueryRunner, Table, type TableColumnOptions } from 'typeorm';

const TERMS: TableColumnOptions[] = [
  { name: 'expires_at', type: 'varchar', length: '24', isNullable: true },
  { name: 'reason', type: 'text', isNullable: true },
  { name: 'actor', type: 'varchar', length: '255', isNullable: true },
  { name: 'created_at', type: 'varchar', length: '24' },
];

/** Issue 13: bans (by user or address) and mutes (a user in a room), so that they survive a restart. */
export class BansAndMutes1766527200000 implements MigrationInterface {
  name = 'BansAndMutes1766527200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'bans',
        columns: [
          { name: 'kind', type: 'varchar', length: '7', isPrimary: true },
          { name: 'target', type: 'varchar', length: '255', isPrimary: true },
          ...TERMS,
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'mutes',
        columns: [
          { name: 'room', type: 'varchar', length: '64', isPrimary: true },
          { name: 'target', type: 'varchar', length: '255', isPrimary: true },
          ...TERMS,
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('mutes');
    await queryRunner.dropTable('bans');
  }
}
