/**
 * Offline validation against the official STAC JSON Schemas (STAC spec v1.0.0 and v1.1.0, GeoJSON
 * Feature/Geometry) and JSON Schemas converted from the STAC API v1.0.0 OpenAPI documents, all vendored
 * under ./vendor (provenance in vendor/README.md). Every schema is registered under its canonical URL,
 * so no `$ref` is ever fetched.
 *
 * Not validated: extension schemas named in `stac_extensions` (eo, proj, raster, …). They live at
 * their own URLs on stac-extensions.github.io and would have to be fetched; Skyport validates the core
 * only, as `stac-validator --core` does.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

import v100Item from './vendor/stac-spec/v1.0.0/item-spec/json-schema/item.json' with { type: 'json' };
import v100Basics from './vendor/stac-spec/v1.0.0/item-spec/json-schema/basics.json' with { type: 'json' };
import v100Datetime from './vendor/stac-spec/v1.0.0/item-spec/json-schema/datetime.json' with { type: 'json' };
import v100Instrument from './vendor/stac-spec/v1.0.0/item-spec/json-schema/instrument.json' with { type: 'json' };
import v100Licensing from './vendor/stac-spec/v1.0.0/item-spec/json-schema/licensing.json' with { type: 'json' };
import v100Provider from './vendor/stac-spec/v1.0.0/item-spec/json-schema/provider.json' with { type: 'json' };
import v100Collection from './vendor/stac-spec/v1.0.0/collection-spec/json-schema/collection.json' with { type: 'json' };
import v100Catalog from './vendor/stac-spec/v1.0.0/catalog-spec/json-schema/catalog.json' with { type: 'json' };
import v110Item from './vendor/stac-spec/v1.1.0/item-spec/json-schema/item.json' with { type: 'json' };
import v110Bands from './vendor/stac-spec/v1.1.0/item-spec/json-schema/bands.json' with { type: 'json' };
import v110Basics from './vendor/stac-spec/v1.1.0/item-spec/json-schema/basics.json' with { type: 'json' };
import v110Common from './vendor/stac-spec/v1.1.0/item-spec/json-schema/common.json' with { type: 'json' };
import v110DataValues from './vendor/stac-spec/v1.1.0/item-spec/json-schema/data-values.json' with { type: 'json' };
import v110Datetime from './vendor/stac-spec/v1.1.0/item-spec/json-schema/datetime.json' with { type: 'json' };
import v110Instrument from './vendor/stac-spec/v1.1.0/item-spec/json-schema/instrument.json' with { type: 'json' };
import v110Licensing from './vendor/stac-spec/v1.1.0/item-spec/json-schema/licensing.json' with { type: 'json' };
import v110Provider from './vendor/stac-spec/v1.1.0/item-spec/json-schema/provider.json' with { type: 'json' };
import v110Collection from './vendor/stac-spec/v1.1.0/collection-spec/json-schema/collection.json' with { type: 'json' };
import v110Catalog from './vendor/stac-spec/v1.1.0/catalog-spec/json-schema/catalog.json' with { type: 'json' };
import geojsonFeature from './vendor/geojson/Feature.json' with { type: 'json' };
import geojsonGeometry from './vendor/geojson/Geometry.json' with { type: 'json' };
import apiItemCollection from './vendor/stac-api-spec/v1.0.0/item-collection.json' with { type: 'json' };
import apiLandingPage from './vendor/stac-api-spec/v1.0.0/landing-page.json' with { type: 'json' };
import apiConformance from './vendor/stac-api-spec/v1.0.0/conformance.json' with { type: 'json' };
import apiCollections from './vendor/stac-api-spec/v1.0.0/collections.json' with { type: 'json' };

// ajv-formats is CommonJS with `exports.default`; under NodeNext a default import yields the module object.
const addFormats = addFormatsModule.default;

/** What `validateStac` can check: STAC core objects and STAC API v1.0.0 response bodies. */
export type StacKind = 'item' | 'collection' | 'catalog' | 'item-collection' | 'landing' | 'conformance' | 'collections';
/** STAC spec versions whose schemas are vendored. */
export type StacSchemaVersion = '1.0.0' | '1.1.0';
/** One schema violation: `path` in dotted JSON-path form (`properties.datetime`, `features[3].id`; `$` = the root). */
export interface StacSchemaError {
  path: string;
  message: string;
}
export type StacValidation = { valid: true } | { valid: false; errors: StacSchemaError[] };

const SPEC = 'https://schemas.stacspec.org';
type Json = Record<string, unknown>;

