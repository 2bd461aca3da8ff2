/**
 * The tasking API's opportunity search against a real server (both stores): the answer is exactly the
 * passes orbits/passes.ts `findPasses` finds for the stored satellites of the product's sensor (demo
 * constellation at "now", and the 21 real element sets near their 2017 epochs under a mocked clock),
 * stale element sets contribute nothing and say why, the optical product drops night passes, filters and
 * order parameters narrow the search, paging walks the list once, and every bad request is a 400 naming
 * the field. Also: the request validation of requests.ts (RFC 3339 windows, AOIs, areas on the sphere
 * checked against @turf/area) and the element-set store (demo constellation, re-epoching, loading).
 */
import assert from 'node:assert/strict';
import { REAL_TLES } from '../helpers/real-tles.js';
import { after, before, describe, it } from 'node:test';
import turfArea from '@turf/area';
import { propagate, twoline2satrec } from 'satellite.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { createOrg } from '../helpers/orgs.js';
import { bearer, request, tokenFor, type Res } from '../helpers/http.js';
import {
  DEMO_FIRST_NORAD_ID,
  findPasses,
  parseTle,
  parseTleFile,
  type ElementSet,
  type Pass,
  type PassTarget,
} from '../../src/tasking/orbits/index.js';
import { productById, type TaskingProduct } from '../../src/tasking/products.js';
import { parseAoi, parseRfc3339, parseWindow, sphericalAreaKm2, EARTH_MEAN_RADIUS_KM } from '../../src/tasking/requests.js';
import { DEMO_REFRESH_AGE_DAYS, ensureDemoConstellation, loadTleText, reEpoch } from '../../src/tasking/tle-store.js';
import { HttpProblem } from '../../src/http/errors.js';
import type { TaskingStorage, TleRecord } from '../../src/storage/tasking.js';

const OPTICAL = productById('skyport-ms-tasking')!;
const THERMAL = productById('skyport-tir-tasking')!;
const MIN = 60_000;
const DAY = 86_400_000;
/** Lyon: mid-latitude, where the demo fleet has day and night passes every day. */
const LYON: PassTarget & { type: 'Point' } = { type: 'Point', coordinates: [4.85, 45.76] };
const iso = (ms: number) => new Date(ms).toISOString();
const interval = (a: number, b: number) => `${iso(a)}/${iso(b)}`;

/** The 400 of requests.ts: a BadRequest whose description names the field first. */
function refused(fn: () => unknown, field: string, words?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HttpProblem, String(e));
    assert.equal(e.status, 400);
    assert.ok(e.description.startsWith(`${field}:`), e.description);
    if (words) assert.match(e.description, words);
    return true;
  });
}

/** A `lon`×`lat` degree box with its south-west corner at (w, s), counter-clockwise. */
function box(w: number, s: number, dLon: number, dLat: number): { type: 'Polygon'; coordinates: number[][][] } {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [w, s],
        [w + dLon, s],
        [w + dLon, s + dLat],
        [w, s + dLat],
        [w, s],
      ],
    ],
  };
}

