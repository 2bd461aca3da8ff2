/**
 * Orders of the tasking API (STAPI v0.1.0 §Orders, tasking-notes §1.5): placing one (validated
 * against the product, priced, made idempotent with `Idempotency-Key`), cancelling one (a Skyport
 * extension, tasking-notes §2), and the STAPI views of orders and their status history. The
 * routes (`orders.ts`) and the scheduler (`scheduler.ts`) both go through here.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { HttpProblem, badRequest, notFound } from '../http/errors.js';
import { geometryBbox, type GeoJsonGeometry } from '../catalog/ingest.js';
import type { Storage } from '../storage/types.js';
import { ConflictError } from '../storage/types.js';
import type { IdempotencyRecord, OrderRecord, OrderStatusCode, OrderStatusRecord, WebhookDeliveryRecord } from '../storage/tasking.js';
import { PRIORITIES, orderParametersSchema, type Priority, type TaskingProduct } from './products.js';
import { parseAoi, parseTaskingFilter, parseWindow, productOr404 } from './requests.js';
import { ORDER_STATUS_EVENT, deliveriesFor } from './webhooks.js';

/** The STAPI version Skyport's orders follow. */
export const STAPI_VERSION = '0.1.0';
const GEOJSON = 'application/geo+json';

/** Who places or reads an order: the token's organization and client (idempotency keys are scoped to the client). */
export interface Caller {
  orgId: string;
  clientId: string;
}

/** What placing, cancelling and recording transitions need. */
export interface OrderServiceDeps {
  storage: Storage;
  /** Public base URL without a trailing slash (links). */
  publicUrl: string;
  /** Wall clock, ms (tests inject one). */
  now?: () => number;
}

/** A status change about to be recorded (timestamps are added by whoever records it). */
export interface StatusChange {
  code: OrderStatusCode;
  reasonCode?: string | null;
  reasonText?: string | null;
  links?: Record<string, unknown>[];
}

/** The order parameters of a stored order with the product's defaults applied (degrees, percent). */
export interface OrderParams {
  maxOffNadirDeg: number;
  maxCloudCover: number;
  /** null for products imaging day and night. */
  minSunElevationDeg: number | null;
  priority: Priority;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const BODY_FIELDS = new Set(['datetime', 'geometry', 'filter', 'order_parameters']);

// One compiled validator per product: the schemas are configuration, fixed for the process.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validators = new Map<string, ValidateFunction>();

function validatorFor(p: TaskingProduct): ValidateFunction {
  let v = validators.get(p.id);
  if (!v) {
    v = ajv.compile(orderParametersSchema(p));
    validators.set(p.id, v);
  }
  return v;
}

/** JSON with object keys sorted at every level: equal documents, equal text. */
export function canonicalJson(value: unknown, depth = 0): string {
  // A body nested deeper than any order needs is the client's mistake (and must not overflow the stack).
  if (depth > MAX_BODY_DEPTH) throw badRequest(`the request body is nested more than ${MAX_BODY_DEPTH} levels deep`);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k], depth + 1)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Deepest nesting accepted in an order body (GeoJSON polygons need 4, CQL2 filters a few dozen). */
const MAX_BODY_DEPTH = 100;

/**
 * The fingerprint an Idempotency-Key is pinned to (IETF draft-ietf-httpapi-idempotency-key-header §2.2):
 * SHA-256 (hex) of method, path and the canonical JSON body, so a key reused on another path or with
 * another body is recognised (field pitfall T03) while key order and whitespace do not matter.
 */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()}\n${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

/**
 * The Idempotency-Key header value: a token of 1–255 visible ASCII characters, or a Structured Field
 * string (`"…"`, RFC 8941 §3.3.3) around one. Throws HttpProblem 400 otherwise.
 */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw badRequest('send one Idempotency-Key header');
  const key = /^".*"$/.test(raw) ? raw.slice(1, -1) : raw;
  if (!IDEMPOTENCY_KEY.test(key)) throw badRequest('Idempotency-Key must be 1 to 255 visible ASCII characters');
  return key;
}

/** A stored order's parameters, typed, with the product's defaults where the record lacks a value. */
export function orderParams(o: Pick<OrderRecord, 'orderParameters' | 'priority'>, p: TaskingProduct): OrderParams {
  const op = o.orderParameters;
  const num = (k: string, d: number) => (typeof op[k] === 'number' ? (op[k] as number) : d);
  return {
    maxOffNadirDeg: num('max_off_nadir', p.maxOffNadirDeg),
    maxCloudCover: num('max_cloud_cover', 20),
    minSunElevationDeg: p.minSunElevationDeg === null ? null : num('min_sun_elevation', p.minSunElevationDeg),
    priority: (PRIORITIES as readonly string[]).includes(o.priority) ? (o.priority as Priority) : 'standard',
  };
}

