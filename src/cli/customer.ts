/**
 * Customer commands: `login`, `token`, `whoami`, `collections`, `search`, `download`, `clients`.
 * They talk HTTP only, through the SDK (packages/sdk), with credentials kept in a profile file
 * (mode 0600) in the user's config directory: `$XDG_CONFIG_HOME/skyport/profiles.json`, default
 * `~/.config/skyport/profiles.json`.
 *
 * Exit codes: 0 ok · 2 usage, local configuration or a request the server refused as malformed/unknown (4xx) ·
 * 3 credentials refused or not permitted · 4 server unreachable or unavailable, or a download that broke off.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import {
  AdminClient,
  ApiError,
  CatalogClient,
  ClientCredentials,
  DownloadError,
  InsufficientScopeError,
  TokenError,
  type ApiClient,
  type SearchParams,
  type StacAsset,
  type StacItem,
} from '../../packages/sdk/src/index.js';
import { table, UsageError } from './operator.js';

/** A stored profile: the credentials of one API client and its token endpoint (whose origin is the API base). */
export interface Profile {
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

/** `$XDG_CONFIG_HOME/skyport/profiles.json` (default `~/.config/skyport/profiles.json`). */
export function profilesFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'skyport', 'profiles.json');
}

/**
 * Adds or replaces one profile. Two logins at once (two terminals, a script running several) must not lose
 * each other's profile: the read-modify-write runs under an exclusive lock file, and the new file replaces
 * the old by rename (a reader never sees half a file). A lock older than 10 s is a crashed writer's: taken over.
 * Throws UsageError when the lock cannot be had within 5 s.
 */
async function saveProfile(name: string, p: Profile): Promise<void> {
  const file = profilesFile();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const lock = `${file}.lock`;
  for (let waited = 0; ; waited += 20) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 10_000) rmSync(lock, { force: true });
      else if (waited > 5_000) throw new UsageError(`${lock} is held by another skyport login; try again`);
      else await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...readProfiles(), [name]: p }, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } finally {
    rmSync(lock, { force: true });
  }
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

/** The named profile; UsageError (exit 2) saying how to create it when there is none. */
export function profile(name: string): Profile {
  const p = readProfiles()[name];
  if (!p)
    throw new UsageError(`no profile "${name}": run skyport login --creds <creds.json>${name === 'default' ? '' : ` --profile ${name}`}`);
  return p;
}

/** The token provider of a profile (`extra` overrides its audience, narrows the scope). */
export function provider(p: Profile, extra: { audience?: string; scope?: string } = {}): ClientCredentials {
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
export async function api<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) throw new CustomerError(e.message, e.status === 401 || e.status === 403 ? 3 : e.status >= 500 ? 4 : 2);
    if (e instanceof InsufficientScopeError) throw new CustomerError(e.message, 3);
    if (e instanceof DownloadError) throw new CustomerError(`${e.message}; run the command again to resume (${e.partPath})`, 4);
    // undici's network failure (refused, reset, DNS) on an API call, after the token request succeeded.
    if (e instanceof TypeError && e.message === 'fetch failed') {
      const cause = (e.cause as Error | undefined)?.message;
      throw new CustomerError(`cannot reach the server${cause ? `: ${cause}` : ''}`, 4);
    }
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

/** The Data API client of a profile; the API base is the token URL's origin. */
function catalog(p: Profile): CatalogClient {
  return new CatalogClient(provider(p), new URL(p.token_url).origin);
}

/** A comma-separated list option, repeatable: `--ids a,b --ids c`. */
const list = (v: string, prev: string[] = []): string[] => [
  ...prev,
  ...v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
];

interface SearchOpts {
  bbox?: string;
  datetime?: string;
  collections?: string[];
  ids?: string[];
  filter?: string;
  sortby?: string;
  limit: string;
  format?: string;
  profile: string;
}

/** The search parameters of the command line; local mistakes are UsageErrors (exit 2), the rest is the server's to judge. */
function searchParams(o: SearchOpts): { params: SearchParams; max: number; format: 'table' | 'geojson' | 'ndjson' } {
  const params: SearchParams = {};
  if (o.bbox !== undefined) {
    const bbox = o.bbox.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
    if ((bbox.length !== 4 && bbox.length !== 6) || !bbox.every(Number.isFinite))
      throw new UsageError('--bbox takes 4 numbers in degrees: west,south,east,north (e.g. 5.9,45.8,10.5,47.8), or 6 with heights');
    params.bbox = bbox;
  }
  if (o.datetime !== undefined) params.datetime = o.datetime;
  if (o.collections?.length) params.collections = o.collections;
  if (o.ids?.length) params.ids = o.ids;
  if (o.filter !== undefined) params.filter = o.filter;
  if (o.sortby !== undefined) params.sortby = o.sortby;
  if (!/^\d+$/.test(o.limit) || Number(o.limit) < 1) throw new UsageError('--limit must be a whole number of items ≥ 1');
  const format = o.format ?? (process.stdout.isTTY ? 'table' : 'ndjson');
  if (format !== 'table' && format !== 'geojson' && format !== 'ndjson') throw new UsageError('--format must be table, geojson or ndjson');
  return { params, max: Number(o.limit), format };
}

