/**
 * The item-search query, written once for both stores: STAC API item-search parameters, CQL2
 * (OGC 21-065) filters, free text, sort and keyset paging become one SQL `WHERE … ORDER BY … LIMIT`,
 * so the entitlement filter, limits, counts and paging all stay inside the database. Each adapter
 * supplies a `Dialect` (JSON property access, spatial predicates, placeholders); everything else
 * here is plain SQL that SQLite and PostgreSQL read alike.
 *
 * Item columns both adapters provide on alias `i`: `collection_id`, `id`, `dt` (datetime, or
 * start_datetime when datetime is null; epoch ms), `dt_start`, `dt_end` (ms), `cloud_cover`
 * (eo:cloud_cover or NULL), `minx, miny, maxx, maxy` (bbox, NULL without geometry).
 */
import type { Cql2Expr } from '../../catalog/cql2/ast.js';
import { QueryError, type Geometry, type ItemSearch, type SortKey } from '../types.js';

/** Spatial relations of OGC 21-065 §7.10 (item geometry `rel` literal). */
export type SpatialRelation = 'intersects' | 'within' | 'contains' | 'disjoint' | 'equals' | 'touches' | 'overlaps' | 'crosses';

/** What differs between the two SQL engines. Every method appends its values to `params` and returns SQL. */
export interface Dialect {
  /** A placeholder for `value` ($n or ?), appending it to params. */
  param(params: unknown[], value: unknown): string;
  /**
   * Item property `name` (inside `properties`) as a typed SQL value: NULL when absent or of another JSON
   * type; `json` gives any value as its JSON text (arrays and objects included).
   */
  prop(params: unknown[], name: string, type: 'number' | 'string' | 'boolean' | 'json'): string;
  /** True when the property is absent or JSON null. */
  propIsNull(params: unknown[], name: string): string;
  /** Item geometry `rel` the literal geometry (RFC 7946 GeoJSON, degrees, planar); false for items without geometry. */
  spatial(params: unknown[], rel: SpatialRelation, g: Geometry, bbox: [number, number, number, number], isRectangle?: boolean): string;
  /** Case-sensitive CQL2 `like` (% and _ wildcards, backslash escapes) of a text expression. */
  like(params: unknown[], expr: string, pattern: string): string;
  /** A text expression with a total, byte-order collation (for sort keys and keyset comparisons). */
  collate(expr: string): string;
  /**
   * SQL list of the collection ids the searching organization may see (placeholders), set per search by the
   * adapter; `spatial` guards its exact test with it. Without it the adapter's entitlement subquery is used.
   */
  readonly entitled?: string;
  /** Boolean literal in this dialect. */
  readonly true: string;
  readonly false: string;
}

/**
 * A lookup table indexed with client input: no prototype, so `constructor`, `__proto__` or `toString`
 * find nothing (a plain object literal would hand back Object.prototype's members).
 */
export function table<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** Sort fields the sort extension accepts, with their SQL and type (for the null sentinel of keyset paging). */
const COLUMN_SORTABLES = table<{ sql: string; type: 'number' | 'string'; nullable: boolean }>({
  datetime: { sql: 'i.dt', type: 'number', nullable: false },
  start_datetime: { sql: 'i.dt_start', type: 'number', nullable: false },
  end_datetime: { sql: 'i.dt_end', type: 'number', nullable: false },
  id: { sql: 'i.id', type: 'string', nullable: false },
  collection: { sql: 'i.collection_id', type: 'string', nullable: false },
  'eo:cloud_cover': { sql: 'i.cloud_cover', type: 'number', nullable: true },
});
const PROPERTY_SORTABLES = table<'number' | 'string'>({
  gsd: 'number',
  platform: 'string',
  constellation: 'string',
  'view:off_nadir': 'number',
  'view:sun_elevation': 'number',
  'view:sun_azimuth': 'number',
  created: 'string',
  updated: 'string',
});
/** Names accepted in `sortby`, for error messages and documentation. */
export const SORTABLES: readonly string[] = [...Object.keys(COLUMN_SORTABLES), ...Object.keys(PROPERTY_SORTABLES)];

