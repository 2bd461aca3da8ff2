/**
 * Crash safety of the tasking lifecycle with real `skyport serve` processes: a server killed (SIGKILL) while
 * an order is scheduled and started again completes that order exactly once with exactly one delivered item;
 * two servers on one PostgreSQL database run one scheduler at a time (the lease), and when the one holding
 * it is killed the other takes over, still delivering exactly one item.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CredentialsFile } from '../../src/bootstrap.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/types.js';
import { parseOpportunitySearch, searchOpportunities } from '../../src/tasking/opportunities.js';
import { productById } from '../../src/tasking/products.js';
import { ensureDemoConstellation } from '../../src/tasking/tle-store.js';
import { bearer, request, tokenFor } from '../helpers/http.js';
import { poll, startDaemon, stopAll, type Daemon } from '../helpers/proc.js';
import { createTestDatabase, freePort, postgresAvailable } from '../helpers/server.js';

const HOUR = 3_600_000;
const LIFECYCLE = ['received', 'accepted', 'scheduled', 'processing', 'completed'];

/** Environment of a test server: fast ticks, a short lease, `timeScale` simulated seconds per second. */
function serverEnv(port: number, dataDir: string, timeScale: number, databaseUrl?: string): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    SKYPORT_DATA_DIR: dataDir,
    SKYPORT_LOG_LEVEL: 'info',
    SKYPORT_DEMO_ITEMS: '0',
    SKYPORT_DEMO_SAMPLE: 'false',
    SKYPORT_TASKING_TIME_SCALE: String(timeScale),
    SKYPORT_TASKING_TICK_MS: '50',
    SKYPORT_TASKING_LEASE_MS: '1000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
}

/**
 * An order body and a time scale such that its first pass comes ≈ 2 s (wall) after it is placed: long
 * enough to kill a server while it is `scheduled`, short enough for a quick test. Loads the demo
 * constellation into `storage` first. Cloud cover up to 100 % is accepted (no retries).
 */
async function plan(storage: Storage): Promise<{ body: Record<string, unknown>; timeScale: number }> {
  await ensureDemoConstellation(storage, Date.now());
  const now = Date.now();
  const product = productById('skyport-tir-tasking')!;
  const probe = {
    datetime: `${new Date(now + HOUR).toISOString()}/${new Date(now + 30 * HOUR).toISOString()}`,
    geometry: { type: 'Point', coordinates: [13.4, 52.52] },
    order_parameters: { max_cloud_cover: 100 },
  };
  const { passes } = searchOpportunities(product, await storage.listTleSets(), parseOpportunitySearch(probe, product, now));
  const first = passes.sort((a, b) => a.tca.getTime() - b.tca.getTime())[0];
  assert.ok(first, 'no pass over the test site');
  const body = {
    ...probe,
    datetime: `${new Date(first.start.getTime() - 60_000).toISOString()}/${new Date(now + 30 * HOUR).toISOString()}`,
  };
  return { body, timeScale: Math.ceil((first.tca.getTime() - now) / 2000) };
}

async function serve(env: Record<string, string>): Promise<{ d: Daemon; url: string }> {
  const d = startDaemon(['serve'], env);
  const url = `http://127.0.0.1:${env.PORT}`;
  const up = await poll(async () => (await request(`${url}/.well-known/oauth-authorization-server`)).status === 200, 20_000, 50);
  assert.ok(up, `server did not come up:\n${d.output()}`);
  return { d, url };
}

async function kill(d: Daemon): Promise<void> {
  d.child.kill('SIGKILL');
  const r = await d.stop();
  assert.equal(r.signal, 'SIGKILL');
}

