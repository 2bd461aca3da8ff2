/**
 * SDK benchmark (`npm run bench:sdk`): the Skyport server pinned to core 0, this client pinned to
 * core 1. Prints (1) how many token requests 1,000 concurrent authorizedFetch() calls from one
 * ClientCredentials instance cause (goal: 1), and (2) the SDK's overhead per call against raw fetch
 * with a fixed token, as a ratio of medians over 3 runs of the same request mix in the same run.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { authorizedFetch, ClientCredentials } from '../packages/sdk/src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CALLS = Number(process.env.BENCH_SDK_CALLS ?? 20_000);
const CONCURRENCY = 32;

async function main(): Promise<void> {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    console.log('note: taskset unavailable, client not pinned');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-bench-sdk-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const base = `http://127.0.0.1:${port}`;
  const server = spawn('taskset', ['-c', '0', process.execPath, path.join(root, 'bin/skyport.js'), 'serve'], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      SKYPORT_DATA_DIR: dir,
      SKYPORT_LOG_LEVEL: 'warn',
      SKYPORT_SIGNING_ALG: 'ES256',
    },
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${base}/.well-known/jwks.json`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const credsFile = path.join(dir, 'credentials', 'read-only.json');
    const creds = JSON.parse(readFileSync(credsFile, 'utf8')) as { client_id: string; client_secret: string };

    // (1) single flight under a burst
    let tokenRequests = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).endsWith('/token')) tokenRequests++;
      return fetch(input, init);
    };
    const burst = new ClientCredentials({ clientId: creds.client_id, clientSecret: creds.client_secret, issuer: base, fetch: counting });
    const statuses = await Promise.all(
      Array.from({ length: 1000 }, () => authorizedFetch(burst, `${base}/`, {}, { fetch: counting }).then((r) => r.status)),
    );
    console.log(
      `1,000 concurrent authorizedFetch() calls: ${tokenRequests} token request(s); statuses ${[...new Set(statuses)].join(',')}`,
    );

    // (2) overhead per call vs raw fetch with a fixed token, same request mix, alternating runs
    const sdk = new ClientCredentials({ clientId: creds.client_id, clientSecret: creds.client_secret, issuer: base });
    const fixed = await sdk.getToken();
    const raw = () => fetch(`${base}/`, { headers: { authorization: `Bearer ${fixed}` } }).then((r) => r.arrayBuffer());
    const viaSdk = () => authorizedFetch(sdk, `${base}/`).then((r) => r.arrayBuffer());
    const run = async (call: () => Promise<unknown>): Promise<number> => {
      let next = 0;
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next++ < CALLS) await call();
        }),
      );
      return Number(process.hrtime.bigint() - t0) / 1e3 / CALLS; // µs per call
    };
    await run(raw);
    await run(viaSdk); // warm-up
    const rawUs: number[] = [];
    const sdkUs: number[] = [];
    for (let i = 0; i < 3; i++) {
      rawUs.push(await run(raw));
      sdkUs.push(await run(viaSdk));
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[1]!;
    console.log(`raw fetch, fixed token:  ${median(rawUs).toFixed(1)} µs/call (runs ${rawUs.map((x) => x.toFixed(1)).join(' / ')})`);
    console.log(`SDK authorizedFetch:     ${median(sdkUs).toFixed(1)} µs/call (runs ${sdkUs.map((x) => x.toFixed(1)).join(' / ')})`);
    console.log(
      `SDK / raw: ${(median(sdkUs) / median(rawUs)).toFixed(3)} (${CALLS} calls, ${CONCURRENCY} in flight, GET / on the Data API)`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
