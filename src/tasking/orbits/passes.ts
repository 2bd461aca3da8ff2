/**
 * Imaging opportunities ("passes") of one satellite over one target: the intervals in which the
 * target lies inside the satellite's off-nadir cone, found fast and exactly with SGP4 (satellite.js).
 *
 * Geometry: target on the WGS-84 ellipsoid (geodetic lat/lon, height); satellite position from
 * SGP4 in TEME rotated to Earth-fixed by GMST (no polar motion). The off-nadir angle is measured at
 * the satellite between **geocentric nadir** (towards Earth's centre) and the line of sight to the
 * target; it differs from an angle to geodetic nadir by at most ~0.2°. A target below the
 * horizon (geodetic elevation ≤ 0) is never in the cone.
 *
 * Search (why it cannot skip a pass): let λ be the central angle between satellite and target and
 * λ* the largest λ at which the off-nadir limit can hold (exact triangle geometry with the highest
 * radius the orbit reaches, plus the AOI radius). From any sample, λ cannot fall to λ* sooner than
 * (λ − λ*)/ω_max, ω_max bounding the satellite's angular rate in the Earth-fixed frame; nor sooner
 * than (|β| − λ*)/ω_β, β being the target's angle from the satellite's osculating orbit plane
 * (λ ≥ |β|) which changes at most at Earth rotation plus plane-precession rate ω_β. The scan jumps
 * by the larger of the two, which is hours while the target is far from the ground track. Within
 * 10 s of reach, it follows the approach in 20 s steps until the central angle stops decreasing,
 * minimises the off-nadir angle by golden-section search (to 20 ms), and bisects both
 * boundary crossings to < 50 ms.
 *
 * Polygon AOIs: the whole outer ring must be inside the cone (every vertex: the cone's ground
 * trace is convex at AOI scale), so `start`/`end` bound the time the whole AOI can be imaged;
 * off-nadir, elevation, azimuth, sun and `tca` are given for the ring's area centroid.
 */
import { checkForDecay, ecfToLookAngles, gstime, sgp4, SatRecError, sunPos, twoline2satrec, type SatRec } from 'satellite.js';
import {
  footprint,
  offNadir,
  prepareTarget,
  type GeoJsonMultiPolygon,
  type GeoJsonPolygon,
  type PassTarget,
  type TargetGeometry,
} from './geometry.js';
import type { ElementSet } from './tle.js';

/** Search window (UTC); `end` ≥ `start`. */
export interface PassWindow {
  start: Date;
  end: Date;
}

/** Imaging constraints. */
export interface PassConstraints {
  /** Largest off-nadir angle at the satellite, degrees, in (0, 90). */
  maxOffNadirDeg: number;
  /** Smallest Sun elevation at the target at `tca`, degrees (geometric, no refraction); omit for SAR/thermal. */
  minSunElevationDeg?: number;
  /** Largest distance in days between the element-set epoch and either end of the window; omit for no check. */
  maxElementAgeDays?: number;
}

/** Presentation and instrumentation options. */
export interface PassOptions {
  /** Side of the square scene at nadir, km (default 10): sets the footprint's field of view. */
  sceneSizeKm?: number;
  /** When given, `evaluations` is increased by the number of SGP4 propagations the search made. */
  stats?: { evaluations: number };
}

