/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
 * `client_secret_basic` (HTTP Basic, id and secret form-url-decoded after base64, §2.3.1) and
 * `client_secret_post` (body). Both at once is `invalid_request` (§2.3: exactly one method).
 *
 * An unknown client and a wrong secret take the same path (one storage read, one HMAC, one
 * constant-time comparison) and give the same answer, so neither the body nor the timing tells
 * them apart. Failures are rate limited (auth/rate-limit.ts) and audited without the secret.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { authorizationLines } from '../access/guard.js';
import type { ClientRecord, Storage } from '../storage/types.js';
import { InvalidClient, InvalidRequest, TooManyAttempts } from './errors.js';
import type { FailureLimiter } from './rate-limit.js';
import { looksLikeSecret, type SecretHasher } from './secrets.js';

export type TokenParams = Record<string, string | undefined>;

export interface ClientAuthDeps {
  storage: Storage;
  hasher: SecretHasher;
  limiter: FailureLimiter;
  realm: string;
}

export interface AuthenticatedClient {
  client: ClientRecord;
  method: 'client_secret_basic' | 'client_secret_post';
}

function formDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequest('malformed percent-encoding in the Basic credentials');
  }
}

/** Parses `Authorization: Basic …` (scheme case-insensitive); undefined when no Authorization header. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^basic +([A-Za-z0-9+/=_-]+) *$/i.exec(header);
  if (!m) throw new InvalidRequest('the Authorization header must use the Basic scheme at this endpoint');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidRequest('malformed Basic credentials');
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

/** What may be recorded about an attempted client_id: the id itself only if it is a real client. */
function safeId(id: string, known: boolean): Record<string, string> {
  // The digest is computed either way, so both failure paths cost the same.
  const digest = createHash('sha256').update(id).digest('hex').slice(0, 16);
  if (known) return { client_id: id };
  // Someone may paste a secret into the id field: record only a short digest of unknown ids.
  return {
    client_id_sha256: digest,
    ...(looksLikeSecret(id) ? { note: 'id looked like a secret' } : {}),
  };
}

/**
 * Authenticates the client of a token-endpoint request.
 * Throws InvalidRequest (two methods, malformed credentials), TooManyAttempts (429) or InvalidClient (401).
 */
export async function authenticateClient(req: FastifyRequest, params: TokenParams, deps: ClientAuthDeps): Promise<AuthenticatedClient> {
  if (authorizationLines(req) > 1) throw new InvalidRequest('send one Authorization header');
  const basic = basicCredentials(req.headers.authorization);
  if (basic && params.client_secret !== undefined)
    throw new InvalidRequest('use one client authentication method: HTTP Basic or client_secret in the body, not both');
  if (basic && params.client_id !== undefined && params.client_id !== basic.id)
    throw new InvalidRequest('client_id in the body differs from the Basic credentials');
  const id = basic?.id ?? params.client_id;
  const secret = basic?.secret ?? params.client_secret;
  const method = basic ? 'client_secret_basic' : 'client_secret_post';
  if (!id) throw new InvalidRequest('client authentication is required: client_id and client_secret, or HTTP Basic');
  const address = req.ip;

  // Only a URL-safe id can name a client; anything else (NUL, 10 kB) never reaches storage.
  const client = /^[A-Za-z0-9._~-]{1,128}$/.test(id) ? await deps.storage.getClient(id) : undefined;
  // From here to fail() nothing awaits: concurrent attempts are checked and charged one at a
  // time, so a burst cannot outrun the limits while a storage read is in flight.
  const wait = deps.limiter.retryAfter(id, address);
  if (wait > 0) throw new TooManyAttempts(wait);
  const now = Date.now();
  const hashes = client ? client.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.hash) : [];
  const secretOk = deps.hasher.verify(secret ?? '', hashes.length ? hashes : [deps.hasher.decoyHash]) && hashes.length > 0;
  if (client && secretOk && client.enabled && secret !== undefined) {
    deps.limiter.succeed(id, address);
    return { client, method };
  }
  deps.limiter.fail(id, address);

  const reason = !client ? 'unknown_client' : secret === undefined ? 'no_secret' : !secretOk ? 'wrong_secret' : 'client_disabled';
  await deps.storage
    .appendAudit({
      at: now,
      orgId: client?.orgId ?? null,
      actor: 'anonymous',
      action: 'oauth.client_authentication',
      target: client ? id : null,
      outcome: 'failure',
      sourceIp: address,
      details: { reason, method, ...safeId(id, client !== undefined) },
    })
    .catch((e: unknown) => req.log.error({ err: e }, 'audit write failed'));
  throw new InvalidClient(basic !== undefined, deps.realm);
}
