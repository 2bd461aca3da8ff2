/**
 * Webhooks of order status changes on real servers, on each store: registration through the Management
 * API (the secret once, problem+json errors, organization isolation), Standard Webhooks signatures checked
 * by a local receiver with the `standardwebhooks` package's own `verify`, retries after a 500 with the
 * same message id and a fresh timestamp (field pitfall T09), the retry schedule running out, redirects not
 * followed, deletion, and the delivery log. The dispatcher and scheduler are stopped and ticked by hand.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { bearer, request, tokenFor, type Res } from '../helpers/http.js';
import { token } from '../helpers/management.js';
import { createOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { ensureDemoConstellation } from '../../src/tasking/tle-store.js';
import { RETRY_DELAYS_MS } from '../../src/tasking/webhooks.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver: records every request; `replies[path]` decides each answer (default 204). */
async function receiver(): Promise<{
  url: string;
  got: Received[];
  replies: Record<string, () => [number, Record<string, string>?]>;
  close: () => Promise<void>;
}> {
  const got: Received[] = [];
  const replies: Record<string, () => [number, Record<string, string>?]> = {};
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      got.push({ path, headers: req.headers, body });
      const [status, headers] = replies[path]?.() ?? [204];
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, got, replies, close: () => new Promise((r) => server.close(() => r())) };
}

const HOUR = 3_600_000;
let site = 0;

