/**
 * The access model (shared/design/access-model.md): permissions, the three root scopes and their
 * ceilings, and which API (audience) each permission lives on.
 */

export const PERMISSIONS = [
  'catalog:read',
  'assets:read',
  'tasking:read',
  'tasking:order',
  'admin:read',
  'admin:write',
  'catalog:write',
  'platform:admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The three root scopes every customer organization gets (the Satellogic page's admin, tasking and read-only). */
export const ROOT_SCOPES = ['admin', 'tasking', 'read-only'] as const;
export type RootScope = (typeof ROOT_SCOPES)[number];

/**
 * The platform operator's own scope: catalog:write and platform:admin live only here ("platform only" in
 * the access model). Platform clients are made by the operator CLI in the `platform` organization;
 * no Management API request can create, change or reach one.
 */
export const PLATFORM_SCOPE = 'platform' as const;
/** The scope a client lives under: a customer root scope or the platform scope. */
export type ClientScope = RootScope | typeof PLATFORM_SCOPE;

/** The ceiling of each scope: no client, role or token under it may hold anything else (invariant 1). */
export const ROOT_SCOPE_CEILING: Readonly<Record<ClientScope, readonly Permission[]>> = {
  admin: ['admin:read', 'admin:write'],
  tasking: ['catalog:read', 'assets:read', 'tasking:read', 'tasking:order'],
  'read-only': ['catalog:read', 'assets:read', 'tasking:read'],
  platform: ['catalog:read', 'assets:read', 'tasking:read', 'catalog:write', 'platform:admin'],
};

export type ApiName = 'data' | 'management';

/** Permissions that live on each API's audience. */
export const API_PERMISSIONS: Readonly<Record<ApiName, readonly Permission[]>> = {
  data: ['catalog:read', 'assets:read', 'tasking:read', 'tasking:order', 'catalog:write', 'platform:admin'],
  management: ['admin:read', 'admin:write'],
};

/** The API a client gets when it asks for no audience: the Management API for `admin`, the Data API otherwise. */
export function naturalApi(rootScope: ClientScope): ApiName {
  return rootScope === 'admin' ? 'management' : 'data';
}

export function isPermission(s: string): s is Permission {
  return (PERMISSIONS as readonly string[]).includes(s);
}

export function isRootScope(s: string): s is RootScope {
  return (ROOT_SCOPES as readonly string[]).includes(s);
}

/** A customer root scope or the platform scope (what a token's `root_scope` claim may say). */
export function isClientScope(s: string): s is ClientScope {
  return isRootScope(s) || s === PLATFORM_SCOPE;
}

/** True when every permission lies within the root scope's ceiling. */
export function withinCeiling(rootScope: ClientScope, permissions: readonly string[]): boolean {
  const ceiling = ROOT_SCOPE_CEILING[rootScope] as readonly string[];
  return permissions.every((p) => ceiling.includes(p));
}

/**
 * granted = requested (if any) ∩ client permissions ∩ root-scope ceiling ∩ the audience's permissions,
 * in the canonical order of PERMISSIONS (so equal grants give equal `scope` strings).
 */
export function grantedPermissions(
  rootScope: ClientScope,
  clientPermissions: readonly Permission[],
  api: ApiName,
  requested: readonly string[] | undefined,
): Permission[] {
  const ceiling = ROOT_SCOPE_CEILING[rootScope];
  const onApi = API_PERMISSIONS[api];
  return PERMISSIONS.filter(
    (p) => clientPermissions.includes(p) && ceiling.includes(p) && onApi.includes(p) && (requested === undefined || requested.includes(p)),
  );
}
