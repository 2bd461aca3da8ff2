/**
 * Ingest rules for STAC Items and Collections harvested from public catalogs (Planetary Computer,
 * Earth Search, CMR-STAC, …) before Skyport stores and serves them, plus pure geometry/time helpers
 * for the storage layer.
 *
 * Policy, in order (STAC spec 1.0.0/1.1.0 item-spec and collection-spec):
 * 1. Pre-1.0 documents (0.x, 1.0.0-beta.*, 1.0.0-rc.*) are upgraded with @radiantearth/stac-migrate,
 *    which writes the latest version it knows (1.1.0); note "upgraded from X". The input is never mutated.
 * 2. Date-times without a time zone: RFC 3339 (STAC §datetime) requires an offset, but such values occur
 *    in real catalogs. Skyport reads them as UTC and rewrites them with `Z`; values with a non-UTC offset
 *    are converted to the same instant in UTC (STAC requires UTC). Each rewrite adds a note naming the field.
 *    Fields: properties.{datetime,start_datetime,end_datetime,created,updated}; for Collections also
 *    extent.temporal.interval.
 * 3. Links Skyport writes itself when serving (rel self, root, parent, collection, items) are dropped;
 *    every other link is kept in order.
 * 4. `collection`: kept; set from opts.collection when absent; a conflicting value is an error.
 * 5. The result is validated with the official core schema (extension schemas are not applied). Because
 *    Skyport serves every Item with a rel=collection link, the check runs on the Item as served.
 * Everything else (properties incl. nulls, assets, geometry, bbox, extension fields, key order) is kept.
 */
import { createRequire } from 'node:module';
import { primaryError, validateStac } from './stac-schema/index.js';

/** A STAC Item (GeoJSON Feature, item-spec §Item fields); extension fields are kept as-is. */
export interface StacItem {
  type: 'Feature';
  stac_version: string;
  stac_extensions?: string[];
  id: string;
  geometry: GeoJsonGeometry | null;
  bbox?: number[];
  properties: { datetime: string | null; start_datetime?: string; end_datetime?: string; [field: string]: unknown };
  links: StacLink[];
  assets: Record<string, StacAsset>;
  collection?: string;
  [field: string]: unknown;
}

/** A STAC Collection (collection-spec §Collection fields). */
export interface StacCollection {
  type: 'Collection';
  stac_version: string;
  stac_extensions?: string[];
  id: string;
  description: string;
  license: string;
  extent: { spatial: { bbox: number[][] }; temporal: { interval: (string | null)[][] } };
  links: StacLink[];
  [field: string]: unknown;
}

/** Link object (item-spec §Link Object). */
export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
  [field: string]: unknown;
}

/** Asset object (item-spec §Asset Object). */
export interface StacAsset {
  href: string;
  type?: string;
  title?: string;
  roles?: string[];
  [field: string]: unknown;
}

/** Any RFC 7946 geometry; positions are [lon, lat(, alt)] in degrees. */
export type GeoJsonGeometry =
  | { type: 'Point'; coordinates: number[] }
  | { type: 'MultiPoint' | 'LineString'; coordinates: number[][] }
  | { type: 'MultiLineString' | 'Polygon'; coordinates: number[][][] }
  | { type: 'MultiPolygon'; coordinates: number[][][][] }
  | { type: 'GeometryCollection'; geometries: GeoJsonGeometry[] };

/**
 * A rejected document. `field` is a dotted JSON path (`properties.datetime`, `links[1].href`, `$` = the
 * whole document) into the normalized document, i.e. after structural links were dropped; `reason`
 * says what is wrong and shows the offending value.
 */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Link relations Skyport generates when serving an Item or Collection (STAC API core / ogcapi-features). */
export const STRUCTURAL_RELS: ReadonlySet<string> = new Set(['self', 'root', 'parent', 'collection', 'items']);

