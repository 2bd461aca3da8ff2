/**
 * Benchmark catalogs as newline-delimited JSON (one STAC Item per line): any number of items over a
 * few collections, written straight to a stream with no per-item files (every item's assets point at
 * its collection's one shared sample). Items come from the same constellation model as the demo.
 */
import { generateScenes, itemAssets, itemId, ITEM_EXTENSIONS, ITEM_LINKS, type Scene } from './items.js';
import { benchCollectionSpecs, gsdAt, toStacCollection, type CollectionSpec } from './collections.js';
import { STAC_VERSION, type StacCollection } from './stac.js';

/** The default benchmark window: two years. */
export const BENCH_WINDOW = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2026-01-01T00:00:00Z') } as const;

/** Options of `writeNdjson`. */
export interface NdjsonOptions {
  /** Total number of items, split as evenly as possible over the collections. */
  items: number;
  /** Number of collections (`skyport-bench-1 …`), default 5. */
  collections?: number;
  seed: number;
  /** Acquisition window, default BENCH_WINDOW. */
  start?: Date;
  end?: Date;
}

/** The part of a Node writable stream `writeNdjson` needs (a `fs.WriteStream`, `process.stdout`, a socket…). */
export interface LineSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * A serialiser giving exactly `JSON.stringify(sceneToItem(spec, scene, 'shared'))` (same text, same
 * key order), about twice as fast: what every item of the collection shares (extensions, links, the
 * shared assets) is encoded once, and the rest is written without building the Item object.
 */
export function sharedAssetItemSerializer(spec: CollectionSpec): (scene: Scene) => string {
  const j = JSON.stringify;
  const head = `{"type":"Feature","stac_version":${j(STAC_VERSION)},"stac_extensions":${j(ITEM_EXTENSIONS)},"id":`;
  const geometry = `,"collection":${j(spec.id)},"geometry":{"type":"Polygon","coordinates":[`;
  const fixed = `"constellation":${j(spec.constellation.id)},"instruments":${j(spec.instruments)},"gsd":`;
  const processing = `,"proj:code":"EPSG:4326","processing:level":${j(spec.processingLevel)},"sat:orbit_state":"`;
  const tail = `},"links":${j(ITEM_LINKS)},"assets":${j(itemAssets(spec, '', [0, 0, 0, 0], 'shared'))}}`;
  const f6 = (x: number) => formatRounded(x, 6);
  const f2 = (x: number) => formatRounded(x, 2);
  return (scene) => {
    const iso = new Date(scene.timeMs).toISOString();
    const created = new Date(scene.timeMs + scene.latencyMs).toISOString();
    const r = scene.ring;
    const b = scene.bbox;
    return (
      `${head}${j(itemId(spec, scene, iso))}${geometry}` +
      `[[${f6(r[0]![0])},${f6(r[0]![1])}],[${f6(r[1]![0])},${f6(r[1]![1])}],[${f6(r[2]![0])},${f6(r[2]![1])}],` +
      `[${f6(r[3]![0])},${f6(r[3]![1])}],[${f6(r[4]![0])},${f6(r[4]![1])}]]]},` +
      `"bbox":[${f6(b[0])},${f6(b[1])},${f6(b[2])},${f6(b[3])}],"properties":{"datetime":"${iso}","created":"${created}","updated":"${created}",` +
      `"platform":${j(scene.satellite.platform)},${fixed}${f2(gsdAt(spec, scene.incidenceDeg))},` +
      `"eo:cloud_cover":${f2(scene.cloudCover)},"view:off_nadir":${f2(scene.offNadirDeg)},` +
      `"view:incidence_angle":${f2(scene.incidenceDeg)},"view:azimuth":${f2(scene.viewAzimuthDeg)},` +
      `"view:sun_elevation":${f2(scene.sunElevationDeg)},"view:sun_azimuth":${f2(scene.sunAzimuthDeg)}` +
      `${processing}${scene.track.orbitState}","sat:absolute_orbit":${scene.track.absoluteOrbit}${tail}`
    );
  };
}

const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/**
 * `JSON.stringify(x)` for an `x` already rounded to `decimals` (≤ 6) places, with integer arithmetic
 * (about twice as fast as the engine's shortest-round-trip double formatting, which it equals for
 * such values: both print the decimal k / 10^decimals without trailing zeros).
 */
export function formatRounded(x: number, decimals: number): string {
  const p = POW10[decimals]!;
  const n = Math.round(x * p);
  const a = n < 0 ? -n : n;
  const int = Math.floor(a / p);
  let frac = a - int * p;
  const whole = n < 0 ? `-${int}` : `${int}`;
  if (frac === 0) return n === 0 ? '0' : whole;
  let digits = decimals;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  const f = `${frac}`;
  return `${whole}.${'0'.repeat(digits - f.length)}${f}`;
}

/** Bytes gathered before each write to the stream. */
const CHUNK_CHARS = 1 << 20;

/**
 * Writes `items` STAC Items as NDJSON to `sink`, collections interleaved one item at a time, each
 * collection's items in time order; honours back-pressure (waits for `drain`). Footprints are
 * 10–20 km (by collection), worldwide over land-ish latitudes, datetimes over the window. Resolves
 * to the Collections the items belong to (with the window as temporal extent) and the item count.
 * Throws RangeError for a bad item or collection count or window (see `generateScenes`).
 */
export async function writeNdjson(sink: LineSink, opts: NdjsonOptions): Promise<{ items: number; collections: StacCollection[] }> {
  if (!(Number.isInteger(opts.items) && opts.items >= 0)) throw new RangeError(`items must be a non-negative integer, got ${opts.items}`);
  const start = opts.start ?? BENCH_WINDOW.start;
  const end = opts.end ?? BENCH_WINDOW.end;
  const specs = benchCollectionSpecs(opts.collections ?? 5);
  const iterators = specs.map((spec, k) => {
    const count = Math.floor(opts.items / specs.length) + (k < opts.items % specs.length ? 1 : 0);
    return { serialize: sharedAssetItemSerializer(spec), scenes: generateScenes(spec, count, opts.seed, start.getTime(), end.getTime()) };
  });
  let chunk = '';
  let written = 0;
  const flush = async () => {
    if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', resolve));
    chunk = '';
  };
  for (let live = iterators; live.length > 0;) {
    const next: typeof live = [];
    for (const it of live) {
      const r = it.scenes.next();
      if (r.done) continue;
      chunk += it.serialize(r.value) + '\n';
      written++;
      next.push(it);
      if (chunk.length >= CHUNK_CHARS) await flush();
    }
    live = next;
  }
  if (chunk) await flush();
  const temporal: [string, string] = [start.toISOString(), end.toISOString()];
  return { items: written, collections: specs.map((s) => toStacCollection(s, temporal)) };
}
