/**
 * The embedded store's tasking half (`../tasking.ts`): orders with their status history, idempotency
 * keys, the scheduler's lease, webhooks and deliveries. Every multi-row write is one IMMEDIATE
 * transaction, so a process killed mid-way leaves either all of it or none; transitions are optimistic
 * (`version`), which also serialises schedulers in other processes sharing the file.
 * The row mappers below are shared with the PostgreSQL adapter (identical column names).
 */
import type Database from 'better-sqlite3';
import type { SqliteCatalog } from './catalog.js';
import { ConflictError, type CollectionRecord } from '../types.js';
import type {
  BookedPass,
  IdempotencyRecord,
  OrderRecord,
  OrderStatusCode,
  OrderStatusRecord,
  TaskingStorage,
  TleRecord,
  TransitionExtras,
  WebhookDeliveryRecord,
  WebhookRecord,
} from '../tasking.js';

type Row = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const json = <T>(v: unknown): T => JSON.parse(v as string) as T;

/** Statuses after which an order holds nothing (its booked pass no longer blocks a satellite). */
export const FINAL_STATUSES: readonly OrderStatusCode[] = ['rejected', 'completed', 'failed', 'cancelled', 'expired'];

export function tleFromRow(r: Row): TleRecord {
  return {
    noradId: num(r.norad_id),
    name: r.name as string,
    line1: r.line1 as string,
    line2: r.line2 as string,
    epoch: num(r.epoch),
    sensor: r.sensor as TleRecord['sensor'],
    loadedAt: num(r.loaded_at),
  };
}

export function orderFromRow(r: Row): OrderRecord {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    clientId: r.client_id as string,
    productId: r.product_id as string,
    geometry: json(r.geometry),
    windowStart: num(r.window_start),
    windowEnd: num(r.window_end),
    orderParameters: json(r.order_parameters),
    filter: r.filter === null ? null : json(r.filter),
    priority: r.priority as string,
    priceMinor: num(r.price_minor),
    currency: r.currency as string,
    status: r.status as OrderStatusCode,
    booked: r.booked === null ? null : json<BookedPass>(r.booked),
    attempts: num(r.attempts),
    nextActionAt: numOrNull(r.next_action_at),
    itemId: (r.item_id as string | null) ?? null,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    version: num(r.version),
  };
}

export function statusFromRow(r: Row): OrderStatusRecord {
  return {
    orderId: r.order_id as string,
    seq: num(r.seq),
    timestamp: num(r.timestamp),
    statusCode: r.status_code as OrderStatusCode,
    reasonCode: (r.reason_code as string | null) ?? null,
    reasonText: (r.reason_text as string | null) ?? null,
    links: json(r.links),
  };
}

export function idempotencyFromRow(r: Row): IdempotencyRecord {
  return {
    clientId: r.client_id as string,
    key: r.key as string,
    requestHash: r.request_hash as string,
    orderId: r.order_id as string,
    createdAt: num(r.created_at),
  };
}

export function webhookFromRow(r: Row): WebhookRecord {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    url: r.url as string,
    secret: r.secret as string,
    events: json(r.events),
    enabled: Boolean(r.enabled),
    createdAt: num(r.created_at),
  };
}

