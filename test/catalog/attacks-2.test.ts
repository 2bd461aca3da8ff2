/**
 * Regression tests of a second security review (protected asset downloads, paging tokens, the bulk
 * loader): a Range header that holds the event loop for its quadratic regular expression, a stored
 * media type that makes a download a 500, asset keys with lone UTF-16 surrogates (an alias of another
 * file; an S3 URL that cannot be encoded), objects nested deep enough to stop a whole load when they
 * cross a worker thread, and a duplicate in one SQLite batch where the older object wins. Each fails
 * before its fix and passes after; the tests at the end pin down what held.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPlatformClient } from '../../src/admin/service.js';
import { loadStac } from '../../src/catalog/load.js';
import { isSafeAssetKey, UnsafeAssetKey } from '../../src/storage/assets/keys.js';
import { parseRangeHeader } from '../../src/storage/assets/range.js';
import { S3AssetStore } from '../../src/storage/assets/s3.js';
import { bearer, request, tokenFor } from '../helpers/http.js';
import { createOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer, openTestStore } from '../helpers/server.js';
import { stacCollection, stacItem } from '../helpers/stac-fixtures.js';

const collection = stacCollection;
const item = stacItem;

/** JSON text of `{"x":{"x":…1…}}`, `depth` objects deep (written as text: building it as an object would recurse). */
const deepJson = (depth: number) => '{"x":'.repeat(depth) + '1' + '}'.repeat(depth);

/** `value` as JSON text with `"deep": <depth objects>` as its last member. */
const withDeep = (value: Record<string, unknown>, depth: number) => JSON.stringify(value).replace(/}$/, `,"deep":${deepJson(depth)}}`);

describe('Range header parsing', () => {
  // Finding 1: `\s*(\d*)\s*-` lets two runs of spaces meet around an empty number, so a header of spaces
  // that does not match backtracks quadratically: ~16 kB of header held the event loop for a long time.
  it('a Range header of thousands of spaces is refused in linear time', () => {
    const headers = [`bytes=${' '.repeat(15_000)}x`, `bytes=-${' '.repeat(15_000)}x`, `bytes=1${' '.repeat(15_000)}x`];
    const t0 = performance.now();
    for (const h of headers) assert.equal(parseRangeHeader(h), undefined);
    const ms = performance.now() - t0;
    assert.ok(ms < 50, `three malformed 15 kB Range headers took ${Math.round(ms)} ms to parse`);
    assert.deepEqual(parseRangeHeader(' bytes = 10 - 19 '), { first: 10, last: 19 }, 'optional spaces still accepted');
    assert.deepEqual(parseRangeHeader('bytes=-5'), { suffix: 5 });
    assert.deepEqual(parseRangeHeader('bytes=7-'), { first: 7 });
    assert.equal(parseRangeHeader('bytes=-'), undefined);
  });

  // Finding 2: a position with leading zeros and more than 15 digits was taken for a huge one (a 416).
  it('leading zeros do not make a position huge', () => {
    assert.deepEqual(parseRangeHeader('bytes=0000000000000000000001000-00000000000000000001999'), { first: 1000, last: 1999 });
    assert.deepEqual(parseRangeHeader('bytes=-000000000000000000016'), { suffix: 16 });
    assert.deepEqual(parseRangeHeader('bytes=1234567890123456789-'), { first: Number.MAX_SAFE_INTEGER });
  });
});

describe('asset keys with lone surrogates', () => {
  // Finding 3: a lone surrogate has no UTF-8 form. The folder store opened the file named with U+FFFD
  // instead (another key's file); the S3 store could not encode the URL and answered 502 with an error log.
  it('are refused by the key check and by the S3 store before any request', async () => {
    for (const key of ['a/b\ud800.tif', 'a/\udc00', '\ud83d']) assert.equal(isSafeAssetKey(key), false, JSON.stringify(key));
    assert.equal(isSafeAssetKey('a/\ud83d\udef0.tif'), true, 'a well-formed astral character (a pair) is fine');
    const store = new S3AssetStore({
      bucket: 'b',
      endpoint: 'http://127.0.0.1:9', // never contacted: the key is refused first
      region: 'us-east-1',
      prefix: '',
      accessKeyId: 'x',
      secretAccessKey: 'y',
      pathStyle: true,
    });
    await assert.rejects(store.read('a/b\ud800.tif'), UnsafeAssetKey);
    await assert.rejects(store.stat('a/b\ud800.tif'), UnsafeAssetKey);
  });
});

