/**
 * The SDK's CatalogClient and resumable download against a real Skyport server (search across pages,
 * each item once; item; typed errors; whole, resumed and already-complete downloads), and against a
 * tiny local HTTP server for what Skyport never does: paging links of other shapes, a server that
 * answers 200 to a range request (field pitfall K06), a wrong Content-Range, a short transfer, 401.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ApiError,
  CatalogClient,
  ClientCredentials,
  DownloadError,
  InsufficientScopeError,
  type SearchParams,
  type StacItem,
} from '../../packages/sdk/src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';

const N = 23;
const ASSET = Buffer.from(Array.from({ length: 200_000 }, (_, n) => (n * 7) % 251));

function item(n: number): { collection: string; id: string; item: Record<string, unknown> } {
  const id = `s-${String(n).padStart(2, '0')}`;
  const [lon, lat] = [n, 40];
  return {
    collection: 'sdk-test',
    id,
    item: {
      type: 'Feature',
      stac_version: '1.0.0',
      id,
      collection: 'sdk-test',
      geometry: { type: 'Point', coordinates: [lon, lat] },
      bbox: [lon, lat, lon, lat],
      properties: { datetime: `2024-05-${String(n + 1).padStart(2, '0')}T10:00:00Z`, 'eo:cloud_cover': n * 4 },
      links: [],
      assets: n === 0 ? { data: { href: 'asset:sdk-test/s-00/data.bin', type: 'application/octet-stream' } } : {},
    },
  };
}

/** A fetch that records every request other than token requests (method, URL, Range, parsed JSON body) and its status. */
function recorder(): { fetch: typeof fetch; calls: { method: string; url: string; range?: string; body?: any; status?: number }[] } {
  const calls: { method: string; url: string; range?: string; body?: any; status?: number }[] = [];
  return {
    calls,
    fetch: async (input, init) => {
      const url = String(input);
      if (url.includes('/token')) return fetch(input, init);
      const h = new Headers(init?.headers);
      const call = {
        method: init?.method ?? 'GET',
        url,
        ...(h.get('range') ? { range: h.get('range')! } : {}),
        ...(typeof init?.body === 'string' ? { body: JSON.parse(init.body) } : {}),
      } as (typeof calls)[number];
      calls.push(call);
      const r = await fetch(input, init);
      call.status = r.status;
      return r;
    },
  };
}

