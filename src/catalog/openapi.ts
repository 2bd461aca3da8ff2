/**
 * The Data API's OpenAPI 3.0 description, served at `GET /api` as
 * `application/vnd.oai.openapi+json;version=3.0` and linked from the landing page as `service-desc`
 * (OGC API - Features Part 1 §7.3, /req/oas30; STAC API - Core). Parameter names, wording and schemas
 * follow the STAC API v1.0.0 OpenAPI (item-search, ogcapi-features) and its fragments (filter, sort,
 * fields, query, free-text, collection-search), narrowed to what this server accepts (search-params.ts,
 * collections.ts, assets.ts). The document is self-contained: every `$ref` points inside it.
 */
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import { REALM } from '../access/guard.js';
import { SORTABLES } from '../storage/catalog/sql.js';
import type { SearchLimits } from './search-params.js';

/** Media type of the document (OGC 17-069 §7.3.2 Table 3; the landing page's `service-desc` link). */
export const OPENAPI_MEDIA_TYPE = 'application/vnd.oai.openapi+json;version=3.0';

type Json = Record<string, unknown>;
/** Page sizes the document advertises; when absent, `limit` carries no default or maximum. */
export type OpenApiLimits = Pick<SearchLimits, 'defaultLimit' | 'maxLimit'>;

const GEOJSON = 'application/geo+json';
const JSON_TYPE = 'application/json';
const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
const ref = (kind: 'schemas' | 'parameters' | 'responses', name: string): Json => ({ $ref: `#/components/${kind}/${name}` });
const json = (schema: Json, type = JSON_TYPE): Json => ({ [type]: { schema } });

/** Data API permissions a client may request as OAuth 2.0 scopes (shared/design/access-model.md). */
const SCOPES: Partial<Record<Permission, string>> = {
  'catalog:read': 'Read the catalog: landing page, collections, items, search, queryables, this document.',
  'assets:read': 'Download the assets Skyport holds (`/collections/{collectionId}/items/{itemId}/assets/{assetKey}`).',
  'tasking:read': 'Read tasking products, opportunities and orders (tasking API).',
  'tasking:order': 'Place tasking orders (tasking API).',
};

function securitySchemes(publicUrl: string): Json {
  return {
    oauth2: {
      type: 'oauth2',
      description:
        'OAuth 2.0 client credentials (RFC 6749 §4.4) at this server: form body at `/oauth2/token`, or JSON body ' +
        '(`client_id`, `client_secret`, `audience`, `grant_type`) at `/oauth/token`. The access token must be issued ' +
        'for the Data API audience; send it in the Authorization header only (RFC 6750 §2.1).',
      flows: { clientCredentials: { tokenUrl: `${publicUrl}/oauth2/token`, scopes: SCOPES } },
    },
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'A JWT access token from this server, as `Authorization: Bearer <token>`, whose scope holds the permission the ' +
        'operation names under `oauth2`. Tokens in the query string or body are refused (400).',
    },
  };
}

/** One security requirement per scheme: either the OAuth 2.0 scope or any valid bearer token holding it. */
const security = (p: Permission): Json[] => [{ oauth2: [p] }, { bearerAuth: [] }];

function geometrySchemas(): Record<string, Json> {
  const position = { type: 'array', minItems: 2, items: { type: 'number' }, description: 'longitude, latitude (deg)[, height (m)]' };
  const line = { type: 'array', minItems: 2, items: position };
  const ring = { type: 'array', minItems: 4, items: position };
  const geom = (type: string, coordinates: Json): Json => ({
    type: 'object',
    required: ['type', 'coordinates'],
    properties: { type: { type: 'string', enum: [type] }, coordinates },
  });
  return {
    pointGeoJSON: geom('Point', position),
    multipointGeoJSON: geom('MultiPoint', { type: 'array', items: position }),
    linestringGeoJSON: geom('LineString', line),
    multilinestringGeoJSON: geom('MultiLineString', { type: 'array', items: line }),
    polygonGeoJSON: geom('Polygon', { type: 'array', items: ring }),
    multipolygonGeoJSON: geom('MultiPolygon', { type: 'array', items: { type: 'array', items: ring } }),
    geometrycollectionGeoJSON: {
      type: 'object',
      required: ['type', 'geometries'],
      properties: {
        type: { type: 'string', enum: ['GeometryCollection'] },
        geometries: { type: 'array', items: ref('schemas', 'geometryGeoJSON') },
      },
    },
    geometryGeoJSON: {
      description: 'A GeoJSON geometry (RFC 7946 §3.1) in WGS 84 longitude/latitude.',
      oneOf: ['point', 'multipoint', 'linestring', 'multilinestring', 'polygon', 'multipolygon', 'geometrycollection'].map((g) =>
        ref('schemas', `${g}GeoJSON`),
      ),
    },
  };
}

