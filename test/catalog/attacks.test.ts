/**
 * Regression tests of a security review of the STAC catalog (Data API): each test reproduces one
 * finding — a side channel on another organization's private items, server-blocking CPU from one
 * search, global prototype pollution (and the SQL injection it enables), 500s from hostile but
 * well-formed input, and a loader that lets one bad item take its batch with it. Each fails before its
 * fix and passes after; the report describes the fixes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createPlatformClient } from '../../src/admin/service.js';
import { loadStac } from '../../src/catalog/load.js';
import type { ItemRecord } from '../../src/storage/types.js';
import { createOrg, type TestOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { bearer, request, tokenFor, type Res } from '../helpers/http.js';

type Position = [number, number];

/** A footprint as satellites take them: a quadrilateral that is not an axis-aligned rectangle (no JTS fast path). */
function quad(lon: number, lat: number): Record<string, unknown> {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [lon - 0.1, lat - 0.1],
        [lon + 0.1, lat - 0.12],
        [lon + 0.1, lat + 0.1],
        [lon - 0.1, lat + 0.1],
        [lon - 0.1, lat - 0.1],
      ],
    ],
  };
}

/** A valid star-shaped polygon of `n` vertices around (cx, cy), radius ~5°: a plausible but heavy AOI. */
function star(cx: number, cy: number, n: number): Record<string, unknown> {
  const ring: Position[] = [];
  for (let k = 0; k < n; k++) {
    const a = (2 * Math.PI * k) / n;
    const r = k % 2 ? 5 : 4.9;
    ring.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  }
  ring.push(ring[0]!);
  return { type: 'Polygon', coordinates: [ring] };
}

/** A valid MultiPolygon of `k` small disjoint squares (~70 bytes each). */
function squares(k: number): Record<string, unknown> {
  const polys: Position[][][] = [];
  for (let n = 0; n < k; n++) {
    const x = (n % 100) * 0.5;
    const y = Math.floor(n / 100) * 0.5;
    polys.push([
      [
        [x, y],
        [x + 0.4, y],
        [x + 0.4, y + 0.4],
        [x, y + 0.4],
        [x, y],
      ],
    ]);
  }
  return { type: 'MultiPolygon', coordinates: polys };
}

function item(collection: string, id: string, geometry: Record<string, unknown> | null, props: Record<string, unknown> = {}): ItemRecord {
  return {
    collection,
    id,
    item: {
      type: 'Feature',
      stac_version: '1.0.0',
      id,
      collection,
      geometry,
      properties: { datetime: '2024-05-01T10:00:00Z', ...props },
      links: [],
      assets: { data: { href: `asset:${collection}/${id}/data.tif`, type: 'image/tiff' } },
    },
  };
}

const collectionBody = (id: string) => ({
  type: 'Collection',
  stac_version: '1.0.0',
  id,
  description: id,
  license: 'proprietary',
  links: [],
  extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [['2024-01-01T00:00:00Z', null]] } },
});

/** An NDJSON line of a harvested item, written as text so that a `__proto__` member stays a member (as JSON.parse keeps it). */
function harvestedLine(collection: string, id: string, extraProps: string): string {
  return (
    `{"type":"Feature","stac_version":"1.0.0","id":"${id}","collection":"${collection}",` +
    `"geometry":{"type":"Point","coordinates":[1,2]},"bbox":[1,2,1,2],` +
    `"properties":{"datetime":"2024-05-01T10:00:00Z"${extraProps}},"links":[],"assets":{}}`
  );
}

const proto = Object.prototype as unknown as Record<string, unknown>;

