// Catalog benchmark: `node dist/bench/catalog.js` (npm script bench:catalog).
//
// 1,000,000 generated STAC items in 5 collections (src/catalog/generate/ndjson.ts), then per store
// (embedded SQLite, PostgreSQL + PostGIS in a fresh database):
//   - bulk load: the store alone (upsertItems, batches of 1000, pre-parsed) and the operator path
//     (loadStac: read, parse, normalize, validate, upsert);
//   - sequential /search latency (p50/p99) with a bearer token: bbox + month + collection, the same
//     with a CQL2 filter on eo:cloud_cover, and page 1 vs page N of a wide search; each search also
//     run on the store in-process and, on PostgreSQL, as hand-written SQL (the floor). Server-side
//     times are fastify's own responseTime (the server runs at log level debug for this part);
//   - /search throughput with 50 connections (autocannon on core 1, Skyport on core 0; PostgreSQL
//     unpinned) as a ratio to the fastify empty-route ceiling measured in the same run.
// Figures are printed with the goals next to them and saved to bench/results/catalog-<time>.json.
//
// Environment: BENCH_ITEMS (1000000), BENCH_STORES=sqlite,postgres, BENCH_PARTS=load,latency,throughput
// (without `load` only the store-alone load is skipped), BENCH_SEED (1), BENCH_REQUESTS (200),
// BENCH_WARMUP_REQUESTS (20), BENCH_PAGE (100), BENCH_PAGING_SEARCHES (5), BENCH_PAGING_REQUESTS (50),
// BENCH_PAGING_BUDGET (300 s per store), BENCH_CATALOG_CONNECTIONS (50), BENCH_SECONDS (5),
// BENCH_WARMUP_SECONDS (2), BENCH_RUNS (3), BENCH_TMP (scratch folder; needs ~2 KB per item for the
// NDJSON plus ~4 KB per item for the SQLite files), SKYPORT_TEST_DATABASE_URL (PostgreSQL admin URL,
// default postgres://postgres@127.0.0.1:5432/postgres), BENCH_SKYPORT_BIN. The full run takes about
// 40 minutes on the 2-core machine (most of it PostgreSQL loading and SQLite's wide searches).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killAllSync, reportBackgroundCpu, stopAll } from './lib/procs.js';
import { formatMeasurements, machineInfo } from './lib/report.js';
import { loadCatalogConfig, type CatalogBenchConfig } from './catalog/config.js';
import { generateDataset } from './catalog/dataset.js';
import { checkGoals, formatGoals, formatLatency, formatLoads, saveCatalogResults, type StoreResult } from './catalog/report.js';
import { benchStore, planSearches } from './catalog/store-bench.js';
import type { BenchDatabase } from './catalog/stores.js';

const databases: BenchDatabase[] = [];
let scratch: string | undefined;

/** Ctrl-C: kill the servers and load generators, drop the databases, remove the scratch folder. */
function installCleanup(): void {
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping child processes and dropping the benchmark databases\n`);
      killAllSync();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      void Promise.allSettled(databases.map((d) => d.drop())).then(() => process.exit(130));
    });
  }
}

/** Prints the load table, per-store latency tables with their plans, and the throughput table. */
function printResults(cfg: CatalogBenchConfig, results: StoreResult[]): void {
  console.log('\nBulk load\n');
  console.log(formatLoads(results));
  for (const r of results) {
    if (!r.latency) continue;
    console.log(
      `\nSearch latency, ${r.store}: p50 / p99 ms, one request at a time (floor: hand-written SQL through pg; store: searchItems in-process;`,
    );
    console.log('API server: fastify responseTime; API client: loopback request as the client saw it, body read)\n');
    console.log(formatLatency(r, cfg.deepPage));
    for (const n of r.latency.notes) console.log(`  note: ${n}`);
    for (const [name, p] of Object.entries(r.latency.plans)) {
      if (r.store === 'sqlite') {
        console.log(`\n  EXPLAIN QUERY PLAN of Skyport's ${name} statement (run once: ${p.executionMs.toFixed(1)} ms)`);
      } else {
        const whose = name.endsWith('.floor') ? `the floor's ${name.slice(0, -6)}` : `Skyport's ${name}`;
        const jit = p.jitMs ? `, of which JIT ${p.jitMs.toFixed(1)} ms` : '';
        console.log(
          `\n  EXPLAIN (ANALYZE, BUFFERS) of ${whose} statement: execution ${p.executionMs.toFixed(2)} ms, planning ${p.planningMs.toFixed(2)} ms${jit}`,
        );
      }
      for (const line of p.lines) console.log(`    ${line}`);
    }
  }
  const loads = results.flatMap((r) => (r.throughput ? [r.throughput.empty, r.throughput.search] : []));
  if (loads.length) {
    console.log(`\nThroughput (${cfg.catalogConnections} connections; median of runs)\n`);
    console.log(formatMeasurements(loads));
  }
}

