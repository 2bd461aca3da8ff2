// The catalog benchmark's results: what each store measured, the goals checked against it,
// the printed tables and the JSON file under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Measurement } from '../lib/results.js';
import type { StoreKind } from './config.js';
import type { PlanSummary } from './floor.js';
import { serverLimits, type KindResult, type LatencyStats, type Layer } from './latency.js';
import { describeKind, type SearchKind } from './queries.js';
import type { LoadFigure } from './stores.js';

/** Everything measured on one store. */
export interface StoreResult {
  store: StoreKind;
  load?: {
    storeAlone?: LoadFigure;
    operator: LoadFigure;
    /** PostgreSQL: VACUUM (ANALYZE) items after the load, s. */
    vacuumAnalyzeSeconds?: number;
    /** Bytes on disk: SQLite file, or PostgreSQL table and indexes. */
    sizes: Record<string, number>;
  };
  latency?: {
    kinds: KindResult[];
    notes: string[];
    /** Paging searches that had a page `deepPage` (the others are left out of page1/deep). */
    pagingSearches: { planned: number; reachedDeepPage: number };
    plans: Record<string, PlanSummary>;
  };
  throughput?: { search: Measurement; empty: Measurement; ratio: number | null };
  errors: string[];
}

/** One goal of the issue checked against a measured value. */
export interface GoalCheck {
  store: StoreKind;
  goal: string;
  value: string;
  target: string;
  verdict: 'met' | 'missed' | 'n/a' | 'info';
  note?: string;
}

/** Bulk-load goal: items/s. Latency goals: ms, server-side. Deep paging: page N p50 / page 1 p50. */
export const GOALS = { loadRate: 10_000, p50Ms: 20, p99Ms: 60, deepRatio: 2 } as const;