/** One imaging opportunity. Angles in degrees, times UTC. */
export interface Pass {
  satellite: { name: string; noradId: number };
  /** First instant the target (whole AOI) is inside the off-nadir cone, or the window start when clipped. */
  start: Date;
  /** Last instant inside the cone, or the window end when clipped. */
  end: Date;
  /** Time of minimum off-nadir angle at the target (AOI centroid), within [start, end]. */
  tca: Date;
  /** Off-nadir angle at the satellite at `tca` (geocentric nadir), degrees. */
  offNadirDeg: number;
  /** Elevation of the satellite seen from the target at `tca` (geodetic horizon), degrees; incidence = 90 − elevation. */
  elevationDeg: number;
  /** Azimuth of the satellite seen from the target at `tca`, degrees clockwise from north, [0, 360). */
  azimuthDeg: number;
  /** Sun elevation at the target at `tca` (geometric), degrees. */
  sunElevationDeg: number;
  /** Ground footprint of the scene at `tca`; a MultiPolygon when cut at the antimeridian (RFC 7946 §3.1.9). */
  footprint: GeoJsonPolygon | GeoJsonMultiPolygon;
  /** Whether the satellite moves north (ascending) or south at `tca`. */
  direction: 'ascending' | 'descending';
  /** Whether `start` / `end` were cut by the window (the pass began before it or ends after it). */
  clipped: { start: boolean; end: boolean };
}

