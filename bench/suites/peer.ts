// Part 3: the peer, oidc-provider 9.x, client_credentials with JWT access tokens.
import path from 'node:path';
import type { Alg, BenchConfig } from '../lib/config.js';
import { checkTokenRequest } from '../lib/http.js';
import { runLoad } from '../lib/load.js';
import { freePort, stopChild, type Child } from '../lib/procs.js';
import { failed, type Measurement } from '../lib/results.js';
import { startServer } from '../lib/server.js';

const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret-9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c';
const RESOURCE = 'https://api.skyport.example';

export async function benchPeer(cfg: BenchConfig, alg: Alg): Promise<Measurement> {
  const id = `peer.${alg}`;
  const label = `oidc-provider grant ${alg} (form)`;
  let server: Child | undefined;
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = await startServer(cfg, {
      name: `oidc-provider(${alg})`,
      nodeArgs: [path.join(cfg.distBench, 'peers', 'oidc-provider.js')],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        PEER_ALG: alg,
        PEER_CLIENT_ID: CLIENT_ID,
        PEER_CLIENT_SECRET: CLIENT_SECRET,
        PEER_RESOURCE: RESOURCE,
      },
      readyUrl: `${base}/.well-known/openid-configuration`,
    });
    const req = {
      url: `${base}/token`,
      method: 'POST' as const,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        // Without it oidc-provider issues a token with no scope claim; with it the
        // claim set matches a Skyport data token (iss, sub, aud, client_id, scope, iat, exp, jti).
        scope: 'read',
      }).toString(),
    };
    const tok = await checkTokenRequest(req, alg);
    const m = await runLoad(cfg, {
      id,
      label,
      ...req,
      serverPid: server.pid,
      pinned: true,
      setup: {
        serverCpu: cfg.serverCpu,
        tokenEndpoint: req.url,
        resource: RESOURCE,
        tokenClaims: Object.keys(tok.claims).join(','),
        tokenBytes: tok.accessToken.length,
      },
    });
    if (/unsupported runtime/i.test(server.logTail(40))) {
      m.notes.push(`oidc-provider warns it does not support Node ${process.version} (it asks for Node 22+)`);
    }
    return m;
  } catch (err) {
    return failed(id, label, 'req/s', err);
  } finally {
    if (server) await stopChild(server);
  }
}
