/**
 * The one bearer-token verifier every protected route uses (access-model invariant 6).
 *
 * Local verification, no network call per request: signature by a published Skyport key with that
 * key's own algorithm (pinned; `none` and HMAC can never match), `typ` at+jwt (RFC 9068 §4), issuer,
 * audience, expiry and not-before with a small skew, the access model's claim invariants, and the
 * revocation list. Verified tokens are cached until expiry; the revocation check runs on every use.
 */
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { KeyStore } from '../auth/keys.js';
import type { RevocationList } from './revocations.js';
import { API_PERMISSIONS, isClientScope, withinCeiling, type ApiName, type ClientScope, type Permission } from './permissions.js';

/** The caller a verified token stands for. */
export interface Principal {
  clientId: string;
  orgId: string;
  rootScope: ClientScope;
  permissions: ReadonlySet<Permission>;
  api: ApiName;
  jti: string;
  audience: string;
  issuer: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

/** Why a token was refused; the message is safe to show the caller (no token material). */
export class TokenInvalid extends Error {
  override name = 'TokenInvalid';
}

export interface VerifierOptions {
  issuer: string;
  audiences: Record<ApiName, string>;
  clockSkew: number;
  /** Verified-token cache size; 0 disables the cache. */
  cacheSize?: number;
}

const CLAIMS_REQUIRED = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'];

export class BearerVerifier {
  private readonly cache = new Map<string, Principal>();
  private readonly cacheSize: number;

  constructor(
    private readonly keys: KeyStore,
    private readonly revocations: RevocationList,
    private readonly opts: VerifierOptions,
  ) {
    this.cacheSize = opts.cacheSize ?? 50_000;
  }

  /**
   * Verifies `token` for the API `api`. Resolves the principal; rejects with TokenInvalid for
   * anything not genuine, expired, revoked, for another audience or breaking the access model.
   */
  async verify(token: string, api: ApiName, nowMs = Date.now()): Promise<Principal> {
    let p = this.cache.get(token);
    if (!p) {
      p = await this.verifyUncached(token, nowMs);
      if (this.cacheSize > 0) {
        if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(token, p);
      }
    }
    const now = nowMs / 1000;
    if (p.exp + this.opts.clockSkew <= now) {
      this.cache.delete(token);
      throw new TokenInvalid('the access token expired');
    }
    if (p.api !== api) throw new TokenInvalid('the access token is for another audience');
    if (this.revocations.isRevoked(p.jti, p.clientId, p.iat)) throw new TokenInvalid('the access token was revoked');
    return p;
  }

  /**
   * The principal of a genuine, unexpired token for any of our APIs, ignoring revocation; undefined
   * for anything else. For RFC 7009/7662 endpoints, which must not error on bad tokens.
   */
  async inspect(token: string, nowMs = Date.now()): Promise<Principal | undefined> {
    try {
      const p = this.cache.get(token) ?? (await this.verifyUncached(token, nowMs));
      return p.exp + this.opts.clockSkew > nowMs / 1000 ? p : undefined;
    } catch (e) {
      if (e instanceof TokenInvalid) return undefined;
      throw e;
    }
  }

  private async verifyUncached(token: string, nowMs: number): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          const key = header.kid ? await this.keys.verificationKey(header.kid, nowMs) : undefined;
          if (!key || key.alg !== header.alg) throw new TokenInvalid('the access token is not signed by a current key');
          return key.publicKey;
        },
        {
          algorithms: this.keys.algorithms(),
          issuer: this.opts.issuer,
          audience: Object.values(this.opts.audiences),
          clockTolerance: this.opts.clockSkew,
          typ: 'at+jwt',
          requiredClaims: CLAIMS_REQUIRED,
          currentDate: new Date(nowMs),
        },
      ));
    } catch (e) {
      throw new TokenInvalid(describe(e));
    }
    return this.principal(payload);
  }

  /** Checks the access model's claim invariants (shape, ceiling, audience) and builds the principal. */
  private principal(c: JWTPayload): Principal {
    const azp = c.azp;
    const rootScope = c.root_scope;
    const scope = c.scope;
    if (typeof azp !== 'string' || c.sub !== `${azp}@clients` || c.client_id !== azp) throw new TokenInvalid('malformed subject claims');
    if (c.gty !== 'client-credentials' || typeof c.org_id !== 'string') throw new TokenInvalid('malformed grant claims');
    if (typeof rootScope !== 'string' || !isClientScope(rootScope) || typeof scope !== 'string')
      throw new TokenInvalid('malformed scope claims');
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
    const api = (Object.entries(this.opts.audiences) as [ApiName, string][]).find(([, a]) => aud.includes(a))?.[0];
    const perms = scope.split(' ').filter(Boolean);
    if (!api || aud.length !== 1) throw new TokenInvalid('the access token is for another audience');
    if (!withinCeiling(rootScope, perms) || !perms.every((p) => (API_PERMISSIONS[api] as readonly string[]).includes(p))) {
      throw new TokenInvalid('the token scope exceeds its root scope');
    }
    return {
      clientId: azp,
      orgId: c.org_id,
      rootScope,
      permissions: new Set(perms as Permission[]),
      api,
      audience: this.opts.audiences[api],
      issuer: this.opts.issuer,
      jti: c.jti!,
      iat: c.iat!,
      exp: c.exp!,
    };
  }
}

function describe(e: unknown): string {
  if (e instanceof TokenInvalid) return e.message;
  if (e instanceof joseErrors.JWTExpired) return 'the access token expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `the access token's "${e.claim}" claim is not valid here`;
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'the access token is not signed with an accepted algorithm';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'the access token signature is not valid';
  return 'the access token is malformed';
}
