/**
 * The seed pages' own client code against a real server: the Hydrosat page's Python (python3 +
 * requests), taken from the page text and changed only in its two URLs, reading a creds.json
 * (chmod 600) copied from the demo's read-only credential file; and the Satellogic page's curl.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { bearer, request } from '../helpers/http.js';
import { available, run } from '../helpers/proc.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SEEDS = process.env.SKYPORT_SEEDS_DIR ?? '/work/shared/reference/seeds';
const HYDROSAT = path.join(SEEDS, '000_a50ad10ae2f6e37d.txt');
const SATELLOGIC = path.join(SEEDS, '004_909e8f2f46e3550c.txt');

/** The fenced code blocks of one language, in page order. */
function codeBlocks(page: string, lang: string): string[] {
  return [...page.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** Replaces `from` (which must occur exactly once) by `to`. */
function replaceOnce(text: string, from: string, to: string): string {
  const n = text.split(from).length - 1;
  assert.equal(n, 1, `the page's code contains ${JSON.stringify(from)} once`);
  return text.replace(from, to);
}

const pythonReason = (await available('python3', ['-c', 'import requests']))
  ? undefined
  : 'python3 with the requests package is not installed';
const curlReason = (await available('curl', ['--version'])) ? undefined : 'curl is not installed';
const seedsReason = (() => {
  try {
    statSync(HYDROSAT);
    statSync(SATELLOGIC);
    return undefined;
  } catch {
    return `seed pages not found under ${SEEDS}`;
  }
})();

describe('seed pages run against Skyport', () => {
  let s: TestServer;
  let dir: string;
  before(async () => {
    s = await startServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-seed-'));
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "Hydrosat: the page's Python example, unchanged but for its URLs, prints the demo collection",
    { skip: seedsReason ?? pythonReason },
    async () => {
      const blocks = codeBlocks(readFileSync(HYDROSAT, 'utf8'), 'python');
      assert.equal(blocks.length, 2, 'the page has a token block and a STAC block');
      let code = blocks.join('\n');
      code = replaceOnce(code, '"https://auth.hydrosat.com/oauth2/token"', JSON.stringify(`${s.url}/oauth2/token`));
      code = replaceOnce(code, "'https://stac-beta.hydrosat.com/collections'", `'${s.url}/collections'`);
      // The page's snippets assume the imports a reader adds: json and requests. Nothing else is added.
      const script = `import json\nimport requests\n\n${code}`;
      writeFileSync(path.join(dir, 'example.py'), script);
      // creds.json as the page describes: the read-only credential file, chmod 600.
      const creds = path.join(dir, 'creds.json');
      copyFileSync(path.join(s.config.dataDir, 'credentials', 'read-only.json'), creds);
      chmodSync(creds, 0o600);
      assert.equal(statSync(creds).mode & 0o777, 0o600);

      const r = await run('python3', ['example.py'], { cwd: dir, timeoutMs: 60_000 });
      assert.equal(r.code, 0, `python failed:\n${r.stderr}`);
      // print(dict) gives the Python repr of the collections document.
      assert.match(r.stdout, /'collections': \[/);
      assert.match(r.stdout, /'id': 'skyport-lst'/);
      assert.doesNotMatch(r.stdout, /'code': '|Unauthorized|invalid_token/);
    },
  );

  it(
    'Hydrosat: the same script with a wrong secret fails at token_data["access_token"] (the 401 body has no token)',
    { skip: seedsReason ?? pythonReason },
    async () => {
      const code = codeBlocks(readFileSync(HYDROSAT, 'utf8'), 'python')[0]!.replace(
        '"https://auth.hydrosat.com/oauth2/token"',
        JSON.stringify(`${s.url}/oauth2/token`),
      );
      const wrong = mkdtempSync(path.join(dir, 'wrong-'));
      writeFileSync(path.join(wrong, 'get_token.py'), `import json\nimport requests\n\n${code}\n`);
      const ro = JSON.parse(readFileSync(path.join(s.config.dataDir, 'credentials', 'read-only.json'), 'utf8'));
      writeFileSync(path.join(wrong, 'creds.json'), JSON.stringify({ client_id: ro.client_id, client_secret: 'sks_not-the-secret' }), {
        mode: 0o600,
      });
      const r = await run('python3', ['get_token.py'], { cwd: wrong, timeoutMs: 60_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /KeyError: 'access_token'/);
    },
  );

  /** The Satellogic command's arguments, taken from the page, with our URL, credentials and audience. */
  function satellogicArgs(url: string, body: Record<string, string>): string[] {
    const page = readFileSync(SATELLOGIC, 'utf8');
    const shell = codeBlocks(page, 'shell')[0];
    assert.ok(shell, 'the page has a shell block');
    assert.match(shell, /curl --request POST --url "https:\/\/api\.satellogic\.com\/oauth\/token"/);
    assert.match(shell, /-H 'content-type: application\/json'/);
    for (const k of Object.keys(body)) assert.ok(shell.includes(`"${k}":`), `the page sends ${k}`);
    return [
      '--silent',
      '--show-error',
      '--request',
      'POST',
      '--url',
      url,
      '-H',
      'content-type: application/json',
      '--data',
      JSON.stringify(body, null, 2),
    ];
  }

  it(
    'Satellogic: curl with a JSON body and the Data API audience at /oauth/token gives a working token',
    { skip: seedsReason ?? curlReason },
    async () => {
      const ro = s.creds['read-only'];
      const args = satellogicArgs(`${s.url}/oauth/token`, {
        client_id: ro.client_id,
        client_secret: ro.client_secret,
        audience: s.config.dataAudience,
        grant_type: 'client_credentials',
      });
      const r = await run('curl', [...args, '--write-out', '\n%{http_code}']);
      assert.equal(r.code, 0, r.stderr);
      const [body, status] = [r.stdout.slice(0, r.stdout.lastIndexOf('\n')), r.stdout.slice(r.stdout.lastIndexOf('\n') + 1)];
      assert.equal(status, '200', body);
      const j = JSON.parse(body);
      assert.equal(j.token_type, 'Bearer');
      assert.equal(typeof j.expires_in, 'number');
      const claims = decodeJwt(j.access_token);
      assert.equal(claims.aud, s.config.dataAudience);
      assert.equal(claims.gty, 'client-credentials');
      assert.equal(claims.sub, `${ro.client_id}@clients`);
      const c = await request(`${s.url}/collections`, { headers: bearer(j.access_token) });
      assert.equal(c.status, 200);
      assert.ok(c.json.collections.some((x: { id: string }) => x.id === 'skyport-lst'));
    },
  );

  it(
    "Satellogic: the page's command verbatim in a shell (its `\\` inside single quotes reach the body) gets a clean 400, not a 500",
    { skip: seedsReason ?? curlReason },
    async () => {
      const ro = s.creds['read-only'];
      let shell = codeBlocks(readFileSync(SATELLOGIC, 'utf8'), 'shell')[0]!;
      shell = replaceOnce(shell, 'https://api.satellogic.com/oauth/token', `${s.url}/oauth/token`);
      shell = replaceOnce(shell, '8jk3ozaT6bVpoBICufsEg8Xw7rKOnjSo', ro.client_id);
      shell = replaceOnce(shell, 'Kls9GULwerGbbZ18NE0jslWCYZpaWksjdBTB84zGE7O36bDIkSZCqayOFbN-Qru', ro.client_secret);
      shell = replaceOnce(shell, 'https://api.satellogic.com/v1/', s.config.dataAudience);
      const r = await run('bash', ['-c', shell.replace('curl ', "curl --silent --write-out '\\n%{http_code}' ")]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      const status = lines.pop();
      const body = lines.join('\n');
      assert.equal(status, '400', body);
      const j = JSON.parse(body);
      assert.equal(j.error, 'invalid_request');
      assert.ok(!body.includes(ro.client_secret), 'the error does not echo the secret');
    },
  );
});
