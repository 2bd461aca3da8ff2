/**
 * Skyport's demo constellation: synthetic sun-synchronous element sets generated (not downloaded)
 * for a given epoch, formatted as valid TLEs so they go through the same validation as real ones.
 */
import { jday, sunPos } from 'satellite.js';
import { formatTle, parseTle, type ElementSet } from './tle.js';

const MU = 398600.4418; // km³/s²
const RE = 6378.137; // km
const J2 = 1.08263e-3;
const TROPICAL_YEAR_S = 365.2422 * 86_400;
const DEG = Math.PI / 180;

/** One orbital plane of the demo fleet. */
export interface DemoPlane {
  /** Name prefix; satellites are `<prefix>-1` … `<prefix>-<count>`. */
  prefix: string;
  /** Mean altitude above the equatorial radius, km. */
  altitudeKm: number;
  /** Local time of the descending node, hours (10.5 = 10:30). */
  ltdnHours: number;
  count: number;
  /** Mean anomaly of the first satellite, degrees; the others are spaced 360/count apart. */
  phaseDeg: number;
}

/** Default fleet: 5 optical at 500 km and 5 thermal/SAR-like at 550 km, both 10:30 LTDN, interleaved in phase. */
export const DEMO_PLANES: readonly DemoPlane[] = [
  { prefix: 'SKYPORT-OPT', altitudeKm: 500, ltdnHours: 10.5, count: 5, phaseDeg: 0 },
  { prefix: 'SKYPORT-TIR', altitudeKm: 550, ltdnHours: 10.5, count: 5, phaseDeg: 36 },
];

/** First NORAD id of the demo fleet; 99001+ is unassigned in the public catalogue. */
export const DEMO_FIRST_NORAD_ID = 99001;

/** Mean motion of a circular orbit at `altitudeKm` (two-body), rev/day. */
export function meanMotionRevPerDay(altitudeKm: number): number {
  const a = RE + altitudeKm;
  return (Math.sqrt(MU / (a * a * a)) * 86_400) / (2 * Math.PI);
}

/**
 * Sun-synchronous inclination for a circular orbit at `altitudeKm`, degrees: the J2 nodal
 * precession −1.5·n·J2·(Re/a)²·cos i equals the Sun's mean motion 360°/365.2422 d.
 */
export function ssoInclinationDeg(altitudeKm: number): number {
  const a = RE + altitudeKm;
  const n = Math.sqrt(MU / (a * a * a));
  const cosI = -(2 * Math.PI) / TROPICAL_YEAR_S / (1.5 * n * J2 * (RE / a) ** 2);
  return Math.acos(cosI) / DEG;
}

/**
 * RAAN (degrees, [0, 360)) that puts the descending node at local mean time `ltdnHours` on `epoch`:
 * ascending node 12 h later, Ω = α☉ + (LTAN − 12 h)·15°/h, α☉ the Sun's right ascension (satellite.js
 * `sunPos`; the equation of time, up to ±16 min, is ignored).
 */
export function raanForLtdn(epoch: Date, ltdnHours: number): number {
  const alphaSun = sunPos(jday(epoch)).rtasc / DEG;
  const ltan = (ltdnHours + 12) % 24;
  return (((alphaSun + (ltan - 12) * 15) % 360) + 360) % 360;
}

/**
 * The demo fleet at `epoch`: for each plane, `count` satellites on a near-circular (e = 0.0001,
 * ω = 90°) sun-synchronous orbit, zero drag (B* = 0, so the sets are their own truth), NORAD ids
 * from 99001 in order, formatted with `formatTle` and parsed back, so checksums are valid.
 * Epoch must lie in 1957–2056 (two-digit TLE years); throws RangeError otherwise.
 */
export function demoConstellation(epoch: Date, planes: readonly DemoPlane[] = DEMO_PLANES): ElementSet[] {
  const yy = String(epoch.getUTCFullYear() % 100).padStart(2, '0');
  const sets: ElementSet[] = [];
  let id = DEMO_FIRST_NORAD_ID;
  for (const plane of planes) {
    const raanDeg = raanForLtdn(epoch, plane.ltdnHours);
    for (let k = 0; k < plane.count; k++) {
      const { line1, line2 } = formatTle({
        noradId: id,
        intlDesignator: `${yy}999${String.fromCharCode(65 + (sets.length % 26))}`,
        epoch,
        inclinationDeg: ssoInclinationDeg(plane.altitudeKm),
        raanDeg,
        eccentricity: 0.0001,
        argPerigeeDeg: 90,
        meanAnomalyDeg: plane.phaseDeg + (360 / plane.count) * k,
        meanMotionRevPerDay: meanMotionRevPerDay(plane.altitudeKm),
        bstar: 0,
        elementSetNumber: 1,
      });
      sets.push(parseTle(line1, line2, `${plane.prefix}-${k + 1}`));
      id++;
    }
  }
  return sets;
}
