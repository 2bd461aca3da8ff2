/**
 * Earth geometry for pass finding: WGS-84 sites, targets (point or polygon AOI), off-nadir angle and
 * scene footprints. Units: km for positions, radians internally, degrees at the API edge.
 * Frames: ECF = Earth-fixed (satellite.js "ECF": TEME rotated by GMST, no polar motion).
 */
import { eciToGeodetic } from 'satellite.js';

/** WGS-84 semi-major axis, km. */
export const WGS84_A_KM = 6378.137;
/** WGS-84 flattening. */
export const WGS84_F = 1 / 298.257223563;
const WGS84_B_KM = WGS84_A_KM * (1 - WGS84_F);
const E2 = WGS84_F * (2 - WGS84_F);
const DEG = Math.PI / 180;

/** A GeoJSON Point (RFC 7946 §3.1.2): [lon, lat] degrees, optional height in metres above the ellipsoid. */
export interface GeoJsonPoint {
  type: 'Point';
  coordinates: number[];
}
/** A GeoJSON Polygon (RFC 7946 §3.1.6): outer ring first, rings closed, [lon, lat] degrees. */
export interface GeoJsonPolygon {
  type: 'Polygon';
  coordinates: number[][][];
}
/** A GeoJSON MultiPolygon (RFC 7946 §3.1.7), used for footprints cut at the antimeridian (§3.1.9). */
export interface GeoJsonMultiPolygon {
  type: 'MultiPolygon';
  coordinates: number[][][][];
}

/** What can be imaged: a lon/lat point (degrees, optional height in metres), a GeoJSON Point or a GeoJSON Polygon. */
export type PassTarget = { lon: number; lat: number; heightM?: number } | GeoJsonPoint | GeoJsonPolygon;

/** A point on or above the WGS-84 ellipsoid with its ECF position (km) and geodetic up unit vector. */
export interface Site {
  lonRad: number;
  latRad: number;
  heightKm: number;
  x: number;
  y: number;
  z: number;
  /** Geocentric distance, km. */
  norm: number;
  ux: number;
  uy: number;
  uz: number;
}

/** Target prepared for the search: the centre (geometry reported) and the points that must lie inside the off-nadir cone. */
export interface TargetGeometry {
  kind: 'point' | 'polygon';
  center: Site;
  constraints: Site[];
  /** Largest central angle from the centre to a constraint point, rad (0 for a point). */
  angularRadius: number;
}

const normLon = (lon: number): number => ((((lon + 180) % 360) + 360) % 360) - 180;

/** Builds a Site from geodetic lon/lat (degrees) and height (km). Throws RangeError for invalid coordinates. */
export function site(lonDeg: number, latDeg: number, heightKm = 0): Site {
  if (!Number.isFinite(lonDeg) || !Number.isFinite(latDeg) || !Number.isFinite(heightKm)) {
    throw new RangeError(`target coordinates must be finite numbers (lon ${lonDeg}, lat ${latDeg})`);
  }
  if (latDeg < -90 || latDeg > 90) throw new RangeError(`target latitude ${latDeg} is outside [-90, 90]`);
  const lon = normLon(lonDeg) * DEG;
  const lat = latDeg * DEG;
  const sl = Math.sin(lat);
  const cl = Math.cos(lat);
  const n = WGS84_A_KM / Math.sqrt(1 - E2 * sl * sl);
  const x = (n + heightKm) * cl * Math.cos(lon);
  const y = (n + heightKm) * cl * Math.sin(lon);
  const z = (n * (1 - E2) + heightKm) * sl;
  return {
    lonRad: lon,
    latRad: lat,
    heightKm,
    x,
    y,
    z,
    norm: Math.hypot(x, y, z),
    ux: cl * Math.cos(lon),
    uy: cl * Math.sin(lon),
    uz: sl,
  };
}

function centralAngle(a: Site, b: Site): number {
  const c = (a.x * b.x + a.y * b.y + a.z * b.z) / (a.norm * b.norm);
  return Math.acos(Math.min(1, Math.max(-1, c)));
}

