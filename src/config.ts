/**
 * Every setting Skyport reads, its environment variable, default and unit, in one place.
 * `loadConfig(env)` throws `ConfigError` with the variable's name when a value is malformed.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { isSafeAssetKey } from './storage/assets/keys.js';
import type { S3Options } from './storage/assets/s3.js';

export type SigningAlg = 'RS256' | 'ES256' | 'EdDSA';
export const SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'ES256', 'EdDSA'];

export interface Config {
  host: string;
  port: number;
  /** Public base URL without a trailing slash, e.g. `https://skyport.example.com`. */
  publicUrl: string;
  /** `iss` of every token and the RFC 8414 `issuer`. */
  issuer: string;
  dataDir: string;
  /** PostgreSQL connection string; embedded SQLite under `dataDir` when absent. */
  databaseUrl: string | undefined;
  demo: boolean;
  /** Items of the generated demo constellation catalog loaded on a demo first start (split over its collections). */
  demoItems: number;
  /** Whether a demo first start also loads the bundled real STAC sample (samples/stac). */
  demoSample: boolean;
  signingAlg: SigningAlg;
  /** 32-byte key (AES-256-GCM) that encrypts private signing keys at rest; optional. */
  encryptionKey: Buffer | undefined;
  logLevel: string;
  /** Audience identifiers of the two built-in APIs. */
  dataAudience: string;
  managementAudience: string;
  /** Access-token lifetime per API, seconds. */
  dataTokenTtl: number;
  managementTokenTtl: number;
  /** Clock skew tolerated when verifying `exp`/`iat`, seconds. */
  clockSkew: number;
  /** How often each instance reads new revocations and key changes from storage, ms (the revocation bound). */
  syncInterval: number;
  workers: number;
  /** fastify `trustProxy`: false, or trusted proxy addresses/CIDRs (true trusts every hop: spoofable). */
  trustProxy: boolean | string[];
  /** Failed client authentications tolerated per source address per minute. */
  rateLimitPerAddress: number;
  /** Failed authentications tolerated per (client_id, source address) per minute. */
  rateLimitPerClientAddress: number;
  /** Failed authentications per client_id per minute, all addresses together (see auth/rate-limit.ts). */
  rateLimitPerClient: number;
  /** Largest token-endpoint request body, bytes. */
  tokenBodyLimit: number;
  /** Item search page size: default and maximum (larger `limit`s are clamped). */
  searchDefaultLimit: number;
  searchMaxLimit: number;
  /** numberMatched is counted exactly up to this many matches and omitted beyond (0 = never counted). */
  searchCountLimit: number;
  /** Folder of the asset files Skyport serves itself (`asset:` hrefs are relative to it) when `assetsStore` is local. */
  assetsDir: string;
  /** Where held assets live: `local` (assetsDir) or `s3` (the bucket in `s3`). */
  assetsStore: 'local' | 's3';
  /** The S3-compatible bucket of held assets (SKYPORT_S3_*), when `assetsStore` is s3. Holds a secret: never log it. */
  s3: S3Options | undefined;
  /** Simulated seconds per wall second of each tasking order's clock (tasking/scheduler.ts); 1 = real time. */
  taskingTimeScale: number;
  /** Pause between scheduler (and webhook dispatcher) ticks, ms. */
  taskingTickMs: number;
  /** Lifetime of the scheduler's lease, ms: another instance takes over this long after the holder stops. */
  taskingLeaseMs: number;
  /** Whether this process runs the tasking scheduler and webhook dispatcher (one instance works at a time anyway). */
  taskingWorkers: boolean;
  /** Let webhooks reach private, loopback and link-local addresses (off: SSRF protection). */
  webhookAllowPrivate: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return def;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function url(name: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return raw.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}"`);
  }
}

function encryptionKey(raw: string | undefined): Buffer | undefined {
  if (!raw) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) {
    throw new ConfigError('SKYPORT_ENCRYPTION_KEY must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32)');
  }
  return key;
}

/**
 * SKYPORT_TRUST_PROXY: `false` (default) or a comma list of the reverse proxies' addresses/CIDRs
 * (e.g. `127.0.0.1` or `10.0.0.0/8`): X-Forwarded-For is believed only as far as it was written by
 * them. `true` trusts every hop, which lets any client choose its own address (and so dodge or aim
 * the failed-authentication limits); hop counts are not offered, as fastify refuses them for that reason.
 */
