/**
 * Token forgery for verifier tests: compact JWS built by hand (alg none, HMAC with the public key,
 * foreign keys) and tokens signed with the server's own current private key, so that a single
 * claim can be made wrong (issuer, audience, expiry) while everything else is genuine.
 */
import { createHmac, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { open } from '../../src/util/envelope.js';
import type { TestServer } from './server.js';

export const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A compact JWS with the given header and payload and an arbitrary (possibly empty) signature. */
export function compact(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

/** `alg: none` with the claims of a genuine token copied (RFC 8725 §3.1). */
export function algNone(genuine: string): string {
  const h = decodeProtectedHeader(genuine);
  return compact({ alg: 'none', typ: h.typ, kid: h.kid }, decodeJwt(genuine) as Record<string, unknown>);
}

/** HS256 over the genuine claims with `secret` as the HMAC key (the classic RSA-public-key-as-HMAC-secret confusion). */
export function hs256(genuine: string, secret: string | Buffer): string {
  const h = decodeProtectedHeader(genuine);
  const input = `${b64url({ alg: 'HS256', typ: h.typ, kid: h.kid })}.${b64url(decodeJwt(genuine))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The server's private key of the given status, unsealed with the server's encryption key. */
export async function serverPrivateKey(
  s: TestServer,
  status: 'current' | 'next' = 'current',
): Promise<{ kid: string; alg: string; key: KeyObject }> {
  const rec = (await s.skyport.storage.listSigningKeys())
    .filter((k) => k.status === status && k.alg === s.config.signingAlg)
    .sort((a, b) => (a.activatedAt ?? 0) - (b.activatedAt ?? 0))
    .at(-1);
  if (!rec) throw new Error(`no ${status} key`);
  return { kid: rec.kid, alg: rec.alg, key: createPrivateKey(open(rec.privateKey, s.config.encryptionKey)) };
}

/** Signs `payload` as the server would (header alg/kid/typ at+jwt), optionally with header overrides and another key. */
export async function signAs(
  key: { kid: string; alg: string; key: KeyObject },
  payload: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header }).sign(key.key);
}

/** A fresh RS256 key pair that is not Skyport's, presented under `kid`. */
export function foreignRsaKey(kid: string): { kid: string; alg: string; key: KeyObject } {
  return { kid, alg: 'RS256', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
}

/** The claims of a genuine token, for re-signing with one claim changed. */
export function claimsOf(token: string): JWTPayload {
  return { ...decodeJwt(token) };
}

/** Flips one character in the middle of the payload segment (still valid base64url). */
export function tamperPayload(token: string, claims: Record<string, unknown>): string {
  const [h, , sig] = token.split('.');
  return `${h}.${b64url({ ...decodeJwt(token), ...claims })}.${sig}`;
}
