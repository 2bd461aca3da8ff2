/**
 * The PostgreSQL store's tasking half (`../tasking.ts`). Multi-row writes run in one transaction on one
 * client (`PgDb.tx`); transitions are optimistic (`UPDATE … WHERE version = $n`: under READ COMMITTED a
 * concurrent writer waits for the row lock and then finds the version moved on, so exactly one wins);
 * the lease is one upsert statement. Row mapping is shared with the SQLite adapter.
 */
import type pg from 'pg';
import { upsertItems } from './catalog.js';
import {
  DELIVERY_COLUMNS,
  FINAL_STATUSES,
  ORDER_COLUMNS,
  checkCollection,
  deliveryFromRow,
  deliveryPatchColumns,
  deliveryValues,
  idempotencyFromRow,
  orderFromRow,
  orderValues,
  patchColumns,
  statusFromRow,
  tleFromRow,
  transitionStatus,
  webhookFromRow,
  type DeliveryPatch,
} from '../sqlite/tasking.js';
import { ConflictError, type CollectionRecord } from '../types.js';
import type {
  IdempotencyRecord,
  OrderRecord,
  OrderStatusRecord,
  TaskingStorage,
  TleRecord,
  TransitionExtras,
  WebhookDeliveryRecord,
  WebhookRecord,
} from '../tasking.js';

type Row = Record<string, unknown>;
type Queryable = Pick<pg.PoolClient, 'query'>;
type StatusInput = Omit<OrderStatusRecord, 'orderId' | 'seq'>;
type TransitionPatch = Parameters<TaskingStorage['transitionOrder']>[2];

/** The pool for single statements and a helper running `fn` inside BEGIN … COMMIT on one client (ROLLBACK on throw). */
export interface PgDb {
  pool: pg.Pool;
  tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T>;
}

const placeholders = (n: number, from = 1) => Array.from({ length: n }, (_, k) => `$${k + from}`).join(', ');
const ORDER_INSERT = `INSERT INTO orders (${ORDER_COLUMNS}) VALUES (${placeholders(ORDER_COLUMNS.split(',').length)})`;
const DELIVERY_INSERT = `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS}) VALUES (${placeholders(DELIVERY_COLUMNS.split(',').length)})`;

async function rows(db: Queryable, sql: string, args: unknown[] = []): Promise<Row[]> {
  return (await db.query(sql, args)).rows as Row[];
}

async function conflict<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw new ConflictError((e as Error).message);
    throw e;
  }
}

/** Inserts or replaces element sets by NORAD id (the operator's latest load wins, whatever its epoch). */
export async function upsertTleSets(db: PgDb, sets: TleRecord[]): Promise<void> {
  await db.tx(async (c) => {
    for (const t of sets) {
      await c.query(
        `INSERT INTO tle_sets (norad_id, name, line1, line2, epoch, sensor, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (norad_id) DO UPDATE SET name = excluded.name, line1 = excluded.line1, line2 = excluded.line2,
           epoch = excluded.epoch, sensor = excluded.sensor, loaded_at = excluded.loaded_at`,
        [t.noradId, t.name, t.line1, t.line2, t.epoch, t.sensor, t.loadedAt],
      );
    }
  });
}
export async function listTleSets(db: PgDb): Promise<TleRecord[]> {
  return (await rows(db.pool, 'SELECT * FROM tle_sets ORDER BY norad_id')).map(tleFromRow);
}

/** Appends a status with seq = max + 1; callers hold the order's row lock (insert or versioned update) first. */
async function insertStatus(c: Queryable, orderId: string, s: StatusInput): Promise<void> {
  await c.query(
    `INSERT INTO order_statuses (order_id, seq, timestamp, status_code, reason_code, reason_text, links)
     SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6 FROM order_statuses WHERE order_id = $1`,
    [orderId, s.timestamp, s.statusCode, s.reasonCode, s.reasonText, JSON.stringify(s.links)],
  );
}

