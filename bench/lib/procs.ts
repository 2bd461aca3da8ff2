// Child-process plumbing for the benchmark: spawning (optionally pinned with
// taskset), a registry so that every child is killed on exit/error/signal,
// readiness polling, free ports and CPU accounting from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SpawnOptions {
  /** Pin to this CPU list with `taskset -c`. Omit for no pinning. */
  cpu?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep the whole stdout (otherwise only a tail of the output is kept). */
  captureStdout?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  stdout = '';
  private readonly tail: string[] = [];

  constructor(name: string, proc: ChildProcess, captureStdout: boolean) {
    if (proc.pid === undefined) throw new Error(`${name}: spawn failed (no pid)`);
    this.name = name;
    this.proc = proc;
    this.pid = proc.pid;
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
      }
    };
    proc.stdout?.on('data', (chunk: Buffer) => {
      if (captureStdout) this.stdout += chunk.toString('utf8');
      else keep(chunk);
    });
    proc.stderr?.on('data', keep);
    this.exited = new Promise<ExitInfo>((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      proc.once('error', (err) => {
        this.tail.push(`spawn error: ${err.message}`);
        this.exitInfo = { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Last lines of stderr (and stdout unless captured), for error messages. */
  logTail(lines = 15): string {
    return this.tail.slice(-lines).join('\n');
  }

  /** The log line that best explains a failure: an `XxxError: ...` line, else one that reads like an error, else the last. */
  errorLine(): string {
    const found =
      this.tail.find((l) => /\b[A-Z]\w*Error\b:/.test(l)) ??
      this.tail.find((l) => /error|fail|unsupported|invalid|cannot|must|not /i.test(l));
    const line = (found ?? this.tail.at(-1) ?? '(no output)').trim();
    return line.length > 300 ? `${line.slice(0, 300)}...` : line;
  }
}

const live = new Set<Child>();

/**
 * Spawn a child in its own process group (so its workers, if any, can be
 * killed with it) and register it for cleanup.
 */
export function spawnChild(name: string, command: string, args: string[], opts: SpawnOptions = {}): Child {
  const [cmd, argv] = opts.cpu === undefined ? [command, args] : ['taskset', ['-c', opts.cpu, command, ...args]];
  const proc = spawn(cmd, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const child = new Child(name, proc, opts.captureStdout ?? false);
  live.add(child);
  void child.exited.then(() => {
    // The group leader is gone; make sure nothing else in its group lingers.
    killGroup(child.pid, 'SIGKILL');
    live.delete(child);
  });
  return child;
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is already empty
  }
}

/** SIGTERM the child's process group, SIGKILL it if it has not exited after `graceMs`. */
export async function stopChild(child: Child, graceMs = 3000): Promise<void> {
  if (child.running) {
    killGroup(child.pid, 'SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout' as const);
    const outcome = await Promise.race([child.exited.then(() => 'exited' as const), timer]);
    if (outcome === 'timeout') {
      killGroup(child.pid, 'SIGKILL');
      await child.exited;
    }
  }
  killGroup(child.pid, 'SIGKILL');
  live.delete(child);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c)));
}

/** Synchronous last resort, used from 'exit' and signal handlers. */
export function killAllSync(): void {
  for (const child of live) killGroup(child.pid, 'SIGKILL');
  live.clear();
}

let handlersInstalled = false;
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping child processes\n`);
      killAllSync();
      process.exit(130);
    });
  }
}

/** Run a child to completion with a hard timeout; returns its whole stdout. */
export async function runToCompletion(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs: number },
): Promise<string> {
  const child = spawnChild(name, command, args, { ...opts, captureStdout: true });
  const timer = sleep(opts.timeoutMs).then(() => 'timeout' as const);
  const outcome = await Promise.race([child.exited, timer]);
  if (outcome === 'timeout') {
    await stopChild(child, 1000);
    throw new Error(`${name}: timed out after ${opts.timeoutMs} ms\n${child.logTail()}`);
  }
  if (outcome.code !== 0) {
    throw new Error(`${name}: exited with ${outcome.code ?? outcome.signal}\n${child.logTail()}`);
  }
  return child.stdout;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** Poll `url` until it answers 200; fail early if the child dies. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!child.running) {
      const info = child.exitInfo;
      throw new Error(`${child.name} exited (${info?.code ?? info?.signal}) before becoming ready: ${child.errorLine()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`${child.name} not ready after ${timeoutMs} ms (${url}: ${last}); log: ${child.errorLine()}`);
}

// ---- CPU accounting (Linux /proc) -------------------------------------------------

const CLK_TCK = 100; // USER_HZ; 100 on every mainstream Linux build

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    const ppid = Number(rest[1]);
    const ticks = Number(rest[11]) + Number(rest[12]);
    return { pid, ppid, ticks };
  } catch {
    return undefined;
  }
}

/** The process and all its live descendants. */
export function processTree(rootPid: number): ProcStat[] {
  const all: ProcStat[] = [];
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = readStat(Number(name));
      if (st) all.push(st);
    }
  } catch {
    return [];
  }
  const byParent = new Map<number, ProcStat[]>();
  for (const st of all) {
    const list = byParent.get(st.ppid) ?? [];
    list.push(st);
    byParent.set(st.ppid, list);
  }
  const root = all.find((s) => s.pid === rootPid);
  if (!root) return [];
  const out: ProcStat[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const cur = queue.shift()!;
    out.push(cur);
    queue.push(...(byParent.get(cur.pid) ?? []));
  }
  return out;
}

export interface SystemCpu {
  /** Busy CPU seconds so far, all cores (user, nice, system, irq, softirq). */
  busy: number;
  /** Seconds stolen by the hypervisor, all cores. */
  steal: number;
}

/** Machine-wide CPU counters from /proc/stat (zeros if unreadable). */
export function systemCpu(): SystemCpu {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const at = (i: number): number => f[i] ?? 0;
    return { busy: (at(0) + at(1) + at(2) + at(5) + at(6)) / CLK_TCK, steal: at(7) / CLK_TCK };
  } catch {
    return { busy: 0, steal: 0 };
  }
}

/** CPU seconds consumed so far by a process tree. */
export function treeCpuSeconds(rootPid: number): number {
  return processTree(rootPid).reduce((sum, s) => sum + s.ticks, 0) / CLK_TCK;
}

/**
 * Measures the machine's CPU use over one second before a benchmark starts and prints it (percent of one core),
 * with a warning above 10 %: figures taken on a busy machine are not comparable. Returns the percentage.
 */
export async function reportBackgroundCpu(): Promise<number> {
  const before = systemCpu();
  await new Promise((r) => setTimeout(r, 1000));
  const background = (systemCpu().busy - before.busy) * 100;
  console.log(
    `  background CPU before start: ${background.toFixed(0)}% of one core${background > 10 ? ' (WARNING: machine not idle)' : ''}`,
  );
  return background;
}