for (const store of await stores()) {
  describe(`asset download attacks (${store})`, () => {
    let s: TestServer;
    let t: string;
    const bytes = Buffer.from(Array.from({ length: 50_000 }, (_, n) => n % 253));
    const url = (asset: string) => `${s.url}/collections/own2/items/scene-1/assets/${asset}`;
    let aliasStored = true;

    before(async () => {
      s = await startServer({ store });
      const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
      const dir = path.join(s.config.assetsDir, 'own2', 'scene-1');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'data.tif'), bytes);
      writeFileSync(path.join(dir, 'data\ufffd.tif'), 'another key’s file');
      await s.skyport.storage.upsertCollection({
        id: 'own2',
        access: 'private',
        ownerOrgId: demo.id,
        body: collection('own2'),
        updatedAt: 1,
      });
      const scene = (assets: Record<string, unknown>) => ({
        collection: 'own2',
        id: 'scene-1',
        item: { ...item('own2', 'scene-1', 10), assets },
      });
      const assets = {
        data: { href: 'asset:own2/scene-1/data.tif', type: 'image/tiff' },
        crlf: { href: 'asset:own2/scene-1/data.tif', type: 'image/tiff\r\nx-injected: yes' },
        wide: { href: 'asset:own2/scene-1/data.tif', type: 'image/tiff; name="\u2603"' },
        race: { href: 'asset:own2/scene-1/race.tif', type: 'image/tiff' },
      };
      await s.skyport.storage.upsertItems([scene(assets)]);
      try {
        await s.skyport.storage.upsertItems([scene({ ...assets, alias: { href: 'asset:own2/scene-1/data\ud800.tif' } })]);
      } catch {
        aliasStored = false; // a store that refuses lone surrogates cannot hold the alias at all
      }
      t = await tokenFor(s.url, s.creds['read-only']);
    });
    after(() => s.close());

    it('a malformed Range header does not hold the server', async () => {
      const t0 = performance.now();
      const r = await fetch(url('data'), { headers: { ...bearer(t), range: `bytes=${' '.repeat(14_000)}x` } });
      const ms = performance.now() - t0;
      assert.equal(r.status, 200, 'a malformed range is ignored: the whole asset');
      assert.equal((await r.arrayBuffer()).byteLength, bytes.length);
      assert.ok(ms < 300, `one request with a 14 kB Range header took ${Math.round(ms)} ms`);
    });

    it('a range with leading zeros is served, not refused', async () => {
      const r = await fetch(url('data'), { headers: { ...bearer(t), range: 'bytes=0000000000000000000001000-1999' } });
      assert.equal(r.status, 206);
      assert.equal(r.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), bytes.subarray(1000, 2000));
    });

    // Finding 4: the media type of a held asset comes from the stored item; one Node refuses as a header
    // value (a line break, a character above U+00FF) failed the answer after the file was opened: a 500.
    it('a stored media type that is no header value falls back to the file name’s', async () => {
      for (const name of ['crlf', 'wide']) {
        const r = await fetch(url(name), { headers: bearer(t) });
        assert.equal(r.status, 200, name);
        assert.equal(r.headers.get('content-type'), 'image/tiff', name);
        assert.equal(r.headers.get('x-injected'), null, name);
        assert.deepEqual(Buffer.from(await r.arrayBuffer()), bytes, name);
        const part = await fetch(url(name), { headers: { ...bearer(t), range: 'bytes=5-9' } });
        assert.equal(part.status, 206, name);
        assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(5, 10), name);
      }
      const ok = await fetch(url('data'), { headers: bearer(t) });
      assert.equal(ok.headers.get('content-type'), 'image/tiff');
      await ok.arrayBuffer();
    });

    // Finding 9: a conditional request decided its preconditions and If-Range on one read of the metadata,
    // then read the bytes again: an asset replaced in between sent a range of the new version to a client
    // whose If-Range named the old one (a spliced file), with the new validators.
    it('If-Range is decided on the version whose bytes are sent', async () => {
      const file = path.join(s.config.assetsDir, 'own2', 'scene-1', 'race.tif');
      const v1 = Buffer.alloc(1000, 1);
      const v2 = Buffer.alloc(2000, 2);
      writeFileSync(file, v1);
      const first = await fetch(url('race'), { headers: bearer(t) });
      const etag = first.headers.get('etag')!;
      assert.deepEqual(Buffer.from(await first.arrayBuffer()), v1);
      // The store as the route uses it, replacing the file right after the route's first look at it.
      const assets = s.skyport.assets;
      const stat = assets.stat.bind(assets);
      let replaced = false;
      assets.stat = async (key) => {
        const meta = await stat(key);
        if (!replaced && key.endsWith('race.tif')) {
          replaced = true;
          writeFileSync(file, v2);
        }
        return meta;
      };
      try {
        const r = await fetch(url('race'), { headers: { ...bearer(t), range: 'bytes=0-9', 'if-range': etag } });
        const body = Buffer.from(await r.arrayBuffer());
        assert.ok(replaced);
        assert.equal(r.status, 200, 'the client’s version is gone: the whole new one, not a range of it');
        assert.deepEqual(body, v2);
        assert.notEqual(r.headers.get('etag'), etag);
      } finally {
        assets.stat = stat;
      }
    });

    it('a key with a lone surrogate is not another file (404)', async (ctx) => {
      if (!aliasStored) return ctx.skip(`the ${store} store refuses lone surrogates in items`);
      const r = await request(url('alias'), { headers: bearer(t) });
      assert.equal(r.status, 404, `served ${JSON.stringify(r.text.slice(0, 40))}`);
    });
  });
}

