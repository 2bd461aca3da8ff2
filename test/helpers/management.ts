/**
 * Helpers for Management API tests: a small client for `/admin/*` over real HTTP, assertions for
 * RFC 9457 problem bodies, polling, and a second Skyport instance sharing a test server's store.
 */
import assert from 'node:assert/strict';
import { bearer, formToken, request, sleep, type Res } from './http.js';
import { startServer, type TestServer } from './server.js';

export interface Cred {
  client_id: string;
  client_secret: string;
}

/** The raw token response for credentials (form style, body authentication), plus `extra` form parameters. */
export function tokenResponse(base: string, c: Cred, extra = ''): Promise<Res> {
  return formToken(
    base,
    `grant_type=client_credentials&client_id=${encodeURIComponent(c.client_id)}&client_secret=${encodeURIComponent(c.client_secret)}${extra}`,
  );
}

/** An access token for the credentials; fails the test with the server's answer when the grant fails. */
export async function token(base: string, c: Cred, extra = ''): Promise<string> {
  const r = await tokenResponse(base, c, extra);
  assert.equal(r.status, 200, `token request failed: ${r.status} ${r.text}`);
  return r.json.access_token as string;
}

/** A Management API client acting with one bearer token. */
export class Mgmt {
  constructor(
    readonly base: string,
    readonly accessToken: string,
  ) {}

  /** A client for the credentials' management token (no audience: an admin root scope's natural API). */
  static async as(base: string, c: Cred): Promise<Mgmt> {
    return new Mgmt(base, await token(base, c));
  }

  /** Any request with the bearer token; a non-string body is sent as JSON. */
  call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const h: Record<string, string> = { ...bearer(this.accessToken) };
    let payload: string | undefined;
    if (body !== undefined) {
      h['content-type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    return request(`${this.base}${path}`, { method, headers: { ...h, ...headers }, body: payload });
  }

  list(): Promise<Res> {
    return this.call('GET', '/admin/clients');
  }
  get(id: string): Promise<Res> {
    return this.call('GET', `/admin/clients/${encodeURIComponent(id)}`);
  }
  create(body: unknown): Promise<Res> {
    return this.call('POST', '/admin/clients', body);
  }
  patch(id: string, body: unknown): Promise<Res> {
    return this.call('PATCH', `/admin/clients/${encodeURIComponent(id)}`, body);
  }
  /** Rotates with a JSON body (`{}` when none is given). */
  rotate(id: string, body: unknown = {}): Promise<Res> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(id)}/rotate-secret`, body);
  }
  disable(id: string): Promise<Res> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(id)}/disable`);
  }
  enable(id: string): Promise<Res> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(id)}/enable`);
  }
  revokeTokens(id: string): Promise<Res> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(id)}/revoke-tokens`);
  }
  del(id: string): Promise<Res> {
    return this.call('DELETE', `/admin/clients/${encodeURIComponent(id)}`);
  }
  audit(query = ''): Promise<Res> {
    return this.call('GET', `/admin/audit${query}`);
  }

  /** Creates a client and returns its view and credentials; fails the test unless 201. */
  async createOk(body: { name?: string; root_scope: string; permissions?: string[] }): Promise<{ view: any; cred: Cred; res: Res }> {
    const r = await this.create({ name: body.name ?? `test ${body.root_scope} client`, ...body });
    assert.equal(r.status, 201, r.text);
    return { view: r.json, cred: { client_id: r.json.client_id, client_secret: r.json.client_secret }, res: r };
  }
}

/** Asserts an RFC 9457 problem response of the Management API: status, media type, `status` and `code` members. */
export function assertProblem(r: Res, status: number, code?: string): void {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, `content-type of ${r.text}`);
  assert.equal(r.json?.status, status, r.text);
  assert.equal(typeof r.json?.code, 'string', r.text);
  if (code !== undefined) assert.equal(r.json.code, code, r.text);
}

/** Asserts a 4xx problem response (any client error, never 5xx). */
export function assertClientProblem(r: Res): void {
  assert.ok(r.status >= 400 && r.status < 500, `expected a 4xx, got ${r.status}: ${r.text}`);
  assertProblem(r, r.status);
}

/** Asserts an RFC 6749 error at the token endpoint. */
export function assertOAuthError(r: Res, status: number, error: string): void {
  assert.equal(r.status, status, `expected ${status} ${error}, got ${r.status}: ${r.text}`);
  assert.equal(r.json?.error, error, r.text);
}

/** Status of `GET /collections` (catalog:read on the Data API) with the token. */
export async function collectionsStatus(base: string, accessToken: string): Promise<number> {
  return (await request(`${base}/collections`, { headers: bearer(accessToken) })).status;
}

/** Polls `probe` until `done` holds or `timeoutMs` passes; returns the last value. */
export async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 2000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  let v = await probe();
  while (!done(v) && Date.now() < until) {
    await sleep(everyMs);
    v = await probe();
  }
  return v;
}

/**
 * Waits until the wall clock is within the first `marginMs` of a second, so that the following
 * sub-second sequence of requests happens inside one second (where a seconds-granular `iat`
 * cannot tell "before" from "after").
 */
export async function atSecondStart(marginMs = 40): Promise<void> {
  while (Date.now() % 1000 >= marginMs) await sleep(Math.max(1, 1000 - (Date.now() % 1000)));
}

/** A random client_id of the same shape as real ones (32 base62 characters) that exists nowhere. */
export function randomClientId(): string {
  const abc = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let i = 0; i < 32; i++) s += abc[Math.floor(Math.random() * 62)];
  return s;
}

/**
 * A second Skyport instance on the same store as `s` (same issuer and audiences, as behind one load
 * balancer), for tests of what other instances honour within the sync interval.
 */
export async function startPeer(s: TestServer): Promise<TestServer> {
  const env = {
    SKYPORT_ISSUER: s.config.issuer,
    SKYPORT_DATA_AUDIENCE: s.config.dataAudience,
    SKYPORT_MANAGEMENT_AUDIENCE: s.config.managementAudience,
  };
  return s.config.databaseUrl ? startServer({ databaseUrl: s.config.databaseUrl, env }) : startServer({ dataDir: s.config.dataDir, env });
}
