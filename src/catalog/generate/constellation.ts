/**
 * A sun-synchronous constellation, propagated analytically: circular Keplerian orbits with the J2
 * secular drift of the argument of latitude, a node that follows the mean Sun (the sun-synchronous
 * condition, so the local time of the node is fixed), and Earth rotation by GMST. No drag, no
 * eccentricity, no short-period terms: positions are plausible, not predictions (real tasking uses
 * SGP4 on element sets). Times are Unix ms (UTC ≈ UT1), angles degrees, distances km.
 */
import { getPosition } from 'suncalc';
import { wrapLon } from './geo.js';

/** Earth constants: WGS 84 equatorial radius and flattening, EGM96 μ and J2. */
export const EARTH = {
  equatorialRadiusKm: 6378.137,
  flattening: 1 / 298.257223563,
  muKm3PerS2: 398600.4418,
  j2: 1.08262668e-3,
} as const;

const RAD = Math.PI / 180;
const E2 = EARTH.flattening * (2 - EARTH.flattening);
const J2000_MS = Date.UTC(2000, 0, 1, 12);
const DAY_MS = 86_400_000;
/** Mean tropical year, s: the node of a sun-synchronous orbit turns 360° in this time. */
const TROPICAL_YEAR_S = 365.24219 * 86_400;

/** What defines one satellite of a sun-synchronous constellation. */
export interface SatelliteSpec {
  /** STAC `platform`, e.g. `skyport-tir-1`. */
  platform: string;
  /** 1-based number within the constellation (the `S<n>` in item ids). */
  number: number;
  /** Circular orbit altitude above the equatorial radius, km. */
  altitudeKm: number;
  /** Local mean solar time of the descending node, hours (10.5 = 10:30). */
  ltdnHours: number;
  /** Argument of latitude at the constellation epoch, deg (phasing within the plane). */
  phaseDeg: number;
  /** Extra right ascension of the node, deg (0 = all satellites in one plane). */
  raanOffsetDeg: number;
}

/** A satellite with its derived orbit (inclination from the sun-synchronous condition). */
export interface Satellite extends SatelliteSpec {
  semiMajorAxisKm: number;
  inclinationDeg: number;
  /** Secular rate of the argument of latitude (mean motion plus J2 drift), deg/ms. */
  argumentRateDegPerMs: number;
  /** Instant at which the argument of latitude equals `phaseDeg`, Unix ms. */
  epochMs: number;
}

/** A point under the satellite with its ground-track direction. */
export interface TrackPoint {
  /** Geodetic longitude/latitude of the sub-satellite point, deg. */
  lon: number;
  lat: number;
  /** Ground-track heading (towards the point 1 s later; turns < 0.1° in that time), deg clockwise from north. */
  headingDeg: number;
  /** Unwrapped argument of latitude (0 at the first ascending node after the epoch), deg. */
  argumentOfLatitudeDeg: number;
  /** `ascending` when moving north. */
  orbitState: 'ascending' | 'descending';
  /** Revolution count since the epoch, from 1, changing at each ascending node (sat extension `sat:absolute_orbit`). */
  absoluteOrbit: number;
}

/**
 * Inclination (deg) that makes a circular orbit at `altitudeKm` sun-synchronous: the J2 nodal
 * regression −1.5·n·J2·(Rₑ/a)²·cos i equals the Sun's mean motion 360°/tropical year
 * (Vallado, Fundamentals of Astrodynamics, §11.4). ≈ 97.4° at 500 km, 97.6° at 550 km.
 * Throws RangeError when no inclination can (altitude above ≈ 5,970 km or not positive).
 */
export function ssoInclinationDeg(altitudeKm: number): number {
  if (!(altitudeKm > 0)) throw new RangeError(`altitude must be positive, got ${altitudeKm} km`);
  const a = EARTH.equatorialRadiusKm + altitudeKm;
  const n = Math.sqrt(EARTH.muKm3PerS2 / a ** 3);
  const nodeRate = (2 * Math.PI) / TROPICAL_YEAR_S;
  const cosI = -nodeRate / (1.5 * n * EARTH.j2 * (EARTH.equatorialRadiusKm / a) ** 2);
  if (cosI < -1) throw new RangeError(`no sun-synchronous orbit at ${altitudeKm} km`);
  return Math.acos(cosI) / RAD;
}

/** Builds a satellite: semi-major axis, SSO inclination, and the J2-corrected rate of the argument of latitude. */
export function makeSatellite(spec: SatelliteSpec, epochMs: number): Satellite {
  const a = EARTH.equatorialRadiusKm + spec.altitudeKm;
  const inclinationDeg = ssoInclinationDeg(spec.altitudeKm);
  const n = Math.sqrt(EARTH.muKm3PerS2 / a ** 3);
  const c2 = Math.cos(inclinationDeg * RAD) ** 2;
  // dω/dt + dM/dt for e = 0 (Vallado eq. 9-41): the draconic period, node to node.
  const uDot = n * (1 + 0.75 * EARTH.j2 * (EARTH.equatorialRadiusKm / a) ** 2 * (8 * c2 - 2));
  return { ...spec, semiMajorAxisKm: a, inclinationDeg, argumentRateDegPerMs: uDot / RAD / 1000, epochMs };
}

