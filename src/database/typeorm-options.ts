import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
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