/** Unwraps a ring's longitudes so that consecutive vertices differ by < 180° (antimeridian-safe). */
function unwrap(ring: number[][]): [number, number][] {
  const out: [number, number][] = [];
  let prev: number | undefined;
  for (const p of ring) {
    let lon = p[0]!;
    if (prev !== undefined) {
      while (lon - prev > 180) lon -= 360;
      while (lon - prev < -180) lon += 360;
    }
    out.push([lon, p[1]!]);
    prev = lon;
  }
  return out;
}

/** Planar (lon/lat) area centroid of an unwrapped closed ring; the vertex mean when the area vanishes. */
function ringCentroid(ring: [number, number][]): [number, number] {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [x0, y0] = ring[i]!;
    const [x1, y1] = ring[i + 1]!;
    const k = x0 * y1 - x1 * y0;
    a += k;
    cx += (x0 + x1) * k;
    cy += (y0 + y1) * k;
  }
  if (Math.abs(a) < 1e-12) {
    const pts = ring.slice(0, -1);
    return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
  }
  return [cx / (3 * a), cy / (3 * a)];
}

/**
 * Prepares a target. Point: one site. Polygon: the outer ring's area centroid (computed on unwrapped
 * longitudes, so rings crossing the antimeridian work) is the centre; every ring vertex is a
 * constraint point. Holes are ignored (the outer ring bounds what must be imaged). Throws RangeError
 * for malformed geometry or a ring enclosing a pole.
 */
export function prepareTarget(target: PassTarget): TargetGeometry {
  if ('lon' in target && 'lat' in target) {
    const s = site(target.lon, target.lat, (target.heightM ?? 0) / 1000);
    return { kind: 'point', center: s, constraints: [s], angularRadius: 0 };
  }
  if (target.type === 'Point') {
    const [lon, lat, h] = target.coordinates;
    if (lon === undefined || lat === undefined) throw new RangeError('Point needs [lon, lat]');
    const s = site(lon, lat, (h ?? 0) / 1000);
    return { kind: 'point', center: s, constraints: [s], angularRadius: 0 };
  }
  if (target.type === 'Polygon') {
    const outer = target.coordinates[0];
    if (!outer || outer.length < 4) throw new RangeError('Polygon outer ring needs at least 4 positions');
    const first = outer[0]!;
    const last = outer[outer.length - 1]!;
    if (first[0] !== last[0] || first[1] !== last[1]) throw new RangeError('Polygon outer ring is not closed');
    const ring = unwrap(outer);
    const drift = ring[ring.length - 1]![0] - ring[0]![0];
    if (Math.abs(drift) > 180) throw new RangeError('Polygon encloses a pole; split it or use a Point');
    const [clon, clat] = ringCentroid(ring);
    const center = site(clon, clat);
    const constraints = outer.slice(0, -1).map((p) => site(p[0]!, p[1]!, (p[2] ?? 0) / 1000));
    const angularRadius = Math.max(...constraints.map((c) => centralAngle(center, c)));
    return { kind: 'polygon', center, constraints, angularRadius };
  }
  throw new RangeError(`unsupported target type '${(target as { type?: unknown }).type}': use Point or Polygon`);
}

/**
 * Off-nadir angle (rad) at the satellite (ECF km r) between geocentric nadir (−r) and the line of
 * sight to site s; π when s is below the horizon (geodetic elevation ≤ 0), so hidden targets never pass.
 */
export function offNadir(rx: number, ry: number, rz: number, s: Site): number {
  const dx = s.x - rx;
  const dy = s.y - ry;
  const dz = s.z - rz;
  if (dx * s.ux + dy * s.uy + dz * s.uz >= 0) return Math.PI;
  const cx = ry * dz - rz * dy;
  const cy = rz * dx - rx * dz;
  const cz = rx * dy - ry * dx;
  return Math.atan2(Math.hypot(cx, cy, cz), -(rx * dx + ry * dy + rz * dz));
}