function commonSchemas(): Record<string, Json> {
  const nullableInstant = { type: 'string', format: 'date-time', nullable: true };
  return {
    exception: {
      type: 'object',
      description: 'Information about the exception: an error code plus a description (the STAC API error body).',
      required: ['code', 'description'],
      properties: { code: { type: 'string', example: 'NotFound' }, description: { type: 'string' } },
    },
    link: {
      type: 'object',
      required: ['href', 'rel'],
      properties: {
        href: { type: 'string', format: 'uri-reference', description: 'The location of the resource' },
        rel: { type: 'string', description: 'Relation type of the link' },
        type: { type: 'string', description: 'The media type of the resource' },
        title: { type: 'string', description: 'Title of the resource' },
        method: { type: 'string', enum: ['GET', 'POST'], default: 'GET', description: 'The HTTP method the resource expects' },
        headers: { type: 'object', description: 'Header names and values to send when following the link' },
        body: { type: 'object', description: 'For POST links: the whole request body to send (a `next` page of `POST /search`).' },
        merge: { type: 'boolean', default: false, description: 'Whether `body` is to be merged into the current request body.' },
      },
    },
    links: { type: 'array', items: ref('schemas', 'link') },
    stac_version: { type: 'string', example: '1.0.0' },
    stac_extensions: { type: 'array', uniqueItems: true, items: { type: 'string' } },
    bbox: {
      description:
        'Four or six numbers: west, south[, minimum height], east, north[, maximum height], in WGS 84 longitude/latitude ' +
        `(deg, ${CRS84}) and metres. A box crossing the antimeridian has west > east.`,
      type: 'array',
      items: { type: 'number' },
      oneOf: [
        { minItems: 4, maxItems: 4 },
        { minItems: 6, maxItems: 6 },
      ],
      example: [160.6, -55.95, -170, -25.89],
    },
    datetime_interval: {
      type: 'string',
      description:
        'Either an RFC 3339 date-time or an interval `start/end`, open or closed; an open end is `..` or empty. ' +
        'Only items whose time (datetime, or start_datetime/end_datetime) intersects it are selected.',
      example: '2018-02-12T00:00:00Z/2018-03-18T12:31:12Z',
    },
    extent: {
      type: 'object',
      required: ['spatial', 'temporal'],
      properties: {
        spatial: {
          type: 'object',
          required: ['bbox'],
          properties: { bbox: { type: 'array', minItems: 1, items: ref('schemas', 'bbox') } },
        },
        temporal: {
          type: 'object',
          required: ['interval'],
          properties: {
            interval: { type: 'array', minItems: 1, items: { type: 'array', minItems: 2, maxItems: 2, items: nullableInstant } },
          },
        },
      },
    },
  };
}

function resourceSchemas(): Record<string, Json> {
  return {
    landingPage: {
      type: 'object',
      required: ['type', 'stac_version', 'id', 'description', 'conformsTo', 'links'],
      properties: {
        type: { type: 'string', enum: ['Catalog'] },
        stac_version: ref('schemas', 'stac_version'),
        stac_extensions: ref('schemas', 'stac_extensions'),
        id: { type: 'string' },
        title: { type: 'string' },
        description: { type: 'string' },
        conformsTo: { type: 'array', items: { type: 'string', format: 'uri' } },
        links: ref('schemas', 'links'),
      },
    },
    conformanceClasses: {
      type: 'object',
      required: ['conformsTo'],
      properties: {
        conformsTo: { type: 'array', description: 'The conformance classes this server implements.', items: { type: 'string' } },
      },
    },
    collection: {
      type: 'object',
      description: 'A STAC Collection (STAC 1.0.0 collection-spec); extension fields are kept as published.',
      required: ['type', 'stac_version', 'id', 'description', 'license', 'extent', 'links'],
      properties: {
        type: { type: 'string', enum: ['Collection'] },
        stac_version: ref('schemas', 'stac_version'),
        stac_extensions: ref('schemas', 'stac_extensions'),
        id: { type: 'string' },
        title: { type: 'string' },
        description: { type: 'string' },
        keywords: { type: 'array', items: { type: 'string' } },
        license: { type: 'string' },
        extent: ref('schemas', 'extent'),
        summaries: { type: 'object' },
        links: ref('schemas', 'links'),
      },
    },
    collections: {
      type: 'object',
      required: ['collections', 'links'],
      properties: {
        collections: { type: 'array', items: ref('schemas', 'collection') },
        links: ref('schemas', 'links'),
        numberMatched: { type: 'integer', minimum: 0 },
        numberReturned: { type: 'integer', minimum: 0 },
      },
    },
    queryables: {
      type: 'object',
      description: 'A JSON Schema (draft 2019-09) of the properties a filter may name (OGC API - Features Part 3 §6.2).',
    },
  };
}

