/**
 * The SDK's token provider against a real Skyport server: single flight, refresh ahead of expiry,
 * both styles and auth methods, discovery, typed errors, one retry on 401, 403 not retried,
 * Retry-After in both forms, creds files readable by others refused — and no import of server code.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { authorizedFetch, ClientCredentials, InsufficientScopeError, retryAfterMs, TokenError } from '../../packages/sdk/src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { Mgmt } from '../helpers/management.js';
import { PROJECT_ROOT } from '../helpers/proc.js';

/** A fetch that counts requests to the token endpoint. */
function countingFetch(): { fetch: typeof fetch; tokenRequests: () => number } {
  let n = 0;
  return {
    fetch: async (input, init) => {
      if (String(input).includes('/token')) n++;
      return fetch(input, init);
    },
    tokenRequests: () => n,
  };
}

describe('SDK ClientCredentials against a real server', () => {
  let s: TestServer;
  let ro: { client_id: string; client_secret: string };
  before(async () => {
    s = await startServer();
    ro = s.creds['read-only'];
  });
  after(() => s.close());

  it('100 concurrent calls cause exactly one token request; later calls use the cache', async () => {
    const c = countingFetch();
    const p = new ClientCredentials({ clientId: ro.client_id, clientSecret: ro.client_secret, issuer: s.url, fetch: c.fetch });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => p.getToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(c.tokenRequests(), 1);
    await p.getToken();
    assert.equal(c.tokenRequests(), 1);
  });

  it('refreshes ahead of expiry, once, however many calls are waiting', async () => {
    const c = countingFetch();
    // refreshAheadSeconds larger than half the lifetime: clamped to half, so the token is fresh now...
    const p = new ClientCredentials({
      clientId: ro.client_id,
      clientSecret: ro.client_secret,
      tokenUrl: `${s.url}/oauth2/token`,
      fetch: c.fetch,
      refreshAheadSeconds: 3599,
    });
    const t1 = await p.getToken();
    assert.equal(c.tokenRequests(), 1);
    // ...and once its refresh time passes (simulated by invalidating), 20 callers share one refresh.
    p.invalidate(t1);
    const again = await Promise.all(Array.from({ length: 20 }, () => p.getToken()));
    assert.equal(c.tokenRequests(), 2);
    assert.equal(new Set(again).size, 1);
  });

  it('speaks both styles and both client authentication methods; tokens agree with the seed flow', async () => {
    for (const style of ['form', 'json'] as const) {
      for (const authMethod of ['client_secret_post', 'client_secret_basic'] as const) {
        const p = new ClientCredentials({
          clientId: ro.client_id,
          clientSecret: ro.client_secret,
          tokenUrl: `${s.url}/${style === 'json' ? 'oauth' : 'oauth2'}/token`,
          style,
          authMethod,
          audience: s.config.dataAudience,
        });
        const claims = decodeJwt(await p.getToken());
        assert.equal(claims.sub, `${ro.client_id}@clients`);
        assert.equal(claims.aud, s.config.dataAudience);
        assert.equal(claims.scope, 'catalog:read assets:read tasking:read');
      }
    }
  });

  it('a failed refresh ahead of expiry keeps serving the still-valid token; past expiry it is a typed error', async () => {
    // The real server's answer, read as if it lived 2 s (refresh due after 1 s); later token requests fail as if the network dropped.
    let tokenCalls = 0;
    const shortLived: typeof fetch = async (input, init) => {
      if (!String(input).endsWith('/token')) return fetch(input, init);
      if (++tokenCalls > 1) throw new TypeError('fetch failed');
      const r = await fetch(input, init);
      return new Response(JSON.stringify({ ...((await r.json()) as object), expires_in: 2 }), { status: r.status, headers: r.headers });
    };
    const p = new ClientCredentials({
      clientId: ro.client_id,
      clientSecret: ro.client_secret,
      tokenUrl: `${s.url}/oauth2/token`,
      fetch: shortLived,
    });
    const t = await p.getToken();
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(await p.getToken(), t, 'refresh failed: the unexpired token still serves');
    assert.equal(tokenCalls, 2, 'a refresh was attempted');
    await new Promise((r) => setTimeout(r, 1000));
    await assert.rejects(p.getToken(), (e: unknown) => e instanceof TokenError && e.kind === 'network');
  });

  it('a wrong, rotated or disabled secret is TokenError invalid_client; a forbidden audience is not_permitted; no server is network', async () => {
    const bad = new ClientCredentials({ clientId: ro.client_id, clientSecret: 'sks_wrong', issuer: s.url });
    await assert.rejects(bad.getToken(), (e: unknown) => e instanceof TokenError && e.kind === 'invalid_client' && e.status === 401);
    // A failure is not cached: the next call asks again.
    await assert.rejects(bad.getToken(), TokenError);
    const admin = await Mgmt.as(s.url, s.creds.admin);
    const { cred } = await admin.createOk({ name: 'sdk rotated', root_scope: 'read-only' });
    const p = new ClientCredentials({ clientId: cred.client_id, clientSecret: cred.client_secret, issuer: s.url });
    await p.getToken();
    assert.equal((await admin.rotate(cred.client_id, { grace_period_seconds: 0 })).status, 200);
    p.invalidate(await p.getToken());
    await assert.rejects(p.getToken(), (e: unknown) => e instanceof TokenError && e.kind === 'invalid_client');
    const wrongApi = new ClientCredentials({
      clientId: ro.client_id,
      clientSecret: ro.client_secret,
      issuer: s.url,
      audience: s.config.managementAudience,
    });
    await assert.rejects(wrongApi.getToken(), (e: unknown) => e instanceof TokenError && e.kind === 'not_permitted');
    const down = new ClientCredentials({ clientId: 'x', clientSecret: 'y', tokenUrl: 'http://127.0.0.1:9/oauth2/token' });
    await assert.rejects(down.getToken(), (e: unknown) => e instanceof TokenError && e.kind === 'network');
  });

  it('authorizedFetch: a 401 refreshes once and retries once; 403 insufficient_scope is typed and not retried', async () => {
    const c = countingFetch();
    const p = new ClientCredentials({ clientId: ro.client_id, clientSecret: ro.client_secret, issuer: s.url, fetch: c.fetch });
    const stale = await p.getToken();
    // Revoke the cached token server-side: the API answers 401, the SDK refreshes once and succeeds.
    await fetch(`${s.url}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${stale}&client_id=${ro.client_id}&client_secret=${ro.client_secret}`,
    });
    const r = await authorizedFetch(p, `${s.url}/collections`, {}, { fetch: c.fetch });
    assert.equal(r.status, 200);
    assert.equal(c.tokenRequests(), 2);
    // A token that can never pass: 401, one refresh, still 401 → returned, no loop.
    const never = new ClientCredentials({ clientId: ro.client_id, clientSecret: ro.client_secret, issuer: s.url, fetch: c.fetch });
    const before = c.tokenRequests();
    const r2 = await authorizedFetch(never, `${s.url}/admin/clients`, {}, { fetch: c.fetch });
    assert.equal(r2.status, 401);
    assert.equal(c.tokenRequests() - before, 2);
    const narrow = new ClientCredentials({ clientId: ro.client_id, clientSecret: ro.client_secret, issuer: s.url, scope: 'assets:read' });
    await assert.rejects(
      authorizedFetch(narrow, `${s.url}/collections`),
      (e: unknown) => e instanceof InsufficientScopeError && e.requiredScope === 'catalog:read',
    );
  });

  it('fromFile refuses a creds file others can read, with the chmod to run; accepts 0600', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-sdk-'));
    try {
      const f = path.join(dir, 'creds.json');
      writeFileSync(f, readFileSync(path.join(s.config.dataDir, 'credentials', 'read-only.json')));
      chmodSync(f, 0o644);
      await assert.rejects(ClientCredentials.fromFile(f), /chmod 600/);
      chmodSync(f, 0o600);
      const p = await ClientCredentials.fromFile(f);
      assert.ok(await p.getToken());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SDK pieces', () => {
  it('Retry-After: delay-seconds and HTTP-date both honoured; garbage ignored (K05)', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    assert.equal(retryAfterMs('120', now), 120_000);
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 12:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 11:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(null, now), undefined);
  });

  it('the SDK imports nothing from the server', () => {
    const dir = path.join(PROJECT_ROOT, 'packages', 'sdk', 'src');
    for (const f of readdirSync(dir)) {
      const imports = [...readFileSync(path.join(dir, f), 'utf8').matchAll(/from '([^']+)'|import\('([^']+)'\)/g)].map((m) => m[1] ?? m[2]);
      for (const i of imports) assert.ok(i!.startsWith('./') || i!.startsWith('node:'), `${f} imports ${i}`);
    }
  });
});
