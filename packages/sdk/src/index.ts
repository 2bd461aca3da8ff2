/** Skyport SDK: imports nothing from the server (src/); runs on Node 20 and in browsers. */
export { ClientCredentials, type ClientCredentialsOptions, type TokenRequest } from './client-credentials.js';
export { authorizedFetch, type AuthorizedFetchOptions } from './authorized-fetch.js';
export { TokenError, InsufficientScopeError, type TokenErrorKind } from './errors.js';
export { retryAfterMs } from './retry-after.js';
export { AdminClient, ApiError, type ApiClient, type AuditEntry, type RootScope } from './admin.js';
export { CatalogClient, type StacCollection } from './catalog.js';
