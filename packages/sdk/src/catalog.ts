/**
 * Typed client of Skyport's Data API catalog (STAC): what the server has today — the landing page,
 * conformance, collections. Item search arrives with the catalog issue.
 */
import { ApiError } from './admin.js';
import { authorizedFetch } from './authorized-fetch.js';
import type { ClientCredentials } from './client-credentials.js';

/** A STAC Collection as served (extension fields kept). */
export interface StacCollection {
  type: 'Collection';
  id: string;
  title?: string;
  description: string;
  license: string;
  extent: unknown;
  links: { rel: string; href: string; type?: string }[];
  [field: string]: unknown;
}

export class CatalogClient {
  private readonly base: string;
  /** `baseUrl`: the Data API root, e.g. `http://127.0.0.1:8080`. */
  constructor(
    private readonly tokens: ClientCredentials,
    baseUrl: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private async get<T>(path: string): Promise<T> {
    const r = await authorizedFetch(this.tokens, `${this.base}${path}`, { headers: { accept: 'application/json' } });
    const json = (await r.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!r.ok) throw new ApiError(r.status, String(json?.code ?? 'Error'), String(json?.description ?? r.statusText));
    return json as T;
  }

  /** The collections this organization is entitled to. */
  async collections(): Promise<StacCollection[]> {
    return (await this.get<{ collections: StacCollection[] }>('/collections')).collections;
  }
  /** One collection; ApiError 404 when it does not exist or is not entitled (the same answer). */
  collection(id: string): Promise<StacCollection> {
    return this.get(`/collections/${encodeURIComponent(id)}`);
  }
  /** The conformance classes the server implements. */
  async conformance(): Promise<string[]> {
    return (await this.get<{ conformsTo: string[] }>('/conformance')).conformsTo;
  }
}
