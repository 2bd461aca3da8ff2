// Child-process entry point: the load generator. Runs autocannon in-process
// (one warm-up, then N measured runs) and prints one JSON line per phase
// boundary on stdout, so the parent can sample server CPU time per run.
//
// Latency is recorded here from autocannon's per-response 'response' event
// (floating-point milliseconds) because autocannon's own histogram has a
// resolution of 1 ms, too coarse for sub-millisecond p50s.
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  runs: number;
}

export interface LoadRun {
  /** 2xx responses per second over the run's wall-clock time. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Latency of 2xx responses, milliseconds. */
  p50: number;
  p99: number;
  mean: number;
  elapsedSeconds: number;
  /** CPU used by the load generator process during the run, % of one core. */
  loadCpuPct: number;
}

export type LoadEvent =
  | { type: 'begin'; phase: 'warmup' | 'run'; index: number }
  | { type: 'end'; phase: 'warmup' | 'run'; index: number; run: LoadRun }
  | { type: 'error'; message: string };

function emit(event: LoadEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

async function once(spec: LoadSpec, seconds: number): Promise<LoadRun> {
  let lat = new Float64Array(1 << 16);
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const opts: autocannon.Options = {
      url: spec.url,
      method: spec.method,
      headers: spec.headers,
      connections: spec.connections,
      duration: seconds,
      timeout: 10,
    };
    if (spec.body !== undefined) opts.body = spec.body;
    const inst = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode < 200 || statusCode > 299) return;
      if (n === lat.length) {
        const bigger = new Float64Array(lat.length * 2);
        bigger.set(lat);
        lat = bigger;
      }
      lat[n++] = responseTime;
    });
  });
  const elapsedSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sorted = lat.subarray(0, n).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] ?? 0;
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = v.count;
  return {
    rps: n / elapsedSeconds,
    ok: n,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: n > 0 ? sum / n : Number.NaN,
    elapsedSeconds,
    loadCpuPct: ((cpu.user + cpu.system) / 1e6 / elapsedSeconds) * 100,
  };
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: loadgen.js <json spec>');
  const spec = JSON.parse(arg) as LoadSpec;
  if (spec.warmupSeconds > 0) {
    emit({ type: 'begin', phase: 'warmup', index: 0 });
    const run = await once(spec, spec.warmupSeconds);
    emit({ type: 'end', phase: 'warmup', index: 0, run });
  }
  for (let i = 0; i < spec.runs; i++) {
    emit({ type: 'begin', phase: 'run', index: i });
    const run = await once(spec, spec.seconds);
    emit({ type: 'end', phase: 'run', index: i, run });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    emit({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