describe('tasking requests: windows, AOIs, areas', () => {
  const now = Date.parse('2026-05-01T00:00:00Z');

  it('reads RFC 3339 date-times: lower-case t/z, offsets, fractions, a leap second; refuses impossible dates', () => {
    assert.equal(parseRfc3339('2026-06-01t10:00:00z'), Date.parse('2026-06-01T10:00:00Z'));
    assert.equal(parseRfc3339('2026-06-01T12:30:00+02:30'), Date.parse('2026-06-01T10:00:00Z'));
    assert.equal(parseRfc3339('2026-06-01T05:00:00-05:00'), Date.parse('2026-06-01T10:00:00Z'));
    assert.equal(parseRfc3339('2026-06-01T10:00:00.123456Z'), Date.parse('2026-06-01T10:00:00.123Z'));
    assert.equal(parseRfc3339('2026-06-30T23:59:60Z'), Date.parse('2026-07-01T00:00:00Z'));
    for (const bad of [
      '2026-02-30T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-06-01T24:00:00Z',
      '2026-06-01T10:00:00',
      '2026-06-01',
      '2026-06-01T10:00Z',
      '2026-06-01T10:00:00+25:00',
      ' 2026-06-01T10:00:00Z',
    ])
      assert.equal(parseRfc3339(bad), undefined, bad);
  });

  it('parseWindow: both ends required, ordered, not in the past, within the product limit', () => {
    const w = parseWindow('2026-06-01t10:00:00z/2026-06-02T12:00:00+02:00', now, OPTICAL);
    assert.equal(w.start.toISOString(), '2026-06-01T10:00:00.000Z');
    assert.equal(w.end.toISOString(), '2026-06-02T10:00:00.000Z');
    assert.equal(
      parseWindow(interval(now - 30_000, now + DAY), now, OPTICAL).start.getTime(),
      now - 30_000,
      'a start within the last minute is "now"',
    );
    refused(() => parseWindow(interval(now - 90_000, now + DAY), now, OPTICAL), 'datetime', /past/);
    refused(() => parseWindow(undefined, now, OPTICAL), 'datetime', /required/);
    refused(() => parseWindow(42, now, OPTICAL), 'datetime');
    refused(() => parseWindow('2026-06-01T10:00:00Z', now, OPTICAL), 'datetime', /interval/);
    refused(() => parseWindow('2026-06-01T10:00:00Z/..', now, OPTICAL), 'datetime', /open-ended/);
    refused(() => parseWindow('../2026-06-01T10:00:00Z', now, OPTICAL), 'datetime', /open-ended/);
    refused(() => parseWindow('2026-06-01T10:00:00Z/', now, OPTICAL), 'datetime', /open-ended/);
    refused(() => parseWindow('2026-06-02T10:00:00Z/2026-06-01T10:00:00Z', now, OPTICAL), 'datetime', /reversed/);
    refused(() => parseWindow('2026-06-01T10:00:00Z/2026-06-01T12:00:00+02:00', now, OPTICAL), 'datetime', /empty/);
    refused(() => parseWindow('2026-06-01 10:00:00Z/2026-06-02T10:00:00Z', now, OPTICAL), 'datetime', /start .* not an RFC 3339/);
    refused(() => parseWindow('2026-06-01T10:00:00Z/2026-06-31T10:00:00Z', now, OPTICAL), 'datetime', /end .* not an RFC 3339/);
    const limit = OPTICAL.maxWindowDays;
    assert.ok(parseWindow(interval(now, now + limit * DAY), now, OPTICAL));
    refused(() => parseWindow(interval(now, now + limit * DAY + 1000), now, OPTICAL), 'datetime', new RegExp(`limit of ${limit} days`));
  });

  it('areas on the sphere: exact for the octant, equal to @turf/area for small boxes, across the antimeridian, minus holes', () => {
    const octant = sphericalAreaKm2({
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [90, 0],
          [0, 90],
          [0, 0],
        ],
      ],
    });
    const exact = (Math.PI / 2) * EARTH_MEAN_RADIUS_KM ** 2;
    assert.ok(Math.abs(octant - exact) / exact < 1e-12, `${octant} vs ${exact}`);
    for (const [w, s, d] of [
      [4.8, 45.7, 0.1],
      [-70, -33.5, 0.2],
      [20, 69.5, 0.5],
      [100, 0, 0.05],
      [-150, 60, 1],
    ] as const) {
      const g = box(w, s, d, d / 2);
      const ours = sphericalAreaKm2(g);
      const turf = turfArea(g) / 1e6;
      assert.ok(Math.abs(ours - turf) / turf < 1e-3, `box at ${w},${s}: ${ours} vs turf ${turf}`);
    }
    const across = box(179.95, -17, 0.1, 0.1);
    across.coordinates[0] = across.coordinates[0]!.map(([x, y]) => [x! > 180 ? x! - 360 : x!, y!]);
    const shifted = sphericalAreaKm2(box(9.95, -17, 0.1, 0.1));
    assert.ok(Math.abs(sphericalAreaKm2(across) - shifted) / shifted < 1e-9, 'the same box across ±180');
    const holed = box(10, 45, 0.2, 0.2);
    holed.coordinates.push(box(10.05, 45.05, 0.1, 0.1).coordinates[0]!.slice().reverse());
    const expected = sphericalAreaKm2(box(10, 45, 0.2, 0.2)) - sphericalAreaKm2(box(10.05, 45.05, 0.1, 0.1));
    assert.ok(Math.abs(sphericalAreaKm2(holed) - expected) < 1e-9);
    assert.equal(sphericalAreaKm2(LYON), 0);
  });

  it('parseAoi: Point or valid Polygon within the product area limit; anything else a 400 naming geometry', () => {
    assert.deepEqual(parseAoi({ ...LYON, bbox: [1, 2, 3, 4] }, OPTICAL), LYON, 'only type and coordinates are kept');
    const big = box(4.8, 45.7, 0.2, 0.2); // ≈ 15.5 × 22.2 km
    assert.deepEqual(parseAoi(big, THERMAL), big);
    const area = sphericalAreaKm2(big);
    assert.ok(area > 340 && area < 350, `${area} km²`);
    refused(() => parseAoi(big, OPTICAL), 'geometry', new RegExp(`covers ${area.toFixed(1)} km².*limit of 100 km²`));
    refused(() => parseAoi(undefined, OPTICAL), 'geometry', /required/);
    refused(
      () =>
        parseAoi(
          {
            type: 'LineString',
            coordinates: [
              [0, 0],
              [1, 1],
            ],
          },
          OPTICAL,
        ),
      'geometry',
      /LineString is not accepted/,
    );
    refused(() => parseAoi({ type: 'MultiPolygon', coordinates: [big.coordinates] }, THERMAL), 'geometry', /MultiPolygon/);
    refused(() => parseAoi({ type: 'Point', coordinates: [200, 45] }, OPTICAL), 'geometry', /outside/);
    refused(() => parseAoi({ type: 'Point', coordinates: ['4.8', 45] }, OPTICAL), 'geometry');
    const bowtie = {
      type: 'Polygon',
      coordinates: [
        [
          [4.8, 45.7],
          [4.85, 45.75],
          [4.85, 45.7],
          [4.8, 45.75],
          [4.8, 45.7],
        ],
      ],
    };
    refused(() => parseAoi(bowtie, OPTICAL), 'geometry', /invalid Polygon/);
    const open = {
      type: 'Polygon',
      coordinates: [
        [
          [4.8, 45.7],
          [4.85, 45.7],
          [4.85, 45.75],
          [4.8, 45.75],
        ],
      ],
    };
    refused(() => parseAoi(open, OPTICAL), 'geometry');
    refused(
      () =>
        parseAoi(
          {
            type: 'Polygon',
            coordinates: [
              [
                [4.8, 45.7],
                [4.85, 45.7],
                [4.8, 45.7],
              ],
            ],
          },
          OPTICAL,
        ),
      'geometry',
      /at least 4/,
    );
  });
});

