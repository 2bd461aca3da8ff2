// Part 4: Skyport itself, started as `node bin/skyport.js serve` with a fresh
// data dir per start. Per algorithm: form-style grant, JSON-style grant and a
// protected request; then the multi-worker ("two cores") grant measurement.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Alg, BenchConfig } from '../lib/config.js';
import { checkStatus, checkTokenRequest, type OneRequest } from '../lib/http.js';
import { runLoad } from '../lib/load.js';
import { freePort, processTree, stopChild, type Child } from '../lib/procs.js';
import { failed, type Measurement } from '../lib/results.js';
import { startServer } from '../lib/server.js';

interface Credentials {
  client_id: string;
  client_secret: string;
  token_url?: string;
  audience: string;
}

interface Running {
  server: Child;
  base: string;
  dataDir: string;
  creds: Credentials;
}

async function readCredentials(dataDir: string, timeoutMs = 5000): Promise<Credentials> {
  const file = path.join(dataDir, 'credentials', 'read-only.json');
  const deadline = Date.now() + timeoutMs;
  let lastError = 'file not found';
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
        if (typeof parsed.client_id === 'string' && typeof parsed.client_secret === 'string') {
          if (typeof parsed.audience !== 'string') throw new Error('no "audience" string');
          return parsed as Credentials;
        }
        lastError = 'no client_id/client_secret strings';
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err); // maybe half-written; retry
      }
    }
    await sleep(100);
  }
  throw new Error(`credentials file ${file}: ${lastError}`);
}

async function startSkyport(cfg: BenchConfig, alg: Alg, workers?: number): Promise<Running> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `skyport-bench-${alg}-`));
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // Drop inherited Skyport settings (and DATABASE_URL, which would switch
    // storage to PostgreSQL) so that only what is set here applies.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKYPORT_') && k !== 'DATABASE_URL'));
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      HOST: '127.0.0.1',
      PORT: String(port),
      SKYPORT_DATA_DIR: dataDir,
      SKYPORT_SIGNING_ALG: alg,
      SKYPORT_LOG_LEVEL: 'warn',
    };
    if (workers !== undefined) env.SKYPORT_WORKERS = String(workers);
    const server = await startServer(cfg, {
      name: workers === undefined ? `skyport(${alg})` : `skyport(${alg}, ${workers} workers)`,
      nodeArgs: [cfg.skyportBin, 'serve'],
      env,
      readyUrl: `${base}/.well-known/oauth-authorization-server`,
      pinned: workers === undefined,
      readyTimeoutMs: 60_000,
    });
    try {
      const creds = await readCredentials(dataDir);
      return { server, base, dataDir, creds };
    } catch (err) {
      await stopChild(server);
      throw err;
    }
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function stopSkyport(run: Running | undefined): Promise<void> {
  if (!run) return;
  await stopChild(run.server);
  rmSync(run.dataDir, { recursive: true, force: true });
}

function formGrant(run: Running): OneRequest & { method: 'POST' } {
  return {
    url: `${run.base}/oauth2/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: run.creds.client_id,
      client_secret: run.creds.client_secret,
    }).toString(),
  };
}

function jsonGrant(run: Running): OneRequest & { method: 'POST' } {
  return {
    url: `${run.base}/oauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: run.creds.client_id,
      client_secret: run.creds.client_secret,
      audience: run.creds.audience,
      grant_type: 'client_credentials',
    }),
  };
}

const labels = {
  form: (alg: Alg) => `skyport grant ${alg} (form, /oauth2/token)`,
  json: (alg: Alg) => `skyport grant ${alg} (JSON, /oauth/token)`,
  protected: (alg: Alg) => `skyport GET / landing (${alg} token)`,
  collections: (alg: Alg) => `skyport GET /collections (${alg} token, SQLite read)`,
  multi: (alg: Alg, w: number) => `skyport grant ${alg} (form, ${w} workers)`,
};

