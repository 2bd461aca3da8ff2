/**
 * The demo catalog a demo first start loads: the generated sun-synchronous constellation catalog
 * (thermal LST and optical multispectral collections, `SKYPORT_DEMO_ITEMS` items over the last 30
 * days, each with a small real GeoTIFF and PNG thumbnail written into the asset store), and the
 * bundled real STAC sample (samples/stac, 82 collections and 972 items from public catalogues) as
 * open collections. Everything goes through the same normalization as `skyport catalog load`.
 */
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import { openAssetStore } from '../storage/assets/open.js';
import type { AssetStore } from '../storage/assets/types.js';
import type { Storage } from '../storage/types.js';
import { writeItemAssets } from './generate/assets.js';
import { demoCatalog } from './generate/items.js';
import { normalizeCollection, normalizeItem } from './ingest.js';
import { loadStac, type LoadSummary } from './load.js';

/** The bundled real sample, relative to the package root (this file runs from dist/src/catalog/). */
export const SAMPLE_FILES = ['real-collections.json.gz', 'real-items.ndjson.gz'].map((f) =>
  fileURLToPath(new URL(`../../../samples/stac/${f}`, import.meta.url)),
);

/**
 * Loads the demo catalog; returns how many generated items and what the sample load did. The generated
 * items' assets go into `assets` (by default the store `config` names). Throws on the store's errors.
 */
export async function loadDemoCatalog(
  storage: Storage,
  config: Pick<Config, 'demoItems' | 'demoSample' | 'assetsDir' | 'assetsStore' | 's3'>,
  now = new Date(),
  assets: AssetStore = openAssetStore(config),
): Promise<{ generated: number; sample?: LoadSummary }> {
  const perCollection = Math.ceil(config.demoItems / 2);
  const { collections, items } = demoCatalog({ now, perCollection, days: 30, seed: 42, assets: 'files' });
  for (const raw of collections) {
    const { collection } = normalizeCollection(raw);
    await storage.upsertCollection({
      id: collection.id,
      access: 'open',
      ownerOrgId: null,
      body: collection as unknown as Record<string, unknown>,
      updatedAt: now.getTime(),
    });
  }
  const records = items.slice(0, config.demoItems).map((raw) => {
    const { item } = normalizeItem(raw);
    return { collection: item.collection as string, id: item.id, item: item as unknown as Record<string, unknown> };
  });
  for (const r of items.slice(0, config.demoItems)) await writeItemAssets(r, assets);
  if (records.length) await storage.upsertItems(records);
  const sample = config.demoSample ? await loadStac(storage, SAMPLE_FILES, { access: 'open' }) : undefined;
  return { generated: records.length, sample };
}
