/**
 * The bulk loader's order and isolation rules, on both stores, with the per-object step on the main
 * thread and in worker threads: the same input gives the same summary, the same rejections (line and
 * field) and the same stored items; a collection met mid-stream is written before the items after it
 * and not before the items ahead of it; one bad object never takes its batch with it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadStac, type LoadSummary } from '../../src/catalog/load.js';
import type { Storage } from '../../src/storage/types.js';
import { stores, openTestStore } from '../helpers/server.js';
import { stacCollection, stacItem } from '../helpers/stac-fixtures.js';

const collection = (id: string) => stacCollection(id);
const item = (coll: string, id: string, x: number, datetime = '2024-03-01T10:00:00Z') => stacItem(coll, id, x, { datetime });

/** 40 lines: collection a, items of a with three bad ones, an item of b before b exists, then b and its items. */
function lines(): string[] {
  const out: string[] = [JSON.stringify(collection('a'))];
  for (let n = 2; n <= 40; n++) {
    if (n === 5) out.push(JSON.stringify(item('b', 'b-early', n)));
    else if (n === 12) out.push('{"type": "Feature", "id": "broken"');
    else if (n === 15) out.push(JSON.stringify(item('a', 'bad-time', n, 'last tuesday')));
    else if (n === 18) out.push(JSON.stringify(item('nowhere', 'lost', n)));
    else if (n === 23) out.push(JSON.stringify(collection('b')));
    else if (n === 27) out.push(JSON.stringify({ type: 'FeatureCollection', features: [item('b', 'fc-1', 1), item('b', 'fc-2', 2)] }));
    else out.push(JSON.stringify(item(n < 23 ? 'a' : 'b', `i-${n}`, n)));
  }
  return out;
}

const open = openTestStore;

async function storedIds(s: Storage): Promise<string[]> {
  const out: string[] = [];
  for (const c of ['a', 'b']) {
    const page = await s.searchItems('nobody', { sortby: [], limit: 1000, countLimit: 0, collections: [c] });
    out.push(...page.items.map((r) => `${r.collection}/${r.id}`));
  }
  return out.sort();
}