/** Strips the optional `properties.` prefix STAC clients use in sortby/fields/filter. */
export function canonicalProperty(name: string): string {
  return name.startsWith('properties.') ? name.slice('properties.'.length) : name;
}

const NUM_MAX = 1.7976931348623157e308;
const TEXT_MAX = '\u{10FFFF}';

interface KeyDef {
  sql: string;
  direction: 'asc' | 'desc';
  type: 'number' | 'string';
}

/** The resolved ORDER BY keys: the requested ones, then (collection, id) so that every key tuple is unique. */
function sortKeys(d: Dialect, params: unknown[], sortby: SortKey[]): KeyDef[] {
  const keys: KeyDef[] = [];
  const seen = new Set<string>();
  for (const s of [...sortby, { field: 'collection', direction: 'asc' as const }, { field: 'id', direction: 'asc' as const }]) {
    const field = canonicalProperty(s.field);
    if (seen.has(field)) continue;
    seen.add(field);
    const col = COLUMN_SORTABLES[field];
    const propType = PROPERTY_SORTABLES[field];
    if (!col && !propType) throw new QueryError(`cannot sort by ${JSON.stringify(s.field)}: sortable fields are ${SORTABLES.join(', ')}`);
    const type = col ? col.type : propType!;
    let sql = col ? col.sql : d.prop(params, field, propType!);
    // Nulls sort last in both directions: a sentinel keeps keyset comparisons free of NULL logic.
    if (!col || col.nullable) {
      const sentinel = type === 'number' ? (s.direction === 'asc' ? NUM_MAX : -NUM_MAX) : s.direction === 'asc' ? TEXT_MAX : '';
      sql = `COALESCE(${sql}, ${d.param(params, sentinel)})`;
    }
    if (type === 'string') sql = d.collate(sql);
    keys.push({ sql, direction: s.direction, type });
  }
  return keys;
}

/** The SQL pieces of a search: WHERE (without the entitlement predicate), ORDER BY, the key expressions, and params. */
export interface SearchSql {
  where: string[];
  orderBy: string;
  keyColumns: string[];
  params: unknown[];
}

/**
 * Translates a validated search into SQL pieces. `params` may already hold values (e.g. the org id).
 * Throws `QueryError` for a query that cannot be expressed (unknown sort field, temporal operator on a
 * non-temporal property, a wrong-length keyset token).
 */
export function searchSql(d: Dialect, s: ItemSearch, params: unknown[], mode: 'page' | 'count' = 'page'): SearchSql {
  const where: string[] = [];
  const p = (v: unknown) => d.param(params, v);
  if (s.collections) where.push(s.collections.length ? `i.collection_id IN (${s.collections.map(p).join(', ')})` : d.false);
  if (s.ids) where.push(s.ids.length ? `i.id IN (${s.ids.map(p).join(', ')})` : d.false);
  if (s.bbox) where.push(bboxSql(d, params, s.bbox));
  if (s.intersects) where.push(d.spatial(params, 'intersects', s.intersects, geometryBbox(s.intersects)));
  if (s.datetime) {
    if (s.datetime.end !== null) where.push(`i.dt_start <= ${p(s.datetime.end)}`);
    if (s.datetime.start !== null) where.push(`i.dt_end >= ${p(s.datetime.start)}`);
  }
  if (s.q?.length) where.push(freeTextSql(d, params, s.q));
  if (s.filter !== undefined) where.push(new FilterSql(d, params).expr(s.filter));
  // A count needs no order (and must not bind the sort keys' values, which its SQL would not use).
  if (mode === 'count') {
    checkSize(params);
    return { where, orderBy: '', keyColumns: [], params };
  }
  // Default order (STAC API practice): newest first, then collection and id.
  const keys = sortKeys(d, params, s.sortby.length ? s.sortby : [{ field: 'datetime', direction: 'desc' }]);
  if (s.after) where.push(keysetSql(d, params, keys, s.after));
  const orderBy = keys.map((k) => `${k.sql} ${k.direction.toUpperCase()}`).join(', ');
  checkSize(params);
  return { where, orderBy, keyColumns: keys.map((k) => k.sql), params };
}

