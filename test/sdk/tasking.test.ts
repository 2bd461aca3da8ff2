/**
 * The SDK's TaskingClient against a real Skyport server whose scheduler runs 100 000× faster than the
 * wall clock (an order completes in about a second): products, opportunity search across POST pages with
 * its notes, ordering an opportunity, Idempotency-Key retries (a lost answer and a 503 are retried once
 * with the same key: one order), watching an order to `completed` and finding the delivered item with the
 * CatalogClient (its GeoTIFF downloaded), listing orders across pages, cancelling, aborting a watch, and a
 * read-only credential's InsufficientScopeError.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ApiError,
  CatalogClient,
  ClientCredentials,
  InsufficientScopeError,
  TaskingClient,
  type Opportunity,
  type OrderPayload,
  type OrderStatus,
} from '../../packages/sdk/src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';

const TIR = 'skyport-tir-tasking';
const MS = 'skyport-ms-tasking';
const HOUR = 3_600_000;
/** Lyon: mid-latitude, where the demo fleet passes every day. */
const LYON = { type: 'Point' as const, coordinates: [4.85, 45.76] };
const FAST_TASKING = { SKYPORT_TASKING_TIME_SCALE: '100000', SKYPORT_TASKING_TICK_MS: '50' };

const iso = (ms: number) => new Date(ms).toISOString();

let site = 0;
/** An order at a new place each time (so orders of these tests never compete for one pass), always accepting the capture. */
function payload(overrides: Partial<OrderPayload> = {}): OrderPayload {
  const k = site++;
  const now = Date.now();
  return {
    datetime: `${iso(now + 0.1 * HOUR)}/${iso(now + 48 * HOUR)}`,
    geometry: { type: 'Point', coordinates: [-170 + ((k * 29) % 340), -40 + ((k * 17) % 80)] },
    filter: null,
    order_parameters: { max_cloud_cover: 100 },
    ...overrides,
  };
}

/** A fetch that records API requests (not token requests) and lets a test interfere with them. */
function recorder(interfere?: (url: string, init: RequestInit | undefined, n: number) => Promise<Response | undefined>) {
  const calls: { method: string; url: string; key: string | null; body?: any }[] = [];
  const f: typeof fetch = async (input, init) => {
    const url = String(input);
    if (url.includes('/token')) return fetch(input, init);
    const h = new Headers(init?.headers);
    calls.push({
      method: init?.method ?? 'GET',
      url,
      key: h.get('idempotency-key'),
      ...(typeof init?.body === 'string' ? { body: JSON.parse(init.body) } : {}),
    });
    const replaced = await interfere?.(url, init, calls.length);
    return replaced ?? fetch(input, init);
  };
  return { calls, fetch: f };
}

