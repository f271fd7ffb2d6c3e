import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { DirectMessageEntity } from '../store/direct-message.entity';
import { MessageEntity } from '../store/message.entity';
import { RoomEntity } from '../store/room.entity';
import { MIGRATIONS } from './migrations';

export interface SqliteSettings {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
}

export const ENTITIES = [MessageEntity, DirectMessageEntity, RoomEntity];

/** SQLite file database in WAL mode; the schema comes from migrations run at startup. */
export function sqliteOptions({ path, synchronous }: SqliteSettings): DataSourceOptions {
  const inMemory = path === ':memory:';
  if (!inMemory) {
    mkdirSync(dirname(path), { recursive: true });
  }
  return {
    type: 'better-sqlite3',
    database: path,
    enableWAL: !inMemory,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma('busy_timeout = 5000');
    },
  };
}
