/**
 * How a stored item is served: Skyport writes its structural links (self, parent, collection, root),
 * turns the hrefs of assets it holds (`asset:` scheme in storage) into its protected download URL, and
 * applies the fields extension's include/exclude semantics (stac-api-extensions/fields v1.0.0 §
 * "Include/Exclude Semantics"). Remote assets keep their published href.
 */
import type { ItemRecord } from '../storage/types.js';
import { LONE_SURROGATE } from './ingest.js';
import type { FieldsSpec } from './search-params.js';

/** Scheme of asset hrefs that point into Skyport's own asset store (a path relative to its root). */
export const HELD_ASSET_SCHEME = 'asset:';

// Ingest refuses lone surrogates, but an item stored before that rule may hold one: encodeURIComponent would
// throw (a 500 for every search meeting the item), so they are written as U+FFFD instead.
const LONE = new RegExp(LONE_SURROGATE.source, 'g');
const enc = (s: string) => encodeURIComponent(s.replace(LONE, '\uFFFD'));

/** URL of an item on this API. */
export function itemUrl(base: string, collection: string, id: string): string {
  return `${base}/collections/${enc(collection)}/items/${enc(id)}`;
}

/** The default set of the fields extension: what keeps an item a valid STAC Item. */
const DEFAULT_FIELDS = [
  'type',
  'stac_version',
  'id',
  'collection',
  'geometry',
  'bbox',
  'links',
  'assets',
  'properties.datetime',
  'stac_extensions',
];

/** Path segments that would reach an object's prototype instead of its data. */
const UNSAFE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

function getPath(obj: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!cur || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (!cur[k] || typeof cur[k] !== 'object') cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function deletePath(obj: Record<string, unknown>, path: string[]): void {
  const parent = getPath(obj, path.slice(0, -1));
  if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[path[path.length - 1]!];
}

/** A field name as a path; bare property names (`eo:cloud_cover`) mean `properties.eo:cloud_cover`. Undefined when unsafe. */
function toPath(field: string): string[] | undefined {
  if (field.split('.').some((k) => UNSAFE_SEGMENTS.has(k))) return undefined;
  const top = ['type', 'stac_version', 'stac_extensions', 'id', 'collection', 'geometry', 'bbox', 'links', 'assets', 'properties'];
  const head = field.split('.')[0]!;
  return top.includes(head) ? field.split('.') : ['properties', ...field.split('.')];
}

/** Applies include/exclude: (default ∪ include) minus exclude; a field both included and excluded is excluded. */
export function applyFields(item: Record<string, unknown>, f: FieldsSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of [...DEFAULT_FIELDS, ...f.include]) {
    const path = toPath(field);
    const v = path && getPath(item, path);
    if (path && v !== undefined) setPath(out, path, structuredClone(v));
  }
  for (const field of f.exclude) {
    const path = toPath(field);
    if (path) deletePath(out, path);
  }
  return out;
}

/** The served form of a stored item (a new object; the record is not changed). */
export function presentItem(rec: ItemRecord, base: string, fields?: FieldsSpec): Record<string, unknown> {
  const item = { ...rec.item };
  const self = itemUrl(base, rec.collection, rec.id);
  const collectionUrl = `${base}/collections/${enc(rec.collection)}`;
  const own = (Array.isArray(item.links) ? (item.links as unknown[]) : []).filter(Boolean);
  item.links = [
    { rel: 'self', type: 'application/geo+json', href: self },
    { rel: 'parent', type: 'application/json', href: collectionUrl },
    { rel: 'collection', type: 'application/json', href: collectionUrl },
    { rel: 'root', type: 'application/json', href: `${base}/` },
    ...own,
  ];
  if (item.assets && typeof item.assets === 'object') {
    const assets: Record<string, unknown> = {};
    for (const [key, a] of Object.entries(item.assets as Record<string, Record<string, unknown>>)) {
      const held = typeof a?.href === 'string' && a.href.startsWith(HELD_ASSET_SCHEME);
      assets[key] = held ? { ...a, href: `${self}/assets/${enc(key)}` } : a;
    }
    item.assets = assets;
  }
  return fields ? applyFields(item, fields) : item;
}
