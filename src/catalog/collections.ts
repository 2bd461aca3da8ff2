/**
 * STAC Collections (catalog:read): `GET /collections` with the collection-search extension (`bbox`,
 * `datetime`, free-text `q`, `limit`, paging) and `GET /collections/{id}`, plus the filter extension's
 * queryables (`/queryables`, `/collections/{id}/queryables`). The store returns only collections the
 * caller's organization is entitled to (open, licensed to it, or private to it); the collection-search
 * criteria then narrow that list (collections are few: hundreds, not millions).
 */
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { badRequest, notFound } from '../http/errors.js';
import type { CollectionRecord, Storage } from '../storage/types.js';
import { parseBbox, parseDatetime, type SearchLimits } from './search-params.js';

const enc = encodeURIComponent;

/** Queryables of the filter extension (JSON Schema); any other item property may be filtered too. */
function queryables(base: string, collectionId?: string): Record<string, unknown> {
  const id = collectionId ? `${base}/collections/${enc(collectionId)}/queryables` : `${base}/queryables`;
  const ext = (name: string, version: string, field: string) => ({
    $ref: `https://stac-extensions.github.io/${name}/${version}/schema.json#/definitions/fields/properties/${field}`,
  });
  return {
    $schema: 'https://json-schema.org/draft/2019-09/schema',
    $id: id,
    type: 'object',
    title: 'Queryables',
    properties: {
      id: { title: 'Item ID', type: 'string' },
      collection: { title: 'Collection ID', type: 'string' },
      geometry: { title: 'Footprint', $ref: 'https://geojson.org/schema/Geometry.json' },
      datetime: { title: 'Acquisition time', type: 'string', format: 'date-time' },
      start_datetime: { type: 'string', format: 'date-time' },
      end_datetime: { type: 'string', format: 'date-time' },
      'eo:cloud_cover': { ...ext('eo', 'v1.1.0', 'eo:cloud_cover'), title: 'Cloud cover (%)', type: 'number', minimum: 0, maximum: 100 },
      gsd: { title: 'Ground sample distance (m)', type: 'number', exclusiveMinimum: 0 },
      platform: { title: 'Platform', type: 'string' },
      constellation: { title: 'Constellation', type: 'string' },
      'view:off_nadir': { title: 'Off-nadir angle (deg)', type: 'number', minimum: 0, maximum: 90 },
      'view:sun_elevation': { title: 'Sun elevation (deg)', type: 'number', minimum: -90, maximum: 90 },
      'view:sun_azimuth': { title: 'Sun azimuth (deg)', type: 'number', minimum: 0, maximum: 360 },
    },
    additionalProperties: true,
  };
}

/** Does the collection's declared extent meet the bbox / datetime interval (STAC collection-search)? */
function extentMatches(
  c: CollectionRecord,
  bbox?: [number, number, number, number],
  dt?: { start: number | null; end: number | null },
): boolean {
  const extent = c.body.extent as { spatial?: { bbox?: number[][] }; temporal?: { interval?: (string | null)[][] } } | undefined;
  if (bbox) {
    const boxes = extent?.spatial?.bbox ?? [];
    const [w, s, e, n] = bbox;
    const hit = (b: number[]) => {
      const [bw, bs, be, bn] = b.length === 6 ? [b[0]!, b[1]!, b[3]!, b[4]!] : (b as [number, number, number, number]);
      const lonHit = (x0: number, x1: number) => bw <= x1 && be >= x0;
      return bs <= n && bn >= s && (w <= e ? lonHit(w, e) : lonHit(w, 180) || lonHit(-180, e));
    };
    if (!boxes.some(hit)) return false;
  }
  if (dt) {
    const interval = extent?.temporal?.interval?.[0] ?? [null, null];
    const start = interval[0] ? Date.parse(interval[0]) : -Infinity;
    const end = interval[1] ? Date.parse(interval[1]) : Infinity;
    if ((dt.end !== null && start > dt.end) || (dt.start !== null && end < dt.start)) return false;
  }
  return true;
}

