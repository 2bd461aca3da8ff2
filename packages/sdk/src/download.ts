/**
 * Resumable asset downloads (Node only: it writes files). The body streams to `<to>.part`; a later
 * call resumes it with `Range: bytes=<size>-` (RFC 9110 §14.2) and appends only when the answer is
 * 206 with a `Content-Range` starting exactly at that size (§14.4). A 200 answer means the server
 * ignored the range: the part is restarted from zero, never appended to (field pitfall K06). The
 * file gets its final name only once its size matches the Content-Range total / Content-Length.
 */
import type { ClientCredentials } from './client-credentials.js';
import { authorizedFetch } from './authorized-fetch.js';
import { ApiError } from './http.js';

/** An asset named by its place in the catalog: `GET /collections/{collection}/items/{item}/assets/{asset}`. */
export interface AssetRef {
  collection: string;
  item: string;
  asset: string;
}

export interface DownloadOptions {
  /** The final file path; `<to>.part` holds the bytes until the download is complete. */
  to: string;
  /** Called as bytes arrive: bytes in the file so far (a resumed part counts) and the asset's size when known, bytes. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Aborting leaves the `.part` file for a later resume; the promise rejects with the abort reason. */
  signal?: AbortSignal;
}

export interface DownloadResult {
  /** The final path (= `to`). */
  path: string;
  /** Size of the file, bytes. */
  bytes: number;
  /** Bytes that were already there and kept (0 when nothing was resumed). */
  resumedFrom: number;
  /** The status that delivered the rest: 200 (whole body), 206 (resumed) or 416 (the part was already complete). */
  status: 200 | 206 | 416;
}

/** A transfer that ended short, broke off or delivered more than announced; `partPath` keeps what arrived (for a resume). */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly partPath: string,
    /** Bytes in the part file. */
    readonly bytes: number,
    /** The size announced by the server, when it announced one. */
    readonly expected?: number,
  ) {
    super(message);
  }
}

/** Where a download gets its token and resolves relative hrefs. */
export interface DownloadContext {
  tokens: ClientCredentials;
  /** The Data API root; only hrefs on its origin get the bearer token. */
  baseUrl: string;
  fetch?: typeof fetch;
}

const enc = encodeURIComponent;

/** `bytes first-last/complete` (RFC 9110 §14.4); complete undefined for `*`. */
function contentRange(v: string | null): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(v?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

async function errorOf(r: Response): Promise<ApiError> {
  const json = (await r.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  return new ApiError(r.status, String(json?.code ?? json?.error ?? 'Error'), String(json?.description ?? json?.detail ?? r.statusText));
}

function assetUrl(ctx: DownloadContext, target: string | AssetRef): URL {
  const base = ctx.baseUrl.replace(/\/+$/, '');
  if (typeof target === 'string') return new URL(target, `${base}/`);
  return new URL(`${base}/collections/${enc(target.collection)}/items/${enc(target.item)}/assets/${enc(target.asset)}`);
}

/**
 * Downloads `target` (an href, absolute or relative to the API root, or `{collection, item, asset}`) to
 * `opts.to`, resuming `<to>.part` when it exists. The bearer token (refreshed once on 401) goes only to
 * the API's origin; remote asset hrefs are fetched without it. Throws ApiError for a non-2xx answer
 * (`{code, description}`; 404 NotFound for a missing or not entitled asset), InsufficientScopeError
 * without assets:read, TokenError, DownloadError for a short or broken transfer (the part is kept),
 * and the abort reason when `signal` aborts.
 */
export async function downloadAsset(ctx: DownloadContext, target: string | AssetRef, opts: DownloadOptions): Promise<DownloadResult> {
  const fsp = await import('node:fs/promises');
  const path = await import('node:path');
  const url = assetUrl(ctx, target);
  const authorized = url.origin === new URL(ctx.baseUrl).origin;
  const part = `${opts.to}.part`;
  await fsp.mkdir(path.dirname(path.resolve(opts.to)), { recursive: true });
  let offset = await fsp.stat(part).then(
    (s) => s.size,
    () => 0,
  );
  const get = (range: boolean): Promise<Response> => {
    // identity: a compressed body would not match Content-Length or byte offsets.
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (range) headers.range = `bytes=${offset}-`;
    const init: RequestInit = { headers, ...(opts.signal ? { signal: opts.signal } : {}) };
    const f = ctx.fetch ?? globalThis.fetch.bind(globalThis);
    return authorized ? authorizedFetch(ctx.tokens, url, init, ctx.fetch ? { fetch: ctx.fetch } : {}) : f(url, init);
  };
  // At most two requests: a range request, then (if its answer cannot be appended) the whole asset.
  for (let restarted = false; ; restarted = true) {
    const res = await get(offset > 0);
    if (res.status === 416 && offset > 0) {
      await res.body?.cancel();
      const total = /^bytes \*\/(\d+)$/i.exec(res.headers.get('content-range') ?? '')?.[1];
      if (Number(total) === offset) {
        await fsp.rename(part, opts.to);
        opts.onProgress?.(offset, offset);
        return { path: opts.to, bytes: offset, resumedFrom: offset, status: 416 };
      }
    } else if (!res.ok) {
      throw await errorOf(res);
    } else if (res.status === 206) {
      const cr = contentRange(res.headers.get('content-range'));
      if (cr && cr.start === offset) return finish(res, part, opts, offset, cr.total ?? cr.end + 1, 206);
      await res.body?.cancel();
    } else if (res.status === 200) {
      // The server sent the whole asset (it ignored or refused the range): start the part over.
      const length = res.headers.get('content-length');
      return finish(res, part, opts, 0, length !== null && /^\d+$/.test(length) ? Number(length) : undefined, 200);
    } else {
      await res.body?.cancel();
      throw new ApiError(res.status, 'UnexpectedStatus', `${url.href} answered ${res.status} to a download`);
    }
    if (restarted) throw new DownloadError(`${url.href} answered ${res.status} to a request without a range`, part, offset);
    // A 206 for another range, or a 416 for a part the asset cannot continue: the part is stale.
    offset = 0;
    await fsp.rm(part, { force: true });
  }
}

/** Streams the body into the part (appending at `start`, or from zero), checks its size and renames it. */
async function finish(
  res: Response,
  part: string,
  opts: DownloadOptions,
  start: number,
  total: number | undefined,
  status: 200 | 206,
): Promise<DownloadResult> {
  const fsp = await import('node:fs/promises');
  let bytes = start;
  opts.onProgress?.(bytes, total);
  const file = await fsp.open(part, start === 0 ? 'w' : 'a');
  try {
    // Progress counts bytes handed to the file, so an abort leaves exactly what was reported.
    // (Node's ReadableStream is async-iterable; the DOM lib's type does not say so.)
    for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
      await file.write(chunk);
      bytes += chunk.length;
      opts.onProgress?.(bytes, total);
    }
  } catch (e) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? e;
    // A local failure (disk full, permission) is not a broken transfer: it is reported as it is.
    if ((e as NodeJS.ErrnoException).syscall) throw e;
    throw new DownloadError(`the transfer broke off after ${bytes} bytes: ${(e as Error).message}`, part, bytes, total);
  } finally {
    await file.close();
  }
  const size = (await fsp.stat(part)).size;
  if (total !== undefined && size !== total) {
    // More than announced means the part holds something else: it cannot be resumed.
    if (size > total) await fsp.rm(part, { force: true });
    throw new DownloadError(`received ${size} of ${total} bytes`, part, size, total);
  }
  await fsp.rename(part, opts.to);
  return { path: opts.to, bytes: size, resumedFrom: start, status };
}