/** Items; `itemFields` is an item as the fields extension may shape it (any member may be left out). */
function itemSchemas(): Record<string, Json> {
  const instant = { type: 'string', format: 'date-time', nullable: true };
  return {
    asset: {
      type: 'object',
      required: ['href'],
      description: 'An asset. Assets Skyport holds point at its protected download route (assets:read).',
      properties: {
        href: { type: 'string', format: 'uri-reference' },
        title: { type: 'string' },
        description: { type: 'string' },
        type: { type: 'string' },
        roles: { type: 'array', items: { type: 'string' } },
      },
    },
    itemFields: {
      type: 'object',
      description: 'A STAC Item, or with the fields extension only the members selected (by default every member an Item requires).',
      properties: {
        type: { type: 'string', enum: ['Feature'] },
        stac_version: ref('schemas', 'stac_version'),
        stac_extensions: ref('schemas', 'stac_extensions'),
        id: { type: 'string', description: 'Provider identifier, unique within the collection.' },
        collection: { type: 'string' },
        // STAC allows a null geometry (then no bbox); OpenAPI 3.0 spells null this way.
        geometry: { oneOf: [ref('schemas', 'geometryGeoJSON'), { type: 'object', nullable: true, enum: [null] }] },
        bbox: ref('schemas', 'bbox'),
        properties: { type: 'object', properties: { datetime: instant, start_datetime: instant, end_datetime: instant } },
        links: ref('schemas', 'links'),
        assets: { type: 'object', additionalProperties: ref('schemas', 'asset') },
      },
    },
    item: {
      description: 'A STAC Item: a GeoJSON Feature (RFC 7946 §3.2) with STAC fields.',
      allOf: [
        ref('schemas', 'itemFields'),
        {
          type: 'object',
          required: ['type', 'stac_version', 'id', 'geometry', 'properties', 'links', 'assets'],
          properties: { properties: { type: 'object', required: ['datetime'] } },
        },
      ],
    },
    itemCollection: {
      type: 'object',
      description: 'A STAC ItemCollection (GeoJSON FeatureCollection) of one page.',
      required: ['type', 'features', 'links'],
      properties: {
        type: { type: 'string', enum: ['FeatureCollection'] },
        features: { type: 'array', items: ref('schemas', 'itemFields') },
        links: ref('schemas', 'links'),
        numberMatched: { type: 'integer', minimum: 0, description: 'Items matching the search; omitted above the server counting limit.' },
        numberReturned: { type: 'integer', minimum: 0, description: 'Items in `features`.' },
      },
    },
  };
}