/** First intersection of the ray o + t·d (t > 0, ECF km) with the WGS-84 ellipsoid, or null when it misses. */
function rayEllipsoid(o: number[], d: number[]): number[] | null {
  const k = WGS84_A_KM / WGS84_B_KM;
  const ox = o[0]!;
  const oy = o[1]!;
  const oz = o[2]! * k;
  const dx = d[0]!;
  const dy = d[1]!;
  const dz = d[2]! * k;
  const a = dx * dx + dy * dy + dz * dz;
  const b = 2 * (ox * dx + oy * dy + oz * dz);
  const c = ox * ox + oy * oy + oz * oz - WGS84_A_KM * WGS84_A_KM;
  const disc = b * b - 4 * a * c;
  if (disc < 0) return null;
  const t = (-b - Math.sqrt(disc)) / (2 * a);
  if (t <= 0) return null;
  return [o[0]! + t * d[0]!, o[1]! + t * d[1]!, o[2]! + t * d[2]!];
}

const unit = (v: number[]): number[] => {
  const n = Math.hypot(v[0]!, v[1]!, v[2]!);
  return [v[0]! / n, v[1]! / n, v[2]! / n];
};
const cross = (a: number[], b: number[]): number[] => [
  a[1]! * b[2]! - a[2]! * b[1]!,
  a[2]! * b[0]! - a[0]! * b[2]!,
  a[0]! * b[1]! - a[1]! * b[0]!,
];

/** Closes a ring, orients it counter-clockwise (RFC 7946 §3.1.6) in unwrapped lon/lat. */
function closeCcw(ring: [number, number][]): [number, number][] {
  let area = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x0, y0] = ring[i]!;
    const [x1, y1] = ring[(i + 1) % ring.length]!;
    area += x0 * y1 - x1 * y0;
  }
  const r = area < 0 ? [...ring].reverse() : [...ring];
  return [...r, r[0]!];
}

/** Clips a closed ring to lon ≤ limit (keepBelow) or lon ≥ limit (Sutherland–Hodgman against one vertical line). */
function clipLon(ring: [number, number][], limit: number, keepBelow: boolean): [number, number][] {
  const inside = (p: [number, number]): boolean => (keepBelow ? p[0] <= limit : p[0] >= limit);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < ring.length; i++) {
    const p = ring[i]!;
    const q = ring[i + 1]!;
    if (inside(p)) out.push(p);
    if (inside(p) !== inside(q)) {
      const f = (limit - p[0]) / (q[0] - p[0]);
      out.push([limit, p[1] + f * (q[1] - p[1])]);
    }
  }
  if (out.length > 0) out.push(out[0]!);
  return out;
}

const round7 = (p: [number, number]): number[] => [Math.round(p[0] * 1e7) / 1e7, Math.round(p[1] * 1e7) / 1e7];

/** Geodetic [lon, lat] (deg) where the ray r + t·(d + u·across + v·along) meets the ground; pulled towards the boresight past the horizon. */
function groundPoint(r: number[], d: number[], across: number[], along: number[], u: number, v: number): [number, number] {
  let hit: number[] | null = null;
  for (let k = 0; k < 30 && !hit; k++, u /= 2, v /= 2) {
    hit = rayEllipsoid(r, [
      d[0]! + u * across[0]! + v * along[0]!,
      d[1]! + u * across[1]! + v * along[1]!,
      d[2]! + u * across[2]! + v * along[2]!,
    ]);
  }
  const g = eciToGeodetic({ x: hit![0]!, y: hit![1]!, z: hit![2]! }, 0);
  return [g.longitude / DEG, g.latitude / DEG];
}

const EDGE_TOL_KM = 0.02;

