// Result shapes shared by the runners and the report, plus small statistics helpers.

export interface RunSample {
  /** Successful operations per second (2xx responses, or signatures). */
  rate: number;
  /** Latency percentiles in milliseconds (2xx responses only, or per signature). */
  p50: number;
  p99: number;
  non2xx?: number;
  errors?: number;
  timeouts?: number;
  statusCodes?: Record<string, number>;
  /** CPU of the server process tree over the run, % of one core. */
  serverCpuPct?: number;
  /** CPU of the load generator over the run, % of one core. */
  loadCpuPct?: number;
  /** Busy CPU of everything else on the machine over the run, % of one core (includes some kernel networking). */
  otherCpuPct?: number;
  /** CPU stolen by the hypervisor over the run, % of one core. */
  stealPct?: number;
}

export interface Measurement {
  id: string;
  label: string;
  unit: 'req/s' | 'ops/s';
  status: 'ok' | 'error';
  /** One-line reason, for the table. */
  error?: string;
  /** Full error text (e.g. with the server's last log lines), for the JSON file. */
  errorDetail?: string;
  /** Median of the runs, metric by metric. */
  median?: {
    rate: number;
    p50: number;
    p99: number;
    serverCpuPct?: number;
    loadCpuPct?: number;
    otherCpuPct?: number;
    stealPct?: number;
  };
  runs: RunSample[];
  setup: Record<string, string | number | boolean>;
  notes: string[];
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export function summarize(runs: RunSample[]): NonNullable<Measurement['median']> {
  const out: NonNullable<Measurement['median']> = {
    rate: median(runs.map((r) => r.rate)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
  };
  for (const key of ['serverCpuPct', 'loadCpuPct', 'otherCpuPct', 'stealPct'] as const) {
    const values = runs.map((r) => r[key]).filter((x): x is number => x !== undefined);
    if (values.length > 0) out[key] = median(values);
  }
  return out;
}

export function failed(id: string, label: string, unit: Measurement['unit'], err: unknown, setup: Measurement['setup'] = {}): Measurement {
  const message = err instanceof Error ? err.message : String(err);
  return {
    id,
    label,
    unit,
    status: 'error',
    error: message.split('\n')[0] ?? message,
    errorDetail: message,
    runs: [],
    setup,
    notes: [],
  };
}
