// The searches of the benchmark, built from sampled items so that each one finds data: the same
// search is sent to the API as a GET /search query string, to the store as an `ItemSearch`, and to
// PostgreSQL as hand-written SQL (floor.ts), so all three answer the same question.
import { BENCH_WINDOW } from '../../src/catalog/generate/ndjson.js';
import { parseSearch, type SearchLimits } from '../../src/catalog/search-params.js';
import type { ItemSearch } from '../../src/storage/types.js';
import type { SampledItem } from './dataset.js';

export const SEARCH_KINDS = ['bbox', 'cql2', 'page1', 'deep'] as const;
/** bbox: 10°×10° + 1 month + 1 collection; cql2: the same + eo:cloud_cover < 20; page1/deep: 60°×60° + 2 years + 5 collections. */
export type SearchKind = (typeof SEARCH_KINDS)[number];

/** Page size of every search. */
export const LIMIT = 100;
/** eo:cloud_cover bound of the CQL2 search, %. */
export const CLOUD_MAX = 20;

/** One search in its three forms' common terms: bbox in degrees, time interval in epoch ms (inclusive). */
export interface SearchSpec {
  collections: string[];
  bbox: [number, number, number, number];
  start: number;
  end: number;
  /** Only items with eo:cloud_cover below this (the CQL2 filter), or none. */
  cloudBelow?: number;
}

/** A 2-D box of `size` degrees around (x, y), moved (not shrunk) to stay inside ±180° / ±90°. */
function boxAround(x: number, y: number, size: number): [number, number, number, number] {
  const half = size / 2;
  const cx = Math.min(180 - half, Math.max(-180 + half, x));
  const cy = Math.min(90 - half, Math.max(-90 + half, y));
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return [r(cx - half), r(cy - half), r(cx + half), r(cy + half)];
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The calendar month (UTC) holding `ms`: [first instant, last second]. */
function monthOf(ms: number): [number, number] {
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - 1000;
  return [start, end];
}

/** The 10°×10° + month + collection search around a sampled item (with the CQL2 cloud filter when `cql2`). */
export function nearSearch(s: SampledItem, cql2: boolean): SearchSpec {
  const [start, end] = monthOf(s.datetime);
  const spec: SearchSpec = {
    collections: [s.collection],
    bbox: boxAround((s.bbox[0] + s.bbox[2]) / 2, (s.bbox[1] + s.bbox[3]) / 2, 10),
    start,
    end,
  };
  if (cql2) spec.cloudBelow = CLOUD_MAX;
  return spec;
}

/** The deep-paging search: 60°×60° around a sampled item, the whole two-year window, all collections. */
export function wideSearch(s: SampledItem, collections: string[]): SearchSpec {
  return {
    collections,
    bbox: boxAround((s.bbox[0] + s.bbox[2]) / 2, (s.bbox[1] + s.bbox[3]) / 2, 60),
    start: BENCH_WINDOW.start.getTime(),
    end: BENCH_WINDOW.end.getTime() - 1000,
  };
}

/** GET /search query parameters of a search (STAC API item-search + filter extension, cql2-text). */
export function queryParams(spec: SearchSpec): Record<string, string> {
  const p: Record<string, string> = {
    bbox: spec.bbox.join(','),
    datetime: `${iso(spec.start)}/${iso(spec.end)}`,
    collections: spec.collections.join(','),
    limit: String(LIMIT),
  };
  if (spec.cloudBelow !== undefined) {
    p.filter = `eo:cloud_cover < ${spec.cloudBelow}`;
    p['filter-lang'] = 'cql2-text';
  }
  return p;
}

/** The request path (with query string) of a search. */
export function searchPath(spec: SearchSpec): string {
  return `/search?${new URLSearchParams(queryParams(spec)).toString()}`;
}

/** The store's `ItemSearch` for a search, parsed by the API's own parser with the server's limits. */
export function itemSearch(spec: SearchSpec, limits: SearchLimits, token?: string): ItemSearch {
  const p: Record<string, unknown> = queryParams(spec);
  if (token !== undefined) p.token = token;
  return parseSearch(p, 'GET', limits).search;
}

/** One-line description of a kind, for the report. */
export function describeKind(kind: SearchKind, deepPage: number): string {
  switch (kind) {
    case 'bbox':
      return '10°×10° bbox + 1 month + 1 collection, limit 100';
    case 'cql2':
      return `the same + filter=eo:cloud_cover < ${CLOUD_MAX} (cql2-text)`;
    case 'page1':
      return '60°×60° bbox + 2024–2025 + 5 collections, page 1';
    case 'deep':
      return `the same, page ${deepPage} (keyset token of the next links)`;
  }
}
