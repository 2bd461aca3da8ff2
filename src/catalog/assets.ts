/**
 * Protected asset download (assets:read): `GET /collections/{c}/items/{i}/assets/{key}` streams an
 * asset Skyport holds (stored href `asset:<path>` under SKYPORT_ASSETS_DIR) with HTTP range requests
 * (RFC 9110 §14: `Accept-Ranges`, 206 + `Content-Range`, 416, `If-Range` via ETag), so a GeoTIFF
 * reader can read windows of a Cloud-Optimized GeoTIFF. The item is looked up with the caller's
 * entitlement first: an asset of an item the organization may not see answers 404 like a missing one.
 * Remote assets (any other href) are not proxied.
 */
import send from '@fastify/send';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { HttpProblem, notFound } from '../http/errors.js';
import type { Storage } from '../storage/types.js';
import { HELD_ASSET_SCHEME } from './present.js';

export async function assetRoutes(
  app: FastifyInstance,
  deps: { storage: Storage; assetsDir: string; guard: (p: Permission) => preValidationAsyncHookHandler },
): Promise<void> {
  const opts = { preValidation: deps.guard('assets:read'), config: { errorStyle: 'data' as const } };
  app.get<{ Params: { collectionId: string; itemId: string; assetKey: string } }>(
    '/collections/:collectionId/items/:itemId/assets/:assetKey',
    opts,
    async (req, reply) => {
      const { collectionId, itemId, assetKey } = req.params;
      const rec = await deps.storage.getItemFor(req.principal!.orgId, collectionId, itemId);
      const assets = (rec?.item.assets ?? {}) as Record<string, { href?: unknown; type?: unknown }>;
      const asset = Object.hasOwn(assets, assetKey) ? assets[assetKey] : undefined;
      const href = typeof asset?.href === 'string' ? asset.href : '';
      if (!href.startsWith(HELD_ASSET_SCHEME)) throw notFound(`asset ${assetKey.slice(0, 100)}`);
      const segments = href.slice(HELD_ASSET_SCHEME.length).split('/');
      // Held hrefs are plain relative paths: no `.`/`..` or empty segments, whatever a loaded item says.
      if (segments.some((x) => x === '' || x === '.' || x === '..')) throw notFound(`asset ${assetKey.slice(0, 100)}`);
      const relative = segments.map(encodeURIComponent).join('/');
      // `root` confines the path to the assets folder (send refuses `..` and absolute paths).
      const result = await send(req.raw, `/${relative}`, {
        root: deps.assetsDir,
        dotfiles: 'deny',
        index: false,
        cacheControl: false,
        acceptRanges: true,
      });
      if (result.type !== 'file') {
        result.stream.destroy();
        if (result.statusCode === 416) {
          const e = new HttpProblem(416, 'RangeNotSatisfiable', 'the requested range lies outside the asset');
          const size = await stat(path.join(deps.assetsDir, ...segments)).then(
            (x) => x.size,
            () => undefined,
          );
          if (size !== undefined) e.headers['content-range'] = `bytes */${size}`;
          throw e;
        }
        throw notFound(`asset ${assetKey.slice(0, 100)}`);
      }
      reply.code(result.statusCode).headers(result.headers);
      reply.header('cache-control', 'private, max-age=3600');
      // The media type comes from stored metadata: browsers must not sniff an asset into something else.
      reply.header('x-content-type-options', 'nosniff');
      if (typeof asset?.type === 'string') reply.header('content-type', asset.type);
      return reply.send(result.stream);
    },
  );
}
