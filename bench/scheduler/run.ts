// One measurement: a fresh store, the archive, organizations and seeded orders, a server on the
// server core, the latency probe on the core the scheduler does not use, then idle searches, the
// scheduler's run with searches going on, and idle searches again. Every store and server is removed
// at the end.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLand } from '../../src/catalog/generate/landmask.js';
import { mulberry32 } from '../../src/catalog/generate/prng.js';
import type { OrderRecord, OrderStatusCode } from '../../src/storage/tasking.js';
import type { Storage } from '../../src/storage/types.js';
import { createDatabase, openStore, type BenchDatabase } from '../catalog/stores.js';
import { checkStatus, checkTokenRequest } from '../lib/http.js';
import { freePort, spawnChild, stopChild, systemCpu, treeCpuSeconds, waitForHttp, type Child } from '../lib/procs.js';
import type { Mode, SchedulerBenchConfig, StoreKind } from './config.js';
import { instrument, type CallStat, type StoreStats } from './instrument.js';
import { runScheduler, type LoopEnd, type LoopSpec, type TickRecord } from './loop.js';
import type { ProbeSample, ProbeSpec } from './probe.js';
import { ARCHIVE_DAYS, createOrgs, loadArchive, orderRequests, seedOrders, storeConstellation, type BenchOrg } from './seed.js';
import {
  latencyOf,
  median,
  summarizeDrain,
  summarizeTicks,
  windowRates,
  type DrainSummary,
  type LatencyStats,
  type TickSummary,
} from './stats.js';

const DAY_MS = 86_400_000;
/** Seconds of probe traffic before the first measured phase (connection set-up, JIT). */
const PROBE_WARMUP_S = 2;
/** Busy CPU of everything else (not PostgreSQL's part) above which a phase is marked as possibly disturbed, % of a core. */
const OTHER_CPU_LIMIT_PCT = 20;
/** Orders placed at once while seeding (PostgreSQL commits in groups when several are in flight). */
const SEED_CONCURRENCY = 16;
/** Distinct searches the probe sends in turn. */
const SEARCH_PATHS = 50;
/** The pause Skyport's scheduler makes between ticks by default (SKYPORT_TASKING_TICK_MS), ms. */
const DEFAULT_TICK_MS = 1000;

/** CPU used in one phase, % of one core. `scheduler` is the benchmark process (process mode only). */
export interface PhaseCpu {
  server: number;
  probe: number;
  scheduler?: number;
  /** PostgreSQL: the benchmark database's backends and the server's shared writers (PostgreSQL runs only). */
  postgres?: number;
  /** Everything else busy on the machine: the kernel, other PostgreSQL work, other tenants. */
  other: number;
}

/** Event-loop delay of the server in one phase (embedded mode), ms: worst second's max, median second's p99. */
export interface PhaseEld {
  max: number;
  p99Median: number;
  meanMedian: number;
}

/** One phase of searches: idle before, during the run, idle after. */
export interface Phase {
  name: 'idle-before' | 'run' | 'idle-after';
  seconds: number;
  latency: LatencyStats;
  cpu: PhaseCpu;
  eld?: PhaseEld;
}

/** Everything one (store, mode) measured. */
export interface RunResult {
  store: StoreKind;
  mode: Mode;
  status: 'ok' | 'error';
  error?: string;
  setup: {
    orders: number;
    orgs: number;
    elementSets: number;
    archiveItems: number;
    archiveSeconds: number;
    seedSeconds: number;
    /** How the orders were created. */
    seedPath: string;
    serverCommand: string;
  };
  run?: {
    end: LoopEnd;
    seconds: number;
    /** Seconds until every order was final, or null when the run hit its time budget first. */
    drainSeconds: number | null;
    ticks: TickSummary;
    /** Transitions written per second, over whole windows of rateWindowSeconds, and their median. */
    windows: number[];
    medianRate: number;
    meanRate: number;
    /** The same for status changes only (what the orders' histories show). */
    statusWindows: number[];
    medianStatusRate: number;
    /** Transition kinds (`scheduled→processing`, `displaced …`, `re-timed …`), with the store write's mean time. */
    transitions: [string, CallStat][];
    reads: [string, CallStat][];
    drain: DrainSummary;
  };
  phases: Phase[];
  /** Searches during the run against the idle phases before and after it pooled (same run, same server). */
  readers?: { idle: LatencyStats; run: LatencyStats; p50Ratio: number; p99Ratio: number };
  notes: string[];
}

