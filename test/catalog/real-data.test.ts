/**
 * The real STAC fixtures (shared/data/stac: collections and items harvested from public catalogs, see
 * shared/data/SOURCES.md) loaded with the operator's loader (`skyport catalog load`) and read back over
 * HTTP with the demo read-only token, on both stores: load counts and idempotence, the item round trip,
 * schema validity of every answer, and item search checked against an independent computation over the
 * same files (test/helpers/real-data.ts: @turf/turf for geometry, its own time parsing).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Geometry } from 'geojson';
import { normalizeItem } from '../../src/catalog/ingest.js';
import { loadStac, type LoadSummary } from '../../src/catalog/load.js';
import { bearer, request, tokenFor } from '../helpers/http.js';
import {
  bboxGeometry,
  datetimeSortValue,
  geometryIntersects,
  instantMs,
  itemKey,
  meetsInterval,
  realStacFiles,
  type Bbox,
  type RealItemLine,
} from '../helpers/real-data.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { assertValidStac } from '../helpers/stac-validate.js';

/**
 * Collections the loader is expected to reject (id → the field it names); every expected count is
 * derived from this. Empty since ingest repairs the publisher slips of esa-worldcover (a link href with
 * a trailing blank) and noaa-c-cap (`https//` in a provider URL); before, both were rejected, and with
 * them their items, for lack of a collection.
 */
const EXPECTED_REJECTED_COLLECTIONS: Record<string, string> = {};

/** Link relations Skyport writes itself (STAC API core): dropped at ingest, written when serving. */
const STRUCTURAL_RELS = new Set(['self', 'root', 'parent', 'collection', 'items']);

const files = realStacFiles();
const rejectedCollections = new Set(Object.keys(EXPECTED_REJECTED_COLLECTIONS));
const loadedCollections = files.collections.filter((c) => !rejectedCollections.has(c.id));
const loadedItems = files.items.filter((i) => !rejectedCollections.has(i.raw.collection));
const rejectedItems = files.items.filter((i) => rejectedCollections.has(i.raw.collection));
const byKey = new Map(files.items.map((i) => [i.key, i.raw]));

/** Keys of the loaded items that satisfy `test`, the oracle's answer to a search. */
const expected = (test: (raw: Record<string, any>) => boolean) => loadedItems.filter((i) => test(i.raw)).map((i) => i.key);

/**
 * Per query, the items an answer lacks (`missing`) or adds (`unexpected`) compared with the independent
 * computation; asserted once at the end of a test, so that every disagreeing query and item is named.
 */
class Answers {
  private readonly differences: Record<string, { missing: string[]; unexpected: string[] }> = {};

  compare(got: string[], want: string[], query: string): void {
    const g = new Set(got);
    const w = new Set(want);
    const missing = want.filter((k) => !g.has(k)).sort();
    const unexpected = got.filter((k) => !w.has(k)).sort();
    if (missing.length || unexpected.length) this.differences[query] = { missing, unexpected };
  }

  assertAgree(): void {
    assert.deepEqual(this.differences, {}, 'search answers differ from the independent computation');
  }
}

/** A query must tell items apart: an expected answer of nothing or everything would make agreement prove little. */
function assertDiscriminating(want: string[], what: string): void {
  assert.ok(want.length > 0 && want.length < loadedItems.length, `${what} should select some but not all items (selects ${want.length})`);
}

const counts = (s: LoadSummary) => ({ collections: s.collections, items: s.items });

