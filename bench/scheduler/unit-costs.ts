// What the scheduler's two CPU-heavy pieces cost alone, in this process, for a sample of the
// benchmark's own orders: the pass search a review or booking makes (opportunities.ts
// `searchOpportunities` over the order's whole window, every satellite of its sensor) and rendering a
// delivery (delivery.ts `deliveryItem` + `writeDeliveryAssets`: a 128 px COG and PNG written to the asset store). These
// explain the share of tick time that is neither store reads nor store writes.
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { BookedPass, OrderRecord } from '../../src/storage/tasking.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { deliveryItem, writeDeliveryAssets } from '../../src/tasking/delivery.js';
import { searchOpportunities, type OpportunitySearch } from '../../src/tasking/opportunities.js';
import { validateOrderParameters } from '../../src/tasking/order-service.js';
import type { GeoJsonPoint, GeoJsonPolygon, Pass } from '../../src/tasking/orbits/index.js';
import { searchConstraints } from '../../src/tasking/requests.js';
import { orderRequests, storeConstellation } from './seed.js';
import { percentile } from './stats.js';

/** Orders run untimed first. */
const WARMUP = 20;

/** Per-call times, ms. */
export interface UnitCost {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/** The two unit costs, and how many passes a window held (median). */
export interface UnitCosts {
  passSearch: UnitCost;
  passesPerWindow: number;
  delivery: UnitCost;
}

function cost(samples: number[]): UnitCost {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

function booked(p: Pass): BookedPass {
  return {
    noradId: p.satellite.noradId,
    satellite: p.satellite.name,
    start: p.start.getTime(),
    end: p.end.getTime(),
    tca: p.tca.getTime(),
    offNadirDeg: p.offNadirDeg,
    sunElevationDeg: p.sunElevationDeg,
  };
}

/**
 * Times the pass search and the delivery rendering for `count` orders made as the benchmark makes them
 * (same seed, windows, AOIs), with the demo constellation epoched at `now` (ms). Files go to a temporary
 * folder under `scratch`, removed at the end.
 */
export async function measureUnitCosts(
  count: number,
  seed: number,
  now: number,
  startDays: number,
  windowDays: number,
  scratch: string,
): Promise<UnitCosts> {
  const store = new SqliteStorage(':memory:');
  await store.migrate();
  await storeConstellation(store, now);
  const sets = await store.listTleSets();
  await store.close();
  const dir = mkdtempSync(path.join(scratch, 'unit-'));
  const searches: number[] = [];
  const deliveries: number[] = [];
  const found: number[] = [];
  try {
    // The first WARMUP orders only warm the JIT and lazily built tables (land mask, element sets) up.
    for (const [k, r] of orderRequests(count + WARMUP, seed, now, startDays, windowDays).entries()) {
      const record = k >= WARMUP;
      const params = validateOrderParameters(r.product, r.body.order_parameters);
      const [a, b] = String(r.body.datetime).split('/') as [string, string];
      const search: OpportunitySearch = {
        window: { start: new Date(a), end: new Date(b) },
        aoi: r.body.geometry as unknown as GeoJsonPoint | GeoJsonPolygon,
        filter: null,
        rawFilter: null,
        orderParameters: params,
        constraints: searchConstraints(r.product, params, null),
        limit: 1,
      };
      let t = performance.now();
      const { passes } = searchOpportunities(r.product, sets, search);
      if (record) searches.push(performance.now() - t);
      if (record) found.push(passes.length);
      const pass = passes[0];
      if (!pass) continue;
      const order = {
        id: `unit-${k}`,
        orgId: 'org_unit',
        productId: r.product.id,
        geometry: r.body.geometry as Record<string, unknown>,
        orderParameters: params,
      } as unknown as OrderRecord;
      t = performance.now();
      const item = deliveryItem(order, r.product, { booked: booked(pass), pass, cloudCover: 10 }, now);
      await writeDeliveryAssets(item, dir);
      if (record) deliveries.push(performance.now() - t);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  found.sort((x, y) => x - y);
  return { passSearch: cost(searches), passesPerWindow: percentile(found, 50), delivery: cost(deliveries) };
}
