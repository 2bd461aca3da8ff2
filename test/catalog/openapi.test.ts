/**
 * The Data API's OpenAPI 3.0 description (OGC API - Features Part 1 /req/oas30): the document's own
 * structure (paths, operations, security, internal `$ref`s, examples valid against their schemas), then
 * the document held against a running server: real answers have documented statuses, media types,
 * headers and bodies valid against the documented schemas; every documented example parameter is
 * accepted; and `GET /api` serves the document itself (once src/main.ts registers `openapiRoutes`).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { OPENAPI_MEDIA_TYPE, SEARCH_PARAMETERS, openapiDocument } from '../../src/catalog/openapi.js';
import type { ItemRecord } from '../../src/storage/types.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { bearer, request, tokenFor, type Res } from '../helpers/http.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext a default import yields the module object.
const addFormats = addFormatsModule.default;

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const REQUIRED: Record<string, string[]> = {
  '/': ['get'],
  '/conformance': ['get'],
  '/api': ['get'],
  '/queryables': ['get'],
  '/collections': ['get'],
  '/collections/{collectionId}': ['get'],
  '/collections/{collectionId}/queryables': ['get'],
  '/collections/{collectionId}/items': ['get'],
  '/collections/{collectionId}/items/{itemId}': ['get'],
  '/collections/{collectionId}/items/{itemId}/assets/{assetKey}': ['get'],
  '/search': ['get', 'post'],
};
const ITEM_SEARCH = ['bbox', 'intersects', 'datetime', 'ids', 'collections', 'limit', 'token', 'sortby', 'fields'];
const EXTENSIONS = ['filter', 'filter-lang', 'filter-crs', 'query', 'q'];

/** The value at an internal JSON pointer (`#/a/b~1c`), or undefined. */
function pointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let cur: unknown = doc;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!cur || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Json)[key];
  }
  return cur;
}

/** Every `$ref` that does not resolve inside the document, or has siblings (ignored by OpenAPI 3.0), as `where: ref`. */
function badRefs(doc: Json): string[] {
  const bad: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) node.forEach((x, i) => walk(x, `${at}/${i}`));
    else if (node && typeof node === 'object') {
      const ref = (node as Json).$ref;
      if (ref !== undefined) {
        if (typeof ref !== 'string' || pointer(doc, ref) === undefined) bad.push(`${at}: ${String(ref)}`);
        if (Object.keys(node).length !== 1) bad.push(`${at}: $ref with siblings`);
      } else for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
  };
  walk(doc, '#');
  return bad;
}

/** Follows `$ref`s to the object they name. */
function deref(doc: Json, node: Json): Json {
  let cur = node;
  for (let n = 0; cur && typeof cur.$ref === 'string' && n < 20; n++) cur = pointer(doc, cur.$ref) as Json;
  return cur;
}

function operations(doc: Json): { path: string; method: string; op: Json }[] {
  return Object.entries(doc.paths as Json).flatMap(([p, item]) =>
    Object.entries(item as Json)
      .filter(([m]) => METHODS.includes(m))
      .map(([method, op]) => ({ path: p, method, op: op as Json })),
  );
}

const paramsOf = (doc: Json, op: Json): Json[] => (op.parameters ?? []).map((p: Json) => deref(doc, p));
/** A parameter's example: on the parameter, or on its one media type when it has `content`. */
const exampleOf = (x: Json): any => (x.content ? (Object.values(x.content)[0] as Json).example : x.example);

/** Validators for places in one document (JSON pointers), compiled by one Ajv instance (OpenAPI 3.0 `nullable` included). */
function validators(doc: Json): (at: string) => ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  ajv.addSchema(doc, 'oas');
  const cache = new Map<string, ValidateFunction>();
  return (at) => {
    if (!cache.has(at)) cache.set(at, ajv.compile({ $ref: `oas${at}` }));
    return cache.get(at)!;
  };
}