/** See TaskingStorage.createOrder; ConflictError on a used (clientId, key) or order id. */
export async function createOrder(db: PgDb, order: OrderRecord, first: StatusInput, idempotency?: IdempotencyRecord): Promise<void> {
  await conflict(() =>
    db.tx(async (c) => {
      await c.query(ORDER_INSERT, orderValues(order));
      await insertStatus(c, order.id, first);
      if (idempotency) {
        const i = idempotency;
        await c.query('INSERT INTO idempotency_keys (client_id, key, request_hash, order_id, created_at) VALUES ($1, $2, $3, $4, $5)', [
          i.clientId,
          i.key,
          i.requestHash,
          i.orderId,
          i.createdAt,
        ]);
      }
    }),
  );
}
export async function getIdempotency(db: PgDb, clientId: string, key: string): Promise<IdempotencyRecord | undefined> {
  const [r] = await rows(db.pool, 'SELECT * FROM idempotency_keys WHERE client_id = $1 AND key = $2', [clientId, key]);
  return r && idempotencyFromRow(r);
}
export async function getOrderFor(db: PgDb, orgId: string, id: string): Promise<OrderRecord | undefined> {
  const [r] = await rows(db.pool, 'SELECT * FROM orders WHERE id = $1 AND org_id = $2', [id, orgId]);
  return r && orderFromRow(r);
}
/** Newest first, keyset on (created_at, id); an unknown `beforeId` (or another organization's) pages to nothing. */
export async function listOrdersFor(db: PgDb, orgId: string, limit: number, beforeId?: string): Promise<OrderRecord[]> {
  const list =
    beforeId === undefined
      ? await rows(db.pool, 'SELECT * FROM orders WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [orgId, limit])
      : await rows(
          db.pool,
          `SELECT o.* FROM orders o, (SELECT created_at, id FROM orders WHERE org_id = $1 AND id = $2) a
           WHERE o.org_id = $1 AND (o.created_at, o.id) < (a.created_at, a.id) ORDER BY o.created_at DESC, o.id DESC LIMIT $3`,
          [orgId, beforeId, limit],
        );
  return list.map(orderFromRow);
}
export async function listOrderStatuses(db: PgDb, orderId: string): Promise<OrderStatusRecord[]> {
  return (await rows(db.pool, 'SELECT * FROM order_statuses WHERE order_id = $1 ORDER BY seq', [orderId])).map(statusFromRow);
}

/** See TaskingStorage.transitionOrder: one transaction; undefined (nothing written) when the version moved on. */
export async function transitionOrder(
  db: PgDb,
  id: string,
  expectedVersion: number,
  patch: TransitionPatch,
  extras: TransitionExtras,
  now: number,
): Promise<OrderRecord | undefined> {
  const status = transitionStatus(patch, extras, now);
  const cols = patchColumns(patch, status?.statusCode);
  const args = [...cols.map(([, v]) => v), now, id, expectedVersion];
  const sets = [...cols.map(([c], k) => `${c} = $${k + 1}`), `updated_at = $${cols.length + 1}`, 'version = version + 1'].join(', ');
  return db.tx(async (c) => {
    const [row] = await rows(
      c,
      `UPDATE orders SET ${sets} WHERE id = $${cols.length + 2} AND version = $${cols.length + 3} RETURNING *`,
      args,
    );
    if (!row) return undefined;
    if (status) await insertStatus(c, id, status);
    if (extras.collection) await insertCollection(c, extras.collection);
    if (extras.item) await upsertItems(c, [extras.item]);
    for (const d of extras.deliveries ?? []) await c.query(DELIVERY_INSERT, deliveryValues(d));
    return orderFromRow(row);
  });
}

/** A new collection is created; an existing one is kept as it is (its extent/body belong to the operator). */
async function insertCollection(c: Queryable, col: CollectionRecord): Promise<void> {
  await c.query(
    'INSERT INTO collections (id, access, owner_org_id, body, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
    [col.id, col.access, col.ownerOrgId, JSON.stringify(col.body), col.updatedAt],
  );
  checkCollection((await rows(c, 'SELECT access, owner_org_id FROM collections WHERE id = $1', [col.id]))[0], col);
}

export async function listDueOrders(db: PgDb, now: number, limit: number): Promise<OrderRecord[]> {
  return (
    await rows(db.pool, 'SELECT * FROM orders WHERE next_action_at <= $1 ORDER BY next_action_at, created_at, id LIMIT $2', [now, limit])
  ).map(orderFromRow);
}
/** Non-final orders only (a cancelled, failed or completed order releases its pass); ordered by pass start. */
export async function listBookedOrders(db: PgDb, noradId: number, start: number, end: number): Promise<OrderRecord[]> {
  return (
    await rows(
      db.pool,
      `SELECT * FROM orders WHERE booked_norad_id = $1 AND booked_start <= $2 AND booked_end >= $3 AND NOT (status = ANY($4::text[]))
       ORDER BY booked_start, created_at, id`,
      [noradId, end, start, FINAL_STATUSES],
    )
  ).map(orderFromRow);
}

/** One upsert: concurrent callers serialise on the row (or the unique index); the lease is free once `now >= expires_at`. */
export async function acquireLease(db: PgDb, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
  const [r] = await rows(
    db.pool,
    `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 RETURNING holder`,
    [name, holder, now + ttlMs, now],
  );
  return r?.holder === holder;
}
export async function releaseLease(db: PgDb, name: string, holder: string): Promise<void> {
  await db.pool.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
}

export async function createWebhook(db: PgDb, w: WebhookRecord): Promise<void> {
  await conflict(() =>
    db.pool.query('INSERT INTO webhooks (id, org_id, url, secret, events, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      w.id,
      w.orgId,
      w.url,
      w.secret,
      JSON.stringify(w.events),
      w.enabled,
      w.createdAt,
    ]),
  );
}
export async function listWebhooksFor(db: PgDb, orgId: string): Promise<WebhookRecord[]> {
  return (await rows(db.pool, 'SELECT * FROM webhooks WHERE org_id = $1 ORDER BY created_at, id', [orgId])).map(webhookFromRow);
}
/** Its pending deliveries become `failed` ("webhook deleted"): nothing is sent to a removed endpoint; the log stays. */
export async function deleteWebhookFor(db: PgDb, orgId: string, id: string): Promise<boolean> {
  return db.tx(async (c) => {
    if (!(await c.query('DELETE FROM webhooks WHERE id = $1 AND org_id = $2', [id, orgId])).rowCount) return false;
    await c.query(
      `UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, last_error = 'webhook deleted'
       WHERE webhook_id = $1 AND state = 'pending'`,
      [id],
    );
    return true;
  });
}
export async function listDueDeliveries(db: PgDb, now: number, limit: number): Promise<WebhookDeliveryRecord[]> {
  return (
    await rows(
      db.pool,
      "SELECT * FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY created_at, id LIMIT $2",
      [now, limit],
    )
  ).map(deliveryFromRow);
}
export async function updateDelivery(db: PgDb, id: string, patch: DeliveryPatch, now: number): Promise<void> {
  const cols = deliveryPatchColumns(patch);
  const sets = [...cols.map(([c], k) => `${c} = $${k + 1}`), `updated_at = $${cols.length + 1}`].join(', ');
  await db.pool.query(`UPDATE webhook_deliveries SET ${sets} WHERE id = $${cols.length + 2}`, [...cols.map(([, v]) => v), now, id]);
}
export async function listDeliveriesFor(db: PgDb, orgId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
  return (
    await rows(db.pool, 'SELECT * FROM webhook_deliveries WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [orgId, limit])
  ).map(deliveryFromRow);
}
