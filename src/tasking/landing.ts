/**
 * The STAPI v0.1.0 tasking API's read side under `<base>/tasking` (tasking-notes §1.1–1.3), all behind
 * `tasking:read` with Data API error bodies: landing page, `/conformance`, `/api` (OpenAPI 3.0),
 * `/products` (ProductCollection), `/products/{id}` (Product) with its `/conformance`, `/queryables` and
 * `/order-parameters`, and the opportunity search (opportunities.ts). Products are configuration
 * (products.ts), the same for every organization. Orders live in orders.ts.
 */
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { badRequest } from '../http/errors.js';
import type { TaskingStorage } from '../storage/tasking.js';
import { opportunityRoutes } from './opportunities.js';
import { orderParametersSchema, PRODUCTS, queryablesSchema, type TaskingProduct } from './products.js';
import { productOr404 } from './requests.js';

export const STAPI_VERSION = '0.1.0';
const STAPI = `https://stapi.example.com/v${STAPI_VERSION}`;
/** API-level conformance classes (tasking-notes §1.2); the URIs really are on stapi.example.com. */
export const STAPI_CORE = `${STAPI}/core`;
export const STAPI_ORDER_STATUSES = `${STAPI}/order-statuses`;
/** Product-level class of the synchronous opportunity search. */
export const STAPI_OPPORTUNITIES = `${STAPI}/opportunities`;
/** The geometry classes a product accepts as AOI (a product must list at least one). */
export const GEOMETRY_CLASSES = ['https://geojson.org/schema/Point.json', 'https://geojson.org/schema/Polygon.json'];
/** Root `conformsTo`: pystapi-client looks for opportunity support here, not per product (tasking-notes §1.2). */
export const TASKING_CONFORMANCE = [STAPI_CORE, STAPI_ORDER_STATUSES, STAPI_OPPORTUNITIES];
/** Per-product `conformsTo`. */
export const PRODUCT_CONFORMANCE = [STAPI_OPPORTUNITIES, ...GEOMETRY_CLASSES];

const JSON_TYPE = 'application/json';
const GEOJSON = 'application/geo+json';
const SCHEMA_JSON = 'application/schema+json';
const OPENAPI = 'application/vnd.oai.openapi+json;version=3.0';
const enc = encodeURIComponent;

/** `<base>/tasking/products/<id>`. */
export function productUrl(base: string, id: string): string {
  return `${base}/tasking/products/${enc(id)}`;
}

/**
 * A STAPI Product (tasking-notes §1.3; stapi-pydantic `product.py`): a STAC-Collection-like object with
 * `stapi_type: "Product"`, conformance (opportunities + Point/Polygon AOIs), providers and the links
 * self, root, conformance, queryables, order-parameters, create-order (POST), opportunities (POST).
 * Skyport extensions: `skyport:limits` (request limits and imaging constraints) and `skyport:price`
 * (per order by priority, minor units of `currency`).
 */
export function presentProduct(p: TaskingProduct, base: string): Record<string, unknown> {
  const self = productUrl(base, p.id);
  return {
    type: 'Collection',
    stapi_type: 'Product',
    stapi_version: STAPI_VERSION,
    id: p.id,
    title: p.title,
    description: p.description,
    keywords: ['tasking', p.sensor, p.instrument],
    license: 'proprietary',
    providers: [
      { name: 'Skyport', description: 'Satellite tasking of this Skyport deployment', roles: ['producer', 'processor', 'host'], url: base },
    ],
    conformsTo: [...PRODUCT_CONFORMANCE],
    'skyport:limits': {
      sensor: p.sensor,
      gsd_m: p.gsdM,
      scene_size_km: p.sceneSizeKm,
      max_off_nadir_deg: p.maxOffNadirDeg,
      min_sun_elevation_deg: p.minSunElevationDeg,
      max_aoi_km2: p.maxAoiKm2,
      max_window_days: p.maxWindowDays,
      max_element_age_days: p.maxElementAgeDays,
    },
    // Major units of the currency, as orders show their price.
    'skyport:price': { currency: p.currency, ...Object.fromEntries(Object.entries(p.price).map(([k, v]) => [k, v / 100])) },
    links: [
      { rel: 'self', type: JSON_TYPE, href: self },
      { rel: 'root', type: JSON_TYPE, href: `${base}/tasking` },
      { rel: 'conformance', type: JSON_TYPE, href: `${self}/conformance` },
      { rel: 'queryables', type: SCHEMA_JSON, href: `${self}/queryables` },
      { rel: 'order-parameters', type: SCHEMA_JSON, href: `${self}/order-parameters` },
      { rel: 'create-order', type: GEOJSON, href: `${self}/orders`, method: 'POST' },
      { rel: 'opportunities', type: GEOJSON, href: `${self}/opportunities`, method: 'POST' },
    ],
  };
}