/** Base of the errors that mean "no passes, and here is why"; `code` is stable for API responses. */
export class PassSearchError extends Error {
  override name = 'PassSearchError';
  constructor(
    readonly code: 'stale-elements' | 'propagation-error',
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The element set's epoch is farther from the window than `maxElementAgeDays`: SGP4 there would be fiction. */
export class StaleElementsError extends PassSearchError {
  override name = 'StaleElementsError';
  constructor(
    readonly epoch: Date,
    readonly ageDays: number,
    readonly maxElementAgeDays: number,
  ) {
    super(
      'stale-elements',
      `element set epoch ${epoch.toISOString()} is ${ageDays.toFixed(2)} days from the window (limit ${maxElementAgeDays})`,
    );
  }
}

/**
 * SGP4 reported an error inside the window (`sgp4Error`, satellite.js's SatRecError), or the orbit
 * has decayed: SGP4's error 6, its community decay check, or a mean perigee below the Earth's surface.
 */
export class PropagationError extends PassSearchError {
  override name = 'PropagationError';
  constructor(
    readonly sgp4Error: SatRecError,
    readonly at: Date,
  ) {
    super('propagation-error', `SGP4 error ${sgp4Error} (${SatRecError[sgp4Error] ?? 'unknown'}) at ${at.toISOString()}`);
  }
}

const OMEGA_E = 7.2921158553e-5; // Earth rotation, rad/s
const MU = 398600.8; // WGS-72 GM, km³/s² (SGP4's constants)
const RE_SGP4 = 6378.135; // WGS-72 equatorial radius, km
const J2 = 0.001082616;
const JD_UNIX_EPOCH = 2440587.5;
const MS_PER_DAY = 86_400_000;
const H_MIN_MS = 10_000; // closer than this to reach: follow the approach instead of jumping
const H_MS = 20_000; // approach-following step
const GOLDEN_TOL_MS = 20;
const EDGE_TOL_MS = 50;
const DEG = Math.PI / 180;

/** Satellite state at one instant in the Earth-fixed frame (km, km/s) plus the osculating orbit normal. */
class Track {
  rx = 0;
  ry = 0;
  rz = 0;
  /** Velocity relative to the rotating Earth. */
  vx = 0;
  vy = 0;
  vz = 0;
  /** Unit normal of the osculating orbit plane, Earth-fixed axes. */
  hx = 0;
  hy = 0;
  hz = 0;
  r = 0;
  gmst = 0;
  readonly epochMs: number;
  evaluations = 0;

  constructor(readonly rec: SatRec) {
    this.epochMs = (rec.jdsatepoch - JD_UNIX_EPOCH) * MS_PER_DAY;
  }

  at(tMs: number): void {
    this.evaluations++;
    const pv = sgp4(this.rec, (tMs - this.epochMs) / 60_000);
    // SGP4 flags decay only at instants when the position is underground; a mean perigee below the
    // surface (mean elements, Earth radii) marks the whole element set as re-entering.
    if (!pv || this.rec.error !== SatRecError.None || checkForDecay(this.rec) || pv.meanElements.am * (1 - pv.meanElements.em) < 1) {
      throw new PropagationError(this.rec.error || SatRecError.Decayed, new Date(tMs));
    }
    const g = gstime(JD_UNIX_EPOCH + tMs / MS_PER_DAY);
    const c = Math.cos(g);
    const s = Math.sin(g);
    const p = pv.position;
    const v = pv.velocity;
    const x = c * p.x + s * p.y;
    const y = -s * p.x + c * p.y;
    const z = p.z;
    const ivx = c * v.x + s * v.y;
    const ivy = -s * v.x + c * v.y;
    const ivz = v.z;
    this.rx = x;
    this.ry = y;
    this.rz = z;
    this.vx = ivx + OMEGA_E * y;
    this.vy = ivy - OMEGA_E * x;
    this.vz = ivz;
    const hx = y * ivz - z * ivy;
    const hy = z * ivx - x * ivz;
    const hz = x * ivy - y * ivx;
    const hn = Math.hypot(hx, hy, hz);
    this.hx = hx / hn;
    this.hy = hy / hn;
    this.hz = hz / hn;
    this.r = Math.hypot(x, y, z);
    this.gmst = g;
  }
}

interface ScreeningBounds {
  /** Central angle beyond which the cone cannot hold the target, rad. */
  lamTrig: number;
  /** Bound on the satellite's angular rate in the Earth-fixed frame, rad/s. */
  omegaMax: number;
  /** Bound on the rate of the target's angle to the orbit plane, rad/s. */
  omegaPlane: number;
}

/**
 * Conservative screening bounds. Radii: SGP4 mean semi-major axis ± 1% + 10 km covers short-period
 * and drag variation near the epoch. Rates: two-body perigee rate + 10%, plus Earth rotation; the
 * osculating plane turns under J2 at ≲ 3·J2·μ·Re²/(r³·h) (tripled here) plus nodal regression.
 */
function screeningBounds(rec: SatRec, tg: TargetGeometry, etaMax: number): ScreeningBounds {
  const e = rec.ecco;
  const aKm = rec.a * RE_SGP4;
  const rMax = aKm * (1 + e) * 1.01 + 10;
  const rMin = aKm * (1 - e) * 0.99 - 10;
  const R = Math.min(tg.center.norm, ...tg.constraints.map((c) => c.norm));
  const s = (rMax / R) * Math.sin(etaMax);
  const lamMax = s >= 1 ? Math.acos(R / rMax) : Math.asin(s) - etaMax;
  const n = rec.no / 60; // rad/s
  const omegaMax = ((n * (1 + e) ** 2) / (1 - e * e) ** 1.5) * 1.1 + OMEGA_E;
  const h = Math.sqrt(MU * aKm * (1 - e * e));
  const j2Plane = (3 * J2 * MU * RE_SGP4 * RE_SGP4) / (rMin ** 3 * h);
  const nodal = 1.5 * n * J2 * (RE_SGP4 / (aKm * (1 - e * e))) ** 2;
  return { lamTrig: lamMax + tg.angularRadius + 1e-4, omegaMax, omegaPlane: OMEGA_E + 3 * j2Plane + 2 * nodal + 1e-6 };
}

interface RawPass {
  startMs: number;
  endMs: number;
  tcaMs: number;
  clippedStart: boolean;
  clippedEnd: boolean;
}

/** Golden-section minimisation of a unimodal f on [lo, hi] to `tol`. */
function goldenMin(f: (t: number) => number, lo: number, hi: number, tol: number): { t: number; f: number } {
  const k = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - k * (b - a);
  let d = a + k * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > tol) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - k * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + k * (b - a);
      fd = f(d);
    }
  }
  // The bracket may end on a window edge where f is smaller than at the interior points.
  const candidates: [number, number][] = [
    [c, fc],
    [d, fd],
  ];
  if (a === lo) candidates.push([lo, f(lo)]);
  if (b === hi) candidates.push([hi, f(hi)]);
  candidates.sort((p, q) => p[1] - q[1]);
  const [t, v] = candidates[0]!;
  return { t, f: v };
}