export function table(headers: string[], rows: string[][], right: Set<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function fmtMs(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
const pair = (s: LatencyStats | undefined) => (s ? `${fmtMs(s.p50)} / ${fmtMs(s.p99)}` : '-');

/** Which layer a latency goal is judged on: the server-side time, else (log unavailable) the client's. */
function judged(k: KindResult | undefined): { layer: Layer; s: LatencyStats } | undefined {
  if (!k) return undefined;
  if (k.layers.server) return { layer: 'server', s: k.layers.server };
  if (k.layers.client) return { layer: 'client', s: k.layers.client };
  return undefined;
}

/** Checks every goal of the issue on one store's results. */
export function checkGoals(r: StoreResult): GoalCheck[] {
  const out: GoalCheck[] = [];
  const loadGoal = (name: string, f: LoadFigure | undefined) => {
    if (!f) return;
    out.push({
      store: r.store,
      goal: `bulk load, ${name}`,
      value: `${fmtInt(f.rate)} items/s`,
      target: `>= ${fmtInt(GOALS.loadRate)}/s`,
      verdict: f.rate >= GOALS.loadRate ? 'met' : 'missed',
    });
  };
  loadGoal('operator path (loadStac)', r.load?.operator);
  // The goal is the bulk load (`skyport catalog load`). The store-alone figure shows what a caller writing one
  // batch at a time, rows computed on its own thread, gets: no overlap of client and server work, so the server's
  // time per row bounds it. Reported, not judged.
  if (r.load?.storeAlone) {
    out.push({
      store: r.store,
      goal: 'store alone (upsertItems, one batch at a time)',
      value: `${fmtInt(r.load.storeAlone.rate)} items/s`,
      target: '(reported)',
      verdict: 'info',
    });
  }
  const kind = (k: SearchKind) => r.latency?.kinds.find((x) => x.kind === k);
  for (const k of ['bbox', 'cql2'] as const) {
    const j = judged(kind(k));
    const name = k === 'bbox' ? '/search bbox+datetime+collections' : '/search ... + CQL2 eo:cloud_cover';
    if (!j) {
      if (r.latency) out.push({ store: r.store, goal: name, value: '-', target: '', verdict: 'n/a', note: 'not measured' });
      continue;
    }
    const note = j.layer === 'client' ? 'client-observed (server log unavailable)' : 'server-side (fastify responseTime)';
    out.push({
      store: r.store,
      goal: `${name} p50`,
      value: `${fmtMs(j.s.p50)} ms`,
      target: `<= ${GOALS.p50Ms} ms`,
      verdict: j.s.p50 <= GOALS.p50Ms ? 'met' : 'missed',
      note,
    });
    out.push({
      store: r.store,
      goal: `${name} p99`,
      value: `${fmtMs(j.s.p99)} ms`,
      target: `<= ${GOALS.p99Ms} ms`,
      verdict: j.s.p99 <= GOALS.p99Ms ? 'met' : 'missed',
      note,
    });
  }
  const p1 = judged(kind('page1'));
  const deep = judged(kind('deep'));
  if (r.latency && p1 && deep) {
    const ratio = deep.s.p50 / p1.s.p50;
    out.push({
      store: r.store,
      goal: 'deep paging: page N p50 / page 1 p50',
      value: `${ratio.toFixed(2)} (${fmtMs(deep.s.p50)} / ${fmtMs(p1.s.p50)} ms)`,
      target: `<= ${GOALS.deepRatio}`,
      verdict: ratio <= GOALS.deepRatio ? 'met' : 'missed',
      note: `p99 ratio ${(deep.s.p99 / p1.s.p99).toFixed(2)}`,
    });
  } else if (r.latency) {
    out.push({ store: r.store, goal: 'deep paging', value: '-', target: '', verdict: 'n/a', note: 'no search had enough pages' });
  }
  if (r.throughput) {
    const t = r.throughput;
    out.push({
      store: r.store,
      goal: `/search throughput, ${t.search.setup.connections ?? '?'} clients / empty-route ceiling`,
      value:
        t.ratio === null
          ? '-'
          : `${t.ratio.toPrecision(2)} (${fmtInt(t.search.median?.rate ?? NaN)} / ${fmtInt(t.empty.median?.rate ?? NaN)} req/s)`,
      target: '(reported)',
      verdict: t.ratio === null ? 'n/a' : 'info',
    });
  }
  return out;
}

/** The load table of all stores. */
export function formatLoads(results: StoreResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    if (!r.load) continue;
    const l = r.load;
    const fig = (name: string, f: LoadFigure | undefined, note: string) => {
      if (f) rows.push([r.store, name, fmtInt(f.items), f.seconds.toFixed(1), fmtInt(f.rate), note]);
    };
    fig(
      'store alone: upsertItems, batches of 1000',
      l.storeAlone,
      l.storeAlone ? `wall ${l.storeAlone.wallSeconds.toFixed(1)} s incl. parsing` : '',
    );
    fig(
      'operator path: loadStac (parse+normalize+validate+upsert)',
      l.operator,
      l.vacuumAnalyzeSeconds !== undefined ? `then VACUUM ANALYZE ${l.vacuumAnalyzeSeconds.toFixed(1)} s` : '',
    );
    rows.push([
      r.store,
      'on disk',
      '',
      '',
      '',
      Object.entries(l.sizes)
        .map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(0)} MiB`)
        .join(', '),
    ]);
  }
  return table(['store', 'load', 'items', 's', 'items/s', ''], rows, new Set([2, 3, 4]));
}

/** The latency table of one store: every search kind on every layer (p50 / p99 ms). */
export function formatLatency(r: StoreResult, deepPage: number): string {
  if (!r.latency) return '';
  // The API leaves numberMatched out when the count passes its limit.
  const countLimit = serverLimits().countLimit;
  const matched = (k: KindResult) => (k.matched !== null ? fmtInt(k.matched) : countLimit > 0 ? `> ${fmtInt(countLimit)}` : '-');
  const rows = r.latency.kinds.map((k) => [
    `${k.kind}: ${describeKind(k.kind, deepPage)}`,
    pair(k.layers.floor),
    pair(k.layers.store),
    pair(k.layers.server),
    pair(k.layers.client),
    String(k.layers.client?.n ?? 0),
    fmtInt(k.returned),
    matched(k),
    k.mismatches ? `${k.mismatches} differ!` : '',
  ]);
  return table(
    ['search', 'floor SQL', 'store', 'API server', 'API client', 'n', 'items', 'matched', ''],
    rows,
    new Set([1, 2, 3, 4, 5, 6, 7]),
  );
}

export function formatGoals(goals: GoalCheck[]): string {
  return table(
    ['store', 'goal', 'value', 'target', 'verdict', ''],
    goals.map((g) => [g.store, g.goal, g.value, g.target, g.verdict.toUpperCase(), g.note ?? '']),
    new Set([2]),
  );
}

/** Writes `payload` to bench/results/catalog-<time>.json under `root`; returns the path. */
export function saveCatalogResults(root: string, payload: unknown): string {
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `catalog-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
