/**
 * A small Cloud-Optimized GeoTIFF writer for the demo `Raster`s (Float32 LST or UInt16 reflectance,
 * band-interleaved by pixel, row 0 north, EPSG:4326 over the raster's bbox, nodata 0).
 *
 * The file is a classic little-endian TIFF 6.0 whose layout follows the COG specification
 * (cogeotiff/cog-spec, and the GDAL COG driver's IFDS_BEFORE_DATA layout), so that a reader fetches
 * the header and every directory with one small range request and then only the tiles it needs:
 *
 *   header (8 bytes) · IFD of the full resolution + its out-of-line values (tile offsets and sizes,
 *   geo keys) · IFD of overview 1 (½) + values · … · IFD of the smallest overview + values ·
 *   tiles of the smallest overview · … · tiles of overview 1 · tiles of the full resolution.
 *
 * Within a level tiles are in row-major order with ascending offsets. Every image is tiled
 * (TileWidth = TileLength, a multiple of 16 as TIFF requires), PlanarConfiguration 1 (contiguous),
 * DEFLATE-compressed (Compression 8, zlib stream) after a horizontal predictor (2 for integers,
 * 3 for floating point). Edge tiles are padded with nodata. Overviews (NewSubfileType 1) halve the
 * previous level (rounding up) until a level fits in one tile; each overview pixel is the mean of
 * the valid (non-zero) samples of its 2 × 2 parent block, 0 when none is valid. The geo tags
 * (ModelPixelScale, ModelTiepoint, GeoKeyDirectory: geographic EPSG:4326, pixel-is-area) are on the
 * full-resolution IFD only, as GDAL writes them; GDAL_NODATA "0" is on every IFD. GDAL's optional
 * "ghost" structural-metadata block is not written.
 */
import { deflateSync } from 'node:zlib';
import type { Raster } from './assets.js';

/** How a COG is written; every field is optional. */
export interface CogOptions {
  /** Tile side, px, a positive multiple of 16. Default: `cogTileSize(width, height)`. */
  tileSize?: number;
  /** zlib compression level, 1 (fastest) … 9 (smallest). Default 6. */
  deflateLevel?: number;
  /** Horizontal differencing before DEFLATE (TIFF Predictor 2 or 3). Default true. */
  predictor?: boolean;
}

/**
 * The default tile side for a raster of `width` × `height` px: half its larger side rounded up to
 * a multiple of 16, between 16 and 256 px. So every raster over 16 px has at least 2 × 2 tiles and
 * one overview (a 128-px demo raster: 64-px tiles), and large ones get the usual 256-px tiles.
 */
export function cogTileSize(width: number, height: number): number {
  return Math.min(256, Math.max(16, Math.ceil(Math.max(width, height) / 32) * 16));
}

/** One image of the pyramid: the full resolution or an overview, same layout as `Raster.data`. */
interface Level {
  width: number;
  height: number;
  data: Float32Array | Uint16Array;
}

/**
 * The next overview of `level`: half its size (rounded up); each pixel the mean of the valid (≠ 0)
 * samples of its 2 × 2 block in each band, 0 (nodata) when none is valid. Integers are rounded.
 */
function halve(level: Level, bands: number): Level {
  const width = Math.ceil(level.width / 2);
  const height = Math.ceil(level.height / 2);
  const src = level.data;
  const data = src instanceof Float32Array ? new Float32Array(width * height * bands) : new Uint16Array(width * height * bands);
  const round = data instanceof Uint16Array;
  const rowStride = level.width * bands;
  for (let r = 0; r < height; r++) {
    // At an odd edge the last row or column counts twice, which leaves the mean unchanged.
    const down = 2 * r + 1 < level.height ? rowStride : 0;
    for (let c = 0; c < width; c++) {
      const right = 2 * c + 1 < level.width ? bands : 0;
      const p = (2 * r * level.width + 2 * c) * bands;
      for (let b = 0; b < bands; b++) {
        const v00 = src[p + b]!;
        const v01 = src[p + right + b]!;
        const v10 = src[p + down + b]!;
        const v11 = src[p + down + right + b]!;
        const n = (v00 !== 0 ? 1 : 0) + (v01 !== 0 ? 1 : 0) + (v10 !== 0 ? 1 : 0) + (v11 !== 0 ? 1 : 0);
        const mean = n === 0 ? 0 : (v00 + v01 + v10 + v11) / n;
        data[(r * width + c) * bands + b] = round ? Math.round(mean) : mean;
      }
    }
  }
  return { width, height, data };
}

