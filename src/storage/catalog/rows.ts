/**
 * The derived columns of a stored item, computed once at write time by both adapters: the time range
 * used by datetime filters and sorting, eo:cloud_cover, the bbox of the R*Tree / GiST index and the
 * index geometry (empty parts dropped, invalid polygons repaired; the served item keeps its original).
 */
import { readGeometry, repaired, withoutEmptyParts } from '../../catalog/geometry.js';
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
  properties: string;
  content: string;
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
  let geometry = withoutEmptyParts(r.item.geometry as Geometry | null);
  if (geometry) {
    try {
      readGeometry(geometry);
      geometry = repaired(geometry);
    } catch {
      throw new QueryError('item geometry is not a valid GeoJSON geometry');
    }
  }
  return {
    collection: r.collection,
    id: r.id,
    dt: datetime ?? start,
    dtStart: Math.min(start, end),
    dtEnd: Math.max(start, end),
    cloudCover: typeof cc === 'number' && Number.isFinite(cc) ? cc : null,
    bbox: geometry ? geometryBbox(geometry) : null,
    geometry: geometry ? JSON.stringify(geometry) : null,
    properties: JSON.stringify(props),
    content: JSON.stringify(r.item),
  };
}
