/** Versioned schema of the PostgreSQL store. Append only: never edit a migration that has shipped. */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: foundation — organizations, clients, secrets, keys, revocations, audit, minimal catalog
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE organizations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL
  );
  CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    root_scope TEXT NOT NULL CHECK (root_scope IN ('admin','tasking','read-only')),
    permissions TEXT NOT NULL,
    is_root BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by TEXT,
    tokens_revoked_at BIGINT
  );
  CREATE INDEX clients_org ON clients(org_id);
  CREATE TABLE client_secrets (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    hash TEXT NOT NULL, hint TEXT NOT NULL,
    created_at BIGINT NOT NULL, expires_at BIGINT
  );
  CREATE INDEX client_secrets_client ON client_secrets(client_id);
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, public_jwk TEXT NOT NULL, private_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('next','current','retired')),
    created_at BIGINT NOT NULL, activated_at BIGINT, retired_at BIGINT, publish_until BIGINT
  );
  CREATE TABLE revocations (
    kind TEXT NOT NULL, subject TEXT NOT NULL, not_before BIGINT NOT NULL,
    expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL
  );
  CREATE INDEX revocations_created ON revocations(created_at);
  CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, org_id TEXT, actor TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT, outcome TEXT NOT NULL, source_ip TEXT, details TEXT NOT NULL
  );
  CREATE INDEX audit_org ON audit_log(org_id, id);
  CREATE TABLE collections (
    id TEXT PRIMARY KEY, access TEXT NOT NULL CHECK (access IN ('open','licensed','private')),
    owner_org_id TEXT, body TEXT NOT NULL, updated_at BIGINT NOT NULL
  );
  CREATE TABLE collection_grants (
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, org_id)
  );
  `,
  // 2: catalog items — PostGIS geometry (GiST), JSONB properties, btree for the default sort (datetime desc, collection, id)
  `
  CREATE EXTENSION IF NOT EXISTS postgis;
  CREATE TABLE items (
    collection_id TEXT COLLATE "C" NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    id TEXT COLLATE "C" NOT NULL,
    dt BIGINT NOT NULL, dt_start BIGINT NOT NULL, dt_end BIGINT NOT NULL,
    cloud_cover DOUBLE PRECISION,
    minx DOUBLE PRECISION, miny DOUBLE PRECISION, maxx DOUBLE PRECISION, maxy DOUBLE PRECISION,
    geom geometry(Geometry, 4326),
    properties JSONB NOT NULL,
    content TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (collection_id, id)
  );
  CREATE INDEX items_geom ON items USING GIST (geom);
  CREATE INDEX items_dt ON items (dt DESC, collection_id, id);
  CREATE INDEX items_collection_dt ON items (collection_id, dt DESC, id);
  CREATE INDEX items_id ON items (id);
  `,
  // 3: the platform scope (catalog:write, platform:admin)
  `
  ALTER TABLE clients DROP CONSTRAINT IF EXISTS clients_root_scope_check;
  ALTER TABLE clients ADD CONSTRAINT clients_root_scope_check CHECK (root_scope IN ('admin','tasking','read-only','platform'));
  `,
  // 4: the index geometry of an item: 2D (footprints with heights are indexed flat), and made valid when
  // the published one is not (ST_MakeValid keeps all its linework; the served item keeps the original).
  `
  CREATE OR REPLACE FUNCTION sk_index_geometry(g text) RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ST_IsValid(x) THEN x ELSE ST_MakeValid(x) END
    FROM (SELECT ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)) AS x) s
  $$;
  `,
  // 5: tasking (STAPI orders) — element sets, orders + status history, idempotency keys, the scheduler's
  // lease, webhooks and their delivery log. JSON columns are TEXT, not JSONB: nothing
  // queries inside them, and TEXT returns the exact JSON written (JSONB reorders keys).
  // booked_* copy three fields of the booked pass (JSON in column booked) so conflict detection is indexed.
  `
  CREATE TABLE tle_sets (
    norad_id INTEGER PRIMARY KEY, name TEXT NOT NULL, line1 TEXT NOT NULL, line2 TEXT NOT NULL,
    epoch BIGINT NOT NULL, sensor TEXT NOT NULL CHECK (sensor IN ('optical','thermal')), loaded_at BIGINT NOT NULL
  );
  CREATE TABLE orders (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    geometry TEXT NOT NULL,
    window_start BIGINT NOT NULL, window_end BIGINT NOT NULL,
    order_parameters TEXT NOT NULL,
    filter TEXT,
    priority TEXT NOT NULL,
    price_minor BIGINT NOT NULL, currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received','accepted','rejected','scheduled','processing','completed','failed','cancelled','expired')),
    booked TEXT, booked_norad_id INTEGER, booked_start BIGINT, booked_end BIGINT,
    attempts INTEGER NOT NULL,
    next_action_at BIGINT,
    item_id TEXT,
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX orders_org_created ON orders (org_id, created_at DESC, id DESC);
  CREATE INDEX orders_next_action ON orders (next_action_at) WHERE next_action_at IS NOT NULL;
  CREATE INDEX orders_booked ON orders (booked_norad_id, booked_start) WHERE booked_norad_id IS NOT NULL;
  CREATE TABLE order_statuses (
    order_id TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    timestamp BIGINT NOT NULL,
    status_code TEXT NOT NULL,
    reason_code TEXT, reason_text TEXT,
    links TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
  );
  CREATE TABLE idempotency_keys (
    client_id TEXT NOT NULL, key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, key)
  );
  CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL);
  CREATE TABLE webhooks (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    url TEXT NOT NULL, secret TEXT NOT NULL, events TEXT NOT NULL,
    enabled BOOLEAN NOT NULL, created_at BIGINT NOT NULL
  );
  CREATE INDEX webhooks_org ON webhooks (org_id, created_at);
  CREATE TABLE webhook_deliveries (
    id TEXT COLLATE "C" PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL, event_type TEXT NOT NULL, payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','delivered','failed')),
    attempts INTEGER NOT NULL, next_attempt_at BIGINT,
    last_status INTEGER, last_error TEXT,
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
  CREATE INDEX webhook_deliveries_org ON webhook_deliveries (org_id, created_at DESC, id DESC);
  `,
  // 6: one GiST index over (collection, footprint, time range) for the common search (bbox + datetime +
  // collection): at 1M items it took a search from ~90 to ~3 ms (bench:catalog); btree_gist ships with PostgreSQL.
  `
  CREATE EXTENSION IF NOT EXISTS btree_gist;
  CREATE INDEX items_collection_geom_time ON items USING GIST (collection_id, geom, dt_start, dt_end);
  `,
  // 7: bulk-load costs (bench:catalog). items_id goes: searches by id always name the searchable
  // collections, so the primary key (collection_id, id) serves them. lz4 instead of pglz for the item
  // texts (several times faster to compress; skipped where the server was built without lz4). The GiST
  // over (collection, footprint, time) stays although btree_gist's text keys cost ~60 µs per insert:
  // without it (a GiST on footprint + time alone) the planner ANDed a whole-collection bitmap again and
  // the small search took ~100 ms at 1M items instead of a few (bench:catalog, 2026-11-29).
  `
  DROP INDEX IF EXISTS items_id;
  DO $$ BEGIN
    ALTER TABLE items ALTER COLUMN content SET COMPRESSION lz4, ALTER COLUMN properties SET COMPRESSION lz4;
  EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
  END $$;
  `,
  // 8: the items → collections foreign key checked every inserted row on its own (a row lock on the collection
  // per item: ~25 µs of a ~125 µs bulk insert, bench:catalog). Writers now lock the batch's collections once
  // (FOR KEY SHARE, what the check took per row) and refuse unknown ones; deleting a collection locks it
  // FOR UPDATE, which waits for those writers, then deletes its items and it (storage/postgres/catalog.ts).
  `
  ALTER TABLE items DROP CONSTRAINT IF EXISTS items_collection_id_fkey;
  `,
];
