/**
 * The PostgreSQL store's catalog: items with PostGIS geometry (GiST), properties as JSONB for CQL2
 * filters, btree indexes serving the default sort (datetime desc, collection, id), and the shared
 * item-search SQL (`../catalog/sql.ts`). Bulk upserts go through COPY into a staging table: one upsert per batch.
 */
import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { itemRow, itemRowCopy, type StoreItemRow } from '../catalog/rows.js';
import { inTransaction } from './tx.js';
import { searchSql, table, type Dialect } from '../catalog/sql.js';
import { QueryError, UnknownCollectionError, type ItemPage, type ItemRecord, type ItemSearch } from '../types.js';

type Row = Record<string, unknown>;

/** Collections visible to the organization `$1` (open, private to it, licensed to it). */
export const ENTITLED_IDS = `SELECT c.id FROM collections c WHERE c.access = 'open'
  OR (c.access = 'private' AND c.owner_org_id = $1)
  OR (c.access = 'licensed' AND EXISTS (SELECT 1 FROM collection_grants g WHERE g.collection_id = c.id AND g.org_id = $1))`;

const ST = table({
  intersects: 'ST_Intersects',
  within: 'ST_Within',
  contains: 'ST_Contains',
  disjoint: 'ST_Disjoint',
  equals: 'ST_Equals',
  touches: 'ST_Touches',
  overlaps: 'ST_Overlaps',
  crosses: 'ST_Crosses',
});

export const postgresDialect: Dialect = {
  param(params, value) {
    params.push(value);
    return `$${params.length}`;
  },
  prop(params, name, type) {
    params.push(name);
    const n = `$${params.length}::text`;
    if (type === 'json') return `(i.properties ->> ${n})`;
    const [json, cast] = type === 'number' ? ['number', '::float8'] : type === 'string' ? ['string', ''] : ['boolean', '::boolean'];
    return `(CASE WHEN jsonb_typeof(i.properties -> ${n}) = '${json}' THEN (i.properties ->> ${n})${cast} END)`;
  },
  propIsNull(params, name) {
    params.push(name);
    return `(COALESCE(jsonb_typeof(i.properties -> $${params.length}::text), 'null') = 'null')`;
  },
  spatial(params, rel, g, bbox, isRectangle) {
    let literal: string;
    if (isRectangle) {
      params.push(...bbox);
      const n = params.length;
      literal = `ST_MakeEnvelope($${n - 3}, $${n - 2}, $${n - 1}, $${n}, 4326)`;
    } else {
      params.push(JSON.stringify(g));
      literal = `ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON($${params.length}::text), 4326))`;
    }
    // The GiST index narrows by bbox (&&); the exact test runs only on rows the organization may see, so
    // a search's time never depends on another organization's footprints (invariant 2).
    const exact = `CASE WHEN i.collection_id IN (${(this as Dialect).entitled ?? ENTITLED_IDS}) THEN ${ST[rel]}(i.geom, ${literal}) ELSE FALSE END`;
    return rel === 'disjoint' ? `(i.geom IS NOT NULL AND ${exact})` : `(i.geom && ${literal} AND ${exact})`;
  },
  like(params, expr, pattern) {
    params.push(pattern);
    return `(${expr} LIKE $${params.length}::text)`;
  },
  // Columns i.id / i.collection_id are declared COLLATE "C" (so their indexes serve the sort); other text is cast.
  collate: (expr) => (/^i\.\w+$/.test(expr) ? expr : `(${expr}) COLLATE "C"`),
  true: 'TRUE',
  false: 'FALSE',
};

// Rows reach the server by COPY into a per-connection staging table, then one INSERT … SELECT upserts them:
// COPY's text format is parsed several times faster than a JSON batch (json_to_recordset: ~25–40 µs a row of
// server time against ~10), and the workers of the bulk loader encode it (storage/catalog/rows.ts). ON COMMIT
// DELETE ROWS empties the stage at the end of each write; it lives as long as its connection.
const STAGE = `CREATE TEMP TABLE IF NOT EXISTS sk_item_stage (c text, i text, dt bigint, ds bigint, de bigint, cc float8,
  x0 float8, y0 float8, x1 float8, y1 float8, g text, s boolean, p text, b text) ON COMMIT DELETE ROWS`;