interface Migrator {
  item(item: object, collection?: object | null, updateVersionNumber?: boolean): object;
  collection(collection: object, updateVersionNumber?: boolean): object;
}
// CommonJS without type declarations; it migrates in place, so callers hand it a clone.
const migrate = createRequire(import.meta.url)('@radiantearth/stac-migrate') as Migrator;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Compares dotted versions with pre-release tags (semver §11): 1.0.0-beta.2 < 1.0.0-rc.4 < 1.0.0. */
function isPre100(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)(-.+)?$/.exec(version);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj === 0 || (maj === 1 && min === 0 && Number(m[3]) === 0 && m[4] !== undefined);
}

// Short extension ids used by real pre-1.0 catalogs (Earth Search v0) that stac-migrate does not know.
const LEGACY_EXTENSION_ALIASES: Record<string, string> = { proj: 'projection' };

function upgrade(doc: Json, kind: 'item' | 'collection', notes: string[]): Json {
  const from = doc.stac_version;
  if (typeof from !== 'string') throw new IngestError('stac_version', 'missing or not a string');
  if (!isPre100(from)) return doc;
  if (Array.isArray(doc.stac_extensions)) {
    doc.stac_extensions = doc.stac_extensions.map((e: unknown) => {
      const alias = typeof e === 'string' ? LEGACY_EXTENSION_ALIASES[e] : undefined;
      if (alias) notes.push(`stac_extensions: short id "${String(e)}" read as "${alias}"`);
      return alias ?? e;
    });
  }
  const out = (kind === 'item' ? migrate.item(doc, null, true) : migrate.collection(doc, true)) as Json;
  notes.push(`upgraded from ${from} to ${String(out.stac_version)}`);
  return out;
}

const RFC3339ISH = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * The UTC form of a date-time (ingest policy 2): no zone → read as UTC and `Z` appended; a non-zero
 * offset → the same instant in UTC, fraction digits kept. Returns null when `value` needs no rewrite
 * or is not a date-time at all (left for the schema to reject).
 */
export function utcDateTime(value: string): string | null {
  const m = RFC3339ISH.exec(value);
  if (!m) return null;
  const [, date, hh, mm, ss, frac = '', zone] = m;
  if (zone === 'Z' || zone === '+00:00') return null;
  if (zone === undefined || zone === 'z' || zone === '-00:00') return `${date}T${hh}:${mm}:${ss}${frac}Z`;
  const sign = zone.startsWith('-') ? 1 : -1;
  const offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const ms = Date.parse(`${date}T${hh}:${mm}:${ss}Z`) + offsetMin * 60_000;
  if (Number.isNaN(ms)) return null;
  return `${new Date(ms).toISOString().slice(0, 19)}${frac}Z`;
}

/** Rewrites `container[key]` by policy 2 when needed; `label` names the field in the note. */
function fixDateTime(container: Json | unknown[], key: string | number, label: string, notes: string[]): void {
  const v = (container as Record<string | number, unknown>)[key];
  if (typeof v !== 'string') return;
  const fixed = utcDateTime(v);
  if (fixed === null) return;
  (container as Record<string | number, unknown>)[key] = fixed;
  notes.push(`${label}: ${JSON.stringify(v)} has no UTC zone; stored as ${fixed}`);
}

function dropStructuralLinks(doc: Json, notes: string[]): void {
  if (!Array.isArray(doc.links)) return;
  const kept = doc.links.filter((l: unknown) => !(isObject(l) && typeof l.rel === 'string' && STRUCTURAL_RELS.has(l.rel)));
  const removed = doc.links.length - kept.length;
  if (removed)
    notes.push(
      `removed ${removed} structural link(s) (${[...STRUCTURAL_RELS].join(', ')}): Skyport serves its own (expected, not a fault)`,
    );
  doc.links = kept;
}

/** The value at a dotted path as produced by the validator (`a.b[2].c`), for error messages. */
function valueAt(doc: unknown, path: string): unknown {
  if (path === '$') return doc;
  let cur: unknown = doc;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Json)[part];
  }
  return cur;
}

