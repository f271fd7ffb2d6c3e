import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { sqliteOptions } from './typeorm-options';

describe('migrations', () => {
  let sut: DataSource;

  beforeEach(async () => {
    sut = new DataSource(sqliteOptions({ path: ':memory:', synchronous: 'FULL' }));
    await sut.initialize();
  });

  afterEach(async () => {
    if (sut.isInitialized) await sut.destroy();
  });

  it('run at initialize, leaving none pending', async () => {
    await expect(sut.showMigrations()).resolves.toBe(false);
    const applied: { name: string }[] = await sut.query('SELECT name FROM migrations ORDER BY id');
    expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it('produce exactly the schema the entities describe', async () => {
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('create the paging index on (room, id)', async () => {
    const columns: { name: string }[] = await sut.query(`SELECT name FROM pragma_index_info('idx_messages_room_id') ORDER BY seqno`);
    expect(columns.map((c) => c.name)).toEqual(['room', 'id']);
  });

  it('undo cleanly and apply again', async () => {
    await sut.undoLastMigration();
    const tables: unknown[] = await sut.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'messages'`);
    expect(tables).toEqual([]);
    await expect(sut.showMigrations()).resolves.toBe(true);

    await sut.runMigrations();

    await expect(sut.showMigrations()).resolves.toBe(false);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries).toEqual([]);
  });
});
