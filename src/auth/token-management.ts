/**
 * Token revocation (RFC 7009) and introspection (RFC 7662), both client-authenticated like the
 * token endpoint, at `/oauth2/revoke` and `/oauth2/introspect` (aliases under `/oauth/`).
 *
 * A client may revoke its own tokens. A client may introspect tokens of its own organization;
 * any other token is reported `{"active": false}` exactly like a forged one (isolation).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RevocationList } from '../access/revocations.js';
import type { BearerVerifier } from '../access/verifier.js';
import { authenticateClient, type ClientAuthDeps } from './client-authentication.js';
import { InvalidRequest } from './errors.js';
import { oauthBodyParsers, tokenParams } from './token-endpoint.js';
import { MAX_CLOCK_SKEW_S } from '../config.js';

const REVOCATION_MARGIN_MS = MAX_CLOCK_SKEW_S * 1000 + 60_000;

export interface TokenManagementDeps extends ClientAuthDeps {
  verifier: BearerVerifier;
  revocations: RevocationList;
  bodyLimit: number;
}

export async function tokenManagementRoutes(app: FastifyInstance, deps: TokenManagementDeps): Promise<void> {
  await app.register(async (scope) => {
    await oauthBodyParsers(scope, deps.bodyLimit);
    const opts = { bodyLimit: deps.bodyLimit, config: { errorStyle: 'oauth' as const } };

    const authenticated = async (req: FastifyRequest) => {
      const params = tokenParams(req.body);
      if (params.token === undefined) throw new InvalidRequest('token is required');
      const { client } = await authenticateClient(req, params, deps);
      return { client, token: params.token };
    };

    for (const prefix of ['/oauth2', '/oauth']) {
      scope.post(`${prefix}/revoke`, opts, async (req, reply) => {
        const { client, token } = await authenticated(req);
        const p = await deps.verifier.inspect(token);
        // RFC 7009 §2.2: an unknown, invalid or foreign token is not an error; the answer is the same.
        if (p && p.clientId === client.clientId) {
          await deps.revocations.add({
            kind: 'token',
            subject: p.jti,
            notBefore: 0,
            // Past the token's last accepted moment (exp + the largest skew any instance may allow).
            expiresAt: p.exp * 1000 + REVOCATION_MARGIN_MS,
            createdAt: Date.now(),
          });
        }
        reply.header('cache-control', 'no-store');
        return reply.code(200).send();
      });

      scope.post(`${prefix}/introspect`, opts, async (req, reply) => {
        const { client, token } = await authenticated(req);
        reply.header('cache-control', 'no-store');
        const p = await deps.verifier.inspect(token);
        // RFC 7662 §2.2: active means not expired, so the verifier's skew allowance does not apply here.
        const expired = !p || p.exp * 1000 <= Date.now();
        if (!p || expired || p.orgId !== client.orgId || deps.revocations.isRevoked(p.jti, p.clientId, p.iat)) return { active: false };
        return {
          active: true,
          scope: [...p.permissions].join(' '),
          client_id: p.clientId,
          token_type: 'Bearer',
          exp: p.exp,
          iat: p.iat,
          sub: `${p.clientId}@clients`,
          aud: p.audience,
          iss: p.issuer,
          jti: p.jti,
          org_id: p.orgId,
          root_scope: p.rootScope,
        };
      });
    }
  });
}
