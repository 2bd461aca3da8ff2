/**
 * PostgreSQL storage through `pg`: for deployments that outgrow one machine. Several stateless
 * Skyport instances share one database; migrations take an advisory lock so they can start together.
 */
import pg from 'pg';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { inTransaction } from './tx.js';
import * as catalog from './catalog.js';
import * as tasking from './tasking.js';
import type { StoreItemRow } from '../catalog/rows.js';
import { auditFromRow, clientFromRow, collectionFromRow, keyFromRow, revocationFromRow, secretsByClient } from '../rows.js';
import {
  ConflictError,
  type AuditEntry,
  type ClientPatch,
  type ClientRecord,
  type ClientSecretRecord,
  type CollectionRecord,
  type ItemPage,
  type ItemRecord,
  type ItemSearch,
  type Organization,
  type RevocationRecord,
  type SigningKeyRecord,
  type Storage,
} from '../types.js';
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
const MIGRATION_LOCK = 0x736b79706f7274n; // "skyport"

function orgFromRow(r: Row): Organization {
  return { id: r.id as string, name: r.name as string, createdAt: Number(r.created_at) };
}

async function conflict<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw new ConflictError((e as Error).message);
    throw e;
  }
}

export class PostgresStorage implements Storage {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(connectionString: string, poolSize = 10) {
    // JIT compilation cost more than it saved on catalog searches (617 of 822 ms of a wide search, bench:catalog).
    this.pool = new pg.Pool({ connectionString, max: poolSize, options: '-c jit=off' });
    // An idle client's error (e.g. the server restarting) must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
    this.tdb = { pool: this.pool, tx: (fn) => this.tx(fn) };
  }
  private readonly tdb: tasking.PgDb;

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  private async rows(sql: string, args: unknown[] = [], db: Queryable = this.pool): Promise<Row[]> {
    return (await db.query(sql, args)).rows as Row[];
  }

