/**
 * Test helper: asserts a value is valid against the official STAC core / STAC API v1.0.0 schema
 * (src/catalog/stac-schema; extension schemas are not applied).
 */
import { AssertionError } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateStac, type StacKind, type StacSchemaVersion } from '../../src/catalog/stac-schema/index.js';

/**
 * @param kind which schema (`item`, `collection`, `catalog`, `item-collection`, `landing`, `conformance`, `collections`)
 * @param version schema version; default: from the value's `stac_version`
 * @throws AssertionError whose message lists every schema error as `path: message`
 */
export function assertValidStac(kind: StacKind, value: unknown, version?: StacSchemaVersion): void {
  const result = validateStac(kind, value, version);
  if (result.valid) return;
  const lines = result.errors.map((e) => `  ${e.path}: ${e.message}`);
  throw new AssertionError({
    message: `not a valid STAC ${kind}${version ? ` (${version})` : ''}:\n${lines.join('\n')}`,
    actual: result.errors,
    expected: [],
    operator: 'assertValidStac',
  });
}

/**
 * The real STAC fixtures of shared/data/stac (see shared/data/SOURCES.md): `$SKYPORT_STAC_DATA_DIR`,
 * else `../shared/data/stac` from the working directory (CI's layout), else /work/shared/data/stac.
 * @throws Error when none exists: these tests must not pass by skipping
 */
export function loadRealStac(): { items: Record<string, any>[]; collections: Record<string, any>[] } {
  const candidates = [process.env.SKYPORT_STAC_DATA_DIR, resolve(process.cwd(), '../shared/data/stac'), '/work/shared/data/stac'];
  const dir = candidates.find((d) => d && existsSync(resolve(d, 'real-items.ndjson')));
  if (!dir) throw new Error(`real STAC fixtures not found in ${candidates.filter(Boolean).join(', ')}`);
  const items = readFileSync(resolve(dir, 'real-items.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, any>);
  const collections = JSON.parse(readFileSync(resolve(dir, 'real-collections.json'), 'utf8')) as Record<string, any>[];
  return { items, collections };
}
