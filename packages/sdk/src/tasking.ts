/**
 * Typed client of Skyport's tasking API (STAPI v0.1.0 under `<base>/tasking`, as pystapi implements it):
 * products, the synchronous opportunity search (all pages, following POST `next` links as given), orders
 * (placed with an Idempotency-Key so a retried call never orders twice), the order list, an order's
 * status history, cancellation (Skyport extension) and a watcher that follows an order to a final status.
 * The types here are the SDK's own: it imports nothing from the server. Runs on Node 20 and in browsers.
 */
import { nextPageRequest, type PageRequest } from './paging.js';
import type { ClientCredentials } from './client-credentials.js';
import { authorizedFetch } from './authorized-fetch.js';
import type { Geometry, StacLink } from './catalog.js';
import { ApiError } from './http.js';
import { retryAfterMs } from './retry-after.js';

/** STAPI order status codes (STAPI v0.1.0 §Order Status Codes; the closed pystapi enum). */
export type OrderStatusCode =
  | 'received'
  | 'accepted'
  | 'rejected'
  | 'completed'
  | 'cancelled'
  | 'failed'
  | 'expired'
  | 'scheduled'
  | 'held'
  | 'processing'
  | 'reserved'
  | 'tasked'
  | 'user_cancelled';

/** Statuses after which an order never changes again; only `completed` delivered something. */
export const FINAL_ORDER_STATUSES: readonly OrderStatusCode[] = ['completed', 'failed', 'cancelled', 'rejected', 'expired'];

/** Whether `code` is final (FINAL_ORDER_STATUSES; `user_cancelled`, the STAPI extension example, counts as cancelled). */
export function isFinalStatus(code: string): boolean {
  return (FINAL_ORDER_STATUSES as readonly string[]).includes(code) || code === 'user_cancelled';
}

/** The order priorities Skyport prices (its `priority` order parameter). */
export type Priority = 'standard' | 'priority' | 'urgent';

/** A STAPI Product (a STAC-Collection-like object, `stapi_type: "Product"`); Skyport adds `skyport:limits` and `skyport:price`. */
export interface Product {
  type: 'Collection';
  stapi_type: 'Product';
  stapi_version: string;
  id: string;
  title?: string;
  description: string;
  license: string;
  conformsTo?: string[];
  keywords?: string[];
  /** Request limits and imaging constraints: degrees, km, km², days. */
  'skyport:limits'?: {
    sensor: string;
    gsd_m: number;
    scene_size_km: number;
    max_off_nadir_deg: number;
    min_sun_elevation_deg: number | null;
    max_aoi_km2: number;
    max_window_days: number;
    max_element_age_days: number;
  };
  /** Price of one order by priority, in minor units (cents) of `currency`. */
  'skyport:price'?: { currency: string } & Partial<Record<Priority, number>>;
  links: StacLink[];
  [field: string]: unknown;
}

/** Properties of an Opportunity: `datetime` is the imaging window `start/end` (RFC 3339), angles in degrees. */
export interface OpportunityProperties {
  datetime: string;
  product_id: string;
  start_datetime?: string;
  end_datetime?: string;
  /** The satellite. */
  platform?: string;
  'view:off_nadir'?: number;
  'view:incidence_angle'?: number;
  'view:azimuth'?: number;
  'view:sun_elevation'?: number;
  [field: string]: unknown;
}

/** A STAPI Opportunity: a GeoJSON Feature (geometry = the footprint) with a `create-order` link whose `body` can be posted as is. */
export interface Opportunity {
  type: 'Feature';
  stapi_type?: 'Opportunity';
  id?: string;
  geometry: Geometry | null;
  bbox?: number[];
  properties: OpportunityProperties;
  links: StacLink[];
  [field: string]: unknown;
}

/** Why a satellite contributed fewer or no opportunities (Skyport's `skyport:notes`); `code` is stable. */
export interface OpportunityNote {
  code: string;
  platform?: string;
  norad_id?: number;
  reason: string;
}

