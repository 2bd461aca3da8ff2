/**
 * SDK benchmark (`npm run bench:sdk`): the Skyport server pinned to core 0, this client pinned to
 * core 1. Prints (1) how many token requests 1,000 concurrent authorizedFetch() calls from one
 * ClientCredentials instance cause (goal: 1), and (2) the SDK's overhead per call against raw fetch
 * with a fixed token, as a ratio of medians over 3 runs of the same request mix in the same run;
 * then the same two for item search: (3) 1,000 concurrent CatalogClient.search() calls (first page
 * only) from one instance, and (4) search() first pages against raw `POST /search` with a fixed token
 * (both parse the JSON page). The server holds the demo catalog of a first start.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { authorizedFetch, CatalogClient, ClientCredentials, type SearchParams } from '../packages/sdk/src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CALLS = Number(process.env.BENCH_SDK_CALLS ?? 20_000);
const SEARCH_CALLS = Number(process.env.BENCH_SDK_SEARCH_CALLS ?? 2_000);
const CONCURRENCY = 32;
/** A first page of 10 items over every collection the demo organization sees. */
const SEARCH: SearchParams = { limit: 10 };

/** µs per call of `call`, CONCURRENCY in flight, `calls` in all. */
async function run(call: () => Promise<unknown>, calls: number): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < calls) await call();
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e3 / calls;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[1]!;

/** Alternating runs (after one warm-up each): the medians of 3 and the per-run figures. */
async function compare(raw: () => Promise<unknown>, sdk: () => Promise<unknown>, calls: number): Promise<{ raw: number[]; sdk: number[] }> {
  await run(raw, calls);
  await run(sdk, calls);
  const out = { raw: [] as number[], sdk: [] as number[] };
  for (let i = 0; i < 3; i++) {
    out.raw.push(await run(raw, calls));
    out.sdk.push(await run(sdk, calls));
  }
  return out;
}

function report(rawLabel: string, sdkLabel: string, r: { raw: number[]; sdk: number[] }, what: string): void {
  const runs = (a: number[]) => a.map((x) => x.toFixed(1)).join(' / ');
  console.log(`${rawLabel.padEnd(25)} ${median(r.raw).toFixed(1)} µs/call (runs ${runs(r.raw)})`);
  console.log(`${sdkLabel.padEnd(25)} ${median(r.sdk).toFixed(1)} µs/call (runs ${runs(r.sdk)})`);
  console.log(`SDK / raw: ${(median(r.sdk) / median(r.raw)).toFixed(3)} (${what})`);
}

/** The items of a search's first page through the SDK: `maxItems` = the page size, so no second page is asked for. */
async function firstPage(catalog: CatalogClient): Promise<number> {
  let n = 0;
  for await (const item of catalog.search(SEARCH, { maxItems: SEARCH.limit! })) if (item.id) n++;
  return n;
}

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
    report(
      'raw fetch, fixed token:',
      'SDK authorizedFetch:',
      await compare(raw, viaSdk, CALLS),
      `${CALLS} calls, ${CONCURRENCY} in flight, GET / on the Data API`,
    );

    // (3) single flight under a burst of searches: one CatalogClient on a fresh ClientCredentials
    tokenRequests = 0;
    const searchBurst = new CatalogClient(
      new ClientCredentials({ clientId: creds.client_id, clientSecret: creds.client_secret, issuer: base, fetch: counting }),
      base,
    );
    const sizes = await Promise.all(Array.from({ length: 1000 }, () => firstPage(searchBurst)));
    console.log(
      `1,000 concurrent search() calls (first page): ${tokenRequests} token request(s); items per page ${[...new Set(sizes)].join(',')}`,
    );

    // (4) search() first page vs raw POST /search with a fixed token; both parse the JSON page
    const catalog = new CatalogClient(sdk, base);
    const rawSearch = () =>
      fetch(`${base}/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fixed}`, 'content-type': 'application/json', accept: 'application/geo+json' },
        body: JSON.stringify(SEARCH),
      }).then((r) => r.json());
    report(
      'raw POST /search:',
      'SDK search() first page:',
      await compare(rawSearch, () => firstPage(catalog), SEARCH_CALLS),
      `${SEARCH_CALLS} calls, ${CONCURRENCY} in flight, POST /search limit 10 over the demo catalog`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
