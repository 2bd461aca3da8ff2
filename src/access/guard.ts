/**
 * The fastify side of the verifier: `guard(api, permission)` returns the preValidation hook that
 * every protected route uses (before schema validation: an unauthenticated caller learns nothing of the schemas). RFC 6750: the token travels in the Authorization header only (§2.1);
 * no token → 401 with a bare challenge; bad token → 401 `invalid_token`; token in the query string
 * or body, or two at once → 400 `invalid_request`; missing permission → 403 `insufficient_scope`.
 */
import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { BearerError } from '../http/errors.js';
import type { ApiName, Permission } from './permissions.js';
import { TokenInvalid, type BearerVerifier, type Principal } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export const REALM = 'skyport';

/** How many Authorization header lines the request carried. */
export function authorizationLines(req: FastifyRequest): number {
  let n = 0;
  const raw = req.raw.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') n++;
  return n;
}

/** The bearer token of a request; throws BearerError(400) for tokens sent any other way. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const query = req.query as Record<string, unknown> | undefined;
  const body = req.body as Record<string, unknown> | undefined;
  const elsewhere = (query && 'access_token' in query) || (body && typeof body === 'object' && 'access_token' in body);
  const header = req.headers.authorization;
  // Node keeps only the first of repeated Authorization lines; two credentials are one too many (RFC 6750 §3.1).
  if (authorizationLines(req) > 1) throw new BearerError(400, 'invalid_request', 'send one Authorization header', REALM);
  if (elsewhere) {
    throw new BearerError(
      400,
      'invalid_request',
      header
        ? 'send the access token one way only: the Authorization header'
        : 'access tokens are accepted in the Authorization header only',
      REALM,
    );
  }
  if (header === undefined) return undefined;
  // A JWT has no base64 padding: refusing `=` keeps one token one string (no `tok==` aliases).
  const m = /^bearer +([A-Za-z0-9\-._~+/]+) *$/i.exec(header);
  if (!m) throw new BearerError(401, 'invalid_token', 'the Authorization header must be "Bearer <token>"', REALM);
  return m[1];
}

/** A preHandler admitting requests whose token is valid for `api` and holds `permission`. */
export function guard(verifier: BearerVerifier, api: ApiName, permission: Permission): preValidationAsyncHookHandler {
  return async (req) => {
    const token = bearerToken(req);
    if (token === undefined) throw new BearerError(401, undefined, 'an access token is required', REALM);
    let p: Principal;
    try {
      p = await verifier.verify(token, api);
    } catch (e) {
      if (e instanceof TokenInvalid) throw new BearerError(401, 'invalid_token', e.message, REALM);
      throw e;
    }
    if (!p.permissions.has(permission)) {
      throw new BearerError(403, 'insufficient_scope', `this request needs the ${permission} permission`, REALM, permission);
    }
    req.principal = p;
  };
}
