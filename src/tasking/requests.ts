/**
 * Request validation shared by the tasking API's opportunity search and order creation (STAPI v0.1.0
 * OpportunityPayload / OrderPayload, tasking-notes §1.4–1.5): the `datetime` window, the AOI `geometry`,
 * the CQL2-JSON `filter` over the product's queryables, the `order_parameters` against the product's JSON
 * Schema, and the product lookup. Every refusal is a 400 (`badRequest`) whose description starts with the
 * field it is about (`datetime: …`, `geometry: …`), or a 404 for an unknown product; nothing is changed.
 */
import { badRequest, notFound } from '../http/errors.js';
import { GeometryError, invalidReason } from '../catalog/geometry.js';
import { Cql2Error, cql2Properties, isCql2Op, isPropertyRef, parseCql2Json, type Cql2Arg, type Cql2Expr } from '../catalog/cql2/index.js';
import type { Geometry } from '../storage/types.js';
import { prepareTarget } from './orbits/geometry.js';
import type { GeoJsonPoint, GeoJsonPolygon, PassWindow } from './orbits/index.js';
import { orderParametersSchema, productById, queryablesSchema, type TaskingProduct } from './products.js';

const MS_PER_DAY = 86_400_000;
/** How far in the past a window may start and still count as "now" (clock skew, request latency), ms. */
export const WINDOW_START_GRACE_MS = 60_000;
/** Most positions an AOI may have: each outer vertex is a constraint of the pass search (cost grows with it). */
export const MAX_AOI_POSITIONS = 100;
/** Mean Earth radius (IUGG R1), km: the sphere AOI areas are measured on. */
export const EARTH_MEAN_RADIUS_KM = 6371.0088;

/** The product, or 404 NotFound (`product <id> not found`) when there is none with this id. */
export function productOr404(id: string): TaskingProduct {
  const p = productById(id);
  if (!p) throw notFound(`product ${id.slice(0, 100)}`);
  return p;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 §5.6 `date-time` as epoch ms, or undefined when the text is not one. Accepts lower-case
 * `t`/`z`, `±hh:mm` offsets (`-00:00` read as UTC) and a leap second `:60` (folded into the next second);
 * fractions beyond milliseconds are truncated. Checks field ranges (30 February is refused).
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  let offsetMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
}

/**
 * The request window from STAPI `datetime`, an RFC 3339 interval `start/end` (tasking-notes §1.4).
 * Skyport's tasking needs both ends: an open end (`..` or empty, which the spec allows for searches) is
 * refused, since a satellite cannot be tasked "until whenever" and the window sets the price of the search.
 * Refused (400, `datetime: …`): not a string, not two RFC 3339 date-times, an open end, end ≤ start,
 * a start before `now` − 60 s, a window longer than `product.maxWindowDays`.
 * `now`: epoch ms or Date. Returns `{start, end}` as Dates.
 */
export function parseWindow(datetime: unknown, now: number | Date, product: TaskingProduct): PassWindow {
  if (typeof datetime !== 'string')
    throw badRequest('datetime: required, an RFC 3339 interval "start/end" (e.g. "2026-06-01T00:00:00Z/2026-06-08T00:00:00Z")');
  const parts = datetime.split('/');
  if (parts.length !== 2)
    throw badRequest(`datetime: "${datetime.slice(0, 100)}" is not an interval "start/end" of two RFC 3339 date-times`);
  const [a, b] = parts as [string, string];
  if (a === '' || a === '..' || b === '' || b === '..')
    throw badRequest('datetime: open-ended intervals are not accepted for tasking; give both the start and the end of the window');
  const start = parseRfc3339(a);
  const end = parseRfc3339(b);
  if (start === undefined) throw badRequest(`datetime: start "${a.slice(0, 60)}" is not an RFC 3339 date-time (e.g. 2026-06-01T00:00:00Z)`);
  if (end === undefined) throw badRequest(`datetime: end "${b.slice(0, 60)}" is not an RFC 3339 date-time (e.g. 2026-06-08T00:00:00Z)`);
  if (end < start) throw badRequest(`datetime: the window is reversed (end ${iso(end)} is before start ${iso(start)})`);
  if (end === start) throw badRequest('datetime: the window is empty (end equals start)');
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (start < nowMs - WINDOW_START_GRACE_MS)
    throw badRequest(`datetime: the window starts in the past (${iso(start)}; now is ${iso(nowMs)}): tasking windows lie in the future`);
  const days = (end - start) / MS_PER_DAY;
  if (days > product.maxWindowDays)
    throw badRequest(
      `datetime: the window is ${days.toFixed(2)} days long, longer than this product's limit of ${product.maxWindowDays} days`,
    );
  return { start: new Date(start), end: new Date(end) };
}