async function main(): Promise<number> {
  const cfg = loadCatalogConfig();
  installCleanup();
  const machine = machineInfo(cfg);
  const startedAt = new Date().toISOString();
  console.log('Skyport catalog benchmark');
  console.log(
    `  cpu: ${machine.cpuModel} x ${machine.cpus}; ${machine.totalMemGiB} GiB; node ${machine.node}; load avg ${machine.loadAvgAtStart.join(' ')}`,
  );
  console.log(
    `  ${cfg.items.toLocaleString('en-US')} items in 5 collections; stores: ${cfg.stores.join(', ')}; parts: ${[...cfg.parts].join(', ')}; ` +
      `${cfg.requests} searches per kind (+${cfg.warmupRequests} warm-up), deep page ${cfg.deepPage}; ` +
      `throughput: ${cfg.catalogConnections} connections, ${cfg.warmupSeconds} s warm-up + ${cfg.runs} x ${cfg.seconds} s, median`,
  );
  console.log(`  Skyport on cpu ${cfg.serverCpu}, load generator on cpu ${cfg.loadCpu}, PostgreSQL and this process unpinned`);
  const background = await reportBackgroundCpu();

  scratch = mkdtempSync(path.join(cfg.tmpDir ?? os.tmpdir(), 'skyport-catbench-'));
  const results: StoreResult[] = [];
  try {
    console.log(`\n[generate] ${cfg.items.toLocaleString('en-US')} items to ${scratch}/items.ndjson`);
    const ds = await generateDataset(
      path.join(scratch, 'items.ndjson'),
      cfg.items,
      cfg.seed,
      cfg.warmupRequests + cfg.requests + cfg.pagingSearches,
    );
    console.log(
      `  ${(ds.bytes / 2 ** 20).toFixed(0)} MiB in ${ds.seconds.toFixed(1)} s (${Math.round(ds.items / ds.seconds).toLocaleString('en-US')} items/s)`,
    );
    const plan = planSearches(cfg, ds);
    for (const kind of cfg.stores) {
      console.log(`\n[${kind}]`);
      results.push(await benchStore(cfg, kind, ds, plan, scratch, (db) => databases.push(db)));
    }
  } finally {
    await stopAll();
    rmSync(scratch, { recursive: true, force: true });
  }

  printResults(cfg, results);
  const goals = results.flatMap(checkGoals);
  console.log('\nGoals (issue: 1,000,000 items in 5 collections on this 2-core machine)\n');
  console.log(formatGoals(goals));
  if (cfg.items !== 1_000_000) console.log(`  (this run: ${cfg.items.toLocaleString('en-US')} items, not the issue's 1,000,000)`);
  for (const r of results) for (const e of r.errors) console.log(`  ERROR ${r.store}: ${e}`);

  const file = saveCatalogResults(cfg.root, {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, backgroundCpuPctAtStart: Math.round(background) },
    settings: {
      items: cfg.items,
      stores: cfg.stores,
      parts: [...cfg.parts],
      seed: cfg.seed,
      requests: cfg.requests,
      warmupRequests: cfg.warmupRequests,
      deepPage: cfg.deepPage,
      pagingSearches: cfg.pagingSearches,
      connections: cfg.catalogConnections,
      seconds: cfg.seconds,
      warmupSeconds: cfg.warmupSeconds,
      runs: cfg.runs,
    },
    results,
    goals,
  });
  console.log(`\nSaved ${file}`);
  return results.some((r) => r.errors.length) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    await stopAll();
    await Promise.allSettled(databases.map((d) => d.drop()));
    process.exitCode = 1;
  },
);
