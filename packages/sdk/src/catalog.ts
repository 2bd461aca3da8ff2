/**
 * Typed client of Skyport's Data API catalog (STAC): what the server has today — the landing page,
 * conformance, collections. Item search arrives with the catalog issue.
 */
import type { ClientCredentials } from './client-credentials.js';
import { requestJson } from './http.js';

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

  private get<T>(path: string): Promise<T> {
    return requestJson<T>(this.tokens, `${this.base}${path}`);
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
