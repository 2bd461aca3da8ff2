// Child-process entry point: the reader. Sends authenticated `GET /search` requests open loop (one
// every 1000/rps ms whether or not earlier ones have answered, so a stalled server shows as latency
// instead of fewer samples) and prints one JSON line per request on stdout:
//   {"t": send time (epoch ms), "ms": latency, "status": HTTP status, "bytes": body length}
// or {"t", "error"} / {"t", "skipped": true} (too many requests outstanding). Runs until killed.
import { Agent, request } from 'node:http';

/** What the parent passes as argv[2] (JSON). */
export interface ProbeSpec {
  base: string;
  token: string;
  /** Request paths (query included), sent in turn. */
  paths: string[];
  rps: number;
  /** Requests allowed in flight before a send is skipped (and recorded as skipped). */
  maxOutstanding: number;
}

/** One line of the probe's output. */
export interface ProbeSample {
  t: number;
  ms?: number;
  status?: number;
  bytes?: number;
  error?: string;
  skipped?: boolean;
}

function emit(s: ProbeSample): void {
  process.stdout.write(`${JSON.stringify(s)}\n`);
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ProbeSpec;
  const url = new URL(spec.base);
  // Keep-alive like a real client: the measured time is the server's, not connection setup.
  const agent = new Agent({ keepAlive: true, maxSockets: spec.maxOutstanding });
  const interval = 1000 / spec.rps;
  const start = performance.now();
  let outstanding = 0;
  let k = 0;
  const send = () => {
    const t = Date.now();
    if (outstanding >= spec.maxOutstanding) {
      emit({ t, skipped: true });
      return;
    }
    outstanding++;
    const path = spec.paths[k++ % spec.paths.length]!;
    const t0 = performance.now();
    const req = request(
      { host: url.hostname, port: url.port, path, agent, headers: { authorization: `Bearer ${spec.token}` }, timeout: 60_000 },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => {
          outstanding--;
          emit({ t, ms: performance.now() - t0, status: res.statusCode ?? 0, bytes });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout after 60 s')));
    req.on('error', (e) => {
      outstanding--;
      emit({ t, error: e.message });
    });
    req.end();
  };
  // Scheduled against the start time, not chained: a slow answer does not delay the next send.
  let sends = 0;
  const tick = () => {
    send();
    const next = start + ++sends * interval;
    setTimeout(tick, Math.max(0, next - performance.now()));
  };
  tick();
  process.on('SIGTERM', () => process.exit(0));
}

main();