function searchTable(items: StacItem[], matched: number | undefined): string {
  const rows = items.map((it) => {
    const cc = it.properties['eo:cloud_cover'];
    return {
      id: it.id,
      collection: it.collection ?? '',
      datetime: it.properties.datetime ?? `${String(it.properties.start_datetime)}/${String(it.properties.end_datetime)}`,
      'cloud cover': typeof cc === 'number' ? `${cc.toFixed(1)} %` : '',
    };
  });
  const total = matched !== undefined ? ` of ${matched} matching` : '';
  return `${table(rows, ['id', 'collection', 'datetime', 'cloud cover'])}\n${items.length} item(s)${total}`;
}

function searchCommand(program: Command): void {
  program
    .command('search')
    .description('search items (STAC item search, all pages): a table on a terminal, NDJSON (one item a line) when piped')
    .option('--bbox <w,s,e,n>', 'bounding box in degrees: west,south,east,north')
    .option('--datetime <datetime>', 'an RFC 3339 instant or an interval start/end (.. for an open end)')
    .option('--collections <ids>', 'collection ids, comma-separated', list)
    .option('--ids <ids>', 'item ids, comma-separated', list)
    .option('--filter <cql2-text>', 'a CQL2 text filter, e.g. "eo:cloud_cover < 20"')
    .option('--sortby <fields>', 'sort keys, e.g. -datetime,+id (- descending)')
    .option('--limit <n>', 'items to print in all, across pages', '100')
    .option('--format <format>', 'table, geojson (one FeatureCollection) or ndjson (default: table on a terminal, ndjson when piped)')
    .option('--profile <name>', 'profile name', 'default')
    .addHelpText(
      'after',
      '\nExample:\n  skyport search --collections skyport-lst --bbox 5.9,45.8,10.5,47.8 --datetime 2024-05-01T00:00:00Z/.. \\\n' +
        '    --filter "eo:cloud_cover < 20" --sortby -datetime --limit 20',
    )
    .action(async (opts: SearchOpts) => {
      const { params, max, format } = searchParams(opts);
      const p = profile(opts.profile);
      const items: StacItem[] = [];
      let matched: number | undefined;
      // `skyport search | head` closes the pipe early: that ends the output, it is not a failure.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : undefined));
      await api(async () => {
        for await (const page of catalog(p).pages(params, { maxItems: max })) {
          matched ??= page.numberMatched;
          if (format === 'ndjson') process.stdout.write(page.features.map((f) => `${JSON.stringify(f)}\n`).join(''));
          else items.push(...page.features);
        }
      });
      if (format === 'table') console.log(searchTable(items, matched));
      if (format === 'geojson') {
        const fc = {
          type: 'FeatureCollection',
          features: items,
          numberReturned: items.length,
          ...(matched !== undefined ? { numberMatched: matched } : {}),
        };
        console.log(JSON.stringify(fc, null, 2));
      }
    });
}

const EXTENSIONS: Record<string, string> = {
  'image/tiff': '.tif',
  'image/jp2': '.jp2',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
  'application/json': '.json',
  'application/geo+json': '.geojson',
  'application/xml': '.xml',
  'text/xml': '.xml',
  'text/plain': '.txt',
  'text/html': '.html',
  'application/x-netcdf': '.nc',
  'application/x-hdf5': '.h5',
  'application/x-hdf': '.hdf',
  'application/zip': '.zip',
  'application/vnd.apache.parquet': '.parquet',
  'application/x-parquet': '.parquet',
};

/** A local file name for an asset: `<item>_<key><ext>`, with anything that could leave the folder replaced. */
function assetFileName(itemId: string, key: string, a: StacAsset): string {
  const safe = (x: string) => x.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  const fromHref = /\.[A-Za-z0-9]{1,8}$/.exec(new URL(a.href, 'http://x').pathname)?.[0];
  const fromType = typeof a.type === 'string' ? EXTENSIONS[a.type.split(';')[0]!.trim().toLowerCase()] : undefined;
  const base = `${safe(itemId)}_${safe(key)}`;
  const ext = fromType ?? fromHref ?? '';
  return base.toLowerCase().endsWith(ext.toLowerCase()) ? base : `${base}${ext}`;
}