function searchSchemas(limits: OpenApiLimits | undefined): Record<string, Json> {
  const list = (what: string): Json => ({ type: 'array', maxItems: 1000, items: { type: 'string' }, description: what });
  const scalar = { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };
  const op = (description: string, schema: Json = scalar): Json => ({ ...schema, description });
  return {
    ids: list('Array of Item ids to return.'),
    collectionsArray: list('Array of Collection IDs to include in the search for items. Only items in one of them are searched.'),
    limit: { ...limitSchema(limits), description: 'Page size. A value above the maximum returns the maximum, not an error.' },
    token: { type: 'string', description: 'Opaque paging token from a `next` link; send it only with the other parameters unchanged.' },
    sortby: {
      type: 'array',
      description: `Sort keys, most significant first (default: datetime descending). Sortable fields: ${SORTABLES.join(', ')}.`,
      minItems: 1,
      items: {
        type: 'object',
        required: ['field'],
        properties: { field: { type: 'string' }, direction: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } },
      },
      example: [{ field: 'properties.eo:cloud_cover', direction: 'asc' }],
    },
    fields: {
      type: 'object',
      description:
        'Members to include in or exclude from each item (dotted paths; a bare name means `properties.<name>`). ' +
        'A field both included and excluded is excluded.',
      properties: { include: { type: 'array', items: { type: 'string' } }, exclude: { type: 'array', items: { type: 'string' } } },
      example: { include: ['id', 'properties.eo:cloud_cover'], exclude: ['geometry'] },
    },
    filter: {
      description: 'A CQL2 expression (OGC 21-065): a cql2-json object or a cql2-text string.',
      oneOf: [
        { type: 'object', description: 'cql2-json' },
        { type: 'string', description: 'cql2-text' },
      ],
      example: { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] },
    },
    'filter-lang': {
      type: 'string',
      enum: ['cql2-text', 'cql2-json'],
      description: 'Encoding of `filter`. Default: cql2-text on GET; on POST cql2-json, or cql2-text when `filter` is a string.',
    },
    'filter-crs': { type: 'string', format: 'uri', enum: [CRS84], default: CRS84, description: 'CRS of the geometries in `filter`.' },
    queryProp: {
      type: 'object',
      description: 'Operators on one property, ANDed. Strings compare case-sensitively.',
      additionalProperties: false,
      properties: {
        eq: op('Equal to the value.'),
        neq: op('Not equal to the value.'),
        lt: op('Less than the value.'),
        lte: op('Less than or equal to the value.'),
        gt: op('Greater than the value.'),
        gte: op('Greater than or equal to the value.'),
        startsWith: op('Begins with the string.', { type: 'string' }),
        endsWith: op('Ends with the string.', { type: 'string' }),
        contains: op('Contains the string.', { type: 'string' }),
        in: op('Equal to one of the values.', { type: 'array', minItems: 1, items: scalar }),
      },
    },
    query: {
      type: 'object',
      description: 'Query extension: property name → operators; every predicate must hold. Combined with `filter` by AND.',
      additionalProperties: ref('schemas', 'queryProp'),
      example: { 'eo:cloud_cover': { lt: 10 }, platform: { in: ['skyport-1', 'skyport-2'] } },
    },
    q: {
      description: 'Free-text search: items whose title, description or keywords contain any term (case-insensitive).',
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      example: ['thermal', 'temperature'],
    },
    searchBody: searchBodySchema(limits),
  };
}

function searchBodySchema(limits: OpenApiLimits | undefined): Json {
  const names = ['ids', 'limit', 'token', 'sortby', 'fields', 'filter', 'filter-lang', 'filter-crs', 'query', 'q'];
  return {
    type: 'object',
    description: 'The search criteria (the same names as the GET parameters). `bbox` and `intersects` cannot be combined.',
    properties: {
      bbox: ref('schemas', 'bbox'),
      intersects: ref('schemas', 'geometryGeoJSON'),
      datetime: ref('schemas', 'datetime_interval'),
      collections: ref('schemas', 'collectionsArray'),
      ...Object.fromEntries(names.map((n) => [n, ref('schemas', n)])),
    },
    example: {
      collections: ['skyport-lst'],
      bbox: [5.9, 45.8, 10.5, 47.8],
      datetime: '2024-01-01T00:00:00Z/..',
      limit: limitExample(limits),
      sortby: [{ field: 'datetime', direction: 'desc' }],
      filter: { op: '<', args: [{ property: 'eo:cloud_cover' }, 20] },
      'filter-lang': 'cql2-json',
    },
  };
}

function limitSchema(limits: OpenApiLimits | undefined, defaultLimit = limits?.defaultLimit): Json {
  return limits ? { type: 'integer', minimum: 1, maximum: limits.maxLimit, default: defaultLimit } : { type: 'integer', minimum: 1 };
}

// An example must lie within the schema, and SKYPORT_SEARCH_MAX_LIMIT may be below 10.
const limitExample = (limits: OpenApiLimits | undefined): number => Math.min(10, limits?.maxLimit ?? 10);

/** A query parameter described by `schema` (with `style`/`example` in `extra`). */
function query(name: string, description: string, schema: Json, extra: Json = {}): Json {
  return { name, in: 'query', required: false, description, schema, ...extra };
}

