// Machine info, the results table, the goal ratios and the optional JSON file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchConfig } from './config.js';
import type { Measurement } from './results.js';

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  node: string;
  platform: string;
  kernel: string;
  totalMemGiB: number;
  loadAvgAtStart: number[];
  versions: Record<string, string>;
}

function pkgVersion(root: string, name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '?';
  } catch {
    return 'not installed';
  }
}

export function machineInfo(cfg: BenchConfig): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    versions: {
      openssl: process.versions.openssl ?? '?',
      fastify: pkgVersion(cfg.root, 'fastify'),
      'oidc-provider': pkgVersion(cfg.root, 'oidc-provider'),
      jose: pkgVersion(cfg.root, 'jose'),
      autocannon: pkgVersion(cfg.root, 'autocannon'),
    },
  };
}

// ---- formatting ---------------------------------------------------------------

function fmtRate(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}

function fmtMs(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (x < 1) return x.toFixed(3);
  if (x < 100) return x.toFixed(2);
  return x.toFixed(0);
}

function fmtPct(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '-' : `${Math.round(x)}%`;
}

function table(headers: string[], rows: string[][], rightAlign: Set<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths
    .map((w, i) => '-'.repeat(headers[i] === '' ? 0 : w))
    .join('  ')
    .trimEnd();
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function formatMeasurements(ms: Measurement[]): string {
  const rows = ms.map((m) => {
    if (m.status === 'error') {
      return [m.label, 'ERROR', '', '', '', '', '', '', '', m.error ?? ''];
    }
    const med = m.median;
    return [
      m.label,
      fmtRate(med?.rate),
      m.unit,
      fmtMs(med?.p50),
      fmtMs(med?.p99),
      m.runs.map((r) => fmtRate(r.rate)).join(' / '),
      fmtPct(med?.serverCpuPct),
      fmtPct(med?.loadCpuPct),
      fmtPct(med?.otherCpuPct),
      m.notes.length > 0 ? `(${m.notes.length} note${m.notes.length > 1 ? 's' : ''} below)` : '',
    ];
  });
  const out = [
    table(
      ['measurement', 'median', 'unit', 'p50 ms', 'p99 ms', 'runs', 'srv CPU', 'load CPU', 'other', ''],
      rows,
      new Set([1, 3, 4, 6, 7, 8]),
    ),
  ];
  const notes = ms.flatMap((m) => m.notes.map((n) => `  - ${m.label}: ${n}`));
  if (notes.length > 0) out.push('', 'Notes:', ...notes);
  return out.join('\n');
}

// ---- goal ratios ----------------------------------------------------------------

export interface Ratio {
  name: string;
  numerator: string;
  denominator: string;
  value: number | null;
  goal: number | null;
  verdict: 'PASS' | 'MISS' | 'n/a' | 'info';
  why?: string;
}

function rateOf(ms: Measurement[], id: string): { rate?: number; why?: string } {
  const m = ms.find((x) => x.id === id);
  if (!m) return { why: `${id} not measured` };
  if (m.status !== 'ok' || m.median === undefined || !Number.isFinite(m.median.rate) || m.median.rate <= 0) {
    return { why: `${id} failed` };
  }
  return { rate: m.median.rate };
}

function ratio(ms: Measurement[], name: string, num: string, den: string, goal: number | null, caveat?: string): Ratio {
  const a = rateOf(ms, num);
  const b = rateOf(ms, den);
  if (a.rate === undefined || b.rate === undefined) {
    const why = [a.why, b.why].filter(Boolean).join('; ');
    return { name, numerator: num, denominator: den, value: null, goal, verdict: 'n/a', why };
  }
  const value = a.rate / b.rate;
  const verdict = goal === null ? 'info' : value >= goal ? 'PASS' : 'MISS';
  const disturbed = [num, den].some((id) => ms.find((m) => m.id === id)?.notes.some((n) => n.includes('disturbed')));
  const why = [caveat, disturbed ? 'a side may be disturbed (see notes)' : undefined].filter(Boolean).join('; ');
  return { name, numerator: num, denominator: den, value, goal, verdict, ...(why ? { why } : {}) };
}

const SHARED = 'load generator shares the 2 cores: lower bound';

/**
 * The 2-worker scaling per server core: (grants per server CPU-second with 2 workers) ÷ (the same on
 * one pinned core) × 2. On a 2-core machine the load generator takes part of the second core, so the
 * plain ratio understates scaling; this projects it to two full cores. Information, not a verdict.
 */
function perCoreProjection(ms: Measurement[], name: string, multi: string, single: string): Ratio {
  const m = ms.find((x) => x.id === multi)?.median;
  const s = ms.find((x) => x.id === single)?.median;
  if (!m?.serverCpuPct || !s?.serverCpuPct)
    return { name, numerator: multi, denominator: single, value: null, goal: null, verdict: 'n/a', why: 'no CPU readings' };
  const value = (m.rate / (m.serverCpuPct / 100) / (s.rate / (s.serverCpuPct / 100))) * 2;
  return {
    name,
    numerator: multi,
    denominator: single,
    value,
    goal: null,
    verdict: 'info',
    why: 'projected from per-core efficiency; not a measurement of two full cores',
  };
}

export function computeRatios(ms: Measurement[]): Ratio[] {
  return [
    ratio(ms, 'RS256 grants (form) / raw RS256 signing', 'skyport.form.RS256', 'raw.RS256', 0.9),
    ratio(ms, 'RS256 grants (JSON) / raw RS256 signing', 'skyport.json.RS256', 'raw.RS256', 0.9),
    ratio(ms, 'ES256 grants (form) / oidc-provider ES256', 'skyport.form.ES256', 'peer.ES256', 2.5),
    ratio(ms, 'EdDSA grants (form) / oidc-provider EdDSA', 'skyport.form.EdDSA', 'peer.EdDSA', 2.5),
    ratio(ms, 'RS256 grants (form) / oidc-provider RS256', 'skyport.form.RS256', 'peer.RS256', null),
    ratio(ms, 'RS256 grants 2 workers / 1 core', 'skyport.multi.RS256', 'skyport.form.RS256', 1.8, SHARED),
    ratio(ms, 'ES256 grants 2 workers / 1 core', 'skyport.multi.ES256', 'skyport.form.ES256', 1.8, SHARED),
    perCoreProjection(ms, 'RS256 2 workers, per server core x 2', 'skyport.multi.RS256', 'skyport.form.RS256'),
    perCoreProjection(ms, 'ES256 2 workers, per server core x 2', 'skyport.multi.ES256', 'skyport.form.ES256'),
    ratio(ms, 'protected GET (RS256 token) / empty route', 'skyport.protected.RS256', 'empty', 0.5),
    ratio(ms, 'protected GET (ES256 token) / empty route', 'skyport.protected.ES256', 'empty', 0.5),
    ratio(ms, 'protected GET (EdDSA token) / empty route', 'skyport.protected.EdDSA', 'empty', 0.5),
  ];
}

export function formatRatios(ratios: Ratio[]): string {
  const rows = ratios.map((r) => [
    r.name,
    r.value === null ? '-' : r.value.toFixed(2),
    r.goal === null ? '(no goal)' : `>= ${r.goal}`,
    r.verdict,
    r.why ?? '',
  ]);
  return table(['ratio', 'value', 'goal', 'verdict', ''], rows, new Set([1]));
}

// ---- JSON ----------------------------------------------------------------------

export function saveResults(cfg: BenchConfig, payload: unknown): string {
  const dir = path.join(cfg.root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `token-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
