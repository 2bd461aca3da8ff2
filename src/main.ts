/**
 * Composition root: read the configuration, open storage, build the services and the app, listen.
 * `createSkyport` is also what the tests use, so they exercise exactly the production wiring.
 */
import cluster from 'node:cluster';
import { guard } from './access/guard.js';
import type { ApiName, Permission } from './access/permissions.js';
import { RevocationList } from './access/revocations.js';
import { BearerVerifier } from './access/verifier.js';
import { auditRoutes } from './admin/audit.js';
import { clientRoutes } from './admin/clients.js';
import { KeyStore } from './auth/keys.js';
import { metadataRoutes } from './auth/metadata.js';
import { FailureLimiter } from './auth/rate-limit.js';
import { SecretHasher } from './auth/secrets.js';
import { tokenEndpoint } from './auth/token-endpoint.js';
import { tokenManagementRoutes } from './auth/token-management.js';
import { bootstrapDemo, loadHashKey, refreshCredentialFiles } from './bootstrap.js';
import { collectionRoutes } from './catalog/collections.js';
import { assetRoutes } from './catalog/assets.js';
import { itemRoutes } from './catalog/items.js';
import { openapiRoutes } from './catalog/openapi.js';
import { taskingProductRoutes } from './tasking/landing.js';
import { ensureDemoConstellation } from './tasking/tle-store.js';
import { transactionRoutes } from './catalog/transactions.js';
import { landingRoutes } from './catalog/landing.js';
import { taskingOrderRoutes } from './tasking/orders.js';
import { Scheduler } from './tasking/scheduler.js';
import { WebhookDispatcher, webhookRoutes } from './tasking/webhooks.js';
import { PortInUse, REVOCATION_RETENTION_MS, SERVED_PUBLIC_URL_META, type Config } from './config.js';
import { createApp } from './http/app.js';
import { openStorage } from './storage/open.js';
import { openAssetStore } from './storage/assets/open.js';
import type { AssetStore } from './storage/assets/types.js';
import type { Storage } from './storage/types.js';
import type { FastifyInstance } from 'fastify';

