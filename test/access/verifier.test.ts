/**
 * The bearer-token verifier over HTTP (access-model invariant 6), at GET /collections (catalog:read,
 * Data API) and GET /admin/clients (admin:read, Management API): RFC 6750 challenges and transports
 * (A11, A12, A13, A15), forged, tampered and misdirected tokens (A09), bounded key refetch for unknown
 * kids (A19); RFC 7009 revocation and RFC 7662 introspection.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { BearerVerifier, TokenInvalid } from '../../src/access/verifier.js';
import { createOrganization } from '../../src/admin/service.js';
import { algNone, claimsOf, compact, foreignRsaKey, hs256, serverPrivateKey, signAs, tamperPayload } from '../helpers/forge.js';
import { basic, bearer, request, sleep, tokenFor, type Res } from '../helpers/http.js';
import { startServer, stores, type TestServer } from '../helpers/server.js';

type Creds = { client_id: string; client_secret: string };

/**
 * Parses a `WWW-Authenticate: Bearer …` challenge strictly (RFC 6750 §3, RFC 9110 §11.2):
 * `Bearer` then comma-separated `name="quoted"` params, values in the RFC 6750 character set.
 * Throws on anything else; returns the params.
 */
function parseBearerChallenge(h: string | null): Record<string, string> {
  assert.ok(h, 'a WWW-Authenticate header is present');
  const m = /^Bearer (.*)$/.exec(h);
  assert.ok(m, `challenge starts with "Bearer ": ${h}`);
  const params: Record<string, string> = {};
  const re = /\s*([a-z_]+)="([\x20\x21\x23-\x5b\x5d-\x7e]*)"\s*(,|$)/gy;
  let rest = m[1]!;
  let pos = 0;
  while (pos < rest.length) {
    re.lastIndex = pos;
    const p = re.exec(rest);
    assert.ok(p, `well-formed auth-param at offset ${pos} of ${JSON.stringify(h)}`);
    assert.ok(!(p[1]! in params), `param ${p[1]} appears once`);
    params[p[1]!] = p[2]!;
    pos = re.lastIndex;
    if (p[3] === '') break;
  }
  rest = rest.slice(pos);
  assert.equal(rest, '', `nothing after the last param in ${JSON.stringify(h)}`);
  return params;
}

function assertInvalidToken(r: Res, what: string): void {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
  const p = parseBearerChallenge(r.headers.get('www-authenticate'));
  assert.equal(p.realm, 'skyport');
  assert.equal(p.error, 'invalid_token', what);
}

