/**
 * Item-search parameters (STAC API item-search, OGC API Features Part 1 §7.15, and the filter, sort,
 * fields, query and free-text extensions), from a GET query string or a POST JSON body, into one
 * validated `ItemSearch`. Every client mistake is a `badRequest` naming the parameter; a `limit` above
 * the maximum is clamped (OGC 17-069 /req/core/fc-limit-response-1), not refused.
 */
import { badRequest } from '../http/errors.js';
import { checkLiteralComplexity, invalidReason, readGeometry, GeometryError } from './geometry.js';
import { parseCql2Json, parseCql2Text, Cql2Error } from './cql2/index.js';
import type { Cql2Expr } from './cql2/ast.js';
import type { Geometry, ItemSearch, SortKey } from '../storage/types.js';
import { table } from '../storage/catalog/sql.js';

/** Limits of a search: default and maximum page size, and how far numberMatched counts. */
export interface SearchLimits {
  defaultLimit: number;
  maxLimit: number;
  countLimit: number;
}

/** The fields extension's include/exclude sets (dotted paths), or undefined for whole items. */
export interface FieldsSpec {
  include: string[];
  exclude: string[];
}

export interface ParsedSearch {
  search: ItemSearch;
  fields?: FieldsSpec;
  /**
   * numberMatched carried by the paging token from the search's first page: a number, or null when that
   * page did not know it (over the count limit). Undefined on a first page: this page counts.
   */
  carriedCount?: number | null;
}

/** RFC 3339 date-time (§5.6), with the `t`/`z` lower-case forms it allows. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 date-time to epoch ms; throws badRequest naming `what`. */
export function parseInstant(s: string, what: string): number {
  const ms = RFC3339.test(s) ? Date.parse(s.toUpperCase()) : NaN;
  if (!Number.isFinite(ms)) throw badRequest(`${what}: ${JSON.stringify(s.slice(0, 60))} is not an RFC 3339 date-time`);
  return ms;
}

/** `datetime`: an instant, or `start/end` with `..` or an empty string for an open end. */
export function parseDatetime(v: unknown): ItemSearch['datetime'] {
  if (typeof v !== 'string' || !v) throw badRequest('datetime must be an RFC 3339 date-time or an interval');
  const parts = v.split('/');
  if (parts.length === 1) {
    const t = parseInstant(v, 'datetime');
    return { start: t, end: t };
  }
  if (parts.length !== 2) throw badRequest('datetime interval must have exactly two ends separated by /');
  const [a, b] = parts.map((p) => (p === '..' || p === '' ? null : parseInstant(p, 'datetime'))) as [number | null, number | null];
  if (a !== null && b !== null && a > b) throw badRequest('datetime interval ends before it starts');
  return { start: a, end: b };
}

/** `bbox`: 4 or 6 numbers (west, south[, min z], east, north[, max z]) in degrees; west > east crosses the antimeridian. */
export function parseBbox(v: unknown): [number, number, number, number] {
  const nums = typeof v === 'string' ? v.split(',').map((x) => (x.trim() === '' ? NaN : Number(x))) : v;
  if (!Array.isArray(nums) || (nums.length !== 4 && nums.length !== 6) || !nums.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    throw badRequest('bbox must be 4 or 6 numbers: west,south,east,north (or with min and max heights)');
  }
  const [w, s, e, n] = nums.length === 4 ? nums : [nums[0], nums[1], nums[3], nums[4]];
  if (s > n) throw badRequest('bbox south is north of its north');
  if (s < -90 || n > 90) throw badRequest('bbox latitudes must lie within -90..90');
  if (w < -180 || w > 180 || e < -180 || e > 180) throw badRequest('bbox longitudes must lie within -180..180');
  return [w, s, e, n];
}

/** `intersects`: any GeoJSON geometry, well-formed and valid (a self-intersecting polygon is refused with the reason). */
export function parseIntersects(v: unknown): Geometry {
  let g = v;
  if (typeof v === 'string') {
    try {
      g = JSON.parse(v);
    } catch {
      throw badRequest('intersects must be a GeoJSON geometry');
    }
  }
  try {
    checkLiteralComplexity(g as Geometry);
    readGeometry(g as Geometry);
    const reason = invalidReason(g as Geometry);
    if (reason) throw badRequest(`intersects is not a valid geometry: ${reason}`);
  } catch (e) {
    if (e instanceof GeometryError) throw badRequest(`intersects: ${e.message}`);
    throw e;
  }
  return g as Geometry;
}

function stringList(v: unknown, what: string): string[] {
  const list =
    typeof v === 'string'
      ? v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw badRequest(`${what} must be a list of strings`);
  if (list.length > 1000) throw badRequest(`${what} may list at most 1000 values`);
  return list;
}

