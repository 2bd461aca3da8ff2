/**
 * Two-line element sets (TLE): strict parsing, validation and generation.
 *
 * Format: NORAD/CelesTrak two-line element set ("Spacetrack Report #3" appendix, CelesTrak
 * "FAQs: Two-Line Element Set Format"), fixed columns, both lines exactly 69 characters, column 69
 * a modulo-10 checksum. satellite.js accepts any string (even `'garbage'`) without an error, so every
 * element set is validated here before it reaches SGP4.
 */

/** Why an element set was rejected; `line` (1 or 2) and `column` (1-based) point at the fault when known. */
export class TleError extends Error {
  override name = 'TleError';
  constructor(
    /** Human-readable reason, e.g. `line 1: checksum is 3, column 69 says 4`. */
    readonly reason: string,
    readonly line?: 1 | 2,
    readonly column?: number,
  ) {
    super(reason);
  }
}

/**
 * One validated element set. Angles in degrees, mean motion in revolutions per day, epoch in UTC.
 * `line1`/`line2` are the validated lines exactly as given (trailing blanks removed).
 */
export interface ElementSet {
  /** Name line (3-line sets, a leading `0 ` removed) or `NORAD <id>` when the set had none. */
  name: string;
  /** NORAD catalogue number (Alpha-5 letters decoded: `A0001` = 100001). */
  noradId: number;
  /** Security classification, column 8 of line 1: U, C or S. */
  classification: 'U' | 'C' | 'S';
  /** International designator, columns 10–17 of line 1 without blanks (`98067A`); `''` when blank. */
  intlDesignator: string;
  /** Epoch (UTC), to the millisecond. */
  epoch: Date;
  /** Four-digit epoch year (pivot: 57–99 → 19xx, 00–56 → 20xx). */
  epochYear: number;
  /** Epoch day of year with fraction, 1-based (1.0 = 1 January 00:00 UTC), exactly as printed. */
  epochDayOfYear: number;
  /** First derivative of mean motion divided by two, as printed (ṅ/2), rev/day². */
  meanMotionDot: number;
  /** Second derivative of mean motion divided by six, as printed (n̈/6), rev/day³. */
  meanMotionDdot: number;
  /** SGP4 drag term B*, 1/earth radii. */
  bstar: number;
  /** Ephemeris type, column 63 of line 1 (0 = SGP4). */
  ephemerisType: number;
  /** Element set number, columns 65–68 of line 1. */
  elementSetNumber: number;
  /** Inclination, degrees [0, 180]. */
  inclinationDeg: number;
  /** Right ascension of the ascending node, degrees [0, 360). */
  raanDeg: number;
  /** Eccentricity, [0, 1). */
  eccentricity: number;
  /** Argument of perigee, degrees [0, 360). */
  argPerigeeDeg: number;
  /** Mean anomaly, degrees [0, 360). */
  meanAnomalyDeg: number;
  /** Mean motion (Kozai), revolutions per day, > 0. */
  meanMotionRevPerDay: number;
  /** Revolution number at epoch (modulo 100000). */
  revolutionNumber: number;
  line1: string;
  line2: string;
}

/** The fields `formatTle` needs; every `ElementSet` is one. Optional fields default to 0 / blank / `U`. */
export type TleElements = Pick<
  ElementSet,
  'noradId' | 'epoch' | 'inclinationDeg' | 'raanDeg' | 'eccentricity' | 'argPerigeeDeg' | 'meanAnomalyDeg' | 'meanMotionRevPerDay' | 'bstar'
> &
  Partial<
    Pick<
      ElementSet,
      | 'classification'
      | 'intlDesignator'
      | 'epochYear'
      | 'epochDayOfYear'
      | 'meanMotionDot'
      | 'meanMotionDdot'
      | 'ephemerisType'
      | 'elementSetNumber'
      | 'revolutionNumber'
    >
  >;

/** `parseTleFile` result: the accepted sets in file order, and one entry per rejected set. */
export interface TleFileResult {
  sets: ElementSet[];
  /** `index`: 0-based ordinal of the set in the file (accepted and rejected counted); `line`: 1-based line number of its first line. */
  errors: { index: number; line: number; name: string | null; reason: string }[];
}

const MS_PER_DAY = 86_400_000;
const TLE_LENGTH = 69;

/**
 * Modulo-10 checksum of a TLE line over columns 1–68: digits add their value, `-` adds 1,
 * everything else (letters, blanks, `.`, `+`) adds 0.
 */
