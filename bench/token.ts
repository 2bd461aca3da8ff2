// Token-endpoint benchmark: `npm run bench:token`.
//
// Servers (and the raw signing loop) run pinned to core 0, the load generator
// (autocannon, in its own child process) to core 1. Each measurement: one
// warm-up, then BENCH_RUNS runs of BENCH_SECONDS; the median is reported.
// See docs/performance-method.md for the method and how to read the output.
//
// Environment: BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (2), BENCH_RUNS (3),
// BENCH_CONNECTIONS (32), BENCH_CONNECTIONS_MULTI (64), BENCH_WORKERS (2),
// BENCH_ONLY=raw,empty,peer,skyport, BENCH_SAVE=1 (write bench/results/token-<time>.json),
// BENCH_SKYPORT_BIN (script run as `node <it> serve`; default bin/skyport.js).
import { setTimeout as sleep } from 'node:timers/promises';
import { ALGS, loadConfig, type Part } from './lib/config.js';
import { installCleanupHandlers, stopAll, systemCpu } from './lib/procs.js';
import { computeRatios, formatMeasurements, formatRatios, machineInfo, saveResults } from './lib/report.js';
import type { Measurement } from './lib/results.js';
import { benchEmpty } from './suites/empty.js';
import { benchPeer } from './suites/peer.js';
import { benchRaw } from './suites/raw.js';
import { benchSkyport, benchSkyportMulti } from './suites/skyport.js';

function progress(m: Measurement): void {
  if (m.status === 'error') {
    console.log(`  ${m.label}: ERROR ${m.error ?? ''}`);
    return;
  }
  const med = m.median;
  const rate = med ? Math.round(med.rate).toLocaleString('en-US') : '-';
  const p = med ? `p50 ${med.p50.toFixed(3)} ms, p99 ${med.p99.toFixed(3)} ms` : '';
  console.log(`  ${m.label}: ${rate} ${m.unit} (${p})`);
}

async function main(): Promise<number> {
  const cfg = loadConfig();
  installCleanupHandlers();
  const machine = machineInfo(cfg);
  const startedAt = new Date().toISOString();
  const has = (p: Part): boolean => cfg.only.has(p);

  console.log('Skyport token benchmark');
  console.log(`  cpu: ${machine.cpuModel} x ${machine.cpus}; node ${machine.node}; OpenSSL ${machine.versions.openssl}`);
  console.log(
    `  fastify ${machine.versions.fastify}, oidc-provider ${machine.versions['oidc-provider']}, ` +
      `jose ${machine.versions.jose}, autocannon ${machine.versions.autocannon}; load avg ${machine.loadAvgAtStart.join(' ')}`,
  );
  console.log(
    `  servers on cpu ${cfg.serverCpu}, load generator on cpu ${cfg.loadCpu}; ${cfg.warmupSeconds} s warm-up + ` +
      `${cfg.runs} x ${cfg.seconds} s per measurement, median reported; ${cfg.connections} connections ` +
      `(${cfg.connectionsMulti} in ${cfg.workers}-worker mode); parts: ${[...cfg.only].join(', ')}`,
  );
  if (machine.cpus < 2) console.log('  WARNING: fewer than 2 CPUs, pinning server and load generator apart is impossible');
  if (cfg.skyportBin !== `${cfg.root}/bin/skyport.js`) console.log(`  Skyport command: node ${cfg.skyportBin} serve`);

  // Background activity check: the benchmark needs an otherwise idle machine.
  const before = systemCpu();
  await sleep(1000);
  const background = (systemCpu().busy - before.busy) * 100;
  console.log(`  background CPU before start: ${background.toFixed(0)}% of one core`);
  if (background > 10) {
    console.log('  WARNING: the machine is not idle; see the "other" column and the notes for disturbed runs');
  }

  const results: Measurement[] = [];
  const add = (m: Measurement): void => {
    results.push(m);
    progress(m);
  };

  try {
    if (has('raw')) {
      console.log('\n[1/4] raw node:crypto signing');
      for (const alg of ALGS) add(await benchRaw(cfg, alg));
    }
    if (has('empty')) {
      console.log('\n[2/4] fastify empty-route ceiling');
      add(await benchEmpty(cfg));
    }
    if (has('peer')) {
      console.log('\n[3/4] peer: oidc-provider client_credentials (JWT access tokens)');
      for (const alg of ALGS) add(await benchPeer(cfg, alg));
    }
    if (has('skyport')) {
      console.log('\n[4/4] Skyport');
      for (const alg of ALGS) for (const m of await benchSkyport(cfg, alg)) add(m);
      for (const alg of ['RS256', 'ES256'] as const) add(await benchSkyportMulti(cfg, alg));
    }
  } finally {
    await stopAll();
  }

  const ratios = computeRatios(results);
  console.log('\nResults (median of runs; latency of 2xx responses, or per signature for raw)\n');
  console.log(formatMeasurements(results));
  console.log('\nGoals\n');
  console.log(formatRatios(ratios));

  if (cfg.save) {
    const settings = {
      seconds: cfg.seconds,
      warmupSeconds: cfg.warmupSeconds,
      runs: cfg.runs,
      connections: cfg.connections,
      connectionsMulti: cfg.connectionsMulti,
      workers: cfg.workers,
      serverCpu: cfg.serverCpu,
      loadCpu: cfg.loadCpu,
      skyportBin: cfg.skyportBin,
      only: [...cfg.only],
    };
    const file = saveResults(cfg, {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { ...machine, backgroundCpuPctAtStart: Math.round(background) },
      settings,
      measurements: results,
      ratios,
    });
    console.log(`\nSaved ${file}`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    await stopAll();
    process.exitCode = 1;
  },
);