/**
 * `order_parameters` checked against the product's JSON Schema (draft-07) with its defaults filled in.
 * Throws HttpProblem 400 naming each offending field, e.g. `order_parameters.max_cloud_cover must be <= 100`.
 */
export function validateOrderParameters(p: TaskingProduct, raw: unknown): Record<string, unknown> {
  if (raw === undefined) raw = {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('order_parameters must be an object');
  const params = structuredClone(raw) as Record<string, unknown>;
  const validate = validatorFor(p);
  if (!validate(params)) {
    const reasons = (validate.errors ?? []).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? `.${String(e.params.additionalProperty)}` : '';
      const at = `order_parameters${e.instancePath.replace(/\//g, '.')}${extra}`;
      return e.keyword === 'additionalProperties' ? `${at} is not an order parameter of ${p.id}` : `${at} ${e.message ?? 'is invalid'}`;
    });
    throw badRequest(reasons.join('; '));
  }
  // The schema allows 0, but no sensor images with a zero-width cone.
  if (params.max_off_nadir === 0) throw badRequest('order_parameters.max_off_nadir must be greater than 0');
  return params;
}

/** Checks the body's fields (STAPI OrderPayload: no others) and builds the order it asks for. Throws HttpProblem 400/404. */
function buildOrder(caller: Caller, product: TaskingProduct, body: unknown, now: number): OrderRecord {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object (STAPI OrderPayload)');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !BODY_FIELDS.has(k));
  if (unknown.length)
    throw badRequest(`unknown field(s) ${unknown.slice(0, 5).join(', ')}: an order has datetime, geometry, filter, order_parameters`);
  const window = parseWindow(b.datetime, now, product);
  const geometry = parseAoi(b.geometry, product) as unknown as Record<string, unknown>;
  if (b.filter !== undefined && b.filter !== null && (typeof b.filter !== 'object' || Array.isArray(b.filter)))
    throw badRequest('filter: must be a CQL2-JSON object or null');
  parseTaskingFilter(b.filter, product);
  const filter = (b.filter ?? null) as Record<string, unknown> | null;
  const params = validateOrderParameters(product, b.order_parameters);
  const priority = (params.priority as Priority | undefined) ?? 'standard';
  return {
    id: randomUUID(),
    orgId: caller.orgId,
    clientId: caller.clientId,
    productId: product.id,
    geometry,
    windowStart: window.start.getTime(),
    windowEnd: window.end.getTime(),
    orderParameters: params,
    filter,
    priority,
    priceMinor: product.price[priority],
    currency: product.currency,
    status: 'received',
    booked: null,
    attempts: 0,
    nextActionAt: now,
    itemId: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/** The outcome of `placeOrder`: the order and whether it was a replay of an earlier request with the same key. */
export interface PlacedOrder {
  order: OrderRecord;
  statuses: OrderStatusRecord[];
  replayed: boolean;
}

/** A replay of an earlier use of `key`, or a 422 when the key was used for another request (pitfall T03). */
async function replay(deps: OrderServiceDeps, caller: Caller, rec: IdempotencyRecord, hash: string): Promise<PlacedOrder> {
  if (rec.requestHash !== hash) {
    throw new HttpProblem(
      422,
      'IdempotencyKeyReused',
      'this Idempotency-Key was already used with another request (another body or path); use a new key for a new order',
    );
  }
  const order = await deps.storage.getOrderFor(caller.orgId, rec.orderId);
  if (!order) throw notFound(`order ${rec.orderId}`);
  return { order, statuses: await deps.storage.listOrderStatuses(order.id), replayed: true };
}

/**
 * Places an order (STAPI `POST /products/{productId}/orders`): validates the body (window, AOI, filter,
 * order parameters: HttpProblem 400 naming the field; unknown product 404), prices it by priority
 * (products.ts), and stores it as `received` with its first status, atomically with the idempotency
 * record when `idempotencyKey` is given. The same key with the same (method, `path`, body) returns the
 * first order (`replayed: true`, also under concurrency); with another request, HttpProblem 422.
 * Keys belong to the calling client: another client's identical key is another key (pitfall T02/T03).
 */
export async function placeOrder(
  deps: OrderServiceDeps,
  caller: Caller,
  productId: string,
  body: unknown,
  opts: { idempotencyKey?: string; path: string },
): Promise<PlacedOrder> {
  const now = (deps.now ?? Date.now)();
  const key = opts.idempotencyKey;
  const hash = requestHash('POST', opts.path, body);
  if (key !== undefined) {
    const rec = await deps.storage.getIdempotency(caller.clientId, key);
    if (rec) return replay(deps, caller, rec, hash);
  }
  const product = productOr404(productId);
  const order = buildOrder(caller, product, body, now);
  const first = { timestamp: now, statusCode: 'received' as const, reasonCode: null, reasonText: null, links: [] };
  const idem = key === undefined ? undefined : { clientId: caller.clientId, key, requestHash: hash, orderId: order.id, createdAt: now };
  try {
    await deps.storage.createOrder(order, first, idem);
  } catch (e) {
    // Two requests with one key at once: the other one stored first, so this is its replay.
    if (!(e instanceof ConflictError) || key === undefined) throw e;
    const rec = await deps.storage.getIdempotency(caller.clientId, key);
    if (!rec) throw e;
    return replay(deps, caller, rec, hash);
  }
  return { order, statuses: [{ ...first, orderId: order.id, seq: 1 }], replayed: false };
}

/** Statuses from which a customer may still cancel (STAPI: `scheduled` is no longer subject to cancellation). */
export const CANCELLABLE: readonly OrderStatusCode[] = ['received', 'accepted'];

/**
 * Cancels an order of the caller's organization (Skyport extension `POST /orders/{id}/cancel`): allowed
 * while `received` or `accepted`, recorded as `cancelled` with reason_code `customer_cancelled` (the
 * STAPI example) and announced to the organization's webhooks in the same transaction. Throws
 * HttpProblem 404 for a missing or another organization's order, 409 once the order is past `accepted`.
 */
export async function cancelOrder(deps: OrderServiceDeps, caller: Caller, id: string): Promise<OrderRecord> {
  // A scheduler step may move the order on between our read and write: re-read and decide again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const order = await deps.storage.getOrderFor(caller.orgId, id);
    if (!order) throw notFound(`order ${id.slice(0, 100)}`);
    if (!CANCELLABLE.includes(order.status)) {
      throw new HttpProblem(409, 'Conflict', `order ${order.id} is ${order.status}: only received or accepted orders can be cancelled`);
    }
    const now = (deps.now ?? Date.now)();
    const change: StatusChange = {
      code: 'cancelled',
      reasonCode: 'customer_cancelled',
      reasonText: `cancelled by client ${caller.clientId}`,
    };
    const next = await recordTransition(deps, order, { status: 'cancelled', nextActionAt: null }, change, now);
    if (next) return next;
  }
  throw new HttpProblem(409, 'Conflict', 'the order changed while it was being cancelled; try again');
}

/** A status record as STAPI shows it (Order Status Object: timestamp, status_code, reason_code, reason_text, links). */
export function statusView(s: Pick<OrderStatusRecord, 'timestamp' | 'statusCode' | 'reasonCode' | 'reasonText' | 'links'>, base: string) {
  return {
    timestamp: new Date(s.timestamp).toISOString(),
    status_code: s.statusCode,
    reason_code: s.reasonCode,
    reason_text: s.reasonText,
    links: s.links.map((l) => resolveLink(l, base)),
  };
}

/** Stored links carry paths relative to the public base (it may change); served ones are absolute. */
function resolveLink(l: Record<string, unknown>, base: string): Record<string, unknown> {
  const href = l.href;
  return typeof href === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(href) ? { ...l, href: `${base}/${href.replace(/^\/+/, '')}` } : l;
}

/** URL of an order on this API. */
export function orderUrl(base: string, id: string): string {
  return `${base}/tasking/orders/${encodeURIComponent(id)}`;
}

/** The booked pass as STAPI opportunity properties (the chosen opportunity), `{}` while none is booked. */
function bookedProperties(o: OrderRecord): Record<string, unknown> {
  const b = o.booked;
  if (!b) return {};
  return {
    datetime: `${new Date(b.start).toISOString()}/${new Date(b.end).toISOString()}`,
    product_id: o.productId,
    platform: b.satellite,
    'view:off_nadir': round2(b.offNadirDeg),
    'view:sun_elevation': round2(b.sunElevationDeg),
    'skyport:norad_id': b.noradId,
    'skyport:tca': new Date(b.tca).toISOString(),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * The STAPI Order (a GeoJSON Feature, tasking-notes §1.5 as pystapi implements it): geometry = the AOI,
 * `properties` {product_id, created, status (the current one), search_parameters, order_parameters,
 * opportunity_properties (the booked pass), priority, price {amount (major units), currency}, attempts},
 * links self, monitor (status history), product, `cancel` while cancellable and `item` (the delivered
 * STAC item) once completed. `statuses` must be the order's history, oldest first.
 */
export function orderView(o: OrderRecord, statuses: readonly OrderStatusRecord[], base: string): Record<string, unknown> {
  const current = statuses[statuses.length - 1] ?? {
    timestamp: o.updatedAt,
    statusCode: o.status,
    reasonCode: null,
    reasonText: null,
    links: [],
  };
  const self = orderUrl(base, o.id);
  const links: Record<string, unknown>[] = [
    { rel: 'self', type: GEOJSON, href: self },
    { rel: 'monitor', type: 'application/json', href: `${self}/statuses` },
    { rel: 'product', type: 'application/json', href: `${base}/tasking/products/${encodeURIComponent(o.productId)}` },
  ];
  if (CANCELLABLE.includes(o.status)) links.push({ rel: 'cancel', type: GEOJSON, href: `${self}/cancel`, method: 'POST' });
  if (o.itemId) links.push({ rel: 'item', type: GEOJSON, href: `${base}/${deliveredItemPath(o.orgId, o.itemId)}` });
  const bbox = geometryBbox(o.geometry as unknown as GeoJsonGeometry);
  return {
    type: 'Feature',
    stapi_type: 'Order',
    stapi_version: STAPI_VERSION,
    id: o.id,
    geometry: o.geometry,
    ...(bbox ? { bbox } : {}),
    properties: {
      product_id: o.productId,
      created: new Date(o.createdAt).toISOString(),
      status: statusView(current, base),
      search_parameters: {
        datetime: `${new Date(o.windowStart).toISOString()}/${new Date(o.windowEnd).toISOString()}`,
        geometry: o.geometry,
        filter: o.filter,
      },
      order_parameters: o.orderParameters,
      opportunity_properties: bookedProperties(o),
      priority: o.priority,
      price: { amount: o.priceMinor / 100, currency: o.currency },
      'skyport:attempts': o.attempts,
    },
    links,
  };
}

/** The private collection an organization's deliveries go to (STAC collection id). */
export function deliveryCollectionId(orgId: string): string {
  return `tasking-${orgId}`;
}

/** Path (relative to the public base) of a delivered item: `collections/tasking-<org>/items/<id>`. */
export function deliveredItemPath(orgId: string, itemId: string): string {
  return `collections/${encodeURIComponent(deliveryCollectionId(orgId))}/items/${encodeURIComponent(itemId)}`;
}

/**
 * The webhook event of a status change (Standard Webhooks payload shape `{type, timestamp, data}`):
 * data = {order_id, product_id, status (STAPI Order Status Object), links [order, monitor]}.
 */
export function statusEvent(o: OrderRecord, status: Omit<OrderStatusRecord, 'orderId' | 'seq'>, base: string): Record<string, unknown> {
  const self = orderUrl(base, o.id);
  return {
    type: ORDER_STATUS_EVENT,
    timestamp: new Date(status.timestamp).toISOString(),
    data: {
      order_id: o.id,
      product_id: o.productId,
      status: statusView(status, base),
      links: [
        { rel: 'order', type: GEOJSON, href: self },
        { rel: 'monitor', type: 'application/json', href: `${self}/statuses` },
      ],
    },
  };
}

/**
 * Applies one transition of `order` (from its current version): the record patch, the new status (when
 * `change` is given) and the webhook deliveries announcing it, plus `extras` (a delivered item and
 * collection), all in one storage transaction. Resolves the new order, or undefined when the order
 * moved on meanwhile (nothing was written).
 */
export async function recordTransition(
  deps: Pick<OrderServiceDeps, 'storage' | 'publicUrl'>,
  order: OrderRecord,
  patch: Parameters<Storage['transitionOrder']>[2],
  change: StatusChange | undefined,
  now: number,
  extras: { item?: Parameters<Storage['upsertItems']>[0][number]; collection?: Parameters<Storage['upsertCollection']>[0] } = {},
): Promise<OrderRecord | undefined> {
  let status: Omit<OrderStatusRecord, 'orderId' | 'seq'> | undefined;
  let deliveries: WebhookDeliveryRecord[] = [];
  if (change) {
    status = {
      timestamp: now,
      statusCode: change.code,
      reasonCode: change.reasonCode ?? null,
      reasonText: change.reasonText ?? null,
      links: change.links ?? [],
    };
    deliveries = await deliveriesFor(deps.storage, order.orgId, ORDER_STATUS_EVENT, statusEvent(order, status, deps.publicUrl), now);
  }
  const p = change ? { ...patch, status: change.code } : patch;
  return deps.storage.transitionOrder(order.id, order.version, p, { ...extras, ...(status ? { status } : {}), deliveries }, now);
}
