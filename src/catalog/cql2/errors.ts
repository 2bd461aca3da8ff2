/**
 * The one error type of the CQL2 front end. The Data API answers it as 400 (STAC `InvalidParameterValue`
 * or similar), so its message is written for the person who typed the filter.
 */

/**
 * A filter that is not valid CQL2 (OGC 21-065) or that this front end does not accept.
 * - `position`: 0-based offset (UTF-16 code units) into the CQL2 text where the problem was found,
 *   like V8's `JSON.parse` errors; -1 for CQL2-JSON input, which has no text.
 * - `path`: for CQL2-JSON, where in the document the problem is (`args[1].args[0]`, '' for the root);
 *   undefined for text input.
 * Both parsers throw nothing else, whatever the input.
 */
export class Cql2Error extends Error {
  override name = 'Cql2Error';
  constructor(
    message: string,
    readonly position: number = -1,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** Limits that keep hostile input from exhausting the stack, memory or CPU. */
export interface Cql2Limits {
  /** Deepest nesting of expressions, parentheses and geometry collections; default 64. */
  maxDepth?: number;
  /** Longest CQL2 text in characters; default 100,000 (a footprint polygon of a few thousand vertices). */
  maxLength?: number;
  /** Most values (operators, arguments, list items, coordinate positions) in a CQL2-JSON document; default 50,000. */
  maxNodes?: number;
}

/** The limits used where a call gives none. */
export const DEFAULT_LIMITS: Readonly<Required<Cql2Limits>> = { maxDepth: 64, maxLength: 100_000, maxNodes: 50_000 };

/** `limits` with the defaults filled in. */
export function resolveLimits(limits: Cql2Limits | undefined): Required<Cql2Limits> {
  return { ...DEFAULT_LIMITS, ...limits };
}
