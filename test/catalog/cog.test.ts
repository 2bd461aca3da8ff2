/**
 * The Cloud-Optimized GeoTIFF writer (src/catalog/generate/cog.ts): geotiff.js reads back the values,
 * georeferencing, nodata and overviews; the byte layout follows the COG rules (IFDs first, then the
 * tile data from the smallest overview to the full resolution); and a reader served by Skyport's
 * protected asset route reads a window with range requests, fetching a small part of the file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromArrayBuffer, fromUrl, type GeoTIFFImage } from 'geotiff';
import type { Raster } from '../../src/catalog/generate/assets.js';
import { cogTileSize, encodeCog } from '../../src/catalog/generate/cog.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { bearer, tokenFor } from '../helpers/http.js';

/** Deterministic pseudo-random in [0, 1) from an integer (a 32-bit mix). */
function rand(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * A synthetic raster: a gradient plus noise, nodata (0) in a triangle at the north-west corner, so
 * edges, nodata and every tile differ. UInt16 reflectance in `bands` bands, or Float32 LST.
 */
function synthetic(width: number, height: number, kind: 'lst' | 'reflectance', bands = kind === 'lst' ? 1 : 4): Raster {
  const data = kind === 'lst' ? new Float32Array(width * height * bands) : new Uint16Array(width * height * bands);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      if (r + c < Math.min(width, height) / 3) continue;
      for (let b = 0; b < bands; b++) {
        const i = (r * width + c) * bands + b;
        data[i] =
          kind === 'lst' ? 260 + (40 * c) / width + 30 * rand(i) : 1 + ((r * 7 + c * 3 + b * 1000) % 9000) + Math.floor(500 * rand(i));
      }
    }
  }
  return { kind, width, height, bands, bbox: [10.25, 45.5, 10.75, 45.9], data };
}

