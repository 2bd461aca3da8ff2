/** Row ↔ record mapping shared by both adapters (their column names are identical). */
import type { AuditEntry, ClientRecord, ClientSecretRecord, CollectionRecord, RevocationRecord, SigningKeyRecord } from './types.js';
import type { ClientScope, Permission } from '../access/permissions.js';

type Row = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

export function secretFromRow(r: Row): ClientSecretRecord {
  return {
    id: r.id as string,
    hash: r.hash as string,
    hint: r.hint as string,
    createdAt: num(r.created_at),
    expiresAt: numOrNull(r.expires_at),
  };
}

export function clientFromRow(r: Row, secrets: ClientSecretRecord[]): ClientRecord {
  const perms = (r.permissions as string).split(' ').filter(Boolean) as Permission[];
  return {
    clientId: r.client_id as string,
    orgId: r.org_id as string,
    name: r.name as string,
    rootScope: r.root_scope as ClientScope,
    permissions: perms,
    isRoot: Boolean(r.is_root),
    enabled: Boolean(r.enabled),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    createdBy: (r.created_by as string | null) ?? null,
    tokensRevokedAt: numOrNull(r.tokens_revoked_at),
    secrets,
  };
}

export function keyFromRow(r: Row): SigningKeyRecord {
  return {
    kid: r.kid as string,
    alg: r.alg as string,
    publicJwk: JSON.parse(r.public_jwk as string) as Record<string, unknown>,
    privateKey: r.private_key as string,
    status: r.status as SigningKeyRecord['status'],
    createdAt: num(r.created_at),
    activatedAt: numOrNull(r.activated_at),
    retiredAt: numOrNull(r.retired_at),
    publishUntil: numOrNull(r.publish_until),
  };
}

export function revocationFromRow(r: Row): RevocationRecord {
  return {
    kind: r.kind as RevocationRecord['kind'],
    subject: r.subject as string,
    notBefore: num(r.not_before),
    expiresAt: num(r.expires_at),
    createdAt: num(r.created_at),
  };
}

export function auditFromRow(r: Row): AuditEntry {
  return {
    id: String(r.id),
    at: num(r.at),
    orgId: (r.org_id as string | null) ?? null,
    actor: r.actor as string,
    action: r.action as string,
    target: (r.target as string | null) ?? null,
    outcome: r.outcome as AuditEntry['outcome'],
    sourceIp: (r.source_ip as string | null) ?? null,
    details: JSON.parse(r.details as string) as Record<string, unknown>,
  };
}

export function collectionFromRow(r: Row): CollectionRecord {
  return {
    id: r.id as string,
    access: r.access as CollectionRecord['access'],
    ownerOrgId: (r.owner_org_id as string | null) ?? null,
    body: JSON.parse(r.body as string) as Record<string, unknown>,
    updatedAt: num(r.updated_at),
  };
}

/** Groups secret rows by client_id. */
export function secretsByClient(rows: Row[]): Map<string, ClientSecretRecord[]> {
  const m = new Map<string, ClientSecretRecord[]>();
  for (const r of rows) {
    const list = m.get(r.client_id as string) ?? [];
    list.push(secretFromRow(r));
    m.set(r.client_id as string, list);
  }
  return m;
}
