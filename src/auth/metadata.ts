/**
 * Discovery: RFC 8414 authorization-server metadata (also served at the OpenID Connect discovery
 * path, which many client libraries look for) and the JWKS (RFC 7517).
 */
import type { FastifyInstance } from 'fastify';
import { PERMISSIONS } from '../access/permissions.js';
import { JWKS_MAX_AGE, type KeyStore } from './keys.js';

export interface MetadataDeps {
  issuer: string;
  publicUrl: string;
  keys: KeyStore;
}

/** The RFC 8414 §2 metadata document. */
export function metadataDocument(d: MetadataDeps): Record<string, unknown> {
  return {
    issuer: d.issuer,
    token_endpoint: `${d.publicUrl}/oauth2/token`,
    jwks_uri: `${d.publicUrl}/.well-known/jwks.json`,
    revocation_endpoint: `${d.publicUrl}/oauth2/revoke`,
    introspection_endpoint: `${d.publicUrl}/oauth2/introspect`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: [...PERMISSIONS],
    access_token_signing_alg_values_supported: d.keys.algorithms(),
    service_documentation: `${d.publicUrl}/`,
  };
}

export async function metadataRoutes(app: FastifyInstance, d: MetadataDeps): Promise<void> {
  const cacheable = `public, max-age=${JWKS_MAX_AGE}`;
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, { config: { errorStyle: 'oauth' } }, async (_req, reply) => {
      reply.header('cache-control', cacheable);
      return metadataDocument(d);
    });
  }
  app.get('/.well-known/jwks.json', { config: { errorStyle: 'oauth' } }, async (_req, reply) => {
    // Short cache: a verifier must see the next key well before it signs (it is published at rotation time).
    reply.header('cache-control', cacheable).type('application/jwk-set+json');
    return d.keys.publicJwks();
  });
}
