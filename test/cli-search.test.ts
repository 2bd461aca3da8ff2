/**
 * `skyport search` and `skyport download` end to end, as a user runs them against a real server:
 * NDJSON when piped, table and GeoJSON on request, the total limit across pages, resume of a partial
 * download, and exit codes consistent with the other customer commands (2 usage or a refused request,
 * 3 not permitted).
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from './helpers/server.js';
import { skyport } from './helpers/proc.js';
import { Mgmt } from './helpers/management.js';

const N = 12;
const ASSET = Buffer.from(Array.from({ length: 150_000 }, (_, n) => (n * 13) % 251));
const id = (n: number) => `c-${String(n).padStart(2, '0')}`;

describe('skyport search / download', () => {
  let s: TestServer;
  let home: string;
  let env: Record<string, string>;
  before(async () => {
    s = await startServer();
    home = mkdtempSync(path.join(os.tmpdir(), 'skyport-home-'));
    env = { XDG_CONFIG_HOME: path.join(home, 'config') };
    const demo = (await s.skyport.storage.getOrganizationByName('demo'))!;
    const body = {
      type: 'Collection',
      id: 'cli-test',
      stac_version: '1.0.0',
      description: 'd',
      license: 'proprietary',
      extent: {},
      links: [],
    };
    await s.skyport.storage.upsertCollection({ id: 'cli-test', access: 'private', ownerOrgId: demo.id, body, updatedAt: 1 });
    await s.skyport.storage.upsertItems(
      Array.from({ length: N }, (_, n) => ({
        collection: 'cli-test',
        id: id(n),
        item: {
          type: 'Feature',
          stac_version: '1.0.0',
          id: id(n),
          collection: 'cli-test',
          geometry: { type: 'Point', coordinates: [10 + n, 45] },
          bbox: [10 + n, 45, 10 + n, 45],
          properties: { datetime: `2024-06-${String(n + 1).padStart(2, '0')}T09:30:00Z`, 'eo:cloud_cover': n * 5 },
          links: [],
          assets: n === 0 ? { data: { href: 'asset:cli-test/c-00.tif', type: 'image/tiff; application=geotiff' } } : {},
        },
      })),
    );
    mkdirSync(path.join(s.config.assetsDir, 'cli-test'), { recursive: true });
    writeFileSync(path.join(s.config.assetsDir, 'cli-test', 'c-00.tif'), ASSET);
    const creds = path.join(home, 'creds.json');
    copyFileSync(path.join(s.config.dataDir, 'credentials', 'read-only.json'), creds);
    chmodSync(creds, 0o600);
    const login = await skyport(['login', '--creds', creds], env);
    assert.equal(login.code, 0, login.stderr);
  });
  after(async () => {
    await s.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('search prints NDJSON when piped, at most --limit items in all', async () => {
    const seven = await skyport(['search', '--collections', 'cli-test', '--limit', '7'], env);
    assert.equal(seven.code, 0, seven.stderr);
    const lines = seven.stdout.trim().split('\n');
    assert.equal(lines.length, 7);
    const items = lines.map((l) => JSON.parse(l));
    assert.ok(items.every((f) => f.type === 'Feature' && f.collection === 'cli-test'));
    assert.equal(new Set(items.map((f) => f.id)).size, 7);
  });

  it('search --format table (id, collection, datetime, cloud cover) and --format geojson, with filter, sortby, bbox, datetime', async () => {
    const [t, g] = await Promise.all([
      skyport(
        ['search', '--collections', 'cli-test', '--filter', 'eo:cloud_cover < 20', '--sortby', '-datetime', '--format', 'table'],
        env,
      ),
      skyport(
        [
          'search',
          '--collections',
          'cli-test',
          '--bbox',
          '11.5,44,14.5,46',
          '--datetime',
          '2024-06-03T00:00:00Z/..',
          '--format',
          'geojson',
        ],
        env,
      ),
    ]);
    assert.equal(t.code, 0, t.stderr);
    const rows = t.stdout.trim().split('\n');
    assert.match(rows[0]!, /^ID\s+COLLECTION\s+DATETIME\s+CLOUD COVER$/);
    assert.deepEqual(
      rows.slice(1, -1).map((r) => r.split(/\s+/)[0]),
      [id(3), id(2), id(1), id(0)],
    );
    assert.match(rows[1]!, /c-03\s+cli-test\s+2024-06-04T09:30:00Z\s+15\.0 %/);
    assert.equal(rows.at(-1), '4 item(s) of 4 matching');
    assert.equal(g.code, 0, g.stderr);
    const fc = JSON.parse(g.stdout);
    assert.equal(fc.type, 'FeatureCollection');
    assert.deepEqual(fc.features.map((f: any) => f.id).sort(), [id(2), id(3), id(4)]);
    assert.equal(fc.numberMatched, 3);
  });

  it('search mistakes are exit 2: local ones named by the CLI, the rest with the server reason; --help has an example', async () => {
    const [bbox, datetime, sHelp, dHelp] = await Promise.all([
      skyport(['search', '--bbox', '1,2,3'], env),
      skyport(['search', '--datetime', 'yesterday'], env),
      skyport(['search', '--help'], env),
      skyport(['download', '--help'], env),
    ]);
    for (const [r, re] of [
      [bbox, /--bbox takes 4 numbers/],
      [datetime, /400 BadRequest: datetime/],
    ] as const) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
    }
    assert.equal(sHelp.code, 0);
    assert.match(sHelp.stdout, /Example:\n\s+skyport search --collections/);
    assert.match(dHelp.stdout, /Examples:\n\s+skyport download \S+\/\S+/);
  });

  it('download writes <item>_<asset><ext>, skips it when present, and resumes a partial file', async () => {
    const out = path.join(home, 'dl');
    const r = await skyport(['download', 'cli-test/c-00', '--out', out], env);
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(out, 'c-00_data.tif');
    assert.deepEqual(readFileSync(file), ASSET);
    assert.match(r.stdout, /c-00_data\.tif\s+150\.0 kB\n$/);
    const again = await skyport(['download', 'cli-test/c-00', '--out', out], env);
    assert.match(again.stdout, /exists \(skipped/);
    const out2 = path.join(home, 'dl2');
    mkdirSync(out2);
    writeFileSync(path.join(out2, 'c-00_data.tif.part'), ASSET.subarray(0, 50_000));
    const resumed = await skyport(['download', 'cli-test/c-00', '--asset', 'data', '--out', out2], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /resumed at 50\.0 kB/);
    assert.deepEqual(readFileSync(path.join(out2, 'c-00_data.tif')), ASSET);
    assert.ok(!existsSync(path.join(out2, 'c-00_data.tif.part')));
  });

  it('download failures: a missing item or asset is exit 2; a profile without assets:read is exit 3', async () => {
    const m = await Mgmt.as(s.url, s.creds.admin);
    const narrow = await m.createOk({ name: 'catalog only', root_scope: 'read-only', permissions: ['catalog:read'] });
    const creds = path.join(home, 'narrow.json');
    writeFileSync(creds, JSON.stringify({ ...narrow.cred, token_url: s.creds['read-only'].token_url }), { mode: 0o600 });
    const login = await skyport(['login', '--creds', creds, '--profile', 'narrow'], env);
    assert.equal(login.code, 0, login.stderr);
    const out = path.join(home, 'dl3');
    const [missing, noAsset, denied] = await Promise.all([
      skyport(['download', 'cli-test/nope', '--out', out], env),
      skyport(['download', 'cli-test/c-00', '--asset', 'thumbnail', '--out', out], env),
      skyport(['download', 'cli-test/c-00', '--profile', 'narrow', '--out', out], env),
    ]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /404 NotFound/);
    assert.equal(noAsset.code, 2, noAsset.stderr);
    assert.match(noAsset.stderr, /no asset thumbnail; its assets: data/);
    assert.equal(denied.code, 3, denied.stderr);
    assert.match(denied.stderr, /assets:read/);
    assert.ok(!existsSync(path.join(out, 'c-00_data.tif')));
  });
});