/** A query parameter whose value is JSON text: `content`, with the example there (OpenAPI 3.0.3 §4.7.12.2). */
function jsonQuery(name: string, description: string, schema: Json, example: unknown): Json {
  return { name, in: 'query', required: false, description, content: { [JSON_TYPE]: { schema, example } } };
}

const FORM_LIST = { style: 'form', explode: false };

function itemParameters(limits: OpenApiLimits | undefined): Record<string, Json> {
  const max = limits ? ` Default ${limits.defaultLimit}, maximum ${limits.maxLimit}.` : '';
  return {
    bbox: query(
      'bbox',
      'Only items whose geometry intersects the bounding box are selected: west,south,east,north (or with minimum and ' +
        `maximum heights as third and sixth numbers) in WGS 84 longitude/latitude (${CRS84}). West > east crosses the antimeridian.`,
      ref('schemas', 'bbox'),
      { ...FORM_LIST, example: [160.6, -55.95, -170, -25.89] },
    ),
    intersects: jsonQuery(
      'intersects',
      'Only items whose geometry intersects this GeoJSON geometry (JSON text) are selected. Not with `bbox`.',
      ref('schemas', 'geometryGeoJSON'),
      { type: 'Point', coordinates: [8.55, 47.37] },
    ),
    datetime: query(
      'datetime',
      'Either a date-time or an interval, open or closed, in RFC 3339. Open ends are `..` (or empty). Examples: ' +
        '`2018-02-12T23:20:50Z`, `2018-02-12T00:00:00Z/2018-03-18T12:31:12Z`, `2018-02-12T00:00:00Z/..`. Only items whose ' +
        'time intersects it are selected.',
      { type: 'string' },
      { example: '2018-02-12T00:00:00Z/..' },
    ),
    limit: query(
      'limit',
      `The number of items to return in one page. A value above the maximum returns the maximum, not an error.${max}`,
      limitSchema(limits),
      { example: limitExample(limits) },
    ),
    ids: query('ids', 'Comma-separated list of item ids to return.', ref('schemas', 'ids'), {
      ...FORM_LIST,
      example: ['scene-1', 'scene-2'],
    }),
    collections: query(
      'collections',
      'Comma-separated list of collection ids; only items in one of them are searched.',
      ref('schemas', 'collectionsArray'),
      {
        ...FORM_LIST,
        example: ['skyport-lst'],
      },
    ),
    token: query('token', 'Paging token from the `next` link of the previous page (opaque).', ref('schemas', 'token')),
    sortby: query(
      'sortby',
      `**Extension:** Sort. Comma-separated field names, each prefixed by "+" (ascending, the default) or "-" (descending). ` +
        `Default order: -datetime. Sortable fields: ${SORTABLES.join(', ')}.`,
      { type: 'string' },
      { example: '-datetime,+id' },
    ),
    fields: query(
      'fields',
      '**Extension:** Fields. Comma-separated members to include, or to exclude when prefixed by "-" (dotted paths; a bare ' +
        'name means `properties.<name>`). Determines the shape of the features in the response.',
      { type: 'string' },
      { example: 'id,properties.eo:cloud_cover,-geometry' },
    ),
    ...filterParameters(),
  };
}

function filterParameters(): Record<string, Json> {
  return {
    filter: query(
      'filter',
      '**Extension:** Filter. A CQL2 expression for filtering items, in cql2-text (default) or, with `filter-lang=cql2-json`, as JSON text.',
      { type: 'string' },
      { example: "eo:cloud_cover < 10 AND platform = 'skyport-1'" },
    ),
    'filter-lang': query(
      'filter-lang',
      '**Extension:** Filter. The encoding of `filter`: cql2-text (default on GET) or cql2-json.',
      ref('schemas', 'filter-lang'),
      {
        example: 'cql2-text',
      },
    ),
    'filter-crs': query(
      'filter-crs',
      `**Extension:** Filter. The CRS of geometries in \`filter\`; only ${CRS84} is accepted.`,
      ref('schemas', 'filter-crs'),
      {
        example: CRS84,
      },
    ),
    query: jsonQuery('query', '**Extension:** Query. Property predicates as JSON text, the form used in POST.', ref('schemas', 'query'), {
      'eo:cloud_cover': { lt: 10 },
    }),
    q: query(
      'q',
      '**Extension:** Free text. Comma-separated terms; items whose title, description or keywords contain any term (case-insensitive) are selected.',
      { type: 'string' },
      { example: 'thermal,temperature' },
    ),
  };
}

