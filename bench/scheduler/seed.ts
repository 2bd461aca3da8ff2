// What the scheduler works on and what the readers read: the demo constellation, an archive of
// catalog items in the two demo collections, customer organizations (admin/service.ts
// createOrganization) and their open orders, placed through order-service.ts `placeOrder` (the API's
// own validation and pricing) with the clock held just before the run's start, so every order's
// simulated clock starts then, whatever seeding takes.
import { loadHashKey } from '../../src/bootstrap.js';
import { createOrganization, type IssuedCredential } from '../../src/admin/service.js';
import { SecretHasher } from '../../src/auth/secrets.js';
import { normalizeCollection, normalizeItem } from '../../src/catalog/ingest.js';
import { demoCatalog } from '../../src/catalog/generate/items.js';
import { isLand } from '../../src/catalog/generate/landmask.js';
import { mulberry32, type Rng } from '../../src/catalog/generate/prng.js';
import type { Storage } from '../../src/storage/types.js';
import { placeOrder } from '../../src/tasking/order-service.js';
import { PRODUCTS, type TaskingProduct } from '../../src/tasking/products.js';
import { ensureDemoConstellation } from '../../src/tasking/tle-store.js';

const DAY_MS = 86_400_000;
/** Days of archive before the benchmark's start; the searches look into this span. */
export const ARCHIVE_DAYS = 30;

/** An organization made for the benchmark, with its three root credentials. */
export interface BenchOrg {
  id: string;
  credentials: Record<'admin' | 'tasking' | 'read-only', IssuedCredential>;
}

/** Stores the demo constellation (element sets epoched at `now`, ms) and returns how many sets are stored. */
export async function storeConstellation(storage: Storage, now: number): Promise<number> {
  await ensureDemoConstellation(storage, now);
  return (await storage.listTleSets()).length;
}

/** `count` organizations named `<prefix>-<n>`, hashed with the store's own secret-hash key (so the server accepts their secrets). */
export async function createOrgs(storage: Storage, prefix: string, count: number): Promise<BenchOrg[]> {
  const hasher = new SecretHasher(await loadHashKey(storage, undefined));
  const out: BenchOrg[] = [];
  for (let k = 0; k < count; k++) {
    const { org, credentials } = await createOrganization({ storage, hasher }, `${prefix}-${k + 1}`);
    out.push({ id: org.id, credentials });
  }
  return out;
}

/**
 * `items` archive items over the ARCHIVE_DAYS before `now` in the demo collections (open to every
 * organization), as the demo generator makes them (asset hrefs only, no files), upserted in batches of
 * 1000. Returns the wall time, s.
 */
export async function loadArchive(storage: Storage, items: number, seed: number, now: number): Promise<number> {
  const t0 = performance.now();
  const { collections, items: raw } = demoCatalog({
    now: new Date(now),
    perCollection: Math.ceil(items / 2),
    days: ARCHIVE_DAYS,
    seed,
    assets: 'none',
  });
  for (const c of collections) {
    const { collection } = normalizeCollection(c);
    await storage.upsertCollection({
      id: collection.id,
      access: 'open',
      ownerOrgId: null,
      body: collection as unknown as Record<string, unknown>,
      updatedAt: now,
    });
  }
  for (let k = 0; k < Math.min(items, raw.length); k += 1000) {
    const batch = raw.slice(k, Math.min(items, k + 1000)).map((r) => {
      const { item } = normalizeItem(r);
      return { collection: item.collection as string, id: item.id, item: item as unknown as Record<string, unknown> };
    });
    await storage.upsertItems(batch);
  }
  return (performance.now() - t0) / 1000;
}

/** A random land position (the demo generator's coarse mask), degrees, between 55° S and 70° N. */
function landPoint(rng: Rng): [number, number] {
  for (;;) {
    const lon = -180 + 360 * rng();
    const lat = -55 + 125 * rng();
    if (isLand(lon, lat)) return [Math.round(lon * 1e5) / 1e5, Math.round(lat * 1e5) / 1e5];
  }
}

