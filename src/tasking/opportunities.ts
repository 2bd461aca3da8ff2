/**
 * STAPI v0.1.0 synchronous opportunity search (tasking-notes §1.4, conformance class `opportunities`):
 * `POST /tasking/products/{productId}/opportunities` with an OpportunityPayload
 * `{datetime, geometry, filter?, limit?, next?}` (plus the Skyport extension `order_parameters`, whose
 * `max_off_nadir` / `min_sun_elevation` narrow the search as they would narrow the order) answers 200 with a
 * GeoJSON FeatureCollection of Opportunities: one per pass of a satellite carrying the product's sensor over
 * the AOI (orbits/passes.ts `searchPasses` on every stored element set), sorted by start time.
 *
 * Element sets too far from the window: SGP4 predictions drift with distance from the epoch, so each set
 * predicts only within `product.maxElementAgeDays` of its epoch. A set entirely outside contributes nothing;
 * one partly outside is searched on the part inside. Either way the response says so in the foreign member
 * `skyport:notes` (`[{code, platform, norad_id, reason}]`, always present), so an empty answer is explained.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { badRequest } from '../http/errors.js';
import type { TleRecord, TaskingStorage } from '../storage/tasking.js';
import { parseTle, searchPasses, TleError, type GeoJsonPoint, type GeoJsonPolygon, type Pass, type PassWindow } from './orbits/index.js';
import type { TaskingProduct } from './products.js';
import {
  parseAoi,
  parseOrderParameters,
  parseTaskingFilter,
  parseWindow,
  productOr404,
  searchConstraints,
  type SearchConstraints,
  type TaskingFilter,
} from './requests.js';

const GEOJSON = 'application/geo+json';
const MS_PER_DAY = 86_400_000;
export const DEFAULT_OPPORTUNITY_LIMIT = 10;
export const MAX_OPPORTUNITY_LIMIT = 100;
const BODY_FIELDS = ['datetime', 'geometry', 'filter', 'filter-lang', 'limit', 'next', 'order_parameters'];

/** A validated opportunity search. */
export interface OpportunitySearch {
  window: PassWindow;
  aoi: GeoJsonPoint | GeoJsonPolygon;
  filter: TaskingFilter | null;
  /** The filter as the client sent it (carried into `create-order` bodies), or null. */
  rawFilter: unknown;
  orderParameters: Record<string, unknown>;
  constraints: SearchConstraints;
  limit: number;
  /** Keyset of the last opportunity of the previous page (`next` token), if any. */
  after?: { startMs: number; noradId: number };
}

/** Why a satellite contributed fewer (or no) opportunities; `code` is stable. */
export interface OpportunityNote {
  code: 'no-satellites' | 'stale-elements' | 'window-clipped' | 'propagation-error' | 'invalid-elements';
  platform?: string;
  norad_id?: number;
  reason: string;
}

/** Paging token (opaque to clients): base64url of `[startMs, noradId]` of the last opportunity returned. */
export function encodeNext(startMs: number, noradId: number): string {
  return Buffer.from(JSON.stringify([startMs, noradId])).toString('base64url');
}

function decodeNext(token: unknown): { startMs: number; noradId: number } | undefined {
  if (token === undefined || token === null) return undefined;
  if (typeof token === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(token)) {
    try {
      const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isSafeInteger(x)))
        return { startMs: v[0] as number, noradId: v[1] as number };
    } catch {
      // fall through to the 400
    }
  }
  throw badRequest('next: not a paging token from this search; use the body of the `next` link as it is');
}

/**
 * Validates an OpportunityPayload body for `product` at `now` (ms). Throws 400 naming the field for
 * a body that is not an object, unknown fields, `filter-lang` other than cql2-json, `limit` not an integer
 * in 1…100, a bad `next`, and everything requests.ts refuses (datetime, geometry, filter, order_parameters).
 */