for (const store of await stores()) {
  describe(`bearer verification (${store})`, () => {
    let s: TestServer;
    let ro: Creds;
    let adm: Creds;
    let dataToken: string;
    let mgmtToken: string;
    const collections = (headers: Record<string, string> = {}, query = '') => request(`${s.url}/collections${query}`, { headers });
    const adminClients = (headers: Record<string, string> = {}, query = '') => request(`${s.url}/admin/clients${query}`, { headers });

    before(async () => {
      s = await startServer({ store });
      ro = s.creds['read-only'];
      adm = s.creds.admin;
      dataToken = await tokenFor(s.url, ro);
      mgmtToken = await tokenFor(s.url, adm);
    });
    after(() => s.close());

    it('positive control: genuine tokens pass both guards', async () => {
      const c = await collections(bearer(dataToken));
      assert.equal(c.status, 200);
      assert.ok(c.json.collections.some((x: { id: string }) => x.id === 'skyport-lst'));
      const a = await adminClients(bearer(mgmtToken));
      assert.equal(a.status, 200, a.text);
      assert.ok(Array.isArray(a.json.clients));
    });

    it('no token: 401 with a bare Bearer challenge, no error code (A12)', async () => {
      for (const r of [await collections(), await adminClients()]) {
        assert.equal(r.status, 401);
        const h = r.headers.get('www-authenticate');
        assert.equal(h, 'Bearer realm="skyport"');
        assert.ok(!/error=/.test(h!), 'no error param without a token');
      }
    });

    it('the scheme is case-insensitive: "bearer", "BEARER" (A13)', async () => {
      assert.equal((await collections({ authorization: `bearer ${dataToken}` })).status, 200);
      assert.equal((await collections({ authorization: `BEARER ${dataToken}` })).status, 200);
      assert.equal((await adminClients({ authorization: `bearer ${mgmtToken}` })).status, 200);
    });

    it('another scheme or a malformed header is invalid_token, not a 500', async () => {
      assertInvalidToken(await collections({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 'Basic scheme');
      assertInvalidToken(await collections({ authorization: 'Bearer' }), 'empty Bearer');
      assertInvalidToken(await collections({ authorization: `Bearer ${dataToken} extra` }), 'two tokens');
      assertInvalidToken(await collections({ authorization: 'Bearer not-a-jwt' }), 'not a JWT');
    });

    it('alg "none" with the genuine claims is refused (A09)', async () => {
      assertInvalidToken(await collections(bearer(algNone(dataToken))), 'alg none');
      assertInvalidToken(await adminClients(bearer(algNone(mgmtToken))), 'alg none, management');
      // Also with a (bogus) signature segment present, and with "None"/"NONE" spellings.
      const h = decodeProtectedHeader(dataToken);
      for (const alg of ['none', 'None', 'NONE']) {
        assertInvalidToken(
          await collections(bearer(compact({ alg, typ: 'at+jwt', kid: h.kid }, decodeJwt(dataToken), 'AAAA'))),
          `alg ${alg}`,
        );
      }
    });

    it('HS256 signed with the RSA public key (PEM, DER and JWK bytes) as the HMAC secret is refused', async () => {
      const kid = decodeProtectedHeader(dataToken).kid!;
      const jwk = (await request(`${s.url}/.well-known/jwks.json`)).json.keys.find((k: JWK & { kid: string }) => k.kid === kid);
      const pub = createPublicKey({ key: jwk, format: 'jwk' });
      const secrets: (string | Buffer)[] = [
        pub.export({ format: 'pem', type: 'spki' }) as string,
        pub.export({ format: 'pem', type: 'pkcs1' }) as string,
        pub.export({ format: 'der', type: 'spki' }),
        JSON.stringify(jwk),
      ];
      for (const secret of secrets) assertInvalidToken(await collections(bearer(hs256(dataToken, secret))), 'HS256 key confusion');
    });

    it('a foreign RS256 key presenting the current kid is refused', async () => {
      const kid = decodeProtectedHeader(dataToken).kid!;
      const forged = await signAs(foreignRsaKey(kid), claimsOf(dataToken));
      assertInvalidToken(await collections(bearer(forged)), 'foreign key, same kid');
      const forgedMgmt = await signAs(foreignRsaKey(decodeProtectedHeader(mgmtToken).kid!), claimsOf(mgmtToken));
      assertInvalidToken(await adminClients(bearer(forgedMgmt)), 'foreign key, management');
    });

    it('a tampered payload or signature is refused', async () => {
      assertInvalidToken(await collections(bearer(tamperPayload(dataToken, { org_id: 'org_someoneelse' }))), 'org_id changed');
      assertInvalidToken(await collections(bearer(tamperPayload(dataToken, { exp: 4102444800 }))), 'exp extended');
      // Narrowed token widened by editing the scope claim.
      const narrow = await tokenFor(s.url, ro, '&scope=assets:read');
      assertInvalidToken(await collections(bearer(tamperPayload(narrow, { scope: 'catalog:read assets:read' }))), 'scope widened');
      const [h, p, sig] = dataToken.split('.');
      const flipped = sig!.slice(0, 10) + (sig![10] === 'A' ? 'B' : 'A') + sig!.slice(11);
      assertInvalidToken(await collections(bearer(`${h}.${p}.${flipped}`)), 'signature changed');
      assertInvalidToken(await collections(bearer(`${h}.${p}.`)), 'signature removed');
    });

    describe('tokens signed with the genuine current key, one claim wrong', () => {
      const now = () => Math.floor(Date.now() / 1000);
      const resign = async (changes: Record<string, unknown>, header: Record<string, unknown> = {}) => {
        const claims: Record<string, unknown> = { ...claimsOf(dataToken), ...changes };
        for (const [k, v] of Object.entries(changes)) if (v === undefined) delete claims[k];
        return signAs(await serverPrivateKey(s), claims, header);
      };

      it('control: re-signed with fresh iat/exp/jti it is accepted (so the refusals below are about the claim)', async () => {
        const t = await resign({ iat: now(), exp: now() + 600, jti: randomBytes(16).toString('base64url') });
        assert.equal((await collections(bearer(t))).status, 200);
      });

      it('wrong issuer', async () => {
        assertInvalidToken(
          await collections(bearer(await resign({ iss: 'https://evil.example.com', jti: randomBytes(8).toString('hex') }))),
          'issuer',
        );
        assertInvalidToken(
          await collections(bearer(await resign({ iss: `${s.config.issuer}/`, jti: randomBytes(8).toString('hex') }))),
          'issuer with trailing slash',
        );
      });

      it('expired beyond the clock skew', async () => {
        const exp = now() - s.config.clockSkew - 5;
        assertInvalidToken(
          await collections(bearer(await resign({ iat: exp - 3600, exp, jti: randomBytes(8).toString('hex') }))),
          'expired',
        );
      });

      it('not yet valid (iat/nbf in the future beyond the skew)', async () => {
        assertInvalidToken(
          await collections(
            bearer(await resign({ nbf: now() + 3600, iat: now(), exp: now() + 7200, jti: randomBytes(8).toString('hex') })),
          ),
          'nbf in the future',
        );
      });

      it('an audience that is not ours, or two audiences', async () => {
        assertInvalidToken(
          await collections(bearer(await resign({ aud: 'https://api.example.com/v1/', jti: randomBytes(8).toString('hex') }))),
          'foreign aud',
        );
        assertInvalidToken(
          await collections(
            bearer(await resign({ aud: [s.config.dataAudience, s.config.managementAudience], jti: randomBytes(8).toString('hex') })),
          ),
          'two audiences',
        );
      });

      it('a missing required claim (exp, jti, iat)', async () => {
        for (const k of ['exp', 'jti', 'iat']) assertInvalidToken(await collections(bearer(await resign({ [k]: undefined }))), `no ${k}`);
      });

      it('a wrong typ header (e.g. an ID token "JWT")', async () => {
        assertInvalidToken(await collections(bearer(await resign({ jti: randomBytes(8).toString('hex') }, { typ: 'JWT' }))), 'typ JWT');
      });

      it('a scope above the root scope, even when genuinely signed (ceiling)', async () => {
        assertInvalidToken(
          await collections(bearer(await resign({ scope: 'catalog:read tasking:order', jti: randomBytes(8).toString('hex') }))),
          'scope above ceiling',
        );
      });
    });

    it('a genuine token whose exp has passed is refused (verifier at a later clock, cached and uncached)', async () => {
      const v = new BearerVerifier(s.skyport.keys, s.skyport.revocations, {
        issuer: s.config.issuer,
        audiences: { data: s.config.dataAudience, management: s.config.managementAudience },
        clockSkew: s.config.clockSkew,
      });
      const exp = decodeJwt(dataToken).exp! * 1000;
      const p = await v.verify(dataToken, 'data'); // now cached
      assert.equal(p.clientId, ro.client_id);
      await assert.rejects(v.verify(dataToken, 'data', exp + s.config.clockSkew * 1000 + 1000), TokenInvalid);
      const fresh = new BearerVerifier(s.skyport.keys, s.skyport.revocations, {
        issuer: s.config.issuer,
        audiences: { data: s.config.dataAudience, management: s.config.managementAudience },
        clockSkew: s.config.clockSkew,
        cacheSize: 0,
      });
      await assert.rejects(fresh.verify(dataToken, 'data', exp + s.config.clockSkew * 1000 + 1000), TokenInvalid);
      // Within the skew it is still fine.
      await fresh.verify(dataToken, 'data', exp + s.config.clockSkew * 1000 - 2000);
    });

    it('a token for the other API (audience) is 401 invalid_token, not 403', async () => {
      assertInvalidToken(await collections(bearer(mgmtToken)), 'management token at the Data API');
      assertInvalidToken(await adminClients(bearer(dataToken)), 'data token at the Management API');
    });

    it('a token in the query string is 400 invalid_request; header and query at once too (A11)', async () => {
      for (const r of [await collections({}, `?access_token=${dataToken}`), await adminClients({}, `?access_token=${mgmtToken}`)]) {
        assert.equal(r.status, 400, r.text);
        const p = parseBearerChallenge(r.headers.get('www-authenticate'));
        assert.equal(p.error, 'invalid_request');
      }
      const both = await collections(bearer(dataToken), `?access_token=${dataToken}`);
      assert.equal(both.status, 400);
      assert.equal(parseBearerChallenge(both.headers.get('www-authenticate')).error, 'invalid_request');
      // An empty access_token query parameter next to a good header is still two transports.
      assert.equal((await collections(bearer(dataToken), '?access_token=')).status, 400);
    });

    it('every invalid_token challenge is well-formed: realm, error, quoted error_description (A12)', async () => {
      const cases = [
        await collections(bearer(algNone(dataToken))),
        await collections(bearer('a.b.c')),
        await collections(bearer(tamperPayload(dataToken, { iss: 'x"y\\z' }))),
        await collections({ authorization: 'Bearer "quoted"' }),
        await adminClients(bearer(dataToken)),
      ];
      for (const r of cases) {
        assert.equal(r.status, 401);
        const p = parseBearerChallenge(r.headers.get('www-authenticate'));
        assert.deepEqual(Object.keys(p).slice(0, 2), ['realm', 'error']);
        assert.equal(p.error, 'invalid_token');
        assert.ok(!r.text.includes(dataToken), 'the body does not echo the token');
      }
    });

    it('a genuine token without the permission is 403 insufficient_scope naming it (A15)', async () => {
      const narrow = await tokenFor(s.url, ro, '&scope=assets:read');
      assert.equal(decodeJwt(narrow).scope, 'assets:read');
      const r = await collections(bearer(narrow));
      assert.equal(r.status, 403, r.text);
      const p = parseBearerChallenge(r.headers.get('www-authenticate'));
      assert.equal(p.realm, 'skyport');
      assert.equal(p.error, 'insufficient_scope');
      assert.equal(p.scope, 'catalog:read');
      // Control: the same client narrowed to catalog:read passes, so the 403 is about the permission.
      assert.equal((await collections(bearer(await tokenFor(s.url, ro, '&scope=catalog:read')))).status, 200);
    });

    it('unknown kids do not make the server reload keys on every request (A19)', async () => {
      // A server of its own whose sync tick (which also reloads keys) does not run during the test.
      const quiet = await startServer({ store, env: { SKYPORT_SYNC_INTERVAL_MS: '60000' } });
      try {
        const token = await tokenFor(quiet.url, quiet.creds['read-only']);
        const storage = quiet.skyport.storage;
        const original = storage.listSigningKeys.bind(storage);
        let calls = 0;
        storage.listSigningKeys = async () => {
          calls++;
          return original();
        };
        try {
          const claims = claimsOf(token);
          const foreign = foreignRsaKey('unused');
          const forged = await Promise.all(
            Array.from({ length: 50 }, () =>
              signAs(foreign, { ...claims, jti: randomBytes(8).toString('hex') }, { kid: randomBytes(16).toString('base64url') }),
            ),
          );
          assert.equal(new Set(forged.map((t) => decodeProtectedHeader(t).kid)).size, 50, '50 distinct kids');
          const results = [];
          for (let i = 0; i < forged.length; i += 10) {
            results.push(
              ...(await Promise.all(forged.slice(i, i + 10).map((t) => request(`${quiet.url}/collections`, { headers: bearer(t) })))),
            );
          }
          for (const r of results) assertInvalidToken(r, 'random kid');
          assert.ok(calls >= 1, `an unknown kid may trigger one reload (spy saw ${calls})`);
          assert.ok(calls <= 2, `50 unknown kids caused ${calls} key reloads`);
          // The genuine token still works afterwards.
          assert.equal((await request(`${quiet.url}/collections`, { headers: bearer(token) })).status, 200);
        } finally {
          storage.listSigningKeys = original;
        }
      } finally {
        await quiet.close();
      }
    });

    describe('RFC 7009 revocation and RFC 7662 introspection', () => {
      const form = (c: Creds, token: string) =>
        `client_id=${c.client_id}&client_secret=${c.client_secret}&token=${encodeURIComponent(token)}`;
      const revoke = (body: string, headers: Record<string, string> = {}) =>
        request(`${s.url}/oauth2/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body,
        });
      const introspect = (body: string, headers: Record<string, string> = {}) =>
        request(`${s.url}/oauth2/introspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body,
        });

      let other: { ro: Creds; orgId: string };
      before(async () => {
        const created = await createOrganization(
          { storage: s.skyport.storage, hasher: s.skyport.hasher },
          `other-${randomBytes(3).toString('hex')}`,
        );
        other = { ro: created.credentials['read-only'], orgId: created.org.id };
      });

      it('a client revokes its own token: 200, then the token is refused at once', async () => {
        const t = await tokenFor(s.url, ro);
        assert.equal((await collections(bearer(t))).status, 200); // verified and cached first
        const r = await revoke(form(ro, t));
        assert.equal(r.status, 200, r.text);
        const deadline = Date.now() + 1000;
        let status = 0;
        while (Date.now() < deadline) {
          status = (await collections(bearer(t))).status;
          if (status === 401) break;
          await sleep(50);
        }
        assert.equal(status, 401, 'revoked token refused within 1 s');
        assertInvalidToken(await collections(bearer(t)), 'revoked');
        // Other tokens of the same client are untouched.
        assert.equal((await collections(bearer(dataToken))).status, 200);
      });

      it('revocation with HTTP Basic client authentication, and via the /oauth alias', async () => {
        const t = await tokenFor(s.url, ro);
        assert.equal((await revoke(`token=${encodeURIComponent(t)}`, basic(ro.client_id, ro.client_secret))).status, 200);
        assertInvalidToken(await collections(bearer(t)), 'revoked via Basic');
        const t2 = await tokenFor(s.url, ro);
        const r = await request(`${s.url}/oauth/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form(ro, t2),
        });
        assert.equal(r.status, 200);
        assertInvalidToken(await collections(bearer(t2)), 'revoked via /oauth/revoke');
      });

      it("revoking another client's token answers 200 and changes nothing", async () => {
        const t = await tokenFor(s.url, ro);
        const tasking = s.creds.tasking;
        assert.equal((await revoke(form(tasking, t))).status, 200, 'same organization, other client');
        assert.equal((await revoke(form(other.ro, t))).status, 200, 'other organization');
        await sleep(300); // more than one sync interval
        assert.equal((await collections(bearer(t))).status, 200, 'the token keeps working');
        assert.equal((await introspect(form(ro, t))).json.active, true);
      });

      it('revocation requires client authentication', async () => {
        const t = await tokenFor(s.url, ro);
        const r = await revoke(`token=${encodeURIComponent(t)}`);
        assert.ok(r.status === 400 || r.status === 401, `${r.status}`);
        const wrong = await revoke(`client_id=${ro.client_id}&client_secret=sks_wrong&token=${encodeURIComponent(t)}`);
        assert.equal(wrong.status, 401);
        assert.equal(wrong.json.error, 'invalid_client');
        assert.equal((await collections(bearer(t))).status, 200);
      });

      it('introspection: active with claims for a token of the own organization', async () => {
        const t = await tokenFor(s.url, ro);
        const c = decodeJwt(t);
        for (const caller of [ro, s.creds.tasking, adm]) {
          const r = await introspect(form(caller, t));
          assert.equal(r.status, 200, r.text);
          assert.equal(r.headers.get('cache-control'), 'no-store');
          assert.equal(r.json.active, true);
          assert.equal(r.json.client_id, ro.client_id);
          assert.equal(r.json.sub, `${ro.client_id}@clients`);
          assert.equal(r.json.scope, 'catalog:read assets:read tasking:read');
          assert.equal(r.json.token_type, 'Bearer');
          assert.equal(r.json.aud, s.config.dataAudience);
          assert.equal(r.json.iss, s.config.issuer);
          assert.equal(r.json.exp, c.exp);
          assert.equal(r.json.iat, c.iat);
          assert.equal(r.json.jti, c.jti);
          assert.equal(r.json.org_id, c.org_id);
          assert.equal(r.json.root_scope, 'read-only');
        }
        const m = await introspect(form(ro, mgmtToken));
        assert.equal(m.json.active, true);
        assert.equal(m.json.aud, s.config.managementAudience);
      });

      it('introspection: {active:false} for revoked, garbage, forged and other-organization tokens', async () => {
        const t = await tokenFor(s.url, ro);
        await revoke(form(ro, t));
        const otherToken = await tokenFor(s.url, other.ro);
        // Control: the other organization sees its own token as active.
        assert.equal((await introspect(form(other.ro, otherToken))).json.active, true);
        const inactive = [t, 'garbage', 'a.b.c', algNone(dataToken), otherToken];
        for (const token of inactive) {
          const r = await introspect(form(ro, token));
          assert.equal(r.status, 200, r.text);
          assert.deepEqual(r.json, { active: false }, `inactive: ${token.slice(0, 20)}`);
        }
        // And the other organization learns nothing about ours.
        assert.deepEqual((await introspect(form(other.ro, dataToken))).json, { active: false });
      });

      it('a token issued right after revoke-tokens works (revocation cuts at the revocation instant, not the second)', async () => {
        const created = await request(`${s.url}/admin/clients`, {
          method: 'POST',
          headers: { ...bearer(mgmtToken), 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'revoke-then-reissue', root_scope: 'read-only' }),
        });
        assert.equal(created.status, 201, created.text);
        const c: Creds = { client_id: created.json.client_id, client_secret: created.json.client_secret };
        const old = await tokenFor(s.url, c);
        assert.equal((await collections(bearer(old))).status, 200);
        // Start early in a wall-clock second so revocation and re-issue fall in the same second.
        while (Date.now() % 1000 > 300) await sleep(20);
        const rv = await request(`${s.url}/admin/clients/${c.client_id}/revoke-tokens`, { method: 'POST', headers: bearer(mgmtToken) });
        assert.equal(rv.status, 204, rv.text);
        const fresh = await tokenFor(s.url, c);
        assertInvalidToken(await collections(bearer(old)), 'the token issued before the revocation');
        const r = await collections(bearer(fresh));
        assert.equal(r.status, 200, `a token issued after the revocation must work: ${r.status} ${r.headers.get('www-authenticate')}`);
      });
    });
  });
}
