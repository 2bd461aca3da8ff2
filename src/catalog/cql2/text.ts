/**
 * CQL2 text (OGC 21-065 §9 and Annex B BNF, the STAC API filter extension's `filter-lang=cql2-text`):
 * a tokenizer and a recursive-descent parser producing the normalized AST ({@link Cql2Expr}), with WKT
 * geometry literals (OGC 06-103r4) turned into GeoJSON.
 *
 * Precedence, loosest first: OR, AND, NOT, then the predicates (comparison, LIKE, BETWEEN, IN, IS NULL),
 * whose operands are literals, properties, function calls or a parenthesized boolean expression.
 */
import type { Cql2Arg, Cql2Expr, Cql2Op, GeometryLiteral, IntervalEnd, Position } from './ast.js';
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
import { argProblem, describeArg, lookupOp, opProblem, unsupportedHint, type OpSpec } from './ops.js';

type TokenType = 'lparen' | 'rparen' | 'comma' | 'compare' | 'string' | 'number' | 'ident' | 'qident' | 'arith' | 'eof';

interface Token {
  type: TokenType;
  /** Source text, or the decoded content of a string / quoted identifier. */
  text: string;
  value?: number;
  pos: number;
}

// Annex B `identifierStart` / `identifierPart` (colon and period included, so `eo:cloud_cover` and `properties.gsd` are one name).
const START =
  ':_A-Za-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFE\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const PART = `${START}.0-9\\u0300-\\u036F\\u203F-\\u2040`;
// The classes hold code-point ranges the BNF names (combining marks, ZWNJ/ZWJ), not combined characters.
// eslint-disable-next-line no-misleading-character-class
const IDENTIFIER = new RegExp(`[${START}][${PART}]*`, 'uy');
// eslint-disable-next-line no-misleading-character-class
const IDENTIFIER_PART = new RegExp(`[${PART}]`, 'u');
const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /\s/;

function fail(message: string, pos: number, found?: Token): never {
  throw new Cql2Error(`${message} at position ${pos}${found ? `, found ${describeToken(found)}` : ''}`, pos);
}

function describeToken(token: Token): string {
  if (token.type === 'eof') return 'end of input';
  if (token.type === 'string') return `string '${token.text.length > 30 ? `${token.text.slice(0, 30)}…` : token.text}'`;
  if (token.type === 'qident') return `"${token.text}"`;
  return `'${token.text}'`;
}

/** Scans a quoted run starting at `start` (the quote), doubling the quote to escape it. Returns [content, end]. */
function scanQuoted(text: string, start: number, quote: string, what: string): [string, number] {
  let content = '';
  let i = start + 1;
  for (;;) {
    const close = text.indexOf(quote, i);
    if (close < 0) fail(`unterminated ${what} starting`, start);
    content += text.slice(i, close);
    if (text[close + 1] !== quote) return [content, close + 1];
    content += quote;
    i = close + 2;
  }
}

function numberAt(text: string, i: number): Token | undefined {
  NUMBER.lastIndex = i;
  const m = NUMBER.exec(text);
  if (m === null) return undefined;
  const end = i + m[0].length;
  const after = text[end];
  if (after !== undefined && (after === '.' || IDENTIFIER_PART.test(after))) fail(`malformed number '${text.slice(i, end + 1)}'`, i);
  const value = Number(m[0]);
  if (!Number.isFinite(value)) fail(`number ${m[0]} is out of range`, i);
  return { type: 'number', text: m[0], value, pos: i };
}

