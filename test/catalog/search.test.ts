/**
 * The STAC API over HTTP, on both stores: items, item fetch, GET and POST search with every
 * parameter and extension, paging links, error answers, and the field pitfalls S02–S20 of
 * shared/reference/field-pitfalls.md, each tried against a real server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrg, type TestOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { bearer, request, tokenFor, type Res } from '../helpers/http.js';
import type { ItemRecord } from '../../src/storage/types.js';
import { assertValidStac } from '../helpers/stac-validate.js';

function item(collection: string, id: string, lon: number, lat: number, props: Record<string, unknown>): ItemRecord {
  const d = 0.1;
  return {
    collection,
    id,
    item: {
      type: 'Feature',
      stac_version: '1.0.0',
      stac_extensions: [],
      id,
      collection,
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [lon - d, lat - d],
            [lon + d, lat - d],
            [lon + d, lat + d],
            [lon - d, lat + d],
            [lon - d, lat - d],
          ],
        ],
      },
      bbox: [lon - d, lat - d, lon + d, lat + d],
      properties: { datetime: '2024-05-01T10:00:00Z', ...props },
      links: [{ rel: 'license', href: 'https://example.com/license' }],
      assets: {
        data: { href: `asset:${collection}/${id}/data.tif`, type: 'image/tiff; application=geotiff', roles: ['data'] },
        remote: { href: `https://example.com/${id}.tif`, roles: ['data'] },
      },
    },
  };
}

for (const store of await stores()) {
  describe(`STAC API search (${store})`, () => {
    let s: TestServer;
    let t: string;
    let other: TestOrg;
    let otherToken: string;
    const get = (path: string, token = t) => request(`${s.url}${path}`, { headers: bearer(token) });
    const post = (path: string, body: unknown, token = t) =>
      request(`${s.url}${path}`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ids = (r: Res) => r.json.features.map((f: any) => f.id).sort();

    before(async () => {
      s = await startServer({ store });
      other = await createOrg(s, 'searcher');
      const demoOrg = (await s.skyport.storage.getOrganizationByName('demo'))!;
      const coll = (id: string) => ({
        type: 'Collection',
        stac_version: '1.0.0',
        id,
        description: id,
        license: 'proprietary',
        links: [],
        extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [['2024-01-01T00:00:00Z', null]] } },
      });
      await s.skyport.storage.upsertCollection({
        id: 'test-open',
        access: 'open',
        ownerOrgId: null,
        body: coll('test-open'),
        updatedAt: 1,
      });
      await s.skyport.storage.upsertCollection({
        id: 'test-private',
        access: 'private',
        ownerOrgId: demoOrg.id,
        body: coll('test-private'),
        updatedAt: 1,
      });
      const items: ItemRecord[] = [];
      for (let n = 0; n < 25; n++) {
        items.push(
          item('test-open', `it-${String(n).padStart(2, '0')}`, -100 + n, 40, {
            datetime: `2024-05-${String(n + 1).padStart(2, '0')}T10:00:00Z`,
            'eo:cloud_cover': n * 4,
            platform: n % 2 ? 'odd-sat' : 'even-sat',
            title: n === 7 ? 'Lucky Seven' : undefined,
          }),
        );
      }
      items.push(item('test-private', 'mine', -100, 40, { 'eo:cloud_cover': 1 }));
      await s.skyport.storage.upsertItems(items);
      t = await tokenFor(s.url, s.creds['read-only']);
      otherToken = await tokenFor(s.url, other.creds['read-only']);
    });
    after(() => s.close());

    it('item listing is GeoJSON with structural links, held assets behind Skyport, remote assets as published', async () => {
      const r = await get('/collections/test-open/items?limit=5');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type')!, /^application\/geo\+json/);
      assert.equal(r.json.type, 'FeatureCollection');
      assert.equal(r.json.features.length, 5);
      assert.equal(r.json.numberMatched, 25);
      assert.equal(r.json.numberReturned, 5);
      assert.equal(r.json.features[0].id, 'it-24', 'newest first');
      const f = r.json.features[0];
      assert.deepEqual(
        f.links.slice(0, 4).map((l: any) => l.rel),
        ['self', 'parent', 'collection', 'root'],
      );
      assert.ok(
        f.links.some((l: any) => l.rel === 'license'),
        'the item’s own links are kept',
      );
      assert.equal(f.assets.data.href, `${s.url}/collections/test-open/items/it-24/assets/data`);
      assert.equal(f.assets.remote.href, 'https://example.com/it-24.tif');
      const one = await get('/collections/test-open/items/it-24');
      assert.equal(one.status, 200);
      assert.match(one.headers.get('content-type')!, /^application\/geo\+json/);
      assert.deepEqual(one.json, f);
    });

    it('paging with next links visits every item once (GET and POST) and numberMatched agrees', async () => {
      const seen: string[] = [];
      let url: string | undefined = `${s.url}/search?collections=test-open&limit=7`;
      while (url) {
        const r = await request(url, { headers: bearer(t) });
        assert.equal(r.status, 200);
        seen.push(...r.json.features.map((f: any) => f.id));
        url = r.json.links.find((l: any) => l.rel === 'next')?.href;
      }
      assert.equal(seen.length, 25);
      assert.equal(new Set(seen).size, 25);
      const posted: string[] = [];
      let body: any = { collections: ['test-open'], limit: 10, sortby: [{ field: 'eo:cloud_cover', direction: 'asc' }] };
      for (;;) {
        const r = await post('/search', body);
        posted.push(...r.json.features.map((f: any) => f.id));
        const next = r.json.links.find((l: any) => l.rel === 'next');
        if (!next) break;
        assert.equal(next.method, 'POST');
        body = next.body;
      }
      assert.deepEqual(
        posted,
        [...Array(25).keys()].map((n) => `it-${String(n).padStart(2, '0')}`),
      );
    });

    it('later pages repeat the first page’s numberMatched from the token; a tampered count is 400; a bare keyset still pages', async () => {
      const first = await get('/search?collections=test-open&limit=10');
      assert.equal(first.json.numberMatched, 25);
      // An item added between two pages: the next page still says what the first page counted.
      await s.skyport.storage.upsertItems([item('test-open', 'zz-added', -90, 40, { datetime: '2024-05-30T10:00:00Z' })]);
      try {
        const nextHref = first.json.links.find((l: any) => l.rel === 'next').href;
        const second = await request(nextHref, { headers: bearer(t) });
        assert.equal(second.status, 200);
        assert.equal(second.json.numberMatched, 25);
        assert.equal((await get('/search?collections=test-open&limit=10')).json.numberMatched, 26);
        const token = new URL(nextHref).searchParams.get('token')!;
        const payload = JSON.parse(Buffer.from(token.slice(5), 'base64url').toString('utf8'));
        const forge = (n: unknown) => `next:${Buffer.from(JSON.stringify({ ...payload, n })).toString('base64url')}`;
        for (const bad of [-1, 1.5, '25', 1e300]) {
          assert.equal((await get(`/search?collections=test-open&limit=10&token=${forge(bad)}`)).status, 400, String(bad));
        }
        // A token without a count (as issued before counts were carried) pages on and counts afresh.
        const bare = `next:${Buffer.from(JSON.stringify(payload.k)).toString('base64url')}`;
        const old = await get(`/search?collections=test-open&limit=10&token=${bare}`);
        assert.equal(old.status, 200);
        assert.equal(old.json.numberMatched, 26);
        assert.deepEqual(ids(old), ids(second));
      } finally {
        await s.skyport.storage.deleteItem('test-open', 'zz-added');
      }
    });

    it('past the count limit numberMatched is omitted on the first page and on the pages that follow', async () => {
      const small = await startServer({ store, env: { SKYPORT_SEARCH_COUNT_LIMIT: '10' } });
      try {
        await small.skyport.storage.upsertCollection({
          id: 'many',
          access: 'open',
          ownerOrgId: null,
          body: {
            type: 'Collection',
            stac_version: '1.0.0',
            id: 'many',
            description: 'many',
            license: 'proprietary',
            links: [],
            extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [['2024-01-01T00:00:00Z', null]] } },
          },
          updatedAt: 1,
        });
        await small.skyport.storage.upsertItems([...Array(15).keys()].map((n) => item('many', `m-${n}`, n, 0, {})));
        const tok = await tokenFor(small.url, small.creds['read-only']);
        const p1 = await request(`${small.url}/search?collections=many&limit=5`, { headers: bearer(tok) });
        assert.equal(p1.json.numberReturned, 5);
        assert.equal(p1.json.numberMatched, undefined);
        const p2 = await request(p1.json.links.find((l: any) => l.rel === 'next').href, { headers: bearer(tok) });
        assert.equal(p2.json.numberReturned, 5);
        assert.equal(p2.json.numberMatched, undefined);
        const few = await request(`${small.url}/search?collections=many&limit=5&ids=m-1,m-2`, { headers: bearer(tok) });
        assert.equal(few.json.numberMatched, 2);
      } finally {
        await small.close();
      }
    });

    it('S02: 3D bbox accepted, wrong-length bbox is 400; S05: limit clamped, limit 0 is 400', async () => {
      assert.deepEqual(ids(await get('/search?bbox=-100.5,39,0,-99.5,41,1000')), ['it-00', 'mine']);
      for (const bad of ['1,2,3', '1,2,3,4,5', 'a,b,c,d', '0,50,1,40', '0,-91,1,0']) {
        const r = await get(`/search?bbox=${bad}`);
        assert.equal(r.status, 400, bad);
        assert.deepEqual(Object.keys(r.json).sort(), ['code', 'description']);
      }
      const big = await get('/search?limit=100000');
      assert.equal(big.status, 200);
      assert.equal(big.json.features.length, 26);
      assert.equal((await get('/search?limit=0')).status, 400);
      assert.equal((await get('/search?limit=-1')).status, 400);
    });

    it('S03: open datetime intervals and empty ends; reversed interval and bad instants are 400', async () => {
      assert.equal(ids(await get('/search?datetime=../2024-05-02T10:00:00Z&collections=test-open')).length, 2);
      assert.equal(ids(await get('/search?datetime=2024-05-24T00:00:00Z/..&collections=test-open')).length, 2);
      assert.equal(ids(await get('/search?datetime=2024-05-24T00:00:00Z/&collections=test-open')).length, 2);
      assert.equal(ids(await get('/search?datetime=/2024-05-02T10:00:00Z&collections=test-open')).length, 2);
      assert.deepEqual(ids(await get('/search?datetime=2024-05-03T10:00:00z')), ['it-02'], 'lower-case z is RFC 3339');
      assert.equal((await get('/search?datetime=2024-05-03T10:00:00Z/2024-05-01T00:00:00Z')).status, 400);
      assert.equal((await get('/search?datetime=2024-05-03')).status, 400);
      assert.equal((await get('/search?datetime=yesterday')).status, 400);
    });

    it('S06: ids are ANDed with other filters; S13: an unknown collection is an empty 200', async () => {
      const r = await get('/search?ids=it-00,it-01,it-02&bbox=-100.5,39,-99.5,41');
      assert.deepEqual(ids(r), ['it-00']);
      assert.equal(r.json.numberMatched, 1);
      const none = await get('/search?collections=does-not-exist');
      assert.equal(none.status, 200);
      assert.equal(none.json.features.length, 0);
    });

    it('S07: sortby on an unknown field is 400 naming the field; +/- prefixes and POST sortby work', async () => {
      const r = await get('/search?sortby=+nonsense');
      assert.equal(r.status, 400);
      assert.match(r.json.description, /nonsense/);
      const asc = await get('/search?collections=test-open&sortby=+eo:cloud_cover&limit=3');
      assert.deepEqual(
        asc.json.features.map((f: any) => f.id),
        ['it-00', 'it-01', 'it-02'],
      );
      const desc = await get('/search?collections=test-open&sortby=-eo:cloud_cover&limit=2');
      assert.deepEqual(
        desc.json.features.map((f: any) => f.id),
        ['it-24', 'it-23'],
      );
    });

    it('S09: fields include/exclude per the extension’s rules', async () => {
      const r = await get('/search?ids=it-03&fields=properties.eo:cloud_cover,-assets');
      const f = r.json.features[0];
      assert.equal(f.assets, undefined);
      assert.deepEqual(Object.keys(f.properties).sort(), ['datetime', 'eo:cloud_cover']);
      assert.ok(f.geometry && f.id && f.links);
      const both = await post('/search', { ids: ['it-03'], fields: { include: ['properties'], exclude: ['properties.platform'] } });
      assert.equal(both.json.features[0].properties.platform, undefined, 'included and excluded means excluded');
      assert.equal(both.json.features[0].properties['eo:cloud_cover'], 12);
      const empty = await post('/search', { ids: ['it-03'], fields: {} });
      assert.deepEqual(Object.keys(empty.json.features[0].properties), ['datetime']);
    });

    it('S12: missing collection or item is a JSON 404; S14/S15: geo+json and identical conformsTo', async () => {
      for (const p of ['/collections/nope/items', '/collections/nope/items/x', '/collections/test-open/items/nope']) {
        const r = await get(p);
        assert.equal(r.status, 404, p);
        assert.equal(r.json.code, 'NotFound');
      }
      const landing = await get('/');
      const conf = await get('/conformance');
      assert.deepEqual(landing.json.conformsTo, conf.json.conformsTo);
      assertValidStac('landing', landing.json);
      assertValidStac('conformance', conf.json);
      assertValidStac('item-collection', (await get('/search?limit=3')).json);
      assertValidStac('collections', (await get('/collections')).json);
      assert.ok(conf.json.conformsTo.includes('https://api.stacspec.org/v1.0.0/item-search'));
    });

    it('S17: cql2-text on GET by default, cql2-json on POST; property names with colons; parse errors are 400', async () => {
      assert.deepEqual(ids(await get(`/search?filter=${encodeURIComponent("eo:cloud_cover < 8 AND platform = 'even-sat'")}`)), ['it-00']);
      const json = await post('/search', { filter: { op: '<', args: [{ property: 'eo:cloud_cover' }, 8] }, collections: ['test-open'] });
      assert.deepEqual(ids(json), ['it-00', 'it-01']);
      const text = await post('/search', { filter: 'eo:cloud_cover < 8', 'filter-lang': 'cql2-text', collections: ['test-open'] });
      assert.deepEqual(ids(text), ['it-00', 'it-01']);
      for (const bad of ['eo:cloud_cover <', 'AND AND', "platform = 'unterminated", '(((((']) {
        const r = await get(`/search?filter=${encodeURIComponent(bad)}`);
        assert.equal(r.status, 400, bad);
        assert.equal(r.json.code, 'BadRequest');
      }
      assert.equal((await post('/search', { filter: { op: 'nonsense', args: [] } })).status, 400);
      assert.equal((await get('/search?filter=id=1&filter-lang=cql3')).status, 400);
    });

    it('S18: GET intersects is honoured; with bbox it is 400. S20: malformed geometry 400, valid but unusual 200', async () => {
      const pt = JSON.stringify({ type: 'Point', coordinates: [-99, 40] });
      assert.deepEqual(ids(await get(`/search?intersects=${encodeURIComponent(pt)}`)), ['it-01']);
      assert.equal((await get(`/search?intersects=${encodeURIComponent(pt)}&bbox=0,0,1,1`)).status, 400);
      for (const bad of [
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 1],
            ],
          ],
        },
        { type: 'Blob' },
        { type: 'Point', coordinates: 'x' },
        'nope',
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [2, 2],
              [2, 0],
              [0, 2],
              [0, 0],
            ],
          ],
        },
      ]) {
        const r = await post('/search', { intersects: bad });
        assert.equal(r.status, 400, JSON.stringify(bad));
      }
      const line = await post('/search', {
        intersects: {
          type: 'LineString',
          coordinates: [
            [-101, 40],
            [-97, 40],
          ],
        },
      });
      assert.deepEqual(ids(line), ['it-00', 'it-01', 'it-02', 'it-03', 'mine']);
      const collection = await post('/search', {
        intersects: { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [-90, 40] }] },
      });
      assert.deepEqual(ids(collection), ['it-10']);
    });

    it('query extension, free text and collection search', async () => {
      assert.deepEqual(ids(await post('/search', { query: { 'eo:cloud_cover': { lt: 8 }, platform: { eq: 'odd-sat' } } })), ['it-01']);
      assert.deepEqual(
        ids(
          await get(
            `/search?query=${encodeURIComponent(JSON.stringify({ platform: { startsWith: 'odd' }, 'eo:cloud_cover': { lte: 12 } }))}`,
          ),
        ),
        ['it-01', 'it-03'],
      );
      assert.equal((await post('/search', { query: { x: { regex: '.*' } } })).status, 400);
      assert.deepEqual(ids(await get('/search?q=lucky')), ['it-07']);
      const cs = await get('/collections?q=test-open');
      assert.deepEqual(
        cs.json.collections.map((c: any) => c.id),
        ['test-open'],
      );
      const none = await get('/collections?datetime=2000-01-01T00:00:00Z/2001-01-01T00:00:00Z');
      assert.deepEqual(
        none.json.collections.map((c: any) => c.id).filter((id: string) => id.startsWith('test-')),
        [],
      );
    });

    it('another organization sees none of the private collection, in search, counts and item fetch', async () => {
      const mine = await get('/search?bbox=-100.5,39,-99.5,41');
      const theirs = await get('/search?bbox=-100.5,39,-99.5,41', otherToken);
      assert.deepEqual(ids(mine), ['it-00', 'mine']);
      assert.deepEqual(ids(theirs), ['it-00']);
      assert.equal(theirs.json.numberMatched, 1);
      const hidden = await get('/collections/test-private/items/mine', otherToken);
      const missing = await get('/collections/test-private/items/not-there', otherToken);
      assert.equal(hidden.status, 404);
      assert.equal(missing.status, 404);
      assert.deepEqual(Object.keys(hidden.json), Object.keys(missing.json));
      assert.equal((await get('/search?ids=mine', otherToken)).json.features.length, 0);
      assert.equal((await get('/collections/test-private/items', otherToken)).status, 404);
    });

    it('a filter too large for the database is a 400, not a 500', async () => {
      const values = Array.from({ length: 20_000 }, (_, n) => `id-${n}`);
      const r = await post('/search', { filter: { op: 'in', args: [{ property: 'id' }, values] } });
      assert.equal(r.status, 400, r.text.slice(0, 200));
      const ids = await post('/search', { ids: values.slice(0, 1000), limit: 1 });
      assert.equal(ids.status, 200);
    });

    it('a token is required; a malformed paging token is 400', async () => {
      const r = await request(`${s.url}/search`);
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate')!, /^Bearer /);
      assert.equal((await get('/search?token=garbage')).status, 400);
      assert.equal((await get(`/search?token=next:${Buffer.from('[1,2]').toString('base64url')}`)).status, 400);
    });
  });
}