/** Form grant, JSON grant and protected request for one algorithm, on one pinned server. */
export async function benchSkyport(cfg: BenchConfig, alg: Alg): Promise<Measurement[]> {
  let run: Running | undefined;
  const out: Measurement[] = [];
  try {
    run = await startSkyport(cfg, alg);
  } catch (err) {
    return [
      failed(`skyport.form.${alg}`, labels.form(alg), 'req/s', err),
      failed(`skyport.json.${alg}`, labels.json(alg), 'req/s', err),
      failed(`skyport.protected.${alg}`, labels.protected(alg), 'req/s', err),
    ];
  }
  try {
    const common = { serverPid: run.server.pid, pinned: true, setup: { serverCpu: cfg.serverCpu } };

    // (a) form style
    const form = formGrant(run);
    try {
      const tok = await checkTokenRequest(form, alg);
      const m = await runLoad(cfg, { id: `skyport.form.${alg}`, label: labels.form(alg), ...form, ...common });
      m.setup.tokenClaims = Object.keys(tok.claims).join(',');
      m.setup.tokenBytes = tok.accessToken.length;
      out.push(m);
    } catch (err) {
      out.push(failed(`skyport.form.${alg}`, labels.form(alg), 'req/s', err));
    }

    // (b) JSON style
    const json = jsonGrant(run);
    try {
      await checkTokenRequest(json, alg);
      out.push(await runLoad(cfg, { id: `skyport.json.${alg}`, label: labels.json(alg), ...json, ...common }));
    } catch (err) {
      out.push(failed(`skyport.json.${alg}`, labels.json(alg), 'req/s', err));
    }

    // (c) protected requests with one token: the STAC landing page (verify + authorize + small
    // JSON, the goal's definition) and, for RS256, /collections (adds an entitlement-filtered read).
    const paths: [string, string, string][] = [['protected', '/', labels.protected(alg)]];
    if (alg === 'RS256') paths.push(['collections', '/collections', labels.collections(alg)]);
    for (const [kind, path, label] of paths) {
      try {
        const tok = await checkTokenRequest(form, alg);
        const req: OneRequest & { method: 'GET' } = {
          url: `${run.base}${path}`,
          method: 'GET',
          headers: { authorization: `Bearer ${tok.accessToken}` },
        };
        await checkStatus(req, 200);
        out.push(await runLoad(cfg, { id: `skyport.${kind}.${alg}`, label, ...req, ...common }));
      } catch (err) {
        out.push(failed(`skyport.${kind}.${alg}`, label, 'req/s', err));
      }
    }
  } finally {
    await stopSkyport(run);
  }
  return out;
}

/** (d) Form grant with SKYPORT_WORKERS; neither server nor load generator pinned. */
export async function benchSkyportMulti(cfg: BenchConfig, alg: Alg): Promise<Measurement> {
  const id = `skyport.multi.${alg}`;
  const label = labels.multi(alg, cfg.workers);
  const setup = { SKYPORT_WORKERS: cfg.workers, serverPinned: 'no' };
  let run: Running | undefined;
  try {
    run = await startSkyport(cfg, alg, cfg.workers);
    const form = formGrant(run);
    await checkTokenRequest(form, alg);
    const procs = processTree(run.server.pid).length;
    const m = await runLoad(cfg, { id, label, ...form, serverPid: run.server.pid, pinned: false, setup });
    m.setup.serverProcesses = procs;
    m.notes.push(
      `${cfg.workers}-worker mode: server and load generator share both cores (nothing pinned), ` +
        `autocannon uses ${cfg.connectionsMulti} connections; srv CPU is the whole server process tree ` +
        `(${procs} process${procs === 1 ? '' : 'es'} seen at start)`,
    );
    return m;
  } catch (err) {
    return failed(id, label, 'req/s', err, setup);
  } finally {
    await stopSkyport(run);
  }
}
