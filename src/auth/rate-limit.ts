/**
 * Limits on FAILED client authentications at the token endpoint (successful grants are never
 * counted), in one-minute windows kept in each instance's memory:
 *
 * - per source address, over all client ids (`perAddress`): stops one host spraying guesses;
 * - per (client_id, source address) (`perClientAddress`): stops one host hammering one client;
 * - per client_id over all addresses (`perClient`): stops a distributed attack on one client —
 *   but it only blocks addresses that have themselves failed for that client in the window.
 *
 * The last rule is why an attacker cannot lock a legitimate client out: a host that has not failed
 * for a client is never blocked for it, however many other hosts fail. The worst an attacker sharing
 * the client's own address (e.g. behind one NAT) can cause is a block lasting until the window ends
 * (≤ 60 s after the failures stop). With 262-bit secrets, these limits are about abuse and audit
 * noise, not about making guessing feasible.
 */
const WINDOW_MS = 60_000;
const MAX_ENTRIES = 200_000;

interface Counter {
  start: number;
  count: number;
}

export interface RateLimits {
  perAddress: number;
  perClientAddress: number;
  perClient: number;
}

export class FailureLimiter {
  private readonly counters = new Map<string, Counter>();

  constructor(private readonly limits: RateLimits) {}

  private get(key: string, now: number): Counter | undefined {
    const c = this.counters.get(key);
    if (c && now - c.start >= WINDOW_MS) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  private bump(key: string, now: number): void {
    const c = this.get(key, now);
    if (c) c.count++;
    else {
      if (this.counters.size >= MAX_ENTRIES) this.sweep(now);
      this.counters.set(key, { start: now, count: 1 });
    }
  }

  private sweep(now: number): void {
    for (const [k, c] of this.counters) if (now - c.start >= WINDOW_MS) this.counters.delete(k);
    // Still full of live entries (a flood of distinct keys): drop the oldest half rather than grow.
    if (this.counters.size >= MAX_ENTRIES) {
      let n = this.counters.size / 2;
      for (const k of this.counters.keys()) {
        if (n-- <= 0) break;
        this.counters.delete(k);
      }
    }
  }

  /** Seconds the caller must wait, or 0 when this attempt may proceed. */
  retryAfter(clientId: string | undefined, address: string, now = Date.now()): number {
    if (this.counters.size === 0) return 0; // the common case: no failure anywhere this minute
    const blocked: Counter[] = [];
    const addr = this.get(`a ${address}`, now);
    if (addr && addr.count >= this.limits.perAddress) blocked.push(addr);
    if (clientId !== undefined) {
      const pair = this.get(`p ${clientId} ${address}`, now);
      if (pair && pair.count >= this.limits.perClientAddress) blocked.push(pair);
      const client = this.get(`c ${clientId}`, now);
      if (pair && client && client.count >= this.limits.perClient) blocked.push(client);
    }
    if (!blocked.length) return 0;
    return Math.max(1, Math.ceil((Math.max(...blocked.map((c) => c.start)) + WINDOW_MS - now) / 1000));
  }

  /** Counts a failed authentication. */
  fail(clientId: string | undefined, address: string, now = Date.now()): void {
    this.bump(`a ${address}`, now);
    if (clientId !== undefined) {
      this.bump(`p ${clientId} ${address}`, now);
      this.bump(`c ${clientId}`, now);
    }
  }

  /** A successful authentication forgives that host's earlier failures for the client (a fixed typo). */
  succeed(clientId: string, address: string): void {
    if (this.counters.size) this.counters.delete(`p ${clientId} ${address}`);
  }
}
