/**
 * Organization and client operations shared by the Management API (admin/clients.ts) and the
 * operator CLI (cli/). Enforces the access model's ceiling on every write; callers enforce who
 * may act (organization isolation, self-escalation rules).
 */
import { randomUUID } from 'node:crypto';
import {
  ROOT_SCOPE_CEILING,
  ROOT_SCOPES,
  isPermission,
  withinCeiling,
  PLATFORM_SCOPE,
  type ClientScope,
  type Permission,
  type RootScope,
} from '../access/permissions.js';
import type { RevocationList } from '../access/revocations.js';
import { generateClientId, generateClientSecret, type SecretHasher } from '../auth/secrets.js';
import { badRequest, forbidden } from '../http/errors.js';
import type { ClientRecord, ClientSecretRecord, Organization, Storage } from '../storage/types.js';

/** A credential as handed to its owner once: the seed's creds.json shape. */
export interface IssuedCredential {
  client_id: string;
  client_secret: string;
}

export interface AdminDeps {
  storage: Storage;
  hasher: SecretHasher;
  revocations: RevocationList;
  /** Longest token lifetime plus skew, ms: how long a client revocation must be remembered. */
  revocationTtl: number;
}

function secretRecord(hasher: SecretHasher, secret: string, now: number): ClientSecretRecord {
  return { id: randomUUID(), hash: hasher.hash(secret), hint: secret.slice(-4), createdAt: now, expiresAt: null };
}

/**
 * Validates a permission list against a root scope's ceiling (invariant 1). Throws HttpProblem 400
 * for unknown names or duplicates, 403 for a permission outside the root scope. Returns it in canonical order.
 */
export function checkPermissions(rootScope: ClientScope, permissions: readonly string[]): Permission[] {
  const unknown = permissions.filter((p) => !isPermission(p));
  if (unknown.length) throw badRequest(`unknown permission(s): ${unknown.slice(0, 5).join(', ')}`);
  if (new Set(permissions).size !== permissions.length) throw badRequest('permissions must not repeat');
  if (!withinCeiling(rootScope, permissions)) {
    const outside = permissions.filter((p) => !(ROOT_SCOPE_CEILING[rootScope] as readonly string[]).includes(p));
    throw forbidden(`permission(s) ${outside.join(', ')} lie outside the ${rootScope} root scope`);
  }
  return ROOT_SCOPE_CEILING[rootScope].filter((p) => permissions.includes(p));
}

/** Creates an organization with its three root credentials; the secrets are returned once, here. */
export async function createOrganization(
  deps: Pick<AdminDeps, 'storage' | 'hasher'>,
  name: string,
  now = Date.now(),
): Promise<{ org: Organization; credentials: Record<RootScope, IssuedCredential> }> {
  const org: Organization = { id: `org_${generateClientId().slice(0, 16)}`, name, createdAt: now };
  const credentials = {} as Record<RootScope, IssuedCredential>;
  const clients: ClientRecord[] = ROOT_SCOPES.map((rootScope) => {
    const secret = generateClientSecret();
    const clientId = generateClientId();
    credentials[rootScope] = { client_id: clientId, client_secret: secret };
    return {
      clientId,
      orgId: org.id,
      name: `${name} ${rootScope} root credential`,
      rootScope,
      permissions: [...ROOT_SCOPE_CEILING[rootScope]],
      isRoot: true,
      enabled: true,
      createdAt: now,
      updatedAt: now,
      createdBy: null,
      tokensRevokedAt: null,
      secrets: [secretRecord(deps.hasher, secret, now)],
    };
  });
  await deps.storage.createOrganization(org, clients);
  return { org, credentials };
}

/** Meta key holding the id of the operator's own organization, home of the platform clients. */
export const PLATFORM_ORG_META = 'platform_org_id';

/**
 * Creates a platform client (scope `platform`: catalog:write, platform:admin and catalog reads) in the
 * operator's own organization, made on first use. Its name, "(platform)", is one no customer
 * organization can take (names are letters, digits, spaces, dots, dashes, underscores). Operator only.
 */