// A convex quadrilateral skips the validity check.
const UPSERT = `INSERT INTO items (collection_id, id, dt, dt_start, dt_end, cloud_cover, minx, miny, maxx, maxy, geom, properties, content, updated_at)
  SELECT t.c, t.i, t.dt, t.ds, t.de, t.cc, t.x0, t.y0, t.x1, t.y1,
    CASE WHEN t.g IS NULL THEN NULL WHEN t.s THEN ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(t.g), 4326))
      ELSE sk_index_geometry(t.g) END,
    t.p::jsonb, t.b, $1
  FROM sk_item_stage t
  ON CONFLICT (collection_id, id) DO UPDATE SET dt = excluded.dt, dt_start = excluded.dt_start, dt_end = excluded.dt_end,
    cloud_cover = excluded.cloud_cover, minx = excluded.minx, miny = excluded.miny, maxx = excluded.maxx, maxy = excluded.maxy,
    geom = excluded.geom, properties = excluded.properties, content = excluded.content, updated_at = excluded.updated_at
  RETURNING (xmax = 0) AS inserted`;

/**
 * The rows as COPY text in UTF-8: lines that lie end to end in one buffer (as a load worker packs a chunk) go
 * as one view of it, so a batch is a few buffers written as they are, not 5,000 copied into a new one.
 */
function copyPayload(rows: StoreItemRow[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array | undefined;
  for (const r of rows) {
    const line = 'line' in r ? r.line : Buffer.from(itemRowCopy(r));
    if (run && run.buffer === line.buffer && run.byteOffset + run.byteLength === line.byteOffset) {
      run = new Uint8Array(run.buffer, run.byteOffset, run.byteLength + line.byteLength);
    } else {
      if (run) out.push(run);
      run = line;
    }
  }
  if (run) out.push(run);
  return out;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

/** Runs `fn` in a transaction: on a pool, one of its own; on a client, the one the caller holds (callers pass a client only inside one). */
const inWriteTransaction = <T>(db: Queryable | pg.Pool, fn: (c: Queryable) => Promise<T>): Promise<T> =>
  'totalCount' in db ? inTransaction(db, fn) : fn(db);

/** Streams `payload` into the staging table (COPY FROM STDIN); rejects with the server's error. */
async function copyIn(c: Queryable, payload: Uint8Array[]): Promise<void> {
  const stream = (c as pg.PoolClient).query(copyFrom('COPY sk_item_stage FROM STDIN'));
  await pipeline(Readable.from(payload.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))), stream);
}

/**
 * Locks the collections `ids` against deletion until the transaction ends (FOR KEY SHARE: what a foreign key
 * check takes, once per batch instead of once per row); throws QueryError when one does not exist.
 */
async function lockCollections(c: Queryable, ids: string[]): Promise<void> {
  const { rows } = await c.query('SELECT id FROM collections WHERE id = ANY($1::text[]) FOR KEY SHARE', [ids]);
  if (rows.length < ids.length) throw new UnknownCollectionError();
}

/** Deletes a collection and its items (see migration 8); false when it does not exist. */
export async function deleteCollection(db: pg.Pool, id: string): Promise<boolean> {
  return inWriteTransaction(db, async (c) => {
    // FOR UPDATE waits for writers holding the collection FOR KEY SHARE, and makes new ones wait: no item is
    // written between the two deletes.
    const found = await c.query('SELECT 1 FROM collections WHERE id = $1 FOR UPDATE', [id]);
    if (!found.rowCount) return false;
    await c.query('DELETE FROM items WHERE collection_id = $1', [id]);
    await c.query('DELETE FROM collections WHERE id = $1', [id]);
    return true;
  });
}

/** Inserts or replaces items in one transaction; a missing collection is an UnknownCollectionError (the whole batch is refused). */
export async function upsertItems(db: Queryable | pg.Pool, items: ItemRecord[]): Promise<{ inserted: number; updated: number }> {
  return upsertItemRows(db, items.map(itemRow));
}

/** `upsertItems` for rows computed by `itemRow`. */
export async function upsertItemRows(db: Queryable | pg.Pool, rows: StoreItemRow[]): Promise<{ inserted: number; updated: number }> {
  if (!rows.length) return { inserted: 0, updated: 0 };
  const payload = copyPayload(rows);
  try {
    const res = await inWriteTransaction(db, async (c) => {
      await lockCollections(c, [...new Set(rows.map((r) => r.collection))]);
      await c.query(STAGE);
      await copyIn(c, payload);
      const out = await c.query(UPSERT, [Date.now()]);
      // A caller's transaction goes on: its stage must not carry these rows into its next write.
      if (!('totalCount' in db)) await c.query('TRUNCATE sk_item_stage');
      return out;
    });
    const inserted = (res.rows as Row[]).filter((r) => r.inserted).length;
    return { inserted, updated: rows.length - inserted };
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code === '21000') throw new QueryError('the same item appears twice in one batch');
    // Geometry/parse errors of one item (e.g. a coordinate PostGIS refuses, a NUL in an id): the loader isolates the item.
    if (code.startsWith('22') || ['XX000', '54000'].includes(code)) {
      throw new QueryError('an item geometry or value was refused by the database');
    }
    throw e;
  }
}

