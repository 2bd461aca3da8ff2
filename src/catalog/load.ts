/**
 * The operator's bulk loader (`skyport catalog load`): reads STAC Collections and Items from files,
 * folders or stdin — a JSON object, a FeatureCollection, an array, `{collections: […]}`, or
 * newline-delimited JSON — normalizes and validates each one (catalog/ingest.ts) and upserts in
 * batches. Every item is accepted or rejected on its own, with the field and the reason; a batch the
 * store refuses is split in halves until the refused items stand alone, so one bad item never takes others
 * with it and never leaves a partial write. Loading the same input twice changes nothing (upserts), so a killed run is resumed by
 * running it again.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { IngestError, normalizeCollection } from './ingest.js';
import { expand, runLoadStep, type RawInput, type RowFormat, type StepOutcome } from './load-step.js';
import type { StoreItemRow } from '../storage/catalog/rows.js';
import { QueryError, UnknownCollectionError, type CollectionAccess, type Storage } from '../storage/types.js';

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
  /** Worker threads for parsing and validation (default `defaultLoadWorkers()`; 0 keeps everything on the main thread). */
  workers?: number;
  /** Objects per chunk of that work (default 500); the first two chunks are always done on the main thread. */
  stepChunk?: number;
  /** Called after each batch with the running summary. */
  onProgress?: (s: LoadSummary) => void;
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

/** Lines of newline-delimited JSON, unparsed (parsing is part of the per-object step, in a worker when there is one). */
async function* ndjson(stream: Readable, source: string): AsyncGenerator<RawInput> {
  let line = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (text.trim()) yield { text, source: `${source}:${line}` };
  }
}

