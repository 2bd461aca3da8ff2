/**
 * First-start work: the secret-hashing key, and on a demo first start the demo organization, its
 * three root credentials written as creds.json files (mode 0600) and the demo collections.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RootScope } from './access/permissions.js';
import { createOrganization, type IssuedCredential } from './admin/service.js';
import type { SecretHasher } from './auth/secrets.js';
import { loadDemoCatalog } from './catalog/demo.js';
import type { Config } from './config.js';
import type { Storage } from './storage/types.js';
import { isSealed, open, seal } from './util/envelope.js';

/** The HMAC key for client secrets: created once (first writer wins across instances), sealed when an encryption key is set. */
export async function loadHashKey(storage: Storage, encryptionKey: Buffer | undefined): Promise<Buffer> {
  const stored = await storage.setMetaIfAbsent('secret_hash_key', seal(randomBytes(32).toString('base64'), encryptionKey));
  const key = open(stored, encryptionKey);
  // An encryption key configured after the first start: seal the stored value now.
  if (encryptionKey && !isSealed(stored)) await storage.setMeta('secret_hash_key', seal(key, encryptionKey));
  return Buffer.from(key, 'base64');
}

/** A creds.json file as the Hydrosat page describes it, plus where to use it. */
export interface CredentialsFile extends IssuedCredential {
  token_url: string;
  audience: string;
  root_scope: RootScope;
  organization: string;
}

/**
 * Writes the three root credentials of an organization into `dir` (created 0700), each file 0600.
 * Returns the paths by root scope.
 */
export function writeCredentialFiles(
  dir: string,
  orgName: string,
  creds: Record<RootScope, IssuedCredential>,
  config: Pick<Config, 'publicUrl' | 'dataAudience' | 'managementAudience'>,
): Record<RootScope, string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = {} as Record<RootScope, string>;
  for (const [scope, c] of Object.entries(creds) as [RootScope, IssuedCredential][]) {
    const file = path.join(dir, `${scope}.json`);
    const body: CredentialsFile = {
      client_id: c.client_id,
      client_secret: c.client_secret,
      token_url: `${config.publicUrl}/oauth2/token`,
      audience: scope === 'admin' ? config.managementAudience : config.dataAudience,
      root_scope: scope,
      organization: orgName,
    };
    writeFileSync(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600); // an existing file keeps its old mode on overwrite
    out[scope] = file;
  }
  return out;
}

/**
 * On the first start against an empty store: with `demo` on, creates the demo organization, writes
 * its credentials under `<data dir>/credentials/` and loads the demo collections. Returns the
 * credential paths when it did so, undefined otherwise (not first start, demo off, or another instance did it).
 */
export async function bootstrapDemo(
  storage: Storage,
  hasher: SecretHasher,
  config: Config,
): Promise<Record<RootScope, string> | undefined> {
  const me = randomUUID();
  if ((await storage.setMetaIfAbsent('initialized_by', me)) !== me || !config.demo) return undefined;
  const now = Date.now();
  const { credentials } = await createOrganization({ storage, hasher }, 'demo', now);
  await loadDemoCatalog(storage, config, new Date(now));
  // Never overwrite credentials of another store that used this data dir (e.g. SQLite before PostgreSQL).
  let dir = path.join(config.dataDir, 'credentials');
  if (existsSync(path.join(dir, 'read-only.json'))) dir = path.join(dir, `demo-${Date.now().toString(36)}`);
  return writeCredentialFiles(dir, 'demo', credentials, config);
}

/**
 * Keeps `token_url` and `audience` in `<data dir>/credentials/*.json` in step with the public URL
 * (a restart on another PORT). Only files whose client exists in this store are touched. Returns
 * the files rewritten.
 */
export async function refreshCredentialFiles(storage: Storage, config: Config): Promise<string[]> {
  const dir = path.join(config.dataDir, 'credentials');
  const changed: string[] = [];
  for (const scope of ['admin', 'tasking', 'read-only'] as const) {
    const file = path.join(dir, `${scope}.json`);
    let body: CredentialsFile;
    try {
      body = JSON.parse(readFileSync(file, 'utf8')) as CredentialsFile;
    } catch {
      continue;
    }
    const tokenUrl = `${config.publicUrl}/oauth2/token`;
    const audience = scope === 'admin' ? config.managementAudience : config.dataAudience;
    if (typeof body.client_id !== 'string' || (body.token_url === tokenUrl && body.audience === audience)) continue;
    if (!(await storage.getClient(body.client_id))) continue;
    try {
      writeFileSync(file, JSON.stringify({ ...body, token_url: tokenUrl, audience }, null, 2) + '\n', { mode: 0o600 });
      changed.push(file);
    } catch {
      // A read-only file is the owner's choice; an out-of-date URL in it must not stop the server.
    }
  }
  return changed;
}