const iso = (ms: number): string => new Date(ms).toISOString();

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A position [lon, lat] or [lon, lat, h] of finite numbers inside the CRS84 ranges, or a 400 saying where it is wrong. */
function checkPosition(p: unknown, at: string): number[] {
  if (!Array.isArray(p) || p.length < 2 || p.length > 3 || !p.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw badRequest(`geometry: ${at} is not a position [longitude, latitude] of numbers`);
  const [lon, lat] = p as [number, number];
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90)
    throw badRequest(`geometry: ${at} [${lon}, ${lat}] is outside longitude −180…180, latitude −90…90`);
  return p as number[];
}

/**
 * Signed area of one ring on the sphere of radius `radiusKm` with great-circle edges, km²: the sum over
 * edges of the spherical excess between the edge and the equator, tan(E/2) = tan(Δλ/2)·(t1 + t2)/(1 + t1·t2)
 * with tᵢ = tan(φᵢ/2) (exact for great-circle edges; Δλ taken the short way, so rings across the antimeridian
 * work). Counter-clockwise rings are negative. Rings around a pole are not handled (the AOI check refuses them).
 */
function ringAreaKm2(ring: number[][], radiusKm: number): number {
  const DEG = Math.PI / 180;
  let excess = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [l1, p1] = ring[i]! as [number, number];
    const [l2, p2] = ring[i + 1]! as [number, number];
    let dl = (l2 - l1) % 360;
    if (dl > 180) dl -= 360;
    if (dl < -180) dl += 360;
    const t1 = Math.tan((p1 * DEG) / 2);
    const t2 = Math.tan((p2 * DEG) / 2);
    excess += 2 * Math.atan2(Math.tan((dl * DEG) / 2) * (t1 + t2), 1 + t1 * t2);
  }
  return excess * radiusKm * radiusKm;
}

/**
 * Area of a GeoJSON Point (0) or Polygon on the sphere of mean Earth radius, km²: the outer ring minus
 * the holes, edges as great circles. Rings must be closed (first position = last).
 */
export function sphericalAreaKm2(g: GeoJsonPoint | GeoJsonPolygon, radiusKm = EARTH_MEAN_RADIUS_KM): number {
  if (g.type === 'Point') return 0;
  const [outer, ...holes] = g.coordinates.map((r) => Math.abs(ringAreaKm2(r, radiusKm)));
  return Math.max(0, (outer ?? 0) - holes.reduce((s, h) => s + h, 0));
}

/**
 * The area of interest of a tasking request: a GeoJSON Point or Polygon (RFC 7946), returned with only
 * `type` and `coordinates`. Refused (400, `geometry: …`): missing, another type, malformed positions or
 * rings, more than MAX_AOI_POSITIONS positions, an invalid polygon (self-intersection, unclosed ring:
 * catalog/geometry.ts `invalidReason`), a polygon around a pole, an area on the sphere above
 * `product.maxAoiKm2` (the message gives both, km²).
 */
