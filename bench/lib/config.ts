// Benchmark settings, all from the environment so `npm run bench:token` needs no flags.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type Alg = (typeof ALGS)[number];

export const PARTS = ['raw', 'empty', 'peer', 'skyport'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchConfig {
  /** Measured seconds per run (BENCH_SECONDS, default 5). */
  seconds: number;
  /** Warm-up seconds before the first run of each measurement (BENCH_WARMUP_SECONDS, default 2). */
  warmupSeconds: number;
  /** Runs per measurement; the median is reported (BENCH_RUNS, default 3). */
  runs: number;
  /** autocannon connections against a single pinned server process (BENCH_CONNECTIONS, default 32). */
  connections: number;
  /** autocannon connections in the unpinned multi-worker mode (BENCH_CONNECTIONS_MULTI, default 64). */
  connectionsMulti: number;
  /** Worker count for the "two cores" Skyport measurement (BENCH_WORKERS, default 2). */
  workers: number;
  /** Core the servers (and the raw signing loop) run on. */
  serverCpu: string;
  /** Core the load generator runs on. */
  loadCpu: string;
  /** Script started as `node <script> serve` for Skyport (BENCH_SKYPORT_BIN, default bin/skyport.js). */
  skyportBin: string;
  only: ReadonlySet<Part>;
  save: boolean;
  /** Repository root (where package.json and bin/ live). */
  root: string;
  /** dist/bench (where the compiled child entry points live). */
  distBench: string;
}

function num(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`${name} must be a number >= ${min} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

function parseOnly(raw: string | undefined): ReadonlySet<Part> {
  if (raw === undefined || raw.trim() === '') return new Set(PARTS);
  const selected = new Set<Part>();
  for (const item of raw.split(',').map((s) => s.trim().toLowerCase())) {
    if (item === '') continue;
    if (!(PARTS as readonly string[]).includes(item)) {
      throw new Error(`BENCH_ONLY: unknown part ${JSON.stringify(item)} (known: ${PARTS.join(', ')})`);
    }
    selected.add(item as Part);
  }
  return selected;
}

export function loadConfig(): BenchConfig {
  // This file is compiled to dist/bench/lib/config.js.
  const distBench = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const root = path.resolve(distBench, '..', '..');
  return {
    seconds: num('BENCH_SECONDS', 5, 1),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', 2, 0),
    runs: Math.round(num('BENCH_RUNS', 3, 1)),
    connections: Math.round(num('BENCH_CONNECTIONS', 32, 1)),
    connectionsMulti: Math.round(num('BENCH_CONNECTIONS_MULTI', 64, 1)),
    workers: Math.round(num('BENCH_WORKERS', 2, 1)),
    serverCpu: '0',
    loadCpu: '1',
    skyportBin: path.resolve(root, process.env.BENCH_SKYPORT_BIN || path.join('bin', 'skyport.js')),
    only: parseOnly(process.env.BENCH_ONLY),
    save: process.env.BENCH_SAVE === '1',
    root,
    distBench,
  };
}

/**
 * A numeric setting from the environment (`_` allowed as a digit separator: BENCH_ITEMS=1_000_000), `fallback`
 * when unset; throws Error naming the variable when it is not a number >= `min` (an integer unless `integer` is false).
 */
export function envNumber(name: string, fallback: number, min: number, integer = true): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value)))
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min} (got ${JSON.stringify(raw)})`);
  return value;
}

/** A comma-separated subset of `known` from the environment (all of them when unset), deduplicated; throws on unknown values. */
export function envList<T extends string>(name: string, known: readonly T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...known];
  const out: T[] = [];
  for (const item of raw.split(',').map((s) => s.trim().toLowerCase())) {
    if (item === '') continue;
    if (!(known as readonly string[]).includes(item))
      throw new Error(`${name}: unknown value ${JSON.stringify(item)} (known: ${known.join(', ')})`);
    if (!out.includes(item as T)) out.push(item as T);
  }
  return out;
}