export function deliveryFromRow(r: Row): WebhookDeliveryRecord {
  return {
    id: r.id as string,
    webhookId: r.webhook_id as string,
    orgId: r.org_id as string,
    messageId: r.message_id as string,
    eventType: r.event_type as string,
    payload: json(r.payload),
    state: r.state as WebhookDeliveryRecord['state'],
    attempts: num(r.attempts),
    nextAttemptAt: numOrNull(r.next_attempt_at),
    lastStatus: numOrNull(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

type TransitionPatch = Parameters<TaskingStorage['transitionOrder']>[2];
type StatusInput = Omit<OrderStatusRecord, 'orderId' | 'seq'>;

/**
 * The status row a transition appends, and the status the order takes: `extras.status` when given, else
 * one made from `patch.status` (so the newest history row always equals the order's status).
 * Throws when both are given and disagree (a caller bug, refused before anything is written).
 */
export function transitionStatus(patch: TransitionPatch, extras: TransitionExtras, now: number): StatusInput | undefined {
  if (extras.status && patch.status !== undefined && patch.status !== extras.status.statusCode) {
    throw new Error(`transition status ${patch.status} disagrees with the status record ${extras.status.statusCode}`);
  }
  if (extras.status) return extras.status;
  if (patch.status === undefined) return undefined;
  return { timestamp: now, statusCode: patch.status, reasonCode: null, reasonText: null, links: [] };
}

/** The column assignments of a transition patch (undefined fields are left alone), booked pass spread to its columns. */
export function patchColumns(patch: TransitionPatch, status: OrderStatusCode | undefined): [string, unknown][] {
  const cols: [string, unknown][] = [];
  if (status !== undefined) cols.push(['status', status]);
  if (patch.booked !== undefined) {
    const b = patch.booked;
    cols.push(['booked', b && JSON.stringify(b)], ['booked_norad_id', b?.noradId ?? null]);
    cols.push(['booked_start', b?.start ?? null], ['booked_end', b?.end ?? null]);
  }
  if (patch.attempts !== undefined) cols.push(['attempts', patch.attempts]);
  if (patch.nextActionAt !== undefined) cols.push(['next_action_at', patch.nextActionAt]);
  if (patch.itemId !== undefined) cols.push(['item_id', patch.itemId]);
  return cols;
}

/** A delivered item may only go into a private collection of the order's organization: refuses anything else. */
export function checkCollection(existing: Row | undefined, wanted: CollectionRecord): void {
  if (!existing) throw new Error(`collection ${wanted.id} missing after insert`);
  if (existing.access !== wanted.access || ((existing.owner_org_id as string | null) ?? null) !== wanted.ownerOrgId) {
    throw new ConflictError(`collection ${wanted.id} exists with another access or owner`);
  }
}

function conflict<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new ConflictError((e as Error).message);
    }
    throw e;
  }
}

const ORDER_COLUMNS = `id, org_id, client_id, product_id, geometry, window_start, window_end, order_parameters, filter, priority,
  price_minor, currency, status, booked, booked_norad_id, booked_start, booked_end, attempts, next_action_at, item_id,
  created_at, updated_at, version`;

/** The row values of an order, in ORDER_COLUMNS order. */
export function orderValues(o: OrderRecord): unknown[] {
  const b = o.booked;
  return [
    o.id,
    o.orgId,
    o.clientId,
    o.productId,
    JSON.stringify(o.geometry),
    o.windowStart,
    o.windowEnd,
    JSON.stringify(o.orderParameters),
    o.filter === null ? null : JSON.stringify(o.filter),
    o.priority,
    o.priceMinor,
    o.currency,
    o.status,
    b && JSON.stringify(b),
    b?.noradId ?? null,
    b?.start ?? null,
    b?.end ?? null,
    o.attempts,
    o.nextActionAt,
    o.itemId,
    o.createdAt,
    o.updatedAt,
    o.version,
  ];
}
export { ORDER_COLUMNS };

/** The row values of a delivery, in the column order of INSERT_DELIVERY. */
export function deliveryValues(d: WebhookDeliveryRecord): unknown[] {
  return [
    d.id,
    d.webhookId,
    d.orgId,
    d.messageId,
    d.eventType,
    JSON.stringify(d.payload),
    d.state,
    d.attempts,
    d.nextAttemptAt,
    d.lastStatus,
    d.lastError,
    d.createdAt,
    d.updatedAt,
  ];
}
export const DELIVERY_COLUMNS = `id, webhook_id, org_id, message_id, event_type, payload, state, attempts, next_attempt_at,
  last_status, last_error, created_at, updated_at`;

/** Tasking operations of the SQLite adapter; `q` prepares (and caches) a statement; `catalog` writes delivered items. */
export class SqliteTasking implements TaskingStorage {
  constructor(
    private readonly db: Database.Database,
    private readonly q: (sql: string) => Database.Statement,
    private readonly catalog: SqliteCatalog,
  ) {}

  /** Inserts or replaces element sets by NORAD id (the operator's latest load wins, whatever its epoch). */
  async upsertTleSets(sets: TleRecord[]): Promise<void> {
    const upsert = this.q(`INSERT INTO tle_sets (norad_id, name, line1, line2, epoch, sensor, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (norad_id) DO UPDATE SET name = excluded.name, line1 = excluded.line1, line2 = excluded.line2,
        epoch = excluded.epoch, sensor = excluded.sensor, loaded_at = excluded.loaded_at`);
    this.db
      .transaction(() => {
        for (const t of sets) upsert.run(t.noradId, t.name, t.line1, t.line2, t.epoch, t.sensor, t.loadedAt);
      })
      .immediate();
  }
  async listTleSets(): Promise<TleRecord[]> {
    return (this.q('SELECT * FROM tle_sets ORDER BY norad_id').all() as Row[]).map(tleFromRow);
  }

