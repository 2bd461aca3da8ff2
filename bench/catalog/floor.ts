// The floor: each search as the SQL one would write by hand against Skyport's PostgreSQL items
// table and its indexes (GiST on geom, btree (dt desc, collection_id, id) and (collection_id, dt desc,
// id)) — no entitlement subquery, no count, no sort-key expressions — plus EXPLAIN (ANALYZE, BUFFERS)
// of the SQL Skyport itself generates for a search, to see which index it uses.
import type pg from 'pg';
import { postgresDialect, ENTITLED_IDS } from '../../src/storage/postgres/catalog.js';
import { searchSql } from '../../src/storage/catalog/sql.js';
import type { ItemSearch } from '../../src/storage/types.js';

/** A statement and its values. */
export interface Sql {
  text: string;
  values: unknown[];
}

/**
 * The hand-written query of a search (STAC semantics of Skyport's: the item's [start, end] interval
 * meets the search interval; footprint intersects the box; newest first, then collection and id;
 * keyset paging). Reads `collections`, `bbox`, `datetime`, an `eo:cloud_cover <` filter and `after`
 * from the parsed search; `limit + 1` rows, as the API fetches one more to know whether a next page exists.
 */
export function floorSql(s: ItemSearch, cloudBelow: number | undefined): Sql {
  const v: unknown[] = [];
  const p = (x: unknown) => `$${v.push(x)}`;
  const where: string[] = [];
  if (s.collections) where.push(`collection_id = ANY(${p(s.collections)}::text[])`);
  if (s.bbox) {
    const [w, so, e, n] = s.bbox;
    where.push(`ST_Intersects(geom, ST_MakeEnvelope(${p(w)}, ${p(so)}, ${p(e)}, ${p(n)}, 4326))`);
  }
  if (s.datetime?.end != null) where.push(`dt_start <= ${p(s.datetime.end)}`);
  if (s.datetime?.start != null) where.push(`dt_end >= ${p(s.datetime.start)}`);
  if (cloudBelow !== undefined) where.push(`cloud_cover < ${p(cloudBelow)}`);
  if (s.after) {
    const [dt, c, id] = s.after;
    const a = p(dt);
    where.push(`(dt < ${a} OR (dt = ${a} AND (collection_id, id) > (${p(c)}, ${p(id)})))`);
  }
  return {
    text: `SELECT collection_id, id, content FROM items WHERE ${where.join(' AND ')} ORDER BY dt DESC, collection_id, id LIMIT ${p(s.limit + 1)}`,
    values: v,
  };
}

/**
 * The page and count statements Skyport's PostgreSQL store sends for `s` on behalf of `orgId`,
 * assembled as `searchItems` in src/storage/postgres/catalog.ts assembles them (kept in step by hand:
 * if that function changes, change this one).
 */
export function skyportSql(s: ItemSearch, orgId: string): { page: Sql; count: Sql | undefined } {
  const params: unknown[] = [orgId];
  const sql = searchSql(postgresDialect, s, params);
  const where = [`i.collection_id IN (${ENTITLED_IDS})`, ...sql.where].join(' AND ');
  const keys = sql.keyColumns.map((k, n) => `${k} AS k${n}`).join(', ');
  params.push(s.limit + 1);
  const page = {
    text: `SELECT i.collection_id, i.id, i.content, ${keys} FROM items i WHERE ${where} ORDER BY ${sql.orderBy} LIMIT $${params.length}`,
    values: params,
  };
  if (s.countLimit <= 0) return { page, count: undefined };
  const cparams: unknown[] = [orgId];
  const csql = searchSql(postgresDialect, s, cparams, 'count');
  cparams.push(s.countLimit + 1);
  const cwhere = [`i.collection_id IN (${ENTITLED_IDS})`, ...csql.where].join(' AND ');
  return {
    page,
    count: { text: `SELECT count(*)::int AS n FROM (SELECT 1 FROM items i WHERE ${cwhere} LIMIT $${cparams.length}) t`, values: cparams },
  };
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Actual Total Time'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Sort Method'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Filter?: string;
  'Sort Key'?: string[];
  Plans?: PlanNode[];
}

/** A plan in a few lines: node, index, rows (× loops), rows removed, buffers, time. */
export interface PlanSummary {
  executionMs: number;
  planningMs: number;
  /** Time PostgreSQL spent compiling the query with JIT (jit_above_cost exceeded), ms; 0 without JIT. */
  jitMs: number;
  lines: string[];
  /** Index names the plan reads. */
  indexes: string[];
}

/** A condition without its geometry literals and casts, cut to a line. */
function short(cond: string): string {
  const s = cond
    .replace(/'[0-9A-F]{40,}'::geometry/g, '<box>')
    .replace(/'org_[^']*'::text/g, '<org>')
    .replace(/::(text|bigint|double precision|integer)/g, '')
    .replace(/ COLLATE "C"/g, '');
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

function nodeLine(n: PlanNode, depth: number): string {
  const parts = [`${'  '.repeat(depth)}${n['Node Type']}`];
  if (n['Index Name']) parts.push(`using ${n['Index Name']}`);
  else if (n['Relation Name']) parts.push(`on ${n['Relation Name']}`);
  const loops = n['Actual Loops'] ?? 1;
  parts.push(`rows ${(n['Actual Rows'] ?? 0).toLocaleString('en-US')}${loops > 1 ? ` × ${loops} loops` : ''}`);
  const removed = (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0);
  if (removed) parts.push(`removed ${removed.toLocaleString('en-US')}`);
  if (n['Sort Method']) parts.push(`sort ${n['Sort Method']}`);
  parts.push(`buffers hit ${n['Shared Hit Blocks'] ?? 0} read ${n['Shared Read Blocks'] ?? 0}`);
  if (n['Actual Total Time'] !== undefined) parts.push(`${n['Actual Total Time'].toFixed(2)} ms`);
  if (n['Sort Key']) parts.push(`key ${n['Sort Key'].join(', ')}`);
  if (n['Index Cond']) parts.push(`cond ${short(n['Index Cond'])}`);
  if (n.Filter) parts.push(`filter ${short(n.Filter)}`);
  return parts.join(', ');
}

/** Runs EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of a statement and summarizes the plan tree. */
export async function explain(db: Pick<pg.Client, 'query'>, q: Sql): Promise<PlanSummary> {
  const res = await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.text}`, q.values);
  type Doc = { Plan: PlanNode; 'Execution Time': number; 'Planning Time': number; JIT?: { Timing?: { Total?: number } } };
  const doc = (res.rows[0] as { 'QUERY PLAN': Doc[] })['QUERY PLAN'][0]!;
  const lines: string[] = [];
  const indexes = new Set<string>();
  const walk = (n: PlanNode, depth: number) => {
    lines.push(nodeLine(n, depth));
    if (n['Index Name']) indexes.add(n['Index Name']);
    for (const c of n.Plans ?? []) walk(c, depth + 1);
  };
  walk(doc.Plan, 0);
  return {
    executionMs: doc['Execution Time'],
    planningMs: doc['Planning Time'],
    jitMs: doc.JIT?.Timing?.Total ?? 0,
    lines,
    indexes: [...indexes],
  };
}
