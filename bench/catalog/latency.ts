// Sequential latency of single searches, one request at a time, on three layers: the API over
// loopback HTTP (client-observed, plus the server-side time fastify logged), the store in-process
// (`storage.searchItems`: Skyport's SQL, page + count, rows parsed) and, on PostgreSQL, the floor
// (hand-written SQL through `pg`). Each search runs on every layer back to back, the layer order
// rotating from one search to the next, so that no layer always meets a cache the others warmed.
import pg from 'pg';
import { loadConfig as loadSkyportConfig } from '../../src/config.js';
import { encodeToken, parseSearch, type SearchLimits } from '../../src/catalog/search-params.js';
import type { Storage } from '../../src/storage/types.js';
import { median } from '../lib/results.js';
import { floorSql } from './floor.js';
import { LIMIT, itemSearch, queryParams, type SearchKind, type SearchSpec } from './queries.js';
import { loggedRequests, type RunningSkyport } from './server.js';

export const LAYERS = ['floor', 'store', 'server', 'client'] as const;
/** floor: hand SQL; store: searchItems in-process; server: fastify's responseTime; client: loopback request as the client saw it. */
export type Layer = (typeof LAYERS)[number];

/** Latency statistics of one layer, ms. */
export interface LatencyStats {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** What one search kind measured on each layer, and how many items a page held. */
export interface KindResult {
  kind: SearchKind;
  layers: Partial<Record<Layer, LatencyStats>>;
  /** Items per page (median over the searches) and the median numberMatched the API reported (capped by the count limit). */
  returned: number;
  matched: number | null;
  /** Searches whose item ids differed between layers (should be 0). */
  mismatches: number;
  samples: Partial<Record<Layer, number[]>>;
}

/** Percentile by the nearest-rank method (p in 0–100) of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** p50, p99, mean and max of latency samples (ms). */
export function stats(samples: number[]): LatencyStats {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
    max: s.at(-1) ?? NaN,
  };
}

/** The API's search limits, as the server computes them from its (default) configuration. */
export function serverLimits(): SearchLimits {
  const c = loadSkyportConfig({});
  return { defaultLimit: c.searchDefaultLimit, maxLimit: c.searchMaxLimit, countLimit: c.searchCountLimit };
}

/** One search as sent to every layer: the request path (query string holds everything, paging token included). */
export interface Planned {
  kind: SearchKind | 'warmup';
  path: string;
  cloudBelow?: number;
}

interface Answer {
  ms: number;
  ids: string[];
  matched?: number;
  next?: string;
}

/** The layers that answer a path, for one store. */
export interface Answerers {
  api(path: string): Promise<Answer>;
  store(path: string): Promise<Answer>;
  floor?: (path: string, cloudBelow: number | undefined) => Promise<Answer>;
  close(): Promise<void>;
}

/** Sets up the three layers for a running server and the store it serves (`pgUrl` for the floor). */
export async function answerers(server: RunningSkyport, storage: Storage, pgUrl: string | undefined): Promise<Answerers> {
  const limits = serverLimits();
  const headers = { authorization: `Bearer ${server.token}` };
  const searchOf = (path: string) => parseSearch(Object.fromEntries(new URL(path, server.base).searchParams), 'GET', limits).search;
  const floorDb = pgUrl ? new pg.Client({ connectionString: pgUrl }) : undefined;
  await floorDb?.connect();
  const out: Answerers = {
    async api(path) {
      const t0 = performance.now();
      const res = await fetch(`${server.base}${path}`, { headers, signal: AbortSignal.timeout(60_000) });
      const text = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`GET ${path.slice(0, 120)} answered ${res.status}: ${text.slice(0, 300)}`);
      const body = JSON.parse(text) as { features: { id: string }[]; numberMatched?: number; links: { rel: string; href: string }[] };
      const next = body.links.find((l) => l.rel === 'next')?.href;
      const answer: Answer = { ms, ids: body.features.map((f) => f.id) };
      if (body.numberMatched !== undefined) answer.matched = body.numberMatched;
      if (next) answer.next = next.slice(server.base.length);
      return answer;
    },
    async store(path) {
      const search = searchOf(path);
      const t0 = performance.now();
      const page = await storage.searchItems(server.orgId, search);
      return { ms: performance.now() - t0, ids: page.items.map((r) => r.id) };
    },
    async close() {
      await floorDb?.end();
    },
  };
  if (floorDb) {
    out.floor = async (path, cloudBelow) => {
      const q = floorSql(searchOf(path), cloudBelow);
      const t0 = performance.now();
      const res = await floorDb.query(q.text, q.values);
      return { ms: performance.now() - t0, ids: (res.rows as { id: string }[]).slice(0, LIMIT).map((r) => r.id) };
    };
  }
  return out;
}

