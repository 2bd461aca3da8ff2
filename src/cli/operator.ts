/**
 * Operator commands: they act on the store directly (same DATABASE_URL / SKYPORT_DATA_DIR as the
 * server), so they work while servers run; servers pick the changes up within one sync interval.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT_SCOPES } from '../access/permissions.js';
import type { Command } from 'commander';
import { RevocationList } from '../access/revocations.js';
import { clientView, createOrganization, setEnabled } from '../admin/service.js';
import { JWKS_MAX_AGE, KeyStore } from '../auth/keys.js';
import { SecretHasher } from '../auth/secrets.js';
import { loadHashKey, writeCredentialFiles } from '../bootstrap.js';
import { loadConfig, REVOCATION_RETENTION_MS, SERVED_PUBLIC_URL_META, type Config } from '../config.js';
import { openStorage } from '../storage/open.js';
import { ConflictError, type Storage } from '../storage/types.js';

/** A failure the operator caused (bad name, unknown id): printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function config(opts: { dataDir?: string }): Config {
  return loadConfig(opts.dataDir ? { ...process.env, SKYPORT_DATA_DIR: opts.dataDir } : process.env);
}

/**
 * The configuration credential files should carry: the command's own when PORT or SKYPORT_PUBLIC_URL is
 * set, else the public URL the server last started with on this store (so `org create` run without
 * the server's PORT writes files that point at the running server).
 */
export async function servedConfig(c: Config, s: Storage, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  if (env.SKYPORT_PUBLIC_URL || env.PORT) return c;
  const served = await s.getMeta(SERVED_PUBLIC_URL_META);
  return served && served !== c.publicUrl ? loadConfig({ ...env, SKYPORT_DATA_DIR: c.dataDir, SKYPORT_PUBLIC_URL: served }) : c;
}

