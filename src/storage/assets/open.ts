/** The asset store the configuration names (SKYPORT_ASSETS_STORE), and the folder shorthand older callers pass. */
import type { Config } from '../../config.js';
import { LocalAssetStore } from './local.js';
import { S3AssetStore } from './s3.js';
import type { AssetStore } from './types.js';

/** The configured store: the assets folder, or the S3 bucket (config.ts has validated its settings). */
export function openAssetStore(config: Pick<Config, 'assetsStore' | 'assetsDir' | 's3'>): AssetStore {
  if (config.assetsStore === 's3') {
    if (!config.s3) throw new Error('SKYPORT_ASSETS_STORE=s3 without S3 settings');
    return new S3AssetStore(config.s3);
  }
  return new LocalAssetStore(config.assetsDir);
}

/** A store, or a folder path meaning the local store of that folder. */
export type AssetTarget = AssetStore | string;

/** `target` as a store (a string is a local folder). */
export function asAssetStore(target: AssetTarget): AssetStore {
  return typeof target === 'string' ? new LocalAssetStore(target) : target;
}
