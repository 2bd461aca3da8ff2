/**
 * Following `rel=next` links (STAC API item-search §Pagination, STAPI paging): a GET link is fetched by
 * its href; a POST link sends its `body` as the whole next request, merged into the previous body only
 * when `merge: true`. A link to another origin (the token must not go there) or one that repeats the
 * current request (a server that would page forever) is refused with an Error.
 */
import type { StacLink } from './catalog.js';

/** One page request: what the previous page's `next` link asks for. */
export interface PageRequest {
  url: string;
  method: 'GET' | 'POST';
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** The request a page's `next` link asks for, or undefined on the last page. `base` is the API's base URL. */
export function nextPageRequest(links: StacLink[] | undefined, prev: PageRequest, base: string): PageRequest | undefined {
  const link = (links ?? []).find((l) => l?.rel === 'next');
  if (!link || typeof link.href !== 'string') return undefined;
  const url = new URL(link.href, prev.url);
  if (url.origin !== new URL(base).origin) {
    throw new Error(`the next page link points to ${url.origin}, not ${new URL(base).origin}: not sending the token there`);
  }
  const method = (link.method ?? 'GET').toUpperCase();
  let next: PageRequest;
  if (method === 'POST') {
    const body: Record<string, unknown> = link.merge === true ? { ...prev.body, ...link.body } : { ...link.body };
    next = { url: url.href, method: 'POST', body };
  } else if (method === 'GET') next = { url: url.href, method: 'GET' };
  else throw new Error(`the next page link has method ${method}; only GET and POST are defined`);
  if (link.headers) next.headers = link.headers;
  if (next.url === prev.url && next.method === prev.method && JSON.stringify(next.body) === JSON.stringify(prev.body)) {
    throw new Error('the next page link repeats the current request: the server would page forever');
  }
  return next;
}