export async function withStorage<T>(c: Config, fn: (s: Storage) => Promise<T>): Promise<T> {
  const s = await openStorage(c);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

export const operatorAudit = (
  s: Storage,
  orgId: string | null,
  action: string,
  target: string | null,
  details: Record<string, unknown> = {},
) => s.appendAudit({ at: Date.now(), orgId, actor: 'operator', action, target, outcome: 'success', sourceIp: null, details });

export function table(rows: Record<string, unknown>[], cols: string[]): string {
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}

/**
 * The credential folder must be writable and hold no credential files yet — checked before the
 * organization is created, so a failure never leaves an organization whose root secrets nobody has.
 */
function checkWritableOut(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UsageError(`cannot write credentials to ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const existing = ROOT_SCOPES.map((s) => path.join(dir, `${s}.json`)).filter((f) => existsSync(f));
  if (existing.length) throw new UsageError(`${existing[0]} exists already; choose another --out folder`);
}

/** The `--data-dir` option every operator command takes. */
export const dataDirOption = ['--data-dir <dir>', 'data directory (default: $SKYPORT_DATA_DIR or ./data)'] as const;

export function operatorCommands(program: Command): void {
  const dataDirOpt = dataDirOption;

  program
    .command('serve')
    .description('start the Skyport server (configuration from environment variables; see the README)')
    .addHelpText('after', '\nExample:\n  PORT=8080 SKYPORT_DATA_DIR=./data skyport serve')
    .option(...dataDirOpt)
    // The server is loaded only to serve: every other command starts without it.
    .action(async (opts: { dataDir?: string }) => (await import('../main.js')).serve(config(opts)));

  const org = program.command('org').description('manage customer organizations');
  org
    .command('create <name>')
    .description('create an organization and write its three root credentials (admin, tasking, read-only), mode 0600')
    .option('--out <dir>', 'folder for the credential files (default: <data dir>/credentials/<name>)')
    .option(...dataDirOpt)
    .addHelpText('after', '\nExample:\n  skyport org create acme --out ./acme-creds')
    .action(async (name: string, opts: { out?: string; dataDir?: string }) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(name))
        throw new UsageError('an organization name is 1-64 letters, digits, spaces, dots, dashes or underscores');
      const c = config(opts);
      await withStorage(c, async (s) => {
        const hasher = new SecretHasher(await loadHashKey(s, c.encryptionKey));
        if (await s.getOrganizationByName(name)) throw new UsageError(`an organization named "${name}" exists already`);
        const out = path.resolve(opts.out ?? path.join(c.dataDir, 'credentials', name));
        checkWritableOut(out);
        let created;
        try {
          created = await createOrganization({ storage: s, hasher }, name);
        } catch (e) {
          if (e instanceof ConflictError) throw new UsageError(`an organization named "${name}" exists already`);
          throw e;
        }
        const files = writeCredentialFiles(out, name, created.credentials, await servedConfig(c, s));
        await operatorAudit(s, created.org.id, 'org.create', created.org.id, { name });
        console.log(`Created organization ${name} (${created.org.id}). Root credentials (mode 0600):`);
        for (const [scope, f] of Object.entries(files)) console.log(`  ${scope.padEnd(9)} ${f}`);
      });
    });
  org
    .command('list')
    .description('list organizations')
    .option('--json', 'print JSON')
    .option(...dataDirOpt)
    .action(async (opts: { json?: boolean; dataDir?: string }) => {
      await withStorage(config(opts), async (s) => {
        const orgs = (await s.listOrganizations()).map((o) => ({
          id: o.id,
          name: o.name,
          created_at: new Date(o.createdAt).toISOString(),
        }));
        console.log(opts.json ? JSON.stringify(orgs, null, 2) : table(orgs, ['id', 'name', 'created_at']));
      });
    });

  const client = program.command('client').description('inspect, disable and enable API clients');
  client
    .command('list')
    .description('list API clients (never their secrets)')
    .option('--org <name>', 'only this organization')
    .option('--json', 'print JSON')
    .option(...dataDirOpt)
    .action(async (opts: { org?: string; json?: boolean; dataDir?: string }) => {
      await withStorage(config(opts), async (s) => {
        let orgId: string | undefined;
        if (opts.org) {
          orgId = (await s.getOrganizationByName(opts.org))?.id;
          if (!orgId) throw new UsageError(`no organization named "${opts.org}"`);
        }
        const orgNames = new Map((await s.listOrganizations()).map((o) => [o.id, o.name]));
        const rows: Record<string, unknown>[] = (await s.listClients(orgId)).map((c) => ({
          ...clientView(c),
          organization: orgNames.get(c.orgId),
        }));
        if (opts.json) return console.log(JSON.stringify(rows, null, 2));
        console.log(
          table(
            rows.map((r) => ({ ...r, permissions: (r.permissions as string[]).join(' ') })),
            ['client_id', 'organization', 'name', 'root_scope', 'enabled', 'permissions'],
          ),
        );
      });
    });
  for (const enabled of [false, true]) {
    client
      .command(`${enabled ? 'enable' : 'disable'} <client_id>`)
      .description(enabled ? 'enable a client' : 'disable a client: no new tokens at once, live tokens refused within one sync interval')
      .option(...dataDirOpt)
      .action(async (clientId: string, opts: { dataDir?: string }) => {
        const c = config(opts);
        await withStorage(c, async (s) => {
          const updated = await setEnabled(
            { storage: s, revocations: new RevocationList(s), revocationTtl: REVOCATION_RETENTION_MS },
            clientId,
            enabled,
          );
          if (!updated) throw new UsageError(`no client ${clientId}`);
          await operatorAudit(s, updated.orgId, enabled ? 'client.enable' : 'client.disable', clientId);
          console.log(`${enabled ? 'Enabled' : 'Disabled'} ${clientId} (${updated.name})`);
        });
      });
  }

  const keys = program.command('keys').description('signing keys');
  keys
    .command('rotate')
    .description(
      'promote the published next key to signing, retire the current one (published until its tokens expire), publish a new next key',
    )
    .option('--force', 'rotate even if the next key was published less than 5 minutes ago (verifiers caching the JWKS may not know it yet)')
    .option(...dataDirOpt)
    .addHelpText('after', '\nExample:\n  skyport keys rotate && skyport keys list')
    .action(async (opts: { dataDir?: string; force?: boolean }) => {
      const c = config(opts);
      await withStorage(c, async (s) => {
        const ks = new KeyStore(s, c.signingAlg, c.encryptionKey);
        await ks.init();
        const r = await ks.rotate(REVOCATION_RETENTION_MS, { minNextAge: opts.force ? 0 : JWKS_MAX_AGE * 1000 }).catch((e: Error) => {
          throw new UsageError(e.message);
        });
        await operatorAudit(s, null, 'keys.rotate', r.current, { retired: r.retired, alg: c.signingAlg });
        console.log(
          `${c.signingAlg}: now signing with ${r.current}; ${r.retired ?? 'no key'} retired and published until its tokens expire.`,
        );
      });
    });
  keys
    .command('list')
    .description('list signing keys and their status')
    .option(...dataDirOpt)
    .action(async (opts: { dataDir?: string }) => {
      await withStorage(config(opts), async (s) => {
        const rows = (await s.listSigningKeys()).map((k) => ({
          kid: k.kid,
          alg: k.alg,
          status: k.status,
          created_at: new Date(k.createdAt).toISOString(),
          published_until: k.publishUntil ? new Date(k.publishUntil).toISOString() : '',
        }));
        console.log(table(rows, ['kid', 'alg', 'status', 'created_at', 'published_until']));
      });
    });
}