interface CpuMark {
  wall: number;
  server: number;
  probe: number;
  bench: number;
  postgres: number;
  busy: number;
}

function mark(server: Child, probe: Child, dbName: string | undefined): CpuMark {
  const u = process.cpuUsage();
  return {
    wall: performance.now(),
    server: treeCpuSeconds(server.pid),
    probe: treeCpuSeconds(probe.pid),
    bench: (u.user + u.system) / 1e6,
    postgres: dbName ? postgresCpuSeconds(dbName) : 0,
    busy: systemCpu().busy,
  };
}

function cpuBetween(a: CpuMark, b: CpuMark, withScheduler: boolean, withPostgres: boolean): PhaseCpu {
  const wall = (b.wall - a.wall) / 1000;
  const pct = (s: number) => (wall > 0 ? (100 * s) / wall : Number.NaN);
  // A backend that exits takes its CPU time with it: never count less than nothing.
  const [server, probe, bench, pgsql] = [b.server - a.server, b.probe - a.probe, b.bench - a.bench, Math.max(0, b.postgres - a.postgres)];
  const other = Math.max(0, b.busy - a.busy - server - probe - bench - pgsql);
  return {
    server: pct(server),
    probe: pct(probe),
    ...(withScheduler ? { scheduler: pct(bench) } : {}),
    ...(withPostgres ? { postgres: pct(pgsql) } : {}),
    other: pct(other),
  };
}

const CLK_TCK = 100;

/**
 * CPU seconds so far of the PostgreSQL processes working for database `dbName`: its backends (process
 * title `postgres: … <user> <db> …`) and the server's shared writers (checkpointer, background writer,
 * WAL writer, autovacuum), read from /proc. 0 when /proc is unreadable.
 */
export function postgresCpuSeconds(dbName: string): number {
  let ticks = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ')) continue;
      if (!title.includes(` ${dbName} `) && !/: (checkpointer|background writer|walwriter|autovacuum)/.test(title)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / CLK_TCK;
}

/** `count` searches of 20° × 20° around land points over 10 days of the archive, limit 100, seeded. */
export function searchPaths(count: number, seed: number, now: number): string[] {
  const rng = mulberry32(seed ^ 0x5ea4c4);
  const out: string[] = [];
  while (out.length < count) {
    const lon = -170 + 340 * rng();
    const lat = -50 + 115 * rng();
    if (!isLand(lon, lat)) continue;
    const r = (x: number) => Math.round(x * 100) / 100;
    const bbox = [r(lon - 10), r(Math.max(-90, lat - 10)), r(lon + 10), r(Math.min(90, lat + 10))].join(',');
    const start = now - (ARCHIVE_DAYS - 10) * DAY_MS * rng() - 10 * DAY_MS;
    const datetime = `${new Date(start).toISOString()}/${new Date(start + 10 * DAY_MS).toISOString()}`;
    out.push(`/search?${new URLSearchParams({ bbox, datetime, limit: '100' }).toString()}`);
  }
  return out;
}

/** The lines of a child's captured stdout that carry an `sb` event. */
function events(child: Child): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of child.stdout.split('\n')) {
    if (!line.startsWith('{"sb"')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the kill at the end
    }
  }
  return out;
}

function eldBetween(samples: Record<string, unknown>[], from: number, to: number): PhaseEld | undefined {
  const inside = samples.filter((e) => (e.t as number) > from && (e.t as number) <= to);
  if (inside.length === 0) return undefined;
  return {
    max: Math.max(...inside.map((e) => e.max as number)),
    p99Median: median(inside.map((e) => e.p99 as number)),
    meanMedian: median(inside.map((e) => e.mean as number)),
  };
}

/** Server environment: only what is set here applies (inherited SKYPORT_* and DATABASE_URL are dropped). */
function serverEnv(port: number, dataDir: string, databaseUrl: string | undefined): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKYPORT_') && k !== 'DATABASE_URL'));
  return {
    ...inherited,
    HOST: '127.0.0.1',
    PORT: String(port),
    SKYPORT_DATA_DIR: dataDir,
    SKYPORT_DEMO: 'false',
    SKYPORT_TASKING_WORKERS: 'false',
    SKYPORT_LOG_LEVEL: 'warn',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
}

async function token(base: string, org: BenchOrg): Promise<string> {
  const c = org.credentials['read-only'];
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret });
  const res = await checkTokenRequest(
    {
      url: `${base}/oauth2/token`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    },
    'RS256',
  );
  return res.accessToken;
}