async function open(bytes: Uint8Array) {
  return fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

async function interleaved(image: GeoTIFFImage, window?: number[]): Promise<ArrayLike<number>> {
  return (await image.readRasters({ interleave: true, ...(window ? { window } : {}) })) as unknown as ArrayLike<number>;
}

/** The overview pixel the writer should produce: mean of the valid samples of its 2 × 2 block (0 if none), and their count. */
function expectedMean(parent: { width: number; height: number; data: ArrayLike<number> }, bands: number, r: number, c: number, b: number) {
  const vals: number[] = [];
  for (const rr of [2 * r, Math.min(2 * r + 1, parent.height - 1)])
    for (const cc of [2 * c, Math.min(2 * c + 1, parent.width - 1)]) vals.push(parent.data[(rr * parent.width + cc) * bands + b]!);
  const valid = vals.filter((v) => v !== 0);
  return { mean: valid.length ? valid.reduce((a, v) => a + v, 0) / valid.length : 0, valid: valid.length };
}

describe('encodeCog: geotiff.js reads it back', () => {
  for (const [kind, width, height] of [
    ['lst', 512, 512],
    ['reflectance', 300, 200],
    ['reflectance', 40, 40],
  ] as const) {
    it(`${kind} ${width} × ${height}: values, georeferencing, nodata, tiles and halving overviews`, async () => {
      const raster = synthetic(width, height, kind);
      const tiff = await open(encodeCog(raster));
      const full = await tiff.getImage(0);
      assert.equal(full.getWidth(), width);
      assert.equal(full.getHeight(), height);
      assert.equal(full.getSamplesPerPixel(), raster.bands);
      assert.deepEqual(Array.from(await interleaved(full)), Array.from(raster.data));
      const [minx, miny, maxx, maxy] = raster.bbox;
      const bbox = full.getBoundingBox();
      for (let k = 0; k < 4; k++) assert.ok(Math.abs(bbox[k]! - raster.bbox[k]!) < 1e-12, `bbox ${bbox} vs ${raster.bbox}`);
      const [rx, ry] = full.getResolution();
      assert.ok(Math.abs(rx! - (maxx - minx) / width) < 1e-15 && Math.abs(ry! + (maxy - miny) / height) < 1e-15);
      const keys = full.getGeoKeys()!;
      assert.equal(keys.GTModelTypeGeoKey, 2);
      assert.equal(keys.GTRasterTypeGeoKey, 1);
      assert.equal(keys.GeographicTypeGeoKey, 4326);
      assert.equal(keys.GeogCitationGeoKey, 'WGS 84');
      assert.equal(full.getGDALNoData(), 0);
      const tile = cogTileSize(width, height);
      assert.equal(full.getTileWidth(), tile);
      assert.equal(full.getTileHeight(), tile);
      assert.equal(tile % 16, 0);
      const dir = full.fileDirectory;
      assert.equal(await dir.loadValue('Compression'), 8);
      assert.equal(await dir.loadValue('PlanarConfiguration'), 1);
      assert.equal(await dir.loadValue('Predictor'), kind === 'lst' ? 3 : 2);
      assert.ok(!(await dir.loadValue('NewSubfileType')));

      // Overviews: each half the previous (rounded up) until one fits in a tile; values are block means.
      const count = await tiff.getImageCount();
      let parent: { width: number; height: number; data: ArrayLike<number> } = { width, height, data: raster.data };
      for (let i = 1; i < count; i++) {
        const ov = await tiff.getImage(i);
        assert.equal(await ov.fileDirectory.loadValue('NewSubfileType'), 1);
        assert.equal(ov.getWidth(), Math.ceil(parent.width / 2));
        assert.equal(ov.getHeight(), Math.ceil(parent.height / 2));
        assert.equal(ov.getTileWidth(), tile);
        assert.equal(ov.getGDALNoData(), 0);
        const data = await interleaved(ov);
        let mixed = 0; // blocks with both nodata and valid samples: their mean must skip the nodata
        for (let r = 0; r < ov.getHeight(); r++) {
          for (let c = 0; c < ov.getWidth(); c++) {
            for (let b = 0; b < raster.bands; b++) {
              const { mean, valid } = expectedMean(parent, raster.bands, r, c, b);
              if (valid > 0 && valid < 4) mixed++;
              const want = kind === 'lst' ? mean : Math.round(mean);
              const got = data[(r * ov.getWidth() + c) * raster.bands + b]!;
              if (Math.abs(got - want) > 1e-3) assert.fail(`overview ${i} (${r}, ${c}) band ${b}: ${got} vs ${want}`);
            }
          }
        }
        assert.ok(mixed > 0, 'some blocks straddle the nodata edge');
        parent = { width: ov.getWidth(), height: ov.getHeight(), data };
      }
      const last = await tiff.getImage(count - 1);
      assert.ok(last.getWidth() <= tile && last.getHeight() <= tile, 'the smallest level fits one tile');
      if (count > 1) {
        const before = await tiff.getImage(count - 2);
        assert.ok(before.getWidth() > tile || before.getHeight() > tile, 'no overview beyond one tile');
      }
      assert.ok(Math.max(width, height) <= 16 || count >= 2, 'rasters over 16 px have at least one overview');
    });
  }

  it('reads back without the predictor and refuses tile sizes that are not multiples of 16', async () => {
    const raster = synthetic(100, 100, 'lst');
    const image = await (await open(encodeCog(raster, { predictor: false, tileSize: 32 }))).getImage();
    assert.equal(await image.fileDirectory.loadValue('Predictor'), undefined);
    assert.equal(image.getTileWidth(), 32);
    const window = await interleaved(image, [30, 40, 70, 90]);
    for (let r = 0; r < 50; r++) for (let c = 0; c < 40; c++) assert.equal(window[r * 40 + c], raster.data[(40 + r) * 100 + 30 + c]);
    assert.throws(() => encodeCog(raster, { tileSize: 100 }), RangeError);
    assert.throws(() => encodeCog({ ...raster, width: 99 }), RangeError);
  });
});

/** Every IFD of a little-endian classic TIFF, parsed here without geotiff.js. */
function parseIfds(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint16(0, true), 0x4949, 'II');
  assert.equal(view.getUint16(2, true), 42);
  const size: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 12: 8 };
  const ifds: { start: number; end: number; offsets: number[]; counts: number[] }[] = [];
  for (let at = view.getUint32(4, true); at !== 0;) {
    const n = view.getUint16(at, true);
    let end = at + 2 + 12 * n + 4;
    const tags = new Map<number, number[]>();
    for (let k = 0; k < n; k++) {
      const e = at + 2 + 12 * k;
      const [tag, type, count] = [view.getUint16(e, true), view.getUint16(e + 2, true), view.getUint32(e + 4, true)];
      const bytesOf = count * size[type]!;
      const valueAt = bytesOf <= 4 ? e + 8 : view.getUint32(e + 8, true);
      if (bytesOf > 4) end = Math.max(end, valueAt + bytesOf);
      const read = (i: number) => (type === 3 ? view.getUint16(valueAt + 2 * i, true) : view.getUint32(valueAt + 4 * i, true));
      if (type === 3 || type === 4)
        tags.set(
          tag,
          Array.from({ length: count }, (_, i) => read(i)),
        );
    }
    ifds.push({ start: at, end, offsets: tags.get(324)!, counts: tags.get(325)! });
    at = view.getUint32(at + 2 + 12 * n, true);
  }
  return ifds;
}

