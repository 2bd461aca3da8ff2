// One store from empty to measured: the two loads, then Skyport started on the loaded store for the
// sequential latencies (debug log level, for server-side times) and restarted at warn level for the
// throughput run next to the empty-route ceiling. Every failure is recorded and the next part goes on.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { checkStatus } from '../lib/http.js';
import { freePort, stopChild, type Child } from '../lib/procs.js';
import { failed, type Measurement } from '../lib/results.js';
import { startServer } from '../lib/server.js';
import type { ItemSearch, Storage } from '../../src/storage/types.js';
import type { CatalogBenchConfig, StoreKind } from './config.js';
import type { Dataset } from './dataset.js';
import { explain, floorSql, skyportSql, type PlanSummary } from './floor.js';
import { answerers, deepPathViaStore, measureLatency, pathOfPage, serverLimits, type Answerers, type Planned } from './latency.js';
import { CLOUD_MAX, itemSearch, nearSearch, searchPath, wideSearch, type SearchKind, type SearchSpec } from './queries.js';
import type { StoreResult } from './report.js';
import { sqlitePlans } from './sqlite-plan.js';
import { startSkyport, type RunningSkyport } from './server.js';
import {
  createCollections,
  createDatabase,
  loadOperatorPath,
  loadStoreAlone,
  openStore,
  postgresSizes,
  removeSqliteFiles,
  runStatement,
  sqliteBytes,
  type BenchDatabase,
} from './stores.js';
import { postmasterPid, runRotatingLoad } from './throughput.js';

/** The searches of a run, from the dataset's sample. */
export interface SearchPlan {
  warmup: SearchSpec[];
  bbox: SearchSpec[];
  cql2: SearchSpec[];
  wide: SearchSpec[];
}

/** Splits the sampled items into warm-up, measured and deep-paging searches. */
export function planSearches(cfg: CatalogBenchConfig, ds: Dataset): SearchPlan {
  const s = ds.samples;
  const warm = s.slice(0, cfg.warmupRequests);
  const near = s.slice(cfg.warmupRequests, cfg.warmupRequests + cfg.requests);
  const wide = s.slice(cfg.warmupRequests + cfg.requests, cfg.warmupRequests + cfg.requests + cfg.pagingSearches);
  const ids = ds.collections.map((c) => c.id);
  return {
    warmup: warm.map((x) => nearSearch(x, false)),
    bbox: near.map((x) => nearSearch(x, false)),
    // Half a list apart, so that a CQL2 search never follows the plain search of the same box.
    cql2: near.map((_, k) => nearSearch(near[(k + Math.floor(near.length / 2)) % near.length]!, true)),
    wide: wide.map((x) => wideSearch(x, ids)),
  };
}

