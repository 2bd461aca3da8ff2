/**
 * Regression tests of a security review of the tasking API (STAPI orders, opportunities, scheduler,
 * webhooks). Each test of a finding reproduces it: it fails before the fix and passes after; the review
 * report describes the fixes. The last suite pins what held (isolation of orders, paging tokens and
 * idempotency keys across organizations; scopes and audiences) so it keeps holding.
 *
 * Findings:
 *  1. a CQL2 `like` pattern in a tasking `filter` compiles to a backtracking RegExp (`%` → `.*`): one
 *     opportunity search by a read-only client, or one stored order (every scheduler tick), blocks the
 *     event loop for seconds to hours;
 *  2. webhooks may target loopback, private and link-local (cloud metadata) addresses: blind SSRF with
 *     an oracle in the delivery log (status, redirect Location, connection error);
 *  3. the webhook dispatcher holds its lease for one tick but a tick may last ~70 s (50 × 10 s / 8) without
 *     renewing it: a second instance then sends the same deliveries again; and one organization's backlog
 *     (oldest first, 50 per tick) starves every other organization's webhooks;
 *  4. hostile but well-formed bodies: a deeply nested order body is a 500 (the idempotency fingerprint
 *     recurses before validation); opportunities accept `order_parameters` named like Object.prototype
 *     members (`constructor`, `toString`) and echo them, and a ~1 MB filter comes back ~100 times (~95 MB);
 *  5. pass searches run on the event loop: a 498-vertex sliver AOI at 80°N costs ~1.5 s of synchronous CPU per
 *     search, so a few opportunity searches from a read-only client, or a scheduler tick over a few such
 *     orders (on SQLite a whole tick is one synchronous block), stall every other request for seconds.
 */
import assert from 'node:assert/strict';
import { MAX_AOI_POSITIONS } from '../../src/tasking/requests.js';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { bearer, request, sleep, tokenFor, type Res } from '../helpers/http.js';
import { token } from '../helpers/management.js';
import { createOrg, type TestOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { HttpProblem } from '../../src/http/errors.js';
import { productById } from '../../src/tasking/products.js';
import { parseTaskingFilter } from '../../src/tasking/requests.js';
import { ensureDemoConstellation } from '../../src/tasking/tle-store.js';
import { WebhookDispatcher, generateWebhookSecret } from '../../src/tasking/webhooks.js';
import { seal } from '../../src/util/envelope.js';

const TIR = 'skyport-tir-tasking';
const HOUR = 3_600_000;

function windowFromNow(startH: number, endH: number): string {
  const t = Date.now();
  return `${new Date(t + startH * HOUR).toISOString()}/${new Date(t + endH * HOUR).toISOString()}`;
}

/** A CQL2-JSON `platform LIKE '%%…%!'`: `n` wildcards and a character no platform name ends with. */
function likeBomb(n: number): Record<string, unknown> {
  return { op: 'like', args: [{ property: 'platform' }, `${'%'.repeat(n)}!`] };
}

/** A thin valid polygon of `n` vertices along the parallel `lat` over `spanDeg` of longitude (a few km²). */
function sliver(lat: number, n: number, spanDeg: number, thicknessDeg = 0.0005): Record<string, unknown> {
  const half = Math.floor(n / 2);
  const ring: number[][] = [];
  for (let i = 0; i < half; i++) ring.push([-spanDeg / 2 + (spanDeg * i) / (half - 1), lat]);
  for (let i = half - 1; i >= 0; i--) ring.push([-spanDeg / 2 + (spanDeg * i) / (half - 1), lat + thicknessDeg]);
  ring.push(ring[0]!);
  return { type: 'Polygon', coordinates: [ring] };
}

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  at: number;
}

