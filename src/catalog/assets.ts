/**
 * Protected asset download (assets:read): `GET /collections/{c}/items/{i}/assets/{key}` streams an
 * asset Skyport holds (stored href `asset:<key>`) from the configured asset store — the assets folder
 * or an S3 bucket — with HTTP range requests (RFC 9110 §13–14: `Accept-Ranges`, 206 + `Content-Range`,
 * 416 (Content-Range with the size), `If-Range`, and `If-None-Match`/`If-Modified-Since` → 304,
 * `If-Match`/`If-Unmodified-Since` → 412), so a GeoTIFF reader can read windows of a Cloud-Optimized
 * GeoTIFF. The item is looked up with the caller's entitlement first: an asset of an item the
 * organization may not see answers 404 like a missing one. Remote assets (any other href) are not proxied.
 *
 * A plain or ranged GET is one read of the store (for S3, one GET carrying the range); a conditional
 * request or a HEAD asks for the metadata first and reads only what it then sends.
 */
import { Readable } from 'node:stream';
import { isUtf8MimeType, mime } from '@fastify/send';
import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { Permission } from '../access/permissions.js';
import { HttpProblem, notFound } from '../http/errors.js';
import { isSafeAssetKey } from '../storage/assets/keys.js';
import { parseRangeHeader, resolveRange } from '../storage/assets/range.js';
import { AssetStoreError, type AssetMeta, type AssetRead, type AssetStore } from '../storage/assets/types.js';
import type { Storage } from '../storage/types.js';
import { HELD_ASSET_SCHEME } from './present.js';

type AssetRequest = FastifyRequest<{ Params: { collectionId: string; itemId: string; assetKey: string } }>;

/**
 * Registers the download route (GET, and HEAD by fastify) over `assets`. Errors: 401/403 from the guard,
 * 404 for anything not held or not entitled, 412, 416, 502 when the store fails (logged), and 503 when the
 * asset is replaced again and again while being read.
 */
export async function assetRoutes(
  app: FastifyInstance,
  deps: { storage: Storage; assets: AssetStore; guard: (p: Permission) => preValidationAsyncHookHandler },
): Promise<void> {
  const opts = { preValidation: deps.guard('assets:read'), config: { errorStyle: 'data' as const } };
  app.get('/collections/:collectionId/items/:itemId/assets/:assetKey', opts, async (req: AssetRequest, reply) => {
    const { key, type } = await heldAsset(deps.storage, req);
    try {
      return await download(deps.assets, key, req, reply, type);
    } catch (e) {
      if (!(e instanceof AssetStoreError)) throw e;
      // The store's fault, not the client's: logged with what failed (never credentials), answered 502.
      req.log.error({ errName: e.name, errMessage: e.message }, 'asset store failed');
      throw new HttpProblem(502, 'BadGateway', 'the asset store did not answer; try again later');
    }
  });
}

/**
 * A media type as a header value may carry it (RFC 9110 §8.3.1: token/token, then parameters in printable
 * ASCII), at most 255 characters. A loaded item's `type` is data: one with a line break or a character
 * Node refuses in a header would fail the answer after the store was opened (a 500 and a leaked stream),
 * so anything else falls back to the type of the file name.
 */