/** Scans [startMs, endMs] for intervals with the whole target inside the off-nadir cone. */
class PassScanner {
  private readonly b: ScreeningBounds;

  constructor(
    private readonly track: Track,
    private readonly tg: TargetGeometry,
    private readonly startMs: number,
    private readonly endMs: number,
    private readonly etaMax: number,
  ) {
    this.b = screeningBounds(track.rec, tg, etaMax);
  }

  /** Central angle between the satellite (current state) and the target centre, rad. */
  private lambda(): number {
    const c = this.tg.center;
    const t = this.track;
    return Math.acos(Math.min(1, Math.max(-1, (t.rx * c.x + t.ry * c.y + t.rz * c.z) / (t.r * c.norm))));
  }

  /** True while the central angle to the target centre decreases (d cos λ / dt > 0). */
  private approaching(): boolean {
    const c = this.tg.center;
    const t = this.track;
    const vp = t.vx * c.x + t.vy * c.y + t.vz * c.z;
    const rp = t.rx * c.x + t.ry * c.y + t.rz * c.z;
    const rv = t.rx * t.vx + t.ry * t.vy + t.rz * t.vz;
    return vp * t.r * t.r - rp * rv > 0;
  }

  /** Largest off-nadir angle over the constraint points at time t, rad (π if any is hidden). */
  readonly worst = (tMs: number): number => {
    this.track.at(tMs);
    let m = 0;
    for (const s of this.tg.constraints) {
      const eta = offNadir(this.track.rx, this.track.ry, this.track.rz, s);
      if (eta > m) m = eta;
    }
    return m;
  };

  /** Off-nadir angle of the target centre at time t, rad. */
  readonly centre = (tMs: number): number => {
    this.track.at(tMs);
    return offNadir(this.track.rx, this.track.ry, this.track.rz, this.tg.center);
  };

  /** All passes in the window, in time order, with boundaries and tca in epoch milliseconds. Throws PropagationError. */
  scan(): RawPass[] {
    const out: RawPass[] = [];
    const { lamTrig, omegaMax, omegaPlane } = this.b;
    const c = this.tg.center;
    // Jumps can span hours and may never land after a decay; a decayed set's mean perigee stays
    // underground (see Track.at), so probing the window's end reports it.
    this.track.at(this.endMs);
    let t = this.startMs;
    while (t <= this.endMs) {
      this.track.at(t);
      const tr = this.track;
      const lam = this.lambda();
      const beta = Math.asin(Math.min(1, Math.abs(tr.hx * c.x + tr.hy * c.y + tr.hz * c.z) / c.norm));
      const gapMs = 1000 * Math.max((lam - lamTrig) / omegaMax, (beta - lamTrig) / omegaPlane);
      if (gapMs >= H_MIN_MS) {
        t += gapMs;
        continue;
      }
      // Receding: the closest approach is behind, and the jumps that led here prove it was out of reach.
      if (!this.approaching() && t > this.startMs) {
        t += H_MIN_MS;
        continue;
      }
      t = this.resolveApproach(t, lam, out);
    }
    return out;
  }

