/**
 * The demo catalog generator: a sun-synchronous constellation that flies where such orbits fly,
 * items that look like its acquisitions (footprints, times, angles, cloud cover, gsd), real GeoTIFF
 * and PNG assets that read back with the item's bbox, and the benchmark NDJSON path.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fromArrayBuffer } from 'geotiff';
import { PNG } from 'pngjs';
import { assetPath, LST_RANGE_K, writeItemAssets } from '../../src/catalog/generate/assets.js';
import { benchCollectionSpecs, CONSTELLATION_EPOCH_MS, maxGsd } from '../../src/catalog/generate/collections.js';
import {
  EARTH,
  makeConstellation,
  ssoInclinationDeg,
  subSatellitePoint,
  trackPoint,
  type Satellite,
} from '../../src/catalog/generate/constellation.js';
import { distanceKm } from '../../src/catalog/generate/geo.js';
import {
  demoCatalog,
  demoCollections,
  generateItems,
  generateScenes,
  LST_SPEC,
  MS_SPEC,
  sceneToItem,
  type CollectionSpec,
} from '../../src/catalog/generate/items.js';
import { isLand } from '../../src/catalog/generate/landmask.js';
import { BENCH_WINDOW, formatRounded, sharedAssetItemSerializer, writeNdjson } from '../../src/catalog/generate/ndjson.js';
import type { StacItem } from '../../src/catalog/generate/stac.js';

const START = new Date('2025-03-01T00:00:00Z');
const END = new Date('2025-06-01T00:00:00Z');
const items = (collection: CollectionSpec, count: number, seed = 42, assets: 'files' | 'shared' | 'none' = 'files') => [
  ...generateItems({ collection, count, seed, start: START, end: END, assets }),
];

/** Twice the signed area of a ring (shoelace), deg²: positive when counter-clockwise. */
function signedArea(ring: number[][]): number {
  let a = 0;
  for (let i = 0; i + 1 < ring.length; i++) a += ring[i]![0]! * ring[i + 1]![1]! - ring[i + 1]![0]! * ring[i]![1]!;
  return a;
}

/** Local mean solar time at `lon` at `tMs`, hours in [0, 24). */
function localMeanTime(tMs: number, lon: number): number {
  return (((tMs / 3_600_000 + lon / 15) % 24) + 24) % 24;
}

/** Times (ms) at which the satellite crosses the equator going south, in [t0, t0 + spanMs), to 1 s. */
function descendingNodes(sat: Satellite, t0: number, spanMs: number): number[] {
  const out: number[] = [];
  let prev = subSatellitePoint(sat, t0)[1];
  for (let t = t0 + 10_000; t < t0 + spanMs; t += 10_000) {
    const lat = subSatellitePoint(sat, t)[1];
    if (prev > 0 && lat <= 0) {
      let lo = t - 10_000;
      let hi = t;
      while (hi - lo > 1000) {
        const mid = (lo + hi) / 2;
        if (subSatellitePoint(sat, mid)[1] > 0) lo = mid;
        else hi = mid;
      }
      out.push(hi);
    }
    prev = lat;
  }
  return out;
}