/** Canonical URL → schema. The key is what `$ref`s use, so it wins over a schema's own `$id` (see common.json). */
const SCHEMAS: [string, Json][] = [
  ['https://geojson.org/schema/Feature.json', geojsonFeature],
  ['https://geojson.org/schema/Geometry.json', geojsonGeometry],
  [`${SPEC}/v1.0.0/item-spec/json-schema/item.json`, v100Item],
  [`${SPEC}/v1.0.0/item-spec/json-schema/basics.json`, v100Basics],
  [`${SPEC}/v1.0.0/item-spec/json-schema/datetime.json`, v100Datetime],
  [`${SPEC}/v1.0.0/item-spec/json-schema/instrument.json`, v100Instrument],
  [`${SPEC}/v1.0.0/item-spec/json-schema/licensing.json`, v100Licensing],
  [`${SPEC}/v1.0.0/item-spec/json-schema/provider.json`, v100Provider],
  [`${SPEC}/v1.0.0/collection-spec/json-schema/collection.json`, v100Collection],
  [`${SPEC}/v1.0.0/catalog-spec/json-schema/catalog.json`, v100Catalog],
  [`${SPEC}/v1.1.0/item-spec/json-schema/item.json`, v110Item],
  [`${SPEC}/v1.1.0/item-spec/json-schema/bands.json`, v110Bands],
  [`${SPEC}/v1.1.0/item-spec/json-schema/basics.json`, v110Basics],
  // Upstream's $id is misspelt ".../commonjson"; every $ref says ".../common.json", which is the key here.
  [`${SPEC}/v1.1.0/item-spec/json-schema/common.json`, v110Common],
  [`${SPEC}/v1.1.0/item-spec/json-schema/data-values.json`, v110DataValues],
  [`${SPEC}/v1.1.0/item-spec/json-schema/datetime.json`, v110Datetime],
  [`${SPEC}/v1.1.0/item-spec/json-schema/instrument.json`, v110Instrument],
  [`${SPEC}/v1.1.0/item-spec/json-schema/licensing.json`, v110Licensing],
  [`${SPEC}/v1.1.0/item-spec/json-schema/provider.json`, v110Provider],
  [`${SPEC}/v1.1.0/collection-spec/json-schema/collection.json`, v110Collection],
  [`${SPEC}/v1.1.0/catalog-spec/json-schema/catalog.json`, v110Catalog],
];

const CORE_URL: Record<'item' | 'collection' | 'catalog', string> = {
  item: 'item-spec/json-schema/item.json',
  collection: 'collection-spec/json-schema/collection.json',
  catalog: 'catalog-spec/json-schema/catalog.json',
};
const API_SCHEMA: Record<'item-collection' | 'landing' | 'conformance' | 'collections', Json> = {
  'item-collection': apiItemCollection,
  landing: apiLandingPage,
  conformance: apiConformance,
  collections: apiCollections,
};

// RFC 3987 IRIs: ajv-formats knows only ASCII URIs. An IRI is a URI whose unreserved characters may be
// non-ASCII, so the checks below accept any character but controls, space and RFC 3987's excluded ones.
// One regular expression (spreading each IRI into characters was a tenth of a bulk load's validation).
// eslint-disable-next-line no-control-regex
const IRI_EXCLUDED = /[\s<>"{}|\\^`\x00-\x1f\x7f]/u;
const IRI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const iriChars = (s: string) => !IRI_EXCLUDED.test(s);

let ajvInstance: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function ajv(): Ajv {
  if (ajvInstance) return ajvInstance;
  // strictTypes/strictTuples off: the upstream schemas legitimately use `oneOf: [{minItems…}]` without `type`.
  const a = new Ajv({ allErrors: true, strictTypes: false, strictTuples: false, logger: false });
  addFormats(a);
  a.addFormat('iri', (s: string) => IRI_SCHEME.test(s) && iriChars(s));
  a.addFormat('iri-reference', iriChars);
  for (const [url, schema] of SCHEMAS) a.addSchema(schema, url);
  ajvInstance = a;
  return a;
}

/** The API schemas are written against STAC 1.0.0; for 1.1.0 bodies the official refs are re-pointed. */
function apiSchemaFor(kind: keyof typeof API_SCHEMA, version: StacSchemaVersion): Json {
  const base = API_SCHEMA[kind];
  if (version === '1.0.0') return base;
  const text = JSON.stringify(base).replaceAll(`${SPEC}/v1.0.0/`, `${SPEC}/v1.1.0/`);
  return { ...(JSON.parse(text) as Json), $id: `${String(base.$id)}:stac-1.1.0` };
}

function validatorFor(kind: StacKind, version: StacSchemaVersion): ValidateFunction {
  const key = `${kind}@${version}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const a = ajv();
  const isCore = kind === 'item' || kind === 'collection' || kind === 'catalog';
  const fn = isCore ? a.getSchema(`${SPEC}/v${version}/${CORE_URL[kind]}`) : a.compile(apiSchemaFor(kind, version));
  if (!fn) throw new Error(`vendored schema for ${key} missing`);
  compiled.set(key, fn);
  return fn;
}

/** 1.1.x → 1.1.0, 1.0.x (incl. pre-releases) → 1.0.0; anything else has no vendored schema. */
export function schemaVersionFor(stacVersion: unknown): StacSchemaVersion | null {
  if (typeof stacVersion !== 'string') return null;
  if (/^1\.1\.\d+(-|$)/.test(stacVersion)) return '1.1.0';
  if (/^1\.0\.\d+(-|$)/.test(stacVersion)) return '1.0.0';
  return null;
}

function detectVersion(kind: StacKind, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Json;
  if (kind === 'item-collection' || kind === 'collections') {
    const list = v[kind === 'item-collection' ? 'features' : 'collections'];
    const first = Array.isArray(list) ? (list[0] as Json | undefined) : undefined;
    return v.stac_version ?? first?.stac_version ?? '1.0.0';
  }
  // A conformance declaration names no STAC version and refers to no STAC schema.
  return kind === 'conformance' ? '1.0.0' : v.stac_version;
}

/** ajv's `/a/0/b` instance path → `a[0].b`; the missing property of a `required` error is appended. */
export function errorPath(e: ErrorObject): string {
  const parts = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (e.keyword === 'required') parts.push(String((e.params as { missingProperty: string }).missingProperty));
  let path = '';
  for (const p of parts) path += /^\d+$/.test(p) ? `[${p}]` : path ? `.${p}` : p;
  return path || '$';
}

// Ranking for the error worth showing first: a failed discriminator (`type: "Polygon"` enum) or a missing
// field says more than the structural complaints of the oneOf branches it made irrelevant.
const KEYWORD_RANK: Record<string, number> = { const: 0, enum: 0, required: 1, format: 2, pattern: 2, type: 4 };
const SUMMARY_KEYWORDS = new Set(['anyOf', 'oneOf', 'allOf', 'if', 'false schema']);

function relevance(e: ErrorObject): [number, number, number] {
  const alternatives = (e.schemaPath.match(/\/(oneOf|anyOf)\//g) ?? []).length;
  return [SUMMARY_KEYWORDS.has(e.keyword) ? 1 : 0, alternatives, KEYWORD_RANK[e.keyword] ?? 3];
}

/** ajv errors → unique `{path, message}`, most relevant first: concrete before summaries, outside oneOf/anyOf branches first, then by keyword. */
function toErrors(errors: ErrorObject[] | null | undefined): StacSchemaError[] {
  const ranked = (errors ?? [])
    .map((e, i) => ({ e, i, r: relevance(e) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.r[2] - b.r[2] || a.i - b.i);
  const seen = new Set<string>();
  const out: StacSchemaError[] = [];
  for (const { e } of ranked) {
    const err = { path: errorPath(e), message: e.message ?? e.keyword };
    const k = `${err.path}\u0000${err.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(err);
    }
  }
  return out;
}

