/**
 * `ClientCredentials`: an OAuth 2.0 client-credentials token provider (RFC 6749 §4.4) that speaks
 * both documented styles — form at `/oauth2/token` (Hydrosat) and JSON with `audience` at
 * `/oauth/token` (Satellogic) — and both client authentication methods.
 *
 * Tokens are cached per (audience, scope) and refreshed ahead of expiry; however many calls need
 * a token at once, exactly one request is in flight for it (single-flight, pitfall K01), and a
 * failed request is never cached. Runs on Node 20 and in browsers (fetch only; `fromFile` is Node-only).
 */
import { TokenError } from './errors.js';
import { retryAfterMs } from './retry-after.js';

export interface ClientCredentialsOptions {
  clientId: string;
  clientSecret: string;
  /** The token endpoint. Either this or `issuer` (then discovered via RFC 8414 metadata). */
  tokenUrl?: string;
  /** The authorization server's issuer / base URL, for discovery. */
  issuer?: string;
  /** Default audience (API identifier) of tokens; the server's natural API when absent. */
  audience?: string;
  /** Default scope (space-separated permissions). */
  scope?: string;
  /** `form` (application/x-www-form-urlencoded, default) or `json` (Auth0 style). */
  style?: 'form' | 'json';
  /** `client_secret_post` (default) or `client_secret_basic`. */
  authMethod?: 'client_secret_post' | 'client_secret_basic';
  /** Refresh this long before `expires_in` runs out, seconds (default 60, at most half the lifetime). */
  refreshAheadSeconds?: number;
  /** Attempts for 429/503 answers, honouring Retry-After (default 3). */
  maxAttempts?: number;
  fetch?: typeof fetch;
}

export interface TokenRequest {
  audience?: string;
  scope?: string;
}

