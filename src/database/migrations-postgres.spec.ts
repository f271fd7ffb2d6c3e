import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { CreateMessages1763769600000 } from './migrations/1763769600000-create-messages';
import { createTestSchema, describeWithPostgres, dropTestSchema, TEST_POSTGRES_URL, testSchemaName } from './postgres-schema-fixture';
import { initializePostgres, postgresOptions } from './typeorm-options';
import { undoThrough } from './undo-migrations';

describeWithPostgres('migrations on PostgreSQL', () => {
  const url = TEST_POSTGRES_URL!;
  let schema: string;
  let sut: DataSource;

  beforeEach(async () => {
    schema = testSchemaName();
    await createTestSchema(url, schema);
    sut = new DataSource(postgresOptions({ url, schema }));
    await sut.initialize();
  });

  afterEach(async () => {
    if (sut.isInitialized) await sut.destroy();
    await dropTestSchema(url, schema);
  });

  const tables = async (): Promise<string[]> => {
    const rows: Array<{ name: string }> = await sut.query(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'migrations' ORDER BY table_name",
      [schema],
    );
    return rows.map((row) => row.name);
  };

  it('runs every migration into the schema, and the entities agree with the result', async () => {
    const applied: Array<{ name: string }> = await sut.query(`SELECT name FROM "${schema}".migrations ORDER BY id`);
    expect(applied.map((row) => row.name)).toEqual(MIGRATIONS.map((migration) => migration.name));
    expect(await tables()).toEqual(['audit_log', 'bans', 'messages', 'mutes', 'retention_marks', 'room_members', 'rooms', 'store_probe', 'users']);
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('keeps the partial unique indexes the store names in its ON CONFLICT targets', async () => {
    const rows: Array<{ name: string; definition: string }> = await sut.query(
      "SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = $1 AND tablename = 'messages' AND indexname LIKE 'uq_%' ORDER BY indexname",
      [schema],
    );
    expect(rows.map((row) => row.name)).toEqual([
      'uq_messages_dm_nickname_client_msg_id',
      'uq_messages_dm_user_client_msg_id',
      'uq_messages_room_client_msg_id',
      'uq_messages_room_user_client_msg_id',
    ]);
    expect(rows.find((row) => row.name === 'uq_messages_room_client_msg_id')?.definition).toMatch(/WHERE \(user_id IS NULL\)$/);
  });

  it('undoes every migration, back to an empty schema, and runs them again', async () => {
    await sut.query("INSERT INTO messages (room, nickname, body, sent_at) VALUES ('lobby', 'ann', 'hi', '2026-01-01T00:00:00.000Z')");
    expect(await undoThrough(sut, CreateMessages1763769600000)).toBe(MIGRATIONS.length);
    expect(await tables()).toEqual([]);
    await sut.runMigrations();
    const diff = await sut.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('lets instances that start together create a new schema and migrate it one at a time', async () => {
    const fresh = testSchemaName();
    const sources = await Promise.all([1, 2, 3].map(() => initializePostgres(postgresOptions({ url, schema: fresh }))));
    try {
      const applied: Array<{ n: number }> = await sources[0].query(`SELECT count(*)::int AS n FROM "${fresh}".migrations`);
      expect(applied).toEqual([{ n: MIGRATIONS.length }]);
    } finally {
      for (const ds of sources) await ds.destroy();
      await dropTestSchema(url, fresh);
    }
  });
});
