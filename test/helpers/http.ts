/** Small HTTP helpers for tests: real requests over loopback with fetch. */
export interface Res {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function request(url: string, init: RequestInit = {}): Promise<Res> {
  const r = await fetch(url, init);
  const text = await r.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

/** Hydrosat style: form-encoded body at /oauth2/token, built by string formatting like the seed's Python. */
export function formToken(base: string, body: string, headers: Record<string, string> = {}): Promise<Res> {
  return request(`${base}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

/** Satellogic style: JSON body at /oauth/token. */
export function jsonToken(base: string, body: unknown, headers: Record<string, string> = {}): Promise<Res> {
  return request(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A token for credentials via the form style; throws when the grant fails. */
export async function tokenFor(base: string, c: { client_id: string; client_secret: string }, extra = ''): Promise<string> {
  const r = await formToken(base, `grant_type=client_credentials&client_id=${c.client_id}&client_secret=${c.client_secret}${extra}`);
  if (r.status !== 200) throw new Error(`token request failed: ${r.status} ${r.text}`);
  return r.json.access_token as string;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function basic(id: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
