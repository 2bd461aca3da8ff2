/**
 * The per-object step of a bulk load, the same on the main thread and in load workers: parse a line,
 * expand containers, normalize and validate an Item (ingest.ts) and compute its stored row
 * (storage/catalog/rows.ts). Pure and synchronous; everything it returns is structured-clonable.
 * Collections are passed back untouched: they are written on the main thread, in input order.
 */
import { IngestError, normalizeItem } from './ingest.js';
import { itemRow, itemRowCopy, type StoreItemRow } from '../storage/catalog/rows.js';
import { QueryError } from '../storage/types.js';

/** One input object: an already parsed `value`, or the `text` of an NDJSON line, and where it came from. */
export interface RawInput {
  source: string;
  value?: unknown;
  text?: string;
  /** Set (by `expand`) for an object refused before it is handed on: its value is not passed. */
  refused?: { field: string; reason: string };
}

/** What the step made of one object (a container yields one outcome per member). */
export type StepOutcome =
  | { t: 'item'; source: string; row: StoreItemRow; notes: string[] }
  | { t: 'collection'; source: string; value: Record<string, unknown> }
  | { t: 'reject'; source: string; id: string | null; field: string; reason: string; collection?: true };

/**
 * How item rows leave the step: `fields` (an ItemRow, both stores) or `copy` (PostgreSQL's bulk encoding, made
 * here: the main thread only concatenates bytes, and one buffer per chunk crosses the thread boundary).
 */
export type RowFormat = 'fields' | 'copy';

/** Arrays inside arrays are expanded this deep; deeper ones are single (rejected) objects, not a stack overflow. */
const MAX_ARRAY_NESTING = 3;

/**
 * Objects nested deeper than this are refused where they are met, before they cross a thread boundary:
 * structured cloning recurses (a line of 100,000 nested objects overflows it and stopped the whole load).
 * The same limit as ingest.ts applies to every STAC object.
 */
const MAX_NESTING = 200;

/** Whether `value` holds containers nested deeper than MAX_NESTING (an iterative walk: no recursion). */
function tooDeep(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (depth > MAX_NESTING) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x && typeof x === 'object') stack.push([x, depth + 1]);
  }
  return false;
}

/**
 * Expands containers (FeatureCollection, arrays, `{collections}`) into single STAC objects with their
 * sources; an object nested too deeply comes out `refused`, without its value.
 */
export function* expand(value: unknown, source: string, depth = 0, checkDepth = true): Generator<RawInput> {
  const v = value as Record<string, unknown> | unknown[] | null;
  if (Array.isArray(v) && depth < MAX_ARRAY_NESTING) {
    for (let n = 0; n < v.length; n++) yield* expand(v[n], `${source}[${n}]`, depth + 1, checkDepth);
  } else if (v && !Array.isArray(v) && typeof v === 'object' && v.type === 'FeatureCollection' && Array.isArray(v.features)) {
    const features = v.features as unknown[];
    for (let n = 0; n < features.length; n++) yield single(features[n], `${source} features[${n}]`, checkDepth);
  } else if (v && !Array.isArray(v) && typeof v === 'object' && !('type' in v) && Array.isArray(v.collections)) {
    const list = (v as { collections: unknown[] }).collections;
    for (let n = 0; n < list.length; n++) yield single(list[n], `${source} collections[${n}]`, checkDepth);
  } else yield single(value, source, checkDepth);
}

/** One STAC object of a container, or its refusal when it is nested too deeply to be handed on. */
function single(value: unknown, source: string, checkDepth: boolean): RawInput {
  if (!checkDepth || !tooDeep(value)) return { value, source };
  return { source, refused: { field: '$', reason: `nested too deeply (more than ${MAX_NESTING} levels)` } };
}

function itemOutcome(value: unknown, source: string, format: RowFormat): StepOutcome {
  const v = value as Record<string, unknown> | null;
  const id = v && typeof v === 'object' && typeof v.id === 'string' ? v.id : null;
  if (v && typeof v === 'object' && v.type === 'Collection') {
    // A collection goes back to the main thread as it is: too deep, it would overflow the structured clone.
    if (tooDeep(v))
      return { t: 'reject', source, id, field: '$', reason: `nested too deeply (more than ${MAX_NESTING} levels)`, collection: true };
    return { t: 'collection', source, value: v };
  }
  try {
    const { item, notes } = normalizeItem(v, { owned: true });
    const collection = item.collection;
    if (typeof collection !== 'string') throw new IngestError('collection', 'the item names no collection');
    const fields = itemRow({ collection, id: item.id, item: item as unknown as Record<string, unknown> });
    const row = format === 'copy' ? { collection, id: item.id, line: itemRowCopy(fields) as unknown as Uint8Array } : fields;
    return { t: 'item', source, row, notes };
  } catch (e) {
    if (e instanceof IngestError) return { t: 'reject', source, id, field: e.field, reason: e.reason };
    if (e instanceof QueryError) return { t: 'reject', source, id, field: 'item', reason: e.message };
    throw e;
  }
}

/**
 * Runs the step over `inputs` in order, rows in `format`. Throws only on a programming error (never for bad input:
 * unparseable lines and invalid objects come back as `reject` outcomes).
 */
export function runLoadStep(inputs: RawInput[], format: RowFormat = 'fields'): StepOutcome[] {
  const out: StepOutcome[] = [];
  for (const x of inputs) {
    if (x.refused) {
      out.push({ t: 'reject', source: x.source, id: null, ...x.refused });
      continue;
    }
    let value = x.value;
    if (x.text !== undefined) {
      try {
        value = JSON.parse(x.text);
      } catch {
        out.push({ t: 'reject', source: x.source, id: null, field: '(line)', reason: 'not valid JSON' });
        continue;
      }
    }
    // Items leave as rows of strings (ingest refuses deep nesting itself); collections are checked in itemOutcome.
    for (const member of expand(value, x.source, 0, false)) {
      out.push(
        member.refused
          ? { t: 'reject', source: member.source, id: null, ...member.refused }
          : itemOutcome(member.value, member.source, format),
      );
    }
  }
  if (format === 'copy') packLines(out);
  return out;
}

/**
 * Replaces the COPY text of each row by its UTF-8 bytes, all in one ArrayBuffer (`transferList` hands it to the
 * main thread without a copy; there a batch is concatenated as bytes, not as a 13 MB string to re-encode).
 */
function packLines(outcomes: StepOutcome[]): void {
  const rows = outcomes.flatMap((o) => (o.t === 'item' ? [o.row as unknown as { line: Uint8Array | string }] : []));
  let total = 0;
  for (const r of rows) total += Buffer.byteLength(r.line as string);
  const buf = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const r of rows) {
    const n = buf.write(r.line as string, at);
    r.line = buf.subarray(at, at + n);
    at += n;
  }
}

/** The buffers to transfer with `outcomes` (see packJson). */
export function transferList(outcomes: StepOutcome[]): ArrayBuffer[] {
  for (const o of outcomes) if (o.t === 'item' && 'line' in o.row) return [o.row.line.buffer as ArrayBuffer];
  return [];
}