function log(msg: string): void {
  console.log(`  ${msg}`);
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The two loads; leaves the operator-loaded store in place for the searches. */
async function loads(
  cfg: CatalogBenchConfig,
  kind: StoreKind,
  ds: Dataset,
  target: string,
  scratch: string,
  out: StoreResult,
): Promise<void> {
  let storeAlone;
  if (cfg.parts.has('load')) {
    const aloneTarget = kind === 'sqlite' ? path.join(scratch, 'store-alone.db') : target;
    const s = await openStore(kind, aloneTarget);
    try {
      await createCollections(s, ds.collections);
      log(`store alone: upsertItems of ${ds.items.toLocaleString('en-US')} pre-parsed items ...`);
      storeAlone = await loadStoreAlone(s, ds.file);
      log(`  ${Math.round(storeAlone.rate).toLocaleString('en-US')} items/s (${storeAlone.seconds.toFixed(1)} s in upsertItems)`);
    } finally {
      await s.close();
    }
    if (kind === 'sqlite') removeSqliteFiles(aloneTarget);
    else await runStatement(target, 'TRUNCATE items');
  }
  const s = await openStore(kind, target);
  let operator;
  try {
    await createCollections(s, ds.collections);
    log(`operator path: loadStac of ${ds.items.toLocaleString('en-US')} items ...`);
    operator = await loadOperatorPath(s, ds.file, ds.items);
    log(`  ${Math.round(operator.rate).toLocaleString('en-US')} items/s (${operator.seconds.toFixed(1)} s)`);
  } finally {
    await s.close();
  }
  out.load = { operator, sizes: {} };
  if (storeAlone) out.load.storeAlone = storeAlone;
  if (kind === 'postgres') {
    // Autovacuum does this within a minute or so of a bulk insert; done here so that every run plans on fresh statistics.
    out.load.vacuumAnalyzeSeconds = await runStatement(target, 'VACUUM (ANALYZE) items');
    const sz = await postgresSizes(target);
    out.load.sizes = { table: sz.table, indexes: sz.indexes, ...sz.byIndex };
  } else {
    out.load.sizes = { file: sqliteBytes(target) };
  }
}

interface PagePair {
  page1: string;
  deep: string;
}

/**
 * Page 1 and page N of each wide search that has a page N. The first one is also reached by
 * following its next links as a client would (within the paging time budget) and must carry the
 * same token; the others come from one store query each. Returns the pairs and a note when the walk
 * could not check the token.
 */
async function pagePairs(
  cfg: CatalogBenchConfig,
  plan: SearchPlan,
  storage: Storage,
  layers: Answerers,
  server: RunningSkyport,
): Promise<{ pairs: PagePair[]; note?: string }> {
  const pairs: PagePair[] = [];
  let note: string | undefined;
  const token = (p: string) => new URL(p, server.base).searchParams.get('token');
  for (const w of plan.wide) {
    const page1 = searchPath(w);
    const deep = await deepPathViaStore(storage, server.orgId, w, cfg.deepPage);
    if (!deep) continue;
    if (pairs.length === 0) {
      const walked = await pathOfPage(layers, page1, cfg.deepPage, cfg.pagingBudgetSeconds * 1000);
      if (walked.path === undefined) {
        note = walked.timedOut
          ? `walking the next links gave up after ${walked.fetched} pages (time budget): page ${cfg.deepPage} tokens come from one store query each, unchecked`
          : `the next links ended after ${walked.fetched} pages, the store query found a page ${cfg.deepPage}`;
      } else if (token(walked.path) !== token(deep)) {
        throw new Error(`page ${cfg.deepPage} by next links and by one store query differ: ${token(walked.path)} vs ${token(deep)}`);
      }
    }
    pairs.push({ page1, deep });
  }
  return note === undefined ? { pairs } : { pairs, note };
}

/** The timed sequence: warm-up, plain and CQL2 searches alternating, then page-1/page-N pairs (after one untimed round). */
function plannedSearches(cfg: CatalogBenchConfig, plan: SearchPlan, pairs: PagePair[]): Planned[] {
  const planned: Planned[] = plan.warmup.map((s) => ({ kind: 'warmup', path: searchPath(s) }));
  plan.bbox.forEach((s, k) => {
    planned.push({ kind: 'bbox', path: searchPath(s) });
    planned.push({ kind: 'cql2', path: searchPath(plan.cql2[k]!), cloudBelow: CLOUD_MAX });
  });
  if (pairs.length === 0) return planned;
  for (const p of pairs) planned.push({ kind: 'warmup', path: p.page1 }, { kind: 'warmup', path: p.deep });
  for (let k = 0; k < Math.min(cfg.requests, cfg.pagingRequests); k++) {
    const p = pairs[k % pairs.length]!;
    planned.push({ kind: 'page1', path: p.page1 }, { kind: 'deep', path: p.deep });
  }
  return planned;
}

/** The sequential latencies on all layers, and the plans of Skyport's own SQL. */
async function latency(
  cfg: CatalogBenchConfig,
  kind: StoreKind,
  plan: SearchPlan,
  server: RunningSkyport,
  target: string,
  out: StoreResult,
): Promise<void> {
  const storage = await openStore(kind, target);
  const layers = await answerers(server, storage, kind === 'postgres' ? target : undefined);
  try {
    const { pairs, note } = await pagePairs(cfg, plan, storage, layers, server);
    const how = note ?? `the first reached through ${cfg.deepPage - 1} next links too, same token`;
    log(`deep paging: ${pairs.length} of ${plan.wide.length} wide searches have a page ${cfg.deepPage}; ${how}`);
    const planned = plannedSearches(cfg, plan, pairs);
    log(
      `latency: ${planned.length} searches, one at a time, each on ${kind === 'postgres' ? 'floor SQL, store and API' : 'store and API'} ...`,
    );
    const measured = await measureLatency(server, layers, planned, cfg.pagingBudgetSeconds * 1000);
    out.latency = {
      kinds: measured.kinds,
      notes: note ? [note, ...measured.notes] : measured.notes,
      pagingSearches: { planned: plan.wide.length, reachedDeepPage: pairs.length },
      plans: {},
    };
    // The first wide search is the first pair only when every wide search has a page N.
    const searches = explained(plan, pairs.length === plan.wide.length ? pairs[0]?.deep : undefined);
    out.latency.plans =
      kind === 'postgres' ? await postgresPlans(target, server.orgId, searches) : sqlitePlans(target, server.orgId, searches);
  } finally {
    await layers.close();
    await storage.close();
  }
}

/** The first search of each kind as the store sees it (page N with its keyset token), for the plan printout. */
function explained(plan: SearchPlan, deepPath: string | undefined): [SearchKind, ItemSearch][] {
  const limits = serverLimits();
  const token = deepPath ? (new URL(deepPath, 'http://x').searchParams.get('token') ?? undefined) : undefined;
  const out: [SearchKind, ItemSearch][] = [];
  if (plan.bbox[0]) out.push(['bbox', itemSearch(plan.bbox[0], limits)]);
  if (plan.cql2[0]) out.push(['cql2', itemSearch(plan.cql2[0], limits)]);
  if (plan.wide[0]) out.push(['page1', itemSearch(plan.wide[0], limits)]);
  if (plan.wide[0] && token) out.push(['deep', itemSearch(plan.wide[0], limits, token)]);
  return out;
}

/** EXPLAIN (ANALYZE, BUFFERS) of Skyport's page and count statements, and of the floor's, for each search. */
async function postgresPlans(url: string, orgId: string, searches: [SearchKind, ItemSearch][]): Promise<Record<string, PlanSummary>> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const out: Record<string, PlanSummary> = {};
  try {
    for (const [kind, s] of searches) {
      const q = skyportSql(s, orgId);
      out[`${kind}.page`] = await explain(db, q.page);
      if (q.count) out[`${kind}.count`] = await explain(db, q.count);
      out[`${kind}.floor`] = await explain(db, floorSql(s, kind === 'cql2' ? CLOUD_MAX : undefined));
    }
  } finally {
    await db.end();
  }
  return out;
}