function otherParameters(limits: OpenApiLimits | undefined): Record<string, Json> {
  const path = (name: string, description: string): Json => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
  return {
    collectionId: path('collectionId', 'Local identifier of a collection.'),
    itemId: path('itemId', 'Local identifier of an item in the collection.'),
    assetKey: path('assetKey', 'Key of the asset in the item’s `assets`.'),
    collectionsBbox: query(
      'bbox',
      'Only collections whose spatial extent intersects the bounding box (west,south,east,north in WGS 84 longitude/latitude) are selected.',
      ref('schemas', 'bbox'),
      { ...FORM_LIST, example: [5.9, 45.8, 10.5, 47.8] },
    ),
    collectionsDatetime: query(
      'datetime',
      'Only collections whose temporal extent intersects the date-time or interval (RFC 3339; open ends `..`) are selected.',
      { type: 'string' },
      { example: '2024-01-01T00:00:00Z/..' },
    ),
    collectionsQ: query(
      'q',
      'Free text: collections whose id, title, description or keywords contain any comma-separated term (case-insensitive).',
      { type: 'string' },
      { example: 'thermal,temperature' },
    ),
    collectionsLimit: query(
      'limit',
      `The number of collections to return in one page; a value above the maximum returns the maximum.${limits ? ` Default and maximum ${limits.maxLimit}.` : ''}`,
      limitSchema(limits, limits?.maxLimit),
      { example: limitExample(limits) },
    ),
    collectionsToken: query('token', 'Paging token from the `next` link of the previous page (opaque).', { type: 'string' }),
    Range: {
      name: 'Range',
      in: 'header',
      required: false,
      description: 'One byte range (RFC 9110 §14.2), e.g. `bytes=0-16383`; several ranges are answered with the whole asset.',
      schema: { type: 'string' },
    },
    'If-Range': {
      name: 'If-Range',
      in: 'header',
      required: false,
      description: 'An ETag or date: the range is served only if the asset is unchanged, the whole asset otherwise (RFC 9110 §13.1.5).',
      schema: { type: 'string' },
    },
  };
}

function responses(): Record<string, Json> {
  const challenge = {
    'WWW-Authenticate': {
      description: `The RFC 6750 §3 challenge, e.g. \`Bearer realm="${REALM}", error="invalid_token", error_description="…"\`.`,
      required: true,
      schema: { type: 'string' },
    },
  };
  const error = (description: string, headers?: Json): Json => ({
    description,
    ...(headers ? { headers } : {}),
    content: json(ref('schemas', 'exception')),
  });
  return {
    BadRequest: error('A query parameter or the body is invalid, or the access token was sent other than in the Authorization header.', {
      'WWW-Authenticate': {
        description: 'Present when the token was sent the wrong way (`error="invalid_request"`).',
        schema: { type: 'string' },
      },
    }),
    Unauthorized: error('No access token, or the token is invalid, expired or revoked (`error="invalid_token"`).', challenge),
    Forbidden: error('The access token lacks the required permission (`error="insufficient_scope"`, `scope` names it).', challenge),
    NotFound: error('The resource does not exist, or the caller’s organization may not see it (both answer alike).'),
    ServerError: error('A server error.'),
  };
}

interface OperationSpec {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  permission?: Permission;
  parameters?: string[];
  requestBody?: Json;
  ok: Record<string, Json>;
  notFound?: boolean;
}

function operation(o: OperationSpec): Json {
  const r = (name: string) => ref('responses', name);
  return {
    operationId: o.operationId,
    summary: o.summary,
    ...(o.description ? { description: o.description } : {}),
    tags: o.tags,
    security: security(o.permission ?? 'catalog:read'),
    ...(o.parameters ? { parameters: o.parameters.map((p) => ref('parameters', p)) } : {}),
    ...(o.requestBody ? { requestBody: o.requestBody } : {}),
    responses: {
      ...o.ok,
      '400': r('BadRequest'),
      '401': r('Unauthorized'),
      '403': r('Forbidden'),
      ...(o.notFound ? { '404': r('NotFound') } : {}),
      '500': r('ServerError'),
    },
  };
}