export function parseOpportunitySearch(body: unknown, product: TaskingProduct, now: number): OpportunitySearch {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('body: must be a JSON object (STAPI opportunity request)');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => !BODY_FIELDS.includes(k));
  if (unknown !== undefined)
    throw badRequest(`${unknown.slice(0, 60)}: unknown field; an opportunity request takes ${BODY_FIELDS.join(', ')}`);
  if (b['filter-lang'] !== undefined && b['filter-lang'] !== null && b['filter-lang'] !== 'cql2-json')
    throw badRequest('filter-lang: only cql2-json is accepted');
  const limit = b.limit ?? DEFAULT_OPPORTUNITY_LIMIT;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_OPPORTUNITY_LIMIT)
    throw badRequest(`limit: must be an integer from 1 to ${MAX_OPPORTUNITY_LIMIT}`);
  const window = parseWindow(b.datetime, now, product);
  const aoi = parseAoi(b.geometry, product);
  const filter = parseTaskingFilter(b.filter, product);
  const orderParameters = parseOrderParameters(b.order_parameters, product);
  const after = decodeNext(b.next);
  return {
    window,
    aoi,
    filter,
    rawFilter: b.filter ?? null,
    orderParameters,
    constraints: searchConstraints(product, orderParameters, filter),
    limit: limit as number,
    ...(after ? { after } : {}),
  };
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** The STAPI/STAC properties of a pass (the ones a `filter` sees). */
export function opportunityProperties(pass: Pass, product: TaskingProduct): Record<string, unknown> {
  return {
    datetime: `${pass.start.toISOString()}/${pass.end.toISOString()}`,
    start_datetime: pass.start.toISOString(),
    end_datetime: pass.end.toISOString(),
    product_id: product.id,
    platform: pass.satellite.name,
    'skyport:norad_id': pass.satellite.noradId,
    'skyport:tca': pass.tca.toISOString(),
    'view:off_nadir': round(pass.offNadirDeg),
    'view:incidence_angle': round(90 - pass.elevationDeg),
    'view:azimuth': round(pass.azimuthDeg),
    'view:sun_elevation': round(pass.sunElevationDeg),
    'sat:orbit_state': pass.direction,
  };
}

/** The part of `window` within `maxAgeDays` of `epochMs`, or undefined when none is. */
function reliableWindow(window: PassWindow, epochMs: number, maxAgeDays: number): PassWindow | undefined {
  const start = Math.max(window.start.getTime(), epochMs - maxAgeDays * MS_PER_DAY);
  const end = Math.min(window.end.getTime(), epochMs + maxAgeDays * MS_PER_DAY);
  return end > start ? { start: new Date(start), end: new Date(end) } : undefined;
}

/** One satellite's passes for a search, or a note saying why it has fewer or none. */
function searchSet(r: TleRecord, product: TaskingProduct, s: OpportunitySearch): { passes: Pass[]; note?: OpportunityNote } {
  const who = { platform: r.name, norad_id: r.noradId };
  let set;
  try {
    set = parseTle(r.line1, r.line2, r.name);
  } catch (e) {
    if (e instanceof TleError) return { passes: [], note: { code: 'invalid-elements', ...who, reason: e.reason } };
    throw e;
  }
  const maxAge = product.maxElementAgeDays;
  const usable = reliableWindow(s.window, set.epoch.getTime(), maxAge);
  const constraints = { ...s.constraints, maxElementAgeDays: maxAge };
  const opts = { sceneSizeKm: product.sceneSizeKm };
  // Outside the reliable range entirely: let the search itself give the stale-elements reason.
  const result = searchPasses(set, s.aoi, usable ?? s.window, constraints, opts);
  if (result.error) return { passes: [], note: { code: result.error.code, ...who, reason: result.error.reason } };
  const clipped = usable!.start.getTime() !== s.window.start.getTime() || usable!.end.getTime() !== s.window.end.getTime();
  if (!clipped) return { passes: result.passes };
  const reason =
    `element set epoch ${set.epoch.toISOString()} predicts only within ${maxAge} days of it: ` +
    `searched ${usable!.start.toISOString()} to ${usable!.end.toISOString()}`;
  return { passes: result.passes, note: { code: 'window-clipped', ...who, reason } };
}

/**
 * Every opportunity of `product` for a search, over the stored element sets of its sensor: passes within
 * the constraints, filtered by the whole `filter`, sorted by start then NORAD id (not paged). Notes explain
 * satellites that contributed less. Throws only for programming errors (RangeError from the search).
 */
export function searchOpportunities(
  product: TaskingProduct,
  sets: readonly TleRecord[],
  s: OpportunitySearch,
): { passes: Pass[]; notes: OpportunityNote[] } {
  const mine = sets.filter((r) => r.sensor === product.sensor).sort((a, b) => a.noradId - b.noradId);
  const notes: OpportunityNote[] = [];
  if (mine.length === 0) notes.push({ code: 'no-satellites', reason: `no element sets are stored for ${product.sensor} satellites` });
  // A cone of 0° (a filter such as view:off_nadir <= 0) can image nothing.
  if (s.constraints.maxOffNadirDeg <= 0) return { passes: [], notes };
  const passes: Pass[] = [];
  for (const r of mine) {
    const { passes: found, note } = searchSet(r, product, s);
    if (note) notes.push(note);
    passes.push(...found.filter((p) => !s.filter || s.filter.matches(opportunityProperties(p, product))));
  }
  passes.sort((a, b) => a.start.getTime() - b.start.getTime() || a.satellite.noradId - b.satellite.noradId);
  return { passes, notes };
}

