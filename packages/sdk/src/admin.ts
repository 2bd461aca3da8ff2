/**
 * Typed client of Skyport's Management API (`<base>/admin/`): an organization's API clients and
 * audit log. Needs a token with admin:read / admin:write (the admin root credential or a client
 * under the admin root scope). Errors are ApiError with the server's problem `code` and `detail`.
 */
import type { ClientCredentials } from './client-credentials.js';
import { requestJson } from './http.js';

export { ApiError } from './http.js';

export type RootScope = 'admin' | 'tasking' | 'read-only';

/** An API client as the Management API shows it (never its secret, except right after creation or rotation). */
export interface ApiClient {
  client_id: string;
  name: string;
  root_scope: RootScope;
  permissions: string[];
  enabled: boolean;
  root_credential: boolean;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  secrets: { hint: string; created_at: string; expires_at: string | null }[];
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: 'success' | 'failure';
  source_ip: string | null;
  details: Record<string, unknown>;
}

export class AdminClient {
  private readonly base: string;
  /** `baseUrl`: the Skyport public URL, e.g. `http://127.0.0.1:8080`. */
  constructor(
    private readonly tokens: ClientCredentials,
    baseUrl: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return requestJson<T>(this.tokens, `${this.base}${path}`, method, body);
  }

  async list(): Promise<ApiClient[]> {
    return (await this.call<{ clients: ApiClient[] }>('GET', '/admin/clients')).clients;
  }
  get(clientId: string): Promise<ApiClient> {
    return this.call('GET', `/admin/clients/${encodeURIComponent(clientId)}`);
  }
  /** Creates a client; its `client_secret` is in this answer only. */
  create(input: { name: string; root_scope: RootScope; permissions?: string[] }): Promise<ApiClient & { client_secret: string }> {
    return this.call('POST', '/admin/clients', input);
  }
  update(clientId: string, patch: { name?: string; permissions?: string[]; enabled?: boolean }): Promise<ApiClient> {
    return this.call('PATCH', `/admin/clients/${encodeURIComponent(clientId)}`, patch);
  }
  /** New secret (in this answer only); the old one stays valid `gracePeriodSeconds` (default 0). */
  rotateSecret(
    clientId: string,
    gracePeriodSeconds = 0,
  ): Promise<{ client_id: string; client_secret: string; previous_secret_expires_at: string | null }> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(clientId)}/rotate-secret`, { grace_period_seconds: gracePeriodSeconds });
  }
  disable(clientId: string): Promise<ApiClient> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(clientId)}/disable`);
  }
  enable(clientId: string): Promise<ApiClient> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(clientId)}/enable`);
  }
  revokeTokens(clientId: string): Promise<void> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(clientId)}/revoke-tokens`);
  }
  delete(clientId: string): Promise<void> {
    return this.call('DELETE', `/admin/clients/${encodeURIComponent(clientId)}`);
  }
  /** The organization's audit log, newest first; pass the last entry's id as `before` for the next page. */
  async audit(opts: { limit?: number; before?: string } = {}): Promise<AuditEntry[]> {
    const q = new URLSearchParams();
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.before) q.set('before', opts.before);
    return (await this.call<{ entries: AuditEntry[] }>('GET', `/admin/audit${q.size ? `?${q}` : ''}`)).entries;
  }
}
