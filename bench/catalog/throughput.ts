// Parent side of the catalog load generator (loadgen.ts): as bench/lib/load.ts, with a list of paths
// instead of one URL, and the CPU of PostgreSQL's processes sampled next to the server's (PostgreSQL
// is not pinned: on this 2-core machine it shares both cores with the server and the load generator).
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { LoadEvent } from '../child/loadgen.js';
import { spawnChild, stopChild, systemCpu, treeCpuSeconds, type SystemCpu } from '../lib/procs.js';
import { median, summarize, type Measurement, type RunSample } from '../lib/results.js';
import type { CatalogBenchConfig } from './config.js';
import type { RotatingLoadSpec } from './loadgen.js';

/** A load measurement: `paths` requested in turn on `base` by `cfg.catalogConnections` connections. */
export interface RotatingTarget {
  id: string;
  label: string;
  base: string;
  paths: string[];
  headers?: Record<string, string>;
  serverPid: number;
  /** PostgreSQL's postmaster pid when the store is a local PostgreSQL (its CPU is reported). */
  postgresPid?: number;
}

/** The postmaster of a local PostgreSQL server (parent of a backend), or undefined when not visible here. */
export async function postmasterPid(url: string): Promise<number | undefined> {
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    const backend = Number((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const stat = readFileSync(`/proc/${backend}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined; // remote server, or /proc not readable
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * One warm-up, then `cfg.runs` runs of `cfg.seconds` with the load generator pinned to the load core;
 * the median per metric is reported. PostgreSQL's CPU (all its processes, % of one core) goes to the
 * setup as `postgresCpuPct` (median) and is taken out of the "other" column.
 */
export async function runRotatingLoad(cfg: CatalogBenchConfig, target: RotatingTarget): Promise<Measurement> {
  const spec: RotatingLoadSpec = {
    base: target.base,
    paths: target.paths,
    headers: target.headers ?? {},
    connections: cfg.catalogConnections,
    seconds: cfg.seconds,
    warmupSeconds: cfg.warmupSeconds,
    runs: cfg.runs,
  };
  const script = path.join(cfg.distBench, 'catalog', 'loadgen.js');
  const child = spawnChild(`loadgen(${target.id})`, process.execPath, [script, JSON.stringify(spec)], {
    cwd: cfg.root,
    captureStdout: true,
    cpu: cfg.loadCpu,
  });
  const runs: RunSample[] = [];
  const pgPcts: number[] = [];
  const notes: string[] = [];
  let at = { cpu: 0, pg: 0, sys: { busy: 0, steal: 0 } as SystemCpu, wall: 0 };
  let childError: string | undefined;
  const pgCpu = () => (target.postgresPid ? treeCpuSeconds(target.postgresPid) : 0);

  const lines = createInterface({ input: child.proc.stdout! });
  const done = new Promise<void>((resolve) => lines.once('close', resolve));
  lines.on('line', (line) => {
    let ev: LoadEvent;
    try {
      ev = JSON.parse(line) as LoadEvent;
    } catch {
      return;
    }
    if (ev.type === 'error') childError = ev.message;
    else if (ev.type === 'begin' && ev.phase === 'run') {
      at = { cpu: treeCpuSeconds(target.serverPid), pg: pgCpu(), sys: systemCpu(), wall: performance.now() };
    } else if (ev.type === 'end' && ev.phase === 'run') {
      const wall = (performance.now() - at.wall) / 1000;
      const pct = (s: number) => (wall > 0 ? (s / wall) * 100 : Number.NaN);
      const serverCpuPct = pct(treeCpuSeconds(target.serverPid) - at.cpu);
      const pgPct = pct(pgCpu() - at.pg);
      const sys = systemCpu();
      const r = ev.run;
      if (target.postgresPid) pgPcts.push(pgPct);
      runs.push({
        rate: r.rps,
        p50: r.p50,
        p99: r.p99,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        statusCodes: r.statusCodes,
        serverCpuPct,
        loadCpuPct: r.loadCpuPct,
        otherCpuPct: Math.max(0, pct(sys.busy - at.sys.busy) - serverCpuPct - r.loadCpuPct - (target.postgresPid ? pgPct : 0)),
        stealPct: pct(sys.steal - at.sys.steal),
      });
    } else if (ev.type === 'end' && ev.phase === 'warmup' && ev.run.ok === 0) {
      notes.push(`warm-up got no 2xx responses (status codes: ${JSON.stringify(ev.run.statusCodes)})`);
    }
  });

  const timer = setTimeout(() => void stopChild(child, 1000), (cfg.warmupSeconds + cfg.runs * cfg.seconds) * 1000 + 60_000);
  const exit = await child.exited;
  await done;
  clearTimeout(timer);

  const setup: Measurement['setup'] = {
    base: target.base,
    paths: target.paths.length,
    firstPath: target.paths[0] ?? '',
    connections: cfg.catalogConnections,
    serverCpu: cfg.serverCpu,
    loadgenPinned: `cpu ${cfg.loadCpu}`,
  };
  if (exit.code !== 0 || runs.length === 0) {
    const why = childError ?? `load generator exited with ${exit.code ?? exit.signal}: ${child.logTail(5)}`;
    return {
      id: target.id,
      label: target.label,
      unit: 'req/s',
      status: 'error',
      error: why.split('\n')[0] ?? why,
      errorDetail: why,
      runs,
      setup,
      notes,
    };
  }
  const bad = runs.reduce((s, r) => s + (r.non2xx ?? 0) + (r.errors ?? 0) + (r.timeouts ?? 0), 0);
  if (bad > 0) notes.push(`${bad} failed responses/errors during the runs; only 2xx responses are counted`);
  const med = summarize(runs);
  if (pgPcts.length) {
    setup.postgresCpuPct = Math.round(median(pgPcts));
    notes.push(`PostgreSQL (not pinned) used ${Math.round(median(pgPcts))}% of a core (median; not in "other")`);
  }
  if ((med.otherCpuPct ?? 0) > 20)
    notes.push(`other activity used ${Math.round(med.otherCpuPct ?? 0)}% of a core (median): figures may be disturbed`);
  if ((med.loadCpuPct ?? 0) > 90)
    notes.push(`load generator used ${Math.round(med.loadCpuPct ?? 0)}% of its core: the figure may be limited by autocannon`);
  return { id: target.id, label: target.label, unit: 'req/s', status: 'ok', median: med, runs, setup, notes };
}
