/**
 * Data API, first slice: `GET /collections` (catalog:read) lists the STAC Collections the caller's
 * organization is entitled to (open, licensed to it, or private to it), filtered inside the query.
 * The full STAC API (items, search, extensions) is the catalog issue's.
 */
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { notFound } from '../http/errors.js';
import type { CollectionRecord, Storage } from '../storage/types.js';

export async function collectionRoutes(
  app: FastifyInstance,
  deps: { storage: Storage; publicUrl: string; guard: (p: Permission) => preValidationAsyncHookHandler },
): Promise<void> {
  const base = deps.publicUrl;
  const opts = { preValidation: deps.guard('catalog:read'), config: { errorStyle: 'data' as const } };
  // Links point only at what exists today; the catalog issue adds `items`.
  const view = (c: CollectionRecord) => ({
    ...c.body,
    id: c.id,
    links: [
      { rel: 'self', type: 'application/json', href: `${base}/collections/${encodeURIComponent(c.id)}` },
      { rel: 'root', type: 'application/json', href: `${base}/` },
      { rel: 'parent', type: 'application/json', href: `${base}/` },
    ],
  });

  app.get<{ Params: { collectionId: string } }>('/collections/:collectionId', opts, async (req) => {
    // Entitlement filter first: a collection the organization may not see answers as a missing one.
    const c = await deps.storage.getCollectionFor(req.principal!.orgId, req.params.collectionId);
    if (!c) throw notFound(`collection ${req.params.collectionId.slice(0, 100)}`);
    return view(c);
  });

  app.get('/collections', opts, async (req) => {
    const collections = (await deps.storage.listCollectionsFor(req.principal!.orgId)).map(view);
    return {
      collections,
      links: [
        { rel: 'self', type: 'application/json', href: `${base}/collections` },
        { rel: 'root', type: 'application/json', href: `${base}/` },
      ],
    };
  });
}