function textMatches(c: CollectionRecord, terms: string[]): boolean {
  const hay = [c.id, c.body.title, c.body.description, ...(Array.isArray(c.body.keywords) ? c.body.keywords : [])]
    .filter((x) => typeof x === 'string')
    .join('\n')
    .toLowerCase();
  return terms.some((t) => hay.includes(t.toLowerCase()));
}

export async function collectionRoutes(
  app: FastifyInstance,
  deps: { storage: Storage; publicUrl: string; guard: (p: Permission) => preValidationAsyncHookHandler; limits: SearchLimits },
): Promise<void> {
  const base = deps.publicUrl;
  const opts = { preValidation: deps.guard('catalog:read'), config: { errorStyle: 'data' as const } };
  const view = (c: CollectionRecord) => {
    const url = `${base}/collections/${enc(c.id)}`;
    const own = (Array.isArray(c.body.links) ? (c.body.links as { rel?: string }[]) : []).filter(
      (l) => l && !['self', 'root', 'parent', 'items', 'child', 'item'].includes(l.rel ?? ''),
    );
    return {
      ...c.body,
      id: c.id,
      links: [
        { rel: 'self', type: 'application/json', href: url },
        { rel: 'root', type: 'application/json', href: `${base}/` },
        { rel: 'parent', type: 'application/json', href: `${base}/` },
        { rel: 'items', type: 'application/geo+json', href: `${url}/items` },
        { rel: 'http://www.opengis.net/def/rel/ogc/1.0/queryables', type: 'application/schema+json', href: `${url}/queryables` },
        ...own,
      ],
    };
  };

  app.get<{ Params: { collectionId: string } }>('/collections/:collectionId', opts, async (req) => {
    // Entitlement filter first: a collection the organization may not see answers as a missing one.
    const c = await deps.storage.getCollectionFor(req.principal!.orgId, req.params.collectionId);
    if (!c) throw notFound(`collection ${req.params.collectionId.slice(0, 100)}`);
    return view(c);
  });

  app.get<{ Params: { collectionId: string } }>('/collections/:collectionId/queryables', opts, async (req, reply) => {
    const c = await deps.storage.getCollectionFor(req.principal!.orgId, req.params.collectionId);
    if (!c) throw notFound(`collection ${req.params.collectionId.slice(0, 100)}`);
    return reply.type('application/schema+json').send(queryables(base, c.id));
  });

  app.get('/queryables', opts, async (_req, reply) => reply.type('application/schema+json').send(queryables(base)));

  app.get<{ Querystring: Record<string, string | undefined> }>('/collections', opts, async (req) => {
    const q = req.query;
    for (const [k, v] of Object.entries(q)) if (typeof v !== 'string') throw badRequest(`${k} is given more than once`);
    const bbox = q.bbox !== undefined ? parseBbox(q.bbox) : undefined;
    const dt = q.datetime !== undefined ? parseDatetime(q.datetime) : undefined;
    const terms = q.q
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const limit =
      q.limit === undefined
        ? deps.limits.maxLimit
        : /^\d+$/.test(q.limit) && Number(q.limit) >= 1
          ? Math.min(Number(q.limit), deps.limits.maxLimit)
          : NaN;
    if (Number.isNaN(limit)) throw badRequest('limit must be a positive integer');
    const offset = q.token === undefined ? 0 : /^offset:\d{1,9}$/.test(q.token) ? Number(q.token.slice(7)) : NaN;
    if (Number.isNaN(offset)) throw badRequest('token is not a paging token of this API');
    const matched = (await deps.storage.listCollectionsFor(req.principal!.orgId)).filter(
      (c) => extentMatches(c, bbox, dt) && (!terms?.length || textMatches(c, terms)),
    );
    const page = matched.slice(offset, offset + limit);
    const self = new URL(req.url, 'http://x');
    const links: Record<string, unknown>[] = [
      { rel: 'self', type: 'application/json', href: `${base}${self.pathname}${self.search}` },
      { rel: 'root', type: 'application/json', href: `${base}/` },
    ];
    if (offset + limit < matched.length) {
      self.searchParams.set('token', `offset:${offset + limit}`);
      links.push({ rel: 'next', type: 'application/json', href: `${base}${self.pathname}${self.search}` });
    }
    return { collections: page.map(view), links, numberMatched: matched.length, numberReturned: page.length };
  });
}
