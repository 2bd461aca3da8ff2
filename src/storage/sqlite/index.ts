/**
 * Embedded storage: SQLite through better-sqlite3, WAL mode, one file under the data dir.
 * Several processes on one machine may share the file (WAL allows concurrent readers and one writer;
 * `busy_timeout` makes writers wait instead of failing).
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteCatalog, registerGeometryFunctions } from './catalog.js';
import type { ItemRow, StoreItemRow } from '../catalog/rows.js';
import { SqliteTasking } from './tasking.js';
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

/** How stale the client cache may be with respect to other processes' commits, ms. */
export const CROSS_PROCESS_STALENESS_MS = 1;

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

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  /**
   * Client records by id, for the token endpoint's hot path. This connection's own writes clear it
   * at once; commits by other processes sharing the file (the CLI, other instances) change
   * `PRAGMA data_version`, read at most once per CROSS_PROCESS_STALENESS_MS (the pragma opens a read
   * transaction: ~7 µs, a tenth of a grant's own work). So a client disabled or a secret rotated
   * anywhere stops new tokens within 1 ms.
   */
  private readonly clientCache = new Map<string, ClientRecord | null>();
  private dataVersion = -1;
  private dataVersionStmt: Database.Statement | undefined;
  private dataVersionCheckedAt = 0;

  /** Opens (creating if needed) the database file; `:memory:` for tests that need no file. */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    // The file holds key material and secret hashes: owner-only, also for files made before this rule.
    if (file !== ':memory:') for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    // 8 KiB pages for a new file (an existing one keeps its size: WAL mode cannot change it). A catalog item is
    // ~2 kB: a 4 KiB page held one, with the rest wasted, and R*Tree nodes (a page each) were half as wide — a
    // bulk insert cost ~75 µs a row against ~53 (bench:catalog). Must come before WAL mode is set.
    this.db.pragma('page_size = 8192');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // 64 MiB of page cache (default 2 MiB): catalog indexes at a million items no longer fit the default,
    // and bulk loads and searches then re-read index pages from the OS for every row.
    this.db.pragma('cache_size = -65536');
    // Checkpoint every ~40 MB of WAL instead of ~4 MB: a bulk load rewrites the same index pages many times,
    // and each checkpoint copies and syncs them (a quarter of a load's time at the default; bench:catalog).
    this.db.pragma('wal_autocheckpoint = 10000');
    registerGeometryFunctions(this.db);
    this.catalog = new SqliteCatalog(this.db, (sql) => this.q(sql));
    this.tasking = new SqliteTasking(this.db, (sql) => this.q(sql), this.catalog);
  }
  private readonly catalog: SqliteCatalog;
  private readonly tasking: SqliteTasking;

  private q(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  async migrate(): Promise<number> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const apply = this.db.transaction(() => {
      const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
      let v = row.v ?? 0;
      for (; v < SQLITE_MIGRATIONS.length; v++) {
        this.db.exec(SQLITE_MIGRATIONS[v]!);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v + 1, Date.now());
      }
      // A table rebuild must leave every reference intact (SQLite's procedure checks before committing).
      if ((this.db.pragma('foreign_key_check') as unknown[]).length) throw new Error('migration broke a foreign key');
      return v;
    });
    // Foreign keys off during migrations: rebuilding a referenced table (DROP + RENAME) would otherwise
    // cascade-delete its dependants. The pragma is a no-op inside a transaction, hence around it.
    this.db.pragma('foreign_keys = OFF');
    try {
      return apply.immediate();
    } finally {
      this.db.pragma('foreign_keys = ON');
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (this.q('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }
  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    this.q('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
    return (await this.getMeta(key))!;
  }
  async setMeta(key: string, value: string): Promise<void> {
    this.q('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  private insertClient(c: ClientRecord): void {
    this.q(
      `INSERT INTO clients (client_id, org_id, name, root_scope, permissions, is_root, enabled, created_at, updated_at, created_by, tokens_revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      c.clientId,
      c.orgId,
      c.name,
      c.rootScope,
      c.permissions.join(' '),
      c.isRoot ? 1 : 0,
      c.enabled ? 1 : 0,
      c.createdAt,
      c.updatedAt,
      c.createdBy,
      c.tokensRevokedAt ?? null,
    );
    for (const s of c.secrets) this.insertSecret(c.clientId, s);
  }
  private insertSecret(clientId: string, s: ClientSecretRecord): void {
    this.q('INSERT INTO client_secrets (id, client_id, hash, hint, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      s.id,
      clientId,
      s.hash,
      s.hint,
      s.createdAt,
      s.expiresAt,
    );
  }

  async createOrganization(org: Organization, clients: ClientRecord[]): Promise<void> {
    this.clientCache.clear();
    conflict(() =>
      this.db.transaction(() => {
        this.q('INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)').run(org.id, org.name, org.createdAt);
        for (const c of clients) this.insertClient(c);
      })(),
    );
  }
  async getOrganization(id: string): Promise<Organization | undefined> {
    const r = this.q('SELECT * FROM organizations WHERE id = ?').get(id) as Row | undefined;
    return r && { id: r.id as string, name: r.name as string, createdAt: r.created_at as number };
  }
  async getOrganizationByName(name: string): Promise<Organization | undefined> {
    const r = this.q('SELECT * FROM organizations WHERE name = ?').get(name) as Row | undefined;
    return r && { id: r.id as string, name: r.name as string, createdAt: r.created_at as number };
  }
  async listOrganizations(): Promise<Organization[]> {
    return (this.q('SELECT * FROM organizations ORDER BY created_at, id').all() as Row[]).map((r) => ({
      id: r.id as string,
      name: r.name as string,
      createdAt: r.created_at as number,
    }));
  }

  async createClient(client: ClientRecord): Promise<void> {
    this.clientCache.clear();
    conflict(() => this.db.transaction(() => this.insertClient(client))());
  }
  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const now = performance.now();
    if (now - this.dataVersionCheckedAt >= CROSS_PROCESS_STALENESS_MS) {
      this.dataVersionCheckedAt = now;
      const version = (this.dataVersionStmt ??= this.db.prepare('PRAGMA data_version').pluck()).get() as number;
      if (version !== this.dataVersion) {
        this.clientCache.clear();
        this.dataVersion = version;
      }
    }
    const cached = this.clientCache.get(clientId);
    if (cached !== undefined) return cached ?? undefined;
    const c = this.readClient(clientId);
    // Misses are cached too, so an unknown client costs what a known one does (token-endpoint timing).
    if (this.clientCache.size >= 10_000) this.clientCache.clear();
    this.clientCache.set(clientId, c ?? null);
    return c;
  }
  private readClient(clientId: string): ClientRecord | undefined {
    const r = this.q('SELECT * FROM clients WHERE client_id = ?').get(clientId) as Row | undefined;
    if (!r) return undefined;
    const secrets = secretsByClient(this.q('SELECT * FROM client_secrets WHERE client_id = ? ORDER BY created_at').all(clientId) as Row[]);
    return clientFromRow(r, secrets.get(clientId) ?? []);
  }
  async listClients(orgId?: string): Promise<ClientRecord[]> {
    const rows = (
      orgId
        ? this.q('SELECT * FROM clients WHERE org_id = ? ORDER BY created_at, client_id').all(orgId)
        : this.q('SELECT * FROM clients ORDER BY created_at, client_id').all()
    ) as Row[];
    const secrets = secretsByClient(
      (orgId
        ? this.q('SELECT s.* FROM client_secrets s JOIN clients c USING (client_id) WHERE c.org_id = ? ORDER BY s.created_at').all(orgId)
        : this.q('SELECT * FROM client_secrets ORDER BY created_at').all()) as Row[],
    );
    return rows.map((r) => clientFromRow(r, secrets.get(r.client_id as string) ?? []));
  }
  async updateClient(clientId: string, patch: ClientPatch, now: number): Promise<ClientRecord | undefined> {
    this.clientCache.clear();
    const sets: string[] = ['updated_at = ?'];
    const args: unknown[] = [now];
    const add = (col: string, v: unknown) => {
      sets.push(`${col} = ?`);
      args.push(v);
    };
    if (patch.name !== undefined) add('name', patch.name);
    if (patch.permissions !== undefined) add('permissions', patch.permissions.join(' '));
    if (patch.enabled !== undefined) add('enabled', patch.enabled ? 1 : 0);
    if (patch.tokensRevokedAt !== undefined) add('tokens_revoked_at', patch.tokensRevokedAt);
    const res = this.db.prepare(`UPDATE clients SET ${sets.join(', ')} WHERE client_id = ?`).run(...args, clientId);
    return res.changes ? this.getClient(clientId) : undefined;
  }
  async deleteClient(clientId: string): Promise<boolean> {
    this.clientCache.clear();
    return this.q('DELETE FROM clients WHERE client_id = ?').run(clientId).changes > 0;
  }
  async rotateClientSecret(clientId: string, secret: ClientSecretRecord, previousExpiresAt: number, now: number): Promise<boolean> {
    this.clientCache.clear();
    return this.db
      .transaction(() => {
        if (!this.q('SELECT 1 FROM clients WHERE client_id = ?').get(clientId)) return false;
        this.q('DELETE FROM client_secrets WHERE client_id = ? AND expires_at IS NOT NULL').run(clientId);
        if (previousExpiresAt <= now) this.q('DELETE FROM client_secrets WHERE client_id = ?').run(clientId);
        else this.q('UPDATE client_secrets SET expires_at = ? WHERE client_id = ?').run(previousExpiresAt, clientId);
        this.insertSecret(clientId, secret);
        return true;
      })
      .immediate();
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (this.q('SELECT * FROM signing_keys ORDER BY created_at, kid').all() as Row[]).map(keyFromRow);
  }
  async insertSigningKey(k: SigningKeyRecord): Promise<void> {
    this.insertKey(k);
  }
  private insertKey(k: SigningKeyRecord): void {
    conflict(() =>
      this.q(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_key, status, created_at, activated_at, retired_at, publish_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(k.kid, k.alg, JSON.stringify(k.publicJwk), k.privateKey, k.status, k.createdAt, k.activatedAt, k.retiredAt, k.publishUntil),
    );
  }
  async rotateSigningKeys(alg: string, newNext: SigningKeyRecord, now: number, publishUntil: number): Promise<void> {
    this.db
      .transaction(() => {
        this.q("UPDATE signing_keys SET status = 'retired', retired_at = ?, publish_until = ? WHERE alg = ? AND status = 'current'").run(
          now,
          publishUntil,
          alg,
        );
        this.q("UPDATE signing_keys SET status = 'current', activated_at = ? WHERE alg = ? AND status = 'next'").run(now, alg);
        this.insertKey(newNext);
      })
      .immediate();
  }
  async setSigningKeyPrivate(kid: string, privateKey: string): Promise<void> {
    this.q('UPDATE signing_keys SET private_key = ? WHERE kid = ?').run(privateKey, kid);
  }
  async deleteSigningKeysPublishedBefore(now: number): Promise<number> {
    return this.q("DELETE FROM signing_keys WHERE status = 'retired' AND publish_until < ?").run(now).changes;
  }

  async addRevocation(r: RevocationRecord): Promise<void> {
    this.q('INSERT INTO revocations (kind, subject, not_before, expires_at, created_at) VALUES (?, ?, ?, ?, ?)').run(
      r.kind,
      r.subject,
      r.notBefore,
      r.expiresAt,
      r.createdAt,
    );
  }
  async listRevocations(since: number, now: number): Promise<RevocationRecord[]> {
    return (this.q('SELECT * FROM revocations WHERE created_at >= ? AND expires_at > ? ORDER BY created_at').all(since, now) as Row[]).map(
      revocationFromRow,
    );
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    this.q('INSERT INTO audit_log (at, org_id, actor, action, target, outcome, source_ip, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      e.at,
      e.orgId,
      e.actor,
      e.action,
      e.target,
      e.outcome,
      e.sourceIp,
      JSON.stringify(e.details),
    );
  }
  async listAudit(orgId: string | null, limit: number, beforeId?: string): Promise<AuditEntry[]> {
    const before = beforeId === undefined ? Number.MAX_SAFE_INTEGER : Number(beforeId);
    const rows = (
      orgId === null
        ? this.q('SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?').all(before, limit)
        : this.q('SELECT * FROM audit_log WHERE org_id = ? AND id < ? ORDER BY id DESC LIMIT ?').all(orgId, before, limit)
    ) as Row[];
    return rows.map(auditFromRow);
  }

  async upsertCollection(c: CollectionRecord): Promise<void> {
    this.q(
      `INSERT INTO collections (id, access, owner_org_id, body, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET access = excluded.access, owner_org_id = excluded.owner_org_id, body = excluded.body, updated_at = excluded.updated_at`,
    ).run(c.id, c.access, c.ownerOrgId, JSON.stringify(c.body), c.updatedAt);
  }
  async grantCollection(collectionId: string, orgId: string): Promise<void> {
    this.q('INSERT INTO collection_grants (collection_id, org_id) VALUES (?, ?) ON CONFLICT DO NOTHING').run(collectionId, orgId);
  }
  async listGrants(): Promise<{ collectionId: string; orgId: string }[]> {
    return this.q('SELECT collection_id AS collectionId, org_id AS orgId FROM collection_grants ORDER BY collection_id, org_id').all() as {
      collectionId: string;
      orgId: string;
    }[];
  }
  /** The entitlement filter (open, private to the organization, or licensed to it) as one SQL predicate on `c`. */
  private static readonly ENTITLED = `(c.access = 'open'
      OR (c.access = 'private' AND c.owner_org_id = @org)
      OR (c.access = 'licensed' AND EXISTS (SELECT 1 FROM collection_grants g WHERE g.collection_id = c.id AND g.org_id = @org)))`;
  async listCollectionsFor(orgId: string): Promise<CollectionRecord[]> {
    return (this.q(`SELECT * FROM collections c WHERE ${SqliteStorage.ENTITLED} ORDER BY c.id`).all({ org: orgId }) as Row[]).map(
      collectionFromRow,
    );
  }
  async getCollectionFor(orgId: string, id: string): Promise<CollectionRecord | undefined> {
    const r = this.q(`SELECT * FROM collections c WHERE c.id = @id AND ${SqliteStorage.ENTITLED}`).get({ org: orgId, id }) as
      Row | undefined;
    return r && collectionFromRow(r);
  }

  async listCollections(): Promise<CollectionRecord[]> {
    return (this.q('SELECT * FROM collections ORDER BY id').all() as Row[]).map(collectionFromRow);
  }
  async getCollection(id: string): Promise<CollectionRecord | undefined> {
    const r = this.q('SELECT * FROM collections WHERE id = ?').get(id) as Row | undefined;
    return r && collectionFromRow(r);
  }
  async deleteCollection(id: string): Promise<boolean> {
    return this.q('DELETE FROM collections WHERE id = ?').run(id).changes > 0;
  }
  async revokeCollection(collectionId: string, orgId: string): Promise<boolean> {
    return this.q('DELETE FROM collection_grants WHERE collection_id = ? AND org_id = ?').run(collectionId, orgId).changes > 0;
  }
  async analyze(): Promise<void> {
    this.db.exec('ANALYZE');
  }
  async upsertItems(items: ItemRecord[]): Promise<{ inserted: number; updated: number }> {
    return this.catalog.upsertItems(items);
  }
  async upsertItemRows(rows: StoreItemRow[]): Promise<{ inserted: number; updated: number }> {
    if (rows.some((r) => 'line' in r)) throw new TypeError('the embedded store takes item rows of fields, not COPY lines');
    return this.catalog.upsertItemRows(rows as ItemRow[]);
  }
  async getItem(collectionId: string, itemId: string): Promise<ItemRecord | undefined> {
    const r = this.q('SELECT content FROM items WHERE collection_id = ? AND id = ?').get(collectionId, itemId) as Row | undefined;
    return r && { collection: collectionId, id: itemId, item: JSON.parse(r.content as string) };
  }
  async getItemFor(orgId: string, collectionId: string, itemId: string): Promise<ItemRecord | undefined> {
    return this.catalog.getItemFor(orgId, collectionId, itemId);
  }
  async deleteItem(collectionId: string, itemId: string): Promise<boolean> {
    return this.catalog.deleteItem(collectionId, itemId);
  }
  async searchItems(orgId: string, search: ItemSearch): Promise<ItemPage> {
    return this.catalog.searchItems(orgId, search);
  }

  async upsertTleSets(sets: TleRecord[]): Promise<void> {
    return this.tasking.upsertTleSets(sets);
  }
  async listTleSets(): Promise<TleRecord[]> {
    return this.tasking.listTleSets();
  }
  async createOrder(order: OrderRecord, first: Omit<OrderStatusRecord, 'orderId' | 'seq'>, idempotency?: IdempotencyRecord): Promise<void> {
    return this.tasking.createOrder(order, first, idempotency);
  }
  async getIdempotency(clientId: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.tasking.getIdempotency(clientId, key);
  }
  async getOrderFor(orgId: string, id: string): Promise<OrderRecord | undefined> {
    return this.tasking.getOrderFor(orgId, id);
  }
  async listOrdersFor(orgId: string, limit: number, beforeId?: string): Promise<OrderRecord[]> {
    return this.tasking.listOrdersFor(orgId, limit, beforeId);
  }
  async listOrderStatuses(orderId: string): Promise<OrderStatusRecord[]> {
    return this.tasking.listOrderStatuses(orderId);
  }
  async transitionOrder(
    id: string,
    expectedVersion: number,
    patch: Parameters<TaskingStorage['transitionOrder']>[2],
    extras: TransitionExtras,
    now: number,
  ): Promise<OrderRecord | undefined> {
    return this.tasking.transitionOrder(id, expectedVersion, patch, extras, now);
  }
  async listDueOrders(now: number, limit: number): Promise<OrderRecord[]> {
    return this.tasking.listDueOrders(now, limit);
  }
  async listBookedOrders(noradId: number, start: number, end: number): Promise<OrderRecord[]> {
    return this.tasking.listBookedOrders(noradId, start, end);
  }
  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return this.tasking.acquireLease(name, holder, ttlMs, now);
  }
  async releaseLease(name: string, holder: string): Promise<void> {
    return this.tasking.releaseLease(name, holder);
  }
  async createWebhook(w: WebhookRecord): Promise<void> {
    return this.tasking.createWebhook(w);
  }
  async listWebhooksFor(orgId: string): Promise<WebhookRecord[]> {
    return this.tasking.listWebhooksFor(orgId);
  }
  async deleteWebhookFor(orgId: string, id: string): Promise<boolean> {
    return this.tasking.deleteWebhookFor(orgId, id);
  }
  async listDueDeliveries(now: number, limit: number): Promise<WebhookDeliveryRecord[]> {
    return this.tasking.listDueDeliveries(now, limit);
  }
  async updateDelivery(id: string, patch: Parameters<TaskingStorage['updateDelivery']>[1], now: number): Promise<void> {
    return this.tasking.updateDelivery(id, patch, now);
  }
  async listDeliveriesFor(orgId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    return this.tasking.listDeliveriesFor(orgId, limit);
  }
}