const SINGLE: Record<string, TokenType> = {
  '(': 'lparen',
  ')': 'rparen',
  ',': 'comma',
  '=': 'compare',
  '*': 'arith',
  '/': 'arith',
  '%': 'arith',
  '^': 'arith',
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (WHITESPACE.test(c)) {
      i++;
      continue;
    }
    const number = /[-+.\d]/.test(c) ? numberAt(text, i) : undefined;
    if (number) {
      tokens.push(number);
      i += number.text.length;
    } else if (SINGLE[c]) {
      tokens.push({ type: SINGLE[c], text: c, pos: i++ });
    } else if (c === '<' || c === '>') {
      const two = text.slice(i, i + 2);
      const op = two === '<=' || two === '>=' || two === '<>' ? two : c;
      tokens.push({ type: 'compare', text: op, pos: i });
      i += op.length;
    } else if (c === '+' || c === '-') {
      tokens.push({ type: 'arith', text: c, pos: i++ });
    } else if (c === "'" || c === '"') {
      const [content, end] = scanQuoted(text, i, c, c === "'" ? 'string' : 'quoted property name');
      if (c === '"' && content === '') fail('empty quoted property name', i);
      tokens.push({ type: c === "'" ? 'string' : 'qident', text: content, pos: i });
      i = end;
    } else {
      IDENTIFIER.lastIndex = i;
      const m = IDENTIFIER.exec(text);
      if (m === null)
        fail(c === '!' && text[i + 1] === '=' ? "unexpected '!=' (CQL2 writes not-equal as '<>')" : `unexpected character '${c}'`, i);
      tokens.push({ type: 'ident', text: m[0], pos: i });
      i += m[0].length;
    }
  }
  tokens.push({ type: 'eof', text: '', pos: text.length });
  return tokens;
}

