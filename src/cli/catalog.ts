/**
 * Operator catalog commands (`skyport catalog …`): bulk load, entitlements and listing, acting on the
 * store directly like the other operator commands (servers see the changes at once: they read the store).
 */
import { createWriteStream, existsSync, writeFileSync, type WriteStream } from 'node:fs';
import { createPlatformClient } from '../admin/service.js';
import { SecretHasher } from '../auth/secrets.js';
import { loadHashKey } from '../bootstrap.js';
import type { Command } from 'commander';
import { benchCollectionSpecs, toStacCollection } from '../catalog/generate/collections.js';
import { writeItemAssets } from '../catalog/generate/assets.js';
import { generateScenes, sceneToItem } from '../catalog/generate/items.js';
import { BENCH_WINDOW, writeNdjson } from '../catalog/generate/ndjson.js';
import { openAssetStore } from '../storage/assets/open.js';
import { loadStac, type LoadSummary } from '../catalog/load.js';
import type { CollectionAccess } from '../storage/types.js';
import { config, dataDirOption, operatorAudit, servedConfig, table, UsageError, withStorage } from './operator.js';

const ACCESS: readonly CollectionAccess[] = ['open', 'licensed', 'private'];

/** A one-line progress display on a terminal's stderr (nothing when stderr is not a TTY). */
function progress(started: number): (s: LoadSummary) => void {
  if (!process.stderr.isTTY) return () => {};
  return (s) => {
    const n = s.items.inserted + s.items.updated + s.items.rejected;
    const rate = Math.round(n / Math.max(0.001, (Date.now() - started) / 1000));
    process.stderr.write(`\r  items: ${n.toLocaleString('en')} (${rate.toLocaleString('en')}/s), rejected ${s.items.rejected}   `);
  };
}

function printSummary(s: LoadSummary, seconds: number, store: string): void {
  const c = s.collections;
  const i = s.items;
  const n = (x: number) => x.toLocaleString('en');
  // Items written (loaded or updated) per second: rejections are not the store's work.
  const rate = Math.round((i.inserted + i.updated) / Math.max(0.001, seconds));
  console.log(`Into:        ${store}`);
  console.log(`Collections: ${n(c.inserted)} loaded, ${n(c.updated)} updated, ${n(c.rejected)} rejected`);
  console.log(
    `Items:       ${n(i.inserted)} loaded, ${n(i.updated)} updated, ${n(i.rejected)} rejected in ${seconds.toFixed(1)} s (${n(rate)} items/s)`,
  );
  const notes = Object.entries(s.notes).sort((a, b) => b[1] - a[1]);
  if (notes.length) console.log('Changes made while loading:');
  for (const [text, n] of notes.slice(0, 20)) console.log(`  ${String(n).padStart(6)} × ${text}`);
  if (s.rejections.length) console.log('Rejected:');
  for (const r of s.rejections.slice(0, 50)) console.log(`  ${r.source}${r.id ? ` (${r.id})` : ''}: ${r.field}: ${r.reason}`);
  if (s.rejections.length > 50) console.log(`  … and ${s.rejections.length - 50} more (use --json for all)`);
}

