/**
 * Small real raster assets for demo Items, made locally (no download): a GeoTIFF (EPSG:4326,
 * ModelTiepoint + ModelPixelScale covering the Item bbox exactly, nodata 0 outside the footprint)
 * and a PNG thumbnail of the same raster. Fields are smooth noise in world coordinates, so
 * neighbouring scenes agree; clouds cover the share of pixels the Item's `eo:cloud_cover` says.
 */
import path from 'node:path';
import { PNG } from 'pngjs';
import { encodeCog } from './cog.js';
import { assertSafeAssetKey } from '../../storage/assets/keys.js';
import { asAssetStore, type AssetTarget } from '../../storage/assets/open.js';
import type { AssetStore } from '../../storage/assets/types.js';
import { hash32 } from './prng.js';
import type { BBox, Position, StacAsset, StacItem } from './stac.js';

/** LST values are kept in this range, K. */
export const LST_RANGE_K = { min: 260, max: 330 } as const;

/** A band-interleaved-by-pixel raster over `bbox`: `data[(row * width + col) * bands + band]`, row 0 north. */
export interface Raster {
  kind: 'lst' | 'reflectance';
  width: number;
  height: number;
  bands: number;
  bbox: BBox;
  data: Float32Array | Uint16Array;
}

/** Side of a thumbnail relative to its raster (nearest-neighbour enlargement). */
const THUMBNAIL_SCALE = 2;
/** Noise fields are evaluated every this many pixels and interpolated between. */
const FIELD_STEP = 2;

// Integer-lattice hash in [0, 1).
function lattice(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const v00 = lattice(ix, iy, seed);
  const v10 = lattice(ix + 1, iy, seed);
  const v01 = lattice(ix, iy + 1, seed);
  const v11 = lattice(ix + 1, iy + 1, seed);
  const a = v00 + sx * (v10 - v00);
  return a + sy * (v01 + sx * (v11 - v01) - a);
}

/** Fractal value noise in [0, 1] at world position (xKm, yKm), features about `wavelengthKm` wide (3 octaves). */
function fbm(xKm: number, yKm: number, wavelengthKm: number, seed: number): number {
  const f = 1 / wavelengthKm;
  return (
    (4 * valueNoise(xKm * f, yKm * f, seed) +
      2 * valueNoise(xKm * f * 2.03, yKm * f * 2.03, seed + 1013) +
      valueNoise(xKm * f * 4.12, yKm * f * 4.12, seed + 2026)) /
    7
  );
}

