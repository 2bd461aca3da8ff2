/**
 * Data API, first slice: `GET /collections` (catalog:read) lists the STAC Collections the caller's
 * organization is entitled to (open, licensed to it, or private to it), filtered inside the query.
 * The full STAC API (items, search, extensions) is the catalog issue's.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import type { Storage } from '../storage/types.js';

export async function collectionRoutes(
  app: FastifyInstance,
  deps: { storage: Storage; publicUrl: string; guard: (p: Permission) => preHandlerAsyncHookHandler },
): Promise<void> {
  app.get('/collections', { preHandler: deps.guard('catalog:read'), config: { errorStyle: 'data' } }, async (req) => {
    const base = deps.publicUrl;
    const collections = (await deps.storage.listCollectionsFor(req.principal!.orgId)).map((c) => ({
      ...c.body,
      id: c.id,
      links: [
        { rel: 'self', type: 'application/json', href: `${base}/collections/${encodeURIComponent(c.id)}` },
        { rel: 'root', type: 'application/json', href: `${base}/` },
        { rel: 'parent', type: 'application/json', href: `${base}/` },
        { rel: 'items', type: 'application/geo+json', href: `${base}/collections/${encodeURIComponent(c.id)}/items` },
      ],
    }));
    return {
      collections,
      links: [
        { rel: 'self', type: 'application/json', href: `${base}/collections` },
        { rel: 'root', type: 'application/json', href: `${base}/` },
      ],
    };
  });
}