/** One page of an opportunity search (STAPI OpportunityCollection). */
export interface OpportunityCollection {
  type: 'FeatureCollection';
  features: Opportunity[];
  links: StacLink[];
  'skyport:notes'?: OpportunityNote[];
  [field: string]: unknown;
}

/**
 * An opportunity search. `aoi`: a GeoJSON Point or Polygon (WGS 84 degrees); `start`/`end`: the window
 * (Date or RFC 3339 text, both required, within the product's `max_window_days`); `filter`: CQL2-JSON over
 * the product's queryables (`view:off_nadir`, `view:sun_elevation`, `platform`); `order_parameters`: narrow
 * the search as they would the order (`max_off_nadir`, `min_sun_elevation`); `limit`: page size, 1–100.
 */
export interface OpportunitySearch {
  aoi: Geometry;
  start: Date | string;
  end: Date | string;
  filter?: Record<string, unknown> | null;
  order_parameters?: Record<string, unknown>;
  limit?: number;
}

/** STAPI OrderPayload: what `POST /products/{id}/orders` takes (an opportunity's `create-order` body is one). */
export interface OrderPayload {
  /** The acceptable imaging window `start/end` (RFC 3339). */
  datetime: string;
  geometry: Geometry;
  filter?: Record<string, unknown> | null;
  /** The product's order parameters (its `order-parameters` JSON Schema), e.g. `{priority, max_cloud_cover}`. */
  order_parameters?: Record<string, unknown>;
}

/** A STAPI Order Status Object: `timestamp` RFC 3339; `links` (e.g. rel `item`, the delivered STAC item). */
export interface OrderStatus {
  timestamp: string;
  status_code: OrderStatusCode;
  reason_code: string | null;
  reason_text: string | null;
  links: StacLink[];
}

/** A STAPI Order (a GeoJSON Feature, geometry = the AOI) as Skyport serves it. */
export interface Order {
  type: 'Feature';
  stapi_type: 'Order';
  stapi_version: string;
  id: string;
  geometry: Geometry;
  bbox?: number[];
  properties: {
    product_id: string;
    created: string;
    /** The current status (the last of the history). */
    status: OrderStatus;
    search_parameters: { datetime: string; geometry: Geometry; filter: Record<string, unknown> | null };
    order_parameters: Record<string, unknown>;
    /** The booked pass (opportunity properties); `{}` until one is booked. */
    opportunity_properties: Partial<OpportunityProperties>;
    priority?: Priority;
    /** Price in major units of `currency` (e.g. 500 USD). */
    price?: { amount: number; currency: string };
    [field: string]: unknown;
  };
  /** self, monitor, product; `cancel` while cancellable; `item` (the delivered STAC item) once completed. */
  links: StacLink[];
  [field: string]: unknown;
}

/** One page of `GET /tasking/orders` (newest first). */
export interface OrderCollection {
  type: 'FeatureCollection';
  features: Order[];
  links: StacLink[];
}

/** Options of paged calls: stop after `maxItems` in all; `signal` aborts the request in flight. */
export interface PageOptions {
  maxItems?: number;
  signal?: AbortSignal;
}

