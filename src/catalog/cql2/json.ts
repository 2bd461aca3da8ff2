/**
 * CQL2-JSON (OGC 21-065 §8, the STAC API filter extension's `filter-lang=cql2-json`): validates an already
 * parsed JSON document and returns it as the normalized AST ({@link Cql2Expr}).
 */
import type { Cql2Arg, Cql2Expr, Cql2Op, GeometryLiteral, IntervalEnd, Position } from './ast.js';
import { GEOMETRY_TYPES } from './ast.js';
import { Cql2Error, resolveLimits, type Cql2Limits } from './errors.js';
import {
  bboxProblem,
  intervalProblem,
  isFullDate,
  lineStringProblem,
  normalizeIntervalEndString,
  normalizeTimestamp,
  ringProblem,
} from './literals.js';
import { argProblem, lookupOp, opProblem, unsupportedHint } from './ops.js';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function member(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

// 'type' before 'bbox': a GeoJSON geometry may carry a bbox member.
const LITERAL_KEYS = ['op', 'property', 'timestamp', 'date', 'interval', 'type', 'bbox'] as const;

/** Walks one document; counts values against the limits as it goes. */
class JsonValidator {
  private nodes = 0;
  constructor(private readonly limits: Required<Cql2Limits>) {}

  fail(message: string, path: string): never {
    throw new Cql2Error(`${message} at ${path === '' ? 'the root' : path}`, -1, path);
  }

  private visit(path: string, depth: number): void {
    if (++this.nodes > this.limits.maxNodes) this.fail(`filter is too large (more than ${this.limits.maxNodes} values)`, path);
    if (depth > this.limits.maxDepth) this.fail(`filter is nested too deeply (more than ${this.limits.maxDepth} levels)`, path);
  }

  arg(value: unknown, path: string, depth: number): Cql2Arg {
    this.visit(path, depth);
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? value : this.fail('numbers must be finite', path);
    if (Array.isArray(value)) return value.map((item, i) => this.arg(item, `${path}[${i}]`, depth + 1));
    if (!isRecord(value)) return this.fail(`unexpected ${typeName(value)}`, path);
    const key = LITERAL_KEYS.find((k) => Object.hasOwn(value, k));
    switch (key) {
      case 'op':
        return this.op(value, path, depth);
      case 'type':
        return this.geometry(value, path, depth);
      case undefined: {
        const keys = Object.keys(value)
          .slice(0, 3)
          .map((k) => `'${k}'`);
        const found = keys.length === 0 ? 'an empty object' : `an object with ${keys.join(', ')}`;
        return this.fail(`expected an expression ({op, args}), {property}, a literal or a geometry, found ${found}`, path);
      }
      default:
        return this.literal(key, value, path);
    }
  }

  private only(value: Json, keys: string[], path: string): void {
    const extra = Object.keys(value).find((k) => !keys.includes(k));
    if (extra !== undefined) this.fail(`unexpected member '${extra}' next to '${keys[0]}'`, path);
  }

  private op(value: Json, path: string, depth: number): Cql2Op {
    this.only(value, ['op', 'args'], path);
    const name = value['op'];
    if (typeof name !== 'string') return this.fail(`op must be a string, found ${typeName(name)}`, path);
    const spec = lookupOp(name);
    if (spec === undefined) return this.fail(`unknown op '${name}'${unsupportedHint(name)}`, path);
    const rawArgs = value['args'];
    if (!Array.isArray(rawArgs)) return this.fail(`'${spec.name}' needs an args array, found ${typeName(rawArgs)}`, member(path, 'args'));
    const argsPath = member(path, 'args');
    const args = rawArgs.map((a, i) => this.arg(a, `${argsPath}[${i}]`, depth + 1));
    const problem = opProblem(spec, args, `'${spec.name}'`);
    if (problem) this.fail(problem.message, problem.index < 0 ? path : `${argsPath}[${problem.index}]`);
    if (spec.name === 'in') this.inList(args[1] as Cql2Arg[], `${argsPath}[1]`);
    return { op: spec.name, args };
  }

  private inList(list: Cql2Arg[], path: string): void {
    if (list.length === 0) this.fail("the list of 'in' is empty", path);
    list.forEach((item, i) => {
      const problem = argProblem('scalar', item);
      if (problem) this.fail(`'in' list item: ${problem}`, `${path}[${i}]`);
    });
  }

  private literal(key: 'property' | 'timestamp' | 'date' | 'interval' | 'bbox', value: Json, path: string): Cql2Arg {
    this.only(value, [key], path);
    const inner = value[key];
    const at = member(path, key);
    switch (key) {
      case 'property':
        if (typeof inner !== 'string' || inner === '') return this.fail('property must be a non-empty string', at);
        return { property: inner };
      case 'timestamp': {
        const ts = typeof inner === 'string' ? normalizeTimestamp(inner) : undefined;
        return ts === undefined
          ? this.fail(`timestamp ${show(inner)} is not an RFC 3339 date-time like 2020-01-31T12:00:00Z`, at)
          : { timestamp: ts };
      }
      case 'date':
        if (typeof inner !== 'string' || !isFullDate(inner))
          return this.fail(`date ${show(inner)} is not an RFC 3339 full-date like 2020-01-31`, at);
        return { date: inner };
      case 'interval':
        return { interval: this.interval(inner, at) };
      case 'bbox': {
        if (!Array.isArray(inner) || !inner.every((n) => typeof n === 'number')) return this.fail('bbox must be an array of numbers', at);
        const problem = bboxProblem(inner);
        return problem ? this.fail(problem, at) : { bbox: [...inner] };
      }
    }
  }

  private interval(inner: unknown, path: string): [IntervalEnd, IntervalEnd] {
    if (!Array.isArray(inner) || inner.length !== 2) return this.fail('interval must be an array of 2 ends', path);
    const ends = inner.map((end, i): IntervalEnd => {
      if (isRecord(end) && typeof end['property'] === 'string' && end['property'] !== '' && Object.keys(end).length === 1) {
        return { property: end['property'] };
      }
      const normalized = typeof end === 'string' ? normalizeIntervalEndString(end) : undefined;
      if (normalized === undefined) this.fail(`interval end ${show(end)} is not '..', a date, a timestamp or {property}`, `${path}[${i}]`);
      return normalized;
    }) as [IntervalEnd, IntervalEnd];
    const problem = intervalProblem(ends[0], ends[1]);
    return problem ? this.fail(problem, path) : ends;
  }

  private geometry(value: Json, path: string, depth: number): GeometryLiteral {
    const type = value['type'];
    if (typeof type !== 'string' || !(GEOMETRY_TYPES as readonly string[]).includes(type)) {
      return this.fail(`type ${show(type)} is not a GeoJSON geometry type (${GEOMETRY_TYPES.join(', ')})`, member(path, 'type'));
    }
    const body = type === 'GeometryCollection' ? 'geometries' : 'coordinates';
    this.only(value, ['type', body, 'bbox'], path);
    if (type === 'GeometryCollection') return { type, geometries: this.collection(value['geometries'], member(path, body), depth) };
    const coords = new Coordinates(this, member(path, body));
    const raw = value['coordinates'];
    switch (type) {
      case 'Point':
        return { type, coordinates: coords.position(raw, coords.root) };
      case 'LineString':
        return { type, coordinates: coords.line(raw, coords.root) };
      case 'Polygon':
        return { type, coordinates: coords.polygon(raw, coords.root) };
      case 'MultiPoint':
        return { type, coordinates: coords.many(raw, coords.root, 'MultiPoint', (p, at) => coords.position(p, at)) };
      case 'MultiLineString':
        return { type, coordinates: coords.many(raw, coords.root, 'MultiLineString', (l, at) => coords.line(l, at)) };
      default:
        return { type: 'MultiPolygon', coordinates: coords.many(raw, coords.root, 'MultiPolygon', (p, at) => coords.polygon(p, at)) };
    }
  }

  private collection(raw: unknown, path: string, depth: number): GeometryLiteral[] {
    if (!Array.isArray(raw) || raw.length === 0) return this.fail('a GeometryCollection needs a non-empty geometries array', path);
    return raw.map((g, i) => {
      const at = `${path}[${i}]`;
      this.visit(at, depth + 1);
      return isRecord(g) && Object.hasOwn(g, 'type')
        ? this.geometry(g, at, depth + 1)
        : this.fail(`expected a geometry, found ${typeName(g)}`, at);
    });
  }

  countPosition(path: string): void {
    this.visit(path, 0);
  }
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'` : typeName(value);
}

/** Checks the nested coordinate arrays of one geometry: shapes, finite numbers, one dimension (2D or 3D) throughout. */
class Coordinates {
  private dims = 0;
  constructor(
    private readonly v: JsonValidator,
    readonly root: string,
  ) {}

  position(raw: unknown, path: string): Position {
    this.v.countPosition(path);
    if (!Array.isArray(raw) || raw.length < 2 || raw.length > 3) return this.v.fail('a position is an array of 2 or 3 numbers', path);
    if (!raw.every((n) => typeof n === 'number' && Number.isFinite(n))) return this.v.fail('coordinates must be finite numbers', path);
    if (this.dims !== 0 && raw.length !== this.dims) return this.v.fail('a geometry mixes 2D and 3D positions', path);
    this.dims = raw.length;
    return [...(raw as number[])];
  }

  private positions(raw: unknown, path: string): Position[] {
    if (!Array.isArray(raw)) return this.v.fail(`expected an array of positions, found ${typeName(raw)}`, path);
    return raw.map((p, i) => this.position(p, `${path}[${i}]`));
  }

  line(raw: unknown, path: string): Position[] {
    const positions = this.positions(raw, path);
    const problem = lineStringProblem(positions);
    return problem ? this.v.fail(problem, path) : positions;
  }

  polygon(raw: unknown, path: string): Position[][] {
    if (!Array.isArray(raw) || raw.length === 0) return this.v.fail('a Polygon is a non-empty array of linear rings', path);
    return raw.map((r, i) => {
      const ring = this.positions(r, `${path}[${i}]`);
      const problem = ringProblem(ring);
      return problem ? this.v.fail(problem, `${path}[${i}]`) : ring;
    });
  }

  many<T>(raw: unknown, path: string, type: string, each: (item: unknown, at: string) => T): T[] {
    if (!Array.isArray(raw) || raw.length === 0) return this.v.fail(`a ${type} needs a non-empty coordinates array`, path);
    return raw.map((item, i) => each(item, `${path}[${i}]`));
  }
}

/**
 * Validates a CQL2-JSON filter (OGC 21-065 §8) and returns it normalized: canonical op names, UTC
 * timestamps, fresh objects holding only CQL2 members. `value` is the parsed JSON (object or boolean).
 * Throws {@link Cql2Error} (with `path`, e.g. `args[1].args[0]`) for an unknown op, a wrong argument count
 * or kind, a malformed literal or geometry, or input beyond `limits` (depth 64, 50,000 values by default);
 * never any other error.
 */
export function parseCql2Json(value: unknown, limits?: Cql2Limits): Cql2Expr {
  const validator = new JsonValidator(resolveLimits(limits));
  const expr = validator.arg(value, '', 1);
  const problem = argProblem('boolean', expr);
  if (problem) validator.fail(`a filter must be a predicate: ${problem}`, '');
  return expr as Cql2Expr;
}