describe('SDK TaskingClient', () => {
  let s: TestServer;
  let tokens: ClientCredentials;
  let readOnly: ClientCredentials;
  let client: TaskingClient;
  let orgId: string;
  let tmp: string;
  const creds = (c: { client_id: string; client_secret: string; token_url: string }) =>
    new ClientCredentials({ clientId: c.client_id, clientSecret: c.client_secret, tokenUrl: c.token_url });
  const orderCount = async () => {
    let n = 0;
    for await (const page of client.orderPages({ limit: 100 })) n += page.features.length;
    return n;
  };

  before(async () => {
    s = await startServer({ env: FAST_TASKING });
    tokens = creds(s.creds.tasking);
    readOnly = creds(s.creds['read-only']);
    client = new TaskingClient(tokens, s.url);
    orgId = (await s.skyport.storage.getClient(s.creds.tasking.client_id))!.orgId;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'skyport-sdk-tasking-'));
  });
  after(async () => {
    await s.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('products lists both products with limits and prices; product(id) is the same; an unknown id is ApiError 404', async () => {
    const list = await client.products();
    assert.deepEqual(list.map((p) => p.id).sort(), [MS, TIR]);
    const tir = list.find((p) => p.id === TIR)!;
    assert.equal(tir.stapi_type, 'Product');
    assert.equal(tir['skyport:limits']?.sensor, 'thermal');
    assert.equal(tir['skyport:price']?.currency, 'USD');
    assert.deepEqual(await client.product(TIR), tir);
    await assert.rejects(client.product('nope'), (e: unknown) => e instanceof ApiError && e.status === 404 && e.code === 'NotFound');
  });

  it('opportunities follows the POST next links as given: every opportunity once, in start order, as one big page', async () => {
    const now = Date.now();
    const search = { aoi: LYON, start: new Date(now + HOUR), end: new Date(now + 4 * 24 * HOUR) };
    const rec = recorder();
    const paged = new TaskingClient(tokens, s.url, { fetch: rec.fetch });
    const results = paged.opportunities(TIR, { ...search, limit: 3 });
    const ids: string[] = [];
    const starts: number[] = [];
    for await (const o of results) {
      ids.push(o.id!);
      starts.push(Date.parse(o.properties.start_datetime!));
      assert.equal(o.properties.product_id, TIR);
      assert.ok(o.links.some((l) => l.rel === 'create-order' && l.method === 'POST'));
    }
    assert.ok(ids.length > 3, `only ${ids.length} opportunities in 3 days`);
    assert.equal(rec.calls.length, Math.ceil(ids.length / 3), 'one request a page, none after the last');
    assert.ok(rec.calls.every((c) => c.method === 'POST' && c.url === `${s.url}/tasking/products/${TIR}/opportunities`));
    assert.equal(rec.calls[0]!.body.next, undefined);
    assert.equal(rec.calls[0]!.body.datetime, `${search.start.toISOString()}/${search.end.toISOString()}`);
    for (const c of rec.calls.slice(1)) assert.equal(typeof c.body.next, 'string', 'later pages send the token of the next link');
    assert.equal(new Set(ids).size, ids.length, 'an opportunity came twice');
    assert.deepEqual(
      starts,
      [...starts].sort((a, b) => a - b),
    );
    const whole: string[] = [];
    for await (const o of client.opportunities(TIR, { ...search, limit: 100 })) whole.push(o.id!);
    assert.deepEqual(ids, whole);
    assert.deepEqual(results.notes, [], 'fresh demo elements: nothing to explain');
    const five: string[] = [];
    for await (const o of client.opportunities(TIR, search, { maxItems: 5 })) five.push(o.id!);
    assert.deepEqual(five, whole.slice(0, 5));
  });

  it('opportunities explains an empty answer with the skyport:notes; a bad window is ApiError 400 naming datetime', async () => {
    const now = Date.now();
    // 20–25 days ahead: beyond the 14 days the freshly epoched demo elements predict.
    const results = client.opportunities(TIR, { aoi: LYON, start: new Date(now + 20 * 24 * HOUR), end: new Date(now + 25 * 24 * HOUR) });
    const found: Opportunity[] = [];
    for await (const o of results) found.push(o);
    assert.equal(found.length, 0);
    assert.ok(results.notes.length > 0);
    assert.ok(
      results.notes.every((n) => n.code === 'stale-elements' && /^SKYPORT-TIR/.test(n.platform ?? '')),
      JSON.stringify(results.notes),
    );
    const reversed = client.opportunities(TIR, { aoi: LYON, start: new Date(now + 5 * HOUR), end: new Date(now + HOUR) });
    await assert.rejects(
      async () => {
        for await (const o of reversed) assert.fail(`no opportunity expected, got ${o.id}`);
      },
      (e: unknown) => e instanceof ApiError && e.status === 400 && /^datetime: .*reversed/.test(e.detail),
    );
  });

  it('order(opportunity) posts its create-order body: the order keeps the pass window and the AOI', async () => {
    const now = Date.now();
    const search = client.opportunities(TIR, { aoi: LYON, start: new Date(now + HOUR), end: new Date(now + 3 * 24 * HOUR) });
    const opp = (await search[Symbol.asyncIterator]().next()).value as Opportunity;
    const o = await client.order(TIR, opp);
    assert.equal(o.stapi_type, 'Order');
    assert.equal(o.properties.product_id, TIR);
    assert.deepEqual(o.geometry, LYON);
    const [a, b] = opp.properties.datetime.split('/');
    assert.equal(o.properties.search_parameters.datetime, `${new Date(a!).toISOString()}/${new Date(b!).toISOString()}`);
    assert.ok(['received', 'accepted', 'scheduled', 'processing', 'completed'].includes(o.properties.status.status_code));
    assert.deepEqual(o.properties.price, { amount: 200, currency: 'USD' });
    await assert.rejects(client.order(MS, opp), TypeError, 'an opportunity of another product');
  });

  it('order retries once with the same Idempotency-Key after a lost answer or a 503, and the server keeps one order', async () => {
    const before = await orderCount();
    // The request reaches the server, the answer is lost on the way back.
    const lost = recorder(async (url, init, n) => {
      if (n === 1 && url.endsWith('/orders')) {
        await fetch(url, init);
        throw new TypeError('fetch failed');
      }
      return undefined;
    });
    const o1 = await new TaskingClient(tokens, s.url, { fetch: lost.fetch, orderRetryDelayMs: 10 }).order(TIR, payload());
    assert.equal(lost.calls.length, 2);
    assert.ok(lost.calls[0]!.key && lost.calls[0]!.key === lost.calls[1]!.key, 'the retry carries the same key');
    assert.deepEqual(lost.calls[0]!.body, lost.calls[1]!.body);
    // A 503 before the server did anything.
    const busy = recorder(async (_url, _init, n) =>
      n === 1 ? new Response('{}', { status: 503, headers: { 'retry-after': '0' } }) : undefined,
    );
    const o2 = await new TaskingClient(tokens, s.url, { fetch: busy.fetch, orderRetryDelayMs: 10 }).order(TIR, payload());
    assert.equal(busy.calls.length, 2);
    assert.equal(busy.calls[0]!.key, busy.calls[1]!.key);
    assert.notEqual(o1.id, o2.id);
    assert.notEqual(lost.calls[0]!.key, busy.calls[0]!.key, 'each order() call has its own key');
    assert.equal(await orderCount(), before + 2);
    // Only once: a second network failure is the caller's to see.
    const down = recorder(async () => {
      throw new TypeError('fetch failed');
    });
    await assert.rejects(new TaskingClient(tokens, s.url, { fetch: down.fetch, orderRetryDelayMs: 10 }).order(TIR, payload()), TypeError);
    assert.equal(down.calls.length, 2);
  });

  it('an explicit idempotencyKey returns the first order again; reused for another body it is ApiError 422', async () => {
    const key = `sdk-${Date.now()}`;
    const body = payload();
    const a = await client.order(TIR, body, { idempotencyKey: key });
    const b = await client.order(TIR, structuredClone(body), { idempotencyKey: key });
    assert.equal(b.id, a.id);
    await assert.rejects(
      client.order(TIR, { ...body, order_parameters: { max_cloud_cover: 99 } }, { idempotencyKey: key }),
      (e: unknown) => e instanceof ApiError && e.status === 422 && e.code === 'IdempotencyKeyReused',
    );
  });

  it('watch yields each status once until completed; the delivered item is in tasking-<org> and its GeoTIFF downloads', async () => {
    const o = await client.order(TIR, payload());
    const seen: OrderStatus[] = [];
    for await (const st of client.watch(o.id, { intervalMs: 50 })) seen.push(st);
    const codes: string[] = seen.map((x) => x.status_code);
    assert.equal(codes[0], 'received');
    assert.equal(codes.at(-1), 'completed', codes.join(' → '));
    for (const c of ['accepted', 'scheduled', 'processing']) assert.ok(codes.includes(c), `${c} missing: ${codes.join(' → ')}`);
    assert.deepEqual(seen, await client.statuses(o.id), 'exactly the history, each status once');
    const resumed: OrderStatus[] = [];
    for await (const st of client.watch(o.id, { intervalMs: 50, after: seen.length })) resumed.push(st);
    assert.deepEqual(resumed, [], 'a watch resumed after the final status ends at once');

    const done = await client.getOrder(o.id);
    const itemHref = done.links.find((l) => l.rel === 'item')?.href;
    assert.equal(itemHref, `${s.url}/collections/tasking-${orgId}/items/${o.id}`);
    assert.equal(seen.at(-1)!.links.find((l) => l.rel === 'item')?.href, itemHref);
    const catalog = new CatalogClient(tokens, s.url);
    const found = [];
    for await (const it of catalog.search({ collections: [`tasking-${orgId}`] })) found.push(it);
    const item = found.find((it) => it.id === o.id);
    assert.ok(item, `item ${o.id} not found among ${found.map((x) => x.id).join(', ')}`);
    assert.equal(item.properties['skyport:order_id'], o.id);
    assert.equal(item.properties.datetime, done.properties.opportunity_properties['skyport:tca']);
    const to = path.join(tmp, 'capture.tif');
    const dl = await catalog.download(item.assets.data!.href, { to });
    assert.ok(dl.bytes > 1000, `${dl.bytes} bytes`);
    const magic = readFileSync(to).subarray(0, 4).toString('latin1');
    assert.ok(magic === 'II*\0' || magic === 'MM\0*', 'a TIFF file');
  });

  it('orders() walks every page once, newest first; maxItems stops early; getOrder of an unknown id is 404', async () => {
    const placed = [(await client.order(TIR, payload())).id, (await client.order(TIR, payload())).id];
    const rec = recorder();
    const all: string[] = [];
    for await (const o of new TaskingClient(tokens, s.url, { fetch: rec.fetch }).orders({ limit: 2 })) all.push(o.id);
    assert.equal(new Set(all).size, all.length);
    assert.ok(all.length >= 7, `${all.length} orders`);
    assert.equal(rec.calls.length, Math.ceil(all.length / 2), 'one request a page, none after the last');
    assert.deepEqual(all.slice(0, 2), [...placed].reverse());
    const three: string[] = [];
    for await (const o of client.orders({ maxItems: 3 })) three.push(o.id);
    assert.deepEqual(three, all.slice(0, 3));
    await assert.rejects(
      client.getOrder('6f1c2d44-0000-4000-8000-000000000000'),
      (e: unknown) => e instanceof ApiError && e.status === 404,
    );
  });

  it('cancel while received: cancelled with customer_cancelled, watch ends there; once past accepted it is ApiError 409', async () => {
    await s.skyport.scheduler.stop();
    try {
      const o = await client.order(TIR, payload());
      const c = await client.cancel(o.id);
      assert.equal(c.properties.status.status_code, 'cancelled');
      assert.equal(c.properties.status.reason_code, 'customer_cancelled');
      const codes: string[] = [];
      for await (const st of client.watch(o.id, { intervalMs: 50 })) codes.push(st.status_code);
      assert.deepEqual(codes, ['received', 'cancelled']);
      await assert.rejects(client.cancel(o.id), (e: unknown) => e instanceof ApiError && e.status === 409);

      // A watch of an order that does not move ends when its signal aborts.
      const idle = await client.order(TIR, payload());
      const ac = new AbortController();
      const got: string[] = [];
      const reason = new Error('enough');
      await assert.rejects(
        async () => {
          for await (const st of client.watch(idle.id, { intervalMs: 5000, signal: ac.signal })) {
            got.push(st.status_code);
            setTimeout(() => ac.abort(reason), 20);
          }
        },
        (e: unknown) => e === reason,
      );
      assert.deepEqual(got, ['received']);
    } finally {
      s.skyport.scheduler.start();
    }
    const later = await client.order(TIR, payload());
    for await (const st of client.watch(later.id, { intervalMs: 50 })) if (st.status_code === 'scheduled') break;
    await assert.rejects(client.cancel(later.id), (e: unknown) => e instanceof ApiError && e.status === 409 && e.code === 'Conflict');
  });

  it('a read-only credential reads orders but ordering and cancelling are InsufficientScopeError (tasking:order); nothing is created', async () => {
    const ro = new TaskingClient(readOnly, s.url);
    const before = await orderCount();
    await assert.rejects(
      ro.order(TIR, payload()),
      (e: unknown) => e instanceof InsufficientScopeError && e.requiredScope === 'tasking:order',
    );
    const mine = (await client.orders({ maxItems: 1 }).next()).value!;
    await assert.rejects(ro.cancel(mine.id), InsufficientScopeError);
    assert.equal((await ro.getOrder(mine.id)).id, mine.id);
    assert.equal(await orderCount(), before);
  });
});