export interface Skyport {
  app: FastifyInstance;
  storage: Storage;
  /** Where held assets are read and written (SKYPORT_ASSETS_STORE). */
  assets: AssetStore;
  keys: KeyStore;
  revocations: RevocationList;
  hasher: SecretHasher;
  config: Config;
  /** The tasking scheduler (running when config.taskingWorkers; tests may stop it and call tick). */
  scheduler: Scheduler;
  /** The webhook dispatcher (same). */
  webhooks: WebhookDispatcher;
  /** Reloads keys and revocations from storage now (the sync tick, callable by tests). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Builds a Skyport instance (not yet listening). Throws on unreachable storage, undecryptable keys,
 * or an asset store that does not answer (ConfigError naming the setting to fix).
 */
export async function createSkyport(config: Config, opts: { logStream?: NodeJS.WritableStream } = {}): Promise<Skyport> {
  const assets = openAssetStore(config);
  await assets.probe();
  const storage = await openStorage(config);
  try {
    const hasher = new SecretHasher(await loadHashKey(storage, config.encryptionKey));
    const keys = new KeyStore(storage, config.signingAlg, config.encryptionKey);
    await keys.init();
    const revocations = new RevocationList(storage);
    await revocations.sync();
    const audiences: Record<ApiName, string> = { data: config.dataAudience, management: config.managementAudience };
    const verifier = new BearerVerifier(keys, revocations, { issuer: config.issuer, audiences, clockSkew: config.clockSkew });
    const limiter = new FailureLimiter({
      perAddress: config.rateLimitPerAddress,
      perClientAddress: config.rateLimitPerClientAddress,
      perClient: config.rateLimitPerClient,
    });
    const app = createApp({ logLevel: config.logLevel, trustProxy: config.trustProxy, logStream: opts.logStream });
    const adminDeps = { storage, hasher, revocations, revocationTtl: REVOCATION_RETENTION_MS };
    const clientAuth = { storage, hasher, limiter, realm: 'skyport' };

    await metadataRoutes(app, { issuer: config.issuer, publicUrl: config.publicUrl, keys });
    await tokenEndpoint(app, {
      ...clientAuth,
      keys,
      issuer: config.issuer,
      audiences,
      ttl: { data: config.dataTokenTtl, management: config.managementTokenTtl },
      revocations,
      bodyLimit: config.tokenBodyLimit,
    });
    await tokenManagementRoutes(app, { ...clientAuth, verifier, revocations, bodyLimit: config.tokenBodyLimit });
    await clientRoutes(app, { ...adminDeps, guard: (p) => guard(verifier, 'management', p) });
    await auditRoutes(app, { storage, guard: (p) => guard(verifier, 'management', p) });
    await landingRoutes(app, { publicUrl: config.publicUrl, issuer: config.issuer, guard: (p) => guard(verifier, 'data', p) });
    const dataGuard = (p: Permission) => guard(verifier, 'data', p);
    const limits = { defaultLimit: config.searchDefaultLimit, maxLimit: config.searchMaxLimit, countLimit: config.searchCountLimit };
    await collectionRoutes(app, { storage, publicUrl: config.publicUrl, guard: dataGuard, limits });
    await itemRoutes(app, { storage, publicUrl: config.publicUrl, guard: dataGuard, limits });
    await assetRoutes(app, { storage, assets, guard: dataGuard });
    await openapiRoutes(app, { publicUrl: config.publicUrl, guard: dataGuard, limits });
    // Demo element sets are (re-)epoched at every start so that demo opportunities never go stale.
    await ensureDemoConstellation(storage);
    await taskingProductRoutes(app, { storage, publicUrl: config.publicUrl, guard: dataGuard });
    await app.register(async (scope) => transactionRoutes(scope, { storage, publicUrl: config.publicUrl, guard: dataGuard }));
    await taskingOrderRoutes(app, { storage, publicUrl: config.publicUrl, guard: dataGuard });
    await webhookRoutes(app, {
      storage,
      encryptionKey: config.encryptionKey,
      guard: (p) => guard(verifier, 'management', p),
      allowPrivate: config.webhookAllowPrivate,
    });
    const scheduler = new Scheduler({
      storage,
      publicUrl: config.publicUrl,
      assets,
      timeScale: config.taskingTimeScale,
      tickMs: config.taskingTickMs,
      leaseMs: config.taskingLeaseMs,
      log: app.log,
    });
    // A send may take its whole 10 s timeout: the dispatcher's lease outlives that.
    const webhooks = new WebhookDispatcher({
      storage,
      encryptionKey: config.encryptionKey,
      tickMs: config.taskingTickMs,
      leaseMs: Math.max(config.taskingLeaseMs, 15_000),
      allowPrivate: config.webhookAllowPrivate,
      log: app.log,
    });
    if (config.taskingWorkers) {
      scheduler.start();
      webhooks.start();
    }

    const sync = async () => {
      await keys.refresh();
      await revocations.sync();
    };
    const timer = setInterval(
      () => sync().catch((e: Error) => app.log.warn({ errMessage: e.message }, 'storage sync failed; retrying')),
      config.syncInterval,
    );
    timer.unref();
    let closed = false;
    return {
      app,
      storage,
      assets,
      keys,
      revocations,
      hasher,
      config,
      scheduler,
      webhooks,
      sync,
      async close() {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        await scheduler.stop();
        await webhooks.stop();
        await app.close();
        await storage.close();
      },
    };
  } catch (e) {
    await storage.close().catch(() => {});
    throw e;
  }
}

export { PortInUse, SERVED_PUBLIC_URL_META } from './config.js';

/** Fails fast, before any first-start work, when HOST:PORT cannot be bound. */
async function assertPortFree(config: Config): Promise<void> {
  const { createServer } = await import('node:net');
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new PortInUse(`${config.host}:${config.port} is in use; start with another PORT, e.g. PORT=18080 npm start`)
          : e,
      ),
    );
    probe.listen({ host: config.host, port: config.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** First-start work (demo organization, credential files) and keeping credential files' URLs current. */
async function firstStart(storage: Storage, hasher: SecretHasher, config: Config): Promise<void> {
  const files = await bootstrapDemo(storage, hasher, config);
  if (files) {
    console.log(`First start: created the demo organization. Its root credentials (mode 0600):`);
    for (const [scope, file] of Object.entries(files)) console.log(`  ${scope.padEnd(9)} ${file}`);
    console.log(
      `Try:\n  curl -s ${config.publicUrl}/oauth2/token -d grant_type=client_credentials \\\n    -d client_id=$(node -p "require('${files['read-only']}').client_id") \\\n    -d client_secret=$(node -p "require('${files['read-only']}').client_secret")`,
    );
  } else if (!config.demo && (await storage.listOrganizations()).length === 0) {
    console.log('No organizations yet (SKYPORT_DEMO=false): create one with `npx skyport org create <name>`.');
  }
  for (const f of await refreshCredentialFiles(storage, config))
    console.log(`Updated token_url and audience in ${f} for ${config.publicUrl}`);
  // Operator commands run without PORT/SKYPORT_PUBLIC_URL write credential files for the URL actually served.
  await storage.setMeta(SERVED_PUBLIC_URL_META, config.publicUrl);
}

/** `skyport serve`: first-start work, then listen (in SKYPORT_WORKERS processes when > 1). Throws PortInUse. */
export async function serve(config: Config): Promise<void> {
  if (cluster.isPrimary && config.workers > 1) {
    await assertPortFree(config);
    // Migrations, keys and the demo once, here, so the workers start against a prepared store.
    const storage = await openStorage(config);
    try {
      await new KeyStore(storage, config.signingAlg, config.encryptionKey).init();
      await firstStart(storage, new SecretHasher(await loadHashKey(storage, config.encryptionKey)), config);
    } finally {
      await storage.close();
    }
    for (let i = 0; i < config.workers; i++) cluster.fork();
    cluster.on('exit', (w, code, signal) => {
      if (signal !== 'SIGTERM' && signal !== 'SIGINT') console.error(`worker ${w.process.pid} exited (${signal ?? code})`);
    });
    const stop = () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    };
    process.once('SIGTERM', stop).once('SIGINT', stop);
    console.log(
      `Skyport listening at ${config.publicUrl} (${config.workers} workers, storage: ${config.databaseUrl ? 'postgres' : 'sqlite'})`,
    );
    return;
  }
  if (cluster.isPrimary) await assertPortFree(config);
  const s = await createSkyport(config);
  const stop = () => void s.close().then(() => process.exit(0));
  process.once('SIGTERM', stop).once('SIGINT', stop);
  if (cluster.isPrimary) await firstStart(s.storage, s.hasher, config);
  await s.app.listen({ host: config.host, port: config.port });
  if (cluster.isPrimary) {
    if (!config.encryptionKey)
      s.app.log.warn('private signing keys are stored unencrypted: set SKYPORT_ENCRYPTION_KEY (openssl rand -base64 32) to seal them');
    s.app.log.info(`Skyport listening at ${config.publicUrl} (storage: ${s.storage.kind}, data dir: ${config.dataDir})`);
  }
}