  /** Follows one approach from t0 (state loaded, central angle lam0); records a pass if any; returns where to resume. */
  private resolveApproach(t0: number, lam0: number, out: RawPass[]): number {
    let a = t0;
    let b = t0;
    let lamA = lam0;
    let lamB = lam0;
    if (this.approaching()) {
      while (b < this.endMs) {
        a = b;
        lamA = lamB;
        b = Math.min(b + H_MS, this.endMs);
        this.track.at(b);
        lamB = this.lambda();
        if (!this.approaching()) break;
      }
    }
    // λ is Lipschitz with constant ω_max: its minimum over [a, b] is at least this.
    const floor = (lamA + lamB - (this.b.omegaMax * (b - a)) / 1000) / 2;
    if (floor > this.b.lamTrig) return b + 1;

    const lo = Math.max(this.startMs, a - H_MS / 2);
    const hi = Math.min(this.endMs, b + H_MS / 2);
    const best = goldenMin(this.worst, lo, hi, GOLDEN_TOL_MS);
    if (best.f > this.etaMax) return b + 1;

    const entry = this.edge(best.t, -1, Math.min(t0, best.t - 1000));
    const exitGuess = entry.clipped ? best.t + H_MS : 2 * best.t - entry.t + 1000;
    const exit = this.edge(best.t, 1, exitGuess);
    let tca = best.t;
    if (this.tg.kind === 'polygon' && exit.t > entry.t) tca = goldenMin(this.centre, entry.t, exit.t, GOLDEN_TOL_MS).t;
    tca = Math.min(exit.t, Math.max(entry.t, tca));
    out.push({ startMs: entry.t, endMs: exit.t, tcaMs: tca, clippedStart: entry.clipped, clippedEnd: exit.clipped });
    return Math.max(b, exit.t) + 1;
  }

  /**
   * Boundary crossing of the cone on one side (dir −1: entry, +1: exit) of an inside time tIn:
   * probes outwards (first at `probe`, then in H steps) until outside or at the window edge (clipped),
   * then bisects to EDGE_TOL_MS and returns the inside end of the final bracket.
   */
  private edge(tIn: number, dir: -1 | 1, probe: number): { t: number; clipped: boolean } {
    const limit = dir < 0 ? this.startMs : this.endMs;
    const clamp = (t: number): number => (dir < 0 ? Math.max(limit, t) : Math.min(limit, t));
    let inside = tIn;
    let p = clamp(dir < 0 ? Math.min(probe, tIn - 1) : Math.max(probe, tIn + 1));
    for (;;) {
      if (this.worst(p) > this.etaMax) break;
      inside = p;
      if (p === limit) return { t: limit, clipped: true };
      p = clamp(p + dir * H_MS);
    }
    let outside = p;
    while (Math.abs(outside - inside) > EDGE_TOL_MS) {
      const mid = (inside + outside) / 2;
      if (this.worst(mid) <= this.etaMax) inside = mid;
      else outside = mid;
    }
    return { t: inside, clipped: false };
  }
}

/** Sun elevation (rad, geometric) at a site (geodetic up) at Julian date jd with GMST g. */
function sunElevation(ux: number, uy: number, uz: number, jd: number, g: number): number {
  const s = sunPos(jd).rsun;
  const c = Math.cos(g);
  const sn = Math.sin(g);
  const ex = c * ux - sn * uy;
  const ey = sn * ux + c * uy;
  const n = Math.hypot(s.x, s.y, s.z);
  return Math.asin((ex * s.x + ey * s.y + uz * s.z) / n);
}

function describePass(track: Track, tg: TargetGeometry, raw: RawPass, sat: ElementSet, sceneSizeKm: number): Pass {
  track.at(raw.tcaMs);
  const c = tg.center;
  const look = ecfToLookAngles({ longitude: c.lonRad, latitude: c.latRad, height: c.heightKm }, { x: track.rx, y: track.ry, z: track.rz });
  const jd = JD_UNIX_EPOCH + raw.tcaMs / MS_PER_DAY;
  const r = [track.rx, track.ry, track.rz];
  // Field of view: the nadir scene size, widened to hold every AOI vertex.
  let half = Math.atan(sceneSizeKm / 2 / Math.max(1, track.r - c.norm));
  const los = [c.x - track.rx, c.y - track.ry, c.z - track.rz];
  const losN = Math.hypot(los[0]!, los[1]!, los[2]!);
  for (const v of tg.constraints) {
    const w = [v.x - track.rx, v.y - track.ry, v.z - track.rz];
    const cos = (los[0]! * w[0]! + los[1]! * w[1]! + los[2]! * w[2]!) / (losN * Math.hypot(w[0]!, w[1]!, w[2]!));
    half = Math.max(half, Math.acos(Math.min(1, cos)) * 1.05);
  }
  return {
    satellite: { name: sat.name, noradId: sat.noradId },
    start: new Date(Math.round(raw.startMs)),
    end: new Date(Math.round(raw.endMs)),
    tca: new Date(Math.round(raw.tcaMs)),
    offNadirDeg: offNadir(track.rx, track.ry, track.rz, c) / DEG,
    elevationDeg: look.elevation / DEG,
    azimuthDeg: (look.azimuth / DEG) % 360,
    sunElevationDeg: sunElevation(c.ux, c.uy, c.uz, jd, track.gmst) / DEG,
    footprint: footprint(r, c, half),
    direction: track.vz >= 0 ? 'ascending' : 'descending',
    clipped: { start: raw.clippedStart, end: raw.clippedEnd },
  };
}