/** Per-kind samples and page facts gathered while running a plan. */
class Tally {
  readonly samples = new Map<SearchKind, Partial<Record<Layer, number[]>>>();
  private readonly returned = new Map<SearchKind, number[]>();
  private readonly matched = new Map<SearchKind, number[]>();
  private readonly mismatches = new Map<SearchKind, number>();

  add(kind: SearchKind, layer: Layer, ms: number): void {
    const s = this.samples.get(kind) ?? {};
    (s[layer] ??= []).push(ms);
    this.samples.set(kind, s);
  }

  /** Records one search's answers: times, page size, numberMatched, and whether every layer returned the API's items. */
  search(kind: SearchKind, a: Partial<Record<'api' | 'store' | 'floor', Answer>>): void {
    const api = a.api!;
    this.add(kind, 'client', api.ms);
    if (a.store) this.add(kind, 'store', a.store.ms);
    if (a.floor) this.add(kind, 'floor', a.floor.ms);
    push(this.returned, kind, api.ids.length);
    if (api.matched !== undefined) push(this.matched, kind, api.matched);
    const same = (x: Answer | undefined) => x === undefined || x.ids.join() === api.ids.join();
    if (!same(a.store) || !same(a.floor)) this.mismatches.set(kind, (this.mismatches.get(kind) ?? 0) + 1);
  }

  results(): KindResult[] {
    return [...this.samples].map(([kind, s]) => {
      const layers: KindResult['layers'] = {};
      for (const l of LAYERS) if (s[l]) layers[l] = stats(s[l]);
      const m = this.matched.get(kind);
      return {
        kind,
        layers,
        returned: median(this.returned.get(kind) ?? []),
        matched: m?.length ? median(m) : null,
        mismatches: this.mismatches.get(kind) ?? 0,
        samples: s,
      };
    });
  }
}

function push<K>(m: Map<K, number[]>, k: K, v: number): void {
  const list = m.get(k) ?? [];
  list.push(v);
  m.set(k, list);
}

/**
 * Runs the planned searches, each on every layer, and returns per-kind statistics. Server-side
 * times come from the server's debug log between two marker requests, matched to the API requests
 * by order; when the counts do not match, the server layer is left out and the reason is in `notes`.
 * Page-1/page-N pairs stop once they have run `pagingBudgetMs` (after at least 10 pairs).
 */