export function parseAoi(geometry: unknown, product: TaskingProduct): GeoJsonPoint | GeoJsonPolygon {
  if (geometry === undefined || geometry === null) throw badRequest('geometry: required, a GeoJSON Point or Polygon (longitude, latitude)');
  if (!isRecord(geometry) || typeof geometry.type !== 'string') throw badRequest('geometry: not a GeoJSON geometry object');
  let aoi: GeoJsonPoint | GeoJsonPolygon;
  if (geometry.type === 'Point') {
    aoi = { type: 'Point', coordinates: checkPosition(geometry.coordinates, 'coordinates') };
  } else if (geometry.type === 'Polygon') {
    const rings = geometry.coordinates;
    if (!Array.isArray(rings) || rings.length === 0) throw badRequest('geometry: a Polygon needs coordinates: an array of linear rings');
    let count = 0;
    const coordinates = rings.map((ring: unknown, r) => {
      if (!Array.isArray(ring) || ring.length < 4)
        throw badRequest(`geometry: ring ${r} needs at least 4 positions (closed: the last equals the first)`);
      count += ring.length;
      if (count > MAX_AOI_POSITIONS) throw badRequest(`geometry: more than ${MAX_AOI_POSITIONS} positions; simplify the area of interest`);
      return ring.map((p: unknown, i) => checkPosition(p, `ring ${r} position ${i}`));
    });
    aoi = { type: 'Polygon', coordinates };
  } else {
    throw badRequest(`geometry: ${geometry.type.slice(0, 40)} is not accepted for tasking; send a Point or a Polygon`);
  }
  let reason: string | undefined;
  try {
    reason = invalidReason(aoi as Geometry);
  } catch (e) {
    if (!(e instanceof GeometryError)) throw e;
    reason = e.message;
  }
  if (reason) throw badRequest(`geometry: invalid ${aoi.type}: ${reason}`);
  try {
    prepareTarget(aoi);
  } catch (e) {
    if (e instanceof RangeError) throw badRequest(`geometry: ${e.message}`);
    throw e;
  }
  const area = sphericalAreaKm2(aoi);
  if (area > product.maxAoiKm2)
    throw badRequest(
      `geometry: the area of interest covers ${area.toFixed(1)} km², above this product's limit of ${product.maxAoiKm2} km²`,
    );
  return aoi;
}

/** A parsed tasking `filter` (CQL2-JSON over the product's queryables). */
export interface TaskingFilter {
  /** The filter, normalized by the CQL2 front end (catalog/cql2). */
  cql2: Cql2Expr;
  /** Tightest `view:off_nadir` upper bound among the top-level conjuncts, deg: narrows the search cone. */
  maxOffNadirDeg?: number;
  /** Tightest `view:sun_elevation` lower bound among the top-level conjuncts, deg. */
  minSunElevationDeg?: number;
  /** Whether an opportunity with these properties (`view:off_nadir`, `view:sun_elevation`, `platform`) satisfies the whole filter. */
  matches(props: Record<string, unknown>): boolean;
}

const FILTER_OPS = new Set(['and', 'or', 'not', '=', '<>', '<', '<=', '>', '>=', 'between', 'in', 'like', 'isNull']);

/** Checks ops and literal types against the queryables' JSON types; throws 400 `filter: …`. */
function checkFilterNode(node: Cql2Arg, types: Record<string, string>): void {
  if (!isCql2Op(node)) return;
  if (!FILTER_OPS.has(node.op))
    throw badRequest(`filter: operator '${node.op}' is not supported in tasking filters (use ${[...FILTER_OPS].join(', ')})`);
  const prop = node.args.find(isPropertyRef);
  if (prop && !['and', 'or', 'not', 'isNull'].includes(node.op)) {
    const want = types[prop.property];
    const literals = node.args.flatMap((a) => (Array.isArray(a) ? a : [a])).filter((a) => !isPropertyRef(a) && !isCql2Op(a));
    const bad = literals.find((a) => typeof a !== want);
    if (bad !== undefined)
      throw badRequest(`filter: ${prop.property} is a ${want}; it cannot be compared with ${JSON.stringify(bad).slice(0, 60)}`);
  }
  for (const a of node.args) checkFilterNode(a, types);
}

/**
 * CQL2 `like` (`%` any run, `_` one character, `\` escapes the next) in linear time: a greedy two-pointer
 * match with one backtrack point, so no pattern can make matching exponential (a regex built from
 * `%%%%…!` could take hours).
 */