  async migrate(): Promise<number> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const [row] = await this.rows('SELECT MAX(version) AS v FROM schema_migrations', [], c);
      let v = Number(row?.v ?? 0);
      for (; v < POSTGRES_MIGRATIONS.length; v++) {
        await c.query(POSTGRES_MIGRATIONS[v]!);
        await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v + 1, Date.now()]);
      }
      return v;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.rows('SELECT value FROM meta WHERE key = $1', [key]))[0]?.value as string | undefined;
  }
  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    await this.pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.getMeta(key))!;
  }
  async setMeta(key: string, value: string): Promise<void> {
    await this.pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
      key,
      value,
    ]);
  }

  private async insertClient(db: Queryable, c: ClientRecord): Promise<void> {
    await db.query(
      `INSERT INTO clients (client_id, org_id, name, root_scope, permissions, is_root, enabled, created_at, updated_at, created_by, tokens_revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        c.clientId,
        c.orgId,
        c.name,
        c.rootScope,
        c.permissions.join(' '),
        c.isRoot,
        c.enabled,
        c.createdAt,
        c.updatedAt,
        c.createdBy,
        c.tokensRevokedAt ?? null,
      ],
    );
    for (const s of c.secrets) await this.insertSecret(db, c.clientId, s);
  }
  private async insertSecret(db: Queryable, clientId: string, s: ClientSecretRecord): Promise<void> {
    await db.query('INSERT INTO client_secrets (id, client_id, hash, hint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      s.id,
      clientId,
      s.hash,
      s.hint,
      s.createdAt,
      s.expiresAt,
    ]);
  }

  async createOrganization(org: Organization, clients: ClientRecord[]): Promise<void> {
    await conflict(() =>
      this.tx(async (c) => {
        await c.query('INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)', [org.id, org.name, org.createdAt]);
        for (const cl of clients) await this.insertClient(c, cl);
      }),
    );
  }
  async getOrganization(id: string): Promise<Organization | undefined> {
    const [r] = await this.rows('SELECT * FROM organizations WHERE id = $1', [id]);
    return r && orgFromRow(r);
  }
  async getOrganizationByName(name: string): Promise<Organization | undefined> {
    const [r] = await this.rows('SELECT * FROM organizations WHERE name = $1', [name]);
    return r && orgFromRow(r);
  }
  async listOrganizations(): Promise<Organization[]> {
    return (await this.rows('SELECT * FROM organizations ORDER BY created_at, id')).map(orgFromRow);
  }

  async createClient(client: ClientRecord): Promise<void> {
    await conflict(() => this.tx((c) => this.insertClient(c, client)));
  }
  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    // One round trip: the client row with its secrets aggregated.
    const [r] = await this.rows(
      `SELECT c.*, COALESCE(json_agg(json_build_object('id', s.id, 'hash', s.hash, 'hint', s.hint,
              'created_at', s.created_at, 'expires_at', s.expires_at) ORDER BY s.created_at)
              FILTER (WHERE s.id IS NOT NULL), '[]') AS secrets
       FROM clients c LEFT JOIN client_secrets s USING (client_id) WHERE c.client_id = $1 GROUP BY c.client_id`,
      [clientId],
    );
    if (!r) return undefined;
    const secrets = secretsByClient((r.secrets as Row[]).map((s) => ({ ...s, client_id: clientId })));
    return clientFromRow(r, secrets.get(clientId) ?? []);
  }
  async listClients(orgId?: string): Promise<ClientRecord[]> {
    const rows = orgId
      ? await this.rows('SELECT * FROM clients WHERE org_id = $1 ORDER BY created_at, client_id', [orgId])
      : await this.rows('SELECT * FROM clients ORDER BY created_at, client_id');
    const secrets = secretsByClient(
      orgId
        ? await this.rows('SELECT s.* FROM client_secrets s JOIN clients c USING (client_id) WHERE c.org_id = $1 ORDER BY s.created_at', [
            orgId,
          ])
        : await this.rows('SELECT * FROM client_secrets ORDER BY created_at'),
    );
    return rows.map((r) => clientFromRow(r, secrets.get(r.client_id as string) ?? []));
  }
  async updateClient(clientId: string, patch: ClientPatch, now: number): Promise<ClientRecord | undefined> {
    const sets: string[] = ['updated_at = $1'];
    const args: unknown[] = [now];
    const add = (col: string, v: unknown) => {
      args.push(v);
      sets.push(`${col} = $${args.length}`);
    };
    if (patch.name !== undefined) add('name', patch.name);
    if (patch.permissions !== undefined) add('permissions', patch.permissions.join(' '));
    if (patch.enabled !== undefined) add('enabled', patch.enabled);
    if (patch.tokensRevokedAt !== undefined) add('tokens_revoked_at', patch.tokensRevokedAt);
    args.push(clientId);
    const res = await this.pool.query(`UPDATE clients SET ${sets.join(', ')} WHERE client_id = $${args.length}`, args);
    return res.rowCount ? this.getClient(clientId) : undefined;
  }
  async deleteClient(clientId: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM clients WHERE client_id = $1', [clientId])).rowCount ?? 0) > 0;
  }
  async rotateClientSecret(clientId: string, secret: ClientSecretRecord, previousExpiresAt: number, now: number): Promise<boolean> {
    return this.tx(async (c) => {
      // Row lock: two concurrent rotations of one client serialise, so at most two secrets survive.
      if (!(await this.rows('SELECT 1 FROM clients WHERE client_id = $1 FOR UPDATE', [clientId], c)).length) return false;
      await c.query('DELETE FROM client_secrets WHERE client_id = $1 AND expires_at IS NOT NULL', [clientId]);
      if (previousExpiresAt <= now) await c.query('DELETE FROM client_secrets WHERE client_id = $1', [clientId]);
      else await c.query('UPDATE client_secrets SET expires_at = $1 WHERE client_id = $2', [previousExpiresAt, clientId]);
      await this.insertSecret(c, clientId, secret);
      return true;
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (await this.rows('SELECT * FROM signing_keys ORDER BY created_at, kid')).map(keyFromRow);
  }
  private async insertKey(db: Queryable, k: SigningKeyRecord): Promise<void> {
    await db.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key, status, created_at, activated_at, retired_at, publish_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [k.kid, k.alg, JSON.stringify(k.publicJwk), k.privateKey, k.status, k.createdAt, k.activatedAt, k.retiredAt, k.publishUntil],
    );
  }
  async insertSigningKey(k: SigningKeyRecord): Promise<void> {
    await conflict(() => this.insertKey(this.pool, k));
  }
  async rotateSigningKeys(alg: string, newNext: SigningKeyRecord, now: number, publishUntil: number): Promise<void> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [(MIGRATION_LOCK + 1n).toString()]);
      await c.query(
        "UPDATE signing_keys SET status = 'retired', retired_at = $1, publish_until = $2 WHERE alg = $3 AND status = 'current'",
        [now, publishUntil, alg],
      );
      await c.query("UPDATE signing_keys SET status = 'current', activated_at = $1 WHERE alg = $2 AND status = 'next'", [now, alg]);
      await this.insertKey(c, newNext);
    });
  }
  async setSigningKeyPrivate(kid: string, privateKey: string): Promise<void> {
    await this.pool.query('UPDATE signing_keys SET private_key = $1 WHERE kid = $2', [privateKey, kid]);
  }
  async deleteSigningKeysPublishedBefore(now: number): Promise<number> {
    return (await this.pool.query("DELETE FROM signing_keys WHERE status = 'retired' AND publish_until < $1", [now])).rowCount ?? 0;
  }

  async addRevocation(r: RevocationRecord): Promise<void> {
    await this.pool.query('INSERT INTO revocations (kind, subject, not_before, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)', [
      r.kind,
      r.subject,
      r.notBefore,
      r.expiresAt,
      r.createdAt,
    ]);
  }
  async listRevocations(since: number, now: number): Promise<RevocationRecord[]> {
    return (await this.rows('SELECT * FROM revocations WHERE created_at >= $1 AND expires_at > $2 ORDER BY created_at', [since, now])).map(
      revocationFromRow,
    );
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_log (at, org_id, actor, action, target, outcome, source_ip, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [e.at, e.orgId, e.actor, e.action, e.target, e.outcome, e.sourceIp, JSON.stringify(e.details)],
    );
  }
  async listAudit(orgId: string | null, limit: number, beforeId?: string): Promise<AuditEntry[]> {
    const before = beforeId === undefined ? Number.MAX_SAFE_INTEGER : Number(beforeId);
    const rows =
      orgId === null
        ? await this.rows('SELECT * FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2', [before, limit])
        : await this.rows('SELECT * FROM audit_log WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3', [orgId, before, limit]);
    return rows.map(auditFromRow);
  }

  async upsertCollection(c: CollectionRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO collections (id, access, owner_org_id, body, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET access = excluded.access, owner_org_id = excluded.owner_org_id, body = excluded.body, updated_at = excluded.updated_at`,
      [c.id, c.access, c.ownerOrgId, JSON.stringify(c.body), c.updatedAt],
    );
  }
  async grantCollection(collectionId: string, orgId: string): Promise<void> {
    await this.pool.query('INSERT INTO collection_grants (collection_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      collectionId,
      orgId,
    ]);
  }
  async listGrants(): Promise<{ collectionId: string; orgId: string }[]> {
    const rows = await this.rows(
      'SELECT collection_id, org_id FROM collection_grants ORDER BY collection_id COLLATE "C", org_id COLLATE "C"',
    );
    return rows.map((r) => ({ collectionId: r.collection_id as string, orgId: r.org_id as string }));
  }

  /** The entitlement filter (open, private to the organization $1, or licensed to it) as one SQL predicate on `c`. */
  private static readonly ENTITLED = `(c.access = 'open'
      OR (c.access = 'private' AND c.owner_org_id = $1)
      OR (c.access = 'licensed' AND EXISTS (SELECT 1 FROM collection_grants g WHERE g.collection_id = c.id AND g.org_id = $1)))`;
  async listCollectionsFor(orgId: string): Promise<CollectionRecord[]> {
    return (await this.rows(`SELECT * FROM collections c WHERE ${PostgresStorage.ENTITLED} ORDER BY c.id`, [orgId])).map(collectionFromRow);
  }
  async getCollectionFor(orgId: string, id: string): Promise<CollectionRecord | undefined> {
    if (catalog.hasNul(id)) return undefined;
    const [r] = await this.rows(`SELECT * FROM collections c WHERE ${PostgresStorage.ENTITLED} AND c.id = $2`, [orgId, id]);
    return r && collectionFromRow(r);
  }

  async listCollections(): Promise<CollectionRecord[]> {
    return (await this.rows('SELECT * FROM collections ORDER BY id')).map(collectionFromRow);
  }
  async getCollection(id: string): Promise<CollectionRecord | undefined> {
    if (catalog.hasNul(id)) return undefined;
    const [r] = await this.rows('SELECT * FROM collections WHERE id = $1', [id]);
    return r && collectionFromRow(r);
  }
  async deleteCollection(id: string): Promise<boolean> {
    if (catalog.hasNul(id)) return false;
    return catalog.deleteCollection(this.pool, id);
  }
  async revokeCollection(collectionId: string, orgId: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM collection_grants WHERE collection_id = $1 AND org_id = $2', [collectionId, orgId]);
    return (r.rowCount ?? 0) > 0;
  }
  async analyze(): Promise<void> {
    await this.pool.query('ANALYZE items');
  }
  async upsertItems(items: ItemRecord[]): Promise<{ inserted: number; updated: number }> {
    return catalog.upsertItems(this.pool, items);
  }
  async upsertItemRows(rows: StoreItemRow[]): Promise<{ inserted: number; updated: number }> {
    return catalog.upsertItemRows(this.pool, rows);
  }
  async getItem(collectionId: string, itemId: string): Promise<ItemRecord | undefined> {
    if (catalog.hasNul(collectionId) || catalog.hasNul(itemId)) return undefined;
    const [r] = await this.rows('SELECT content FROM items WHERE collection_id = $1 AND id = $2', [collectionId, itemId]);
    return r && { collection: collectionId, id: itemId, item: JSON.parse(r.content as string) };
  }
  async getItemFor(orgId: string, collectionId: string, itemId: string): Promise<ItemRecord | undefined> {
    return catalog.getItemFor(this.pool, orgId, collectionId, itemId);
  }
  async deleteItem(collectionId: string, itemId: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM items WHERE collection_id = $1 AND id = $2', [collectionId, itemId])).rowCount ?? 0) > 0;
  }
  async searchItems(orgId: string, search: ItemSearch): Promise<ItemPage> {
    return catalog.searchItems(this.pool, orgId, search);
  }

  async upsertTleSets(sets: TleRecord[]): Promise<void> {
    return tasking.upsertTleSets(this.tdb, sets);
  }
  async listTleSets(): Promise<TleRecord[]> {
    return tasking.listTleSets(this.tdb);
  }
  async createOrder(order: OrderRecord, first: Omit<OrderStatusRecord, 'orderId' | 'seq'>, idempotency?: IdempotencyRecord): Promise<void> {
    return tasking.createOrder(this.tdb, order, first, idempotency);
  }
  async getIdempotency(clientId: string, key: string): Promise<IdempotencyRecord | undefined> {
    return tasking.getIdempotency(this.tdb, clientId, key);
  }
  async getOrderFor(orgId: string, id: string): Promise<OrderRecord | undefined> {
    return tasking.getOrderFor(this.tdb, orgId, id);
  }
  async listOrdersFor(orgId: string, limit: number, beforeId?: string): Promise<OrderRecord[]> {
    return tasking.listOrdersFor(this.tdb, orgId, limit, beforeId);
  }
  async listOrderStatuses(orderId: string): Promise<OrderStatusRecord[]> {
    return tasking.listOrderStatuses(this.tdb, orderId);
  }
  async transitionOrder(
    id: string,
    expectedVersion: number,
    patch: Parameters<TaskingStorage['transitionOrder']>[2],
    extras: TransitionExtras,
    now: number,
  ): Promise<OrderRecord | undefined> {
    return tasking.transitionOrder(this.tdb, id, expectedVersion, patch, extras, now);
  }
  async listDueOrders(now: number, limit: number): Promise<OrderRecord[]> {
    return tasking.listDueOrders(this.tdb, now, limit);
  }
  async listBookedOrders(noradId: number, start: number, end: number): Promise<OrderRecord[]> {
    return tasking.listBookedOrders(this.tdb, noradId, start, end);
  }
  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return tasking.acquireLease(this.tdb, name, holder, ttlMs, now);
  }
  async releaseLease(name: string, holder: string): Promise<void> {
    return tasking.releaseLease(this.tdb, name, holder);
  }
  async createWebhook(w: WebhookRecord): Promise<void> {
    return tasking.createWebhook(this.tdb, w);
  }
  async listWebhooksFor(orgId: string): Promise<WebhookRecord[]> {
    return tasking.listWebhooksFor(this.tdb, orgId);
  }
  async deleteWebhookFor(orgId: string, id: string): Promise<boolean> {
    return tasking.deleteWebhookFor(this.tdb, orgId, id);
  }
  async listDueDeliveries(now: number, limit: number): Promise<WebhookDeliveryRecord[]> {
    return tasking.listDueDeliveries(this.tdb, now, limit);
  }
  async updateDelivery(id: string, patch: Parameters<TaskingStorage['updateDelivery']>[1], now: number): Promise<void> {
    return tasking.updateDelivery(this.tdb, id, patch, now);
  }
  async listDeliveriesFor(orgId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    return tasking.listDeliveriesFor(this.tdb, orgId, limit);
  }
}
