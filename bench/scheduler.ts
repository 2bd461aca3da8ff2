// Scheduler benchmark: `node dist/bench/scheduler.js` (npm script bench:scheduler).
//
// Per store (embedded SQLite; PostgreSQL + PostGIS in a fresh database `skyport_bench_<random>`) and
// per mode (see bench/scheduler/config.ts MODES), on a fresh store each time:
//   - the demo constellation, an archive of catalog items, 1 reader and BENCH_ORGS customer
//     organizations, and BENCH_ORDERS open orders placed through order-service.ts `placeOrder`;
//   - `process` mode: `skyport serve` (tasking workers off) pinned to core 0 and the Scheduler in this
//     process; `embedded` mode: the Scheduler inside the server process (bench/scheduler/embedded-server.ts),
//     as a single-process deployment runs it;
//   - a reader (bench/scheduler/probe.ts, on the core the scheduler is not on) sends authenticated
//     `GET /search?bbox&datetime&limit=100` open loop throughout: BENCH_IDLE_SECONDS with the scheduler
//     idle, then while it drains the orders (until every order is final or BENCH_MAX_RUN_SECONDS), then
//     idle again;
//   - printed: transitions per second (median over BENCH_RATE_WINDOW_SECONDS windows), time until
//     every order was final, what each transition and store call cost, CPU, search latency per phase
//     and the run/idle latency ratios. Saved to bench/results/scheduler-<time>.json.
//
// Environment: BENCH_ORDERS (10000), BENCH_ORGS (10), BENCH_STORES=sqlite,postgres, BENCH_MODES=process,embedded,
// BENCH_TIME_SCALE (5400), BENCH_TICK_MS (20), BENCH_BATCH (50), BENCH_WINDOW_START_DAYS (1), BENCH_WINDOW_DAYS (2),
// BENCH_IDLE_SECONDS (10), BENCH_PROBE_RPS (10), BENCH_MAX_RUN_SECONDS (60), BENCH_RATE_WINDOW_SECONDS (5),
// BENCH_CATALOG_ITEMS (10000), BENCH_SEED (1), BENCH_TMP, SKYPORT_TEST_DATABASE_URL (PostgreSQL admin URL,
// default postgres://postgres@127.0.0.1:5432/postgres), BENCH_SKYPORT_BIN.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchDatabase } from './catalog/stores.js';
import { killAllSync, reportBackgroundCpu, stopAll } from './lib/procs.js';
import { machineInfo } from './lib/report.js';
import { loadSchedulerConfig } from './scheduler/config.js';
import {
  formatBreakdown,
  formatDrain,
  formatReaders,
  formatThroughput,
  saveSchedulerResults,
  sourceFingerprint,
} from './scheduler/report.js';
import { benchRun, type RunResult } from './scheduler/run.js';
import { measureUnitCosts, type UnitCosts } from './scheduler/unit-costs.js';

/** Orders whose pass search and delivery rendering are timed alone. */
const UNIT_SAMPLE = 200;

const databases: BenchDatabase[] = [];
let scratch: string | undefined;
let interrupted = false;

/** Ctrl-C: kill the servers and the probe, drop the databases, remove the scratch folder. */
function installCleanup(): void {
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      interrupted = true;
      process.stderr.write(`\nbench: ${sig}, stopping child processes and dropping the benchmark databases\n`);
      killAllSync();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      void Promise.allSettled(databases.map((d) => d.drop())).then(() => process.exit(130));
    });
  }
}

