/**
 * The element sets (TLEs) the tasking API computes opportunities from, in storage: the demo
 * constellation Skyport stores on its first start (and keeps current), and operator loads of TLE files.
 * A stored set's `sensor` decides which products it serves (products.ts `sensor`).
 */
import { sgp4, SatRecError, twoline2satrec } from 'satellite.js';
import type { TaskingStorage, TleRecord } from '../storage/tasking.js';
import { DEMO_FIRST_NORAD_ID, DEMO_PLANES, demoConstellation, formatTle, parseTle, parseTleFile, type ElementSet } from './orbits/index.js';

export type Sensor = TleRecord['sensor'];
export const SENSORS: readonly Sensor[] = ['optical', 'thermal'];

/** Demo element sets older than this (days) are re-epoched at start, so demo opportunities never go stale. */
export const DEMO_REFRESH_AGE_DAYS = 7;

/** Which sensor each demo plane carries (constellation.ts DEMO_PLANES prefixes). */
const DEMO_SENSORS: Readonly<Record<string, Sensor>> = { 'SKYPORT-OPT': 'optical', 'SKYPORT-TIR': 'thermal' };
const DEMO_COUNT = DEMO_PLANES.reduce((n, p) => n + p.count, 0);
const MS_PER_DAY = 86_400_000;
const JD_UNIX_EPOCH = 2440587.5;
const RAD = 180 / Math.PI;

/** The stored form of an element set; `loadedAt` in epoch ms. */
export function tleRecord(set: ElementSet, sensor: Sensor, loadedAt: number): TleRecord {
  return { noradId: set.noradId, name: set.name, line1: set.line1, line2: set.line2, epoch: set.epoch.getTime(), sensor, loadedAt };
}

/** Sensor of a demo satellite by its name (`SKYPORT-OPT-3` → optical), or undefined for any other name. */
export function demoSensor(name: string): Sensor | undefined {
  const prefix = DEMO_PLANES.find((p) => name.startsWith(`${p.prefix}-`))?.prefix;
  return prefix ? DEMO_SENSORS[prefix] : undefined;
}

/** Whether a stored set is one of the demo constellation's (NORAD id in the demo range and a demo name). */
export function isDemoSet(r: Pick<TleRecord, 'noradId' | 'name'>): boolean {
  return r.noradId >= DEMO_FIRST_NORAD_ID && r.noradId < DEMO_FIRST_NORAD_ID + DEMO_COUNT && demoSensor(r.name) !== undefined;
}

const wrap360 = (deg: number): number => ((deg % 360) + 360) % 360;

/**
 * The same orbit with its epoch moved to `epoch`: SGP4's secularly updated mean RAAN, argument of perigee
 * and mean anomaly at `epoch` become the new set's elements; inclination, eccentricity and mean motion stay
 * as printed. For a drag-free (B* = 0) near-Earth set these evolve linearly in SGP4, so the new set
 * propagates to the same positions as the old one (to the 1e-4° print precision, ~10 m).
 * Throws RangeError for sets with drag or deep-space sets (period ≥ 225 min), where that does not hold,
 * and for SGP4 failures.
 */
export function reEpoch(set: ElementSet, epoch: Date): ElementSet {
  if (set.bstar !== 0 || set.meanMotionDot !== 0 || set.meanMotionDdot !== 0)
    throw new RangeError(`${set.name}: only drag-free sets can be re-epoched`);
  if (1440 / set.meanMotionRevPerDay >= 225) throw new RangeError(`${set.name}: deep-space sets cannot be re-epoched`);
  const rec = twoline2satrec(set.line1, set.line2);
  const minutes = (epoch.getTime() - (rec.jdsatepoch - JD_UNIX_EPOCH) * MS_PER_DAY) / 60_000;
  const pv = sgp4(rec, minutes);
  if (!pv || rec.error !== SatRecError.None) throw new RangeError(`${set.name}: SGP4 error ${rec.error} at ${epoch.toISOString()}`);
  const m = pv.meanElements;
  const revs = (minutes / 1440) * set.meanMotionRevPerDay;
  const { line1, line2 } = formatTle({
    noradId: set.noradId,
    classification: set.classification,
    intlDesignator: set.intlDesignator,
    epoch,
    inclinationDeg: set.inclinationDeg,
    raanDeg: wrap360(m.Om * RAD),
    eccentricity: set.eccentricity,
    argPerigeeDeg: wrap360(m.om * RAD),
    meanAnomalyDeg: wrap360(m.mm * RAD),
    meanMotionRevPerDay: set.meanMotionRevPerDay,
    bstar: 0,
    ephemerisType: set.ephemerisType,
    elementSetNumber: (set.elementSetNumber + 1) % 10_000,
    revolutionNumber: Math.max(0, set.revolutionNumber + Math.floor(revs)),
  });
  return parseTle(line1, line2, set.name);
}

