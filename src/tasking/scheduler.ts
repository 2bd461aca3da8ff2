/**
 * The tasking scheduler: moves each order through its STAPI statuses (tasking-notes §1.5)
 *
 *   received → accepted | rejected → scheduled (a booked pass) → [at the pass] processing | scheduled
 *   (cloudy: next pass, attempt + 1) | failed (cloudy, no pass left) → completed (the STAC item delivered)
 *   accepted/scheduled with no bookable pass left in the window → expired (at the window's end)
 *
 * One process works at a time (storage lease `scheduler`); every step is one `transitionOrder` from
 * the version it read, so a step that lost a race (a cancel, another process) writes nothing and is
 * skipped, and a process killed between steps resumes from the stored state: the delivered item, its
 * collection and the `completed` status are written in ONE transaction (assets first, idempotently), so
 * an order is never delivered twice nor lost.
 *
 * Time. Passes are computed in real (orbital) time. Each order runs on its own simulated clock that
 * starts at its creation and runs `timeScale`× faster than the wall clock:
 *
 *   simulated(order, wall) = order.createdAt + (wall − order.createdAt) · timeScale
 *   wall(order, simulated) = order.createdAt + (simulated − order.createdAt) / timeScale
 *
 * A booked pass is reached when simulated(order, now) ≥ pass.tca; the order's `nextActionAt` (wall ms,
 * what storage's due list is keyed on) is set to wall(order, tca). With timeScale 1 (real time) that is
 * the pass itself; with 3600 a pass 10 h after the order is reached 10 s after it. The clock is derived
 * from stored fields only, so it survives restarts and is the same in every process.
 *
 * Conflicts. A satellite images one target at a time: a pass overlapping (same satellite, overlapping
 * [start, end]) a booking held by a higher-ranked order is skipped; rank = priority (urgent > priority >
 * standard), then first come (created earlier, then id). A lower-ranked order holding an overlapping
 * `scheduled` booking is displaced (its booking cleared, due now) and books its next free pass in its own
 * step, with a `scheduled` status whose reason_code is `competition`. Bookings already being processed
 * are never displaced.
 */
import { asAssetStore } from '../storage/assets/open.js';
import type { AssetStore } from '../storage/assets/types.js';
import type { Storage } from '../storage/types.js';
import type { BookedPass, OrderRecord, TleRecord } from '../storage/tasking.js';
import { cloudCoverFor, deliveryCollection, deliveryItem, writeDeliveryAssets, type Capture } from './delivery.js';
import { deliveredItemPath, orderParams, recordTransition, type StatusChange } from './order-service.js';
import { LeasedLoop } from './leased-loop.js';
import { searchOpportunities, type OpportunitySearch } from './opportunities.js';
import type { GeoJsonPoint, GeoJsonPolygon, Pass } from './orbits/index.js';
import { PRIORITY_RANK, productById, type Priority, type TaskingProduct } from './products.js';
import { parseTaskingFilter, searchConstraints } from './requests.js';
import type { WorkerLog } from './webhooks.js';

/** Simulated time from capture to delivery (downlink, processing), ms. */
export const PROCESSING_MS = 15 * 60_000;
/** Wall time before a step that threw is tried again, ms. */
const STEP_RETRY_MS = 30_000;
/** Steps one order may take in one tick (received → accepted → scheduled happen at once). */
const MAX_STEPS = 6;

/** The order's simulated time at wall time `wallMs` (module comment), ms. */
export function simulatedNow(order: Pick<OrderRecord, 'createdAt'>, wallMs: number, timeScale: number): number {
  return order.createdAt + (wallMs - order.createdAt) * timeScale;
}

/** The wall time at which the order's simulated clock reaches `simMs` (rounded up), ms. */
export function wallTimeOf(order: Pick<OrderRecord, 'createdAt'>, simMs: number, timeScale: number): number {
  return order.createdAt + Math.ceil((simMs - order.createdAt) / timeScale);
}