export function tleChecksum(line: string): number {
  let sum = 0;
  for (let i = 0; i < 68 && i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) sum += c - 48;
    else if (c === 45) sum += 1;
  }
  return sum % 10;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Decodes a TLE epoch: two-digit year (57–99 → 1957–1999, 00–56 → 2000–2056) and 1-based day of
 * year with fraction (day 366 only in leap years). Throws TleError when the day is out of range.
 */
export function tleEpochToDate(twoDigitYear: number, dayOfYear: number): Date {
  if (!Number.isInteger(twoDigitYear) || twoDigitYear < 0 || twoDigitYear > 99) {
    throw new TleError(`epoch year ${twoDigitYear} is not two digits`, 1, 19);
  }
  const year = twoDigitYear < 57 ? 2000 + twoDigitYear : 1900 + twoDigitYear;
  const days = isLeapYear(year) ? 366 : 365;
  if (!(dayOfYear >= 1 && dayOfYear < days + 1)) {
    throw new TleError(`epoch day ${dayOfYear} is outside 1–${days + 1} (exclusive) for ${year}`, 1, 21);
  }
  return new Date(Date.UTC(year, 0, 1) + Math.round((dayOfYear - 1) * MS_PER_DAY));
}

const ALPHA5 = 'ABCDEFGHJKLMNPQRSTUVWXYZ'; // I and O are skipped: they read as 1 and 0

function parseCatalogue(field: string, line: 1 | 2): number {
  if (/^[A-HJ-NP-Z]\d{4}$/.test(field)) return (10 + ALPHA5.indexOf(field[0]!)) * 10_000 + Number(field.slice(1));
  if (!/^ *\d+$/.test(field)) throw new TleError(`line ${line}: catalogue number '${field}' is not a number`, line, 3);
  return Number(field);
}

function formatCatalogue(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id > 339_999) throw new RangeError(`NORAD id ${id} is outside 0–339999`);
  if (id < 100_000) return String(id).padStart(5, '0');
  return ALPHA5[Math.floor(id / 10_000) - 10]! + String(id % 10_000).padStart(4, '0');
}

/** Decodes an assumed-decimal exponent field (` 28098-4` = 0.28098e-4; exponent sign blank = +). */
function parseExpField(field: string): number {
  const sign = field[0] === '-' ? -1 : 1;
  const exp = Number(field.slice(6, 8).replace(' ', '+'));
  return sign * Number(`0.${field.slice(1, 6)}`) * 10 ** exp;
}

/** Encodes a value in the 8-column assumed-decimal exponent form; zero is ` 00000-0`. */
function formatExpField(value: number, what: string): string {
  if (!Number.isFinite(value)) throw new RangeError(`${what} ${value} is not finite`);
  if (value === 0) return ' 00000-0';
  let exp = Math.floor(Math.log10(Math.abs(value))) + 1;
  let mantissa = Math.round((Math.abs(value) / 10 ** exp) * 1e5);
  if (mantissa >= 100_000) {
    mantissa = Math.round(mantissa / 10);
    exp += 1;
  }
  if (exp < -9) {
    // Below 0.1e-9 the mantissa loses leading digits (0.00064e-9) and finally rounds to zero.
    mantissa = Math.round((Math.abs(value) / 1e-9) * 1e5);
    exp = -9;
  }
  if (mantissa === 0) return ' 00000-0';
  if (exp > 9) throw new RangeError(`${what} ${value} does not fit the TLE exponent field`);
  return `${value < 0 ? '-' : ' '}${String(mantissa).padStart(5, '0')}${exp < 0 ? '-' : '+'}${Math.abs(exp)}`;
}

interface FieldSpec {
  name: string;
  /** 1-based first and last column (inclusive). */
  from: number;
  to: number;
  pattern: RegExp;
}

const LINE1_FIELDS: FieldSpec[] = [
  { name: 'classification', from: 8, to: 8, pattern: /^[UCS ]$/ },
  { name: 'international designator', from: 10, to: 17, pattern: /^(?:\d{5}[A-Z]{1,3} *| {8})$/ },
  { name: 'epoch year', from: 19, to: 20, pattern: /^\d{2}$/ },
  { name: 'epoch day', from: 21, to: 32, pattern: /^ {0,2}\d{1,3}\.\d{8}$/ },
  { name: 'mean motion first derivative', from: 34, to: 43, pattern: /^[ +-]\.\d{8}$/ },
  { name: 'mean motion second derivative', from: 45, to: 52, pattern: /^[ +-]\d{5}[ +-]\d$/ },
  { name: 'bstar', from: 54, to: 61, pattern: /^[ +-]\d{5}[ +-]\d$/ },
  { name: 'ephemeris type', from: 63, to: 63, pattern: /^[\d ]$/ },
  { name: 'element set number', from: 65, to: 68, pattern: /^ *\d+$/ },
];
const LINE1_BLANKS = [2, 9, 18, 33, 44, 53, 62, 64];