/** `?limit` (1…100, default 10) and `?next` (offset token) of `GET /tasking/products`; 400 naming the parameter. */
function productPage(query: Record<string, unknown>): { offset: number; limit: number } {
  const limit = query.limit === undefined ? 10 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badRequest('limit: must be an integer from 1 to 100');
  const next = query.next;
  if (next === undefined) return { offset: 0, limit };
  const offset = typeof next === 'string' && /^\d{1,6}$/.test(next) ? Number(next) : NaN;
  if (!(offset <= PRODUCTS.length)) throw badRequest('next: not a paging token of this list');
  return { offset, limit };
}

/** Everything `taskingProductRoutes` needs. `now` is the tasking clock (epoch ms, default Date.now). */
export interface TaskingProductDeps {
  storage: TaskingStorage;
  publicUrl: string;
  guard: (p: Permission) => preValidationAsyncHookHandler;
  now?: () => number;
}

/**
 * Registers the read side of the tasking API (this module's comment) and the opportunity search.
 * Unknown product ids answer 404 NotFound; a token without tasking:read 403 insufficient_scope.
 */
export async function taskingProductRoutes(app: FastifyInstance, deps: TaskingProductDeps): Promise<void> {
  const base = deps.publicUrl;
  const opts = { preValidation: deps.guard('tasking:read'), config: { errorStyle: 'data' as const } };
  const landing = {
    id: 'skyport-tasking',
    title: 'Skyport Tasking API',
    description:
      'STAPI v0.1.0 tasking of the Skyport constellation: products, imaging opportunities and orders. Bearer token required (tasking:read).',
    stapi_version: STAPI_VERSION,
    conformsTo: [...TASKING_CONFORMANCE],
    links: [
      { rel: 'self', type: JSON_TYPE, href: `${base}/tasking` },
      { rel: 'root', type: JSON_TYPE, href: `${base}/tasking` },
      { rel: 'conformance', type: JSON_TYPE, href: `${base}/tasking/conformance` },
      { rel: 'products', type: JSON_TYPE, href: `${base}/tasking/products` },
      { rel: 'orders', type: GEOJSON, href: `${base}/tasking/orders` },
      { rel: 'service-desc', type: OPENAPI, href: `${base}/tasking/api` },
    ],
  };
  app.get('/tasking', opts, async () => landing);
  app.get('/tasking/conformance', opts, async () => ({ conformsTo: landing.conformsTo }));
  const openapi = taskingOpenApi(base);
  app.get('/tasking/api', opts, async (_req, reply) => reply.type(OPENAPI).send(openapi));

  app.get<{ Querystring: Record<string, unknown> }>('/tasking/products', opts, async (req) => {
    const { offset, limit } = productPage(req.query);
    const links: Record<string, unknown>[] = [
      { rel: 'self', type: JSON_TYPE, href: `${base}/tasking/products` },
      { rel: 'root', type: JSON_TYPE, href: `${base}/tasking` },
    ];
    if (offset + limit < PRODUCTS.length)
      links.push({ rel: 'next', type: JSON_TYPE, href: `${base}/tasking/products?limit=${limit}&next=${offset + limit}` });
    return { type: 'ProductCollection', products: PRODUCTS.slice(offset, offset + limit).map((p) => presentProduct(p, base)), links };
  });
  type P = { Params: { productId: string } };
  app.get<P>('/tasking/products/:productId', opts, async (req) => presentProduct(productOr404(req.params.productId), base));
  app.get<P>('/tasking/products/:productId/conformance', opts, async (req) => {
    productOr404(req.params.productId);
    return { conformsTo: [...PRODUCT_CONFORMANCE] };
  });
  app.get<P>('/tasking/products/:productId/queryables', opts, async (req, reply) => {
    const p = productOr404(req.params.productId);
    const schema = { ...queryablesSchema(p), $id: `${productUrl(base, p.id)}/queryables`, title: `Queryables of ${p.id}` };
    return reply.type(SCHEMA_JSON).send(schema);
  });
  app.get<P>('/tasking/products/:productId/order-parameters', opts, async (req, reply) => {
    const p = productOr404(req.params.productId);
    const schema = { ...orderParametersSchema(p), $id: `${productUrl(base, p.id)}/order-parameters`, title: `Order parameters of ${p.id}` };
    return reply.type(SCHEMA_JSON).send(schema);
  });
  await opportunityRoutes(app, deps);
}

