// Starting a server under test: pinned to the server core (or not, in the
// multi-worker mode), then polled until its readiness URL answers 200.
import type { BenchConfig } from './config.js';
import { spawnChild, stopChild, waitForHttp, type Child } from './procs.js';

export interface ServerSpec {
  name: string;
  /** Arguments to `node`, e.g. [script] or ['bin/skyport.js', 'serve']. */
  nodeArgs: string[];
  env: NodeJS.ProcessEnv;
  readyUrl: string;
  /** Pin to cfg.serverCpu (default true). */
  pinned?: boolean;
  readyTimeoutMs?: number;
}

export async function startServer(cfg: BenchConfig, spec: ServerSpec): Promise<Child> {
  const child = spawnChild(spec.name, process.execPath, spec.nodeArgs, {
    cwd: cfg.root,
    env: spec.env,
    ...(spec.pinned === false ? {} : { cpu: cfg.serverCpu }),
  });
  try {
    await waitForHttp(spec.readyUrl, child, spec.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return child;
}
