/**
 * Regression tests for the findings of the adversarial review (each failed before its fix):
 * delegation through secret rotation, file modes of the embedded store, proxy trust, the
 * limiter under concurrency, revocation retention, duplicate Authorization lines, validation
 * before authentication, padded tokens, name characters, secrets in paths, 405 at the token endpoint.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, ConfigError } from '../src/config.js';
import { startServer, stores, freePort, type TestServer } from './helpers/server.js';
import { bearer, formToken, request, tokenFor } from './helpers/http.js';
import { Mgmt } from './helpers/management.js';
import { poll, startDaemon, stopAll } from './helpers/proc.js';

/** A raw HTTP/1.1 request over a socket, so that header lines can repeat (fetch and http.request merge or reframe them). */
function rawRequest(url: string, method: string, rawHeaders: [string, string][], body = ''): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const lines = [`${method} ${u.pathname} HTTP/1.1`, `Host: ${u.host}`, ...rawHeaders.map(([k, v]) => `${k}: ${v}`)];
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body);
  return new Promise((resolve, reject) => {
    let out = '';
    const c = net.connect(Number(u.port), u.hostname, () => c.end(lines.join('\r\n')));
    c.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('end', () => resolve({ status: Number(out.split(' ')[1]), body: out.slice(out.indexOf('\r\n\r\n') + 4) }));
  });
}

