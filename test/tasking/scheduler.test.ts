/**
 * The tasking scheduler on real servers, on each store:
 * - with SKYPORT_TASKING_TIME_SCALE high and the scheduler running, an order goes received → accepted →
 *   scheduled → processing → completed by itself and delivers exactly one valid STAC item (real GeoTIFF and
 *   PNG) into the organization's private collection, visible only to it and downloadable with assets:read;
 * - with the scheduler stopped and ticked by hand (time scale 1, the wall clock passed in): conflicts on a
 *   satellite go by priority, then first come, with displaced orders rebooked (compared with a greedy
 *   assignment computed here); cloud-cover retries and failure follow the deterministic draws; an order no
 *   satellite can serve is rejected with the reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, request, tokenFor, type Res } from '../helpers/http.js';
import { token } from '../helpers/management.js';
import { createOrg } from '../helpers/orgs.js';
import { poll } from '../helpers/proc.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { assertValidStac } from '../helpers/stac-validate.js';
import { cloudCoverFor } from '../../src/tasking/delivery.js';
import { parseOpportunitySearch, searchOpportunities } from '../../src/tasking/opportunities.js';
import type { Pass } from '../../src/tasking/orbits/index.js';
import { productById } from '../../src/tasking/products.js';
import { ensureDemoConstellation } from '../../src/tasking/tle-store.js';
import { PROCESSING_MS, compareRank, simulatedNow, wallTimeOf } from '../../src/tasking/scheduler.js';

const TIR = 'skyport-tir-tasking';
const HOUR = 3_600_000;

let site = 0;
/** A point far from every other test's (so only the orders a test means to collide do). */
function nextSite(): [number, number] {
  const k = site++;
  return [-170 + ((k * 47) % 340), -35 + ((k * 29) % 70)];
}

function body(point: [number, number], params: Record<string, unknown>, hours = 36, filter: unknown = null): Record<string, unknown> {
  const t = Date.now();
  return {
    datetime: `${new Date(t + 0.1 * HOUR).toISOString()}/${new Date(t + hours * HOUR).toISOString()}`,
    geometry: { type: 'Point', coordinates: point },
    filter,
    order_parameters: params,
  };
}

function codes(r: Res): string[] {
  return r.json.statuses.map((x: { status_code: string }) => x.status_code);
}

describe('scheduler clock', () => {
  it('maps wall time to each order’s simulated time and back', () => {
    const o = { createdAt: 1_000_000 };
    assert.equal(simulatedNow(o, 1_000_000, 3600), 1_000_000);
    assert.equal(simulatedNow(o, 1_001_000, 3600), 1_000_000 + 3_600_000);
    assert.equal(wallTimeOf(o, 1_000_000 + 3_600_000, 3600), 1_001_000);
    assert.equal(wallTimeOf(o, 1_000_000 + 3_600_001, 3600), 1_001_001, 'rounded up: never reached early');
    assert.equal(simulatedNow(o, 5_000_000, 1), 5_000_000);
  });
  it('ranks by priority, then first come', () => {
    const a = { priority: 'standard', createdAt: 1, id: 'a' };
    const b = { priority: 'standard', createdAt: 2, id: 'b' };
    const c = { priority: 'urgent', createdAt: 3, id: 'c' };
    assert.deepEqual([c, b, a].sort(compareRank), [a, b, c].sort(compareRank));
    assert.deepEqual(
      [b, c, a].sort(compareRank).map((x) => x.id),
      ['c', 'a', 'b'],
    );
  });
});

