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
import { ClientCredentials, TokenError } from '../../packages/sdk/src/index.js';
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

function readProfiles(): Record<string, Profile> {
  try {
    return JSON.parse(readFileSync(profilesFile(), 'utf8')) as Record<string, Profile>;
  } catch {
    return {};
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

async function token(c: ClientCredentials): Promise<string> {
  try {
    return await c.getToken();
  } catch (e) {
    if (!(e instanceof TokenError)) throw e;
    const code =
      e.kind === 'network' || e.kind === 'unavailable' ? 4 : e.kind === 'invalid_request' || e.kind === 'invalid_response' ? 2 : 3;
    throw new CustomerError(e.message, code);
  }
}

/** The claims of our own token, decoded for display (the server verifies tokens; this only explains one). */
function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function customerCommands(program: Command): void {
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
      const jwt = await token(c);
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
      console.log(await token(provider(profile(opts.profile), opts)));
    });

  program
    .command('whoami')
    .description('explain the current token: client, organization, root scope, permissions, audience, expiry')
    .option('--profile <name>', 'profile name', 'default')
    .option('--json', 'print the claims as JSON')
    .addHelpText('after', '\nExample:\n  skyport whoami --profile acme-tasking')
    .action(async (opts: { profile: string; json?: boolean }) => {
      const cl = claims(await token(provider(profile(opts.profile))));
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
