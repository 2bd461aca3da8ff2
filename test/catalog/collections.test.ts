/**
 * The Data API's first slice: collections filtered by entitlement (open, licensed, private) inside
 * the query, on each store; whatever an organization may not see answers exactly as a missing one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrg, type TestOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { bearer, request, tokenFor } from '../helpers/http.js';

for (const store of await stores()) {
  describe(`collections and entitlements (${store})`, () => {
    let s: TestServer;
    let other: TestOrg;
    let demoToken: string;
    let otherToken: string;
    before(async () => {
      s = await startServer({ store });
      other = await createOrg(s, 'licensee');
      const demoOrg = (await s.skyport.storage.getOrganizationByName('demo'))!;
      const body = (id: string) => ({ type: 'Collection', stac_version: '1.0.0', id, description: id, license: 'proprietary', extent: {} });
      await s.skyport.storage.upsertCollection({
        id: 'licensed-x',
        access: 'licensed',
        ownerOrgId: null,
        body: body('licensed-x'),
        updatedAt: 1,
      });
      await s.skyport.storage.upsertCollection({
        id: 'private-demo',
        access: 'private',
        ownerOrgId: demoOrg.id,
        body: body('private-demo'),
        updatedAt: 1,
      });
      await s.skyport.storage.grantCollection('licensed-x', other.id);
      demoToken = await tokenFor(s.url, s.creds['read-only']);
      otherToken = await tokenFor(s.url, other.creds['read-only']);
    });
    after(() => s.close());

    const list = async (t: string) =>
      (await request(`${s.url}/collections`, { headers: bearer(t) })).json.collections.map((c: any) => c.id).sort();

    it('each organization lists exactly what it is entitled to', async () => {
      assert.deepEqual(await list(demoToken), ['private-demo', 'skyport-lst', 'skyport-ms']);
      assert.deepEqual(await list(otherToken), ['licensed-x', 'skyport-lst', 'skyport-ms']);
    });

    it('a collection outside the entitlement answers exactly like a missing one', async () => {
      const hidden = await request(`${s.url}/collections/private-demo`, { headers: bearer(otherToken) });
      const missing = await request(`${s.url}/collections/no-such-thing`, { headers: bearer(otherToken) });
      assert.equal(hidden.status, 404);
      assert.equal(missing.status, 404);
      assert.deepEqual(Object.keys(hidden.json).sort(), ['code', 'description']);
      assert.equal(hidden.json.code, missing.json.code);
      assert.equal((await request(`${s.url}/collections/licensed-x`, { headers: bearer(demoToken) })).status, 404);
      const own = await request(`${s.url}/collections/private-demo`, { headers: bearer(demoToken) });
      assert.equal(own.status, 200);
      assert.equal(own.json.id, 'private-demo');
      assert.ok(own.json.links.some((l: any) => l.rel === 'self' && l.href.endsWith('/collections/private-demo')));
    });

    it('the landing page and conformance need a token and agree on conformsTo', async () => {
      assert.equal((await request(`${s.url}/`)).status, 401);
      const landing = await request(`${s.url}/`, { headers: bearer(demoToken) });
      const conf = await request(`${s.url}/conformance`, { headers: bearer(demoToken) });
      assert.equal(landing.status, 200);
      assert.deepEqual(landing.json.conformsTo, conf.json.conformsTo);
      assert.ok(landing.json.links.some((l: any) => l.rel === 'data'));
    });
  });
}
