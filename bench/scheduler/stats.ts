// Small statistics of the scheduler benchmark: latency percentiles per phase, transition rates over
// fixed windows, and what the orders' final records say about the drain.
import type { OrderRecord } from '../../src/storage/tasking.js';
import { median } from '../lib/results.js';
import type { ProbeSample } from './probe.js';
import type { TickRecord } from './loop.js';

/** Latency of the searches sent in one phase, ms; counts of failures. */
export interface LatencyStats {
  /** Searches answered 200 (the latency figures are theirs). */
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Answered with another status, failed at the socket, or not sent (too many outstanding). */
  non200: number;
  errors: number;
  skipped: number;
}

/** Percentile by the nearest-rank method (p in 0–100) of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Statistics of the samples sent in [from, to) (epoch ms). */
export function latencyOf(samples: readonly ProbeSample[], from: number, to: number): LatencyStats {
  const inside = samples.filter((s) => s.t >= from && s.t < to);
  const ok = inside
    .filter((s) => s.status === 200 && s.ms !== undefined)
    .map((s) => s.ms!)
    .sort((a, b) => a - b);
  return {
    n: ok.length,
    p50: percentile(ok, 50),
    p99: percentile(ok, 99),
    max: ok.at(-1) ?? Number.NaN,
    mean: ok.reduce((a, b) => a + b, 0) / (ok.length || 1),
    non200: inside.filter((s) => s.status !== undefined && s.status !== 200).length,
    errors: inside.filter((s) => s.error !== undefined).length,
    skipped: inside.filter((s) => s.skipped).length,
  };
}

/** Rates over consecutive whole windows of `windowS` seconds from `startMs` to `endMs`, per second. */
export function windowRates(perSecond: ReadonlyMap<number, number>, startMs: number, endMs: number, windowS: number): number[] {
  const first = Math.ceil(startMs / 1000);
  const last = Math.floor(endMs / 1000);
  const out: number[] = [];
  for (let w = first; w + windowS <= last; w += windowS) {
    let n = 0;
    for (let s = w; s < w + windowS; s++) n += perSecond.get(s) ?? 0;
    out.push(n / windowS);
  }
  return out;
}

/** What the ticks add up to: busy time, duty cycle, and the rate the same ticks would give with another pause. */
export interface TickSummary {
  ticks: number;
  transitions: number;
  /** Time spent inside ticks, s, and as % of the run. */
  busySeconds: number;
  dutyPct: number;
  /** Transitions per second of tick time: the scheduler's capacity with no pause at all. */
  busyRate: number;
  /** Transitions per second these ticks would give with a `pauseMs` pause after each (the default 1000 ms). */
  rateAtPause: number;
  pauseMs: number;
  /** Tick durations, ms. */
  tickP50: number;
  tickMax: number;
}

/** Sums the ticks of a run of `runMs`; `pauseMs` is the pause the projection assumes. */
export function summarizeTicks(ticks: readonly TickRecord[], runMs: number, pauseMs: number): TickSummary {
  const busy = ticks.reduce((a, t) => a + t.ms, 0);
  const transitions = ticks.reduce((a, t) => a + t.transitions, 0);
  const working = ticks.filter((t) => t.transitions > 0);
  const workMs = working.reduce((a, t) => a + t.ms + pauseMs, 0);
  const ms = ticks.map((t) => t.ms).sort((a, b) => a - b);
  return {
    ticks: ticks.length,
    transitions,
    busySeconds: busy / 1000,
    dutyPct: runMs > 0 ? (100 * busy) / runMs : Number.NaN,
    busyRate: busy > 0 ? transitions / (busy / 1000) : Number.NaN,
    rateAtPause: workMs > 0 ? working.reduce((a, t) => a + t.transitions, 0) / (workMs / 1000) : Number.NaN,
    pauseMs,
    tickP50: percentile(ms, 50),
    tickMax: ms.at(-1) ?? Number.NaN,
  };
}

/** Where the orders ended: counts by status, and when (s after the scheduler started) they became final. */
export interface DrainSummary {
  byStatus: Record<string, number>;
  final: number;
  open: number;
  /** Seconds after the start by which 50 %, 90 % and all of the orders were final (null: not reached). */
  finalAt: { p50: number | null; p90: number | null; p100: number | null };
  /** Acquisition attempts of completed orders (mean) and the most any order took. */
  meanAttemptsCompleted: number;
  maxAttempts: number;
}

const FINAL = new Set(['rejected', 'completed', 'failed', 'cancelled', 'expired']);

/**
 * The drain as the stored orders tell it. `origin` is the instant the scheduler's clock read when it
 * started (its timestamps, such as updatedAt, count from there).
 */
export function summarizeDrain(orders: readonly OrderRecord[], origin: number): DrainSummary {
  const byStatus: Record<string, number> = {};
  for (const o of orders) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
  const finalTimes = orders
    .filter((o) => FINAL.has(o.status))
    .map((o) => (o.updatedAt - origin) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number): number | null => {
    const need = Math.ceil(q * orders.length);
    return need > 0 && finalTimes.length >= need ? finalTimes[need - 1]! : null;
  };
  const completed = orders.filter((o) => o.status === 'completed');
  return {
    byStatus,
    final: finalTimes.length,
    open: orders.length - finalTimes.length,
    finalAt: { p50: at(0.5), p90: at(0.9), p100: at(1) },
    meanAttemptsCompleted: completed.reduce((a, o) => a + o.attempts, 0) / (completed.length || 1),
    maxAttempts: orders.reduce((a, o) => Math.max(a, o.attempts), 0),
  };
}

export { median };
