/**
 * Checks and normalization of CQL2 literals shared by the text and JSON parsers: instants (RFC 3339,
 * OGC 21-065 §6.4.6 / §7.10), intervals, bounding boxes and GeoJSON coordinate structure (RFC 7946 §3.1).
 * Each check returns a message (or undefined); the caller adds where the literal was.
 */
import type { IntervalEnd, Position } from './ast.js';

const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function validDay(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** True for an RFC 3339 full-date `YYYY-MM-DD` that exists in the proleptic Gregorian calendar. */
export function isFullDate(text: string): boolean {
  const m = FULL_DATE.exec(text);
  return m !== null && validDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * An RFC 3339 date-time in UTC as `YYYY-MM-DDTHH:MM:SS[.fff…]Z` (offset applied, trailing fraction zeros
 * dropped, a leap second rolled into the next minute), so that equal instants compare equal as strings;
 * undefined when `text` is not a valid date-time or falls outside years 0000–9999 once in UTC.
 */
export function normalizeTimestamp(text: string): string | undefined {
  const m = DATE_TIME.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!validDay(year, month, day) || hour > 23 || minute > 59 || second > 60) return undefined;
  const fraction = (m[7] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
  const offsetMinutes = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  if (Number(m[9] ?? 0) > 23 || Number(m[10] ?? 0) > 59) return undefined;
  if (offsetMinutes === 0 && second < 60) return `${text.slice(0, 10)}T${text.slice(11, 19)}${fraction}Z`;
  // Date.UTC would read years below 100 as 19xx; setUTCFullYear takes the year as given.
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const iso = utc.toISOString();
  return /^\d{4}-/.test(iso) ? `${iso.slice(0, 19)}${fraction}Z` : undefined;
}

/** '..' (open end), a full-date as given, or a normalized timestamp; undefined when none of these. */
export function normalizeIntervalEndString(text: string): string | undefined {
  if (text === '..') return text;
  if (FULL_DATE.test(text)) return isFullDate(text) ? text : undefined;
  return normalizeTimestamp(text);
}

/** [ms since epoch at whole seconds, fraction of a second], the day's start or end for a date. */
function instantKey(instant: string, asEnd: boolean): [number, number] {
  if (instant.length === 10) return [Date.parse(`${instant}T00:00:00Z`) + (asEnd ? 86_400_000 : 0), 0];
  const fraction = instant.slice(19, -1);
  return [Date.parse(`${instant.slice(0, 19)}Z`), fraction === '' ? 0 : Number(`0${fraction}`)];
}

/** A message when both ends are literal instants and the start lies after the end (a date ends at its day's end). */
export function intervalProblem(start: IntervalEnd, end: IntervalEnd): string | undefined {
  if (typeof start !== 'string' || typeof end !== 'string' || start === '..' || end === '..') return undefined;
  const [a, fa] = instantKey(start, false);
  const [b, fb] = instantKey(end, true);
  // An end date runs up to, not including, the next midnight.
  const after = a > b || (a === b && (end.length === 10 || fa > fb));
  return after ? `interval starts (${start}) after it ends (${end})` : undefined;
}

/** [west, south, east, north] or [west, south, minZ, east, north, maxZ] with south ≤ north and minZ ≤ maxZ. */
export function bboxProblem(bbox: number[]): string | undefined {
  if (bbox.length !== 4 && bbox.length !== 6) return `a bbox has 4 or 6 numbers, got ${bbox.length}`;
  if (!bbox.every(Number.isFinite)) return 'bbox values must be finite numbers';
  const half = bbox.length / 2;
  if (bbox[1]! > bbox[half + 1]!) return `bbox south (${bbox[1]}) is greater than north (${bbox[half + 1]})`;
  if (half === 3 && bbox[2]! > bbox[5]!) return `bbox minimum height (${bbox[2]}) is greater than maximum (${bbox[5]})`;
  return undefined;
}

/** RFC 7946 §3.1.4: a LineString has two or more positions. */
export function lineStringProblem(positions: Position[]): string | undefined {
  return positions.length < 2 ? `a LineString needs at least 2 positions, got ${positions.length}` : undefined;
}

/** RFC 7946 §3.1.6: a linear ring has four or more positions and ends where it starts. */
export function ringProblem(ring: Position[]): string | undefined {
  if (ring.length < 4) return `a polygon ring needs at least 4 positions, got ${ring.length}`;
  const first = ring[0]!;
  const last = ring[ring.length - 1]!;
  const closed = first.length === last.length && first.every((c, i) => c === last[i]);
  return closed ? undefined : `polygon ring is not closed: it starts at (${first.join(' ')}) but ends at (${last.join(' ')})`;
}