/** Search throughput with `cfg.catalogConnections` clients, and the empty-route ceiling right before it. */
async function throughput(
  cfg: CatalogBenchConfig,
  kind: StoreKind,
  plan: SearchPlan,
  dataDir: string,
  dbUrl: string | undefined,
  out: StoreResult,
): Promise<void> {
  let empty: Measurement;
  let emptyServer: Child | undefined;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    emptyServer = await startServer(cfg, {
      name: 'empty-fastify',
      nodeArgs: [path.join(cfg.distBench, 'peers', 'empty-fastify.js')],
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
      readyUrl: url,
    });
    log(`throughput: fastify empty route, ${cfg.catalogConnections} connections ...`);
    empty = await runRotatingLoad(cfg, {
      id: `${kind}.empty`,
      label: 'fastify empty route GET /',
      base: url.slice(0, -1),
      paths: ['/'],
      serverPid: emptyServer.pid,
    });
  } catch (e) {
    empty = failed(`${kind}.empty`, 'fastify empty route GET /', 'req/s', e);
  } finally {
    if (emptyServer) await stopChild(emptyServer);
  }
  let search: Measurement;
  let server: RunningSkyport | undefined;
  const label = `skyport ${kind} GET /search bbox+datetime+collections (${plan.bbox.length} searches in turn)`;
  try {
    server = await startSkyport(cfg, dataDir, dbUrl, 'warn');
    const paths = plan.bbox.map(searchPath);
    const headers = { authorization: `Bearer ${server.token}` };
    await checkStatus({ url: `${server.base}${paths[0]}`, method: 'GET', headers });
    log(`throughput: ${label}, ${cfg.catalogConnections} connections ...`);
    const target = { id: `${kind}.search`, label, base: server.base, paths, headers, serverPid: server.child.pid };
    const pgPid = dbUrl ? await postmasterPid(dbUrl) : undefined;
    search = await runRotatingLoad(cfg, pgPid ? { ...target, postgresPid: pgPid } : target);
  } catch (e) {
    search = failed(`${kind}.search`, label, 'req/s', e);
  } finally {
    if (server) await stopChild(server.child);
  }
  const a = search.median?.rate;
  const b = empty.median?.rate;
  out.throughput = { search, empty, ratio: search.status === 'ok' && empty.status === 'ok' && a && b ? a / b : null };
}

/** Loads and measures one store; the PostgreSQL database and the data folder are removed at the end. */
export async function benchStore(
  cfg: CatalogBenchConfig,
  kind: StoreKind,
  ds: Dataset,
  plan: SearchPlan,
  scratch: string,
  track: (db: BenchDatabase) => void,
): Promise<StoreResult> {
  const out: StoreResult = { store: kind, errors: [] };
  const dataDir = path.join(scratch, `${kind}-data`);
  mkdirSync(dataDir, { recursive: true });
  let db: BenchDatabase | undefined;
  try {
    if (kind === 'postgres') {
      db = await createDatabase(cfg.postgresAdminUrl);
      track(db);
      log(`database ${db.name}`);
    }
    const target = db ? db.url : path.join(dataDir, 'skyport.db');
    await loads(cfg, kind, ds, target, scratch, out);
    if (cfg.parts.has('latency')) {
      let server: RunningSkyport | undefined;
      try {
        server = await startSkyport(cfg, dataDir, db?.url, 'debug');
        await latency(cfg, kind, plan, server, target, out);
      } catch (e) {
        out.errors.push(`latency: ${errText(e)}`);
        log(`latency: ERROR ${errText(e)}`);
      } finally {
        if (server) await stopChild(server.child);
      }
    }
    if (cfg.parts.has('throughput')) await throughput(cfg, kind, plan, dataDir, db?.url, out);
  } catch (e) {
    out.errors.push(errText(e));
    log(`ERROR ${errText(e)}`);
  } finally {
    await db?.drop().catch((e: unknown) => out.errors.push(`dropping ${db?.name}: ${errText(e)}`));
    rmSync(dataDir, { recursive: true, force: true });
  }
  return out;
}
