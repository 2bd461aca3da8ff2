/**
 * The derived columns of a stored item, computed once at write time by both adapters: the time range
 * used by datetime filters and sorting, eo:cloud_cover, the bbox of the R*Tree / GiST index and the
 * index geometry (empty parts dropped; the served item keeps its original).
 */
import { readGeometry, withoutEmptyParts } from '../../catalog/geometry.js';
import { geometryBbox } from './sql.js';
import { QueryError, type Geometry, type ItemRecord } from '../types.js';

/** An item's row: times in epoch ms, bbox in degrees, geometry as GeoJSON text (or null). */
export interface ItemRow {
  collection: string;
  id: string;
  dt: number;
  dtStart: number;
  dtEnd: number;
  cloudCover: number | null;
  bbox: [number, number, number, number] | null;
  geometry: string | null;
  /** True when the geometry is known valid (a convex quadrilateral): PostgreSQL then skips its validity check. */
  simple: boolean;
  /** `properties` as JSON text (PostgreSQL keeps them as JSONB for CQL2 filters). */
  properties: string;
  content: string;
}

/**
 * The common footprint — one closed ring of four distinct corners turning one way — is valid as it is:
 * recognised in a few multiplications, it skips the JSTS validity check (most of a bulk load's geometry cost).
 */
function isConvexQuadrilateral(g: Geometry): boolean {
  const rings = g.type === 'Polygon' ? (g.coordinates as number[][][]) : undefined;
  const ring = rings?.length === 1 ? rings[0] : undefined;
  if (!ring || ring.length !== 5) return false;
  const [first, last] = [ring[0]!, ring[4]!];
  if (first[0] !== last[0] || first[1] !== last[1]) return false;
  let sign = 0;
  for (let k = 0; k < 4; k++) {
    const [a, b, c] = [ring[k]!, ring[k + 1]!, ring[(k + 2) % 4]!];
    if (![a[0], a[1]].every(Number.isFinite)) return false;
    const cross = (b[0]! - a[0]!) * (c[1]! - b[1]!) - (b[1]! - a[1]!) * (c[0]! - b[0]!);
    if (cross === 0 || (sign !== 0 && Math.sign(cross) !== sign)) return false;
    sign = Math.sign(cross);
  }
  return true;
}

function time(v: unknown, field: string): number {
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw new QueryError(`item ${field} is not an RFC 3339 date-time`);
  return ms;
}

/**
 * Computes the row of an item. STAC item spec: `datetime`, or `start_datetime` and `end_datetime`
 * when `datetime` is null. Throws QueryError when neither gives a time or the geometry is unreadable.
 */
export function itemRow(r: ItemRecord): ItemRow {
  const props = (r.item.properties ?? {}) as Record<string, unknown>;
  const datetime = props.datetime == null ? null : time(props.datetime, 'properties.datetime');
  const start = props.start_datetime == null ? datetime : time(props.start_datetime, 'properties.start_datetime');
  const end = props.end_datetime == null ? datetime : time(props.end_datetime, 'properties.end_datetime');
  if (start === null || end === null) throw new QueryError('item has neither datetime nor start_datetime and end_datetime');
  const cc = props['eo:cloud_cover'];
  const geometry = withoutEmptyParts(r.item.geometry as Geometry | null);
  const simple = geometry !== null && isConvexQuadrilateral(geometry);
  if (geometry && !simple) {
    try {
      // Readable is required; validity is not: an invalid published footprint (self-intersecting, seen in
      // public catalogues across the antimeridian) is indexed as published. buffer(0) "repairs" lost whole
      // parts of such shapes; PostgreSQL makes them valid with ST_MakeValid, which keeps all their linework.
      readGeometry(geometry);
    } catch {
      throw new QueryError('item geometry is not a valid GeoJSON geometry');
    }
  }
  const geometryJson = geometry ? JSON.stringify(geometry) : null;
  const propertiesJson = JSON.stringify(props);
  return {
    collection: r.collection,
    id: r.id,
    dt: datetime ?? start,
    dtStart: Math.min(start, end),
    dtEnd: Math.max(start, end),
    cloudCover: typeof cc === 'number' && Number.isFinite(cc) ? cc : null,
    bbox: geometry ? geometryBbox(geometry) : null,
    geometry: geometryJson,
    simple,
    properties: propertiesJson,
    content: contentJson(r.item, propertiesJson, geometry === r.item.geometry ? (geometryJson ?? 'null') : undefined),
  };
}

/**
 * `JSON.stringify(item)` with the properties (and the geometry, when given) already stringified: the same
 * text, key order kept, without serializing the two largest members twice (a tenth of a bulk load's time).
 */
function contentJson(item: Record<string, unknown>, properties: string, geometry: string | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(item)) {
    const text =
      k === 'properties' && v !== undefined ? properties : k === 'geometry' && geometry !== undefined ? geometry : JSON.stringify(v);
    if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * A row encoded by `itemRowCopy` (PostgreSQL's bulk format: a COPY text line) as UTF-8 bytes — the bulk
 * loader's workers hand them over without a copy, and they go to the server as they are — with the key the
 * loader orders writes by.
 */
export interface CopyItemRow {
  collection: string;
  id: string;
  line: Uint8Array;
}

/** What `Storage.upsertItemRows` takes: rows of fields (both stores) or COPY lines (PostgreSQL only). */
export type StoreItemRow = ItemRow | CopyItemRow;

/** A number as COPY text (non-finite → NULL, as JSON would write null). */
const num = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? String(x) : '\\N');

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * A value as COPY text (PostgreSQL COPY, "File Formats": backslash, tab, newline and carriage return are
 * escaped). JSON text holds no raw control characters, so in an item only its backslashes change. A NUL
 * cannot be written: the server refuses the line (and the loader then the item alone).
 */
const copyText = (s: string) => (/[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : s);

/**
 * One row as a line of PostgreSQL's bulk COPY (text format, tab-separated, newline-terminated), in the column
 * order of its staging table (storage/postgres/catalog.ts). Pure, so the bulk loader runs it in its workers.
 */
export function itemRowCopy(r: ItemRow): string {
  const [x0, y0, x1, y1] = r.bbox ?? [null, null, null, null];
  const g = r.geometry === null ? '\\N' : copyText(r.geometry);
  const fields = [copyText(r.collection), copyText(r.id), num(r.dt), num(r.dtStart), num(r.dtEnd), num(r.cloudCover)];
  fields.push(num(x0), num(y0), num(x1), num(y1), g, r.simple ? 't' : 'f', copyText(r.properties), copyText(r.content));
  return `${fields.join('\t')}\n`;
}