/** Unwrapped argument of latitude at `tMs`, deg. */
export function argumentOfLatitude(sat: Satellite, tMs: number): number {
  return sat.phaseDeg + sat.argumentRateDegPerMs * (tMs - sat.epochMs);
}

/** Instant at which the unwrapped argument of latitude equals `uDeg`, Unix ms (inverse of argumentOfLatitude). */
export function timeAtArgument(sat: Satellite, uDeg: number): number {
  return sat.epochMs + (uDeg - sat.phaseDeg) / sat.argumentRateDegPerMs;
}

/** Greenwich mean sidereal angle, deg (Meeus 12.4, linear term). */
export function gmstDeg(tMs: number): number {
  return 280.46061837 + 360.98564736629 * ((tMs - J2000_MS) / DAY_MS);
}

/** Right ascension of the ascending node, deg: tied to the mean Sun so the node's local time stays fixed. */
export function raanDeg(sat: Satellite, tMs: number): number {
  const meanSunRa = 280.46 + 0.9856474 * ((tMs - J2000_MS) / DAY_MS);
  const ltanHours = (sat.ltdnHours + 12) % 24;
  return meanSunRa + (ltanHours - 12) * 15 + sat.raanOffsetDeg;
}

/** Geodetic longitude/latitude of the sub-satellite point at `tMs`, deg. */
export function subSatellitePoint(sat: Satellite, tMs: number): [number, number] {
  const u = argumentOfLatitude(sat, tMs) * RAD;
  const raan = raanDeg(sat, tMs) * RAD;
  const inc = sat.inclinationDeg * RAD;
  const cu = Math.cos(u);
  const su = Math.sin(u);
  const x = Math.cos(raan) * cu - Math.sin(raan) * su * Math.cos(inc);
  const y = Math.sin(raan) * cu + Math.cos(raan) * su * Math.cos(inc);
  const z = su * Math.sin(inc);
  const geocentricLat = Math.atan2(z, Math.hypot(x, y));
  // The nadir on the ellipsoid: geocentric → geodetic for a surface point (differs by ≤ 0.19°).
  const lat = Math.atan(Math.tan(geocentricLat) / (1 - E2)) / RAD;
  const lon = wrapLon(Math.atan2(y, x) / RAD - gmstDeg(tMs));
  return [lon, lat];
}

/** Sub-satellite point with heading, pass direction and revolution number at `tMs`. */
export function trackPoint(sat: Satellite, tMs: number): TrackPoint {
  const [lon0, lat0] = subSatellitePoint(sat, tMs);
  const [lon1, lat1] = subSatellitePoint(sat, tMs + 1000);
  const p0 = lat0 * RAD;
  const p1 = lat1 * RAD;
  const dl = wrapLon(lon1 - lon0) * RAD;
  const heading = Math.atan2(Math.sin(dl) * Math.cos(p1), Math.cos(p0) * Math.sin(p1) - Math.sin(p0) * Math.cos(p1) * Math.cos(dl));
  const u = argumentOfLatitude(sat, tMs);
  return {
    lon: lon0,
    lat: lat0,
    headingDeg: (heading / RAD + 360) % 360,
    argumentOfLatitudeDeg: u,
    orbitState: Math.cos(u * RAD) >= 0 ? 'ascending' : 'descending',
    absoluteOrbit: Math.floor(u / 360) + 1,
  };
}

/** Sun elevation (apparent, refraction-corrected) and azimuth (clockwise from north) at a ground point, deg (suncalc). */
export function sunAngles(tMs: number, lon: number, lat: number): { elevationDeg: number; azimuthDeg: number } {
  const p = getPosition(new Date(tMs), lat, lon);
  return { elevationDeg: p.altitude, azimuthDeg: p.azimuth };
}

/** What defines a constellation: its name and how its satellites are placed. */
export interface ConstellationSpec {
  /** STAC `constellation`, e.g. `skyport-tir`; platforms are `<id>-<n>`. */
  id: string;
  satellites: number;
  altitudeKm: number;
  ltdnHours: number;
  /** `single`: one plane, satellites 360°/N apart in phase; `spread`: each next satellite's node 2.5° (10 min of local time) further east. */
  planes: 'single' | 'spread';
  /** Phase of satellite 1 at the epoch, deg (keeps two constellations from flying in lockstep). */
  phaseOffsetDeg: number;
  /** Instant the argument of latitude of satellite 1 equals `phaseOffsetDeg`, Unix ms. */
  epochMs: number;
}

/** A constellation's satellites, platform names `<id>-1 … <id>-N`. Throws RangeError for fewer than one satellite. */
export function makeConstellation(spec: ConstellationSpec): Satellite[] {
  if (!(spec.satellites >= 1)) throw new RangeError('a constellation needs at least one satellite');
  return Array.from({ length: spec.satellites }, (_, k) =>
    makeSatellite(
      {
        platform: `${spec.id}-${k + 1}`,
        number: k + 1,
        altitudeKm: spec.altitudeKm,
        ltdnHours: spec.ltdnHours,
        phaseDeg: spec.phaseOffsetDeg + (360 * k) / spec.satellites,
        // A small node spread staggers the ground tracks and the overpass times a little.
        raanOffsetDeg: spec.planes === 'spread' ? 2.5 * k : 0,
      },
      spec.epochMs,
    ),
  );
}
