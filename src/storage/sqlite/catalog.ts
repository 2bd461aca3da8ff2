/**
 * The embedded store's catalog: items in one table with an R*Tree on their bboxes (kept in step by
 * triggers), exact spatial predicates from JSTS registered as the SQL function `sk_relate`, and the
 * shared item-search SQL (`../catalog/sql.ts`), so filter, entitlement, limit, count and paging all
 * run inside one SQLite query.
 */
import type Database from 'better-sqlite3';
import { preparedRelation, readGeometry, type Relation } from '../../catalog/geometry.js';
import { itemRow, type ItemRow } from '../catalog/rows.js';
import { searchSql, type Dialect } from '../catalog/sql.js';
import { QueryError, UnknownCollectionError, type ItemPage, type ItemRecord, type ItemSearch } from '../types.js';

type Row = Record<string, unknown>;

/** Collections visible to the organization `@org` (open, private to it, licensed to it). */
export const ENTITLED_IDS = `SELECT c.id FROM collections c WHERE c.access = 'open'
  OR (c.access = 'private' AND c.owner_org_id = @org)
  OR (c.access = 'licensed' AND EXISTS (SELECT 1 FROM collection_grants g WHERE g.collection_id = c.id AND g.org_id = @org))`;

/**
 * Parameters are named (`@p1`, `@p2`, …) because search SQL repeats expressions (a sort key appears in
 * SELECT, ORDER BY and the keyset condition): better-sqlite3 binds numbered `?NNN` only by position.
 */
function bindings(params: unknown[], extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...extra };
  params.forEach((v, n) => (out[`p${n + 1}`] = v));
  return out;
}

/** R*Tree bounds are float32 rounded outward: within/contains candidates get this margin (deg) so none is lost. */
const RTREE_MARGIN = 1e-4;

/** Milliseconds per day: the R*Tree's time axis is in days (float32 keeps a fraction of a day there). */
const MS_PER_DAY = 86_400_000;
/** Margin on the R*Tree's time axis, days: candidates only, the exact datetime test follows on the row. */
const RTREE_DAY_MARGIN = 1e-2;

/**
 * Index candidates for `item rel [w, s, e, n]` as SQL on items_rtree plus its params; the exact test
 * follows. `window` (the search's datetime criterion, ANDed with everything else) narrows them on the
 * tree's time axis too: a row outside it fails the search whatever the spatial test says.
 */
function rtreeCandidates(rel: string, [w, s, e, n]: [number, number, number, number], window?: ItemSearch['datetime']): [string, number[]] {
  const m = RTREE_MARGIN;
  let sql: string;
  let params: number[];
  if (rel === 'within') [sql, params] = ['minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ?', [w - m, e + m, s - m, n + m]];
  else if (rel === 'contains') [sql, params] = ['minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?', [w + m, e - m, s + m, n - m]];
  else [sql, params] = ['minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?', [e, w, n, s]];
  if (window?.start != null) [sql, params] = [`${sql} AND maxt >= ?`, [...params, window.start / MS_PER_DAY - RTREE_DAY_MARGIN]];
  if (window?.end != null) [sql, params] = [`${sql} AND mint <= ?`, [...params, window.end / MS_PER_DAY + RTREE_DAY_MARGIN]];
  return [sql, params];
}

/**
 * The exact geometry test runs only on rows the organization may see: CASE fixes the order of evaluation,
 * so how long a search takes never depends on another organization's footprints (invariant 2).
 */
function exactTest(test: string, entitled = ENTITLED_IDS): string {
  return `CASE WHEN i.collection_id IN (${entitled}) THEN ${test} ELSE 0 END`;
}

/** Property names become JSON paths `$.properties."name"`: quotes, backslashes and control characters are refused. */
function checkName(name: string): void {
  if ([...name].some((c) => c === '"' || c === '\\' || c.charCodeAt(0) < 0x20))
    throw new QueryError(`unsupported property name ${JSON.stringify(name)}`);
}

/** The SQLite dialect; `window` is the search's top-level datetime criterion (narrows R*Tree candidates). */
type SqliteDialect = Dialect & { window?: ItemSearch['datetime'] };