function assertValid(kind: 'item' | 'collection', served: Json): void {
  const result = validateStac(kind, served);
  if (result.valid) return;
  const e = primaryError(result.errors)!;
  const value = valueAt(served, e.path);
  const shown = value === undefined ? '' : `, got ${JSON.stringify(value)?.slice(0, 80)}`;
  throw new IngestError(e.path, `${e.message}${shown} (STAC ${String(served.stac_version)} ${kind} schema)`);
}

const ITEM_TIMES = ['datetime', 'start_datetime', 'end_datetime', 'created', 'updated'] as const;

/**
 * Normalizes one harvested Item by the policy above.
 * @param raw parsed JSON of the Item (not mutated)
 * @param opts.collection the Collection it is ingested into
 * @param opts.owned the caller gives up `raw` (e.g. it parsed it just now): it is normalized in place instead of copied
 * @returns the Item to store and human-readable notes on every change made
 * @throws IngestError naming the field: not an object, not a Feature, conflicting collection, or any
 *   violation of the official Item schema (missing id, bad geometry, bad datetime, …)
 */
export function normalizeItem(raw: unknown, opts: { collection?: string; owned?: boolean } = {}): { item: StacItem; notes: string[] } {
  if (!isObject(raw)) throw new IngestError('$', 'an Item must be a JSON object');
  checkMemberNames(raw, '');
  checkIds(raw);
  if (raw.type !== 'Feature') throw new IngestError('type', `must be "Feature", got ${JSON.stringify(raw.type)}`);
  const notes: string[] = [];
  // A loader that parsed the JSON itself hands it over (`owned`): no copy needed.
  const doc = upgrade(opts.owned ? raw : structuredClone(raw), 'item', notes);
  const props = doc.properties;
  if (isObject(props)) for (const k of ITEM_TIMES) fixDateTime(props, k, `properties.${k}`, notes);
  dropStructuralLinks(doc, notes);
  repairUrls(doc, notes);
  if (opts.collection !== undefined) {
    if (doc.collection === undefined) {
      doc.collection = opts.collection;
      notes.push(`collection set to ${JSON.stringify(opts.collection)}`);
    } else if (doc.collection !== opts.collection) {
      throw new IngestError(
        'collection',
        `is ${JSON.stringify(doc.collection)}, but the Item is ingested into ${JSON.stringify(opts.collection)}`,
      );
    }
  }
  assertValid('item', servedItem(doc));
  checkCoordinates(doc.geometry);
  checkCommonFields(doc.properties);
  return { item: doc as StacItem, notes };
}

/**
 * Two publisher slips seen in public catalogs, repaired (and noted) rather than rejecting a whole
 * collection and every item in it: whitespace around a link href or provider URL, and a scheme
 * written without its colon (`https//host`). Anything else malformed is still rejected by the schema.
 */
function repairUrls(doc: Json, notes: string[]): void {
  const fix = (owner: unknown, key: string, where: string) => {
    if (!isObject(owner) || typeof owner[key] !== 'string') return;
    const before = owner[key] as string;
    const after = before.trim().replace(/^(https?)\/\/(?!\/)/i, '$1://');
    if (after !== before) {
      owner[key] = after;
      notes.push(`${where}: ${JSON.stringify(before)} repaired to ${JSON.stringify(after)}`);
    }
  };
  if (Array.isArray(doc.links)) doc.links.forEach((l, i) => fix(l, 'href', `links[${i}].href`));
  if (Array.isArray(doc.providers)) doc.providers.forEach((p, i) => fix(p, 'url', `providers[${i}].url`));
}

/**
 * RFC 7946 positions: latitudes within ±90 (a 95 is a typo, not a place), with 1° of tolerance because
 * raster footprints reach half a pixel past the pole (-90.00014 in the real sample), as longitudes a little
 * past ±180 are left as published (180.14 for a tile on the antimeridian).
 */
