/**
 * One contract for every asset store, run against each adapter on real storage: the local store on
 * a temp folder, and the S3 store against a real S3-compatible server (s3rver over HTTP), without and
 * with a key prefix. Whole reads, ranges (first bytes, open, suffix, clamped, unsatisfiable), missing
 * keys, unsafe keys, overwrites, odd characters, empty assets, streaming a large asset.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { UnsafeAssetKey } from '../../src/storage/assets/keys.js';
import { LocalAssetStore } from '../../src/storage/assets/local.js';
import { parseRangeHeader, resolveRange } from '../../src/storage/assets/range.js';
import { S3AssetStore } from '../../src/storage/assets/s3.js';
import type { AssetRead, AssetStore, ByteRange } from '../../src/storage/assets/types.js';
import { startS3, type TestS3 } from '../helpers/s3.js';

async function drain(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** The bytes of an `ok` read, after checking its shape; fails on anything else. */
async function okBytes(r: AssetRead, expected: { range?: { start: number; end: number }; size: number }): Promise<Buffer> {
  assert.equal(r.status, 'ok', JSON.stringify(r));
  if (r.status !== 'ok') throw new Error('unreachable');
  assert.deepEqual(r.range, expected.range);
  assert.equal(r.meta.size, expected.size);
  const bytes = await drain(r.body);
  assert.equal(bytes.length, r.length);
  return bytes;
}

interface Adapter {
  name: string;
  open(): Promise<{ store: AssetStore; close(): Promise<void>; s3?: TestS3 }>;
}