/** Stable opportunity id: satellite, time of closest approach (s) and a digest of product and AOI. */
export function opportunityId(product: TaskingProduct, pass: Pass, aoi: GeoJsonPoint | GeoJsonPolygon): string {
  const digest = createHash('sha256')
    .update(`${product.id}\n${JSON.stringify(aoi)}`)
    .digest('hex')
    .slice(0, 10);
  const tca = pass.tca
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${pass.satellite.noradId}-${tca}-${digest}`;
}

/** [west, south, east, north] of a footprint; west > east when it is cut at the antimeridian (RFC 7946 §5.2). */
function footprintBbox(g: Pass['footprint']): number[] {
  const parts = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  const pts = parts.flatMap((p) => p[0] ?? []);
  const lats = pts.map((p) => p[1]!);
  const lons = pts.map((p) => p[0]!);
  if (parts.length > 1) {
    const east = lons.filter((x) => x >= 0);
    const west = lons.filter((x) => x < 0);
    return [Math.min(...east), Math.min(...lats), Math.max(...west), Math.max(...lats)];
  }
  return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
}

/** A STAPI Opportunity (GeoJSON Feature) with a `create-order` link whose body can be posted as is. */
export function presentOpportunity(pass: Pass, product: TaskingProduct, s: OpportunitySearch, productUrl: string): Record<string, unknown> {
  const props = opportunityProperties(pass, product);
  return {
    type: 'Feature',
    stapi_type: 'Opportunity',
    stapi_version: '0.1.0',
    id: opportunityId(product, pass, s.aoi),
    geometry: pass.footprint,
    bbox: footprintBbox(pass.footprint),
    properties: props,
    links: [
      {
        rel: 'create-order',
        type: GEOJSON,
        href: `${productUrl}/orders`,
        method: 'POST',
        body: { datetime: props.datetime, geometry: s.aoi, filter: s.rawFilter, order_parameters: s.orderParameters },
      },
    ],
  };
}

export interface OpportunityRouteDeps {
  storage: TaskingStorage;
  publicUrl: string;
  guard: (p: Permission) => preValidationAsyncHookHandler;
  /** The tasking clock, epoch ms (default Date.now): windows before it are refused. */
  now?: () => number;
}

/** Registers `POST /tasking/products/:productId/opportunities` (tasking:read). */
export async function opportunityRoutes(app: FastifyInstance, deps: OpportunityRouteDeps): Promise<void> {
  const base = deps.publicUrl;
  // Read the clock per request (not a captured Date.now), so a replaced clock is seen.
  const now = deps.now ?? (() => Date.now());
  const opts = { preValidation: deps.guard('tasking:read'), config: { errorStyle: 'data' as const } };
  app.post<{ Params: { productId: string }; Body: unknown }>('/tasking/products/:productId/opportunities', opts, async (req, reply) => {
    const product = productOr404(req.params.productId);
    const s = parseOpportunitySearch(req.body, product, now());
    const { passes, notes } = searchOpportunities(product, await deps.storage.listTleSets(), s);
    const after = s.after;
    const rest = after
      ? passes.filter(
          (p) => p.start.getTime() > after.startMs || (p.start.getTime() === after.startMs && p.satellite.noradId > after.noradId),
        )
      : passes;
    const page = rest.slice(0, s.limit);
    const productUrl = `${base}/tasking/products/${encodeURIComponent(product.id)}`;
    const links: Record<string, unknown>[] = [
      { rel: 'root', type: 'application/json', href: `${base}/tasking` },
      { rel: 'product', type: 'application/json', href: productUrl },
    ];
    const last = page[page.length - 1];
    if (rest.length > page.length && last) {
      const body = { ...(req.body as Record<string, unknown>), next: encodeNext(last.start.getTime(), last.satellite.noradId) };
      links.push({ rel: 'next', type: GEOJSON, href: `${productUrl}/opportunities`, method: 'POST', body });
    }
    return reply.type(GEOJSON).send({
      type: 'FeatureCollection',
      features: page.map((p) => presentOpportunity(p, product, s, productUrl)),
      links,
      'skyport:notes': notes,
    });
  });
}