for (const store of await stores()) {
  describe(`real STAC data over HTTP (${store})`, () => {
    let s: TestServer;
    let token: string;
    let first: LoadSummary;

    /** Every page of a search with `limit` 50, each validated; checks numberMatched and that no item repeats. */
    async function searchAll(q: { get: string } | { post: Record<string, unknown> }): Promise<Record<string, any>[]> {
      const features: Record<string, any>[] = [];
      const matched = new Set<number>();
      let next: { url: string; body?: unknown } | undefined =
        'get' in q ? { url: `${s.url}/search?limit=50&${q.get}` } : { url: `${s.url}/search`, body: { limit: 50, ...q.post } };
      while (next) {
        const r = await request(next.url, {
          method: next.body === undefined ? 'GET' : 'POST',
          headers: { ...bearer(token), ...(next.body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: next.body === undefined ? undefined : JSON.stringify(next.body),
        });
        assert.equal(r.status, 200, r.text.slice(0, 300));
        assertValidStac('item-collection', r.json);
        assert.equal(r.json.numberReturned, r.json.features.length);
        matched.add(r.json.numberMatched);
        features.push(...r.json.features);
        const link = r.json.links.find((l: any) => l.rel === 'next');
        next = link && { url: link.href, body: link.method === 'POST' ? link.body : undefined };
      }
      assert.deepEqual([...matched], [features.length], 'numberMatched is the number of items paged, on every page');
      const keys = features.map((f) => itemKey(f.collection, f.id));
      assert.equal(new Set(keys).size, keys.length, 'no item is served twice while paging');
      return features;
    }
    const keysOf = async (q: Parameters<typeof searchAll>[0]) => (await searchAll(q)).map((f) => itemKey(f.collection, f.id));
    const enc = encodeURIComponent;

    before(async () => {
      s = await startServer({ store, env: { SKYPORT_DEMO: 'true' } });
      token = await tokenFor(s.url, s.creds['read-only']);
      const empty = await request(`${s.url}/search`, { headers: bearer(token) });
      assert.equal(empty.json.numberMatched, 0, 'the expectations assume the demo start adds no items');
      first = await loadStac(s.skyport.storage, [files.collectionsPath, files.itemsPath]);
    });
    after(() => s?.close());

    it('loads what ingest accepts, rejects the rest by collection, and a second load changes nothing', async () => {
      assert.deepEqual(counts(first), {
        collections: { inserted: loadedCollections.length, updated: 0, rejected: rejectedCollections.size },
        items: { inserted: loadedItems.length, updated: 0, rejected: rejectedItems.length },
      });
      const rejected = (path: string) => first.rejections.filter((r) => r.source.startsWith(path));
      assert.deepEqual(
        rejected(files.collectionsPath)
          .map((r) => [r.id, r.field])
          .sort(),
        Object.entries(EXPECTED_REJECTED_COLLECTIONS).sort(),
      );
      assert.deepEqual(
        rejected(files.itemsPath).map((r) => [r.id, r.field]),
        rejectedItems.map((i) => [i.raw.id, 'collection']),
      );

      const everything = { post: { sortby: [{ field: 'id', direction: 'asc' }] } };
      const catalogBefore = await searchAll(everything);
      const collectionsBefore = (await request(`${s.url}/collections`, { headers: bearer(token) })).json;
      const again = await loadStac(s.skyport.storage, [files.collectionsPath, files.itemsPath]);
      assert.deepEqual(counts(again), {
        collections: { inserted: 0, updated: loadedCollections.length, rejected: rejectedCollections.size },
        items: { inserted: 0, updated: loadedItems.length, rejected: rejectedItems.length },
      });
      assert.deepEqual(await searchAll(everything), catalogBefore);
      assert.deepEqual((await request(`${s.url}/collections`, { headers: bearer(token) })).json, collectionsBefore);
    });

    it('serves every item as normalized at ingest, with its own links after Skyport’s four, valid STAC', async () => {
      const failures: string[] = [];
      const check = async ({ raw, key }: RealItemLine) => {
        const self = `${s.url}/collections/${enc(raw.collection)}/items/${enc(raw.id)}`;
        const r = await request(self, { headers: bearer(token) });
        try {
          assert.equal(r.status, 200, r.text.slice(0, 200));
          const served = r.json;
          assertValidStac('item', served);
          const { item: want } = normalizeItem(raw);
          const collectionUrl = `${s.url}/collections/${enc(raw.collection)}`;
          assert.deepEqual(
            served.links.slice(0, 4).map((l: any) => [l.rel, l.href]),
            [
              ['self', self],
              ['parent', collectionUrl],
              ['collection', collectionUrl],
              ['root', `${s.url}/`],
            ],
          );
          assert.deepEqual(served.links.slice(4), want.links);
          assert.deepEqual(
            served.links.slice(4).map((l: any) => l.rel),
            raw.links.filter((l: any) => !STRUCTURAL_RELS.has(l.rel)).map((l: any) => l.rel),
          );
          const { links: _s, ...servedRest } = served;
          const { links: _w, ...wantRest } = want;
          assert.deepEqual(servedRest, wantRest);
          assert.equal(JSON.stringify(servedRest), JSON.stringify(wantRest), 'key order is kept');
        } catch (e) {
          failures.push(`${key}: ${(e as Error).message.split('\n')[0]}`);
        }
      };
      for (let n = 0; n < loadedItems.length; n += 16) await Promise.all(loadedItems.slice(n, n + 16).map(check));
      assert.deepEqual(failures, []);
    });

    it('lists every loaded collection, as a valid STAC API collections document', async () => {
      const r = await request(`${s.url}/collections`, { headers: bearer(token) });
      assert.equal(r.status, 200);
      assertValidStac('collections', r.json);
      const ids = new Set(r.json.collections.map((c: any) => c.id));
      assert.deepEqual(
        loadedCollections.map((c) => c.id).filter((id) => !ids.has(id)),
        [],
      );
      assert.deepEqual(
        [...rejectedCollections].filter((id) => ids.has(id)),
        [],
      );
    });

    it('pages the whole catalog with limit 50 to the end; numberMatched agrees', async () => {
      const answers = new Answers();
      answers.compare(
        await keysOf({ get: '' }),
        expected(() => true),
        'all items',
      );
      answers.assertAgree();
    });

    it('bbox: ordinary, polar, antimeridian-crossing and near-global boxes', async () => {
      const answers = new Answers();
      const boxes: Record<string, Bbox> = {
        'south-western United States': [-110, 30, -100, 40],
        'south pole cap': [-180, -90, 180, -75],
        'across the antimeridian': [170, -60, -170, -10],
        'near-global': [-170, -80, 170, 80],
        'north-west Pacific': [150, 45, 165, 58],
      };
      for (const [what, box] of Object.entries(boxes)) {
        const want = expected((raw) => geometryIntersects(raw.geometry, bboxGeometry(box)));
        assertDiscriminating(want, what);
        answers.compare(await keysOf({ get: `bbox=${box.join(',')}` }), want, `bbox ${what} ${JSON.stringify(box)}`);
      }
      answers.assertAgree();
    });

    it('intersects: a polygon (POST) and a triangle (GET)', async () => {
      const answers = new Answers();
      const netherlands: Geometry = {
        type: 'Polygon',
        coordinates: [
          [
            [3, 50],
            [8, 50],
            [8, 54],
            [5, 54],
            [3, 52],
            [3, 50],
          ],
        ],
      };
      const triangle: Geometry = {
        type: 'Polygon',
        coordinates: [
          [
            [-100, 25],
            [-80, 45],
            [-120, 45],
            [-100, 25],
          ],
        ],
      };
      const polygonWant = expected((raw) => geometryIntersects(raw.geometry, netherlands));
      assertDiscriminating(polygonWant, 'polygon');
      answers.compare(await keysOf({ post: { intersects: netherlands } }), polygonWant, 'intersects polygon');
      const triangleWant = expected((raw) => geometryIntersects(raw.geometry, triangle));
      assertDiscriminating(triangleWant, 'triangle');
      answers.compare(await keysOf({ get: `intersects=${enc(JSON.stringify(triangle))}` }), triangleWant, 'intersects triangle');
      answers.assertAgree();
    });

    it('datetime: instants and intervals with open ends, on items with datetime and items with only a range', async () => {
      const answers = new Answers();
      const queries = [
        '2021-01-14T22:12:00.265Z', // HLS scenes (upgraded from STAC 1.0.0-rc.4)
        '2023-06-15T12:00:00Z', // inside yearly and multi-decade ranges of items whose datetime is null
        '2025-11-13T01:18:44.291467Z', // published without a zone (read as UTC), microseconds
        '2020-04-24T00:00:00Z', // datetime of an item whose start/end range lies before it
        '2019-01-01T00:00:00Z/2019-12-31T23:59:59Z',
        '../2000-01-01T00:00:00Z',
        '/1990-01-01T00:00:00Z',
        '2024-06-01T00:00:00Z/..',
        '2024-06-01T00:00:00Z/',
      ];
      const kinds = new Set<string>();
      for (const q of queries) {
        const ends = q.split('/').map((x) => (x === '..' || x === '' ? null : instantMs(x)));
        const [start, end] = ends.length === 1 ? [ends[0]!, ends[0]!] : [ends[0]!, ends[1]!];
        const want = expected((raw) => meetsInterval(raw.properties, start, end));
        assertDiscriminating(want, `datetime ${q}`);
        for (const k of want) kinds.add(byKey.get(k)!.properties.datetime === null ? 'range' : 'datetime');
        answers.compare(await keysOf({ get: `datetime=${enc(q)}` }), want, `datetime ${q}`);
      }
      assert.deepEqual([...kinds].sort(), ['datetime', 'range'], 'both kinds of item are among the answers');
      answers.assertAgree();
    });

    it('CQL2 eo:cloud_cover < 20 (text on GET, JSON on POST) excludes items without it', async () => {
      const answers = new Answers();
      const want = expected((raw) => typeof raw.properties['eo:cloud_cover'] === 'number' && raw.properties['eo:cloud_cover'] < 20);
      assertDiscriminating(want, 'cloud cover');
      assert.ok(loadedItems.some((i) => !('eo:cloud_cover' in i.raw.properties)));
      answers.compare(await keysOf({ get: `filter=${enc('eo:cloud_cover < 20')}` }), want, 'cql2-text');
      const json = { filter: { op: '<', args: [{ property: 'eo:cloud_cover' }, 20] }, 'filter-lang': 'cql2-json' };
      answers.compare(await keysOf({ post: json }), want, 'cql2-json');
      answers.assertAgree();
    });

    it('collections and ids', async () => {
      const answers = new Answers();
      const collections = ['joplin', 'sentinel-2-l2a', 'landsat-c2-l2', 'no-such-collection'];
      const inCollections = expected((raw) => collections.includes(raw.collection));
      assertDiscriminating(inCollections, 'collections');
      answers.compare(await keysOf({ get: `collections=${collections.join(',')}` }), inCollections, 'collections');
      const ids = [...files.items.filter((_, n) => n % 97 === 0).map((i) => i.raw.id), 'no-such-id'];
      const byId = expected((raw) => ids.includes(raw.id));
      assertDiscriminating(byId, 'ids');
      answers.compare(await keysOf({ post: { ids } }), byId, 'ids');
      answers.assertAgree();
    });

    it('sortby datetime, ascending (GET) and descending (POST), over every page', async () => {
      const answers = new Answers();
      // The sort value from the file, not from the served item.
      const value = (f: Record<string, any>) => datetimeSortValue(byKey.get(itemKey(f.collection, f.id))!.properties);
      const asc = await searchAll({ get: 'sortby=%2Bdatetime' });
      const desc = await searchAll({ post: { sortby: [{ field: 'datetime', direction: 'desc' }] } });
      for (const [what, features, inOrder] of [
        ['ascending', asc, (a: number, b: number) => a <= b],
        ['descending', desc, (a: number, b: number) => a >= b],
      ] as const) {
        answers.compare(
          features.map((f) => itemKey(f.collection, f.id)),
          expected(() => true),
          `sortby datetime ${what}`,
        );
        const outOfOrder = features.slice(1).findIndex((f, n) => !inOrder(value(features[n]!), value(f)));
        assert.equal(outOfOrder, -1, `${what}: ${features[outOfOrder]?.id} comes before ${features[outOfOrder + 1]?.id}`);
      }
      answers.assertAgree();
    });
  });
}
