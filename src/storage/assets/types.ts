/**
 * The asset store port: where the bytes of held assets (item asset hrefs `asset:<key>`) live. Two
 * adapters: `local.ts` (a folder, the default) and `s3.ts` (S3-compatible object storage). Keys are
 * relative paths (`keys.ts`); the HTTP semantics of a download (conditionals, 206/416) are the
 * route's (catalog/assets.ts), so both adapters answer alike.
 */
import type { Readable } from 'node:stream';

/**
 * A byte range as a client asks for it (RFC 9110 §14.1.1), before the size is known: bytes
 * `first`…`last` (inclusive; `last` absent = to the end) or the final `suffix` bytes.
 */
export type ByteRange = { first: number; last?: number } | { suffix: number };

/** What a store knows of a stored asset. */
export interface AssetMeta {
  /** Bytes. */
  size: number;
  /** The `ETag` header value, quotes (and a `W/` prefix when weak) included. */
  etag: string;
  /** Whole seconds matter only: `Last-Modified` is an HTTP date. */
  lastModified: Date;
}

/** The outcome of `AssetStore.read`. */
export type AssetRead =
  | { status: 'missing' }
  /** The range lies outside the asset (416 with `Content-Range: bytes *\/size`). */
  | { status: 'unsatisfiable'; size: number }
  | {
      status: 'ok';
      meta: AssetMeta;
      /** The bytes sent, inclusive (206); absent when `body` is the whole asset (200). */
      range?: { start: number; end: number };
      /** Bytes in `body`. */
      length: number;
      /** The bytes, streamed (never buffered whole); destroy it when not sending it. */
      body: Readable;
    };

/** Where held assets are stored. Every method throws `UnsafeAssetKey` for a key `keys.ts` refuses. */
export interface AssetStore {
  readonly kind: 'local' | 's3';
  /** Where, for logs and errors: a folder path or `s3://bucket/prefix` (never credentials). */
  readonly location: string;
  /** Stores `bytes` under `key`, replacing any previous asset whole (readers never see a partial write). */
  put(key: string, bytes: Uint8Array, contentType?: string): Promise<void>;
  /** The asset's metadata, or undefined when there is none under `key`. */
  stat(key: string): Promise<AssetMeta | undefined>;
  /**
   * The asset's bytes: all of them, or `range` resolved against its size (a range past its end is
   * `unsatisfiable`; a store whose server ignores ranges may answer whole, as HTTP allows).
   */
  read(key: string, range?: ByteRange): Promise<AssetRead>;
  /** Checks at start that the store is usable (the bucket answers); throws a message naming the setting to fix. */
  probe(): Promise<void>;
}

/** The store failed (unreachable, refused, answered nonsense): a server fault, never the client's. */
export class AssetStoreError extends Error {
  override name = 'AssetStoreError';
}
