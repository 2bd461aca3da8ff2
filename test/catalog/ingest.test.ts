/**
 * Ingest normalization over the real fixtures (shared/data/stac, quirks in shared/data/SOURCES.md):
 * every real Item is accepted or rejected with a named field, nothing valid is rejected, and an accepted
 * Item differs from its input only by the documented changes. Plus the policy's edge cases and the
 * storage helpers (geometryBbox, itemTimeRange).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IngestError,
  STRUCTURAL_RELS,
  geometryBbox,
  itemTimeRange,
  normalizeCollection,
  normalizeItem,
  utcDateTime,
  type GeoJsonGeometry,
  type StacItem,
} from '../../src/catalog/ingest.js';
import { validateStac } from '../../src/catalog/stac-schema/index.js';
import { assertValidStac, loadRealStac } from '../helpers/stac-validate.js';

const { items, collections } = loadRealStac();
const clone = <T>(v: T): T => structuredClone(v);
type Raw = Record<string, any>;

function ingestError(fn: () => unknown): IngestError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IngestError) return e;
    throw e;
  }
  assert.fail('expected an IngestError');
}

interface Outcome {
  raw: Raw;
  item?: StacItem;
  notes: string[];
  error?: IngestError;
}

const outcomes: Outcome[] = items.map((raw) => {
  const before = JSON.stringify(raw);
  try {
    const { item, notes } = normalizeItem(raw);
    assert.equal(JSON.stringify(raw), before, `input of ${raw.id} was mutated`);
    return { raw, item, notes };
  } catch (e) {
    if (!(e instanceof IngestError)) throw e;
    return { raw, notes: [], error: e };
  }
});
const accepted = outcomes.filter((o) => o.item);
const upgraded = accepted.filter((o) => o.notes.some((n) => n.startsWith('upgraded from')));

describe('real items: normalizeItem', () => {
  it('accepts all 972 (11 upgraded, 1 with datetimes read as UTC) and rejects none', () => {
    const rejected = outcomes.filter((o) => o.error).map((o) => `${o.raw.collection}/${o.raw.id}: ${o.error!.message}`);
    const rewritten = accepted.filter((o) => o.notes.some((n) => n.includes('has no UTC zone')));
    console.log('ingest of real items:', {
      loaded: items.length,
      accepted: accepted.length,
      upgraded: Object.fromEntries(['1.0.0-rc.4', '1.0.0-beta.2'].map((v) => [v, upgraded.filter((o) => o.raw.stac_version === v).length])),
      datetimeReadAsUtc: rewritten.length,
      rejected,
    });
    // Every real item is valid STAC once normalized: the 73 collection-without-link items are served with
    // Skyport's rel=collection link, pre-1.0 ones are upgraded, the zone-less datetime is read as UTC.
    assert.deepEqual(rejected, []);
    assert.equal(accepted.length, 972);
    assert.equal(upgraded.length, 11);
    assert.deepEqual(
      rewritten.map((o) => [o.raw.id, o.notes.filter((n) => n.includes('no UTC zone')).map((n) => n.split(':')[0])]),
      [['0fbe7681-e8d4-4480-bd45-eb008c59f72d', ['properties.datetime', 'properties.start_datetime', 'properties.end_datetime']]],
    );
  });

  it('every accepted item validates against the Item schema of its version (as served, with a collection link)', () => {
    for (const { item } of accepted) {
      const served = { ...item!, links: [...item!.links, { rel: 'collection', href: `../../collections/${item!.collection}` }] };
      assertValidStac('item', served);
    }
  });

  it('keeps geometry, bbox, assets, collection and all other fields; drops only the structural links', () => {
    for (const { raw, item, notes } of accepted) {
      const i = item!;
      assert.deepEqual(i.geometry, raw.geometry, raw.id);
      assert.deepEqual(i.bbox, raw.bbox, raw.id);
      assert.equal(i.collection, raw.collection);
      assert.deepEqual(
        i.links,
        raw.links.filter((l: Raw) => !STRUCTURAL_RELS.has(l.rel)),
      );
      const removed = raw.links.length - i.links.length;
      assert.equal(
        notes.some((n) => n.startsWith(`removed ${removed} structural`)),
        removed > 0,
      );
      if (upgraded.some((o) => o.raw === raw)) continue;
      assert.deepEqual(Object.keys(i), Object.keys(raw), 'key order kept');
      assert.deepEqual(i.assets, raw.assets, raw.id);
      const expected = clone(raw.properties);
      for (const n of notes.filter((x) => x.includes('has no UTC zone'))) {
        const field = n.slice('properties.'.length, n.indexOf(':'));
        expected[field] = n.slice(n.lastIndexOf(' ') + 1);
      }
      assert.deepEqual(i.properties, expected, raw.id);
    }
  });

  it('upgrades 1.0.0-rc.4 and 1.0.0-beta.2 to 1.1.0, keeping geometry and asset keys', () => {
    for (const { raw, item, notes } of upgraded) {
      assert.equal(item!.stac_version, '1.1.0');
      assert.ok(notes.includes(`upgraded from ${raw.stac_version} to 1.1.0`));
      assert.deepEqual(Object.keys(item!.assets), Object.keys(raw.assets));
    }
    // The rc.4 (NASA CMR) items need no field changes; the beta.2 Earth Search item gets extension URLs
    // (its "proj" short id read as "projection") and proj:epsg → proj:code (projection v2.0.0).
    const rc4 = upgraded.filter((o) => o.raw.stac_version === '1.0.0-rc.4');
    for (const { raw, item } of rc4) assert.deepEqual(item!.properties, raw.properties);
    const beta = upgraded.find((o) => o.raw.stac_version === '1.0.0-beta.2')!;
    assert.ok(beta.notes.includes('stac_extensions: short id "proj" read as "projection"'));
    assert.ok(beta.item!.stac_extensions!.every((e) => e.startsWith('https://stac-extensions.github.io/')));
    assert.equal(beta.item!.properties['proj:code'], `EPSG:${beta.raw.properties['proj:epsg']}`);
  });

  it('keeps the quirks: 62 assets, null properties, longitudes beyond ±180, poles, empty polygon members', () => {
    const most = accepted.reduce((a, b) => (Object.keys(b.item!.assets).length > Object.keys(a.item!.assets).length ? b : a));
    assert.equal(Object.keys(most.item!.assets).length, 62);
    const nulls = accepted.filter((o) => Object.entries(o.raw.properties).some(([k, v]) => v === null && k !== 'datetime'));
    assert.equal(nulls.length, 42);
    for (const o of nulls) assert.deepEqual(o.item!.properties, o.raw.properties);
    const beyond = accepted.filter((o) => {
      const b = geometryBbox(o.item!.geometry);
      return b !== null && (b[0] < -180 || b[2] > 180);
    });
    assert.ok(beyond.length >= 20, `${beyond.length} items reach beyond ±180°`);
    const polar = accepted.filter((o) => Math.min(...[geometryBbox(o.item!.geometry)![1]]) <= -89.99);
    assert.ok(polar.length >= 1);
    const s1 = accepted.find((o) => o.raw.id === 'S1A_EW_GRDM_1SSH_20150129T081916_20150129T081938_004383_005598')!;
    assert.deepEqual(s1.item!.geometry!.type === 'MultiPolygon' && s1.item!.geometry!.coordinates[0], []);
  });

  it('geometryBbox lies within the published bbox, except 5 publisher inconsistencies', () => {
    const outside: string[] = [];
    for (const { raw, item } of accepted) {
      const [w, s, e, n] = geometryBbox(item!.geometry)!;
      const b = raw.bbox.length === 6 ? [raw.bbox[0], raw.bbox[1], raw.bbox[3], raw.bbox[4]] : raw.bbox;
      const tol = 1e-6;
      if (!(w >= b[0] - tol && s >= b[1] - tol && e <= b[2] + tol && n <= b[3] + tol)) outside.push(`${raw.collection}/${raw.id}`);
    }
    // 3dep-lidar-copc: bbox of the points, geometry of the tile; goes-cmi: bbox rounded inward by ~1e-5°.
    assert.equal(outside.length, 5);
    assert.ok(
      outside.every((k) => k.startsWith('3dep-lidar-copc/') || k.startsWith('goes-cmi/')),
      outside.join(', '),
    );
  });

  it('itemTimeRange: 48 items with datetime null use start/end; all ranges are ordered', () => {
    let ranged = 0;
    for (const { item } of accepted) {
      const t = itemTimeRange(item!);
      assert.ok(t.start <= t.end, item!.id);
      if (t.datetime === null) {
        ranged++;
        assert.equal(t.start, Date.parse(item!.properties.start_datetime!));
        assert.equal(t.end, Date.parse(item!.properties.end_datetime!));
      } else if (item!.properties.start_datetime === undefined) {
        assert.deepEqual([t.start, t.end], [t.datetime, t.datetime]);
      }
    }
    assert.equal(ranged, 48);
  });
});

describe('normalizeItem rules', () => {
  const base = clone(items.find((i) => i.stac_version === '1.0.0' && validateStac('item', i).valid)!);

  it('collection: set from opts when absent, kept when equal, an error when different', () => {
    const noColl = clone(base);
    delete noColl.collection;
    noColl.links = noColl.links.filter((l: Raw) => l.rel !== 'collection');
    const { item, notes } = normalizeItem(noColl, { collection: 'naip' });
    assert.equal(item.collection, 'naip');
    assert.ok(notes.includes('collection set to "naip"'));
    assert.equal(normalizeItem(base, { collection: base.collection }).item.collection, base.collection);
    const e = ingestError(() => normalizeItem(base, { collection: 'other' }));
    assert.equal(e.field, 'collection');
    assert.match(e.message, /^collection: /);
  });

  it('rejects broken items naming the field in `field` and in the message', () => {
    const cases: [string, (i: Raw) => unknown][] = [
      ['id', (i) => delete i.id],
      ['geometry.type', (i) => (i.geometry.type = 'Polygonal')],
      ['properties.datetime', (i) => (i.properties.datetime = 'last tuesday')],
      ['properties.datetime', (i) => delete i.properties.datetime],
      ['assets', (i) => delete i.assets],
      ['type', (i) => (i.type = 'FeatureCollection')],
      ['stac_version', (i) => delete i.stac_version],
    ];
    for (const [field, breakIt] of cases) {
      const raw = clone(base);
      breakIt(raw);
      const e = ingestError(() => normalizeItem(raw));
      assert.equal(e.field, field, e.message);
      assert.ok(e.message.startsWith(`${field}: `), e.message);
    }
    assert.equal(ingestError(() => normalizeItem([base])).field, '$');
    assert.equal(ingestError(() => normalizeItem(null)).field, '$');
  });

  it('shows the offending value in the reason', () => {
    const raw = clone(base);
    raw.properties.datetime = 'last tuesday';
    assert.match(ingestError(() => normalizeItem(raw)).reason, /got "last tuesday"/);
  });

  it('keeps non-structural links in order', () => {
    const raw = clone(base);
    raw.links = [
      { rel: 'self', href: 'https://x.test/a' },
      { rel: 'license', href: 'https://x.test/l' },
      { rel: 'items', href: 'https://x.test/i' },
      { rel: 'via', href: 'https://x.test/v' },
    ];
    assert.deepEqual(
      normalizeItem(raw).item.links.map((l) => l.rel),
      ['license', 'via'],
    );
  });
});

describe('datetime policy (no zone → UTC; other offsets → the same instant in UTC)', () => {
  it('utcDateTime', () => {
    assert.equal(utcDateTime('2025-11-13T01:18:44.291467'), '2025-11-13T01:18:44.291467Z');
    assert.equal(utcDateTime('2025-11-13 01:18:44'), '2025-11-13T01:18:44Z');
    assert.equal(utcDateTime('2025-11-13T01:18:44+02:30'), '2025-11-12T22:48:44Z');
    assert.equal(utcDateTime('2025-12-31T23:30:00.5-01:00'), '2026-01-01T00:30:00.5Z');
    assert.equal(utcDateTime('2025-11-13T01:18:44Z'), null);
    assert.equal(utcDateTime('2025-11-13T01:18:44+00:00'), null);
    assert.equal(utcDateTime('yesterday'), null);
  });

  it('applies to an Item and notes each field', () => {
    const raw = clone(items.find((i) => i.stac_version === '1.0.0' && validateStac('item', i).valid)!);
    raw.properties.datetime = '2021-06-01T10:00:00';
    raw.properties.created = '2021-06-02T10:00:00+01:00';
    const { item, notes } = normalizeItem(raw);
    assert.equal(item.properties.datetime, '2021-06-01T10:00:00Z');
    assert.equal(item.properties.created, '2021-06-02T09:00:00Z');
    assert.ok(notes.some((n) => n.startsWith('properties.datetime: "2021-06-01T10:00:00" has no UTC zone')));
    assert.ok(notes.some((n) => n.startsWith('properties.created: ')));
  });
});

describe('real collections: normalizeCollection', () => {
  it('accepts all 82; the two malformed URLs are repaired and noted, other format errors still reject', () => {
    let accepted = 0;
    const repairs: string[] = [];
    for (const raw of collections) {
      const before = JSON.stringify(raw);
      const { collection, notes } = normalizeCollection(raw);
      assert.ok(!collection.links.some((l) => STRUCTURAL_RELS.has(l.rel)));
      repairs.push(...notes.filter((n) => n.includes('repaired to')).map((n) => `${raw.id} ${n}`));
      accepted++;
      assert.equal(JSON.stringify(raw), before);
    }
    assert.equal(accepted, 82);
    assert.deepEqual(repairs.sort(), [
      'esa-worldcover links[1].href: "https://doi.org/10.5281/zenodo.5571936 " repaired to "https://doi.org/10.5281/zenodo.5571936"',
      'noaa-c-cap providers[1].url: "https//planetarycomputer.microsoft.com" repaired to "https://planetarycomputer.microsoft.com"',
    ]);
    const broken = structuredClone(collections.find((c) => c.id === 'noaa-c-cap')!);
    broken.providers[1].url = 'https://exa mple.com';
    assert.throws(
      () => normalizeCollection(broken),
      (e: unknown) => e instanceof IngestError && e.field === 'providers[1].url',
    );
  });

  it('reads the zone-less temporal interval of rcm-ard as UTC', () => {
    const { collection, notes } = normalizeCollection(collections.find((c) => c.id === 'rcm-ard'));
    assert.deepEqual(collection.extent.temporal.interval[0], ['2025-11-13T01:18:44.291467Z', '2025-11-13T01:19:05.574225Z']);
    assert.equal(notes.filter((n) => n.startsWith('extent.temporal.interval[0]')).length, 2);
  });

  it('rejects a collection without extent naming extent', () => {
    const raw = clone(collections.find((c) => c.id === 'naip')!);
    delete raw.extent;
    assert.equal(ingestError(() => normalizeCollection(raw)).field, 'extent');
  });
});

describe('geometryBbox and itemTimeRange', () => {
  it('geometryBbox over every geometry type, ignoring empty members', () => {
    const poly: GeoJsonGeometry = {
      type: 'Polygon',
      coordinates: [
        [
          [10, 0],
          [11, 0],
          [11, 1],
          [10, 0],
        ],
      ],
    };
    assert.deepEqual(geometryBbox(poly), [10, 0, 11, 1]);
    assert.deepEqual(geometryBbox({ type: 'Point', coordinates: [-180.1, 89.5, 100] }), [-180.1, 89.5, -180.1, 89.5]);
    assert.deepEqual(
      geometryBbox({
        type: 'MultiPolygon',
        coordinates: [
          [],
          [
            [
              [1, 2],
              [3, 4],
              [1, 5],
              [1, 2],
            ],
          ],
        ],
      }),
      [1, 2, 3, 5],
    );
    const gc: GeoJsonGeometry = {
      type: 'GeometryCollection',
      geometries: [{ type: 'LineString', coordinates: [] }, poly, { type: 'MultiPoint', coordinates: [[-5, -6]] }],
    };
    assert.deepEqual(geometryBbox(gc), [-5, -6, 11, 1]);
    assert.equal(geometryBbox(null), null);
    assert.equal(geometryBbox({ type: 'GeometryCollection', geometries: [] }), null);
    assert.equal(geometryBbox({ type: 'MultiPolygon', coordinates: [[]] }), null);
  });

  it('itemTimeRange: datetime, range, and an error when neither is given', () => {
    assert.deepEqual(itemTimeRange({ properties: { datetime: '2020-01-01T00:00:00Z' } }), {
      datetime: Date.UTC(2020, 0, 1),
      start: Date.UTC(2020, 0, 1),
      end: Date.UTC(2020, 0, 1),
    });
    const range = { datetime: null, start_datetime: '2020-01-01T00:00:00Z', end_datetime: '2020-12-31T23:59:59.999999Z' };
    assert.deepEqual(itemTimeRange({ properties: range }), {
      datetime: null,
      start: Date.UTC(2020, 0, 1),
      end: Date.UTC(2020, 11, 31, 23, 59, 59, 999),
    });
    const e = ingestError(() => itemTimeRange({ properties: { datetime: null } }));
    assert.equal(e.field, 'properties.datetime');
    assert.equal(ingestError(() => itemTimeRange({ properties: { datetime: 'soon' } })).field, 'properties.datetime');
  });
});
