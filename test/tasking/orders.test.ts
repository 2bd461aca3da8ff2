/**
 * STAPI orders over HTTP on a real server, on each store: placing (the STAPI Order shape, price by
 * priority, defaults of the order parameters), Idempotency-Key replays and reuse (field pitfalls T02,
 * T03), validation 400s that name the field and change nothing, listing with paging, the status
 * history, cancellation rules, the read-only root's 403 and another organization's 404.
 * The scheduler is stopped: orders move only when a test ticks it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, request, tokenFor, type Res } from '../helpers/http.js';
import { createOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { ensureDemoConstellation } from '../../src/tasking/tle-store.js';

const TIR = 'skyport-tir-tasking';
const MS = 'skyport-ms-tasking';
const HOUR = 3_600_000;

/** A window from `startH` to `endH` hours from now, as a STAPI `datetime` interval. */
function windowFromNow(startH: number, endH: number): string {
  const t = Date.now();
  return `${new Date(t + startH * HOUR).toISOString()}/${new Date(t + endH * HOUR).toISOString()}`;
}

let site = 0;
/**
 * An order body; each call aims at another place (2000+ km from the previous ones), so the orders of
 * these tests never compete for a pass (conflicts are scheduler.test.ts's subject).
 */
function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const k = site++;
  return {
    datetime: windowFromNow(0.1, 48),
    geometry: { type: 'Point', coordinates: [-175 + ((k * 23) % 350), -40 + ((k * 17) % 80)] },
    filter: null,
    order_parameters: { max_cloud_cover: 30 },
    ...overrides,
  };
}