/** A TaskingStorage holding only element sets, in memory (the two methods tle-store.ts uses). */
function memoryStore(): TaskingStorage & { sets: Map<number, TleRecord> } {
  const sets = new Map<number, TleRecord>();
  return {
    sets,
    async upsertTleSets(list: TleRecord[]) {
      for (const r of list) sets.set(r.noradId, { ...r });
    },
    async listTleSets() {
      return [...sets.values()].sort((a, b) => a.noradId - b.noradId);
    },
  } as unknown as TaskingStorage & { sets: Map<number, TleRecord> };
}

describe('element sets: demo constellation, re-epoching, loading', () => {
  const t0 = Date.parse('2026-03-01T00:00:00Z');

  it('an empty store gets the demo fleet: 5 optical and 5 thermal; a fresh fleet is kept', async () => {
    const store = memoryStore();
    assert.deepEqual(await ensureDemoConstellation(store, t0), { action: 'created', count: 10 });
    const sets = await store.listTleSets();
    assert.deepEqual(
      sets.map((r) => [r.noradId, r.name.replace(/-\d+$/, ''), r.sensor]),
      Array.from({ length: 10 }, (_, i) => [DEMO_FIRST_NORAD_ID + i, i < 5 ? 'SKYPORT-OPT' : 'SKYPORT-TIR', i < 5 ? 'optical' : 'thermal']),
    );
    assert.ok(sets.every((r) => r.epoch === t0 && parseTle(r.line1, r.line2).epoch.getTime() === t0));
    assert.deepEqual(await ensureDemoConstellation(store, t0 + (DEMO_REFRESH_AGE_DAYS - 1) * DAY), { action: 'kept', count: 0 });
  });

  it('demo sets older than a week are re-epoched to now on the same orbits; operator sets are left alone', async () => {
    const store = memoryStore();
    await ensureDemoConstellation(store, t0);
    const real = parseTleFile(REAL_TLES).sets[0]!;
    await store.upsertTleSets([
      {
        noradId: real.noradId,
        name: real.name,
        line1: real.line1,
        line2: real.line2,
        epoch: real.epoch.getTime(),
        sensor: 'optical',
        loadedAt: t0,
      },
    ]);
    const before = await store.listTleSets();
    const later = t0 + (DEMO_REFRESH_AGE_DAYS + 1) * DAY + 12_345;
    assert.deepEqual(await ensureDemoConstellation(store, later), { action: 'refreshed', count: 10 });
    const afterSets = await store.listTleSets();
    assert.deepEqual(
      afterSets.find((r) => r.noradId === real.noradId),
      before.find((r) => r.noradId === real.noradId),
    );
    for (const r of afterSets.filter((x) => x.noradId !== real.noradId)) {
      const old = before.find((x) => x.noradId === r.noradId)!;
      assert.ok(Math.abs(r.epoch - later) < 1, `${r.name} epoch ${iso(r.epoch)}`);
      assert.equal(r.sensor, old.sensor);
      // The same orbit: both sets put the satellite at the same place a day after the new epoch.
      for (const at of [later, later + DAY]) {
        const a = propagate(twoline2satrec(old.line1, old.line2), new Date(at))!.position;
        const b = propagate(twoline2satrec(r.line1, r.line2), new Date(at))!.position;
        const km = Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
        assert.ok(km < 0.1, `${r.name} moved ${km.toFixed(3)} km`);
      }
    }
    assert.throws(() => reEpoch(real, new Date(later)), RangeError, 'a set with drag cannot be re-epoched');
  });

  it('an operator store without demo sets gets none', async () => {
    const store = memoryStore();
    assert.equal((await loadTleText(store, REAL_TLES, 'optical', t0)).loaded, 21);
    assert.deepEqual(await ensureDemoConstellation(store, t0), { action: 'kept', count: 0 });
    assert.equal((await store.listTleSets()).length, 21);
  });

  it('loadTleText: every valid set stored under the sensor; bad, duplicate and older sets reported with their line', async () => {
    const store = memoryStore();
    const r = await loadTleText(store, REAL_TLES, 'thermal', t0);
    assert.deepEqual(r, { loaded: 21, errors: [] });
    const stored = await store.listTleSets();
    assert.equal(stored.length, 21);
    assert.ok(stored.every((x) => x.sensor === 'thermal' && x.loadedAt === t0));
    assert.deepEqual(new Set(stored.map((x) => x.name)), new Set(parseTleFile(REAL_TLES).sets.map((x) => x.name)));
    const lines = REAL_TLES.trim().split('\n');
    const iss = lines.slice(0, 3);
    const broken = `${iss[1]!.slice(0, 68)}${(Number(iss[1]!.at(68)) + 1) % 10}`;
    const older = formatOlder(iss[1]!, iss[2]!);
    const text = [`BROKEN`, broken, iss[2], 'OLD ISS', older.line1, older.line2, ...lines.slice(3, 6), ...lines.slice(3, 6)].join('\n');
    const again = await loadTleText(store, text, 'optical', t0 + 1);
    assert.equal(again.loaded, 1, 'NORAD 37673 once');
    assert.deepEqual(
      again.errors.map((e) => [e.line, e.name]),
      [
        [2, 'BROKEN'],
        [5, 'OLD ISS'],
        [8, 'NORAD 37673'],
      ],
    );
    assert.match(again.errors[0]!.reason, /checksum/);
    assert.match(again.errors[1]!.reason, /stored element set of NORAD 25544 is newer/);
    assert.match(again.errors[2]!.reason, /appears again/);
    assert.equal((await store.listTleSets()).find((x) => x.noradId === 37673)!.sensor, 'optical');
    assert.deepEqual(await loadTleText(store, 'no elements here', 'optical'), {
      loaded: 0,
      errors: [{ line: 1, name: 'no elements here', reason: "name line 'no elements here' is not followed by element lines" }],
    });
  });
});

