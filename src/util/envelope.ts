/**
 * Encryption at rest for private signing keys and the secret-hashing key: AES-256-GCM with a
 * random 96-bit IV, serialised as `enc:v1:<iv>.<tag>.<ciphertext>` (base64url). Values without
 * the prefix are plaintext (no encryption key configured).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Encrypts `plaintext` under `key` (32 bytes); returns it unchanged when `key` is undefined. */
export function seal(plaintext: string, key: Buffer | undefined): string {
  if (!key) return plaintext;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
}

/**
 * Decrypts a sealed value. Throws EnvelopeError when it is sealed and no key (or the wrong key) is given.
 */
export function open(value: string, key: Buffer | undefined): string {
  if (!isSealed(value)) return value;
  if (!key) throw new EnvelopeError('stored keys are encrypted: set SKYPORT_ENCRYPTION_KEY to the key they were sealed with');
  const [iv, tag, ct] = value.slice(PREFIX.length).split('.');
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64url'));
    d.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
    return Buffer.concat([d.update(Buffer.from(ct ?? '', 'base64url')), d.final()]).toString('utf8');
  } catch {
    throw new EnvelopeError('cannot decrypt stored keys: SKYPORT_ENCRYPTION_KEY is not the key they were sealed with');
  }
}
