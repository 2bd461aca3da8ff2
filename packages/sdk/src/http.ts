/** One JSON request to a Skyport API with a managed bearer token; non-2xx answers become ApiError. */
import { authorizedFetch } from './authorized-fetch.js';
import type { ClientCredentials } from './client-credentials.js';

/** A non-2xx answer of a Skyport API: `code` and `detail` from its problem (Management) or `{code, description}` (Data) body. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${status} ${code}: ${detail}`);
  }
}

/** Sends `body` as JSON when given; resolves the parsed answer (undefined for 204). Throws ApiError, TokenError. */
export async function requestJson<T>(tokens: ClientCredentials, url: string, method = 'GET', body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const r = await authorizedFetch(tokens, url, init);
  if (r.status === 204) return undefined as T;
  const json = (await r.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!r.ok) {
    const code = String(json?.code ?? json?.error ?? 'Error');
    throw new ApiError(r.status, code, String(json?.detail ?? json?.description ?? json?.error_description ?? r.statusText));
  }
  return json as T;
}