/** A loopback receiver; `delayMs` before answering `status` (with `headers`), or never answering when `blackHole`. */
async function receiver(opts: { delayMs?: number; status?: number; headers?: Record<string, string>; blackHole?: boolean } = {}) {
  const got: Hit[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.push({ path: req.url ?? '/', headers: req.headers, at: Date.now() });
      if (opts.blackHole) return;
      setTimeout(() => res.writeHead(opts.status ?? 204, opts.headers).end(), opts.delayMs ?? 0);
    });
  });
  server.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    got,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        server.close(() => r());
      }),
  };
}

/** Common plumbing of a suite: a server with the demo constellation, the scheduler and dispatcher stopped. */
function harness() {
  const h = {} as {
    s: TestServer;
    tasking: string;
    readOnly: string;
    admin: string;
    post: (path: string, body: unknown, tok?: string, headers?: Record<string, string>) => Promise<Res & { ms: number }>;
    get: (path: string, tok?: string) => Promise<Res>;
    /** Places an order for the token's organization and cancels it: one `cancelled` event. */
    cancelledOrder: (tok: string, k: number) => Promise<string>;
    /** A webhook of `orgId` to `url`, stored directly (as registration would, minus its URL checks). */
    hookFor: (orgId: string, url: string) => Promise<string>;
  };
  h.post = async (path, body, tok = h.tasking, headers = {}) => {
    const t = Date.now();
    const r = await request(`${h.s.url}${path}`, {
      method: 'POST',
      headers: { ...bearer(tok), 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { ...r, ms: Date.now() - t };
  };
  h.get = (path, tok = h.tasking) => request(path.startsWith('http') ? path : `${h.s.url}${path}`, { headers: bearer(tok) });
  h.cancelledOrder = async (tok, k) => {
    const placed = await h.post(
      `/tasking/products/${TIR}/orders`,
      {
        datetime: windowFromNow(1, 30),
        geometry: { type: 'Point', coordinates: [-170 + ((31 * k) % 340), -30 + ((7 * k) % 60)] },
      },
      tok,
    );
    assert.equal(placed.status, 201, placed.text);
    const c = await h.post(`/tasking/orders/${placed.json.id}/cancel`, '', tok, { 'content-type': 'text/plain' });
    assert.equal(c.status, 200, c.text);
    return placed.json.id as string;
  };
  h.hookFor = async (orgId, url) => {
    const id = `wh_${randomBytes(12).toString('base64url')}`;
    await h.s.skyport.storage.createWebhook({
      id,
      orgId,
      url,
      secret: seal(generateWebhookSecret(), h.s.config.encryptionKey),
      events: ['order.status'],
      enabled: true,
      createdAt: Date.now(),
    });
    return id;
  };
  before(async () => {
    h.s = await startServer();
    await h.s.skyport.scheduler.stop();
    await h.s.skyport.webhooks.stop();
    await ensureDemoConstellation(h.s.skyport.storage, Date.now());
    h.tasking = await tokenFor(h.s.url, h.s.creds.tasking);
    h.readOnly = await tokenFor(h.s.url, h.s.creds['read-only']);
    h.admin = await token(h.s.url, h.s.creds.admin);
  });
  after(() => h.s.close());
  return h;
}

describe('tasking attack 1: a CQL2 like pattern is a backtracking RegExp (ReDoS)', () => {
  const h = harness();

  it('matching one platform name against %%%…%! takes milliseconds (or the pattern is refused as a 400)', () => {
    let filter;
    try {
      filter = parseTaskingFilter(likeBomb(16), productById(TIR)!);
    } catch (e) {
      assert.ok(e instanceof HttpProblem && e.status === 400, String(e));
      return;
    }
    assert.ok(filter);
    const t = Date.now();
    const matched = filter.matches({ platform: 'SKYPORT-TIR-1', 'view:off_nadir': 10, 'view:sun_elevation': 20 });
    const ms = Date.now() - t;
    assert.equal(matched, false);
    // Before the fix: ~3 s for 16 wildcards, ×~3.5 per 2 more; 24 wildcards run for hours.
    assert.ok(ms < 100, `one like evaluation took ${ms} ms`);
  });

  it('a read-only client cannot block the server with one opportunity search', async () => {
    const r = await h.post(
      `/tasking/products/${TIR}/opportunities`,
      {
        datetime: windowFromNow(0.1, 24 * 29),
        geometry: { type: 'Point', coordinates: [10, 45] },
        filter: likeBomb(13),
        limit: 1,
      },
      h.readOnly,
    );
    assert.ok(r.status === 200 || r.status === 400, r.text);
    // Before the fix: ~3 s (13 wildcards × every pass of 30 days); each more wildcard multiplies it.
    assert.ok(r.ms < 1000, `the search took ${r.ms} ms`);
  });

  it('an order carrying such a filter does not stall the scheduler (it would on every tick, after every restart)', async () => {
    const placed = await h.post(`/tasking/products/${TIR}/orders`, {
      datetime: windowFromNow(0.1, 48),
      geometry: { type: 'Point', coordinates: [10, 45] },
      filter: likeBomb(15),
    });
    if (placed.status === 400) return; // refused up front: fixed
    assert.equal(placed.status, 201, placed.text);
    const t = Date.now();
    await h.s.skyport.scheduler.tick(Date.now());
    const ms = Date.now() - t;
    // Before the fix: seconds per pass in the window, at review and again at booking.
    assert.ok(ms < 1000, `one scheduler tick took ${ms} ms`);
  });
});

describe('tasking attack 2: webhooks reach internal addresses (SSRF)', () => {
  const h = harness();
  let rx: Awaited<ReturnType<typeof receiver>>;
  before(async () => {
    // An "internal service": it answers with a redirect whose Location carries a secret.
    rx = await receiver({ status: 302, headers: { location: 'http://10.1.2.3/internal?token=s3cr3t-internal' } });
  });
  after(() => rx.close());

  const register = (url: string) => h.post('/admin/webhooks', { url }, h.admin);

  it('refuses loopback, private, link-local (cloud metadata) and unspecified IP addresses, in every spelling', async () => {
    const port = rx.port;
    const accepted: string[] = [];
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      `http://127.0.0.1:${port}/hook`,
      `http://2130706433:${port}/hook`, // 127.0.0.1 as one decimal number
      `http://0x7f.1:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      `http://0.0.0.0:${port}/hook`,
      'http://10.0.0.1/hook',
      'http://172.16.0.1/hook',
      'http://192.168.1.1/hook',
      'http://100.64.0.1/hook',
    ]) {
      const r = await register(url);
      if (r.status === 201) {
        accepted.push(url);
        await request(`${h.s.url}/admin/webhooks/${r.json.id}`, { method: 'DELETE', headers: bearer(h.admin) });
      } else {
        assert.equal(r.status, 400, `${url}: ${r.text}`);
      }
    }
    assert.deepEqual(accepted, [], 'webhook URLs to internal addresses were accepted');
  });

  it('a host name resolving to loopback reaches nothing, and the delivery log is no port-scan or redirect oracle', async () => {
    const r = await register(`http://localhost:${rx.port}/via-dns`);
    if (r.status === 400) return; // refused at registration (resolved and checked): fixed
    assert.equal(r.status, 201, r.text);
    await h.cancelledOrder(h.tasking, 1);
    await h.s.skyport.webhooks.tick(Date.now());
    const log = await request(`${h.s.url}/admin/webhooks/deliveries?limit=200`, { headers: bearer(h.admin) });
    assert.equal(log.status, 200, log.text);
    assert.ok(!log.text.includes('s3cr3t-internal'), "the internal service's redirect target leaks into the delivery log");
    assert.equal(rx.got.length, 0, `Skyport POSTed to a loopback service: ${rx.got.map((g) => g.path).join(', ')}`);
  });
});

describe('tasking attack 3: the webhook dispatcher under a slow receiver', () => {
  const h = harness();
  const receivers: Awaited<ReturnType<typeof receiver>>[] = [];
  after(async () => {
    for (const r of receivers) await r.close();
  });

  it('a tick that outlives its lease does not let a second instance send the same messages again', async () => {
    const slow = await receiver({ delayMs: 1_500 });
    receivers.push(slow);
    const org = await createOrg(h.s, 'slow-hooks');
    const t = await tokenFor(h.s.url, org.creds.tasking);
    for (let i = 0; i < 2; i++) await h.hookFor(org.id, `${slow.url}/hook-${i}`);
    for (let k = 0; k < 8; k++) await h.cancelledOrder(t, 100 + k); // 16 deliveries: two rounds of 8 workers
    const options = {
      storage: h.s.skyport.storage,
      encryptionKey: h.s.config.encryptionKey,
      tickMs: 60_000,
      leaseMs: 1_000,
      timeoutMs: 5_000,
      allowPrivate: true, // the receivers listen on loopback
    };
    const a = new WebhookDispatcher({ ...options, instanceId: 'dispatcher-a' });
    const b = new WebhookDispatcher({ ...options, instanceId: 'dispatcher-b' });
    try {
      const first = a.tick();
      await sleep(1_200); // a's lease (1 s) ran out mid-tick; b is the other Skyport instance's dispatcher
      const second = b.tick();
      await Promise.all([first, second]);
    } finally {
      await a.stop();
      await b.stop();
    }
    const ids = slow.got.map((g) => String(g.headers['webhook-id']));
    assert.ok(ids.length > 0, 'nothing was delivered');
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.deepEqual(dupes, [], `${dupes.length} of ${ids.length} sends repeated a message already in flight`);
  });

  it("one organization's backlog to a black hole does not starve another organization's webhook", async () => {
    const hole = await receiver({ blackHole: true });
    const good = await receiver();
    receivers.push(hole, good);
    const noisy = await createOrg(h.s, 'noisy');
    const quiet = await createOrg(h.s, 'quiet');
    const noisyTasking = await tokenFor(h.s.url, noisy.creds.tasking);
    const quietTasking = await tokenFor(h.s.url, quiet.creds.tasking);
    for (let i = 0; i < 10; i++) await h.hookFor(noisy.id, `${hole.url}/hole-${i}`);
    for (let k = 0; k < 6; k++) await h.cancelledOrder(noisyTasking, 200 + k); // 60 deliveries, older
    await h.hookFor(quiet.id, `${good.url}/quiet`);
    await h.cancelledOrder(quietTasking, 300);
    const d = new WebhookDispatcher({
      storage: h.s.skyport.storage,
      encryptionKey: h.s.config.encryptionKey,
      tickMs: 60_000,
      leaseMs: 60_000,
      timeoutMs: 300,
      instanceId: 'dispatcher-fair',
      allowPrivate: true, // the receivers listen on loopback
    });
    try {
      await d.tick();
      assert.equal(good.got.length, 1, "the quiet organization's delivery waited behind the noisy one's backlog");
    } finally {
      await h.s.skyport.storage.releaseLease('webhooks', 'dispatcher-fair');
    }
  });
});

describe('tasking attack 4: hostile but well-formed bodies', () => {
  const h = harness();

  /** `[[[…1…]]]`, `depth` arrays deep (well inside the 1 MiB body limit). */
  const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

  it('a deeply nested order body is a 400, not a 500 (the idempotency fingerprint must not recurse unbounded)', async () => {
    for (const body of [
      `{"datetime":"${windowFromNow(1, 30)}","geometry":{"type":"Point","coordinates":[1,1]},"order_parameters":{"x":${nested(20_000)}}}`,
      `{"datetime":"${windowFromNow(1, 30)}","geometry":{"type":"Point","coordinates":[1,1]},"extra":${nested(20_000)}}`,
    ]) {
      for (const headers of [{}, { 'idempotency-key': `deep-${randomBytes(4).toString('hex')}` }] as Record<string, string>[]) {
        const r = await h.post(`/tasking/products/${TIR}/orders`, body, h.tasking, headers);
        assert.equal(r.status, 400, r.text);
      }
    }
    assert.equal((await h.get('/tasking/orders')).json.features.length, 0, 'nothing was stored');
  });

  it('opportunities refuse order parameters named like Object.prototype members, as orders do', async () => {
    const body = (order_parameters: unknown) => ({
      datetime: windowFromNow(0.1, 48),
      geometry: { type: 'Point', coordinates: [10, 45] },
      order_parameters,
    });
    for (const params of [{ constructor: 1 }, { toString: 'x' }, { hasOwnProperty: {} }, { valueOf: [] }]) {
      const order = await h.post(`/tasking/products/${TIR}/orders`, body(params));
      assert.equal(order.status, 400, `orders: ${order.text}`);
      const opp = await h.post(`/tasking/products/${TIR}/opportunities`, body(params), h.readOnly);
      assert.equal(opp.status, 400, `opportunities accepted ${JSON.stringify(params)}: ${opp.text.slice(0, 200)}`);
    }
    // …and with a deep value there, serialising the echo was a 500.
    const deep = `{"datetime":"${windowFromNow(0.1, 48)}","geometry":{"type":"Point","coordinates":[10,45]},"order_parameters":{"constructor":${nested(20_000)}}}`;
    const r = await h.post(`/tasking/products/${TIR}/opportunities`, deep, h.readOnly);
    assert.equal(r.status, 400, r.text.slice(0, 200));
  });

  it('a read-only client cannot turn a ~1 MB filter into a ~100 MB answer', async () => {
    const platforms = Array.from({ length: 45_000 }, (_, i) => `SKYPORT-TIR-X${i}`);
    const body = JSON.stringify({
      datetime: windowFromNow(0.1, 24 * 29),
      geometry: { type: 'Point', coordinates: [0, 85] },
      limit: 100,
      filter: {
        op: 'or',
        args: [
          { op: 'in', args: [{ property: 'platform' }, platforms] },
          { op: '>=', args: [{ property: 'view:off_nadir' }, 0] },
        ],
      },
    });
    assert.ok(body.length < 1_000_000);
    const r = await fetch(`${h.s.url}/tasking/products/${TIR}/opportunities`, {
      method: 'POST',
      headers: { ...bearer(h.readOnly), 'content-type': 'application/json' },
      body,
    });
    const size = (await r.arrayBuffer()).byteLength;
    assert.ok(r.status === 400 || size < 5 * body.length, `${r.status}: ${size} bytes answered a ${body.length}-byte request`);
  });
});

describe('tasking attack 5: pass searches hog the event loop', () => {
  const h = harness();

  it('four heavy searches by a read-only client do not stall a light request for seconds', async () => {
    // 498 vertices, a few km², where the polar orbits cross every few hours: ~1.5 s of synchronous CPU each.
    const heavy = {
      datetime: windowFromNow(0.1, 24 * 29.9),
      geometry: sliver(80, 498, 10),
      limit: 100,
    };
    const searches = [1, 2, 3, 4].map(() => h.post(`/tasking/products/${TIR}/opportunities`, heavy, h.readOnly));
    // The test shares the server's event loop: measure from when the light request was due, not from when
    // a blocked loop let this code run again.
    const due = Date.now() + 150;
    await sleep(150);
    const light = await h.get('/tasking/conformance', h.tasking);
    const ms = Date.now() - due;
    const results = await Promise.all(searches);
    assert.equal(light.status, 200);
    for (const r of results) assert.ok([200, 400, 429, 503].includes(r.status), r.text.slice(0, 200));
    assert.ok(ms < 500, `GET /tasking/conformance waited ${ms} ms behind four opportunity searches`);
  });

  // Mitigated (AOIs ≤ 100 positions, the scheduler yields between steps: 8.7 s → ~1 s here) but not fixed:
  // one pass search is still synchronous CPU; the fix is a worker pool for pass searches (open in the note).
  it(
    'a scheduler tick over orders with such AOIs does not freeze the API (on SQLite the whole tick is one synchronous block)',
    {
      todo: 'pass searches still run on the event loop: a worker pool is the remaining fix',
    },
    async () => {
      for (let k = 0; k < 3; k++) {
        const r = await h.post(`/tasking/products/${TIR}/orders`, {
          datetime: windowFromNow(0.1, 24 * 29.9),
          geometry: sliver(80, MAX_AOI_POSITIONS - 2, 10),
          order_parameters: { priority: 'urgent' },
        });
        assert.equal(r.status, 201, r.text);
      }
      const tick = h.s.skyport.scheduler.tick(Date.now());
      // The test shares the server's event loop: measure from when the light request was due, not from when
      // a blocked loop let this code run again.
      const due = Date.now() + 50;
      await sleep(50);
      const light = await h.get('/tasking/conformance', h.tasking);
      const ms = Date.now() - due;
      await tick;
      assert.equal(light.status, 200);
      assert.ok(ms < 500, `GET /tasking/conformance waited ${ms} ms behind one scheduler tick`);
    },
  );
});

for (const store of await stores()) {
  describe(`tasking isolation that held (${store})`, () => {
    let s: TestServer;
    let a: string;
    let b: string;
    let bRead: string;
    let other: TestOrg;

    const post = (path: string, body: unknown, tok: string, headers: Record<string, string> = {}) =>
      request(`${s.url}${path}`, {
        method: 'POST',
        headers: { ...bearer(tok), 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const get = (path: string, tok: string) => request(`${s.url}${path}`, { headers: bearer(tok) });

    before(async () => {
      s = await startServer({ store });
      await s.skyport.scheduler.stop();
      await s.skyport.webhooks.stop();
      await ensureDemoConstellation(s.skyport.storage, Date.now());
      a = await tokenFor(s.url, s.creds.tasking);
      other = await createOrg(s, 'isolated');
      b = await tokenFor(s.url, other.creds.tasking);
      bRead = await tokenFor(s.url, other.creds['read-only']);
    });
    after(() => s.close());

    it("an Idempotency-Key and body replayed by another organization's client create its own order, never reveal the first", async () => {
      const body = { datetime: windowFromNow(1, 30), geometry: { type: 'Point', coordinates: [33, 12] } };
      const key = `shared-${randomBytes(4).toString('hex')}`;
      const first = await post(`/tasking/products/${TIR}/orders`, body, a, { 'idempotency-key': key });
      assert.equal(first.status, 201, first.text);
      const theirs = await post(`/tasking/products/${TIR}/orders`, body, b, { 'idempotency-key': key });
      assert.equal(theirs.status, 201, theirs.text);
      assert.notEqual(theirs.json.id, first.json.id);
      assert.equal(theirs.headers.get('idempotent-replayed'), null);
      // A replay of the key with another body by the other org is its own business (422 only against its own use).
      const reuse = await post(`/tasking/products/${TIR}/orders`, { ...body, order_parameters: { priority: 'urgent' } }, b, {
        'idempotency-key': key,
      });
      assert.equal(reuse.status, 422, reuse.text);
      assert.ok(!reuse.text.includes(first.json.id));

      const missing = '00000000-0000-4000-8000-000000000000';
      for (const [path, tok] of [
        [`/tasking/orders/${first.json.id}`, bRead],
        [`/tasking/orders/${first.json.id}/statuses`, bRead],
        [`/tasking/orders?next=${first.json.id}`, bRead],
      ] as const) {
        const theirsR = await get(path, tok);
        const none = await get(path.replace(first.json.id, missing), tok);
        assert.equal(theirsR.status, 404, `${path}: ${theirsR.text}`);
        assert.deepEqual(theirsR.json.code, none.json.code);
        assert.equal(theirsR.text.replace(first.json.id, missing), none.text, `${path} answers unlike a missing order`);
      }
      const cancel = await post(`/tasking/orders/${first.json.id}/cancel`, {}, b);
      assert.equal(cancel.status, 404, cancel.text);
      assert.equal((await get(`/tasking/orders/${first.json.id}`, a)).json.properties.status.status_code, 'received');
      assert.equal((await post(`/tasking/orders/${first.json.id}/cancel`, {}, bRead)).status, 403);
      const adminToken = await token(s.url, other.creds.admin);
      assert.equal((await post(`/tasking/products/${TIR}/orders`, body, adminToken)).status, 401, 'a Management API token');
    });

    it('cancels racing the scheduler: an order ends cancelled exactly when its cancel answered 200, once', async () => {
      const ids: string[] = [];
      for (let k = 0; k < 8; k++) {
        const r = await post(
          `/tasking/products/${TIR}/orders`,
          { datetime: windowFromNow(0.1, 30), geometry: { type: 'Point', coordinates: [-160 + 41 * k, -50 + 13 * k] } },
          b,
        );
        assert.equal(r.status, 201, r.text);
        ids.push(r.json.id as string);
      }
      const [cancels] = await Promise.all([
        // Staggered, so some land before the scheduler's step on their order, some during it and some after.
        Promise.all(ids.map(async (id, i) => (await sleep(i * 80), post(`/tasking/orders/${id}/cancel`, {}, b)))),
        s.skyport.scheduler.tick(Date.now()),
      ]);
      await s.skyport.scheduler.tick(Date.now());
      for (const [i, id] of ids.entries()) {
        const c = cancels[i]!;
        assert.ok(c.status === 200 || c.status === 409, c.text);
        const codes = ((await get(`/tasking/orders/${id}/statuses`, bRead)).json.statuses as { status_code: string }[]).map(
          (x) => x.status_code,
        );
        if (c.status === 200) {
          assert.equal(codes.at(-1), 'cancelled', codes.join(' → '));
          assert.equal(codes.filter((x) => x === 'cancelled').length, 1, codes.join(' → '));
        } else {
          assert.ok(!codes.includes('cancelled'), codes.join(' → '));
        }
      }
    });

    it("a webhook secret appears once: not in the list, the delivery log, the audit log, the server's logs or another org's view", async () => {
      const admin = await token(s.url, s.creds.admin);
      const otherAdmin = await token(s.url, other.creds.admin);
      const created = await post('/admin/webhooks', { url: 'https://hooks.example.com/skyport' }, admin);
      assert.equal(created.status, 201, created.text);
      const secret = created.json.secret as string;
      const key = secret.slice('whsec_'.length);
      await post(
        `/tasking/orders/${(await post(`/tasking/products/${TIR}/orders`, { datetime: windowFromNow(1, 30), geometry: { type: 'Point', coordinates: [-33, 12] } }, a)).json.id}/cancel`,
        {},
        a,
      );
      for (const [path, tok] of [
        ['/admin/webhooks', admin],
        [`/admin/webhooks/${created.json.id}`, admin],
        ['/admin/webhooks/deliveries', admin],
        ['/admin/audit', admin],
        ['/admin/webhooks', otherAdmin],
        ['/admin/webhooks/deliveries', otherAdmin],
      ] as const) {
        const r = await get(path, tok);
        assert.ok(r.status === 200 || r.status === 404, `${path}: ${r.status}`);
        assert.ok(!r.text.includes(key), `${path} shows the secret`);
      }
      assert.equal((await get(`/admin/webhooks/${created.json.id}`, otherAdmin)).status, 404);
      assert.ok((await get('/admin/webhooks/deliveries', admin)).json.deliveries.length > 0);
      assert.equal((await get('/admin/webhooks/deliveries', otherAdmin)).json.deliveries.length, 0);
      assert.ok(!s.logs().includes(key), 'the server logged the secret');
    });
  });
}
