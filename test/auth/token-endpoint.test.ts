/**
 * The token endpoint over HTTP on a real server, on each store: both seed flows, both client
 * authentication methods, and every RFC 6749 §5.2 error the issue lists (pitfalls A01–A06, A16, A17, A20).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startServer, stores, type TestServer } from '../helpers/server.js';
import { basic, bearer, formToken, jsonToken, request } from '../helpers/http.js';

for (const store of await stores()) {
  describe(`token endpoint (${store})`, () => {
    let s: TestServer;
    let ro: { client_id: string; client_secret: string };
    let form: string;
    before(async () => {
      s = await startServer({ store });
      ro = s.creds['read-only'];
      form = `grant_type=client_credentials&client_id=${ro.client_id}&client_secret=${ro.client_secret}`;
    });
    after(() => s.close());

    const assertOAuthError = (r: { status: number; json: any; headers: Headers }, status: number, error: string) => {
      assert.equal(r.status, status, JSON.stringify(r.json));
      assert.equal(r.json.error, error);
      assert.equal(typeof r.json.error_description, 'string');
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    };

    it('Hydrosat style: form body at /oauth2/token gives a Bearer token usable at /collections', async () => {
      const r = await formToken(s.url, form);
      assert.equal(r.status, 200);
      assert.equal(r.json.token_type, 'Bearer');
      assert.equal(r.json.expires_in, 3600); // a JSON number (A20)
      assert.equal(typeof r.json.expires_in, 'number');
      assert.equal(r.json.scope, 'catalog:read assets:read tasking:read');
      assert.equal(r.headers.get('cache-control'), 'no-store'); // A06
      assert.equal(r.headers.get('pragma'), 'no-cache');
      const c = await request(`${s.url}/collections`, { headers: bearer(r.json.access_token) });
      assert.equal(c.status, 200);
      assert.ok(c.json.collections.some((x: any) => x.id === 'skyport-lst'));
      assert.equal((await request(`${s.url}/collections`)).status, 401);
    });

    it('Satellogic style: JSON body with audience at /oauth/token gives an RS256 JWT with kid and Auth0 claims', async () => {
      const r = await jsonToken(s.url, {
        client_id: ro.client_id,
        client_secret: ro.client_secret,
        audience: s.config.dataAudience,
        grant_type: 'client_credentials',
      });
      assert.equal(r.status, 200);
      const h = decodeProtectedHeader(r.json.access_token);
      assert.equal(h.alg, 'RS256');
      assert.ok(h.kid);
      const c = decodeJwt(r.json.access_token);
      assert.equal(c.iss, s.config.issuer);
      assert.equal(c.sub, `${ro.client_id}@clients`);
      assert.equal(c.aud, s.config.dataAudience);
      assert.equal(c.azp, ro.client_id);
      assert.equal(c.gty, 'client-credentials');
      assert.equal(c.root_scope, 'read-only');
      assert.equal(typeof c.org_id, 'string');
      assert.equal(typeof c.jti, 'string');
      assert.equal(c.exp! - c.iat!, 3600);
    });

    it('accepts media-type parameters on the Content-Type (A02)', async () => {
      const r = await formToken(s.url, form, { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' });
      assert.equal(r.status, 200);
      const j = await jsonToken(
        s.url,
        { client_id: ro.client_id, client_secret: ro.client_secret, grant_type: 'client_credentials' },
        { 'content-type': 'application/json; charset=utf-8' },
      );
      assert.equal(j.status, 200);
    });

    it('client_secret_basic: id and secret form-url-decoded after base64 (A01), scheme case-insensitive', async () => {
      const r = await formToken(s.url, 'grant_type=client_credentials', basic(ro.client_id, ro.client_secret));
      assert.equal(r.status, 200);
      // Percent-encoding a character that needs none must decode to the same id.
      const encodedId = `%${ro.client_id.charCodeAt(0).toString(16)}${ro.client_id.slice(1)}`;
      const raw = Buffer.from(`${encodedId}:${ro.client_secret}`).toString('base64');
      const r2 = await formToken(s.url, 'grant_type=client_credentials', { authorization: `basic ${raw}` });
      assert.equal(r2.status, 200, r2.text);
    });

    it('Basic and body credentials at once is invalid_request (A03)', async () => {
      const r = await formToken(s.url, form, basic(ro.client_id, ro.client_secret));
      assertOAuthError(r, 400, 'invalid_request');
    });

    it('repeated parameters are invalid_request, not first-wins (A04)', async () => {
      assertOAuthError(await formToken(s.url, `${form}&grant_type=client_credentials`), 400, 'invalid_request');
      assertOAuthError(await formToken(s.url, `${form}&scope=catalog:read&scope=assets:read`), 400, 'invalid_request');
    });

    it('wrong secret and unknown client are the same 401 invalid_client; Basic gets a Basic challenge (A05)', async () => {
      const wrong = await formToken(s.url, `grant_type=client_credentials&client_id=${ro.client_id}&client_secret=sks_wrong`);
      const unknown = await formToken(s.url, `grant_type=client_credentials&client_id=nobody&client_secret=sks_wrong`);
      assertOAuthError(wrong, 401, 'invalid_client');
      assertOAuthError(unknown, 401, 'invalid_client');
      assert.deepEqual(wrong.json, unknown.json);
      assert.equal(wrong.headers.get('www-authenticate'), null);
      const b = await formToken(s.url, 'grant_type=client_credentials', basic(ro.client_id, 'sks_wrong'));
      assertOAuthError(b, 401, 'invalid_client');
      assert.match(b.headers.get('www-authenticate') ?? '', /^Basic realm="skyport"/);
    });

    it('a missing secret, a missing client_id and an expired-looking secret are invalid_client / invalid_request', async () => {
      assertOAuthError(await formToken(s.url, `grant_type=client_credentials&client_id=${ro.client_id}`), 401, 'invalid_client');
      assertOAuthError(await formToken(s.url, `grant_type=client_credentials&client_secret=${ro.client_secret}`), 400, 'invalid_request');
    });

    it('odd client ids (NUL, control characters, very long) are invalid_client, never 5xx', async () => {
      for (const id of ['%00', `ab%00cd`, '%0A%0D', 'x'.repeat(5000), encodeURIComponent('é中')]) {
        assertOAuthError(
          await formToken(s.url, `grant_type=client_credentials&client_id=${id}&client_secret=sks_x`),
          401,
          'invalid_client',
        );
      }
      assertOAuthError(
        await jsonToken(s.url, { grant_type: 'client_credentials', client_id: 'a\u0000b', client_secret: 'x' }),
        401,
        'invalid_client',
      );
    });

    it('missing or unsupported grant_type', async () => {
      assertOAuthError(await formToken(s.url, `client_id=${ro.client_id}&client_secret=${ro.client_secret}`), 400, 'invalid_request');
      assertOAuthError(
        await formToken(s.url, `grant_type=password&client_id=${ro.client_id}&client_secret=${ro.client_secret}`),
        400,
        'unsupported_grant_type',
      );
      assertOAuthError(
        await formToken(s.url, `grant_type=authorization_code&code=x&client_id=${ro.client_id}&client_secret=${ro.client_secret}`),
        400,
        'unsupported_grant_type',
      );
    });

    it('malformed bodies: bad JSON, JSON that is not an object, non-string values, unknown content type', async () => {
      assertOAuthError(await jsonToken(s.url, '{"grant_type": "client_credentials",'), 400, 'invalid_request');
      assertOAuthError(await jsonToken(s.url, '["client_credentials"]'), 400, 'invalid_request');
      assertOAuthError(await jsonToken(s.url, '"client_credentials"'), 400, 'invalid_request');
      assertOAuthError(
        await jsonToken(s.url, { grant_type: 'client_credentials', client_id: ro.client_id, client_secret: 42 }),
        400,
        'invalid_request',
      );
      assertOAuthError(
        await jsonToken(s.url, { grant_type: ['client_credentials'], client_id: ro.client_id, client_secret: ro.client_secret }),
        400,
        'invalid_request',
      );
      assertOAuthError(
        await request(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: form }),
        400,
        'invalid_request',
      );
      assertOAuthError(
        await request(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' }),
        400,
        'invalid_request',
      );
      assertOAuthError(await request(`${s.url}/oauth2/token`, { method: 'POST' }), 400, 'invalid_request');
    });

    it('repeated keys in a JSON body are invalid_request too, escaped spellings included (A04)', async () => {
      const base = `"client_id":"${ro.client_id}","client_secret":"${ro.client_secret}","grant_type":"client_credentials"`;
      const data = JSON.stringify(s.config.dataAudience);
      const mgmt = JSON.stringify(s.config.managementAudience);
      assertOAuthError(await jsonToken(s.url, `{${base},"audience":${data},"audience":${mgmt}}`), 400, 'invalid_request');
      assertOAuthError(await jsonToken(s.url, `{${base},"grant\\u005ftype":"client_credentials"}`), 400, 'invalid_request');
      // The same rule at the revocation and introspection endpoints.
      for (const ep of ['revoke', 'introspect']) {
        const r = await request(`${s.url}/oauth2/${ep}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"token":"x","token":"y","client_id":"${ro.client_id}","client_secret":"${ro.client_secret}"}`,
        });
        assertOAuthError(r, 400, 'invalid_request');
      }
      // Braces, quotes and commas inside strings are not structure.
      const ok = await jsonToken(s.url, `{${base},"scope":"catalog:read","note_x":"a \\"b\\", {c}: [d]"}`);
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await jsonToken(s.url, `{${base},"audience":${data}}`)).status, 200);
    });

    it('the JSON parse error does not echo the body (a secret may be in it)', async () => {
      const r = await jsonToken(s.url, `{"client_secret": "${ro.client_secret}", oops}`);
      assert.equal(r.status, 400);
      assert.ok(!r.text.includes(ro.client_secret));
    });

    it('oversized bodies get 413', async () => {
      const r = await formToken(s.url, `${form}&pad=${'x'.repeat(64 * 1024)}`);
      assertOAuthError(r, 413, 'invalid_request');
    });

    it('scope narrows; runs of spaces are normalised; tabs and empty results are invalid_scope (A16)', async () => {
      const r = await formToken(s.url, `${form}&scope=${encodeURIComponent('catalog:read  assets:read ')}`);
      assert.equal(r.status, 200);
      assert.equal(r.json.scope, 'catalog:read assets:read');
      assert.equal(decodeJwt(r.json.access_token).scope, 'catalog:read assets:read');
      assertOAuthError(await formToken(s.url, `${form}&scope=${encodeURIComponent('catalog:read\tassets:read')}`), 400, 'invalid_scope');
      assertOAuthError(await formToken(s.url, `${form}&scope=tasking:order`), 400, 'invalid_scope');
      assertOAuthError(await formToken(s.url, `${form}&scope=${encodeURIComponent('"quoted"')}`), 400, 'invalid_scope');
    });

    it('a scope above the root scope is never granted (ceiling)', async () => {
      const r = await formToken(
        s.url,
        `${form}&scope=${encodeURIComponent('catalog:read tasking:order catalog:write platform:admin admin:write')}`,
      );
      assert.equal(r.status, 200);
      assert.equal(r.json.scope, 'catalog:read');
    });

    it('unknown audience or resource is invalid_target (A17); audience and resource must agree', async () => {
      assertOAuthError(
        await formToken(s.url, `${form}&audience=${encodeURIComponent('https://api.example.com/v1/')}`),
        400,
        'invalid_target',
      );
      assertOAuthError(await formToken(s.url, `${form}&resource=${encodeURIComponent('https://api.example.com/')}`), 400, 'invalid_target');
      assert.equal((await formToken(s.url, `${form}&resource=${encodeURIComponent(s.config.dataAudience)}`)).status, 200);
      assertOAuthError(
        await formToken(
          s.url,
          `${form}&resource=${encodeURIComponent(s.config.dataAudience)}&audience=${encodeURIComponent(s.config.managementAudience)}`,
        ),
        400,
        'invalid_request',
      );
    });

    it('a client with no permission on the requested API is unauthorized_client', async () => {
      const adm = s.creds.admin;
      const r = await formToken(
        s.url,
        `grant_type=client_credentials&client_id=${adm.client_id}&client_secret=${adm.client_secret}&audience=${encodeURIComponent(s.config.dataAudience)}`,
      );
      assertOAuthError(r, 400, 'unauthorized_client');
      const ok = await formToken(s.url, `grant_type=client_credentials&client_id=${adm.client_id}&client_secret=${adm.client_secret}`);
      assert.equal(ok.status, 200);
      assert.equal(decodeJwt(ok.json.access_token).aud, s.config.managementAudience);
      assert.equal(ok.json.scope, 'admin:read admin:write');
    });

    it('GET on the token endpoint is not a token request', async () => {
      const r = await request(`${s.url}/oauth2/token?${form}`);
      assert.ok(r.status === 404 || r.status === 405);
      assert.ok(!('access_token' in (r.json ?? {})));
    });
  });
}