/** The ISS set with its epoch one day earlier (valid checksums), for the "older than stored" case. */
function formatOlder(line1: string, line2: string): { line1: string; line2: string } {
  const day = Number(line1.slice(20, 32)) - 1;
  const body = `${line1.slice(0, 20)}${day.toFixed(8).padStart(12, '0')}${line1.slice(32, 68)}`;
  const sum = (s: string) => [...s].reduce((n, c) => n + (c >= '0' && c <= '9' ? Number(c) : c === '-' ? 1 : 0), 0) % 10;
  return { line1: body + String(sum(body)), line2 };
}

const key = (name: string, start: string, end: string, tca: string) => `${name} ${start}/${end} tca ${tca}`;
const passKey = (p: Pass) => key(p.satellite.name, p.start.toISOString(), p.end.toISOString(), p.tca.toISOString());
const featureKey = (f: any) =>
  key(f.properties.platform, f.properties.start_datetime, f.properties.end_datetime, f.properties['skyport:tca']);

/** The oracle: findPasses over these sets, all sorted like the API (start, then NORAD id). */
function oracle(sets: ElementSet[], target: PassTarget, w: { start: number; end: number }, c: Parameters<typeof findPasses>[3]): Pass[] {
  return sets
    .flatMap((s) => findPasses(s, target, { start: new Date(w.start), end: new Date(w.end) }, c))
    .sort((a, b) => a.start.getTime() - b.start.getTime() || a.satellite.noradId - b.satellite.noradId);
}

