// Entry point for the TypeORM CLI, e.g.
//   npx typeorm migration:show -d dist/database/data-source.js
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../config/env.validation';
import { databaseOptions } from './typeorm-options';

const env = validateEnvironment(process.env);

// With DATABASE_URL, PostgreSQL; DATABASE_SCHEMA must exist already (the server creates it at startup).
export default new DataSource(databaseOptions(env));
