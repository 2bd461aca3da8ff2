/**
 * CQL2 front end for the STAC API filter extension (OGC 21-065, Common Query Language):
 * `parseCql2Text` for `filter-lang=cql2-text`, `parseCql2Json` for `cql2-json`, both yielding the same
 * normalized CQL2-JSON AST; `cql2Properties` lists what a filter references, to check against the queryables.
 */
import type { Cql2Arg } from './ast.js';
import { isCql2Op, isIntervalLiteral, isPropertyRef } from './ast.js';

export * from './ast.js';
export { Cql2Error, DEFAULT_LIMITS, type Cql2Limits } from './errors.js';
export { parseCql2Json } from './json.js';
export { parseCql2Text } from './text.js';
export { COMPARISON_OPS, LOGICAL_OPS, SPATIAL_OPS, TEMPORAL_OPS } from './ops.js';

/**
 * The conformance classes (OGC 21-065 Annex A) whose filters both parsers accept. What a server may
 * advertise also depends on its evaluator supporting them.
 */
export const CQL2_CONFORMANCE_CLASSES = [
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-json',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2',
  'http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators',
  'http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison',
  'http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus',
  'http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/property-property',
] as const;

/**
 * The distinct property names a filter references (in `{property}` nodes, interval ends included), in
 * order of first appearance, e.g. `['eo:cloud_cover', 'datetime']`. Walks with an explicit stack, so any
 * AST depth is safe.
 */
export function cql2Properties(expr: Cql2Arg): string[] {
  const seen = new Set<string>();
  const stack: Cql2Arg[] = [expr];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isPropertyRef(node)) seen.add(node.property);
    const children = Array.isArray(node) ? node : isCql2Op(node) ? node.args : isIntervalLiteral(node) ? node.interval : [];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return [...seen];
}
