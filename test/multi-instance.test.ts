/**
 * Two Skyport instances sharing one store (PostgreSQL, and SQLite through a shared data dir), as
 * behind a load balancer: tokens of one are accepted by the other; a client disabled on one is
 * refused by the other within the sync interval (invariant 4); a key rotation on one is picked up
 * by the other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { bearer, formToken, request, tokenFor } from './helpers/http.js';
import { poll } from './helpers/proc.js';
import { postgresAvailable, startServer, type StoreKind, type TestServer } from './helpers/server.js';

/** Instances behind one public name agree on issuer and audiences (each test server has its own port). */
const SHARED_ENV = {
  SKYPORT_ISSUER: 'https://skyport.cluster.example.test',
  SKYPORT_DATA_AUDIENCE: 'https://skyport.cluster.example.test/',
  SKYPORT_MANAGEMENT_AUDIENCE: 'https://skyport.cluster.example.test/admin/',
};
/** The bound the tests allow: many sync intervals (200 ms in tests), still far below a token lifetime. */
const BOUND_MS = 3000;

const kinds: StoreKind[] = (await postgresAvailable()) ? ['postgres', 'sqlite'] : ['sqlite'];

for (const kind of kinds) {
  describe(`two instances on one ${kind} store`, () => {
    let a: TestServer;
    let b: TestServer;
    before(async () => {
      a = await startServer({ store: kind, env: SHARED_ENV });
      b =
        kind === 'postgres'
          ? await startServer({ databaseUrl: a.config.databaseUrl!, env: SHARED_ENV })
          : await startServer({ dataDir: a.config.dataDir, env: SHARED_ENV });
      assert.notEqual(a.url, b.url);
      assert.equal(a.skyport.storage.kind, kind);
      assert.equal(b.skyport.storage.kind, kind);
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    it('a token issued by A is accepted by B, and the other way round', async () => {
      const ro = a.creds['read-only'];
      const fromA = await tokenFor(a.url, ro);
      const r = await request(`${b.url}/collections`, { headers: bearer(fromA) });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.collections.some((c: { id: string }) => c.id === 'skyport-lst'));
      // B authenticates A's clients from the shared store and issues tokens A accepts.
      const fromB = await tokenFor(b.url, ro);
      assert.equal((await request(`${a.url}/collections`, { headers: bearer(fromB) })).status, 200);
      const admB = await tokenFor(b.url, a.creds.admin);
      assert.equal((await request(`${a.url}/admin/clients`, { headers: bearer(admB) })).status, 200);
    });

    it('a client disabled through A is refused by B: new tokens at once, live tokens within the bound', async () => {
      const admA = await tokenFor(a.url, a.creds.admin);
      const created = await request(`${a.url}/admin/clients`, {
        method: 'POST',
        headers: { ...bearer(admA), 'content-type': 'application/json' },
        body: JSON.stringify({ name: `pipeline-${kind}`, root_scope: 'read-only', permissions: ['catalog:read'] }),
      });
      assert.equal(created.status, 201, created.text);
      const c = { client_id: created.json.client_id as string, client_secret: created.json.client_secret as string };
      const live = await tokenFor(b.url, c);
      assert.equal((await request(`${b.url}/collections`, { headers: bearer(live) })).status, 200, 'works (and is cached) on B first');

      const d = await request(`${a.url}/admin/clients/${c.client_id}/disable`, { method: 'POST', headers: bearer(admA) });
      assert.equal(d.status, 200, d.text);
      assert.equal(d.json.enabled, false);
      const disabledAt = Date.now();

      // New tokens: refused by B at once (it reads clients from the store).
      const t = await formToken(b.url, `grant_type=client_credentials&client_id=${c.client_id}&client_secret=${c.client_secret}`);
      assert.equal(t.status, 401, t.text);
      assert.equal(t.json.error, 'invalid_client');

      // Live tokens: refused by B within the bound; A refuses at once.
      assert.equal((await request(`${a.url}/collections`, { headers: bearer(live) })).status, 401);
      const refused = await poll(
        async () => (await request(`${b.url}/collections`, { headers: bearer(live) })).status === 401,
        BOUND_MS,
        50,
      );
      assert.ok(refused, `B still accepted the disabled client's token ${Date.now() - disabledAt} ms after the disable`);
      // And it stays refused (not a one-off).
      assert.equal((await request(`${b.url}/collections`, { headers: bearer(live) })).status, 401);
      const intro = await request(`${b.url}/oauth2/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `client_id=${a.creds['read-only'].client_id}&client_secret=${a.creds['read-only'].client_secret}&token=${live}`,
      });
      assert.deepEqual(intro.json, { active: false });
    });

    it('a token revoked (RFC 7009) on A is refused by B within the bound', async () => {
      const ro = a.creds['read-only'];
      const t = await tokenFor(a.url, ro);
      assert.equal((await request(`${b.url}/collections`, { headers: bearer(t) })).status, 200);
      const r = await request(`${a.url}/oauth2/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `client_id=${ro.client_id}&client_secret=${ro.client_secret}&token=${t}`,
      });
      assert.equal(r.status, 200);
      const refused = await poll(async () => (await request(`${b.url}/collections`, { headers: bearer(t) })).status === 401, BOUND_MS, 50);
      assert.ok(refused, 'B honours the revocation made on A');
    });

    it('a key rotation done on A is picked up by B', async () => {
      const ro = a.creds['read-only'];
      const kidB0 = decodeProtectedHeader(await tokenFor(b.url, ro)).kid;
      const oldFromA = await tokenFor(a.url, ro);
      assert.equal(decodeProtectedHeader(oldFromA).kid, kidB0, 'both sign with the same current key');

      // Two rotations on A: the second promotes a key generated by A after B last loaded the key set.
      const r1 = await a.skyport.keys.rotate(3_600_000 + 60_000);
      const r2 = await a.skyport.keys.rotate(3_600_000 + 60_000);
      assert.notEqual(r2.current, r1.current);
      const newFromA = await tokenFor(a.url, ro);
      assert.equal(decodeProtectedHeader(newFromA).kid, r2.current);

      // B verifies A's new-key tokens, and still A's old-key tokens.
      const ok = await poll(
        async () => (await request(`${b.url}/collections`, { headers: bearer(newFromA) })).status === 200,
        BOUND_MS,
        50,
      );
      assert.ok(ok, "B accepts a token signed with A's new key");
      assert.equal((await request(`${b.url}/collections`, { headers: bearer(oldFromA) })).status, 200);

      // B's own signing key and published JWKS follow within the bound.
      const signs = await poll(async () => decodeProtectedHeader(await tokenFor(b.url, ro)).kid === r2.current, BOUND_MS, 50);
      assert.ok(signs, 'B signs with the key A promoted');
      const jwksB = (await request(`${b.url}/.well-known/jwks.json`)).json.keys.map((k: { kid: string }) => k.kid);
      const nextKid = (await a.skyport.storage.listSigningKeys()).find((k) => k.status === 'next')!.kid;
      for (const kid of [kidB0, r1.current, r2.current, nextKid]) assert.ok(jwksB.includes(kid), `B publishes ${kid}`);
      // A accepts B's new tokens too.
      assert.equal((await request(`${a.url}/collections`, { headers: bearer(await tokenFor(b.url, ro)) })).status, 200);
    });
  });
}