const MAX_ABS_LATITUDE = 91;

/** Longest id accepted, characters: ids are index keys (PostgreSQL's btree rows hold at most ~2.7 kB). */
export const MAX_ID_LENGTH = 512;

function checkIds(doc: Json): void {
  for (const k of ['id', 'collection']) {
    const v = doc[k];
    if (typeof v === 'string' && (v.length > MAX_ID_LENGTH || v.includes('\u0000'))) {
      throw new IngestError(k, `must be at most ${MAX_ID_LENGTH} characters without NUL`);
    }
  }
}

/**
 * A member named `__proto__` is refused anywhere in a document: JSON.parse keeps it as data, but any code
 * that later copies or walks the object by path could turn it into a prototype (pollution).
 */
/** A UTF-16 surrogate without its other half: valid in JSON text (`"\\ud800"`), not valid Unicode. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkMemberNames(v: unknown, path: string, depth = 0): void {
  if (depth > 200) throw new IngestError(path || '$', 'nested too deeply');
  // Ill-formed strings are refused anywhere: PostgreSQL cannot store them, and an id or asset name holding one
  // cannot be put in a URL (encodeURIComponent throws), so an item with one would break every search meeting it.
  if (typeof v === 'string') {
    if (LONE_SURROGATE.test(v)) throw new IngestError(path || '$', 'holds a lone UTF-16 surrogate (not valid Unicode)');
    return;
  }
  // Paths are built only on the way to a string or a container (numbers, the bulk of a footprint, need none).
  const needsVisit = (x: unknown) => typeof x === 'string' || (x !== null && typeof x === 'object');
  if (Array.isArray(v)) {
    for (let n = 0; n < v.length; n++) if (needsVisit(v[n])) checkMemberNames(v[n], `${path}[${n}]`, depth + 1);
    return;
  }
  if (!v || typeof v !== 'object') return;
  for (const k of Object.keys(v)) {
    if (k === '__proto__') throw new IngestError(path ? `${path}.${k}` : k, 'a member named __proto__ is not accepted');
    if (LONE_SURROGATE.test(k)) {
      throw new IngestError(path ? `${path}.${k}` : k, 'the member name holds a lone UTF-16 surrogate (not valid Unicode)');
    }
    const x = (v as Record<string, unknown>)[k];
    if (needsVisit(x)) checkMemberNames(x, path ? `${path}.${k}` : k, depth + 1);
  }
}

function checkCoordinates(g: unknown): void {
  const visit = (c: unknown, path: string): void => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === 'number') {
      const lat = c[1];
      if (typeof lat === 'number' && !(Math.abs(lat) <= MAX_ABS_LATITUDE)) {
        throw new IngestError(`geometry.${path}`, `latitude ${lat} lies outside -90..90`);
      }
      return;
    }
    c.forEach((x, n) => visit(x, `${path}[${n}]`));
  };
  if (isObject(g)) {
    if (Array.isArray(g.geometries)) g.geometries.forEach((x) => checkCoordinates(x));
    visit(g.coordinates, 'coordinates');
  }
}

/**
 * The extension fields Skyport filters and sorts on are checked for their type (extension schemas are
 * not applied as a whole: they would have to be fetched): `eo:cloud_cover` 0–100, `gsd` > 0, `view:*` angles numbers.
 */
function checkCommonFields(props: unknown): void {
  if (!isObject(props)) return;
  const num = (k: string, min: number, max: number) => {
    const v = props[k];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new IngestError(`properties.${k}`, `must be a number from ${min} to ${max}, got ${JSON.stringify(v).slice(0, 40)}`);
    }
  };
  num('eo:cloud_cover', 0, 100);
  num('gsd', Number.MIN_VALUE, Number.MAX_VALUE);
  num('view:off_nadir', 0, 90);
  num('view:sun_elevation', -90, 90);
}

