/** Chooses the storage adapter from the configuration: PostgreSQL when DATABASE_URL is set, else embedded SQLite. */
import path from 'node:path';
import type { Config } from '../config.js';
import type { Storage } from './types.js';
import { SqliteStorage } from './sqlite/index.js';
import { PostgresStorage } from './postgres/index.js';

/** Opens the configured store and applies pending migrations. */
export async function openStorage(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Storage> {
  const storage: Storage = config.databaseUrl
    ? new PostgresStorage(config.databaseUrl)
    : new SqliteStorage(path.join(config.dataDir, 'skyport.db'));
  try {
    await storage.migrate();
  } catch (e) {
    await storage.close().catch(() => {});
    throw e;
  }
  return storage;
}
