/**
 * Data API landing page (`GET /`) and `/conformance`, both bearer-protected (catalog:read) like the
 * rest of the STAC API: the Hydrosat page's API answers 401 to unauthenticated requests.
 * `conformsTo` comes from one list (conformance.ts), so both answers are identical (field pitfall S15).
 */
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';

import { CONFORMANCE } from './conformance.js';

export async function landingRoutes(
  app: FastifyInstance,
  deps: { publicUrl: string; issuer: string; guard: (p: Permission) => preValidationAsyncHookHandler },
): Promise<void> {
  const base = deps.publicUrl;
  const landing = {
    type: 'Catalog',
    stac_version: '1.0.0',
    id: 'skyport',
    title: 'Skyport Data API',
    description: 'STAC catalog of this Skyport deployment. Bearer token required (catalog:read).',
    conformsTo: [...CONFORMANCE],
    links: [
      { rel: 'self', type: 'application/json', href: `${base}/` },
      { rel: 'root', type: 'application/json', href: `${base}/` },
      { rel: 'conformance', type: 'application/json', href: `${base}/conformance` },
      { rel: 'data', type: 'application/json', href: `${base}/collections` },
      { rel: 'search', type: 'application/geo+json', href: `${base}/search`, method: 'GET' },
      { rel: 'search', type: 'application/geo+json', href: `${base}/search`, method: 'POST' },
      { rel: 'service-desc', type: 'application/vnd.oai.openapi+json;version=3.0', href: `${base}/api` },
      { rel: 'http://www.opengis.net/def/rel/ogc/1.0/queryables', type: 'application/schema+json', href: `${base}/queryables` },
      { rel: 'authorization-server', type: 'application/json', href: `${deps.issuer}/.well-known/oauth-authorization-server` },
    ],
  };
  const opts = { preValidation: deps.guard('catalog:read'), config: { errorStyle: 'data' as const } };
  app.get('/', opts, async () => landing);
  app.get('/conformance', opts, async () => ({ conformsTo: landing.conformsTo }));
}
