// Opportunity-search benchmark: `npx tsc && node dist/bench/opportunities.js`.
//
// The demo constellation (10 sun-synchronous satellites), a 10 km × 10 km AOI over Berlin and a
// 14-day window: `findPasses` for every satellite, timed against the naive search (every satellite
// propagated with satellite.js at a fixed 30 s step over the whole window, each run of in-cone
// samples refined to 1 s around its best sample). Runs alternate fast/naive so background load hits
// both alike. Both must find the same passes (the naive one at its 30 s resolution); the process
// exits 1 when they disagree.
//
// Environment: BENCH_RUNS (20), BENCH_WARMUP (3), BENCH_MAX_OFF_NADIR (30).
import { cpus, loadavg } from 'node:os';
import { eciToEcf, gstime, propagate, twoline2satrec } from 'satellite.js';
import { demoConstellation, findPasses, type ElementSet, type Pass } from '../src/tasking/orbits/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const MAX_OFF_NADIR = Number(process.env.BENCH_MAX_OFF_NADIR ?? 30);
const EPOCH = new Date('2026-01-01T00:00:00Z');
const WINDOW = { start: EPOCH, end: new Date(EPOCH.getTime() + 14 * 86_400_000) };
const NAIVE_STEP_S = 30;
const DEG = Math.PI / 180;

// 10 km × 10 km around Berlin (52.52 N, 13.40 E): 0.0899° of latitude, 0.1476° of longitude.
const HALF_LAT = 5 / 111.2;
const HALF_LON = 5 / (111.32 * Math.cos(52.52 * DEG));
const RING = [
  [13.4 - HALF_LON, 52.52 - HALF_LAT],
  [13.4 + HALF_LON, 52.52 - HALF_LAT],
  [13.4 + HALF_LON, 52.52 + HALF_LAT],
  [13.4 - HALF_LON, 52.52 + HALF_LAT],
  [13.4 - HALF_LON, 52.52 - HALF_LAT],
];
const AOI = { type: 'Polygon' as const, coordinates: [RING] };

interface Interval {
  sat: number;
  start: number;
  end: number;
  tca: number;
}

/** WGS-84 ECF (km) and geodetic up of a lon/lat in degrees. */
function site(lon: number, lat: number): { p: number[]; up: number[] } {
  const e2 = (1 / 298.257223563) * (2 - 1 / 298.257223563);
  const up = [Math.cos(lat * DEG) * Math.cos(lon * DEG), Math.cos(lat * DEG) * Math.sin(lon * DEG), Math.sin(lat * DEG)];
  const n = 6378.137 / Math.sqrt(1 - e2 * up[2]! ** 2);
  return { p: [n * up[0]!, n * up[1]!, n * (1 - e2) * up[2]!], up };
}
const VERTICES = RING.slice(0, -1).map(([lon, lat]) => site(lon!, lat!));

/** Largest off-nadir angle (deg) over the AOI vertices for a satellite at ECF r (km); 180 if one is hidden. */
function worstOffNadir(r: number[]): number {
  let worst = 0;
  for (const v of VERTICES) {
    const d = [v.p[0]! - r[0]!, v.p[1]! - r[1]!, v.p[2]! - r[2]!];
    if (d[0]! * v.up[0]! + d[1]! * v.up[1]! + d[2]! * v.up[2]! >= 0) return 180;
    const cos = -(r[0]! * d[0]! + r[1]! * d[1]! + r[2]! * d[2]!) / (Math.hypot(r[0]!, r[1]!, r[2]!) * Math.hypot(d[0]!, d[1]!, d[2]!));
    worst = Math.max(worst, Math.acos(Math.min(1, cos)) / DEG);
  }
  return worst;
}

/** The naive search: fixed 30 s steps over the whole window, then 1 s steps around each run's best sample. */
function naive(fleet: ElementSet[]): { passes: Interval[]; propagations: number } {
  const passes: Interval[] = [];
  let propagations = 0;
  fleet.forEach((s, k) => {
    const rec = twoline2satrec(s.line1, s.line2);
    const worstAt = (t: number): number => {
      propagations++;
      const date = new Date(t);
      const pv = propagate(rec, date);
      if (!pv) throw new Error(`SGP4 error ${rec.error} for ${s.name}`);
      const r = eciToEcf(pv.position, gstime(date));
      return worstOffNadir([r.x, r.y, r.z]);
    };
    let open: Interval | null = null;
    let best = Infinity;
    for (let t = WINDOW.start.getTime(); t <= WINDOW.end.getTime(); t += NAIVE_STEP_S * 1000) {
      const eta = worstAt(t);
      if (eta <= MAX_OFF_NADIR) {
        if (!open) open = { sat: k, start: t, end: t, tca: t };
        open.end = t;
        if (eta < best) [best, open.tca] = [eta, t];
      } else if (open) {
        passes.push(open);
        open = null;
        best = Infinity;
      }
    }
    if (open) passes.push(open);
    for (const p of passes.filter((q) => q.sat === k)) {
      let bestRefined = Infinity;
      for (let t = p.tca - NAIVE_STEP_S * 1000; t <= p.tca + NAIVE_STEP_S * 1000; t += 1000) {
        const eta = worstAt(t);
        if (eta < bestRefined) [bestRefined, p.tca] = [eta, t];
      }
    }
  });
  return { passes, propagations };
}

