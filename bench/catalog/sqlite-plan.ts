// The embedded store's side of the plan printout: EXPLAIN QUERY PLAN of the page statement Skyport's
// SQLite store sends for a search (SQLite has no EXPLAIN ANALYZE: the statement is also run once, timed).
import Database from 'better-sqlite3';
import { searchSql } from '../../src/storage/catalog/sql.js';
import { ENTITLED_IDS, registerGeometryFunctions, sqliteDialect } from '../../src/storage/sqlite/catalog.js';
import type { ItemSearch } from '../../src/storage/types.js';
import type { PlanSummary } from './floor.js';

/**
 * The page statement and named bindings `searchItems` in src/storage/sqlite/catalog.ts builds for
 * `s` (kept in step by hand: if that function changes, change this one).
 */
export function sqlitePageSql(s: ItemSearch, orgId: string): { text: string; bindings: Record<string, unknown> } {
  const params: unknown[] = [];
  const sql = searchSql(sqliteDialect, s, params);
  const where = [`i.collection_id IN (${ENTITLED_IDS})`, ...sql.where].join(' AND ');
  const keys = sql.keyColumns.map((k, n) => `${k} AS k${n}`).join(', ');
  const bindings: Record<string, unknown> = { org: orgId, limit: s.limit + 1 };
  params.forEach((v, n) => (bindings[`p${n + 1}`] = v));
  return {
    text: `SELECT i.collection_id, i.id, i.content, ${keys} FROM items i WHERE ${where} ORDER BY ${sql.orderBy} LIMIT @limit`,
    bindings,
  };
}

/** EXPLAIN QUERY PLAN of Skyport's SQLite page statement for each search, and one timed run of it, on `file` (read-only). */
export function sqlitePlans(file: string, orgId: string, searches: [string, ItemSearch][]): Record<string, PlanSummary> {
  const db = new Database(file, { readonly: true });
  registerGeometryFunctions(db);
  const out: Record<string, PlanSummary> = {};
  try {
    for (const [name, s] of searches) {
      const q = sqlitePageSql(s, orgId);
      const rows = db.prepare(`EXPLAIN QUERY PLAN ${q.text}`).all(q.bindings) as { id: number; parent: number; detail: string }[];
      const depth = new Map<number, number>([[0, -1]]);
      const lines = rows.map((r) => {
        const d = (depth.get(r.parent) ?? 0) + 1;
        depth.set(r.id, d);
        return `${'  '.repeat(d)}${r.detail}`;
      });
      const t0 = performance.now();
      db.prepare(q.text).all(q.bindings);
      const ms = performance.now() - t0;
      out[`${name}.page`] = { executionMs: ms, planningMs: 0, jitMs: 0, lines, indexes: [] };
    }
  } finally {
    db.close();
  }
  return out;
}
