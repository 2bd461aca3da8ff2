/**
 * Token-endpoint errors, one class per RFC 6749 §5.2 error code (plus RFC 8707 `invalid_target`).
 * The HTTP layer turns them into `{"error","error_description"}` with the status given here.
 */
export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly headers: Record<string, string> = {};
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/** Missing, repeated or malformed parameter; unparseable body; two client-authentication methods at once. */
export class InvalidRequest extends OAuthError {
  constructor(description: string) {
    super('invalid_request', description);
  }
}

/** Client authentication failed. 401, with a `Basic` challenge when the client used HTTP Basic. */
export class InvalidClient extends OAuthError {
  constructor(usedBasic: boolean, realm: string) {
    super('invalid_client', 'client authentication failed', 401);
    if (usedBasic) this.headers['www-authenticate'] = `Basic realm="${realm}", charset="UTF-8"`;
  }
}

/** The authenticated client may not use this grant or this API. */
export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description);
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(grantType: string) {
    super('unsupported_grant_type', `grant_type "${grantType.slice(0, 64)}" is not supported; use client_credentials`);
  }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description);
  }
}

/** RFC 8707 §2: the requested audience/resource is not an API this server issues tokens for. */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description);
  }
}

/** Too many failed authentications from this source (429 with Retry-After, seconds). */
export class TooManyAttempts extends OAuthError {
  constructor(retryAfter: number) {
    super('temporarily_unavailable', `too many failed client authentications; retry after ${retryAfter} s`, 429);
    this.headers['retry-after'] = String(retryAfter);
  }
}
