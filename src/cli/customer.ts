/**
 * Customer commands: `login`, `token`, `whoami`. They talk HTTP only, through the SDK
 * (packages/sdk), with credentials kept in a profile file (mode 0600) in the user's config
 * directory: `$XDG_CONFIG_HOME/skyport/profiles.json`, default `~/.config/skyport/profiles.json`.
 *
 * Exit codes: 0 ok · 2 usage or local configuration · 3 credentials refused or not permitted ·
 * 4 server unreachable or unavailable.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { AdminClient, ApiError, CatalogClient, ClientCredentials, TokenError, type ApiClient } from '../../packages/sdk/src/index.js';
import { UsageError } from './operator.js';

interface Profile {
  client_id: string;
  client_secret: string;
  token_url: string;
  audience?: string;
}

/** A refused or failed token request, with the exit code that says which. */
export class CustomerError extends Error {
  override name = 'CustomerError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function profilesFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'skyport', 'profiles.json');
}

/** The stored profiles; none when the file does not exist. A damaged file is an error, never silently replaced. */
function readProfiles(): Record<string, Profile> {
  let text: string;
  try {
    text = readFileSync(profilesFile(), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${profilesFile()}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as Record<string, Profile>;
  } catch {
    throw new UsageError(`${profilesFile()} is not valid JSON: fix or remove it (its other profiles would be lost otherwise)`);
  }
}

function profile(name: string): Profile {
  const p = readProfiles()[name];
  if (!p)
    throw new UsageError(`no profile "${name}": run skyport login --creds <creds.json>${name === 'default' ? '' : ` --profile ${name}`}`);
  return p;
}

function provider(p: Profile, extra: { audience?: string; scope?: string } = {}): ClientCredentials {
  return new ClientCredentials({
    clientId: p.client_id,
    clientSecret: p.client_secret,
    tokenUrl: p.token_url,
    audience: extra.audience ?? p.audience,
    scope: extra.scope,
  });
}

/** Exit code of a token failure: 4 server unreachable/unavailable, 2 local or protocol mistake, 3 refused. */
function tokenFailure(e: TokenError): CustomerError {
  const code = e.kind === 'network' || e.kind === 'unavailable' ? 4 : e.kind === 'invalid_request' || e.kind === 'invalid_response' ? 2 : 3;
  return new CustomerError(e.message, code);
}

/** The claims of our own token, decoded for display (the server verifies tokens; this only explains one). */
function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Runs an SDK call (token or API), turning its typed failures into exit codes. */
async function api<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) throw new CustomerError(e.message, e.status === 401 || e.status === 403 ? 3 : e.status >= 500 ? 4 : 2);
    throw e instanceof TokenError ? tokenFailure(e) : e;
  }
}

/** The Management API client of a profile (an admin credential); the API base is the token URL's origin. */
function admin(p: Profile): AdminClient {
  return new AdminClient(provider(p), new URL(p.token_url).origin);
}

/** Writes new credentials as a creds.json (0600) or prints the secret once. */
function handOver(out: string | undefined, p: Profile, clientId: string, secret: string): void {
  if (!out) {
    console.log(`client_secret ${secret}\n(shown once: store it now, or use --out creds.json next time)`);
    return;
  }
  writeFileSync(out, JSON.stringify({ client_id: clientId, client_secret: secret, token_url: p.token_url }, null, 2) + '\n', {
    mode: 0o600,
  });
  chmodSync(out, 0o600);
  console.log(`credentials written to ${out} (mode 0600)`);
}

function clientRow(c: ApiClient): string {
  return [c.client_id, c.root_scope.padEnd(9), c.enabled ? 'enabled ' : 'disabled', c.name, `[${c.permissions.join(' ')}]`].join('  ');
}

function clientsCommands(program: Command): void {
  const clients = program.command('clients').description("manage your organization's API clients (needs an admin credential's profile)");
  const prof = ['--profile <name>', 'profile of an admin credential', 'default'] as const;
  clients
    .command('list')
    .description('list the API clients (never their secrets)')
    .option(...prof)
    .option('--json', 'print JSON')
    .action(async (opts: { profile: string; json?: boolean }) => {
      const list = await api(() => admin(profile(opts.profile)).list());
      console.log(opts.json ? JSON.stringify(list, null, 2) : list.map(clientRow).join('\n'));
    });
  clients
    .command('create')
    .description('create an API client under a root scope; its secret is shown once (or written to --out, 0600)')
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption('--root-scope <scope>', 'admin, tasking or read-only')
    .option('--permissions <list>', 'comma-separated subset of the root scope (default: all of it)')
    .option('--out <file>', 'write creds.json (0600) instead of printing the secret')
    .option(...prof)
    .addHelpText(
      'after',
      '\nExample:\n  skyport clients create --name nightly --root-scope read-only --permissions catalog:read --out nightly.json',
    )
    .action(async (opts: { name: string; rootScope: string; permissions?: string; out?: string; profile: string }) => {
      const p = profile(opts.profile);
      const permissions = opts.permissions
        ?.split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const c = await api(() =>
        admin(p).create({ name: opts.name, root_scope: opts.rootScope as 'read-only', ...(permissions ? { permissions } : {}) }),
      );
      console.log(clientRow(c));
      handOver(opts.out, p, c.client_id, c.client_secret);
    });
  clients
    .command('rotate <client_id>')
    .description('give a client a new secret; the old one stays valid for --grace seconds (default 0)')
    .option('--grace <seconds>', 'grace period for the old secret', '0')
    .option('--out <file>', 'write creds.json (0600) instead of printing the secret')
    .option(...prof)
    .action(async (clientId: string, opts: { grace: string; out?: string; profile: string }) => {
      const p = profile(opts.profile);
      const grace = Number(opts.grace);
      if (!Number.isInteger(grace) || grace < 0) throw new UsageError('--grace must be a whole number of seconds');
      const r = await api(() => admin(p).rotateSecret(clientId, grace));
      handOver(opts.out, p, r.client_id, r.client_secret);
      if (r.previous_secret_expires_at) console.log(`the previous secret works until ${r.previous_secret_expires_at}`);
    });
  for (const verb of ['disable', 'enable', 'delete'] as const) {
    clients
      .command(`${verb} <client_id>`)
      .description(
        verb === 'disable'
          ? 'disable a client: no new tokens, live ones refused'
          : verb === 'enable'
            ? 'enable a client'
            : 'delete a client and revoke its tokens',
      )
      .option(...prof)
      .action(async (clientId: string, opts: { profile: string }) => {
        const a = admin(profile(opts.profile));
        await api<unknown>(() => (verb === 'delete' ? a.delete(clientId) : verb === 'disable' ? a.disable(clientId) : a.enable(clientId)));
        console.log(`${verb}d ${clientId}`);
      });
  }
}

