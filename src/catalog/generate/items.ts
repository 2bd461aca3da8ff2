/**
 * Demo STAC Items from the sun-synchronous constellation model: scenes are fixed frames along each
 * satellite's ground track (like WRS rows), acquired in strips of consecutive frames, tasked mostly
 * over land between 60°S and 75°N, optical ones only in daylight. Deterministic for a seed.
 */
import {
  argumentOfLatitude,
  makeConstellation,
  sunAngles,
  timeAtArgument,
  trackPoint,
  type Satellite,
  type TrackPoint,
} from './constellation.js';
import {
  DEMO_SPECS,
  demoCollections,
  GEOTIFF_MEDIA_TYPE,
  SCENE_LATITUDES,
  gsdAt,
  incidenceAngleDeg,
  type CollectionSpec,
} from './collections.js';
import { bearingDeg, destination, EARTH_MEAN_RADIUS_KM } from './geo.js';
import { isLand } from './landmask.js';
import { hash32, mulberry32, randInt, type Rng } from './prng.js';
import {
  EXTENSIONS,
  STAC_VERSION,
  type BBox,
  type Position,
  type StacAsset,
  type StacItem,
  type StacItemProperties,
  type StacLink,
  type StacCollection,
} from './stac.js';

export {
  demoCollections,
  DEMO_SPECS,
  LST_SPEC,
  MS_SPEC,
  benchCollectionSpecs,
  toStacCollection,
  type CollectionSpec,
} from './collections.js';

/** How items reference raster files: one folder per item, one shared sample per collection, or no assets at all. */
export type AssetMode = 'files' | 'shared' | 'none';

/** Options of `generateItems`. */
export interface GenerateOptions {
  collection: CollectionSpec;
  /** Number of items, a non-negative integer. */
  count: number;
  /** Any integer; the same seed (and other options) gives the same items. */
  seed: number;
  /** Acquisition window: datetimes fall in [start, end). */
  start: Date;
  end: Date;
  assets: AssetMode;
}

/** One acquired frame: where, when and how it was looked at, before it becomes an Item. */
export interface Scene {
  satellite: Satellite;
  /** Frame number along the orbit (0 at the ascending node), the `T` in item ids. */
  frameInOrbit: number;
  /** Acquisition time (frame centre), Unix ms. */
  timeMs: number;
  track: TrackPoint;
  offNadirDeg: number;
  incidenceDeg: number;
  /** Azimuth from the scene centre towards the satellite, deg clockwise from north (view extension `view:azimuth`). */
  viewAzimuthDeg: number;
  sunElevationDeg: number;
  sunAzimuthDeg: number;
  /** Footprint: closed counter-clockwise ring [lon, lat] and its bbox, deg. */
  ring: Position[];
  bbox: BBox;
  cloudCover: number;
  /** Time from acquisition to the product's creation, ms. */
  latencyMs: number;
}

const RAD = Math.PI / 180;
/** One revolution's ground track, km: frames per revolution = round(this / scene length). */
const TRACK_KM = 2 * Math.PI * EARTH_MEAN_RADIUS_KM;
/** Share of candidate strips over the sea kept anyway (coasts and islands the coarse mask misses). */
const OCEAN_KEEP = 0.04;
/**
 * Candidate strip starts tried per search window: first the strip's own time slot, then windows
 * doubling in length from it (the constellation may be over the ocean or the night side), up to
 * the window's end, which gets FINAL_TRIES more before giving up.
 */
const ROUND_TRIES = 48;
const FINAL_TRIES = 5000;
/** Consecutive frames overlap by this share along track, as real scene grids do. */
const ALONG_TRACK_OVERLAP = 0.02;
const KM_PER_DEG = EARTH_MEAN_RADIUS_KM * RAD;

/**
 * Footprint of a `lengthKm` × `widthKm` scene centred at (lon, lat), its length along `headingDeg`:
 * four corners counter-clockwise from the rear left, closed, rounded to 1e-6°. Null when any corner
 * would leave SCENE_LATITUDES or cross the antimeridian (such scenes are not generated).
 */