/** Options of `order()`. */
export interface OrderOptions {
  /** The Idempotency-Key (1–255 visible ASCII characters); default a fresh random UUID per call. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** Options of `watch()`. */
export interface WatchOptions {
  /** Pause between polls of the status history, ms (default 2000). */
  intervalMs?: number;
  /** Skip the first `after` statuses of the history (those already seen, when resuming a watch); default 0. */
  after?: number;
  /** Aborting ends the watch: the iterator rejects with the abort reason. */
  signal?: AbortSignal;
}

export interface TaskingClientOptions {
  /** Replaces global fetch for API calls (token requests use the ClientCredentials' own fetch). */
  fetch?: typeof fetch;
  /** Wait before the one retry of an order after a network failure or 503 without Retry-After, ms (default 1000). */
  orderRetryDelayMs?: number;
}

/** The opportunities of a search: iterate it for every opportunity of every page; `notes` explains missing ones. */
export interface OpportunityResults extends AsyncIterable<Opportunity> {
  /** The pages as they arrive (a new search each time it is called). */
  pages(): AsyncGenerator<OpportunityCollection, void, undefined>;
  /** The `skyport:notes` of the last page fetched (the server repeats the search's notes on every page). */
  readonly notes: OpportunityNote[];
}

const enc = encodeURIComponent;
const JSON_ACCEPT = 'application/geo+json, application/json';

function instant(v: Date | string): string {
  return v instanceof Date ? v.toISOString() : v;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** undici's (and browsers') network failure: the request may or may not have reached the server. */
function isNetworkError(e: unknown): boolean {
  return e instanceof TypeError && (e.message === 'fetch failed' || /network|failed to fetch|load failed/i.test(e.message));
}

/** The features of every page, in order; the next page is fetched only when the loop asks for more. */
async function* featuresOf<T>(pages: AsyncIterable<{ features: T[] }>): AsyncGenerator<T, void, undefined> {
  for await (const page of pages) yield* page.features;
}

/** The request body of a search page (STAPI OpportunityPayload). */
export function opportunityBody(s: OpportunitySearch): Record<string, unknown> {
  const body: Record<string, unknown> = { datetime: `${instant(s.start)}/${instant(s.end)}`, geometry: s.aoi };
  if (s.filter !== undefined) body.filter = s.filter;
  if (s.order_parameters !== undefined) body.order_parameters = s.order_parameters;
  if (s.limit !== undefined) body.limit = s.limit;
  return body;
}

/** The `create-order` link of an opportunity; throws TypeError when it has none with a body. */
export function createOrderLink(o: Opportunity): StacLink & { body: Record<string, unknown> } {
  const link = (o.links ?? []).find((l) => l?.rel === 'create-order' && l.body && typeof l.body === 'object');
  if (!link) throw new TypeError(`opportunity ${o.id ?? ''} has no create-order link with a body`);
  return link as StacLink & { body: Record<string, unknown> };
}

/**
 * The tasking API (tasking:read; ordering and cancelling need tasking:order) with a managed token. Example:
 * `const t = new TaskingClient(tokens, base); for await (const o of t.opportunities('skyport-ms-tasking', {aoi, start, end})) …`
 * Errors: ApiError (`{code, description}` of the Data API: 400 naming the field, 404, 409, 422), TokenError,
 * InsufficientScopeError (403 insufficient_scope, e.g. ordering with a read-only credential).
 */
export class TaskingClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly retryDelayMs: number;

  /** `baseUrl`: the Data API root, e.g. `http://127.0.0.1:8080` (the tasking API is under `<baseUrl>/tasking`). */
  constructor(
    private readonly tokens: ClientCredentials,
    baseUrl: string,
    opts: TaskingClientOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetch;
    this.retryDelayMs = opts.orderRetryDelayMs ?? 1000;
  }