/**
 * Validates `value` against the official schema for `kind`.
 * - item / collection / catalog: STAC spec `{item,collection,catalog}-spec/json-schema/*.json`.
 * - item-collection (search and /items responses), landing (`GET /`), conformance (`GET /conformance`),
 *   collections (`GET /collections`): STAC API v1.0.0 component schemas, with features/collections
 *   checked by the official core schema.
 * The schema version comes from `version`, else from `stac_version` (for lists: the body's, else the first
 * member's, else 1.0.0). Extension schemas are not applied (they would have to be fetched).
 * Errors come most relevant first (see primaryError). Never throws for bad input; an unsupported
 * `stac_version` is reported as an error on `stac_version`.
 */
export function validateStac(kind: StacKind, value: unknown, version?: StacSchemaVersion): StacValidation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { valid: false, errors: [{ path: '$', message: 'must be object' }] };
  }
  const mixed = version === undefined ? mixedList(kind, value as Json) : undefined;
  if (mixed) return mixed;
  const detected = detectVersion(kind, value);
  const v = version ?? schemaVersionFor(detected);
  if (!v) {
    const message = `unsupported STAC version ${JSON.stringify(detected)} (schemas for 1.0.x and 1.1.x only)`;
    return { valid: false, errors: [{ path: 'stac_version', message }] };
  }
  const fn = validatorFor(kind, v);
  return fn(value) ? { valid: true } : { valid: false, errors: toErrors(fn.errors) };
}

/**
 * A list whose members carry different STAC versions (a catalog serving 1.0.0 and 1.1.0 side by side) is
 * validated as its envelope (members removed) plus each member under its own version, paths prefixed.
 * Undefined when the list is uniform (the one-schema path applies).
 */
function mixedList(kind: StacKind, value: Json): StacValidation | undefined {
  const key = kind === 'collections' ? 'collections' : kind === 'item-collection' ? 'features' : undefined;
  const members = key ? (value as Record<string, unknown>)[key] : undefined;
  if (!key || !Array.isArray(members)) return undefined;
  const versions = new Set(members.map((m) => schemaVersionFor((m as { stac_version?: unknown })?.stac_version)));
  if (versions.size < 2) return undefined;
  const errors: StacSchemaError[] = [];
  const envelope = validateStac(kind, { ...value, [key]: [] }, '1.0.0');
  if (!envelope.valid) errors.push(...envelope.errors);
  members.forEach((m, n) => {
    const r = validateStac(kind === 'collections' ? 'collection' : 'item', m);
    if (!r.valid) errors.push(...r.errors.map((e) => ({ ...e, path: `${key}[${n}]${e.path === '$' ? '' : `.${e.path}`}` })));
  });
  return errors.length ? { valid: false, errors } : { valid: true };
}

/** The error to name to a person: the first of `validateStac`'s errors, which come most relevant first. */
export function primaryError(errors: StacSchemaError[]): StacSchemaError | undefined {
  return errors[0];
}