const openStore = openTestStore;

for (const kind of await stores()) {
  describe(`bulk load attacks (${kind})`, () => {
    let dir: string;
    before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-load-atk-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    const load = async (file: string, text: string, opts: Parameters<typeof loadStac>[2]) => {
      writeFileSync(path.join(dir, file), text);
      const { s, cleanup } = await openStore(kind, dir);
      try {
        return { summary: await loadStac(s, [path.join(dir, file)], opts), stored: await s.getItem('a', 'dup') };
      } finally {
        await cleanup();
      }
    };
    // The first two chunks are stepped on the main thread; with chunks of one object, the fourth object is a worker's.
    const threaded = { workers: 1, stepChunk: 1 };

    // Finding 5: a Collection nested 100,000 deep passed the worker's step untouched; posting it back
    // overflowed structured cloning and stopped the whole load ("load worker: Maximum call stack size exceeded").
    it('a deeply nested Collection line in a worker is rejected alone', async () => {
      const lines = [
        JSON.stringify(collection('a')),
        JSON.stringify(item('a', 'ok-1', 1)),
        JSON.stringify(item('a', 'ok-2', 2)),
        withDeep(collection('deep-c'), 100_000),
        JSON.stringify(item('a', 'ok-3', 3)),
      ];
      const { summary } = await load('deep-collection.ndjson', lines.join('\n') + '\n', threaded);
      assert.deepEqual(summary.items, { inserted: 3, updated: 0, rejected: 0 });
      assert.deepEqual(summary.collections, { inserted: 1, updated: 0, rejected: 1 }, 'counted as the collection it is');
      assert.match(summary.rejections[0]!.reason, /nested too deeply/);
      assert.match(summary.rejections[0]!.source, /:4$/);
    });

    // Finding 6: objects of a parsed document (an array, a FeatureCollection) are expanded on the main
    // thread and posted to a worker: a deeply nested one failed the post and stopped the whole load.
    for (const shape of ['array', 'FeatureCollection'] as const) {
      it(`a deeply nested item of a parsed ${shape} document is rejected alone`, async () => {
        const items = [item('a', 'ok-1', 1), item('a', 'ok-2', 2), 'DEEP', item('a', 'ok-3', 3)].map((x) =>
          x === 'DEEP' ? withDeep(item('a', 'deep-i', 4), 100_000) : JSON.stringify(x),
        );
        const doc =
          shape === 'array'
            ? `[${JSON.stringify(collection('a'))},${items.join(',')}]`
            : `{"type":"FeatureCollection","features":[${items.join(',')}]}`;
        // A FeatureCollection's collection comes first, in a file of its own.
        const files = shape === 'array' ? [] : [path.join(dir, 'coll.json')];
        if (files.length) writeFileSync(files[0]!, JSON.stringify(collection('a')));
        writeFileSync(path.join(dir, `deep-${shape}.json`), doc);
        const { s, cleanup } = await openStore(kind, dir);
        try {
          // With a collection ahead in the array, its deep item is the 5th object (a worker's); in the FeatureCollection the 3rd of 4 chunks.
          const summary = await loadStac(s, [...files, path.join(dir, `deep-${shape}.json`)], threaded);
          assert.deepEqual(summary.items, { inserted: 3, updated: 0, rejected: 1 });
          assert.match(summary.rejections[0]!.reason, /nested too deeply/);
        } finally {
          await cleanup();
        }
      });
    }

    // Finding 8 (PostgreSQL): a batch is one JSON document built by concatenation; rows hold each item about
    // twice, so 5,000 items of ~54 kB (or a few huge ones) pass V8's longest string (2^29 - 24 characters)
    // and the RangeError stopped the whole load. Needs ~3 GB of memory: run with SKYPORT_HEAVY_TESTS=1.
    it(
      'three items of ~92 MB each load in full, not a failed load (a JSON batch once passed the V8 string limit)',
      { skip: kind !== 'postgres' ? 'PostgreSQL only' : process.env.SKYPORT_HEAVY_TESTS ? false : 'set SKYPORT_HEAVY_TESTS=1' },
      async () => {
        const big = 'x'.repeat(92_000_000);
        const lines = [JSON.stringify(collection('a'))];
        for (let k = 0; k < 3; k++) lines.push(JSON.stringify(item('a', `big-${k}`, k, { note: big })));
        const { summary } = await load('big.ndjson', lines.join('\n') + '\n', { workers: 0 });
        assert.deepEqual(summary.items, { inserted: 3, updated: 0, rejected: 0 });
      },
    );

    // Finding 7 (SQLite): a batch is written in Z-order of the bbox centres, and two versions of one item
    // with different footprints are then written in that order, not the input's: the older one wins.
    // The fix belongs in src/storage/sqlite/catalog.ts (zOrdered keeps only the last row of each key).
    it('the later of two versions of an item in one batch wins, whatever their footprints', async () => {
      const lines = [
        JSON.stringify(collection('a')),
        JSON.stringify(item('a', 'dup', 100, { version: 1 })),
        JSON.stringify(item('a', 'dup', -100, { version: 2 })),
      ];
      const { stored } = await load('dup.ndjson', lines.join('\n') + '\n', { workers: 0, batchSize: 100 });
      assert.equal((stored!.item.properties as { version: number }).version, 2, 'the later object of the input is stored');
    });
  });
}

