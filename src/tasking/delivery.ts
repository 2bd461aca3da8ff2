/**
 * What a completed tasking order delivers: one STAC 1.1.0 Item of the simulated capture in the
 * organization's private collection `tasking-<orgId>` (created on its first delivery), with a small
 * real GeoTIFF and PNG thumbnail written into the asset store by the demo generator's
 * `writeItemAssets`. Also the simulated acquisition's cloud cover, drawn deterministically per
 * (order, attempt) so a restarted scheduler draws the same value again.
 */
import { createHash } from 'node:crypto';
import { geometryBbox, type GeoJsonGeometry } from '../catalog/ingest.js';
import { writeItemAssets } from '../catalog/generate/assets.js';
import type { AssetTarget } from '../storage/assets/open.js';
import { GEOTIFF_MEDIA_TYPE, LST_SPEC, MS_SPEC, incidenceAngleDeg } from '../catalog/generate/collections.js';
import { sunAngles } from '../catalog/generate/constellation.js';
import { EXTENSIONS, STAC_VERSION, type StacItem as GeneratedItem } from '../catalog/generate/stac.js';
import type { CollectionRecord, ItemRecord } from '../storage/types.js';
import type { BookedPass, OrderRecord } from '../storage/tasking.js';
import { deliveryCollectionId } from './order-service.js';
import type { Pass } from './orbits/index.js';
import type { TaskingProduct } from './products.js';

/** Raster side of delivered assets, px. */
const RASTER_PX = 128;

/**
 * Cloud cover of the capture of `attempt` (1, 2, …) of an order, percent with one decimal in [0, 100]:
 * u² · 100 for u uniform from SHA-256(orderId:attempt), so clear scenes are more common than cloudy
 * ones (P(≤ 20 %) ≈ 45 %), and the same order and attempt always draw the same value.
 */
export function cloudCoverFor(orderId: string, attempt: number): number {
  const u = createHash('sha256').update(`${orderId}:${attempt}`).digest().readUInt32BE(0) / 2 ** 32;
  return Math.round(1000 * u * u) / 10;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A square footprint of `sizeKm` around the AOI centre: what is delivered when the pass cannot be recomputed. */
function squareAround(geometry: Record<string, unknown>, sizeKm: number): GeoJsonGeometry {
  const [w, s, e, n] = geometryBbox(geometry as unknown as GeoJsonGeometry) ?? [0, 0, 0, 0];
  const lon = (w + e) / 2;
  const lat = (s + n) / 2;
  const dLat = sizeKm / 2 / 110.57;
  const dLon = sizeKm / 2 / (111.32 * Math.max(0.05, Math.cos((lat * Math.PI) / 180)));
  const ring = [
    [lon - dLon, lat - dLat],
    [lon + dLon, lat - dLat],
    [lon + dLon, lat + dLat],
    [lon - dLon, lat + dLat],
    [lon - dLon, lat - dLat],
  ];
  return { type: 'Polygon', coordinates: [ring] };
}

/** The polygon the raster is drawn over: the footprint, or its largest part when cut at the antimeridian. */
function renderPolygon(g: GeoJsonGeometry): { ring: number[][]; bbox: [number, number, number, number] } {
  const parts = g.type === 'MultiPolygon' ? g.coordinates : g.type === 'Polygon' ? [g.coordinates] : [];
  let best: { ring: number[][]; bbox: [number, number, number, number] } | undefined;
  let bestArea = -1;
  for (const p of parts) {
    const bbox = geometryBbox({ type: 'Polygon', coordinates: p });
    if (!bbox || !p[0]) continue;
    const area = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]);
    if (area > bestArea) [best, bestArea] = [{ ring: p[0], bbox }, area];
  }
  if (!best) throw new Error('a delivery footprint needs a polygon');
  return best;
}

/** The capture as delivered: the booked pass and, when it could be recomputed, its footprint and angles. */
export interface Capture {
  booked: BookedPass;
  /** The pass recomputed from the element set (footprint, elevation, azimuth), or null (then a square around the AOI). */
  pass: Pass | null;
  /** Percent. */
  cloudCover: number;
}

/**
 * The STAC Item of a completed order (item id = order id): geometry = the pass footprint at `tca`,
 * datetime = tca, platform (satellite name, lower case), view angles (deg), eo:cloud_cover (%), gsd (m,
 * growing off nadir as the demo generator's), `skyport:order_id`, `skyport:product_id`; assets `data`
 * (GeoTIFF, the product's bands) and `thumbnail` (PNG) as `asset:tasking-<org>/<order id>/…` hrefs.
 */