/**
 * A compact OpenAPI 3.0 description of the tasking API (paths, operations, permissions, media types;
 * bodies by reference to the STAPI v0.1.0 spec), served at `/tasking/api` as the landing page's service-desc.
 */
function taskingOpenApi(base: string): Record<string, unknown> {
  const sec = (p: Permission) => [{ oauth2: [p] }];
  const ok = (description: string, type = JSON_TYPE) => ({ description, content: { [type]: { schema: { type: 'object' } } } });
  const errors = {
    '400': { description: 'Bad request: the description names the field' },
    '401': { description: 'No or invalid access token' },
    '403': { description: 'The token lacks the permission' },
    '404': { description: 'No such resource (another organization’s orders included)' },
  };
  const pid = { name: 'productId', in: 'path', required: true, schema: { type: 'string', enum: PRODUCTS.map((p) => p.id) } };
  const oid = { name: 'orderId', in: 'path', required: true, schema: { type: 'string' } };
  const get = (summary: string, p: Permission, type = JSON_TYPE, parameters: unknown[] = []) => ({
    get: { summary, security: sec(p), parameters, responses: { '200': ok(summary, type), ...errors } },
  });
  const body = (description: string) => ({ required: true, content: { [JSON_TYPE]: { schema: { type: 'object' } } }, description });
  return {
    openapi: '3.0.3',
    info: {
      title: 'Skyport Tasking API (STAPI v0.1.0)',
      version: STAPI_VERSION,
      description: 'https://github.com/stapi-spec/stapi-spec/tree/v0.1.0',
    },
    servers: [{ url: `${base}/tasking` }],
    components: {
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: `${base}/oauth2/token`,
              scopes: { 'tasking:read': 'Read products, opportunities, orders', 'tasking:order': 'Place and cancel orders' },
            },
          },
        },
      },
    },
    paths: {
      '/': get('Landing page', 'tasking:read'),
      '/conformance': get('Conformance classes', 'tasking:read'),
      '/products': get('Products (ProductCollection)', 'tasking:read', JSON_TYPE, [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 10 } },
        { name: 'next', in: 'query', schema: { type: 'string' } },
      ]),
      '/products/{productId}': get('Product', 'tasking:read', JSON_TYPE, [pid]),
      '/products/{productId}/conformance': get('Product conformance classes', 'tasking:read', JSON_TYPE, [pid]),
      '/products/{productId}/queryables': get('Queryables (JSON Schema)', 'tasking:read', SCHEMA_JSON, [pid]),
      '/products/{productId}/order-parameters': get('Order parameters (JSON Schema)', 'tasking:read', SCHEMA_JSON, [pid]),
      '/products/{productId}/opportunities': {
        post: {
          summary: 'Search imaging opportunities (synchronous)',
          security: sec('tasking:read'),
          parameters: [pid],
          requestBody: body(
            'OpportunityPayload {datetime "start/end", geometry Point|Polygon, filter (CQL2-JSON), limit, next, order_parameters}',
          ),
          responses: { '200': ok('OpportunityCollection', GEOJSON), ...errors },
        },
      },
      '/products/{productId}/orders': {
        post: {
          summary: 'Create an order (Idempotency-Key supported)',
          security: sec('tasking:order'),
          parameters: [pid, { name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
          requestBody: body('OrderPayload {datetime, geometry, filter, order_parameters}'),
          responses: { '201': ok('Order', GEOJSON), '422': { description: 'Idempotency-Key reused with another request' }, ...errors },
        },
      },
      '/orders': get('Orders of the organization (FeatureCollection)', 'tasking:read', GEOJSON),
      '/orders/{orderId}': get('Order', 'tasking:read', GEOJSON, [oid]),
      '/orders/{orderId}/statuses': get('Status history of an order', 'tasking:read', JSON_TYPE, [oid]),
      '/orders/{orderId}/cancel': {
        post: {
          summary: 'Cancel an order (Skyport extension; only while received or accepted)',
          security: sec('tasking:order'),
          parameters: [oid],
          responses: { '200': ok('Order', GEOJSON), '409': { description: 'No longer cancellable' }, ...errors },
        },
      },
    },
  };
}