for (const store of await stores()) {
  describe(`opportunity search (${store})`, () => {
    let s: TestServer;
    let ro: string;
    let loaded: Awaited<ReturnType<typeof loadTleText>>;
    const post = (product: string, body: unknown, token = ro): Promise<Res> =>
      request(`${s.url}/tasking/products/${product}/opportunities`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const stored = async (sensor: TleRecord['sensor']) =>
      (await s.skyport.storage.listTleSets()).filter((r) => r.sensor === sensor).map((r) => parseTle(r.line1, r.line2, r.name));
    const demo = async (sensor: TleRecord['sensor']) => (await stored(sensor)).filter((x) => x.noradId >= DEMO_FIRST_NORAD_ID);
    const constraints = (p: TaskingProduct, sun = true) => ({
      maxOffNadirDeg: p.maxOffNadirDeg,
      ...(sun && p.minSunElevationDeg !== null ? { minSunElevationDeg: p.minSunElevationDeg } : {}),
      maxElementAgeDays: p.maxElementAgeDays,
    });

    before(async () => {
      s = await startServer({ store });
      ro = await tokenFor(s.url, s.creds['read-only']);
      loaded = await loadTleText(s.skyport.storage, REAL_TLES, 'optical');
    });
    after(() => s.close());

    it('the server starts with the demo fleet; the 21 real element sets load', async () => {
      assert.deepEqual(loaded, { loaded: 21, errors: [] });
      const all = await s.skyport.storage.listTleSets();
      assert.equal(all.length, 31);
      assert.equal((await demo('optical')).length, 5);
      assert.equal((await demo('thermal')).length, 5);
    });

    it('optical opportunities are exactly the daylight passes of the stored optical satellites; stale sets none, with the reason', async () => {
      const now = Date.now();
      const w = { start: now + 10 * MIN, end: now + 3 * DAY };
      const r = await post(OPTICAL.id, { datetime: interval(w.start, w.end), geometry: LYON, limit: 100 });
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers.get('content-type')!, /^application\/geo\+json/);
      assert.equal(r.json.type, 'FeatureCollection');
      const expected = oracle(await demo('optical'), LYON, w, constraints(OPTICAL));
      assert.ok(expected.length >= 3, `${expected.length} daylight passes in 3 days over Lyon`);
      assert.deepEqual(r.json.features.map(featureKey), expected.map(passKey));
      const real = parseTleFile(REAL_TLES).sets;
      assert.deepEqual(
        r.json['skyport:notes'].map((n: any) => [n.code, n.norad_id, n.platform]),
        real.sort((a, b) => a.noradId - b.noradId).map((x) => ['stale-elements', x.noradId, x.name]),
      );
      assert.ok(r.json['skyport:notes'].every((n: any) => /element set epoch .* days from the window \(limit 14\)/.test(n.reason)));
      const ids = new Set<string>();
      r.json.features.forEach((f: any, i: number) => {
        const p = expected[i]!;
        assert.equal(f.type, 'Feature');
        assert.equal(f.stapi_type, 'Opportunity');
        assert.ok(!ids.has(f.id), 'ids are unique');
        ids.add(f.id);
        assert.equal(f.properties.datetime, `${p.start.toISOString()}/${p.end.toISOString()}`);
        assert.equal(f.properties.product_id, OPTICAL.id);
        assert.equal(f.properties['view:off_nadir'], Number(p.offNadirDeg.toFixed(3)));
        assert.equal(f.properties['view:sun_elevation'], Number(p.sunElevationDeg.toFixed(3)));
        assert.equal(f.properties['view:azimuth'], Number(p.azimuthDeg.toFixed(3)));
        assert.equal(f.properties['view:incidence_angle'], Number((90 - p.elevationDeg).toFixed(3)));
        assert.ok(f.properties['view:off_nadir'] <= OPTICAL.maxOffNadirDeg && f.properties['view:sun_elevation'] >= 10);
        assert.deepEqual(f.geometry, p.footprint);
        const [west, south, east, north] = f.bbox;
        for (const [x, y] of f.geometry.coordinates[0]) assert.ok(x >= west && x <= east && y >= south && y <= north);
        const order = f.links.find((l: any) => l.rel === 'create-order');
        assert.equal(order.method, 'POST');
        assert.equal(order.href, `${s.url}/tasking/products/${OPTICAL.id}/orders`);
        assert.deepEqual(order.body, { datetime: f.properties.datetime, geometry: LYON, filter: null, order_parameters: {} });
      });
      const again = await post(OPTICAL.id, { datetime: interval(w.start, w.end), geometry: LYON, limit: 100 });
      assert.deepEqual(
        again.json.features.map((f: any) => f.id),
        [...ids],
        'the same search gives the same ids',
      );
    });

    it('night passes are no optical opportunities; the thermal product takes them', async () => {
      const now = Date.now();
      const w = { start: now + 10 * MIN, end: now + 3 * DAY };
      const body = { datetime: interval(w.start, w.end), geometry: LYON, limit: 100 };
      const optical = await post(OPTICAL.id, body);
      const night = oracle(await demo('optical'), LYON, w, constraints(OPTICAL, false)).filter((p) => p.sunElevationDeg < 10);
      assert.ok(night.length > 0, 'the optical satellites do pass over Lyon in the dark');
      const shown = new Set(optical.json.features.map(featureKey));
      assert.ok(night.every((p) => !shown.has(passKey(p))));
      const thermal = await post(THERMAL.id, body);
      assert.equal(thermal.status, 200);
      assert.deepEqual(thermal.json.features.map(featureKey), oracle(await demo('thermal'), LYON, w, constraints(THERMAL)).map(passKey));
      assert.ok(
        thermal.json.features.some((f: any) => f.properties['view:sun_elevation'] < 0),
        'thermal passes at night',
      );
      assert.deepEqual(thermal.json['skyport:notes'], [], 'the thermal fleet is fresh: nothing to explain');
    });

    it('a real satellite near its epoch: the same passes findPasses finds (clock at 2017-11-28)', async (t) => {
      const NOW = Date.parse('2017-11-28T12:00:00Z');
      t.mock.timers.enable({ apis: ['Date'], now: NOW });
      const token = await tokenFor(s.url, s.creds['read-only']);
      const w = { start: NOW + 10 * MIN, end: NOW + 2 * DAY };
      const target: PassTarget & { type: 'Polygon' } = box(4.83, 45.74, 0.04, 0.03);
      const r = await post(OPTICAL.id, { datetime: interval(w.start, w.end), geometry: target, limit: 100 }, token);
      assert.equal(r.status, 200, r.text);
      const maxAge = OPTICAL.maxElementAgeDays * DAY;
      const near = parseTleFile(REAL_TLES).sets.filter(
        (x) => Math.abs(x.epoch.getTime() - w.start) <= maxAge && Math.abs(x.epoch.getTime() - w.end) <= maxAge,
      );
      assert.equal(near.length, 14, 'the sets of 27–28 November 2017');
      const expected = oracle(near, target, w, constraints(OPTICAL));
      assert.ok(expected.length >= 5, `${expected.length} passes`);
      assert.deepEqual(r.json.features.map(featureKey), expected.map(passKey));
      const notes = r.json['skyport:notes'];
      assert.equal(notes.length, 21 - 14 + 5, 'the other real sets and the demo fleet (epoch today) are stale');
      assert.ok(notes.every((n: any) => n.code === 'stale-elements'));
      assert.ok(notes.some((n: any) => n.platform === 'ISS' && /2017-11-10/.test(n.reason)));
    });

    it("a window reaching past the elements' reliable range is searched up to it, and says so", async () => {
      const now = Date.now();
      const w = { start: now + 10 * MIN, end: now + 20 * DAY };
      const r = await post(THERMAL.id, { datetime: interval(w.start, w.end), geometry: LYON, limit: 100 });
      assert.equal(r.status, 200, r.text);
      const sets = await demo('thermal');
      const reliableEnd = Math.min(...sets.map((x) => x.epoch.getTime())) + THERMAL.maxElementAgeDays * DAY;
      assert.deepEqual(
        r.json.features.map(featureKey),
        oracle(sets, LYON, { start: w.start, end: reliableEnd }, constraints(THERMAL)).map(passKey),
      );
      assert.ok(r.json.features.length > 20);
      assert.deepEqual(
        r.json['skyport:notes'].map((n: any) => [n.code, n.platform]),
        sets.map((x) => ['window-clipped', x.name]),
      );
      assert.match(r.json['skyport:notes'][0].reason, new RegExp(`searched ${iso(w.start)} to ${iso(reliableEnd)}`));
    });

    it('paging: limit and the POST next links walk the whole list once, in order', async () => {
      const now = Date.now();
      const body = { datetime: interval(now + 10 * MIN, now + 3 * DAY), geometry: LYON };
      const all = await post(THERMAL.id, { ...body, limit: 100 });
      assert.ok(all.json.features.length >= 12, `${all.json.features.length} thermal passes`);
      assert.equal(
        all.json.links.find((l: any) => l.rel === 'next'),
        undefined,
      );
      const first = await post(THERMAL.id, body);
      assert.equal(first.json.features.length, 10, 'default limit 10');
      const seen: string[] = [];
      let page = await post(THERMAL.id, { ...body, limit: 5 });
      for (let n = 0; n < 10; n++) {
        assert.equal(page.status, 200, page.text);
        assert.ok(page.json.features.length <= 5);
        seen.push(...page.json.features.map((f: any) => f.id));
        const next = page.json.links.find((l: any) => l.rel === 'next');
        if (!next) break;
        assert.equal(next.method, 'POST');
        assert.equal(next.href, `${s.url}/tasking/products/${THERMAL.id}/opportunities`);
        assert.deepEqual({ ...next.body, next: undefined }, { ...body, limit: 5, next: undefined }, 'the original body with a next token');
        page = await request(next.href, {
          method: 'POST',
          headers: { ...bearer(ro), 'content-type': 'application/json' },
          body: JSON.stringify(next.body),
        });
      }
      assert.deepEqual(
        seen,
        all.json.features.map((f: any) => f.id),
      );
    });

    it('filters and order parameters narrow the search and travel into create-order', async () => {
      const now = Date.now();
      const w = { start: now + 10 * MIN, end: now + 3 * DAY };
      const base = { datetime: interval(w.start, w.end), geometry: LYON, limit: 100 };
      const narrow = oracle(await demo('thermal'), LYON, w, { ...constraints(THERMAL), maxOffNadirDeg: 15 });
      assert.ok(narrow.length > 0, 'thermal passes within 15° in 3 days');
      const filter = { op: '<=', args: [{ property: 'view:off_nadir' }, 15] };
      const byFilter = await post(THERMAL.id, { ...base, filter });
      assert.equal(byFilter.status, 200, byFilter.text);
      assert.deepEqual(byFilter.json.features.map(featureKey), narrow.map(passKey));
      assert.deepEqual(byFilter.json.features[0]?.links[0].body.filter, filter);
      const byParams = await post(THERMAL.id, { ...base, order_parameters: { max_off_nadir: 15 } });
      assert.deepEqual(byParams.json.features.map(featureKey), narrow.map(passKey));
      assert.deepEqual(byParams.json.features[0]?.links[0].body.order_parameters, { max_off_nadir: 15 });
      const sat = 'SKYPORT-TIR-2';
      const one = await post(THERMAL.id, {
        ...base,
        filter: {
          op: 'and',
          args: [
            { op: '=', args: [{ property: 'platform' }, sat] },
            { op: '<', args: [{ property: 'view:sun_elevation' }, 0] },
          ],
        },
      });
      assert.equal(one.status, 200, one.text);
      const all = await post(THERMAL.id, base);
      const expected = all.json.features.filter((f: any) => f.properties.platform === sat && f.properties['view:sun_elevation'] < 0);
      assert.deepEqual(one.json.features.map(featureKey), expected.map(featureKey));
      const day = await post(THERMAL.id, { ...base, filter: { op: '>=', args: [{ property: 'view:sun_elevation' }, 0] } });
      const daylight = oracle(await demo('thermal'), LYON, w, { ...constraints(THERMAL), minSunElevationDeg: 0 });
      assert.ok(daylight.length > 0 && daylight.length < all.json.features.length, 'thermal passes by day and by night');
      assert.deepEqual(day.json.features.map(featureKey), daylight.map(passKey));
    });

    it('an organization sees the same opportunities as any other; tasking tokens search too', async () => {
      const other = await createOrg(s, 'opps');
      const now = Date.now();
      const body = { datetime: interval(now + 10 * MIN, now + 2 * DAY), geometry: LYON };
      const mine = await post(THERMAL.id, body);
      const theirs = await post(THERMAL.id, body, await tokenFor(s.url, other.creds['read-only']));
      const tasking = await post(THERMAL.id, body, await tokenFor(s.url, s.creds.tasking));
      assert.equal(theirs.status, 200);
      assert.deepEqual(theirs.json.features, mine.json.features);
      assert.deepEqual(tasking.json.features, mine.json.features);
    });

    it('unknown product 404; no token 401; a token without tasking:read 403', async () => {
      const now = Date.now();
      const body = { datetime: interval(now + 10 * MIN, now + DAY), geometry: LYON };
      const missing = await post('no-such-product', body);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.json, { code: 'NotFound', description: 'product no-such-product not found' });
      const anon = await request(`${s.url}/tasking/products/${OPTICAL.id}/opportunities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(anon.status, 401);
      const catalogOnly = await tokenFor(s.url, s.creds['read-only'], '&scope=catalog:read');
      const denied = await post(OPTICAL.id, body, catalogOnly);
      assert.equal(denied.status, 403);
      assert.match(denied.headers.get('www-authenticate')!, /insufficient_scope/);
    });

    it('bad requests are 400 naming the field', async () => {
      const now = Date.now();
      const ok = { datetime: interval(now + 10 * MIN, now + DAY), geometry: LYON };
      const cases: [string, unknown, string][] = [
        ['no datetime', { geometry: LYON }, 'datetime'],
        ['open end', { ...ok, datetime: `${iso(now + MIN)}/..` }, 'datetime'],
        ['reversed', { ...ok, datetime: interval(now + DAY, now + MIN) }, 'datetime'],
        ['in the past', { ...ok, datetime: interval(now - DAY, now + DAY) }, 'datetime'],
        ['too long', { ...ok, datetime: interval(now + MIN, now + MIN + 31 * DAY) }, 'datetime'],
        ['not RFC 3339', { ...ok, datetime: '2030-01-01/2030-01-02' }, 'datetime'],
        ['no geometry', { datetime: ok.datetime }, 'geometry'],
        [
          'a LineString',
          {
            ...ok,
            geometry: {
              type: 'LineString',
              coordinates: [
                [4, 45],
                [5, 46],
              ],
            },
          },
          'geometry',
        ],
        [
          'self-intersecting',
          {
            ...ok,
            geometry: {
              type: 'Polygon',
              coordinates: [
                [
                  [4.8, 45.7],
                  [4.85, 45.75],
                  [4.85, 45.7],
                  [4.8, 45.75],
                  [4.8, 45.7],
                ],
              ],
            },
          },
          'geometry',
        ],
        ['too large', { ...ok, geometry: box(4.8, 45.7, 0.2, 0.2) }, 'geometry'],
        ['limit 0', { ...ok, limit: 0 }, 'limit'],
        ['limit 101', { ...ok, limit: 101 }, 'limit'],
        ['limit 2.5', { ...ok, limit: 2.5 }, 'limit'],
        ['limit "5"', { ...ok, limit: '5' }, 'limit'],
        ['a forged next', { ...ok, next: 'not a token!' }, 'next'],
        ['a next of another shape', { ...ok, next: Buffer.from('{"a":1}').toString('base64url') }, 'next'],
        ['an unknown queryable', { ...ok, filter: { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] } }, 'filter'],
        ['a spatial filter', { ...ok, filter: { op: 's_intersects', args: [{ property: 'geometry' }, LYON] } }, 'filter'],
        ['a string for a number', { ...ok, filter: { op: '<', args: [{ property: 'view:off_nadir' }, '10'] } }, 'filter'],
        ['not CQL2', { ...ok, filter: { op: 'nonsense', args: [] } }, 'filter'],
        ['max_off_nadir above the product', { ...ok, order_parameters: { max_off_nadir: 31 } }, 'order_parameters.max_off_nadir'],
        ['an unknown order parameter', { ...ok, order_parameters: { colour: 'blue' } }, 'order_parameters'],
        ['cql2-text', { ...ok, 'filter-lang': 'cql2-text' }, 'filter-lang'],
        ['an unknown field', { ...ok, intersects: LYON }, 'intersects'],
        ['an array body', [ok], 'body'],
      ];
      for (const [what, body, field] of cases) {
        const r = await post(OPTICAL.id, body);
        assert.equal(r.status, 400, `${what}: ${r.text}`);
        assert.equal(r.json.code, 'BadRequest', what);
        assert.ok(r.json.description.startsWith(`${field}:`), `${what}: ${r.json.description}`);
      }
    });
  });
}