export function likeMatches(text: string, pattern: string): boolean {
  const p: { ch: string; kind: 'lit' | 'one' | 'any' }[] = [];
  for (let k = 0; k < pattern.length; k++) {
    const ch = pattern[k]!;
    if (ch === '\\' && k + 1 < pattern.length) p.push({ ch: pattern[++k]!, kind: 'lit' });
    else p.push({ ch, kind: ch === '%' ? 'any' : ch === '_' ? 'one' : 'lit' });
  }
  const t = [...text];
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (i < t.length) {
    const q = p[j];
    if (q && (q.kind === 'one' || (q.kind === 'lit' && q.ch === t[i]))) {
      i++;
      j++;
    } else if (q && q.kind === 'any') {
      star = j++;
      mark = i;
    } else if (star >= 0) {
      j = star + 1;
      i = ++mark;
    } else return false;
  }
  while (p[j]?.kind === 'any') j++;
  return j === p.length;
}

/** Evaluates a checked filter node on opportunity properties (missing property: comparisons are false). */
function evaluate(node: Cql2Arg, props: Record<string, unknown>): unknown {
  if (isPropertyRef(node)) return props[node.property] ?? null;
  if (!isCql2Op(node)) return node;
  const v = (i: number): unknown => evaluate(node.args[i]!, props);
  switch (node.op) {
    case 'and':
      return node.args.every((a) => evaluate(a, props) === true);
    case 'or':
      return node.args.some((a) => evaluate(a, props) === true);
    case 'not':
      return v(0) !== true;
    case 'isNull':
      return v(0) === null;
    case 'in': {
      const x = v(0);
      const list = node.args[1];
      return x !== null && Array.isArray(list) && list.some((item) => evaluate(item, props) === x);
    }
    case 'like': {
      const x = v(0);
      const p = v(1);
      return typeof x === 'string' && typeof p === 'string' && likeMatches(x, p);
    }
    case 'between': {
      const [x, lo, hi] = [v(0), v(1), v(2)] as number[];
      return typeof x === 'number' && x >= lo! && x <= hi!;
    }
  }
  const a = v(0) as number | string | null;
  const b = v(1) as number | string | null;
  if (a === null || b === null) return false;
  switch (node.op) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
  return false;
}

/** Bounds implied by one top-level conjunct: `prop op n` (either order) or `between`. */
function conjunctBounds(c: Cql2Arg, property: string): { upper?: number; lower?: number } {
  if (!isCql2Op(c)) return {};
  const [x, y, z] = c.args;
  if (c.op === 'between' && isPropertyRef(x) && x.property === property && typeof y === 'number' && typeof z === 'number')
    return { lower: y, upper: z };
  const flip: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
  let op = c.op;
  let n: unknown;
  if (isPropertyRef(x) && x.property === property) n = y;
  else if (isPropertyRef(y) && y.property === property && flip[op]) {
    n = x;
    op = flip[op]!;
  } else return {};
  if (typeof n !== 'number') return {};
  if (op === '<' || op === '<=') return { upper: n };
  if (op === '>' || op === '>=') return { lower: n };
  if (op === '=') return { lower: n, upper: n };
  return {};
}

/**
 * A STAPI `filter` (CQL2-JSON, OGC 21-065 §8) over the product's queryables (products.ts
 * `queryablesSchema`: `view:off_nadir`, `view:sun_elevation`, `platform`), or null when absent.
 * Supported: and, or, not, comparisons, between, in, like, isNull. Top-level `and`ed bounds on
 * `view:off_nadir` (upper) and `view:sun_elevation` (lower) are also returned to narrow the pass search.
 * Refused (400, `filter: …`): not CQL2-JSON, other operators, unknown properties, literal types that do
 * not match the property's.
 */
/** Most values (operators, arguments, list items) a tasking filter may hold. */
export const MAX_FILTER_VALUES = 200;

