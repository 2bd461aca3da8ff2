/**
 * The normalized CQL2 AST, which is CQL2-JSON itself (OGC 21-065 §8, schema `cql2.json`): both the text and
 * the JSON parser return it, so everything downstream (queryables check, SQL translation, evaluation)
 * handles one shape. Normalized means: op names in their canonical spelling (`and`, `isNull`, `t_metBy`, …),
 * negated text forms as `{op:'not'}`, chained AND/OR flattened into one n-ary op, timestamps in UTC
 * (`YYYY-MM-DDTHH:MM:SS[.fff…]Z`, trailing fraction zeros dropped), geometries with only `type` and
 * `coordinates`/`geometries`.
 *
 * The guards below are shallow: they tell which kind of node a value is, trusting that it came from a parser.
 */

/** A boolean-valued expression: a predicate op or a boolean literal (CQL2 `booleanExpression`). */
export type Cql2Expr = Cql2Op | boolean;

/** An operator or function applied to arguments, e.g. `{op:'=', args:[{property:'eo:cloud_cover'}, 10]}`. */
export interface Cql2Op {
  op: string;
  args: Cql2Arg[];
}

/** Anything that can stand as an argument of an op. */
export type Cql2Arg =
  Cql2Op | PropertyRef | ScalarLiteral | TimestampLiteral | DateLiteral | IntervalLiteral | GeometryLiteral | BboxLiteral | Cql2Arg[];

/** A queryable property by name, e.g. `{property:'eo:cloud_cover'}`. */
export interface PropertyRef {
  property: string;
}

/** A character, numeric or boolean literal, or NULL. */
export type ScalarLiteral = string | number | boolean | null;

/** An instant in UTC, RFC 3339 date-time normalized to `YYYY-MM-DDTHH:MM:SS[.fff…]Z`. */
export interface TimestampLiteral {
  timestamp: string;
}

/** A calendar day, RFC 3339 full-date `YYYY-MM-DD`. */
export interface DateLiteral {
  date: string;
}

/** An end of an interval: a date, a timestamp (normalized like {@link TimestampLiteral}), '..' (open) or a property. */
export type IntervalEnd = string | PropertyRef;

/** A closed or half-open interval, e.g. `{interval:['2020-01-01', '..']}`. */
export interface IntervalLiteral {
  interval: [IntervalEnd, IntervalEnd];
}

/** [west, south, east, north] or [west, south, minZ, east, north, maxZ], degrees (and metres for Z). */
export interface BboxLiteral {
  bbox: number[];
}

/** [x, y] or [x, y, z]: longitude, latitude in degrees (CRS84), optional height. */
export type Position = number[];

/** RFC 7946 §3.1.2–3.1.8 geometries; coordinates in {@link Position}s. */
export interface Point {
  type: 'Point';
  coordinates: Position;
}
export interface LineString {
  type: 'LineString';
  coordinates: Position[];
}
export interface Polygon {
  type: 'Polygon';
  coordinates: Position[][];
}
export interface MultiPoint {
  type: 'MultiPoint';
  coordinates: Position[];
}
export interface MultiLineString {
  type: 'MultiLineString';
  coordinates: Position[][];
}
export interface MultiPolygon {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}
export interface GeometryCollection {
  type: 'GeometryCollection';
  geometries: GeometryLiteral[];
}

/** A GeoJSON (RFC 7946) geometry. */
export type GeometryLiteral = Point | LineString | Polygon | MultiPoint | MultiLineString | MultiPolygon | GeometryCollection;

/** The GeoJSON `type` values a geometry literal may have. */
export const GEOMETRY_TYPES: readonly GeometryLiteral['type'][] = [
  'Point',
  'LineString',
  'Polygon',
  'MultiPoint',
  'MultiLineString',
  'MultiPolygon',
  'GeometryCollection',
];

/** The literals of the T_* functions and of the S_* functions. */
export type TemporalLiteral = TimestampLiteral | DateLiteral | IntervalLiteral;
export type SpatialLiteral = GeometryLiteral | BboxLiteral;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOnly(value: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(value, key) && Object.keys(value).length === 1;
}

/** `{op, args}`: an operator or function node. */
export function isCql2Op(value: unknown): value is Cql2Op {
  return isRecord(value) && typeof value['op'] === 'string' && Array.isArray(value['args']);
}

/** `{property}`. */
export function isPropertyRef(value: unknown): value is PropertyRef {
  return isRecord(value) && hasOnly(value, 'property') && typeof value['property'] === 'string';
}

/** string, number, boolean or null. */
export function isScalarLiteral(value: unknown): value is ScalarLiteral {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** `{timestamp}`. */
export function isTimestampLiteral(value: unknown): value is TimestampLiteral {
  return isRecord(value) && hasOnly(value, 'timestamp') && typeof value['timestamp'] === 'string';
}

/** `{date}`. */
export function isDateLiteral(value: unknown): value is DateLiteral {
  return isRecord(value) && hasOnly(value, 'date') && typeof value['date'] === 'string';
}

/** `{interval}`. */
export function isIntervalLiteral(value: unknown): value is IntervalLiteral {
  return isRecord(value) && hasOnly(value, 'interval') && Array.isArray(value['interval']);
}

/** A timestamp or date: the instants CQL2 compares with `=`, `<`, …. */
export function isInstantLiteral(value: unknown): value is TimestampLiteral | DateLiteral {
  return isTimestampLiteral(value) || isDateLiteral(value);
}

/** A timestamp, date or interval: the literals the T_* functions take. */
export function isTemporalLiteral(value: unknown): value is TemporalLiteral {
  return isInstantLiteral(value) || isIntervalLiteral(value);
}

/** `{bbox}`. */
export function isBboxLiteral(value: unknown): value is BboxLiteral {
  return isRecord(value) && hasOnly(value, 'bbox') && Array.isArray(value['bbox']);
}

/** A GeoJSON geometry object (`type` is one of {@link GEOMETRY_TYPES}). */
export function isGeometryLiteral(value: unknown): value is GeometryLiteral {
  return isRecord(value) && typeof value['type'] === 'string' && (GEOMETRY_TYPES as readonly string[]).includes(value['type']);
}

/** A geometry or bbox: the literals the S_* functions take. */
export function isSpatialLiteral(value: unknown): value is SpatialLiteral {
  return isGeometryLiteral(value) || isBboxLiteral(value);
}
