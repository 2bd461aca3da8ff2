/**
 * Why client secrets are stored as HMAC-SHA-256 and not with a slow password hash: the cost per
 * token grant of each, measured in one run on this machine. `npm run bench:secret-hash`.
 *
 * Skyport's secrets carry 262 random bits, so there is no dictionary to slow down; a slow hash
 * only caps the token endpoint (every grant verifies a secret) and hands an attacker a cheap
 * CPU-exhaustion lever. The slow hashes below use OWASP's current minimums.
 */
import { createHmac, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { generateClientSecret } from '../src/auth/secrets.js';

function rate(name: string, fn: () => void, seconds: number): { name: string; perSecond: number; micros: number } {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    fn();
    n++;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  return { name, perSecond: n / elapsed, micros: (elapsed / n) * 1e6 };
}

const secret = generateClientSecret();
const key = randomBytes(32);
const salt = randomBytes(16);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);

const rows = [
  rate('HMAC-SHA-256 (Skyport)', () => createHmac('sha256', key).update(secret).digest(), seconds),
  rate('scrypt N=2^17 r=8 p=1 (OWASP)', () => scryptSync(secret, salt, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 }), seconds),
  rate('PBKDF2-SHA-256 600k (OWASP)', () => pbkdf2Sync(secret, salt, 600_000, 32, 'sha256'), seconds),
];
const hmac = rows[0]!.perSecond;
console.log(`secret hashing, one core, ${seconds} s each (${process.version})`);
console.log('hash                               ops/s       µs/op   grants/s ceiling   slower than HMAC');
for (const r of rows) {
  console.log(
    `${r.name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(9)} ${r.micros.toFixed(1).padStart(11)} ${r.perSecond.toFixed(0).padStart(18)} ${(hmac / r.perSecond).toFixed(0).padStart(18)}×`,
  );
}
