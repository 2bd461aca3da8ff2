/**
 * The CQL2 front end: the OGC spec's own text/JSON example pairs parse to equal ASTs, precedence,
 * every literal form, every error class with its position or path, the limits against hostile input,
 * and seeded fuzzing that may only ever see Cql2Error.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  Cql2Error,
  cql2Properties,
  isBboxLiteral,
  isCql2Op,
  isDateLiteral,
  isGeometryLiteral,
  isIntervalLiteral,
  isPropertyRef,
  isScalarLiteral,
  isSpatialLiteral,
  isTemporalLiteral,
  isTimestampLiteral,
  parseCql2Json,
  parseCql2Text,
  SPATIAL_OPS,
  TEMPORAL_OPS,
  type Cql2Arg,
  type Cql2Op,
} from '../../src/catalog/cql2/index.js';

// Compiled to dist/test/catalog (or elsewhere with --outDir): the fixtures stay in the source tree.
const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = [
  path.resolve(here, '../../../test/catalog/fixtures/cql2'),
  path.resolve(process.cwd(), 'test/catalog/fixtures/cql2'),
].find((dir) => fs.existsSync(path.join(dir, 'text')));
if (FIXTURES === undefined) throw new Error('test/catalog/fixtures/cql2 not found: run the tests from the repository root');

interface Pair {
  name: string;
  text: string;
  json: unknown;
}

function pairs(dir: string): Pair[] {
  return fs
    .readdirSync(path.join(dir, 'text'))
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -4);
      const text = fs.readFileSync(path.join(dir, 'text', f), 'utf8');
      return { name, text, json: JSON.parse(fs.readFileSync(path.join(dir, 'json', `${name}.json`), 'utf8')) };
    });
}

const P = (property: string) => ({ property });
// Loosely typed on purpose: the JSON error cases build invalid documents with it.
const op = (name: string, ...args: unknown[]) => ({ op: name, args }) as Cql2Op;

function textError(text: string, message: RegExp, position?: number): void {
  assert.throws(
    () => parseCql2Text(text),
    (e: unknown) => {
      assert.ok(e instanceof Cql2Error, `${text}: ${String(e)}`);
      assert.match(e.message, message, text);
      if (position !== undefined) assert.equal(e.position, position, `${text}: ${e.message}`);
      return true;
    },
  );
}

function jsonError(value: unknown, message: RegExp, at?: string): void {
  assert.throws(
    () => parseCql2Json(value),
    (e: unknown) => {
      assert.ok(e instanceof Cql2Error, String(e));
      assert.match(e.message, message);
      assert.equal(e.position, -1);
      if (at !== undefined) assert.equal(e.path, at, e.message);
      return true;
    },
  );
}

describe('OGC CQL2 examples (text and JSON pairs)', () => {
  const supported = pairs(FIXTURES);

  it('vendors a good set of pairs', () => {
    assert.ok(supported.length >= 30, `${supported.length} pairs`);
  });

  for (const { name, text, json } of supported) {
    it(`${name}: text and JSON give the same AST, which the JSON parser accepts unchanged`, () => {
      const fromText = parseCql2Text(text);
      const fromJson = parseCql2Json(json);
      assert.deepEqual(fromText, fromJson);
      assert.deepEqual(parseCql2Json(fromText), fromText);
    });
  }

  for (const { name, text, json } of pairs(path.join(FIXTURES, 'unsupported'))) {
    it(`${name}: outside the accepted classes, refused by both parsers`, () => {
      assert.throws(() => parseCql2Text(text), Cql2Error);
      assert.throws(() => parseCql2Json(json), Cql2Error);
    });
  }
});

describe('CQL2 text: precedence and grouping', () => {
  const a = op('=', P('a'), 1);
  const b = op('=', P('b'), 2);
  const c = op('=', P('c'), 3);
  const cases: [string, unknown][] = [
    ['a = 1 OR b = 2 AND c = 3', op('or', a, op('and', b, c))],
    ['a = 1 AND b = 2 OR c = 3', op('or', op('and', a, b), c)],
    ['(a = 1 OR b = 2) AND c = 3', op('and', op('or', a, b), c)],
    ['a = 1 AND b = 2 AND c = 3', op('and', a, b, c)],
    ['a = 1 OR b = 2 OR c = 3', op('or', a, b, c)],
    ['a = 1 AND (b = 2 AND c = 3)', op('and', a, op('and', b, c))],
    ['NOT a = 1 AND b = 2', op('and', op('not', a), b)],
    ['NOT (a = 1 AND b = 2)', op('not', op('and', a, b))],
    ['NOT NOT a = 1', op('not', op('not', a))],
    ['a = 1 and b = 2 Or c = 3', op('or', op('and', a, b), c)],
    ['((((a = 1))))', a],
    ['x BETWEEN 1 AND 2 AND b = 2', op('and', op('between', P('x'), 1, 2), b)],
    ["a NOT LIKE 'x%' OR b IS NOT NULL", op('or', op('not', op('like', P('a'), 'x%')), op('not', op('isNull', P('b'))))],
    ['(a = 1) = TRUE', op('=', a, true)],
    ['TRUE', true],
    ['false OR a = 1', op('or', false, a)],
  ];
  for (const [text, expected] of cases) {
    it(text, () => assert.deepEqual(parseCql2Text(text), expected));
  }
});

describe('CQL2 text: literals, names and operators', () => {
  it('reads numbers: negative, decimal, leading point, exponent, explicit plus', () => {
    assert.deepEqual(parseCql2Text('x IN (-5, 2.5, .5, 1e3, -1.5E-2, +7, 10.)'), op('in', P('x'), [-5, 2.5, 0.5, 1000, -0.015, 7, 10]));
    assert.deepEqual(parseCql2Text('x>-5'), op('>', P('x'), -5));
  });

  it("reads strings with '' escaping and Unicode", () => {
    assert.deepEqual(parseCql2Text("name = 'it''s ''quoted'''"), op('=', P('name'), "it's 'quoted'"));
    assert.deepEqual(parseCql2Text("name = ''"), op('=', P('name'), ''));
    assert.deepEqual(parseCql2Text("name = 'Οδος 東京'"), op('=', P('name'), 'Οδος 東京'));
  });

  it('reads property names with : and ., double-quoted names, and keywords as names only when quoted or not reserved', () => {
    const text = 'eo:cloud_cover < 10 AND view:sun_elevation >= 30 AND properties.gsd <= 0.5 AND "my prop" = 1 AND "AND" = 2 AND date = 3';
    const expected = op(
      'and',
      op('<', P('eo:cloud_cover'), 10),
      op('>=', P('view:sun_elevation'), 30),
      op('<=', P('properties.gsd'), 0.5),
      op('=', P('my prop'), 1),
      op('=', P('AND'), 2),
      op('=', P('date'), 3),
    );
    assert.deepEqual(parseCql2Text(text), expected);
    assert.deepEqual(parseCql2Text('"say ""hi""" = 1'), op('=', P('say "hi"'), 1));
    // Annex B identifiers: Unicode letters, combining marks after the first character, digits and periods.
    assert.deepEqual(
      parseCql2Text("Straße = 'x' OR 名前 = 'y' OR cafe\u0301.v2 = 1"),
      op('or', op('=', P('Straße'), 'x'), op('=', P('名前'), 'y'), op('=', P('cafe\u0301.v2'), 1)),
    );
  });

  it('reads keywords and function names in any case', () => {
    const upper = parseCql2Text(
      "S_INTERSECTS(g, POINT(1 2)) AND NOT x IS NULL AND y LIKE 'a' AND z BETWEEN 1 AND 2 AND w IN (1) AND v = TRUE",
    );
    const lower = parseCql2Text(
      "s_intersects(g, point(1 2)) and not x is null and y like 'a' and z between 1 and 2 and w in (1) and v = true",
    );
    const mixed = parseCql2Text(
      "S_Intersects(g, Point(1 2)) And Not x Is Null And y Like 'a' And z Between 1 And 2 And w In (1) And v = True",
    );
    assert.deepEqual(lower, upper);
    assert.deepEqual(mixed, upper);
  });

  it('reads every comparison operator, IS NULL, NULL and property-property comparisons', () => {
    for (const cmp of ['=', '<>', '<', '<=', '>', '>=']) {
      assert.deepEqual(parseCql2Text(`a ${cmp} b`), op(cmp, P('a'), P('b')));
    }
    assert.deepEqual(parseCql2Text('a IS NULL'), op('isNull', P('a')));
    assert.deepEqual(parseCql2Text('a = NULL'), op('=', P('a'), null));
    assert.deepEqual(parseCql2Text('a BETWEEN b AND c'), op('between', P('a'), P('b'), P('c')));
    assert.deepEqual(parseCql2Text('a IN (b, casei(c))'), op('in', P('a'), [P('b'), op('casei', P('c'))]));
  });

  it('reads CASEI/ACCENTI, nested, in LIKE patterns', () => {
    assert.deepEqual(
      parseCql2Text("CASEI(ACCENTI(name)) LIKE casei(accenti('Ré%'))"),
      op('like', op('casei', op('accenti', P('name'))), op('casei', op('accenti', 'Ré%'))),
    );
  });

  it('reads every spatial function', () => {
    for (const name of SPATIAL_OPS) {
      assert.deepEqual(parseCql2Text(`${name.toUpperCase()}(geometry, BBOX(0, 1, 2, 3))`), op(name, P('geometry'), { bbox: [0, 1, 2, 3] }));
    }
    assert.deepEqual(
      parseCql2Text('S_WITHIN(BBOX(0,1,-10,2,3,10), geometry)'),
      op('s_within', { bbox: [0, 1, -10, 2, 3, 10] }, P('geometry')),
    );
  });

  it('reads every temporal function, keeping the canonical camelCase names', () => {
    for (const name of TEMPORAL_OPS) {
      const expected = op(name, P('datetime'), { interval: ['2020-01-01', '..'] });
      assert.deepEqual(parseCql2Text(`${name.toUpperCase()}(datetime, INTERVAL('2020-01-01', '..'))`), expected);
      assert.deepEqual(parseCql2Json({ op: name.toUpperCase(), args: expected.args }), expected);
    }
  });

  it('reads temporal literals and normalizes timestamps to UTC', () => {
    const t = (literal: string) => (parseCql2Text(`T_EQUALS(datetime, ${literal})`) as { args: unknown[] }).args[1];
    assert.deepEqual(t("TIMESTAMP('2020-01-31T12:00:00Z')"), { timestamp: '2020-01-31T12:00:00Z' });
    assert.deepEqual(t("TIMESTAMP('2020-01-31T12:00:00.120000Z')"), { timestamp: '2020-01-31T12:00:00.12Z' });
    assert.deepEqual(t("TIMESTAMP('2020-01-01t01:30:00.5+02:00')"), { timestamp: '2019-12-31T23:30:00.5Z' });
    assert.deepEqual(t("TIMESTAMP('2020-01-31T23:00:00-01:30')"), { timestamp: '2020-02-01T00:30:00Z' });
    assert.deepEqual(t("DATE('2024-02-29')"), { date: '2024-02-29' });
    assert.deepEqual(t("INTERVAL('..', '..')"), { interval: ['..', '..'] });
    assert.deepEqual(t("INTERVAL(start_datetime, '2020-01-01T00:00:00.000Z')"), {
      interval: [P('start_datetime'), '2020-01-01T00:00:00Z'],
    });
    assert.deepEqual(t(`INTERVAL("start", "end")`), { interval: [P('start'), P('end')] });
    // Zero-length intervals are fine; an end date covers its whole day.
    assert.deepEqual(t("INTERVAL('2020-01-01', '2020-01-01')"), { interval: ['2020-01-01', '2020-01-01'] });
    assert.deepEqual(t("INTERVAL('2020-01-01T12:00:00.5Z', '2020-01-01T12:00:00.5Z')"), {
      interval: ['2020-01-01T12:00:00.5Z', '2020-01-01T12:00:00.5Z'],
    });
    assert.deepEqual(t("INTERVAL('2020-01-01T23:59:59.9Z', '2020-01-01')"), { interval: ['2020-01-01T23:59:59.9Z', '2020-01-01'] });
    textError("T_EQUALS(datetime, INTERVAL('2020-01-02T00:00:00Z', '2020-01-01'))", /interval starts/);
    textError("T_EQUALS(datetime, INTERVAL('2020-01-01T00:00:00.2Z', '2020-01-01T00:00:00.1Z'))", /interval starts/);
  });

  it('converts WKT to GeoJSON: every type, holes, Z, both MULTIPOINT forms, nested collections', () => {
    const g = (wkt: string) => (parseCql2Text(`S_INTERSECTS(geometry, ${wkt})`) as { args: unknown[] }).args[1];
    assert.deepEqual(g('POINT(1 2)'), { type: 'Point', coordinates: [1, 2] });
    assert.deepEqual(g('POINT Z (1 2 3)'), { type: 'Point', coordinates: [1, 2, 3] });
    assert.deepEqual(g('POINT(1 2 3)'), { type: 'Point', coordinates: [1, 2, 3] });
    assert.deepEqual(g('LINESTRING(0 0, 1 1, 2 0)'), {
      type: 'LineString',
      coordinates: [
        [0, 0],
        [1, 1],
        [2, 0],
      ],
    });
    const square = [
      [0, 0],
      [10, 0],
      [10, 10],
      [0, 10],
      [0, 0],
    ];
    const hole = [
      [2, 2],
      [4, 2],
      [4, 4],
      [2, 2],
    ];
    assert.deepEqual(g('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 4 2, 4 4, 2 2))'), { type: 'Polygon', coordinates: [square, hole] });
    assert.deepEqual(g('MULTIPOINT(1 2, 3 4)'), {
      type: 'MultiPoint',
      coordinates: [
        [1, 2],
        [3, 4],
      ],
    });
    assert.deepEqual(g('MULTIPOINT((1 2), (3 4))'), {
      type: 'MultiPoint',
      coordinates: [
        [1, 2],
        [3, 4],
      ],
    });
    assert.deepEqual(g('MULTILINESTRING((0 0, 1 1), (2 2, 3 3))'), {
      type: 'MultiLineString',
      coordinates: [
        [
          [0, 0],
          [1, 1],
        ],
        [
          [2, 2],
          [3, 3],
        ],
      ],
    });
    assert.deepEqual(g('MULTIPOLYGON(((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 4 2, 4 4, 2 2)), ((20 20, 21 20, 21 21, 20 20)))'), {
      type: 'MultiPolygon',
      coordinates: [
        [square, hole],
        [
          [
            [20, 20],
            [21, 20],
            [21, 21],
            [20, 20],
          ],
        ],
      ],
    });
    assert.deepEqual(g('GEOMETRYCOLLECTION(POINT(1 2), GEOMETRYCOLLECTION(LINESTRING Z (0 0 0, 1 1 1)))'), {
      type: 'GeometryCollection',
      geometries: [
        { type: 'Point', coordinates: [1, 2] },
        {
          type: 'GeometryCollection',
          geometries: [
            {
              type: 'LineString',
              coordinates: [
                [0, 0, 0],
                [1, 1, 1],
              ],
            },
          ],
        },
      ],
    });
  });
});

describe('CQL2 text errors name what was expected and where', () => {
  const cases: [string, RegExp, number][] = [
    ['(a = 1', /^expected '\)' at position 6, found end of input$/, 6],
    ['s_intersects(geometry, POINT(1 2)', /^expected ',' or '\)' at position 33/, 33],
    ['a = 1)', /expected AND, OR or end of input at position 5, found '\)'/, 5],
    ['a = 1 b = 2', /expected AND, OR or end of input/, 6],
    ['FOO(a) = 1', /^unknown function FOO at position 0$/, 0],
    ['A_CONTAINS(a, (1))', /unknown function A_CONTAINS \(array functions are not supported\)/, 0],
    ['a + 1 > 2', /arithmetic expressions are not supported/, 2],
    ["a = 'abc", /unterminated string starting at position 4/, 4],
    ['"abc = 1', /unterminated quoted property name/, 0],
    ['a = 1 AND', /expected a value, property or function at position 9, found end of input/, 9],
    ['a', /expected =, <>, <, <=, >, >=, LIKE, BETWEEN, IN or IS NULL after property 'a' at position 1/, 1],
    ["casei(a) AND b = 'x'", /after casei/, 9],
    ['a != 1', /'<>'/, 2],
    ['a = #', /unexpected character '#'/, 4],
    ['a = 1.2.3', /malformed number/, 4],
    ['a = 1e999', /out of range/, 4],
    ['AND = 1', /expected a value, property or function at position 0, found 'AND'/, 0],
    ['a NOT = 1', /expected LIKE, BETWEEN or IN after NOT/, 6],
    ['a LIKE 5', /LIKE argument 2: expected a string pattern/, 7],
    ['a LIKE b', /LIKE argument 2: expected a string pattern/, 7],
    ['a BETWEEN 1 2', /expected AND between the bounds of BETWEEN/, 12],
    ["a BETWEEN 'x' AND 2", /BETWEEN argument 2: expected a number or property, found a string/, 10],
    ['a IN ()', /expected a value/, 6],
    ['a IN (1, POINT(1 2))', /IN list item: expected a string, number/, 9],
    ['a IS 5', /expected NULL or NOT NULL after IS/, 5],
    ['a = POINT(1 2)', /compare geometries with S_EQUALS/, 4],
    ['S_INTERSECTS(geometry)', /S_INTERSECTS takes 2 arguments, got 1/, 0],
    ["S_INTERSECTS(geometry, 'POINT(1 2)')", /S_INTERSECTS argument 2: expected a geometry/, 23],
    ["T_AFTER(datetime, '2020-01-01')", /T_AFTER argument 2: expected a TIMESTAMP, DATE, INTERVAL or property, found a string/, 18],
    ['T_AFTER(datetime, POINT(1 2))', /T_AFTER argument 2/, 18],
    ["T_AFTER(datetime, TIMESTAMP('2020-13-01T00:00:00Z'))", /not a valid RFC 3339 date-time/, 28],
    ["T_AFTER(datetime, TIMESTAMP('2020-01-01'))", /not a valid RFC 3339 date-time/, 28],
    ["T_AFTER(datetime, DATE('2021-02-29'))", /not a valid RFC 3339 full-date/, 23],
    ["T_DURING(datetime, INTERVAL('2021-01-01', '2020-12-31'))", /interval starts \(2021-01-01\) after it ends \(2020-12-31\)/, 19],
    ["T_DURING(datetime, INTERVAL('2021-01-01', 5))", /expected an INTERVAL end/, 42],
    ['S_INTERSECTS(g, POLYGON((0 0, 1 0, 1 1, 0 1)))', /polygon ring is not closed/, 24],
    ['S_INTERSECTS(g, POLYGON((0 0, 1 0, 0 0)))', /a polygon ring needs at least 4 positions, got 3/, 24],
    ['S_INTERSECTS(g, LINESTRING(0 0))', /a LineString needs at least 2 positions/, 26],
    ['S_INTERSECTS(g, POINT Z (1 2))', /expected 3 coordinates/, 25],
    ['S_INTERSECTS(g, LINESTRING(1 2, 1 2 3))', /mixes 2D and 3D/, 32],
    ['S_INTERSECTS(g, POINT M (1 2 3))', /M coordinates are not supported/, 22],
    ['S_INTERSECTS(g, POINT EMPTY)', /EMPTY geometries are not supported/, 22],
    ['S_INTERSECTS(g, POINT(1 2 3 4))', /expected '\)'/, 28],
    ['S_INTERSECTS(g, GEOMETRYCOLLECTION(1 2))', /expected a WKT geometry/, 35],
    ['S_INTERSECTS(g, BBOX(1, 2, 3))', /a bbox has 4 or 6 numbers, got 3/, 16],
    ['S_INTERSECTS(g, BBOX(0, 10, 1, 5))', /bbox south \(10\) is greater than north \(5\)/, 16],
    ['', /the filter is empty/, 0],
    ['5', /a number/, 1],
  ];
  for (const [text, message, position] of cases) {
    it(JSON.stringify(text), () => textError(text, message, position));
  }

  it('refuses a non-string as CQL2 text', () => {
    assert.throws(() => parseCql2Text(undefined as unknown as string), Cql2Error);
  });
});

describe('CQL2-JSON: validation and normalization', () => {
  it('normalizes op names, timestamps and geometries', () => {
    const input = {
      op: 'AND',
      args: [
        { op: 'ISNULL', args: [P('a')] },
        { op: 'T_METBY', args: [P('t'), { interval: ['2020-01-01T00:00:00.500+01:00', '..'] }] },
        { op: 'S_Intersects', args: [P('g'), { type: 'Point', coordinates: [1, 2], bbox: [1, 2, 1, 2] }] },
        {
          op: 'Like',
          args: [
            { op: 'CASEI', args: [P('n')] },
            { op: 'Accenti', args: ['%é'] },
          ],
        },
      ],
    };
    assert.deepEqual(parseCql2Json(input), {
      op: 'and',
      args: [
        op('isNull', P('a')),
        op('t_metBy', P('t'), { interval: ['2019-12-31T23:00:00.5Z', '..'] }),
        op('s_intersects', P('g'), { type: 'Point', coordinates: [1, 2] }),
        op('like', op('casei', P('n')), op('accenti', '%é')),
      ],
    });
  });

  it('returns fresh objects, never the input', () => {
    const input = { op: 'in', args: [P('a'), [1, 2]] };
    const output = parseCql2Json(input) as { args: unknown[] };
    assert.notEqual(output, input);
    assert.notEqual(output.args[1], input.args[1]);
    assert.deepEqual(output, input);
  });

  it('accepts TRUE/FALSE as a whole filter and in comparisons', () => {
    assert.equal(parseCql2Json(true), true);
    assert.deepEqual(parseCql2Json(op('=', P('b'), false)), op('=', P('b'), false));
  });

  const p = P('p');
  const cases: [string, unknown, RegExp, string][] = [
    ['unknown op', op('foo'), /^unknown op 'foo' at the root$/, ''],
    ['arithmetic op', op('>', op('+', p, 1), 2), /unknown op '\+' \(arithmetic expressions are not supported\)/, 'args[0]'],
    ['op not a string', { op: 5, args: [] }, /op must be a string/, ''],
    ['args missing', { op: 'not' }, /needs an args array/, 'args'],
    ['unexpected member', { op: '=', args: [p, 1], extra: 1 }, /unexpected member 'extra'/, ''],
    ['and arity', op('and', true), /'and' takes at least 2 arguments, got 1/, ''],
    [
      'nested arity',
      op('and', op('=', p, 1), op('or', true, op('=', p))),
      /'=' takes 2 arguments, got 1 at args\[1\]\.args\[1\]$/,
      'args[1].args[1]',
    ],
    ['between arity', op('between', p, 1), /'between' takes 3 arguments/, ''],
    ['not of a string', op('not', 'x'), /expected a predicate or TRUE\/FALSE, found a string/, 'args[0]'],
    ['like pattern number', op('like', p, 5), /'like' argument 2: expected a string pattern/, 'args[1]'],
    ['like pattern casei(property)', op('like', p, op('casei', p)), /expected a string pattern/, 'args[1]'],
    ['in second not an array', op('in', p, 5), /'in' argument 2: expected a list of values/, 'args[1]'],
    ['in empty list', op('in', p, []), /the list of 'in' is empty/, 'args[1]'],
    ['in nested list', op('in', p, [1, [2]]), /'in' list item: .*found a list/, 'args[1][1]'],
    ['spatial string', op('s_intersects', p, 'POINT(1 2)'), /expected a geometry .*found a string/, 'args[1]'],
    ['spatial number', op('s_within', 5, p), /'s_within' argument 1/, 'args[0]'],
    ['temporal string', op('t_after', p, '2020-01-01'), /expected a TIMESTAMP, DATE, INTERVAL or property/, 'args[1]'],
    ['temporal geometry', op('t_after', p, { type: 'Point', coordinates: [1, 2] }), /found a Point geometry/, 'args[1]'],
    ['comparison of geometry', op('=', p, { bbox: [0, 0, 1, 1] }), /found a BBOX/, 'args[1]'],
    [
      'casei of number',
      op('=', op('casei', 5), 'x'),
      /'casei' argument 1: expected a string, property, CASEI or ACCENTI/,
      'args[0].args[0]',
    ],
    ['timestamp not RFC 3339', op('t_after', p, { timestamp: '2020-01-01' }), /not an RFC 3339 date-time/, 'args[1].timestamp'],
    ['timestamp bad hour', op('t_after', p, { timestamp: '2020-01-01T24:00:00Z' }), /not an RFC 3339 date-time/, 'args[1].timestamp'],
    ['timestamp not a string', op('t_after', p, { timestamp: 5 }), /timestamp a number/, 'args[1].timestamp'],
    ['date with time', op('t_after', p, { date: '2020-01-01T00:00:00Z' }), /not an RFC 3339 full-date/, 'args[1].date'],
    ['date not in calendar', op('t_after', p, { date: '2023-02-29' }), /full-date/, 'args[1].date'],
    ['interval of 1', op('t_during', p, { interval: ['2020-01-01'] }), /interval must be an array of 2 ends/, 'args[1].interval'],
    ['interval bad end', op('t_during', p, { interval: ['2020-01-01', 'tomorrow'] }), /interval end 'tomorrow'/, 'args[1].interval[1]'],
    ['interval reversed', op('t_during', p, { interval: ['2021-01-01T00:00:00Z', '2020-06-01'] }), /interval starts/, 'args[1].interval'],
    ['property empty', op('=', P(''), 1), /property must be a non-empty string/, 'args[0].property'],
    ['property with extra member', op('=', { property: 'x', y: 1 }, 1), /unexpected member 'y'/, 'args[0]'],
    ['unknown object', op('=', p, { foo: 1 }), /expected an expression .* found an object with 'foo'/, 'args[1]'],
    ['bbox of 3', op('s_intersects', p, { bbox: [1, 2, 3] }), /a bbox has 4 or 6 numbers, got 3/, 'args[1].bbox'],
    ['bbox of strings', op('s_intersects', p, { bbox: ['1', 2, 3, 4] }), /bbox must be an array of numbers/, 'args[1].bbox'],
    ['bbox south > north', op('s_intersects', p, { bbox: [0, 5, 1, 4] }), /south \(5\) is greater than north \(4\)/, 'args[1].bbox'],
    [
      'geometry type',
      op('s_intersects', p, { type: 'Circle', coordinates: [1, 2] }),
      /'Circle' is not a GeoJSON geometry type/,
      'args[1].type',
    ],
    [
      'ring not closed',
      op('s_intersects', p, {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        ],
      }),
      /ring is not closed/,
      'args[1].coordinates[0]',
    ],
    [
      'ring too short',
      op('s_intersects', p, {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [0, 0],
          ],
        ],
      }),
      /at least 4 positions/,
      'args[1].coordinates[0]',
    ],
    [
      'polygon without rings',
      op('s_intersects', p, { type: 'Polygon', coordinates: [] }),
      /non-empty array of linear rings/,
      'args[1].coordinates',
    ],
    [
      'line of one position',
      op('s_intersects', p, { type: 'LineString', coordinates: [[0, 0]] }),
      /at least 2 positions/,
      'args[1].coordinates',
    ],
    ['position of 1 number', op('s_intersects', p, { type: 'Point', coordinates: [0] }), /array of 2 or 3 numbers/, 'args[1].coordinates'],
    ['position of strings', op('s_intersects', p, { type: 'Point', coordinates: ['0', '1'] }), /finite numbers/, 'args[1].coordinates'],
    [
      'non-finite coordinate',
      op('s_intersects', p, {
        type: 'MultiPoint',
        coordinates: [
          [0, 0],
          [Infinity, 1],
        ],
      }),
      /finite numbers/,
      'args[1].coordinates[1]',
    ],
    [
      'mixed dimensions',
      op('s_intersects', p, {
        type: 'LineString',
        coordinates: [
          [0, 0],
          [1, 1, 1],
        ],
      }),
      /mixes 2D and 3D/,
      'args[1].coordinates[1]',
    ],
    ['empty multi', op('s_intersects', p, { type: 'MultiPolygon', coordinates: [] }), /non-empty coordinates array/, 'args[1].coordinates'],
    [
      'collection member',
      op('s_intersects', p, { type: 'GeometryCollection', geometries: [5] }),
      /expected a geometry, found a number/,
      'args[1].geometries[0]',
    ],
    [
      'collection empty',
      op('s_intersects', p, { type: 'GeometryCollection', geometries: [] }),
      /non-empty geometries array/,
      'args[1].geometries',
    ],
    ['non-finite number', op('=', p, NaN), /numbers must be finite/, 'args[1]'],
    ['root not a predicate', op('casei', 'x'), /a filter must be a predicate: .*found casei/, ''],
    ['root a number', 5, /a filter must be a predicate/, ''],
    ['root undefined', undefined, /unexpected a undefined/, ''],
  ];
  for (const [name, value, message, at] of cases) {
    it(name, () => jsonError(value, message, at));
  }
});

describe('hostile input: limits end in Cql2Error, never a stack overflow', () => {
  it('text: deep parentheses, NOT chains, nested CASEI and geometry collections', () => {
    textError(`${'('.repeat(10_000)}a = 1${')'.repeat(10_000)}`, /nested too deeply \(more than 64 levels\)/);
    textError(`${'NOT '.repeat(20_000)}TRUE`, /nested too deeply/);
    textError(`${'CASEI('.repeat(5_000)}a${')'.repeat(5_000)} = 'x'`, /nested too deeply/);
    textError(`S_INTERSECTS(g, ${'GEOMETRYCOLLECTION('.repeat(2_000)}POINT(1 2)${')'.repeat(2_000)})`, /nested too deeply/);
  });

  it('text: moderate nesting within the limit parses', () => {
    assert.deepEqual(parseCql2Text(`${'('.repeat(60)}a = 1${')'.repeat(60)}`), op('=', P('a'), 1));
    assert.equal(parseCql2Text(`${'NOT '.repeat(60)}TRUE`) !== undefined, true);
  });

  it('text: length limit, and limits can be set per call', () => {
    textError(`a = '${'x'.repeat(100_000)}'`, /too long \(100006 characters, at most 100000\)/, 100_000);
    assert.throws(() => parseCql2Text('((a = 1))', { maxDepth: 2 }), /nested too deeply \(more than 2 levels\)/);
    assert.throws(() => parseCql2Text('a = 1 AND b = 2', { maxLength: 10 }), /too long/);
    const wide = Array.from({ length: 2_000 }, (_, i) => `p${i} = ${i}`).join(' AND ');
    assert.equal((parseCql2Text(wide) as { args: unknown[] }).args.length, 2_000);
  });

  it('JSON: deep op nesting, deep arrays, deep collections, too many values', () => {
    let deep: unknown = true;
    for (let i = 0; i < 100_000; i++) deep = { op: 'not', args: [deep] };
    jsonError(deep, /nested too deeply \(more than 64 levels\)/);
    let arrays: unknown = 1;
    for (let i = 0; i < 100_000; i++) arrays = [arrays];
    jsonError(op('in', P('a'), arrays as Cql2Arg[]), /nested too deeply/);
    let collection: unknown = { type: 'Point', coordinates: [1, 2] };
    for (let i = 0; i < 10_000; i++) collection = { type: 'GeometryCollection', geometries: [collection] };
    jsonError(op('s_intersects', P('g'), collection as Cql2Arg), /nested too deeply/);
    jsonError(
      op(
        'in',
        P('a'),
        Array.from({ length: 60_000 }, (_, i) => i),
      ),
      /too large \(more than 50000 values\)/,
    );
    const ring = Array.from({ length: 60_000 }, (_, i) => [Math.cos(i), Math.sin(i)]);
    ring.push(ring[0]!);
    jsonError(op('s_intersects', P('g'), { type: 'Polygon', coordinates: [ring] }), /too large/);
    assert.throws(() => parseCql2Json(op('not', op('not', true)), { maxDepth: 2 }), /nested too deeply/);
  });

  it('JSON: a cyclic object stops at the depth limit', () => {
    const cyclic: { op: string; args: unknown[] } = { op: 'not', args: [] };
    cyclic.args.push(cyclic);
    jsonError(cyclic, /nested too deeply/);
  });
});

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function onlyCql2Errors(parse: () => unknown, input: string): unknown {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof Cql2Error)) assert.fail(`${input}: threw ${String(e)}`);
    assert.ok(e.message.length > 0);
    return undefined;
  }
}

describe('fuzzing: any string or JSON yields an AST or a Cql2Error', () => {
  const examples = pairs(FIXTURES);
  const pieces = [
    ...'()\',"=<>!-+.*/%^:_ \t\n0123456789eEaZ#[]é東\uD800',
    ' AND ',
    ' OR ',
    'NOT ',
    ' LIKE ',
    ' BETWEEN ',
    ' IN ',
    ' IS ',
    'NULL',
    'TRUE',
    'S_INTERSECTS(',
    'T_AFTER(',
    'CASEI(',
    'POINT(',
    'POLYGON((',
    'MULTIPOINT(',
    'GEOMETRYCOLLECTION(',
    'BBOX(',
    'INTERVAL(',
    "TIMESTAMP('",
    "DATE('",
    "'..'",
    "'2020-01-01'",
    'Z ',
    'eo:cloud_cover',
    '"id"',
    '1.5e3',
  ];

  it('random token soup (text)', () => {
    const rnd = random(21_065);
    for (let n = 0; n < 4_000; n++) {
      let text = '';
      const length = 1 + Math.floor(rnd() * 25);
      for (let i = 0; i < length; i++) text += pieces[Math.floor(rnd() * pieces.length)];
      const ast = onlyCql2Errors(() => parseCql2Text(text), text);
      if (ast !== undefined) assert.deepEqual(parseCql2Json(ast), ast, text);
    }
  });

  it('mutated spec examples (text)', () => {
    const rnd = random(7);
    for (let n = 0; n < 4_000; n++) {
      const chars = [...examples[Math.floor(rnd() * examples.length)]!.text];
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * (chars.length + 1));
        const r = rnd();
        if (r < 0.4) chars.splice(at, 1);
        else if (r < 0.8) chars.splice(at, 0, pieces[Math.floor(rnd() * pieces.length)]!);
        else chars.splice(at, 0, ...chars.slice(0, Math.floor(rnd() * 20)));
      }
      const text = chars.join('');
      const ast = onlyCql2Errors(() => parseCql2Text(text), text);
      if (ast !== undefined) assert.deepEqual(parseCql2Json(ast), ast, text);
    }
  });

  it('mutated spec examples (JSON)', () => {
    const rnd = random(8);
    const junk = (): unknown => {
      const choices: (() => unknown)[] = [
        () => null,
        () => rnd() * 100 - 50,
        () => 'x',
        () => '2020-01-01',
        () => true,
        () => [],
        () => [junk()],
        () => ({}),
        () => ({
          op: ['and', 'not', 'like', 'in', 's_intersects', 't_after', 'casei', 'nope'][Math.floor(rnd() * 8)],
          args: [junk(), junk()],
        }),
        () => ({ property: rnd() < 0.5 ? 'p' : 5 }),
        () => ({ timestamp: '2020-01-01T00:00:00Z' }),
        () => ({ interval: [junk(), junk()] }),
        () => ({ bbox: [0, 0, 1, 1] }),
        () => ({
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [junk(), 1],
              [0, 0],
            ],
          ],
        }),
        () => ({ type: 'GeometryCollection', geometries: [junk()] }),
      ];
      return choices[Math.floor(rnd() * choices.length)]!();
    };
    const mutate = (value: unknown, budget: { n: number }): unknown => {
      if (budget.n > 0 && rnd() < 0.08) {
        budget.n--;
        return junk();
      }
      if (Array.isArray(value)) return value.map((v) => mutate(v, budget));
      if (typeof value === 'object' && value !== null)
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mutate(v, budget)]));
      return value;
    };
    for (let n = 0; n < 3_000; n++) {
      const json = mutate(examples[Math.floor(rnd() * examples.length)]!.json, { n: 2 });
      const ast = onlyCql2Errors(() => parseCql2Json(json), JSON.stringify(json));
      if (ast !== undefined) assert.deepEqual(parseCql2Json(ast), ast);
    }
  });
});