async function placeOrder(url: string, token: string, body: Record<string, unknown>): Promise<string> {
  const r = await request(`${url}/tasking/products/skyport-tir-tasking/orders`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json', 'idempotency-key': `restart-${Date.now()}` },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 201, r.text);
  return r.json.id as string;
}

async function statusOf(url: string, token: string, id: string): Promise<string> {
  return (await request(`${url}/tasking/orders/${id}`, { headers: bearer(token) })).json?.properties?.status?.status_code;
}

/** After completion: the exact status history and exactly one item, the order's, in the private collection. */
async function assertDeliveredOnce(url: string, token: string, id: string, storage: Storage, orgId: string): Promise<void> {
  const done = await poll(async () => (await statusOf(url, token, id)) === 'completed', 20_000, 50);
  assert.ok(done, `the order did not complete: ${await statusOf(url, token, id)}`);
  const h = await request(`${url}/tasking/orders/${id}/statuses`, { headers: bearer(token) });
  assert.deepEqual(
    h.json.statuses.map((x: { status_code: string }) => x.status_code),
    LIFECYCLE,
  );
  const items = await request(`${url}/collections/tasking-${orgId}/items?limit=100`, { headers: bearer(token) });
  assert.equal(items.status, 200, items.text);
  assert.deepEqual(
    items.json.features.map((f: { id: string }) => f.id),
    [id],
  );
  const order = (await storage.getOrderFor(orgId, id))!;
  assert.equal(order.itemId, id);
  assert.equal(order.nextActionAt, null);
  assert.equal(order.attempts, 1);
  const asset = await fetch(items.json.features[0].assets.data.href, { headers: bearer(token) });
  assert.equal(asset.status, 200);
}

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'skyport-restart-'));
  dirs.push(d);
  return d;
};
after(() => {
  stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const readCreds = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'credentials', 'tasking.json'), 'utf8')) as CredentialsFile;

describe('tasking survives a killed server (sqlite)', () => {
  it('killed while the order is scheduled and restarted: the order completes once, with one item', async () => {
    const dir = tmp();
    const storage = await openStorage({ dataDir: dir, databaseUrl: undefined });
    try {
      const { body, timeScale } = await plan(storage);
      const env = serverEnv(await freePort(), dir, timeScale);
      let { d, url } = await serve(env);
      const creds = readCreds(dir);
      const orgId = (await storage.getClient(creds.client_id))!.orgId;
      let token = await tokenFor(url, creds);
      const id = await placeOrder(url, token, body);
      assert.ok(await poll(async () => (await statusOf(url, token, id)) === 'scheduled', 10_000, 20), d.output());
      await kill(d);
      const mid = (await storage.getOrderFor(orgId, id))!;
      assert.equal(mid.status, 'scheduled', 'killed mid-lifecycle');
      ({ d, url } = await serve(env));
      token = await tokenFor(url, creds);
      await assertDeliveredOnce(url, token, id, storage, orgId);
      assert.match(d.output(), /scheduler lease taken/);
      await d.stop();
    } finally {
      await storage.close();
    }
  });
});

const pg = await postgresAvailable();
describe('tasking with two servers on one PostgreSQL database', () => {
  it(
    'runs one scheduler at a time; killing its holder hands over; the order completes once',
    { skip: !pg && 'PostgreSQL not reachable' },
    async () => {
      const db = await createTestDatabase();
      const [dir1, dir2] = [tmp(), tmp()];
      const storage = await openStorage({ dataDir: dir1, databaseUrl: db.url });
      try {
        const { body, timeScale } = await plan(storage);
        const a = await serve(serverEnv(await freePort(), dir1, timeScale, db.url));
        const b = await serve(serverEnv(await freePort(), dir2, timeScale, db.url));
        const creds = readCreds(dir1);
        const orgId = (await storage.getClient(creds.client_id))!.orgId;
        // Tokens carry each server's own issuer (its public URL): one per server.
        const tokenA = await tokenFor(a.url, creds);
        const tokenB = await tokenFor(b.url, creds);
        const id = await placeOrder(b.url, tokenB, body);
        assert.ok(await poll(async () => (await statusOf(a.url, tokenA, id)) === 'scheduled', 10_000, 20));
        const holders = [a, b].filter((x) => x.d.output().includes('scheduler lease taken'));
        assert.equal(holders.length, 1, `exactly one scheduler works:\n${a.d.output()}\n${b.d.output()}`);
        const [holder] = holders;
        const survivor = holder === a ? b : a;
        await kill(holder!.d);
        assert.equal((await storage.getOrderFor(orgId, id))!.status, 'scheduled', 'killed mid-lifecycle');
        const survivorToken = survivor === a ? tokenA : tokenB;
        await assertDeliveredOnce(survivor.url, survivorToken, id, storage, orgId);
        assert.match(survivor.d.output(), /scheduler lease taken/, 'the survivor took the lease over');
        await survivor.d.stop();
      } finally {
        await storage.close();
        await db.drop();
      }
    },
  );
});
