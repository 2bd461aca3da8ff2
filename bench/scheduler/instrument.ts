// The scheduler's tick returns only a count, so the benchmark watches what it does at the storage
// port instead: every `transitionOrder` is classified (a status change such as scheduled→processing, a
// displacement, a re-timing, a lost race) and timed with the store reads the scheduler makes. Only
// the scheduler's handle is wrapped; a server's request path keeps the plain store.
import type { Storage } from '../../src/storage/types.js';
import type { OrderRecord, OrderStatusCode } from '../../src/storage/tasking.js';

/** Calls and time (ms) of one kind of store call, or of one kind of transition. */
export interface CallStat {
  calls: number;
  ms: number;
  /** The slowest call, ms. */
  maxMs: number;
  /** Rows returned (list calls). */
  rows?: number;
}

/** What the scheduler asked of the store, by kind; transitions over time by wall second. */
export interface StoreStats {
  /** By transition kind: `received→accepted`, `scheduled→scheduled (cloud_cover)`, `displaced`, `re-timed`, `lost race` … */
  transitions: Record<string, CallStat>;
  /** By store method: listDueOrders, listBookedOrders, listTleSets, acquireLease, listWebhooksFor … */
  reads: Record<string, CallStat>;
  /** Transitions written per wall second (epoch s → count), for the windowed rates. */
  perSecond: Map<number, number>;
  /** The same for status changes only (the transitions a customer sees in the order's history). */
  statusPerSecond: Map<number, number>;
}

type Patch = Parameters<Storage['transitionOrder']>[2];
type Extras = Parameters<Storage['transitionOrder']>[3];

function add(into: Record<string, CallStat>, key: string, ms: number, rows?: number): void {
  const s = (into[key] ??= { calls: 0, ms: 0, maxMs: 0 });
  s.calls++;
  s.ms += ms;
  s.maxMs = Math.max(s.maxMs, ms);
  if (rows !== undefined) s.rows = (s.rows ?? 0) + rows;
}

/** The kind of one transition from `from` (the status before; undefined when not yet seen). */
function kind(from: OrderStatusCode | undefined, patch: Patch, extras: Extras, ok: boolean): string {
  if (!ok) return 'lost race (nothing written)';
  const to = extras.status?.statusCode ?? patch.status;
  if (to !== undefined) {
    const reason = extras.status?.reasonCode ? ` (${extras.status.reasonCode})` : '';
    return `${from ?? '?'}→${to}${reason}`;
  }
  if (patch.booked === null) return 'displaced (booking cleared)';
  if (patch.nextActionAt !== undefined) return `re-timed (${from ?? '?'})`;
  return 'other';
}

/**
 * A Storage that behaves as `storage` and records the scheduler's use of it into the returned stats.
 * `statusOf` holds each order's last known status, learnt from the orders the scheduler reads and writes.
 */
export function instrument(storage: Storage, statusOf: Map<string, OrderStatusCode>): { storage: Storage; stats: StoreStats } {
  const stats: StoreStats = { transitions: {}, reads: {}, perSecond: new Map(), statusPerSecond: new Map() };
  const timedReads = new Set(['listDueOrders', 'listBookedOrders', 'listTleSets', 'acquireLease', 'listWebhooksFor']);
  const wrapped = new Proxy(storage, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'transitionOrder') {
        return async (id: string, version: number, patch: Patch, extras: Extras, now: number) => {
          const t0 = performance.now();
          const out = await storage.transitionOrder(id, version, patch, extras, now);
          const ms = performance.now() - t0;

          add(stats.transitions, kind(statusOf.get(id), patch, extras, out !== undefined), ms);
          if (out) {
            const sec = Math.floor(Date.now() / 1000);
            stats.perSecond.set(sec, (stats.perSecond.get(sec) ?? 0) + 1);
            if (extras.status || patch.status !== undefined) stats.statusPerSecond.set(sec, (stats.statusPerSecond.get(sec) ?? 0) + 1);
            statusOf.set(id, out.status);
          }
          return out;
        };
      }
      if (typeof prop === 'string' && timedReads.has(prop)) {
        return async (...args: unknown[]) => {
          const t0 = performance.now();
          const out: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          add(stats.reads, prop, performance.now() - t0, Array.isArray(out) ? out.length : undefined);
          // Orders the scheduler is about to step: their status is the "from" of the next transition.
          if (prop === 'listDueOrders' || prop === 'listBookedOrders') for (const o of out as OrderRecord[]) statusOf.set(o.id, o.status);
          return out;
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { storage: wrapped, stats };
}
