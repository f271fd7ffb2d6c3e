import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/** The audit log (issue 13): moderation, edits, deletions, refusals, retention runs, exports, erasures. */
export class AuditLog1766520000000 implements MigrationInterface {
  name = 'AuditLog1766520000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'at', type: 'varchar', length: '24' },
          { name: 'actor', type: 'varchar', length: '255', isNullable: true },
          { name: 'action', type: 'varchar', length: '32' },
          { name: 'target', type: 'varchar', length: '255', isNullable: true },
          { name: 'room', type: 'varchar', length: '255', isNullable: true },
          { name: 'reason', type: 'text', isNullable: true },
          { name: 'address', type: 'varchar', length: '64', isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex('audit_log', new TableIndex({ name: 'idx_audit_log_actor', columnNames: ['actor', 'id'] }));
    await queryRunner.createIndex('audit_log', new TableIndex({ name: 'idx_audit_log_action', columnNames: ['action', 'id'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_log');
  }
}