const adapters: Adapter[] = [
  {
    name: 'local folder',
    async open() {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-assets-'));
      return { store: new LocalAssetStore(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 's3 (s3rver)',
    async open() {
      const s3 = await startS3();
      return { store: new S3AssetStore(s3.options()), close: s3.close, s3 };
    },
  },
  {
    name: 's3 with a key prefix (s3rver)',
    async open() {
      const s3 = await startS3();
      return { store: new S3AssetStore(s3.options('tenant-a/assets')), close: s3.close, s3 };
    },
  },
];

for (const adapter of adapters) {
  describe(`asset store contract: ${adapter.name}`, () => {
    let store: AssetStore;
    let env: Awaited<ReturnType<Adapter['open']>>;
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, n) => (n * 7) % 251));
    const size = bytes.length;
    before(async () => {
      env = await adapter.open();
      store = env.store;
      await store.probe();
      await store.put('scene-1/data.tif', bytes, 'image/tiff; application=geotiff');
    });
    after(() => env.close());

    it('reads back what was put, whole, with size and validators that stat agrees with', async () => {
      const before = Date.now();
      const r = await store.read('scene-1/data.tif');
      assert.deepEqual(await okBytes(r, { size }), bytes);
      const meta = await store.stat('scene-1/data.tif');
      assert.ok(meta && r.status === 'ok');
      assert.deepEqual(meta, r.meta);
      assert.match(meta.etag, /^(W\/)?"[^"]+"$/);
      // Written in this test file's before hook: within the last minutes, at HTTP-date precision.
      assert.ok(Math.abs(meta.lastModified.getTime() - before) < 300_000, meta.lastModified.toISOString());
    });

    it('reads ranges: first bytes, an open range, a suffix, a last byte past the end', async () => {
      const cases: [ByteRange, number, number][] = [
        [{ first: 0, last: 1023 }, 0, 1023],
        [{ first: 1000, last: 1999 }, 1000, 1999],
        [{ first: size - 10 }, size - 10, size - 1],
        [{ suffix: 16 }, size - 16, size - 1],
        [{ suffix: size + 5 }, 0, size - 1],
        [{ first: size - 3, last: size + 100 }, size - 3, size - 1],
        [{ first: size - 1, last: size - 1 }, size - 1, size - 1],
      ];
      for (const [range, start, end] of cases) {
        const got = await okBytes(await store.read('scene-1/data.tif', range), { range: { start, end }, size });
        assert.deepEqual(got, bytes.subarray(start, end + 1), JSON.stringify(range));
      }
    });

    it('reports unsatisfiable ranges with the size (the 416 case)', async () => {
      for (const range of [{ first: size }, { first: size + 10, last: size + 20 }, { suffix: 0 }, { first: 5, last: 2 }]) {
        assert.deepEqual(await store.read('scene-1/data.tif', range), { status: 'unsatisfiable', size }, JSON.stringify(range));
      }
    });

    it('answers missing for a key it does not hold, and for a "folder"', async () => {
      assert.deepEqual(await store.read('scene-1/nope.tif'), { status: 'missing' });
      assert.deepEqual(await store.read('nope/data.tif', { first: 0, last: 9 }), { status: 'missing' });
      assert.deepEqual(await store.read('scene-1', { suffix: 4 }), { status: 'missing' });
      assert.equal(await store.stat('scene-1/nope.tif'), undefined);
      assert.equal(await store.stat('scene-1'), undefined);
    });

    it('refuses unsafe keys for every operation', async () => {
      const unsafe = ['', '/etc/passwd', '../x', 'a/../b', 'a//b', './a', 'a/.', 'a/', '.hidden/x', 'a/.tmp', 'a\\b', 'a\u0000b'];
      for (const key of unsafe) {
        await assert.rejects(store.put(key, Buffer.from('x')), UnsafeAssetKey, JSON.stringify(key));
        await assert.rejects(store.read(key), UnsafeAssetKey, JSON.stringify(key));
        await assert.rejects(store.stat(key), UnsafeAssetKey, JSON.stringify(key));
      }
    });

    it('replaces an asset whole on overwrite, with new validators', async () => {
      await store.put('over/write.bin', Buffer.from('first version, longer'));
      const first = await store.stat('over/write.bin');
      await store.put('over/write.bin', Buffer.from('second'));
      const second = await store.stat('over/write.bin');
      assert.equal(second?.size, 6);
      assert.notEqual(second?.etag, first?.etag);
      assert.equal((await okBytes(await store.read('over/write.bin'), { size: 6 })).toString(), 'second');
      assert.equal(
        (await okBytes(await store.read('over/write.bin', { suffix: 3 }), { size: 6, range: { start: 3, end: 5 } })).toString(),
        'ond',
      );
    });

    it('keeps keys with spaces, non-ASCII and URL-reserved characters apart and intact', async () => {
      const keys = ['odd names/a b (1)+c&d=e.tif', 'odd names/ümlaut – ok!*.png', 'odd names/100%.bin', "odd names/it's#x?y"];
      for (const [i, key] of keys.entries()) await store.put(key, Buffer.from(`asset ${i}`));
      for (const [i, key] of keys.entries())
        assert.equal((await okBytes(await store.read(key), { size: `asset ${i}`.length })).toString(), `asset ${i}`, key);
      assert.deepEqual(await store.read('odd names/a b (1) c&d=e.tif'), { status: 'missing' }, '+ is not a space');
    });

    it('holds empty assets (every range of them is unsatisfiable)', async () => {
      await store.put('empty/zero.bin', new Uint8Array(0));
      assert.equal((await store.stat('empty/zero.bin'))?.size, 0);
      assert.equal((await okBytes(await store.read('empty/zero.bin'), { size: 0 })).length, 0);
      assert.deepEqual(await store.read('empty/zero.bin', { first: 0 }), { status: 'unsatisfiable', size: 0 });
      assert.deepEqual(await store.read('empty/zero.bin', { suffix: 1 }), { status: 'unsatisfiable', size: 0 });
    });

    it('streams a large asset: a window from its middle, and a whole read abandoned after its first chunk', async () => {
      const big = randomBytes(6 * 1024 * 1024);
      await store.put('big/scene.tif', big);
      const start = 3 * 1024 * 1024 + 17;
      const got = await okBytes(await store.read('big/scene.tif', { first: start, last: start + 65_535 }), {
        range: { start, end: start + 65_535 },
        size: big.length,
      });
      assert.deepEqual(got, big.subarray(start, start + 65_536));
      const whole = await store.read('big/scene.tif');
      assert.ok(whole.status === 'ok');
      const first = (await whole.body[Symbol.asyncIterator]().next()).value as Uint8Array;
      assert.ok(first.length > 0 && first.length < big.length, `first chunk ${first.length} bytes: streamed, not buffered`);
      whole.body.destroy();
      // The abandoned transfer leaves the store usable.
      assert.deepEqual(
        await okBytes(await store.read('big/scene.tif', { suffix: 10 }), {
          range: { start: big.length - 10, end: big.length - 1 },
          size: big.length,
        }),
        big.subarray(big.length - 10),
      );
    });

    // S3 itself makes a PUT visible whole; s3rver writes its file in place, so only the folder is tested here.
    it(
      'never shows a reader half of an overwrite',
      { skip: adapter.name !== 'local folder' && 's3rver writes objects in place' },
      async () => {
        const a = Buffer.alloc(300_000, 1);
        const b = Buffer.alloc(200_000, 2);
        await store.put('race/asset.bin', a);
        const reads: Promise<Buffer | undefined>[] = [];
        for (let i = 0; i < 10; i++) {
          reads.push(store.read('race/asset.bin').then((r) => (r.status === 'ok' ? drain(r.body) : undefined)));
          await store.put('race/asset.bin', i % 2 ? a : b);
        }
        for (const got of await Promise.all(reads))
          assert.ok(got && (got.equals(a) || got.equals(b)), `a torn read of ${got?.length} bytes`);
      },
    );

    if (adapter.name.includes('prefix')) {
      it('stores objects under the prefix', async () => {
        const bare = new S3AssetStore(env.s3!.options());
        assert.equal((await bare.stat('tenant-a/assets/scene-1/data.tif'))?.size, size);
        assert.equal(await bare.stat('scene-1/data.tif'), undefined);
      });

      it("a key within S3's 1,024 bytes alone but not under the prefix: refused on put, missing on read and stat", async () => {
        const key = `${'k'.repeat(200)}/`.repeat(5) + 'x'.repeat(14); // 1,019 bytes; 1,035 under 'tenant-a/assets/'
        assert.equal(Buffer.byteLength(key), 1019);
        await assert.rejects(store.put(key, Buffer.from('x')), UnsafeAssetKey);
        assert.deepEqual(await store.read(key), { status: 'missing' });
        assert.equal(await store.stat(key), undefined);
        await store.put(key.slice(0, -12), Buffer.from('x')); // 1,023 bytes under the prefix: fits
        assert.equal((await store.stat(key.slice(0, -12)))?.size, 1);
      });
    }
  });
}

describe('Range header parsing (RFC 9110 §14.1)', () => {
  it('parses one byte range and ignores what it may ignore', () => {
    assert.deepEqual(parseRangeHeader('bytes=0-1023'), { first: 0, last: 1023 });
    assert.deepEqual(parseRangeHeader('bytes=100-'), { first: 100 });
    assert.deepEqual(parseRangeHeader('bytes=-500'), { suffix: 500 });
    assert.deepEqual(parseRangeHeader(' bytes=5-2'), { first: 5, last: 2 }, 'kept: a 416 whatever the size');
    for (const h of [undefined, 'bytes=', 'bytes=-', 'bytes=a-b', 'items=0-1', 'bytes=0-1,5-6', 'bytes=1-2-3'])
      assert.equal(parseRangeHeader(h), undefined, String(h));
  });
  it('resolves against a size as §14.1.2 says', () => {
    assert.deepEqual(resolveRange({ first: 0, last: 9 }, 5), { start: 0, end: 4 });
    assert.deepEqual(resolveRange({ suffix: 9 }, 5), { start: 0, end: 4 });
    assert.equal(resolveRange({ first: 5 }, 5), undefined);
    assert.equal(resolveRange({ suffix: 1 }, 0), undefined);
  });
});
