/**
 * Management API audit log (`GET /admin/audit`) over HTTP on a real server, on each store: the
 * organization's client changes and failed client authentications are there, with no secret in
 * them (invariant 5), and nothing of another organization (invariant 2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SecretHasher } from '../../src/auth/secrets.js';
import { bearer, request } from '../helpers/http.js';
import { Mgmt, assertOAuthError, assertProblem, token, tokenResponse } from '../helpers/management.js';
import { createOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';

for (const store of await stores()) {
  describe(`Management API: audit log (${store})`, () => {
    let s: TestServer;
    let admin: Mgmt;
    let hasher: SecretHasher;
    before(async () => {
      s = await startServer({ store });
      admin = await Mgmt.as(s.url, s.creds.admin);
      hasher = s.skyport.hasher;
    });
    after(() => s.close());

    /** All of the caller's audit entries (follows `next` links). */
    const allEntries = async (m: Mgmt): Promise<{ entries: any[]; text: string }> => {
      let path = '/admin/audit?limit=100';
      const entries: any[] = [];
      let text = '';
      for (let i = 0; i < 50 && path; i++) {
        const r = await m.call('GET', path);
        assert.equal(r.status, 200, r.text);
        entries.push(...r.json.entries);
        text += r.text;
        path = r.json.links.find((l: any) => l.rel === 'next')?.href;
      }
      return { entries, text };
    };

    it('lists create, rotate, disable and failed client authentications of the organization, without any secret', async () => {
      const me = s.creds.admin.client_id;
      const created = await admin.createOk({ name: 'audited', root_scope: 'tasking', permissions: ['catalog:read'] });
      const id = created.cred.client_id;
      const s1 = created.cred.client_secret;
      const rot = await admin.rotate(id, { grace_period_seconds: 0 });
      assert.equal(rot.status, 200);
      const s2 = rot.json.client_secret as string;
      // A failed authentication with the retired secret, then one while disabled (with the right secret).
      assertOAuthError(await tokenResponse(s.url, { client_id: id, client_secret: s1 }), 401, 'invalid_client');
      assert.equal((await admin.disable(id)).status, 200);
      assertOAuthError(await tokenResponse(s.url, { client_id: id, client_secret: s2 }), 401, 'invalid_client');
      // A refused create (ceiling) is audited as a failure.
      assertProblem(await admin.create({ name: 'too much', root_scope: 'read-only', permissions: ['tasking:order'] }), 403);

      const { entries, text } = await allEntries(admin);
      const find = (action: string, pred: (e: any) => boolean = () => true) => entries.find((e) => e.action === action && pred(e));

      const create = find(
        'client.create',
        (e) =>
          e.outcome === 'success' && e.details?.root_scope === 'tasking' && JSON.stringify(e.details.permissions) === '["catalog:read"]',
      );
      assert.ok(create, 'no client.create entry');
      assert.equal(create.actor, me);
      assert.ok(!Number.isNaN(Date.parse(create.at)));

      const rotate = find('client.rotate_secret', (e) => e.target === id);
      assert.ok(rotate, 'no client.rotate_secret entry');
      assert.equal(rotate.outcome, 'success');
      assert.equal(rotate.actor, me);

      const disable = find('client.disable', (e) => e.target === id);
      assert.ok(disable, 'no client.disable entry');
      assert.equal(disable.outcome, 'success');
      assert.equal(disable.actor, me);

      const failures = entries.filter((e) => e.action === 'oauth.client_authentication' && e.target === id);
      assert.equal(failures.length, 2, `failed client authentications: ${JSON.stringify(failures)}`);
      for (const f of failures) {
        assert.equal(f.outcome, 'failure');
        assert.equal(f.actor, 'anonymous');
      }
      const reasons = failures.map((f) => f.details?.reason).sort();
      assert.deepEqual(reasons, ['client_disabled', 'wrong_secret']);

      const refused = find(
        'client.create',
        (e) => e.outcome === 'failure' && JSON.stringify(e.details?.permissions) === '["tasking:order"]',
      );
      assert.ok(refused, 'the refused create is not audited');

      // Newest first.
      const order = [create, rotate, disable].map((e) => entries.indexOf(e));
      assert.ok(order[0]! > order[1]! && order[1]! > order[2]!, `entries not newest first: ${order}`);

      // No secret or secret hash anywhere in the log, nor in the server's logs.
      for (const secret of [s1, s2]) {
        assert.ok(!text.includes(secret), 'a secret appears in the audit log');
        assert.ok(!text.includes(hasher.hash(secret)), "a secret's hash appears in the audit log");
        assert.ok(!s.logs().includes(secret), 'a secret appears in the server log');
      }
      for (const root of Object.values(s.creds)) assert.ok(!text.includes(root.client_secret));
    });

    it('a secret pasted into the client_id field is not recorded', async () => {
      const { cred } = await admin.createOk({ name: 'pasted', root_scope: 'read-only' });
      const r = await tokenResponse(s.url, { client_id: cred.client_secret, client_secret: cred.client_secret });
      assertOAuthError(r, 401, 'invalid_client');
      const { text } = await allEntries(admin);
      assert.ok(!text.includes(cred.client_secret));
      assert.ok(!s.logs().includes(cred.client_secret), 'a secret appears in the server log');
    });

    it("shows only the caller's organization's entries", async () => {
      const other = await createOrg(s, 'audit-other');
      const them = await Mgmt.as(s.url, other.creds.admin);
      const { cred: theirs } = await them.createOk({ name: 'their audited client', root_scope: 'read-only' });
      assert.equal((await them.disable(theirs.client_id)).status, 200);
      assertOAuthError(
        await tokenResponse(s.url, { client_id: other.creds.tasking.client_id, client_secret: 'sks_wrong' }),
        401,
        'invalid_client',
      );
      const { cred: ours } = await admin.createOk({ name: 'our audited client', root_scope: 'read-only' });
      assert.equal((await admin.disable(ours.client_id)).status, 200);
      assertOAuthError(
        await tokenResponse(s.url, { client_id: s.creds.tasking.client_id, client_secret: 'sks_wrong' }),
        401,
        'invalid_client',
      );

      const mine = await allEntries(admin);
      const theirsLog = await allEntries(them);
      const otherIds = [...Object.values(other.creds).map((c) => c.client_id), theirs.client_id];
      const ourIds = [...Object.values(s.creds).map((c) => c.client_id), ours.client_id];
      for (const id of otherIds) assert.ok(!mine.text.includes(id), `our audit log mentions ${id} of the other organization`);
      for (const id of ourIds) assert.ok(!theirsLog.text.includes(id), `their audit log mentions ${id} of ours`);
      assert.ok(theirsLog.entries.some((e) => e.action === 'client.disable' && e.target === theirs.client_id));
      assert.ok(theirsLog.entries.some((e) => e.action === 'oauth.client_authentication' && e.target === other.creds.tasking.client_id));
      assert.ok(mine.entries.some((e) => e.action === 'client.disable' && e.target === ours.client_id));
      assert.ok(mine.entries.some((e) => e.action === 'oauth.client_authentication' && e.target === s.creds.tasking.client_id));
      // Refused cross-organization attempts leave nothing in the victim's log either.
      const before = (await allEntries(admin)).entries.length;
      assertProblem(await them.disable(ours.client_id), 404);
      assertProblem(await them.del(ours.client_id), 404);
      assert.equal((await allEntries(admin)).entries.length, before);
    });

    it('pages with limit and before; bad paging parameters are 400 problem+json', async () => {
      for (let i = 0; i < 3; i++) await admin.createOk({ name: `paging ${i}`, root_scope: 'read-only' });
      const first = await admin.audit('?limit=2');
      assert.equal(first.status, 200);
      assert.equal(first.json.entries.length, 2);
      const next = first.json.links.find((l: any) => l.rel === 'next');
      assert.ok(next, 'no next link');
      const second = await admin.call('GET', next.href);
      assert.equal(second.status, 200);
      const ids = [...first.json.entries, ...second.json.entries].map((e: any) => BigInt(e.id));
      assert.equal(new Set(ids.map(String)).size, ids.length, 'pages overlap');
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! > ids[i]!, 'not newest first across pages');
      for (const q of [
        '?limit=0',
        '?limit=abc',
        '?limit=-1',
        '?limit=1000',
        '?before=x',
        '?before=-5',
        '?org_id=other',
        '?limit=1&limit=2',
      ]) {
        assertProblem(await admin.audit(q), 400);
      }
    });

    it('needs admin:read on the Management API', async () => {
      assertProblem(await request(`${s.url}/admin/audit`), 401);
      const data = await token(s.url, s.creds['read-only']);
      const r = await request(`${s.url}/admin/audit`, { headers: bearer(data) });
      assertProblem(r, 401);
      const { cred: reader } = await admin.createOk({ name: 'audit reader', root_scope: 'admin', permissions: ['admin:read'] });
      assert.equal((await (await Mgmt.as(s.url, reader)).audit()).status, 200);
      const { cred: writer } = await admin.createOk({ name: 'audit writer only', root_scope: 'admin', permissions: ['admin:write'] });
      const w = await (await Mgmt.as(s.url, writer)).audit();
      assertProblem(w, 403, 'insufficient_scope');
      assert.match(w.headers.get('www-authenticate') ?? '', /scope="admin:read"/);
    });
  });
}
