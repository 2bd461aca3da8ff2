/**
 * The operators this front end accepts, with their canonical CQL2-JSON spelling, arity and argument kinds
 * (OGC 21-065 §7 conformance classes Basic CQL2, Advanced Comparison Operators, Case-/Accent-insensitive
 * Comparison, Basic Spatial Functions (+ Plus), Spatial Functions, Temporal Functions, Property-Property).
 * Both parsers check arguments through {@link argProblem}, so text and JSON accept exactly the same filters.
 */
import { isBboxLiteral, isCql2Op, isDateLiteral, isGeometryLiteral, isIntervalLiteral, isPropertyRef, isTimestampLiteral } from './ast.js';
import type { Cql2Arg } from './ast.js';

/**
 * What an argument position accepts:
 * - boolean: a predicate or TRUE/FALSE; scalar: string, number, boolean, NULL, TIMESTAMP, DATE, property,
 *   CASEI/ACCENTI or a predicate (`scalarExpression`); character: string, property, CASEI/ACCENTI;
 * - pattern: a string or CASEI/ACCENTI of a pattern (`patternExpression`); numeric: number or property;
 * - list: the parenthesized list of IN; spatial: geometry, BBOX or property; temporal: TIMESTAMP, DATE,
 *   INTERVAL or property; value: anything but a list (the operand of IS NULL).
 */
export type ArgKind = 'boolean' | 'scalar' | 'character' | 'pattern' | 'numeric' | 'list' | 'spatial' | 'temporal' | 'value';

export interface OpSpec {
  /** Canonical CQL2-JSON name, e.g. `t_metBy`. */
  name: string;
  minArgs: number;
  maxArgs: number;
  /** Kind of argument i; the last entry repeats for n-ary ops. */
  kinds: ArgKind[];
  /** What the op yields: a truth value (a predicate) or a string (CASEI, ACCENTI). */
  returns: 'boolean' | 'character';
}

/** Canonical names of the logical (§7.3), comparison (§7.2), spatial (§7.7–7.9) and temporal (§7.10) ops. */
export const LOGICAL_OPS = ['and', 'or', 'not'] as const;
export const COMPARISON_OPS = ['=', '<>', '<', '<=', '>', '>='] as const;
export const SPATIAL_OPS = [
  's_intersects',
  's_equals',
  's_disjoint',
  's_touches',
  's_within',
  's_overlaps',
  's_crosses',
  's_contains',
] as const;
export const TEMPORAL_OPS = [
  't_after',
  't_before',
  't_contains',
  't_disjoint',
  't_during',
  't_equals',
  't_finishedBy',
  't_finishes',
  't_intersects',
  't_meets',
  't_metBy',
  't_overlappedBy',
  't_overlaps',
  't_startedBy',
  't_starts',
] as const;

const SPECS: OpSpec[] = [
  { name: 'and', minArgs: 2, maxArgs: Infinity, kinds: ['boolean'], returns: 'boolean' },
  { name: 'or', minArgs: 2, maxArgs: Infinity, kinds: ['boolean'], returns: 'boolean' },
  { name: 'not', minArgs: 1, maxArgs: 1, kinds: ['boolean'], returns: 'boolean' },
  ...COMPARISON_OPS.map((name): OpSpec => ({ name, minArgs: 2, maxArgs: 2, kinds: ['scalar'], returns: 'boolean' })),
  { name: 'like', minArgs: 2, maxArgs: 2, kinds: ['character', 'pattern'], returns: 'boolean' },
  { name: 'between', minArgs: 3, maxArgs: 3, kinds: ['numeric'], returns: 'boolean' },
  { name: 'in', minArgs: 2, maxArgs: 2, kinds: ['scalar', 'list'], returns: 'boolean' },
  { name: 'isNull', minArgs: 1, maxArgs: 1, kinds: ['value'], returns: 'boolean' },
  { name: 'casei', minArgs: 1, maxArgs: 1, kinds: ['character'], returns: 'character' },
  { name: 'accenti', minArgs: 1, maxArgs: 1, kinds: ['character'], returns: 'character' },
  ...SPATIAL_OPS.map((name): OpSpec => ({ name, minArgs: 2, maxArgs: 2, kinds: ['spatial'], returns: 'boolean' })),
  ...TEMPORAL_OPS.map((name): OpSpec => ({ name, minArgs: 2, maxArgs: 2, kinds: ['temporal'], returns: 'boolean' })),
];

const BY_LOWER_NAME = new Map(SPECS.map((spec) => [spec.name.toLowerCase(), spec]));