export function customerCommands(program: Command): void {
  clientsCommands(program);
  program
    .command('collections')
    .description('list the STAC collections your organization may see (a table on a terminal, JSON when piped or with --json)')
    .option('--profile <name>', 'profile name', 'default')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  skyport collections --json | jq -r ".[].id"')
    .action(async (opts: { profile: string; json?: boolean }) => {
      const p = profile(opts.profile);
      const list = await api(() => new CatalogClient(provider(p), new URL(p.token_url).origin).collections());
      if (opts.json || !process.stdout.isTTY) return console.log(JSON.stringify(list, null, 2));
      for (const c of list) console.log(`${c.id.padEnd(24)} ${c.title ?? c.description}`);
    });
  program
    .command('login')
    .description('check a creds.json against its server and store it as a profile (0600) for the other commands')
    .requiredOption('--creds <file>', 'creds.json: {"client_id","client_secret","token_url"} (mode 0600)')
    .option('--profile <name>', 'profile name', 'default')
    .option('--token-url <url>', 'token endpoint, when the creds file has no token_url')
    .addHelpText('after', '\nExample:\n  skyport login --creds data/credentials/read-only.json && skyport whoami')
    .action(async (opts: { creds: string; profile: string; tokenUrl?: string }) => {
      let c: ClientCredentials;
      let file: Record<string, string | undefined>;
      try {
        c = await ClientCredentials.fromFile(opts.creds, opts.tokenUrl ? { tokenUrl: opts.tokenUrl } : {});
        file = JSON.parse(readFileSync(opts.creds, 'utf8')) as Record<string, string | undefined>;
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const tokenUrl = opts.tokenUrl ?? file.token_url;
      if (!tokenUrl) throw new UsageError(`${opts.creds} has no token_url: pass --token-url`);
      const jwt = await api(() => c.getToken());
      const p: Profile = {
        client_id: file.client_id!,
        client_secret: file.client_secret!,
        token_url: tokenUrl,
        ...(file.audience ? { audience: file.audience } : {}),
      };
      const all = { ...readProfiles(), [opts.profile]: p };
      mkdirSync(path.dirname(profilesFile()), { recursive: true, mode: 0o700 });
      writeFileSync(profilesFile(), JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
      chmodSync(profilesFile(), 0o600);
      const cl = claims(jwt);
      console.log(
        `Logged in as ${p.client_id} (${String(cl.root_scope)} root scope, organization ${String(cl.org_id)}); profile "${opts.profile}" in ${profilesFile()}`,
      );
    });

  program
    .command('token')
    .description('print an access token for the profile (for curl: -H "Authorization: Bearer $(skyport token)")')
    .option('--profile <name>', 'profile name', 'default')
    .option('--audience <uri>', "API identifier (default: the profile's, or the client's natural API)")
    .option('--scope <scope>', 'narrow the permissions, space-separated')
    .addHelpText('after', '\nExample:\n  curl -H "Authorization: Bearer $(skyport token)" http://127.0.0.1:8080/collections')
    .action(async (opts: { profile: string; audience?: string; scope?: string }) => {
      console.log(await api(() => provider(profile(opts.profile), opts).getToken()));
    });

  program
    .command('whoami')
    .description('explain the current token: client, organization, root scope, permissions, audience, expiry')
    .option('--profile <name>', 'profile name', 'default')
    .option('--json', 'print the claims as JSON')
    .addHelpText('after', '\nExample:\n  skyport whoami --profile acme-tasking')
    .action(async (opts: { profile: string; json?: boolean }) => {
      const cl = claims(await api(() => provider(profile(opts.profile)).getToken()));
      if (opts.json) return console.log(JSON.stringify(cl, null, 2));
      const exp = typeof cl.exp === 'number' ? new Date(cl.exp * 1000) : undefined;
      console.log(
        [
          `client        ${String(cl.azp)}`,
          `organization  ${String(cl.org_id)}`,
          `root scope    ${String(cl.root_scope)}`,
          `permissions   ${String(cl.scope)}`,
          `audience      ${String(cl.aud)}`,
          `issuer        ${String(cl.iss)}`,
          `expires       ${exp ? `${exp.toISOString()} (in ${Math.round((exp.getTime() - Date.now()) / 60000)} min)` : 'unknown'}`,
        ].join('\n'),
      );
    });
}
