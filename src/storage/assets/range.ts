/**
 * Byte ranges (RFC 9110 §14.1–14.4): the `Range` header parsed once, resolved against an asset's size
 * the same way by every store, and written back for S3.
 */
import type { ByteRange } from './types.js';

// Each run of spaces is followed by something that is not a space (a digit, `-`, the end): no two `\s*`
// meet around an empty `\d*`, so a header of thousands of spaces fails in linear time, not quadratic.
const SINGLE = /^\s*bytes\s*=\s*(?:(\d+)\s*)?-\s*(?:(\d+)\s*)?$/;

/**
 * The one byte range a `Range` header asks for. Undefined (serve the whole asset, as RFC 9110 §14.2
 * allows) when there is no header, another unit, a malformed value or several ranges (as
 * @fastify/send served them). `bytes=5-2` is kept: it is unsatisfiable whatever the size (416).
 */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  const m = header === undefined ? null : SINGLE.exec(header);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  // Leading zeros do not make a position large (`bytes=0000000000000000001-2` is bytes 1-2).
  const num = (s: string) => {
    const digits = s.replace(/^0+(?=\d)/, '');
    return digits.length > 15 ? Number.MAX_SAFE_INTEGER : Number(digits);
  };
  if (a === '' && b === '') return undefined;
  if (a === '') return { suffix: num(b) };
  return b === '' ? { first: num(a) } : { first: num(a), last: num(b) };
}

/**
 * The inclusive bytes `range` selects of an asset of `size` bytes, or undefined when none
 * (first past the end, last before first, a zero suffix, an empty asset): a 416. A `last` past
 * the end is clamped and a suffix longer than the asset selects all of it (§14.1.2).
 */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } | undefined {
  if ('suffix' in range) {
    if (range.suffix === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.first >= size || (range.last !== undefined && range.last < range.first)) return undefined;
  return { start: range.first, end: Math.min(range.last ?? size - 1, size - 1) };
}

/** Whether `range` can select bytes of some asset (`5-2` and `-0` never do). */
export function canSatisfy(range: ByteRange): boolean {
  return 'suffix' in range ? range.suffix > 0 : range.last === undefined || range.last >= range.first;
}

/** The `Range` header value asking for `range`. */
export function rangeHeader(range: ByteRange): string {
  return 'suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.first}-${range.last ?? ''}`;
}