  private insertStatus(orderId: string, s: StatusInput): void {
    this.q(
      `INSERT INTO order_statuses (order_id, seq, timestamp, status_code, reason_code, reason_text, links)
       SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM order_statuses WHERE order_id = ?`,
    ).run(orderId, s.timestamp, s.statusCode, s.reasonCode, s.reasonText, JSON.stringify(s.links), orderId);
  }

  async createOrder(order: OrderRecord, first: StatusInput, idempotency?: IdempotencyRecord): Promise<void> {
    conflict(() =>
      this.db
        .transaction(() => {
          this.q(`INSERT INTO orders (${ORDER_COLUMNS}) VALUES (${ORDER_COLUMNS.split(',').map(() => '?')})`).run(...orderValues(order));
          this.insertStatus(order.id, first);
          if (idempotency) {
            const i = idempotency;
            this.q('INSERT INTO idempotency_keys (client_id, key, request_hash, order_id, created_at) VALUES (?, ?, ?, ?, ?)').run(
              i.clientId,
              i.key,
              i.requestHash,
              i.orderId,
              i.createdAt,
            );
          }
        })
        .immediate(),
    );
  }
  async getIdempotency(clientId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const r = this.q('SELECT * FROM idempotency_keys WHERE client_id = ? AND key = ?').get(clientId, key) as Row | undefined;
    return r && idempotencyFromRow(r);
  }
  async getOrderFor(orgId: string, id: string): Promise<OrderRecord | undefined> {
    const r = this.q('SELECT * FROM orders WHERE id = ? AND org_id = ?').get(id, orgId) as Row | undefined;
    return r && orderFromRow(r);
  }
  /** An unknown `beforeId` (or another organization's) pages to nothing. */
  async listOrdersFor(orgId: string, limit: number, beforeId?: string): Promise<OrderRecord[]> {
    const rows =
      beforeId === undefined
        ? this.q('SELECT * FROM orders WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(orgId, limit)
        : this.q(
            `SELECT o.* FROM orders o, (SELECT created_at, id FROM orders WHERE org_id = @org AND id = @before) a
             WHERE o.org_id = @org AND (o.created_at, o.id) < (a.created_at, a.id) ORDER BY o.created_at DESC, o.id DESC LIMIT @limit`,
          ).all({ org: orgId, before: beforeId, limit });
    return (rows as Row[]).map(orderFromRow);
  }
  async listOrderStatuses(orderId: string): Promise<OrderStatusRecord[]> {
    return (this.q('SELECT * FROM order_statuses WHERE order_id = ? ORDER BY seq').all(orderId) as Row[]).map(statusFromRow);
  }

  async transitionOrder(
    id: string,
    expectedVersion: number,
    patch: TransitionPatch,
    extras: TransitionExtras,
    now: number,
  ): Promise<OrderRecord | undefined> {
    const status = transitionStatus(patch, extras, now);
    const cols = patchColumns(patch, status?.statusCode);
    const sets = [...cols.map(([c]) => `${c} = ?`), 'updated_at = ?', 'version = version + 1'].join(', ');
    return this.db
      .transaction(() => {
        const row = this.q(`UPDATE orders SET ${sets} WHERE id = ? AND version = ? RETURNING *`).get(
          ...cols.map(([, v]) => v),
          now,
          id,
          expectedVersion,
        ) as Row | undefined;
        if (!row) return undefined;
        if (status) this.insertStatus(id, status);
        if (extras.collection) this.insertCollection(extras.collection);
        // Nested in this transaction, the catalog's own transaction is a savepoint: one commit for all.
        if (extras.item) this.catalog.upsertItems([extras.item]);
        const insert = this.q(
          `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS}) VALUES (${DELIVERY_COLUMNS.split(',').map(() => '?')})`,
        );
        for (const d of extras.deliveries ?? []) insert.run(...deliveryValues(d));
        return orderFromRow(row);
      })
      .immediate();
  }
  /** A new collection is created; an existing one is kept as it is (its extent/body belong to the operator). */
  private insertCollection(c: CollectionRecord): void {
    this.q('INSERT INTO collections (id, access, owner_org_id, body, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING').run(
      c.id,
      c.access,
      c.ownerOrgId,
      JSON.stringify(c.body),
      c.updatedAt,
    );
    checkCollection(this.q('SELECT access, owner_org_id FROM collections WHERE id = ?').get(c.id) as Row | undefined, c);
  }

  async listDueOrders(now: number, limit: number): Promise<OrderRecord[]> {
    return (
      this.q('SELECT * FROM orders WHERE next_action_at <= ? ORDER BY next_action_at, created_at, id LIMIT ?').all(now, limit) as Row[]
    ).map(orderFromRow);
  }
  /** Non-final orders only (a cancelled, failed or completed order releases its pass); ordered by pass start. */
  async listBookedOrders(noradId: number, start: number, end: number): Promise<OrderRecord[]> {
    const final = FINAL_STATUSES.map((s) => `'${s}'`).join(', ');
    return (
      this.q(
        `SELECT * FROM orders WHERE booked_norad_id = ? AND booked_start <= ? AND booked_end >= ? AND status NOT IN (${final})
         ORDER BY booked_start, created_at, id`,
      ).all(noradId, end, start) as Row[]
    ).map(orderFromRow);
  }

  /** The lease is free once `now >= expires_at`; one statement, so atomic across processes sharing the file. */
  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    const r = this.q(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= ? RETURNING holder`,
    ).get(name, holder, now + ttlMs, now) as Row | undefined;
    return r?.holder === holder;
  }
  async releaseLease(name: string, holder: string): Promise<void> {
    this.q('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
  }

  async createWebhook(w: WebhookRecord): Promise<void> {
    conflict(() =>
      this.q('INSERT INTO webhooks (id, org_id, url, secret, events, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        w.id,
        w.orgId,
        w.url,
        w.secret,
        JSON.stringify(w.events),
        w.enabled ? 1 : 0,
        w.createdAt,
      ),
    );
  }
  async listWebhooksFor(orgId: string): Promise<WebhookRecord[]> {
    return (this.q('SELECT * FROM webhooks WHERE org_id = ? ORDER BY created_at, id').all(orgId) as Row[]).map(webhookFromRow);
  }
  /** Its pending deliveries become `failed` ("webhook deleted"): nothing is sent to a removed endpoint; the log stays. */
  async deleteWebhookFor(orgId: string, id: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.q('DELETE FROM webhooks WHERE id = ? AND org_id = ?').run(id, orgId).changes === 0) return false;
        this.q(
          `UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, last_error = 'webhook deleted'
           WHERE webhook_id = ? AND state = 'pending'`,
        ).run(id);
        return true;
      })
      .immediate();
  }
  async listDueDeliveries(now: number, limit: number): Promise<WebhookDeliveryRecord[]> {
    return (
      this.q("SELECT * FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?").all(
        now,
        limit,
      ) as Row[]
    ).map(deliveryFromRow);
  }
  async updateDelivery(id: string, patch: DeliveryPatch, now: number): Promise<void> {
    const cols = deliveryPatchColumns(patch);
    this.q(`UPDATE webhook_deliveries SET ${[...cols.map(([c]) => `${c} = ?`), 'updated_at = ?'].join(', ')} WHERE id = ?`).run(
      ...cols.map(([, v]) => v),
      now,
      id,
    );
  }
  async listDeliveriesFor(orgId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    return (
      this.q('SELECT * FROM webhook_deliveries WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(orgId, limit) as Row[]
    ).map(deliveryFromRow);
  }
}

export type DeliveryPatch = Parameters<TaskingStorage['updateDelivery']>[1];

/** The column assignments of a delivery patch (undefined fields are left alone). */
export function deliveryPatchColumns(patch: DeliveryPatch): [string, unknown][] {
  const names: [keyof DeliveryPatch, string][] = [
    ['state', 'state'],
    ['attempts', 'attempts'],
    ['nextAttemptAt', 'next_attempt_at'],
    ['lastStatus', 'last_status'],
    ['lastError', 'last_error'],
  ];
  return names.filter(([k]) => patch[k] !== undefined).map(([k, c]) => [c, patch[k]]);
}