function checkInputs(window: PassWindow, constraints: PassConstraints): [number, number] {
  const startMs = window.start.getTime();
  const endMs = window.end.getTime();
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) throw new RangeError('window start and end must be valid dates');
  if (endMs < startMs) throw new RangeError('window end is before its start');
  const eta = constraints.maxOffNadirDeg;
  if (!(eta > 0 && eta < 90)) throw new RangeError(`maxOffNadirDeg ${eta} is outside (0, 90)`);
  return [startMs, endMs];
}

/**
 * All passes of `sat` over `target` inside `window` (clipped to it), sorted by start.
 * Target: `{lon, lat}` degrees, a GeoJSON Point or Polygon (see the module comment for AOIs).
 * Passes whose Sun elevation at `tca` is below `minSunElevationDeg` are dropped.
 * Throws StaleElementsError when the epoch is more than `maxElementAgeDays` from either end of the
 * window, PropagationError when SGP4 fails at the window's start or end or at any instant the
 * search evaluates (decay etc.; no passes are returned then),
 * RangeError for invalid inputs.
 */
export function findPasses(
  sat: ElementSet,
  target: PassTarget,
  window: PassWindow,
  constraints: PassConstraints,
  options: PassOptions = {},
): Pass[] {
  const [startMs, endMs] = checkInputs(window, constraints);
  if (constraints.maxElementAgeDays !== undefined) {
    const epochMs = sat.epoch.getTime();
    const age = Math.max(Math.abs(startMs - epochMs), Math.abs(endMs - epochMs)) / MS_PER_DAY;
    if (age > constraints.maxElementAgeDays) throw new StaleElementsError(sat.epoch, age, constraints.maxElementAgeDays);
  }
  const tg = prepareTarget(target);
  const rec = twoline2satrec(sat.line1, sat.line2);
  if (rec.error !== SatRecError.None) throw new PropagationError(rec.error, sat.epoch);
  const track = new Track(rec);
  const etaMax = constraints.maxOffNadirDeg * DEG;
  const raw = new PassScanner(track, tg, startMs, endMs, etaMax).scan();
  const passes = raw.map((p) => describePass(track, tg, p, sat, options.sceneSizeKm ?? 10));
  if (options.stats) options.stats.evaluations += track.evaluations;
  const minSun = constraints.minSunElevationDeg;
  return minSun === undefined ? passes : passes.filter((p) => p.sunElevationDeg >= minSun);
}

/** `findPasses` that reports stale elements and SGP4 failures as `error` (with no passes) instead of throwing. */
export interface PassSearchResult {
  passes: Pass[];
  error: { code: PassSearchError['code']; reason: string } | null;
}

/** Same search as `findPasses`; StaleElementsError/PropagationError become `{ passes: [], error }`. RangeError still throws. */
export function searchPasses(
  sat: ElementSet,
  target: PassTarget,
  window: PassWindow,
  constraints: PassConstraints,
  options: PassOptions = {},
): PassSearchResult {
  try {
    return { passes: findPasses(sat, target, window, constraints, options), error: null };
  } catch (err) {
    if (err instanceof PassSearchError) return { passes: [], error: { code: err.code, reason: err.reason } };
    throw err;
  }
}
