/**
 * Access tokens checked by an independent verifier (jose's remote JWKS + jwtVerify, as a resource
 * server of a customer would do it), for every signing algorithm; the JWKS (public members only,
 * pitfall A19) and RFC 8414 metadata; key rotation (next key published before it signs, retired key
 * published while its tokens live); private keys sealed at rest with SKYPORT_ENCRYPTION_KEY.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { isSealed } from '../../src/util/envelope.js';
import { bearer, request, tokenFor } from '../helpers/http.js';
import { createTestDatabase, startServer, stores, type StoreKind, type TestServer } from '../helpers/server.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const ALLOWED_MEMBERS: Record<string, string[]> = {
  RSA: ['kty', 'n', 'e', 'kid', 'alg', 'use'],
  EC: ['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use'],
  OKP: ['kty', 'crv', 'x', 'kid', 'alg', 'use'],
};
const KTY: Record<string, string> = { RS256: 'RSA', ES256: 'EC', EdDSA: 'OKP' };

async function jwks(s: TestServer): Promise<{ keys: (JWK & { kid: string })[] }> {
  const r = await request(`${s.url}/.well-known/jwks.json`);
  assert.equal(r.status, 200);
  return r.json;
}

/** Verifies like an independent resource server: JWKS fetched over HTTP, issuer and audience pinned. */
async function independentVerify(s: TestServer, token: string, audience: string, alg: string) {
  const set = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`));
  return jwtVerify(token, set, { issuer: s.config.issuer, audience, algorithms: [alg], typ: 'at+jwt' });
}

for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
  describe(`JWT access tokens, ${alg}`, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ env: { SKYPORT_SIGNING_ALG: alg } });
    });
    after(() => s.close());

    it('a Data API token verifies with jose against the published JWKS, with every access-model claim', async () => {
      const ro = s.creds['read-only'];
      const token = await tokenFor(s.url, ro);
      const { payload, protectedHeader } = await independentVerify(s, token, s.config.dataAudience, alg);
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.typ, 'at+jwt');
      const published = (await jwks(s)).keys.find((k) => k.kid === protectedHeader.kid);
      assert.ok(published, 'the header kid names a JWKS key');
      assert.equal(published.alg, alg);
      assert.equal(published.kty, KTY[alg]);
      assert.equal(payload.iss, s.config.issuer);
      assert.equal(payload.sub, `${ro.client_id}@clients`);
      assert.equal(payload.aud, s.config.dataAudience);
      assert.equal(payload.azp, ro.client_id);
      assert.equal(payload.gty, 'client-credentials');
      assert.equal(payload.scope, 'catalog:read assets:read tasking:read');
      assert.equal(payload.root_scope, 'read-only');
      assert.match(String(payload.org_id), /^org_/);
      assert.equal(typeof payload.jti, 'string');
      assert.ok(String(payload.jti).length >= 16, 'jti has enough entropy');
      assert.equal(typeof payload.iat, 'number');
      assert.equal(payload.exp, payload.iat! + s.config.dataTokenTtl);
      assert.ok(Math.abs(payload.iat! - Date.now() / 1000) < 60, 'iat is now');
      // And the server itself accepts it.
      assert.equal((await request(`${s.url}/collections`, { headers: bearer(token) })).status, 200);
    });

    it('a Management API token verifies for the management audience and not for the data audience', async () => {
      const adm = s.creds.admin;
      const token = await tokenFor(s.url, adm);
      const { payload } = await independentVerify(s, token, s.config.managementAudience, alg);
      assert.equal(payload.aud, s.config.managementAudience);
      assert.equal(payload.scope, 'admin:read admin:write');
      assert.equal(payload.root_scope, 'admin');
      await assert.rejects(independentVerify(s, token, s.config.dataAudience, alg), /aud/);
    });

    it('two tokens have different jti', async () => {
      const ro = s.creds['read-only'];
      const [a, b] = await Promise.all([tokenFor(s.url, ro), tokenFor(s.url, ro)]);
      const ja = (await independentVerify(s, a, s.config.dataAudience, alg)).payload.jti;
      const jb = (await independentVerify(s, b, s.config.dataAudience, alg)).payload.jti;
      assert.notEqual(ja, jb);
    });

    it('the JWKS publishes only public members, with use "sig", alg and kid (A19)', async () => {
      const r = await request(`${s.url}/.well-known/jwks.json`);
      assert.match(r.headers.get('content-type') ?? '', /^application\/(jwk-set\+)?json/);
      const keys = r.json.keys as Record<string, unknown>[];
      assert.ok(keys.length >= 2, 'current and next key are published');
      for (const k of keys) {
        for (const m of PRIVATE_MEMBERS) assert.ok(!(m in k), `JWK member "${m}" must not be published`);
        assert.equal(k.use, 'sig');
        assert.equal(k.alg, alg);
        assert.equal(typeof k.kid, 'string');
        assert.ok((k.kid as string).length > 0);
        const extra = Object.keys(k).filter((m) => !ALLOWED_MEMBERS[KTY[alg]!]!.includes(m));
        assert.deepEqual(extra, [], 'no members beyond the public ones');
      }
      assert.equal(new Set(keys.map((k) => k.kid)).size, keys.length, 'kids are unique');
      // The raw text too: no private member under any nesting.
      assert.doesNotMatch(r.text, /"(d|p|q|dp|dq|qi|k)"\s*:/);
    });
  });
}

describe('RFC 8414 metadata', () => {
  let s: TestServer;
  let custom: TestServer;
  const ISSUER = 'https://auth.skyport.example.test';
  before(async () => {
    s = await startServer();
    custom = await startServer({ env: { SKYPORT_ISSUER: ISSUER } });
  });
  after(async () => {
    await s.close();
    await custom.close();
  });

  for (const p of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    it(`${p} describes the token endpoint, JWKS, grants and client authentication`, async () => {
      const r = await request(`${s.url}${p}`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      const m = r.json;
      assert.equal(m.issuer, s.config.issuer);
      assert.equal(m.issuer, s.url, 'issuer defaults to the public URL');
      assert.equal(m.token_endpoint, `${s.url}/oauth2/token`);
      assert.equal(m.jwks_uri, `${s.url}/.well-known/jwks.json`);
      assert.deepEqual(m.grant_types_supported, ['client_credentials']);
      assert.ok(Array.isArray(m.token_endpoint_auth_methods_supported));
      assert.ok(m.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
      assert.ok(m.token_endpoint_auth_methods_supported.includes('client_secret_post'));
      // The advertised endpoints work.
      assert.equal((await request(m.jwks_uri)).status, 200);
      const t = await request(m.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=${s.creds['read-only'].client_id}&client_secret=${s.creds['read-only'].client_secret}`,
      });
      assert.equal(t.status, 200);
    });
  }

  it('both discovery documents are the same', async () => {
    const a = await request(`${s.url}/.well-known/oauth-authorization-server`);
    const b = await request(`${s.url}/.well-known/openid-configuration`);
    assert.deepEqual(a.json, b.json);
  });

  it('issuer equals SKYPORT_ISSUER when set, and tokens carry it', async () => {
    const m = (await request(`${custom.url}/.well-known/oauth-authorization-server`)).json;
    assert.equal(m.issuer, ISSUER);
    assert.equal(m.token_endpoint, `${custom.url}/oauth2/token`, 'endpoints stay on the public URL');
    const token = await tokenFor(custom.url, custom.creds['read-only']);
    const { payload } = await independentVerify(custom, token, custom.config.dataAudience, 'RS256');
    assert.equal(payload.iss, ISSUER);
    assert.equal((await request(`${custom.url}/collections`, { headers: bearer(token) })).status, 200);
  });
});

