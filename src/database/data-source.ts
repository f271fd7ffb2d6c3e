// Entry point for the TypeORM CLI, e.g.
//   npx typeorm migration:show -d dist/database/data-source.js
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../config/env.validation';
import { sqliteOptions } from './typeorm-options';

const env = validateEnvironment(process.env);

export default new DataSource(sqliteOptions({ path: env.SQLITE_PATH, synchronous: env.SQLITE_SYNCHRONOUS, busyTimeoutMs: env.STORE_BUSY_TIMEOUT_MS, lockingMode: env.SQLITE_LOCKING_MODE }));