for (const store of await stores()) {
  describe(`tasking orders (${store})`, () => {
    let s: TestServer;
    let tasking: string;
    let readOnly: string;
    let otherTasking: string;
    let demoOrg: string;

    const post = (path: string, body: unknown, token = tasking, headers: Record<string, string> = {}): Promise<Res> =>
      request(`${s.url}${path}`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const get = (path: string, token = tasking): Promise<Res> =>
      request(path.startsWith('http') ? path : `${s.url}${path}`, { headers: bearer(token) });
    const place = (body: unknown = orderBody(), headers: Record<string, string> = {}, product = TIR, token = tasking) =>
      post(`/tasking/products/${product}/orders`, body, token, headers);
    const count = async (token = tasking) => (await get('/tasking/orders?limit=100', token)).json.features.length as number;

    before(async () => {
      s = await startServer({ store });
      await s.skyport.scheduler.stop();
      await ensureDemoConstellation(s.skyport.storage, Date.now());
      tasking = await tokenFor(s.url, s.creds.tasking);
      readOnly = await tokenFor(s.url, s.creds['read-only']);
      otherTasking = await tokenFor(s.url, (await createOrg(s)).creds.tasking);
      demoOrg = (await s.skyport.storage.getClient(s.creds.tasking.client_id))!.orgId;
    });
    after(() => s.close());

    it('places an order: 201, Location, a STAPI Order with defaults filled in and the price of its priority', async () => {
      const body = orderBody({ order_parameters: { priority: 'priority' } });
      const r = await place(body);
      assert.equal(r.status, 201, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/geo\+json/);
      const o = r.json;
      assert.equal(r.headers.get('location'), `${s.url}/tasking/orders/${o.id}`);
      assert.equal(o.type, 'Feature');
      assert.equal(o.stapi_type, 'Order');
      assert.equal(o.stapi_version, '0.1.0');
      assert.deepEqual(o.geometry, body.geometry);
      const [lon, lat] = (body.geometry as { coordinates: number[] }).coordinates;
      assert.deepEqual(o.bbox, [lon, lat, lon, lat]);
      const p = o.properties;
      assert.equal(p.product_id, TIR);
      assert.ok(Math.abs(Date.parse(p.created) - Date.now()) < 60_000);
      assert.deepEqual(Object.keys(p.status).sort(), ['links', 'reason_code', 'reason_text', 'status_code', 'timestamp']);
      assert.equal(p.status.status_code, 'received');
      assert.deepEqual(p.search_parameters, { datetime: p.search_parameters.datetime, geometry: body.geometry, filter: null });
      const [a, b] = (body.datetime as string).split('/');
      assert.equal(p.search_parameters.datetime, `${new Date(a!).toISOString()}/${new Date(b!).toISOString()}`);
      assert.deepEqual(p.order_parameters, { priority: 'priority', max_off_nadir: 35, max_cloud_cover: 20 });
      assert.deepEqual(p.opportunity_properties, {});
      assert.equal(p.priority, 'priority');
      assert.deepEqual(p.price, { amount: 350, currency: 'USD' });
      const rels = o.links.map((l: { rel: string }) => l.rel);
      for (const rel of ['self', 'monitor', 'cancel']) assert.ok(rels.includes(rel), `missing ${rel} link`);
      const monitor = o.links.find((l: { rel: string }) => l.rel === 'monitor');
      assert.equal(monitor.href, `${s.url}/tasking/orders/${o.id}/statuses`);
      const again = await get(`/tasking/orders/${o.id}`);
      assert.equal(again.status, 200);
      assert.deepEqual(again.json, o);
    });

    it('prices by priority: standard and urgent of the optical product', async () => {
      const std = await place(orderBody({ order_parameters: {} }), {}, MS);
      assert.equal(std.status, 201, std.text);
      assert.deepEqual(std.json.properties.price, { amount: 500, currency: 'USD' });
      assert.equal(std.json.properties.order_parameters.min_sun_elevation, 10);
      const urgent = await place(orderBody({ order_parameters: { priority: 'urgent' } }), {}, MS);
      assert.deepEqual(urgent.json.properties.price, { amount: 1500, currency: 'USD' });
    });

    it('accepts application/geo+json bodies and a missing order_parameters (as {})', async () => {
      const { order_parameters: _omit, ...body } = orderBody();
      void _omit;
      const r = await place(JSON.stringify(body), { 'content-type': 'application/geo+json' });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.properties.order_parameters.priority, 'standard');
    });

    it('Idempotency-Key: the same request again returns the first order once; key order and spacing do not matter', async () => {
      const key = `key-${Date.now()}`;
      const body = orderBody();
      const before = await count();
      const first = await place(body, { 'idempotency-key': key });
      assert.equal(first.status, 201, first.text);
      // The same document with its members in another order is the same request.
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      const second = await place(JSON.stringify(reordered, null, 2), { 'idempotency-key': key });
      assert.equal(second.status, 201, second.text);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(second.json.id, first.json.id);
      assert.deepEqual(second.json, first.json);
      assert.equal(second.headers.get('location'), first.headers.get('location'));
      // Concurrent retries with a fresh key: one order.
      const key2 = `race-${Date.now()}`;
      const body2 = orderBody({ order_parameters: { max_cloud_cover: 55 } });
      const racing = await Promise.all([1, 2, 3, 4].map(() => place(body2, { 'idempotency-key': key2 })));
      assert.deepEqual(
        racing.map((r) => r.status),
        [201, 201, 201, 201],
      );
      assert.equal(new Set(racing.map((r) => r.json.id)).size, 1);
      assert.equal(await count(), before + 2);
    });

    it('Idempotency-Key reused with another body or on another path is 422 and creates nothing (T03)', async () => {
      const key = `reuse-${Date.now()}`;
      const body = orderBody();
      assert.equal((await place(body, { 'idempotency-key': key })).status, 201);
      const before = await count();
      const otherBody = await place({ ...body, order_parameters: { max_cloud_cover: 31 } }, { 'idempotency-key': key });
      assert.equal(otherBody.status, 422, otherBody.text);
      assert.equal(otherBody.json.code, 'IdempotencyKeyReused');
      assert.match(otherBody.json.description, /Idempotency-Key/);
      const otherPath = await place(body, { 'idempotency-key': key }, MS);
      assert.equal(otherPath.status, 422, otherPath.text);
      assert.equal(await count(), before);
    });

    it('Idempotency-Key is scoped to the client: another client using the same key gets its own order (T02)', async () => {
      const key = `shared-${Date.now()}`;
      const body = orderBody();
      const mine = await place(body, { 'idempotency-key': key });
      const theirs = await place(body, { 'idempotency-key': key }, TIR, otherTasking);
      assert.equal(mine.status, 201);
      assert.equal(theirs.status, 201, theirs.text);
      assert.notEqual(theirs.json.id, mine.json.id);
      assert.equal(theirs.headers.get('idempotent-replayed'), null);
      const bad = await place(body, { 'idempotency-key': 'has space' });
      assert.equal(bad.status, 400);
      assert.match(bad.json.description, /Idempotency-Key/);
    });

    it('refuses bad input with 400 naming the field, and stores nothing', async () => {
      const before = await count();
      const bowtie = {
        type: 'Polygon',
        coordinates: [
          [
            [36.8, -1.3],
            [36.9, -1.2],
            [36.9, -1.3],
            [36.8, -1.2],
            [36.8, -1.3],
          ],
        ],
      };
      const huge = {
        type: 'Polygon',
        coordinates: [
          [
            [36, -2],
            [37, -2],
            [37, -1],
            [36, -1],
            [36, -2],
          ],
        ],
      };
      const t = Date.now();
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ datetime: undefined }, /^datetime/],
        [{ datetime: windowFromNow(48, 1) }, /^datetime: .*reversed/],
        [{ datetime: windowFromNow(-48, 1) }, /^datetime: .*past/],
        [{ datetime: windowFromNow(1, 24 * 40) }, /^datetime: .*longer/],
        [{ datetime: `${new Date(t + HOUR).toISOString()}/tomorrow` }, /^datetime: .*RFC 3339/],
        [{ datetime: '2030-01-01/2030-01-02' }, /^datetime: .*RFC 3339/],
        [{ geometry: bowtie }, /^geometry: invalid Polygon/],
        [{ geometry: huge }, /^geometry: .*km²/],
        [
          {
            geometry: {
              type: 'LineString',
              coordinates: [
                [0, 0],
                [1, 1],
              ],
            },
          },
          /^geometry: LineString/,
        ],
        [{ order_parameters: { max_cloud_cover: 150 } }, /order_parameters\.max_cloud_cover must be <= 100/],
        [{ order_parameters: { max_off_nadir: 50 } }, /order_parameters\.max_off_nadir must be <= 35/],
        [{ order_parameters: { max_off_nadir: 0 } }, /order_parameters\.max_off_nadir must be greater than 0/],
        [{ order_parameters: { priority: 'asap' } }, /order_parameters\.priority must be equal to one of the allowed values/],
        [
          { order_parameters: { min_sun_elevation: 20 } },
          /order_parameters\.min_sun_elevation is not an order parameter of skyport-tir-tasking/,
        ],
        [{ order_parameters: [] }, /order_parameters must be an object/],
        [{ filter: { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] } }, /^filter: unknown property 'eo:cloud_cover'/],
        [{ filter: 'view:off_nadir < 10' }, /^filter: must be a CQL2-JSON object/],
        [{ extra: 1 }, /unknown field\(s\) extra/],
      ];
      for (const [patch, reason] of cases) {
        const r = await place(orderBody(patch));
        assert.equal(r.status, 400, `${JSON.stringify(patch)}: ${r.text}`);
        assert.equal(r.json.code, 'BadRequest');
        assert.match(r.json.description, reason, JSON.stringify(patch));
      }
      assert.equal((await place('[1, 2]')).status, 400);
      const unknown = await place(orderBody(), {}, 'no-such-product');
      assert.equal(unknown.status, 404, unknown.text);
      assert.equal(unknown.json.code, 'NotFound');
      assert.equal(await count(), before);
    });

    it('lists orders newest first with limit and next links that reach every order once', async () => {
      const mine = [];
      for (let i = 0; i < 3; i++) mine.push((await place()).json.id as string);
      const all: string[] = [];
      let url: string | undefined = `${s.url}/tasking/orders?limit=2`;
      let pages = 0;
      while (url) {
        const r = await get(url);
        assert.equal(r.status, 200, r.text);
        assert.match(r.headers.get('content-type') ?? '', /^application\/geo\+json/);
        assert.equal(r.json.type, 'FeatureCollection');
        assert.ok(r.json.features.length <= 2);
        for (const f of r.json.features) assert.equal(f.stapi_type, 'Order');
        all.push(...r.json.features.map((f: { id: string }) => f.id));
        url = r.json.links.find((l: { rel: string }) => l.rel === 'next')?.href;
        pages++;
      }
      assert.equal(new Set(all).size, all.length, 'an order appeared twice');
      assert.equal(all.length, await count());
      assert.ok(pages >= 2);
      // Newest first: the three just placed lead, latest first.
      assert.deepEqual(all.slice(0, 3), [...mine].reverse());
      const created = await Promise.all(
        all.slice(0, 5).map(async (id) => Date.parse((await get(`/tasking/orders/${id}`)).json.properties.created)),
      );
      for (let i = 1; i < created.length; i++) assert.ok(created[i - 1]! >= created[i]!);
      assert.equal((await get('/tasking/orders?limit=0')).status, 400);
      assert.equal((await get('/tasking/orders?limit=101')).status, 400);
      assert.equal((await get('/tasking/orders?limit=abc')).status, 400);
      assert.equal((await get('/tasking/orders?page=2')).status, 400);
      const badToken = await get('/tasking/orders?next=00000000-0000-0000-0000-000000000000');
      assert.equal(badToken.status, 404, badToken.text);
    });

    it('keeps the status history: the last entry is the current status, timestamps never go back', async () => {
      const o = (await place()).json;
      await s.skyport.scheduler.tick(Date.now());
      const r = await get(`/tasking/orders/${o.id}/statuses`);
      assert.equal(r.status, 200, r.text);
      const codes = r.json.statuses.map((x: { status_code: string }) => x.status_code);
      assert.deepEqual(codes, ['received', 'accepted', 'scheduled']);
      const times = r.json.statuses.map((x: { timestamp: string }) => Date.parse(x.timestamp));
      for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1]);
      assert.deepEqual(
        r.json.links.map((l: { rel: string }) => l.rel),
        ['self', 'order'],
      );
      const now = (await get(`/tasking/orders/${o.id}`)).json;
      assert.deepEqual(now.properties.status, r.json.statuses.at(-1));
      // The booked pass is the chosen opportunity.
      const opp = now.properties.opportunity_properties;
      assert.equal(opp.product_id, TIR);
      assert.match(opp.platform, /^SKYPORT-TIR-\d$/);
      assert.ok(opp['view:off_nadir'] <= 35);
      const [start, end] = (opp.datetime as string).split('/').map(Date.parse);
      assert.ok(start! <= Date.parse(opp['skyport:tca']) && Date.parse(opp['skyport:tca']) <= end!);
      assert.ok(!now.links.some((l: { rel: string }) => l.rel === 'cancel'), 'a scheduled order offers no cancel link');
    });

    it('cancels while received or accepted (customer_cancelled); 409 once scheduled or final', async () => {
      const received = (await place()).json;
      const c = await post(`/tasking/orders/${received.id}/cancel`, {});
      assert.equal(c.status, 200, c.text);
      assert.equal(c.json.properties.status.status_code, 'cancelled');
      assert.equal(c.json.properties.status.reason_code, 'customer_cancelled');
      const again = await post(`/tasking/orders/${received.id}/cancel`, {});
      assert.equal(again.status, 409, again.text);
      assert.equal(again.json.code, 'Conflict');
      // A cancelled order is final: the scheduler leaves it alone.
      await s.skyport.scheduler.tick(Date.now());
      const hist = (await get(`/tasking/orders/${received.id}/statuses`)).json.statuses.map((x: { status_code: string }) => x.status_code);
      assert.deepEqual(hist, ['received', 'cancelled']);

      // An accepted order (held there by the store, as a scheduler between steps would leave it).
      const accepted = (await place()).json;
      const rec = (await s.skyport.storage.getOrderFor(demoOrg, accepted.id))!;
      const moved = await s.skyport.storage.transitionOrder(
        rec.id,
        rec.version,
        { status: 'accepted', nextActionAt: null },
        {},
        Date.now(),
      );
      assert.ok(moved);
      const ca = await post(`/tasking/orders/${accepted.id}/cancel`, {});
      assert.equal(ca.status, 200, ca.text);
      assert.equal(ca.json.properties.status.status_code, 'cancelled');

      const scheduled = (await place()).json;
      await s.skyport.scheduler.tick(Date.now());
      assert.equal((await get(`/tasking/orders/${scheduled.id}`)).json.properties.status.status_code, 'scheduled');
      const late = await post(`/tasking/orders/${scheduled.id}/cancel`, {});
      assert.equal(late.status, 409, late.text);
      assert.match(late.json.description, /scheduled/);
      assert.equal((await post('/tasking/orders/nope/cancel', {})).status, 404);
    });

    it('read-only credentials read orders but cannot place or cancel them (403 insufficient_scope)', async () => {
      const o = (await place()).json;
      assert.equal((await get(`/tasking/orders/${o.id}`, readOnly)).status, 200);
      assert.equal((await get('/tasking/orders', readOnly)).status, 200);
      const before = await count();
      const r = await place(orderBody(), {}, TIR, readOnly);
      assert.equal(r.status, 403, r.text);
      assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="tasking:order"/);
      const c = await post(`/tasking/orders/${o.id}/cancel`, {}, readOnly);
      assert.equal(c.status, 403);
      assert.equal((await get(`/tasking/orders/${o.id}`)).json.properties.status.status_code, 'received');
      assert.equal(await count(), before);
      assert.equal((await request(`${s.url}/tasking/orders`)).status, 401);
    });

    it("another organization's order answers 404 exactly like a missing one", async () => {
      const o = (await place()).json;
      const missing = '6f1c2d44-0000-4000-8000-000000000000';
      for (const suffix of ['', '/statuses']) {
        const theirs = await get(`/tasking/orders/${o.id}${suffix}`, otherTasking);
        const none = await get(`/tasking/orders/${missing}${suffix}`, otherTasking);
        assert.equal(theirs.status, 404);
        assert.equal(none.status, 404);
        assert.deepEqual(theirs.json, { ...none.json, description: none.json.description.replace(missing, o.id) });
      }
      const cancel = await post(`/tasking/orders/${o.id}/cancel`, {}, otherTasking);
      assert.equal(cancel.status, 404);
      const list = await get('/tasking/orders?limit=100', otherTasking);
      assert.ok(!list.json.features.some((f: { id: string }) => f.id === o.id));
      assert.equal((await get(`/tasking/orders/${o.id}`)).json.properties.status.status_code, 'received');
      const paged = await get(`/tasking/orders?next=${o.id}`, otherTasking);
      assert.equal(paged.status, 404, 'a paging token of another organization is unknown');
    });
  });
}