export function parseTaskingFilter(filter: unknown, product: TaskingProduct): TaskingFilter | null {
  if (filter === undefined || filter === null) return null;
  let cql2: Cql2Expr;
  try {
    // Tasking filters are small by nature; big ones would be echoed in every opportunity's create-order link.
    cql2 = parseCql2Json(filter, { maxDepth: 32, maxNodes: MAX_FILTER_VALUES });
  } catch (e) {
    if (!(e instanceof Cql2Error)) throw e;
    throw badRequest(`filter: ${e.message}${e.path ? ` (at ${e.path})` : ''}`);
  }
  const queryables = (queryablesSchema(product).properties ?? {}) as Record<string, { type: string }>;
  const unknown = cql2Properties(cql2).filter((p) => !Object.hasOwn(queryables, p));
  if (unknown.length)
    throw badRequest(
      `filter: unknown property '${unknown[0]!.slice(0, 60)}'; this product's queryables are ${Object.keys(queryables).join(', ')}`,
    );
  const types = Object.fromEntries(Object.entries(queryables).map(([k, v]) => [k, v.type === 'number' ? 'number' : 'string']));
  checkFilterNode(cql2, types);
  const conjuncts = isCql2Op(cql2) && cql2.op === 'and' ? cql2.args : [cql2];
  const out: TaskingFilter = { cql2, matches: (props) => evaluate(cql2, props) === true };
  for (const c of conjuncts) {
    const off = conjunctBounds(c, 'view:off_nadir').upper;
    if (off !== undefined) out.maxOffNadirDeg = Math.min(out.maxOffNadirDeg ?? Infinity, off);
    const sun = conjunctBounds(c, 'view:sun_elevation').lower;
    if (sun !== undefined) out.minSunElevationDeg = Math.max(out.minSunElevationDeg ?? -Infinity, sun);
  }
  return out;
}

interface PropertySchema {
  type?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
}

/**
 * STAPI `order_parameters` checked against the product's JSON Schema (products.ts `orderParametersSchema`:
 * an object of typed properties with minimum/maximum/enum, no others). Absent or null → `{}`.
 * Returns the parameters as given (defaults are not filled in). Refused (400, `order_parameters…: …`):
 * not an object, an unknown parameter, a wrong type, a number out of range, a value outside the enum.
 */
export function parseOrderParameters(value: unknown, product: TaskingProduct): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw badRequest('order_parameters: must be a JSON object');
  const props = (orderParametersSchema(product).properties ?? {}) as Record<string, PropertySchema>;
  for (const [k, v] of Object.entries(value)) {
    const s = Object.hasOwn(props, k) ? props[k] : undefined;
    const at = `order_parameters.${k.slice(0, 60)}`;
    if (!s)
      throw badRequest(`order_parameters: unknown parameter '${k.slice(0, 60)}'; this product takes ${Object.keys(props).join(', ')}`);
    if (s.type === 'number' && (typeof v !== 'number' || !Number.isFinite(v))) throw badRequest(`${at}: must be a number`);
    if (s.type === 'string' && typeof v !== 'string') throw badRequest(`${at}: must be a string`);
    if (s.minimum !== undefined && (v as number) < s.minimum) throw badRequest(`${at}: ${String(v)} is below the minimum ${s.minimum}`);
    if (s.maximum !== undefined && (v as number) > s.maximum) throw badRequest(`${at}: ${String(v)} is above the maximum ${s.maximum}`);
    if (s.enum && !s.enum.includes(v)) throw badRequest(`${at}: must be one of ${s.enum.join(', ')}`);
  }
  return { ...value };
}

/** Imaging constraints of a search: the product's, narrowed by order parameters and filter bounds. */
export interface SearchConstraints {
  /** deg; ≤ 0 means nothing can match. */
  maxOffNadirDeg: number;
  /** deg; undefined when neither the product nor the request sets one. */
  minSunElevationDeg?: number;
}

/**
 * Effective constraints: max off-nadir = min(product, `max_off_nadir`, filter upper bound); min sun
 * elevation = max(product, `min_sun_elevation`, filter lower bound), undefined when none applies.
 */
export function searchConstraints(
  product: TaskingProduct,
  params: Record<string, unknown>,
  filter: TaskingFilter | null,
): SearchConstraints {
  const off = Math.min(
    product.maxOffNadirDeg,
    (params.max_off_nadir as number | undefined) ?? Infinity,
    filter?.maxOffNadirDeg ?? Infinity,
  );
  const suns = [product.minSunElevationDeg, params.min_sun_elevation as number | undefined, filter?.minSunElevationDeg].filter(
    (x): x is number => typeof x === 'number',
  );
  return suns.length ? { maxOffNadirDeg: off, minSunElevationDeg: Math.max(...suns) } : { maxOffNadirDeg: off };
}