export function catalogCommands(program: Command): void {
  const platform = program.command('platform').description('the operator’s own API clients (catalog:write, platform:admin)');
  platform
    .command('client-create <name>')
    .description(
      'create a platform client, e.g. for a pipeline that publishes items through the STAC transaction API; secret written once, 0600',
    )
    .requiredOption('--out <file>', 'creds.json file to write (mode 0600); the secret is not printed')
    .option(...dataDirOption)
    .addHelpText('after', '\nExample:\n  skyport platform client-create ingest-pipeline --out ./platform-creds.json')
    .action(async (name: string, opts: { out: string; dataDir?: string }) => {
      const c = config(opts);
      if (existsSync(opts.out)) throw new UsageError(`${opts.out} exists already`);
      await withStorage(c, async (s) => {
        const hasher = new SecretHasher(await loadHashKey(s, c.encryptionKey));
        const { client, secret, orgId } = await createPlatformClient({ storage: s, hasher }, name);
        const served = await servedConfig(c, s);
        const body = {
          client_id: client.clientId,
          client_secret: secret,
          token_url: `${served.publicUrl}/oauth2/token`,
          audience: served.dataAudience,
          root_scope: 'platform',
          organization: '(platform)',
        };
        writeFileSync(opts.out, JSON.stringify(body, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
        await operatorAudit(s, orgId, 'platform.client.create', client.clientId, { name });
        console.log(`Created platform client ${client.clientId} (${client.permissions.join(' ')}); credentials in ${opts.out} (0600)`);
      });
    });

  const catalog = program.command('catalog').description('load STAC data and manage who may see it');
  catalog
    .command('load <sources...>')
    .description('load STAC Collections and Items from files, folders or - (stdin): JSON, FeatureCollection or NDJSON; upserts')
    .option('--access <access>', 'access of collections this load creates: open, licensed or private', 'open')
    .option('--owner <org>', 'owner organization of private collections')
    .option('--force-access', 'also set --access/--owner on collections that exist already')
    .option('--json', 'print the summary as JSON')
    .option(...dataDirOption)
    .addHelpText(
      'after',
      '\nExamples:\n  skyport catalog load collections.json items.ndjson\n  skyport catalog generate --items 1000 | skyport catalog load -',
    )
    .action(
      async (sources: string[], opts: { access: string; owner?: string; forceAccess?: boolean; json?: boolean; dataDir?: string }) => {
        if (!ACCESS.includes(opts.access as CollectionAccess)) throw new UsageError('--access must be open, licensed or private');
        if (opts.access === 'private' && !opts.owner) throw new UsageError('--access private needs --owner <org>');
        await withStorage(config(opts), async (s) => {
          let ownerOrgId: string | null = null;
          if (opts.owner) {
            ownerOrgId = (await s.getOrganizationByName(opts.owner))?.id ?? null;
            if (!ownerOrgId) throw new UsageError(`no organization named "${opts.owner}"`);
          }
          const started = Date.now();
          const summary = await loadStac(s, sources, {
            access: opts.access as CollectionAccess,
            ownerOrgId,
            forceAccess: opts.forceAccess,
            onProgress: progress(started),
          }).catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT' || e.code === 'EACCES') throw new UsageError(`cannot read ${e.path ?? 'the input'} (${e.code})`);
            throw e;
          });
          if (process.stderr.isTTY) process.stderr.write('\n');
          await operatorAudit(s, null, 'catalog.load', null, { sources, collections: summary.collections, items: summary.items });
          const seconds = (Date.now() - started) / 1000;
          const c = config(opts);
          // Which store was written: a forgotten DATABASE_URL otherwise loads a new embedded store silently.
          const store = c.databaseUrl
            ? `PostgreSQL (DATABASE_URL, database ${new URL(c.databaseUrl).pathname.slice(1) || '(default)'})`
            : `SQLite ${c.dataDir}/skyport.db`;
          if (opts.json) console.log(JSON.stringify({ ...summary, store: c.databaseUrl ? 'postgres' : 'sqlite', seconds }, null, 2));
          else printSummary(summary, seconds, store);
          // Scripts must notice rejections: exit 1 when anything was rejected (what was valid is loaded all the same).
          if (summary.items.rejected + summary.collections.rejected > 0) process.exitCode = 1;
        });
      },
    );

  for (const grant of [true, false]) {
    catalog
      .command(`${grant ? 'grant' : 'revoke'} <collection> <org>`)
      .description(grant ? 'license a collection to an organization' : 'withdraw an organization’s license')
      .option(...dataDirOption)
      .option('--restrict', 'grant an OPEN collection anyway: it becomes licensed, hidden from every organization not granted it')
      .action(async (collectionId: string, orgName: string, opts: { dataDir?: string; restrict?: boolean }) => {
        await withStorage(config(opts), async (s) => {
          const c = await s.getCollection(collectionId);
          if (!c) throw new UsageError(`no collection ${collectionId}`);
          const org = await s.getOrganizationByName(orgName);
          if (!org) throw new UsageError(`no organization named "${orgName}"`);
          if (grant) {
            if (c.access === 'private') throw new UsageError(`${collectionId} is private to one organization; it cannot be licensed`);
            if (c.access === 'open') {
              if (!opts.restrict) {
                throw new UsageError(
                  `${collectionId} is open: every organization sees it already. Granting it to ${orgName} would make it licensed and hide it from all others; add --restrict to do that.`,
                );
              }
              await s.upsertCollection({ ...c, access: 'licensed', updatedAt: Date.now() });
              console.log(`${collectionId} is now licensed: only organizations granted it see it.`);
            }
            if ((await s.listGrants()).some((g) => g.collectionId === collectionId && g.orgId === org.id)) {
              console.log(`${orgName} already holds a license to ${collectionId}`);
              return;
            }
            await s.grantCollection(collectionId, org.id);
          } else if (!(await s.revokeCollection(collectionId, org.id)))
            throw new UsageError(`${orgName} holds no license to ${collectionId}`);
          await operatorAudit(s, org.id, grant ? 'catalog.grant' : 'catalog.revoke', collectionId);
          console.log(`${grant ? 'Licensed' : 'Revoked'} ${collectionId} ${grant ? 'to' : 'from'} ${orgName}`);
        });
      });
  }

  catalog
    .command('generate')
    .description('write generated constellation items (and their collections first) as NDJSON, for benchmarks and demos')
    .requiredOption('--items <n>', 'how many items, split evenly over the collections')
    .option('--collections <n>', 'how many collections (skyport-bench-1 …)', '5')
    .option('--seed <n>', 'random seed (same seed, same items)', '1')
    .option('--out <file>', 'write to a file instead of stdout')
    .option(
      '--sample-assets',
      "also write each collection's shared sample GeoTIFF and thumbnail (every generated item points at them) into the asset store",
    )
    .option(...dataDirOption)
    .addHelpText(
      'after',
      '\nExamples:\n  skyport catalog generate --items 100000 --out bench.ndjson\n  skyport catalog generate --items 1000 --sample-assets | skyport catalog load -',
    )
    .action(async (opts: { items: string; collections: string; seed: string; out?: string; sampleAssets?: boolean; dataDir?: string }) => {
      const int = (v: string, name: string, min: number) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`);
        return n;
      };
      const items = int(opts.items, 'items', 0);
      const collections = int(opts.collections, 'collections', 1);
      const seed = int(opts.seed, 'seed', 0);
      const out = opts.out ? createWriteStream(opts.out) : process.stdout;
      const temporal: [string, string] = [BENCH_WINDOW.start.toISOString(), BENCH_WINDOW.end.toISOString()];
      // Collections first, so that `| skyport catalog load -` knows them before their items.
      for (const spec of benchCollectionSpecs(collections)) out.write(JSON.stringify(toStacCollection(spec, temporal)) + '\n');
      const written = await writeNdjson(out, { items, collections, seed });
      if (opts.sampleAssets) {
        const store = openAssetStore(config(opts));
        for (const spec of benchCollectionSpecs(collections)) {
          const scene = generateScenes(spec, 1, seed, BENCH_WINDOW.start.getTime(), BENCH_WINDOW.end.getTime()).next().value;
          if (scene) await writeItemAssets(sceneToItem(spec, scene, 'shared'), store);
        }
        console.error(`Wrote the sample assets of ${collections} collections to ${store.location}`);
      }
      if (opts.out) console.error(`Wrote ${collections} collections and ${written.items} items to ${opts.out}`);
      if (out !== process.stdout)
        await new Promise<void>((resolve, reject) => (out as WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())));
    });

  catalog
    .command('list')
    .description('list collections with their access')
    .option('--json', 'print JSON')
    .option(...dataDirOption)
    .action(async (opts: { json?: boolean; dataDir?: string }) => {
      await withStorage(config(opts), async (s) => {
        const orgs = new Map((await s.listOrganizations()).map((o) => [o.id, o.name]));
        const licensees = new Map<string, string[]>();
        for (const g of await s.listGrants())
          licensees.set(g.collectionId, [...(licensees.get(g.collectionId) ?? []), orgs.get(g.orgId) ?? g.orgId]);
        const rows = (await s.listCollections()).map((c) => ({
          id: c.id,
          access: c.access,
          owner: c.ownerOrgId ? orgs.get(c.ownerOrgId) : '',
          licensed_to: (licensees.get(c.id) ?? []).join(', '),
          title: String(c.body.title ?? ''),
        }));
        console.log(opts.json ? JSON.stringify(rows, null, 2) : table(rows, ['id', 'access', 'owner', 'licensed_to', 'title']));
      });
    });
}
