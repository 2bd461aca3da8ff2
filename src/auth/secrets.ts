/**
 * Client identifiers and secrets.
 *
 * Both use only RFC 3986 unreserved characters (here: base62), so code that builds a form body by
 * string formatting — as the Hydrosat page's Python example does — works for every secret.
 * Secrets carry 262 bits from the CSPRNG, the recognisable prefix `sks_` and a CRC-32 checksum
 * (as GitHub's tokens do), so secret scanners can find leaked ones with few false positives.
 *
 * Storage keeps only a keyed hash: HMAC-SHA-256 under a server key. A slow password hash buys
 * nothing for 262-bit random secrets (no dictionary to try) and would cap grants at ~100/s, as the
 * bcrypt-hashing peers measured; see docs/performance.md for the figure.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SECRET_PREFIX = 'sks_';
const SECRET_RANDOM_CHARS = 44; // 44 × log2(62) ≈ 262 bits

/** `n` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248) out += BASE62[b % 62];
      if (out.length === n) break;
    }
  }
  return out;
}

function base62(n: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = BASE62[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s;
}

let crcTable: Uint32Array | undefined;
function crc32(s: string): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < s.length; i++) crc = crcTable[(crc ^ s.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A new client_id: 32 base62 characters (≈ 190 bits), like Auth0's. */
export function generateClientId(): string {
  return randomBase62(32);
}

/** A new client secret: `sks_` + 44 random base62 characters + 6-character CRC-32 checksum. */
export function generateClientSecret(): string {
  const body = SECRET_PREFIX + randomBase62(SECRET_RANDOM_CHARS);
  return body + base62(crc32(body), 6);
}

/** True when `s` has the shape and checksum of a Skyport secret (used to keep secrets out of logs). */
export function looksLikeSecret(s: string): boolean {
  if (!s.startsWith(SECRET_PREFIX) || s.length !== SECRET_PREFIX.length + SECRET_RANDOM_CHARS + 6) return false;
  const body = s.slice(0, -6);
  return base62(crc32(body), 6) === s.slice(-6);
}

/** Keyed hashing and constant-time comparison of client secrets. */
export class SecretHasher {
  /** Hash of a random value: compared against when a client is unknown, so both paths cost the same. */
  readonly decoyHash: string;
  constructor(private readonly key: Buffer) {
    this.decoyHash = this.hash(generateClientSecret());
  }

  /** HMAC-SHA-256(key, secret), base64url. */
  hash(secret: string): string {
    return createHmac('sha256', this.key).update(secret, 'utf8').digest('base64url');
  }

  /** Constant-time check of `secret` against every stored hash (always compares against all of them). */
  verify(secret: string, hashes: readonly string[]): boolean {
    const candidate = Buffer.from(this.hash(secret), 'utf8');
    let ok = false;
    for (const h of hashes) {
      const stored = Buffer.from(h, 'utf8');
      if (stored.length === candidate.length && timingSafeEqual(stored, candidate)) ok = true;
    }
    return ok;
  }
}
