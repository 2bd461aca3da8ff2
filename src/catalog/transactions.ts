/**
 * The STAC API transaction extension (OGC API Features Part 4, simple transactions) for platform
 * clients holding `catalog:write`: create, replace and delete collections; create (one Item or a
 * FeatureCollection), replace, merge-patch (RFC 7396) and delete items. Every write is normalized and
 * validated like `skyport catalog load`; a rejected write changes nothing. Collections created here
 * are `licensed` (nobody sees them until the operator grants them), licensed to the caller's own
 * organization so it can read back what it wrote.
 */
import type { FastifyInstance, FastifyReply, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { badRequest, HttpProblem, notFound } from '../http/errors.js';
import type { Storage } from '../storage/types.js';
import { IngestError, normalizeCollection, normalizeItem } from './ingest.js';
import { itemUrl, presentItem } from './present.js';

const conflict = (what: string) => new HttpProblem(409, 'Conflict', `${what} exists already`);

/** RFC 7396 JSON merge patch: null removes a member, objects merge recursively, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function ingest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof IngestError) throw badRequest(`${e.field}: ${e.reason}`);
    throw e;
  }
}

export async function transactionRoutes(
  app: FastifyInstance,
  deps: { storage: Storage; publicUrl: string; guard: (p: Permission) => preValidationAsyncHookHandler },
): Promise<void> {
  const { storage } = deps;
  const base = deps.publicUrl;
  const opts = { preValidation: deps.guard('catalog:write'), config: { errorStyle: 'data' as const } };
  const bulk = { ...opts, bodyLimit: 32 * 1024 * 1024 };
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      // A `__proto__` member would become the prototype of the merged object: refused.
      done(
        null,
        JSON.parse(body as string, (k, v) => {
          if (k === '__proto__') throw new SyntaxError('__proto__');
          return v;
        }),
      );
    } catch {
      done(badRequest('the merge patch is not valid JSON'), undefined);
    }
  });
  const collectionUrl = (id: string) => `${base}/collections/${encodeURIComponent(id)}`;
  const sendItem = (reply: FastifyReply, status: number, collection: string, id: string, item: Record<string, unknown>) => {
    if (status === 201) reply.header('location', itemUrl(base, collection, id));
    return reply.code(status).type('application/geo+json').send(presentItem({ collection, id, item }, base));
  };

  app.post<{ Body: unknown }>('/collections', opts, async (req, reply) => {
    const { collection } = ingest(() => normalizeCollection(req.body));
    if (await storage.getCollection(collection.id)) throw conflict(`collection ${collection.id.slice(0, 100)}`);
    await storage.upsertCollection({
      id: collection.id,
      access: 'licensed',
      ownerOrgId: null,
      body: collection as never,
      updatedAt: Date.now(),
    });
    await storage.grantCollection(collection.id, req.principal!.orgId);
    return reply.code(201).header('location', collectionUrl(collection.id)).send(collection);
  });

  app.put<{ Params: { collectionId: string }; Body: unknown }>('/collections/:collectionId', opts, async (req, reply) => {
    const existing = await storage.getCollection(req.params.collectionId);
    if (!existing) throw notFound(`collection ${req.params.collectionId.slice(0, 100)}`);
    const { collection } = ingest(() => normalizeCollection(req.body));
    if (collection.id !== existing.id) throw badRequest('the body id differs from the collection in the path');
    await storage.upsertCollection({ ...existing, body: collection as never, updatedAt: Date.now() });
    return reply.send(collection);
  });

  app.delete<{ Params: { collectionId: string } }>('/collections/:collectionId', opts, async (req, reply) => {
    if (!(await storage.deleteCollection(req.params.collectionId))) throw notFound(`collection ${req.params.collectionId.slice(0, 100)}`);
    return reply.code(204).send();
  });

  app.post<{ Params: { collectionId: string }; Body: unknown }>('/collections/:collectionId/items', bulk, async (req, reply) => {
    const { collectionId } = req.params;
    if (!(await storage.getCollection(collectionId))) throw notFound(`collection ${collectionId.slice(0, 100)}`);
    const body = req.body as { type?: unknown; features?: unknown };
    if (body?.type === 'FeatureCollection') {
      if (!Array.isArray(body.features)) throw badRequest('features must be a list of items');
      // All or nothing: every item is validated before any is written, and the batch is one transaction.
      const records = body.features.map((f, n) => {
        try {
          const { item } = normalizeItem(f, { collection: collectionId });
          return { collection: collectionId, id: item.id, item: item as unknown as Record<string, unknown> };
        } catch (e) {
          if (e instanceof IngestError) throw badRequest(`features[${n}].${e.field}: ${e.reason}`);
          throw e;
        }
      });
      if (new Set(records.map((r) => r.id)).size !== records.length) throw badRequest('an item id appears twice');
      const r = await storage.upsertItems(records);
      return reply.code(200).send({ inserted: r.inserted, updated: r.updated });
    }
    const { item } = ingest(() => normalizeItem(body, { collection: collectionId }));
    if (await storage.getItem(collectionId, item.id)) throw conflict(`item ${item.id.slice(0, 100)}`);
    await storage.upsertItems([{ collection: collectionId, id: item.id, item: item as never }]);
    return sendItem(reply, 201, collectionId, item.id, item as never);
  });

  const replace = async (collectionId: string, itemId: string, next: (old: Record<string, unknown>) => unknown, reply: FastifyReply) => {
    const old = await storage.getItem(collectionId, itemId);
    if (!old) throw notFound(`item ${itemId.slice(0, 100)} in collection ${collectionId.slice(0, 100)}`);
    const { item } = ingest(() => normalizeItem(next(old.item), { collection: collectionId }));
    if (item.id !== itemId) throw badRequest('the body id differs from the item in the path');
    await storage.upsertItems([{ collection: collectionId, id: itemId, item: item as never }]);
    return sendItem(reply, 200, collectionId, itemId, item as never);
  };
  app.put<{ Params: { collectionId: string; itemId: string }; Body: unknown }>(
    '/collections/:collectionId/items/:itemId',
    opts,
    (req, reply) => replace(req.params.collectionId, req.params.itemId, () => req.body, reply),
  );
  app.patch<{ Params: { collectionId: string; itemId: string }; Body: unknown }>(
    '/collections/:collectionId/items/:itemId',
    opts,
    (req, reply) => replace(req.params.collectionId, req.params.itemId, (old) => mergePatch(old, req.body), reply),
  );
  app.delete<{ Params: { collectionId: string; itemId: string } }>('/collections/:collectionId/items/:itemId', opts, async (req, reply) => {
    if (!(await storage.deleteItem(req.params.collectionId, req.params.itemId))) throw notFound(`item ${req.params.itemId.slice(0, 100)}`);
    return reply.code(204).send();
  });
}
