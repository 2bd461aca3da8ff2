/**
 * The storage port: everything Skyport persists goes through this interface, implemented by the
 * embedded SQLite adapter (`storage/sqlite`) and the PostgreSQL adapter (`storage/postgres`).
 * One contract test suite (`test/storage/contract.test.ts`) runs against both.
 *
 * Conventions: all times are epoch milliseconds (UTC); ids are opaque strings; methods reject with
 * `ConflictError` when a unique constraint is violated and resolve `undefined` for "not found".
 */
import type { ClientScope, Permission } from '../access/permissions.js';
import type { Cql2Expr } from '../catalog/cql2/ast.js';
import type { StoreItemRow } from './catalog/rows.js';
import type { TaskingStorage } from './tasking.js';

export interface Organization {
  id: string;
  name: string;
  createdAt: number;
}

/** A hashed client secret. `expiresAt` is null while the secret is current, set during a rotation grace period. */
export interface ClientSecretRecord {
  id: string;
  /** Keyed hash (HMAC-SHA-256, base64url) of the secret; the secret itself is never stored. */
  hash: string;
  /** Last four characters of the secret, so an operator can tell two secrets apart. */
  hint: string;
  createdAt: number;
  expiresAt: number | null;
}

/** An API client (a machine identity) living under one root scope of one organization. */
export interface ClientRecord {
  clientId: string;
  orgId: string;
  name: string;
  rootScope: ClientScope;
  permissions: Permission[];
  /** Root credentials are the three clients created with the organization; only the operator can disable them. */
  isRoot: boolean;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  /** client_id of the admin client that created it, or null when created by the operator. */
  createdBy: string | null;
  /** When all tokens issued so far were revoked (disable, delete, revoke-tokens), ms; null if never. */
  tokensRevokedAt: number | null;
  secrets: ClientSecretRecord[];
}

export type ClientPatch = Partial<Pick<ClientRecord, 'name' | 'permissions' | 'enabled' | 'tokensRevokedAt'>>;

export type KeyStatus = 'next' | 'current' | 'retired';

/** A signing key. `privateKey` is PKCS#8 PEM, or an `enc:v1:` envelope when an encryption key is configured. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateKey: string;
  status: KeyStatus;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
  /** A retired key stays in the JWKS until this time (its last token's expiry plus skew). */
  publishUntil: number | null;
}

/**
 * A revocation: `token` revokes one JWT by `jti`; `client` revokes every token of a client issued
 * before `notBefore` (disable, delete, secret compromise). Rows can be forgotten after `expiresAt`.
 */
export interface RevocationRecord {
  kind: 'token' | 'client';
  subject: string;
  notBefore: number;
  expiresAt: number;
  createdAt: number;
}

export interface AuditEntry {
  id?: string;
  at: number;
  orgId: string | null;
  /** Who acted: a client_id, `operator`, or `anonymous`. */
  actor: string;
  action: string;
  target: string | null;
  outcome: 'success' | 'failure';
  sourceIp: string | null;
  details: Record<string, unknown>;
}

export type CollectionAccess = 'open' | 'licensed' | 'private';

export interface CollectionRecord {
  id: string;
  access: CollectionAccess;
  /** Owner organization for `private` collections; null otherwise. */
  ownerOrgId: string | null;
  body: Record<string, unknown>;
  updatedAt: number;
}

/** A GeoJSON geometry (RFC 7946 §3.1), coordinates in degrees (lon, lat[, height m]). */
export interface Geometry {
  type: string;
  coordinates?: unknown;
  geometries?: Geometry[];
}

/**
 * A STAC Item as stored: `item` is the Item JSON as loaded (structural links removed; Skyport writes
 * `self`, `parent`, `collection`, `root` when it serves one).
 */
export interface ItemRecord {
  collection: string;
  id: string;
  item: Record<string, unknown>;
}

/** One sort key of a search (STAC API sort extension); `field` is a sortable name such as `datetime`. */
export interface SortKey {
  field: string;
  direction: 'asc' | 'desc';
}

/**
 * An item search, already validated by the API layer (STAC API item-search + filter, sort, free-text).
 * Times are epoch ms, inclusive; `null` ends are open. All criteria are ANDed.
 */
export interface ItemSearch {
  collections?: string[];
  ids?: string[];
  /** [minLon, minLat, maxLon, maxLat] in degrees; minLon > maxLon crosses the antimeridian. */
  bbox?: [number, number, number, number];
  intersects?: Geometry;
  datetime?: { start: number | null; end: number | null };
  /** A CQL2 expression (CQL2-JSON form), already validated. */
  filter?: Cql2Expr;
  /** Free-text terms (ORed), matched case-insensitively against title, description and keywords. */
  q?: string[];
  sortby: SortKey[];
  /** Page size, already clamped by the API layer. */
  limit: number;
  /** Keyset: the sort values of the last item of the previous page (from a `next` token). */
  after?: unknown[];
  /** Count matches up to this many (numberMatched); 0 = do not count. */
  countLimit: number;
}

/** A page of results: `next` holds the keyset of the last item when more may follow. */
export interface ItemPage {
  items: ItemRecord[];
  next?: unknown[];
  /** Exact count of all matches, or undefined when counting was off or the count exceeded the limit. */
  numberMatched?: number;
}

