/**
 * Held assets in S3-compatible object storage, end to end: a Skyport server configured with
 * SKYPORT_ASSETS_STORE=s3 against a real S3 server (s3rver, in this process) writes the demo
 * catalog's GeoTIFFs and a tasking delivery into the bucket (under the key prefix, nothing in the
 * folder) and serves them through the protected route with range requests, validators and 416s;
 * the store's failures are 502s whose logs never hold the secret. Also the configuration's checks.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AwsClient } from 'aws4fetch';
import { fromArrayBuffer } from 'geotiff';
import { ConfigError, loadConfig } from '../../src/config.js';
import { S3AssetStore } from '../../src/storage/assets/s3.js';
import { bearer, request, tokenFor } from '../helpers/http.js';
import { createOrg } from '../helpers/orgs.js';
import { poll } from '../helpers/proc.js';
import { freePort, startServer, type TestServer } from '../helpers/server.js';
import { startS3, type TestS3 } from '../helpers/s3.js';

const PREFIX = 'skyport/assets';
const HOUR = 3_600_000;

describe('held assets in an S3 bucket (s3rver)', () => {
  let s3: TestS3;
  let s: TestServer;
  let t: string;
  let raw: (key: string, init?: RequestInit) => Promise<Response>;
  let feature: { id: string; bbox: number[]; assets: Record<string, { href: string; type?: string }> };

  before(async () => {
    s3 = await startS3();
    // The bucket read independently of Skyport's adapter: aws4fetch on the object's URL.
    const client = new AwsClient({ accessKeyId: 'S3RVER', secretAccessKey: s3.secret, service: 's3', region: 'us-east-1', retries: 0 });
    raw = (key, init) => client.fetch(`${s3.endpoint}/${s3.bucket}/${PREFIX}/${key.split('/').map(encodeURIComponent).join('/')}`, init);
    s = await startServer({
      env: { ...s3.env(PREFIX), SKYPORT_DEMO_ITEMS: '4', SKYPORT_TASKING_TIME_SCALE: '200000', SKYPORT_TASKING_TICK_MS: '40' },
    });
    t = await tokenFor(s.url, s.creds['read-only']);
    feature = (await request(`${s.url}/search?collections=skyport-lst&limit=1`, { headers: bearer(t) })).json.features[0];
  });
  after(async () => {
    await s?.close();
    await s3?.close().catch(() => {}); // the last test stops it already
  });

  it('the demo first start writes its GeoTIFFs and thumbnails into the bucket, under the prefix, none into the folder', async () => {
    assert.equal(s.skyport.assets.kind, 's3');
    const rec = await s.skyport.storage.getItemFor((await s.skyport.storage.getOrganizationByName('demo'))!.id, 'skyport-lst', feature.id);
    const assets = rec!.item.assets as Record<string, { href: string }>;
    for (const name of ['data', 'thumbnail']) {
      assert.match(assets[name]!.href, /^asset:skyport-lst\//);
      const obj = await raw(assets[name]!.href.slice('asset:'.length), { method: 'HEAD' });
      assert.equal(obj.status, 200, name);
      assert.equal(obj.headers.get('content-type'), name === 'data' ? feature.assets.data!.type : 'image/png');
    }
    assert.equal(existsSync(s.config.assetsDir), false, 'nothing written to the assets folder');
  });

  it('serves a held asset from the bucket through the protected route: whole, 206 ranges, 416, validators', async () => {
    const href = feature.assets.data!.href;
    const whole = await fetch(href, { headers: bearer(t) });
    assert.equal(whole.status, 200);
    const bytes = Buffer.from(await whole.arrayBuffer());
    const rec = await s.skyport.storage.getItemFor((await s.skyport.storage.getOrganizationByName('demo'))!.id, 'skyport-lst', feature.id);
    const stored = await raw((rec!.item.assets as Record<string, { href: string }>).data!.href.slice('asset:'.length));
    assert.deepEqual(bytes, Buffer.from(await stored.arrayBuffer()), 'the bucket’s object, byte for byte');
    assert.equal(whole.headers.get('etag'), stored.headers.get('etag'));
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.equal(whole.headers.get('content-type'), feature.assets.data!.type);
    assert.equal(whole.headers.get('cache-control'), 'private, max-age=3600');
    assert.equal(whole.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(Number(whole.headers.get('content-length')), bytes.length);
    const etag = whole.headers.get('etag')!;
    assert.match(etag, /^"[0-9a-f]{32}"$/, 'the object’s own ETag');

    // A real GeoTIFF whose georeferencing is the item's bbox.
    const [w, south, e, n] = (
      await (await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))).getImage()
    ).getBoundingBox();
    for (const [a, b] of [
      [w, feature.bbox[0]],
      [south, feature.bbox[1]],
      [e, feature.bbox[2]],
      [n, feature.bbox[3]],
    ])
      assert.ok(Math.abs(a! - b!) < 1e-6, `${a} vs ${b}`);

    const size = bytes.length;
    const ranged = async (range: string, extra: Record<string, string> = {}) => fetch(href, { headers: { ...bearer(t), range, ...extra } });
    const head = await ranged('bytes=0-1023');
    assert.equal(head.status, 206);
    assert.equal(head.headers.get('content-range'), `bytes 0-1023/${size}`);
    assert.deepEqual(Buffer.from(await head.arrayBuffer()), bytes.subarray(0, 1024));
    const tail = await ranged('bytes=-16');
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), `bytes ${size - 16}-${size - 1}/${size}`);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(size - 16));
    const open = await ranged(`bytes=${size - 100}-`);
    assert.deepEqual(Buffer.from(await open.arrayBuffer()), bytes.subarray(size - 100));
    const beyond = await request(href, { headers: { ...bearer(t), range: `bytes=${size + 10}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${size}`);
    assert.equal(beyond.json.code, 'RangeNotSatisfiable');

    const fresh = await ranged('bytes=10-19', { 'if-range': etag });
    assert.equal(fresh.status, 206);
    assert.deepEqual(Buffer.from(await fresh.arrayBuffer()), bytes.subarray(10, 20));
    const stale = await ranged('bytes=10-19', { 'if-range': '"another-version"' });
    assert.equal(stale.status, 200, 'a changed asset is sent whole');
    assert.equal((await stale.arrayBuffer()).byteLength, size);
    // fetch adds `Cache-Control: no-cache` to conditional requests unless told otherwise; that header asks for a full answer.
    const cached = await fetch(href, { headers: { ...bearer(t), 'if-none-match': etag, 'cache-control': 'max-age=0' } });
    assert.equal(cached.status, 304);
    assert.equal((await cached.arrayBuffer()).byteLength, 0);
    const guarded = await fetch(href, { headers: { ...bearer(t), 'if-match': '"another-version"' } });
    assert.equal(guarded.status, 412);
    const probe = await fetch(href, { method: 'HEAD', headers: { ...bearer(t), range: 'bytes=0-99' } });
    assert.equal(probe.status, 206);
    assert.equal(probe.headers.get('content-length'), '100');
    assert.equal(probe.headers.get('content-range'), `bytes 0-99/${size}`);
  });

  it('keeps the entitlement first: another organization, a missing object and a tampered href are 404s', async () => {
    const href = feature.assets.data!.href;
    const other = await tokenFor(s.url, (await createOrg(s, 's3-other')).creds['read-only']);
    // Open demo collections are everyone's: hide one item behind a private collection of the demo org.
    const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
    const body = {
      type: 'Collection',
      id: 'own-s3',
      stac_version: '1.0.0',
      description: 'd',
      license: 'proprietary',
      extent: {},
      links: [],
    };
    await s.skyport.storage.upsertCollection({ id: 'own-s3', access: 'private', ownerOrgId: demo.id, body, updatedAt: 1 });
    const rec = await s.skyport.storage.getItemFor(demo.id, 'skyport-lst', feature.id);
    await s.skyport.storage.upsertItems([
      {
        collection: 'own-s3',
        id: 'scene-1',
        item: {
          ...rec!.item,
          id: 'scene-1',
          collection: 'own-s3',
          assets: {
            data: (rec!.item.assets as Record<string, unknown>).data,
            gone: { href: 'asset:own-s3/scene-1/never-written.tif' },
            escape: { href: `asset:../${PREFIX}/x` },
          },
        },
      },
    ]);
    const url = (key: string) => `${s.url}/collections/own-s3/items/scene-1/assets/${key}`;
    assert.equal((await fetch(url('data'), { headers: bearer(t) })).status, 200);
    assert.equal((await request(url('data'), { headers: bearer(other) })).status, 404);
    assert.equal((await request(url('gone'), { headers: bearer(t) })).status, 404);
    assert.equal((await request(url('escape'), { headers: bearer(t) })).status, 404);
    assert.equal((await fetch(href, { headers: bearer(other) })).status, 200, 'an open collection stays open');
  });

  it('a completed tasking order delivers its GeoTIFF and thumbnail into the bucket', async () => {
    const tasking = await tokenFor(s.url, s.creds.tasking);
    const now = Date.now();
    const placed = await request(`${s.url}/tasking/products/skyport-tir-tasking/orders`, {
      method: 'POST',
      headers: { ...bearer(tasking), 'content-type': 'application/json' },
      body: JSON.stringify({
        datetime: `${new Date(now + 0.1 * HOUR).toISOString()}/${new Date(now + 48 * HOUR).toISOString()}`,
        geometry: { type: 'Point', coordinates: [13.4, 52.5] },
        order_parameters: { max_cloud_cover: 100 },
      }),
    });
    assert.equal(placed.status, 201, placed.text);
    const done = await poll(async () => {
      const r = await request(`${s.url}/tasking/orders/${placed.json.id}`, { headers: bearer(tasking) });
      return ['completed', 'failed', 'rejected', 'expired'].includes(r.json.properties.status.status_code) ? r : undefined;
    }, 20_000);
    assert.equal(done?.json.properties.status.status_code, 'completed', done?.text);
    const orgId = (await s.skyport.storage.getClient(s.creds.tasking.client_id))!.orgId;
    const rec = await s.skyport.storage.getItemFor(orgId, `tasking-${orgId}`, placed.json.id);
    const assets = rec!.item.assets as Record<string, { href: string }>;
    const tif = await raw(assets.data!.href.slice('asset:'.length));
    assert.equal(tif.status, 200);
    const tifBytes = Buffer.from(await tif.arrayBuffer());
    assert.ok(['MM\0*', 'II*\0'].includes(tifBytes.subarray(0, 4).toString('latin1')), 'a TIFF in the bucket');
    assert.equal((await raw(assets.thumbnail!.href.slice('asset:'.length), { method: 'HEAD' })).status, 200);
    const item = await request(`${s.url}/collections/tasking-${orgId}/items/${placed.json.id}`, { headers: bearer(tasking) });
    const served = await fetch(item.json.assets.data.href, { headers: { ...bearer(tasking), range: 'bytes=0-511' } });
    assert.equal(served.status, 206);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), tifBytes.subarray(0, 512));
    assert.equal(existsSync(s.config.assetsDir), false);
  });

  it('answers 502 when the bucket does not answer, logging the failure but never the secret', async () => {
    await s3.close();
    const r = await request(feature.assets.data!.href, { headers: { ...bearer(t), range: 'bytes=0-9' } });
    assert.equal(r.status, 502);
    assert.equal(r.json.code, 'BadGateway');
    assert.match(s.logs(), /asset store failed/);
    assert.match(s.logs(), /S3 GET s3:\/\/skyport-assets\/skyport\/assets\/skyport-lst\//);
    assert.ok(!s.logs().includes(s3.secret), 'the secret is not logged');
    assert.ok(!r.text.includes(s3.secret));
  });
});

describe('asset store configuration', () => {
  const s3env = {
    SKYPORT_ASSETS_STORE: 's3',
    SKYPORT_S3_BUCKET: 'my-bucket',
    SKYPORT_S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    SKYPORT_S3_SECRET_ACCESS_KEY: 'super-secret-value',
  };

  it('defaults to the local folder; s3 settings get defaults for AWS', () => {
    const local = loadConfig({ SKYPORT_DATA_DIR: '/tmp/x' });
    assert.equal(local.assetsStore, 'local');
    assert.equal(local.s3, undefined);
    const aws = loadConfig({ ...s3env, SKYPORT_S3_REGION: 'eu-central-1', SKYPORT_S3_PREFIX: '/tenant/assets/' });
    assert.deepEqual(
      { ...aws.s3, secretAccessKey: aws.s3?.secretAccessKey === 'super-secret-value' },
      {
        bucket: 'my-bucket',
        endpoint: 'https://s3.eu-central-1.amazonaws.com',
        region: 'eu-central-1',
        prefix: 'tenant/assets',
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: true,
        pathStyle: false,
      },
    );
    const minio = loadConfig({ ...s3env, SKYPORT_ASSETS_STORE: 'S3', SKYPORT_S3_ENDPOINT: 'http://127.0.0.1:9000/' });
    assert.equal(minio.s3?.endpoint, 'http://127.0.0.1:9000');
    assert.equal(minio.s3?.pathStyle, true);
    assert.equal(minio.s3?.region, 'us-east-1');
    assert.equal(loadConfig({ ...s3env, SKYPORT_S3_ENDPOINT: 'https://x.example', SKYPORT_S3_PATH_STYLE: 'false' }).s3?.pathStyle, false);
    assert.equal(loadConfig({ ...s3env, SKYPORT_S3_PATH_STYLE: 'auto' }).s3?.pathStyle, false);
    assert.equal(loadConfig({ ...s3env, SKYPORT_S3_PATH_STYLE: 'true' }).s3?.pathStyle, true);
  });

  it('refuses incomplete or malformed settings, naming the variable and never the secret', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ SKYPORT_ASSETS_STORE: 'gcs' }, /SKYPORT_ASSETS_STORE must be local or s3/],
      [{ SKYPORT_ASSETS_STORE: 's3' }, /needs SKYPORT_S3_BUCKET, SKYPORT_S3_ACCESS_KEY_ID, SKYPORT_S3_SECRET_ACCESS_KEY/],
      [{ ...s3env, SKYPORT_S3_SECRET_ACCESS_KEY: '' }, /needs SKYPORT_S3_SECRET_ACCESS_KEY$/],
      [{ ...s3env, SKYPORT_S3_BUCKET: 'My_Bucket' }, /SKYPORT_S3_BUCKET must be an S3 bucket name/],
      [{ ...s3env, SKYPORT_S3_PREFIX: 'a/../b' }, /SKYPORT_S3_PREFIX must be a relative path/],
      [{ ...s3env, SKYPORT_S3_ENDPOINT: 'minio:9000' }, /SKYPORT_S3_ENDPOINT must be an absolute http\(s\) URL/],
      [{ ...s3env, SKYPORT_S3_REGION: 'eu central' }, /SKYPORT_S3_REGION must be a region name/],
    ];
    for (const [env, message] of bad) {
      assert.throws(
        () => loadConfig(env),
        (e: Error) => e instanceof ConfigError && message.test(e.message) && !e.message.includes('super-secret-value'),
        JSON.stringify(env),
      );
    }
  });

  it('addresses objects path-style or virtual-hosted, keys encoded', () => {
    const opts = { ...loadConfig({ ...s3env, SKYPORT_S3_PREFIX: 'p' }).s3! };
    assert.equal(new S3AssetStore(opts).url('a b/(1).tif'), 'https://my-bucket.s3.us-east-1.amazonaws.com/p/a%20b/%281%29.tif');
    assert.equal(
      new S3AssetStore({ ...opts, endpoint: 'http://127.0.0.1:9000', pathStyle: true }).url('x+y.tif'),
      'http://127.0.0.1:9000/my-bucket/p/x%2By.tif',
    );
  });

  it('a server does not start against a bucket that is not there or an endpoint that does not answer', async () => {
    const s3 = await startS3('present-bucket');
    try {
      await assert.rejects(
        startServer({ env: { ...s3.env(), SKYPORT_S3_BUCKET: 'absent-bucket' } }),
        (e: Error) =>
          e instanceof ConfigError &&
          /absent-bucket .*does not exist: check SKYPORT_S3_BUCKET/.test(e.message) &&
          !e.message.includes(s3.secret),
      );
    } finally {
      await s3.close();
    }
    const closed = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      startServer({ env: { ...s3.env(), SKYPORT_S3_ENDPOINT: closed } }),
      (e: Error) => e instanceof ConfigError && e.message.includes('cannot be reached') && e.message.includes('SKYPORT_S3_ENDPOINT'),
    );
  });
});
