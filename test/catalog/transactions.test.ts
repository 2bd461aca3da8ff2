/**
 * The transaction extension: only platform clients (catalog:write, made by the operator) write; every
 * customer token, whatever its root scope, is refused; writes are validated and all-or-nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPlatformClient } from '../../src/admin/service.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { bearer, jsonToken, request, tokenFor } from '../helpers/http.js';
import { Mgmt } from '../helpers/management.js';
import { assertValidStac } from '../helpers/stac-validate.js';

const collection = (id: string) => ({
  type: 'Collection',
  stac_version: '1.1.0',
  id,
  description: 'written through the transaction API',
  license: 'proprietary',
  extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [['2024-01-01T00:00:00Z', null]] } },
  links: [],
});
const item = (id: string, collection: string, props: Record<string, unknown> = {}) => ({
  type: 'Feature',
  stac_version: '1.1.0',
  id,
  collection,
  geometry: { type: 'Point', coordinates: [10, 50] },
  bbox: [10, 50, 10, 50],
  properties: { datetime: '2024-06-01T00:00:00Z', ...props },
  links: [],
  assets: {},
});

for (const store of await stores()) {
  describe(`STAC transactions (${store})`, () => {
    let s: TestServer;
    let w: string;
    const call = (method: string, path: string, body?: unknown, token = w, type = 'application/json') =>
      request(`${s.url}${path}`, {
        method,
        headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': type }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    before(async () => {
      s = await startServer({ store });
      const { client, secret } = await createPlatformClient({ storage: s.skyport.storage, hasher: s.skyport.hasher }, 'pipeline');
      w = await tokenFor(s.url, { client_id: client.clientId, client_secret: secret });
    });
    after(() => s.close());

    it('creates, reads back, replaces, patches and deletes', async () => {
      const c = await call('POST', '/collections', collection('tx-1'));
      assert.equal(c.status, 201, c.text);
      assert.equal(c.headers.get('location'), `${s.url}/collections/tx-1`);
      assert.equal((await call('POST', '/collections', collection('tx-1'))).status, 409);
      const i = await call('POST', '/collections/tx-1/items', item('a', 'tx-1', { 'eo:cloud_cover': 10 }));
      assert.equal(i.status, 201, i.text);
      assert.equal(i.headers.get('location'), `${s.url}/collections/tx-1/items/a`);
      assertValidStac('item', i.json);
      assert.equal((await call('POST', '/collections/tx-1/items', item('a', 'tx-1'))).status, 409);
      const read = await call('GET', '/collections/tx-1/items/a');
      assert.equal(read.json.properties['eo:cloud_cover'], 10);
      const put = await call('PUT', '/collections/tx-1/items/a', item('a', 'tx-1', { 'eo:cloud_cover': 20 }));
      assert.equal(put.status, 200);
      const patch = await call(
        'PATCH',
        '/collections/tx-1/items/a',
        { properties: { 'eo:cloud_cover': null, platform: 'p' } },
        w,
        'application/merge-patch+json',
      );
      assert.equal(patch.status, 200, patch.text);
      assert.equal(patch.json.properties['eo:cloud_cover'], undefined);
      assert.equal(patch.json.properties.platform, 'p');
      assert.equal(
        (await call('GET', '/search?collections=tx-1&filter=platform%3D%27p%27')).json.features.length,
        1,
        'search sees the patch',
      );
      assert.equal((await call('DELETE', '/collections/tx-1/items/a')).status, 204);
      assert.equal((await call('GET', '/collections/tx-1/items/a')).status, 404);
      assert.equal((await call('DELETE', '/collections/tx-1/items/a')).status, 404);
      assert.equal((await call('DELETE', '/collections/tx-1')).status, 204);
      assert.equal((await call('GET', '/collections/tx-1')).status, 404);
    });

    it('a FeatureCollection is all or nothing; invalid items are 400 naming the field and write nothing', async () => {
      assert.equal((await call('POST', '/collections', collection('tx-2'))).status, 201);
      const bad = await call('POST', '/collections/tx-2/items', {
        type: 'FeatureCollection',
        features: [item('x', 'tx-2'), { ...item('y', 'tx-2'), geometry: { type: 'Blob' } }],
      });
      assert.equal(bad.status, 400);
      assert.match(bad.json.description, /features\[1\]\.geometry/);
      assert.equal((await call('GET', '/collections/tx-2/items/x')).status, 404, 'nothing of the batch was written');
      const ok = await call('POST', '/collections/tx-2/items', {
        type: 'FeatureCollection',
        features: [item('x', 'tx-2'), item('y', 'tx-2')],
      });
      assert.deepEqual(ok.json, { inserted: 2, updated: 0 });
      assert.equal((await call('PUT', '/collections/tx-2/items/x', item('other', 'tx-2'))).status, 400, 'id mismatch');
      assert.equal((await call('POST', '/collections/tx-2/items', item('z', 'elsewhere'))).status, 400, 'collection mismatch');
      assert.equal((await call('POST', '/collections/nope/items', item('z', 'nope'))).status, 404);
      assert.equal((await call('PATCH', '/collections/tx-2/items/x', 'not json{', w, 'application/merge-patch+json')).status, 400);
    });

    it('collections written here are licensed: invisible to customers until the operator grants them', async () => {
      await call('POST', '/collections', collection('tx-3'));
      const customer = await tokenFor(s.url, s.creds['read-only']);
      assert.equal((await call('GET', '/collections/tx-3', undefined, customer)).status, 404);
      const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
      await s.skyport.storage.grantCollection('tx-3', demo.id);
      assert.equal((await call('GET', '/collections/tx-3', undefined, customer)).status, 200);
    });

    it('no customer token writes, whatever its root scope; no customer admin can mint a platform client', async () => {
      const tasking = await tokenFor(s.url, s.creds.tasking);
      const readOnly = await tokenFor(s.url, s.creds['read-only']);
      for (const t of [tasking, readOnly]) {
        const r = await call('POST', '/collections', collection('tx-evil'), t);
        assert.equal(r.status, 403);
        assert.match(r.headers.get('www-authenticate')!, /insufficient_scope/);
        assert.equal((await call('DELETE', '/collections/skyport-lst', undefined, t)).status, 403);
      }
      const asked = await jsonToken(s.url, { ...s.creds.tasking, grant_type: 'client_credentials', scope: 'catalog:write' });
      assert.notEqual(asked.status, 200, 'catalog:write cannot be requested by a customer client');
      const m = await Mgmt.as(s.url, s.creds.admin);
      const r = await m.create({ name: 'sneaky', root_scope: 'platform' });
      assert.equal(r.status, 400);
      const r2 = await m.create({ name: 'sneaky', root_scope: 'tasking', permissions: ['catalog:write'] });
      assert.equal(r2.status, 403);
      assert.equal((await call('GET', '/admin/clients')).status, 401, 'a platform token is not a Management API token');
    });
  });
}
