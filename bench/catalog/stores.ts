// The stores under test and the two load figures of each: the operator path (`loadStac`: read,
// parse, normalize, validate, upsert) and the store alone (`upsertItems` on pre-parsed records in
// batches of 1000, only the upsert calls timed). PostgreSQL gets a fresh database per run.
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { loadStac } from '../../src/catalog/load.js';
import { normalizeCollection } from '../../src/catalog/ingest.js';
import type { StacCollection } from '../../src/catalog/generate/stac.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import type { ItemRecord, Storage } from '../../src/storage/types.js';

/** One load: items written and how long it took, s. `seconds` is what the rate is computed from. */
export interface LoadFigure {
  items: number;
  seconds: number;
  /** Wall time including untimed work (parsing for the store-alone figure), s. */
  wallSeconds: number;
  rate: number;
  rejected: number;
}

/** A throwaway PostgreSQL database on the admin server. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates `skyport_bench_<random>` on the server of `adminUrl`; `drop()` removes it (forcing out any session). */
export async function createDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `skyport_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Opens and migrates a store: SQLite at `target` (a file path) or PostgreSQL at `target` (a URL). */
export async function openStore(kind: 'sqlite' | 'postgres', target: string): Promise<Storage> {
  const storage: Storage = kind === 'sqlite' ? new SqliteStorage(target) : new PostgresStorage(target);
  await storage.migrate();
  return storage;
}

/** Creates the benchmark collections, open to every organization, as the loader would store them. */
export async function createCollections(storage: Storage, collections: StacCollection[]): Promise<void> {
  for (const raw of collections) {
    const { collection } = normalizeCollection(raw);
    await storage.upsertCollection({
      id: collection.id,
      access: 'open',
      ownerOrgId: null,
      body: collection as unknown as Record<string, unknown>,
      updatedAt: Date.now(),
    });
  }
}

/** The operator path: `loadStac(storage, [file])`, timed as a whole. Throws if items were rejected or missing. */
export async function loadOperatorPath(storage: Storage, file: string, expected: number): Promise<LoadFigure> {
  const t0 = performance.now();
  const summary = await loadStac(storage, [file], { access: 'open' });
  const seconds = (performance.now() - t0) / 1000;
  const items = summary.items.inserted + summary.items.updated;
  if (items !== expected) {
    const first = summary.rejections[0];
    throw new Error(
      `loadStac wrote ${items} of ${expected} items (${summary.items.rejected} rejected${first ? `, first: ${first.reason}` : ''})`,
    );
  }
  return { items, seconds, wallSeconds: seconds, rate: items / seconds, rejected: summary.items.rejected };
}

/** The store alone: NDJSON parsed into `{collection, id, item}` batches of `batch` (untimed), `upsertItems` timed. */
export async function loadStoreAlone(storage: Storage, file: string, batch = 1000): Promise<LoadFigure> {
  const t0 = performance.now();
  let timed = 0;
  let items = 0;
  let records: ItemRecord[] = [];
  const flush = async () => {
    const t = performance.now();
    const r = await storage.upsertItems(records);
    timed += performance.now() - t;
    items += r.inserted + r.updated;
    records = [];
  };
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    const item = JSON.parse(line) as Record<string, unknown> & { id: string; collection: string };
    records.push({ collection: item.collection, id: item.id, item });
    if (records.length >= batch) await flush();
  }
  if (records.length) await flush();
  const seconds = timed / 1000;
  return { items, seconds, wallSeconds: (performance.now() - t0) / 1000, rate: items / seconds, rejected: 0 };
}

/** Removes a SQLite database file with its WAL and shared-memory files. */
export function removeSqliteFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}

/** Size in bytes of a SQLite database (main file + WAL). */
export function sqliteBytes(file: string): number {
  return [file, `${file}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
}

/** PostgreSQL sizes of the items table, bytes: heap (with TOAST) and all its indexes. */
export async function postgresSizes(url: string): Promise<{ table: number; indexes: number; byIndex: Record<string, number> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const t = await c.query(`SELECT pg_table_size('items')::float8 AS t, pg_indexes_size('items')::float8 AS i`);
    const ix = await c.query(
      `SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid)::float8 AS bytes FROM pg_index WHERE indrelid = 'items'::regclass`,
    );
    const row = t.rows[0] as { t: number; i: number };
    return {
      table: row.t,
      indexes: row.i,
      byIndex: Object.fromEntries((ix.rows as { name: string; bytes: number }[]).map((r) => [r.name, r.bytes])),
    };
  } finally {
    await c.end();
  }
}

/** Runs one statement on its own connection (TRUNCATE, VACUUM …), returning its wall time, s. */
export async function runStatement(url: string, sql: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const t0 = performance.now();
    await c.query(sql);
    return (performance.now() - t0) / 1000;
  } finally {
    await c.end();
  }
}