describe('encodeCog: COG layout', () => {
  for (const [kind, size] of [
    ['reflectance', 700],
    ['lst', 128],
  ] as const) {
    it(`${kind} ${size} px: IFDs first, then the smallest overview's tiles … the full resolution's, ascending`, () => {
      const bytes = encodeCog(synthetic(size, size, kind));
      const ifds = parseIfds(bytes);
      assert.ok(ifds.length >= 2, `${ifds.length} levels`);
      const headerEnd = Math.max(...ifds.map((i) => i.end));
      const firstTile = Math.min(...ifds.flatMap((i) => i.offsets));
      assert.ok(headerEnd <= firstTile, `IFDs end at ${headerEnd}, tile data starts at ${firstTile}`);
      for (let i = 1; i < ifds.length; i++) assert.ok(ifds[i]!.start > ifds[i - 1]!.start, 'full resolution IFD first');
      for (const ifd of ifds) {
        assert.equal(ifd.offsets.length, ifd.counts.length);
        for (let k = 1; k < ifd.offsets.length; k++) assert.ok(ifd.offsets[k]! > ifd.offsets[k - 1]!, 'ascending within a level');
        for (let k = 0; k < ifd.offsets.length; k++) assert.ok(ifd.counts[k]! > 0 && ifd.offsets[k]! + ifd.counts[k]! <= bytes.length);
      }
      // Level i+1 (smaller) lies wholly before level i; the full resolution ends the file.
      const span = (i: number) => ({
        first: Math.min(...ifds[i]!.offsets),
        end: Math.max(...ifds[i]!.offsets.map((o, k) => o + ifds[i]!.counts[k]!)),
      });
      for (let i = 0; i + 1 < ifds.length; i++) assert.ok(span(i + 1).end <= span(i).first, `level ${i + 1} before level ${i}`);
      assert.equal(span(0).end, bytes.length);
      // No gaps: everything after the header is tile data.
      const tileBytes = ifds.flatMap((i) => i.counts).reduce((a, n) => a + n, 0);
      assert.equal(tileBytes, bytes.length - firstTile);
    });
  }
});

describe('a COG served by Skyport, read by window over HTTP ranges', () => {
  let s: TestServer;
  let t: string;
  let file: Uint8Array;
  const raster = synthetic(1024, 1024, 'lst');
  const url = () => `${s.url}/collections/cogs/items/big/assets/data`;

  before(async () => {
    s = await startServer();
    const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
    file = encodeCog(raster);
    mkdirSync(path.join(s.config.assetsDir, 'cogs', 'big'), { recursive: true });
    writeFileSync(path.join(s.config.assetsDir, 'cogs', 'big', 'lst.tif'), file);
    const body = { type: 'Collection', id: 'cogs', stac_version: '1.0.0', description: 'd', license: 'proprietary', extent: {}, links: [] };
    await s.skyport.storage.upsertCollection({ id: 'cogs', access: 'private', ownerOrgId: demo.id, body, updatedAt: 1 });
    const asset = { href: 'asset:cogs/big/lst.tif', type: 'image/tiff; application=geotiff; profile=cloud-optimized' };
    const item = { type: 'Feature', stac_version: '1.0.0', id: 'big', collection: 'cogs', geometry: null, links: [] };
    await s.skyport.storage.upsertItems([
      { collection: 'cogs', id: 'big', item: { ...item, properties: { datetime: '2024-01-01T00:00:00Z' }, assets: { data: asset } } },
    ]);
    t = await tokenFor(s.url, s.creds['read-only']);
  });
  after(() => s.close());

  it('reads a window with a few range requests, a small share of the file, with the right values', async () => {
    // Count what the server sends to this URL while geotiff.js reads (it uses the global fetch).
    const seen: { status: number; bytes: number }[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const res = await realFetch(input, init);
      if (String(input instanceof Request ? input.url : input) === url())
        seen.push({ status: res.status, bytes: Number(res.headers.get('content-length')) });
      return res;
    };
    let values: ArrayLike<number>;
    let full: GeoTIFFImage;
    try {
      const tiff = await fromUrl(url(), { headers: bearer(t) });
      full = await tiff.getImage();
      values = await interleaved(full, [600, 300, 640, 330]);
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.equal(full.getWidth(), 1024);
    assert.equal(full.getTileWidth(), 256);
    for (let r = 0; r < 30; r++) for (let c = 0; c < 40; c++) assert.equal(values[r * 40 + c], raster.data[(300 + r) * 1024 + 600 + c]);
    const sent = seen.reduce((a, x) => a + x.bytes, 0);
    console.log(`# window read: ${seen.length} requests, ${sent} of ${file.length} bytes (${((100 * sent) / file.length).toFixed(1)} %)`);
    assert.ok(seen.length >= 2 && seen.length <= 6, `${seen.length} requests`);
    for (const x of seen) assert.equal(x.status, 206, 'every read is a range');
    assert.ok(sent < file.length / 8, `${sent} of ${file.length} bytes`);
  });

  it('refuses the reader without a token', async () => {
    await assert.rejects(fromUrl(url()));
  });
});
