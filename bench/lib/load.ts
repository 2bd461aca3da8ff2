// Parent side of the load generator: spawns dist/bench/child/loadgen.js
// (pinned to the load core, or unpinned in multi-worker mode), follows its
// phase events and samples the server's CPU time around each measured run.
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { LoadEvent, LoadSpec } from '../child/loadgen.js';
import type { BenchConfig } from './config.js';
import { spawnChild, stopChild, systemCpu, treeCpuSeconds, type SystemCpu } from './procs.js';
import { summarize, type Measurement, type RunSample } from './results.js';

export interface LoadTarget {
  id: string;
  label: string;
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Server process whose CPU time (with its descendants) is sampled. */
  serverPid: number;
  /** false: the "two cores" mode, load generator not pinned, more connections. */
  pinned: boolean;
  setup?: Measurement['setup'];
}

export async function runLoad(cfg: BenchConfig, target: LoadTarget): Promise<Measurement> {
  const connections = target.pinned ? cfg.connections : cfg.connectionsMulti;
  const spec: LoadSpec = {
    url: target.url,
    method: target.method,
    headers: target.headers ?? {},
    connections,
    seconds: cfg.seconds,
    warmupSeconds: cfg.warmupSeconds,
    runs: cfg.runs,
  };
  if (target.body !== undefined) spec.body = target.body;

  const script = path.join(cfg.distBench, 'child', 'loadgen.js');
  const child = spawnChild(`loadgen(${target.id})`, process.execPath, [script, JSON.stringify(spec)], {
    cwd: cfg.root,
    captureStdout: true,
    ...(target.pinned ? { cpu: cfg.loadCpu } : {}),
  });

  const runs: RunSample[] = [];
  const notes: string[] = [];
  let cpuAtBegin = 0;
  let sysAtBegin: SystemCpu = { busy: 0, steal: 0 };
  let wallAtBegin = 0;
  let childError: string | undefined;

  const lines = createInterface({ input: child.proc.stdout! });
  const done = new Promise<void>((resolve) => lines.once('close', resolve));
  lines.on('line', (line) => {
    let ev: LoadEvent;
    try {
      ev = JSON.parse(line) as LoadEvent;
    } catch {
      return;
    }
    if (ev.type === 'error') {
      childError = ev.message;
    } else if (ev.type === 'begin' && ev.phase === 'run') {
      cpuAtBegin = treeCpuSeconds(target.serverPid);
      sysAtBegin = systemCpu();
      wallAtBegin = performance.now();
    } else if (ev.type === 'end' && ev.phase === 'run') {
      const cpu = treeCpuSeconds(target.serverPid) - cpuAtBegin;
      const sys = systemCpu();
      const wall = (performance.now() - wallAtBegin) / 1000;
      const r = ev.run;
      const pct = (seconds: number): number => (wall > 0 ? (seconds / wall) * 100 : Number.NaN);
      const serverCpuPct = pct(cpu);
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
        otherCpuPct: Math.max(0, pct(sys.busy - sysAtBegin.busy) - serverCpuPct - r.loadCpuPct),
        stealPct: pct(sys.steal - sysAtBegin.steal),
      });
    } else if (ev.type === 'end' && ev.phase === 'warmup' && ev.run.ok === 0) {
      notes.push(`warm-up got no 2xx responses (status codes: ${JSON.stringify(ev.run.statusCodes)})`);
    }
  });

  const timeoutMs = (cfg.warmupSeconds + cfg.runs * cfg.seconds) * 1000 + 30_000;
  const timer = setTimeout(() => void stopChild(child, 1000), timeoutMs);
  const exit = await child.exited;
  await done;
  clearTimeout(timer);

  const setup = {
    url: target.url,
    method: target.method,
    connections,
    loadgenPinned: target.pinned ? `cpu ${cfg.loadCpu}` : 'no',
    ...target.setup,
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
  if (bad > 0) {
    const codes: Record<string, number> = {};
    for (const r of runs) {
      for (const [c, n] of Object.entries(r.statusCodes ?? {})) codes[c] = (codes[c] ?? 0) + n;
    }
    notes.push(
      `${bad} failed responses/errors during the runs (status codes: ${JSON.stringify(codes)}); ` +
        'only 2xx responses are counted in req/s and latency',
    );
  }
  const median = summarize(runs);
  const worst = Math.max(...runs.map((r) => r.otherCpuPct ?? 0));
  if (worst > 20) {
    notes.push(
      `other activity on the machine used up to ${worst.toFixed(0)}% of a core during a run ` +
        `(median ${(median.otherCpuPct ?? 0).toFixed(0)}%): figures may be disturbed`,
    );
  }
  if ((median.stealPct ?? 0) > 5) {
    notes.push(`the hypervisor stole ${(median.stealPct ?? 0).toFixed(0)}% of a core (median): figures may be disturbed`);
  }
  if (target.pinned && median.loadCpuPct !== undefined && median.loadCpuPct > 90) {
    notes.push(`load generator used ${median.loadCpuPct.toFixed(0)}% of its core: the figure may be limited by autocannon, not the server`);
  }
  return { id: target.id, label: target.label, unit: 'req/s', status: 'ok', median, runs, setup, notes };
}