for (const store of await stores()) {
  describe(`tasking webhooks (${store})`, () => {
    let s: TestServer;
    let rx: Awaited<ReturnType<typeof receiver>>;
    let admin: string;
    let tasking: string;
    let otherAdmin: string;

    const mgmt = (method: string, path: string, body?: unknown, t = admin): Promise<Res> =>
      request(`${s.url}${path}`, {
        method,
        headers: { ...bearer(t), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const register = async (path: string, t = admin) => {
      const r = await mgmt('POST', '/admin/webhooks', { url: `${rx.url}${path}` }, t);
      assert.equal(r.status, 201, r.text);
      return r.json as { id: string; secret: string };
    };
    /** Places an order and cancels it: one `cancelled` event for the organization's webhooks. */
    const cancelledOrder = async (): Promise<string> => {
      const k = site++;
      const t = Date.now();
      const placed = await request(`${s.url}/tasking/products/skyport-tir-tasking/orders`, {
        method: 'POST',
        headers: { ...bearer(tasking), 'content-type': 'application/json' },
        body: JSON.stringify({
          datetime: `${new Date(t + HOUR).toISOString()}/${new Date(t + 30 * HOUR).toISOString()}`,
          geometry: { type: 'Point', coordinates: [-170 + ((31 * k) % 340), -30 + ((7 * k) % 60)] },
          order_parameters: {},
        }),
      });
      assert.equal(placed.status, 201, placed.text);
      const c = await request(`${s.url}/tasking/orders/${placed.json.id}/cancel`, { method: 'POST', headers: bearer(tasking) });
      assert.equal(c.status, 200, c.text);
      return placed.json.id as string;
    };
    const hits = (path: string) => rx.got.filter((g) => g.path === path);
    const log = async () => (await mgmt('GET', '/admin/webhooks/deliveries?limit=200')).json.deliveries as Record<string, any>[];

    before(async () => {
      rx = await receiver();
      s = await startServer({ store, env: { SKYPORT_WEBHOOK_ALLOW_PRIVATE: 'true' } }); // receivers listen on loopback
      await s.skyport.scheduler.stop();
      await s.skyport.webhooks.stop();
      await ensureDemoConstellation(s.skyport.storage, Date.now());
      admin = await token(s.url, s.creds.admin);
      tasking = await tokenFor(s.url, s.creds.tasking);
      otherAdmin = await token(s.url, (await createOrg(s)).creds.admin);
    });
    after(async () => {
      await s.close();
      await rx.close();
    });

    it('registers a webhook: the secret once, never listed; bad input is a 400 problem; other organizations see nothing', async () => {
      const r = await mgmt('POST', '/admin/webhooks', { url: `${rx.url}/register` });
      assert.equal(r.status, 201, r.text);
      assert.match(r.json.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
      assert.equal(Buffer.from(r.json.secret.slice(6), 'base64').length, 24);
      assert.deepEqual(r.json.events, ['order.status']);
      assert.equal(r.json.enabled, true);
      assert.equal(r.headers.get('location'), `/admin/webhooks/${r.json.id}`);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const list = await mgmt('GET', '/admin/webhooks');
      assert.equal(list.status, 200);
      assert.ok(list.json.webhooks.some((w: { id: string }) => w.id === r.json.id));
      assert.ok(!list.text.includes(r.json.secret) && !list.text.includes('secret'), 'the list shows no secret');
      const one = await mgmt('GET', `/admin/webhooks/${r.json.id}`);
      assert.equal(one.status, 200);
      assert.equal(one.json.url, `${rx.url}/register`);

      for (const [body, reason] of [
        [{ url: 'ftp://example.com/hook' }, /http or https/],
        [{ url: 'not a url' }, /absolute/],
        [{ url: 'https://user:pw@example.com/hook' }, /credentials/],
        [{ url: 'https://example.com/hook', events: ['order.deleted'] }, /unknown event/],
        [{ url: 'https://example.com/hook', colour: 'red' }, /.+/],
      ] as const) {
        const bad = await mgmt('POST', '/admin/webhooks', body);
        assert.equal(bad.status, 400, bad.text);
        assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.match(bad.json.detail, reason);
      }
      assert.equal((await mgmt('GET', '/admin/webhooks', undefined, tasking)).status, 401, 'a Data API token is for another audience');

      assert.ok(!(await mgmt('GET', '/admin/webhooks', undefined, otherAdmin)).text.includes(r.json.id));
      assert.equal((await mgmt('GET', `/admin/webhooks/${r.json.id}`, undefined, otherAdmin)).status, 404);
      assert.equal((await mgmt('DELETE', `/admin/webhooks/${r.json.id}`, undefined, otherAdmin)).status, 404);
      assert.equal((await mgmt('DELETE', `/admin/webhooks/${r.json.id}`)).status, 204);
      assert.equal((await mgmt('DELETE', `/admin/webhooks/${r.json.id}`)).status, 404);
    });

    it('signs each delivery (Standard Webhooks) and retries a 500 with the same message id and a new timestamp', async () => {
      const hook = await register('/signed');
      await register('/other-org', otherAdmin);
      let calls = 0;
      rx.replies['/signed'] = () => [++calls === 1 ? 500 : 204];
      const orderId = await cancelledOrder();
      const t0 = Date.now();
      const first = await s.skyport.webhooks.tick(t0);
      assert.equal(first.retried, 1);
      assert.equal(hits('/signed').length, 1);
      const [a] = hits('/signed');
      const wh = new Webhook(hook.secret);
      const payload = wh.verify(a!.body, a!.headers as Record<string, string>) as Record<string, any>;
      assert.equal(payload.type, 'order.status');
      assert.equal(payload.data.order_id, orderId);
      assert.equal(payload.data.status.status_code, 'cancelled');
      assert.equal(payload.data.status.reason_code, 'customer_cancelled');
      assert.match(String(a!.headers['webhook-id']), /^msg_/);
      assert.equal(a!.headers['content-type'], 'application/json');
      // The key is the base64-decoded secret, not its text (T09).
      const signed = `${a!.headers['webhook-id']}.${a!.headers['webhook-timestamp']}.${a!.body}`;
      const key = Buffer.from(hook.secret.slice('whsec_'.length), 'base64');
      assert.equal(a!.headers['webhook-signature'], `v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
      assert.notEqual(a!.headers['webhook-signature'], `v1,${createHmac('sha256', hook.secret).update(signed).digest('base64')}`);

      assert.equal((await s.skyport.webhooks.tick(t0 + RETRY_DELAYS_MS[0]! - 1)).retried + hits('/signed').length, 1, 'not retried early');
      const second = await s.skyport.webhooks.tick(t0 + RETRY_DELAYS_MS[0]!);
      assert.equal(second.delivered, 1);
      const [, b] = hits('/signed');
      assert.equal(b!.headers['webhook-id'], a!.headers['webhook-id'], 'same message id');
      assert.equal(
        Number(b!.headers['webhook-timestamp']) - Number(a!.headers['webhook-timestamp']),
        RETRY_DELAYS_MS[0]! / 1000,
        'fresh timestamp',
      );
      assert.notEqual(b!.headers['webhook-signature'], a!.headers['webhook-signature']);
      assert.deepEqual(wh.verify(b!.body, b!.headers as Record<string, string>), payload);
      assert.equal(b!.body, a!.body);
      assert.equal(hits('/other-org').length, 0, "another organization's webhook hears nothing of this one's orders");

      const entry = (await log()).find((d) => d.message_id === a!.headers['webhook-id']);
      assert.ok(entry);
      assert.equal(entry.webhook_id, hook.id);
      assert.equal(entry.state, 'delivered');
      assert.equal(entry.attempts, 2);
      assert.equal(entry.last_status, 204);
      assert.equal(entry.payload.data.order_id, orderId);
      assert.equal((await mgmt('GET', '/admin/webhooks/deliveries', undefined, otherAdmin)).json.deliveries.length, 0);
      assert.equal((await s.skyport.webhooks.tick(t0 + HOUR)).delivered, 0, 'a delivered message is not sent again');
      assert.equal((await mgmt('DELETE', `/admin/webhooks/${hook.id}`)).status, 204);
    });

    it('gives up after the retry schedule and never follows a redirect', async () => {
      const hook = await register('/moved');
      rx.replies['/moved'] = () => [302, { location: `${rx.url}/elsewhere` }];
      await cancelledOrder();
      let t = Date.now();
      for (const delay of [0, ...RETRY_DELAYS_MS]) {
        t += delay;
        await s.skyport.webhooks.tick(t);
      }
      assert.equal(hits('/moved').length, RETRY_DELAYS_MS.length + 1);
      assert.equal(hits('/elsewhere').length, 0);
      const entry = (await log()).find((d) => d.webhook_id === hook.id)!;
      assert.equal(entry.state, 'failed');
      assert.equal(entry.attempts, RETRY_DELAYS_MS.length + 1);
      assert.equal(entry.last_status, 302);
      assert.match(entry.last_error, /redirect/);
      assert.equal(entry.next_attempt_at, null);
      await s.skyport.webhooks.tick(t + 10 * HOUR);
      assert.equal(hits('/moved').length, RETRY_DELAYS_MS.length + 1, 'a failed delivery is not sent again');
      assert.equal((await mgmt('DELETE', `/admin/webhooks/${hook.id}`)).status, 204);
    });

    it('a deleted webhook gets nothing more; scheduler transitions are announced too', async () => {
      const gone = await register('/gone');
      rx.replies['/gone'] = () => [503];
      await cancelledOrder();
      const t0 = Date.now();
      await s.skyport.webhooks.tick(t0);
      assert.equal(hits('/gone').length, 1);
      assert.equal((await mgmt('DELETE', `/admin/webhooks/${gone.id}`)).status, 204);
      await s.skyport.webhooks.tick(t0 + HOUR);
      assert.equal(hits('/gone').length, 1);
      const entry = (await log()).find((d) => d.webhook_id === gone.id)!;
      assert.equal(entry.state, 'failed');
      assert.equal(entry.last_status, 503);

      const live = await register('/live');
      const before = hits('/live').length;
      const k = site++;
      const t = Date.now();
      const placed = await request(`${s.url}/tasking/products/skyport-tir-tasking/orders`, {
        method: 'POST',
        headers: { ...bearer(tasking), 'content-type': 'application/json' },
        body: JSON.stringify({
          datetime: `${new Date(t + 0.1 * HOUR).toISOString()}/${new Date(t + 30 * HOUR).toISOString()}`,
          geometry: { type: 'Point', coordinates: [-170 + ((31 * k) % 340), -30 + ((7 * k) % 60)] },
        }),
      });
      assert.equal(placed.status, 201, placed.text);
      await s.skyport.scheduler.tick(Date.now());
      await s.skyport.webhooks.tick(Date.now());
      const mine = hits('/live')
        .slice(before)
        .map((g) => new Webhook(live.secret).verify(g.body, g.headers as Record<string, string>) as Record<string, any>)
        .filter((p) => p.data.order_id === placed.json.id)
        .map((p) => p.data.status.status_code)
        .sort();
      assert.deepEqual(mine, ['accepted', 'scheduled']);
    });
  });
}