/** Most values one search may bind: below both engines' limits (SQLite 32,766, PostgreSQL 65,535). */
export const MAX_QUERY_VALUES = 10_000;

function checkSize(params: unknown[]): void {
  if (params.length > MAX_QUERY_VALUES) throw new QueryError(`the search is too large: it needs more than ${MAX_QUERY_VALUES} values`);
}

/** The items strictly after the keyset `after` in the order of `keys` (expanded row comparison, mixed directions). */
function keysetSql(d: Dialect, params: unknown[], keys: KeyDef[], after: unknown[]): string {
  if (after.length !== keys.length) throw new QueryError('the paging token does not belong to this search');
  keys.forEach((k, n) => {
    if (typeof after[n] !== k.type) throw new QueryError('the paging token does not belong to this search');
  });
  const ors: string[] = [];
  for (let n = 0; n < keys.length; n++) {
    const ands = keys.slice(0, n).map((k, m) => `${k.sql} = ${d.param(params, after[m])}`);
    const k = keys[n]!;
    ands.push(`${k.sql} ${k.direction === 'asc' ? '>' : '<'} ${d.param(params, after[n])}`);
    ors.push(`(${ands.join(' AND ')})`);
  }
  return `(${ors.join(' OR ')})`;
}

/** A bbox filter; a box whose west edge is east of its east edge crosses the antimeridian and is split in two. */
function bboxSql(d: Dialect, params: unknown[], [w, s, e, n]: [number, number, number, number]): string {
  const box = (x0: number, x1: number) => d.spatial(params, 'intersects', rectangle(x0, s, x1, n), [x0, s, x1, n], true);
  return w <= e ? box(w, e) : `(${box(w, 180)} OR ${box(-180, e)})`;
}

/** A closed, counter-clockwise GeoJSON Polygon for a bbox. */
export function rectangle(w: number, s: number, e: number, n: number): Geometry {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [w, s],
        [e, s],
        [e, n],
        [w, n],
        [w, s],
      ],
    ],
  };
}

/** 2D bbox of any GeoJSON geometry's coordinates; [0,0,0,0]-free: throws QueryError for an empty geometry. */
export function geometryBbox(g: Geometry): [number, number, number, number] {
  const b = [Infinity, Infinity, -Infinity, -Infinity] as [number, number, number, number];
  const visit = (c: unknown): void => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === 'number') {
      const [x, y] = c as number[];
      b[0] = Math.min(b[0], x!);
      b[1] = Math.min(b[1], y!);
      b[2] = Math.max(b[2], x!);
      b[3] = Math.max(b[3], y!);
      return;
    }
    for (const x of c) visit(x);
  };
  const walk = (x: Geometry): void => (x.type === 'GeometryCollection' ? x.geometries?.forEach(walk) : visit(x.coordinates));
  walk(g);
  if (!Number.isFinite(b[0])) throw new QueryError('empty geometry');
  return b;
}

/**
 * Free text (STAC API free-text extension, basic): any term in the item's title, description, keywords,
 * platform or constellation, or its collection id, case-insensitive. (Public catalogues rarely give
 * items a title; their platform and collection are what people type.)
 */
