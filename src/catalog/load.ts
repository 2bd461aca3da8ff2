/**
 * The operator's bulk loader (`skyport catalog load`): reads STAC Collections and Items from files,
 * folders or stdin — a JSON object, a FeatureCollection, an array, `{collections: […]}`, or
 * newline-delimited JSON — normalizes and validates each one (catalog/ingest.ts) and upserts in
 * batches. Every item is accepted or rejected on its own, with the field and the reason; a batch the
 * store refuses is retried item by item, so one bad item never takes others with it and never leaves a
 * partial write. Loading the same input twice changes nothing (upserts), so a killed run is resumed by
 * running it again.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { IngestError, normalizeCollection, normalizeItem } from './ingest.js';
import { QueryError, type CollectionAccess, type ItemRecord, type Storage } from '../storage/types.js';

/** What a load did: counts, the notes normalization made (upgrades, time-zone fixes) and each rejection. */
export interface LoadSummary {
  collections: { inserted: number; updated: number; rejected: number };
  items: { inserted: number; updated: number; rejected: number };
  /** Note text → how many objects it applied to (e.g. "upgraded from STAC 1.0.0-rc.4"). */
  notes: Record<string, number>;
  /** At most `maxRejections` of them; the counts are complete. */
  rejections: { source: string; id: string | null; field: string; reason: string }[];
}

export interface LoadOptions {
  /** Access of collections created by this load (existing ones keep theirs unless `forceAccess`). */
  access?: CollectionAccess;
  ownerOrgId?: string | null;
  forceAccess?: boolean;
  batchSize?: number;
  maxRejections?: number;
  /** Called after each batch with the running summary. */
  onProgress?: (s: LoadSummary) => void;
}

/** A STAC object with where it came from (file and line or index), for rejection reports. */
interface Sourced {
  value: unknown;
  source: string;
}

