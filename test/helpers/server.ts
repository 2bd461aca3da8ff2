/**
 * Test servers: real Skyport instances (the production wiring from src/main.ts) listening on a
 * loopback port, on embedded SQLite in a fresh temp dir or on a freshly created PostgreSQL database.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { bootstrapDemo, type CredentialsFile } from '../../src/bootstrap.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createSkyport, type Skyport } from '../../src/main.js';
import type { RootScope } from '../../src/access/permissions.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import type { Storage } from '../../src/storage/types.js';

export type StoreKind = 'sqlite' | 'postgres';

/** The PostgreSQL server tests create their databases on (`.ci/run` sets it; a local default otherwise). */
export const PG_ADMIN_URL = process.env.SKYPORT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let pgAvailable: boolean | undefined;
/** Whether PostgreSQL is reachable. In CI it must be: a missing server fails there instead of skipping. */
export async function postgresAvailable(): Promise<boolean> {
  if (pgAvailable !== undefined) return pgAvailable;
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    pgAvailable = true;
  } catch (e) {
    if (process.env.CI) throw new Error(`CI needs PostgreSQL at ${PG_ADMIN_URL}: ${(e as Error).message}`);
    pgAvailable = false;
  } finally {
    await c.end().catch(() => {});
  }
  return pgAvailable;
}

/** Creates a uniquely named database; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `skyport_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestServer {
  url: string;
  skyport: Skyport;
  config: Config;
  /** The demo organization's three root credentials, as written to the data dir. */
  creds: Record<RootScope, CredentialsFile>;
  /** Everything the server logged (pino JSON lines). */
  logs: () => string;
  close: () => Promise<void>;
}

export interface StartOptions {
  store?: StoreKind;
  env?: Record<string, string>;
  /** Share an existing store: a PostgreSQL URL or a SQLite data dir (then no demo bootstrap). */
  databaseUrl?: string;
  dataDir?: string;
}

/** Starts a Skyport server on 127.0.0.1 with a random port, bootstrapped with the demo organization. */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'skyport-test-'));
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let databaseUrl = opts.databaseUrl;
  if (opts.store === 'postgres' && !databaseUrl) {
    db = await createTestDatabase();
    databaseUrl = db.url;
  }
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    SKYPORT_DATA_DIR: dataDir,
    SKYPORT_LOG_LEVEL: 'info',
    SKYPORT_SYNC_INTERVAL_MS: '200',
    // The demo catalog's items and the real sample cost ~2 s per start: suites that need them ask for them.
    SKYPORT_DEMO_ITEMS: '0',
    SKYPORT_DEMO_SAMPLE: 'false',
    ...opts.env,
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  // The public URL must carry the real port, so bind first on a port we pick.
  const port = await freePort();
  env.PORT = String(port);
  const config = loadConfig(env);
  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (d: Buffer) => (logText += d.toString()));
  const skyport = await createSkyport(config, { logStream });
  await bootstrapDemo(skyport.storage, skyport.hasher, config);
  await skyport.app.listen({ host: '127.0.0.1', port });
  const read = (s: RootScope) => JSON.parse(readFileSync(path.join(dataDir, 'credentials', `${s}.json`), 'utf8')) as CredentialsFile;
  let creds: Record<RootScope, CredentialsFile>;
  try {
    creds = { admin: read('admin'), tasking: read('tasking'), 'read-only': read('read-only') };
  } catch {
    creds = undefined as never; // a shared store bootstrapped elsewhere: the caller has the credentials
  }
  return {
    url: config.publicUrl,
    skyport,
    config,
    creds,
    logs: () => logText,
    close: async () => {
      await skyport.close();
      if (db) await db.drop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/** The stores a shared suite runs on: SQLite always, PostgreSQL when reachable (always in CI). */
export async function stores(): Promise<StoreKind[]> {
  return (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
}

/**
 * A migrated store of `kind` for storage-level tests: SQLite in a new file under `dir`, PostgreSQL in a new
 * throwaway database. `cleanup` closes it (and drops the database).
 */
export async function openTestStore(kind: StoreKind, dir: string): Promise<{ s: Storage; cleanup: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const s = new SqliteStorage(path.join(dir, `${Math.random().toString(36).slice(2)}.sqlite`));
    await s.migrate();
    return { s, cleanup: () => s.close() };
  }
  const db = await createTestDatabase();
  const s = new PostgresStorage(db.url);
  await s.migrate();
  return { s, cleanup: async () => (await s.close(), await db.drop()) };
}
