/**
 * Failed-authentication rate limiting (and why an attacker cannot lock a client out), equal answers
 * and timing for unknown client vs wrong secret, audit of failures, and log hygiene: no secret or
 * token in any log line.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { bearer, formToken, request } from '../helpers/http.js';

describe('failed-authentication limits', () => {
  let s: TestServer;
  let ro: { client_id: string; client_secret: string };
  const good = () => `grant_type=client_credentials&client_id=${ro.client_id}&client_secret=${ro.client_secret}`;
  const bad = (id = ro.client_id) => `grant_type=client_credentials&client_id=${id}&client_secret=sks_guess`;
  // SKYPORT_TRUST_PROXY lets the test speak from several source addresses through X-Forwarded-For.
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  before(async () => {
    s = await startServer({
      env: {
        SKYPORT_TRUST_PROXY: 'true',
        SKYPORT_RATE_LIMIT_CLIENT_ADDRESS: '3',
        SKYPORT_RATE_LIMIT_ADDRESS: '8',
        SKYPORT_RATE_LIMIT_CLIENT: '5',
      },
    });
    ro = s.creds['read-only'];
  });
  after(() => s.close());

  it('blocks an address after repeated failures for one client, with 429 and Retry-After', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await formToken(s.url, bad(), from('203.0.113.1'))).status, 401);
    const r = await formToken(s.url, bad(), from('203.0.113.1'));
    assert.equal(r.status, 429);
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.equal(r.json.error, 'temporarily_unavailable');
    // Even the right secret from the blocked address waits: the block is per address, not per guess.
    assert.equal((await formToken(s.url, good(), from('203.0.113.1'))).status, 429);
  });

  it('a legitimate host is never locked out by failures from other hosts', async () => {
    // Many attacker addresses fail for the same client: past the per-client limit...
    for (let i = 10; i < 20; i++) await formToken(s.url, bad(), from(`198.51.100.${i}`));
    assert.equal((await formToken(s.url, bad(), from('198.51.100.10'))).status, 429);
    // ...but the client's own host, which has not failed, still gets its token.
    const r = await formToken(s.url, good(), from('192.0.2.7'));
    assert.equal(r.status, 200, r.text);
  });

  it('one address spraying many client ids is limited per address', async () => {
    let last = 0;
    for (let i = 0; i < 10; i++) last = (await formToken(s.url, bad(`unknown${i}`), from('203.0.113.99'))).status;
    assert.equal(last, 429);
    assert.equal((await formToken(s.url, good(), from('203.0.113.100'))).status, 200);
  });

  it('failed authentications are audited without the attempted secret', async () => {
    const entries = await s.skyport.storage.listAudit(null, 500);
    const failures = entries.filter((e) => e.action === 'oauth.client_authentication' && e.outcome === 'failure');
    assert.ok(failures.length >= 3);
    assert.ok(failures.some((e) => e.target === ro.client_id && e.details.reason === 'wrong_secret'));
    assert.ok(!JSON.stringify(entries).includes('sks_guess'));
    // An unknown id is recorded only as a digest: a pasted secret must not land in the audit log.
    await formToken(s.url, bad(ro.client_secret), from('203.0.113.200'));
    assert.ok(!JSON.stringify(await s.skyport.storage.listAudit(null, 500)).includes(ro.client_secret));
  });
});

describe('unknown client vs wrong secret', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({
      env: { SKYPORT_RATE_LIMIT_CLIENT_ADDRESS: '100000', SKYPORT_RATE_LIMIT_ADDRESS: '100000', SKYPORT_RATE_LIMIT_CLIENT: '100000' },
    });
  });
  after(() => s.close());

  it('take the same time (medians within 25 %, interleaved)', async () => {
    const ro = s.creds['read-only'];
    const time = async (id: string) => {
      const t = process.hrtime.bigint();
      const r = await formToken(
        s.url,
        `grant_type=client_credentials&client_id=${id}&client_secret=sks_wrong_secret_of_some_length_0000000000000000`,
      );
      assert.equal(r.status, 401);
      return Number(process.hrtime.bigint() - t);
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 30; i++) {
      await time(ro.client_id); // warm-up
      await time('Z'.repeat(32));
    }
    for (let i = 0; i < 200; i++) {
      known.push(await time(ro.client_id));
      unknown.push(await time(`${'Q'.repeat(28)}${String(i).padStart(4, '0')}`));
    }
    const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
    const ratio = median(known) / median(unknown);
    assert.ok(ratio > 0.8 && ratio < 1.25, `median ratio known/unknown = ${ratio.toFixed(3)}`);
  });
});

describe('log hygiene', () => {
  it('no secret or token appears in any log line, even at debug level and on errors', async () => {
    const s = await startServer({ env: { SKYPORT_LOG_LEVEL: 'trace' } });
    try {
      const ro = s.creds['read-only'];
      const tok = await formToken(s.url, `grant_type=client_credentials&client_id=${ro.client_id}&client_secret=${ro.client_secret}`);
      const at = tok.json.access_token as string;
      await request(`${s.url}/collections`, { headers: bearer(at) });
      await request(`${s.url}/collections?access_token=${at}`);
      await request(`${s.url}/nothing-here?client_secret=${ro.client_secret}`);
      await formToken(s.url, `{"client_secret":"${ro.client_secret}"`, { 'content-type': 'application/json' });
      await formToken(s.url, `grant_type=client_credentials&client_id=${ro.client_id}&client_secret=${ro.client_secret}x`);
      const logs = s.logs();
      assert.ok(logs.length > 0, 'the server logged something at trace level');
      assert.ok(!logs.includes(ro.client_secret), 'client secret in logs');
      assert.ok(!logs.includes(at), 'access token in logs');
      assert.ok(!logs.includes(at.split('.')[2]!), 'token signature in logs');
    } finally {
      await s.close();
    }
  });
});