/** A square of about `sideKm` × `sideKm` centred on (lon, lat), as a closed GeoJSON ring. */
function square(lon: number, lat: number, sideKm: number): number[][] {
  const dLat = sideKm / 2 / 110.57;
  const dLon = sideKm / 2 / (111.32 * Math.cos((lat * Math.PI) / 180));
  const r = (x: number) => Math.round(x * 1e5) / 1e5;
  return [
    [r(lon - dLon), r(lat - dLat)],
    [r(lon + dLon), r(lat - dLat)],
    [r(lon + dLon), r(lat + dLat)],
    [r(lon - dLon), r(lat + dLat)],
    [r(lon - dLon), r(lat - dLat)],
  ];
}

/** One order as the API receives it: product and STAPI OrderPayload. */
export interface OrderRequest {
  product: TaskingProduct;
  body: Record<string, unknown>;
}

/**
 * `count` order requests, seeded: 70 % optical / 30 % thermal; half Points, half squares of up to 90 %
 * of the product's largest AOI, on land; windows opening within `startDays` of `t0` (ms) and lasting 1 to
 * `windowDays` days; priorities 70 % standard, 20 % priority, 10 % urgent; cloud-cover limit the
 * default 20 % (half), 50 % or 100 %.
 */
export function orderRequests(count: number, seed: number, t0: number, startDays: number, windowDays: number): OrderRequest[] {
  const rng = mulberry32(seed ^ 0x0fde);
  const [optical, thermal] = [PRODUCTS.find((p) => p.sensor === 'optical')!, PRODUCTS.find((p) => p.sensor === 'thermal')!];
  const out: OrderRequest[] = [];
  for (let k = 0; k < count; k++) {
    const product = rng() < 0.7 ? optical : thermal;
    const [lon, lat] = landPoint(rng);
    const side = Math.sqrt(product.maxAoiKm2 * 0.9) * (0.2 + 0.8 * rng());
    const geometry = rng() < 0.5 ? { type: 'Point', coordinates: [lon, lat] } : { type: 'Polygon', coordinates: [square(lon, lat, side)] };
    // A minute past t0 at the earliest: windows must not start in the past.
    const start = t0 + 60_000 + Math.round(rng() * startDays * DAY_MS);
    const end = start + Math.round((1 + rng() * (windowDays - 1)) * DAY_MS);
    const p = rng();
    const priority = p < 0.7 ? 'standard' : p < 0.9 ? 'priority' : 'urgent';
    const c = rng();
    const params: Record<string, unknown> = { priority };
    if (c >= 0.5) params.max_cloud_cover = c < 0.8 ? 50 : 100;
    out.push({
      product,
      body: { datetime: `${new Date(start).toISOString()}/${new Date(end).toISOString()}`, geometry, order_parameters: params },
    });
  }
  return out;
}

/** What seeding did: order ids in placement order and the wall time, s. */
export interface Seeded {
  ids: string[];
  seconds: number;
}

/** Orders created per ms of the seeded creation times (10,000 orders span the second before t0). */
const ORDERS_PER_MS = 10;

/**
 * Places every request through `placeOrder` for the tasking credential of an organization taken in
 * turn, `concurrency` at a time, with the clock held per order: request k is created at
 * t0 − ⌈(count − k) / 10⌉ ms, as if the orders had arrived at 10 per ms just before t0, so first come
 * (the scheduler's tie-break) and its due list see distinct times, however long seeding really takes.
 * Throws the first placement error (a benchmark order must be valid).
 */
export async function seedOrders(
  storage: Storage,
  orgs: BenchOrg[],
  requests: OrderRequest[],
  t0: number,
  concurrency = 8,
): Promise<Seeded> {
  const createdAt = (k: number) => t0 - Math.ceil((requests.length - k) / ORDERS_PER_MS);
  const ids: string[] = new Array<string>(requests.length);
  let next = 0;
  const t = performance.now();
  const worker = async () => {
    for (let k = next++; k < requests.length; k = next++) {
      const r = requests[k]!;
      const org = orgs[k % orgs.length]!;
      const caller = { orgId: org.id, clientId: org.credentials.tasking.client_id };
      const deps = { storage, publicUrl: 'http://127.0.0.1', now: () => createdAt(k) };
      const placed = await placeOrder(deps, caller, r.product.id, r.body, { path: `/tasking/products/${r.product.id}/orders` });
      ids[k] = placed.order.id;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { ids, seconds: (performance.now() - t) / 1000 };
}