for (const store of await stores()) {
  describe(`signing-key rotation (${store})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ store });
    });
    after(() => s.close());

    it('the next key is published before rotation; after it new tokens use it and old tokens still verify', async () => {
      const ro = s.creds['read-only'];
      const before1 = await jwks(s);
      const oldToken = await tokenFor(s.url, ro);
      const oldKid = decodeProtectedHeader(oldToken).kid!;
      assert.ok(before1.keys.some((k) => k.kid === oldKid));
      const storedBefore = await s.skyport.storage.listSigningKeys();
      const next = storedBefore.find((k) => k.status === 'next' && k.alg === 'RS256');
      assert.ok(next, 'a next key exists');
      assert.ok(
        before1.keys.some((k) => k.kid === next.kid),
        'the next key is in the JWKS before it signs',
      );

      // A verifier that fetched the JWKS before the rotation and never refetches.
      const cachedBefore = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`), {
        cooldownDuration: 3_600_000,
        cacheMaxAge: 3_600_000,
      });
      await jwtVerify(oldToken, cachedBefore, { issuer: s.config.issuer, audience: s.config.dataAudience });

      const r = await s.skyport.keys.rotate(3_600_000 + 60_000);
      assert.equal(r.retired, oldKid);
      assert.equal(r.current, next.kid);

      const newToken = await tokenFor(s.url, ro);
      const newKid = decodeProtectedHeader(newToken).kid!;
      assert.notEqual(newKid, oldKid, 'new tokens carry a new kid');
      assert.equal(newKid, next.kid, 'the new signing key is the former next key');
      // The verifier that cached the JWKS before the rotation already knows the new key.
      await jwtVerify(newToken, cachedBefore, { issuer: s.config.issuer, audience: s.config.dataAudience });

      const after1 = await jwks(s);
      assert.ok(
        after1.keys.some((k) => k.kid === oldKid),
        'the retired key stays published while its tokens live',
      );
      const newNext = (await s.skyport.storage.listSigningKeys()).find((k) => k.status === 'next');
      assert.ok(newNext && newNext.kid !== next.kid && newNext.kid !== oldKid);
      assert.ok(
        after1.keys.some((k) => k.kid === newNext.kid),
        'a fresh next key is published',
      );

      // A fresh independent verifier accepts both tokens; so does the server.
      await independentVerify(s, oldToken, s.config.dataAudience, 'RS256');
      await independentVerify(s, newToken, s.config.dataAudience, 'RS256');
      assert.equal((await request(`${s.url}/collections`, { headers: bearer(oldToken) })).status, 200);
      assert.equal((await request(`${s.url}/collections`, { headers: bearer(newToken) })).status, 200);
    });

    it('a retired key whose publication ended leaves the JWKS, and its tokens are refused', async () => {
      const ro = s.creds['read-only'];
      const token = await tokenFor(s.url, ro);
      const kid = decodeProtectedHeader(token).kid!;
      // Publication ends 1 ms after the rotation (as if every token of that key had expired).
      const t0 = Date.now();
      await s.skyport.keys.rotate(1, { now: t0 });
      await s.skyport.keys.refresh(t0 + 10);
      assert.ok(!(await jwks(s)).keys.some((k) => k.kid === kid), 'retired key no longer published');
      const r = await request(`${s.url}/collections`, { headers: bearer(token) });
      assert.equal(r.status, 401);
    });
  });
}

