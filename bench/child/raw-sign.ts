// Child-process entry point: raw node:crypto signing rate for one JWS
// algorithm, single thread (the parent pins this process to the server core).
// Prints one JSON line per measured run.
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { systemCpu } from '../lib/procs.js';

type Alg = 'RS256' | 'ES256' | 'EdDSA';

export interface RawSpec {
  alg: Alg;
  seconds: number;
  warmupSeconds: number;
  runs: number;
}

export interface RawRun {
  ops: number;
  opsPerSec: number;
  /** Per-signature latency, microseconds. */
  p50us: number;
  p99us: number;
  inputBytes: number;
  /** CPU used by this process over the run, % of one core. */
  selfCpuPct: number;
  /** Busy CPU of everything else on the machine over the run, % of one core. */
  otherCpuPct: number;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A typical access-token signing input (header.payload), ~300 bytes. */
export function signingInput(alg: Alg): Buffer {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg, typ: 'at+jwt', kid: 'kOcNq3e5vB1g7Jc2sY0dUw9Xr4TqLm8Zp6HfA' };
  const payload = {
    iss: 'https://auth.skyport.example',
    sub: 'c_3f9a1c2d7e8b4a6f',
    aud: 'https://api.skyport.example',
    client_id: 'c_3f9a1c2d7e8b4a6f',
    scope: 'read',
    iat: now,
    exp: now + 3600,
    jti: 'Vh3kLz9Qw2rT8yPb5nXc1A',
  };
  return Buffer.from(`${b64url(header)}.${b64url(payload)}`);
}

function keysFor(alg: Alg): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
  }
}

function signer(alg: Alg, key: KeyObject): (data: Buffer) => Buffer {
  switch (alg) {
    case 'RS256':
      return (data) => sign('sha256', data, key);
    case 'ES256':
      return (data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return (data) => sign(null, data, key);
  }
}

function run(fn: (d: Buffer) => Buffer, input: Buffer, seconds: number): RawRun {
  const budget = seconds * 1000;
  const sys0 = systemCpu();
  const cpu0 = process.cpuUsage();
  let lat = new Float64Array(1 << 15);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < budget) {
    const t = now;
    fn(input);
    now = performance.now();
    if (n === lat.length) {
      const bigger = new Float64Array(lat.length * 2);
      bigger.set(lat);
      lat = bigger;
    }
    lat[n++] = now - t;
  }
  const elapsed = (now - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const selfCpuPct = ((cpu.user + cpu.system) / 1e6 / elapsed) * 100;
  const busyPct = ((systemCpu().busy - sys0.busy) / elapsed) * 100;
  const sorted = lat.subarray(0, n).sort();
  const pick = (p: number): number => (sorted[Math.max(0, Math.ceil(p * n) - 1)] ?? Number.NaN) * 1000;
  return {
    ops: n,
    opsPerSec: n / elapsed,
    p50us: pick(0.5),
    p99us: pick(0.99),
    inputBytes: input.length,
    selfCpuPct,
    otherCpuPct: Math.max(0, busyPct - selfCpuPct),
  };
}

function main(): void {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: raw-sign.js <json spec>');
  const spec = JSON.parse(arg) as RawSpec;
  const { privateKey, publicKey } = keysFor(spec.alg);
  const input = signingInput(spec.alg);
  const fn = signer(spec.alg, privateKey);

  // Sanity check: the signature verifies (and ES256 is the 64-byte JOSE form).
  const sig = fn(input);
  const ok =
    spec.alg === 'RS256'
      ? verify('sha256', input, publicKey, sig)
      : spec.alg === 'ES256'
        ? sig.length === 64 && verify('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)
        : verify(null, input, publicKey, sig);
  if (!ok) throw new Error(`${spec.alg}: signature self-check failed`);

  if (spec.warmupSeconds > 0) run(fn, input, spec.warmupSeconds);
  for (let i = 0; i < spec.runs; i++) {
    process.stdout.write(`${JSON.stringify(run(fn, input, spec.seconds))}\n`);
  }
}

main();
