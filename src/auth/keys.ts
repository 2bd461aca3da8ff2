/**
 * Signing keys: generated on first start, persisted through the storage port (private parts sealed
 * with SKYPORT_ENCRYPTION_KEY when configured), published as a JWKS (RFC 7517), rotated.
 *
 * Per algorithm there is always a `current` key (signs) and a `next` key (published, not yet
 * signing), so verifiers caching the JWKS already know a key before its first token. Rotation
 * promotes next → current, retires current (still published until its last token has expired)
 * and generates a new next. Every instance reloads the key set from storage on each sync tick.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningAlg } from '../config.js';
import type { SigningKeyRecord, Storage } from '../storage/types.js';
import { isSealed, open, seal } from '../util/envelope.js';

export interface PublicJwk extends JWK {
  kid: string;
  alg: string;
  use: 'sig';
}

interface LoadedKey {
  kid: string;
  alg: string;
  publicKey: KeyObject;
}

interface Signer {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
  /** base64url of the JOSE header, computed once per key. */
  encodedHeader: string;
}

/** Public members a JWK may carry per key type; anything else (private members) is never published. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

function generate(alg: SigningAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return generateKeyPairSync('ed25519');
}

/** Creates a new key record (status as given) for `alg`, its kid the RFC 7638 thumbprint. */
export async function newKeyRecord(
  alg: SigningAlg,
  status: 'next' | 'current',
  now: number,
  encryptionKey: Buffer | undefined,
): Promise<SigningKeyRecord> {
  const { privateKey, publicKey } = generate(alg);
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const members = PUBLIC_MEMBERS[jwk.kty ?? ''] ?? [];
  const pub: Record<string, unknown> = Object.fromEntries(members.map((m) => [m, (jwk as Record<string, unknown>)[m]]));
  const kid = await calculateJwkThumbprint(pub as JWK, 'sha256');
  return {
    kid,
    alg,
    publicJwk: { ...pub, kid, alg, use: 'sig' },
    privateKey: seal(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, encryptionKey),
    status,
    createdAt: now,
    activatedAt: status === 'current' ? now : null,
    retiredAt: null,
    publishUntil: null,
  };
}

/** JWKS responses may be cached this long (s): a next key must be published at least this long before it signs. */
export const JWKS_MAX_AGE = 300;

export class KeyRotationTooSoon extends Error {
  override name = 'KeyRotationTooSoon';
}

export class KeyStore {
  private signer: Signer | undefined;
  private verification = new Map<string, LoadedKey>();
  private jwks: { keys: PublicJwk[] } = { keys: [] };
  private fingerprint = '';
  private lastUnknownKidRefresh = 0;

  constructor(
    private readonly storage: Storage,
    private readonly alg: SigningAlg,
    private readonly encryptionKey: Buffer | undefined,
  ) {}

  /** Makes sure a current and a next key exist for the configured algorithm, then loads the key set. */
  async init(now = Date.now()): Promise<void> {
    let keys = await this.storage.listSigningKeys();
    const hasCurrent = () => keys.some((k) => k.alg === this.alg && k.status === 'current');
    if (!hasCurrent()) {
      // Instances starting together on an empty store: one creates the keys, the others wait (≤ 10 s) for them.
      const me = randomUUID();
      if ((await this.storage.setMetaIfAbsent(`keys_created_by_${this.alg}`, me)) !== me) {
        for (let i = 0; i < 100 && !hasCurrent(); i++) {
          await new Promise((r) => setTimeout(r, 100));
          keys = await this.storage.listSigningKeys();
        }
      }
    }
    const mine = keys.filter((k) => k.alg === this.alg);
    if (!mine.some((k) => k.status === 'current'))
      await this.storage.insertSigningKey(await newKeyRecord(this.alg, 'current', now, this.encryptionKey));
    if (!mine.some((k) => k.status === 'next'))
      await this.storage.insertSigningKey(await newKeyRecord(this.alg, 'next', now, this.encryptionKey));
    // An encryption key configured after keys were stored in plaintext: seal them now.
    if (this.encryptionKey) {
      for (const k of keys)
        if (!isSealed(k.privateKey)) await this.storage.setSigningKeyPrivate(k.kid, seal(k.privateKey, this.encryptionKey));
    }
    await this.refresh(now);
    if (!this.signer) throw new Error(`no current ${this.alg} signing key after initialisation`);
  }

