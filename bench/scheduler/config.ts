// Settings of the scheduler benchmark, all from the environment (no flags), on top of the shared
// bench settings (pinning, repository root, Skyport binary) of bench/lib/config.ts.
import { envList as list, envNumber as num, loadConfig, type BenchConfig } from '../lib/config.js';

export const STORES = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORES)[number];

/**
 * Where the scheduler runs. `process`: in the benchmark process, next to `skyport serve` (tasking
 * workers off) sharing the store: readers only feel the store. `embedded`: inside the server process
 * that answers the searches, as a default single-process deployment runs it: readers also share the
 * event loop and the core with every scheduler step.
 */
export const MODES = ['process', 'embedded'] as const;
export type Mode = (typeof MODES)[number];

/** Everything the scheduler benchmark reads from the environment. */
export interface SchedulerBenchConfig extends BenchConfig {
  /** Open orders seeded (BENCH_ORDERS, default 10,000). */
  orders: number;
  /** Customer organizations the orders are spread over (BENCH_ORGS, default 10). */
  orgs: number;
  /** Stores measured, in this order (BENCH_STORES, default sqlite,postgres). */
  stores: StoreKind[];
  /** Modes measured per store, in this order (BENCH_MODES, default process,embedded). */
  modes: Mode[];
  /**
   * Simulated seconds per wall second (SKYPORT_TASKING_TIME_SCALE of the run; BENCH_TIME_SCALE, default 5400: the
   * default windows, over within 3 days, pass in 48 s, so a scheduler that keeps up drains within the default budget).
   */
  timeScale: number;
  /**
   * Pause between scheduler ticks, ms (SKYPORT_TASKING_TICK_MS; BENCH_TICK_MS, default 20, the smallest Skyport accepts,
   * so the scheduler works flat out: its capacity, and the worst case for readers; Skyport's default is 1000).
   */
  tickMs: number;
  /** Due orders per tick (the Scheduler's `batch`; BENCH_BATCH, default 50 = its default). */
  batch: number;
  /** Order windows start within this many days of the orders' creation (BENCH_WINDOW_START_DAYS, default 1). */
  windowStartDays: number;
  /** Order windows last between 1 day and this many days (BENCH_WINDOW_DAYS, default 2). */
  windowDays: number;
  /** Seconds of searches with the scheduler idle, before and again after the run (BENCH_IDLE_SECONDS, default 10). */
  idleSeconds: number;
  /** Searches per second sent by the latency probe (open loop; BENCH_PROBE_RPS, default 10). */
  probeRps: number;
  /** The run stops after this many seconds even when orders are left (BENCH_MAX_RUN_SECONDS, default 60). */
  maxRunSeconds: number;
  /** Width of the windows transitions per second are counted over, s (BENCH_RATE_WINDOW_SECONDS, default 5). */
  rateWindowSeconds: number;
  /** Archive items the searches run over, in the two demo collections (BENCH_CATALOG_ITEMS, default 10,000). */
  catalogItems: number;
  /** Seed of the orders, the archive and the searches (BENCH_SEED, default 1). */
  seed: number;
  /** Admin connection URL of the PostgreSQL server; a fresh database is created on it per mode and dropped. */
  postgresAdminUrl: string;
  /** Folder for the SQLite stores and delivered assets (BENCH_TMP, default the OS temp dir). */
  tmpDir: string | undefined;
}

/** Reads the scheduler benchmark's settings; throws Error naming the variable for a bad value. */
export function loadSchedulerConfig(): SchedulerBenchConfig {
  const windowDays = num('BENCH_WINDOW_DAYS', 2, 1, false);
  return {
    ...loadConfig(),
    orders: num('BENCH_ORDERS', 10_000, 1),
    orgs: num('BENCH_ORGS', 10, 1),
    stores: list('BENCH_STORES', STORES),
    modes: list('BENCH_MODES', MODES),
    timeScale: num('BENCH_TIME_SCALE', 5400, 1),
    tickMs: num('BENCH_TICK_MS', 20, 20),
    batch: num('BENCH_BATCH', 50, 1),
    windowStartDays: num('BENCH_WINDOW_START_DAYS', 1, 0, false),
    windowDays,
    idleSeconds: num('BENCH_IDLE_SECONDS', 10, 1),
    probeRps: num('BENCH_PROBE_RPS', 10, 1),
    maxRunSeconds: num('BENCH_MAX_RUN_SECONDS', 60, 5),
    rateWindowSeconds: num('BENCH_RATE_WINDOW_SECONDS', 5, 1),
    catalogItems: num('BENCH_CATALOG_ITEMS', 10_000, 0),
    seed: num('BENCH_SEED', 1, 0),
    postgresAdminUrl: process.env.SKYPORT_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    tmpDir: process.env.BENCH_TMP || undefined,
  };
}