/** Every order of the organizations, as stored now. */
async function allOrders(storage: Storage, orgs: BenchOrg[], limit: number): Promise<OrderRecord[]> {
  const out: OrderRecord[] = [];
  for (const o of orgs) out.push(...(await storage.listOrdersFor(o.id, limit + 1)));
  return out;
}

/** Waits for the embedded server's `end` (or `error`) event; throws after `timeoutMs` or when it dies. */
async function awaitEnd(server: Child, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // Parse only once the line is there: the captured output grows by a line per tick and per second.
    const done = server.stdout.includes('{"sb":"end"') || server.stdout.includes('{"sb":"error"');
    const ev = done ? events(server).find((e) => e.sb === 'end' || e.sb === 'error') : undefined;
    if (ev?.sb === 'error') throw new Error(`embedded scheduler failed: ${String(ev.message)}`);
    if (ev) return ev;
    if (!server.running) throw new Error(`the embedded server exited: ${server.errorLine()}`);
    await sleep(200);
  }
  throw new Error('the embedded scheduler did not finish in time');
}

interface Ctx {
  cfg: SchedulerBenchConfig;
  kind: StoreKind;
  mode: Mode;
  storage: Storage;
  dataDir: string;
  db: BenchDatabase | undefined;
  log: (line: string) => void;
}