/** Reads every JSON value of one input: whole-document JSON, or NDJSON when the name says so or the document is not one value. */
async function* readSource(src: string, stdin: Readable): AsyncGenerator<RawInput> {
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

const emptySummary = (): LoadSummary => ({
  collections: { inserted: 0, updated: 0, rejected: 0 },
  items: { inserted: 0, updated: 0, rejected: 0 },
  notes: {},
  rejections: [],
});

/** Chunks of `RawInput` for the per-object step; in a worker this many objects cross the thread boundary at once. */
const STEP_CHUNK = 500;
/** Chunks handled on the main thread before workers start: small loads never pay for a thread start. */
const INLINE_CHUNKS = 2;
/** Chunks queued beyond the one being written (bounds memory when the store is slower than the step). */
const MAX_QUEUED_CHUNKS = 8;

/** Young generation of a load worker, MB (see StepPool). */
const WORKER_YOUNG_GENERATION_MB = 96;

/** Default worker count: every core but the one the main thread (and an embedded store) keeps busy. */
export function defaultLoadWorkers(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

/** Worker threads running the per-object step (load-worker.ts), round robin; answers come back per chunk. */
class StepPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (o: StepOutcome[]) => void; reject: (e: Error) => void }>();
  private next = 0;
  private seq = 0;

  constructor(
    size: number,
    private readonly format: RowFormat,
  ) {
    for (let k = 0; k < size; k++) {
      // A young generation of V8's default size (16 MB) is collected every few hundred items here, and promotes
      // what the step still holds: a larger one took the worker's CPU per item down by a third (bench:catalog).
      const w = new Worker(new URL('./load-worker.js', import.meta.url), {
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      });
      w.on('message', (m: { id: number; outcomes?: StepOutcome[]; error?: string }) => {
        const p = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.outcomes) p?.resolve(m.outcomes);
        else p?.reject(new Error(`load worker: ${m.error}`));
      });
      w.on('error', (e) => this.failAll(e));
      // A message that cannot be deserialized, or a worker gone for any reason, must fail the load, not hang it.
      w.on('messageerror', (e) => this.failAll(e));
      w.on('exit', (code) => this.failAll(new Error(`load worker exited (code ${code})`)));
      this.workers.push(w);
    }
  }

  run(inputs: RawInput[]): Promise<StepOutcome[]> {
    const id = this.seq++;
    const w = this.workers[this.next++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, inputs, format: this.format });
    });
  }

  private failAll(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Loads every source in order; resolves with the summary (rejections are data, not exceptions).
 * Objects are parsed, normalized, validated and turned into rows in chunks — in `opts.workers` worker
 * threads once the input is larger than a few chunks — and written in input order, one batch in flight
 * while the next is prepared. Throws on I/O errors and on store errors other than `QueryError`.
 */
export async function loadStac(
  storage: Storage,
  sources: string[],
  opts: LoadOptions = {},
  stdin: Readable = process.stdin,
): Promise<LoadSummary> {
  const summary = emptySummary();
  const batchSize = opts.batchSize ?? 5000;
  const maxRejections = opts.maxRejections ?? 1000;
  const workerCount = opts.workers ?? defaultLoadWorkers();
  const known = new Map<string, boolean>();
  // PostgreSQL takes rows encoded in the step (workers); SQLite binds fields.
  const format: RowFormat = storage.kind === 'postgres' ? 'copy' : 'fields';
  let batch: { row: StoreItemRow; source: string }[] = [];

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

  /** An object to write; `earlier`: earlier versions of the same item in its batch, oldest first. */
  type Pending = { row: StoreItemRow; source: string; earlier?: Pending[] };
  const key = (r: StoreItemRow) => `${r.collection}\u0000${r.id}`;
  const unknownCollection = (b: Pending) => {
    const reason = `collection ${JSON.stringify(b.row.collection)} does not exist (load it first)`;
    for (const v of [...(b.earlier ?? []), b]) reject('items', v.source, v.row.id, 'collection', reason);
  };
  // A batch the store refuses is halved until the culprits stand alone: one bad item among 5,000 costs ~2·13
  // writes instead of 5,000 single-item ones, and never takes the others with it. A collection deleted while
  // the load runs is noticed once: its items are refused together, without halving.
  const writeRows = async (part: Pending[]): Promise<void> => {
    try {
      const r = await storage.upsertItemRows(part.map((b) => b.row));
      summary.items.inserted += r.inserted;
      summary.items.updated += r.updated;
      // Earlier versions of an item were written, in effect, and replaced by the last one.
      for (const b of part) summary.items.updated += b.earlier?.length ?? 0;
    } catch (e) {
      if (!(e instanceof QueryError)) throw e;
      // Only a refusal for a missing collection asks the store again (the others are about items: halve).
      const gone = new Set<string>();
      if (e instanceof UnknownCollectionError) {
        const collections = [...new Set(part.map((b) => b.row.collection))];
        collections.forEach((c) => known.delete(c));
        for (const c of collections) if (!(await collectionExists(c))) gone.add(c);
      }
      if (gone.size) {
        part.filter((b) => gone.has(b.row.collection)).forEach(unknownCollection);
        const rest = part.filter((b) => !gone.has(b.row.collection));
        return rest.length ? writeRows(rest) : undefined;
      }
      if (part.length > 1) {
        const mid = part.length >> 1;
        await writeRows(part.slice(0, mid));
        return writeRows(part.slice(mid));
      }
      const [b] = part as [Pending];
      reject('items', b.source, b.row.id, 'item', e.message);
      // The last version refused, the one before it is what the input leaves (as if each had been written in turn).
      const previous = b.earlier?.at(-1);
      if (previous) await writeRows([{ ...previous, earlier: b.earlier!.slice(0, -1) }]);
    }
  };
  // An item given more than once in a batch is written once, as its last version (PostgreSQL refuses a batch that
  // upserts a row twice); the earlier versions ride along in case the store refuses the last one.
  const write = async (current: Pending[]) => {
    const byKey = new Map<string, Pending>();
    for (const b of current) {
      const k = key(b.row);
      const before = byKey.get(k);
      if (before) byKey.delete(k); // re-inserted: the item takes the place of its last version
      byKey.set(k, before ? { ...b, earlier: [...(before.earlier ?? []), { row: before.row, source: before.source }] } : b);
    }
    await writeRows(byKey.size === current.length ? current : [...byKey.values()]);
    opts.onProgress?.(summary);
  };
  // Batches in flight while the next is prepared: two on PostgreSQL (two server backends, two cores), one on
  // SQLite (one writer). A batch sharing an item with one still in flight waits for it: the later object wins.
  const maxInFlight = storage.kind === 'postgres' ? 2 : 1;
  const inFlight: { done: Promise<void>; keys: Set<string> }[] = [];
  const flush = async (wait = false) => {
    if (batch.length) {
      const current = batch;
      batch = [];
      const keys = new Set(current.map((b) => key(b.row)));
      const last = inFlight.findLastIndex((f) => current.some((b) => f.keys.has(key(b.row))));
      for (let n = 0; n <= last; n++) await inFlight.shift()!.done;
      while (inFlight.length >= maxInFlight) await inFlight.shift()!.done;
      const done = write(current);
      done.catch(() => {}); // awaited later; marked handled so a failure is not reported twice
      inFlight.push({ done, keys });
    }
    if (wait) while (inFlight.length) await inFlight.shift()!.done;
  };

  const upsertCollection = async (value: Record<string, unknown>, source: string) => {
    await flush(true); // items of this collection that follow must see it
    try {
      const { collection, notes } = normalizeCollection(value);
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
      reject('collections', source, value.id, e.field, e.reason);
    }
  };

  // Outcomes are consumed strictly in input order, whichever thread produced them.
  const consume = async (outcomes: StepOutcome[]) => {
    for (const o of outcomes) {
      if (o.t === 'reject') reject(o.collection ? 'collections' : 'items', o.source, o.id, o.field, o.reason);
      else if (o.t === 'collection') await upsertCollection(o.value, o.source);
      else if (!(await collectionExists(o.row.collection))) {
        unknownCollection({ row: o.row, source: o.source });
      } else {
        batch.push({ row: o.row, source: o.source });
        note(o.notes);
        if (batch.length >= batchSize) await flush();
      }
    }
  };

  let pool: StepPool | undefined;
  let chunks = 0;
  const queue: Promise<StepOutcome[]>[] = [];
  const dispatch = async (inputs: RawInput[]) => {
    if (workerCount > 0 && chunks++ >= INLINE_CHUNKS) {
      pool ??= new StepPool(workerCount, format);
      const p = pool.run(inputs);
      p.catch(() => {}); // consumed in order below; a failure surfaces there
      queue.push(p);
    } else queue.push(Promise.resolve(runLoadStep(inputs, format)));
    while (queue.length > MAX_QUEUED_CHUNKS) await consume(await queue.shift()!);
  };

  try {
    let pending: RawInput[] = [];
    for (const src of sources) {
      for await (const raw of readSource(src, stdin)) {
        // A parsed document (a FeatureCollection, an array) is split here, so chunks stay even.
        for (const x of raw.text === undefined ? expand(raw.value, raw.source) : [raw]) {
          pending.push(x);
          if (pending.length >= (opts.stepChunk ?? STEP_CHUNK)) {
            await dispatch(pending);
            pending = [];
          }
        }
      }
    }
    if (pending.length) await dispatch(pending);
    while (queue.length) await consume(await queue.shift()!);
    await flush(true);
  } finally {
    await pool?.close();
  }
  // Fresh statistics: without them SQLite reads a whole collection instead of starting from the R*Tree.
  if (summary.items.inserted > 0) await storage.analyze();
  return summary;
}
