/**
 * The read side of the STAPI v0.1.0 tasking API over HTTP (tasking-notes §1.1–1.3): landing page,
 * conformance, OpenAPI, the product list and each product with its conformance, queryables and
 * order-parameters; 404 for unknown products, 401/403 without a token or without tasking:read, and the
 * same products for every organization.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { startServer, type TestServer } from '../helpers/server.js';
import { createOrg } from '../helpers/orgs.js';
import { bearer, request, tokenFor, type Res } from '../helpers/http.js';
import { PRODUCTS } from '../../src/tasking/products.js';

const STAPI = 'https://stapi.example.com/v0.1.0';

describe('tasking API: landing page and products', () => {
  let s: TestServer;
  let ro: string;
  const get = (path: string, token = ro): Promise<Res> =>
    request(path.startsWith('http') ? path : `${s.url}${path}`, { headers: bearer(token) });
  const rels = (links: any[]) => links.map((l) => l.rel);
  const link = (links: any[], rel: string) => links.find((l) => l.rel === rel);

  before(async () => {
    s = await startServer();
    ro = await tokenFor(s.url, s.creds['read-only']);
  });
  after(() => s.close());

  it('landing page: STAPI conformance (opportunities at the root too) and links that resolve', async () => {
    const r = await get('/tasking');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, 'skyport-tasking');
    assert.ok(r.json.title && r.json.description);
    for (const c of ['core', 'order-statuses', 'opportunities']) assert.ok(r.json.conformsTo.includes(`${STAPI}/${c}`), c);
    for (const rel of ['self', 'root', 'conformance', 'products', 'orders', 'service-desc'])
      assert.ok(rels(r.json.links).includes(rel), rel);
    assert.equal(link(r.json.links, 'self').href, `${s.url}/tasking`);
    assert.equal(link(r.json.links, 'orders').href, `${s.url}/tasking/orders`);
    const conformance = await get(link(r.json.links, 'conformance').href);
    assert.deepEqual(conformance.json, { conformsTo: r.json.conformsTo });
    const api = await get(link(r.json.links, 'service-desc').href);
    assert.equal(api.status, 200);
    assert.match(api.headers.get('content-type')!, /^application\/vnd\.oai\.openapi\+json/);
    assert.equal(api.json.servers[0].url, `${s.url}/tasking`);
    assert.ok(api.json.paths['/products/{productId}/opportunities'].post);
    const products = await get(link(r.json.links, 'products').href);
    assert.equal(products.status, 200);
  });

  it('products: a ProductCollection of every product, each equal to its own resource', async () => {
    const r = await get('/tasking/products');
    assert.equal(r.status, 200);
    assert.equal(r.json.type, 'ProductCollection');
    assert.deepEqual(
      r.json.products.map((p: any) => p.id),
      PRODUCTS.map((p) => p.id),
    );
    assert.equal(link(r.json.links, 'self').href, `${s.url}/tasking/products`);
    assert.equal(link(r.json.links, 'next'), undefined);
    for (const p of r.json.products) {
      const one = await get(`/tasking/products/${p.id}`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.json, p);
    }
  });

  it('product list paging: limit and next; bad values are 400 naming the parameter', async () => {
    const first = await get('/tasking/products?limit=1');
    assert.equal(first.json.products.length, 1);
    const next = link(first.json.links, 'next');
    assert.ok(next, 'a next link');
    const second = await get(next.href);
    assert.deepEqual(
      second.json.products.map((p: any) => p.id),
      [PRODUCTS[1]!.id],
    );
    assert.equal(link(second.json.links, 'next'), undefined);
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=x', 'limit'],
      ['next=-1', 'next'],
      ['next=99', 'next'],
    ]) {
      const bad = await get(`/tasking/products?${q}`);
      assert.equal(bad.status, 400, q);
      assert.ok(bad.json.description.startsWith(`${field}:`), bad.json.description);
    }
  });

  it('each product is a STAPI Product with its limits, and links to its resources', async () => {
    for (const product of PRODUCTS) {
      const r = await get(`/tasking/products/${product.id}`);
      const p = r.json;
      assert.equal(p.type, 'Collection');
      assert.equal(p.stapi_type, 'Product');
      assert.equal(p.stapi_version, '0.1.0');
      assert.equal(p.id, product.id);
      assert.equal(p.title, product.title);
      assert.equal(p.description, product.description);
      assert.equal(p.license, 'proprietary');
      assert.ok(p.providers[0].name && p.providers[0].roles.includes('producer'));
      for (const c of [`${STAPI}/opportunities`, 'https://geojson.org/schema/Point.json', 'https://geojson.org/schema/Polygon.json'])
        assert.ok(p.conformsTo.includes(c), c);
      assert.equal(p['skyport:limits'].max_aoi_km2, product.maxAoiKm2);
      assert.equal(p['skyport:limits'].max_off_nadir_deg, product.maxOffNadirDeg);
      assert.equal(p['skyport:price'].currency, product.currency);
      const base = `${s.url}/tasking/products/${product.id}`;
      const want: Record<string, [string, string?]> = {
        self: [base],
        conformance: [`${base}/conformance`],
        queryables: [`${base}/queryables`],
        'order-parameters': [`${base}/order-parameters`],
        'create-order': [`${base}/orders`, 'POST'],
        opportunities: [`${base}/opportunities`, 'POST'],
      };
      for (const [rel, [href, method]] of Object.entries(want)) {
        const l = link(p.links, rel);
        assert.ok(l, `${product.id} ${rel}`);
        assert.equal(l.href, href);
        assert.equal(l.method, method);
      }
      const conformance = await get(link(p.links, 'conformance').href);
      assert.deepEqual(conformance.json, { conformsTo: p.conformsTo });
    }
  });

  it('queryables and order parameters are JSON Schemas that validate what the product takes', async () => {
    const ajv = new Ajv({ strict: false });
    for (const product of PRODUCTS) {
      const q = await get(`/tasking/products/${product.id}/queryables`);
      assert.equal(q.status, 200);
      assert.match(q.headers.get('content-type')!, /^application\/schema\+json/);
      assert.equal(q.json.$id, `${s.url}/tasking/products/${product.id}/queryables`);
      assert.deepEqual(Object.keys(q.json.properties).sort(), ['platform', 'view:off_nadir', 'view:sun_elevation']);
      assert.equal(q.json.properties['view:off_nadir'].maximum, product.maxOffNadirDeg);
      const o = await get(`/tasking/products/${product.id}/order-parameters`);
      assert.equal(o.status, 200);
      const schema = { ...o.json };
      delete schema.$id;
      const validate = ajv.compile(schema);
      assert.ok(validate({}));
      assert.ok(validate({ max_off_nadir: product.maxOffNadirDeg, priority: 'urgent', max_cloud_cover: 10 }));
      assert.ok(!validate({ max_off_nadir: product.maxOffNadirDeg + 1 }));
      assert.ok(!validate({ colour: 'blue' }));
      assert.equal(validate({ min_sun_elevation: 30 }), product.minSunElevationDeg !== null, 'a sun limit only where the product has one');
    }
  });

  it('unknown products are 404 on every product resource', async () => {
    for (const sub of ['', '/conformance', '/queryables', '/order-parameters']) {
      const r = await get(`/tasking/products/no-such-product${sub}`);
      assert.equal(r.status, 404, sub);
      assert.deepEqual(r.json, { code: 'NotFound', description: 'product no-such-product not found' });
    }
  });

  it('every organization with tasking:read sees the same products; no token 401, no tasking:read 403', async () => {
    const other = await createOrg(s, 'products');
    const theirs = await tokenFor(s.url, other.creds['read-only']);
    const tasking = await tokenFor(s.url, s.creds.tasking);
    for (const path of ['/tasking', '/tasking/products', `/tasking/products/${PRODUCTS[0]!.id}/queryables`]) {
      const mine = await get(path);
      assert.deepEqual((await get(path, theirs)).json, mine.json, path);
      assert.deepEqual((await get(path, tasking)).json, mine.json, path);
    }
    const catalogOnly = await tokenFor(s.url, s.creds['read-only'], '&scope=catalog:read');
    for (const path of [
      '/tasking',
      '/tasking/conformance',
      '/tasking/api',
      '/tasking/products',
      `/tasking/products/${PRODUCTS[0]!.id}/order-parameters`,
    ]) {
      const anon = await request(`${s.url}${path}`);
      assert.equal(anon.status, 401, path);
      const denied = await get(path, catalogOnly);
      assert.equal(denied.status, 403, path);
      assert.match(denied.headers.get('www-authenticate')!, /error="insufficient_scope"/);
    }
  });
});
