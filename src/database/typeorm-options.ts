import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { AuditEntryEntity } from '../store/audit-entry.entity';
import { BanEntity } from '../store/ban.entity';
import { MessageEntity } from '../store/message.entity';
import { RetentionMarkEntity } from '../store/retention-mark.entity';
import { MuteEntity } from '../store/mute.entity';
import { RoomMemberEntity } from '../store/room-member.entity';
import { RoomEntity } from '../store/room.entity';
import { StoreProbeEntity } from '../store/store-probe.entity';
import { UserEntity } from '../store/user.entity';
import { MIGRATIONS } from './migrations';

export interface SqliteSettings {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  /**
   * How long opening the database and running migrations may wait for another process's lock.
   * Nothing is served yet at that point, so this wait may block; the store switches the
   * connection to non-blocking waits once it serves (see MessageStore.onModuleInit).
   */
  busyTimeoutMs?: number;
  /** EXCLUSIVE: no other process may open the database, and SQLite keeps no -shm file. */
  lockingMode?: 'NORMAL' | 'EXCLUSIVE';
}

export const ENTITIES = [MessageEntity, RoomEntity, StoreProbeEntity, UserEntity, RoomMemberEntity, AuditEntryEntity, RetentionMarkEntity, BanEntity, MuteEntity];

/**
 * Prepared statements TypeORM keeps per connection. The store's group commit uses one statement per
 * power-of-two chunk size and table (see message-sql.ts), a few dozen in all: they must all stay
 * cached, or every batch would prepare its SQL again.
 */
const STATEMENT_CACHE_SIZE = 200;

/** SQLite file database in WAL mode; the schema comes from migrations run at startup. */
export function sqliteOptions({ path, synchronous, busyTimeoutMs = 5000, lockingMode = 'NORMAL' }: SqliteSettings): DataSourceOptions {
  const inMemory = path === ':memory:';
  if (!inMemory) {
    mkdirSync(dirname(path), { recursive: true });
  }
  return {
    type: 'better-sqlite3',
    database: path,
    enableWAL: !inMemory,
    timeout: busyTimeoutMs,
    statementCacheSize: STATEMENT_CACHE_SIZE,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    // Runs before TypeORM turns WAL on. The locking mode comes first, before any statement reads the
    // file (PRAGMA synchronous does): only then does EXCLUSIVE keep the WAL index in heap memory.
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma(`locking_mode = ${lockingMode}`);
      db.pragma(`synchronous = ${synchronous}`);
    },
  };
}

export interface PostgresSettings {
  /** DATABASE_URL: postgres://user:password@host:port/database */
  url: string;
  /** DATABASE_SCHEMA: the schema the tables live in; unset: `public`. */
  schema?: string;
  /** Shown in pg_stat_activity; tests give each app a name of its own. */
  applicationName?: string;
}

/**
 * Connections per process. The group commit holds one for each batch and the small writes and
 * reads take one each; ten keep a busy node below PostgreSQL's default max_connections of 100
 * with several nodes running.
 */
export const POSTGRES_POOL_SIZE = 10;
/** No statement may run longer: a stuck one fails (UNAVAILABLE) instead of holding a connection. */
const STATEMENT_TIMEOUT_MS = 10_000;
/** How long taking a connection may wait (a server gone away fails fast rather than hanging a send). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * PostgreSQL through TypeORM's `postgres` driver (node-postgres pool). Every connection's
 * search_path is the schema, so the store's unqualified SQL reads and writes its own tables; the
 * schema must exist before migrations run: open it with initializePostgres.
 */
export function postgresOptions({ url, schema, applicationName = 'chat' }: PostgresSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    schema,
    applicationName,
    poolSize: POSTGRES_POOL_SIZE,
    connectTimeoutMS: CONNECT_TIMEOUT_MS,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    extra: {
      statement_timeout: STATEMENT_TIMEOUT_MS,
      // An idle transaction (a crashed step between BEGIN and COMMIT) must not hold row locks.
      idle_in_transaction_session_timeout: STATEMENT_TIMEOUT_MS,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    },
  };
}

/** The advisory lock that lets one process at a time create the schema and run the migrations. */
const MIGRATION_LOCK_KEY = 7_163_206_115;

/**
 * Opens a PostgreSQL data source: creates the schema when missing and runs the migrations, one
 * process at a time (several instances starting together would otherwise race to create the same
 * tables). The lock is a session advisory lock on a connection of its own, closed afterwards.
 */
export async function initializePostgres(options: DataSourceOptions): Promise<DataSource> {
  if (options.type !== 'postgres') throw new Error(`not a PostgreSQL data source: ${options.type}`);
  const bootstrap = new DataSource({ type: 'postgres', url: options.url, poolSize: 1, connectTimeoutMS: CONNECT_TIMEOUT_MS });
  await bootstrap.initialize();
  try {
    await bootstrap.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    if (options.schema) await createSchema(bootstrap, options.schema);
    return await new DataSource(options).initialize();
  } finally {
    // Closing the connection ends its session, and the lock with it.
    await bootstrap.destroy();
  }
}

/** Creates the schema when missing, on a connection of its own. */
export async function ensurePostgresSchema({ url, schema }: PostgresSettings): Promise<void> {
  if (!schema) return;
  const bootstrap = new DataSource({ type: 'postgres', url, poolSize: 1, connectTimeoutMS: CONNECT_TIMEOUT_MS });
  await bootstrap.initialize();
  try {
    await createSchema(bootstrap, schema);
  } finally {
    await bootstrap.destroy();
  }
}

async function createSchema(ds: DataSource, schema: string): Promise<void> {
  // Looked up first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even
  // when the schema exists, which a least-privileged role owning only its schema lacks.
  const found = await ds.query<unknown[]>('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (found.length === 0) await ds.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
}

/** The data source options of the environment: PostgreSQL when DATABASE_URL is set, else SQLite. */
export interface DatabaseEnvironment {
  DATABASE_URL?: string;
  DATABASE_SCHEMA?: string;
  SQLITE_PATH: string;
  SQLITE_SYNCHRONOUS: 'FULL' | 'NORMAL';
  STORE_BUSY_TIMEOUT_MS: number;
  SQLITE_LOCKING_MODE: 'NORMAL' | 'EXCLUSIVE';
}

export function databaseOptions(env: DatabaseEnvironment): DataSourceOptions {
  if (env.DATABASE_URL) return postgresOptions({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA });
  return sqliteOptions({ path: env.SQLITE_PATH, synchronous: env.SQLITE_SYNCHRONOUS, busyTimeoutMs: env.STORE_BUSY_TIMEOUT_MS, lockingMode: env.SQLITE_LOCKING_MODE });
}
