// Child-process entry point: the catalog load generator. Speaks the protocol of bench/child/loadgen.ts
// (one JSON event per line on stdout, latency per 2xx response in float ms) with two differences:
// - the connections cycle through a list of request paths, so that concurrent searches ask for
//   different boxes and months instead of one cached page;
// - one autocannon run spans the warm-up and all measured runs, which are time windows of it. A
//   search can take 100 ms or more: restarting autocannon per run would abandon up to one request per
//   connection, which the server still works through at the start of the next run (unmeasured work).
import autocannon from 'autocannon';
import type { LoadEvent, LoadRun } from '../child/loadgen.js';

/** What the parent asks for: `paths` are requested in turn on `base`, with `headers`. */
export interface RotatingLoadSpec {
  base: string;
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  runs: number;
}

function emit(event: LoadEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** One time window of the run: its 2xx latencies and failures. */
class Window {
  private lat = new Float64Array(1 << 12);
  private n = 0;
  non2xx = 0;
  errors = 0;
  readonly statusCodes: Record<string, number> = {};
  private readonly t0 = performance.now();
  private readonly cpu0 = process.cpuUsage();

  response(statusCode: number, ms: number): void {
    this.statusCodes[statusCode] = (this.statusCodes[statusCode] ?? 0) + 1;
    if (statusCode < 200 || statusCode > 299) {
      this.non2xx++;
      return;
    }
    if (this.n === this.lat.length) {
      const bigger = new Float64Array(this.lat.length * 2);
      bigger.set(this.lat);
      this.lat = bigger;
    }
    this.lat[this.n++] = ms;
  }

  close(): LoadRun {
    const elapsedSeconds = (performance.now() - this.t0) / 1000;
    const cpu = process.cpuUsage(this.cpu0);
    const sorted = this.lat.subarray(0, this.n).sort();
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += sorted[i] ?? 0;
    return {
      rps: this.n / elapsedSeconds,
      ok: this.n,
      non2xx: this.non2xx,
      errors: this.errors,
      timeouts: 0,
      statusCodes: this.statusCodes,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      mean: this.n > 0 ? sum / this.n : Number.NaN,
      elapsedSeconds,
      loadCpuPct: ((cpu.user + cpu.system) / 1e6 / elapsedSeconds) * 100,
    };
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: loadgen.js <json spec>');
  const spec = JSON.parse(arg) as RotatingLoadSpec;
  if (spec.paths.length === 0) throw new Error('no request paths');
  // Window boundaries, s from the start: warm-up (if any), then the runs.
  const phases: { phase: 'warmup' | 'run'; index: number; seconds: number }[] = [];
  if (spec.warmupSeconds > 0) phases.push({ phase: 'warmup', index: 0, seconds: spec.warmupSeconds });
  for (let i = 0; i < spec.runs; i++) phases.push({ phase: 'run', index: i, seconds: spec.seconds });
  const total = phases.reduce((s, p) => s + p.seconds, 0);

  let next = 0;
  const opts = {
    url: spec.base,
    connections: spec.connections,
    duration: total + 30, // stopped by the last window's timer; this is only a backstop
    timeout: 30,
    headers: spec.headers,
    // One request whose path is set at each send from a counter shared by all connections.
    requests: [
      {
        method: 'GET',
        setupRequest: (req: { path: string }) => {
          req.path = spec.paths[next++ % spec.paths.length]!;
          return req;
        },
      },
    ],
  };
  let current: Window | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const inst = autocannon(opts, (err) => (err ? reject(err) : resolve()));
    inst.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) =>
      current?.response(statusCode, responseTime),
    );
    inst.on('reqError', () => {
      if (current) current.errors++;
    });
    let k = 0;
    const open = () => {
      const p = phases[k]!;
      emit({ type: 'begin', phase: p.phase, index: p.index });
      current = new Window();
      setTimeout(() => {
        const run = current!.close();
        emit({ type: 'end', phase: p.phase, index: p.index, run });
        if (++k < phases.length) open();
        else {
          current = undefined;
          inst.stop();
        }
      }, p.seconds * 1000);
    };
    open();
  });
  await done;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    emit({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