/** Starts the server of the mode on the server core and waits until it answers. */
async function startServer(ctx: Ctx, spec: LoopSpec, port: number): Promise<Child> {
  const { cfg, mode } = ctx;
  const env = serverEnv(port, ctx.dataDir, ctx.db?.url);
  const base = `http://127.0.0.1:${port}`;
  const child =
    mode === 'process'
      ? spawnChild(`skyport(${ctx.kind})`, process.execPath, [cfg.skyportBin, 'serve'], { cwd: cfg.root, env, cpu: cfg.serverCpu })
      : spawnChild(
          `skyport+scheduler(${ctx.kind})`,
          process.execPath,
          [path.join(cfg.distBench, 'scheduler', 'embedded-server.js'), JSON.stringify(spec)],
          { cwd: cfg.root, env, cpu: cfg.serverCpu, captureStdout: true },
        );
  try {
    await waitForHttp(`${base}/.well-known/oauth-authorization-server`, child, 60_000);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return child;
}

/** Runs the scheduler of the mode until drained or out of time; its ticks, end and store statistics. */
async function runPhase(
  ctx: Ctx,
  server: Child,
  spec: LoopSpec,
): Promise<{ ticks: TickRecord[]; end: LoopEnd; stats: StoreStats; seconds: number }> {
  if (ctx.mode === 'process') {
    const ticks: TickRecord[] = [];
    const { storage, stats } = instrument(ctx.storage, new Map<string, OrderStatusCode>());
    const end = await runScheduler(storage, spec, (t) => ticks.push(t));
    return { ticks, end, stats, seconds: (end.endedAt - end.startedAt) / 1000 };
  }
  process.kill(server.pid, 'SIGUSR2');
  const ev = await awaitEnd(server, spec.maxRunMs + 120_000);
  const ticks = events(server)
    .filter((e) => e.sb === 'tick')
    .map((e) => e as unknown as TickRecord);
  const raw = ev.stats as Omit<StoreStats, 'perSecond' | 'statusPerSecond'> & {
    perSecond: [number, number][];
    statusPerSecond: [number, number][];
  };
  const end = ev.end as LoopEnd;
  const stats = { ...raw, perSecond: new Map(raw.perSecond), statusPerSecond: new Map(raw.statusPerSecond) };
  return { ticks, end, stats, seconds: (end.endedAt - end.startedAt) / 1000 };
}

/**
 * Measures one (store, mode). Never throws: a failure is returned as status `error` with what was
 * measured so far. `track` is told of a PostgreSQL database as soon as it exists (for Ctrl-C cleanup).
 */
export async function benchRun(
  cfg: SchedulerBenchConfig,
  kind: StoreKind,
  mode: Mode,
  scratch: string,
  track: (db: BenchDatabase) => void,
  log: (line: string) => void,
): Promise<RunResult> {
  const result: RunResult = {
    store: kind,
    mode,
    status: 'ok',
    setup: {
      orders: cfg.orders,
      orgs: cfg.orgs,
      elementSets: 0,
      archiveItems: cfg.catalogItems,
      archiveSeconds: 0,
      seedSeconds: 0,
      seedPath: 'order-service placeOrder (validation, pricing, storage.createOrder), 8 at a time, created in the second before the run',
      serverCommand:
        mode === 'process' ? `node ${path.relative(cfg.root, cfg.skyportBin)} serve` : 'node dist/bench/scheduler/embedded-server.js',
    },
    phases: [],
    notes: [],
  };
  const dataDir = mkdtempSync(path.join(scratch, `${kind}-${mode}-`));
  const children: Child[] = [];
  let storage: Storage | undefined;
  let db: BenchDatabase | undefined;
  try {
    if (kind === 'postgres') {
      db = await createDatabase(cfg.postgresAdminUrl);
      track(db);
    }
    storage = await openStore(kind, db?.url ?? path.join(dataDir, 'skyport.db'));
    const ctx: Ctx = { cfg, kind, mode, storage, dataDir, db, log };
    await measure(ctx, result, children);
  } catch (e) {
    result.status = 'error';
    result.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    for (const c of children) await stopChild(c);
    await storage?.close().catch(() => undefined);
    await db?.drop().catch((e: Error) => result.notes.push(`could not drop ${db?.name}: ${e.message}`));
    rmSync(dataDir, { recursive: true, force: true });
  }
  return result;
}

/** What setting up a run produced: the server, a reader's token, the customers and the loop's settings. */
interface Prepared {
  server: Child;
  base: string;
  bearer: string;
  customers: BenchOrg[];
  spec: LoopSpec;
}

/** Constellation, archive, organizations, the server, a token and the seeded orders; `origin` is the run's t0 (ms). */
async function prepare(ctx: Ctx, result: RunResult, children: Child[], origin: number): Promise<Prepared> {
  const { cfg, storage, log } = ctx;
  result.setup.elementSets = await storeConstellation(storage, origin);
  result.setup.archiveSeconds = await loadArchive(storage, cfg.catalogItems, cfg.seed, origin);
  const [reader] = await createOrgs(storage, 'reader', 1);
  const customers = await createOrgs(storage, 'customer', cfg.orgs);
  log(`  archive: ${cfg.catalogItems.toLocaleString('en-US')} items in ${result.setup.archiveSeconds.toFixed(1)} s`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const spec: LoopSpec = {
    publicUrl: base,
    assetsDir: path.join(ctx.dataDir, 'assets'),
    timeScale: cfg.timeScale,
    tickMs: cfg.tickMs,
    batch: cfg.batch,
    origin,
    maxRunMs: cfg.maxRunSeconds * 1000,
  };
  const server = await startServer(ctx, spec, port);
  children.push(server);
  const bearer = await token(base, reader!);
  const requests = orderRequests(cfg.orders, cfg.seed, origin, cfg.windowStartDays, cfg.windowDays);
  const seeded = await seedOrders(storage, customers, requests, origin, SEED_CONCURRENCY);
  result.setup.seedSeconds = seeded.seconds;
  const rate = Math.round(cfg.orders / seeded.seconds);
  log(`  seeded ${cfg.orders.toLocaleString('en-US')} orders in ${seeded.seconds.toFixed(1)} s (${rate}/s)`);
  return { server, base, bearer, customers, spec };
}

interface Span {
  name: Phase['name'];
  from: number;
  to: number;
  cpu: PhaseCpu;
}

/** The probe throughout idle, run and idle phases; the spans, the probe's samples and the scheduler's run. */
async function phases(ctx: Ctx, p: Prepared, children: Child[]) {
  const { cfg, log } = ctx;
  const paths = searchPaths(SEARCH_PATHS, cfg.seed, p.spec.origin);
  await checkStatus({ url: `${p.base}${paths[0]!}`, method: 'GET', headers: { authorization: `Bearer ${p.bearer}` } });
  const probeSpec: ProbeSpec = { base: p.base, token: p.bearer, paths, rps: cfg.probeRps, maxOutstanding: 64 };
  const script = path.join(cfg.distBench, 'scheduler', 'probe.js');
  // The reader shares a core only with light work: the server in process mode (the scheduler, this
  // process, has the other core), the idle orchestrator in embedded mode (the server has the scheduler).
  const cpu = ctx.mode === 'process' ? cfg.serverCpu : cfg.loadCpu;
  const probe = spawnChild('probe', process.execPath, [script, JSON.stringify(probeSpec)], { cwd: cfg.root, cpu, captureStdout: true });
  children.push(probe);
  await sleep(PROBE_WARMUP_S * 1000);
  const dbName = ctx.db?.name;
  const spans: Span[] = [];
  const timed = async <T>(name: Phase['name'], work: () => Promise<T>): Promise<T> => {
    const from = Date.now();
    const a = mark(p.server, probe, dbName);
    const out = await work();
    spans.push({ name, from, to: Date.now(), cpu: cpuBetween(a, mark(p.server, probe, dbName), ctx.mode === 'process', !!dbName) });
    return out;
  };
  await timed('idle-before', () => sleep(cfg.idleSeconds * 1000));
  log(`  idle searches done; scheduler running (${ctx.mode === 'process' ? 'in this process' : 'inside the server'})`);
  const ran = await timed('run', () => runPhase(ctx, p.server, p.spec));
  log(`  scheduler ${ran.end.reason} after ${ran.seconds.toFixed(1)} s`);
  await timed('idle-after', () => sleep(cfg.idleSeconds * 1000));
  await stopChild(probe);
  const samples = probe.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProbeSample);
  return { spans, samples, ran };
}

/** Latency, CPU and event-loop delay per phase, and the run/idle ratios (idle phases pooled). */
function readerFigures(ctx: Ctx, result: RunResult, server: Child, spans: Span[], samples: ProbeSample[]): void {
  const eld = ctx.mode === 'embedded' ? events(server).filter((e) => e.sb === 'eld') : [];
  for (const s of spans) {
    const e = eldBetween(eld, s.from, s.to);
    const latency = latencyOf(samples, s.from, s.to);
    result.phases.push({ name: s.name, seconds: (s.to - s.from) / 1000, latency, cpu: s.cpu, ...(e ? { eld: e } : {}) });
    if (s.cpu.other > OTHER_CPU_LIMIT_PCT)
      result.notes.push(`other activity used ${Math.round(s.cpu.other)}% of a core during ${s.name}: figures may be disturbed`);
  }
  const idleSpans = spans.filter((s) => s.name !== 'run');
  const idle = latencyOf(
    samples.filter((x) => idleSpans.some((s) => x.t >= s.from && x.t < s.to)),
    -Infinity,
    Infinity,
  );
  const run = result.phases.find((ph) => ph.name === 'run')!.latency;
  result.readers = { idle, run, p50Ratio: run.p50 / idle.p50, p99Ratio: run.p99 / idle.p99 };
}

/** Rates over windows, tick sums, the transition and store-call breakdown, and where the orders ended. */
async function schedulerFigures(
  ctx: Ctx,
  result: RunResult,
  ran: Awaited<ReturnType<typeof runPhase>>,
  customers: BenchOrg[],
  origin: number,
): Promise<void> {
  const { cfg } = ctx;
  const { end, stats, seconds } = ran;
  const windows = windowRates(stats.perSecond, end.startedAt, end.endedAt, cfg.rateWindowSeconds);
  const statusWindows = windowRates(stats.statusPerSecond, end.startedAt, end.endedAt, cfg.rateWindowSeconds);
  const sum = (m: ReadonlyMap<number, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  const sorted = (r: Record<string, CallStat>) => Object.entries(r).sort((x, y) => y[1].calls - x[1].calls);
  result.run = {
    end,
    seconds,
    drainSeconds: end.reason === 'drained' ? seconds : null,
    ticks: summarizeTicks(ran.ticks, end.endedAt - end.startedAt, DEFAULT_TICK_MS),
    windows,
    medianRate: windows.length ? median(windows) : sum(stats.perSecond) / seconds,
    meanRate: sum(stats.perSecond) / seconds,
    statusWindows,
    medianStatusRate: statusWindows.length ? median(statusWindows) : sum(stats.statusPerSecond) / seconds,
    transitions: sorted(stats.transitions),
    reads: sorted(stats.reads),
    drain: summarizeDrain(await allOrders(ctx.storage, customers, cfg.orders), origin),
  };
  if (windows.length === 0) result.notes.push(`the run was shorter than one ${cfg.rateWindowSeconds} s window: the rates are its means`);
}

async function measure(ctx: Ctx, result: RunResult, children: Child[]): Promise<void> {
  const origin = Date.now();
  const prepared = await prepare(ctx, result, children, origin);
  const { spans, samples, ran } = await phases(ctx, prepared, children);
  readerFigures(ctx, result, prepared.server, spans, samples);
  await schedulerFigures(ctx, result, ran, prepared.customers, origin);
}