for (const store of await stores()) {
  describe(`paging tokens (${store}): what held`, () => {
    let s: TestServer;
    let victim: string;
    let attacker: string;

    before(async () => {
      s = await startServer({ store });
      const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
      const st = s.skyport.storage;
      await st.upsertCollection({ id: 'tok-secret', access: 'private', ownerOrgId: demo.id, body: collection('tok-secret'), updatedAt: 1 });
      await st.upsertCollection({ id: 'tok-open', access: 'open', ownerOrgId: null, body: collection('tok-open'), updatedAt: 1 });
      await st.upsertCollection({ id: 'tok-evil', access: 'open', ownerOrgId: null, body: collection('tok-evil'), updatedAt: 1 });
      const records = [];
      for (let k = 0; k < 6; k++) records.push({ collection: 'tok-secret', id: `secret-${k}`, item: item('tok-secret', `secret-${k}`, k) });
      for (let k = 0; k < 2; k++) records.push({ collection: 'tok-open', id: `open-${k}`, item: item('tok-open', `open-${k}`, k) });
      await st.upsertItems(records);
      victim = await tokenFor(s.url, s.creds['read-only']);
      attacker = await tokenFor(s.url, (await createOrg(s, 'tok-attacker')).creds['read-only']);
    });
    after(() => s.close());

    const token = (v: unknown) => `next:${Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')}`;

    it('a victim’s next token replayed by another organization shows none of the victim’s items', async () => {
      // The default order puts tok-open first: the victim's first page is open-0, its token points after it.
      const first = await request(`${s.url}/search?limit=1`, { headers: bearer(victim) });
      assert.equal(first.json.numberMatched, 8);
      const next = (first.json.links as { rel: string; href: string }[]).find((l) => l.rel === 'next')!.href;
      const replay = await request(next, { headers: bearer(attacker) });
      assert.equal(replay.status, 200);
      const ids = (replay.json.features as { id: string }[]).map((f) => f.id);
      assert.deepEqual(ids, ['open-1']);
      // The count is the victim's own, carried by the token the victim was given: nothing the attacker could not be told.
      assert.equal(replay.json.numberMatched, 8);
    });

    it('forged tokens are 400s, never 500s, and never change what is visible', async () => {
      const forged = [
        'next:!!!',
        token('not json'),
        token({ k: ['2024-03-01', 'a', 'b'] }),
        token({ k: [1709287200000, 'tok-secret', 'secret-0'], n: -1 }),
        token({ k: [1709287200000, 'tok-secret', 'secret-0'], n: 1e300 }),
        token({ k: [1709287200000, 'tok-secret', 'secret-0'], n: '5' }),
        token('{"__proto__":{"n":5},"k":[1709287200000,"tok-secret","secret-0"]}'),
        token({ k: [1.5, 'tok-secret', 'secret-0'], n: 3 }),
        token('{"k":[1e400,"tok-secret","secret-0"],"n":3}'),
        token({ k: [{}, 'x', 'y'], n: 3 }),
        token({ k: [], n: 3 }),
        token({ k: ['x', 'tok-secret', 'secret-0'], n: 3 }),
      ];
      for (const tk of forged) {
        const r = await request(`${s.url}/search?collections=tok-open,tok-secret&token=${encodeURIComponent(tk)}`, {
          headers: bearer(attacker),
        });
        assert.ok(r.status === 200 || r.status === 400, `${tk}: ${r.status} ${r.text.slice(0, 200)}`);
        if (r.status === 200)
          assert.ok(
            (r.json.features as { id: string }[]).every((f) => f.id.startsWith('open-')),
            tk,
          );
      }
    });

    // Finding 10 (SQLite): an id or an asset name with a lone surrogate (valid JSON: "\ud800") is stored as
    // it is, and presenting the item (encodeURIComponent of its links) throws: every search that meets it is a 500.
    // The fix belongs in src/catalog/ingest.ts (refuse ill-formed strings in ids and asset names) or present.ts.
    it('an item with a lone surrogate in its id or an asset name does not break searches', async () => {
      const { client, secret } = await createPlatformClient({ storage: s.skyport.storage, hasher: s.skyport.hasher }, 'atk2');
      const w = await tokenFor(s.url, { client_id: client.clientId, client_secret: secret });
      const bodies = [
        JSON.stringify(item('tok-evil', 'evil-PLACEHOLDER', 50)).replace('PLACEHOLDER', '\\ud800'),
        JSON.stringify({ ...item('tok-evil', 'evil-asset', 51), assets: { PLACEHOLDER: { href: 'https://example.com/x.tif' } } }).replace(
          'PLACEHOLDER',
          '\\udc00',
        ),
      ];
      for (const body of bodies) {
        const r = await request(`${s.url}/collections/tok-evil/items`, {
          method: 'POST',
          headers: { ...bearer(w), 'content-type': 'application/json' },
          body,
        });
        assert.ok(r.status === 201 || r.status === 400, `${r.status} ${r.text.slice(0, 200)}`);
      }
      const r = await request(`${s.url}/search?collections=tok-evil`, { headers: bearer(attacker) });
      assert.equal(r.status, 200, r.text.slice(0, 200));
    });
  });
}