for (const store of await stores()) {
  describe(`tasking scheduler, running at a high time scale (${store})`, () => {
    let s: TestServer;
    let tasking: string;
    let other: string;
    before(async () => {
      s = await startServer({ store, env: { SKYPORT_TASKING_TIME_SCALE: '200000', SKYPORT_TASKING_TICK_MS: '40' } });
      await ensureDemoConstellation(s.skyport.storage, Date.now());
      tasking = await tokenFor(s.url, s.creds.tasking);
      other = await tokenFor(s.url, (await createOrg(s)).creds.tasking);
    });
    after(() => s.close());

    it('an opportunity’s create-order body, posted as it is, is booked on that very pass and completes', async () => {
      const now = Date.now();
      // An organization of its own: its delivery must not show up in the other tests' private collection.
      const tasking = await tokenFor(s.url, (await createOrg(s, 'opportunist')).creds.tasking);
      const search = await request(`${s.url}/tasking/products/${TIR}/opportunities`, {
        method: 'POST',
        headers: { ...bearer(tasking), 'content-type': 'application/json' },
        body: JSON.stringify({
          datetime: `${new Date(now + 0.5 * HOUR).toISOString()}/${new Date(now + 48 * HOUR).toISOString()}`,
          geometry: { type: 'Point', coordinates: nextSite() },
        }),
      });
      assert.equal(search.status, 200, search.text);
      const opp = search.json.features[0];
      assert.ok(opp, 'an opportunity within two days');
      const link = opp.links.find((l: { rel: string }) => l.rel === 'create-order');
      const placed = await request(link.href, {
        method: link.method,
        headers: { ...bearer(tasking), 'content-type': 'application/json' },
        body: JSON.stringify({ ...link.body, order_parameters: { ...link.body.order_parameters, max_cloud_cover: 100 } }),
      });
      assert.equal(placed.status, 201, placed.text);
      const done = await poll(async () => {
        const r = await request(`${s.url}/tasking/orders/${placed.json.id}`, { headers: bearer(tasking) });
        return ['completed', 'failed', 'rejected', 'expired'].includes(r.json.properties.status.status_code) ? r : undefined;
      }, 15_000);
      assert.ok(done, 'the order did not finish in time');
      assert.equal(done.json.properties.status.status_code, 'completed', JSON.stringify(done.json.properties.status));
      const [start, end] = opp.properties.datetime.split('/').map(Date.parse);
      const tca = Date.parse(done.json.properties.opportunity_properties['skyport:tca']);
      assert.ok(tca >= start && tca <= end, 'booked on the opportunity’s own pass');
    });

    it('completes an order by itself and delivers exactly one item, private to the organization', async () => {
      const placed = await request(`${s.url}/tasking/products/${TIR}/orders`, {
        method: 'POST',
        headers: { ...bearer(tasking), 'content-type': 'application/json' },
        body: JSON.stringify(body(nextSite(), { max_cloud_cover: 100 }, 48)),
      });
      assert.equal(placed.status, 201, placed.text);
      const id = placed.json.id as string;
      const get = (url: string, t = tasking) => request(url.startsWith('http') ? url : `${s.url}${url}`, { headers: bearer(t) });
      const done = await poll(async () => {
        const r = await get(`/tasking/orders/${id}`);
        return ['completed', 'failed', 'rejected', 'expired'].includes(r.json.properties.status.status_code) ? r : undefined;
      }, 15_000);
      assert.ok(done, 'the order did not finish in time');
      assert.equal(done.json.properties.status.status_code, 'completed', done.text);
      const history = await get(`/tasking/orders/${id}/statuses`);
      assert.deepEqual(codes(history), ['received', 'accepted', 'scheduled', 'processing', 'completed']);

      const itemLink = done.json.links.find((l: { rel: string }) => l.rel === 'item');
      assert.ok(itemLink, 'a completed order links its item');
      assert.deepEqual(
        history.json.statuses.at(-1).links.map((l: { href: string }) => l.href),
        [itemLink.href],
      );
      const item = await get(itemLink.href);
      assert.equal(item.status, 200, item.text);
      assertValidStac('item', item.json);
      const orgId = (await s.skyport.storage.getClient(s.creds.tasking.client_id))!.orgId;
      assert.equal(item.json.id, id);
      assert.equal(item.json.collection, `tasking-${orgId}`);
      const opp = done.json.properties.opportunity_properties;
      assert.equal(item.json.properties.datetime, opp['skyport:tca']);
      assert.equal(item.json.properties.platform, opp.platform.toLowerCase());
      assert.equal(item.json.properties['skyport:order_id'], id);
      assert.equal(item.json.properties['eo:cloud_cover'], cloudCoverFor(id, 1));
      assert.ok(item.json.properties['view:off_nadir'] <= 35);
      assert.equal(item.json.geometry.type, 'Polygon');

      const collectionUrl = `/collections/tasking-${orgId}`;
      const coll = await get(collectionUrl);
      assert.equal(coll.status, 200, coll.text);
      assertValidStac('collection', coll.json);
      const items = await get(`${collectionUrl}/items`);
      assert.deepEqual(
        items.json.features.map((f: { id: string }) => f.id),
        [id],
      );

      const data = await fetch(item.json.assets.data.href, { headers: bearer(tasking) });
      assert.equal(data.status, 200);
      const tif = Buffer.from(await data.arrayBuffer());
      assert.ok(['MM\0*', 'II*\0'].includes(tif.subarray(0, 4).toString('latin1')), 'a TIFF');
      const png = await fetch(item.json.assets.thumbnail.href, { headers: bearer(tasking) });
      assert.equal(png.status, 200);
      assert.deepEqual([...Buffer.from(await png.arrayBuffer()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

      // Without assets:read the download is refused; another organization sees nothing at all.
      const mgmt = await token(s.url, s.creds.admin);
      const narrow = await request(`${s.url}/admin/clients`, {
        method: 'POST',
        headers: { ...bearer(mgmt), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'no-assets', root_scope: 'tasking', permissions: ['catalog:read', 'tasking:read'] }),
      });
      assert.equal(narrow.status, 201, narrow.text);
      const noAssets = await tokenFor(s.url, narrow.json);
      assert.equal((await get(itemLink.href, noAssets)).status, 200);
      assert.equal((await fetch(item.json.assets.data.href, { headers: bearer(noAssets) })).status, 403);
      for (const url of [collectionUrl, `${collectionUrl}/items`, itemLink.href, item.json.assets.data.href]) {
        assert.equal((await get(url, other)).status, 404, url);
      }
      const search = await get(`/search?ids=${id}`, other);
      assert.equal(search.json.features.length, 0);
      assert.equal((await get(`/tasking/orders/${id}`, other)).status, 404);
    });
  });

  describe(`tasking scheduler, ticked by hand (${store})`, () => {
    let s: TestServer;
    let tasking: string;
    let orgId: string;
    before(async () => {
      s = await startServer({ store });
      await s.skyport.scheduler.stop();
      await ensureDemoConstellation(s.skyport.storage, Date.now());
      tasking = await tokenFor(s.url, s.creds.tasking);
      orgId = (await s.skyport.storage.getClient(s.creds.tasking.client_id))!.orgId;
    });
    after(() => s.close());

    const place = async (b: Record<string, unknown>) => {
      const r = await request(`${s.url}/tasking/products/${TIR}/orders`, {
        method: 'POST',
        headers: { ...bearer(tasking), 'content-type': 'application/json' },
        body: JSON.stringify(b),
      });
      assert.equal(r.status, 201, r.text);
      return r.json.id as string;
    };
    const order = async (id: string) => (await s.skyport.storage.getOrderFor(orgId, id))!;
    const statuses = (id: string) => request(`${s.url}/tasking/orders/${id}/statuses`, { headers: bearer(tasking) });
    /** Ticks at `now` until nothing moves (displacements ripple over several ticks). */
    const settle = async (now = Date.now()) => {
      for (let i = 0; i < 10; i++) if ((await s.skyport.scheduler.tick(now)).transitions === 0) return;
      assert.fail('the scheduler did not settle');
    };
    /** Every pass the order's request allows, by tca (what the scheduler chooses from). */
    const candidates = async (b: Record<string, unknown>): Promise<Pass[]> => {
      const product = productById(TIR)!;
      const search = parseOpportunitySearch(b, product, Date.now());
      const { passes } = searchOpportunities(product, await s.skyport.storage.listTleSets(), search);
      return passes.sort((x, y) => x.tca.getTime() - y.tca.getTime());
    };

    it('an order whose only pass another order holds expires when its window ends (and never spins)', async () => {
      const wide = body(nextSite(), { max_cloud_cover: 100 });
      const [pass] = await candidates(wide);
      assert.ok(pass, 'a pass within the window');
      const narrow = { ...wide, datetime: `${pass.start.toISOString()}/${pass.end.toISOString()}` };
      const a = await place(narrow);
      const b = await place(narrow);
      await settle();
      assert.equal((await order(a)).status, 'scheduled');
      assert.equal((await order(b)).status, 'accepted', 'no free pass: it waits for the window to end');
      await settle(pass.end.getTime() + 60_000);
      const late = await order(b);
      assert.equal(late.status, 'expired');
      assert.ok(late.version < 10, `the order was rewritten ${late.version} times`);
      const last = (await statuses(b)).json.statuses.at(-1);
      assert.equal(last.reason_code, 'competition');
    });

    it('resolves conflicts by priority, then first come; displaced orders are rebooked on their next free pass', async () => {
      const b = body(nextSite(), { max_cloud_cover: 100 });
      const passes = await candidates(b);
      assert.ok(passes.length >= 3, `need 3 passes, found ${passes.length}`);
      const a = await place(b);
      const bb = await place(b);
      await settle();
      const first = [await order(a), await order(bb)];
      assert.equal(first[0]!.booked!.tca, passes[0]!.tca.getTime(), 'first come takes the first pass');
      assert.notEqual(first[1]!.booked!.tca, first[0]!.booked!.tca);

      const c = await place({ ...b, order_parameters: { max_cloud_cover: 100, priority: 'urgent' } });
      await settle();
      // Expected: a greedy assignment in rank order, each taking its first pass no higher-ranked booking overlaps.
      const ranked = [c, a, bb];
      const taken: Pass[] = [];
      for (const id of ranked) {
        const p = passes.find(
          (x) =>
            !taken.some(
              (t) =>
                t.satellite.noradId === x.satellite.noradId && t.start.getTime() <= x.end.getTime() && t.end.getTime() >= x.start.getTime(),
            ),
        )!;
        taken.push(p);
        const o = await order(id);
        assert.equal(o.status, 'scheduled');
        assert.deepEqual([o.booked!.noradId, o.booked!.tca], [p.satellite.noradId, p.tca.getTime()], `booking of ${id}`);
      }
      const ha = (await statuses(a)).json.statuses;
      assert.deepEqual(
        ha.map((x: { status_code: string }) => x.status_code),
        ['received', 'accepted', 'scheduled', 'scheduled'],
      );
      assert.equal(ha.at(-1).reason_code, 'competition');
      assert.deepEqual(codes(await statuses(c)), ['received', 'accepted', 'scheduled']);
      assert.equal((await statuses(bb)).json.statuses.at(-1).reason_code, 'competition');
    });

    it('retries cloudy captures on later passes and fails when none is left, as the deterministic draws say', async () => {
      for (const maxCloud of [0, 50, 100]) {
        const b = body(nextSite(), { max_cloud_cover: maxCloud }, 20);
        const passes = await candidates(b);
        assert.ok(passes.length >= 1);
        const id = await place(b);
        // The clock jumps from pass to pass (time scale 1: the wall time of a pass is the pass).
        for (let i = 0; i < 50; i++) {
          const o = await order(id);
          if (o.nextActionAt === null) break;
          await s.skyport.scheduler.tick(Math.max(Date.now(), o.nextActionAt));
        }
        const expected = ['received', 'accepted', 'scheduled'];
        let current = passes[0]!;
        let attempt = 0;
        for (;;) {
          attempt++;
          if (cloudCoverFor(id, attempt) <= maxCloud) {
            expected.push('processing', 'completed');
            break;
          }
          const next = passes.find((p) => p.tca.getTime() > current.end.getTime());
          if (!next) {
            expected.push('failed');
            break;
          }
          expected.push('scheduled');
          current = next;
        }
        const h = (await statuses(id)).json.statuses;
        assert.deepEqual(
          h.map((x: { status_code: string }) => x.status_code),
          expected,
          `max_cloud_cover ${maxCloud}`,
        );
        for (const x of h.slice(3)) {
          if (x.status_code === 'scheduled' || x.status_code === 'failed') assert.equal(x.reason_code, 'cloud_cover');
        }
        const o = await order(id);
        assert.equal(o.attempts, attempt);
        // A pass searched from a later window start is refined anew: the same pass to the search's 20 ms tolerance.
        assert.equal(o.booked!.noradId, current.satellite.noradId);
        assert.ok(Math.abs(o.booked!.tca - current.tca.getTime()) < 50);
        if (o.status === 'completed') {
          const item = await request(`${s.url}/collections/tasking-${orgId}/items/${id}`, { headers: bearer(tasking) });
          assert.equal(item.status, 200);
          assert.equal(item.json.properties['eo:cloud_cover'], cloudCoverFor(id, attempt));
          assert.equal(Date.parse(item.json.properties.datetime), o.booked!.tca);
          // Delivered after the simulated processing time, not before.
          assert.ok(Date.parse(h.at(-1).timestamp) >= o.booked!.tca + PROCESSING_MS);
        }
      }
    });

    it('rejects an order no satellite can serve, with the reason', async () => {
      const b = body(nextSite(), {}, 24, { op: '=', args: [{ property: 'platform' }, 'NO-SUCH-SATELLITE'] });
      const id = await place(b);
      await settle();
      const h = (await statuses(id)).json.statuses;
      assert.deepEqual(
        h.map((x: { status_code: string }) => x.status_code),
        ['received', 'rejected'],
      );
      assert.equal(h[1].reason_code, 'no_opportunity');
      assert.match(h[1].reason_text, /no thermal satellite can image the area/);
    });
  });
}