interface Cached {
  token: string;
  /** Epoch ms after which the token is refreshed. */
  refreshAt: number;
  /** Epoch ms at which it expires: until then it still serves if a refresh fails. */
  expiresAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ClientCredentials {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();
  private tokenUrl: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: ClientCredentialsOptions) {
    if (!opts.clientId || !opts.clientSecret) throw new TypeError('clientId and clientSecret are required');
    if (!opts.tokenUrl && !opts.issuer) throw new TypeError('tokenUrl or issuer is required');
    this.tokenUrl = opts.tokenUrl;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * From a creds.json file (`{"client_id","client_secret"}` plus optional `token_url`, `audience`), Node only.
   * Refuses a file readable by group or others, as ssh does with keys. Throws TypeError with the fix.
   */
  static async fromFile(path: string, extra: Partial<ClientCredentialsOptions> = {}): Promise<ClientCredentials> {
    const fs = await import('node:fs/promises');
    const st = await fs.stat(path);
    if ((st.mode & 0o077) !== 0) {
      throw new TypeError(`${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}): run chmod 600 ${path}`);
    }
    const c = JSON.parse(await fs.readFile(path, 'utf8')) as Record<string, string | undefined>;
    return new ClientCredentials({
      clientId: c.client_id ?? '',
      clientSecret: c.client_secret ?? '',
      tokenUrl: c.token_url,
      audience: c.audience,
      ...extra,
    });
  }

  /** From SKYPORT_CLIENT_ID, SKYPORT_CLIENT_SECRET, SKYPORT_TOKEN_URL or SKYPORT_ISSUER, SKYPORT_AUDIENCE. */
  static fromEnv(env: Record<string, string | undefined>, extra: Partial<ClientCredentialsOptions> = {}): ClientCredentials {
    return new ClientCredentials({
      clientId: env.SKYPORT_CLIENT_ID ?? '',
      clientSecret: env.SKYPORT_CLIENT_SECRET ?? '',
      tokenUrl: env.SKYPORT_TOKEN_URL,
      issuer: env.SKYPORT_ISSUER,
      audience: env.SKYPORT_AUDIENCE,
      ...extra,
    });
  }

  /** An access token for `audience`/`scope` (defaults from the options): cached, refreshed ahead, single-flight. */
  async getToken(req: TokenRequest = {}): Promise<string> {
    const audience = req.audience ?? this.opts.audience;
    const scope = req.scope ?? this.opts.scope;
    const key = `${audience ?? ''}\n${scope ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() < hit.refreshAt) return hit.token;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.request(audience, scope)
        .then(({ token, expiresIn }) => {
          const ahead = Math.min(this.opts.refreshAheadSeconds ?? 60, expiresIn / 2);
          const now = Date.now();
          this.cache.set(key, { token, refreshAt: now + (expiresIn - ahead) * 1000, expiresAt: now + expiresIn * 1000 });
          return token;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    // A refresh ahead of expiry that fails leaves the still-valid token in service; the failure is not cached.
    if (hit && Date.now() < hit.expiresAt) return p.catch(() => hit.token);
    return p;
  }

  /** Forgets `token` (e.g. after an API answered 401 with it), so the next getToken requests a new one. */
  invalidate(token: string): void {
    for (const [k, v] of this.cache) if (v.token === token) this.cache.delete(k);
  }

  private async endpoint(): Promise<string> {
    if (this.tokenUrl) return this.tokenUrl;
    const base = this.opts.issuer!.replace(/\/+$/, '');
    const r = await this.call(`${base}/.well-known/oauth-authorization-server`, { headers: { accept: 'application/json' } });
    const meta = (await r.json().catch(() => undefined)) as { token_endpoint?: string } | undefined;
    if (!r.ok || !meta?.token_endpoint) throw new TokenError('invalid_response', `no RFC 8414 metadata at ${base}`, r.status);
    this.tokenUrl = meta.token_endpoint;
    return this.tokenUrl;
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, init);
    } catch (e) {
      throw new TokenError('network', `cannot reach ${new URL(url).host}: ${(e as Error).message}`);
    }
  }

  private async request(audience: string | undefined, scope: string | undefined): Promise<{ token: string; expiresIn: number }> {
    const url = await this.endpoint();
    const params: Record<string, string> = { grant_type: 'client_credentials' };
    if (audience) params.audience = audience;
    if (scope) params.scope = scope;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.authMethod === 'client_secret_basic') {
      // RFC 6749 §2.3.1: form-url-encode id and secret before base64.
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
      headers.authorization = `Basic ${btoa(`${enc(this.opts.clientId)}:${enc(this.opts.clientSecret)}`)}`;
    } else {
      params.client_id = this.opts.clientId;
      params.client_secret = this.opts.clientSecret;
    }
    let body: string;
    if (this.opts.style === 'json') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(params);
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(params).toString();
    }
    const attempts = this.opts.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const r = await this.call(url, { method: 'POST', headers, body });
      if ((r.status === 429 || r.status === 503) && attempt < attempts) {
        await sleep(Math.min(retryAfterMs(r.headers.get('retry-after')) ?? 1000 * attempt, 30_000));
        continue;
      }
      return parseTokenResponse(r);
    }
  }
}

async function parseTokenResponse(r: Response): Promise<{ token: string; expiresIn: number }> {
  const body = (await r.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (r.ok) {
    if (typeof body?.access_token !== 'string')
      throw new TokenError('invalid_response', 'the token response has no access_token', r.status);
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600);
    return { token: body.access_token, expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600 };
  }
  const error = typeof body?.error === 'string' ? body.error : undefined;
  const description = typeof body?.error_description === 'string' ? `: ${body.error_description}` : '';
  if (error === 'invalid_client')
    throw new TokenError('invalid_client', `the server refused the client credentials${description}`, r.status, error);
  if (error === 'unauthorized_client' || error === 'invalid_scope' || error === 'invalid_target') {
    throw new TokenError('not_permitted', `the client may not get this token${description}`, r.status, error);
  }
  if (r.status === 429 || r.status >= 500)
    throw new TokenError('unavailable', `the token endpoint is unavailable (${r.status})${description}`, r.status, error);
  if (error) throw new TokenError('invalid_request', `the token request was refused (${error})${description}`, r.status, error);
  throw new TokenError('invalid_response', `unexpected answer ${r.status} from the token endpoint`, r.status);
}