for (const store of await stores()) {
  describe(`private keys sealed with SKYPORT_ENCRYPTION_KEY (${store})`, () => {
    const key = randomBytes(32).toString('base64');
    // Each start listens on another port: pin what a token is checked against across restarts.
    const stable = { SKYPORT_ISSUER: 'https://sealed.skyport.example.test', SKYPORT_DATA_AUDIENCE: 'https://sealed.skyport.example.test/' };
    let dir: string;
    let db: { url: string; drop: () => Promise<void> } | undefined;
    const opts = () => ({ dataDir: dir, ...(db ? { databaseUrl: db.url } : {}) });
    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-enc-'));
      if (store === ('postgres' as StoreKind)) db = await createTestDatabase();
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await db?.drop();
    });

    it('stores every private key sealed, serves tokens, and refuses to start without (or with another) key', async () => {
      const s = await startServer({ ...opts(), env: { ...stable, SKYPORT_ENCRYPTION_KEY: key } });
      let token: string;
      try {
        const keys = await s.skyport.storage.listSigningKeys();
        assert.ok(keys.length >= 2);
        for (const k of keys) {
          assert.ok(k.privateKey.startsWith('enc:v1:'), `key ${k.kid} is sealed`);
          assert.ok(!k.privateKey.includes('PRIVATE KEY'), 'no PEM in storage');
        }
        const hashKey = await s.skyport.storage.getMeta('secret_hash_key');
        assert.ok(hashKey && isSealed(hashKey), 'the secret-hashing key is sealed too');
        token = await tokenFor(s.url, s.creds['read-only']);
        await independentVerify(s, token, s.config.dataAudience, 'RS256');
        // Rotation seals the new key as well.
        await s.skyport.keys.rotate(3_700_000);
        for (const k of await s.skyport.storage.listSigningKeys()) assert.ok(k.privateKey.startsWith('enc:v1:'));
      } finally {
        await s.close();
      }

      await assert.rejects(startServer({ ...opts(), env: stable }), (e: Error) => {
        assert.match(e.message, /SKYPORT_ENCRYPTION_KEY/);
        assert.match(e.message, /encrypt/i);
        return true;
      });
      await assert.rejects(
        startServer({ ...opts(), env: { ...stable, SKYPORT_ENCRYPTION_KEY: randomBytes(32).toString('base64') } }),
        (e: Error) => {
          assert.match(e.message, /SKYPORT_ENCRYPTION_KEY/);
          return true;
        },
      );

      // With the right key it starts again, on the same keys: the earlier token still verifies.
      const again = await startServer({ ...opts(), env: { ...stable, SKYPORT_ENCRYPTION_KEY: key } });
      try {
        assert.equal((await request(`${again.url}/collections`, { headers: bearer(token) })).status, 200);
      } finally {
        await again.close();
      }
    });

    it('turning encryption on for a store started without it does not leave private keys in plaintext', async () => {
      const plainDir = mkdtempSync(path.join(os.tmpdir(), 'skyport-enc-late-'));
      const plainDb = db ? await createTestDatabase() : undefined;
      const o = { dataDir: plainDir, ...(plainDb ? { databaseUrl: plainDb.url } : {}) };
      try {
        const first = await startServer({ ...o, env: stable });
        assert.ok(
          (await first.skyport.storage.listSigningKeys()).every((k) => !isSealed(k.privateKey)),
          'control: no key, no sealing',
        );
        await first.close();
        // The operator sets SKYPORT_ENCRYPTION_KEY afterwards. Either the start seals what is stored,
        // or it refuses with a clear error; starting with the keys still in plaintext is the fault.
        try {
          const later = await startServer({ ...o, env: { ...stable, SKYPORT_ENCRYPTION_KEY: key } });
          try {
            const plain = (await later.skyport.storage.listSigningKeys()).filter((k) => !isSealed(k.privateKey)).map((k) => k.kid);
            const hashKey = await later.skyport.storage.getMeta('secret_hash_key');
            assert.deepEqual(plain, [], 'every stored private key is sealed once an encryption key is configured');
            assert.ok(hashKey && isSealed(hashKey), 'the secret-hashing key is sealed too');
          } finally {
            await later.close();
          }
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          assert.match((e as Error).message, /SKYPORT_ENCRYPTION_KEY/);
        }
      } finally {
        rmSync(plainDir, { recursive: true, force: true });
        await plainDb?.drop();
      }
    });
  });
}
