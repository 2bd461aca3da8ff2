/**
 * Typed client of Skyport's Data API catalog (STAC API 1.0): landing page, conformance, collections,
 * items, item search that follows `next` links across pages, and protected asset downloads.
 * The types here are the SDK's own: it imports nothing from the server.
 */
import { nextPageRequest, type PageRequest } from './paging.js';
import type { ClientCredentials } from './client-credentials.js';
import { authorizedFetch } from './authorized-fetch.js';
import { ApiError } from './http.js';
import { downloadAsset, type AssetRef, type DownloadOptions, type DownloadResult } from './download.js';

/** A link of a STAC object; `method`, `body` and `merge` appear on POST paging links (STAC API item-search §Pagination). */
export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
  /** true: `body` is merged into the previous request's body; false or absent: it replaces it. */
  merge?: boolean;
  [field: string]: unknown;
}

/** A STAC Collection as served (extension fields kept). */
export interface StacCollection {
  type: 'Collection';
  id: string;
  title?: string;
  description: string;
  license: string;
  extent: unknown;
  links: StacLink[];
  [field: string]: unknown;
}

/** A GeoJSON geometry (RFC 7946 §3.1), coordinates in degrees (WGS 84 longitude, latitude). */
export interface Geometry {
  type: 'Point' | 'MultiPoint' | 'LineString' | 'MultiLineString' | 'Polygon' | 'MultiPolygon' | 'GeometryCollection';
  coordinates?: unknown;
  geometries?: Geometry[];
}

/** A STAC asset. Assets Skyport holds have an href under `/collections/{c}/items/{i}/assets/{key}` (needs assets:read). */
export interface StacAsset {
  href: string;
  type?: string;
  title?: string;
  roles?: string[];
  [field: string]: unknown;
}

/** A STAC Item (STAC 1.0 item spec); `properties.datetime` is RFC 3339 or null with start/end_datetime. */
export interface StacItem {
  type: 'Feature';
  stac_version: string;
  stac_extensions?: string[];
  id: string;
  collection?: string;
  geometry: Geometry | null;
  bbox?: number[];
  properties: { datetime: string | null; [field: string]: unknown };
  links: StacLink[];
  assets: Record<string, StacAsset>;
  [field: string]: unknown;
}

/** One sort key of the sort extension. */
export interface SortBy {
  field: string;
  direction?: 'asc' | 'desc';
}

/**
 * Item-search parameters (STAC API item-search and its filter, sort, fields, query and free-text
 * extensions), sent as a POST body. `limit` is the page size; the whole search is paged through.
 */
export interface SearchParams {
  /** west, south, east, north (deg), or with min/max heights: 6 numbers. west > east crosses the antimeridian. */
  bbox?: number[];
  intersects?: Geometry;
  /** An instant, or an interval: `start/end` string (`..` open) or a [start, end] pair (null open). */
  datetime?: string | Date | [Date | string | null, Date | string | null];
  ids?: string[];
  collections?: string[];
  /** Page size (the server clamps it to its maximum). */
  limit?: number;
  /** `[{field, direction}]`, or the GET form `+datetime,-eo:cloud_cover`. */
  sortby?: SortBy[] | string;
  fields?: { include?: string[]; exclude?: string[] };
  /** CQL2 text (a string) or CQL2 JSON (an object); `filter-lang` is set to match unless given. */
  filter?: string | Record<string, unknown>;
  'filter-lang'?: 'cql2-text' | 'cql2-json';
  /** The query extension: `{"eo:cloud_cover": {"lt": 10}}`. */
  query?: Record<string, Record<string, unknown>>;
  /** Free-text terms (ORed). */
  q?: string | string[];
  /** The filter's CRS; Skyport supports only CRS84 (`http://www.opengis.net/def/crs/OGC/1.3/CRS84`). */
  'filter-crs'?: string;
  /** A paging token to start from (normally left to the iterator). */
  token?: string;
}

/** One page of a search: a GeoJSON FeatureCollection (STAC ItemCollection). */
export interface ItemCollection {
  type: 'FeatureCollection';
  features: StacItem[];
  links: StacLink[];
  /** Items matching the whole search, when the server counted them. */
  numberMatched?: number;
  numberReturned?: number;
  [field: string]: unknown;
}

/** Options of `search()`/`pages()`. */
export interface SearchOptions {
  /** Stop after this many items in all: no page is fetched after it, the page size is at most this, the last page is cut to it. */
  maxItems?: number;
  signal?: AbortSignal;
}

export interface CatalogClientOptions {
  /** Replaces global fetch for API calls (token requests use the ClientCredentials' own fetch). */
  fetch?: typeof fetch;
}

function instant(v: Date | string | null): string {
  if (v === null) return '..';
  return v instanceof Date ? v.toISOString() : v;
}

/** The POST body of a search: SDK conveniences (Date, string sortby, filter-lang) in their wire form. */
export function searchBody(p: SearchParams): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined) body[k] = v;
  if (p.datetime !== undefined) body.datetime = Array.isArray(p.datetime) ? p.datetime.map(instant).join('/') : instant(p.datetime);
  if (typeof p.sortby === 'string') {
    body.sortby = p.sortby
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map((x) => ({ field: x.replace(/^[+-]/, ''), direction: x.startsWith('-') ? 'desc' : 'asc' }));
  }
  // POST defaults to cql2-json (filter extension): a text filter must say so.
  if (p.filter !== undefined && p['filter-lang'] === undefined)
    body['filter-lang'] = typeof p.filter === 'string' ? 'cql2-text' : 'cql2-json';
  return body;
}

