/**
 * A demo first start (as `npm start` does it): the generated constellation catalog with downloadable
 * GeoTIFF/PNG assets, and the bundled real sample as open collections; everything served validates.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fromArrayBuffer } from 'geotiff';
import { startServer, type TestServer } from '../helpers/server.js';
import { bearer, request, tokenFor } from '../helpers/http.js';
import { assertValidStac } from '../helpers/stac-validate.js';

describe('demo first start', () => {
  let s: TestServer;
  let t: string;
  let startMs: number;
  before(async () => {
    const t0 = Date.now();
    s = await startServer({ env: { SKYPORT_DEMO_ITEMS: '40', SKYPORT_DEMO_SAMPLE: 'true' } });
    startMs = Date.now() - t0;
    t = await tokenFor(s.url, s.creds['read-only']);
  });
  after(() => s.close());

  it('lists the generated collections and the real sample', async () => {
    const r = await request(`${s.url}/collections`, { headers: bearer(t) });
    const ids = r.json.collections.map((c: any) => c.id);
    for (const id of ['skyport-lst', 'skyport-ms', 'sentinel-2-l2a', 'landsat-c2-l2', 'naip']) assert.ok(ids.includes(id), id);
    assert.equal(r.json.collections.length, 84);
    assertValidStac('collections', r.json);
    console.log(`first start with 40 generated items and the real sample: ${startMs} ms`);
  });

  it('the first search shows real Sentinel-2 metadata with remote assets as published', async () => {
    const r = await request(`${s.url}/search?collections=sentinel-2-l2a&limit=5`, { headers: bearer(t) });
    assert.equal(r.status, 200);
    assert.equal(r.json.numberMatched, 68);
    assertValidStac('item-collection', r.json);
    for (const f of r.json.features) {
      assert.equal(f.properties.platform.toLowerCase().startsWith('sentinel-2'), true);
      for (const a of Object.values(f.assets) as any[]) assert.ok(!a.href.startsWith(s.url), 'remote assets are not proxied');
    }
  });

  it('generated items carry a real GeoTIFF whose georeferencing matches the item bbox', async () => {
    const r = await request(`${s.url}/search?collections=skyport-lst&limit=1`, { headers: bearer(t) });
    const f = r.json.features[0];
    assertValidStac('item', f);
    assert.ok(f.properties['view:sun_elevation'] !== undefined && f.properties.gsd > 0);
    const tif = await fetch(f.assets.data.href, { headers: bearer(t) });
    assert.equal(tif.status, 200);
    const image = await (await fromArrayBuffer(await tif.arrayBuffer())).getImage();
    const [w, south, e, n] = image.getBoundingBox();
    const [bw, bs, be, bn] = f.bbox;
    for (const [a, b] of [
      [w, bw],
      [south, bs],
      [e, be],
      [n, bn],
    ])
      assert.ok(Math.abs(a! - b!) < 1e-6, `${a} vs ${b}`);
    const png = await fetch(f.assets.thumbnail.href, { headers: bearer(t) });
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.deepEqual([...Buffer.from(await png.arrayBuffer()).subarray(1, 4)], [...Buffer.from('PNG')]);
  });
});