export async function createPlatformClient(
  deps: Pick<AdminDeps, 'storage' | 'hasher'>,
  name: string,
  now = Date.now(),
): Promise<{ client: ClientRecord; secret: string; orgId: string }> {
  let orgId = await deps.storage.getMeta(PLATFORM_ORG_META);
  if (!orgId) {
    const candidate = `org_${generateClientId().slice(0, 16)}`;
    orgId = await deps.storage.setMetaIfAbsent(PLATFORM_ORG_META, candidate);
    if (orgId === candidate) await deps.storage.createOrganization({ id: orgId, name: '(platform)', createdAt: now }, []);
  }
  const { client, secret } = await createClient(deps, { orgId, name, rootScope: PLATFORM_SCOPE, createdBy: null }, now);
  return { client, secret, orgId };
}

/** Creates an API client under one root scope; permissions default to the whole ceiling. */
export async function createClient(
  deps: Pick<AdminDeps, 'storage' | 'hasher'>,
  input: { orgId: string; name: string; rootScope: ClientScope; permissions?: readonly string[]; createdBy: string | null },
  now = Date.now(),
): Promise<{ client: ClientRecord; secret: string }> {
  const permissions = checkPermissions(input.rootScope, input.permissions ?? ROOT_SCOPE_CEILING[input.rootScope]);
  const secret = generateClientSecret();
  const client: ClientRecord = {
    clientId: generateClientId(),
    orgId: input.orgId,
    name: input.name,
    rootScope: input.rootScope,
    permissions,
    isRoot: false,
    enabled: true,
    createdAt: now,
    updatedAt: now,
    createdBy: input.createdBy,
    tokensRevokedAt: null,
    secrets: [secretRecord(deps.hasher, secret, now)],
  };
  await deps.storage.createClient(client);
  return { client, secret };
}

/** Replaces the client's secret; the previous one stays valid for `graceSeconds` (0: stops at once). */
export async function rotateSecret(
  deps: AdminDeps,
  clientId: string,
  graceSeconds: number,
  now = Date.now(),
): Promise<{ secret: string; previousExpiresAt: number | null } | undefined> {
  const secret = generateClientSecret();
  const previousExpiresAt = now + graceSeconds * 1000;
  const ok = await deps.storage.rotateClientSecret(clientId, secretRecord(deps.hasher, secret, now), previousExpiresAt, now);
  return ok ? { secret, previousExpiresAt: graceSeconds > 0 ? previousExpiresAt : null } : undefined;
}

/** Revokes every token the client was issued before now, on every instance within one sync interval. */
/** What revocations need: the store and the instance's revocation list. */
type RevocationDeps = Pick<AdminDeps, 'storage' | 'revocations' | 'revocationTtl'>;

export async function revokeClientTokens(deps: RevocationDeps, clientId: string, now = Date.now()): Promise<void> {
  // On the client row, so the token endpoint of every instance sees it at once (see grants/client-credentials.ts).
  await deps.storage.updateClient(clientId, { tokensRevokedAt: now }, now);
  await deps.revocations.add({ kind: 'client', subject: clientId, notBefore: now, expiresAt: now + deps.revocationTtl, createdAt: now });
}

/** Enables or disables a client; disabling also revokes its live tokens. */
export async function setEnabled(
  deps: RevocationDeps,
  clientId: string,
  enabled: boolean,
  now = Date.now(),
): Promise<ClientRecord | undefined> {
  const c = await deps.storage.updateClient(clientId, { enabled }, now);
  if (c && !enabled) await revokeClientTokens(deps, clientId, now);
  return c;
}

/** Deletes a client and revokes its live tokens. */
export async function deleteClient(deps: RevocationDeps, clientId: string, now = Date.now()): Promise<boolean> {
  const ok = await deps.storage.deleteClient(clientId);
  if (ok) await revokeClientTokens(deps, clientId, now);
  return ok;
}

/** The public view of a client: never a secret or hash, only each secret's last four characters. */
export function clientView(c: ClientRecord, now = Date.now()): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    client_id: c.clientId,
    name: c.name,
    root_scope: c.rootScope,
    permissions: c.permissions,
    enabled: c.enabled,
    root_credential: c.isRoot,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    created_by: c.createdBy,
    secrets: c.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => ({ hint: `…${s.hint}`, created_at: iso(s.createdAt), expires_at: iso(s.expiresAt) })),
  };
}