function assertValid(v: ValidateFunction, value: unknown, what: string): void {
  assert.ok(v(value), `${what}: ${JSON.stringify(v.errors?.slice(0, 5))}`);
}

describe('openapiDocument', () => {
  const base = 'https://skyport.example.com/data';
  const doc: Json = openapiDocument(base, { defaultLimit: 7, maxLimit: 70 });
  const search = doc.paths['/search'];

  it('is a plain OpenAPI 3.0 document for this server', () => {
    assert.match(doc.openapi, /^3\.0\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(doc.servers, [{ url: base }]);
    // JSON round trip: no undefined members, functions or class instances.
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  });

  it('describes every path and method of the Data API', () => {
    for (const [p, methods] of Object.entries(REQUIRED)) {
      assert.ok(doc.paths[p], `missing path ${p}`);
      for (const m of methods) assert.ok(doc.paths[p][m], `missing ${m.toUpperCase()} ${p}`);
    }
  });

  it('gives every operation a unique operationId, a 2xx answer and the error answers', () => {
    const ids = new Set<string>();
    for (const { path: p, method, op } of operations(doc)) {
      const at = `${method.toUpperCase()} ${p}`;
      assert.equal(typeof op.operationId, 'string', at);
      assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      const codes = Object.keys(op.responses ?? {});
      assert.ok(
        codes.some((c) => /^2\d\d$/.test(c)),
        `${at}: no 2xx response`,
      );
      for (const c of ['400', '401', '403']) assert.ok(codes.includes(c), `${at}: no ${c}`);
      if (p.includes('{')) assert.ok(codes.includes('404'), `${at}: no 404`);
      for (const [code, r] of Object.entries(op.responses as Json))
        assert.equal(typeof deref(doc, r as Json).description, 'string', `${at} ${code}`);
    }
  });

  it('has every $ref resolve inside the document', () => {
    assert.deepEqual(badRefs(doc), []);
    // The checker itself finds a dangling reference and a reference with siblings.
    const broken = { a: { $ref: '#/components/schemas/nope' }, b: { $ref: '#/a', description: 'x' }, c: { $ref: 'other.yaml#/x' } };
    assert.deepEqual(badRefs(broken), ['#/a: #/components/schemas/nope', '#/b: $ref with siblings', '#/c: other.yaml#/x']);
  });

  it('declares every path template parameter, and each parameter has exactly one schema or content', () => {
    for (const { path: p, method, op } of operations(doc)) {
      const params = paramsOf(doc, op);
      const inPath = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = params.filter((x) => x.in === 'path');
      assert.deepEqual(declared.map((x) => x.name).sort(), [...inPath].sort(), `${method} ${p}`);
      for (const x of declared) assert.equal(x.required, true, `${p} ${x.name}`);
      for (const x of params) {
        assert.ok(['query', 'header', 'path', 'cookie'].includes(x.in), `${p} ${x.name}`);
        assert.ok((x.schema === undefined) !== (x.content === undefined), `${p} ${x.name}: schema xor content`);
        if (x.content) assert.equal(Object.keys(x.content).length, 1, `${p} ${x.name}: one media type`);
      }
      const names = params.map((x) => `${x.in}:${x.name}`);
      assert.equal(new Set(names).size, names.length, `${method} ${p}: duplicate parameter`);
    }
  });

  it('uses the STAC API parameter names: item search, its extensions, features and collection search', () => {
    const names = (op: Json) => paramsOf(doc, op).map((x) => x.name);
    assert.deepEqual(names(search.get).sort(), [...ITEM_SEARCH, ...EXTENSIONS].sort());
    assert.deepEqual([...SEARCH_PARAMETERS].sort(), [...ITEM_SEARCH, ...EXTENSIONS].sort());
    // POST takes the same names in its body.
    const body = deref(doc, search.post.requestBody.content['application/json'].schema);
    assert.deepEqual(Object.keys(body.properties).sort(), [...ITEM_SEARCH, ...EXTENSIONS].sort());
    const items = names(doc.paths['/collections/{collectionId}/items'].get);
    assert.deepEqual(
      items.sort(),
      ['collectionId', ...[...ITEM_SEARCH, ...EXTENSIONS].filter((n) => n !== 'ids' && n !== 'collections')].sort(),
    );
    assert.deepEqual(names(doc.paths['/collections'].get).sort(), ['bbox', 'datetime', 'limit', 'q', 'token']);
  });

  it('advertises the page sizes it is given, and none when it is given none', () => {
    const limitOf = (d: Json, p: string) => deref(d, paramsOf(d, d.paths[p].get).find((x) => x.name === 'limit')!.schema);
    assert.deepEqual(limitOf(doc, '/search'), { type: 'integer', minimum: 1, maximum: 70, default: 7 });
    assert.deepEqual(limitOf(doc, '/collections/{collectionId}/items'), { type: 'integer', minimum: 1, maximum: 70, default: 7 });
    assert.deepEqual(limitOf(doc, '/collections'), { type: 'integer', minimum: 1, maximum: 70, default: 70 });
    assert.deepEqual(limitOf(openapiDocument(base), '/search'), { type: 'integer', minimum: 1 });
  });

  it('secures every operation by OAuth 2.0 client credentials or a bearer JWT', () => {
    const schemes = doc.components.securitySchemes;
    assert.equal(schemes.oauth2.type, 'oauth2');
    assert.equal(schemes.oauth2.flows.clientCredentials.tokenUrl, `${base}/oauth2/token`);
    assert.deepEqual(Object.keys(schemes.oauth2.flows.clientCredentials.scopes).sort(), [
      'assets:read',
      'catalog:read',
      'tasking:order',
      'tasking:read',
    ]);
    assert.deepEqual(schemes.bearerAuth, { ...schemes.bearerAuth, type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const { path: p, op } of operations(doc)) {
      const want = p.endsWith('/assets/{assetKey}') ? 'assets:read' : 'catalog:read';
      assert.deepEqual(op.security, [{ oauth2: [want] }, { bearerAuth: [] }], p);
    }
  });

  it('answers errors with the {code, description} body, and 401/403 with a WWW-Authenticate challenge', () => {
    for (const { path: p, op } of operations(doc)) {
      for (const code of ['400', '401', '403', '404']) {
        if (!op.responses[code]) continue;
        const r = deref(doc, op.responses[code]);
        const schema = deref(doc, r.content['application/json'].schema);
        assert.deepEqual(schema.required, ['code', 'description'], `${p} ${code}`);
        if (code === '401' || code === '403') assert.equal(r.headers['WWW-Authenticate'].required, true, `${p} ${code}`);
      }
    }
  });

  it('documents byte ranges on the asset download', () => {
    const op = doc.paths['/collections/{collectionId}/items/{itemId}/assets/{assetKey}'].get;
    assert.ok(paramsOf(doc, op).some((x) => x.in === 'header' && x.name === 'Range'));
    for (const code of ['200', '206', '416']) assert.ok(op.responses[code], code);
    assert.equal(op.responses['206'].headers['Content-Range'].required, true);
    assert.equal(op.responses['416'].headers['Content-Range'].required, true);
  });

  it('has every example valid against its own schema, whatever the page sizes', () => {
    let checked = 0;
    for (const d of [doc, openapiDocument(base), openapiDocument(base, { defaultLimit: 1, maxLimit: 1 })] as Json[]) {
      const check = validators(d);
      for (const [name, s] of Object.entries(d.components.schemas as Json)) {
        if (s.example === undefined) continue;
        assertValid(check(`#/components/schemas/${name}`), s.example, `schema ${name}`);
        checked++;
      }
      for (const [name, x] of Object.entries(d.components.parameters as Json)) {
        const example = exampleOf(x);
        if (example === undefined) continue;
        const at = x.content
          ? `#/components/parameters/${name}/content/application~1json/schema`
          : `#/components/parameters/${name}/schema`;
        // A GET string parameter carries its example as text; a list or JSON one as the value.
        assertValid(check(at), example, `parameter ${name}`);
        checked++;
      }
    }
    const v = validators(doc);
    assert.ok(checked >= 3 * 15, `only ${checked} examples`);
    // And the schemas do refuse: a 5-number bbox, an unknown query operator, a bad sort direction.
    assert.equal(v('#/components/schemas/searchBody')({ bbox: [1, 2, 3, 4, 5] }), false);
    assert.equal(v('#/components/schemas/searchBody')({ query: { platform: { like: 'x' } } }), false);
    assert.equal(v('#/components/schemas/searchBody')({ sortby: [{ field: 'id', direction: 'up' }] }), false);
  });
});

function item(collection: string, id: string, lon: number, lat: number, props: Record<string, unknown> = {}): ItemRecord {
  const d = 0.1;
  const ring = [
    [lon - d, lat - d],
    [lon + d, lat - d],
    [lon + d, lat + d],
    [lon - d, lat + d],
    [lon - d, lat - d],
  ];
  return {
    collection,
    id,
    item: {
      type: 'Feature',
      stac_version: '1.0.0',
      id,
      collection,
      geometry: { type: 'Polygon', coordinates: [ring] },
      bbox: [lon - d, lat - d, lon + d, lat + d],
      properties: { datetime: '2024-05-01T10:00:00Z', title: `Thermal scene ${id}`, platform: 'skyport-1', 'eo:cloud_cover': 5, ...props },
      links: [],
      assets: { data: { href: `asset:${collection}/${id}/data.bin`, type: 'application/octet-stream', roles: ['data'] } },
    },
  };
}

describe('the document against a running server', () => {
  let s: TestServer;
  let t: string;
  let catalogOnly: string;
  let doc: Json;
  let v: (at: string) => ValidateFunction;
  const bytes = Buffer.from(Array.from({ length: 5000 }, (_, n) => n % 251));

  before(async () => {
    s = await startServer();
    const body = {
      type: 'Collection',
      stac_version: '1.0.0',
      id: 'oas',
      title: 'OpenAPI test scenes',
      description: 'Thermal scenes over Zurich',
      license: 'proprietary',
      keywords: ['thermal'],
      extent: { spatial: { bbox: [[8, 47, 9, 48]] }, temporal: { interval: [['2024-01-01T00:00:00Z', null]] } },
      links: [],
    };
    await s.skyport.storage.upsertCollection({ id: 'oas', access: 'open', ownerOrgId: null, body, updatedAt: 1 });
    const bare = item('oas', 'no-geometry', 0, 0);
    const { bbox: _bbox, ...rest } = bare.item;
    bare.item = { ...rest, geometry: null, assets: {} };
    await s.skyport.storage.upsertItems([
      item('oas', 'scene-1', 8.5, 47.4),
      item('oas', 'scene-2', 8.6, 47.3, { 'eo:cloud_cover': 40 }),
      bare,
    ]);
    mkdirSync(path.join(s.config.assetsDir, 'oas', 'scene-1'), { recursive: true });
    writeFileSync(path.join(s.config.assetsDir, 'oas', 'scene-1', 'data.bin'), bytes);
    t = await tokenFor(s.url, s.creds['read-only']);
    catalogOnly = await tokenFor(s.url, s.creds['read-only'], '&scope=catalog:read');
    doc = openapiDocument(s.url, { defaultLimit: s.config.searchDefaultLimit, maxLimit: s.config.searchMaxLimit });
    v = validators(doc);
  });
  after(() => s.close());

  const get = (p: string, headers: Record<string, string> = bearer(t)) => request(`${s.url}${p}`, { headers });
  const post = (body: unknown) =>
    request(`${s.url}/search`, {
      method: 'POST',
      headers: { ...bearer(t), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** Asserts the answer has a documented status, media type and required headers, and a body valid against the schema. */
  function assertDocumented(method: string, template: string, res: Res): void {
    const at = `${method.toUpperCase()} ${template} → ${res.status}`;
    const op = doc.paths[template][method];
    const pointerOf =
      op.responses[String(res.status)]?.$ref ?? `#/paths/${template.replace(/\//g, '~1')}/${method}/responses/${res.status}`;
    const r = pointer(doc, pointerOf) as Json | undefined;
    assert.ok(r, `${at}: status not documented (${res.text.slice(0, 200)})`);
    for (const [name, h] of Object.entries((r.headers ?? {}) as Json)) {
      if (h.required) assert.ok(res.headers.get(name), `${at}: no ${name} header`);
    }
    if (!r.content) return;
    const got = (res.headers.get('content-type') ?? '').split(';').map((x) => x.trim());
    const key = Object.keys(r.content).find((k) => {
      const [kb, ...kp] = k.split(';').map((x) => x.trim());
      return (kb === '*/*' || kb === got[0]) && kp.every((x) => got.includes(x));
    });
    assert.ok(key, `${at}: content type ${res.headers.get('content-type')} not among ${Object.keys(r.content).join(', ')}`);
    if (key !== '*/*') assertValid(v(`${pointerOf}/content/${key.replace(/\//g, '~1')}/schema`), res.json, at);
  }

  it('is linked from the landing page as service-desc', async () => {
    const r = await get('/');
    assertDocumented('get', '/', r);
    const desc = r.json.links.filter((l: Json) => l.rel === 'service-desc');
    assert.deepEqual(desc, [{ rel: 'service-desc', type: OPENAPI_MEDIA_TYPE, href: `${s.url}/api` }]);
  });

  it('describes what each route answers, successes and errors alike', async () => {
    const cases: [string, string, Record<string, string>?][] = [
      ['/', '/'],
      ['/conformance', '/conformance'],
      ['/queryables', '/queryables'],
      ['/collections', '/collections'],
      ['/collections', '/collections?bbox=1,2,3'],
      ['/collections/{collectionId}', '/collections/oas'],
      ['/collections/{collectionId}', '/collections/nope'],
      ['/collections/{collectionId}/queryables', '/collections/oas/queryables'],
      ['/collections/{collectionId}/items', '/collections/oas/items'],
      ['/collections/{collectionId}/items', '/collections/nope/items'],
      ['/collections/{collectionId}/items/{itemId}', '/collections/oas/items/scene-1'],
      ['/collections/{collectionId}/items/{itemId}', '/collections/oas/items/no-geometry'],
      ['/collections/{collectionId}/items/{itemId}', '/collections/oas/items/nope'],
      ['/search', '/search'],
      ['/search', '/search?bbox=1,2,3'],
      ['/search', `/search?access_token=${t}`, {}],
      ['/search', '/search', {}],
      ['/search', '/search', bearer('not.a.jwt')],
      ['/collections/{collectionId}/items/{itemId}/assets/{assetKey}', '/collections/oas/items/scene-1/assets/data', bearer(catalogOnly)],
    ];
    const statuses = new Set<number>();
    for (const [template, p, headers] of cases) {
      const r = await get(p, headers);
      statuses.add(r.status);
      assertDocumented('get', template, r);
    }
    assert.deepEqual([...statuses].sort(), [200, 400, 401, 403, 404]);
    // Without `fields`, every feature of a page is a whole Item.
    const page = await get('/search?collections=oas');
    assert.equal(page.json.features.length, 3);
    for (const f of page.json.features) assertValid(v('#/components/schemas/item'), f, f.id);
    assert.equal(v('#/components/schemas/item')({ ...page.json.features[0], geometry: undefined }), false);
  });

  it('documents the asset download: whole, one range, and a range outside the asset', async () => {
    const p = '/collections/oas/items/scene-1/assets/data';
    const template = '/collections/{collectionId}/items/{itemId}/assets/{assetKey}';
    const whole = await get(p);
    assert.equal(whole.status, 200);
    assertDocumented('get', template, whole);
    const part = await get(p, { ...bearer(t), range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assertDocumented('get', template, part);
    const outside = await get(p, { ...bearer(t), range: 'bytes=99999-' });
    assert.equal(outside.status, 416);
    assertDocumented('get', template, outside);
  });

  it('has every example parameter accepted by the server', async () => {
    for (const template of ['/search', '/collections/{collectionId}/items', '/collections']) {
      const without: string[] = [];
      for (const x of paramsOf(doc, doc.paths[template].get)) {
        if (x.in !== 'query') continue;
        const example = exampleOf(x);
        if (example === undefined) {
          without.push(x.name);
          continue;
        }
        const schema = x.schema ? deref(doc, x.schema) : undefined;
        const text = x.content ? JSON.stringify(example) : schema?.type === 'array' ? example.join(',') : String(example);
        const r = await get(`${template.replace('{collectionId}', 'oas')}?${new URLSearchParams({ [x.name]: text })}`);
        assert.equal(r.status, 200, `${template} ${x.name}=${text}: ${r.text.slice(0, 300)}`);
        assertDocumented('get', template, r);
      }
      // Only the paging token has no example: it comes from a `next` link (next test).
      assert.deepEqual(without, ['token'], template);
    }
  });

  it('pages with the documented token parameter, on GET and POST', async () => {
    const first = await get('/search?limit=1&collections=oas');
    const next = first.json.links.find((l: Json) => l.rel === 'next');
    const token = new URL(next.href).searchParams.get('token');
    assert.ok(token);
    const second = await get(`/search?limit=1&collections=oas&token=${encodeURIComponent(token)}`);
    assert.equal(second.status, 200);
    assertDocumented('get', '/search', second);
    assert.notEqual(second.json.features[0].id, first.json.features[0].id);
    const postNext = (await post({ limit: 1, collections: ['oas'] })).json.links.find((l: Json) => l.rel === 'next');
    assertValid(v('#/components/schemas/searchBody'), postNext.body, 'the next body');
    assertValid(v('#/components/schemas/link'), postNext, 'the next link');
    assert.equal(typeof postNext.body.token, 'string');
  });

  it('accepts the documented POST body example, and refuses what the body schema refuses', async () => {
    const example = doc.components.schemas.searchBody.example;
    assertValid(v('#/components/schemas/searchBody'), example, 'searchBody example');
    const r = await post(example);
    assert.equal(r.status, 200, r.text);
    assertDocumented('post', '/search', r);
    const own = await post({ ...example, collections: ['oas'], bbox: [8, 47, 9, 48] });
    assertDocumented('post', '/search', own);
    assert.deepEqual(
      own.json.features.map((f: Json) => f.id),
      ['scene-1'],
    );
    for (const bad of [{ bbox: [1, 2, 3, 4, 5] }, { query: { platform: { like: 'x' } } }, { sortby: [{ field: 'id', direction: 'up' }] }]) {
      assert.equal(v('#/components/schemas/searchBody')(bad), false, JSON.stringify(bad));
      const res = await post(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assertDocumented('post', '/search', res);
    }
  });

  it('serves itself at GET /api to a bearer of catalog:read, and 401 without a token', async () => {
    const anonymous = await get('/api', {});
    assert.equal(anonymous.status, 401, 'GET /api is not registered yet: src/main.ts must call openapiRoutes');
    assertDocumented('get', '/api', anonymous);
    const r = await get('/api', bearer(catalogOnly));
    assert.equal(r.status, 200);
    assertDocumented('get', '/api', r);
    assert.equal(r.headers.get('content-type'), OPENAPI_MEDIA_TYPE);
    assert.deepEqual(r.json, doc);
  });
});