describe('cql2Properties and the type guards', () => {
  it('lists distinct properties in order of appearance, interval ends and list items included', () => {
    const ast = parseCql2Text(
      "eo:cloud_cover < 10 AND (T_DURING(INTERVAL(start_datetime, end_datetime), INTERVAL('2020-01-01', '..')) OR platform IN (casei(constellation), 'x')) AND eo:cloud_cover > 1",
    );
    assert.deepEqual(cql2Properties(ast), ['eo:cloud_cover', 'start_datetime', 'end_datetime', 'platform', 'constellation']);
    assert.deepEqual(cql2Properties(true), []);
  });

  it('handles an AST deeper than any parser would produce', () => {
    let deep: Cql2Arg = op('=', P('x'), 1);
    for (let i = 0; i < 100_000; i++) deep = op('not', deep);
    assert.deepEqual(cql2Properties(deep), ['x']);
  });

  it('tells node kinds apart', () => {
    const nodes: Record<string, Cql2Arg> = {
      op: op('=', P('a'), 1),
      property: P('a'),
      scalar: 'a',
      timestamp: { timestamp: '2020-01-01T00:00:00Z' },
      date: { date: '2020-01-01' },
      interval: { interval: ['..', '..'] },
      geometry: { type: 'Point', coordinates: [1, 2] },
      bbox: { bbox: [0, 0, 1, 1] },
    };
    const guards: Record<string, (v: unknown) => boolean> = {
      op: isCql2Op,
      property: isPropertyRef,
      scalar: isScalarLiteral,
      timestamp: isTimestampLiteral,
      date: isDateLiteral,
      interval: isIntervalLiteral,
      geometry: isGeometryLiteral,
      bbox: isBboxLiteral,
    };
    for (const [kind, guard] of Object.entries(guards)) {
      for (const [nodeKind, node] of Object.entries(nodes)) assert.equal(guard(node), kind === nodeKind, `${kind} guard on ${nodeKind}`);
    }
    assert.ok(isTemporalLiteral(nodes['interval']) && isTemporalLiteral(nodes['date']) && !isTemporalLiteral(nodes['bbox']));
    assert.ok(isSpatialLiteral(nodes['bbox']) && isSpatialLiteral(nodes['geometry']) && !isSpatialLiteral(nodes['date']));
    assert.ok(isScalarLiteral(null) && !isScalarLiteral([1]));
  });
});