/** PostgreSQL text cannot hold NUL: such an id names nothing (and must not reach the server as an error). */
export const hasNul = (s: string) => s.includes('\u0000');

function itemFromRow(r: Row): ItemRecord {
  return { collection: r.collection_id as string, id: r.id as string, item: JSON.parse(r.content as string) };
}

export async function getItemFor(db: pg.Pool, orgId: string, collectionId: string, itemId: string): Promise<ItemRecord | undefined> {
  if (hasNul(collectionId) || hasNul(itemId)) return undefined;
  const { rows } = await db.query(
    `SELECT collection_id, id, content FROM items i WHERE i.collection_id IN (${ENTITLED_IDS}) AND i.collection_id = $2 AND i.id = $3`,
    [orgId, collectionId, itemId],
  );
  return rows[0] ? itemFromRow(rows[0] as Row) : undefined;
}

/** Maps PostGIS/cast errors caused by a client's literal (e.g. a GEOS topology failure) to QueryError. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    // 22xxx data errors, XX000 (GEOS), 42883/42804/42725 (operators between mismatched types).
    if (code === 'XX000' || code.startsWith('22') || ['42883', '42804', '42725'].includes(code)) {
      throw new QueryError('the query could not be evaluated on the given geometry or values (mismatched types?)');
    }
    throw e;
  }
}

export async function searchItems(db: pg.Pool, orgId: string, search: ItemSearch): Promise<ItemPage> {
  // The searchable collections first, as constants: the planner then sees the collection's selectivity and
  // uses the (collection_id, dt) index instead of ANDing a whole-collection bitmap.
  const entitled = ((await db.query(`${ENTITLED_IDS} ORDER BY c.id`, [orgId])).rows as { id: string }[]).map((r) => r.id);
  const ids = search.collections ? entitled.filter((id) => search.collections!.includes(id)) : entitled;
  if (!ids.length) return search.countLimit > 0 ? { items: [], numberMatched: 0 } : { items: [] };
  const s: ItemSearch = { ...search, collections: undefined };
  const scoped = (params: unknown[]) => {
    const list = ids.map((id) => postgresDialect.param(params, id)).join(', ');
    return { d: { ...postgresDialect, entitled: list }, where: `i.collection_id IN (${list})` };
  };
  const params: unknown[] = [];
  const page0 = scoped(params);
  const sql = searchSql(page0.d, s, params);
  const where = [page0.where, ...sql.where].join(' AND ');
  const keys = sql.keyColumns.map((k, n) => `${k} AS k${n}`).join(', ');
  params.push(s.limit + 1);
  const pageQuery = guarded(() =>
    db.query(
      `SELECT i.collection_id, i.id, i.content, ${keys} FROM items i WHERE ${where} ORDER BY ${sql.orderBy} LIMIT $${params.length}`,
      params,
    ),
  );
  let countQuery: Promise<number | undefined> = Promise.resolve(undefined);
  if (s.countLimit > 0) {
    const cparams: unknown[] = [];
    const count0 = scoped(cparams);
    const csql = searchSql(count0.d, s, cparams, 'count');
    cparams.push(s.countLimit + 1);
    const cwhere = [count0.where, ...csql.where].join(' AND ');
    countQuery = guarded(() =>
      db.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM items i WHERE ${cwhere} LIMIT $${cparams.length}) t`, cparams),
    ).then((r) => (r.rows[0] as { n: number }).n);
  }
  const [res, n] = await Promise.all([pageQuery, countQuery]);
  const rows = res.rows as Row[];
  const page: ItemPage = { items: rows.slice(0, s.limit).map(itemFromRow) };
  if (rows.length > s.limit) {
    const last = rows[s.limit - 1]!;
    page.next = sql.keyColumns.map((_, k) => {
      const v = last[`k${k}`];
      return typeof v === 'string' && /^(i\.dt|i\.dt_start|i\.dt_end)$/.test(sql.keyColumns[k]!) ? Number(v) : v;
    });
  }
  if (n !== undefined && n <= s.countLimit) page.numberMatched = n;
  return page;
}
