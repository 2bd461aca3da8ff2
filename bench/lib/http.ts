// One-off HTTP checks made before each load run: the request must succeed and,
// for token requests, return a JWT access token signed with the expected alg.

export interface OneRequest {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface TokenCheck {
  accessToken: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  tokenType: unknown;
  expiresIn: unknown;
}

export async function request(req: OneRequest): Promise<{ status: number; text: string }> {
  const init: RequestInit = { method: req.method, signal: AbortSignal.timeout(10_000) };
  if (req.headers) init.headers = req.headers;
  if (req.body !== undefined) init.body = req.body;
  const res = await fetch(req.url, init);
  return { status: res.status, text: await res.text() };
}

function decodeSegment(seg: string | undefined, what: string): Record<string, unknown> {
  if (seg === undefined) throw new Error(`access_token is not a JWT (no ${what})`);
  const parsed: unknown = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`JWT ${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

function short(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}...` : oneLine;
}

/** Make one token request; throw unless it is 200 with a JWT access token of `alg`. */
export async function checkTokenRequest(req: OneRequest, alg: string): Promise<TokenCheck> {
  const { status, text } = await request(req);
  if (status !== 200) throw new Error(`token request answered ${status}: ${short(text)}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`token response is not JSON: ${short(text)}`);
  }
  const token = body.access_token;
  if (typeof token !== 'string') throw new Error(`no access_token in response: ${short(text)}`);
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`access_token is not a JWS compact JWT (${parts.length} parts)`);
  const header = decodeSegment(parts[0], 'header');
  const claims = decodeSegment(parts[1], 'payload');
  if (header.alg !== alg) throw new Error(`access_token alg is ${String(header.alg)}, expected ${alg}`);
  return { accessToken: token, header, claims, tokenType: body.token_type, expiresIn: body.expires_in };
}

/** Make one request; throw unless it answers `expect`. */
export async function checkStatus(req: OneRequest, expect = 200): Promise<void> {
  const { status, text } = await request(req);
  if (status !== expect) throw new Error(`${req.method} ${req.url} answered ${status}: ${short(text)}`);
}