function insideRing(ring: Position[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/**
 * The value above which a `share` (0 … 1) of `values` (all in [0, 1]) lies, to 1/4096: the cloud
 * threshold, so that the cloudy share of pixels equals eo:cloud_cover. Infinity for share ≤ 0.
 */
function upperQuantile(values: Float32Array, share: number): number {
  if (share <= 0) return Infinity;
  const bins = 4096;
  const hist = new Uint32Array(bins);
  for (const v of values) hist[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]!++;
  let above = 0;
  for (let b = bins - 1; b >= 0; b--) {
    above += hist[b]!;
    if (above >= share * values.length) return b / bins;
  }
  return 0;
}

/**
 * Fractal noise sampled every FIELD_STEP pixels and bilinearly interpolated between (the finest
 * octave is still several pixels wide); `lonAt`/`latAt` give pixel-centre coordinates, deg.
 */
function noiseField(
  size: number,
  lonAt: (c: number) => number,
  latAt: (r: number) => number,
  wavelengthKm: number,
  seed: number,
): Float32Array {
  const nodes = Math.ceil((size - 1) / FIELD_STEP) + 1;
  const grid = new Float32Array(nodes * nodes);
  for (let j = 0; j < nodes; j++) {
    const y = latAt(j * FIELD_STEP) * 110.57;
    for (let i = 0; i < nodes; i++) grid[j * nodes + i] = fbm(lonAt(i * FIELD_STEP) * 111.32, y, wavelengthKm, seed);
  }
  const out = new Float32Array(size * size);
  for (let r = 0; r < size; r++) {
    const j = Math.min(nodes - 2, Math.floor(r / FIELD_STEP));
    const fy = r / FIELD_STEP - j;
    for (let c = 0; c < size; c++) {
      const i = Math.min(nodes - 2, Math.floor(c / FIELD_STEP));
      const fx = c / FIELD_STEP - i;
      const a = grid[j * nodes + i]! + fx * (grid[j * nodes + i + 1]! - grid[j * nodes + i]!);
      const b = grid[(j + 1) * nodes + i]! + fx * (grid[(j + 1) * nodes + i + 1]! - grid[(j + 1) * nodes + i]!);
      out[r * size + c] = a + fy * (b - a);
    }
  }
  return out;
}

/** Per-pixel land cover (0 bare … 1 vegetated), cloudiness (0 … 1) and footprint mask of an item's raster grid. */
function sampleFields(item: StacItem, size: number) {
  const [minx, miny, maxx, maxy] = item.bbox;
  const ring = item.geometry.coordinates[0]!;
  const lonAt = (c: number) => minx + ((c + 0.5) * (maxx - minx)) / size;
  const latAt = (r: number) => maxy - ((r + 0.5) * (maxy - miny)) / size;
  const n = size * size;
  const inside = new Uint8Array(n);
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) inside[r * size + c] = insideRing(ring, lonAt(c), latAt(r)) ? 1 : 0;
  // Value noise clusters around 0.5; stretched so fields, bare ground and forest all show.
  const cover = noiseField(size, lonAt, latAt, 9, 0x5eed).map((v) => smoothstep(0.28, 0.72, v));
  // Clouds move: seeded by the 10-minute slot of the acquisition, so one strip shares its clouds.
  const cloudField = noiseField(size, lonAt, latAt, 6, hash32('clouds', Math.floor(Date.parse(item.properties.datetime) / 600_000)));
  const threshold = upperQuantile(cloudField, item.properties['eo:cloud_cover'] / 100);
  const cloud = new Float32Array(n);
  if (threshold !== Infinity) for (let i = 0; i < n; i++) cloud[i] = smoothstep(threshold - 0.02, threshold + 0.02, cloudField[i]!);
  return { cover, cloud, inside };
}

/**
 * The raster of an item: Float32 LST (K) for a single-band `unit: "K"` data asset, otherwise UInt16
 * reflectance × 10,000 in the asset's bands (blue, green, red, nir by `eo:common_name`). Pixels
 * outside the footprint are 0 (nodata). Throws Error when the item has no `data` asset with bands.
 */
export function renderRaster(item: StacItem, size = 64): Raster {
  const bands = item.assets.data?.bands;
  if (!bands?.length) throw new Error(`item ${item.id} has no data asset with bands`);
  const { cover, cloud, inside } = sampleFields(item, size);
  const n = size * size;
  if (bands.length === 1 && bands[0]!.unit === 'K') {
    const sunEl = item.properties['view:sun_elevation'];
    const midLat = ((item.bbox[1] + item.bbox[3]) / 2) * (Math.PI / 180);
    // Day: warmer with a higher Sun; night: cooler, still warmer towards the equator.
    const base = sunEl > 0 ? 274 + 40 * Math.sin((sunEl * Math.PI) / 180) : 266 + 18 * Math.cos(midLat);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (!inside[i]) continue;
      const t = base + (0.5 - cover[i]!) * 16 - 20 * cloud[i]!;
      data[i] = Math.min(LST_RANGE_K.max, Math.max(LST_RANGE_K.min, t));
    }
    return { kind: 'lst', width: size, height: size, bands: 1, bbox: item.bbox, data };
  }
  // Surface reflectance of bare soil and of vegetation, by common band name; clouds are bright and grey.
  const soil: Record<string, number> = { blue: 0.09, green: 0.13, red: 0.17, nir: 0.26 };
  const veg: Record<string, number> = { blue: 0.03, green: 0.07, red: 0.04, nir: 0.36 };
  const names = bands.map((b) => String(b['eo:common_name'] ?? b.name));
  const bare = names.map((k) => soil[k] ?? 0.15);
  const green = names.map((k) => veg[k] ?? 0.15);
  const nb = bands.length;
  const data = new Uint16Array(n * nb);
  for (let i = 0; i < n; i++) {
    if (!inside[i]) continue;
    const v = cover[i]!;
    const cl = cloud[i]!;
    for (let b = 0; b < nb; b++) {
      const refl = (bare[b]! * (1 - v) + green[b]! * v) * (1 - cl) + 0.6 * cl;
      data[i * nb + b] = Math.max(1, Math.round(refl * 10_000));
    }
  }
  return { kind: 'reflectance', width: size, height: size, bands: nb, bbox: item.bbox, data };
}

/**
 * A Cloud-Optimized GeoTIFF (TIFF 6.0 + GeoTIFF 1.1 keys: EPSG:4326 geographic, pixel-is-area) of the
 * raster, written by `encodeCog` (./cog.ts): little-endian, tiled, chunky bands, DEFLATE with a
 * predictor, overviews halving down to one tile, all IFDs before the tile data (smallest overview
 * first), GDAL_NODATA 0; ModelTiepoint at the bbox's north-west corner and ModelPixelScale = bbox
 * size / raster size, so the file's bounding box is the item's bbox.
 */
export function encodeGeoTiff(raster: Raster): ArrayBuffer {
  // encodeCog's output owns its whole buffer, so no copy is needed.
  return encodeCog(raster).buffer;
}

// Perceptual "inferno"-like ramp for temperature, 0 … 1, tabulated to 256 RGB entries.
const RAMP_STOPS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];
const RAMP = Uint8Array.from({ length: 256 * 3 }, (_, k) => {
  const x = (Math.floor(k / 3) / 255) * (RAMP_STOPS.length - 1);
  const s = Math.min(RAMP_STOPS.length - 2, Math.floor(x));
  const a = RAMP_STOPS[s]![k % 3]!;
  return Math.round(a + (x - s) * (RAMP_STOPS[s + 1]![k % 3]! - a));
});

