// Child-process entry point: the peer, panva's oidc-provider 9.x, set up for
// the client_credentials grant issuing JWT access tokens for one resource.
//
// Environment:
//   HOST, PORT           where to listen (issuer is http://HOST:PORT)
//   PEER_ALG             RS256 | ES256 | EdDSA: jwt.sign.alg of the resource server
//   PEER_CLIENT_ID       client_id      (token_endpoint_auth_method client_secret_post)
//   PEER_CLIENT_SECRET   client_secret
//   PEER_RESOURCE        the resource indicator (also the access token audience)
//
// The JWKS holds one freshly generated key per algorithm (jose generateKeyPair,
// extractable, exportJWK). The token endpoint is /token (oidc-provider default).
import http from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

const ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
type Alg = (typeof ALGS)[number];

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`missing env ${name}`);
  return v;
}

const host = env('HOST', '127.0.0.1');
const port = Number(env('PORT'));
const alg = env('PEER_ALG', 'RS256') as Alg;
if (!ALGS.includes(alg)) throw new Error(`PEER_ALG must be one of ${ALGS.join(', ')}`);
const clientId = env('PEER_CLIENT_ID', 'bench-client');
const clientSecret = env('PEER_CLIENT_SECRET', 'bench-secret-0123456789abcdef0123456789abcdef');
const resource = env('PEER_RESOURCE', 'https://api.skyport.example');

async function signingJwk(a: Alg): Promise<JWK> {
  const { privateKey } = await generateKeyPair(a, { extractable: true });
  return { ...(await exportJWK(privateKey)), alg: a, use: 'sig' };
}

const keys = await Promise.all(ALGS.map(signingJwk));

const provider = new Provider(`http://${host}:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  jwks: { keys },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope: 'read',
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
});

const server = http.createServer(provider.callback());
server.listen(port, host);

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
