/**
 * Management API against the access model's invariants, over HTTP on a real server, on each store:
 *   1. ceiling — nothing created or assigned above a root scope, and no token above it;
 *   2. isolation — another organization's clients answer exactly as nonexistent ones;
 *   3. no self-escalation — no client changes its own standing or the root credentials;
 *      admin:read cannot write; tokens work only on their own API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { bearer, request, type Res } from '../helpers/http.js';
import {
  Mgmt,
  assertOAuthError,
  assertProblem,
  collectionsStatus,
  randomClientId,
  token,
  tokenResponse,
  type Cred,
} from '../helpers/management.js';
import { createOrg, type TestOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';

const enc = encodeURIComponent;

for (const store of await stores()) {
  describe(`Management API: access model (${store})`, () => {
    let s: TestServer;
    let admin: Mgmt;
    before(async () => {
      s = await startServer({ store });
      admin = await Mgmt.as(s.url, s.creds.admin);
    });
    after(() => s.close());

    const ids = async (m: Mgmt): Promise<string[]> => {
      const r = await m.list();
      assert.equal(r.status, 200, r.text);
      return r.json.clients.map((c: any) => c.client_id);
    };

    describe('invariant 1: ceiling', () => {
      it('creating a client with a permission outside its root scope is 403 and creates nothing', async () => {
        const cases: [string, string[]][] = [
          ['read-only', ['tasking:order']],
          ['read-only', ['catalog:read', 'tasking:order']],
          ['read-only', ['catalog:write']],
          ['read-only', ['platform:admin']],
          ['read-only', ['admin:read']],
          ['tasking', ['catalog:write']],
          ['tasking', ['platform:admin']],
          ['tasking', ['catalog:read', 'admin:read']],
          ['tasking', ['admin:write']],
          ['admin', ['catalog:read']],
          ['admin', ['catalog:write']],
          ['admin', ['platform:admin']],
          ['admin', ['admin:read', 'tasking:order']],
        ];
        const before = await ids(admin);
        for (const [root_scope, permissions] of cases) {
          const name = `above ${root_scope} ${permissions.join('+')}`;
          const r = await admin.create({ name, root_scope, permissions });
          assertProblem(r, 403, 'Forbidden');
          assert.ok(!('client_secret' in (r.json ?? {})), 'a refused create returned a secret');
          const list = await admin.list();
          assert.ok(!list.json.clients.some((c: any) => c.name === name), `${name} was created`);
        }
        assert.deepEqual(await ids(admin), before);
      });

      it('PATCHing permissions above the ceiling is 403 and changes nothing, not even the name sent with it', async () => {
        const { cred: ro } = await admin.createOk({ name: 'ro ceiling', root_scope: 'read-only', permissions: ['catalog:read'] });
        const { cred: ad } = await admin.createOk({ name: 'admin ceiling', root_scope: 'admin', permissions: ['admin:read'] });
        for (const [cred, permissions] of [
          [ro, ['tasking:order']],
          [ro, ['catalog:read', 'tasking:order']],
          [ro, ['catalog:write']],
          [ro, ['platform:admin']],
          [ro, ['admin:read']],
          [ad, ['catalog:write']],
          [ad, ['platform:admin']],
          [ad, ['admin:read', 'catalog:read']],
        ] as [Cred, string[]][]) {
          assertProblem(await admin.patch(cred.client_id, { permissions, name: 'renamed by a refused patch' }), 403, 'Forbidden');
        }
        const gotRo = await admin.get(ro.client_id);
        assert.deepEqual(gotRo.json.permissions, ['catalog:read']);
        assert.equal(gotRo.json.name, 'ro ceiling');
        const gotAd = await admin.get(ad.client_id);
        assert.deepEqual(gotAd.json.permissions, ['admin:read']);
        assert.equal(gotAd.json.name, 'admin ceiling');
        assert.equal((await tokenResponse(s.url, ro)).json.scope, 'catalog:read');
        assert.equal((await tokenResponse(s.url, ad)).json.scope, 'admin:read');
      });

      it('the root scope of a client cannot be changed', async () => {
        const { cred } = await admin.createOk({ name: 'stays read-only', root_scope: 'read-only' });
        assertProblem(await admin.patch(cred.client_id, { root_scope: 'tasking' }), 400);
        assertProblem(await admin.patch(cred.client_id, { root_scope: 'tasking', permissions: ['tasking:order'] }), 400);
        assert.equal((await admin.get(cred.client_id)).json.root_scope, 'read-only');
        const c = decodeJwt(await token(s.url, cred));
        assert.equal(c.root_scope, 'read-only');
        assert.ok(!String(c.scope).includes('tasking:order'));
      });

      it("a narrowed client's token carries only its permissions; asking for more never yields more", async () => {
        const { cred } = await admin.createOk({ name: 'narrow tasking', root_scope: 'tasking', permissions: ['catalog:read'] });
        const plain = await tokenResponse(s.url, cred);
        assert.equal(plain.status, 200);
        assert.equal(plain.json.scope, 'catalog:read');
        const claims = decodeJwt(plain.json.access_token);
        assert.equal(claims.scope, 'catalog:read');
        assert.equal(claims.root_scope, 'tasking');
        assert.equal(claims.aud, s.config.dataAudience);

        const greedy = await tokenResponse(
          s.url,
          cred,
          `&scope=${enc('catalog:read assets:read tasking:read tasking:order catalog:write platform:admin admin:read admin:write')}`,
        );
        assert.equal(greedy.status, 200, greedy.text);
        assert.equal(greedy.json.scope, 'catalog:read');
        assert.equal(decodeJwt(greedy.json.access_token).scope, 'catalog:read');

        assertOAuthError(await tokenResponse(s.url, cred, `&scope=${enc('tasking:order')}`), 400, 'invalid_scope');
        assertOAuthError(await tokenResponse(s.url, cred, `&scope=${enc('catalog:write platform:admin')}`), 400, 'invalid_scope');
        assertOAuthError(await tokenResponse(s.url, cred, `&audience=${enc(s.config.managementAudience)}`), 400, 'unauthorized_client');
        assertOAuthError(
          await tokenResponse(s.url, cred, `&resource=${enc(s.config.managementAudience)}&scope=admin:write`),
          400,
          'unauthorized_client',
        );
        // The same through the JSON flow at the alias.
        const j = await request(`${s.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            grant_type: 'client_credentials',
            ...cred,
            audience: s.config.dataAudience,
            scope: 'catalog:read tasking:order',
          }),
        });
        assert.equal(j.status, 200, j.text);
        assert.equal(j.json.scope, 'catalog:read');

        // An admin-scope client holding admin:read only never gets admin:write.
        const { cred: reader } = await admin.createOk({ name: 'narrow admin', root_scope: 'admin', permissions: ['admin:read'] });
        const r = await tokenResponse(s.url, reader, `&scope=${enc('admin:read admin:write')}`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.scope, 'admin:read');
        assertOAuthError(await tokenResponse(s.url, reader, '&scope=admin:write'), 400, 'invalid_scope');
        assertOAuthError(await tokenResponse(s.url, reader, `&audience=${enc(s.config.dataAudience)}`), 400, 'unauthorized_client');
      });

      it('a client created with no permissions gets no token (never an empty-scope one)', async () => {
        const r = await admin.create({ name: 'empty', root_scope: 'tasking', permissions: [] });
        if (r.status === 201) {
          assert.deepEqual(r.json.permissions, []);
          const t = await tokenResponse(s.url, { client_id: r.json.client_id, client_secret: r.json.client_secret });
          assert.notEqual(t.status, 200, `an empty-permission client got a token: ${t.text}`);
          assert.ok(['unauthorized_client', 'invalid_scope'].includes(t.json.error), t.text);
        } else {
          assertProblem(r, r.status);
          assert.ok(r.status >= 400 && r.status < 500);
        }
      });
    });

    describe('invariant 2: isolation', () => {
      let other: TestOrg;
      let them: Mgmt;
      let victim: Cred;
      before(async () => {
        other = await createOrg(s, 'other');
        them = await Mgmt.as(s.url, other.creds.admin);
        ({ cred: victim } = await admin.createOk({ name: 'victim', root_scope: 'tasking' }));
      });

      it("the other organization's admin token is a normal management token for its own organization", async () => {
        const c = decodeJwt(them.accessToken);
        assert.equal(c.aud, s.config.managementAudience);
        assert.equal(c.scope, 'admin:read admin:write');
        assert.equal(c.org_id, other.id);
        assert.notEqual(c.org_id, decodeJwt(admin.accessToken).org_id);
      });

      it('listings show only the own organization’s clients', async () => {
        const { cred: theirs } = await them.createOk({ name: 'theirs', root_scope: 'read-only' });
        const mine = await ids(admin);
        const their = await ids(them);
        const demoIds = [...Object.values(s.creds).map((c) => c.client_id), victim.client_id];
        const otherIds = [...Object.values(other.creds).map((c) => c.client_id), theirs.client_id];
        for (const id of demoIds) {
          assert.ok(mine.includes(id));
          assert.ok(!their.includes(id), `the other organization lists ${id}`);
        }
        for (const id of otherIds) {
          assert.ok(their.includes(id));
          assert.ok(!mine.includes(id), `the demo organization lists ${id}`);
        }
        const text = (await them.list()).text;
        assert.ok(!text.includes(victim.client_id) && !text.includes('victim'));
      });

      /** Every Management-API verb on one client id, as the given caller. */
      const everyVerb = (m: Mgmt, id: string): [string, () => Promise<Res>][] => [
        ['GET', () => m.get(id)],
        ['PATCH name', () => m.patch(id, { name: 'pwned' })],
        ['PATCH permissions (within ceiling)', () => m.patch(id, { permissions: ['catalog:read'] })],
        ['PATCH permissions (above ceiling)', () => m.patch(id, { permissions: ['platform:admin'] })],
        ['PATCH enabled', () => m.patch(id, { enabled: false })],
        ['rotate-secret', () => m.rotate(id, { grace_period_seconds: 0 })],
        ['rotate-secret with grace', () => m.rotate(id, { grace_period_seconds: 3600 })],
        ['disable', () => m.disable(id)],
        ['enable', () => m.enable(id)],
        ['revoke-tokens', () => m.revokeTokens(id)],
        ['DELETE', () => m.del(id)],
      ];

      const sameAsMissing = async (m: Mgmt, id: string) => {
        const missing = everyVerb(m, randomClientId());
        const foreign = everyVerb(m, id);
        for (let i = 0; i < foreign.length; i++) {
          const [verb, call] = foreign[i]!;
          const a = await call();
          const b = await missing[i]![1]();
          assertProblem(a, 404, 'NotFound');
          assert.equal(a.status, b.status, `${verb}: ${a.status} vs ${b.status}`);
          assert.deepEqual(a.json, b.json, `${verb}: the body tells a foreign client from a missing one`);
          assert.equal(a.headers.get('content-type'), b.headers.get('content-type'), verb);
          assert.equal(a.headers.get('www-authenticate'), b.headers.get('www-authenticate'), verb);
        }
      };

      it("another organization's admin gets exactly the nonexistent-id answer for every verb on our clients", async () => {
        const t = await token(s.url, victim);
        assert.equal(await collectionsStatus(s.url, t), 200);
        const before = await admin.get(victim.client_id);

        await sameAsMissing(them, victim.client_id);

        // And nothing happened to the client: same record, same secret, live token still good.
        const afterwards = await admin.get(victim.client_id);
        assert.deepEqual(afterwards.json, before.json);
        assert.equal((await tokenResponse(s.url, victim)).status, 200, "the victim's secret no longer works");
        assert.equal(await collectionsStatus(s.url, t), 200, "the victim's live token was revoked by another organization");
      });

      it("another organization's admin gets the nonexistent-id answer on our root credentials too", async () => {
        for (const root of Object.values(s.creds)) await sameAsMissing(them, root.client_id);
        for (const root of Object.values(s.creds)) assert.equal((await tokenResponse(s.url, root)).status, 200);
      });

      it("and the other way round: our admin cannot reach the other organization's clients", async () => {
        const { cred: theirs } = await them.createOk({ name: 'their own', root_scope: 'tasking' });
        await sameAsMissing(admin, theirs.client_id);
        await sameAsMissing(admin, other.creds.admin.client_id);
        assert.equal((await tokenResponse(s.url, theirs)).status, 200);
        assert.equal((await them.get(theirs.client_id)).json.enabled, true);
      });

      it('a client created by the other organization lands in the other organization, whatever the body says', async () => {
        const r = await them.create({ name: 'smuggled', root_scope: 'read-only', org_id: decodeJwt(admin.accessToken).org_id });
        assertProblem(r, 400);
        const { cred } = await them.createOk({ name: 'theirs again', root_scope: 'read-only' });
        assert.equal(decodeJwt(await token(s.url, cred)).org_id, other.id);
        assert.ok(!(await ids(admin)).includes(cred.client_id));
      });
    });

    describe('invariant 3: no self-escalation', () => {
      it('the admin root credential cannot change its own permissions, disable or delete itself', async () => {
        const me = s.creds.admin.client_id;
        const before = await admin.get(me);
        assert.equal(before.json.root_credential, true);
        for (const r of [
          await admin.patch(me, { permissions: ['admin:read'] }),
          await admin.patch(me, { permissions: ['admin:read', 'admin:write'] }),
          await admin.patch(me, { enabled: false }),
          await admin.disable(me),
          await admin.del(me),
        ]) {
          assertProblem(r, 403, 'Forbidden');
        }
        const afterwards = await admin.get(me);
        assert.deepEqual(afterwards.json.permissions, ['admin:read', 'admin:write']);
        assert.equal(afterwards.json.enabled, true);
        assert.equal((await admin.list()).status, 200, 'the admin token stopped working');
        assert.equal((await tokenResponse(s.url, s.creds.admin)).status, 200);
      });

      it('admin permissions are delegated, never minted: a write-only admin cannot create or widen a read+write client', async () => {
        const { cred } = await admin.createOk({ name: 'write-only admin', root_scope: 'admin', permissions: ['admin:write'] });
        const writer = await Mgmt.as(s.url, cred);
        const before = await ids(admin);
        assertProblem(await writer.create({ name: 'ladder', root_scope: 'admin' }), 403, 'Forbidden');
        assertProblem(
          await writer.create({ name: 'ladder', root_scope: 'admin', permissions: ['admin:read', 'admin:write'] }),
          403,
          'Forbidden',
        );
        assert.deepEqual(await ids(admin), before, 'nothing was created');
        // What it holds it may delegate; and it may still manage data-API clients.
        const w = await writer.create({ name: 'writer child', root_scope: 'admin', permissions: ['admin:write'] });
        assert.equal(w.status, 201, w.text);
        assertProblem(await writer.patch(w.json.client_id, { permissions: ['admin:read', 'admin:write'] }), 403, 'Forbidden');
        assert.equal((await writer.create({ name: 'reader', root_scope: 'read-only' })).status, 201);
      });

      it('a child admin client cannot rename or revoke the tokens of root credentials', async () => {
        const { cred } = await admin.createOk({ name: 'child admin rw', root_scope: 'admin' });
        const child = await Mgmt.as(s.url, cred);
        const rootId = s.creds.admin.client_id;
        const rootToken = await token(s.url, s.creds.admin);
        assertProblem(await child.patch(rootId, { name: 'pwned' }), 403, 'Forbidden');
        assertProblem(await child.revokeTokens(rootId), 403, 'Forbidden');
        assertProblem(await child.revokeTokens(s.creds['read-only'].client_id), 403, 'Forbidden');
        assert.notEqual((await admin.get(rootId)).json.name, 'pwned');
        await new Promise((r) => setTimeout(r, 400)); // past one sync interval
        assert.equal((await new Mgmt(s.url, rootToken).list()).status, 200, "the root credential's token still works");
      });

      it('a child admin client cannot change its own permissions, disable or delete itself', async () => {
        const { cred } = await admin.createOk({ name: 'child admin', root_scope: 'admin' });
        const child = await Mgmt.as(s.url, cred);
        const me = cred.client_id;
        for (const r of [
          await child.patch(me, { permissions: ['admin:read', 'admin:write'] }),
          await child.patch(me, { permissions: ['admin:read'] }),
          await child.patch(me, { permissions: [] }),
          await child.patch(me, { enabled: false }),
          await child.patch(me, { name: 'still me', permissions: ['admin:write'] }),
          await child.disable(me),
          await child.del(me),
        ]) {
          assertProblem(r, 403, 'Forbidden');
        }
        const got = await admin.get(me);
        assert.equal(got.json.enabled, true);
        assert.equal(got.json.name, 'child admin');
        assert.deepEqual(got.json.permissions, ['admin:read', 'admin:write']);
        assert.equal((await child.list()).status, 200);
      });

      it('a child admin client holding admin:write only cannot grant itself admin:read', async () => {
        const { cred } = await admin.createOk({ name: 'writer only', root_scope: 'admin', permissions: ['admin:write'] });
        const child = await Mgmt.as(s.url, cred);
        assert.equal(decodeJwt(child.accessToken).scope, 'admin:write');
        assertProblem(await child.patch(cred.client_id, { permissions: ['admin:read', 'admin:write'] }), 403);
        assert.deepEqual((await admin.get(cred.client_id)).json.permissions, ['admin:write']);
        const r = await child.list();
        assertProblem(r, 403, 'insufficient_scope');
      });

      it('a child admin client with admin:read only can read but every write is 403 insufficient_scope naming admin:write', async () => {
        const { cred } = await admin.createOk({ name: 'reader', root_scope: 'admin', permissions: ['admin:read'] });
        const { cred: target } = await admin.createOk({ name: 'reader target', root_scope: 'read-only' });
        const reader = await Mgmt.as(s.url, cred);
        assert.equal((await reader.list()).status, 200);
        assert.equal((await reader.get(target.client_id)).status, 200);
        assert.equal((await reader.audit()).status, 200);
        const before = await ids(admin);
        const writes: [string, Promise<Res>][] = [
          ['create', reader.create({ name: 'by reader', root_scope: 'admin' })],
          ['create read-only', reader.create({ name: 'by reader', root_scope: 'read-only' })],
          ['patch', reader.patch(target.client_id, { name: 'by reader' })],
          ['patch self', reader.patch(cred.client_id, { permissions: ['admin:read', 'admin:write'] })],
          ['rotate', reader.rotate(target.client_id, { grace_period_seconds: 0 })],
          ['rotate self', reader.rotate(cred.client_id, { grace_period_seconds: 0 })],
          ['disable', reader.disable(target.client_id)],
          ['enable', reader.enable(target.client_id)],
          ['revoke', reader.revokeTokens(target.client_id)],
          ['delete', reader.del(target.client_id)],
        ];
        for (const [what, p] of writes) {
          const r = await p;
          assertProblem(r, 403, 'insufficient_scope');
          const challenge = r.headers.get('www-authenticate') ?? '';
          assert.match(challenge, /^Bearer /, what);
          assert.match(challenge, /error="insufficient_scope"/, what);
          assert.match(challenge, /scope="admin:write"/, `${what}: ${challenge}`);
        }
        assert.deepEqual(await ids(admin), before);
        const got = await admin.get(target.client_id);
        assert.equal(got.json.name, 'reader target');
        assert.equal(got.json.enabled, true);
        assert.equal((await tokenResponse(s.url, target)).status, 200);
        assert.deepEqual((await admin.get(cred.client_id)).json.permissions, ['admin:read']);
      });

      it("a child admin client with admin:write cannot rotate, disable, delete or re-permission the organization's root credentials", async () => {
        const { cred } = await admin.createOk({ name: 'ambitious child', root_scope: 'admin' });
        const child = await Mgmt.as(s.url, cred);
        for (const [scope, root] of Object.entries(s.creds)) {
          const id = root.client_id;
          const ceiling = (await admin.get(id)).json.permissions as string[];
          for (const [what, r] of [
            ['rotate', await child.rotate(id, { grace_period_seconds: 0 })],
            ['rotate with grace', await child.rotate(id, { grace_period_seconds: 3600 })],
            ['disable', await child.disable(id)],
            ['PATCH enabled', await child.patch(id, { enabled: false })],
            ['delete', await child.del(id)],
            ['PATCH permissions (narrower)', await child.patch(id, { permissions: ceiling.slice(0, 1) })],
            ['PATCH permissions (same)', await child.patch(id, { permissions: ceiling })],
          ] as [string, Res][]) {
            assertProblem(r, 403, 'Forbidden');
            assert.ok(!('client_secret' in (r.json ?? {})), `${scope} ${what} returned a secret`);
          }
          const got = await admin.get(id);
          assert.equal(got.json.enabled, true, `${scope} root credential disabled`);
          assert.deepEqual(got.json.permissions, ceiling, `${scope} root credential re-permissioned`);
          assert.equal(got.json.secrets.length, 1, `${scope} root credential got a second secret`);
          assert.equal((await tokenResponse(s.url, root)).status, 200, `${scope} root secret no longer works`);
        }
      });

      it('only the admin root credential rotates root secrets; nobody disables or deletes root credentials through the API', async () => {
        // A separate organization, so the demo credentials other tests use stay as they are.
        const org = await createOrg(s, 'rotating');
        const root = await Mgmt.as(s.url, org.creds.admin);
        const ro = org.creds['read-only'];
        const r = await root.rotate(ro.client_id, { grace_period_seconds: 0 });
        assert.equal(r.status, 200, r.text);
        assertOAuthError(await tokenResponse(s.url, ro), 401, 'invalid_client');
        assert.equal((await tokenResponse(s.url, { client_id: ro.client_id, client_secret: r.json.client_secret })).status, 200);
        for (const scope of ['tasking', 'read-only'] as const) {
          const id = org.creds[scope].client_id;
          assertProblem(await root.disable(id), 403, 'Forbidden');
          assertProblem(await root.del(id), 403, 'Forbidden');
          assertProblem(await root.patch(id, { permissions: ['catalog:read'] }), 403, 'Forbidden');
          assert.equal((await root.get(id)).json.enabled, true);
        }
      });

      it('Data API tokens are refused by /admin routes with 401, and management tokens by /collections', async () => {
        for (const scope of ['tasking', 'read-only'] as const) {
          const dataToken = await token(s.url, s.creds[scope]);
          assert.equal(decodeJwt(dataToken).aud, s.config.dataAudience);
          for (const [method, path] of [
            ['GET', '/admin/clients'],
            ['POST', '/admin/clients'],
            ['GET', `/admin/clients/${s.creds[scope].client_id}`],
            ['POST', `/admin/clients/${s.creds[scope].client_id}/rotate-secret`],
            ['DELETE', `/admin/clients/${s.creds[scope].client_id}`],
            ['GET', '/admin/audit'],
          ]) {
            const body =
              method === 'POST' ? JSON.stringify(path === '/admin/clients' ? { name: 'x', root_scope: 'tasking' } : {}) : undefined;
            const r = await request(`${s.url}${path}`, {
              method,
              headers: { ...bearer(dataToken), ...(body ? { 'content-type': 'application/json' } : {}) },
              body,
            });
            assertProblem(r, 401);
            assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/, `${method} ${path}`);
          }
        }
        // A management token at the Data API.
        const r = await request(`${s.url}/collections`, { headers: bearer(admin.accessToken) });
        assert.equal(r.status, 401);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
        // A child admin client's token too.
        const { cred } = await admin.createOk({ name: 'child at data api', root_scope: 'admin' });
        assert.equal(await collectionsStatus(s.url, await token(s.url, cred)), 401);
      });

      it('no token, a malformed token or a forged one is 401 at /admin', async () => {
        const none = await request(`${s.url}/admin/clients`);
        assertProblem(none, 401);
        assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
        assertProblem(await request(`${s.url}/admin/clients`, { headers: bearer('not-a-jwt') }), 401);
        // The admin token with its payload swapped for one claiming another organization.
        const [h, p, sig] = admin.accessToken.split('.') as [string, string, string];
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
        const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, org_id: 'org_forged' })).toString('base64url')}.${sig}`;
        assertProblem(await request(`${s.url}/admin/clients`, { headers: bearer(forged) }), 401);
        // The token in the query string is not accepted.
        const q = await request(`${s.url}/admin/clients?access_token=${admin.accessToken}`);
        assert.ok(q.status === 400 || q.status === 401, `${q.status}`);
        assert.ok(!q.text.includes(admin.accessToken));
      });

      it('the read-only and tasking root credentials cannot get a management token', async () => {
        for (const scope of ['tasking', 'read-only'] as const) {
          const c = s.creds[scope];
          assertOAuthError(await tokenResponse(s.url, c, `&audience=${enc(s.config.managementAudience)}`), 400, 'unauthorized_client');
          assertOAuthError(await tokenResponse(s.url, c, `&resource=${enc(s.config.managementAudience)}`), 400, 'unauthorized_client');
          assertOAuthError(
            await tokenResponse(s.url, c, `&audience=${enc(s.config.managementAudience)}&scope=${enc('admin:read admin:write')}`),
            400,
            'unauthorized_client',
          );
          // Without an audience they get the Data API, and admin scope there is nothing.
          assertOAuthError(await tokenResponse(s.url, c, `&scope=${enc('admin:read admin:write')}`), 400, 'invalid_scope');
        }
        // Nor can a client created under them.
        const { cred } = await admin.createOk({ name: 'tasking child', root_scope: 'tasking' });
        assertOAuthError(await tokenResponse(s.url, cred, `&audience=${enc(s.config.managementAudience)}`), 400, 'unauthorized_client');
      });
    });
  });
}
