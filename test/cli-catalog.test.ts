/**
 * The operator's catalog and tasking commands end to end, as a shell runs them: generate piped into
 * load, rejections reported with file, line and field (exit 1), grant refusing to hide an open
 * collection without --restrict, platform clients, element sets, and credential files that point at
 * the URL the server last served.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, skyport, SKYPORT_BIN, cleanEnv } from './helpers/proc.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { SERVED_PUBLIC_URL_META } from '../src/main.js';

describe('skyport catalog / platform / tasking (operator CLI)', () => {
  let dir: string;
  const env = () => ({ SKYPORT_DATA_DIR: dir, SKYPORT_DEMO: 'false' });
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-cli-catalog-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generate | load -, then list; loading again updates without inserting', async () => {
    const gen = await skyport(
      ['catalog', 'generate', '--items', '300', '--collections', '2', '--out', path.join(dir, 'g.ndjson'), '--sample-assets'],
      env(),
    );
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stderr, /Wrote 2 collections and 300 items/);
    // Every generated item's assets point at its collection's shared sample files: --sample-assets wrote them.
    const hrefs = new Set(
      readFileSync(path.join(dir, 'g.ndjson'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"Feature"'))
        .flatMap((l) => Object.values((JSON.parse(l) as { assets: Record<string, { href: string }> }).assets).map((a) => a.href)),
    );
    assert.equal(hrefs.size, 4, [...hrefs].join(' '));
    for (const href of hrefs) assert.ok(statSync(path.join(dir, 'assets', href.replace(/^asset:/, ''))).size > 0, href);
    const load = await run(process.execPath, [SKYPORT_BIN, 'catalog', 'load', '-'], {
      env: cleanEnv(env()),
      input: readFileSync(path.join(dir, 'g.ndjson'), 'utf8'),
    });
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Into:\s+SQLite .*skyport\.db/, 'the summary names the store it wrote');
    assert.match(load.stdout, /Collections: 2 loaded/);
    assert.match(load.stdout, /Items:\s+300 loaded, 0 updated, 0 rejected/);
    const again = await skyport(['catalog', 'load', path.join(dir, 'g.ndjson'), '--json'], env());
    assert.equal(JSON.parse(again.stdout).items.updated, 300);
    const list = await skyport(['catalog', 'list'], env());
    assert.match(list.stdout, /skyport-bench-1\s+open/);
  });

  it('rejections name the line and the field, the valid rest loads, and the exit code says so', async () => {
    const good = JSON.parse(readFileSync(path.join(dir, 'g.ndjson'), 'utf8').split('\n')[2]!);
    const lines = [
      JSON.stringify({ ...good, id: 'ok-1' }),
      JSON.stringify({ ...good, id: 'bad-lat', geometry: { type: 'Point', coordinates: [10, 95] } }),
      JSON.stringify({ ...good, id: 'bad-cc', properties: { ...good.properties, 'eo:cloud_cover': 'five' } }),
      '{not json',
      JSON.stringify({ ...good, id: 'bad-coll', collection: 'nope' }),
    ];
    writeFileSync(path.join(dir, 'mixed.ndjson'), lines.join('\n'));
    const r = await skyport(['catalog', 'load', path.join(dir, 'mixed.ndjson')], env());
    assert.equal(r.code, 1, 'rejections give exit 1');
    assert.match(r.stdout, /Items:\s+1 loaded, 0 updated, 4 rejected/);
    assert.match(r.stdout, /mixed\.ndjson:2 \(bad-lat\): geometry\.coordinates: latitude 95/);
    assert.match(r.stdout, /mixed\.ndjson:3 \(bad-cc\): properties\.eo:cloud_cover/);
    assert.match(r.stdout, /mixed\.ndjson:4: \(line\): not valid JSON/);
    assert.match(r.stdout, /mixed\.ndjson:5 \(bad-coll\): collection: collection "nope" does not exist/);
  });

  it('grant refuses to hide an open collection unless --restrict; revoke undoes a grant', async () => {
    assert.equal((await skyport(['org', 'create', 'acme', '--out', path.join(dir, 'acme')], env())).code, 0);
    const refused = await skyport(['catalog', 'grant', 'skyport-bench-1', 'acme'], env());
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /is open: every organization sees it already.*--restrict/);
    const ok = await skyport(['catalog', 'grant', 'skyport-bench-1', 'acme', '--restrict'], env());
    assert.equal(ok.code, 0, ok.stderr);
    assert.match((await skyport(['catalog', 'list'], env())).stdout, /skyport-bench-1\s+licensed\s+acme/);
    const twice = await skyport(['catalog', 'grant', 'skyport-bench-1', 'acme'], env());
    assert.equal(twice.code, 0, twice.stderr);
    assert.match(twice.stdout, /acme already holds a license to skyport-bench-1/);
    const listed = JSON.parse((await skyport(['catalog', 'list', '--json'], env())).stdout) as { id: string; licensed_to: string }[];
    assert.equal(listed.find((c) => c.id === 'skyport-bench-1')?.licensed_to, 'acme');
    assert.equal((await skyport(['catalog', 'revoke', 'skyport-bench-1', 'acme'], env())).code, 0);
    assert.equal((await skyport(['catalog', 'revoke', 'skyport-bench-1', 'acme'], env())).code, 2);
  });

  it('credential files written by the CLI point at the URL the server last served', async () => {
    const s = new SqliteStorage(path.join(dir, 'skyport.db'));
    await s.setMeta(SERVED_PUBLIC_URL_META, 'http://127.0.0.1:18555');
    await s.close();
    const r = await skyport(['platform', 'client-create', 'pipeline', '--out', path.join(dir, 'platform.json')], env());
    assert.equal(r.code, 0, r.stderr);
    const creds = JSON.parse(readFileSync(path.join(dir, 'platform.json'), 'utf8'));
    assert.equal(creds.token_url, 'http://127.0.0.1:18555/oauth2/token');
    assert.equal(creds.root_scope, 'platform');
    assert.equal(statSync(path.join(dir, 'platform.json')).mode & 0o777, 0o600);
    assert.ok(!r.stdout.includes(creds.client_secret), 'the secret is not printed');
    const org = await skyport(['org', 'create', 'beta', '--out', path.join(dir, 'beta')], env());
    assert.equal(org.code, 0, org.stderr);
    assert.equal(
      JSON.parse(readFileSync(path.join(dir, 'beta', 'read-only.json'), 'utf8')).token_url,
      'http://127.0.0.1:18555/oauth2/token',
    );
  });

  it('tasking tle load takes 3-line sets and reports malformed ones with the reason; --version answers', async () => {
    // Vallado's verification set 00005 (valid), then the same with line 1's checksum digit altered.
    const line1 = '1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753';
    const line2 = '2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667';
    const good = path.join(dir, 'good.tle');
    writeFileSync(good, `VANGUARD 1\n${line1}\n${line2}\n`);
    const r = await skyport(['tasking', 'tle', 'load', good, '--sensor', 'optical'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match((await skyport(['tasking', 'tle', 'list'], env())).stdout, /VANGUARD 1/);
    const bad = path.join(dir, 'bad.tle');
    writeFileSync(bad, `VANGUARD 1\n${line1.slice(0, -1)}4\n${line2}\n`);
    const b = await skyport(['tasking', 'tle', 'load', bad], env());
    assert.equal(b.code, 2);
    assert.match(b.stdout + b.stderr, /checksum/i);
    const v = await skyport(['--version'], env());
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
});