function parseLimit(v: unknown, limits: SearchLimits): number {
  if (v === undefined) return limits.defaultLimit;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw badRequest('limit must be a positive integer');
  return Math.min(n, limits.maxLimit);
}

/** `sortby`: GET `+datetime,-eo:cloud_cover` (no sign = ascending); POST `[{field, direction}]`. */
function parseSortby(v: unknown): SortKey[] {
  if (typeof v === 'string') {
    return v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map((x) => ({ field: x.replace(/^[+-]/, ''), direction: x.startsWith('-') ? 'desc' : 'asc' }));
  }
  if (!Array.isArray(v)) throw badRequest('sortby must be a list');
  return v.map((s) => {
    const o = s as { field?: unknown; direction?: unknown };
    if (typeof o?.field !== 'string' || !['asc', 'desc', undefined].includes(o.direction as string)) {
      throw badRequest('each sortby entry needs a field and a direction of asc or desc');
    }
    return { field: o.field, direction: (o.direction ?? 'asc') as 'asc' | 'desc' };
  });
}

/** `fields`: GET `id,properties,-properties.foo`; POST `{include, exclude}`. */
function parseFields(v: unknown): FieldsSpec {
  if (typeof v === 'string') {
    const all = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    return {
      include: all.filter((x) => !x.startsWith('-')).map((x) => x.replace(/^\+/, '')),
      exclude: all.filter((x) => x.startsWith('-')).map((x) => x.slice(1)),
    };
  }
  const o = v as { include?: unknown; exclude?: unknown } | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw badRequest('fields must be an object with include and exclude lists');
  return {
    include: o.include == null ? [] : stringList(o.include, 'fields.include'),
    exclude: o.exclude == null ? [] : stringList(o.exclude, 'fields.exclude'),
  };
}

/** `filter` with `filter-lang` (cql2-text default on GET, cql2-json on POST, per the filter extension). */
function parseFilter(v: unknown, lang: unknown, crs: unknown, method: 'GET' | 'POST'): Cql2Expr {
  if (crs !== undefined && crs !== 'http://www.opengis.net/def/crs/OGC/1.3/CRS84') throw badRequest('filter-crs: only CRS84 is supported');
  const language = lang ?? (method === 'GET' || typeof v === 'string' ? 'cql2-text' : 'cql2-json');
  try {
    if (language === 'cql2-text') {
      if (typeof v !== 'string') throw badRequest('a cql2-text filter must be a string');
      return checkFilterGeometries(parseCql2Text(v));
    }
    if (language === 'cql2-json') return checkFilterGeometries(parseCql2Json(typeof v === 'string' ? JSON.parse(v) : v));
  } catch (e) {
    if (e instanceof Cql2Error) throw badRequest(`filter: ${e.message}`);
    if (e instanceof GeometryError) throw badRequest(`filter: ${e.message}`);
    if (e instanceof SyntaxError) throw badRequest('filter: not valid JSON');
    throw e;
  }
  throw badRequest('filter-lang must be cql2-text or cql2-json');
}

/** Every geometry literal of a filter within the complexity limits (as `intersects`). */
function checkFilterGeometries(expr: Cql2Expr): Cql2Expr {
  const visit = (a: unknown): void => {
    if (Array.isArray(a)) return a.forEach(visit);
    if (!a || typeof a !== 'object') return;
    const o = a as { type?: unknown; args?: unknown };
    if (typeof o.type === 'string') return checkLiteralComplexity(a as Geometry);
    if (Array.isArray(o.args)) o.args.forEach(visit);
  };
  visit(expr);
  return expr;
}