/** Raised by catalog storage for a query the store cannot express (e.g. an unknown sort field): a client error. */
export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/** An item write named a collection that does not exist (or was deleted meanwhile): the whole batch is refused. */
export class UnknownCollectionError extends QueryError {
  constructor(collection?: string) {
    super(collection === undefined ? 'unknown collection' : `unknown collection ${collection}`);
    this.name = 'UnknownCollectionError';
  }
}

/** Raised by adapters when a unique constraint is violated. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

export interface Storage extends TaskingStorage {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations; safe to call from several instances at once. Returns the schema version. */
  migrate(): Promise<number>;
  close(): Promise<void>;

  getMeta(key: string): Promise<string | undefined>;
  /** Stores `value` unless the key exists; returns the value that won (first writer wins across instances). */
  setMetaIfAbsent(key: string, value: string): Promise<string>;
  setMeta(key: string, value: string): Promise<void>;

  /** Creates an organization and its clients atomically. */
  createOrganization(org: Organization, clients: ClientRecord[]): Promise<void>;
  getOrganization(id: string): Promise<Organization | undefined>;
  getOrganizationByName(name: string): Promise<Organization | undefined>;
  listOrganizations(): Promise<Organization[]>;

  createClient(client: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  listClients(orgId?: string): Promise<ClientRecord[]>;
  updateClient(clientId: string, patch: ClientPatch, now: number): Promise<ClientRecord | undefined>;
  deleteClient(clientId: string): Promise<boolean>;
  /**
   * Adds `secret` as the client's current secret. Secrets already expired are dropped; the previous
   * current secret(s) expire at `previousExpiresAt` (dropped at once when it is `<= now`), so at most
   * two secrets are ever valid.
   */
  rotateClientSecret(clientId: string, secret: ClientSecretRecord, previousExpiresAt: number, now: number): Promise<boolean>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  /** Atomically: current → retired (publishUntil), next → current, insert `newNext`. */
  rotateSigningKeys(alg: string, newNext: SigningKeyRecord, now: number, publishUntil: number): Promise<void>;
  deleteSigningKeysPublishedBefore(now: number): Promise<number>;
  /** Replaces a key's stored private part (sealing it when an encryption key is turned on). */
  setSigningKeyPrivate(kid: string, privateKey: string): Promise<void>;

  addRevocation(r: RevocationRecord): Promise<void>;
  /** Revocations created at or after `since` and not yet expired at `now`. */
  listRevocations(since: number, now: number): Promise<RevocationRecord[]>;

  appendAudit(e: AuditEntry): Promise<void>;
  listAudit(orgId: string | null, limit: number, beforeId?: string): Promise<AuditEntry[]>;

  upsertCollection(c: CollectionRecord): Promise<void>;
  /** Licenses a collection to an organization; granting twice changes nothing. */
  grantCollection(collectionId: string, orgId: string): Promise<void>;
  /** Every license (operator use: `catalog list`), by collection then organization id. */
  listGrants(): Promise<{ collectionId: string; orgId: string }[]>;
  /** Collections the organization is entitled to: open, licensed to it, or private to it. */
  listCollectionsFor(orgId: string): Promise<CollectionRecord[]>;
  /** One collection if the organization is entitled to it; undefined when missing or not entitled (the same answer). */
  getCollectionFor(orgId: string, id: string): Promise<CollectionRecord | undefined>;
  /** Every collection whatever its access (operator use), by id. */
  listCollections(): Promise<CollectionRecord[]>;
  /** One collection whatever its access (operator use: loaders, grants); undefined when missing. */
  getCollection(id: string): Promise<CollectionRecord | undefined>;
  /** Removes a collection, its items and grants; false when it did not exist. */
  deleteCollection(id: string): Promise<boolean>;
  revokeCollection(collectionId: string, orgId: string): Promise<boolean>;

  /** Refreshes the planner's statistics after a bulk change (SQLite plans from the R*Tree only with them). */
  analyze(): Promise<void>;
  /**
   * Inserts or replaces items, all in one transaction (a failure writes none of them).
   * Every item's collection must exist (else `QueryError`). Returns how many were new and how many replaced.
   */
  upsertItems(items: ItemRecord[]): Promise<{ inserted: number; updated: number }>;
  /**
   * `upsertItems` for rows already computed by `itemRow` (storage/catalog/rows.ts) — the bulk loader
   * computes them off the main thread. Same transaction, errors and result. Rows pre-encoded by
   * `itemRowCopy` are accepted where `kind` is 'postgres' (its bulk format); elsewhere they are a TypeError.
   */
  upsertItemRows(rows: StoreItemRow[]): Promise<{ inserted: number; updated: number }>;
  /** One item whatever its collection's access (operator and platform use: transactions); undefined when missing. */
  getItem(collectionId: string, itemId: string): Promise<ItemRecord | undefined>;
  /** One item if its collection is entitled to the organization (else undefined: the same answer as missing). */
  getItemFor(orgId: string, collectionId: string, itemId: string): Promise<ItemRecord | undefined>;
  deleteItem(collectionId: string, itemId: string): Promise<boolean>;
  /** Item search with the entitlement filter inside the query; throws `QueryError` for an inexpressible query. */
  searchItems(orgId: string, search: ItemSearch): Promise<ItemPage>;
}
