// Settings of the catalog benchmark, all from the environment (no flags), on top of the shared
// bench settings (durations, runs, pinning, repository root) of bench/lib/config.ts.
import { envList as list, envNumber as int, loadConfig, type BenchConfig } from '../lib/config.js';

export const STORES = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORES)[number];

export const PARTS = ['load', 'latency', 'throughput'] as const;
export type CatalogPart = (typeof PARTS)[number];

/** Everything the catalog benchmark reads from the environment. */
export interface CatalogBenchConfig extends BenchConfig {
  /** Generated items, split over 5 collections (BENCH_ITEMS, default 1,000,000). */
  items: number;
  /** Stores measured, in this order (BENCH_STORES, default sqlite,postgres). */
  stores: StoreKind[];
  /** Parts run (BENCH_PARTS, default all): without `load` the store-alone load is skipped (the operator load always runs: searches need it). */
  parts: ReadonlySet<CatalogPart>;
  /** Seed of the generator and of the query list (BENCH_SEED, default 1). */
  seed: number;
  /** Sequential requests per latency measurement (BENCH_REQUESTS, default 200), after BENCH_WARMUP_REQUESTS (20). */
  requests: number;
  warmupRequests: number;
  /** Deep-paging page timed against page 1 (BENCH_PAGE, default 100) and how many paging searches (BENCH_PAGING_SEARCHES, 5). */
  deepPage: number;
  pagingSearches: number;
  /** Timed requests of page 1 and of page N each (BENCH_PAGING_REQUESTS, default 50): wide searches are slow at 1M items. */
  pagingRequests: number;
  /** Time budget of the paging part per store, s (BENCH_PAGING_BUDGET, default 300): walking next links, and the timed pairs past 10. */
  pagingBudgetSeconds: number;
  /** Concurrent connections of the throughput measurement (BENCH_CATALOG_CONNECTIONS, default 50). */
  catalogConnections: number;
  /** Admin connection URL of the PostgreSQL server; a fresh database is created on it and dropped at the end. */
  postgresAdminUrl: string;
  /** Folder for the generated NDJSON and the SQLite files (BENCH_TMP, default the OS temp dir). */
  tmpDir: string | undefined;
}

/** Reads the catalog benchmark's settings; throws Error naming the variable for a bad value. */
export function loadCatalogConfig(): CatalogBenchConfig {
  return {
    ...loadConfig(),
    items: int('BENCH_ITEMS', 1_000_000, 1000),
    stores: list('BENCH_STORES', STORES),
    parts: new Set(list('BENCH_PARTS', PARTS)),
    seed: int('BENCH_SEED', 1, 0),
    requests: int('BENCH_REQUESTS', 200, 10),
    warmupRequests: int('BENCH_WARMUP_REQUESTS', 20, 0),
    deepPage: int('BENCH_PAGE', 100, 2),
    pagingSearches: int('BENCH_PAGING_SEARCHES', 5, 1),
    pagingRequests: int('BENCH_PAGING_REQUESTS', 50, 5),
    pagingBudgetSeconds: int('BENCH_PAGING_BUDGET', 300, 10),
    catalogConnections: int('BENCH_CATALOG_CONNECTIONS', 50, 1),
    postgresAdminUrl: process.env.SKYPORT_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    tmpDir: process.env.BENCH_TMP || undefined,
  };
}