function trustProxy(raw: string | undefined): boolean | string[] {
  const v = raw?.trim().toLowerCase();
  if (!v || ['0', 'false', 'no', 'off'].includes(v)) return false;
  if (['true', 'yes', 'on'].includes(v)) return true;
  const list = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const valid = (x: string) => {
    const [addr = '', bits, ...rest] = x.split('/');
    return isIP(addr) !== 0 && rest.length === 0 && (bits === undefined || /^[0-9]{1,3}$/.test(bits));
  };
  if (!list.every(valid)) {
    throw new ConfigError(`SKYPORT_TRUST_PROXY must be false or the proxies' addresses/CIDRs, got "${raw}"`);
  }
  return list;
}

/**
 * SKYPORT_ASSETS_STORE (`local` | `s3`) and, for s3, SKYPORT_S3_*: bucket and both keys required; the
 * endpoint defaults to AWS in the region (default us-east-1), path-style addressing (`auto`) to on exactly
 * when an endpoint is given. Messages name variables, never the secret's value.
 */
function assetsStore(env: Env): Pick<Config, 'assetsStore' | 's3'> {
  const kind = (env.SKYPORT_ASSETS_STORE || 'local').toLowerCase();
  if (kind === 'local') return { assetsStore: 'local', s3: undefined };
  if (kind !== 's3') throw new ConfigError(`SKYPORT_ASSETS_STORE must be local or s3, got "${env.SKYPORT_ASSETS_STORE}"`);
  const need = ['SKYPORT_S3_BUCKET', 'SKYPORT_S3_ACCESS_KEY_ID', 'SKYPORT_S3_SECRET_ACCESS_KEY'].filter((n) => !env[n]);
  if (need.length) throw new ConfigError(`SKYPORT_ASSETS_STORE=s3 needs ${need.join(', ')}`);
  const bucket = env.SKYPORT_S3_BUCKET!;
  // S3's bucket naming rules (3–63 lower-case letters, digits, dots, hyphens), which MinIO applies too.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ConfigError(`SKYPORT_S3_BUCKET must be an S3 bucket name (3-63 of a-z 0-9 . -), got "${bucket}"`);
  const region = env.SKYPORT_S3_REGION || 'us-east-1';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(region)) throw new ConfigError(`SKYPORT_S3_REGION must be a region name, got "${region}"`);
  const prefix = (env.SKYPORT_S3_PREFIX ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix && !isSafeAssetKey(prefix))
    throw new ConfigError(`SKYPORT_S3_PREFIX must be a relative path without empty, . or .. segments, got "${env.SKYPORT_S3_PREFIX}"`);
  const endpoint = env.SKYPORT_S3_ENDPOINT ? url('SKYPORT_S3_ENDPOINT', env.SKYPORT_S3_ENDPOINT) : `https://s3.${region}.amazonaws.com`;
  return {
    assetsStore: 's3',
    s3: {
      bucket,
      endpoint,
      region,
      prefix,
      accessKeyId: env.SKYPORT_S3_ACCESS_KEY_ID!,
      secretAccessKey: env.SKYPORT_S3_SECRET_ACCESS_KEY!,
      pathStyle:
        env.SKYPORT_S3_PATH_STYLE?.toLowerCase() === 'auto'
          ? Boolean(env.SKYPORT_S3_ENDPOINT)
          : bool(env, 'SKYPORT_S3_PATH_STYLE', Boolean(env.SKYPORT_S3_ENDPOINT)),
    },
  };
}