export function deliveryItem(order: OrderRecord, product: TaskingProduct, capture: Capture, now: number): ItemRecord {
  const spec = product.sensor === 'thermal' ? LST_SPEC : MS_SPEC;
  const { booked, pass } = capture;
  const geometry: GeoJsonGeometry = pass ? (pass.footprint as GeoJsonGeometry) : squareAround(order.geometry, product.sceneSizeKm);
  const bbox = geometryBbox(geometry)!;
  const raster = renderPolygon(geometry).bbox;
  const incidence = pass ? 90 - pass.elevationDeg : incidenceAngleDeg(booked.offNadirDeg, 500);
  const [cx, cy] = [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2];
  const collection = deliveryCollectionId(order.orgId);
  const dir = `asset:${collection}/${order.id}`;
  const iso = new Date(now).toISOString();
  const item = {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: [EXTENSIONS.eo, EXTENSIONS.view, EXTENSIONS.proj, EXTENSIONS.sat],
    id: order.id,
    collection,
    geometry,
    bbox,
    properties: {
      datetime: new Date(booked.tca).toISOString(),
      created: iso,
      updated: iso,
      platform: booked.satellite.toLowerCase(),
      constellation: 'skyport',
      instruments: [product.instrument],
      gsd: round2(product.gsdM / Math.cos((incidence * Math.PI) / 180) ** 1.5),
      'eo:cloud_cover': capture.cloudCover,
      'view:off_nadir': round2(booked.offNadirDeg),
      'view:incidence_angle': round2(incidence),
      // view:azimuth is seen from the ground below the satellite: opposite the target's look towards it.
      ...(pass ? { 'view:azimuth': round2((pass.azimuthDeg + 180) % 360) } : {}),
      'view:sun_elevation': round2(booked.sunElevationDeg),
      'view:sun_azimuth': round2(sunAngles(booked.tca, cx, cy).azimuthDeg),
      ...(pass ? { 'sat:orbit_state': pass.direction } : {}),
      'skyport:order_id': order.id,
      'skyport:product_id': order.productId,
    },
    links: [],
    assets: {
      data: {
        href: `${dir}/${spec.dataAsset.file}`,
        type: GEOTIFF_MEDIA_TYPE,
        title: spec.dataAsset.title,
        roles: ['data'],
        'proj:code': 'EPSG:4326',
        'proj:shape': [RASTER_PX, RASTER_PX],
        'proj:transform': [(raster[2] - raster[0]) / RASTER_PX, 0, raster[0], 0, -(raster[3] - raster[1]) / RASTER_PX, raster[3]],
        bands: spec.dataAsset.bands.map((b) => ({ ...b })),
      },
      thumbnail: { href: `${dir}/thumbnail.png`, type: 'image/png', title: 'Thumbnail', roles: ['thumbnail'] },
    },
  };
  return { collection, id: order.id, item };
}

/**
 * Writes the item's GeoTIFF and PNG into the asset store (a string: a local assets folder),
 * overwriting: idempotent, so a scheduler that crashed after writing and before recording the
 * delivery writes the same objects again. Antimeridian footprints are drawn over their largest part.
 * Throws on the store's errors.
 */
export async function writeDeliveryAssets(rec: ItemRecord, assets: AssetTarget): Promise<void> {
  const item = rec.item as unknown as GeneratedItem;
  const part = renderPolygon(item.geometry as unknown as GeoJsonGeometry);
  const drawable = { ...item, geometry: { type: 'Polygon', coordinates: [part.ring] }, bbox: part.bbox } as unknown as GeneratedItem;
  await writeItemAssets(drawable, assets);
}

/**
 * The organization's private delivery collection (access `private`, owner the organization): STAC
 * 1.1.0, license proprietary, whole-world spatial extent, temporal extent open from `firstDelivery` (ms).
 */
export function deliveryCollection(orgId: string, firstDelivery: number): CollectionRecord {
  const id = deliveryCollectionId(orgId);
  return {
    id,
    access: 'private',
    ownerOrgId: orgId,
    updatedAt: firstDelivery,
    body: {
      type: 'Collection',
      stac_version: STAC_VERSION,
      stac_extensions: [],
      id,
      title: 'Tasked acquisitions',
      description: 'Images Skyport acquired for this organization through the tasking API; visible to this organization only.',
      keywords: ['tasking', 'private'],
      license: 'proprietary',
      providers: [{ name: 'Skyport', roles: ['producer', 'processor', 'host'] }],
      extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [[new Date(firstDelivery).toISOString(), null]] } },
      item_assets: {
        data: { type: GEOTIFF_MEDIA_TYPE, title: 'Acquired image', roles: ['data'] },
        thumbnail: { type: 'image/png', title: 'Thumbnail', roles: ['thumbnail'] },
      },
      links: [],
    },
  };
}