export function footprint(
  lon: number,
  lat: number,
  headingDeg: number,
  lengthKm: number,
  widthKm: number,
): { ring: Position[]; bbox: BBox } | null {
  const sb = Math.sin(headingDeg * RAD);
  const cb = Math.cos(headingDeg * RAD);
  const kLat = 1 / KM_PER_DEG;
  const kLon = kLat / Math.cos(lat * RAD);
  const h = lengthKm / 2;
  const w = widthKm / 2;
  const ring: Position[] = [];
  const bbox: BBox = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [a, c] of [
    [-h, -w],
    [-h, w],
    [h, w],
    [h, -w],
  ] as const) {
    // Local east/north offsets of the corner (a along the track, c to its right); flat within a scene.
    const x = round6(lon + (a * sb + c * cb) * kLon);
    const y = round6(lat + (a * cb - c * sb) * kLat);
    ring.push([x, y]);
    bbox[0] = Math.min(bbox[0], x);
    bbox[1] = Math.min(bbox[1], y);
    bbox[2] = Math.max(bbox[2], x);
    bbox[3] = Math.max(bbox[3], y);
  }
  if (bbox[1] < SCENE_LATITUDES.south || bbox[3] > SCENE_LATITUDES.north || bbox[0] < -180 || bbox[2] > 180) return null;
  ring.push([ring[0]![0], ring[0]![1]]);
  return { ring, bbox };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** `x` rounded to 2 decimals (angles, gsd, cloud cover in items). */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Where a frame is looked at: acquisition time, track and scene centre; no bounds checked yet. */
function frameCentre(sat: Satellite, frame: number, framesPerRev: number, offNadirDeg: number, side: 1 | -1) {
  const timeMs = Math.floor(timeAtArgument(sat, ((frame + 0.5) * 360) / framesPerRev));
  const track = trackPoint(sat, timeMs);
  const incidenceDeg = incidenceAngleDeg(offNadirDeg, sat.altitudeKm);
  // Off-nadir pointing moves the scene across track by the Earth-central angle (incidence − off-nadir).
  const groundKm = (incidenceDeg - offNadirDeg) * KM_PER_DEG;
  const look = track.headingDeg + 90 * side;
  const [lon, lat] = groundKm > 1e-3 ? destination(track.lon, track.lat, look, groundKm) : [track.lon, track.lat];
  const viewAzimuthDeg = groundKm > 1e-3 ? bearingDeg(lon, lat, track.lon, track.lat) : (look + 180) % 360;
  return { timeMs, track, lon, lat, incidenceDeg, viewAzimuthDeg };
}

/** Per-strip draws: pointing, cloudiness, processing latency. */
function drawStrip(spec: CollectionSpec, rng: Rng) {
  return {
    // Mostly near nadir, a tail of agile off-nadir looks.
    offNadirDeg: spec.maxOffNadirDeg * rng() ** 1.6,
    side: (rng() < 0.5 ? -1 : 1) as 1 | -1,
    // Cloud cover: many clear strips and a long tail (P(<10 %) ≈ 46 %, median ≈ 12 %).
    cloudBase: 100 * rng() ** 3,
    latencyMs: Math.round((1.5 + 4.5 * rng()) * 3_600_000),
  };
}

/**
 * Scenes of one collection: `count` frames with acquisition times in [start, end), in strips of
 * `spec.stripScenes` consecutive frames. Strips are spread evenly over the window (the k-th strip is
 * sought in the k-th share of it, so times rise through the output but for small reorderings), and
 * each satellite's frames only move forward, so no frame is produced twice. When that share has no
 * suitable pass (an optical constellation's day side is over the Pacific for hours), the strip
 * takes the next one after it. A strip starts over land (or, rarely, sea) inside SCENE_LATITUDES
 * and, for optical specs, with the Sun above `minSunElevationDeg`; each later frame keeps those
 * bounds (the sea excepted) or the strip ends early.
 * Throws RangeError for a bad count or window (or one starting before the constellation's epoch), or
 * when the window cannot hold `count` frames.
 */
