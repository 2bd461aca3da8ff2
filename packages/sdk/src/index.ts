/** Skyport SDK: imports nothing from the server (src/); runs on Node 20 and in browsers. */
export { ClientCredentials, type ClientCredentialsOptions, type TokenRequest } from './client-credentials.js';
export { authorizedFetch, type AuthorizedFetchOptions } from './authorized-fetch.js';
export { TokenError, InsufficientScopeError, type TokenErrorKind } from './errors.js';
export { retryAfterMs } from './retry-after.js';
export { AdminClient, ApiError, type ApiClient, type AuditEntry, type RootScope } from './admin.js';
export {
  CatalogClient,
  searchBody,
  type CatalogClientOptions,
  type Geometry,
  type ItemCollection,
  type SearchOptions,
  type SearchParams,
  type SortBy,
  type StacAsset,
  type StacCollection,
  type StacItem,
  type StacLink,
} from './catalog.js';
export {
  downloadAsset,
  DownloadError,
  type AssetRef,
  type DownloadContext,
  type DownloadOptions,
  type DownloadResult,
} from './download.js';
export {
  TaskingClient,
  FINAL_ORDER_STATUSES,
  isFinalStatus,
  opportunityBody,
  createOrderLink,
  type Opportunity,
  type OpportunityCollection,
  type OpportunityNote,
  type OpportunityProperties,
  type OpportunityResults,
  type OpportunitySearch,
  type Order,
  type OrderCollection,
  type OrderOptions,
  type OrderPayload,
  type OrderStatus,
  type OrderStatusCode,
  type PageOptions,
  type Priority,
  type Product,
  type TaskingClientOptions,
  type WatchOptions,
} from './tasking.js';
