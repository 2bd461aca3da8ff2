/**
 * The local asset store: asset `key` is the file `<root>/<key>` (SKYPORT_ASSETS_DIR, by default
 * `<data dir>/assets`). Writes go to a hidden temporary file renamed into place, so a reader sees
 * the old file or the new one, never half of one. ETags are strong (see metaOf).
 */
import { randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertSafeAssetKey } from './keys.js';
import { resolveRange } from './range.js';
import type { AssetMeta, AssetRead, AssetStore, ByteRange } from './types.js';

// What open/stat answer for a path that is not there (or is a directory where a file is asked for).
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'EISDIR']);

/**
 * A strong ETag, as Apache makes for files: size, modification time in nanoseconds and inode. Every write of the
 * store is a new file renamed into place (a new inode), so two versions never share one; strong, it serves
 * If-Match and If-Range, which compare strongly (RFC 9110 §8.8.3.2).
 */
function metaOf(st: BigIntStats): AssetMeta {
  const hex = (n: bigint) => n.toString(16);
  return {
    size: Number(st.size),
    etag: `"${hex(st.size)}-${hex(st.mtimeNs)}-${hex(st.ino)}"`,
    lastModified: new Date(Number(st.mtimeMs)),
  };
}

function absent(e: unknown): boolean {
  return ABSENT.has((e as NodeJS.ErrnoException).code ?? '');
}

/** A folder of asset files (module comment). `root` is used as given (config resolves it). */
export class LocalAssetStore implements AssetStore {
  readonly kind = 'local' as const;
  readonly location: string;

  constructor(readonly root: string) {
    this.location = root;
  }

  /** The file of `key`. Throws UnsafeAssetKey. */
  pathOf(key: string): string {
    return path.join(this.root, ...assertSafeAssetKey(key).split('/'));
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Hidden (a dot segment is never a key) and unique (concurrent writers of one key do not collide).
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async stat(key: string): Promise<AssetMeta | undefined> {
    const file = this.pathOf(key);
    const st = await stat(file, { bigint: true }).catch((e: unknown) => {
      if (absent(e)) return undefined;
      throw e;
    });
    return st?.isFile() ? metaOf(st) : undefined;
  }

  async read(key: string, range?: ByteRange): Promise<AssetRead> {
    const file = this.pathOf(key);
    // Open first and stat the open file: size, validators and bytes are of one and the same file.
    const fh = await open(file, 'r').catch((e: unknown) => {
      if (absent(e)) return undefined;
      throw e;
    });
    if (!fh) return { status: 'missing' };
    let handedOver = false;
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) return { status: 'missing' };
      const meta = metaOf(st);
      if (!range) {
        handedOver = true;
        return { status: 'ok', meta, length: meta.size, body: fh.createReadStream({ start: 0 }) };
      }
      const r = resolveRange(range, meta.size);
      if (!r) return { status: 'unsatisfiable', size: meta.size };
      handedOver = true;
      return { status: 'ok', meta, range: r, length: r.end - r.start + 1, body: fh.createReadStream(r) };
    } finally {
      // The stream closes the handle when it ends or is destroyed; otherwise close it here.
      if (!handedOver) await fh.close();
    }
  }

  /** Nothing to check: a missing folder is created by the first write, and a read-only one serves. */
  async probe(): Promise<void> {}
}