for (const store of await stores()) {
  describe(`catalog attacks (${store})`, () => {
    let s: TestServer;
    let attacker: TestOrg;
    let t: string;
    const get = (path: string, token = t) => request(`${s.url}${path}`, { headers: bearer(token) });
    const post = (path: string, body: unknown, token = t) =>
      request(`${s.url}${path}`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const timed = async (fn: () => Promise<Res>): Promise<[Res, number]> => {
      const t0 = performance.now();
      const r = await fn();
      return [r, performance.now() - t0];
    };
    const filterSearch = (geometry: Record<string, unknown>) =>
      post('/search', { limit: 1, filter: { op: 's_intersects', args: [{ property: 'geometry' }, geometry] } });

    before(async () => {
      s = await startServer({ store });
      attacker = await createOrg(s, 'attacker');
      const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
      const st = s.skyport.storage;
      await st.upsertCollection({ id: 'atk-open', access: 'open', ownerOrgId: null, body: collectionBody('atk-open'), updatedAt: 1 });
      await st.upsertCollection({
        id: 'atk-secret',
        access: 'private',
        ownerOrgId: demo.id,
        body: collectionBody('atk-secret'),
        updatedAt: 1,
      });
      const items: ItemRecord[] = [];
      // The victim's private footprints around (50, 50): nothing of them may show, not even in timing.
      for (let k = 0; k < 10; k++) items.push(item('atk-secret', `hidden-${k}`, quad(50 + (k % 5) * 0.3, 50 + Math.floor(k / 5) * 0.3)));
      // Public footprints around (120, -30).
      for (let k = 0; k < 3; k++)
        items.push(item('atk-open', `open-${k}`, quad(120 + k * 0.3, -30), { 'eo:cloud_cover': k, platform: 'sat' }));
      await st.upsertItems(items);
      t = await tokenFor(s.url, attacker.creds['read-only']);
    });
    after(() => s.close());

    // Finding 1 (both stores): `intersects` is checked with JSTS IsValidOp, quadratic in the parts of a
    // MultiPolygon. 280 kB of JSON holds the event loop for seconds; 1 MB for minutes.
    it('a many-part intersects geometry does not hold the server (refused or answered promptly)', async () => {
      const [r, ms] = await timed(() => post('/search', { limit: 1, intersects: squares(4000) }));
      assert.ok(r.status === 200 || r.status === 400, `${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(ms < 1500, `POST /search with a 4000-part MultiPolygon (280 kB) took ${Math.round(ms)} ms (event loop blocked)`);
    });

    // Finding 2 (SQLite): the exact spatial test (sk_relate/JSTS) runs on rows of collections the caller
    // may not see, before the entitlement filter: its cost tells where another organization's items are.
    it('the cost of a spatial search does not depend on items the caller cannot see', async () => {
      const heavy = (cx: number, cy: number) => filterSearch(star(cx, cy, 8000));
      await heavy(-50, -50); // warm-up
      const [empty1, e1] = await timed(() => heavy(-50, -50));
      const [hidden, h] = await timed(() => heavy(50, 50));
      const [empty2, e2] = await timed(() => heavy(-50, -50));
      for (const r of [empty1, hidden, empty2]) {
        assert.ok(r.status === 200 || r.status === 400, `${r.status} ${r.text.slice(0, 200)}`);
        if (r.status === 200) assert.equal(r.json.numberMatched, 0);
      }
      const extra = h - Math.max(e1, e2);
      assert.ok(
        extra < 500,
        `over the victim's private footprints the search took ${Math.round(h)} ms, elsewhere ${Math.round(e1)}/${Math.round(e2)} ms`,
      );
    });

    // Finding 3 (SQLite): CQL2 geometry literals have no complexity bound, and each candidate row costs a
    // full JSTS relate against the literal (about a second per row at 16,000 vertices, several at 20,000), synchronously.
    it('a many-vertex CQL2 geometry literal is refused or evaluated promptly against a few visible footprints', async () => {
      const [r, ms] = await timed(() => filterSearch(star(120.3, -30, 16_000)));
      assert.ok(r.status === 200 || r.status === 400, `${r.status} ${r.text.slice(0, 200)}`);
      if (r.status === 200) assert.equal(r.json.numberMatched, 3);
      assert.ok(ms < 2000, `a 16,000-vertex s_intersects over 3 footprints took ${Math.round(ms)} ms`);
    });

    // Finding 4 (both stores): the fields extension's setPath walks into `__proto__` of a stored item
    // (harvested JSON keeps `__proto__` as a member) and writes Object.prototype for the whole process.
    it('fields cannot pollute Object.prototype through a harvested item', async () => {
      const text = [
        JSON.stringify(collectionBody('atk-harvest')),
        harvestedLine('atk-harvest', 'evil', ',"__proto__":{"skyportPolluted":"yes"}'),
      ].join('\n');
      await loadStac(s.skyport.storage, ['-'], {}, Readable.from([text]));
      try {
        const r = await get('/search?collections=atk-harvest&fields=__proto__.skyportPolluted');
        assert.ok(r.status < 500, r.text);
        assert.equal(proto.skyportPolluted, undefined, 'Object.prototype.skyportPolluted was set by a search');
      } finally {
        delete proto.skyportPolluted;
      }
    });

    // Finding 4 → SQL injection: a polluted `sql` is read by the sortby lookup (COLUMN_SORTABLES['constructor'].sql)
    // and pasted into ORDER BY; the sort key comes back in the `next` paging token.
    it('a polluted prototype cannot put SQL into a search (sortby=constructor)', async () => {
      const injected = store === 'sqlite' ? `(SELECT group_concat(name, ';') FROM clients)` : `(SELECT string_agg(name, ';') FROM clients)`;
      const text = [
        JSON.stringify(collectionBody('atk-harvest2')),
        harvestedLine('atk-harvest2', 'evil2', `,"__proto__":{"sql":${JSON.stringify(injected)}}`),
        harvestedLine('atk-harvest2', 'plain-a', ''),
        harvestedLine('atk-harvest2', 'plain-b', ''),
      ].join('\n');
      await loadStac(s.skyport.storage, ['-'], {}, Readable.from([text]));
      try {
        await get('/search?collections=atk-harvest2&fields=__proto__.sql');
        const r = await get('/search?collections=atk-harvest2&sortby=constructor&limit=1');
        const next = (r.json?.links ?? []).find((l: { rel: string }) => l.rel === 'next');
        const token = next ? new URL(next.href).searchParams.get('token') : null;
        const decoded = token ? Buffer.from(token.slice(5), 'base64url').toString('utf8') : '';
        assert.doesNotMatch(decoded, /root credential/, `the paging token carries the clients table: ${decoded.slice(0, 120)}`);
        // (That it is a 400 rather than a 500 is the next test's business.)
        assert.notEqual(r.status, 200, `sortby=constructor was served: ${r.text.slice(0, 200)}`);
      } finally {
        delete proto.sql;
      }
    });

    // Finding 5 (both stores): names of Object.prototype members pass lookups in plain-object tables
    // (COLUMN_SORTABLES, QUERY_OPS, TEMPORAL_COLUMNS) and crash later: 500 instead of 400.
    it('Object.prototype member names in sortby, query operators and temporal properties are 400, not 500', async () => {
      const enc = encodeURIComponent;
      const cases: [string, Res][] = [
        ['sortby=constructor', await get('/search?sortby=constructor')],
        ['sortby=-toString', await get('/search?sortby=-toString')],
        ['collections items sortby=hasOwnProperty', await get('/collections/atk-open/items?sortby=hasOwnProperty')],
        ['POST sortby __proto__', await post('/search', { sortby: [{ field: '__proto__', direction: 'asc' }] })],
        ['query operator constructor', await get(`/search?query=${enc('{"gsd":{"constructor":1}}')}`)],
        ['query operator __proto__', await post('/search', { query: JSON.parse('{"gsd":{"__proto__":1}}') })],
        ['T_INTERSECTS on constructor', await get(`/search?filter=${enc("T_INTERSECTS(constructor, TIMESTAMP('2024-01-01T00:00:00Z'))")}`)],
        ['T_AFTER on __proto__', await get(`/search?filter=${enc("T_AFTER(__proto__, TIMESTAMP('2024-01-01T00:00:00Z'))")}`)],
      ];
      for (const [what, r] of cases) assert.equal(r.status, 400, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
    });

    // Finding 6 (PostgreSQL): property-property comparisons of columns of different types, and CASEI of a
    // numeric column, become `double precision = text`, `lower(bigint)`… : error 42883, not mapped → 500.
    it('comparisons across property types and CASEI of numbers are never a 500', async () => {
      const enc = encodeURIComponent;
      for (const f of [
        '"eo:cloud_cover" = id',
        'datetime = id',
        'id = "eo:cloud_cover"',
        'CASEI("eo:cloud_cover") = \'x\'',
        'CASEI(datetime) = CASEI(id)',
        '"eo:cloud_cover" BETWEEN id AND 5',
        'id IN (datetime)',
      ]) {
        const r = await get(`/search?filter=${enc(f)}`);
        assert.ok(r.status === 200 || r.status === 400, `${f}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    });

    // Finding 7 (PostgreSQL): a NUL byte in a path parameter reaches an unguarded query (22021) → 500.
    it('a NUL byte in collection or item ids answers 404, not 500', async () => {
      for (const path of [
        '/collections/a%00b',
        '/collections/a%00b/items',
        '/collections/a%00b/queryables',
        '/collections/atk-open/items/a%00b',
        '/collections/atk-open/items/a%00b/assets/data',
      ]) {
        const r = await get(path);
        assert.equal(r.status, 404, `${path}: ${r.status} ${r.text.slice(0, 200)}`);
        assert.equal(r.json?.code, 'NotFound');
      }
    });

    // Finding 8 (both stores): collection search assumes `q` is a string; a repeated `q` is an array → TypeError → 500.
    it('repeated parameters of collection search are 200 or 400, not 500', async () => {
      for (const path of ['/collections?q=atk&q=open', '/collections?q=a&q=b&q=c']) {
        const r = await get(path);
        assert.ok(r.status === 200 || r.status === 400, `${path}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    });

    // Ingest takes ids of up to 512 characters; the router took path parameters of 200: a loaded item with a longer
    // id answered 400 "malformed URL" (found by the break-it review of 2026-11-30).
    it('an item with an id of 512 characters, ASCII or not, is served by its URL', async () => {
      const ids = ['x'.repeat(512), 'é'.repeat(256) + '🛰'.repeat(128)];
      const text = [JSON.stringify(collectionBody('atk-ids')), ...ids.map((id) => harvestedLine('atk-ids', id, ''))].join('\n');
      const summary = await loadStac(s.skyport.storage, ['-'], {}, Readable.from([text]));
      assert.equal(summary.items.inserted, 2, JSON.stringify(summary.rejections));
      for (const id of ids) {
        const r = await get(`/collections/atk-ids/items/${encodeURIComponent(id)}`);
        assert.equal(r.status, 200, `${id.length} characters: ${r.status} ${r.text.slice(0, 120)}`);
        assert.equal(r.json?.id, id);
      }
    });

    // Finding 9 (PostgreSQL): an id longer than a btree entry (~2.7 kB) fails with 54000, which is not a
    // QueryError: the loader aborts and the good items of the batch are lost; the transaction API answers 500.
    it('an item with a very long id is rejected on its own; its batch-mates are loaded', async () => {
      // Incompressible, so PostgreSQL cannot squeeze it into an index entry.
      const long = `long-${randomBytes(3000).toString('base64url')}`;
      const line = (id: string) => harvestedLine('atk-load', id, '');
      const text = [JSON.stringify(collectionBody('atk-load')), line('good-1'), line(long), line('good-2')].join('\n');
      const summary = await loadStac(s.skyport.storage, ['-'], {}, Readable.from([text]));
      assert.ok(await s.skyport.storage.getItem('atk-load', 'good-1'), 'good-1 was not loaded');
      assert.ok(await s.skyport.storage.getItem('atk-load', 'good-2'), 'good-2 was not loaded');
      assert.equal(summary.items.inserted + summary.items.rejected, 3);

      const { client, secret } = await createPlatformClient({ storage: s.skyport.storage, hasher: s.skyport.hasher }, 'attacks');
      const w = await tokenFor(s.url, { client_id: client.clientId, client_secret: secret });
      const body = JSON.parse(harvestedLine('atk-load', `${long}-tx`, '')) as Record<string, unknown>;
      const r = await post('/collections/atk-load/items', body, w);
      assert.ok(r.status === 201 || r.status === 400, `transaction with a long id: ${r.status} ${r.text.slice(0, 200)}`);
    });
  });
}
