// The benchmark catalog: `writeNdjson` items written to one NDJSON file, with a seeded sample of the
// items taken on the way (their footprints and times seed the searches, so every search hits data).
import { createWriteStream, statSync } from 'node:fs';
import { writeNdjson } from '../../src/catalog/generate/ndjson.js';
import { mulberry32 } from '../../src/catalog/generate/prng.js';
import type { StacCollection } from '../../src/catalog/generate/stac.js';

/** One sampled item: what a search around it needs. bbox in degrees, datetime in epoch ms. */
export interface SampledItem {
  collection: string;
  id: string;
  bbox: [number, number, number, number];
  datetime: number;
}

/** The generated catalog on disk. */
export interface Dataset {
  file: string;
  items: number;
  bytes: number;
  collections: StacCollection[];
  samples: SampledItem[];
  /** Wall time of generation and writing, s. */
  seconds: number;
}

/** `count` distinct line numbers in [0, n), ascending, from `seed`. */
function sampleIndices(n: number, count: number, seed: number): number[] {
  const rng = mulberry32(seed ^ 0x5eed);
  const picked = new Set<number>();
  const want = Math.min(count, n);
  while (picked.size < want) picked.add(Math.floor(rng() * n));
  return [...picked].sort((a, b) => a - b);
}

/**
 * Writes `items` generated STAC Items (5 collections, 2024–2025, worldwide) to `file` as NDJSON and
 * returns them with `sampleCount` items sampled at seeded positions; the sample is shuffled the same
 * way for the same seed. Throws when the generator or the file fails.
 */
export async function generateDataset(file: string, items: number, seed: number, sampleCount: number): Promise<Dataset> {
  const wanted = sampleIndices(items, sampleCount, seed);
  const samples: SampledItem[] = [];
  let line = 0;
  let next = 0;
  const out = createWriteStream(file);
  const opened = new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
  await opened;
  const sink = {
    write(chunk: string): boolean {
      // Chunks are whole lines (the generator flushes at line ends): pick out the wanted ones.
      let at = 0;
      while (next < wanted.length) {
        const end = chunk.indexOf('\n', at);
        if (end < 0) break;
        if (line === wanted[next]) {
          const item = JSON.parse(chunk.slice(at, end)) as {
            id: string;
            collection: string;
            bbox: number[];
            properties: { datetime: string };
          };
          const [w, s, e, n] = item.bbox as [number, number, number, number];
          samples.push({ collection: item.collection, id: item.id, bbox: [w, s, e, n], datetime: Date.parse(item.properties.datetime) });
          next++;
        }
        line++;
        at = end + 1;
      }
      if (next >= wanted.length) line = Number.POSITIVE_INFINITY; // nothing more to sample
      return out.write(chunk);
    },
    once(event: 'drain', listener: () => void) {
      return out.once(event, listener);
    },
  };
  const t0 = performance.now();
  const result = await writeNdjson(sink, { items, collections: 5, seed });
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const seconds = (performance.now() - t0) / 1000;
  // Line order follows the file (collections interleaved, time ascending): shuffle so that consecutive searches differ.
  const rng = mulberry32(seed ^ 0xface);
  for (let k = samples.length - 1; k > 0; k--) {
    const j = Math.floor(rng() * (k + 1));
    [samples[k], samples[j]] = [samples[j]!, samples[k]!];
  }
  return { file, items: result.items, bytes: statSync(file).size, collections: result.collections, samples, seconds };
}
