/**
 * Typed failures of the SDK. A token request never surfaces a raw fetch error: it is a TokenError
 * saying which of these happened.
 */
export type TokenErrorKind =
  /** The server refused the credentials (RFC 6749 §5.2 invalid_client): wrong, rotated or disabled secret. */
  | 'invalid_client'
  /** The credentials are fine but may not have what was asked (unauthorized_client, invalid_scope, invalid_target). */
  | 'not_permitted'
  /** The request itself was malformed (invalid_request, unsupported_grant_type): a bug or a misconfiguration. */
  | 'invalid_request'
  /** Too many failed attempts, or the server is unavailable (429/5xx after retries). */
  | 'unavailable'
  /** The server could not be reached (DNS, connection refused, TLS, timeout). */
  | 'network'
  /** The server answered something that is not a token response. */
  | 'invalid_response';

export class TokenError extends Error {
  override name = 'TokenError';
  constructor(
    readonly kind: TokenErrorKind,
    message: string,
    /** HTTP status, when the server answered. */
    readonly status?: number,
    /** The RFC 6749 `error` code, when the server sent one. */
    readonly oauthError?: string,
  ) {
    super(message);
  }
}

/** An API answered 403 insufficient_scope: retrying or refreshing cannot help (pitfall K04). */
export class InsufficientScopeError extends Error {
  override name = 'InsufficientScopeError';
  constructor(
    readonly requiredScope: string | undefined,
    readonly status = 403,
  ) {
    super(`the token lacks the permission this request needs${requiredScope ? ` (${requiredScope})` : ''}`);
  }
}