const ITEM_FILTERS = [
  'bbox',
  'intersects',
  'datetime',
  'limit',
  'token',
  'sortby',
  'fields',
  'filter',
  'filter-lang',
  'filter-crs',
  'query',
  'q',
];
/** The GET `/search` parameters: the item filters plus `ids` and `collections` (search-params.ts `parseSearch`). */
export const SEARCH_PARAMETERS: readonly string[] = [...ITEM_FILTERS, 'ids', 'collections'];

function corePaths(): Json {
  const ok = (description: string, schema: string, type = JSON_TYPE): Record<string, Json> => ({
    '200': { description, content: json(ref('schemas', schema), type) },
  });
  const queryables = ok('A JSON Schema of the queryables.', 'queryables', 'application/schema+json');
  return {
    '/': {
      get: operation({
        operationId: 'getLandingPage',
        summary: 'Landing page',
        description: 'Links to the API definition (`service-desc`), conformance, collections, search and queryables.',
        tags: ['Core'],
        ok: ok('The landing page (a STAC Catalog with `conformsTo`).', 'landingPage'),
      }),
    },
    '/conformance': {
      get: operation({
        operationId: 'getConformanceDeclaration',
        summary: 'Conformance classes this server implements',
        tags: ['Core'],
        ok: ok('The conformance classes (the same list as the landing page’s `conformsTo`).', 'conformanceClasses'),
      }),
    },
    '/api': {
      get: operation({
        operationId: 'getOpenApi',
        summary: 'This API definition (OpenAPI 3.0)',
        tags: ['Core'],
        ok: { '200': { description: 'The OpenAPI 3.0 document.', content: json({ type: 'object' }, OPENAPI_MEDIA_TYPE) } },
      }),
    },
    '/queryables': {
      get: operation({
        operationId: 'getQueryables',
        summary: 'Queryables for filters across all collections',
        description: 'The properties a CQL2 filter may name (OGC API - Features Part 3); other item properties may be filtered too.',
        tags: ['Filter'],
        ok: queryables,
      }),
    },
    '/collections/{collectionId}/queryables': {
      get: operation({
        operationId: 'getQueryablesForCollection',
        summary: 'Queryables for filters on one collection',
        tags: ['Filter'],
        parameters: ['collectionId'],
        ok: queryables,
        notFound: true,
      }),
    },
  };
}

function collectionPaths(): Json {
  return {
    '/collections': {
      get: operation({
        operationId: 'getCollections',
        summary: 'The collections the caller’s organization may see',
        description: 'Collection search: `bbox` and `datetime` match collection extents; `q` matches id, title, description and keywords.',
        tags: ['Collections'],
        parameters: ['collectionsBbox', 'collectionsDatetime', 'collectionsQ', 'collectionsLimit', 'collectionsToken'],
        ok: { '200': { description: 'A page of collections.', content: json(ref('schemas', 'collections')) } },
      }),
    },
    '/collections/{collectionId}': {
      get: operation({
        operationId: 'describeCollection',
        summary: 'Describe the collection with id `collectionId`',
        tags: ['Collections'],
        parameters: ['collectionId'],
        ok: { '200': { description: 'The collection.', content: json(ref('schemas', 'collection')) } },
        notFound: true,
      }),
    },
  };
}

function itemPaths(): Json {
  const page: Record<string, Json> = {
    '200': { description: 'A page of items.', content: json(ref('schemas', 'itemCollection'), GEOJSON) },
  };
  return {
    '/collections/{collectionId}/items': {
      get: operation({
        operationId: 'getFeatures',
        summary: 'Fetch the items of a collection',
        description: 'Items of the collection with id `collectionId`, filtered and sorted like `/search`; `next` links page on.',
        tags: ['Features'],
        parameters: ['collectionId', ...ITEM_FILTERS],
        ok: page,
        notFound: true,
      }),
    },
    '/collections/{collectionId}/items/{itemId}': {
      get: operation({
        operationId: 'getFeature',
        summary: 'Fetch a single item',
        tags: ['Features'],
        parameters: ['collectionId', 'itemId'],
        ok: { '200': { description: 'The item.', content: json(ref('schemas', 'item'), GEOJSON) } },
        notFound: true,
      }),
    },
    '/search': {
      get: operation({
        operationId: 'getItemSearch',
        summary: 'Search items with simple filtering',
        description: 'Items matching every given criterion across the collections the caller’s organization may see.',
        tags: ['Item Search'],
        parameters: [...SEARCH_PARAMETERS],
        ok: page,
      }),
      post: operation({
        operationId: 'postItemSearch',
        summary: 'Search items with full-featured filtering',
        description: 'As `GET /search`, with a JSON body; the `next` link is a POST carrying the whole body with a new `token`.',
        tags: ['Item Search'],
        requestBody: { required: false, content: json(ref('schemas', 'searchBody')) },
        ok: page,
      }),
    },
  };
}