export async function measureLatency(
  server: RunningSkyport,
  layers: Answerers,
  plan: Planned[],
  pagingBudgetMs = Number.POSITIVE_INFINITY,
): Promise<{ kinds: KindResult[]; notes: string[] }> {
  const stamp = Date.now().toString(36);
  const begin = await mark(server, `begin-${stamp}`);
  const tally = new Tally();
  const notes: string[] = [];
  const apiKinds: Planned['kind'][] = [];
  let pagingSince: number | undefined;
  let pagingPairs = 0;
  for (const [n, q] of plan.entries()) {
    if (q.kind === 'page1') {
      pagingSince ??= performance.now();
      if (pagingPairs >= 10 && performance.now() - pagingSince > pagingBudgetMs) {
        notes.push(`paging: stopped after ${pagingPairs} page-1/page-N pairs (time budget ${Math.round(pagingBudgetMs / 1000)} s)`);
        break;
      }
      pagingPairs++;
    }
    const order = ['api', 'store', 'floor'] as const;
    const answers: Partial<Record<'api' | 'store' | 'floor', Answer>> = {};
    for (let k = 0; k < order.length; k++) {
      const layer = order[(n + k) % order.length]!;
      if (layer === 'api') {
        apiKinds.push(q.kind);
        answers.api = await layers.api(q.path);
      } else if (layer === 'store') answers.store = await layers.store(q.path);
      else if (layers.floor) answers.floor = await layers.floor(q.path, q.cloudBelow);
    }
    if (q.kind !== 'warmup') tally.search(q.kind, answers);
  }
  const end = await mark(server, `end-${stamp}`);
  const all = loggedRequests(server.child);
  const from = all.findIndex((r) => r.path === begin);
  const to = all.findIndex((r) => r.path === end);
  const logged = all.slice(from + 1, to).filter((r) => r.path === '/search');
  if (from >= 0 && to > from && logged.length === apiKinds.length) {
    logged.forEach((r, n) => {
      const kind = apiKinds[n]!;
      if (kind !== 'warmup') tally.add(kind, 'server', r.responseTime);
    });
  } else {
    notes.push(`server-side times unavailable: ${logged.length} /search log lines for ${apiKinds.length} requests`);
  }
  return { kinds: tally.results(), notes };
}

/** Path prefix of the marker requests that delimit a measurement in the server's log (they answer 401 or 404). */
const MARK = '/__catbench/';

/**
 * Sends a marker request and waits until the server's log holds it, so that every request sent
 * before it is in the captured log too (one process writes its log lines in order). Returns its
 * path; throws after 10 s.
 */
async function mark(server: RunningSkyport, name: string): Promise<string> {
  const path = `${MARK}${name}`;
  const res = await fetch(`${server.base}${path}`, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  const deadline = Date.now() + 10_000;
  while (!loggedRequests(server.child).some((r) => r.path === path)) {
    if (Date.now() > deadline) throw new Error(`the server did not log the marker request ${path} (log level debug?)`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return path;
}

/**
 * Follows `next` links from page 1 of `path` towards page `page`, giving up after `budgetMs`.
 * Returns page `page`'s path (with its keyset token) and how many pages were fetched; `path` is
 * undefined when the search has fewer pages or the budget ran out (`timedOut`).
 */
export async function pathOfPage(
  layers: Answerers,
  path: string,
  page: number,
  budgetMs: number,
): Promise<{ path: string | undefined; fetched: number; timedOut: boolean }> {
  const deadline = performance.now() + budgetMs;
  let current = path;
  for (let k = 1; k < page; k++) {
    if (performance.now() > deadline) return { path: undefined, fetched: k - 1, timedOut: true };
    const a = await layers.api(current);
    if (!a.next) return { path: undefined, fetched: k, timedOut: false };
    current = a.next;
  }
  return { path: current, fetched: page - 1, timedOut: false };
}

/**
 * Page `page` of a search without walking to it: one store query for the first (page − 1) × LIMIT
 * items yields the keyset token that page (page − 1)'s `next` link carries (a keyset token depends
 * only on the last item before the page, and on the first page's count). Returns the request path, or undefined with fewer pages.
 */
export async function deepPathViaStore(storage: Storage, orgId: string, spec: SearchSpec, page: number): Promise<string | undefined> {
  const search = itemSearch(spec, serverLimits());
  const skipped = await storage.searchItems(orgId, { ...search, limit: (page - 1) * LIMIT, countLimit: 0 });
  if (!skipped.next) return undefined;
  // The token also carries the first page's numberMatched, as the walked `next` links do.
  const first = await storage.searchItems(orgId, { ...search, limit: 1 });
  const token = encodeToken(skipped.next, first.numberMatched ?? null);
  return `/search?${new URLSearchParams({ ...queryParams(spec), token }).toString()}`;
}