  /** Reloads the key set from storage; cheap when nothing changed. */
  async refresh(now = Date.now()): Promise<void> {
    const records = (await this.storage.listSigningKeys()).filter((k) => k.status !== 'retired' || (k.publishUntil ?? 0) > now);
    const fp = records.map((k) => `${k.kid}:${k.status}:${k.publishUntil}`).join(',');
    if (fp === this.fingerprint) return;
    const verification = new Map<string, LoadedKey>();
    for (const k of records)
      verification.set(k.kid, { kid: k.kid, alg: k.alg, publicKey: createPublicKey({ key: k.publicJwk as JWK, format: 'jwk' } as never) });
    // Instances racing at first start may each create a current key: all agree to sign with the latest activated.
    const current = records
      .filter((k) => k.status === 'current' && k.alg === this.alg)
      .sort((a, b) => (a.activatedAt ?? 0) - (b.activatedAt ?? 0) || a.kid.localeCompare(b.kid))
      .at(-1);
    if (current) {
      const header = { alg: current.alg, typ: 'at+jwt', kid: current.kid };
      this.signer = {
        kid: current.kid,
        alg: current.alg as SigningAlg,
        privateKey: createPrivateKey(open(current.privateKey, this.encryptionKey)),
        encodedHeader: Buffer.from(JSON.stringify(header)).toString('base64url'),
      };
    }
    this.verification = verification;
    this.jwks = { keys: records.map((k) => k.publicJwk as unknown as PublicJwk) };
    this.fingerprint = fp;
  }

  /** The JWKS document: every key whose tokens may still be alive, plus the next key. Public members only. */
  publicJwks(): { keys: PublicJwk[] } {
    return this.jwks;
  }

  /** Algorithms of the published keys (the verifier's pinned set). */
  algorithms(): string[] {
    return [...new Set([...this.verification.values()].map((k) => k.alg))];
  }

  /**
   * Signs `payload` as a compact JWS (RFC 7515 §7.1) with the current key. The signature is made on
   * libuv's thread pool (node:crypto's callback form): measured ~20 % more grants/s than the
   * synchronous call even on one pinned core, as OpenSSL's state stays warm on the pool thread
   * instead of being evicted by request handling between signatures (docs/performance.md).
   */
  async signJwt(payload: Record<string, unknown>): Promise<string> {
    const s = this.signer;
    if (!s) throw new Error('no signing key loaded');
    const input = `${s.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const data = Buffer.from(input);
    const sig = await new Promise<Buffer>((resolve, reject) => {
      const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
      if (s.alg === 'EdDSA') sign(null, data, s.privateKey, done);
      else if (s.alg === 'ES256') sign('sha256', data, { key: s.privateKey, dsaEncoding: 'ieee-p1363' }, done);
      else sign('sha256', data, s.privateKey, done);
    });
    return `${input}.${sig.toString('base64url')}`;
  }

  /** The verification key for `kid`, reloading from storage at most once per 5 s for an unknown kid (RFC 8725 / pitfall A19). */
  async verificationKey(kid: string, now = Date.now()): Promise<LoadedKey | undefined> {
    const k = this.verification.get(kid);
    if (k || now - this.lastUnknownKidRefresh < 5000) return k;
    this.lastUnknownKidRefresh = now;
    await this.refresh(now);
    return this.verification.get(kid);
  }

  currentKid(): string | undefined {
    return this.signer?.kid;
  }

  /**
   * Rotates the configured algorithm's keys. `maxTokenLifetime` (ms) bounds how long the retired
   * key stays published: its last token expires at most that long after this call plus one sync interval.
   */
  async rotate(
    maxTokenLifetime: number,
    opts: { minNextAge?: number; now?: number } = {},
  ): Promise<{ retired: string | undefined; current: string }> {
    const now = opts.now ?? Date.now();
    const before = (await this.storage.listSigningKeys()).filter((k) => k.alg === this.alg);
    const retiring = before.find((k) => k.status === 'current');
    const promoted = before.find((k) => k.status === 'next');
    if (!promoted) throw new Error(`no next ${this.alg} key to promote; run init first`);
    const age = now - promoted.createdAt;
    if (age < (opts.minNextAge ?? 0)) {
      throw new KeyRotationTooSoon(
        `the next key has been published for ${Math.round(age / 1000)} s only; JWKS caches may not know it yet (wait, or use --force)`,
      );
    }
    await this.storage.rotateSigningKeys(
      this.alg,
      await newKeyRecord(this.alg, 'next', now, this.encryptionKey),
      now,
      now + maxTokenLifetime,
    );
    await this.storage.deleteSigningKeysPublishedBefore(now);
    await this.refresh(now);
    return { retired: retiring?.kid, current: promoted.kid };
  }
}
