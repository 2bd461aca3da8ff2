/**
 * Upgrades of an existing embedded store: migration 3 rebuilds the clients table (SQLite cannot alter a
 * CHECK) and must keep every client and every secret (foreign keys are off only while it runs).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';

describe('SQLite upgrade from schema 2', () => {
  it('keeps clients and their secrets through the clients-table rebuild, and then accepts platform clients', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-migrate-'));
    const file = path.join(dir, 'db.sqlite');
    try {
      const db = new Database(file);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      for (const [n, sql] of SQLITE_MIGRATIONS.slice(0, 2).entries()) {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(n + 1, 1);
      }
      db.exec("INSERT INTO organizations VALUES ('o1', 'acme', 1)");
      db.exec(`INSERT INTO clients VALUES ('c1', 'o1', 'n', 'tasking', '["catalog:read"]', 1, 1, 1, 1, NULL, NULL)`);
      db.exec("INSERT INTO client_secrets VALUES ('s1', 'c1', 'hash', 'abcd', 1, NULL)");
      assert.throws(() => db.exec(`INSERT INTO clients VALUES ('p0', 'o1', 'n', 'platform', '[]', 0, 1, 1, 1, NULL, NULL)`), /CHECK/);
      db.close();

      const s = new SqliteStorage(file);
      assert.equal(await s.migrate(), SQLITE_MIGRATIONS.length);
      const c = await s.getClient('c1');
      assert.equal(c?.rootScope, 'tasking');
      assert.deepEqual(
        c?.secrets.map((x) => x.hash),
        ['hash'],
      );
      await s.createClient({ ...c!, clientId: 'p1', rootScope: 'platform', secrets: [] });
      assert.equal((await s.getClient('p1'))?.rootScope, 'platform');
      await s.deleteClient('c1');
      assert.equal(await s.getClient('c1'), undefined);
      await s.close();
      const raw = new Database(file);
      assert.equal(
        (raw.prepare('SELECT count(*) AS n FROM client_secrets').get() as { n: number }).n,
        0,
        'cascades still work after the rebuild',
      );
      raw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite upgrade from schema 5', () => {
  it('rebuilds the R*Tree with a time axis from the items already stored, and keeps it in step afterwards', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-migrate-'));
    const file = path.join(dir, 'db.sqlite');
    try {
      const db = new Database(file);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      for (const [n, sql] of SQLITE_MIGRATIONS.slice(0, 5).entries()) {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(n + 1, 1);
      }
      db.exec(`INSERT INTO collections (id, access, owner_org_id, body, updated_at) VALUES ('c', 'open', NULL, '{}', 1)`);
      const t = (iso: string) => Date.parse(iso);
      const insert =
        db.prepare(`INSERT INTO items (collection_id, id, dt, dt_start, dt_end, minx, miny, maxx, maxy, geometry, content, updated_at)
        VALUES ('c', ?, ?, ?, ?, 10, 10, 11, 11, ?, ?, 1)`);
      const poly = JSON.stringify({
        type: 'Polygon',
        coordinates: [
          [
            [10, 10],
            [11, 10],
            [11, 11],
            [10, 11],
            [10, 10],
          ],
        ],
      });
      for (const [id, when] of [
        ['old', '2020-06-01T00:00:00Z'],
        ['new', '2025-06-01T00:00:00Z'],
      ] as const) {
        const content = JSON.stringify({ type: 'Feature', id, properties: { datetime: when }, geometry: JSON.parse(poly) });
        insert.run(id, t(when), t(when), t(when), poly, content);
      }
      db.close();

      const s = new SqliteStorage(file);
      assert.equal(await s.migrate(), SQLITE_MIGRATIONS.length);
      const search = async (start: string, end: string) =>
        (
          await s.searchItems('anyone', {
            sortby: [],
            limit: 10,
            countLimit: 0,
            bbox: [9, 9, 12, 12],
            datetime: { start: t(start), end: t(end) },
          })
        ).items.map((r) => r.id);
      assert.deepEqual(await search('2025-01-01T00:00:00Z', '2025-12-31T00:00:00Z'), ['new']);
      assert.deepEqual(await search('2020-06-01T00:00:00Z', '2020-06-01T00:00:00Z'), ['old']);
      await s.deleteItem('c', 'new');
      assert.deepEqual(await search('2025-01-01T00:00:00Z', '2025-12-31T00:00:00Z'), []);
      await s.close();
      const raw = new Database(file);
      assert.equal((raw.prepare('SELECT count(*) AS n FROM items_rtree').get() as { n: number }).n, 1);
      raw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite page size', () => {
  it('a new file gets 8 KiB pages; a file made with 4 KiB pages keeps them and migrates', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-pages-'));
    try {
      const fresh = new SqliteStorage(path.join(dir, 'new.sqlite'));
      await fresh.migrate();
      await fresh.close();
      const read = (f: string) => {
        const db = new Database(path.join(dir, f), { readonly: true });
        try {
          return db.pragma('page_size', { simple: true });
        } finally {
          db.close();
        }
      };
      assert.equal(read('new.sqlite'), 8192);
      const old = new Database(path.join(dir, 'old.sqlite'));
      old.pragma('page_size = 4096');
      old.pragma('journal_mode = WAL');
      old.exec('CREATE TABLE t (x)');
      old.close();
      const s = new SqliteStorage(path.join(dir, 'old.sqlite'));
      await s.migrate();
      await s.upsertCollection({ id: 'c', access: 'open', ownerOrgId: null, body: { id: 'c' }, updatedAt: 1 });
      assert.equal((await s.getCollection('c'))?.id, 'c');
      await s.close();
      assert.equal(read('old.sqlite'), 4096);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