/** Pins this process (where the `process`-mode scheduler runs) to `cpu`, away from the server core; false when taskset is missing. */
function pinSelf(cpu: string): boolean {
  return spawnSync('taskset', ['-cp', cpu, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

async function main(): Promise<number> {
  const cfg = loadSchedulerConfig();
  installCleanup();
  const machine = machineInfo(cfg);
  const startedAt = new Date().toISOString();
  const pinned = pinSelf(cfg.loadCpu);
  const n = (x: number) => x.toLocaleString('en-US');
  console.log('Skyport scheduler benchmark');
  console.log(`  cpu: ${machine.cpuModel} x ${machine.cpus}; ${machine.totalMemGiB} GiB; node ${machine.node}`);
  console.log(`  load avg ${machine.loadAvgAtStart.join(' ')}`);
  console.log(`  ${n(cfg.orders)} orders over ${cfg.orgs} organizations; stores: ${cfg.stores.join(', ')}; modes: ${cfg.modes.join(', ')}`);
  console.log(
    `  time scale ${cfg.timeScale}x, tick pause ${cfg.tickMs} ms, batch ${cfg.batch}; ` +
      `windows open within ${cfg.windowStartDays} d, last 1–${cfg.windowDays} d`,
  );
  console.log(
    `  searches: ${cfg.probeRps}/s open loop over ${n(cfg.catalogItems)} archive items; ${cfg.idleSeconds} s idle before and after; ` +
      `run stops when every order is final or after ${cfg.maxRunSeconds} s`,
  );
  console.log(
    `  server on cpu ${cfg.serverCpu}; ${pinned ? `this process (the process-mode scheduler) on cpu ${cfg.loadCpu}; ` : ''}` +
      `searches on cpu ${cfg.serverCpu} (process mode) or ${cfg.loadCpu} (embedded), away from the scheduler; PostgreSQL unpinned`,
  );
  const background = await reportBackgroundCpu();

  scratch = mkdtempSync(path.join(cfg.tmpDir ?? os.tmpdir(), 'skyport-schedbench-'));
  const results: RunResult[] = [];
  let units: UnitCosts | undefined;
  try {
    units = await measureUnitCosts(UNIT_SAMPLE, cfg.seed, Date.now(), cfg.windowStartDays, cfg.windowDays, scratch);
    console.log(
      `\n[unit costs, this process] pass search over an order's window: p50 ${units.passSearch.p50.toFixed(1)} ms, ` +
        `p99 ${units.passSearch.p99.toFixed(1)} ms (${units.passesPerWindow} passes, median); delivery rendering: ` +
        `p50 ${units.delivery.p50.toFixed(1)} ms, p99 ${units.delivery.p99.toFixed(1)} ms (${units.delivery.n} of ${UNIT_SAMPLE} orders)`,
    );
    for (const kind of cfg.stores) {
      for (const mode of cfg.modes) {
        if (interrupted) break;
        console.log(`\n[${kind}, scheduler ${mode === 'process' ? 'in its own process' : 'inside the server'}]`);
        const r = await benchRun(
          cfg,
          kind,
          mode,
          scratch,
          (db) => databases.push(db),
          (line) => console.log(line),
        );
        if (r.status === 'error') console.log(`  ERROR ${r.error ?? ''}`);
        results.push(r);
      }
    }
  } finally {
    await stopAll();
    rmSync(scratch, { recursive: true, force: true });
  }

  console.log('\nScheduler throughput (transitions = order writes: status changes, re-timings, displacements)\n');
  console.log(formatThroughput(results));
  console.log(
    '\n  transitions/s: median over whole windows; per busy s: transitions per second spent inside ticks (no pauses);' +
      `\n  duty: share of the run spent inside ticks; sched CPU: this process (process mode) or the server with its searches (embedded);` +
      `\n  @1 s pause: what the same ticks give with Skyport's default 1000 ms pause after each tick (projection)`,
  );
  console.log('\nWhere the orders ended (seconds after the scheduler started)\n');
  console.log(formatDrain(results));
  for (const r of results) {
    if (!r.run) continue;
    console.log(`\nWhat the scheduler did, ${r.store} / ${r.mode}\n`);
    console.log(formatBreakdown(r));
  }
  console.log('\nSearch latency (GET /search, bbox + datetime, limit 100; client-observed, sent open loop)\n');
  console.log(formatReaders(results));
  for (const r of results) for (const n of r.notes) console.log(`  note (${r.store}/${r.mode}): ${n}`);

  const file = saveSchedulerResults(cfg.root, {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, backgroundCpuPctAtStart: Math.round(background) },
    settings: {
      orders: cfg.orders,
      orgs: cfg.orgs,
      stores: cfg.stores,
      modes: cfg.modes,
      timeScale: cfg.timeScale,
      tickMs: cfg.tickMs,
      batch: cfg.batch,
      windowStartDays: cfg.windowStartDays,
      windowDays: cfg.windowDays,
      idleSeconds: cfg.idleSeconds,
      probeRps: cfg.probeRps,
      maxRunSeconds: cfg.maxRunSeconds,
      rateWindowSeconds: cfg.rateWindowSeconds,
      catalogItems: cfg.catalogItems,
      seed: cfg.seed,
      serverCpu: cfg.serverCpu,
      loadCpu: cfg.loadCpu,
      benchPinned: pinned,
    },
    sources: sourceFingerprint(cfg.root),
    unitCosts: units,
    results,
  });
  console.log(`\nSaved ${file}`);
  return results.some((r) => r.status === 'error') ? 1 : 0;
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
