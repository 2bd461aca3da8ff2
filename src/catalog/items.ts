/**
 * STAC API item routes (catalog:read): `GET /collections/{id}/items` (OGC API Features Part 1 §7.15),
 * `GET /collections/{id}/items/{itemId}` (§7.16) and item search `GET|POST /search` (STAC API
 * item-search), with the filter, sort, fields, query and free-text extensions. Every read passes the
 * caller's organization to the store, which applies the entitlement filter inside the query.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { notFound } from '../http/errors.js';
import type { ItemPage, Storage } from '../storage/types.js';
import { presentItem } from './present.js';
import { encodeToken, parseSearch, type ParsedSearch, type SearchLimits } from './search-params.js';

const GEOJSON = 'application/geo+json';
const enc = encodeURIComponent;

export interface ItemRouteDeps {
  storage: Storage;
  publicUrl: string;
  limits: SearchLimits;
  guard: (p: Permission) => preValidationAsyncHookHandler;
}

/** The FeatureCollection of one page (STAC ItemCollection), with `next` as a link carrying the keyset token. */
function featureCollection(
  page: ItemPage,
  parsed: ParsedSearch,
  base: string,
  links: Record<string, unknown>[],
  next: ((token: string) => Record<string, unknown>) | undefined,
): Record<string, unknown> {
  // A later page repeats the first page's count (carried in its token) instead of counting again.
  const matched = parsed.carriedCount === undefined ? (page.numberMatched ?? null) : parsed.carriedCount;
  const out: Record<string, unknown> = {
    type: 'FeatureCollection',
    features: page.items.map((r) => presentItem(r, base, parsed.fields)),
    links: [...links, ...(page.next && next ? [next(encodeToken(page.next, matched))] : [])],
    numberReturned: page.items.length,
  };
  if (matched !== null) out.numberMatched = matched;
  return out;
}

/** The request's own URL on the public base, with `token` replaced (GET paging keeps every other parameter). */
function selfWithToken(base: string, req: FastifyRequest, token?: string): string {
  const url = new URL(req.url, 'http://x');
  if (token === undefined) url.searchParams.delete('token');
  else url.searchParams.set('token', token);
  return `${base}${url.pathname}${url.search}`;
}

function sendGeoJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type(GEOJSON).send(body);
}

export async function itemRoutes(app: FastifyInstance, deps: ItemRouteDeps): Promise<void> {
  const { storage, limits } = deps;
  const base = deps.publicUrl;
  const opts = { preValidation: deps.guard('catalog:read'), config: { errorStyle: 'data' as const } };
  const root = { rel: 'root', type: 'application/json', href: `${base}/` };

  app.get<{ Params: { collectionId: string }; Querystring: Record<string, unknown> }>(
    '/collections/:collectionId/items',
    opts,
    async (req, reply) => {
      const orgId = req.principal!.orgId;
      const { collectionId } = req.params;
      // Parameters first: a malformed request is a 400 whatever the collection.
      const parsed = parseSearch(req.query, 'GET', limits, collectionId);
      if (!(await storage.getCollectionFor(orgId, collectionId))) throw notFound(`collection ${collectionId.slice(0, 100)}`);
      const page = await storage.searchItems(orgId, parsed.search);
      const collectionUrl = `${base}/collections/${enc(collectionId)}`;
      return sendGeoJson(
        reply,
        featureCollection(
          page,
          parsed,
          base,
          [
            { rel: 'self', type: GEOJSON, href: selfWithToken(base, req, req.query.token as string | undefined) },
            root,
            { rel: 'parent', type: 'application/json', href: collectionUrl },
            { rel: 'collection', type: 'application/json', href: collectionUrl },
          ],
          (token) => ({ rel: 'next', type: GEOJSON, href: selfWithToken(base, req, token) }),
        ),
      );
    },
  );

  app.get<{ Params: { collectionId: string; itemId: string } }>('/collections/:collectionId/items/:itemId', opts, async (req, reply) => {
    const { collectionId, itemId } = req.params;
    const rec = await storage.getItemFor(req.principal!.orgId, collectionId, itemId);
    if (!rec) throw notFound(`item ${itemId.slice(0, 100)} in collection ${collectionId.slice(0, 100)}`);
    return sendGeoJson(reply, presentItem(rec, base));
  });

  app.get<{ Querystring: Record<string, unknown> }>('/search', opts, async (req, reply) => {
    const parsed = parseSearch(req.query, 'GET', limits);
    const page = await storage.searchItems(req.principal!.orgId, parsed.search);
    return sendGeoJson(
      reply,
      featureCollection(
        page,
        parsed,
        base,
        [{ rel: 'self', type: GEOJSON, href: selfWithToken(base, req, req.query.token as string | undefined) }, root],
        (token) => ({ rel: 'next', type: GEOJSON, href: selfWithToken(base, req, token) }),
      ),
    );
  });

  app.post<{ Body: Record<string, unknown> }>('/search', opts, async (req, reply) => {
    const body = req.body ?? {};
    const parsed = parseSearch(body, 'POST', limits);
    const page = await storage.searchItems(req.principal!.orgId, parsed.search);
    return sendGeoJson(
      reply,
      featureCollection(page, parsed, base, [{ rel: 'self', type: GEOJSON, href: `${base}/search`, method: 'POST' }, root], (token) => ({
        rel: 'next',
        type: GEOJSON,
        href: `${base}/search`,
        method: 'POST',
        // The whole body again with the new token: a client posts `body` as it is.
        body: { ...body, token },
        merge: false,
      })),
    );
  });
}