const MEDIA_TYPE = /^(?=[\t\x20-\x7e]{1,255}$)[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+(?:[ \t]*;.*)?$/;

/** The store key and media type of the held asset the path names, after the entitlement check; else 404. */
async function heldAsset(storage: Storage, req: AssetRequest): Promise<{ key: string; type: string | undefined }> {
  const { collectionId, itemId, assetKey } = req.params;
  const rec = await storage.getItemFor(req.principal!.orgId, collectionId, itemId);
  const assets = (rec?.item.assets ?? {}) as Record<string, { href?: unknown; type?: unknown }>;
  const asset = Object.hasOwn(assets, assetKey) ? assets[assetKey] : undefined;
  const href = typeof asset?.href === 'string' ? asset.href : '';
  const key = href.slice(HELD_ASSET_SCHEME.length);
  // Held hrefs are plain relative paths (storage/assets/keys.ts), whatever a loaded item says.
  if (!href.startsWith(HELD_ASSET_SCHEME) || !isSafeAssetKey(key)) throw notFound(`asset ${assetKey.slice(0, 100)}`);
  return { key, type: typeof asset?.type === 'string' && MEDIA_TYPE.test(asset.type) ? asset.type : undefined };
}

/** Answers the request from the store (module comment): 200, 206, 304, 412 or 416, or 404 when the store has no such asset. */
async function download(store: AssetStore, key: string, req: AssetRequest, reply: FastifyReply, type: string | undefined) {
  const range = parseRangeHeader(req.headers.range);
  const read =
    req.method === 'HEAD' || hasConditions(req.headers) ? await conditionalRead(store, key, req, range) : await store.read(key, range);
  if (read.status === 'not-modified') return validators(reply.code(304), read.meta).send();
  if (read.status === 'missing') throw notFound(`asset ${req.params.assetKey.slice(0, 100)}`);
  if (read.status === 'unsatisfiable') {
    const e = new HttpProblem(416, 'RangeNotSatisfiable', 'the requested range lies outside the asset');
    e.headers['content-range'] = `bytes */${read.size}`;
    throw e;
  }
  validators(reply.code(read.range ? 206 : 200), read.meta);
  reply.header('content-length', read.length);
  if (read.range) reply.header('content-range', `bytes ${read.range.start}-${read.range.end}/${read.meta.size}`);
  // The media type comes from stored metadata (else the file name, as before): browsers must not sniff.
  reply.header('content-type', type ?? mediaTypeOf(key));
  return reply.send(read.body);
}

/**
 * A HEAD or a conditional GET: the preconditions and If-Range are decided on the metadata, and the bytes
 * sent must be of that same version. An asset replaced between the two reads (a new delivery) is decided
 * again, or a range of the new version would go to a client that holds part of the old one.
 */
async function conditionalRead(
  store: AssetStore,
  key: string,
  req: AssetRequest,
  range: ReturnType<typeof parseRangeHeader>,
): Promise<AssetRead | { status: 'not-modified'; meta: AssetMeta }> {
  for (let attempt = 1; ; attempt++) {
    const meta = await store.stat(key);
    if (!meta) return { status: 'missing' };
    const outcome = conditionalOutcome(req.headers, meta);
    if (outcome === 'precondition-failed')
      throw new HttpProblem(412, 'PreconditionFailed', 'the asset does not match If-Match or If-Unmodified-Since');
    if (outcome === 'not-modified') return { status: 'not-modified', meta };
    const wanted = rangeIsFresh(req.headers, meta) ? range : undefined;
    if (req.method === 'HEAD') return headOnly(meta, wanted);
    const read = await store.read(key, wanted);
    if (read.status !== 'ok' || sameVersion(read.meta, meta)) return read;
    read.body.destroy();
    if (attempt === 3) throw new HttpProblem(503, 'ServiceUnavailable', 'the asset is being replaced; try again');
  }
}

/** Whether two reads of an asset's metadata saw one version (a server may leave the ETag off a ranged answer). */
function sameVersion(a: AssetMeta, b: AssetMeta): boolean {
  return a.etag === b.etag || (a.size === b.size && a.lastModified.getTime() === b.lastModified.getTime());
}

/** The headers every 200, 206 and 304 carries. */
function validators(reply: FastifyReply, meta: AssetMeta): FastifyReply {
  return reply.headers({
    'accept-ranges': 'bytes',
    etag: meta.etag,
    'last-modified': meta.lastModified.toUTCString(),
    'cache-control': 'private, max-age=3600',
    'x-content-type-options': 'nosniff',
  });
}

/** A HEAD's answer: what a GET would send, without reading the bytes. */
function headOnly(meta: AssetMeta, range: ReturnType<typeof parseRangeHeader>): AssetRead {
  const body = Readable.from([]);
  if (!range) return { status: 'ok', meta, length: meta.size, body };
  const r = resolveRange(range, meta.size);
  return r ? { status: 'ok', meta, range: r, length: r.end - r.start + 1, body } : { status: 'unsatisfiable', size: meta.size };
}

/** The media type of a held asset without a `type`, by its file name (text types in UTF-8), as @fastify/send chose it. */
function mediaTypeOf(key: string): string {
  const t = mime.getType(key) ?? 'application/octet-stream';
  return isUtf8MimeType(t) ? `${t}; charset=utf-8` : t;
}

/** Whether the request carries a precondition (RFC 9110 §13.1) the metadata must be read for. */
function hasConditions(h: IncomingHttpHeaders): boolean {
  return ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range'].some((n) => h[n] !== undefined);
}

// Entity tags of an If-Match / If-None-Match list (RFC 9110 §8.8.3.2): If-None-Match compares weakly (`W/` ignored);
// If-Match strongly (a weak tag on either side never matches).
const tagsOf = (list: string) => list.split(',').map((t) => t.trim());
const weak = (t: string) => t.startsWith('W/');
const sameTag = (list: string, etag: string, strong = false) =>
  list.trim() === '*' ||
  tagsOf(list).some((t) => (strong ? !weak(t) && !weak(etag) && t === etag : t.replace(/^W\//, '') === etag.replace(/^W\//, '')));

/**
 * RFC 9110 §13.2.2 in order: If-Match (else If-Unmodified-Since) failing → 412; If-None-Match (else
 * If-Modified-Since) matching → 304 (a GET/HEAD; not with `Cache-Control: no-cache`, as @fastify/send did).
 */
function conditionalOutcome(h: IncomingHttpHeaders, meta: AssetMeta): 'precondition-failed' | 'not-modified' | 'proceed' {
  const modified = Math.floor(meta.lastModified.getTime() / 1000) * 1000; // HTTP dates have whole seconds
  const ifMatch = h['if-match'];
  if (ifMatch !== undefined) {
    if (!sameTag(ifMatch, meta.etag, true)) return 'precondition-failed';
  } else if (h['if-unmodified-since'] !== undefined) {
    const since = Date.parse(h['if-unmodified-since']);
    if (!Number.isNaN(since) && modified > since) return 'precondition-failed';
  }
  if (h['cache-control']?.includes('no-cache')) return 'proceed';
  const ifNoneMatch = h['if-none-match'];
  if (ifNoneMatch !== undefined) return sameTag(ifNoneMatch, meta.etag) ? 'not-modified' : 'proceed';
  const since = Date.parse(h['if-modified-since'] ?? '');
  return !Number.isNaN(since) && modified <= since ? 'not-modified' : 'proceed';
}

/** If-Range (§13.1.5): the range applies only while the asset is the one the client holds part of (its ETag or date). */
function rangeIsFresh(h: IncomingHttpHeaders, meta: AssetMeta): boolean {
  const ifRange = [h['if-range']].flat().join(',');
  if (h['if-range'] === undefined) return true;
  // An entity tag matches only strongly: a weak one never does (RFC 9110 §13.1.5), and the whole asset is sent.
  if (ifRange.includes('"')) return !weak(meta.etag) && ifRange.trim() === meta.etag;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && Math.floor(meta.lastModified.getTime() / 1000) * 1000 <= date;
}