for (const kind of await stores()) {
  describe(`catalog load: order, isolation, worker threads (${kind})`, () => {
    let dir: string;
    let file: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-load-'));
      file = path.join(dir, 'mixed.ndjson');
      writeFileSync(file, lines().join('\n') + '\n');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const run = async (opts: { workers: number; stepChunk: number; batchSize: number }) => {
      const { s, cleanup } = await open(kind, dir);
      try {
        const summary = await loadStac(s, [file], opts);
        return { summary, ids: await storedIds(s) };
      } finally {
        await cleanup();
      }
    };

    it('inline and in worker threads: the same summary, rejections and stored items', async () => {
      const inline = await run({ workers: 0, stepChunk: 4, batchSize: 5 });
      const threaded = await run({ workers: 2, stepChunk: 4, batchSize: 5 });
      const expected: Partial<LoadSummary> = {
        collections: { inserted: 2, updated: 0, rejected: 0 },
        items: { inserted: 35, updated: 0, rejected: 4 },
      };
      assert.deepEqual({ collections: inline.summary.collections, items: inline.summary.items }, expected);
      assert.deepEqual(threaded.summary, inline.summary);
      assert.deepEqual(threaded.ids, inline.ids);
      assert.equal(inline.ids.length, 35);
      const bySource = Object.fromEntries(inline.summary.rejections.map((r) => [r.source.split(':').pop(), r]));
      assert.equal(bySource['5']!.field, 'collection');
      assert.match(bySource['5']!.reason, /does not exist/);
      assert.equal(bySource['12']!.field, '(line)');
      assert.match(bySource['15']!.field, /datetime/);
      assert.equal(bySource['18']!.id, 'lost');
      assert.ok(inline.ids.includes('b/fc-2') && inline.ids.includes('b/i-24') && !inline.ids.includes('b/b-early'));
    });

    it('deeply nested lines are rejected one by one, in worker threads too, and the rest loads', async () => {
      const { s, cleanup } = await open(kind, dir);
      try {
        const deep = 100_000;
        const f = path.join(dir, 'deep.ndjson');
        const good = [2, 3, 4, 5, 6, 7].map((n) => JSON.stringify(item('a', `ok-${n}`, n)));
        const body = [
          JSON.stringify(collection('a')),
          '['.repeat(deep) + ']'.repeat(deep),
          ...good,
          `{"x":`.repeat(deep) + '1' + '}'.repeat(deep),
        ];
        writeFileSync(f, body.join('\n') + '\n');
        const summary = await loadStac(s, [f], { workers: 1, stepChunk: 2 });
        assert.deepEqual(summary.items, { inserted: 6, updated: 0, rejected: 2 });
        assert.deepEqual(
          summary.rejections.map((r) =>
            r.source
              .split(':')
              .pop()!
              .replace(/(\[0\])+$/, ''),
          ),
          ['2', '9'],
        );
      } finally {
        await cleanup();
      }
    });

    it('ids and values with tabs, newlines, backslashes and quotes come back exactly as loaded', async () => {
      const { s, cleanup } = await open(kind, dir);
      try {
        const odd = ['tab\there', 'new\nline', 'back\\slash\\', 'cr\rlf', 'quote"s', '\\N', 'ünï©ødé 🛰'];
        const items = odd.map((id, n) => ({
          ...item('a', id, n),
          properties: { datetime: '2024-03-01T10:00:00Z', title: `${id} \\t \\\\ \t\n`, 'x:odd': id },
        }));
        const f = path.join(dir, 'odd.json');
        writeFileSync(f, JSON.stringify([collection('a'), ...items]));
        const summary = await loadStac(s, [f], { workers: 0 });
        assert.deepEqual(summary.items, { inserted: odd.length, updated: 0, rejected: 0 });
        for (const [n, id] of odd.entries()) {
          const got = await s.getItem('a', id);
          assert.ok(got, JSON.stringify(id));
          assert.equal(got.id, id);
          assert.deepEqual((got.item as { properties: unknown }).properties, items[n]!.properties);
        }
        const found = await s.searchItems('nobody', { sortby: [], limit: 100, countLimit: 100, collections: ['a'], ids: odd });
        assert.equal(found.numberMatched, odd.length);
      } finally {
        await cleanup();
      }
    });

    it('loading the same file again updates every item; the item that came before its collection now loads', async () => {
      const { s, cleanup } = await open(kind, dir);
      try {
        await loadStac(s, [file], { workers: 0 });
        const again = await loadStac(s, [file], { workers: 1, stepChunk: 3, batchSize: 4 });
        assert.deepEqual(again.items, { inserted: 1, updated: 35, rejected: 3 });
        assert.ok((await storedIds(s)).includes('b/b-early'));
        assert.deepEqual(again.collections, { inserted: 0, updated: 2, rejected: 0 });
      } finally {
        await cleanup();
      }
    });

    it('an item given twice in one batch is stored as its last version, in one write of the batch', async () => {
      const { s, cleanup } = await open(kind, dir);
      try {
        const twice: object[] = [collection('a'), item('a', 'dup', 1), ...[2, 3, 4].map((n) => item('a', `i-${n}`, n))];
        twice.push(titled(item('a', 'dup', 1), 'second'));
        const f = path.join(dir, 'twice.json');
        writeFileSync(f, JSON.stringify(twice));
        const writes = countWrites(s);
        const summary = await loadStac(s, [f], { workers: 0 });
        assert.deepEqual(summary.items, { inserted: 4, updated: 1, rejected: 0 });
        assert.equal(((await s.getItem('a', 'dup'))!.item.properties as { title?: string }).title, 'second');
        assert.equal(writes(), 1);
      } finally {
        await cleanup();
      }
    });

    it('a collection deleted during the load: its later items are refused together, without halving, the rest loads', async () => {
      const { s, cleanup } = await open(kind, dir);
      try {
        const objects: object[] = [collection('a'), collection('b')];
        for (let n = 0; n < 40; n++) objects.push(item(n % 2 ? 'b' : 'a', `i-${n}`, n));
        const f = path.join(dir, 'gone.json');
        writeFileSync(f, JSON.stringify(objects));
        let writes = 0;
        const write = s.upsertItemRows.bind(s);
        s.upsertItemRows = async (rows) => {
          if (++writes === 2) await s.deleteCollection('b'); // another operator, between two batches
          return write(rows);
        };
        const summary = await loadStac(s, [f], { workers: 0, batchSize: 10 });
        // b items of batches written before the delete (the first; on PostgreSQL maybe one more in flight) were
        // inserted, and the delete took them; every later one is refused.
        assert.equal(summary.items.inserted + summary.items.rejected, 40);
        assert.ok(summary.items.rejected >= 10 && summary.items.rejected <= 15, `${summary.items.rejected} rejected`);
        assert.equal((await storedIds(s)).filter((id) => id.startsWith('a/')).length, 20);
        assert.equal(await s.getCollection('b'), undefined);
        assert.ok(summary.rejections.every((r) => r.field === 'collection' && /"b" does not exist/.test(r.reason)));
        // At most each of the four batches twice: refused, then again without its b items (batches still queued when
        // the delete is noticed meet it too). Halving down to the 15 b items alone would take over 30 writes.
        assert.ok(writes <= 8, `${writes} writes`);
      } finally {
        await cleanup();
      }
    });

    if (kind === 'postgres') {
      it('an item given twice in a batch whose last version the store refuses keeps its earlier version', async () => {
        const { s, cleanup } = await open(kind, dir);
        try {
          const objects = [collection('a'), titled(item('a', 'dup', 1), 'first'), item('a', 'i-2', 2)];
          objects.push(titled(item('a', 'dup', 1), 'nul \u0000 here'));
          const f = path.join(dir, 'dup-refused.json');
          writeFileSync(f, JSON.stringify(objects));
          const summary = await loadStac(s, [f], { workers: 0 });
          assert.deepEqual(summary.items, { inserted: 2, updated: 0, rejected: 1 });
          assert.equal(((await s.getItem('a', 'dup'))!.item.properties as { title?: string }).title, 'first');
        } finally {
          await cleanup();
        }
      });

      it('one item the store refuses among 64 is found by halving the batch (13 writes, not 65) and rejected alone', async () => {
        const { s, cleanup } = await open(kind, dir);
        try {
          // A NUL inside a property value passes STAC validation but has no jsonb form: PostgreSQL refuses the row.
          const items: object[] = Array.from({ length: 64 }, (_, n) => item('a', `i-${n}`, n));
          items[41] = titled(item('a', 'i-41', 41), 'nul \u0000 here');
          const f = path.join(dir, 'one-bad.ndjson');
          writeFileSync(f, [collection('a'), ...items].map((x) => JSON.stringify(x)).join('\n') + '\n');
          const writes = countWrites(s);
          const summary = await loadStac(s, [f], { workers: 0, batchSize: 64 });
          assert.deepEqual(summary.items, { inserted: 63, updated: 0, rejected: 1 });
          assert.equal(summary.rejections[0]!.id, 'i-41');
          assert.match(summary.rejections[0]!.source, /:43$/);
          assert.equal(writes(), 13, 'one batch write, then two per halving down to the single item (6 levels)');
          assert.equal(await s.getItem('a', 'i-41'), undefined);
          assert.ok(await s.getItem('a', 'i-63'));
        } finally {
          await cleanup();
        }
      });
    }
  });
}

/** The item with a title added to its properties. */
const titled = (x: { properties: object }, title: string) => ({ ...x, properties: { ...x.properties, title } });

/** Counts the store's batch writes from now on (wraps `upsertItemRows`). */
function countWrites(s: Storage): () => number {
  let n = 0;
  const write = s.upsertItemRows.bind(s);
  s.upsertItemRows = (rows) => (n++, write(rows));
  return () => n;
}