export const sqliteDialect: SqliteDialect = {
  param(params, value) {
    params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    return `@p${params.length}`;
  },
  prop(params, name, type) {
    checkName(name);
    const path = sqliteDialect.param(params, `$.properties."${name}"`);
    if (type === 'json') return `json_extract(i.content, ${path})`;
    const types = type === 'number' ? "('integer','real')" : type === 'string' ? "('text')" : "('true','false')";
    return `(CASE WHEN json_type(i.content, ${path}) IN ${types} THEN json_extract(i.content, ${path}) END)`;
  },
  propIsNull(params, name) {
    checkName(name);
    return `(COALESCE(json_type(i.content, ${sqliteDialect.param(params, `$.properties."${name}"`)}), 'null') = 'null')`;
  },
  spatial(params, rel, g, bbox, isRectangle) {
    const entitled = (this as Dialect).entitled;
    const exact = (test: string) => exactTest(test, entitled);
    const p = (v: unknown) => sqliteDialect.param(params, v);
    const [w, s, e, n] = bbox.map(p) as [string, string, string, string];
    const literal = p(JSON.stringify(g));
    if (rel === 'disjoint') {
      return `(i.minx IS NOT NULL AND (i.maxx < ${w} OR i.minx > ${e} OR i.maxy < ${s} OR i.miny > ${n} OR ${exact(`sk_relate('disjoint', i.geometry, ${literal})`)}))`;
    }
    const [test, box] = rtreeCandidates(rel, bbox, (this as SqliteDialect).window);
    let k = 0;
    const candidates = `i.rid IN (SELECT rid FROM items_rtree WHERE ${test.replace(/\?/g, () => p(box[k++]))})`;
    // A stored bbox inside a query rectangle intersects it: the exact test is needed only on its edges.
    if (rel === 'intersects' && isRectangle) {
      return `(${candidates} AND ((i.minx >= ${w} AND i.maxx <= ${e} AND i.miny >= ${s} AND i.maxy <= ${n}) OR ${exact(`sk_relate('intersects', i.geometry, ${literal})`)}))`;
    }
    return `(${candidates} AND ${exact(`sk_relate(${p(rel)}, i.geometry, ${literal})`)})`;
  },
  like(params, expr, pattern) {
    // SQLite's LIKE ignores ASCII case; CQL2's like does not: GLOB with the pattern translated.
    return `(${expr} GLOB ${sqliteDialect.param(params, likeToGlob(pattern))})`;
  },
  collate: (expr) => expr,
  true: '1',
  false: '0',
};

/** CQL2 like pattern (`%`, `_`, `\` escapes) → GLOB (`*`, `?`, `[x]` for literal specials). */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (let k = 0; k < pattern.length; k++) {
    const ch = pattern[k]!;
    if (ch === '\\' && k + 1 < pattern.length) {
      const lit = pattern[++k]!;
      out += '*?['.includes(lit) ? `[${lit}]` : lit;
    } else if (ch === '%') out += '*';
    else if (ch === '_') out += '?';
    else out += '*?['.includes(ch) ? `[${ch}]` : ch;
  }
  return out;
}

/** Registers `sk_relate(relation, itemGeoJSON, literalGeoJSON) → 0|1`, caching prepared literals. */
export function registerGeometryFunctions(db: Database.Database): void {
  const prepared = new Map<string, (g: unknown) => boolean>();
  db.function('sk_relate', { deterministic: true }, (rel: unknown, item: unknown, literal: unknown) => {
    if (typeof item !== 'string' || typeof literal !== 'string') return 0;
    const key = `${rel}|${literal}`;
    let test = prepared.get(key);
    if (!test) {
      if (prepared.size > 64) prepared.clear();
      test = preparedRelation(rel as Relation, JSON.parse(literal));
      prepared.set(key, test);
    }
    try {
      return test(readGeometry(item)) ? 1 : 0;
    } catch {
      // An invalid stored footprint can defeat the exact test (a topology failure): its bbox, which the
      // R*Tree already matched, decides instead, and the search goes on.
      return rel === 'disjoint' ? 0 : 1;
    }
  });
}

/** Morton (Z-order) code of a bbox centre on a 2^16 grid; 0 without a bbox. */
function zCode(bbox: ItemRow['bbox']): number {
  if (!bbox) return 0;
  const x = Math.min(65535, Math.max(0, Math.floor((((bbox[0] + bbox[2]) / 2 + 180) / 360) * 65536)));
  const y = Math.min(65535, Math.max(0, Math.floor((((bbox[1] + bbox[3]) / 2 + 90) / 180) * 65536)));
  let z = 0;
  for (let b = 15; b >= 0; b--) z = z * 4 + (((x >> b) & 1) << 1) + ((y >> b) & 1);
  return z;
}

/**
 * Rows sorted by the Z-order of their bbox centres. An item that appears more than once in the batch is
 * written once, as its last version: sorting must not let an older version land after a newer one.
 */
function zOrdered(rows: ItemRow[]): ItemRow[] {
  const last = new Map<string, number>();
  rows.forEach((r, n) => last.set(`${r.collection}\u0000${r.id}`, n));
  return rows
    .map((r, n) => ({ r, z: zCode(r.bbox), n }))
    .filter((x) => last.get(`${x.r.collection}\u0000${x.r.id}`) === x.n)
    .sort((a, b) => a.z - b.z || a.n - b.n)
    .map((x) => x.r);
}

/** Catalog operations of the SQLite adapter; `q` prepares (and caches) a statement. */
export class SqliteCatalog {
  constructor(
    private readonly db: Database.Database,
    private readonly q: (sql: string) => Database.Statement,
  ) {}

  upsertItems(items: ItemRecord[]): { inserted: number; updated: number } {
    return this.upsertItemRows(items.map(itemRow));
  }