/** Bytes in a human unit (SI, as download tools show them). */
function human(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]!}`;
}

/** A one-line progress display on a terminal's stderr, at most ten updates a second; nothing when stderr is not a TTY. */
function progressLine(name: string): { update: (bytes: number, total: number | undefined) => void; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, done: () => {} };
  let last = 0;
  const draw = (bytes: number, total: number | undefined) => {
    const pct = total ? ` ${Math.floor((bytes / total) * 100)} %` : '';
    process.stderr.write(`\r\x1b[K${name}  ${human(bytes)}${total ? ` / ${human(total)}` : ''}${pct}`);
  };
  let latest: [number, number | undefined] = [0, undefined];
  return {
    update: (bytes, total) => {
      latest = [bytes, total];
      if (Date.now() - last < 100 && bytes !== total) return;
      last = Date.now();
      draw(bytes, total);
    },
    done: () => {
      draw(...latest);
      process.stderr.write('\n');
    },
  };
}

interface DownloadOpts {
  asset?: string[];
  out: string;
  force?: boolean;
  profile: string;
}

/** The assets to fetch: those asked for (all must exist), else every asset Skyport serves itself (on the API origin). */
function chooseAssets(item: StacItem, asked: string[], origin: string): [string, StacAsset][] {
  const assets = item.assets ?? {};
  if (asked.length) {
    const missing = asked.filter((k) => !Object.hasOwn(assets, k));
    if (missing.length)
      throw new UsageError(`item ${item.id} has no asset ${missing.join(', ')}; its assets: ${Object.keys(assets).join(', ') || 'none'}`);
    return asked.map((k) => [k, assets[k]!]);
  }
  const held = Object.entries(assets).filter(([, a]) => typeof a?.href === 'string' && new URL(a.href, origin).origin === origin);
  if (!held.length) throw new UsageError(`item ${item.id} has no assets served by this API; name remote ones with --asset`);
  return held;
}

function downloadCommand(program: Command): void {
  program
    .command('download <collection/item>')
    .description('download assets of an item (resumes a partial .part file); prints each file written')
    .option('--asset <key>', 'asset key, repeatable or comma-separated (default: every asset this API serves)', list)
    .option('--out <dir>', 'folder to write to; files are named <item>_<asset><ext>', '.')
    .option('--force', 'download again files that exist already')
    .option('--profile <name>', 'profile name', 'default')
    .addHelpText(
      'after',
      '\nExamples:\n  skyport download skyport-lst/TIR_20260114T103512_S2_T0123 --asset data --out ./scenes\n' +
        '  skyport search --collections skyport-lst --limit 1 | jq -r \'"\\(.collection)/\\(.id)"\' | xargs skyport download',
    )
    .action(async (target: string, opts: DownloadOpts) => {
      const slash = target.indexOf('/');
      if (slash <= 0 || slash === target.length - 1) throw new UsageError('name the item as <collection>/<item>');
      const [collection, itemId] = [target.slice(0, slash), target.slice(slash + 1)];
      const p = profile(opts.profile);
      const cat = catalog(p);
      const item = await api(() => cat.item(collection, itemId));
      const chosen = chooseAssets(item, opts.asset ?? [], new URL(p.token_url).origin);
      try {
        mkdirSync(opts.out, { recursive: true });
      } catch (e) {
        throw new UsageError(`cannot create ${opts.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      for (const [key, asset] of chosen) {
        const to = path.join(opts.out, assetFileName(item.id, key, asset));
        if (existsSync(to) && !opts.force) {
          console.log(`${to}  exists (skipped; --force downloads it again)`);
          continue;
        }
        const line = progressLine(path.basename(to));
        const r = await api(() => cat.download(asset.href, { to, onProgress: line.update }))
          .catch((e: NodeJS.ErrnoException) => {
            // The local side failed (a folder not writable, a full disk): not the server's fault.
            throw e.syscall ? new UsageError(`cannot write ${to}: ${e.code ?? e.message}`) : e;
          })
          .finally(line.done);
        console.log(`${to}  ${human(r.bytes)}${r.resumedFrom ? ` (resumed at ${human(r.resumedFrom)})` : ''}`);
      }
    });
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
      await saveProfile(opts.profile, p);
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
  searchCommand(program);
  downloadCommand(program);
}
