/**
 * The operator CLI as an operator runs it: `node bin/skyport.js …` in child processes, on a temp
 * data dir. Help for every command; org create (credential files 0600), list, client list (no
 * secrets), client disable/enable seen by a server on the same store, keys rotate/list; and
 * `skyport serve` as `npm start` runs it (demo bootstrap writes credentials 0600, SKYPORT_DEMO=false none).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { bearer, formToken, request, tokenFor } from './helpers/http.js';
import { poll, skyport, startDaemon, stopAll, type Daemon } from './helpers/proc.js';
import { freePort, startServer, type TestServer } from './helpers/server.js';

const tmp = (p: string) => mkdtempSync(path.join(os.tmpdir(), `skyport-cli-${p}-`));
const mode = (f: string) => statSync(f).mode & 0o777;

interface Creds {
  client_id: string;
  client_secret: string;
}

/** Rows of a `keys list` table: kid, alg, status. */
function keyRows(stdout: string): { kid: string; alg: string; status: string }[] {
  const lines = stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^KID\s+ALG\s+STATUS/);
  return lines.slice(1).map((l) => {
    const [kid, alg, status] = l.trim().split(/\s+/);
    return { kid: kid!, alg: alg!, status: status! };
  });
}

describe('skyport CLI: help', { concurrency: true }, () => {
  const commands = [
    ['serve'],
    ['org', 'create'],
    ['org', 'list'],
    ['client', 'list'],
    ['client', 'disable'],
    ['client', 'enable'],
    ['keys', 'rotate'],
    ['keys', 'list'],
  ];
  let dir: string;
  before(() => {
    dir = tmp('help');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const cmd of commands) {
    it(`${cmd.join(' ')} --help exits 0 and prints its usage`, async () => {
      const r = await skyport([...cmd, '--help'], { SKYPORT_DATA_DIR: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: skyport ${cmd.join(' ')} `, 'm'));
      assert.match(r.stdout, /--data-dir/);
      assert.match(r.stdout, /-h, --help/);
    });
  }

  it('top-level --help lists the command groups; --help creates no store', async () => {
    const r = await skyport(['--help'], { SKYPORT_DATA_DIR: dir });
    assert.equal(r.code, 0);
    for (const c of ['serve', 'org', 'client', 'keys']) assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'));
    assert.ok(!existsSync(path.join(dir, 'skyport.db')), 'help touched no database');
  });

  it('an unknown command or missing argument is a non-zero exit with a message', async () => {
    const u = await skyport(['frobnicate'], { SKYPORT_DATA_DIR: dir });
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /unknown command/i);
    const m = await skyport(['org', 'create'], { SKYPORT_DATA_DIR: dir });
    assert.notEqual(m.code, 0);
    assert.match(m.stderr, /missing required argument/i);
  });
});

describe('skyport CLI: organizations, clients and keys on one data dir', () => {
  let dir: string;
  let out: string;
  let env: Record<string, string>;
  let acme: Record<'admin' | 'tasking' | 'read-only', Creds>;
  let s: TestServer | undefined;
  before(() => {
    dir = tmp('data');
    out = path.join(tmp('out'), 'acme-creds');
    env = { SKYPORT_DATA_DIR: dir };
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.dirname(out), { recursive: true, force: true });
  });

  it('org create acme --out <dir> writes three credential files, mode 0600, with client_id and client_secret', async () => {
    const r = await skyport(['org', 'create', 'acme', '--out', out], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created organization acme/);
    assert.equal(mode(out), 0o700, 'the credentials folder is 0700');
    acme = {} as typeof acme;
    for (const scope of ['admin', 'tasking', 'read-only'] as const) {
      const f = path.join(out, `${scope}.json`);
      assert.ok(existsSync(f), `${f} exists`);
      assert.equal(mode(f), 0o600, `${scope}.json is 0600`);
      const j = JSON.parse(readFileSync(f, 'utf8'));
      assert.equal(typeof j.client_id, 'string');
      assert.equal(typeof j.client_secret, 'string');
      assert.match(j.client_secret, /^[A-Za-z0-9._~-]{32,}$/, 'high-entropy secret of unreserved characters');
      assert.equal(j.root_scope, scope);
      assert.equal(j.organization, 'acme');
      assert.ok(!r.stdout.includes(j.client_secret), 'the secret is not printed');
      acme[scope] = { client_id: j.client_id, client_secret: j.client_secret };
    }
    assert.equal(new Set(Object.values(acme).map((c) => c.client_id)).size, 3);
  });

  it('creating it twice fails with exit code 2, a clear message, and leaves the files alone', async () => {
    const before1 = readFileSync(path.join(out, 'admin.json'), 'utf8');
    const r = await skyport(['org', 'create', 'acme', '--out', out], env);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /acme/);
    assert.match(r.stderr, /exists/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.equal(readFileSync(path.join(out, 'admin.json'), 'utf8'), before1);
  });

  it('an invalid organization name is exit code 2', async () => {
    const r = await skyport(['org', 'create', '../etc'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /organization name/);
  });

  it('org list shows it', async () => {
    const r = await skyport(['org', 'list'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ID\s+NAME\s+CREATED_AT/);
    assert.match(r.stdout, /^org_\S+\s+acme\s+\d{4}-/m);
    const j = await skyport(['org', 'list', '--json'], env);
    assert.deepEqual(
      JSON.parse(j.stdout).map((o: { name: string }) => o.name),
      ['acme'],
    );
  });

  it('client list --org acme shows its three clients and never a secret', async () => {
    const r = await skyport(['client', 'list', '--org', 'acme'], env);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').slice(1);
    assert.equal(rows.length, 3, r.stdout);
    for (const [scope, c] of Object.entries(acme)) {
      const row = rows.find((l) => l.startsWith(c.client_id));
      assert.ok(row, `${scope} client listed`);
      assert.match(row, new RegExp(`\\b${scope}\\b`));
      assert.match(row, /\btrue\b/, 'enabled');
      assert.ok(!r.stdout.includes(c.client_secret), 'no secret in the table');
    }
    const j = await skyport(['client', 'list', '--org', 'acme', '--json'], env);
    assert.equal(j.code, 0);
    const list = JSON.parse(j.stdout) as Record<string, unknown>[];
    assert.equal(list.length, 3);
    for (const c of Object.values(acme)) assert.ok(!j.stdout.includes(c.client_secret), 'no secret in JSON');
    for (const row of list) assert.ok(!('client_secret' in row) && !('hash' in row));
    const none = await skyport(['client', 'list', '--org', 'no-such-org'], env);
    assert.equal(none.code, 2);
  });

  it('client disable: a server on that data dir refuses the client (invalid_client); client enable restores it', async () => {
    const ro = acme['read-only'];
    const d = await skyport(['client', 'disable', ro.client_id], env);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Disabled/);
    s = await startServer({ dataDir: dir });
    const form = `grant_type=client_credentials&client_id=${ro.client_id}&client_secret=${ro.client_secret}`;
    const refused = await formToken(s.url, form);
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.json.error, 'invalid_client');
    // The other acme clients are unaffected.
    assert.equal(
      (
        await formToken(
          s.url,
          `grant_type=client_credentials&client_id=${acme.tasking.client_id}&client_secret=${acme.tasking.client_secret}`,
        )
      ).status,
      200,
    );

    const e = await skyport(['client', 'enable', ro.client_id], env);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /Enabled/);
    const ok = await formToken(s.url, form);
    assert.equal(ok.status, 200, ok.text);
    const listed = await skyport(['client', 'list', '--org', 'acme', '--json'], env);
    assert.equal(JSON.parse(listed.stdout).find((c: { client_id: string }) => c.client_id === ro.client_id).enabled, true);
    const unknown = await skyport(['client', 'disable', 'no-such-client'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no client/);
  });

  it('client disable while a server runs: its live token is refused within the sync bound', async () => {
    assert.ok(s, 'server from the previous test');
    const t = acme.tasking;
    const token = await tokenFor(s.url, t);
    assert.equal((await request(`${s.url}/collections`, { headers: bearer(token) })).status, 200);
    const d = await skyport(['client', 'disable', t.client_id], env);
    assert.equal(d.code, 0, d.stderr);
    const refused = await poll(async () => (await request(`${s!.url}/collections`, { headers: bearer(token) })).status === 401, 3000);
    assert.ok(refused, 'live token refused after an operator disable');
    await skyport(['client', 'enable', t.client_id], env);
  });

  it('keys rotate changes the current kid shown by keys list, and the running server follows', async () => {
    assert.ok(s, 'server from the previous test');
    const l0 = await skyport(['keys', 'list'], env);
    assert.equal(l0.code, 0, l0.stderr);
    const rows0 = keyRows(l0.stdout);
    const current0 = rows0.find((k) => k.status === 'current');
    const next0 = rows0.find((k) => k.status === 'next');
    assert.ok(current0 && next0, l0.stdout);
    assert.equal(current0.alg, 'RS256');

    // A next key published moments ago is not promoted without --force: JWKS caches may not know it yet.
    const early = await skyport(['keys', 'rotate'], env);
    assert.equal(early.code, 2, early.stdout);
    assert.match(early.stderr, /--force/);
    assert.equal(keyRows((await skyport(['keys', 'list'], env)).stdout).find((k) => k.status === 'current')?.kid, current0.kid);

    const r = await skyport(['keys', 'rotate', '--force'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(next0.kid));

    const rows1 = keyRows((await skyport(['keys', 'list'], env)).stdout);
    const current1 = rows1.find((k) => k.status === 'current');
    assert.ok(current1);
    assert.notEqual(current1.kid, current0.kid, 'the current kid changed');
    assert.equal(current1.kid, next0.kid, 'the published next key became current');
    assert.equal(rows1.find((k) => k.kid === current0.kid)?.status, 'retired');
    assert.ok(
      rows1.some((k) => k.status === 'next' && k.kid !== next0.kid),
      'a new next key',
    );

    const follows = await poll(async () => decodeProtectedHeader(await tokenFor(s!.url, acme.admin)).kid === current1.kid, 3000);
    assert.ok(follows, 'the running server signs with the rotated key');
  });
});

describe('skyport CLI: org create when the credential files cannot be written', () => {
  let dir: string;
  before(() => {
    dir = tmp('atomic');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails without leaving an organization whose root secrets nobody has; a retry with a good --out succeeds', async () => {
    const env = { SKYPORT_DATA_DIR: path.join(dir, 'data') };
    // --out names an existing regular file: the credential folder cannot be created.
    const blocked = path.join(dir, 'not-a-folder');
    writeFileSync(blocked, '');
    const r = await skyport(['org', 'create', 'beta', '--out', blocked], env);
    assert.notEqual(r.code, 0, 'the command reports the failure');
    assert.match(r.stderr, /not-a-folder/);
    // The secrets were shown to no one and are stored only as hashes: the organization must not exist
    // (or at least the operator must be able to create it again and get its credentials).
    const retryOut = path.join(dir, 'beta-creds');
    const retry = await skyport(['org', 'create', 'beta', '--out', retryOut], env);
    assert.equal(retry.code, 0, `retry after a failed write: ${retry.stderr}`);
    assert.ok(existsSync(path.join(retryOut, 'admin.json')));
    const orgs = JSON.parse((await skyport(['org', 'list', '--json'], env)).stdout) as { name: string }[];
    assert.deepEqual(
      orgs.map((o) => o.name),
      ['beta'],
    );
  });
});

describe('skyport serve (as npm start runs it)', () => {
  const daemons: Daemon[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const d of daemons) await d.stop().catch(() => {});
    stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function serve(extra: Record<string, string> = {}): Promise<{ d: Daemon; url: string; dir: string }> {
    const dir = tmp('serve');
    dirs.push(dir);
    const port = await freePort();
    const d = startDaemon(['serve'], { PORT: String(port), HOST: '127.0.0.1', SKYPORT_DATA_DIR: dir, SKYPORT_LOG_LEVEL: 'warn', ...extra });
    daemons.push(d);
    const url = `http://127.0.0.1:${port}`;
    const up = await poll(async () => (await request(`${url}/.well-known/oauth-authorization-server`)).status === 200, 20_000, 100);
    assert.ok(up, `server did not come up:\n${d.output()}`);
    return { d, url, dir };
  }

  it('first start bootstraps the demo: credentials/*.json with mode 0600 that work against the server', async () => {
    const { d, url, dir } = await serve();
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    try {
      const meta = (await request(`${url}/.well-known/oauth-authorization-server`)).json;
      assert.equal(meta.issuer, url);
      for (const scope of ['admin', 'tasking', 'read-only']) {
        const f = path.join(dir, 'credentials', `${scope}.json`);
        assert.ok(existsSync(f), `${f} exists`);
        assert.equal(mode(f), 0o600, `${scope}.json is 0600`);
      }
      const ro = JSON.parse(readFileSync(path.join(dir, 'credentials', 'read-only.json'), 'utf8'));
      assert.equal(ro.token_url, `${url}/oauth2/token`);
      assert.match(d.output(), /read-only\.json/, 'the first-start message names the credential files');
      assert.ok(!d.output().includes(ro.client_secret), 'the secret is not printed');
      const token = await tokenFor(url, ro);
      const c = await request(`${url}/collections`, { headers: bearer(token) });
      assert.equal(c.status, 200);
      assert.ok(c.json.collections.some((x: { id: string }) => x.id === 'skyport-lst'));
    } finally {
      exit = await d.stop();
    }
    assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', `clean exit on SIGTERM: ${JSON.stringify(exit)}\n${d.output()}`);
  });

  it('SKYPORT_WORKERS=2 serves from two processes sharing the store; tokens verify across them', async () => {
    const { d, url, dir } = await serve({ SKYPORT_WORKERS: '2' });
    try {
      const ro = JSON.parse(readFileSync(path.join(dir, 'credentials', 'read-only.json'), 'utf8'));
      // Many connections land on both workers; every token must work on whichever worker answers.
      const tokens = await Promise.all(Array.from({ length: 20 }, () => tokenFor(url, ro)));
      const statuses = await Promise.all(tokens.map((t) => request(`${url}/collections`, { headers: bearer(t) }).then((r) => r.status)));
      assert.deepEqual([...new Set(statuses)], [200]);
      assert.match(d.output(), /2 workers/);
      // One signing key for both workers: the first start created the keys once.
      assert.equal((await request(`${url}/.well-known/jwks.json`)).json.keys.length, 2);
    } finally {
      await d.stop();
    }
  });

  it('SKYPORT_DEMO=false writes no credentials', async () => {
    const { d, url, dir } = await serve({ SKYPORT_DEMO: 'false' });
    try {
      assert.equal((await request(`${url}/.well-known/jwks.json`)).status, 200);
      assert.ok(!existsSync(path.join(dir, 'credentials')), 'no credentials folder');
      assert.doesNotMatch(d.output(), /demo organization/);
    } finally {
      await d.stop();
    }
    const orgs = await skyport(['org', 'list', '--json'], { SKYPORT_DATA_DIR: dir });
    assert.equal(orgs.code, 0, orgs.stderr);
    assert.deepEqual(JSON.parse(orgs.stdout), [], 'no demo organization either');
  });
});
