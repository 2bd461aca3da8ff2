/**
 * Exact planar geometry predicates (OGC Simple Features / DE-9IM, as PostGIS computes them) through
 * JSTS, the JavaScript port of JTS: used by the embedded store's SQL functions and to check GeoJSON
 * geometries that clients send. Coordinates are degrees, treated as planar (as PostGIS `geometry`).
 */
import 'jsts/org/locationtech/jts/monkey.js';
import GeoJSONReader from 'jsts/org/locationtech/jts/io/GeoJSONReader.js';
import IsValidOp from 'jsts/org/locationtech/jts/operation/valid/IsValidOp.js';
import type { Geometry } from '../storage/types.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSTS's monkey-patched methods are untyped */
type JstsGeometry = any;

const reader = new GeoJSONReader(undefined as any);

/** A spatial relation of OGC 21-065 §7.10 / DE-9IM. */
export type Relation = 'intersects' | 'within' | 'contains' | 'disjoint' | 'equals' | 'touches' | 'overlaps' | 'crosses';

/** Raised for GeoJSON that is not a well-formed geometry (RFC 7946 §3.1) or not a valid one (OGC SFA). */
export class GeometryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GeometryError';
  }
}

const TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection'];

/**
 * Drops empty members (e.g. a MultiPolygon whose first polygon has no rings, seen in public catalogs),
 * which JSTS cannot read; returns null when nothing is left. The stored item keeps its original geometry.
 */
export function withoutEmptyParts(g: Geometry | null | undefined): Geometry | null {
  if (!g || typeof g !== 'object') return null;
  if (g.type === 'GeometryCollection') {
    const geometries = (g.geometries ?? []).map(withoutEmptyParts).filter((x): x is Geometry => x !== null);
    return geometries.length ? { type: g.type, geometries } : null;
  }
  const c = g.coordinates;
  if (!Array.isArray(c) || c.length === 0) return null;
  if (g.type.startsWith('Multi')) {
    const parts = (c as unknown[]).filter((p) => Array.isArray(p) && p.length > 0);
    return parts.length ? { type: g.type, coordinates: parts } : null;
  }
  return g;
}

/** Reads GeoJSON (object or text) into a JSTS geometry; throws GeometryError for malformed input. */
export function readGeometry(g: Geometry | string): JstsGeometry {
  const obj = typeof g === 'string' ? (JSON.parse(g) as Geometry) : g;
  if (!obj || typeof obj !== 'object' || !TYPES.includes(obj.type)) throw new GeometryError('not a GeoJSON geometry');
  try {
    return reader.read(obj);
  } catch {
    throw new GeometryError(`malformed ${obj.type} coordinates`);
  }
}

/** Largest geometry a client may send (intersects, CQL2 literals): positions and parts (polygons, rings, members). */
export const MAX_LITERAL_POSITIONS = 5000;
export const MAX_LITERAL_PARTS = 200;

/**
 * Refuses client geometries too complex to test cheaply: JSTS validity and relate costs grow faster than
 * linearly with positions and parts, and one request must not hold the event loop for seconds.
 * Throws GeometryError naming the limit.
 */
export function checkLiteralComplexity(g: Geometry): void {
  let positions = 0;
  let parts = 0;
  const visit = (c: unknown, depth: number): void => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === 'number') {
      positions++;
      return;
    }
    if (depth > 0) parts++;
    for (const x of c) visit(x, depth + 1);
  };
  const walk = (x: Geometry, depth: number): void => {
    if (depth > 8) throw new GeometryError('geometry collections nested too deeply');
    if (x?.type === 'GeometryCollection') {
      parts += x.geometries?.length ?? 0;
      x.geometries?.forEach((y) => walk(y, depth + 1));
    } else visit(x?.coordinates, 0);
  };
  walk(g, 0);
  if (positions > MAX_LITERAL_POSITIONS)
    throw new GeometryError(`the geometry has ${positions} positions; at most ${MAX_LITERAL_POSITIONS} are accepted`);
  if (parts > MAX_LITERAL_PARTS)
    throw new GeometryError(`the geometry has ${parts} parts (polygons, rings, members); at most ${MAX_LITERAL_PARTS} are accepted`);
}

/** Why a geometry is not valid (self-intersection, unclosed ring, …), or undefined when it is valid. */
export function invalidReason(g: Geometry): string | undefined {
  const op = new IsValidOp(readGeometry(g));
  if (op.isValid()) return undefined;
  const err = (op as any).getValidationError?.();
  return err ? String(err.getMessage()) : 'invalid geometry';
}

/**
 * A predicate `item rel literal` with the literal read once, for evaluating one query geometry against
 * many stored ones. (JSTS 2.12's PreparedGeometry cannot be constructed: its PreparedPolygon calls
 * `super()` without the geometry; plain predicates still take JTS's rectangle fast paths.)
 */
export function preparedRelation(rel: Relation, literal: Geometry): (item: JstsGeometry) => boolean {
  const lit = readGeometry(literal);
  switch (rel) {
    case 'intersects':
      return (g) => g.intersects(lit);
    case 'disjoint':
      return (g) => !g.intersects(lit);
    case 'within':
      return (g) => g.within(lit);
    case 'contains':
      return (g) => g.contains(lit);
    case 'equals':
      return (g) => g.equalsTopo(lit);
    case 'touches':
      return (g) => g.touches(lit);
    case 'overlaps':
      return (g) => g.overlaps(lit);
    case 'crosses':
      return (g) => g.crosses(lit);
  }
}
