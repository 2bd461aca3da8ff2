/**
 * Test helper for the real STAC fixtures (shared/data/stac, described in shared/data/SOURCES.md): the
 * files read line by line, and an independent answer to item-search questions computed from them.
 * Nothing here uses Skyport's code: spatial tests use @turf/turf, times are parsed here, so a search
 * result that agrees with this oracle agrees for independent reasons.
 *
 * Semantics the oracle implements (STAC API item-search v1.0.0 §Query Parameters and Fields):
 * - bbox / intersects: planar intersection in degrees of the item geometry as published (no wrapping
 *   at ±180°; coordinates slightly beyond ±180 stay where they are); a bbox whose west edge is east of
 *   its east edge crosses the antimeridian and stands for the two boxes west..180 and -180..east.
 *   Items without geometry never match a spatial query.
 * - datetime: an item's temporal extent is [start_datetime, end_datetime] when both are given
 *   (common-metadata §Date and Time Range), else the instant `datetime`; an instant or interval
 *   (ends inclusive, `..`/empty = open) matches when it meets that extent.
 * - Date-times without a zone are read as UTC (Skyport's documented ingest policy); instants are
 *   compared at millisecond resolution (fraction digits beyond ms are truncated).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as turf from '@turf/turf';
import type { Geometry, MultiPolygon, Polygon } from 'geojson';

/** One Item of the NDJSON file: where it is (`file:line`), its parsed JSON, and its key `collection/id`. */
export interface RealItemLine {
  source: string;
  raw: Record<string, any>;
  key: string;
}

/** The real fixtures: file paths (for the loader) and their parsed content (for expectations). */
export interface RealStacFiles {
  collectionsPath: string;
  itemsPath: string;
  collections: Record<string, any>[];
  items: RealItemLine[];
}

/** [west, south, east, north] in degrees. */
export type Bbox = [number, number, number, number];

/**
 * Finds and reads the fixtures: `$SKYPORT_STAC_DATA_DIR`, else `../shared/data/stac` from the working
 * directory, else /work/shared/data/stac (the search order of stac-validate.ts's loadRealStac).
 * @throws Error when none exists: these tests must not pass by skipping
 */
export function realStacFiles(): RealStacFiles {
  const candidates = [process.env.SKYPORT_STAC_DATA_DIR, resolve(process.cwd(), '../shared/data/stac'), '/work/shared/data/stac'];
  const dir = candidates.find((d) => d && existsSync(resolve(d, 'real-items.ndjson')));
  if (!dir) throw new Error(`real STAC fixtures not found in ${candidates.filter(Boolean).join(', ')}`);
  const collectionsPath = resolve(dir, 'real-collections.json');
  const itemsPath = resolve(dir, 'real-items.ndjson');
  const items: RealItemLine[] = [];
  readFileSync(itemsPath, 'utf8')
    .split('\n')
    .forEach((text, n) => {
      if (!text.trim()) return;
      const raw = JSON.parse(text) as Record<string, any>;
      items.push({ source: `${itemsPath}:${n + 1}`, raw, key: itemKey(raw.collection, raw.id) });
    });
  const collections = JSON.parse(readFileSync(collectionsPath, 'utf8')) as Record<string, any>[];
  return { collectionsPath, itemsPath, collections, items };
}

/** The identity of an item in a catalog: its collection and id. */
export function itemKey(collection: string, id: string): string {
  return `${collection}/${id}`;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * Epoch ms of an RFC 3339 date-time (also the `YYYY-MM-DD hh:mm:ss` form and zone-less values seen
 * in real catalogs; no zone = UTC). Fraction digits beyond milliseconds are truncated.
 * @throws Error for anything else
 */
export function instantMs(s: string): number {
  const m = DATE_TIME.exec(s);
  if (!m) throw new Error(`not a date-time: ${JSON.stringify(s)}`);
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8];
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  }
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offsetMin * 60_000;
}

/**
 * An item's temporal extent [start, end] in epoch ms (see the module comment).
 * @throws Error when the item gives neither a datetime nor both range ends
 */
export function temporalExtent(properties: Record<string, any>): [number, number] {
  const { datetime, start_datetime: start, end_datetime: end } = properties;
  if (typeof start === 'string' && typeof end === 'string') return [instantMs(start), instantMs(end)];
  if (typeof datetime === 'string') return [instantMs(datetime), instantMs(datetime)];
  throw new Error('item has no time');
}

/** Whether an item meets a `datetime` query [start, end] in epoch ms (null = open end; start = end for an instant). */
export function meetsInterval(properties: Record<string, any>, start: number | null, end: number | null): boolean {
  const [a, b] = temporalExtent(properties);
  return (end === null || a <= end) && (start === null || b >= start);
}

/** The sort value of `datetime` (epoch ms): the datetime, or the start of the range when datetime is null. */
export function datetimeSortValue(properties: Record<string, any>): number {
  const dt = properties.datetime ?? properties.start_datetime;
  if (typeof dt !== 'string') throw new Error('item has no datetime or start_datetime');
  return instantMs(dt);
}

/** A bbox as a planar geometry; one crossing the antimeridian (west > east) becomes two boxes meeting ±180°. */
export function bboxGeometry([w, s, e, n]: Bbox): Polygon | MultiPolygon {
  if (w <= e) return turf.bboxPolygon([w, s, e, n]).geometry;
  return turf.multiPolygon([turf.bboxPolygon([w, s, 180, n]).geometry.coordinates, turf.bboxPolygon([-180, s, e, n]).geometry.coordinates])
    .geometry;
}

/** A geometry without empty members (a MultiPolygon's `[]` is no area), or null when nothing is left. */
function withoutEmptyMembers(g: Geometry | null | undefined): Geometry | null {
  if (!g) return null;
  if (g.type === 'GeometryCollection') {
    const geometries = g.geometries.map(withoutEmptyMembers).filter((x): x is Geometry => x !== null);
    return geometries.length ? { type: 'GeometryCollection', geometries } : null;
  }
  const coordinates = (g.coordinates as unknown[]).filter((c) => !Array.isArray(c) || c.length > 0);
  return coordinates.length ? ({ type: g.type, coordinates } as Geometry) : null;
}

/**
 * Planar intersection (turf.booleanIntersects) of an item's published geometry with a query geometry;
 * false for an item without geometry.
 */
export function geometryIntersects(itemGeometry: Geometry | null | undefined, query: Geometry): boolean {
  const g = withoutEmptyMembers(itemGeometry);
  if (!g) return false;
  if (g.type === 'GeometryCollection') return g.geometries.some((m) => turf.booleanIntersects(m, query));
  return turf.booleanIntersects(g, query);
}