/**
 * The Data API (catalog:read; downloads need assets:read) with a managed token: every call gets one
 * from `tokens` (single flight, refresh on 401). Example:
 * `for await (const item of new CatalogClient(tokens, base).search({ collections: ['skyport-lst'], bbox: [5.9, 45.8, 10.5, 47.8] })) …`
 */
export class CatalogClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch | undefined;
  /** `baseUrl`: the Data API root, e.g. `http://127.0.0.1:8080`. `opts.fetch` replaces global fetch for API calls. */
  constructor(
    private readonly tokens: ClientCredentials,
    baseUrl: string,
    opts: CatalogClientOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetch;
  }

  /** One JSON request with the managed token; a non-2xx answer is an ApiError with the `{code, description}` body. */
  private async json<T>(r: PageRequest, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/geo+json, application/json', ...r.headers };
    const init: RequestInit = { method: r.method, headers };
    if (r.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(r.body);
    }
    if (signal) init.signal = signal;
    const res = await authorizedFetch(this.tokens, r.url, init, this.fetchImpl ? { fetch: this.fetchImpl } : {});
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!res.ok) {
      const code = String(json?.code ?? json?.error ?? 'Error');
      throw new ApiError(res.status, code, String(json?.description ?? json?.detail ?? json?.error_description ?? res.statusText));
    }
    if (json === undefined) throw new ApiError(res.status, 'InvalidResponse', `${r.url} did not answer JSON`);
    return json as T;
  }

  private get<T>(path: string): Promise<T> {
    return this.json<T>({ url: `${this.base}${path}`, method: 'GET' });
  }

  /** The collections this organization is entitled to. */
  async collections(): Promise<StacCollection[]> {
    return (await this.get<{ collections: StacCollection[] }>('/collections')).collections;
  }
  /** One collection; ApiError 404 when it does not exist or is not entitled (the same answer). */
  collection(id: string): Promise<StacCollection> {
    return this.get(`/collections/${encodeURIComponent(id)}`);
  }
  /** The conformance classes the server implements. */
  async conformance(): Promise<string[]> {
    return (await this.get<{ conformsTo: string[] }>('/conformance')).conformsTo;
  }
  /** One item (OGC API Features §7.16); ApiError 404 `NotFound` when missing or not entitled. */
  item(collection: string, id: string): Promise<StacItem> {
    return this.get(`/collections/${encodeURIComponent(collection)}/items/${encodeURIComponent(id)}`);
  }

  /**
   * The pages of a search (`POST /search`), following each page's `rel=next` link exactly as given
   * (GET href, or POST with its `body`, merged into the previous body only when `merge` is true).
   * Stops when a page has no `next` link or `maxItems` are reached. Throws ApiError (400 for a bad
   * parameter, with the server's reason), TokenError, InsufficientScopeError; an Error when a `next`
   * link leaves the API's origin (the bearer token is never sent elsewhere) or repeats the request.
   */
  async *pages(params: SearchParams = {}, opts: SearchOptions = {}): AsyncGenerator<ItemCollection, void, undefined> {
    const body = searchBody(params);
    if (opts.maxItems !== undefined) {
      if (!Number.isInteger(opts.maxItems) || opts.maxItems < 0) throw new RangeError('maxItems must be a whole number ≥ 0');
      if (opts.maxItems === 0) return;
      body.limit = Math.min(params.limit ?? opts.maxItems, opts.maxItems);
    }
    let req: PageRequest | undefined = { url: `${this.base}/search`, method: 'POST', body };
    let left = opts.maxItems ?? Infinity;
    while (req) {
      const page: ItemCollection = await this.json<ItemCollection>(req, opts.signal);
      if (!Array.isArray(page.features)) throw new ApiError(200, 'InvalidResponse', 'a search page has no features list');
      if (page.features.length > left) page.features = page.features.slice(0, left);
      left -= page.features.length;
      yield page;
      if (left <= 0) return;
      req = nextPageRequest(page.links, req, this.base);
    }
  }

  /**
   * Every item of a search, in the server's order, each once: `for await (const item of catalog.search({...}))`.
   * Pages are fetched as the loop asks for them; leaving the loop early fetches no more. Errors as `pages()`.
   */
  async *search(params: SearchParams = {}, opts: SearchOptions = {}): AsyncGenerator<StacItem, void, undefined> {
    for await (const page of this.pages(params, opts)) yield* page.features;
  }

  /**
   * Downloads an asset to `opts.to` through `<to>.part`, resuming a partial download with an HTTP
   * range request (see `downloadAsset`). `target`: an asset href, or `{collection, item, asset}`.
   */
  download(target: string | AssetRef, opts: DownloadOptions): Promise<DownloadResult> {
    return downloadAsset({ tokens: this.tokens, baseUrl: this.base, ...(this.fetchImpl ? { fetch: this.fetchImpl } : {}) }, target, opts);
  }
}