function fast(fleet: ElementSet[]): { passes: Pass[]; propagations: number } {
  const stats = { evaluations: 0 };
  const passes = fleet.flatMap((s) => findPasses(s, AOI, WINDOW, { maxOffNadirDeg: MAX_OFF_NADIR }, { stats }));
  return { passes, propagations: stats.evaluations };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** Same passes? Every naive run overlaps exactly one fast pass of its satellite; unmatched fast passes must be shorter than a step. */
function agreement(fleet: ElementSet[], fastPasses: Pass[], naivePasses: Interval[]): { ok: boolean; lines: string[]; tcaWorstS: number } {
  const lines: string[] = [];
  let ok = true;
  let tcaWorstS = 0;
  const step = NAIVE_STEP_S * 1000;
  const overlaps = (p: Pass, n: Interval): boolean =>
    p.satellite.noradId === fleet[n.sat]!.noradId && p.start.getTime() <= n.end + step && p.end.getTime() >= n.start - step;
  for (const n of naivePasses) {
    const m = fastPasses.filter((p) => overlaps(p, n));
    if (m.length !== 1) {
      ok = false;
      lines.push(`  MISMATCH: naive pass ${fleet[n.sat]!.name} ${new Date(n.tca).toISOString()} matched ${m.length} fast passes`);
      continue;
    }
    tcaWorstS = Math.max(tcaWorstS, Math.abs(m[0]!.tca.getTime() - n.tca) / 1000);
  }
  for (const p of fastPasses) {
    if (naivePasses.some((n) => overlaps(p, n))) continue;
    const seconds = (p.end.getTime() - p.start.getTime()) / 1000;
    if (seconds >= NAIVE_STEP_S) {
      ok = false;
      lines.push(`  MISMATCH: fast pass ${p.satellite.name} ${p.tca.toISOString()} (${seconds.toFixed(1)} s) not seen by the naive search`);
    } else {
      lines.push(
        `  fast-only pass ${p.satellite.name} ${p.tca.toISOString()}: ${seconds.toFixed(1)} s long, shorter than the ${NAIVE_STEP_S} s step`,
      );
    }
  }
  return { ok, lines, tcaWorstS };
}

function main(): number {
  const fleet = demoConstellation(EPOCH);
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log('Skyport opportunity-search benchmark');
  console.log(
    `  cpu: ${cpu} x ${cpus().length}; node ${process.version}; load avg ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `  ${fleet.length} demo satellites, AOI 10 km × 10 km (Berlin, 5 vertices), ${WINDOW.start.toISOString()} + 14 d, ` +
      `off-nadir ≤ ${MAX_OFF_NADIR}°; ${WARMUP} warm-up + ${RUNS} runs each, alternating`,
  );
  for (let i = 0; i < WARMUP; i++) {
    fast(fleet);
    naive(fleet);
  }
  const fastMs: number[] = [];
  const naiveMs: number[] = [];
  let fastResult = fast(fleet);
  let naiveResult = naive(fleet);
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    fastResult = fast(fleet);
    fastMs.push(performance.now() - t);
    t = performance.now();
    naiveResult = naive(fleet);
    naiveMs.push(performance.now() - t);
  }
  fastMs.sort((a, b) => a - b);
  naiveMs.sort((a, b) => a - b);
  const row = (label: string, ms: number[], props: number, passes: number): string =>
    `  ${label.padEnd(28)} p50 ${percentile(ms, 0.5).toFixed(2).padStart(8)} ms  p99 ${percentile(ms, 0.99).toFixed(2).padStart(8)} ms  ` +
    `min ${ms[0]!.toFixed(2).padStart(8)} ms  ${String(props).padStart(7)} propagations  ${passes} passes`;
  console.log(row('findPasses (screen+refine)', fastMs, fastResult.propagations, fastResult.passes.length));
  console.log(row(`naive (${NAIVE_STEP_S} s step + 1 s refine)`, naiveMs, naiveResult.propagations, naiveResult.passes.length));
  const ratio = percentile(naiveMs, 0.5) / percentile(fastMs, 0.5);
  console.log(`  speed-up (naive p50 / findPasses p50): ${ratio.toFixed(1)}x`);

  const check = agreement(fleet, fastResult.passes, naiveResult.passes);
  for (const line of check.lines) console.log(line);
  console.log(
    `  same passes: ${check.ok ? 'yes' : 'NO'} (${naiveResult.passes.length} naive, ${fastResult.passes.length} findPasses; ` +
      `worst tca difference ${check.tcaWorstS.toFixed(1)} s at the naive 1 s resolution)`,
  );
  const p50 = percentile(fastMs, 0.5);
  console.log(`  goals: p50 ≤ 40 ms ${p50 <= 40 ? 'met' : 'NOT met'}; ≥ 10x faster than naive ${ratio >= 10 ? 'met' : 'NOT met'}`);
  return check.ok ? 0 : 1;
}

process.exitCode = main();