const RESERVED = new Set(['AND', 'OR', 'NOT', 'LIKE', 'BETWEEN', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE']);
/** Ops written as function calls in CQL2 text; the others have their own syntax. */
const FUNCTION_STYLE = /^(casei|accenti|s_|t_)/;
const WKT_TYPES: Record<string, GeometryLiteral['type']> = {
  POINT: 'Point',
  LINESTRING: 'LineString',
  POLYGON: 'Polygon',
  MULTIPOINT: 'MultiPoint',
  MULTILINESTRING: 'MultiLineString',
  MULTIPOLYGON: 'MultiPolygon',
  GEOMETRYCOLLECTION: 'GeometryCollection',
};
const PREDICATE_OPERATORS = '=, <>, <, <=, >, >=, LIKE, BETWEEN, IN or IS NULL';

/** Coordinate dimension of one WKT geometry: 0 until the first position decides, or fixed by a Z tag. */
interface Dims {
  n: number;
}

class TextParser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly maxDepth: number,
  ) {}

  parse(): Cql2Expr {
    const start = this.peek().pos;
    const expr = this.or();
    const rest = this.peek();
    if (rest.type !== 'eof') fail('expected AND, OR or end of input', rest.pos, rest);
    const problem = argProblem('boolean', expr);
    if (problem) fail(`a filter must be a predicate: ${problem}`, start);
    return expr as Cql2Expr;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'eof') this.i++;
    return token;
  }

  private isKeyword(token: Token, ...words: string[]): boolean {
    return token.type === 'ident' && words.includes(token.text.toUpperCase());
  }

  private expect(type: TokenType, what: string): Token {
    const token = this.peek();
    if (token.type !== type) fail(`expected ${what}`, token.pos, token);
    return this.next();
  }

  private enter(pos: number): void {
    if (++this.depth > this.maxDepth) fail(`filter is nested too deeply (more than ${this.maxDepth} levels)`, pos);
  }

  private build(spec: OpSpec, args: Cql2Arg[], positions: number[], display: string, pos: number): Cql2Op {
    const problem = opProblem(spec, args, display);
    if (problem) fail(problem.message, problem.index < 0 ? pos : positions[problem.index]!);
    return { op: spec.name, args };
  }

  private spec(name: string): OpSpec {
    return lookupOp(name)!;
  }

  private junction(word: 'OR' | 'AND', operand: () => Cql2Arg): Cql2Arg {
    const pos = this.peek().pos;
    const args = [operand()];
    const positions = [pos];
    while (this.isKeyword(this.peek(), word)) {
      this.next();
      positions.push(this.peek().pos);
      args.push(operand());
    }
    return args.length === 1 ? args[0]! : this.build(this.spec(word), args, positions, word, pos);
  }

  private or(): Cql2Arg {
    return this.junction('OR', () => this.and());
  }

  private and(): Cql2Arg {
    return this.junction('AND', () => this.not());
  }

  private not(): Cql2Arg {
    const token = this.peek();
    if (!this.isKeyword(token, 'NOT')) return this.predicate();
    this.enter(token.pos);
    this.next();
    const argPos = this.peek().pos;
    const node = this.build(this.spec('not'), [this.not()], [argPos], 'NOT', token.pos);
    this.depth--;
    return node;
  }

  /** operand [ compare operand | [NOT] LIKE | [NOT] BETWEEN | [NOT] IN | IS [NOT] NULL ] */
  private predicate(): Cql2Arg {
    const leftPos = this.peek().pos;
    const left = this.operand();
    const token = this.peek();
    if (token.type === 'compare') {
      this.next();
      const rightPos = this.peek().pos;
      return this.build(this.spec(token.text), [left, this.operand()], [leftPos, rightPos], `'${token.text}'`, token.pos);
    }
    const negated = this.isKeyword(token, 'NOT');
    const keyword = this.peek(negated ? 1 : 0);
    if (this.isKeyword(keyword, 'LIKE', 'BETWEEN', 'IN')) {
      if (negated) this.next();
      const node = this.keywordPredicate(left, leftPos);
      return negated ? { op: 'not', args: [node] } : node;
    }
    if (negated) fail('expected LIKE, BETWEEN or IN after NOT', keyword.pos, keyword);
    if (this.isKeyword(token, 'IS')) return this.isNull(left, leftPos);
    if (argProblem('boolean', left) === undefined) return left;
    if (token.type === 'arith' || (token.type === 'number' && /^[-+]/.test(token.text))) {
      fail(`unexpected '${token.text}' (arithmetic expressions are not supported)`, token.pos);
    }
    return fail(`expected ${PREDICATE_OPERATORS} after ${describeArg(left)}`, token.pos, token);
  }

  private keywordPredicate(left: Cql2Arg, leftPos: number): Cql2Op {
    const keyword = this.next();
    const word = keyword.text.toUpperCase();
    const firstPos = this.peek().pos;
    if (word === 'LIKE') return this.build(this.spec('like'), [left, this.operand()], [leftPos, firstPos], 'LIKE', keyword.pos);
    if (word === 'BETWEEN') {
      const low = this.operand();
      const and = this.peek();
      if (!this.isKeyword(and, 'AND')) fail('expected AND between the bounds of BETWEEN', and.pos, and);
      this.next();
      const highPos = this.peek().pos;
      return this.build(this.spec('between'), [left, low, this.operand()], [leftPos, firstPos, highPos], 'BETWEEN', keyword.pos);
    }
    this.expect('lparen', "'(' after IN");
    const list: Cql2Arg[] = [];
    do {
      const itemPos = this.peek().pos;
      const item = this.operand();
      const problem = argProblem('scalar', item);
      if (problem) fail(`IN list item: ${problem}`, itemPos);
      list.push(item);
    } while (this.peek().type === 'comma' && this.next());
    this.expect('rparen', "',' or ')' in the IN list");
    return this.build(this.spec('in'), [left, list], [leftPos, firstPos], 'IN', keyword.pos);
  }

  private isNull(left: Cql2Arg, leftPos: number): Cql2Op {
    const is = this.next();
    const negated = this.isKeyword(this.peek(), 'NOT');
    if (negated) this.next();
    const nullToken = this.peek();
    if (!this.isKeyword(nullToken, 'NULL')) fail(`expected ${negated ? 'NULL' : 'NULL or NOT NULL'} after IS`, nullToken.pos, nullToken);
    this.next();
    const node = this.build(this.spec('isNull'), [left], [leftPos], 'IS NULL', is.pos);
    return negated ? { op: 'not', args: [node] } : node;
  }

  /** A literal, a property, a function call or a parenthesized boolean expression. */
  private operand(): Cql2Arg {
    const token = this.next();
    this.enter(token.pos);
    const node = this.operandBody(token);
    this.depth--;
    return node;
  }

  private operandBody(token: Token): Cql2Arg {
    switch (token.type) {
      case 'lparen': {
        const inner = this.or();
        this.expect('rparen', "')'");
        return inner;
      }
      case 'string':
        return token.text;
      case 'number':
        return token.value!;
      case 'qident':
        return { property: token.text };
      case 'ident':
        return this.identifier(token);
      case 'arith':
        return fail(`unexpected '${token.text}' (arithmetic expressions are not supported)`, token.pos);
      default:
        return fail('expected a value, property or function', token.pos, token);
    }
  }

  private identifier(token: Token): Cql2Arg {
    const upper = token.text.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') return upper === 'TRUE';
    if (upper === 'NULL') return null;
    if (RESERVED.has(upper)) return fail('expected a value, property or function', token.pos, token);
    const after = this.peek();
    const wkt = WKT_TYPES[upper];
    if (wkt && (after.type === 'lparen' || this.isKeyword(after, 'Z', 'M', 'ZM', 'EMPTY'))) return this.geometry(token, wkt);
    if (after.type !== 'lparen') return { property: token.text };
    switch (upper) {
      case 'DATE':
      case 'TIMESTAMP':
        return this.instant(token, upper);
      case 'INTERVAL':
        return this.interval(token);
      case 'BBOX':
        return this.bbox(token);
    }
    const spec = lookupOp(token.text);
    if (spec === undefined || !FUNCTION_STYLE.test(spec.name))
      fail(`unknown function ${token.text}${unsupportedHint(token.text)}`, token.pos);
    this.next();
    const args: Cql2Arg[] = [];
    const positions: number[] = [];
    if (this.peek().type !== 'rparen') {
      do {
        positions.push(this.peek().pos);
        args.push(this.operand());
      } while (this.peek().type === 'comma' && this.next());
    }
    this.expect('rparen', "',' or ')'");
    return this.build(spec, args, positions, upper, token.pos);
  }

  private stringArgument(name: Token): Token {
    this.expect('lparen', `'(' after ${name.text.toUpperCase()}`);
    const literal = this.expect('string', 'a quoted string');
    this.expect('rparen', "')'");
    return literal;
  }

  private instant(name: Token, upper: 'DATE' | 'TIMESTAMP'): Cql2Arg {
    const literal = this.stringArgument(name);
    if (upper === 'DATE') {
      if (!isFullDate(literal.text)) fail(`DATE('${literal.text}') is not a valid RFC 3339 full-date like '2020-01-31'`, literal.pos);
      return { date: literal.text };
    }
    const timestamp = normalizeTimestamp(literal.text);
    if (timestamp === undefined)
      fail(`TIMESTAMP('${literal.text}') is not a valid RFC 3339 date-time like '2020-01-31T12:00:00Z'`, literal.pos);
    return { timestamp };
  }

  private interval(name: Token): Cql2Arg {
    this.expect('lparen', "'(' after INTERVAL");
    const start = this.intervalEnd();
    this.expect('comma', "',' between the ends of INTERVAL");
    const end = this.intervalEnd();
    this.expect('rparen', "')'");
    const problem = intervalProblem(start, end);
    if (problem) fail(problem, name.pos);
    return { interval: [start, end] };
  }

  private intervalEnd(): IntervalEnd {
    const token = this.next();
    if (token.type === 'qident' || (token.type === 'ident' && !RESERVED.has(token.text.toUpperCase()) && this.peek().type !== 'lparen')) {
      return { property: token.text };
    }
    const normalized = token.type === 'string' ? normalizeIntervalEndString(token.text) : undefined;
    if (normalized === undefined) fail("expected an INTERVAL end: '..', a quoted date or timestamp, or a property", token.pos, token);
    return normalized;
  }

  private signedNumber(what: string): number {
    return this.expect('number', what).value!;
  }

  private bbox(name: Token): Cql2Arg {
    this.expect('lparen', "'(' after BBOX");
    const values = [this.signedNumber('a number')];
    while (this.peek().type === 'comma') {
      this.next();
      values.push(this.signedNumber('a number'));
    }
    this.expect('rparen', "',' or ')'");
    const problem = bboxProblem(values);
    if (problem) fail(problem, name.pos);
    return { bbox: values };
  }

  /** WKT `<TYPE> [Z] (…)`; M coordinates and EMPTY are refused. */
  private geometry(name: Token, type: GeometryLiteral['type']): GeometryLiteral {
    this.enter(name.pos);
    const tag = this.peek();
    const dims: Dims = { n: 0 };
    if (this.isKeyword(tag, 'EMPTY')) fail('EMPTY geometries are not supported', tag.pos);
    if (this.isKeyword(tag, 'M', 'ZM')) fail('M coordinates are not supported', tag.pos);
    if (this.isKeyword(tag, 'Z')) {
      this.next();
      dims.n = 3;
    }
    const geometry = this.geometryBody(type, dims);
    this.depth--;
    return geometry;
  }

  private geometryBody(type: GeometryLiteral['type'], dims: Dims): GeometryLiteral {
    switch (type) {
      case 'Point': {
        this.expect('lparen', "'('");
        const coordinates = this.position(dims);
        this.expect('rparen', "')'");
        return { type, coordinates };
      }
      case 'LineString':
        return { type, coordinates: this.lineString(dims) };
      case 'Polygon':
        return { type, coordinates: this.polygon(dims) };
      case 'MultiPoint':
        return { type, coordinates: this.list(() => this.multiPointItem(dims)) };
      case 'MultiLineString':
        return { type, coordinates: this.list(() => this.lineString(dims)) };
      case 'MultiPolygon':
        return { type, coordinates: this.list(() => this.polygon(dims)) };
      case 'GeometryCollection':
        return { type, geometries: this.list(() => this.member()) };
    }
  }

  /** '(' item {',' item} ')' */
  private list<T>(item: () => T): T[] {
    this.expect('lparen', "'('");
    const items = [item()];
    while (this.peek().type === 'comma') {
      this.next();
      items.push(item());
    }
    this.expect('rparen', "',' or ')'");
    return items;
  }

  private position(dims: Dims): Position {
    const pos = this.peek().pos;
    const coordinates = [this.signedNumber('a coordinate'), this.signedNumber('a second coordinate')];
    if (this.peek().type === 'number') coordinates.push(this.next().value!);
    if (dims.n === 0) dims.n = coordinates.length;
    if (coordinates.length !== dims.n)
      fail(dims.n === 3 ? 'expected 3 coordinates (x y z) per position' : 'a geometry mixes 2D and 3D positions', pos);
    return coordinates;
  }

  private lineString(dims: Dims): Position[] {
    const pos = this.peek().pos;
    const positions = this.list(() => this.position(dims));
    const problem = lineStringProblem(positions);
    if (problem) fail(problem, pos);
    return positions;
  }

  private polygon(dims: Dims): Position[][] {
    return this.list(() => {
      const pos = this.peek().pos;
      const ring = this.list(() => this.position(dims));
      const problem = ringProblem(ring);
      if (problem) fail(problem, pos);
      return ring;
    });
  }

  /** MULTIPOINT takes both `(1 2, 3 4)` and `((1 2), (3 4))`. */
  private multiPointItem(dims: Dims): Position {
    if (this.peek().type !== 'lparen') return this.position(dims);
    this.next();
    const position = this.position(dims);
    this.expect('rparen', "')'");
    return position;
  }

  private member(): GeometryLiteral {
    const name = this.next();
    const type = name.type === 'ident' ? WKT_TYPES[name.text.toUpperCase()] : undefined;
    if (type === undefined) fail('expected a WKT geometry (POINT, LINESTRING, POLYGON, …)', name.pos, name);
    return this.geometry(name, type);
  }
}

