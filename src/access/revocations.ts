/**
 * The revocation list every instance keeps in memory, filled from storage on each sync tick, so that
 * verifying a token needs no storage round trip. A revocation made on one instance is honoured by
 * every instance within one sync interval (SKYPORT_SYNC_INTERVAL_MS, default 2 s): the documented
 * bound of access-model invariant 4.
 */
import type { RevocationRecord, Storage } from '../storage/types.js';

/** Rows re-read on every sync, so a row committed late by another instance (clock skew, slow transaction) is not missed. */
const OVERLAP_MS = 30_000;

export class RevocationList {
  private readonly tokens = new Map<string, number>(); // jti → expiresAt
  private readonly clients = new Map<string, { notBefore: number; expiresAt: number }>();
  private lastSync: number | undefined;

  constructor(private readonly storage: Storage) {}

  /** Applies a revocation locally at once (the instance that made it needs no sync to honour it). */
  apply(r: RevocationRecord): void {
    if (r.kind === 'token') this.tokens.set(r.subject, r.expiresAt);
    else {
      const prev = this.clients.get(r.subject);
      if (!prev || prev.notBefore < r.notBefore) this.clients.set(r.subject, { notBefore: r.notBefore, expiresAt: r.expiresAt });
    }
  }

  /** Records a revocation in storage and applies it locally. */
  async add(r: RevocationRecord): Promise<void> {
    await this.storage.addRevocation(r);
    this.apply(r);
  }

  /** Reads revocations created since the last sync (all live ones on the first call) and forgets expired ones. */
  async sync(now = Date.now()): Promise<void> {
    const since = this.lastSync === undefined ? 0 : this.lastSync - OVERLAP_MS;
    for (const r of await this.storage.listRevocations(since, now)) this.apply(r);
    this.lastSync = now;
    for (const [jti, exp] of this.tokens) if (exp <= now) this.tokens.delete(jti);
    for (const [id, c] of this.clients) if (c.expiresAt <= now) this.clients.delete(id);
  }

  /** When the client's tokens were last revoked as known to this instance (ms), if ever. */
  clientRevokedAt(clientId: string): number | undefined {
    return this.clients.get(clientId)?.notBefore;
  }

  /**
   * True when the token (`jti`, issued at `iatSeconds` to `clientId`) has been revoked. `iat` has
   * whole seconds, so a client revocation covers every token of its own second too; the token
   * endpoint issues that client nothing until the next second (grants/client-credentials.ts).
   */
  isRevoked(jti: string, clientId: string, iatSeconds: number): boolean {
    if (this.tokens.has(jti)) return true;
    const c = this.clients.get(clientId);
    return c !== undefined && iatSeconds <= Math.floor(c.notBefore / 1000);
  }
}
