/**
 * STAPI v0.1.0 order routes (tasking-notes §1.1, §1.5, §1.6) on the Data API, errors `{code, description}`:
 *
 *   POST /tasking/products/{productId}/orders   tasking:order  OrderPayload → 201 + Location + the Order;
 *                                                              `Idempotency-Key` replays (201, `Idempotent-Replayed: true`)
 *   GET  /tasking/orders                         tasking:read   FeatureCollection of Orders, newest first, `?limit` (1–100,
 *                                                              default 10) and `?next` (from the `next` link; unknown → 404)
 *   GET  /tasking/orders/{orderId}               tasking:read   the Order
 *   GET  /tasking/orders/{orderId}/statuses      tasking:read   `{statuses (oldest first; the last is current), links}`
 *   POST /tasking/orders/{orderId}/cancel        tasking:order  Skyport extension: → 200 the cancelled Order; 409 once scheduled
 *
 * Another organization's order answers 404 exactly like a missing one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { badRequest, notFound } from '../http/errors.js';
import type { Storage } from '../storage/types.js';
import { cancelOrder, orderUrl, orderView, parseIdempotencyKey, placeOrder, statusView, type Caller } from './order-service.js';

const GEOJSON = 'application/geo+json';
/** Page size of `GET /tasking/orders` without `limit`, and the largest `limit` accepted (STAPI reference: 10). */
export const DEFAULT_ORDER_LIMIT = 10;
export const MAX_ORDER_LIMIT = 100;

/** What the order routes need; `guard` is the Data API bearer guard (access/guard.ts). */
export interface OrderRouteDeps {
  storage: Storage;
  publicUrl: string;
  guard: (p: Permission) => preValidationAsyncHookHandler;
  /** Wall clock, ms (default Date.now). */
  now?: () => number;
}

type IdRoute = { Params: { orderId: string } };

function caller(req: FastifyRequest): Caller {
  return { orgId: req.principal!.orgId, clientId: req.principal!.clientId };
}

function parseLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_ORDER_LIMIT;
  const n = typeof raw === 'string' && /^[0-9]{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_ORDER_LIMIT) throw badRequest(`limit: must be an integer from 1 to ${MAX_ORDER_LIMIT}`);
  return n;
}

/** Registers the order routes (module comment) in their own scope (it adds an `application/geo+json` body parser). */
export async function taskingOrderRoutes(app: FastifyInstance, deps: OrderRouteDeps): Promise<void> {
  await app.register(async (scope) => orderScope(scope, deps));
}

async function orderScope(app: FastifyInstance, deps: OrderRouteDeps): Promise<void> {
  const base = deps.publicUrl;
  const service = { storage: deps.storage, publicUrl: base, now: deps.now };
  const read = { preValidation: deps.guard('tasking:read'), config: { errorStyle: 'data' as const } };
  const write = { preValidation: deps.guard('tasking:order'), config: { errorStyle: 'data' as const } };
  // STAPI bodies are GeoJSON-ish; clients may label them so.
  if (!app.hasContentTypeParser(GEOJSON))
    app.addContentTypeParser(GEOJSON, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  const sendOrder = async (reply: FastifyReply, orderId: string, orgId: string, code = 200) => {
    const order = await deps.storage.getOrderFor(orgId, orderId);
    if (!order) throw notFound(`order ${orderId.slice(0, 100)}`);
    return reply
      .code(code)
      .type(GEOJSON)
      .send(orderView(order, await deps.storage.listOrderStatuses(order.id), base));
  };

  app.post<{ Params: { productId: string } }>('/tasking/products/:productId/orders', write, async (req, reply) => {
    const key = parseIdempotencyKey(req.headers['idempotency-key']);
    const path = `/tasking/products/${encodeURIComponent(req.params.productId)}/orders`;
    const placed = await placeOrder(service, caller(req), req.params.productId, req.body, { idempotencyKey: key, path });
    if (placed.replayed) reply.header('idempotent-replayed', 'true');
    return reply
      .code(201)
      .header('location', orderUrl(base, placed.order.id))
      .type(GEOJSON)
      .send(orderView(placed.order, placed.statuses, base));
  });

  app.get<{ Querystring: Record<string, unknown> }>('/tasking/orders', read, async (req, reply) => {
    const unknown = Object.keys(req.query).filter((k) => k !== 'limit' && k !== 'next');
    if (unknown.length) throw badRequest(`unknown query parameter(s) ${unknown.slice(0, 5).join(', ')}; use limit and next`);
    const limit = parseLimit(req.query.limit);
    const next = req.query.next;
    if (next !== undefined && typeof next !== 'string') throw badRequest('next: send one paging token');
    const orgId = req.principal!.orgId;
    // An unknown token answers 404 (STAPI reference implementation), not an empty page.
    if (next !== undefined && !(await deps.storage.getOrderFor(orgId, next))) throw notFound('paging token');
    const page = await deps.storage.listOrdersFor(orgId, limit + 1, next);
    const shown = page.slice(0, limit);
    const features = await Promise.all(shown.map(async (o) => orderView(o, await deps.storage.listOrderStatuses(o.id), base)));
    const self = new URL(`${base}/tasking/orders`);
    self.searchParams.set('limit', String(limit));
    if (next) self.searchParams.set('next', next);
    const links: Record<string, unknown>[] = [
      { rel: 'self', type: GEOJSON, href: self.toString() },
      { rel: 'root', type: 'application/json', href: `${base}/tasking` },
    ];
    const last = shown[shown.length - 1];
    if (page.length > limit && last) {
      const nextUrl = new URL(`${base}/tasking/orders`);
      nextUrl.searchParams.set('limit', String(limit));
      nextUrl.searchParams.set('next', last.id);
      links.push({ rel: 'next', type: GEOJSON, href: nextUrl.toString() });
    }
    return reply.type(GEOJSON).send({ type: 'FeatureCollection', features, links });
  });

  app.get<IdRoute>('/tasking/orders/:orderId', read, async (req, reply) => sendOrder(reply, req.params.orderId, req.principal!.orgId));

  app.get<IdRoute>('/tasking/orders/:orderId/statuses', read, async (req) => {
    const order = await deps.storage.getOrderFor(req.principal!.orgId, req.params.orderId);
    if (!order) throw notFound(`order ${req.params.orderId.slice(0, 100)}`);
    const self = orderUrl(base, order.id);
    return {
      statuses: (await deps.storage.listOrderStatuses(order.id)).map((s) => statusView(s, base)),
      links: [
        { rel: 'self', type: 'application/json', href: `${self}/statuses` },
        { rel: 'order', type: GEOJSON, href: self },
      ],
    };
  });

  app.post<IdRoute>('/tasking/orders/:orderId/cancel', write, async (req, reply) => {
    const order = await cancelOrder(service, caller(req), req.params.orderId);
    return sendOrder(reply, order.id, order.orgId);
  });
}
