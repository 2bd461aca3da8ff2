/**
 * The S3 asset store: asset `key` is the object `<prefix>/<key>` in one bucket of any S3-compatible
 * service (AWS S3, MinIO, Ceph, R2, …), signed with SigV4 by aws4fetch over Node's fetch. A download
 * is ONE `GET` carrying the client's range, its body streamed through (never buffered); the answer
 * is checked against the range asked for, and a server that misread it (some test servers get
 * `bytes=-N` wrong) is asked again with the explicit `bytes=first-last` every server understands.
 *
 * Missing objects answer 404 only when the credentials may list the bucket (`s3:ListBucket`);
 * without that S3 answers 403 for them, which is reported as a store failure.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { AwsClient } from 'aws4fetch';
import { ConfigError } from '../../config.js';
import { assertSafeAssetKey, MAX_OBJECT_KEY_BYTES, UnsafeAssetKey } from './keys.js';
import { canSatisfy, rangeHeader, resolveRange } from './range.js';
import { AssetStoreError, type AssetMeta, type AssetRead, type AssetStore, type ByteRange } from './types.js';

/** Where and how to reach the bucket (config.ts fills it from SKYPORT_S3_*). */
export interface S3Options {
  bucket: string;
  /** Service URL without a trailing slash, e.g. `https://s3.eu-central-1.amazonaws.com` or `http://127.0.0.1:9000`. */
  endpoint: string;
  /** SigV4 region, e.g. `us-east-1` (MinIO's default too). */
  region: string;
  /** Key prefix without leading or trailing `/` ('' for none): objects are `<prefix>/<key>`. */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `<endpoint>/<bucket>/<key>` (MinIO and most S3-compatible servers) instead of `<bucket>.<endpoint host>/<key>`. */
  pathStyle: boolean;
  /** How long to wait for a response's headers, ms (default 30 s); bodies stream without a limit. */
  timeoutMs?: number;
}