const QUERY_OPS = table({ eq: '=', neq: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' });

/** The query extension (`{"eo:cloud_cover": {"lt": 10}}`) as CQL2: each operator becomes one ANDed predicate. */
function parseQuery(v: unknown): Cql2Expr {
  let q = v;
  if (typeof v === 'string') {
    try {
      q = JSON.parse(v);
    } catch {
      throw badRequest('query must be a JSON object');
    }
  }
  if (!q || typeof q !== 'object' || Array.isArray(q)) throw badRequest('query must be an object of property: {operator: value}');
  const args: Cql2Expr[] = [];
  for (const [property, ops] of Object.entries(q as Record<string, unknown>)) {
    if (!ops || typeof ops !== 'object' || Array.isArray(ops)) throw badRequest(`query.${property} must be an object of operators`);
    for (const [op, value] of Object.entries(ops as Record<string, unknown>)) {
      const prop = { property };
      const scalar = (x: unknown) => {
        if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean')
          throw badRequest(`query.${property}.${op} must be a string, number or boolean`);
        return x;
      };
      const escape = (s: unknown) => String(scalar(s)).replace(/[\\%_]/g, (c) => `\\${c}`);
      if (QUERY_OPS[op]) args.push({ op: QUERY_OPS[op]!, args: [prop, scalar(value)] });
      else if (op === 'startsWith') args.push({ op: 'like', args: [prop, `${escape(value)}%`] });
      else if (op === 'endsWith') args.push({ op: 'like', args: [prop, `%${escape(value)}`] });
      else if (op === 'contains') args.push({ op: 'like', args: [prop, `%${escape(value)}%`] });
      else if (op === 'in') {
        if (!Array.isArray(value) || !value.length) throw badRequest(`query.${property}.in must be a non-empty list`);
        args.push({ op: 'in', args: [prop, value.map(scalar)] });
      } else throw badRequest(`query operator ${op} is not supported (eq, neq, lt, lte, gt, gte, startsWith, endsWith, contains, in)`);
    }
  }
  return args.length === 1 ? args[0]! : { op: 'and', args };
}

/** Free text `q`: comma-separated terms (GET) or a string/list (POST), ORed. */
function parseQ(v: unknown): string[] {
  const terms = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined;
  if (!terms || !terms.every((t) => typeof t === 'string')) throw badRequest('q must be a string or a list of strings');
  return terms.map((t: string) => t.trim()).filter(Boolean);
}

/**
 * Encodes a keyset for a `next` link (opaque to clients) with the numberMatched of the first page, so
 * later pages repeat it instead of counting again (the count is most of a wide search's time). The
 * count is what the first page saw: items added while paging do not change it.
 */
export function encodeToken(after: unknown[], numberMatched: number | null): string {
  return `next:${Buffer.from(JSON.stringify({ k: after, n: numberMatched })).toString('base64url')}`;
}

const isKey = (x: unknown) => typeof x === 'string' || typeof x === 'number';

/** The keyset and carried count of a token; a bare keyset array (tokens made before counts were carried) carries none. */
function decodeToken(v: unknown): { after: unknown[]; count?: number | null } {
  if (typeof v !== 'string' || !v.startsWith('next:')) throw badRequest('token is not a paging token of this API');
  try {
    const t = JSON.parse(Buffer.from(v.slice(5), 'base64url').toString('utf8'));
    if (Array.isArray(t) && t.every(isKey)) return { after: t };
    const n = t?.n;
    const countOk = n === null || (Number.isSafeInteger(n) && n >= 0);
    if (t && Array.isArray(t.k) && t.k.every(isKey) && countOk) return { after: t.k, count: n };
  } catch {
    // fall through
  }
  throw badRequest('token is not a paging token of this API');
}

/**
 * Builds the search from GET query parameters or a POST body (same names). `fixedCollection` is set for
 * `/collections/{id}/items`, where `collections`/`ids` are not parameters.
 */
export function parseSearch(
  p: Record<string, unknown>,
  method: 'GET' | 'POST',
  limits: SearchLimits,
  fixedCollection?: string,
): ParsedSearch {
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw badRequest('the search body must be a JSON object');
  const search: ItemSearch = { sortby: [], limit: parseLimit(p.limit, limits), countLimit: limits.countLimit };
  if (p.bbox !== undefined && p.intersects !== undefined) throw badRequest('bbox and intersects cannot be used together');
  if (p.bbox !== undefined) search.bbox = parseBbox(p.bbox);
  if (p.intersects !== undefined) search.intersects = parseIntersects(p.intersects);
  if (p.datetime !== undefined) search.datetime = parseDatetime(p.datetime);
  if (fixedCollection !== undefined) search.collections = [fixedCollection];
  else {
    if (p.collections !== undefined) search.collections = stringList(p.collections, 'collections');
    if (p.ids !== undefined) search.ids = stringList(p.ids, 'ids');
  }
  const filters: Cql2Expr[] = [];
  if (p.filter !== undefined) filters.push(parseFilter(p.filter, p['filter-lang'], p['filter-crs'], method));
  if (p.query !== undefined) filters.push(parseQuery(p.query));
  if (filters.length) search.filter = filters.length === 1 ? filters[0]! : { op: 'and', args: filters };
  if (p.q !== undefined) search.q = parseQ(p.q);
  if (p.sortby !== undefined) search.sortby = parseSortby(p.sortby);
  const out: ParsedSearch = { search };
  if (p.token !== undefined) {
    const token = decodeToken(p.token);
    search.after = token.after;
    if (token.count !== undefined) {
      out.carriedCount = token.count;
      search.countLimit = 0;
    }
  }
  if (p.fields !== undefined) out.fields = parseFields(p.fields);
  return out;
}
