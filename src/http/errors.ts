/**
 * Errors of the resource APIs, mapped to HTTP in one place (http/app.ts).
 * Data API (STAC) bodies are `{"code","description"}` as STAC API servers answer;
 * Management API bodies are RFC 9457 problem details (`application/problem+json`) carrying the same `code`.
 */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly headers: Record<string, string> = {};
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export const notFound = (what: string) => new HttpProblem(404, 'NotFound', `${what} not found`);
export const badRequest = (description: string) => new HttpProblem(400, 'BadRequest', description);
export const forbidden = (description: string) => new HttpProblem(403, 'Forbidden', description);

/** RFC 6750 §3 bearer-token failure: 401/403/400 with a `WWW-Authenticate: Bearer …` challenge. */
export class BearerError extends HttpProblem {
  override name = 'BearerError';
  constructor(
    status: 400 | 401 | 403,
    readonly error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined,
    description: string,
    realm: string,
    scope?: string,
  ) {
    super(status, error ?? 'Unauthorized', description);
    const params = [`realm="${realm}"`];
    if (error) params.push(`error="${error}"`, `error_description="${description.replace(/["\\]/g, '')}"`);
    if (scope) params.push(`scope="${scope}"`);
    this.headers['www-authenticate'] = `Bearer ${params.join(', ')}`;
  }
}

/** Which body shape an error takes, chosen per route (`config.api`). */
export type ErrorStyle = 'oauth' | 'data' | 'management';
