/**
 * The STAC 1.1.0 shapes the demo generator produces (Item, Collection, Asset, Band), with the
 * extension fields it fills. Loose enough to hold any valid STAC JSON (`[key: string]: unknown`).
 */

/** STAC version written into every generated Item and Collection. */
export const STAC_VERSION = '1.1.0';

/** Extension schema URLs the generated objects declare in `stac_extensions` (STAC 1.1.0-era versions). */
export const EXTENSIONS = {
  eo: 'https://stac-extensions.github.io/eo/v2.0.0/schema.json',
  view: 'https://stac-extensions.github.io/view/v1.1.0/schema.json',
  proj: 'https://stac-extensions.github.io/projection/v2.0.0/schema.json',
  processing: 'https://stac-extensions.github.io/processing/v1.2.0/schema.json',
  sat: 'https://stac-extensions.github.io/sat/v1.1.0/schema.json',
} as const;

/** A longitude/latitude pair in degrees (RFC 7946 §3.1.1 order: x, y). */
export type Position = [number, number];

/** `[west, south, east, north]` in degrees (RFC 7946 §5, 2D). */
export type BBox = [number, number, number, number];

/** GeoJSON Polygon (RFC 7946 §3.1.6): closed, counter-clockwise exterior ring. */
export interface Polygon {
  type: 'Polygon';
  coordinates: Position[][];
}

/** A STAC link (STAC 1.1.0 item-spec "Link Object"). */
export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
}

/** A band (STAC 1.1.0 common metadata `bands`, with eo v2.0.0 fields where spectral). */
export interface StacBand {
  name: string;
  description?: string;
  'eo:common_name'?: string;
  'eo:center_wavelength'?: number;
  'eo:full_width_half_max'?: number;
  data_type?: 'uint8' | 'uint16' | 'int16' | 'float32' | 'float64';
  nodata?: number | 'nan';
  unit?: string;
  scale?: number;
  offset?: number;
  [key: string]: unknown;
}

/** A STAC asset (STAC 1.1.0 item-spec "Asset Object"). */
export interface StacAsset {
  href: string;
  type?: string;
  title?: string;
  description?: string;
  roles?: string[];
  bands?: StacBand[];
  [key: string]: unknown;
}

/** Item properties the generator always fills; others may be present. */
export interface StacItemProperties {
  datetime: string;
  created: string;
  updated: string;
  platform: string;
  constellation: string;
  instruments: string[];
  gsd: number;
  'eo:cloud_cover': number;
  'view:off_nadir': number;
  'view:incidence_angle': number;
  'view:azimuth': number;
  'view:sun_elevation': number;
  'view:sun_azimuth': number;
  'proj:code': string;
  'processing:level': string;
  'sat:orbit_state': 'ascending' | 'descending';
  'sat:absolute_orbit': number;
  [key: string]: unknown;
}

/** A STAC 1.1.0 Item (item-spec §"Item fields"). */
export interface StacItem {
  type: 'Feature';
  stac_version: string;
  stac_extensions: string[];
  id: string;
  collection: string;
  geometry: Polygon;
  bbox: BBox;
  properties: StacItemProperties;
  links: StacLink[];
  assets: Record<string, StacAsset>;
}

/** A STAC 1.1.0 Collection (collection-spec), `item_assets` being core since 1.1.0. */
export interface StacCollection {
  type: 'Collection';
  stac_version: string;
  stac_extensions: string[];
  id: string;
  title: string;
  description: string;
  keywords: string[];
  license: string;
  providers: { name: string; description?: string; roles: string[]; url?: string }[];
  extent: { spatial: { bbox: BBox[] }; temporal: { interval: [string | null, string | null][] } };
  summaries: Record<string, unknown>;
  item_assets: Record<string, Omit<StacAsset, 'href'>>;
  links: StacLink[];
  [key: string]: unknown;
}
