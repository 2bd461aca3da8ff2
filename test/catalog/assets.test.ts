/**
 * Protected asset download: assets:read required, entitlement first (another organization's asset
 * is a 404 like a missing one), HTTP range requests (206, multi-window reads, 416), no path escape.
 */
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createOrg, type TestOrg } from '../helpers/orgs.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { bearer, request, tokenFor } from '../helpers/http.js';
import { Mgmt } from '../helpers/management.js';

for (const store of await stores()) {
  describe(`asset download (${store})`, () => {
    let s: TestServer;
    let t: string;
    let other: TestOrg;
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, n) => n % 251));
    const url = () => `${s.url}/collections/own/items/scene-1/assets/data`;

    before(async () => {
      s = await startServer({ store });
      other = await createOrg(s, 'assets');
      const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
      mkdirSync(path.join(s.config.assetsDir, 'own', 'scene-1'), { recursive: true });
      writeFileSync(path.join(s.config.assetsDir, 'own', 'scene-1', 'data.tif'), bytes);
      writeFileSync(path.join(s.config.assetsDir, 'secret.txt'), 'do not serve');
      const body = {
        type: 'Collection',
        id: 'own',
        stac_version: '1.0.0',
        description: 'd',
        license: 'proprietary',
        extent: {},
        links: [],
      };
      await s.skyport.storage.upsertCollection({ id: 'own', access: 'private', ownerOrgId: demo.id, body, updatedAt: 1 });
      await s.skyport.storage.upsertItems([
        {
          collection: 'own',
          id: 'scene-1',
          item: {
            type: 'Feature',
            stac_version: '1.0.0',
            id: 'scene-1',
            collection: 'own',
            geometry: null,
            properties: { datetime: '2024-01-01T00:00:00Z' },
            links: [],
            assets: {
              data: { href: 'asset:own/scene-1/data.tif', type: 'image/tiff; application=geotiff' },
              escape: { href: 'asset:../../etc/passwd' },
              sneaky: { href: 'asset:own/../secret.txt' },
              remote: { href: 'https://example.com/x.tif' },
            },
          },
        },
      ]);
      t = await tokenFor(s.url, s.creds['read-only']);
    });
    after(() => s.close());

    it('whole file and byte ranges, with the asset’s media type', async () => {
      const whole = await fetch(url(), { headers: bearer(t) });
      assert.equal(whole.status, 200);
      assert.equal(whole.headers.get('accept-ranges'), 'bytes');
      assert.equal(whole.headers.get('content-type'), 'image/tiff; application=geotiff');
      assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);
      const part = await fetch(url(), { headers: { ...bearer(t), range: 'bytes=1000-1999' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(1000, 2000));
      const tail = await fetch(url(), { headers: { ...bearer(t), range: 'bytes=-16' } });
      assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(bytes.length - 16));
      const beyond = await request(url(), { headers: { ...bearer(t), range: `bytes=${bytes.length + 10}-` } });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);
    });

    it('ETags are strong; If-Match and If-Range compare strongly, If-None-Match weakly (RFC 9110 §8.8.3.2)', async () => {
      const etag = (await fetch(url(), { method: 'HEAD', headers: bearer(t) })).headers.get('etag')!;
      assert.match(etag, /^"[^"]+"$/, 'a strong tag');
      const get = (headers: Record<string, string>) =>
        fetch(url(), { headers: { ...bearer(t), 'cache-control': 'max-age=0', ...headers } }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        });
      assert.equal(await get({ 'if-match': etag }), 200);
      assert.equal(await get({ 'if-match': `W/${etag}` }), 412, 'a weak tag never matches If-Match');
      assert.equal(await get({ 'if-none-match': `W/${etag}` }), 304, 'If-None-Match compares weakly');
      assert.equal(await get({ range: 'bytes=0-9', 'if-range': etag }), 206);
      assert.equal(await get({ range: 'bytes=0-9', 'if-range': `W/${etag}` }), 200, 'a weak If-Range sends the whole asset');
      // A new version (same size, written by the store's rename) gets a new tag: the old one no longer matches.
      writeFileSync(path.join(s.config.assetsDir, 'own', 'scene-1', 'data.tif.new'), bytes);
      renameSync(
        path.join(s.config.assetsDir, 'own', 'scene-1', 'data.tif.new'),
        path.join(s.config.assetsDir, 'own', 'scene-1', 'data.tif'),
      );
      assert.equal(await get({ 'if-match': etag }), 412);
      assert.equal(await get({ range: 'bytes=0-9', 'if-range': etag }), 200);
    });

    it('needs assets:read and the entitlement; other organizations get the missing-asset answer', async () => {
      assert.equal((await request(url())).status, 401);
      const m = await Mgmt.as(s.url, s.creds.admin);
      const narrow = await m.createOk({ name: 'catalog only', root_scope: 'read-only', permissions: ['catalog:read'] });
      const narrowToken = await tokenFor(s.url, narrow.cred);
      const denied = await request(url(), { headers: bearer(narrowToken) });
      assert.equal(denied.status, 403);
      assert.match(denied.headers.get('www-authenticate')!, /insufficient_scope/);
      const otherToken = await tokenFor(s.url, other.creds['read-only']);
      const hidden = await request(url(), { headers: bearer(otherToken) });
      const missing = await request(`${s.url}/collections/own/items/nope/assets/data`, { headers: bearer(otherToken) });
      assert.equal(hidden.status, 404);
      assert.deepEqual(hidden.json, { ...missing.json, description: hidden.json.description });
    });

    it('never leaves the assets folder and never proxies remote assets', async () => {
      for (const key of ['escape', 'sneaky', 'remote', 'nope', '__proto__']) {
        const r = await request(`${s.url}/collections/own/items/scene-1/assets/${key}`, { headers: bearer(t) });
        assert.equal(r.status, 404, key);
        assert.ok(!r.text.includes('do not serve'));
      }
    });
  });
}
