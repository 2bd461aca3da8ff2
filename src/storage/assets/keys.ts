/**
 * Asset keys: the relative path of an `asset:` href, the same in every store (a file under the
 * assets folder, an object under the bucket prefix). A key a loaded or tampered item carries must
 * never reach outside the store nor name a file the store keeps for itself, so keys are refused
 * unless every `/`-separated segment is non-empty, is not `.` or `..`, does not start with `.`
 * (hidden files, and the local store's temporary files, are never served: as `dotfiles: deny` did)
 * and holds no backslash, control character or lone UTF-16 surrogate (which has no UTF-8 form: a file
 * name would silently become U+FFFD, another key's file, and an S3 URL could not be encoded at all).
 */

/** Thrown for a key `isSafeAssetKey` refuses. */
export class UnsafeAssetKey extends Error {
  override name = 'UnsafeAssetKey';
}

/** S3's limit on key length, UTF-8 bytes; applied to every store so that keys move between them. */
export const MAX_OBJECT_KEY_BYTES = 1024;

/** Whether `key` is a safe relative asset path (module comment). */
export function isSafeAssetKey(key: string): boolean {
  if (key === '' || Buffer.byteLength(key) > MAX_OBJECT_KEY_BYTES) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(key) || /\p{Cs}/u.test(key)) return false;
  return key.split('/').every((s) => s !== '' && !s.startsWith('.'));
}

/** Returns `key` when safe; throws UnsafeAssetKey (`unsafe asset path: …`) otherwise. */
export function assertSafeAssetKey(key: string): string {
  if (!isSafeAssetKey(key)) throw new UnsafeAssetKey(`unsafe asset path: ${JSON.stringify(key.slice(0, 200))}`);
  return key;
}