const ANGLE = /^ {0,2}\d{1,3}\.\d{4}$/;
const LINE2_FIELDS: FieldSpec[] = [
  { name: 'inclination', from: 9, to: 16, pattern: ANGLE },
  { name: 'right ascension of the ascending node', from: 18, to: 25, pattern: ANGLE },
  { name: 'eccentricity', from: 27, to: 33, pattern: /^\d{7}$/ },
  { name: 'argument of perigee', from: 35, to: 42, pattern: ANGLE },
  { name: 'mean anomaly', from: 44, to: 51, pattern: ANGLE },
  { name: 'mean motion', from: 53, to: 63, pattern: /^ {0,2}\d{1,2}\.\d{8}$/ },
  { name: 'revolution number', from: 64, to: 68, pattern: /^ *\d+$/ },
];
const LINE2_BLANKS = [2, 8, 17, 26, 34, 43, 52];

function checkFields(line: string, lineNo: 1 | 2, fields: FieldSpec[], blanks: number[]): Record<string, string> {
  for (const col of blanks) {
    if (line[col - 1] !== ' ') throw new TleError(`line ${lineNo}: column ${col} must be blank, found '${line[col - 1]}'`, lineNo, col);
  }
  const out: Record<string, string> = {};
  for (const f of fields) {
    const text = line.slice(f.from - 1, f.to);
    if (!f.pattern.test(text)) {
      throw new TleError(`line ${lineNo}: ${f.name} (columns ${f.from}–${f.to}) '${text}' is malformed`, lineNo, f.from);
    }
    out[f.name] = text;
  }
  return out;
}

function checkStructure(line: string, lineNo: 1 | 2): void {
  if (line.length !== TLE_LENGTH) throw new TleError(`line ${lineNo}: length is ${line.length}, must be ${TLE_LENGTH}`, lineNo);
  if (line[0] !== String(lineNo)) throw new TleError(`line ${lineNo}: line number is '${line[0]}', must be '${lineNo}'`, lineNo, 1);
  const declared = line[68]!;
  if (!/\d/.test(declared)) throw new TleError(`line ${lineNo}: checksum column 69 '${declared}' is not a digit`, lineNo, 69);
  const actual = tleChecksum(line);
  if (actual !== Number(declared)) throw new TleError(`line ${lineNo}: checksum is ${actual}, column 69 says ${declared}`, lineNo, 69);
}

function inRange(value: number, min: number, max: number, what: string, lineNo: 1 | 2, col: number): number {
  if (!(value >= min && value <= max)) throw new TleError(`line ${lineNo}: ${what} ${value} is outside [${min}, ${max}]`, lineNo, col);
  return value;
}

/**
 * Parses and validates one element set. Checks, in order: length 69 (trailing blanks/CR removed),
 * line numbers `1`/`2`, the modulo-10 checksum of each line, catalogue numbers (equal on both
 * lines), blank separator columns, every field's format, the epoch (pivot 57, 1-based day, day 366
 * only in leap years) and value ranges (0 ≤ i ≤ 180°, angles in [0, 360], 0 ≤ e < 1, n > 0).
 * Throws TleError (with `reason`, `line`, `column`) on the first fault.
 */