  /**
   * Writes rows in one IMMEDIATE transaction: an insert that does nothing on conflict, then an update
   * for the rows that existed (counting new rows without a separate probe). Rows go in Z-order of
   * their bbox centres, so consecutive R*Tree inserts touch the same nodes (the R*Tree is most of a write).
   */
  upsertItemRows(rows: ItemRow[]): { inserted: number; updated: number } {
    const hasCollection = this.q('SELECT 1 FROM collections WHERE id = ?');
    const insert = this
      .q(`INSERT INTO items (collection_id, id, dt, dt_start, dt_end, cloud_cover, minx, miny, maxx, maxy, geometry, content, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (collection_id, id) DO NOTHING`);
    const update = this.q(`UPDATE items SET dt = ?, dt_start = ?, dt_end = ?, cloud_cover = ?, minx = ?, miny = ?, maxx = ?, maxy = ?,
      geometry = ?, content = ?, updated_at = ? WHERE collection_id = ? AND id = ?`);
    const now = Date.now();
    return this.db
      .transaction(() => {
        let inserted = 0;
        const known = new Set<string>();
        for (const r of zOrdered(rows)) {
          if (!known.has(r.collection)) {
            if (!hasCollection.get(r.collection)) throw new UnknownCollectionError(r.collection);
            known.add(r.collection);
          }
          const [minx, miny, maxx, maxy] = r.bbox ?? [null, null, null, null];
          const t = [r.dt, r.dtStart, r.dtEnd, r.cloudCover, minx, miny, maxx, maxy, r.geometry, r.content, now];
          if (insert.run(r.collection, r.id, ...t).changes > 0) inserted++;
          else update.run(...t, r.collection, r.id);
        }
        return { inserted, updated: rows.length - inserted };
      })
      .immediate();
  }

  getItemFor(orgId: string, collectionId: string, itemId: string): ItemRecord | undefined {
    const r = this.q(
      `SELECT collection_id, id, content FROM items i WHERE i.collection_id = @c AND i.id = @i AND i.collection_id IN (${ENTITLED_IDS})`,
    ).get({
      c: collectionId,
      i: itemId,
      org: orgId,
    }) as Row | undefined;
    return r && { collection: r.collection_id as string, id: r.id as string, item: JSON.parse(r.content as string) };
  }

  deleteItem(collectionId: string, itemId: string): boolean {
    return this.q('DELETE FROM items WHERE collection_id = ? AND id = ?').run(collectionId, itemId).changes > 0;
  }

  /**
   * The collections a search may read: entitled to the organization and, when the search names some,
   * among those. Resolved first, so the planner sees constants (and uses the (collection, dt) index).
   */
  private searchable(orgId: string, s: ItemSearch): string[] {
    const entitled = (this.q(`${ENTITLED_IDS} ORDER BY c.id`).all({ org: orgId }) as { id: string }[]).map((r) => r.id);
    return s.collections ? entitled.filter((id) => s.collections!.includes(id)) : entitled;
  }

  searchItems(orgId: string, search: ItemSearch): ItemPage {
    const ids = this.searchable(orgId, search);
    if (!ids.length) return search.countLimit > 0 ? { items: [], numberMatched: 0 } : { items: [] };
    const s: ItemSearch = { ...search, collections: undefined };
    const scoped = (params: unknown[]) => {
      const list = ids.map((id) => sqliteDialect.param(params, id)).join(', ');
      return { d: { ...sqliteDialect, entitled: list, window: s.datetime }, where: `i.collection_id IN (${list})` };
    };
    const params: unknown[] = [];
    const page0 = scoped(params);
    const sql = searchSql(page0.d, s, params);
    const where = [page0.where, ...sql.where].join(' AND ');
    const keys = sql.keyColumns.map((k, n) => `${k} AS k${n}`).join(', ');
    const rows = this.q(
      `SELECT i.collection_id, i.id, i.content, ${keys} FROM items i WHERE ${where} ORDER BY ${sql.orderBy} LIMIT @limit`,
    ).all(bindings(params, { org: orgId, limit: s.limit + 1 })) as Row[];
    const page: ItemPage = {
      items: rows
        .slice(0, s.limit)
        .map((r) => ({ collection: r.collection_id as string, id: r.id as string, item: JSON.parse(r.content as string) })),
    };
    if (rows.length > s.limit) {
      const last = rows[s.limit - 1]!;
      page.next = sql.keyColumns.map((_, n) => last[`k${n}`]);
    }
    if (s.countLimit > 0) {
      const cparams: unknown[] = [];
      const count0 = scoped(cparams);
      const csql = searchSql(count0.d, s, cparams, 'count');
      const cwhere = [count0.where, ...csql.where].join(' AND ');
      const n = (
        this.q(`SELECT count(*) AS n FROM (SELECT 1 FROM items i WHERE ${cwhere} LIMIT @limit)`).get(
          bindings(cparams, { org: orgId, limit: s.countLimit + 1 }),
        ) as { n: number }
      ).n;
      if (n <= s.countLimit) page.numberMatched = n;
    }
    return page;
  }
}
