// The scheduler as `Scheduler.start()` runs it (tick, pause tickMs, tick …), but driven here so that
// each tick's return value is kept, and with the scheduler's clock starting at the orders' creation
// time (`origin`): seeding time does not count as simulated time already spent. Used in the benchmark
// process (`process` mode) and inside the server child (`embedded` mode) alike.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage } from '../../src/storage/types.js';
import { Scheduler } from '../../src/tasking/scheduler.js';
import type { WorkerLog } from '../../src/tasking/webhooks.js';

/** One tick: when it began (wall, epoch ms), how long it took (ms) and the transitions it wrote. */
export interface TickRecord {
  at: number;
  ms: number;
  transitions: number;
  leader: boolean;
}

/** How the benchmark runs the Scheduler. Times in ms. */
export interface LoopSpec {
  publicUrl: string;
  assetsDir: string;
  timeScale: number;
  tickMs: number;
  batch: number;
  /** The orders' creation time, ms: the scheduler's clock reads this when the loop starts. */
  origin: number;
  /** The loop ends after this many ms even with orders left. */
  maxRunMs: number;
}

/** How a loop ended: `drained` (every order final) or `budget` (maxRunMs reached), at wall time `endedAt`. */
export interface LoopEnd {
  reason: 'drained' | 'budget' | 'stopped';
  startedAt: number;
  endedAt: number;
  /** The wall time at which the scheduler's clock read `origin`, epoch ms (to map its timestamps back to wall time). */
  wallAtOrigin: number;
}

/** True when no order has a next action left (every order is in a final status). */
export async function drained(storage: Storage): Promise<boolean> {
  return (await storage.listDueOrders(Number.MAX_SAFE_INTEGER, 1)).length === 0;
}

/**
 * Runs ticks until every order is final, `maxRunMs` passes or `stop()` returns true; `onTick` sees each
 * tick. The lease is released at the end. Tick errors propagate (the server would log and go on; a
 * benchmark should not hide them).
 */
export async function runScheduler(
  storage: Storage,
  spec: LoopSpec,
  onTick: (t: TickRecord) => void,
  stop: () => boolean = () => false,
  log?: WorkerLog,
): Promise<LoopEnd> {
  const startedAt = Date.now();
  const scheduler = new Scheduler({
    storage,
    publicUrl: spec.publicUrl,
    assetsDir: spec.assetsDir,
    timeScale: spec.timeScale,
    tickMs: spec.tickMs,
    leaseMs: 15_000,
    batch: spec.batch,
    clock: () => spec.origin + (Date.now() - startedAt),
    instanceId: `schedbench-${process.pid}`,
    ...(log ? { log } : {}),
  });
  let reason: LoopEnd['reason'] = 'budget';
  try {
    while (Date.now() - startedAt < spec.maxRunMs) {
      if (stop()) {
        reason = 'stopped';
        break;
      }
      const at = Date.now();
      const t0 = performance.now();
      const r = await scheduler.tick();
      onTick({ at, ms: performance.now() - t0, transitions: r.transitions, leader: r.leader });
      if (r.transitions === 0 && (await drained(storage))) {
        reason = 'drained';
        break;
      }
      await sleep(spec.tickMs);
    }
  } finally {
    await scheduler.stop();
  }
  return { reason, startedAt, endedAt: Date.now(), wallAtOrigin: startedAt };
}