export function parseTle(line1: string, line2: string, name?: string | null): ElementSet {
  const l1 = line1.trimEnd();
  const l2 = line2.trimEnd();
  checkStructure(l1, 1);
  checkStructure(l2, 2);
  const id1 = parseCatalogue(l1.slice(2, 7), 1);
  const id2 = parseCatalogue(l2.slice(2, 7), 2);
  if (id1 !== id2) throw new TleError(`catalogue numbers differ: line 1 says ${id1}, line 2 says ${id2}`, 2, 3);
  const f1 = checkFields(l1, 1, LINE1_FIELDS, LINE1_BLANKS);
  const f2 = checkFields(l2, 2, LINE2_FIELDS, LINE2_BLANKS);

  const yy = Number(f1['epoch year']);
  const day = Number(f1['epoch day']);
  const epoch = tleEpochToDate(yy, day);
  const meanMotion = Number(f2['mean motion']);
  if (!(meanMotion > 0)) throw new TleError(`line 2: mean motion ${meanMotion} must be > 0`, 2, 53);
  const eccentricity = Number(`0.${f2['eccentricity']}`);
  const classification = f1['classification']!.trim() || 'U';

  return {
    name: name?.trim() || `NORAD ${id1}`,
    noradId: id1,
    classification: classification as ElementSet['classification'],
    intlDesignator: f1['international designator']!.trim(),
    epoch,
    epochYear: epoch.getUTCFullYear(),
    epochDayOfYear: day,
    meanMotionDot: Number(f1['mean motion first derivative']!.replace(/^([ +-])\./, '$10.').trim()),
    meanMotionDdot: parseExpField(f1['mean motion second derivative']!),
    bstar: parseExpField(f1['bstar']!),
    ephemerisType: Number(f1['ephemeris type']!.trim() || '0'),
    elementSetNumber: Number(f1['element set number']),
    inclinationDeg: inRange(Number(f2['inclination']), 0, 180, 'inclination', 2, 9),
    raanDeg: inRange(Number(f2['right ascension of the ascending node']), 0, 360, 'right ascension of the ascending node', 2, 18),
    eccentricity: inRange(eccentricity, 0, 0.9999999, 'eccentricity', 2, 27),
    argPerigeeDeg: inRange(Number(f2['argument of perigee']), 0, 360, 'argument of perigee', 2, 35),
    meanAnomalyDeg: inRange(Number(f2['mean anomaly']), 0, 360, 'mean anomaly', 2, 44),
    meanMotionRevPerDay: meanMotion,
    revolutionNumber: Number(f2['revolution number']),
    line1: l1,
    line2: l2,
  };
}

const isLine1 = (s: string): boolean => s.startsWith('1 ');
const isLine2 = (s: string): boolean => s.startsWith('2 ');

/**
 * Parses a text of element sets: 2-line sets, or 3-line sets whose name line precedes line 1 (a
 * Space-Track `0 ` prefix is removed). LF or CRLF, blank lines ignored. Never throws for bad sets:
 * each rejected set (including a line 1 without its line 2, a line 2 without a line 1, or a name
 * line followed by no elements) becomes an `errors` entry with the TleError reason.
 */
export function parseTleFile(text: string): TleFileResult {
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => ({ text: l.trimEnd(), no: i + 1 }))
    .filter((l) => l.text !== '');
  const result: TleFileResult = { sets: [], errors: [] };
  let index = 0;
  const fail = (line: number, name: string | null, reason: string): void => {
    result.errors.push({ index: index++, line, name, reason });
  };
  let i = 0;
  while (i < lines.length) {
    const cur = lines[i]!;
    let name: string | null = null;
    let first = cur;
    if (!isLine1(cur.text) && !isLine2(cur.text)) {
      name = cur.text.replace(/^0 /, '').trim();
      const next = lines[i + 1];
      if (!next || (!isLine1(next.text) && !isLine2(next.text))) {
        fail(cur.no, name, `name line '${name}' is not followed by element lines`);
        i += 1;
        continue;
      }
      first = next;
      i += 1;
    }
    if (isLine2(first.text)) {
      fail(first.no, name, 'line 2 without a preceding line 1');
      i += 1;
      continue;
    }
    const second = lines[i + 1];
    if (!second || !isLine2(second.text)) {
      fail(first.no, name, 'line 1 is not followed by a line 2');
      i += 1;
      continue;
    }
    try {
      result.sets.push(parseTle(first.text, second.text, name));
      index++;
    } catch (err) {
      if (!(err instanceof TleError)) throw err;
      fail(first.no, name, err.reason);
    }
    i += 2;
  }
  return result;
}

/** `%w.df` right-justified, e.g. fixed(51.6429, 8, 4) = ' 51.6429'; throws when it does not fit. */
function fixed(value: number, width: number, decimals: number, what: string): string {
  const s = value.toFixed(decimals);
  if (s.length > width || !Number.isFinite(value)) throw new RangeError(`${what} ${value} does not fit ${width} columns`);
  return s.padStart(width, ' ');
}

/** Angle in [0, 360) after rounding to 4 decimals (359.99996 → 0.0000). */
function angle360(deg: number, what: string): string {
  if (!Number.isFinite(deg)) throw new RangeError(`${what} ${deg} is not finite`);
  let a = Number((((deg % 360) + 360) % 360).toFixed(4));
  if (a >= 360) a = 0;
  return fixed(a, 8, 4, what);
}

