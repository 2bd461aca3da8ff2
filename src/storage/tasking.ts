/**
 * The tasking half of the storage port: element sets (TLEs), orders with their status history,
 * idempotency keys, the scheduler's lease, webhooks and their delivery log. Implemented by both
 * adapters (`sqlite/tasking.ts`, `postgres/tasking.ts`) and pinned by one contract suite
 * (`test/storage/tasking-contract.test.ts`). Times are epoch ms; ids are opaque strings.
 */
import type { ItemRecord, CollectionRecord } from './types.js';

/** A stored two-line element set; `sensor` ties a satellite to the products that task it. */
export interface TleRecord {
  noradId: number;
  name: string;
  line1: string;
  line2: string;
  /** Element-set epoch, ms. */
  epoch: number;
  sensor: 'optical' | 'thermal';
  loadedAt: number;
}

/** STAPI v0.1.0 order status codes (tasking-notes §1.5); Skyport uses these and nothing else. */
export type OrderStatusCode =
  'received' | 'accepted' | 'rejected' | 'scheduled' | 'processing' | 'completed' | 'failed' | 'cancelled' | 'expired';

export interface OrderStatusRecord {
  orderId: string;
  /** 1, 2, … in order of occurrence; the highest is the current status. */
  seq: number;
  timestamp: number;
  statusCode: OrderStatusCode;
  reasonCode: string | null;
  reasonText: string | null;
  links: Record<string, unknown>[];
}

/** A booked acquisition: which satellite images the order when (ms) and at which off-nadir angle (deg). */
export interface BookedPass {
  noradId: number;
  satellite: string;
  start: number;
  end: number;
  tca: number;
  offNadirDeg: number;
  sunElevationDeg: number;
}

export interface OrderRecord {
  id: string;
  orgId: string;
  clientId: string;
  productId: string;
  /** The area of interest, GeoJSON (Point or Polygon), degrees. */
  geometry: Record<string, unknown>;
  windowStart: number;
  windowEnd: number;
  /** Validated order parameters (JSON Schema of the product), e.g. max off-nadir, priority. */
  orderParameters: Record<string, unknown>;
  /** CQL2-JSON filter of the request, or null. */
  filter: Record<string, unknown> | null;
  /** `standard` | `priority` | `urgent`: decides conflicts (then first come). */
  priority: string;
  /** Price in the product's currency, minor units (cents). */
  priceMinor: number;
  currency: string;
  status: OrderStatusCode;
  /** The pass the scheduler booked, or null. */
  booked: BookedPass | null;
  /** Acquisition attempts made (cloud cover over the limit → retried on a later pass). */
  attempts: number;
  /** When the scheduler should look at this order next, ms; null when it is final. */
  nextActionAt: number | null;
  /** The delivered STAC item id (in the organization's private collection), once completed. */
  itemId: string | null;
  createdAt: number;
  updatedAt: number;
  /** Optimistic-concurrency counter: every transition increments it. */
  version: number;
}

/** An Idempotency-Key use (IETF draft): scoped to the client; `requestHash` pins the request it was first used with. */
export interface IdempotencyRecord {
  clientId: string;
  key: string;
  requestHash: string;
  orderId: string;
  createdAt: number;
}

export interface WebhookRecord {
  id: string;
  orgId: string;
  url: string;
  /** Standard Webhooks signing secret (`whsec_…`), sealed when an encryption key is configured. */
  secret: string;
  /** Event types delivered, e.g. `order.status`. */
  events: string[];
  enabled: boolean;
  createdAt: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One event to one webhook: retried with backoff until delivered or given up (`failed`). */
export interface WebhookDeliveryRecord {
  id: string;
  webhookId: string;
  orgId: string;
  /** Standard Webhooks message id (`msg_…`): the same for every attempt of this delivery. */
  messageId: string;
  eventType: string;
  payload: Record<string, unknown>;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What a transition does atomically besides changing the order (a delivery writes its item and collection too). */
export interface TransitionExtras {
  status?: Omit<OrderStatusRecord, 'orderId' | 'seq'>;
  /** Written in the same transaction: the delivered item (and its private collection when new). */
  item?: ItemRecord;
  collection?: CollectionRecord;
  /** Webhook deliveries to enqueue in the same transaction. */
  deliveries?: WebhookDeliveryRecord[];
}

export interface TaskingStorage {
  upsertTleSets(sets: TleRecord[]): Promise<void>;
  listTleSets(): Promise<TleRecord[]>;

  /**
   * Inserts an order, its first status and (when given) its idempotency record in one transaction.
   * Throws ConflictError when the (clientId, key) idempotency record exists already.
   */
  createOrder(order: OrderRecord, first: Omit<OrderStatusRecord, 'orderId' | 'seq'>, idempotency?: IdempotencyRecord): Promise<void>;
  getIdempotency(clientId: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** The organization's order, or undefined (missing and another organization's answer alike). */
  getOrderFor(orgId: string, id: string): Promise<OrderRecord | undefined>;
  /** Newest first; `beforeId` pages (orders created before that one). */
  listOrdersFor(orgId: string, limit: number, beforeId?: string): Promise<OrderRecord[]>;
  listOrderStatuses(orderId: string): Promise<OrderStatusRecord[]>;
  /**
   * Applies `patch` to the order if its version is still `expectedVersion` (increments it), appends the
   * status and writes the extras, all in one transaction. Returns the new order, or undefined when the
   * version moved on (another scheduler or a cancel got there first): nothing was written then.
   */
  transitionOrder(
    id: string,
    expectedVersion: number,
    patch: Partial<Pick<OrderRecord, 'status' | 'booked' | 'attempts' | 'nextActionAt' | 'itemId'>>,
    extras: TransitionExtras,
    now: number,
  ): Promise<OrderRecord | undefined>;
  /** Orders whose nextActionAt ≤ now, soonest first (the scheduler's work list). */
  listDueOrders(now: number, limit: number): Promise<OrderRecord[]>;
  /** Orders holding a booked pass of this satellite overlapping [start, end] (conflict detection). */
  listBookedOrders(noradId: number, start: number, end: number): Promise<OrderRecord[]>;

  /**
   * Takes or renews a named lease for `holder` until now + ttlMs; true when `holder` holds it afterwards.
   * Only one holder at a time, across processes sharing the store (the scheduler runs where it is held).
   */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;

  createWebhook(w: WebhookRecord): Promise<void>;
  listWebhooksFor(orgId: string): Promise<WebhookRecord[]>;
  deleteWebhookFor(orgId: string, id: string): Promise<boolean>;
  /** Pending deliveries due at `now`, oldest first. */
  listDueDeliveries(now: number, limit: number): Promise<WebhookDeliveryRecord[]>;
  updateDelivery(
    id: string,
    patch: Partial<Pick<WebhookDeliveryRecord, 'state' | 'attempts' | 'nextAttemptAt' | 'lastStatus' | 'lastError'>>,
    now: number,
  ): Promise<void>;
  /** The organization's delivery log, newest first. */
  listDeliveriesFor(orgId: string, limit: number): Promise<WebhookDeliveryRecord[]>;
}