export function* generateScenes(spec: CollectionSpec, count: number, seed: number, startMs: number, endMs: number): Generator<Scene> {
  if (!(Number.isInteger(count) && count >= 0)) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (!(Number.isFinite(startMs) && Number.isFinite(endMs) && endMs > startMs)) throw new RangeError('the window needs start < end');
  if (startMs < spec.constellation.epochMs)
    throw new RangeError(`${spec.constellation.id} has no scenes before ${new Date(spec.constellation.epochMs).toISOString()}`);
  const rng = mulberry32(hash32(spec.id, seed | 0));
  const sats = makeConstellation(spec.constellation);
  const framesPerRev = Math.round(TRACK_KM / spec.sceneLengthKm);
  const lastFrame = sats.map(() => -Infinity);
  const span = endMs - startMs;
  let emitted = 0;

  // A frame of a strip as a scene, or null when out of the window, the latitudes or (optical) daylight.
  // `landOnly`: also null over the sea, but for OCEAN_KEEP of the time (strip starts only).
  const frameScene = (s: number, frame: number, strip: ReturnType<typeof drawStrip>, landOnly: boolean): Scene | null => {
    const sat = sats[s]!;
    const c = frameCentre(sat, frame, framesPerRev, strip.offNadirDeg, strip.side);
    if (c.timeMs < startMs || c.timeMs >= endMs || c.lat < SCENE_LATITUDES.south || c.lat > SCENE_LATITUDES.north) return null;
    if (landOnly && !isLand(c.lon, c.lat) && rng() >= OCEAN_KEEP) return null;
    const fp = footprint(c.lon, c.lat, c.track.headingDeg, spec.sceneLengthKm * (1 + ALONG_TRACK_OVERLAP), spec.sceneWidthKm);
    if (!fp) return null;
    const sun = sunAngles(c.timeMs, c.lon, c.lat);
    if (spec.minSunElevationDeg !== null && sun.elevationDeg < spec.minSunElevationDeg) return null;
    return {
      satellite: sat,
      frameInOrbit: ((frame % framesPerRev) + framesPerRev) % framesPerRev,
      timeMs: c.timeMs,
      track: c.track,
      offNadirDeg: strip.offNadirDeg,
      incidenceDeg: c.incidenceDeg,
      viewAzimuthDeg: c.viewAzimuthDeg,
      sunElevationDeg: sun.elevationDeg,
      sunAzimuthDeg: sun.azimuthDeg,
      ring: fp.ring,
      bbox: fp.bbox,
      cloudCover: 0,
      latencyMs: strip.latencyMs,
    };
  };

  while (emitted < count) {
    const want = Math.min(randInt(rng, spec.stripScenes[0], spec.stripScenes[1]), count - emitted);
    const slotLo = startMs + (span * emitted) / count;
    // At least 1 ms, so the search windows below always grow.
    const slotHi = Math.max(slotLo + 1, startMs + (span * (emitted + want)) / count);
    const strip = drawStrip(spec, rng);
    let s = 0;
    let frame = 0;
    let first: Scene | null = null;
    const rounds = Math.ceil(Math.log2((endMs - slotLo) / (slotHi - slotLo))) + 1;
    for (let i = 0; i < rounds * ROUND_TRIES + FINAL_TRIES && !first; i++) {
      s = randInt(rng, 0, sats.length - 1);
      const sat = sats[s]!;
      const free = lastFrame[s] === -Infinity ? slotLo : Math.max(slotLo, timeAtArgument(sat, ((lastFrame[s]! + 1) * 360) / framesPerRev));
      const hi = Math.min(endMs, slotLo + (slotHi - slotLo) * 2 ** Math.floor(i / ROUND_TRIES));
      if (free >= hi) continue;
      frame = Math.floor((argumentOfLatitude(sat, free + (hi - free) * rng()) * framesPerRev) / 360);
      if (frame > lastFrame[s]!) first = frameScene(s, frame, strip, true);
    }
    if (!first)
      throw new RangeError(
        `cannot place ${count} scenes of ${spec.id} in ${new Date(startMs).toISOString()}/${new Date(endMs).toISOString()}`,
      );
    for (let k = 0; k < want; k++) {
      const scene = k === 0 ? first : frameScene(s, frame + k, strip, false);
      if (!scene) break;
      scene.cloudCover = Math.min(100, strip.cloudBase * (0.8 + 0.4 * rng()));
      yield scene;
      lastFrame[s] = frame + k;
      emitted++;
    }
  }
}

/**
 * Item id: `<prefix>_<yyyymmddThhmmss>_S<satellite>_T<frame, 4 digits>`, e.g. `TIR_20260114T103512_S2_T0123`.
 * `iso` is the acquisition time's ISO string when the caller has it already.
 */
export function itemId(spec: CollectionSpec, scene: Scene, iso = new Date(scene.timeMs).toISOString()): string {
  const stamp = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  return `${spec.idPrefix}_${stamp}_S${scene.satellite.number}_T${String(scene.frameInOrbit).padStart(4, '0')}`;
}

/**
 * Asset objects for an item. `files`: `asset:<collection>/<itemId>/<file>` (the server rewrites the
 * `asset:` scheme to its protected download URL; `writeItemAssets` writes the files), with the
 * raster's `proj:shape`/`proj:transform`. `shared`: every item of the collection points at
 * `asset:<collection>/_sample/…` (one file set for benchmarks). `none`: `{}`.
 */