/** The Item as Skyport serves it, as far as the schema's collection rule cares: with its rel=collection link. */
function servedItem(doc: Json): Json {
  if (typeof doc.collection !== 'string' || !Array.isArray(doc.links)) return doc;
  const link = { rel: 'collection', href: `../../collections/${encodeURIComponent(doc.collection)}`, type: 'application/json' };
  return { ...doc, links: [...doc.links, link] };
}

/**
 * Normalizes one harvested Collection by the same policy (upgrade, UTC temporal interval, structural links
 * dropped, official Collection schema).
 * @throws IngestError naming the field
 */
export function normalizeCollection(raw: unknown): { collection: StacCollection; notes: string[] } {
  if (!isObject(raw)) throw new IngestError('$', 'a Collection must be a JSON object');
  checkMemberNames(raw, '');
  checkIds(raw);
  const notes: string[] = [];
  const doc = upgrade(structuredClone(raw), 'collection', notes);
  if (doc.type !== 'Collection') throw new IngestError('type', `must be "Collection", got ${JSON.stringify(doc.type)}`);
  for (const k of ['created', 'updated']) fixDateTime(doc, k, k, notes);
  const interval = (doc.extent as { temporal?: { interval?: unknown } } | undefined)?.temporal?.interval;
  if (Array.isArray(interval)) {
    interval.forEach((pair: unknown, i) => {
      if (Array.isArray(pair)) pair.forEach((_, j) => fixDateTime(pair, j, `extent.temporal.interval[${i}][${j}]`, notes));
    });
  }
  dropStructuralLinks(doc, notes);
  repairUrls(doc, notes);
  assertValid('collection', doc);
  return { collection: doc as StacCollection, notes };
}

/**
 * 2D bounding box [minLon, minLat, maxLon, maxLat] in degrees of every position in `geometry`
 * (any RFC 7946 type, GeometryCollection members included). Empty members (e.g. a MultiPolygon's `[]`)
 * are ignored; null geometry or no position at all → null. No antimeridian handling: coordinates are
 * taken as given (values slightly beyond ±180 stay as they are).
 */
export function geometryBbox(geometry: GeoJsonGeometry | null | undefined): [number, number, number, number] | null {
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c: unknown): void => {
    if (!Array.isArray(c) || c.length === 0) return;
    if (typeof c[0] === 'number') {
      const [x, y] = c as number[];
      if (typeof x !== 'number' || typeof y !== 'number') return;
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x);
      box[3] = Math.max(box[3], y);
      return;
    }
    for (const child of c) visit(child);
  };
  const walk = (g: GeoJsonGeometry | null | undefined): void => {
    if (!g) return;
    if (g.type === 'GeometryCollection') g.geometries.forEach(walk);
    else visit(g.coordinates);
  };
  walk(geometry);
  return box[0] === Infinity ? null : box;
}

/**
 * The Item's time in epoch ms: `datetime` (null when the Item gives only a range) and the range
 * [start, end] used for temporal search — start_datetime/end_datetime when given, else datetime for both
 * (item-spec §datetime, common-metadata §Date and Time Range).
 * @throws IngestError on `properties.datetime` when neither a datetime nor a full range is present,
 *   or a value that does not parse
 */
export function itemTimeRange(item: Pick<StacItem, 'properties'>): { datetime: number | null; start: number; end: number } {
  const p = item.properties;
  const ms = (field: string, v: unknown): number | null => {
    if (v === null || v === undefined) return null;
    const t = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(t)) throw new IngestError(`properties.${field}`, `not a date-time: ${JSON.stringify(v)}`);
    return t;
  };
  const datetime = ms('datetime', p.datetime);
  const start = ms('start_datetime', p.start_datetime) ?? datetime;
  const end = ms('end_datetime', p.end_datetime) ?? datetime;
  if (start === null || end === null) {
    throw new IngestError('properties.datetime', 'neither datetime nor start_datetime and end_datetime is given');
  }
  return { datetime, start, end };
}