describe('sun-synchronous constellation model', () => {
  it('derives the inclination from the J2 sun-synchronous condition (real missions as anchors)', () => {
    assert.ok(Math.abs(ssoInclinationDeg(500) - 97.4) < 0.05, `500 km: ${ssoInclinationDeg(500)}`);
    assert.ok(Math.abs(ssoInclinationDeg(550) - 97.6) < 0.05, `550 km: ${ssoInclinationDeg(550)}`);
    // Published: Landsat 8 (705 km) 98.2°, Sentinel-2 (786 km) 98.62°; J2 alone lands within 0.1°.
    assert.ok(Math.abs(ssoInclinationDeg(705) - 98.2) < 0.1, `705 km: ${ssoInclinationDeg(705)}`);
    assert.ok(Math.abs(ssoInclinationDeg(786) - 98.62) < 0.1, `786 km: ${ssoInclinationDeg(786)}`);
    assert.throws(() => ssoInclinationDeg(0), RangeError);
    assert.throws(() => ssoInclinationDeg(7000), RangeError);
  });

  it('keeps the descending node at 10:30 local mean time through the year, with a Keplerian period', () => {
    for (const spec of [LST_SPEC, MS_SPEC]) {
      const sat = makeConstellation(spec.constellation)[0]!;
      for (const day of [Date.UTC(2025, 0, 10), Date.UTC(2025, 3, 20), Date.UTC(2025, 7, 1), Date.UTC(2025, 10, 15)]) {
        const nodes = descendingNodes(sat, day, 3 * 3_600_000);
        assert.ok(nodes.length >= 1, 'a descending node every orbit');
        for (const t of nodes) {
          const lmt = localMeanTime(t, subSatellitePoint(sat, t)[0]);
          assert.ok(Math.abs(lmt - 10.5) < 0.02, `${spec.id}: node at ${lmt.toFixed(3)} h local`);
        }
        if (nodes.length >= 2) {
          const periodS = (nodes[1]! - nodes[0]!) / 1000;
          const kepler = 2 * Math.PI * Math.sqrt(sat.semiMajorAxisKm ** 3 / EARTH.muKm3PerS2);
          assert.ok(Math.abs(periodS - kepler) < 30, `period ${periodS} s vs Kepler ${kepler.toFixed(0)} s`);
        }
      }
    }
  });

  it('reaches the latitude its inclination allows, and no further (max |lat| ≈ 180° − i)', () => {
    const sat = makeConstellation(MS_SPEC.constellation)[0]!;
    let north = -90;
    let south = 90;
    for (let t = Date.UTC(2025, 5, 1); t < Date.UTC(2025, 5, 1) + 2 * 5_700_000; t += 5_000) {
      const lat = subSatellitePoint(sat, t)[1];
      north = Math.max(north, lat);
      south = Math.min(south, lat);
    }
    const limit = 180 - sat.inclinationDeg;
    // Geodetic latitude exceeds the geocentric turning point 180° − i by < 0.1° there.
    assert.ok(north > limit - 0.05 && north < limit + 0.15, `north ${north} vs ${limit}`);
    assert.ok(-south > limit - 0.05 && -south < limit + 0.15, `south ${south} vs ${limit}`);
  });

  it('moves its sub-satellite point at ≈ 7 km/s, heading south-west on day passes', () => {
    const sat = makeConstellation(MS_SPEC.constellation)[0]!;
    for (let t = Date.UTC(2025, 1, 1); t < Date.UTC(2025, 1, 1) + 6_000_000; t += 600_000) {
      const [lon0, lat0] = subSatellitePoint(sat, t);
      const [lon1, lat1] = subSatellitePoint(sat, t + 10_000);
      const v = distanceKm(lon0, lat0, lon1, lat1) / 10;
      assert.ok(v > 6.8 && v < 7.3, `ground speed ${v} km/s`);
      const p = trackPoint(sat, t);
      if (Math.abs(p.lat) < 60 && p.orbitState === 'descending')
        assert.ok(p.headingDeg > 180 && p.headingDeg < 200, `heading ${p.headingDeg}`);
      if (Math.abs(p.lat) < 60 && p.orbitState === 'ascending')
        assert.ok(p.headingDeg > 340 && p.headingDeg < 360, `heading ${p.headingDeg}`);
    }
  });

  it('phases the satellites of one plane evenly (360°/N apart)', () => {
    const sats = makeConstellation(LST_SPEC.constellation);
    assert.deepEqual(
      sats.map((s) => s.platform),
      ['skyport-tir-1', 'skyport-tir-2', 'skyport-tir-3', 'skyport-tir-4'],
    );
    const t = Date.UTC(2025, 2, 3);
    const u = sats.map((s) => trackPoint(s, t).argumentOfLatitudeDeg);
    for (let k = 1; k < u.length; k++) assert.ok(Math.abs(u[k]! - u[k - 1]! - 90) < 1e-9);
  });
});