function assetPaths(): Json {
  const binary = { '*/*': { schema: { type: 'string', format: 'binary' } } };
  const header = (description: string): Json => ({ description, required: true, schema: { type: 'string' } });
  return {
    '/collections/{collectionId}/items/{itemId}/assets/{assetKey}': {
      get: operation({
        operationId: 'getAsset',
        summary: 'Download an asset Skyport holds',
        description:
          'Streams the asset, whole or one byte range (a Cloud-Optimized GeoTIFF reader reads windows). Remote assets keep ' +
          'their own href and are not served here (404).',
        tags: ['Assets'],
        permission: 'assets:read',
        parameters: ['collectionId', 'itemId', 'assetKey', 'Range', 'If-Range'],
        ok: {
          '200': {
            description: 'The whole asset, with the asset’s media type.',
            headers: { 'Accept-Ranges': header('`bytes`'), ETag: header('Entity tag, for `If-Range`.') },
            content: binary,
          },
          '206': {
            description: 'The requested byte range.',
            headers: { 'Content-Range': header('`bytes <first>-<last>/<size>`') },
            content: binary,
          },
          '304': { description: 'Not modified (`If-None-Match` / `If-Modified-Since`).' },
          '416': {
            description: 'The range lies outside the asset.',
            headers: { 'Content-Range': header('`bytes */<size>`') },
            content: json(ref('schemas', 'exception')),
          },
        },
        notFound: true,
      }),
    },
  };
}

/**
 * The OpenAPI 3.0.3 document of the Data API whose base URL is `publicUrl` (no trailing slash): servers,
 * security schemes (OAuth 2.0 client credentials at `<publicUrl>/oauth2/token`, bearer JWT), every
 * catalog path with its parameters, responses and schemas. `limits` sets the advertised page sizes.
 * Returns a new plain object on each call; throws nothing.
 */
export function openapiDocument(publicUrl: string, limits?: OpenApiLimits): Json {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Skyport Data API',
      version: '1.0.0',
      description:
        'STAC API v1.0.0 (core, collections, features, item search; filter, sort, fields, query, free-text and collection-search ' +
        'extensions) over the catalog of this Skyport deployment. Every request needs a bearer access token.',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    servers: [{ url: publicUrl }],
    security: security('catalog:read'),
    tags: ['Core', 'Collections', 'Features', 'Item Search', 'Filter', 'Assets'].map((name) => ({ name })),
    paths: { ...corePaths(), ...collectionPaths(), ...itemPaths(), ...assetPaths() },
    components: {
      securitySchemes: securitySchemes(publicUrl),
      parameters: { ...itemParameters(limits), ...otherParameters(limits) },
      responses: responses(),
      schemas: { ...commonSchemas(), ...geometrySchemas(), ...resourceSchemas(), ...itemSchemas(), ...searchSchemas(limits) },
    },
  };
}

/**
 * Registers `GET /api` (catalog:read, Data API error bodies) answering `openapiDocument(publicUrl, limits)`
 * as `application/vnd.oai.openapi+json;version=3.0`. The document is built and serialized once per app.
 */
export async function openapiRoutes(
  app: FastifyInstance,
  deps: { publicUrl: string; guard: (p: Permission) => preValidationAsyncHookHandler; limits?: OpenApiLimits },
): Promise<void> {
  // A Buffer: fastify sends its content type as set, not rewritten to `version="3.0"; charset=utf-8` (JSON is UTF-8 anyway).
  const body = Buffer.from(JSON.stringify(openapiDocument(deps.publicUrl, deps.limits)));
  const opts = { preValidation: deps.guard('catalog:read'), config: { errorStyle: 'data' as const } };
  app.get('/api', opts, async (_req, reply) => reply.type(OPENAPI_MEDIA_TYPE).send(body));
}