// encodeURIComponent leaves these; SigV4's canonical URI (RFC 3986) does not.
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The Content-Length of an answer as a byte count, or undefined when missing or not a non-negative integer. */
function contentLength(res: Response): number | undefined {
  const v = res.headers.get('content-length');
  return v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

/** An S3 bucket (and prefix) holding asset objects (module comment). */
export class S3AssetStore implements AssetStore {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly #client: AwsClient;
  readonly #opts: S3Options;

  constructor(opts: S3Options) {
    this.#opts = opts;
    this.location = `s3://${opts.bucket}${opts.prefix ? `/${opts.prefix}` : ''}`;
    // Two quick retries of 5xx/429 (S3's SlowDown), not aws4fetch's ten: a download waits on them.
    this.#client = new AwsClient({
      accessKeyId: opts.accessKeyId,
      secretAccessKey: opts.secretAccessKey,
      service: 's3',
      region: opts.region,
      retries: 2,
      initRetryMs: 100,
    });
  }

  /** The URL of the bucket (no key) or of the object of asset `key`. */
  url(key?: string): string {
    const { endpoint, bucket, prefix, pathStyle } = this.#opts;
    const objectPath = key === undefined ? '' : [prefix, key].filter(Boolean).join('/').split('/').map(rfc3986).join('/');
    if (pathStyle) return `${endpoint}/${bucket}/${objectPath}`;
    const u = new URL(endpoint);
    return `${u.protocol}//${bucket}.${u.host}${u.pathname.replace(/\/$/, '')}/${objectPath}`;
  }

  /**
   * Whether `key` under the prefix stays within S3's 1,024 bytes. Keys are checked against that limit alone (they
   * move between stores); under a prefix a longer one names no object that can exist.
   */
  #fits(key: string): boolean {
    const { prefix } = this.#opts;
    return Buffer.byteLength(prefix ? `${prefix}/${key}` : key) <= MAX_OBJECT_KEY_BYTES;
  }

  async put(key: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    assertSafeAssetKey(key);
    if (!this.#fits(key))
      throw new UnsafeAssetKey(`asset path too long under the prefix ${this.#opts.prefix}: ${JSON.stringify(key.slice(0, 200))}`);
    // A signed payload hash: S3 refuses a body that changed on the way.
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const res = await this.#send('PUT', key, { 'content-type': contentType, 'x-amz-content-sha256': sha256 }, bytes);
    if (res.status !== 200) throw await this.#failure('PUT', key, res);
    await res.body?.cancel();
  }

  async stat(key: string): Promise<AssetMeta | undefined> {
    assertSafeAssetKey(key);
    if (!this.#fits(key)) return undefined;
    const res = await this.#send('HEAD', key);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await this.#failure('HEAD', key, res);
    const size = contentLength(res);
    if (size === undefined) throw await this.#failure('HEAD', key, res, 'an answer without a Content-Length');
    return this.#meta(res, size);
  }

  async read(key: string, range?: ByteRange): Promise<AssetRead> {
    assertSafeAssetKey(key);
    if (!this.#fits(key)) return { status: 'missing' };
    // S3 ignores a range that can select nothing (`5-2`) and answers whole; the route's answer is a 416.
    if (range && !canSatisfy(range)) return this.#unsatisfiable(key);
    const res = await this.#send('GET', key, range ? { range: rangeHeader(range) } : {});
    return this.#answer(key, range, res, true);
  }

  async probe(): Promise<void> {
    const where = `S3 bucket ${this.#opts.bucket} at ${this.#opts.endpoint}`;
    let res: Response;
    try {
      res = await this.#send('HEAD');
    } catch (e) {
      throw new ConfigError(`${where} cannot be reached (${(e as Error).message}): check SKYPORT_S3_ENDPOINT`);
    }
    if (res.status === 200) return;
    const hint: Record<number, string> = {
      301: `it is in region ${res.headers.get('x-amz-bucket-region') ?? 'another region'}: set SKYPORT_S3_REGION`,
      403: 'access denied: check SKYPORT_S3_ACCESS_KEY_ID, SKYPORT_S3_SECRET_ACCESS_KEY and the bucket policy',
      404: 'it does not exist: check SKYPORT_S3_BUCKET (Skyport does not create buckets)',
    };
    throw new ConfigError(`${where}: ${hint[res.status] ?? `answered HTTP ${res.status}`}`);
  }

  /** Sends a signed request for the bucket (no key) or an object; network failures become AssetStoreError. */
  async #send(method: string, key?: string, headers: Record<string, string> = {}, body?: Uint8Array): Promise<Response> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('no answer in time')), this.#opts.timeoutMs ?? 30_000);
    try {
      return await this.#client.fetch(this.url(key), {
        method,
        headers,
        body: body as Uint8Array<ArrayBuffer> | undefined,
        signal: abort.signal,
      });
    } catch (e) {
      const cause = (e as Error & { cause?: { code?: string } }).cause?.code;
      throw new AssetStoreError(`S3 ${method} ${this.#where(key)}: ${(e as Error).message}${cause ? ` (${cause})` : ''}`);
    } finally {
      // Only the wait for headers is bounded: a slow client may take its time over the body.
      clearTimeout(timer);
    }
  }

  /** Turns a GET's response into an AssetRead, checking a 206 against the range asked for (module comment). */
  async #answer(key: string, range: ByteRange | undefined, res: Response, mayRetry: boolean): Promise<AssetRead> {
    if (res.status === 404) {
      const code = await errorCode(res);
      if (code === 'NoSuchKey' || code === undefined) return { status: 'missing' };
      throw new AssetStoreError(`S3 GET ${this.#where(key)}: 404 ${code}`);
    }
    if (res.status === 416) {
      const size = /<ActualObjectSize>(\d+)<\/ActualObjectSize>/.exec(await res.text())?.[1];
      return size === undefined ? this.#unsatisfiable(key) : { status: 'unsatisfiable', size: Number(size) };
    }
    if (res.status === 200) {
      // No range asked, or a server that ignores ranges: the whole object (HTTP allows that answer).
      const size = contentLength(res);
      // Without a length the route cannot answer correctly (nor say what it sends): a store fault, not a NaN header.
      if (size === undefined) {
        await res.body?.cancel();
        throw await this.#failure('GET', key, res, 'a 200 without a Content-Length');
      }
      return { status: 'ok', meta: this.#meta(res, size), length: size, body: nodeStream(res) };
    }
    if (res.status !== 206 || !range) throw await this.#failure('GET', key, res);
    const got = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
    if (!got) throw await this.#failure('GET', key, res, 'a 206 without a Content-Range');
    const [start, end, size] = got.slice(1).map(Number) as [number, number, number];
    const want = resolveRange(range, size);
    if (want && want.start === start && want.end === end)
      return { status: 'ok', meta: this.#meta(res, size), range: want, length: end - start + 1, body: nodeStream(res) };
    await res.body?.cancel();
    if (!want) return { status: 'unsatisfiable', size };
    if (!mayRetry) throw new AssetStoreError(`S3 GET ${this.#where(key)}: sent bytes ${start}-${end} for ${rangeHeader(range)}`);
    const explicit = { first: want.start, last: want.end };
    return this.#answer(key, explicit, await this.#send('GET', key, { range: rangeHeader(explicit) }), false);
  }

  /** A 416 whose size the answer did not carry: ask for it. */
  async #unsatisfiable(key: string): Promise<AssetRead> {
    const meta = await this.stat(key);
    return meta ? { status: 'unsatisfiable', size: meta.size } : { status: 'missing' };
  }

  #meta(res: Response, size: number): AssetMeta {
    const modified = Date.parse(res.headers.get('last-modified') ?? '');
    // S3 always sends an ETag; a server that does not still gets a validator that changes with the size and date.
    const etag = res.headers.get('etag') ?? `W/"${size.toString(16)}-${(modified || 0).toString(16)}"`;
    return { size, etag, lastModified: new Date(Number.isNaN(modified) ? 0 : modified) };
  }

  #where(key?: string): string {
    return key === undefined ? `s3://${this.#opts.bucket}` : `${this.location}/${key}`;
  }

  async #failure(method: string, key: string, res: Response, what?: string): Promise<AssetStoreError> {
    const code = what ?? (await errorCode(res)) ?? res.statusText;
    return new AssetStoreError(`S3 ${method} ${this.#where(key)}: ${res.status} ${code}`);
  }
}

/** The `<Code>` of an S3 error body (undefined for HEAD answers, which have none). */
async function errorCode(res: Response): Promise<string | undefined> {
  const text = await res.text().catch(() => '');
  return /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
}

/** The response body as a Node stream; destroying it cancels the transfer from S3. */
function nodeStream(res: Response): Readable {
  return res.body ? Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>) : Readable.from([]);
}