describe('generateItems', () => {
  const lst = items(LST_SPEC, 200);
  const ms = items(MS_SPEC, 200);

  it('is deterministic for a seed and differs between seeds', () => {
    assert.deepEqual(items(LST_SPEC, 200), lst);
    assert.deepEqual(items(MS_SPEC, 200), ms);
    const other = new Set(items(MS_SPEC, 200, 43).map((i) => i.id));
    assert.ok(ms.filter((i) => other.has(i.id)).length < 10, 'another seed, other scenes');
  });

  it('makes exactly `count` items with unique ids of the documented form', () => {
    assert.equal(lst.length, 200);
    assert.equal(ms.length, 200);
    const many = items(MS_SPEC, 3000, 7, 'none');
    assert.equal(new Set(many.map((i) => i.id)).size, 3000);
    for (const i of lst) assert.match(i.id, /^TIR_\d{8}T\d{6}_S[1-4]_T\d{4}$/);
    for (const i of ms) assert.match(i.id, /^MS_\d{8}T\d{6}_S[1-4]_T\d{4}$/);
    assert.equal(items(LST_SPEC, 0).length, 0);
  });

  it('writes valid closed counter-clockwise footprints of the scene size, with the matching bbox', () => {
    for (const [spec, list] of [
      [LST_SPEC, lst],
      [MS_SPEC, ms],
    ] as const) {
      for (const i of list) {
        assert.equal(i.geometry.type, 'Polygon');
        const ring = i.geometry.coordinates[0]!;
        assert.equal(ring.length, 5);
        assert.deepEqual(ring[4], ring[0]);
        assert.ok(signedArea(ring) > 0, `${i.id} is counter-clockwise`);
        const xs = ring.map((p) => p[0]);
        const ys = ring.map((p) => p[1]);
        assert.deepEqual(i.bbox, [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
        assert.ok(i.bbox[1] >= -60 && i.bbox[3] <= 75 && i.bbox[0] >= -180 && i.bbox[2] <= 180);
        // Sides: across track = width, along track = length (+2 % overlap), within 1 %.
        const across = distanceKm(ring[0]![0], ring[0]![1], ring[1]![0], ring[1]![1]);
        const along = distanceKm(ring[1]![0], ring[1]![1], ring[2]![0], ring[2]![1]);
        assert.ok(Math.abs(across / spec.sceneWidthKm - 1) < 0.01, `${i.id} across ${across}`);
        assert.ok(Math.abs(along / (spec.sceneLengthKm * 1.02) - 1) < 0.01, `${i.id} along ${along}`);
      }
    }
  });

  it('keeps datetimes in [start, end) and each satellite moving forward in time', () => {
    for (const list of [lst, ms]) {
      const last = new Map<string, number>();
      for (const i of list) {
        const t = Date.parse(i.properties.datetime);
        assert.ok(t >= START.getTime() && t < END.getTime(), i.properties.datetime);
        assert.ok(Date.parse(i.properties.created) > t && i.properties.updated === i.properties.created);
        assert.ok(t > (last.get(i.properties.platform) ?? -Infinity), `${i.id} after the previous scene of its satellite`);
        last.set(i.properties.platform, t);
      }
      // Spread over the window, not bunched: every month has scenes.
      for (const m of ['2025-03', '2025-04', '2025-05']) assert.ok(list.filter((i) => i.properties.datetime.startsWith(m)).length > 30, m);
    }
  });

  it('images optical scenes in daylight only, thermal ones day and night', () => {
    for (const i of ms) assert.ok(i.properties['view:sun_elevation'] > 10, `${i.id} sun ${i.properties['view:sun_elevation']}`);
    const night = lst.filter((i) => i.properties['view:sun_elevation'] < 0).length;
    assert.ok(night > 40 && night < 160, `thermal night scenes: ${night} of 200`);
    // Day passes are the descending (10:30) ones, night passes the ascending (22:30) ones.
    for (const i of lst.filter((x) => Math.abs(x.bbox[1]) < 50)) {
      assert.equal(i.properties['sat:orbit_state'], i.properties['view:sun_elevation'] > 0 ? 'descending' : 'ascending', i.id);
    }
  });

  it('fills plausible gsd, cloud cover and view angles', () => {
    for (const [spec, list, lo, hi] of [
      [MS_SPEC, ms, 3, 4],
      [LST_SPEC, lst, 30, 70],
    ] as const) {
      for (const i of list) {
        const p = i.properties;
        assert.ok(p.gsd >= lo && p.gsd <= hi && p.gsd >= spec.gsdNadirM && p.gsd <= maxGsd(spec) + 0.01, `${i.id} gsd ${p.gsd}`);
        assert.ok(p['eo:cloud_cover'] >= 0 && p['eo:cloud_cover'] <= 100);
        assert.ok(p['view:off_nadir'] >= 0 && p['view:off_nadir'] <= spec.maxOffNadirDeg);
        assert.ok(p['view:incidence_angle'] >= p['view:off_nadir'] && p['view:incidence_angle'] < p['view:off_nadir'] * 1.12 + 0.01);
        for (const k of ['view:azimuth', 'view:sun_azimuth'] as const) assert.ok(p[k] >= 0 && p[k] <= 360, `${k} ${p[k]}`);
        assert.equal(p.platform.startsWith(`${spec.constellation.id}-`), true);
        assert.equal(p.constellation, spec.constellation.id);
        assert.equal(p['proj:code'], 'EPSG:4326');
        assert.equal(p['processing:level'], spec.processingLevel);
        assert.ok(Number.isInteger(p['sat:absolute_orbit']) && p['sat:absolute_orbit'] > 40_000);
      }
    }
    // Many clear scenes and a long tail.
    const cc = [...ms, ...lst].map((i) => i.properties['eo:cloud_cover']);
    assert.ok(cc.filter((c) => c < 10).length > 0.3 * cc.length, 'many clear');
    assert.ok(cc.filter((c) => c > 60).length > 0.05 * cc.length, 'a long tail');
    // Mostly near nadir, some agile looks.
    const off = ms.map((i) => i.properties['view:off_nadir']);
    assert.ok(off.filter((o) => o < 10).length > 0.4 * off.length && off.some((o) => o > 18), `off-nadir ${off}`);
  });

  it('places consecutive frames of a strip ≈ 7 km/s apart along the track', () => {
    let pairs = 0;
    for (const list of [lst, ms]) {
      for (let k = 1; k < list.length; k++) {
        const a = list[k - 1]!;
        const b = list[k]!;
        const dt = (Date.parse(b.properties.datetime) - Date.parse(a.properties.datetime)) / 1000;
        if (a.properties.platform !== b.properties.platform || dt > 10) continue;
        const ca = [(a.bbox[0] + a.bbox[2]) / 2, (a.bbox[1] + a.bbox[3]) / 2] as const;
        const cb = [(b.bbox[0] + b.bbox[2]) / 2, (b.bbox[1] + b.bbox[3]) / 2] as const;
        const v = distanceKm(ca[0], ca[1], cb[0], cb[1]) / dt;
        assert.ok(v > 6.5 && v < 7.6, `${a.id} → ${b.id}: ${v.toFixed(2)} km/s`);
        pairs++;
      }
    }
    assert.ok(pairs > 100, `strips of consecutive frames: ${pairs} pairs`);
  });

  it('clusters scenes over land between 60°S and 75°N', () => {
    const centres = [...lst, ...ms].map((i) => [(i.bbox[0] + i.bbox[2]) / 2, (i.bbox[1] + i.bbox[3]) / 2] as const);
    const land = centres.filter(([x, y]) => isLand(x, y)).length;
    assert.ok(land > 0.85 * centres.length, `${land} of ${centres.length} on land`);
    // The mask itself: some well-known places.
    for (const [x, y] of [
      [2.35, 48.85],
      [-99.1, 19.4],
      [149.1, -35.3],
      [31.2, 30],
      [116.4, 39.9],
    ] as const)
      assert.ok(isLand(x, y), `${x},${y} land`);
    for (const [x, y] of [
      [-30, 30],
      [-150, 0],
      [80, -20],
      [-40, -45],
    ] as const)
      assert.ok(!isLand(x, y), `${x},${y} sea`);
  });

  it('declares its extensions and points assets at asset: hrefs, shared ones, or none', () => {
    const i = lst[0]!;
    assert.equal(i.stac_version, '1.1.0');
    assert.equal(i.type, 'Feature');
    assert.equal(i.collection, 'skyport-lst');
    for (const ext of ['eo/v2.0.0', 'view/v1.1.0', 'projection/v2.0.0', 'processing/v1.2.0', 'sat/v1.1.0'])
      assert.ok(i.stac_extensions.includes(`https://stac-extensions.github.io/${ext}/schema.json`), ext);
    assert.ok(i.links.some((l) => l.rel === 'collection'));
    assert.equal(i.assets.data!.href, `asset:skyport-lst/${i.id}/lst.tif`);
    assert.equal(i.assets.data!.type, 'image/tiff; application=geotiff; profile=cloud-optimized');
    assert.deepEqual(i.assets.data!.roles, ['data']);
    assert.equal(i.assets.thumbnail!.href, `asset:skyport-lst/${i.id}/thumbnail.png`);
    assert.deepEqual(i.assets.thumbnail!.roles, ['thumbnail']);
    assert.equal(ms[0]!.assets.data!.bands!.length, 4);
    const shared = items(MS_SPEC, 20, 42, 'shared');
    assert.equal(new Set(shared.map((s) => s.assets.data!.href)).size, 1);
    assert.equal(shared[0]!.assets.data!.href, 'asset:skyport-ms/_sample/reflectance.tif');
    assert.deepEqual(items(MS_SPEC, 5, 42, 'none')[0]!.assets, {});
  });

  it('refuses impossible requests instead of looping', () => {
    const gen = (count: number, start: Date, end: Date) => [
      ...generateItems({ collection: MS_SPEC, count, seed: 1, start, end, assets: 'none' }),
    ];
    assert.throws(() => gen(-1, START, END), RangeError);
    assert.throws(() => gen(1.5, START, END), RangeError);
    assert.throws(() => gen(1, END, START), RangeError);
    assert.throws(() => gen(1, new Date(CONSTELLATION_EPOCH_MS - 1000), END), RangeError);
    // Four satellites cannot take 10,000 frames in ten minutes.
    assert.throws(() => gen(10_000, START, new Date(START.getTime() + 600_000)), RangeError);
  });
});

describe('demo collections', () => {
  it('describe both products in full STAC 1.1.0 Collection metadata covering their items', () => {
    const cat = demoCatalog({ now: END, perCollection: 60, assets: 'none' });
    assert.deepEqual(
      cat.collections.map((c) => c.id),
      ['skyport-lst', 'skyport-ms'],
    );
    assert.equal(cat.items.length, 120);
    for (const c of cat.collections) {
      assert.equal(c.type, 'Collection');
      assert.equal(c.stac_version, '1.1.0');
      assert.equal(c.license, 'proprietary');
      assert.ok(c.providers.length > 0 && c.keywords.length > 0 && c.description.length > 50);
      assert.deepEqual(Object.keys(c.item_assets).sort(), ['data', 'thumbnail']);
      const [w, s, e, n] = c.extent.spatial.bbox[0]!;
      const [t0, t1] = c.extent.temporal.interval[0]!;
      const gsd = c.summaries.gsd as { minimum: number; maximum: number };
      const platforms = c.summaries.platform as string[];
      for (const i of cat.items.filter((x) => x.collection === c.id)) {
        assert.ok(i.bbox[0] >= w && i.bbox[1] >= s && i.bbox[2] <= e && i.bbox[3] <= n, `${i.id} inside the spatial extent`);
        assert.ok(i.properties.datetime >= t0! && i.properties.datetime < t1!, `${i.id} inside the temporal extent`);
        assert.ok(i.properties.gsd >= gsd.minimum && i.properties.gsd <= gsd.maximum);
        assert.ok(platforms.includes(i.properties.platform));
      }
    }
    const lstBands = demoCollections()[0]!.summaries.bands as { unit: string }[];
    assert.equal(lstBands[0]!.unit, 'K');
    assert.equal(demoCollections()[0]!.extent.temporal.interval[0]![1], null);
  });
});

describe('writeItemAssets', () => {
  let dir: string;
  const demo = [...items(LST_SPEC, 100, 5), ...items(MS_SPEC, 100, 5)];
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skyport-demo-assets-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes a first start’s ~200 items of GeoTIFF + PNG assets quickly', async () => {
    const t0 = performance.now();
    for (const i of demo) await writeItemAssets(i, dir);
    const ms = performance.now() - t0;
    console.log(`# assets for ${demo.length} items: ${ms.toFixed(0)} ms`);
  });

  async function readTiff(item: StacItem) {
    const buf = await readFile(assetPath(dir, item.assets.data!.href));
    const tiff = await fromArrayBuffer(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const image = await tiff.getImage();
    const rasters = (await image.readRasters()) as unknown as ArrayLike<number>[];
    return { image, rasters };
  }

  it('writes GeoTIFFs that read back with the item bbox, EPSG:4326 and plausible values', async () => {
    for (const item of [demo[0]!, demo[57]!, demo[100]!, demo[180]!]) {
      const { image, rasters } = await readTiff(item);
      assert.deepEqual(item.assets.data!['proj:shape'], [128, 128]);
      assert.equal(image.getWidth(), 128);
      assert.equal(image.getHeight(), 128);
      const bbox = image.getBoundingBox();
      for (let k = 0; k < 4; k++) assert.ok(Math.abs(bbox[k]! - item.bbox[k]!) < 1e-9, `bbox ${bbox} vs ${item.bbox}`);
      assert.equal(image.getGeoKeys()?.GeographicTypeGeoKey, 4326);
      assert.equal(image.getGDALNoData(), 0);
      const isLst = item.collection === 'skyport-lst';
      assert.equal(image.getSamplesPerPixel(), isLst ? 1 : 4);
      assert.equal(rasters.length, isLst ? 1 : 4);
      const first = Array.from(rasters[0]!);
      const valid = first.filter((v) => v !== 0);
      // Nodata outside the rotated footprint: the valid share is the footprint's share of its bbox.
      const ring = item.geometry.coordinates[0]!;
      const share = signedArea(ring) / 2 / ((item.bbox[2] - item.bbox[0]) * (item.bbox[3] - item.bbox[1]));
      assert.ok(Math.abs(valid.length / first.length - share) < 0.05, `valid ${valid.length / first.length} vs ${share}`);
      if (isLst) {
        for (const v of valid) assert.ok(v >= LST_RANGE_K.min && v <= LST_RANGE_K.max, `LST ${v}`);
        assert.ok(Math.max(...valid) - Math.min(...valid) > 3, 'a textured field, not a constant');
      } else {
        for (const band of rasters) for (const v of Array.from(band)) assert.ok(v >= 0 && v <= 10_000);
      }
    }
  });

  it('covers the share of pixels the item’s eo:cloud_cover says with bright clouds', async () => {
    const cloudy = demo.filter((i) => i.collection === 'skyport-ms' && i.properties['eo:cloud_cover'] > 20).slice(0, 3);
    assert.ok(cloudy.length > 0);
    for (const item of cloudy) {
      const { rasters } = await readTiff(item);
      const blue = Array.from(rasters[0]!);
      const inside = blue.filter((v) => v !== 0);
      // Clear land is darker than 0.15 in blue; clouds are ≈ 0.6.
      const bright = inside.filter((v) => v > 3000).length / inside.length;
      assert.ok(
        Math.abs(bright * 100 - item.properties['eo:cloud_cover']) < 12,
        `${item.id}: ${bright * 100} % vs ${item.properties['eo:cloud_cover']}`,
      );
    }
  });

  it('writes PNG thumbnails that decode: twice the raster size, nodata transparent', async () => {
    for (const item of [demo[3]!, demo[150]!]) {
      const png = PNG.sync.read(await readFile(assetPath(dir, item.assets.thumbnail!.href)));
      assert.equal(png.width, 256);
      assert.equal(png.height, 256);
      let opaque = 0;
      let transparent = 0;
      const colours = new Set<number>();
      for (let k = 0; k < png.data.length; k += 4) {
        if (png.data[k + 3] === 255) opaque++;
        else if (png.data[k + 3] === 0) transparent++;
        colours.add(png.data.readUInt32BE(k));
      }
      assert.equal(opaque + transparent, 256 * 256);
      assert.ok(opaque > transparent && transparent > 0, `${opaque} opaque, ${transparent} transparent`);
      assert.ok(colours.size > 20, 'a rendering, not a flat fill');
    }
  });

  it('writes nothing for items without asset: hrefs and refuses paths out of the root', async () => {
    await writeItemAssets(items(LST_SPEC, 1, 9, 'none')[0]!, dir);
    assert.throws(() => assetPath(dir, 'asset:../etc/passwd'), /unsafe/);
    assert.throws(() => assetPath(dir, 'asset:/etc/passwd'), /unsafe/);
    assert.throws(() => assetPath(dir, 'asset:a//b'), /unsafe/);
    assert.throws(() => assetPath(dir, 'https://example.org/x.tif'), /not an asset/);
    assert.equal(assetPath(dir, 'asset:skyport-lst/x/lst.tif'), path.join(dir, 'skyport-lst', 'x', 'lst.tif'));
  });
});

describe('writeNdjson (benchmark catalogs)', () => {
  it('serialises exactly as JSON.stringify of the Item, fast', () => {
    for (const spec of benchCollectionSpecs(2)) {
      const serialize = sharedAssetItemSerializer(spec);
      for (const scene of generateScenes(spec, 2000, 11, BENCH_WINDOW.start.getTime(), BENCH_WINDOW.end.getTime())) {
        assert.equal(serialize(scene), JSON.stringify(sceneToItem(spec, scene, 'shared')));
      }
    }
    for (const x of [0, -0, 1, -1, 0.5, -0.25, 12.34, -179.999999, 0.000001, -0.000001, 179.1, 1e6 + 0.5, 3.000001]) {
      for (const d of [2, 6]) {
        const r = Math.round(x * 10 ** d) / 10 ** d;
        assert.equal(formatRounded(r, d), JSON.stringify(r), `${x} to ${d}`);
      }
    }
  });

  it('writes N valid items over 5 collections, worldwide, 10–20 km, two years; prints its rate', async () => {
    const n = 30_000;
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const t0 = performance.now();
    const result = await writeNdjson(sink, { items: n, collections: 5, seed: 1 });
    const s = (performance.now() - t0) / 1000;
    console.log(`# ndjson: ${n} items in ${s.toFixed(2)} s = ${Math.round(n / s)} items/s`);
    const lines = chunks.join('').split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, n);
    assert.equal(result.items, n);
    assert.deepEqual(
      result.collections.map((c) => c.id),
      ['skyport-bench-1', 'skyport-bench-2', 'skyport-bench-3', 'skyport-bench-4', 'skyport-bench-5'],
    );
    const specs = new Map(benchCollectionSpecs(5).map((c) => [c.id, c]));
    const ids = new Set<string>();
    const perCollection = new Map<string, number>();
    const width = new Map<string, number>();
    const sectors = new Set<number>();
    let north = 0;
    for (const line of lines) {
      const item = JSON.parse(line) as StacItem;
      const spec = specs.get(item.collection)!;
      assert.equal(item.type, 'Feature');
      ids.add(item.id);
      perCollection.set(item.collection, (perCollection.get(item.collection) ?? 0) + 1);
      const t = Date.parse(item.properties.datetime);
      assert.ok(t >= BENCH_WINDOW.start.getTime() && t < BENCH_WINDOW.end.getTime());
      assert.equal(item.assets.data!.href, `asset:${spec.id}/_sample/${spec.dataAsset.file}`);
      const r = item.geometry.coordinates[0]!;
      assert.equal(r.length, 5);
      width.set(item.collection, distanceKm(r[0]![0], r[0]![1], r[1]![0], r[1]![1]));
      sectors.add(Math.floor((item.bbox[0] + 180) / 45));
      if (item.bbox[1] > 0) north++;
    }
    assert.equal(ids.size, n, 'ids unique across collections');
    for (const c of result.collections) assert.equal(perCollection.get(c.id), n / 5);
    const widths = result.collections.map((c) => width.get(c.id)!);
    for (const [k, w] of widths.entries()) assert.ok(Math.abs(w - (10 + 2.5 * k)) < 0.2, `footprint widths ${widths}`);
    assert.equal(sectors.size, 8, 'every 45° of longitude has scenes');
    assert.ok(north > 0.5 * n && north < 0.9 * n, `${north} in the north (more land there)`);
    // Datetimes span the two years.
    const first = JSON.parse(lines[0]!) as StacItem;
    const last = JSON.parse(lines[n - 1]!) as StacItem;
    assert.ok(first.properties.datetime < '2024-01-02' && last.properties.datetime > '2025-12-30');
  });
});