/** Files of a folder (recursively, sorted) whose names end in .json, .geojson, .ndjson or .jsonl. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else if (/\.(json|geojson|ndjson|jsonl)(\.gz)?$/i.test(name)) out.push(p);
  }
  return out;
}

async function* ndjson(stream: Readable, source: string): AsyncGenerator<Sourced> {
  let line = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (!text.trim()) continue;
    try {
      yield { value: JSON.parse(text), source: `${source}:${line}` };
    } catch {
      yield { value: new IngestError('(line)', 'not valid JSON'), source: `${source}:${line}` };
    }
  }
}

/** Reads every JSON value of one input: whole-document JSON, or NDJSON when the name says so or the document is not one value. */
async function* readSource(src: string, stdin: Readable): AsyncGenerator<Sourced> {
  if (src !== '-' && statSync(src).isDirectory()) {
    for (const f of listFiles(src)) yield* readSource(f, stdin);
    return;
  }
  const name = src === '-' ? 'stdin' : src;
  // Gzip-compressed inputs (`.gz`) are read through gunzip, whatever they hold.
  const gz = src !== '-' && /\.gz$/i.test(src);
  const plain = gz ? src.slice(0, -3) : src;
  if (src !== '-' && /\.(ndjson|jsonl)$/i.test(plain))
    return yield* ndjson(gz ? createReadStream(src).pipe(createGunzip()) : createReadStream(src), name);
  const bytes = src === '-' ? await readAll(stdin) : await readFile(src);
  // Gzip is recognised by its magic bytes too (a .gz piped to stdin has no name to tell).
  const text = (gz || (bytes[0] === 0x1f && bytes[1] === 0x8b) ? gunzipSync(bytes) : bytes).toString('utf8');
  try {
    yield { value: JSON.parse(text), source: name };
  } catch {
    yield* ndjson(Readable.from([text]), name);
  }
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Expands containers (FeatureCollection, arrays, `{collections}`) into single STAC objects. */
function* expand(x: Sourced): Generator<Sourced> {
  const v = x.value as Record<string, unknown> | unknown[] | null;
  if (Array.isArray(v)) {
    for (let n = 0; n < v.length; n++) yield* expand({ value: v[n], source: `${x.source}[${n}]` });
  } else if (v && typeof v === 'object' && v.type === 'FeatureCollection' && Array.isArray(v.features)) {
    for (let n = 0; n < v.features.length; n++) yield { value: v.features[n], source: `${x.source} features[${n}]` };
  } else if (v && typeof v === 'object' && !('type' in v) && Array.isArray((v as { collections?: unknown }).collections)) {
    const list = (v as { collections: unknown[] }).collections;
    for (let n = 0; n < list.length; n++) yield { value: list[n], source: `${x.source} collections[${n}]` };
  } else yield x;
}

const emptySummary = (): LoadSummary => ({
  collections: { inserted: 0, updated: 0, rejected: 0 },
  items: { inserted: 0, updated: 0, rejected: 0 },
  notes: {},
  rejections: [],
});

/** Loads every source in order; resolves with the summary (rejections are data, not exceptions). */
export async function loadStac(
  storage: Storage,
  sources: string[],
  opts: LoadOptions = {},
  stdin: Readable = process.stdin,
): Promise<LoadSummary> {
  const summary = emptySummary();
  const batchSize = opts.batchSize ?? 1000;
  const maxRejections = opts.maxRejections ?? 1000;
  const known = new Map<string, boolean>();
  let batch: { rec: ItemRecord; source: string }[] = [];

  const reject = (kind: 'collections' | 'items', source: string, id: unknown, field: string, reason: string) => {
    summary[kind].rejected++;
    if (summary.rejections.length < maxRejections)
      summary.rejections.push({ source, id: typeof id === 'string' ? id : null, field, reason });
  };
  const note = (notes: string[]) => notes.forEach((n) => (summary.notes[n] = (summary.notes[n] ?? 0) + 1));
  const collectionExists = async (id: string) => {
    if (!known.has(id)) known.set(id, (await storage.getCollection(id)) !== undefined);
    return known.get(id)!;
  };

  const write = async (current: { rec: ItemRecord; source: string }[]) => {
    try {
      const r = await storage.upsertItems(current.map((b) => b.rec));
      summary.items.inserted += r.inserted;
      summary.items.updated += r.updated;
    } catch (e) {
      if (!(e instanceof QueryError)) throw e;
      // Find the culprits one by one; the others are written in transactions of one.
      for (const b of current) {
        try {
          const r = await storage.upsertItems([b.rec]);
          summary.items.inserted += r.inserted;
          summary.items.updated += r.updated;
        } catch (e1) {
          if (!(e1 instanceof QueryError)) throw e1;
          reject('items', b.source, b.rec.id, 'item', e1.message);
        }
      }
    }
    opts.onProgress?.(summary);
  };
  // One batch in flight while the next is parsed and validated: a server-backed store works on its own core meanwhile.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async (wait = false) => {
    await inFlight;
    if (batch.length) {
      const current = batch;
      batch = [];
      inFlight = write(current);
      inFlight.catch(() => {}); // awaited at the next flush; marked handled so a failure is not reported twice
    }
    if (wait) await inFlight;
  };

  for (const src of sources) {
    for await (const raw of readSource(src, stdin)) {
      for (const x of expand(raw)) {
        const v = x.value as Record<string, unknown>;
        const id = v && typeof v === 'object' ? v.id : undefined;
        if (x.value instanceof IngestError) {
          reject('items', x.source, null, x.value.field, x.value.reason);
        } else if (v && typeof v === 'object' && v.type === 'Collection') {
          await flush(true); // items of this collection that follow must see it
          try {
            const { collection, notes } = normalizeCollection(v);
            const existing = await storage.getCollection(collection.id);
            const keep = existing && !opts.forceAccess;
            await storage.upsertCollection({
              id: collection.id,
              access: keep ? existing.access : (opts.access ?? 'open'),
              ownerOrgId: keep ? existing.ownerOrgId : (opts.ownerOrgId ?? null),
              body: collection as unknown as Record<string, unknown>,
              updatedAt: Date.now(),
            });
            known.set(collection.id, true);
            summary.collections[existing ? 'updated' : 'inserted']++;
            note(notes);
          } catch (e) {
            if (!(e instanceof IngestError)) throw e;
            reject('collections', x.source, id, e.field, e.reason);
          }
        } else {
          try {
            const { item, notes } = normalizeItem(v, { owned: true });
            const collection = item.collection;
            if (typeof collection !== 'string') throw new IngestError('collection', 'the item names no collection');
            if (!(await collectionExists(collection)))
              throw new IngestError('collection', `collection ${JSON.stringify(collection)} does not exist (load it first)`);
            batch.push({ rec: { collection, id: item.id, item: item as unknown as Record<string, unknown> }, source: x.source });
            note(notes);
            if (batch.length >= batchSize) await flush();
          } catch (e) {
            if (!(e instanceof IngestError)) throw e;
            reject('items', x.source, id, e.field, e.reason);
          }
        }
      }
    }
  }
  await flush(true);
  // Fresh statistics: without them SQLite reads a whole collection instead of starting from the R*Tree.
  if (summary.items.inserted > 0) await storage.analyze();
  return summary;
}
