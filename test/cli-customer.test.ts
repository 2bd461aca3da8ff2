/**
 * Customer commands (`skyport login`, `token`, `whoami`) against a real server, as a user runs them:
 * profiles stored 0600, creds files readable by others refused, exit codes that say what failed,
 * no secret echoed.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from './helpers/server.js';
import { bearer, request } from './helpers/http.js';
import { skyport } from './helpers/proc.js';

describe('skyport login / token / whoami', () => {
  let s: TestServer;
  let home: string;
  let env: Record<string, string>;
  let creds: string;
  before(async () => {
    s = await startServer();
    home = mkdtempSync(path.join(os.tmpdir(), 'skyport-home-'));
    env = { XDG_CONFIG_HOME: path.join(home, 'config') };
    creds = path.join(home, 'creds.json');
    copyFileSync(path.join(s.config.dataDir, 'credentials', 'read-only.json'), creds);
    chmodSync(creds, 0o600);
  });
  after(async () => {
    await s.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('login refuses a creds file others can read, saying chmod 600 (exit 2)', async () => {
    chmodSync(creds, 0o644);
    const r = await skyport(['login', '--creds', creds], env);
    chmodSync(creds, 0o600);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /chmod 600/);
  });

  it('login stores a 0600 profile; token prints a token the API accepts; whoami explains it', async () => {
    const login = await skyport(['login', '--creds', creds], env);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /read-only root scope/);
    const file = path.join(home, 'config', 'skyport', 'profiles.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const secret = JSON.parse(readFileSync(creds, 'utf8')).client_secret as string;
    assert.ok(!login.stdout.includes(secret) && !login.stderr.includes(secret), 'no secret echoed');
    const t = await skyport(['token'], env);
    assert.equal(t.code, 0, t.stderr);
    const jwt = t.stdout.trim();
    assert.equal((await request(`${s.url}/collections`, { headers: bearer(jwt) })).status, 200);
    const narrow = await skyport(['token', '--scope', 'assets:read'], env);
    assert.equal((await request(`${s.url}/collections`, { headers: bearer(narrow.stdout.trim()) })).status, 403);
    const who = await skyport(['whoami'], env);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /root scope\s+read-only/);
    assert.match(who.stdout, /permissions\s+catalog:read assets:read tasking:read/);
    const json = JSON.parse((await skyport(['whoami', '--json'], env)).stdout);
    assert.equal(json.azp, JSON.parse(readFileSync(creds, 'utf8')).client_id);
  });

  it('collections lists what the organization may see, as JSON when piped', async () => {
    const r = await skyport(['collections'], env);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout);
    assert.ok(list.some((c: any) => c.id === 'skyport-lst' && c.type === 'Collection'));
  });

  it('logins run at the same time keep every profile (no lost read-modify-write)', async () => {
    const names = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8'];
    const runs = await Promise.all(names.map((n) => skyport(['login', '--creds', creds, '--profile', n], env)));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const file = path.join(home, 'config', 'skyport', 'profiles.json');
    const saved = Object.keys(JSON.parse(readFileSync(file, 'utf8')));
    for (const n of names) assert.ok(saved.includes(n), `${n} in ${saved.join(',')}`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('a damaged profiles file is reported, not silently replaced', async () => {
    const file = path.join(home, 'config', 'skyport', 'profiles.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.slice(0, -5));
    try {
      const r = await skyport(['login', '--creds', creds, '--profile', 'second'], env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /not valid JSON/);
      assert.equal(readFileSync(file, 'utf8'), good.slice(0, -5), 'left as it was');
    } finally {
      writeFileSync(file, good);
    }
  });

  it('a refused secret is exit 3 with a message; a missing profile is exit 2; an unreachable server is exit 4', async () => {
    const bad = path.join(home, 'bad.json');
    copyFileSync(creds, bad);
    chmodSync(bad, 0o600);
    const c = JSON.parse(readFileSync(bad, 'utf8'));
    writeFileSync(bad, JSON.stringify({ ...c, client_secret: 'sks_wrong' }), { mode: 0o600 });
    const r = await skyport(['login', '--creds', bad, '--profile', 'bad'], env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /refused the client credentials/);
    const none = await skyport(['whoami', '--profile', 'nobody'], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /skyport login/);
    writeFileSync(bad, JSON.stringify({ ...c, token_url: 'http://127.0.0.1:9/oauth2/token' }), { mode: 0o600 });
    const down = await skyport(['login', '--creds', bad, '--profile', 'down'], env);
    assert.equal(down.code, 4, down.stderr);
  });
});

describe('skyport clients (with an admin profile)', () => {
  let s: TestServer;
  let home: string;
  let env: Record<string, string>;
  before(async () => {
    s = await startServer();
    home = mkdtempSync(path.join(os.tmpdir(), 'skyport-home-'));
    env = { XDG_CONFIG_HOME: path.join(home, 'config') };
    const creds = path.join(home, 'admin.json');
    copyFileSync(path.join(s.config.dataDir, 'credentials', 'admin.json'), creds);
    chmodSync(creds, 0o600);
    const login = await skyport(['login', '--creds', creds, '--profile', 'adm'], env);
    assert.equal(login.code, 0, login.stderr);
  });
  after(async () => {
    await s.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('create --out writes 0600 creds that work; list shows the client; rotate, disable, enable, delete act on it', async () => {
    const out = path.join(home, 'nightly.json');
    const c = await skyport(
      [
        'clients',
        'create',
        '--profile',
        'adm',
        '--name',
        'nightly',
        '--root-scope',
        'read-only',
        '--permissions',
        'catalog:read',
        '--out',
        out,
      ],
      env,
    );
    assert.equal(c.code, 0, c.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const created = JSON.parse(readFileSync(out, 'utf8'));
    assert.ok(!c.stdout.includes(created.client_secret), 'with --out the secret is not printed');
    assert.equal((await skyport(['login', '--creds', out, '--profile', 'nightly'], env)).code, 0);
    const who = await skyport(['whoami', '--profile', 'nightly'], env);
    assert.match(who.stdout, /permissions\s+catalog:read$/m);
    const list = await skyport(['clients', 'list', '--profile', 'adm', '--json'], env);
    assert.ok(JSON.parse(list.stdout).some((x: any) => x.client_id === created.client_id && x.name === 'nightly'));
    const rot = await skyport(['clients', 'rotate', created.client_id, '--profile', 'adm'], env);
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stdout, /client_secret sks_/, 'without --out the new secret is shown once');
    assert.equal((await skyport(['whoami', '--profile', 'nightly'], env)).code, 3, 'the old secret stopped working');
    for (const verb of ['disable', 'enable', 'delete']) {
      const r = await skyport(['clients', verb, created.client_id, '--profile', 'adm'], env);
      assert.equal(r.code, 0, `${verb}: ${r.stderr}`);
    }
    const gone = await skyport(['clients', 'delete', created.client_id, '--profile', 'adm'], env);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /404/);
  });

  it('a request above the root scope is refused by the server (exit 3) and creates nothing', async () => {
    const before = JSON.parse((await skyport(['clients', 'list', '--profile', 'adm', '--json'], env)).stdout).length;
    const r = await skyport(
      ['clients', 'create', '--profile', 'adm', '--name', 'x', '--root-scope', 'read-only', '--permissions', 'tasking:order'],
      env,
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /outside the read-only root scope/);
    assert.equal(JSON.parse((await skyport(['clients', 'list', '--profile', 'adm', '--json'], env)).stdout).length, before);
  });
});
