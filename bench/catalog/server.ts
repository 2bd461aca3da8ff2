// Skyport under test: `node bin/skyport.js serve` pinned to the server core, on the store the
// benchmark loaded, demo first start on (so the demo organization's credentials are written) with no
// demo items. At log level debug fastify logs one "request completed" line per request with its
// `responseTime`: the server-side time of each request, read back from the captured stdout.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkTokenRequest } from '../lib/http.js';
import { freePort, spawnChild, stopChild, waitForHttp, type Child } from '../lib/procs.js';
import type { CatalogBenchConfig } from './config.js';

/** A running Skyport: its base URL and a bearer token of the demo organization's read-only client. */
export interface RunningSkyport {
  child: Child;
  base: string;
  token: string;
  /** The demo organization's id (the `org` the entitlement filter uses). */
  orgId: string;
}

interface Credentials {
  client_id: string;
  client_secret: string;
}

async function readCredentials(dataDir: string, timeoutMs = 10_000): Promise<Credentials> {
  const file = path.join(dataDir, 'credentials', 'read-only.json');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      try {
        const c = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
        if (typeof c.client_id === 'string' && typeof c.client_secret === 'string') return c as Credentials;
      } catch {
        // half-written: retry
      }
    }
    await sleep(100);
  }
  throw new Error(`no demo credentials in ${file}`);
}

/**
 * Starts Skyport on the loaded store (`databaseUrl` for PostgreSQL, else the SQLite file in `dataDir`)
 * and gets a token. `logLevel` debug logs every request (for server-side times); warn for load runs.
 * Throws with the server's most telling log line when it does not come up.
 */
export async function startSkyport(
  cfg: CatalogBenchConfig,
  dataDir: string,
  databaseUrl: string | undefined,
  logLevel: 'debug' | 'warn',
): Promise<RunningSkyport> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Only the settings made here apply: inherited SKYPORT_* and DATABASE_URL are dropped.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKYPORT_') && k !== 'DATABASE_URL'));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    HOST: '127.0.0.1',
    PORT: String(port),
    SKYPORT_DATA_DIR: dataDir,
    SKYPORT_DEMO: 'true',
    SKYPORT_DEMO_ITEMS: '0',
    SKYPORT_DEMO_SAMPLE: 'false',
    SKYPORT_LOG_LEVEL: logLevel,
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const child = spawnChild(`skyport(${databaseUrl ? 'postgres' : 'sqlite'}, ${logLevel})`, process.execPath, [cfg.skyportBin, 'serve'], {
    cwd: cfg.root,
    env,
    cpu: cfg.serverCpu,
    captureStdout: true,
  });
  try {
    await waitForHttp(`${base}/.well-known/oauth-authorization-server`, child, 120_000);
    const creds = await readCredentials(dataDir);
    const tok = await checkTokenRequest(
      {
        url: `${base}/oauth2/token`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: creds.client_id,
          client_secret: creds.client_secret,
        }).toString(),
      },
      'RS256',
    );
    const orgId = tok.claims.org_id;
    return { child, base, token: tok.accessToken, orgId: typeof orgId === 'string' ? orgId : '' };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** One request as fastify logged it: path without query, status and server-side time (ms). */
export interface LoggedRequest {
  path: string;
  status: number;
  responseTime: number;
}

/**
 * The requests the server logged at debug level, in completion order, from `child.stdout` starting
 * at character `from`. Lines that are not fastify request lines are skipped.
 */
export function loggedRequests(child: Child, from = 0): LoggedRequest[] {
  const paths = new Map<string, string>();
  const out: LoggedRequest[] = [];
  for (const line of child.stdout.slice(from).split('\n')) {
    if (!line.startsWith('{')) continue;
    let rec: { reqId?: string; msg?: string; req?: { path?: string }; res?: { statusCode?: number }; responseTime?: number };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue;
    }
    if (rec.reqId === undefined) continue;
    if (rec.msg === 'incoming request' && typeof rec.req?.path === 'string') paths.set(rec.reqId, rec.req.path);
    else if (rec.msg === 'request completed' && typeof rec.responseTime === 'number') {
      out.push({ path: paths.get(rec.reqId) ?? '?', status: rec.res?.statusCode ?? 0, responseTime: rec.responseTime });
      paths.delete(rec.reqId);
    }
  }
  return out;
}