/** What `ensureDemoConstellation` did: stored the demo fleet, re-epoched it, or left the store as it was. */
export interface DemoResult {
  action: 'created' | 'refreshed' | 'kept';
  /** Element sets written. */
  count: number;
}

/**
 * Called on every start. When no element sets are stored at all, stores the demo constellation at `now`
 * (constellation.ts `demoConstellation`: 5 optical → sensor `optical`, 5 thermal → `thermal`). When demo
 * sets are stored and any is older than DEMO_REFRESH_AGE_DAYS, re-epochs them to `now` (`reEpoch`: same
 * orbits, so passes already booked stay valid), or regenerates one that cannot be re-epoched. Sets an
 * operator loaded are never touched; an operator who loaded only real sets gets no demo fleet.
 * Idempotent; concurrent starts write the same sets (upsert by NORAD id).
 */
export async function ensureDemoConstellation(storage: TaskingStorage, now: Date | number = Date.now()): Promise<DemoResult> {
  const at = new Date(now);
  const stored = await storage.listTleSets();
  if (stored.length === 0) {
    const sets = demoConstellation(at).map((s) => tleRecord(s, demoSensor(s.name)!, at.getTime()));
    await storage.upsertTleSets(sets);
    return { action: 'created', count: sets.length };
  }
  const demo = stored.filter(isDemoSet);
  if (!demo.some((r) => at.getTime() - r.epoch > DEMO_REFRESH_AGE_DAYS * MS_PER_DAY)) return { action: 'kept', count: 0 };
  const fresh = new Map(demoConstellation(at).map((s) => [s.noradId, s]));
  const updated = demo.map((r) => {
    let set: ElementSet;
    try {
      set = reEpoch(parseTle(r.line1, r.line2, r.name), at);
    } catch {
      // A set that no longer parses or propagates (hand-edited store): start that satellite afresh.
      set = fresh.get(r.noradId)!;
    }
    return tleRecord(set, r.sensor, at.getTime());
  });
  await storage.upsertTleSets(updated);
  return { action: 'refreshed', count: updated.length };
}

/** `loadTleText` result: how many sets were stored, and each set that was not with its reason. */
export interface TleLoadResult {
  loaded: number;
  /** `line`: 1-based line of the set's first line; `name`: its name line, when it had one. */
  errors: { line: number; name: string | null; reason: string }[];
}

/**
 * Parses a TLE file (2- or 3-line sets; orbits/tle.ts `parseTleFile`) and stores every valid set under
 * `sensor`, `loadedAt` = `now` (ms). Rejected: invalid sets (the TleError reason), a set whose satellite
 * appears again later in the file with a newer or equal epoch, and a set older than the one already
 * stored for its satellite (the newer elements win). Never throws for bad input; storage errors propagate.
 */
export async function loadTleText(storage: TaskingStorage, text: string, sensor: Sensor, now: number = Date.now()): Promise<TleLoadResult> {
  const parsed = parseTleFile(text);
  const errors: TleLoadResult['errors'] = parsed.errors.map((e) => ({ line: e.line, name: e.name, reason: e.reason }));
  const storedEpoch = new Map((await storage.listTleSets()).map((r) => [r.noradId, r.epoch]));
  const lineOf = firstLines(text, parsed.sets);
  const newest = new Map<number, ElementSet>();
  for (const set of parsed.sets) {
    const prev = newest.get(set.noradId);
    if (prev && prev.epoch.getTime() > set.epoch.getTime()) {
      errors.push({
        line: lineOf.get(set)!,
        name: set.name,
        reason: `NORAD ${set.noradId} appears earlier in the file with a newer epoch`,
      });
      continue;
    }
    if (prev)
      errors.push({
        line: lineOf.get(prev)!,
        name: prev.name,
        reason: `NORAD ${prev.noradId} appears again later in the file with the same or a newer epoch`,
      });
    newest.set(set.noradId, set);
  }
  const records: TleRecord[] = [];
  for (const s of newest.values()) {
    const old = storedEpoch.get(s.noradId);
    if (old !== undefined && old > s.epoch.getTime()) {
      errors.push({
        line: lineOf.get(s)!,
        name: s.name,
        reason: `the stored element set of NORAD ${s.noradId} is newer (epoch ${new Date(old).toISOString()} > ${s.epoch.toISOString()})`,
      });
      continue;
    }
    records.push(tleRecord(s, sensor, now));
  }
  if (records.length) await storage.upsertTleSets(records);
  errors.sort((a, b) => a.line - b.line);
  return { loaded: records.length, errors };
}

/** 1-based line number of each accepted set's line 1 (the sets are in file order, as parseTleFile returns them). */
function firstLines(text: string, sets: readonly ElementSet[]): Map<ElementSet, number> {
  const at = new Map<string, number[]>();
  text.split(/\r?\n/).forEach((l, i) => {
    const t = l.trimEnd();
    if (t.startsWith('1 ')) at.set(t, [...(at.get(t) ?? []), i + 1]);
  });
  return new Map(sets.map((set) => [set, at.get(set.line1)?.shift() ?? 0]));
}
