// Part 2: the empty-route ceiling: minimal fastify `GET /` -> `{}` on the server core.
import path from 'node:path';
import type { BenchConfig } from '../lib/config.js';
import { checkStatus } from '../lib/http.js';
import { runLoad } from '../lib/load.js';
import { freePort, stopChild, type Child } from '../lib/procs.js';
import { failed, type Measurement } from '../lib/results.js';
import { startServer } from '../lib/server.js';

export async function benchEmpty(cfg: BenchConfig): Promise<Measurement> {
  const id = 'empty';
  const label = 'fastify empty route GET /';
  let server: Child | undefined;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    server = await startServer(cfg, {
      name: 'empty-fastify',
      nodeArgs: [path.join(cfg.distBench, 'peers', 'empty-fastify.js')],
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
      readyUrl: url,
    });
    await checkStatus({ url, method: 'GET' });
    return await runLoad(cfg, {
      id,
      label,
      url,
      method: 'GET',
      serverPid: server.pid,
      pinned: true,
      setup: { serverCpu: cfg.serverCpu },
    });
  } catch (err) {
    return failed(id, label, 'req/s', err);
  } finally {
    if (server) await stopChild(server);
  }
}
