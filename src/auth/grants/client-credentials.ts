/**
 * The client_credentials grant (RFC 6749 §4.4) with RFC 8707 `resource` / Auth0-style `audience`,
 * issuing RFC 9068 JWT access tokens with Auth0-compatible claims (access model "Tokens").
 *
 * Accepted parameters: grant_type, client_id, client_secret, audience, resource, scope.
 */
import { randomUUID } from 'node:crypto';
import { grantedPermissions, naturalApi, type ApiName } from '../../access/permissions.js';
import type { ClientRecord } from '../../storage/types.js';
import type { RevocationList } from '../../access/revocations.js';
import { InvalidClient, InvalidRequest, InvalidScope, InvalidTarget, UnauthorizedClient } from '../errors.js';
import type { KeyStore } from '../keys.js';
import type { TokenParams } from '../client-authentication.js';

export const CLIENT_CREDENTIALS_PARAMS = ['grant_type', 'client_id', 'client_secret', 'audience', 'resource', 'scope'] as const;

export interface GrantDeps {
  keys: KeyStore;
  issuer: string;
  audiences: Record<ApiName, string>;
  /** Token lifetime per API, seconds. */
  ttl: Record<ApiName, number>;
  /** This instance's revocation list: a client revoked while its grant was in flight gets no token. */
  revocations: Pick<RevocationList, 'clientRevokedAt'>;
}

/** RFC 6749 §5.1 success body. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  scope: string;
}

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3); runs of spaces are tolerated. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( +[\x21\x23-\x5b\x5d-\x7e]+)*$/;

function parseScope(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (!SCOPE.test(trimmed)) throw new InvalidScope('scope must be permission names separated by spaces');
  return trimmed.split(/ +/);
}

/** Maps `audience`/`resource` to one of our APIs; a trailing slash is not significant. */
function targetApi(params: TokenParams, client: ClientRecord, deps: GrantDeps): ApiName {
  const { audience, resource } = params;
  if (audience !== undefined && resource !== undefined && audience !== resource) {
    throw new InvalidRequest('audience and resource name different APIs; send one of them');
  }
  const target = audience ?? resource;
  if (target === undefined) return naturalApi(client.rootScope);
  const norm = (s: string) => s.replace(/\/+$/, '');
  const api = (Object.entries(deps.audiences) as [ApiName, string][]).find(([, a]) => norm(a) === norm(target))?.[0];
  if (!api) throw new InvalidTarget(`unknown audience; this server issues tokens for ${Object.values(deps.audiences).join(' and ')}`);
  return api;
}

/**
 * The `iat` of a new token: now, except in the very second the client's tokens were revoked, where
 * every token (iat ≤ that second) counts as revoked — so wait (< 1 s) for the next second.
 */
async function issueSecond(client: ClientRecord): Promise<number> {
  const now = Date.now();
  const revokedSecond = client.tokensRevokedAt === null ? -1 : Math.floor(client.tokensRevokedAt / 1000);
  if (Math.floor(now / 1000) > revokedSecond) return Math.floor(now / 1000);
  await new Promise((r) => setTimeout(r, (revokedSecond + 1) * 1000 - now + 1));
  return Math.max(revokedSecond + 1, Math.floor(Date.now() / 1000));
}

/**
 * Issues an access token to an authenticated client. Throws InvalidTarget (unknown audience),
 * UnauthorizedClient (the client holds no permission on that API) or InvalidScope (requested
 * scope malformed, or nothing of it may be granted).
 */
export async function clientCredentialsGrant(client: ClientRecord, params: TokenParams, deps: GrantDeps): Promise<TokenResponse> {
  const api = targetApi(params, client, deps);
  const requested = parseScope(params.scope);
  if (grantedPermissions(client.rootScope, client.permissions, api, undefined).length === 0) {
    throw new UnauthorizedClient(`this client holds no permission on ${deps.audiences[api]}`);
  }
  const granted = grantedPermissions(client.rootScope, client.permissions, api, requested);
  if (granted.length === 0) throw new InvalidScope('none of the requested scope can be granted to this client');
  const iat = await issueSecond(client);
  const ttl = deps.ttl[api];
  const scope = granted.join(' ');
  const access_token = await deps.keys.signJwt({
    iss: deps.issuer,
    sub: `${client.clientId}@clients`,
    aud: deps.audiences[api],
    iat,
    exp: iat + ttl,
    jti: randomUUID(),
    azp: client.clientId,
    client_id: client.clientId,
    gty: 'client-credentials',
    scope,
    org_id: client.orgId,
    root_scope: client.rootScope,
  });
  // A disable or revoke-tokens that landed after the client was read (during the waits above) wins:
  // its revocation would not cover this token, whose iat may fall in a later second.
  if ((deps.revocations.clientRevokedAt(client.clientId) ?? -1) > (client.tokensRevokedAt ?? -1)) {
    throw new InvalidClient(false, 'skyport');
  }
  return { access_token, token_type: 'Bearer', expires_in: ttl, scope };
}