/** The full resolution first, then overviews halving until one fits in a `tile` × `tile` tile. */
function pyramid(raster: Raster, tile: number): Level[] {
  const levels: Level[] = [{ width: raster.width, height: raster.height, data: raster.data }];
  let last = levels[0]!;
  while (last.width > tile || last.height > tile) {
    last = halve(last, raster.bands);
    levels.push(last);
  }
  return levels;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The little-endian bytes of a typed array (a view on a little-endian host, else a swapped copy). */
function littleEndianBytes(a: Float32Array | Uint16Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (HOST_LITTLE_ENDIAN) return bytes;
  const copy = Buffer.from(bytes);
  return a instanceof Float32Array ? copy.swap32() : copy.swap16();
}

/**
 * TIFF Predictor 2 (TIFF 6.0 §14) on a tile of integers, in place: each sample minus the same
 * band's sample to its left, row by row (`rowSamples` = tile width × bands); wraps modulo 2¹⁶.
 */
function horizontalDifference(tile: Uint16Array, rowSamples: number, bands: number): void {
  for (let row = 0; row < tile.length; row += rowSamples)
    for (let k = row + rowSamples - 1; k >= row + bands; k--) tile[k] = tile[k]! - tile[k - bands]!;
}

/**
 * TIFF Predictor 3 (Adobe Photoshop TIFF Technical Note 3, "floating point predictor") on a tile of
 * Float32, returning new bytes: each row's samples are split into byte planes, most significant
 * byte first (plane p holds byte 3 − p of every sample, little-endian numbering), and the plane row
 * is then differenced byte-wise with a stride of `bands` bytes, modulo 2⁸.
 */
function floatingPointDifference(tile: Float32Array, rowSamples: number, bands: number): Uint8Array {
  const le = littleEndianBytes(tile);
  const out = new Uint8Array(le.length);
  const rowBytes = rowSamples * 4;
  for (let row = 0; row < le.length; row += rowBytes) {
    for (let i = 0; i < rowSamples; i++) for (let b = 0; b < 4; b++) out[row + (3 - b) * rowSamples + i] = le[row + 4 * i + b]!;
    for (let k = row + rowBytes - 1; k >= row + bands; k--) out[k] = out[k]! - out[k - bands]!;
  }
  return out;
}

/**
 * The DEFLATE-compressed tiles of a level in row-major order: each `tile` × `tile` px, padded with
 * nodata past the right and bottom edges, predictor applied when `predictor`.
 */
function encodeTiles(level: Level, bands: number, tile: number, predictor: boolean, deflateLevel: number): Buffer[] {
  const across = Math.ceil(level.width / tile);
  const down = Math.ceil(level.height / tile);
  const rowSamples = tile * bands;
  const tiles: Buffer[] = [];
  for (let ty = 0; ty < down; ty++) {
    for (let tx = 0; tx < across; tx++) {
      const buf = level.data instanceof Float32Array ? new Float32Array(tile * rowSamples) : new Uint16Array(tile * rowSamples);
      const cols = Math.min(tile, level.width - tx * tile);
      for (let r = 0; r < Math.min(tile, level.height - ty * tile); r++) {
        const from = ((ty * tile + r) * level.width + tx * tile) * bands;
        buf.set(level.data.subarray(from, from + cols * bands), r * rowSamples);
      }
      if (predictor && buf instanceof Uint16Array) horizontalDifference(buf, rowSamples, bands);
      const bytes = predictor && buf instanceof Float32Array ? floatingPointDifference(buf, rowSamples, bands) : littleEndianBytes(buf);
      tiles.push(deflateSync(bytes, { level: deflateLevel }));
    }
  }
  return tiles;
}

// TIFF field types (TIFF 6.0 §2) and the size of one value of each, bytes.
const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const DOUBLE = 12;
const TYPE_BYTES: Record<number, number> = { [ASCII]: 1, [SHORT]: 2, [LONG]: 4, [DOUBLE]: 8 };

/** One IFD entry: tag, type and its values (an ASCII value is written with its terminating NUL). */
interface Field {
  tag: number;
  type: typeof ASCII | typeof SHORT | typeof LONG | typeof DOUBLE;
  values: readonly number[] | string;
}

function count(f: Field): number {
  return typeof f.values === 'string' ? f.values.length + 1 : f.values.length;
}

/** Bytes of the values that do not fit in the entry's 4-byte value field, rounded up to a word. */
function outOfLineBytes(f: Field): number {
  const n = count(f) * TYPE_BYTES[f.type]!;
  return n <= 4 ? 0 : n + (n % 2);
}

/** Size of an IFD (count, 12-byte entries, next-IFD offset) followed by its out-of-line values. */
function ifdBytes(fields: Field[]): number {
  return 2 + 12 * fields.length + 4 + fields.reduce((s, f) => s + outOfLineBytes(f), 0);
}

function putValue(view: DataView, at: number, type: number, v: number): void {
  if (type === SHORT) view.setUint16(at, v, true);
  else if (type === LONG) view.setUint32(at, v, true);
  else if (type === DOUBLE) view.setFloat64(at, v, true);
  else view.setUint8(at, v);
}

/**
 * Writes the IFD of `fields` (sorted by tag, as TIFF requires) at `at`, its out-of-line values right
 * after it, and `next` (the next IFD's offset, 0 for the last) as its link.
 */
function writeIfd(view: DataView, at: number, fields: Field[], next: number): void {
  const sorted = [...fields].sort((a, b) => a.tag - b.tag);
  view.setUint16(at, sorted.length, true);
  let extra = at + 2 + 12 * sorted.length + 4;
  sorted.forEach((f, i) => {
    const entry = at + 2 + 12 * i;
    const values = typeof f.values === 'string' ? [...Buffer.from(f.values + '\0', 'latin1')] : f.values;
    view.setUint16(entry, f.tag, true);
    view.setUint16(entry + 2, f.type, true);
    view.setUint32(entry + 4, values.length, true);
    let dst = entry + 8; // values of 4 bytes or less sit in the entry itself
    if (outOfLineBytes(f) > 0) {
      dst = extra;
      view.setUint32(entry + 8, dst, true);
      extra += outOfLineBytes(f);
    }
    values.forEach((v, k) => putValue(view, dst + k * TYPE_BYTES[f.type]!, f.type, v));
  });
  view.setUint32(at + 2 + 12 * sorted.length, next, true);
}

/** GeoTIFF 1.1 tags of the full-resolution image: pixel-is-area EPSG:4326, north-west tiepoint. */
function geoFields(raster: Raster): Field[] {
  const [minx, miny, maxx, maxy] = raster.bbox;
  const citation = 'WGS 84|';
  return [
    { tag: 33550, type: DOUBLE, values: [(maxx - minx) / raster.width, (maxy - miny) / raster.height, 0] }, // ModelPixelScale
    { tag: 33922, type: DOUBLE, values: [0, 0, 0, minx, maxy, 0] }, // ModelTiepoint: pixel (0, 0) ↔ (west, north)
    // GeoKeyDirectory: version 1.1.0, 4 keys — GTModelType geographic, GTRasterType pixel-is-area,
    // GeographicType 4326 and GeogCitation (in GeoAsciiParams, length including its '|').
    {
      tag: 34735,
      type: SHORT,
      values: [1, 1, 0, 4, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326, 2049, 34737, citation.length, 0],
    },
    { tag: 34737, type: ASCII, values: citation }, // GeoAsciiParams
  ];
}

/** The tags of one level's IFD but its TileOffsets and TileByteCounts. */
function levelFields(level: Level, raster: Raster, tile: number, overview: boolean, predictor: boolean): Field[] {
  const float = raster.data instanceof Float32Array;
  const bands = raster.bands;
  return [
    { tag: 254, type: LONG, values: [overview ? 1 : 0] }, // NewSubfileType: 1 = reduced resolution
    { tag: 256, type: LONG, values: [level.width] },
    { tag: 257, type: LONG, values: [level.height] },
    { tag: 258, type: SHORT, values: Array<number>(bands).fill(float ? 32 : 16) }, // BitsPerSample
    { tag: 259, type: SHORT, values: [8] }, // Compression: Adobe DEFLATE
    { tag: 262, type: SHORT, values: [1] }, // PhotometricInterpretation: BlackIsZero
    { tag: 277, type: SHORT, values: [bands] }, // SamplesPerPixel
    { tag: 284, type: SHORT, values: [1] }, // PlanarConfiguration: contiguous
    ...(predictor ? [{ tag: 317, type: SHORT, values: [float ? 3 : 2] } as Field] : []),
    { tag: 322, type: SHORT, values: [tile] }, // TileWidth
    { tag: 323, type: SHORT, values: [tile] }, // TileLength
    // Bands beyond the first of a grey-scale image are "unspecified" extra samples (TIFF 6.0, tag 338).
    ...(bands > 1 ? [{ tag: 338, type: SHORT, values: Array<number>(bands - 1).fill(0) } as Field] : []),
    { tag: 339, type: SHORT, values: Array<number>(bands).fill(float ? 3 : 1) }, // SampleFormat: IEEE float / uint
    { tag: 42113, type: ASCII, values: '0' }, // GDAL_NODATA
    ...(overview ? [] : geoFields(raster)),
  ];
}

/**
 * A Cloud-Optimized GeoTIFF of `raster` (layout and tags: see the file comment). The GeoTIFF bbox
 * is `raster.bbox` exactly (ModelTiepoint at its north-west corner, ModelPixelScale = bbox size /
 * raster size). Throws RangeError when the tile size is not a positive multiple of 16, the raster
 * is empty or does not match its `data` length, or the file would pass 4 GiB (classic TIFF's limit).
 */
export function encodeCog(raster: Raster, options: CogOptions = {}): Uint8Array<ArrayBuffer> {
  const { width, height, bands } = raster;
  const tile = options.tileSize ?? cogTileSize(width, height);
  const predictor = options.predictor ?? true;
  if (!(tile > 0 && tile % 16 === 0 && tile < 65_536)) throw new RangeError(`tile size ${tile} is not a positive multiple of 16`);
  if (!(width > 0 && height > 0 && bands > 0) || raster.data.length !== width * height * bands)
    throw new RangeError(`raster ${width} × ${height} × ${bands} does not match its ${raster.data.length} samples`);
  const levels = pyramid(raster, tile);
  const tiles = levels.map((l) => encodeTiles(l, bands, tile, predictor, options.deflateLevel ?? 6));
  const fieldsOf = (i: number, offsets: number[]): Field[] => [
    ...levelFields(levels[i]!, raster, tile, i > 0, predictor),
    { tag: 324, type: LONG, values: offsets }, // TileOffsets
    { tag: 325, type: LONG, values: tiles[i]!.map((t) => t.length) }, // TileByteCounts
  ];
  // Directories first: their sizes do not depend on the offsets they will hold.
  const ifdAt: number[] = [];
  let end = 8;
  for (let i = 0; i < levels.length; i++) {
    ifdAt.push(end);
    end += ifdBytes(fieldsOf(i, Array<number>(tiles[i]!.length).fill(0)));
  }
  // Then the tile data, smallest overview first, the full resolution last.
  const offsets: number[][] = levels.map(() => []);
  for (let i = levels.length - 1; i >= 0; i--) {
    for (const t of tiles[i]!) {
      offsets[i]!.push(end);
      end += t.length;
    }
  }
  // Classic TIFF offsets are 32-bit; the demo rasters are far below this (BigTIFF is not written).
  if (end > 0xffff_ffff) throw new RangeError(`a ${end}-byte COG needs BigTIFF`);
  const out = new Uint8Array(end);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49]); // "II": little-endian
  view.setUint16(2, 42, true);
  view.setUint32(4, ifdAt[0]!, true);
  for (let i = 0; i < levels.length; i++) {
    writeIfd(view, ifdAt[i]!, fieldsOf(i, offsets[i]!), ifdAt[i + 1] ?? 0);
    tiles[i]!.forEach((t, k) => out.set(t, offsets[i]![k]!));
  }
  return out;
}