/** A loopback HTTP server whose handler each test sets; `/token` issues tok-1, tok-2, … and counts them. */
async function fakeServer(): Promise<{
  url: string;
  tokens: () => number;
  handle: (h: http.RequestListener) => void;
  close: () => Promise<void>;
}> {
  let n = 0;
  let handler: http.RequestListener = (_q, r) => r.writeHead(404).end();
  const srv = http.createServer((req, res) => {
    if (req.url === '/token') {
      n++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `tok-${n}`, expires_in: 3600 }));
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    tokens: () => n,
    handle: (h) => (handler = h),
    close: () => {
      srv.closeAllConnections();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

const readBody = (req: http.IncomingMessage): Promise<any> =>
  new Promise((resolve) => {
    let t = '';
    req.on('data', (d: Buffer) => (t += d.toString()));
    req.on('end', () => resolve(t ? JSON.parse(t) : undefined));
  });

describe('SDK CatalogClient against a real server', () => {
  let s: TestServer;
  let tokens: ClientCredentials;
  let dir: string;
  const collections = ['sdk-test'];
  before(async () => {
    s = await startServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-sdk-dl-'));
    const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
    const body = {
      type: 'Collection',
      id: 'sdk-test',
      stac_version: '1.0.0',
      description: 'd',
      license: 'proprietary',
      extent: {},
      links: [],
    };
    await s.skyport.storage.upsertCollection({ id: 'sdk-test', access: 'private', ownerOrgId: demo.id, body, updatedAt: 1 });
    await s.skyport.storage.upsertItems(Array.from({ length: N }, (_, n) => item(n)));
    mkdirSync(path.join(s.config.assetsDir, 'sdk-test', 's-00'), { recursive: true });
    writeFileSync(path.join(s.config.assetsDir, 'sdk-test', 's-00', 'data.bin'), ASSET);
    const ro = s.creds['read-only'];
    tokens = new ClientCredentials({ clientId: ro.client_id, clientSecret: ro.client_secret, issuer: s.url });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('search() yields every item exactly once across pages, posting each next body exactly as given', async () => {
    const rec = recorder();
    const cat = new CatalogClient(tokens, s.url, { fetch: rec.fetch });
    const ids: string[] = [];
    for await (const it of cat.search({ collections, limit: 5 })) ids.push(it.id);
    assert.equal(ids.length, N);
    assert.deepEqual(
      [...ids].sort(),
      Array.from({ length: N }, (_, n) => item(n).id),
    );
    assert.equal(rec.calls.length, Math.ceil(N / 5), 'one request a page');
    assert.deepEqual(rec.calls[0]!.body, { collections, limit: 5 });
    for (const c of rec.calls.slice(1)) {
      assert.equal(c.method, 'POST');
      assert.match(c.body.token, /^next:/);
      assert.deepEqual({ ...c.body, token: undefined }, { collections, limit: 5, token: undefined });
    }
    assert.equal(new Set(rec.calls.map((c) => c.body.token)).size, rec.calls.length, 'no page asked twice');
  });

  it('pages() carries numberMatched; parameters in SDK form (Date interval, string sortby, text filter) reach the server', async () => {
    const cat = new CatalogClient(tokens, s.url);
    const pages = [];
    for await (const p of cat.pages({ collections, limit: 10 })) pages.push(p);
    assert.deepEqual(
      pages.map((p) => [p.numberMatched, p.numberReturned]),
      [
        [N, 10],
        [N, 10],
        [N, 3],
      ],
    );
    const collect = async (params: Parameters<CatalogClient['search']>[0]) => {
      const out: StacItem[] = [];
      for await (const it of cat.search({ collections, ...params })) out.push(it);
      return out;
    };
    const desc = await collect({ sortby: '-datetime', limit: 7 });
    assert.deepEqual(
      desc.map((x) => x.id),
      Array.from({ length: N }, (_, n) => item(N - 1 - n).id),
    );
    const window = await collect({ datetime: [new Date('2024-05-20T00:00:00Z'), null] });
    assert.deepEqual(window.map((x) => x.id).sort(), ['s-19', 's-20', 's-21', 's-22']);
    assert.deepEqual((await collect({ filter: 'eo:cloud_cover < 20' })).map((x) => x.id).sort(), ['s-00', 's-01', 's-02', 's-03', 's-04']);
    assert.deepEqual((await collect({ bbox: [2.5, 39, 4.5, 41] })).map((x) => x.id).sort(), ['s-03', 's-04']);
    assert.deepEqual(
      (await collect({ ids: ['s-07', 'nope'] })).map((x) => x.id),
      ['s-07'],
    );
  });

  it('maxItems stops early: no page fetched after it, page size at most maxItems', async () => {
    const rec = recorder();
    const cat = new CatalogClient(tokens, s.url, { fetch: rec.fetch });
    const got: string[] = [];
    for await (const it of cat.search({ collections, limit: 5 }, { maxItems: 7 })) got.push(it.id);
    assert.equal(got.length, 7);
    assert.equal(rec.calls.length, 2);
    rec.calls.length = 0;
    const three: string[] = [];
    for await (const it of cat.search({ collections }, { maxItems: 3 })) three.push(it.id);
    assert.equal(three.length, 3);
    assert.equal(rec.calls.length, 1);
    assert.equal(rec.calls[0]!.body.limit, 3);
    // Leaving the loop early fetches nothing more either.
    rec.calls.length = 0;
    for await (const _ of cat.search({ collections, limit: 2 })) break;
    assert.equal(rec.calls.length, 1);
  });

  it('item() returns one item; missing items and bad parameters are ApiErrors with the server code and description', async () => {
    const cat = new CatalogClient(tokens, s.url);
    const one = await cat.item('sdk-test', 's-05');
    assert.equal(one.id, 's-05');
    assert.equal(one.properties['eo:cloud_cover'], 20);
    await assert.rejects(
      cat.item('sdk-test', 'missing'),
      (e: unknown) => e instanceof ApiError && e.status === 404 && e.code === 'NotFound',
    );
    const bad = async (params: Parameters<CatalogClient['search']>[0]) => {
      for await (const _ of cat.search(params)) void _;
    };
    await assert.rejects(
      bad({ bbox: [1, 2, 3] }),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.code === 'BadRequest' && /bbox/.test(e.detail),
    );
    await assert.rejects(
      bad({ filter: 'eo:cloud_cover <' }),
      (e: unknown) => e instanceof ApiError && e.status === 400 && /filter/.test(e.detail),
    );
  });

  it('download: the whole asset, with progress up to its size, through a .part renamed at the end', async () => {
    const cat = new CatalogClient(tokens, s.url);
    const to = path.join(dir, 'whole.bin');
    const seen: [number, number | undefined][] = [];
    const r = await cat.download({ collection: 'sdk-test', item: 's-00', asset: 'data' }, { to, onProgress: (b, t) => seen.push([b, t]) });
    assert.deepEqual(readFileSync(to), ASSET);
    assert.ok(!existsSync(`${to}.part`));
    assert.deepEqual(r, { path: to, bytes: ASSET.length, resumedFrom: 0, status: 200 });
    assert.deepEqual(seen.at(-1), [ASSET.length, ASSET.length]);
    assert.ok(
      seen.every(([b, t], i) => t === ASSET.length && (i === 0 || b >= seen[i - 1]![0])),
      'monotonic, total known',
    );
  });

  it('download resumes a partial file with a range request answered 206, by href too', async () => {
    const rec = recorder();
    const cat = new CatalogClient(tokens, s.url, { fetch: rec.fetch });
    const href = (await cat.item('sdk-test', 's-00')).assets.data!.href;
    const to = path.join(dir, 'resumed.bin');
    writeFileSync(`${to}.part`, ASSET.subarray(0, 70_000));
    const seen: number[] = [];
    rec.calls.length = 0;
    const r = await cat.download(href, { to, onProgress: (b) => seen.push(b) });
    assert.deepEqual(
      rec.calls.map((c) => [c.range, c.status]),
      [['bytes=70000-', 206]],
    );
    assert.deepEqual(readFileSync(to), ASSET);
    assert.equal(r.resumedFrom, 70_000);
    assert.equal(r.status, 206);
    assert.equal(seen[0], 70_000);
    assert.equal(seen.at(-1), ASSET.length);
  });

  it('download: a complete part (416) is only renamed; a part longer than the asset starts over', async () => {
    const rec = recorder();
    const cat = new CatalogClient(tokens, s.url, { fetch: rec.fetch });
    const ref = { collection: 'sdk-test', item: 's-00', asset: 'data' };
    const done = path.join(dir, 'done.bin');
    writeFileSync(`${done}.part`, ASSET);
    assert.equal((await cat.download(ref, { to: done })).status, 416);
    assert.deepEqual(readFileSync(done), ASSET);
    const stale = path.join(dir, 'stale.bin');
    writeFileSync(`${stale}.part`, Buffer.concat([ASSET, Buffer.from('junk')]));
    rec.calls.length = 0;
    const r = await cat.download(ref, { to: stale });
    assert.deepEqual(
      rec.calls.map((c) => [c.range, c.status]),
      [
        [`bytes=${ASSET.length + 4}-`, 416],
        [undefined, 200],
      ],
    );
    assert.equal(r.resumedFrom, 0);
    assert.deepEqual(readFileSync(stale), ASSET);
  });

  it('download errors are typed: 404 ApiError; a token without assets:read is InsufficientScopeError', async () => {
    const cat = new CatalogClient(tokens, s.url);
    const to = path.join(dir, 'never.bin');
    await assert.rejects(
      cat.download({ collection: 'sdk-test', item: 's-00', asset: 'nope' }, { to }),
      (e: unknown) => e instanceof ApiError && e.status === 404 && e.code === 'NotFound',
    );
    const ro = s.creds['read-only'];
    const narrow = new ClientCredentials({ clientId: ro.client_id, clientSecret: ro.client_secret, issuer: s.url, scope: 'catalog:read' });
    await assert.rejects(
      new CatalogClient(narrow, s.url).download({ collection: 'sdk-test', item: 's-00', asset: 'data' }, { to }),
      InsufficientScopeError,
    );
    assert.ok(!existsSync(to));
  });
});

describe('SDK paging and downloads against servers that behave otherwise', () => {
  let f: Awaited<ReturnType<typeof fakeServer>>;
  let dir: string;
  const body = Buffer.from(Array.from({ length: 5000 }, (_, n) => n % 256));
  const client = () => new CatalogClient(new ClientCredentials({ clientId: 'c', clientSecret: 's', tokenUrl: `${f.url}/token` }), f.url);
  const feature = (id: string) => ({ type: 'Feature', id, properties: { datetime: null }, geometry: null, links: [], assets: {} });
  before(async () => {
    f = await fakeServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-sdk-fake-'));
  });
  after(async () => {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows a POST next body as given (merge false), merges when merge is true, and follows GET hrefs', async () => {
    const seen: { method: string; url: string; body: any }[] = [];
    f.handle(async (req, res) => {
      const b = await readBody(req);
      seen.push({ method: req.method!, url: req.url!, body: b });
      const links = [];
      const step = seen.length;
      if (step === 1) links.push({ rel: 'next', href: `${f.url}/search`, method: 'POST', body: { page: 2 }, merge: false });
      if (step === 2) links.push({ rel: 'next', href: `${f.url}/search`, method: 'POST', body: { cursor: 3 }, merge: true });
      if (step === 3) links.push({ rel: 'next', href: '/search?page=4' });
      res.writeHead(200, { 'content-type': 'application/geo+json' });
      res.end(JSON.stringify({ type: 'FeatureCollection', features: [feature(`f${step}`)], links }));
    });
    const ids: string[] = [];
    for await (const it of client().search({ collections: ['a'], limit: 1 })) ids.push(it.id);
    assert.deepEqual(ids, ['f1', 'f2', 'f3', 'f4']);
    assert.deepEqual(seen, [
      { method: 'POST', url: '/search', body: { collections: ['a'], limit: 1 } },
      { method: 'POST', url: '/search', body: { page: 2 } },
      { method: 'POST', url: '/search', body: { page: 2, cursor: 3 } },
      { method: 'GET', url: '/search?page=4', body: undefined },
    ]);
  });

  it('refuses a next link to another origin (the token stays home) and one that repeats the request', async () => {
    let requests = 0;
    f.handle(async (req, res) => {
      requests++;
      const b = await readBody(req);
      const next = b.loop
        ? { rel: 'next', href: `${f.url}/search`, method: 'POST', body: b }
        : { rel: 'next', href: 'http://evil.example/search' };
      res.writeHead(200).end(JSON.stringify({ type: 'FeatureCollection', features: [], links: [next] }));
    });
    const drain = async (params: Record<string, unknown>) => {
      // `loop` is no search parameter: it tells the fake server which link to answer.
      for await (const _ of client().search(params as SearchParams)) void _;
    };
    await assert.rejects(drain({}), /evil\.example.*not sending the token/);
    await assert.rejects(drain({ loop: true }), /repeats the current request/);
    assert.equal(requests, 2);
  });

  it('K06: a server answering 200 to a range request restarts the file from zero, never appends', async () => {
    const ranges: (string | undefined)[] = [];
    f.handle((req, res) => {
      ranges.push(req.headers.range);
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    const to = path.join(dir, 'k06.bin');
    writeFileSync(`${to}.part`, Buffer.alloc(1000, 'x'));
    const r = await client().download(`${f.url}/asset`, { to });
    assert.deepEqual(ranges, ['bytes=1000-']);
    assert.deepEqual(readFileSync(to), body);
    assert.equal(r.resumedFrom, 0);
    assert.equal(r.status, 200);
  });

  it('a 206 for another range than asked is not appended: the asset is fetched again whole', async () => {
    const ranges: (string | undefined)[] = [];
    f.handle((req, res) => {
      ranges.push(req.headers.range);
      if (req.headers.range) res.writeHead(206, { 'content-range': `bytes 0-99/${body.length}` }).end(body.subarray(0, 100));
      else res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    const to = path.join(dir, 'wrong-range.bin');
    writeFileSync(`${to}.part`, body.subarray(0, 1000));
    await client().download(`${f.url}/asset`, { to });
    assert.deepEqual(ranges, ['bytes=1000-', undefined]);
    assert.deepEqual(readFileSync(to), body);
  });

  it('a short transfer is a DownloadError keeping the part; the next call resumes and completes it', async () => {
    let short = true;
    f.handle((req, res) => {
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      const end = short ? start + 999 : body.length - 1;
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}` }).end(body.subarray(start, end + 1));
    });
    const to = path.join(dir, 'short.bin');
    writeFileSync(`${to}.part`, body.subarray(0, 1000));
    await assert.rejects(
      client().download(`${f.url}/asset`, { to }),
      (e: unknown) => e instanceof DownloadError && e.bytes === 2000 && e.expected === body.length && e.partPath === `${to}.part`,
    );
    assert.ok(!existsSync(to));
    assert.equal(statSync(`${to}.part`).size, 2000);
    short = false;
    const r = await client().download(`${f.url}/asset`, { to });
    assert.equal(r.resumedFrom, 2000);
    assert.deepEqual(readFileSync(to), body);
  });

  it('an aborted download keeps its part for a resume', async () => {
    f.handle((req, res) => {
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(start ? 206 : 200, {
        'content-length': body.length - start,
        ...(start ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
      });
      // The first answer stalls after 1000 bytes until the client gives up.
      if (start === 0) res.write(body.subarray(0, 1000));
      else res.end(body.subarray(start));
    });
    const to = path.join(dir, 'aborted.bin');
    const ac = new AbortController();
    await assert.rejects(
      client().download(`${f.url}/asset`, { to, signal: ac.signal, onProgress: (b) => b >= 1000 && ac.abort() }),
      (e: Error) => e.name === 'AbortError',
    );
    assert.equal(statSync(`${to}.part`).size, 1000);
    assert.equal((await client().download(`${f.url}/asset`, { to })).resumedFrom, 1000);
    assert.deepEqual(readFileSync(to), body);
  });

  it('a 401 refreshes the token once and retries; a remote href never gets the token', async () => {
    const auth: (string | undefined)[] = [];
    const stale = `Bearer tok-${f.tokens() + 1}`;
    f.handle((req, res) => {
      auth.push(req.headers.authorization);
      if (req.headers.authorization === stale) return res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    const to = path.join(dir, 'refreshed.bin');
    await client().download(`${f.url}/asset`, { to });
    assert.deepEqual(readFileSync(to), body);
    assert.deepEqual(auth, [stale, `Bearer tok-${f.tokens()}`]);
    assert.notEqual(stale, `Bearer tok-${f.tokens()}`);
    // Same fake server under another origin (localhost vs 127.0.0.1): a remote asset, fetched without the token.
    auth.length = 0;
    const remote = `${f.url.replace('127.0.0.1', 'localhost')}/asset`;
    await client().download(remote, { to: path.join(dir, 'remote.bin') });
    assert.deepEqual(auth, [undefined]);
  });
});