/** Conflict rank: higher priority first, then first come (earlier creation, then smaller id). Negative when `a` outranks `b`. */
export function compareRank(
  a: Pick<OrderRecord, 'priority' | 'createdAt' | 'id'>,
  b: Pick<OrderRecord, 'priority' | 'createdAt' | 'id'>,
): number {
  const pa = PRIORITY_RANK[a.priority as Priority] ?? 0;
  const pb = PRIORITY_RANK[b.priority as Priority] ?? 0;
  return pb - pa || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Configuration of a `Scheduler` (times in ms). */
export interface SchedulerOptions {
  storage: Storage;
  /** Public base URL (webhook payload links). */
  publicUrl: string;
  /** The asset store delivered GeoTIFF and PNG assets are written to (main.ts builds it from the configuration). */
  assets?: AssetStore;
  /** Shorthand for the local store of this folder, for callers that predate `assets`; one of the two is required. */
  assetsDir?: string;
  /** SKYPORT_TASKING_TIME_SCALE: simulated seconds per wall second (≥ 1 in practice; 1 = real time). */
  timeScale: number;
  /** Pause between ticks, ms. */
  tickMs: number;
  /** Lease lifetime, ms: another process takes over this long after this one stops renewing. */
  leaseMs: number;
  /** Lease holder name (default: random). */
  instanceId?: string;
  /** Wall clock, ms (default Date.now). */
  clock?: () => number;
  /** Due orders taken per tick (default 50). */
  batch?: number;
  log?: WorkerLog;
}

/** What one tick did. */
export interface TickResult {
  /** False when another process holds the lease (nothing was done). */
  leader: boolean;
  /** Transitions written. */
  transitions: number;
}

/** A pass that can be booked, and the lower-ranked bookings it displaces. */
interface Slot {
  pass: Pass;
  displaced: OrderRecord[];
}

function booking(p: Pass): BookedPass {
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

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs the order lifecycle (module comment). `start`/`stop` for the server; `tick(now)` for tests. */
export class Scheduler extends LeasedLoop {
  // Element sets are read once per tick.
  private tleCache: TleRecord[] | undefined;
  private leader = false;
  private readonly assets: AssetStore;

  constructor(private readonly opts: SchedulerOptions) {
    super('scheduler', opts);
    if (!(opts.timeScale > 0)) throw new RangeError(`timeScale must be positive, got ${opts.timeScale}`);
    const assets = opts.assets ?? opts.assetsDir;
    if (assets === undefined) throw new TypeError('the scheduler needs an asset store (assets) or folder (assetsDir)');
    this.assets = asAssetStore(assets);
  }

  protected override onStop(): void {
    this.leader = false;
  }

  /** Advances every order due at wall time `now` (ms) if this process holds, or takes, the lease. */
  async tick(now = this.clock()): Promise<TickResult> {
    const { storage } = this.opts;
    const leader = await storage.acquireLease('scheduler', this.instanceId, this.opts.leaseMs, now);
    if (leader !== this.leader)
      this.opts.log?.info({ instanceId: this.instanceId }, leader ? 'scheduler lease taken' : 'scheduler lease lost');
    this.leader = leader;
    if (!leader) return { leader: false, transitions: 0 };
    this.tleCache = undefined;
    let transitions = 0;
    const due = await storage.listDueOrders(now, this.opts.batch ?? 50);
    for (const [i, order] of due.entries()) {
      // A long tick renews the lease as it goes, and stops if it was lost (versions keep a late step harmless anyway).
      const renewAt = Math.max(now, this.clock());
      if (i > 0 && !(await storage.acquireLease('scheduler', this.instanceId, this.opts.leaseMs, renewAt))) {
        this.leader = false;
        this.opts.log?.info({ instanceId: this.instanceId }, 'scheduler lease lost');
        break;
      }
      let o: OrderRecord | undefined = order;
      for (let step = 0; o && step < MAX_STEPS && o.nextActionAt !== null && o.nextActionAt <= now; step++) {
        const current: OrderRecord = o;
        // Pass searches are synchronous CPU: give waiting requests their turn between steps (on SQLite the
        // storage calls never yield by themselves).
        await new Promise((r) => setImmediate(r));
        try {
          o = await this.step(current, now);
        } catch (e) {
          const ctx = { errMessage: (e as Error).message, orderId: current.id, status: current.status };
          this.opts.log?.error(ctx, 'scheduler step failed; retrying later');
          await storage.transitionOrder(current.id, current.version, { nextActionAt: now + STEP_RETRY_MS }, {}, now).catch(() => undefined);
          o = undefined;
        }
        if (o) transitions++;
      }
    }
    return { leader: true, transitions };
  }

  /** One step of one due order; the new order, or undefined when it lost a race (nothing written). */
  private async step(o: OrderRecord, now: number): Promise<OrderRecord | undefined> {
    const product = productById(o.productId);
    if (!product)
      return this.move(
        o,
        { nextActionAt: null },
        { code: 'rejected', reasonCode: 'unknown_product', reasonText: `product ${o.productId} is no longer offered` },
        now,
      );
    const sim = simulatedNow(o, now, this.opts.timeScale);
    // Review and first booking are decided as of the order's receipt: at a high time scale the order's
    // clock would otherwise run past a pass starting soon (an opportunity's own) before the first tick.
    const receipt = Math.min(sim, o.createdAt);
    switch (o.status) {
      case 'received':
        return this.review(o, product, now, receipt);
      case 'accepted':
        return this.book(o, product, now, o.attempts === 0 ? receipt : sim, null);
      case 'scheduled':
        if (!o.booked) return this.book(o, product, now, sim, 'competition');
        if (sim < o.booked.tca) return this.move(o, { nextActionAt: this.wallAt(o, o.booked.tca) }, undefined, now);
        return this.acquire(o, o.booked, product, now, sim);
      case 'processing':
        return this.deliver(o, product, now);
      default:
        // Final statuses have nothing left to do.
        return this.move(o, { nextActionAt: null }, undefined, now);
    }
  }

  private wallAt(o: OrderRecord, simMs: number): number {
    return wallTimeOf(o, simMs, this.opts.timeScale);
  }

  private move(
    o: OrderRecord,
    patch: Parameters<Storage['transitionOrder']>[2],
    change: StatusChange | undefined,
    now: number,
    extras: Parameters<typeof recordTransition>[5] = {},
  ): Promise<OrderRecord | undefined> {
    return recordTransition(this.opts, o, patch, change, now, extras);
  }

  private async tleSets(): Promise<TleRecord[]> {
    this.tleCache ??= await this.opts.storage.listTleSets();
    return this.tleCache;
  }

  /** Passes of the order's product over its AOI with tca in (fromSim, windowEnd], satisfying its parameters and filter, by tca. */
  private async passes(o: OrderRecord, product: TaskingProduct, fromSim: number): Promise<{ passes: Pass[]; notes: string[] }> {
    const start = Math.max(o.windowStart, fromSim);
    if (start >= o.windowEnd) return { passes: [], notes: [] };
    const filter = parseTaskingFilter(o.filter, product);
    const search: OpportunitySearch = {
      window: { start: new Date(start), end: new Date(o.windowEnd) },
      aoi: o.geometry as unknown as GeoJsonPoint | GeoJsonPolygon,
      filter,
      rawFilter: o.filter,
      orderParameters: o.orderParameters,
      constraints: searchConstraints(product, o.orderParameters, filter),
      limit: 1,
    };
    const { passes, notes } = searchOpportunities(product, await this.tleSets(), search);
    return {
      passes: passes.filter((p) => p.tca.getTime() > fromSim).sort((a, b) => a.tca.getTime() - b.tca.getTime()),
      notes: notes.filter((n) => n.code !== 'window-clipped').map((n) => n.reason),
    };
  }

  /** received → accepted when some satellite can image the AOI in the window, else rejected with the reason. */
  private async review(o: OrderRecord, product: TaskingProduct, now: number, sim: number): Promise<OrderRecord | undefined> {
    const { passes, notes } = await this.passes(o, product, sim);
    if (passes.length > 0) {
      return this.move(
        o,
        { nextActionAt: now },
        { code: 'accepted', reasonText: `${passes.length} imaging opportunities in the window` },
        now,
      );
    }
    const p = orderParams(o, product);
    const limits = `off-nadir ≤ ${p.maxOffNadirDeg}°${p.minSunElevationDeg === null ? '' : `, sun elevation ≥ ${p.minSunElevationDeg}°`}`;
    const why = notes.length ? ` (${notes.slice(0, 3).join('; ')})` : '';
    return this.move(
      o,
      { nextActionAt: null },
      {
        code: 'rejected',
        reasonCode: 'no_opportunity',
        reasonText: `no ${product.sensor} satellite can image the area between ${iso(o.windowStart)} and ${iso(o.windowEnd)} with ${limits}${o.filter ? ' and the filter' : ''}${why}`,
      },
      now,
    );
  }

  /**
   * The first pass after `fromSim` that no higher-ranked order holds, with the lower-ranked bookings it
   * would displace; `contested` tells whether passes were skipped because of others' bookings.
   */
  private async findSlot(o: OrderRecord, product: TaskingProduct, fromSim: number): Promise<{ slot?: Slot; contested: boolean }> {
    const { passes } = await this.passes(o, product, fromSim);
    let contested = false;
    for (const pass of passes) {
      const holders = (await this.opts.storage.listBookedOrders(pass.satellite.noradId, pass.start.getTime(), pass.end.getTime())).filter(
        (h) => h.id !== o.id,
      );
      // Only a scheduled booking can still move; one being processed has used the satellite already.
      if (holders.some((h) => h.status !== 'scheduled' || compareRank(h, o) < 0)) {
        contested = true;
        continue;
      }
      return { slot: { pass, displaced: holders }, contested };
    }
    return { contested };
  }

  /** Clears lower-ranked bookings of a slot; false when one of them moved on meanwhile (the slot is then not taken). */
  private async displace(slot: Slot, now: number): Promise<boolean> {
    for (const h of slot.displaced) {
      const moved = await this.move(h, { booked: null, nextActionAt: now }, undefined, now);
      if (!moved) return false;
      this.opts.log?.info({ orderId: h.id, satellite: slot.pass.satellite.name }, 'booking displaced by a higher-ranked order');
    }
    return true;
  }

  /**
   * accepted, or scheduled without a booking (displaced: `reason` competition) → scheduled on the first free
   * pass. No free pass: wait for the window's end (bookings may still move), then expire.
   */
  private async book(
    o: OrderRecord,
    product: TaskingProduct,
    now: number,
    sim: number,
    reason: 'competition' | null,
  ): Promise<OrderRecord | undefined> {
    const { slot, contested } = await this.findSlot(o, product, sim);
    if (slot && (await this.displace(slot, now))) {
      const b = booking(slot.pass);
      const text = `${reason ? 'rebooked after a higher-priority or earlier order took the pass: ' : ''}${b.satellite} at ${iso(b.tca)} (off-nadir ${b.offNadirDeg.toFixed(1)}°)`;
      return this.move(
        o,
        { booked: b, nextActionAt: this.wallAt(o, b.tca) },
        { code: 'scheduled', reasonCode: reason, reasonText: text },
        now,
      );
    }
    if (slot) return undefined;
    // Wait or expire by the order's clock now — not by `sim`, which for a first booking is the receipt time
    // (always before the window's end: the order would be re-timed to a past instant and spin forever).
    if (simulatedNow(o, now, this.opts.timeScale) < o.windowEnd) {
      return this.move(o, { nextActionAt: this.wallAt(o, o.windowEnd) }, undefined, now);
    }
    return this.move(
      o,
      { nextActionAt: null },
      contested
        ? {
            code: 'expired',
            reasonCode: 'competition',
            reasonText: 'every remaining pass in the window was booked by higher-priority or earlier orders',
          }
        : { code: 'expired', reasonCode: 'no_opportunity', reasonText: 'the window ended with no pass left to book' },
      now,
    );
  }

  /** At the booked pass: the simulated capture. Clear enough → processing; too cloudy → the next pass, or failed. */
  private async acquire(
    o: OrderRecord,
    b: BookedPass,
    product: TaskingProduct,
    now: number,
    sim: number,
  ): Promise<OrderRecord | undefined> {
    const attempt = o.attempts + 1;
    const cloud = cloudCoverFor(o.id, attempt);
    const limit = orderParams(o, product).maxCloudCover;
    const capture = `capture ${attempt} by ${b.satellite} at ${iso(b.tca)}: ${cloud}% cloud cover`;
    if (cloud <= limit) {
      const due = this.wallAt(o, Math.max(sim, b.tca) + PROCESSING_MS);
      return this.move(o, { attempts: attempt, nextActionAt: due }, { code: 'processing', reasonText: capture }, now);
    }
    const { slot } = await this.findSlot(o, product, Math.max(sim, b.end));
    if (slot && (await this.displace(slot, now))) {
      const next = booking(slot.pass);
      return this.move(
        o,
        { attempts: attempt, booked: next, nextActionAt: this.wallAt(o, next.tca) },
        {
          code: 'scheduled',
          reasonCode: 'cloud_cover',
          reasonText: `${capture} (limit ${limit}%); retrying with ${next.satellite} at ${iso(next.tca)}`,
        },
        now,
      );
    }
    if (slot) return undefined;
    return this.move(
      o,
      { attempts: attempt, nextActionAt: null },
      { code: 'failed', reasonCode: 'cloud_cover', reasonText: `${capture} (limit ${limit}%) and no pass is left in the window` },
      now,
    );
  }

  /** The booked pass recomputed (footprint, angles); null when its element set is gone or no longer sees it. */
  private async recompute(o: OrderRecord, product: TaskingProduct, b: BookedPass): Promise<Pass | null> {
    const set = (await this.tleSets()).filter((t) => t.noradId === b.noradId);
    if (set.length === 0) return null;
    const search: OpportunitySearch = {
      window: { start: new Date(b.start - 60_000), end: new Date(b.end + 60_000) },
      aoi: o.geometry as unknown as GeoJsonPoint | GeoJsonPolygon,
      filter: null,
      rawFilter: null,
      orderParameters: o.orderParameters,
      constraints: { maxOffNadirDeg: Math.max(b.offNadirDeg + 1, orderParams(o, product).maxOffNadirDeg) },
      limit: 1,
    };
    const { passes } = searchOpportunities(product, set, search);
    passes.sort((x, y) => Math.abs(x.tca.getTime() - b.tca) - Math.abs(y.tca.getTime() - b.tca));
    return passes[0] ?? null;
  }

  /**
   * processing → completed: writes the assets (idempotent), then the item, the organization's private
   * collection (kept when it exists) and the `completed` status in one transaction.
   */
  private async deliver(o: OrderRecord, product: TaskingProduct, now: number): Promise<OrderRecord | undefined> {
    const b = o.booked;
    if (!b)
      return this.move(
        o,
        { nextActionAt: null },
        { code: 'failed', reasonCode: 'no_capture', reasonText: 'no booked pass to deliver' },
        now,
      );
    const capture: Capture = { booked: b, pass: await this.recompute(o, product, b), cloudCover: cloudCoverFor(o.id, o.attempts) };
    const item = deliveryItem(o, product, capture, now);
    await writeDeliveryAssets(item, this.assets);
    const link = { rel: 'item', type: 'application/geo+json', href: deliveredItemPath(o.orgId, item.id), title: 'Delivered STAC item' };
    return this.move(
      o,
      { itemId: item.id, nextActionAt: null },
      { code: 'completed', reasonText: `delivered to collection ${item.collection}`, links: [link] },
      now,
      { item, collection: deliveryCollection(o.orgId, now) },
    );
  }
}
