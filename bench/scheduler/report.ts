// The scheduler benchmark's tables and its JSON file (bench/results/scheduler-<time>.json).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunResult } from './run.js';

function table(headers: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const ms = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? '-' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${Math.round(x)}%`);
const sec = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(1)} s`);
const ratio = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`);

/** Throughput of the scheduler, one row per (store, mode). */
export function formatThroughput(results: RunResult[]): string {
  const rows = results.map((r) => {
    if (r.status === 'error' || !r.run) return [r.store, r.mode, 'ERROR', (r.error ?? '').split('\n')[0] ?? ''];
    const x = r.run;
    const cpu = r.phases.find((p) => p.name === 'run')?.cpu;
    const drained = x.drainSeconds !== null ? sec(x.drainSeconds) : `no: ${int(x.drain.open)} open at ${x.seconds.toFixed(0)} s`;
    return [
      r.store,
      r.mode,
      int(r.setup.orders),
      drained,
      int(x.medianRate),
      int(x.medianStatusRate),
      x.windows.length ? `${int(Math.min(...x.windows))}–${int(Math.max(...x.windows))}` : '-',
      int(x.ticks.busyRate),
      pct(x.ticks.dutyPct),
      `${ms(x.ticks.tickP50)} / ${ms(x.ticks.tickMax)}`,
      pct(r.mode === 'process' ? cpu?.scheduler : cpu?.server),
      pct(cpu?.postgres),
      pct(cpu?.other),
      int(x.ticks.rateAtPause),
    ];
  });
  return table(
    [
      'store',
      'mode',
      'orders',
      'drained',
      'transitions/s',
      'status changes/s',
      'windows',
      'per busy s',
      'duty',
      'tick p50 / max ms',
      'sched CPU',
      'PG CPU',
      'other CPU',
      '@1 s pause',
    ],
    rows,
    new Set([2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
  );
}

/** Where the orders ended and when, one row per (store, mode). */
export function formatDrain(results: RunResult[]): string {
  const codes = ['completed', 'failed', 'expired', 'rejected'];
  const rows = results.flatMap((r) => {
    if (!r.run) return [];
    const d = r.run.drain;
    const others = Object.entries(d.byStatus).filter(([k]) => !codes.includes(k));
    return [
      [
        r.store,
        r.mode,
        ...codes.map((c) => int(d.byStatus[c] ?? 0)),
        others.length ? others.map(([k, n]) => `${k} ${n}`).join(', ') : '-',
        `${sec(d.finalAt.p50)} / ${sec(d.finalAt.p90)} / ${sec(d.finalAt.p100)}`,
        d.meanAttemptsCompleted.toFixed(2),
        String(d.maxAttempts),
      ],
    ];
  });
  return table(
    ['store', 'mode', ...codes, 'not final', '50% / 90% / all final at', 'attempts (completed)', 'max attempts'],
    rows,
    new Set([2, 3, 4, 5, 8, 9]),
  );
}

/** What each run's scheduler wrote (by kind) and read (by method), with the store's mean time per call. */
export function formatBreakdown(r: RunResult, top = 14): string {
  if (!r.run) return '';
  const seconds = r.run.seconds;
  const t = r.run.transitions
    .slice(0, top)
    .map(([k, s]) => [k, int(s.calls), `${int(s.calls / seconds)}/s`, ms(s.ms / s.calls), ms(s.maxMs)]);
  const more = r.run.transitions.length - top;
  if (more > 0) t.push([`(${more} more kinds in the JSON file)`, '', '', '', '']);
  const reads = r.run.reads.map(([k, s]) => [
    k,
    int(s.calls),
    `${int(s.calls / seconds)}/s`,
    ms(s.ms / s.calls),
    ms(s.maxMs),
    s.rows === undefined ? '-' : (s.rows / s.calls).toFixed(1),
  ]);
  const writeMs = r.run.transitions.reduce((a, [, s]) => a + s.ms, 0) / 1000;
  const readMs = r.run.reads.reduce((a, [, s]) => a + s.ms, 0) / 1000;
  const busy = r.run.ticks.busySeconds;
  return [
    table(['transition (store writes)', 'count', 'rate', 'mean write ms', 'max ms'], t, new Set([1, 2, 3, 4])),
    '',
    table(['other store calls', 'calls', 'rate', 'mean ms', 'max ms', 'rows/call'], reads, new Set([1, 2, 3, 4, 5])),
    '',
    `  time in ticks ${busy.toFixed(1)} s: transitionOrder ${writeMs.toFixed(1)} s, other store calls ${readMs.toFixed(1)} s, ` +
      `the rest (pass searches, delivery rendering, JSON${r.mode === 'embedded' ? '; and the searches served between steps' : ''}) ` +
      `${Math.max(0, busy - writeMs - readMs).toFixed(1)} s`,
  ].join('\n');
}

/** Search latency by phase, and the run/idle ratios. */
export function formatReaders(results: RunResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const p of r.phases) {
      const l = p.latency;
      const bad = l.non200 + l.errors + l.skipped;
      rows.push([
        r.store,
        r.mode,
        p.name,
        int(l.n),
        ms(l.p50),
        ms(l.p99),
        ms(l.max),
        pct(p.cpu.server),
        p.eld ? `${ms(p.eld.p99Median)} / ${ms(p.eld.max)}` : '-',
        bad ? `${l.non200} non-200, ${l.errors} errors, ${l.skipped} skipped` : '',
      ]);
    }
  }
  const lat = table(
    ['store', 'mode', 'phase', 'searches', 'p50 ms', 'p99 ms', 'max ms', 'server CPU', 'event-loop delay p99 / max ms', ''],
    rows,
    new Set([3, 4, 5, 6, 7]),
  );
  const ratios = results.flatMap((r) =>
    r.readers
      ? [
          [
            r.store,
            r.mode,
            ms(r.readers.idle.p50),
            ms(r.readers.run.p50),
            ratio(r.readers.p50Ratio),
            ms(r.readers.idle.p99),
            ms(r.readers.run.p99),
            ratio(r.readers.p99Ratio),
          ],
        ]
      : [],
  );
  return [
    lat,
    '',
    table(
      ['store', 'mode', 'idle p50', 'run p50', 'run/idle p50', 'idle p99', 'run p99', 'run/idle p99'],
      ratios,
      new Set([2, 3, 4, 5, 6, 7]),
    ),
  ].join('\n');
}

/** SHA-256 (first 12 hex) and modification time of the source files the figures depend on, so results name what they measured. */
export function sourceFingerprint(root: string): Record<string, string> {
  const files = [
    'src/tasking/scheduler.ts',
    'src/tasking/delivery.ts',
    'src/tasking/order-service.ts',
    'src/storage/sqlite/tasking.ts',
    'src/storage/postgres/tasking.ts',
  ];
  const out: Record<string, string> = {};
  for (const f of files) {
    try {
      const text = readFileSync(path.join(root, f));
      out[f] =
        `${createHash('sha256').update(text).digest('hex').slice(0, 12)} (modified ${statSync(path.join(root, f)).mtime.toISOString()})`;
    } catch {
      out[f] = 'missing';
    }
  }
  return out;
}

/** Writes the results to bench/results/scheduler-<time>.json under `root`; returns the path. */
export function saveSchedulerResults(root: string, payload: unknown): string {
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `scheduler-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