// Reflectance × 10,000 → display byte: stretched so 0.3 is white, with a 1/2.2 display gamma.
let reflectanceLut: Uint8Array | null = null;

function reflectanceToByte(v: number): number {
  reflectanceLut ??= Uint8Array.from({ length: 65_536 }, (_, k) => Math.round(255 * Math.min(1, (k / 10_000 / 0.3) ** (1 / 2.2))));
  return reflectanceLut[v]!;
}

/** RGBA of each raster pixel (nodata transparent). */
function colourise(raster: Raster): Uint8Array {
  const nb = raster.bands;
  const n = raster.width * raster.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const first = raster.data[i * nb]!;
    if (first === 0) continue;
    if (raster.kind === 'lst') {
      const t = (first - LST_RANGE_K.min) / (LST_RANGE_K.max - LST_RANGE_K.min);
      const e = 3 * Math.round(255 * Math.min(1, Math.max(0, t)));
      rgba[i * 4] = RAMP[e]!;
      rgba[i * 4 + 1] = RAMP[e + 1]!;
      rgba[i * 4 + 2] = RAMP[e + 2]!;
    } else {
      // True colour: bands 3, 2, 1 are red, green, blue.
      rgba[i * 4] = reflectanceToByte(raster.data[i * nb + 2]!);
      rgba[i * 4 + 1] = reflectanceToByte(raster.data[i * nb + 1]!);
      rgba[i * 4 + 2] = reflectanceToByte(raster.data[i * nb]!);
    }
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

/**
 * PNG thumbnail (RGBA, raster size × 2, nearest neighbour): LST through a colour ramp over 260–330 K,
 * reflectance as true colour (red, green, blue bands = 3rd, 2nd, 1st); nodata transparent.
 */
export function renderThumbnail(raster: Raster): Buffer {
  const rgba = colourise(raster);
  const w = raster.width * THUMBNAIL_SCALE;
  const h = raster.height * THUMBNAIL_SCALE;
  const png = new PNG({ width: w, height: h });
  // Whole pixels copied as 32-bit words (byte order is irrelevant for a copy).
  const dst = new Uint32Array(w * h);
  const src = new Uint32Array(rgba.buffer);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / THUMBNAIL_SCALE) * raster.width;
    for (let x = 0; x < w; x++) dst[y * w + x] = src[row + Math.floor(x / THUMBNAIL_SCALE)]!;
  }
  png.data.set(new Uint8Array(dst.buffer));
  // Paeth filtering suits the enlargement; level 6 is several times faster than pngjs's default 9.
  return PNG.sync.write(png, { filterType: 4, deflateLevel: 6 });
}

/**
 * Where an `asset:` href lives in the local store of `rootDir`. Throws Error for another scheme and
 * UnsafeAssetKey for a key the stores refuse (an absolute path, an empty, `.` or `..` segment: a
 * generated href never has them; a tampered one must not escape the root; storage/assets/keys.ts).
 */
export function assetPath(rootDir: string, href: string): string {
  if (!href.startsWith('asset:')) throw new Error(`not an asset: href: ${href}`);
  return path.join(rootDir, ...assertSafeAssetKey(href.slice('asset:'.length)).split('/'));
}

async function put(store: AssetStore, asset: StacAsset | undefined, bytes: () => Uint8Array): Promise<void> {
  if (!asset?.href.startsWith('asset:')) return;
  await store.put(assertSafeAssetKey(asset.href.slice('asset:'.length)), bytes(), asset.type);
}

/**
 * Writes the item's `data` GeoTIFF and `thumbnail` PNG into the asset store under the keys of their
 * `asset:` hrefs (overwriting), with their media types; a string `target` is a local assets folder.
 * Assets with other schemes are skipped; an item without them writes nothing. Raster size comes from
 * the data asset's `proj:shape`, else 64 px. Items made with `shared` assets all point at one sample
 * path: write it for one item per collection (it then covers that item's bbox). Throws on unsafe
 * hrefs (UnsafeAssetKey) and on the store's errors.
 */
export async function writeItemAssets(item: StacItem, target: AssetTarget): Promise<void> {
  const data = item.assets.data;
  if (!data?.href.startsWith('asset:') && !item.assets.thumbnail?.href.startsWith('asset:')) return;
  const store = asAssetStore(target);
  const shape = data?.['proj:shape'];
  const size = Array.isArray(shape) && typeof shape[0] === 'number' ? shape[0] : 64;
  const raster = renderRaster(item, size);
  await put(store, data, () => new Uint8Array(encodeGeoTiff(raster)));
  await put(store, item.assets.thumbnail, () => renderThumbnail(raster));
}