function freeTextSql(d: Dialect, params: unknown[], terms: string[]): string {
  const fields = (['title', 'description', 'platform', 'constellation'] as const).map((f) => `LOWER(${d.prop(params, f, 'string')})`);
  fields.push('LOWER(i.collection_id)');
  const ors: string[] = [];
  for (const t of terms) {
    const pattern = `%${t.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    for (const f of fields) ors.push(d.like(params, f, pattern));
    // keywords is an array: match its JSON text, which holds each keyword as a quoted string.
    ors.push(d.like(params, `LOWER(${d.prop(params, 'keywords', 'json')})`, pattern));
  }
  return `(${ors.join(' OR ')})`;
}

type Arg = unknown;
const COMPARISON = table({ '=': '=', '<>': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' });
const TEMPORAL_COLUMNS = table<[string, string]>({
  datetime: ['i.dt_start', 'i.dt_end'],
  start_datetime: ['i.dt_start', 'i.dt_start'],
  end_datetime: ['i.dt_end', 'i.dt_end'],
});

/** CQL2-JSON → SQL. Unknown properties read from the item's `properties` (CQL2 `additionalProperties`). */
class FilterSql {
  constructor(
    private readonly d: Dialect,
    private readonly params: unknown[],
  ) {}

  private p(v: unknown): string {
    return this.d.param(this.params, v);
  }

  expr(e: Cql2Expr): string {
    if (typeof e === 'boolean') return e ? this.d.true : this.d.false;
    const args = e.args as Arg[];
    switch (e.op) {
      case 'and':
      case 'or':
        return `(${args.map((a) => this.expr(a as Cql2Expr)).join(e.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        // SQL NOT keeps three-valued logic (NOT unknown = unknown, excluded), as CQL2 requires.
        return `(NOT ${this.expr(args[0] as Cql2Expr)})`;
      case 'isNull':
        return this.isNull(args[0]);
      case 'like':
        return this.d.like(this.params, this.text(args[0]), this.literalString(args[1], 'like'));
      case 'between':
        return `(${this.value(args[0], args[1])} BETWEEN ${this.value(args[1], args[0])} AND ${this.value(args[2], args[0])})`;
      case 'in': {
        const list = args[1] as Arg[];
        if (!list.length) return this.d.false;
        return `(${this.value(args[0], list[0])} IN (${list.map((v) => this.value(v, args[0])).join(', ')}))`;
      }
      default:
        if (COMPARISON[e.op]) return `(${this.value(args[0], args[1])} ${COMPARISON[e.op]} ${this.value(args[1], args[0])})`;
        if (e.op.startsWith('s_')) return this.spatial(e.op.slice(2) as SpatialRelation, args);
        if (e.op.startsWith('t_')) return this.temporal(e.op.slice(2).toLowerCase(), args);
        throw new QueryError(`operator ${e.op} is not supported`);
    }
  }

  private isNull(a: Arg): string {
    const name = propertyName(a);
    if (name === undefined) return a === null ? this.d.true : this.d.false;
    const col = columnOf(name);
    if (col) return `(${col.sql} IS NULL)`;
    if (name === 'geometry') return '(i.minx IS NULL)';
    return this.d.propIsNull(this.params, name);
  }

  /** A comparable SQL value for `a`, typed after its counterpart `other` when `a` is a property. */
  private value(a: Arg, other: Arg): string {
    const name = propertyName(a);
    if (name !== undefined) {
      const col = columnOf(name);
      if (col) {
        // Both engines must give the same answer: a column is compared only with its own type (a time column also with a timestamp string).
        const lt = literalType(other);
        if (lt && lt !== col.type && !(TEMPORAL_COLUMNS[name] && lt === 'string')) {
          throw new QueryError(`${name} is a ${col.type}; it cannot be compared with a ${lt}`);
        }
        const otherName = propertyName(other);
        const otherCol = otherName !== undefined ? columnOf(otherName) : undefined;
        if (otherCol && otherCol.type !== col.type) throw new QueryError(`${name} and ${otherName} have different types`);
        return col.sql;
      }
      if (name === 'geometry') throw new QueryError('geometry can only be used in spatial operators');
      const type = literalType(other) ?? (propertyName(other) !== undefined ? columnOf(propertyName(other)!)?.type : undefined);
      return this.d.prop(this.params, name, type ?? 'string');
    }
    if (isCasei(a)) {
      const inner = (a as { args: Arg[] }).args[0];
      const innerName = propertyName(inner);
      const innerCol = innerName !== undefined ? columnOf(innerName) : undefined;
      if ((innerCol && innerCol.type !== 'string') || (inner !== undefined && innerName === undefined && typeof inner !== 'string')) {
        throw new QueryError('casei applies to text only');
      }
      return `LOWER(${this.value(inner, 'text')})`;
    }
    const otherName = propertyName(other);
    if (otherName !== undefined && TEMPORAL_COLUMNS[otherName]) return this.p(timeValue(a));
    if (a !== null && typeof a === 'object' && ('timestamp' in a || 'date' in a)) {
      throw new QueryError('timestamps can be compared only with datetime, start_datetime or end_datetime');
    }
    if (typeof a === 'boolean') return this.p(a);
    if (typeof a === 'number' || typeof a === 'string') return this.p(a);
    throw new QueryError('unsupported operand in a comparison');
  }

  private text(a: Arg): string {
    const name = propertyName(a);
    if (name !== undefined) {
      const col = columnOf(name);
      if (col?.type === 'string') return col.sql;
      if (col) throw new QueryError(`like needs a text property; ${name} is not one`);
      return this.d.prop(this.params, name, 'string');
    }
    if (isCasei(a)) return `LOWER(${this.text((a as { args: Arg[] }).args[0])})`;
    throw new QueryError('like needs a property on its left side');
  }

  private literalString(a: Arg, op: string): string {
    if (typeof a === 'string') return a;
    if (isCasei(a)) {
      const inner = (a as { args: Arg[] }).args[0];
      if (typeof inner === 'string') return inner.toLowerCase();
    }
    throw new QueryError(`${op} needs a string pattern`);
  }

  private spatial(rel: SpatialRelation, args: Arg[]): string {
    let [a, b] = args;
    if (propertyName(b) === 'geometry' && propertyName(a) !== 'geometry') {
      [a, b] = [b, a];
      if (rel === 'within') rel = 'contains';
      else if (rel === 'contains') rel = 'within';
    }
    if (propertyName(a) !== 'geometry') throw new QueryError(`s_${rel} needs the geometry property as one argument`);
    if (!(SPATIAL as readonly string[]).includes(rel)) throw new QueryError(`s_${rel} is not supported`);
    const g = literalGeometry(b);
    return this.d.spatial(this.params, rel, g, geometryBbox(g));
  }

  private temporal(rel: string, args: Arg[]): string {
    let [a, b] = args;
    let name = propertyName(a);
    if (name === undefined && propertyName(b) !== undefined) {
      [a, b] = [b, a];
      name = propertyName(a);
      rel = INVERSE_TEMPORAL[rel] ?? rel;
    }
    const cols = name !== undefined ? TEMPORAL_COLUMNS[name] : undefined;
    if (!cols) throw new QueryError(`t_${rel} needs datetime, start_datetime or end_datetime as one argument`);
    const [lo, hi] = interval(b);
    const [a1, a2] = cols;
    // Placeholders are made only for the relation used: an unused parameter has no type in PostgreSQL.
    const b1 = () => this.p(lo);
    const b2 = () => this.p(hi);
    const allen = table<() => string>({
      after: () => `${a1} > ${b2()}`,
      before: () => `${a2} < ${b1()}`,
      contains: () => `${a1} < ${b1()} AND ${a2} > ${b2()}`,
      disjoint: () => `(${a2} < ${b1()} OR ${a1} > ${b2()})`,
      during: () => `${a1} > ${b1()} AND ${a2} < ${b2()}`,
      equals: () => `${a1} = ${b1()} AND ${a2} = ${b2()}`,
      finishedby: () => `${a1} < ${b1()} AND ${a2} = ${b2()}`,
      finishes: () => `${a1} > ${b1()} AND ${a2} = ${b2()}`,
      intersects: () => `${a1} <= ${b2()} AND ${a2} >= ${b1()}`,
      meets: () => `${a2} = ${b1()}`,
      metby: () => `${a1} = ${b2()}`,
      overlappedby: () => `${a1} > ${b1()} AND ${a1} < ${b2()} AND ${a2} > ${b2()}`,
      overlaps: () => `${a1} < ${b1()} AND ${a2} > ${b1()} AND ${a2} < ${b2()}`,
      startedby: () => `${a1} = ${b1()} AND ${a2} > ${b2()}`,
      starts: () => `${a1} = ${b1()} AND ${a2} < ${b2()}`,
    });
    const sql = allen[rel];
    if (!sql) throw new QueryError(`t_${rel} is not supported`);
    return `(${sql()})`;
  }
}

const SPATIAL = ['intersects', 'within', 'contains', 'disjoint', 'equals', 'touches', 'overlaps', 'crosses'] as const;
const INVERSE_TEMPORAL = table<string>({
  after: 'before',
  before: 'after',
  contains: 'during',
  during: 'contains',
  finishedby: 'finishes',
  finishes: 'finishedby',
  meets: 'metby',
  metby: 'meets',
  overlappedby: 'overlaps',
  overlaps: 'overlappedby',
  startedby: 'starts',
  starts: 'startedby',
});

function propertyName(a: Arg): string | undefined {
  if (a !== null && typeof a === 'object' && !Array.isArray(a) && typeof (a as { property?: unknown }).property === 'string') {
    return canonicalProperty((a as { property: string }).property);
  }
  return undefined;
}

function isCasei(a: Arg): boolean {
  return a !== null && typeof a === 'object' && (a as { op?: unknown }).op === 'casei';
}

/** Columns that stand for a property: their SQL and comparison type. */
function columnOf(name: string): { sql: string; type: 'number' | 'string' } | undefined {
  if (name === 'id') return { sql: 'i.id', type: 'string' };
  if (name === 'collection') return { sql: 'i.collection_id', type: 'string' };
  if (name === 'eo:cloud_cover') return { sql: 'i.cloud_cover', type: 'number' };
  if (name === 'datetime') return { sql: 'i.dt', type: 'number' };
  if (name === 'start_datetime') return { sql: 'i.dt_start', type: 'number' };
  if (name === 'end_datetime') return { sql: 'i.dt_end', type: 'number' };
  return undefined;
}

function literalType(a: Arg): 'number' | 'string' | 'boolean' | undefined {
  if (typeof a === 'number') return 'number';
  if (typeof a === 'string') return 'string';
  if (typeof a === 'boolean') return 'boolean';
  if (isCasei(a)) return 'string';
  if (Array.isArray(a)) return literalType(a[0]);
  return undefined;
}

/** Epoch ms of a CQL2 timestamp/date literal or an RFC 3339 string; throws QueryError otherwise. */
function timeValue(a: Arg): number {
  const text =
    typeof a === 'string'
      ? a
      : a !== null && typeof a === 'object' && 'timestamp' in a
        ? (a as { timestamp: string }).timestamp
        : a !== null && typeof a === 'object' && 'date' in a
          ? `${(a as { date: string }).date}T00:00:00Z`
          : undefined;
  const ms = text === undefined ? NaN : Date.parse(text);
  if (!Number.isFinite(ms)) throw new QueryError('a datetime property can only be compared with a timestamp');
  return ms;
}

/** [start, end] in ms of a temporal literal: an instant, a whole day, or an interval with open ends. */
function interval(a: Arg): [number, number] {
  if (a !== null && typeof a === 'object' && 'interval' in a) {
    const [s, e] = (a as { interval: Arg[] }).interval;
    const end = (x: Arg, open: number, isEnd: boolean): number => {
      if (x === '..' || x === '') return open;
      if (x !== null && typeof x === 'object' && 'date' in x) x = (x as { date: string }).date;
      // A full-date end stands for its whole day.
      if (typeof x === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(x)) return Date.parse(`${x}T00:00:00Z`) + (isEnd ? 86_399_999 : 0);
      return timeValue(x);
    };
    return [end(s, -8.64e15, false), end(e, 8.64e15, true)];
  }
  if (a !== null && typeof a === 'object' && 'date' in a) {
    const day = Date.parse(`${(a as { date: string }).date}T00:00:00Z`);
    return [day, day + 86_399_999];
  }
  const t = timeValue(a);
  return [t, t];
}

function literalGeometry(a: Arg): Geometry {
  if (a !== null && typeof a === 'object' && 'bbox' in a) {
    const b = (a as { bbox: number[] }).bbox;
    const [w, s, e, n] = b.length === 6 ? [b[0]!, b[1]!, b[3]!, b[4]!] : (b as [number, number, number, number]);
    return rectangle(w, s, e, n);
  }
  if (a !== null && typeof a === 'object' && typeof (a as { type?: unknown }).type === 'string') return a as Geometry;
  throw new QueryError('a spatial operator needs a geometry literal');
}