/** Ground distance (km, local flat approximation) between two lon/lat points in degrees. */
function flatKm(a: [number, number], b: [number, number]): number {
  let dl = b[0] - a[0];
  if (dl > 180) dl -= 360;
  if (dl < -180) dl += 360;
  return 111.2 * Math.hypot(dl * Math.cos(((a[1] + b[1]) / 2) * DEG), b[1] - a[1]);
}

/**
 * The imaged area at one instant: a square field of view (half-angle `halfAngle`, rad) centred on
 * the line of sight from the satellite (ECF km r) to `aim`, its edges traced on the WGS-84
 * ellipsoid and subdivided until each lon/lat segment is within 20 m of the ground edge (RFC 7946
 * reads edges as straight lines in lon/lat). Returned as a GeoJSON Polygon, or a MultiPolygon cut
 * at the antimeridian (§3.1.9); a footprint enclosing a pole becomes the polar cap above its lowest
 * latitude.
 */
export function footprint(r: number[], aim: Site, halfAngle: number): GeoJsonPolygon | GeoJsonMultiPolygon {
  const d = unit([aim.x - r[0]!, aim.y - r[1]!, aim.z - r[2]!]);
  const across = unit(cross(d, r));
  const along = cross(across, d);
  const t = Math.tan(halfAngle);
  const uv: [number, number][] = [
    [t, t],
    [-t, t],
    [-t, -t],
    [t, -t],
  ];
  const at = (p: [number, number]): [number, number] => groundPoint(r, d, across, along, p[0], p[1]);
  const corners: [number, number][] = [];
  const subdivide = (a: [number, number], ga: [number, number], b: [number, number], gb: [number, number], depth: number): void => {
    const m: [number, number] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    const gm = at(m);
    const chord: [number, number] = [ga[0] + (((gb[0] - ga[0] + 540) % 360) - 180) / 2, (ga[1] + gb[1]) / 2];
    if (depth >= 5 || flatKm(gm, chord) <= EDGE_TOL_KM) return;
    subdivide(a, ga, m, gm, depth + 1);
    corners.push(gm);
    subdivide(m, gm, b, gb, depth + 1);
  };
  const ground = uv.map(at);
  for (let i = 0; i < 4; i++) {
    corners.push(ground[i]!);
    subdivide(uv[i]!, ground[i]!, uv[(i + 1) % 4]!, ground[(i + 1) % 4]!, 0);
  }
  const ring = unwrap(corners);
  const winding = ring.reduce((s, p, i) => {
    const q = ring[(i + 1) % ring.length]!;
    let dl = q[0] - p[0];
    if (dl > 180) dl -= 360;
    if (dl < -180) dl += 360;
    return s + dl;
  }, 0);
  if (Math.abs(winding) > 180) {
    const north = aim.latRad > 0;
    const edge = north ? Math.min(...corners.map((c) => c[1])) : Math.max(...corners.map((c) => c[1]));
    const pole = north ? 90 : -90;
    const cap: [number, number][] = [
      [-180, edge],
      [180, edge],
      [180, pole],
      [-180, pole],
    ];
    return { type: 'Polygon', coordinates: [closeCcw(cap).map(round7)] };
  }
  // Shift so the aim point's longitude is in [-180, 180), then cut whatever spills over ±180.
  const k = 360 * Math.round((aim.lonRad / DEG - ring[0]![0]) / 360);
  const base = closeCcw(ring.map(([x, y]) => [x + k, y] as [number, number]));
  const maxLon = Math.max(...base.map((p) => p[0]));
  const minLon = Math.min(...base.map((p) => p[0]));
  if (maxLon <= 180 && minLon >= -180) return { type: 'Polygon', coordinates: [base.map(round7)] };
  const limit = maxLon > 180 ? 180 : -180;
  const near = clipLon(base, limit, limit === 180);
  const far = clipLon(base, limit, limit !== 180).map(([x, y]) => [x - Math.sign(limit) * 360, y] as [number, number]);
  return { type: 'MultiPolygon', coordinates: [[near.map(round7)], [far.map(round7)]] };
}
