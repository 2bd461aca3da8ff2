/**
 * fetch with a bearer token from a ClientCredentials provider: on 401 it refreshes the token once and
 * retries once (never a loop); 403 insufficient_scope is an InsufficientScopeError, not retried (K04);
 * 429 (and 503 for idempotent methods) are retried honouring Retry-After, seconds or HTTP-date (K05).
 */
import type { ClientCredentials, TokenRequest } from './client-credentials.js';
import { InsufficientScopeError } from './errors.js';
import { retryAfterMs } from './retry-after.js';

export interface AuthorizedFetchOptions extends TokenRequest {
  maxAttempts?: number;
  fetch?: typeof fetch;
}

export async function authorizedFetch(
  tokens: ClientCredentials,
  url: string | URL,
  init: RequestInit = {},
  opts: AuthorizedFetchOptions = {},
): Promise<Response> {
  const f = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const attempts = opts.maxAttempts ?? 3;
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    const token = await tokens.getToken(opts);
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    const r = await f(url, { ...init, headers });
    if (r.status === 401 && !refreshed) {
      refreshed = true;
      tokens.invalidate(token);
      continue;
    }
    if (r.status === 403 && /insufficient_scope/.test(r.headers.get('www-authenticate') ?? '')) {
      throw new InsufficientScopeError(/scope="([^"]*)"/.exec(r.headers.get('www-authenticate') ?? '')?.[1]);
    }
    // 429 means not processed: always retryable. A 503 may follow partial work: retried only for idempotent methods.
    const idempotent = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'].includes((init.method ?? 'GET').toUpperCase());
    if ((r.status === 429 || (r.status === 503 && idempotent)) && attempt < attempts) {
      await new Promise((res) => setTimeout(res, Math.min(retryAfterMs(r.headers.get('retry-after')) ?? 1000 * attempt, 30_000)));
      continue;
    }
    return r;
  }
}