for (const store of await stores()) {
  describe(`review findings (${store})`, () => {
    let s: TestServer;
    let admin: Mgmt;
    before(async () => {
      s = await startServer({
        store,
        env: { SKYPORT_RATE_LIMIT_CLIENT_ADDRESS: '3', SKYPORT_RATE_LIMIT_ADDRESS: '1000', SKYPORT_RATE_LIMIT_CLIENT: '1000' },
      });
      admin = await Mgmt.as(s.url, s.creds.admin);
    });
    after(() => s.close());

    it('F1: a write-only admin client cannot take over a read+write one through its secret, state or tokens', async () => {
      const { cred: writer } = await admin.createOk({ name: 'writer', root_scope: 'admin', permissions: ['admin:write'] });
      const { cred: rw } = await admin.createOk({ name: 'rw', root_scope: 'admin' });
      const w = await Mgmt.as(s.url, writer);
      for (const r of [
        await w.rotate(rw.client_id, { grace_period_seconds: 604800 }),
        await w.disable(rw.client_id),
        await w.enable(rw.client_id),
        await w.revokeTokens(rw.client_id),
        await w.del(rw.client_id),
        await w.patch(rw.client_id, { name: 'renamed' }),
      ]) {
        assert.equal(r.status, 403, r.text);
        assert.ok(!r.text.includes('client_secret'));
      }
      assert.equal(
        (await formToken(s.url, `grant_type=client_credentials&client_id=${rw.client_id}&client_secret=${rw.client_secret}`)).status,
        200,
      );
      // Without admin:read, a write answers with the id only, not the record.
      const { cred: reader } = await admin.createOk({ name: 'ro child', root_scope: 'read-only' });
      const en = await w.enable(reader.client_id);
      assert.equal(en.status, 200, en.text);
      assert.deepEqual(en.json, { client_id: reader.client_id });
    });

    it('F4: concurrent failures for one client from one address cannot outrun the limiter', async () => {
      const { cred } = await admin.createOk({ name: 'race target', root_scope: 'read-only' });
      const results = await Promise.all(
        Array.from({ length: 60 }, () =>
          formToken(s.url, `grant_type=client_credentials&client_id=${cred.client_id}&client_secret=sks_wrong`),
        ),
      );
      const evaluated = results.filter((r) => r.status === 401).length;
      assert.ok(evaluated <= 3, `${evaluated} attempts were evaluated against a limit of 3`);
      assert.equal(results.filter((r) => r.status === 429).length, 60 - evaluated);
    });

    it('F5: a revocation outlives the token for any clock skew an instance may allow', async () => {
      const ro = s.creds.tasking;
      const at = await tokenFor(s.url, ro);
      const exp = JSON.parse(Buffer.from(at.split('.')[1]!, 'base64url').toString()).exp as number;
      const t0 = Date.now();
      const r = await formToken(s.url, `token=${at}&client_id=${ro.client_id}&client_secret=${ro.client_secret}`).then(() =>
        request(`${s.url}/oauth2/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `token=${at}&client_id=${ro.client_id}&client_secret=${ro.client_secret}`,
        }),
      );
      assert.equal(r.status, 200);
      const rows = await s.skyport.storage.listRevocations(t0 - 1000, Date.now());
      const row = rows.find((x) => x.kind === 'token');
      assert.ok(row, 'a token revocation was stored');
      assert.ok(row.expiresAt >= exp * 1000 + 300_000, 'kept past exp + the largest allowed skew');
    });

    it('L2: two Authorization lines are refused, in either order, at the API and the token endpoint', async () => {
      const at = await tokenFor(s.url, s.creds['read-only']);
      for (const lines of [
        [
          ['Authorization', 'Bearer garbage'],
          ['Authorization', `Bearer ${at}`],
        ],
        [
          ['Authorization', `Bearer ${at}`],
          ['Authorization', 'Bearer garbage'],
        ],
      ] as [string, string][][]) {
        assert.equal((await rawRequest(`${s.url}/collections`, 'GET', lines)).status, 400);
      }
      const ro = s.creds['read-only'];
      const basic = `Basic ${Buffer.from(`${ro.client_id}:${ro.client_secret}`).toString('base64')}`;
      const r = await rawRequest(
        `${s.url}/oauth2/token`,
        'POST',
        [
          ['Content-Type', 'application/x-www-form-urlencoded'],
          ['Authorization', basic],
          ['Authorization', 'Basic eDp5'],
        ],
        'grant_type=client_credentials',
      );
      assert.equal(r.status, 400);
      assert.equal(JSON.parse(r.body).error, 'invalid_request');
    });

    it('L4: an unauthenticated caller gets 401 before any schema validation', async () => {
      const r = await request(`${s.url}/admin/clients`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"bogus":1}',
      });
      assert.equal(r.status, 401);
      assert.ok(!r.text.includes('additional properties'));
      assert.equal((await request(`${s.url}/admin/clients/%20bad`)).status, 401);
    });

    it('L5: one token is one string: padding appended to a genuine token is refused', async () => {
      const at = await tokenFor(s.url, s.creds['read-only']);
      assert.equal((await request(`${s.url}/collections`, { headers: bearer(at) })).status, 200);
      assert.equal((await request(`${s.url}/collections`, { headers: bearer(`${at}==`) })).status, 401);
    });

    it('L6: names with bidi overrides, C1 controls, line separators or lone surrogates are refused', async () => {
      for (const name of ['evil\u202Egnp.exe', 'a\u009Bb', 'line\u2028break', 'x\uD800y', 'zero\u200Bwidth']) {
        const r = await admin.create({ name, root_scope: 'read-only' });
        assert.equal(r.status, 400, `${JSON.stringify(name)}: ${r.text}`);
      }
      assert.equal((await admin.create({ name: 'Ünïcødé 名前 ok', root_scope: 'read-only' })).status, 201);
    });

    it('L10: the audit entry of a creation names the created client; management responses are not cacheable', async () => {
      const { cred } = await admin.createOk({ name: 'audited', root_scope: 'read-only' });
      const entries = (await admin.audit()).json.entries;
      assert.ok(entries.some((e: any) => e.action === 'client.create' && e.target === cred.client_id && e.outcome === 'success'));
      assert.equal((await admin.list()).headers.get('cache-control'), 'no-store');
      assert.equal((await admin.get(cred.client_id)).headers.get('cache-control'), 'no-store');
    });

    it('a failing audit write after a completed creation still hands over the secret (no lost credential)', async () => {
      const storage = s.skyport.storage;
      const original = storage.appendAudit.bind(storage);
      storage.appendAudit = async (e) => {
        if (e.action === 'client.create' && e.outcome === 'success') throw new Error('disk full');
        return original(e);
      };
      try {
        const r = await admin.create({ name: 'audit outage', root_scope: 'read-only' });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.client_secret, /^sks_/);
        const ok = await formToken(
          s.url,
          `grant_type=client_credentials&client_id=${r.json.client_id}&client_secret=${r.json.client_secret}`,
        );
        assert.equal(ok.status, 200);
      } finally {
        storage.appendAudit = original;
      }
    });

    it('the token endpoint answers other methods with 405 and Allow: POST', async () => {
      const r = await request(`${s.url}/oauth2/token`);
      assert.equal(r.status, 405);
      assert.equal(r.headers.get('allow'), 'POST');
      assert.equal(r.json.error, 'invalid_request');
    });
  });
}

describe('proxy trust (F3)', () => {
  it('SKYPORT_TRUST_PROXY takes false or proxy addresses; anything else is a configuration error', () => {
    assert.equal(loadConfig({ SKYPORT_TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({}).trustProxy, false);
    assert.deepEqual(loadConfig({ SKYPORT_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy, ['10.0.0.0/8', '127.0.0.1']);
    assert.throws(() => loadConfig({ SKYPORT_TRUST_PROXY: 'everything' }), ConfigError);
    assert.throws(() => loadConfig({ SKYPORT_TRUST_PROXY: '1' }), ConfigError);
  });

  it('behind a trusted proxy, a client cannot choose the address the limiter and audit see', async () => {
    const s = await startServer({ env: { SKYPORT_TRUST_PROXY: '127.0.0.1', SKYPORT_RATE_LIMIT_CLIENT_ADDRESS: '3' } });
    try {
      const ro = s.creds['read-only'];
      // The attacker claims the victim's address; the proxy (here: loopback) appends the real one.
      for (let i = 0; i < 5; i++) {
        await formToken(s.url, `grant_type=client_credentials&client_id=${ro.client_id}&client_secret=sks_wrong`, {
          'x-forwarded-for': '192.0.2.7, 203.0.113.66',
        });
      }
      const victim = await formToken(s.url, `grant_type=client_credentials&client_id=${ro.client_id}&client_secret=${ro.client_secret}`, {
        'x-forwarded-for': '192.0.2.7',
      });
      assert.equal(victim.status, 200, victim.text);
      const failures = (await s.skyport.storage.listAudit(null, 50)).filter((e) => e.action === 'oauth.client_authentication');
      assert.ok(failures.length > 0 && failures.every((e) => e.sourceIp === '203.0.113.66'));
    } finally {
      await s.close();
    }
  });
});

describe('embedded store file modes (F2)', () => {
  after(() => stopAll());
  it('skyport serve keeps the database and its WAL files owner-only', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-modes-'));
    const port = await freePort();
    const d = startDaemon(['serve'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      SKYPORT_DATA_DIR: path.join(dir, 'data'),
      SKYPORT_LOG_LEVEL: 'warn',
    });
    try {
      const up = await poll(async () => (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).ok, 20_000);
      assert.ok(up, d.output());
      const mode = (f: string) => statSync(path.join(dir, 'data', f)).mode & 0o777;
      assert.equal(mode('.') & 0o077, 0, 'data dir is owner-only');
      for (const f of ['skyport.db', 'skyport.db-wal', 'skyport.db-shm']) assert.equal(mode(f) & 0o077, 0, `${f} is owner-only`);
      assert.match(d.output(), /SKYPORT_ENCRYPTION_KEY/, 'warns that keys are stored unencrypted');
    } finally {
      await d.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