export function itemAssets(spec: CollectionSpec, id: string, bbox: BBox, mode: AssetMode): Record<string, StacAsset> {
  if (mode === 'none') return {};
  const dir = mode === 'files' ? `asset:${spec.id}/${id}` : `asset:${spec.id}/_sample`;
  const n = spec.rasterSize;
  const grid =
    mode === 'files'
      ? { 'proj:shape': [n, n], 'proj:transform': [(bbox[2] - bbox[0]) / n, 0, bbox[0], 0, -(bbox[3] - bbox[1]) / n, bbox[3]] }
      : {};
  return {
    data: {
      href: `${dir}/${spec.dataAsset.file}`,
      type: GEOTIFF_MEDIA_TYPE,
      title: spec.dataAsset.title,
      roles: ['data'],
      'proj:code': 'EPSG:4326',
      ...grid,
      // Copies: an item handed to a caller must not share mutable parts with the spec.
      bands: spec.dataAsset.bands.map((b) => ({ ...b })),
    },
    thumbnail: { href: `${dir}/thumbnail.png`, type: 'image/png', title: 'Thumbnail', roles: ['thumbnail'] },
  };
}

/** Extension schemas every generated Item declares. */
export const ITEM_EXTENSIONS: readonly string[] = [EXTENSIONS.eo, EXTENSIONS.view, EXTENSIONS.proj, EXTENSIONS.processing, EXTENSIONS.sat];

/** Links of every generated Item: a static-catalog relative `collection` link (the item schema wants one; servers replace links). */
export const ITEM_LINKS: readonly StacLink[] = [{ rel: 'collection', type: 'application/json', href: '../collection.json' }];

/** An item's properties (common metadata; eo v2, view v1.1, projection v2, processing v1.2, sat v1.1 fields). */
export function itemProperties(spec: CollectionSpec, scene: Scene): StacItemProperties {
  const created = new Date(scene.timeMs + scene.latencyMs).toISOString();
  return {
    datetime: new Date(scene.timeMs).toISOString(),
    created,
    updated: created,
    platform: scene.satellite.platform,
    constellation: spec.constellation.id,
    instruments: [...spec.instruments],
    gsd: round2(gsdAt(spec, scene.incidenceDeg)),
    'eo:cloud_cover': round2(scene.cloudCover),
    'view:off_nadir': round2(scene.offNadirDeg),
    'view:incidence_angle': round2(scene.incidenceDeg),
    'view:azimuth': round2(scene.viewAzimuthDeg),
    'view:sun_elevation': round2(scene.sunElevationDeg),
    'view:sun_azimuth': round2(scene.sunAzimuthDeg),
    'proj:code': 'EPSG:4326',
    'processing:level': spec.processingLevel,
    'sat:orbit_state': scene.track.orbitState,
    'sat:absolute_orbit': scene.track.absoluteOrbit,
  };
}

/** The STAC 1.1.0 Item of a scene (item-spec §"Item fields"). */
export function sceneToItem(spec: CollectionSpec, scene: Scene, assets: AssetMode): StacItem {
  const id = itemId(spec, scene);
  return {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: [...ITEM_EXTENSIONS],
    id,
    collection: spec.id,
    geometry: { type: 'Polygon', coordinates: [scene.ring] },
    bbox: scene.bbox,
    properties: itemProperties(spec, scene),
    links: ITEM_LINKS.map((l) => ({ ...l })),
    assets: itemAssets(spec, id, scene.bbox, assets),
  };
}

/**
 * `count` STAC Items of `collection` acquired in [start, end), deterministic for `seed` (see
 * `generateScenes` for how scenes are placed, and its errors). Lazy: items are built as iterated.
 */
export function* generateItems(opts: GenerateOptions): Generator<StacItem> {
  for (const scene of generateScenes(opts.collection, opts.count, opts.seed, opts.start.getTime(), opts.end.getTime())) {
    yield sceneToItem(opts.collection, scene, opts.assets);
  }
}

/**
 * The demo catalog of a first start: `demoCollections` (temporal extent = the window) and
 * `perCollection` items of each over the `days` (default 90) before `now`, as `generateItems` makes
 * them (default 100 per collection, seed 1, `files` assets for `writeItemAssets`).
 */
export function demoCatalog(opts: { now: Date; perCollection?: number; days?: number; seed?: number; assets?: AssetMode }): {
  collections: StacCollection[];
  items: StacItem[];
} {
  const end = opts.now;
  const start = new Date(end.getTime() - (opts.days ?? 90) * 86_400_000);
  const items = DEMO_SPECS.flatMap((collection) => [
    ...generateItems({ collection, count: opts.perCollection ?? 100, seed: opts.seed ?? 1, start, end, assets: opts.assets ?? 'files' }),
  ]);
  return { collections: demoCollections([start.toISOString(), end.toISOString()]), items };
}
