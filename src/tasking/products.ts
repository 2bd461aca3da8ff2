/**
 * The tasking products Skyport offers (STAPI v0.1.0 Product, tasking-notes §1.3): which satellites
 * task them (by sensor), their imaging constraints, the JSON Schemas of their queryables and order
 * parameters, limits on requests, and prices. Products are configuration, not data: one list here.
 */

/** Order priorities, as commercial tasking APIs offer them: higher wins a conflict, and costs more. */
export const PRIORITIES = ['standard', 'priority', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const PRIORITY_RANK: Record<Priority, number> = { standard: 0, priority: 1, urgent: 2 };

export interface TaskingProduct {
  id: string;
  title: string;
  description: string;
  /** Satellites whose stored element sets carry this sensor task the product. */
  sensor: 'optical' | 'thermal';
  /** Imaging needs daylight: passes with the sun below this elevation (deg) are not opportunities. */
  minSunElevationDeg: number | null;
  /** Largest off-nadir angle the sensor can point (deg); orders may ask for less. */
  maxOffNadirDeg: number;
  /** Edge of the square scene imaged around the target, km. */
  sceneSizeKm: number;
  /** Largest area of interest, km²; larger AOIs are refused. */
  maxAoiKm2: number;
  /** Longest request window, days. */
  maxWindowDays: number;
  /** Element sets older than this relative to the window give no opportunities (stale elements mislead), days. */
  maxElementAgeDays: number;
  /** Price per order by priority, minor units of `currency`. */
  price: Record<Priority, number>;
  currency: string;
  gsdM: number;
  /** The STAC collection template of deliveries (bands, gsd, instrument). */
  instrument: string;
}

export const PRODUCTS: readonly TaskingProduct[] = [
  {
    id: 'skyport-ms-tasking',
    title: 'Optical multispectral tasking (3 m)',
    description: 'Task the optical satellites of the Skyport constellation: a 10 km scene, four bands, daylight only.',
    sensor: 'optical',
    minSunElevationDeg: 10,
    maxOffNadirDeg: 30,
    sceneSizeKm: 10,
    maxAoiKm2: 100,
    maxWindowDays: 30,
    maxElementAgeDays: 14,
    price: { standard: 50_000, priority: 90_000, urgent: 150_000 },
    currency: 'USD',
    gsdM: 3,
    instrument: 'ms',
  },
  {
    id: 'skyport-tir-tasking',
    title: 'Thermal-infrared tasking (50 m, day and night)',
    description: 'Task the thermal satellites of the Skyport constellation: land-surface temperature, day or night.',
    sensor: 'thermal',
    minSunElevationDeg: null,
    maxOffNadirDeg: 35,
    sceneSizeKm: 30,
    maxAoiKm2: 900,
    maxWindowDays: 30,
    maxElementAgeDays: 14,
    price: { standard: 20_000, priority: 35_000, urgent: 60_000 },
    currency: 'USD',
    gsdM: 50,
    instrument: 'tir',
  },
];

export function productById(id: string): TaskingProduct | undefined {
  return PRODUCTS.find((p) => p.id === id);
}

/** JSON Schema (draft-07) of the order parameters of a product (STAPI `order-parameters`). */
export function orderParametersSchema(p: TaskingProduct): Record<string, unknown> {
  const props: Record<string, unknown> = {
    max_off_nadir: {
      title: 'Largest off-nadir angle (deg)',
      type: 'number',
      minimum: 0,
      maximum: p.maxOffNadirDeg,
      default: p.maxOffNadirDeg,
    },
    max_cloud_cover: { title: 'Largest cloud cover accepted (%)', type: 'number', minimum: 0, maximum: 100, default: 20 },
    priority: { title: 'Priority', type: 'string', enum: [...PRIORITIES], default: 'standard' },
  };
  if (p.minSunElevationDeg !== null) {
    props.min_sun_elevation = {
      title: 'Smallest sun elevation (deg)',
      type: 'number',
      minimum: p.minSunElevationDeg,
      maximum: 90,
      default: p.minSunElevationDeg,
    };
  }
  return { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: props, additionalProperties: false };
}

/** JSON Schema of the properties usable in opportunity/order `filter`s (STAPI `queryables`). */
export function queryablesSchema(p: TaskingProduct): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: {
      'view:off_nadir': { title: 'Off-nadir angle at closest approach (deg)', type: 'number', minimum: 0, maximum: p.maxOffNadirDeg },
      'view:sun_elevation': { title: 'Sun elevation at the target (deg)', type: 'number', minimum: -90, maximum: 90 },
      platform: { title: 'Satellite', type: 'string' },
    },
    additionalProperties: false,
  };
}
