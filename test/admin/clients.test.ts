/**
 * Management API, API clients: the whole life cycle over HTTP on a real server, on each store —
 * create, list, get, PATCH, rotate-secret (with and without grace), disable, enable, revoke-tokens,
 * delete — and request validation. Each test makes its own clients, so the order does not matter.
 * Invariants 1–3 (ceiling, isolation, self-escalation) are in access.test.ts; the audit log in audit.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { SecretHasher } from '../../src/auth/secrets.js';
import { bearer, request, sleep, type Res } from '../helpers/http.js';
import {
  Mgmt,
  assertClientProblem,
  assertOAuthError,
  assertProblem,
  atSecondStart,
  collectionsStatus,
  randomClientId,
  startPeer,
  token,
  tokenResponse,
  waitFor,
  type Cred,
} from '../helpers/management.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';

const SECRET_SHAPE = /^sks_[0-9A-Za-z]{50}$/;

for (const store of await stores()) {
  describe(`Management API: clients (${store})`, () => {
    let s: TestServer;
    let admin: Mgmt;
    let hasher: SecretHasher;
    before(async () => {
      s = await startServer({ store });
      admin = await Mgmt.as(s.url, s.creds.admin);
      hasher = s.skyport.hasher;
    });
    after(() => s.close());

    /** Neither the secret nor its stored hash may appear in any of these responses. */
    const assertNoSecret = (secret: string, responses: Res[]) => {
      const hash = hasher.hash(secret);
      for (const r of responses) {
        assert.ok(!r.text.includes(secret), `the secret appears in a later response: ${r.text.slice(0, 300)}`);
        assert.ok(!r.text.includes(hash), `the secret's hash appears in a response: ${r.text.slice(0, 300)}`);
      }
    };

    it('the admin root credential gets a Management API token without asking for an audience', async () => {
      const r = await tokenResponse(s.url, s.creds.admin);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.scope, 'admin:read admin:write');
      const c = decodeJwt(r.json.access_token);
      assert.equal(c.aud, s.config.managementAudience);
      assert.equal(c.aud, `${s.url}/admin/`);
      assert.equal(c.root_scope, 'admin');
    });

    it('create: 201, Location of the new client, no-store, the secret once; the secret works', async () => {
      const r = await admin.create({ name: 'ingest pipeline', root_scope: 'tasking', permissions: ['tasking:read', 'catalog:read'] });
      assert.equal(r.status, 201, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const id = r.json.client_id as string;
      const secret = r.json.client_secret as string;
      assert.match(id, /^[0-9A-Za-z]{32}$/);
      assert.match(secret, SECRET_SHAPE);
      assert.equal(r.headers.get('location'), `/admin/clients/${id}`);
      assert.equal(r.json.name, 'ingest pipeline');
      assert.equal(r.json.root_scope, 'tasking');
      assert.deepEqual(r.json.permissions, ['catalog:read', 'tasking:read']); // canonical order
      assert.equal(r.json.enabled, true);
      assert.equal(r.json.root_credential, false);
      assert.equal(r.json.created_by, s.creds.admin.client_id);
      assert.equal(r.json.secrets.length, 1);
      assert.equal(r.json.secrets[0].hint, `…${secret.slice(-4)}`);
      assert.ok(!r.text.includes(hasher.hash(secret)), 'the create response carries the hash');

      // The Location resolves to the same client.
      const loc = await request(`${s.url}${r.headers.get('location')}`, { headers: bearer(admin.accessToken) });
      assert.equal(loc.status, 200);
      assert.equal(loc.json.client_id, id);

      // The secret works at the token endpoint, with exactly the assigned permissions.
      const t = await tokenResponse(s.url, { client_id: id, client_secret: secret });
      assert.equal(t.status, 200, t.text);
      assert.equal(t.json.scope, 'catalog:read tasking:read');
      assert.equal(decodeJwt(t.json.access_token).org_id, decodeJwt(admin.accessToken).org_id);

      // A second client gets another id and another secret.
      const r2 = await admin.create({ name: 'ingest pipeline', root_scope: 'tasking' });
      assert.equal(r2.status, 201);
      assert.notEqual(r2.json.client_id, id);
      assert.notEqual(r2.json.client_secret, secret);
      assert.deepEqual(r2.json.permissions, ['catalog:read', 'assets:read', 'tasking:read', 'tasking:order']); // default: the ceiling
      assertNoSecret(secret, [loc, t, r2]);
    });

    it('list and get show the client but never a secret or a hash', async () => {
      const { cred } = await admin.createOk({ name: 'listed', root_scope: 'read-only' });
      const list = await admin.list();
      assert.equal(list.status, 200);
      const ids = list.json.clients.map((c: any) => c.client_id);
      assert.ok(ids.includes(cred.client_id));
      for (const root of Object.values(s.creds)) assert.ok(ids.includes(root.client_id), 'the root credentials are listed');
      for (const c of list.json.clients) {
        assert.deepEqual(Object.keys(c).sort(), [
          'client_id',
          'created_at',
          'created_by',
          'enabled',
          'name',
          'permissions',
          'root_credential',
          'root_scope',
          'secrets',
          'updated_at',
        ]);
        for (const sec of c.secrets) assert.deepEqual(Object.keys(sec).sort(), ['created_at', 'expires_at', 'hint']);
      }
      const got = await admin.get(cred.client_id);
      assert.equal(got.status, 200);
      assert.equal(got.json.client_id, cred.client_id);
      assert.equal(got.json.name, 'listed');
      assert.ok(!('client_secret' in got.json));
      assertNoSecret(cred.client_secret, [list, got]);
      // Nor the root credentials' secrets.
      for (const root of Object.values(s.creds)) assertNoSecret(root.client_secret, [list, got]);
    });

    it('PATCH changes the name and the permissions; new tokens follow the permissions', async () => {
      const { cred, view } = await admin.createOk({ name: 'before', root_scope: 'tasking' });
      await sleep(5);
      const n = await admin.patch(cred.client_id, { name: 'after' });
      assert.equal(n.status, 200, n.text);
      assert.equal(n.json.name, 'after');
      assert.ok(Date.parse(n.json.updated_at) > Date.parse(view.updated_at), 'updated_at moves');
      assert.equal((await admin.get(cred.client_id)).json.name, 'after');

      const narrow = await admin.patch(cred.client_id, { permissions: ['tasking:read'] });
      assert.equal(narrow.status, 200, narrow.text);
      assert.deepEqual(narrow.json.permissions, ['tasking:read']);
      assert.deepEqual((await admin.get(cred.client_id)).json.permissions, ['tasking:read']);
      assert.equal((await tokenResponse(s.url, cred)).json.scope, 'tasking:read');

      const widen = await admin.patch(cred.client_id, { permissions: ['tasking:order', 'catalog:read'] });
      assert.equal(widen.status, 200, widen.text);
      assert.deepEqual(widen.json.permissions, ['catalog:read', 'tasking:order']);
      assert.equal((await tokenResponse(s.url, cred)).json.scope, 'catalog:read tasking:order');

      const both = await admin.patch(cred.client_id, { name: 'both', permissions: ['catalog:read'] });
      assert.equal(both.status, 200);
      assert.equal(both.json.name, 'both');
      assert.deepEqual(both.json.permissions, ['catalog:read']);
      assertNoSecret(cred.client_secret, [n, narrow, widen, both]);
    });

    it('narrowing permissions revokes live tokens; a token issued after the change works with the narrower scope', async () => {
      await atSecondStart();
      const { cred } = await admin.createOk({ name: 'narrowed', root_scope: 'read-only' });
      const t1 = await token(s.url, cred);
      assert.equal(await collectionsStatus(s.url, t1), 200);
      const p = await admin.patch(cred.client_id, { permissions: ['catalog:read'] });
      assert.equal(p.status, 200, p.text);
      // The old token still claims assets:read and tasking:read: it must stop working.
      assert.equal(
        await waitFor(
          () => collectionsStatus(s.url, t1),
          (st) => st === 401,
        ),
        401,
      );
      // A token issued after the change (the same second) must work with what is left.
      const t2 = await tokenResponse(s.url, cred);
      assert.equal(t2.json.scope, 'catalog:read');
      assert.equal(await collectionsStatus(s.url, t2.json.access_token), 200, 'a token issued after the narrowing is refused');
    });

    it('rotate-secret with grace_period_seconds=0: the new secret works and the old one fails at once', async () => {
      const { cred } = await admin.createOk({ name: 'rotate now', root_scope: 'read-only' });
      const r = await admin.rotate(cred.client_id, { grace_period_seconds: 0 });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.equal(r.json.client_id, cred.client_id);
      assert.match(r.json.client_secret, SECRET_SHAPE);
      assert.notEqual(r.json.client_secret, cred.client_secret);
      assert.equal(r.json.previous_secret_expires_at, null);
      assertOAuthError(await tokenResponse(s.url, cred), 401, 'invalid_client');
      const fresh = { client_id: cred.client_id, client_secret: r.json.client_secret as string };
      assert.equal((await tokenResponse(s.url, fresh)).status, 200);
      const got = await admin.get(cred.client_id);
      assert.equal(got.json.secrets.length, 1);
      assert.equal(got.json.secrets[0].hint, `…${fresh.client_secret.slice(-4)}`);
      assertNoSecret(fresh.client_secret, [got, await admin.list()]);
      assertNoSecret(cred.client_secret, [r, got]);
    });

    it('rotate-secret with a grace period: the old secret works during it and fails after it', async () => {
      const { cred } = await admin.createOk({ name: 'rotate with grace', root_scope: 'tasking' });
      const before = Date.now();
      const r = await admin.rotate(cred.client_id, { grace_period_seconds: 2 });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const until = Date.parse(r.json.previous_secret_expires_at);
      assert.ok(
        until >= before + 2000 - 50 && until <= Date.now() + 2000 + 50,
        `previous_secret_expires_at ${r.json.previous_secret_expires_at}`,
      );
      const fresh = { client_id: cred.client_id, client_secret: r.json.client_secret as string };

      // During the grace period both secrets work, and the view shows two with the old one expiring.
      assert.equal((await tokenResponse(s.url, cred)).status, 200, 'the old secret fails during its grace period');
      assert.equal((await tokenResponse(s.url, fresh)).status, 200);
      const during = await admin.get(cred.client_id);
      assert.equal(during.json.secrets.length, 2);
      const old = during.json.secrets.find((x: any) => x.hint === `…${cred.client_secret.slice(-4)}`);
      assert.ok(old, 'the old secret is listed during the grace period');
      assert.equal(Date.parse(old.expires_at), until);

      await sleep(Math.max(0, until - Date.now()) + 300);
      assertOAuthError(await tokenResponse(s.url, cred), 401, 'invalid_client');
      assert.equal((await tokenResponse(s.url, fresh)).status, 200);
      const afterwards = await admin.get(cred.client_id);
      assert.equal(afterwards.json.secrets.length, 1);
      assertNoSecret(cred.client_secret, [r, during, afterwards]);
      assertNoSecret(fresh.client_secret, [during, afterwards]);
    });

    it('a second rotation during a grace period retires the oldest secret at once: never three secrets', async () => {
      const { cred: a } = await admin.createOk({ name: 'double rotation', root_scope: 'read-only' });
      const r1 = await admin.rotate(a.client_id, { grace_period_seconds: 600 });
      assert.equal(r1.status, 200);
      const b = { client_id: a.client_id, client_secret: r1.json.client_secret as string };
      const r2 = await admin.rotate(a.client_id, { grace_period_seconds: 600 });
      assert.equal(r2.status, 200);
      const c = { client_id: a.client_id, client_secret: r2.json.client_secret as string };
      assertOAuthError(await tokenResponse(s.url, a), 401, 'invalid_client');
      assert.equal((await tokenResponse(s.url, b)).status, 200);
      assert.equal((await tokenResponse(s.url, c)).status, 200);
      assert.equal((await admin.get(a.client_id)).json.secrets.length, 2);
    });

    it('rotate-secret needs no body: without one it rotates with no grace period', async () => {
      const { cred } = await admin.createOk({ name: 'rotate bare', root_scope: 'read-only' });
      const r = await request(`${s.url}/admin/clients/${cred.client_id}/rotate-secret`, {
        method: 'POST',
        headers: bearer(admin.accessToken),
      });
      assert.equal(r.status, 200, `POST rotate-secret without a body: ${r.status} ${r.text}`);
      assert.equal(r.json.previous_secret_expires_at, null);
      assertOAuthError(await tokenResponse(s.url, cred), 401, 'invalid_client');
      assert.equal((await tokenResponse(s.url, { client_id: cred.client_id, client_secret: r.json.client_secret })).status, 200);
    });

    it('rotate-secret with an empty JSON object rotates with no grace period', async () => {
      const { cred } = await admin.createOk({ name: 'rotate {}', root_scope: 'read-only' });
      const r = await admin.rotate(cred.client_id, {});
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.previous_secret_expires_at, null);
      assertOAuthError(await tokenResponse(s.url, cred), 401, 'invalid_client');
    });

    it('disable: new tokens are refused at once and a token issued before is refused by /collections', async () => {
      const { cred } = await admin.createOk({ name: 'to disable', root_scope: 'tasking' });
      const t1 = await token(s.url, cred);
      assert.equal(await collectionsStatus(s.url, t1), 200);
      const d = await admin.disable(cred.client_id);
      assert.equal(d.status, 200, d.text);
      assert.equal(d.json.enabled, false);
      assert.equal((await admin.get(cred.client_id)).json.enabled, false);
      assertOAuthError(await tokenResponse(s.url, cred), 401, 'invalid_client');
      const st = await waitFor(
        () => collectionsStatus(s.url, t1),
        (x) => x === 401,
      );
      assert.equal(st, 401, 'a token issued before the disable still works');
      const r = await request(`${s.url}/collections`, { headers: bearer(t1) });
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
      // Disabling twice is harmless.
      assert.equal((await admin.disable(cred.client_id)).status, 200);
      assertNoSecret(cred.client_secret, [d, r]);
    });

    it('PATCH {"enabled": false} disables like /disable, and {"enabled": true} enables', async () => {
      const { cred } = await admin.createOk({ name: 'patch enabled', root_scope: 'read-only' });
      const t1 = await token(s.url, cred);
      const p = await admin.patch(cred.client_id, { enabled: false });
      assert.equal(p.status, 200, p.text);
      assert.equal(p.json.enabled, false);
      assertOAuthError(await tokenResponse(s.url, cred), 401, 'invalid_client');
      assert.equal(
        await waitFor(
          () => collectionsStatus(s.url, t1),
          (x) => x === 401,
        ),
        401,
      );
      const e = await admin.patch(cred.client_id, { enabled: true });
      assert.equal(e.status, 200, e.text);
      assert.equal(e.json.enabled, true);
      assert.equal((await tokenResponse(s.url, cred)).status, 200);
    });

    it('enable: the client gets working tokens again at once; tokens from before the disable stay dead', async () => {
      await atSecondStart();
      const { cred } = await admin.createOk({ name: 'to re-enable', root_scope: 'read-only' });
      const t1 = await token(s.url, cred);
      assert.equal((await admin.disable(cred.client_id)).status, 200);
      assertOAuthError(await tokenResponse(s.url, cred), 401, 'invalid_client');
      const e = await admin.enable(cred.client_id);
      assert.equal(e.status, 200, e.text);
      assert.equal(e.json.enabled, true);
      assert.equal((await admin.get(cred.client_id)).json.enabled, true);
      const t2 = await tokenResponse(s.url, cred);
      assert.equal(t2.status, 200, t2.text);
      assert.equal(await collectionsStatus(s.url, t1), 401, 'a token from before the disable works again after enable');
      assert.equal(await collectionsStatus(s.url, t2.json.access_token), 200, 'a token issued after enable is refused');
    });

    it('revoke-tokens: live tokens are refused, the client stays enabled, and tokens issued afterwards work', async () => {
      await atSecondStart();
      const { cred } = await admin.createOk({ name: 'revoke my tokens', root_scope: 'tasking' });
      const t1 = await token(s.url, cred);
      assert.equal(await collectionsStatus(s.url, t1), 200);
      const r = await admin.revokeTokens(cred.client_id);
      assert.equal(r.status, 204, r.text);
      assert.equal(r.text, '');
      assert.equal(
        await waitFor(
          () => collectionsStatus(s.url, t1),
          (x) => x === 401,
        ),
        401,
        'a revoked token still works',
      );
      assert.equal((await admin.get(cred.client_id)).json.enabled, true);
      const t2 = await tokenResponse(s.url, cred);
      assert.equal(t2.status, 200);
      assert.equal(await collectionsStatus(s.url, t2.json.access_token), 200, 'a token issued after revoke-tokens is refused');
    });

    it('delete: 204; then GET is 404, token requests are invalid_client, live tokens are refused', async () => {
      const { cred } = await admin.createOk({ name: 'to delete', root_scope: 'tasking' });
      const t1 = await token(s.url, cred);
      assert.equal(await collectionsStatus(s.url, t1), 200);
      const d = await admin.del(cred.client_id);
      assert.equal(d.status, 204, d.text);
      assertProblem(await admin.get(cred.client_id), 404, 'NotFound');
      assertOAuthError(await tokenResponse(s.url, cred), 401, 'invalid_client');
      assert.equal(
        await waitFor(
          () => collectionsStatus(s.url, t1),
          (x) => x === 401,
        ),
        401,
        'a token of a deleted client still works',
      );
      const list = await admin.list();
      assert.ok(!list.json.clients.some((c: any) => c.client_id === cred.client_id));
      // Everything else on it is 404 too.
      assertProblem(await admin.del(cred.client_id), 404, 'NotFound');
      assertProblem(await admin.patch(cred.client_id, { name: 'zombie' }), 404, 'NotFound');
      assertProblem(await admin.rotate(cred.client_id), 404, 'NotFound');
      assertProblem(await admin.enable(cred.client_id), 404, 'NotFound');
      assertProblem(await admin.revokeTokens(cred.client_id), 404, 'NotFound');
      assertNoSecret(cred.client_secret, [d, list]);
    });

    it('a nonexistent client id is 404 problem+json on every route', async () => {
      const id = randomClientId();
      for (const r of [
        await admin.get(id),
        await admin.patch(id, { name: 'x' }),
        await admin.rotate(id, { grace_period_seconds: 5 }),
        await admin.disable(id),
        await admin.enable(id),
        await admin.revokeTokens(id),
        await admin.del(id),
      ]) {
        assertProblem(r, 404, 'NotFound');
      }
    });

    describe('with a second instance on the same store', () => {
      let peer: TestServer;
      before(async () => {
        peer = await startPeer(s);
      });
      after(() => peer.close());

      const viaPeer = async (cred: Cred) => {
        const t = await token(s.url, cred);
        assert.equal(await collectionsStatus(peer.url, t), 200, 'the peer accepts the token'); // and caches it
        return t;
      };

      it('disable on one instance: the other refuses new tokens at once and live ones within the sync bound', async () => {
        const { cred } = await admin.createOk({ name: 'disable across instances', root_scope: 'read-only' });
        const t = await viaPeer(cred);
        const started = Date.now();
        assert.equal((await admin.disable(cred.client_id)).status, 200);
        assertOAuthError(await tokenResponse(peer.url, cred), 401, 'invalid_client');
        const st = await waitFor(
          () => collectionsStatus(peer.url, t),
          (x) => x === 401,
          2000,
          25,
        );
        assert.equal(st, 401, `the peer still accepted the token ${Date.now() - started} ms after the disable`);
      });

      it('revoke-tokens on one instance is honoured by the other within the sync bound', async () => {
        const { cred } = await admin.createOk({ name: 'revoke across instances', root_scope: 'tasking' });
        const t = await viaPeer(cred);
        assert.equal((await admin.revokeTokens(cred.client_id)).status, 204);
        assert.equal(
          await waitFor(
            () => collectionsStatus(peer.url, t),
            (x) => x === 401,
            2000,
            25,
          ),
          401,
        );
      });

      it('a token the other instance issues right after revoke-tokens (same second) works on both instances', async () => {
        const { cred } = await admin.createOk({ name: 'revoke then reissue across instances', root_scope: 'read-only' });
        await atSecondStart();
        const t1 = await viaPeer(cred);
        assert.equal((await admin.revokeTokens(cred.client_id)).status, 204);
        const t2 = await tokenResponse(peer.url, cred);
        assert.equal(t2.status, 200, t2.text);
        await new Promise((r) => setTimeout(r, 3 * s.config.syncInterval)); // both instances have synced the revocation
        assert.equal(await collectionsStatus(peer.url, t1), 401, 'the revoked token still works on the peer');
        assert.equal(await collectionsStatus(s.url, t1), 401, 'the revoked token still works');
        assert.equal(
          await collectionsStatus(peer.url, t2.json.access_token),
          200,
          'a token issued after the revocation is refused by the peer',
        );
        assert.equal(await collectionsStatus(s.url, t2.json.access_token), 200, 'a token issued after the revocation is refused');
      });

      it('delete on one instance is honoured by the other within the sync bound', async () => {
        const { cred } = await admin.createOk({ name: 'delete across instances', root_scope: 'tasking' });
        const t = await viaPeer(cred);
        assert.equal((await admin.del(cred.client_id)).status, 204);
        assertOAuthError(await tokenResponse(peer.url, cred), 401, 'invalid_client');
        assert.equal(
          await waitFor(
            () => collectionsStatus(peer.url, t),
            (x) => x === 401,
            2000,
            25,
          ),
          401,
        );
        const viaPeerApi = new Mgmt(peer.url, admin.accessToken);
        assertProblem(await viaPeerApi.get(cred.client_id), 404, 'NotFound');
      });
    });

    describe('validation: 4xx problem+json, never 5xx, and nothing is created', () => {
      const count = async () => (await admin.list()).json.clients.length as number;

      const refusedCreate = async (body: unknown, status = 400) => {
        const n = await count();
        const r = await admin.create(body);
        assertProblem(r, status);
        assert.equal(await count(), n, `a client was created by ${JSON.stringify(body)}`);
        return r;
      };

      it('unknown fields are refused (org_id, client_secret, root_credential, enabled, client_id)', async () => {
        const base = { name: 'sneaky', root_scope: 'read-only' };
        await refusedCreate({ ...base, org_id: 'org_someoneelse' });
        await refusedCreate({ ...base, client_secret: 'sks_chosen_by_the_caller' });
        await refusedCreate({ ...base, root_credential: true });
        await refusedCreate({ ...base, is_root: true });
        await refusedCreate({ ...base, enabled: true });
        await refusedCreate({ ...base, client_id: 'my-own-id' });
        await refusedCreate({ ...base, scope: 'catalog:read' });
      });

      it('a missing or bad root_scope is refused', async () => {
        for (const root_scope of ['platform', 'Admin', 'read_only', 'readonly', '', null, 1, ['admin'], { admin: true }]) {
          await refusedCreate({ name: 'bad root', root_scope });
        }
        await refusedCreate({ name: 'no root' });
      });

      it('an empty, missing, non-string or over-long name is refused', async () => {
        for (const name of ['', 42, null, ['x'], 'x'.repeat(101)]) await refusedCreate({ name, root_scope: 'read-only' });
        await refusedCreate({ root_scope: 'read-only' });
      });

      it('unknown permission names, duplicates and malformed permission lists are refused with 400', async () => {
        for (const permissions of [
          ['catalog:reads'],
          ['CATALOG:READ'],
          ['catalog:read '],
          ['catalog:*'],
          ['*'],
          [''],
          ['catalog:read', 'catalog:read'],
          ['catalog:read', 'assets:read', 'catalog:read'],
          'catalog:read',
          [42],
          [null],
          null,
          { 0: 'catalog:read' },
          Array.from({ length: 17 }, () => 'catalog:read'),
        ]) {
          const r = await refusedCreate({ name: 'bad perms', root_scope: 'read-only', permissions }, 400);
          assert.equal(r.json.code, 'BadRequest', JSON.stringify(permissions));
        }
      });

      it('malformed JSON, non-object JSON, an empty body and a wrong content type are refused', async () => {
        const n = await count();
        for (const body of [
          '{"name": "x", "root_scope": "read-only"',
          '{name: "x"}',
          '[]',
          '"x"',
          'null',
          '42',
          'true',
          '{"name":"x","root_scope":"read-only"}}',
        ]) {
          assertClientProblem(await admin.create(body));
        }
        assertProblem(await admin.call('POST', '/admin/clients', ''), 400);
        assertClientProblem(
          await admin.call('POST', '/admin/clients', JSON.stringify({ name: 'x', root_scope: 'read-only' }), {
            'content-type': 'text/plain',
          }),
        );
        assertClientProblem(
          await admin.call('POST', '/admin/clients', 'name=x&root_scope=read-only', {
            'content-type': 'application/x-www-form-urlencoded',
          }),
        );
        assertClientProblem(await request(`${s.url}/admin/clients`, { method: 'POST', headers: bearer(admin.accessToken) }));
        assert.equal(await count(), n);
      });

      it('the JSON parse error does not echo the body', async () => {
        const marker = 'sks_this_looks_like_a_secret_1234567890';
        const r = await admin.create(`{"name": "${marker}", oops}`);
        assertClientProblem(r);
        assert.ok(!r.text.includes(marker));
      });

      it('an oversized body is 413 problem+json', async () => {
        assertProblem(await admin.create({ name: 'x', root_scope: 'read-only', pad: 'x'.repeat(2 * 1024 * 1024) }), 413);
      });

      it('PATCH: an empty object, unknown fields and wrong types are refused and change nothing', async () => {
        const { cred, view } = await admin.createOk({ name: 'patch target', root_scope: 'read-only', permissions: ['catalog:read'] });
        for (const body of [
          {},
          { root_scope: 'tasking' },
          { root_scope: 'admin', name: 'x' },
          { client_id: 'other' },
          { org_id: 'org_x' },
          { root_credential: true },
          { secrets: [] },
          { client_secret: 'sks_mine' },
          { name: '' },
          { name: null },
          { name: 'x'.repeat(101) },
          { enabled: 'false' },
          { enabled: 0 },
          { permissions: 'catalog:read' },
          { permissions: ['catalog:read', 'catalog:read'] },
          { permissions: ['catalog:reads'] },
          { permissions: null },
          [],
          'null',
          '{"name":',
        ]) {
          assertClientProblem(await admin.patch(cred.client_id, body));
        }
        const got = await admin.get(cred.client_id);
        assert.equal(got.json.name, view.name);
        assert.equal(got.json.root_scope, 'read-only');
        assert.deepEqual(got.json.permissions, ['catalog:read']);
        assert.equal(got.json.enabled, true);
        assert.equal((await tokenResponse(s.url, cred)).json.scope, 'catalog:read');
      });

      it('rotate-secret: bad grace periods and unknown fields are refused and rotate nothing', async () => {
        const { cred } = await admin.createOk({ name: 'rotate validation', root_scope: 'read-only' });
        for (const body of [
          { grace_period_seconds: -1 },
          { grace_period_seconds: 1.5 },
          { grace_period_seconds: '60' },
          { grace_period_seconds: null },
          { grace_period_seconds: 7 * 86400 + 1 },
          { grace_period_seconds: 1e308 },
          { grace: 60 },
          { client_secret: 'sks_mine' },
          [],
          '{"grace_period_seconds":',
        ]) {
          assertClientProblem(await admin.rotate(cred.client_id, body));
        }
        assert.equal((await tokenResponse(s.url, cred)).status, 200, 'the secret was rotated by a refused request');
        assert.equal((await admin.get(cred.client_id)).json.secrets.length, 1);
      });

      it('odd client ids in the path answer 4xx problem+json, never 5xx', async () => {
        for (const raw of ['%00', 'abc%00def', '%01', "'%20OR%20'1'%3D'1", '%22%3B--', '%25', '%C3%BC', 'x'.repeat(129), '%E2%80%AE']) {
          for (const [method, suffix, body] of [
            ['GET', '', undefined],
            ['PATCH', '', { name: 'x' }],
            ['DELETE', '', undefined],
            ['POST', '/rotate-secret', {}],
            ['POST', '/disable', undefined],
          ] as const) {
            const r = await admin.call(method, `/admin/clients/${raw}${suffix}`, body);
            assert.ok(r.status < 500, `${method} /admin/clients/${raw}${suffix} answered ${r.status} ${r.text}`);
            assertClientProblem(r);
          }
        }
      });

      it('URLs the router rejects (malformed percent-encoding, an over-long id) are 4xx problem+json too', async () => {
        assertProblem(await admin.call('GET', '/admin/clients/%FF'), 400);
        assertProblem(await admin.call('DELETE', '/admin/clients/%E0%A4%A'), 400);
        assertClientProblem(await admin.call('GET', `/admin/clients/${'x'.repeat(250)}`));
      });

      it('a name with a NUL character is refused or stored, never a 5xx (create and PATCH)', async () => {
        const r = await admin.create({ name: 'nul\u0000name', root_scope: 'read-only' });
        assert.ok(r.status < 500, `create: ${r.status} ${r.text}`);
        if (r.status === 201) assert.equal((await admin.get(r.json.client_id)).json.name, 'nul\u0000name');
        else assertClientProblem(r);
        const { cred } = await admin.createOk({ name: 'nul patch target', root_scope: 'read-only' });
        const p = await admin.patch(cred.client_id, { name: 'a\u0000b' });
        assert.ok(p.status < 500, `PATCH: ${p.status} ${p.text}`);
        if (p.status !== 200) {
          assertClientProblem(p);
          assert.equal((await admin.get(cred.client_id)).json.name, 'nul patch target');
        }
      });
    });
  });
}
