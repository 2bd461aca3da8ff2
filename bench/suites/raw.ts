// Part 1: raw node:crypto signing rate per algorithm, in a child pinned to the server core.
import path from 'node:path';
import type { RawRun, RawSpec } from '../child/raw-sign.js';
import type { Alg, BenchConfig } from '../lib/config.js';
import { runToCompletion } from '../lib/procs.js';
import { failed, summarize, type Measurement, type RunSample } from '../lib/results.js';

export async function benchRaw(cfg: BenchConfig, alg: Alg): Promise<Measurement> {
  const id = `raw.${alg}`;
  const label = `raw node:crypto sign ${alg}`;
  const setup = { cpu: cfg.serverCpu, thread: 'single' };
  const spec: RawSpec = { alg, seconds: cfg.seconds, warmupSeconds: cfg.warmupSeconds, runs: cfg.runs };
  try {
    const script = path.join(cfg.distBench, 'child', 'raw-sign.js');
    const out = await runToCompletion(`raw-sign(${alg})`, process.execPath, [script, JSON.stringify(spec)], {
      cwd: cfg.root,
      cpu: cfg.serverCpu,
      timeoutMs: (cfg.warmupSeconds + cfg.runs * cfg.seconds) * 1000 + 30_000,
    });
    const raws = out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as RawRun);
    if (raws.length === 0) throw new Error('raw-sign printed no results');
    const runs: RunSample[] = raws.map((r) => ({
      rate: r.opsPerSec,
      p50: r.p50us / 1000,
      p99: r.p99us / 1000,
      serverCpuPct: r.selfCpuPct,
      otherCpuPct: r.otherCpuPct,
    }));
    const notes: string[] = [];
    const worst = Math.max(...runs.map((r) => r.otherCpuPct ?? 0));
    if (worst > 20) {
      notes.push(`other activity on the machine used up to ${worst.toFixed(0)}% of a core during a run: figures may be disturbed`);
    }
    return {
      id,
      label,
      unit: 'ops/s',
      status: 'ok',
      median: summarize(runs),
      runs,
      setup: { ...setup, signingInputBytes: raws[0]!.inputBytes },
      notes,
    };
  } catch (err) {
    return failed(id, label, 'ops/s', err, setup);
  }
}