  private send(r: PageRequest, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: JSON_ACCEPT, ...r.headers };
    const init: RequestInit = { method: r.method, headers };
    if (r.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(r.body);
    }
    if (signal) init.signal = signal;
    return authorizedFetch(this.tokens, r.url, init, this.fetchImpl ? { fetch: this.fetchImpl } : {});
  }

  /** The JSON body of a 2xx answer; any other answer is an ApiError with the server's code and description. */
  private async parse<T>(res: Response, url: string): Promise<T> {
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!res.ok) {
      const code = String(json?.code ?? json?.error ?? 'Error');
      throw new ApiError(res.status, code, String(json?.description ?? json?.detail ?? json?.error_description ?? res.statusText));
    }
    if (json === undefined) throw new ApiError(res.status, 'InvalidResponse', `${url} did not answer JSON`);
    return json as T;
  }

  private async json<T>(r: PageRequest, signal?: AbortSignal): Promise<T> {
    return this.parse<T>(await this.send(r, signal), r.url);
  }

  private get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.json<T>({ url: `${this.base}/tasking${path}`, method: 'GET' }, signal);
  }

  /** Every product (STAPI `GET /products`, all pages). */
  async products(opts: { signal?: AbortSignal } = {}): Promise<Product[]> {
    const all: Product[] = [];
    let req: PageRequest | undefined = { url: `${this.base}/tasking/products`, method: 'GET' };
    while (req) {
      const page: { products: Product[]; links?: StacLink[] } = await this.json(req, opts.signal);
      if (!Array.isArray(page.products)) throw new ApiError(200, 'InvalidResponse', 'the product list has no products');
      all.push(...page.products);
      req = nextPageRequest(page.links, req, this.base);
    }
    return all;
  }

  /** One product; ApiError 404 NotFound for an unknown id. */
  product(id: string): Promise<Product> {
    return this.get(`/products/${enc(id)}`);
  }

  /**
   * Searches imaging opportunities of a product (STAPI `POST /products/{id}/opportunities`, synchronous):
   * iterating the result fetches page after page (each `next` link's POST body as given) and yields every
   * opportunity once, sorted by start time; `notes` then says which satellites contributed less and why.
   * Errors (thrown by the iteration): ApiError 400 naming the field (`datetime: …`, `geometry: …`), 404 for
   * an unknown product; an Error when a `next` link leaves the API's origin or repeats the request.
   */
  opportunities(productId: string, search: OpportunitySearch, opts: PageOptions = {}): OpportunityResults {
    let notes: OpportunityNote[] = [];
    const pages = () => this.opportunityPages(productId, search, opts, (n) => (notes = n));
    return {
      get notes() {
        return notes;
      },
      pages,
      [Symbol.asyncIterator]: () => featuresOf(pages()),
    };
  }

  private async *opportunityPages(
    productId: string,
    search: OpportunitySearch,
    opts: PageOptions,
    onNotes: (notes: OpportunityNote[]) => void,
  ): AsyncGenerator<OpportunityCollection, void, undefined> {
    const body = opportunityBody(search);
    if (opts.maxItems !== undefined) {
      if (!Number.isInteger(opts.maxItems) || opts.maxItems < 0) throw new RangeError('maxItems must be a whole number ≥ 0');
      if (opts.maxItems === 0) return;
      body.limit = Math.min(search.limit ?? 100, opts.maxItems);
    }
    let left = opts.maxItems ?? Infinity;
    let req: PageRequest | undefined = { url: `${this.base}/tasking/products/${enc(productId)}/opportunities`, method: 'POST', body };
    while (req) {
      const page: OpportunityCollection = await this.json(req, opts.signal);
      if (!Array.isArray(page.features)) throw new ApiError(200, 'InvalidResponse', 'an opportunity page has no features list');
      if (Array.isArray(page['skyport:notes'])) onNotes(page['skyport:notes']);
      if (page.features.length > left) page.features = page.features.slice(0, left);
      left -= page.features.length;
      yield page;
      if (left <= 0) return;
      req = nextPageRequest(page.links, req, this.base);
    }
  }

  /**
   * Places an order (STAPI `POST /products/{id}/orders`) for `request`: an OrderPayload, or an Opportunity
   * (its `create-order` body is posted as is). Sends an Idempotency-Key (`opts.idempotencyKey`, else a fresh
   * UUID) and retries ONCE with the same key after a network failure or a 503, so a lost answer never
   * becomes a second order: the server answers a repeated key with the first order. Resolves the Order
   * (status `received`). Throws InsufficientScopeError without tasking:order, ApiError 400 naming the
   * field, 404 unknown product, 422 IdempotencyKeyReused (the key was used for another request), TypeError
   * (network) when the retry failed too, and TypeError for an opportunity of another product.
   */
  async order(productId: string, request: OrderPayload | Opportunity, opts: OrderOptions = {}): Promise<Order> {
    let body: unknown = request;
    if ((request as Opportunity).type === 'Feature') {
      const o = request as Opportunity;
      if (o.properties?.product_id !== undefined && o.properties.product_id !== productId)
        throw new TypeError(`opportunity ${o.id ?? ''} is of product ${o.properties.product_id}, not ${productId}`);
      body = createOrderLink(o).body;
    }
    const key = opts.idempotencyKey ?? globalThis.crypto.randomUUID();
    const req: PageRequest = {
      url: `${this.base}/tasking/products/${enc(productId)}/orders`,
      method: 'POST',
      body: body as Record<string, unknown>,
      headers: { 'idempotency-key': key },
    };
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.send(req, opts.signal);
      } catch (e) {
        if (attempt > 1 || !isNetworkError(e) || opts.signal?.aborted) throw e;
        await abortableSleep(this.retryDelayMs, opts.signal);
        continue;
      }
      if (res.status === 503 && attempt === 1) {
        await res.body?.cancel();
        await abortableSleep(Math.min(retryAfterMs(res.headers.get('retry-after')) ?? this.retryDelayMs, 30_000), opts.signal);
        continue;
      }
      return this.parse<Order>(res, req.url);
    }
  }

  /** The pages of the organization's orders, newest first (STAPI `GET /orders`, following `next` links). */
  async *orderPages(opts: PageOptions & { limit?: number } = {}): AsyncGenerator<OrderCollection, void, undefined> {
    if (opts.maxItems === 0) return;
    const limit = opts.limit ?? (opts.maxItems !== undefined ? Math.min(opts.maxItems, 100) : undefined);
    let req: PageRequest | undefined = { url: `${this.base}/tasking/orders${limit ? `?limit=${limit}` : ''}`, method: 'GET' };
    let left = opts.maxItems ?? Infinity;
    while (req) {
      const page: OrderCollection = await this.json(req, opts.signal);
      if (!Array.isArray(page.features)) throw new ApiError(200, 'InvalidResponse', 'an order page has no features list');
      if (page.features.length > left) page.features = page.features.slice(0, left);
      left -= page.features.length;
      yield page;
      if (left <= 0) return;
      req = nextPageRequest(page.links, req, this.base);
    }
  }

  /** Every order of the organization, newest first, across pages (fetched as the loop asks for them). */
  orders(opts: PageOptions & { limit?: number } = {}): AsyncGenerator<Order, void, undefined> {
    return featuresOf(this.orderPages(opts));
  }

  /** One order; ApiError 404 NotFound when missing or another organization's (the same answer). */
  getOrder(id: string, opts: { signal?: AbortSignal } = {}): Promise<Order> {
    return this.get(`/orders/${enc(id)}`, opts.signal);
  }

  /** The status history of an order, oldest first; the last entry is the current status. ApiError 404 as `getOrder`. */
  async statuses(id: string, opts: { signal?: AbortSignal } = {}): Promise<OrderStatus[]> {
    const r = await this.get<{ statuses: OrderStatus[] }>(`/orders/${enc(id)}/statuses`, opts.signal);
    if (!Array.isArray(r.statuses)) throw new ApiError(200, 'InvalidResponse', 'the status history has no statuses list');
    return r.statuses;
  }

  /**
   * Cancels an order (Skyport extension `POST /orders/{id}/cancel`): allowed while `received` or `accepted`.
   * Resolves the cancelled Order. Throws ApiError 409 once the order is scheduled or later, 404 as
   * `getOrder`; InsufficientScopeError without tasking:order.
   */
  cancel(id: string): Promise<Order> {
    return this.json({ url: `${this.base}/tasking/orders/${enc(id)}/cancel`, method: 'POST' });
  }

  /**
   * Follows an order: yields each status of its history once, oldest first (those already recorded,
   * then new ones as they appear, polling every `intervalMs`), and ends after yielding a final status
   * (FINAL_ORDER_STATUSES). With `after: n` the first n statuses are not yielded (a resumed watch); when
   * they include the final one, it ends at once. Errors as `statuses()`; rejects with the abort reason when `signal` aborts.
   */
  async *watch(id: string, opts: WatchOptions = {}): AsyncGenerator<OrderStatus, void, undefined> {
    const interval = opts.intervalMs ?? 2000;
    let seen = opts.after ?? 0;
    for (;;) {
      const history = await this.statuses(id, opts.signal ? { signal: opts.signal } : {});
      if (history.slice(0, seen).some((s) => isFinalStatus(s.status_code))) return;
      for (; seen < history.length; seen++) {
        const s = history[seen]!;
        yield s;
        if (isFinalStatus(s.status_code)) return;
      }
      await abortableSleep(interval, opts.signal);
    }
  }
}