/** Epoch as [two-digit year, 'DDD.DDDDDDDD'], reusing the printed day when it matches `epoch` to 1 ms. */
function formatEpoch(el: TleElements): [string, string] {
  const ms = el.epoch.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('epoch is not a valid date');
  const year = el.epoch.getUTCFullYear();
  let day: number;
  if (el.epochYear !== undefined && el.epochDayOfYear !== undefined && el.epochYear === year) {
    const printed = Date.UTC(year, 0, 1) + (el.epochDayOfYear - 1) * MS_PER_DAY;
    day = Math.abs(printed - ms) <= 1 ? el.epochDayOfYear : (ms - Date.UTC(year, 0, 1)) / MS_PER_DAY + 1;
  } else {
    day = (ms - Date.UTC(year, 0, 1)) / MS_PER_DAY + 1;
  }
  // With millisecond dates the day never rounds up to the next year: 1 ms = 1.16e-8 d > the 0.5e-8 d rounding step.
  const dayText = day.toFixed(8);
  if (year < 1957 || year > 2056) throw new RangeError(`epoch year ${year} is outside 1957–2056 (two-digit TLE years)`);
  return [String(year % 100).padStart(2, '0'), dayText.padStart(12, '0')];
}

/** ṅ/2 in the ` .00000000` form (leading zero dropped). */
function formatNdot(value: number): string {
  const s = Math.abs(value).toFixed(8);
  if (!Number.isFinite(value) || !s.startsWith('0.')) throw new RangeError(`mean motion first derivative ${value} must be within ±1`);
  return `${value < 0 && Number(s) !== 0 ? '-' : ' '}${s.slice(1)}`;
}

function withChecksum(body: string): string {
  return body + String(tleChecksum(body));
}

/**
 * Generates the two 69-column lines of an element set, checksums included: fixed columns,
 * `%8.4f` angles, 7-digit assumed-decimal eccentricity, `%11.8f` mean motion, assumed-decimal
 * exponent fields for n̈/6 and B*. Output parses back with `parseTle` to the same values (at the
 * printed precision). Throws RangeError for values the format cannot hold (epoch outside 1957–2056,
 * e ≥ 1 after rounding, i outside [0, 180], n outside (0, 100), NORAD id outside 0–339999).
 */
export function formatTle(el: TleElements): { line1: string; line2: string } {
  const id = formatCatalogue(el.noradId);
  const [yy, day] = formatEpoch(el);
  const intl = (el.intlDesignator ?? '').padEnd(8, ' ');
  if (intl.length !== 8) throw new RangeError(`international designator '${el.intlDesignator}' is longer than 8 characters`);
  const elset = String((el.elementSetNumber ?? 0) % 10_000).padStart(4, ' ');
  const body1 =
    `1 ${id}${el.classification ?? 'U'} ${intl} ${yy}${day} ${formatNdot(el.meanMotionDot ?? 0)} ` +
    `${formatExpField(el.meanMotionDdot ?? 0, 'mean motion second derivative')} ${formatExpField(el.bstar, 'bstar')} ` +
    `${el.ephemerisType ?? 0} ${elset}`;

  if (!(el.inclinationDeg >= 0 && el.inclinationDeg <= 180)) throw new RangeError(`inclination ${el.inclinationDeg} is outside [0, 180]`);
  const ecc = Math.round(el.eccentricity * 1e7);
  if (!(ecc >= 0 && ecc < 1e7)) throw new RangeError(`eccentricity ${el.eccentricity} is outside [0, 1)`);
  const n = fixed(el.meanMotionRevPerDay, 11, 8, 'mean motion');
  if (!(Number(n) > 0)) throw new RangeError(`mean motion ${el.meanMotionRevPerDay} must be > 0`);
  const rev = String(Math.trunc(el.revolutionNumber ?? 0) % 100_000).padStart(5, ' ');
  const body2 =
    `2 ${id} ${fixed(el.inclinationDeg, 8, 4, 'inclination')} ${angle360(el.raanDeg, 'RAAN')} ${String(ecc).padStart(7, '0')} ` +
    `${angle360(el.argPerigeeDeg, 'argument of perigee')} ${angle360(el.meanAnomalyDeg, 'mean anomaly')} ${n}${rev}`;
  return { line1: withChecksum(body1), line2: withChecksum(body2) };
}
