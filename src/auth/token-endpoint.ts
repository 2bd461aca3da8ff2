/**
 * `POST /oauth2/token` (Hydrosat style: form body) and `POST /oauth/token` (Satellogic style: JSON
 * body with `audience`): one handler. Parses the body, rejects repeated or non-string parameters,
 * authenticates the client, dispatches on grant_type. Errors are RFC 6749 §5.2 JSON (http/app.ts).
 */
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateClient, type ClientAuthDeps, type TokenParams } from './client-authentication.js';
import { InvalidRequest, UnsupportedGrantType } from './errors.js';
import { parseJsonParams } from './json-params.js';
import { clientCredentialsGrant, type GrantDeps } from './grants/client-credentials.js';

export const TOKEN_PATHS = ['/oauth2/token', '/oauth/token'] as const;

/** RFC 6749 §5.1 success body; declared so fastify serializes it with a compiled serializer. */
const TOKEN_RESPONSE = {
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    scope: { type: 'string' },
  },
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
} as const;

export interface TokenEndpointDeps extends ClientAuthDeps, GrantDeps {
  bodyLimit: number;
}

/**
 * Normalises a parsed body to single string values. RFC 6749 §3.2: parameters must not repeat;
 * §3.1: a parameter sent without a value is treated as omitted. Throws InvalidRequest.
 */
export function tokenParams(body: unknown): TokenParams {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('the request body must be a form or a JSON object');
  const out: TokenParams = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(v)) throw new InvalidRequest(`parameter "${k.slice(0, 64)}" is repeated`);
    if (v === null || v === '') continue;
    if (typeof v !== 'string') throw new InvalidRequest(`parameter "${k.slice(0, 64)}" must be a string`);
    out[k] = v;
  }
  return out;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
function setNoStore(reply: FastifyReply): void {
  reply.headers(NO_STORE);
}

/**
 * The body parsers of every client-authenticated OAuth endpoint (token, revoke, introspect), for an
 * encapsulated scope: forms, and JSON that refuses repeated keys as forms refuse repeated parameters.
 */
export async function oauthBodyParsers(scope: FastifyInstance, bodyLimit: number): Promise<void> {
  await scope.register(formbody, { bodyLimit });
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    try {
      done(null, parseJsonParams(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** Registers the token endpoint (both paths) in an encapsulated context with its own body parsers. */
export async function tokenEndpoint(app: FastifyInstance, deps: TokenEndpointDeps): Promise<void> {
  await app.register(async (scope) => {
    await oauthBodyParsers(scope, deps.bodyLimit);
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      setNoStore(reply);
      const params = tokenParams(req.body);
      if (params.grant_type === undefined) throw new InvalidRequest('grant_type is required');
      if (params.grant_type !== 'client_credentials') throw new UnsupportedGrantType(params.grant_type);
      const { client } = await authenticateClient(req, params, deps);
      return await clientCredentialsGrant(client, params, deps);
    };
    for (const url of TOKEN_PATHS) {
      scope.post(
        url,
        { bodyLimit: deps.bodyLimit, config: { errorStyle: 'oauth' }, schema: { response: { 200: TOKEN_RESPONSE } } },
        handler,
      );
      // RFC 6749 §3.2: the token endpoint takes POST only.
      scope.route({
        method: ['GET', 'PUT', 'PATCH', 'DELETE'],
        url,
        config: { errorStyle: 'oauth' },
        handler: async (_req, reply) =>
          reply.code(405).header('allow', 'POST').send({ error: 'invalid_request', error_description: 'use POST for token requests' }),
      });
    }
  });
}
