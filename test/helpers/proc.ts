/**
 * Child processes for tests: the `skyport` CLI and other programs, always asynchronous so that an
 * in-process test server keeps answering while the child runs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file is compiled to dist/test/helpers/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SKYPORT_BIN = path.join(PROJECT_ROOT, 'bin', 'skyport.js');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child: ours without anything that would point it at another store or key. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('SKYPORT_') || k === 'DATABASE_URL' || k === 'PORT' || k === 'HOST' || /^(https?|all|no)_proxy$/i.test(k))
      delete env[k];
  }
  env.NO_PROXY = '127.0.0.1,localhost';
  env.no_proxy = '127.0.0.1,localhost';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs a program to completion; never rejects for a non-zero exit. */
export function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: opts.cwd ?? PROJECT_ROOT, env: opts.env ?? cleanEnv(), timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).code === 'ENOENT')
          return reject(err);
        resolve({ code: child.exitCode, signal: child.signalCode, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `node bin/skyport.js …args` with SKYPORT_DATA_DIR (and any other variables) set. */
export function skyport(args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  return run(process.execPath, [SKYPORT_BIN, ...args], { env: cleanEnv(env) });
}

/** A long-running child whose output is collected; `stop` ends it (SIGTERM, then SIGKILL) and resolves its exit. */
export interface Daemon {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();

/** Starts `node bin/skyport.js …args`; the caller must `stop()` it (or call `stopAll`). */
export function startDaemon(args: string[], env: Record<string, string | undefined>): Daemon {
  const child = spawn(process.execPath, [SKYPORT_BIN, ...args], {
    cwd: PROJECT_ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        const r = await exited;
        clearTimeout(t);
        return r;
      }
      return exited;
    },
  };
}

/** Kills every daemon still running (an `after` hook's safety net). */
export function stopAll(): void {
  for (const c of live) c.kill('SIGKILL');
}

/** Whether `file` can be executed with `args` successfully (e.g. `python3 -c "import requests"`). */
export async function available(file: string, args: string[]): Promise<boolean> {
  try {
    return (await run(file, args, { timeoutMs: 15_000 })).code === 0;
  } catch {
    return false;
  }
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function poll<T>(fn: () => Promise<T>, timeoutMs: number, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined;
    try {
      v = await fn();
    } catch {
      v = undefined;
    }
    if (v || Date.now() >= end) return v as T;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