/**
 * Parses CQL2 text (OGC 21-065 §9) into the normalized AST, e.g. `eo:cloud_cover < 10 AND
 * S_INTERSECTS(geometry, POLYGON((…)))` → `{op:'and', args:[{op:'<', …}, {op:'s_intersects', …}]}`.
 * Keywords and function names are case-insensitive; `NOT LIKE`/`NOT BETWEEN`/`NOT IN`/`IS NOT NULL` become
 * `{op:'not'}`; WKT becomes GeoJSON; BBOX takes 4 or 6 numbers.
 * Throws {@link Cql2Error} (with the 0-based `position`) for any syntax error, unknown function, wrong
 * argument, invalid literal, or input beyond `limits` (100,000 characters, depth 64 by default); never any
 * other error.
 */
export function parseCql2Text(text: string, limits?: Cql2Limits): Cql2Expr {
  const { maxDepth, maxLength } = resolveLimits(limits);
  if (typeof text !== 'string') throw new Cql2Error('a CQL2 text filter must be a string', 0);
  if (text.length > maxLength) throw new Cql2Error(`filter is too long (${text.length} characters, at most ${maxLength})`, maxLength);
  const tokens = tokenize(text);
  if (tokens.length === 1) fail('the filter is empty', 0);
  return new TextParser(tokens, maxDepth).parse();
}