/** The op named `name`, matched case-insensitively (`ISNULL`, `T_METBY`, …); undefined when not accepted. */
export function lookupOp(name: string): OpSpec | undefined {
  return BY_LOWER_NAME.get(name.toLowerCase());
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%', '^', 'div']);
const ARRAY_FUNCTIONS = new Set(['a_equals', 'a_contains', 'a_containedby', 'a_overlaps']);

/** Why a CQL2 op outside the accepted classes is refused, for the error message ('' when it is simply unknown). */
export function unsupportedHint(name: string): string {
  const lower = name.toLowerCase();
  if (ARITHMETIC.has(lower)) return ' (arithmetic expressions are not supported)';
  if (ARRAY_FUNCTIONS.has(lower)) return ' (array functions are not supported)';
  return '';
}

type NodeKind = 'predicate' | 'character' | 'other-op' | 'property' | 'string' | 'number' | 'boolean' | 'null' | 'timestamp' | 'date';
type FullKind = NodeKind | 'interval' | 'geometry' | 'bbox' | 'list' | 'unknown';

function nodeKind(arg: Cql2Arg): FullKind {
  if (arg === null) return 'null';
  if (Array.isArray(arg)) return 'list';
  if (typeof arg === 'string') return 'string';
  if (typeof arg === 'number') return 'number';
  if (typeof arg === 'boolean') return 'boolean';
  if (isCql2Op(arg)) {
    const spec = lookupOp(arg.op);
    return spec === undefined ? 'other-op' : spec.returns === 'boolean' ? 'predicate' : 'character';
  }
  if (isPropertyRef(arg)) return 'property';
  if (isTimestampLiteral(arg)) return 'timestamp';
  if (isDateLiteral(arg)) return 'date';
  if (isIntervalLiteral(arg)) return 'interval';
  if (isBboxLiteral(arg)) return 'bbox';
  if (isGeometryLiteral(arg)) return 'geometry';
  return 'unknown';
}

const ACCEPTED: Record<Exclude<ArgKind, 'pattern'>, ReadonlySet<FullKind>> = {
  boolean: new Set(['boolean', 'predicate']),
  scalar: new Set(['string', 'number', 'boolean', 'null', 'timestamp', 'date', 'property', 'character', 'predicate']),
  character: new Set(['string', 'property', 'character']),
  numeric: new Set(['number', 'property']),
  list: new Set(['list']),
  spatial: new Set(['geometry', 'bbox', 'property']),
  temporal: new Set(['timestamp', 'date', 'interval', 'property']),
  value: new Set([
    'string',
    'number',
    'boolean',
    'null',
    'timestamp',
    'date',
    'interval',
    'geometry',
    'bbox',
    'property',
    'character',
    'predicate',
  ]),
};

const EXPECTED: Record<ArgKind, string> = {
  boolean: 'a predicate or TRUE/FALSE',
  scalar: 'a string, number, boolean, TIMESTAMP, DATE, CASEI/ACCENTI or property',
  character: 'a string, property, CASEI or ACCENTI',
  pattern: 'a string pattern, or CASEI/ACCENTI of one',
  numeric: 'a number or property',
  list: 'a list of values (an array in JSON)',
  spatial: 'a geometry (WKT or GeoJSON), BBOX or property',
  temporal: 'a TIMESTAMP, DATE, INTERVAL or property',
  value: 'a property or a literal',
};

/** CASEI/ACCENTI nesting that ends in a string literal (`patternExpression`). */
function isPattern(arg: Cql2Arg): boolean {
  let node = arg;
  while (isCql2Op(node) && nodeKind(node) === 'character' && node.args.length === 1) node = node.args[0]!;
  return typeof node === 'string';
}

/** How an argument reads in an error message: "a string", "property 'eo:cloud_cover'", "a like expression", …. */
export function describeArg(arg: Cql2Arg): string {
  const kind = nodeKind(arg);
  switch (kind) {
    case 'predicate':
    case 'character':
    case 'other-op':
      return `${(arg as { op: string }).op}(…)`;
    case 'property':
      return `property '${(arg as { property: string }).property}'`;
    case 'null':
      return 'NULL';
    case 'timestamp':
    case 'date':
    case 'interval':
    case 'bbox':
      return `a ${kind.toUpperCase()}`;
    case 'geometry':
      return `a ${(arg as { type: string }).type} geometry`;
    default:
      return `a ${kind}`;
  }
}

/** Undefined when `arg` fits `kind`, else a message like "expected a number or property, found a string". */
export function argProblem(kind: ArgKind, arg: Cql2Arg): string | undefined {
  const fits = kind === 'pattern' ? isPattern(arg) : ACCEPTED[kind].has(nodeKind(arg));
  if (fits) return undefined;
  const hint = kind === 'scalar' && isGeometryLiteral(arg) ? ' (compare geometries with S_EQUALS)' : '';
  return `expected ${EXPECTED[kind]}, found ${describeArg(arg)}${hint}`;
}

/**
 * Checks the argument count and each argument's kind (list items are the caller's, since only it knows
 * where they are). Returns the offending argument index (-1 for a wrong count) and a message, or undefined.
 */
export function opProblem(spec: OpSpec, args: Cql2Arg[], displayName: string): { index: number; message: string } | undefined {
  if (args.length < spec.minArgs || args.length > spec.maxArgs) {
    const wanted = spec.maxArgs === Infinity ? `at least ${spec.minArgs}` : `${spec.minArgs}`;
    return { index: -1, message: `${displayName} takes ${wanted} argument${spec.minArgs === 1 ? '' : 's'}, got ${args.length}` };
  }
  for (let i = 0; i < args.length; i++) {
    const kind = spec.kinds[Math.min(i, spec.kinds.length - 1)]!;
    const problem = argProblem(kind, args[i]!);
    if (problem) return { index: i, message: `${displayName} argument ${i + 1}: ${problem}` };
  }
  return undefined;
}