/** Reads the configuration from environment variables (see the README's configuration table). */
export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST || '127.0.0.1';
  const port = int(env, 'PORT', 8080, 0, 65535);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const publicUrl = url('SKYPORT_PUBLIC_URL', env.SKYPORT_PUBLIC_URL || `http://${urlHost}:${port}`);
  const alg = env.SKYPORT_SIGNING_ALG || 'RS256';
  if (!SIGNING_ALGS.includes(alg as SigningAlg)) {
    throw new ConfigError(`SKYPORT_SIGNING_ALG must be one of ${SIGNING_ALGS.join(', ')}, got "${alg}"`);
  }
  return {
    host,
    port,
    publicUrl,
    issuer: env.SKYPORT_ISSUER ? url('SKYPORT_ISSUER', env.SKYPORT_ISSUER) : publicUrl,
    dataDir: path.resolve(env.SKYPORT_DATA_DIR || './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    demo: bool(env, 'SKYPORT_DEMO', true),
    demoItems: int(env, 'SKYPORT_DEMO_ITEMS', 200, 0, 100_000),
    demoSample: bool(env, 'SKYPORT_DEMO_SAMPLE', true),
    signingAlg: alg as SigningAlg,
    encryptionKey: encryptionKey(env.SKYPORT_ENCRYPTION_KEY),
    logLevel: env.SKYPORT_LOG_LEVEL || 'info',
    dataAudience: env.SKYPORT_DATA_AUDIENCE || `${publicUrl}/`,
    managementAudience: env.SKYPORT_MANAGEMENT_AUDIENCE || `${publicUrl}/admin/`,
    dataTokenTtl: int(env, 'SKYPORT_DATA_TOKEN_TTL', 3600, 60, MAX_TOKEN_TTL_S),
    managementTokenTtl: int(env, 'SKYPORT_MANAGEMENT_TOKEN_TTL', 3600, 60, MAX_TOKEN_TTL_S),
    clockSkew: int(env, 'SKYPORT_CLOCK_SKEW', 30, 0, MAX_CLOCK_SKEW_S),
    syncInterval: int(env, 'SKYPORT_SYNC_INTERVAL_MS', 2000, 100, 60000),
    workers: int(env, 'SKYPORT_WORKERS', 1, 1, 64),
    trustProxy: trustProxy(env.SKYPORT_TRUST_PROXY),
    rateLimitPerAddress: int(env, 'SKYPORT_RATE_LIMIT_ADDRESS', 60, 1, 1e6),
    rateLimitPerClientAddress: int(env, 'SKYPORT_RATE_LIMIT_CLIENT_ADDRESS', 10, 1, 1e6),
    rateLimitPerClient: int(env, 'SKYPORT_RATE_LIMIT_CLIENT', 300, 1, 1e6),
    tokenBodyLimit: int(env, 'SKYPORT_TOKEN_BODY_LIMIT', 16 * 1024, 1024, 1024 * 1024),
    searchDefaultLimit: int(env, 'SKYPORT_SEARCH_DEFAULT_LIMIT', 10, 1, 10000),
    searchMaxLimit: int(env, 'SKYPORT_SEARCH_MAX_LIMIT', 1000, 1, 10000),
    searchCountLimit: int(env, 'SKYPORT_SEARCH_COUNT_LIMIT', 10000, 0, 1e7),
    assetsDir: path.resolve(env.SKYPORT_ASSETS_DIR || path.join(env.SKYPORT_DATA_DIR || './data', 'assets')),
    ...assetsStore(env),
    taskingTimeScale: int(env, 'SKYPORT_TASKING_TIME_SCALE', 1, 1, 100_000_000),
    taskingTickMs: int(env, 'SKYPORT_TASKING_TICK_MS', 1000, 20, 60_000),
    taskingLeaseMs: int(env, 'SKYPORT_TASKING_LEASE_MS', 15_000, 500, 600_000),
    taskingWorkers: bool(env, 'SKYPORT_TASKING_WORKERS', true),
    webhookAllowPrivate: bool(env, 'SKYPORT_WEBHOOK_ALLOW_PRIVATE', false),
  };
}

/** Upper bounds of SKYPORT_*_TOKEN_TTL and SKYPORT_CLOCK_SKEW, seconds. */
export const MAX_TOKEN_TTL_S = 86400;
export const MAX_CLOCK_SKEW_S = 300;

/**
 * How long a revocation (and a retired key's publication) is kept, ms: past the longest lifetime any
 * instance may have issued with, whatever this process's own settings (the CLI may run with other
 * ones than the servers), plus the largest skew and a minute of sync margin.
 */
export const REVOCATION_RETENTION_MS = (MAX_TOKEN_TTL_S + MAX_CLOCK_SKEW_S) * 1000 + 60_000;

/** Thrown when the configured port is taken: the CLI prints it without a stack. */
export class PortInUse extends Error {
  override name = 'PortInUse';
}

/** Meta key: the public URL the server last started with (read by operator commands writing credential files). */
export const SERVED_PUBLIC_URL_META = 'served_public_url';
