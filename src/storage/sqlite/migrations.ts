/** Versioned schema of the embedded store. Append only: never edit a migration that has shipped. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: foundation — organizations, clients, secrets, keys, revocations, audit, minimal catalog
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE organizations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL
  );
  CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    root_scope TEXT NOT NULL CHECK (root_scope IN ('admin','tasking','read-only')),
    permissions TEXT NOT NULL,
    is_root INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    created_by TEXT,
    tokens_revoked_at INTEGER
  );
  CREATE INDEX clients_org ON clients(org_id);
  CREATE TABLE client_secrets (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    hash TEXT NOT NULL, hint TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER
  );
  CREATE INDEX client_secrets_client ON client_secrets(client_id);
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, public_jwk TEXT NOT NULL, private_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('next','current','retired')),
    created_at INTEGER NOT NULL, activated_at INTEGER, retired_at INTEGER, publish_until INTEGER
  );
  CREATE TABLE revocations (
    kind TEXT NOT NULL, subject TEXT NOT NULL, not_before INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL
  );
  CREATE INDEX revocations_created ON revocations(created_at);
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, org_id TEXT, actor TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT, outcome TEXT NOT NULL, source_ip TEXT, details TEXT NOT NULL
  );
  CREATE INDEX audit_org ON audit_log(org_id, id);
  CREATE TABLE collections (
    id TEXT PRIMARY KEY, access TEXT NOT NULL CHECK (access IN ('open','licensed','private')),
    owner_org_id TEXT, body TEXT NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE TABLE collection_grants (
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, org_id)
  );
  `,
  // 2: catalog items — derived columns for filters and sorting, R*Tree on bboxes kept by triggers
  `
  CREATE TABLE items (
    rid INTEGER PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    dt INTEGER NOT NULL, dt_start INTEGER NOT NULL, dt_end INTEGER NOT NULL,
    cloud_cover REAL,
    minx REAL, miny REAL, maxx REAL, maxy REAL,
    geometry TEXT,
    content TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (collection_id, id)
  );
  CREATE INDEX items_dt ON items (dt DESC, collection_id, id);
  CREATE INDEX items_collection_dt ON items (collection_id, dt DESC, id);
  CREATE INDEX items_id ON items (id);
  CREATE VIRTUAL TABLE items_rtree USING rtree(rid, minx, maxx, miny, maxy);
  CREATE TRIGGER items_rtree_insert AFTER INSERT ON items WHEN new.minx IS NOT NULL BEGIN
    INSERT INTO items_rtree VALUES (new.rid, new.minx, new.maxx, new.miny, new.maxy);
  END;
  CREATE TRIGGER items_rtree_update AFTER UPDATE OF minx, miny, maxx, maxy ON items BEGIN
    DELETE FROM items_rtree WHERE rid = old.rid;
    INSERT INTO items_rtree SELECT new.rid, new.minx, new.maxx, new.miny, new.maxy WHERE new.minx IS NOT NULL;
  END;
  CREATE TRIGGER items_rtree_delete AFTER DELETE ON items BEGIN
    DELETE FROM items_rtree WHERE rid = old.rid;
  END;
  `,
  // 3: the platform scope (catalog:write, platform:admin) — SQLite cannot alter a CHECK, so the clients
  // table is rebuilt (SQLite's documented procedure; migrate() runs it with foreign keys off).
  `
  CREATE TABLE clients_v3 (
    client_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    root_scope TEXT NOT NULL CHECK (root_scope IN ('admin','tasking','read-only','platform')),
    permissions TEXT NOT NULL,
    is_root INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    created_by TEXT,
    tokens_revoked_at INTEGER
  );
  INSERT INTO clients_v3 SELECT client_id, org_id, name, root_scope, permissions, is_root, enabled, created_at, updated_at, created_by, tokens_revoked_at FROM clients;
  DROP TABLE clients;
  ALTER TABLE clients_v3 RENAME TO clients;
  CREATE INDEX clients_org ON clients(org_id);
  `,
  // 4: tasking (STAPI orders) — element sets, orders + status history, idempotency keys, the scheduler's
  // lease, webhooks and their delivery log. JSON columns are TEXT (as everywhere in this store).
  // booked_* copy three fields of the booked pass (JSON in column booked) so conflict detection is indexed.
  `
  CREATE TABLE tle_sets (
    norad_id INTEGER PRIMARY KEY, name TEXT NOT NULL, line1 TEXT NOT NULL, line2 TEXT NOT NULL,
    epoch INTEGER NOT NULL, sensor TEXT NOT NULL CHECK (sensor IN ('optical','thermal')), loaded_at INTEGER NOT NULL
  );
  CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    geometry TEXT NOT NULL,
    window_start INTEGER NOT NULL, window_end INTEGER NOT NULL,
    order_parameters TEXT NOT NULL,
    filter TEXT,
    priority TEXT NOT NULL,
    price_minor INTEGER NOT NULL, currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received','accepted','rejected','scheduled','processing','completed','failed','cancelled','expired')),
    booked TEXT, booked_norad_id INTEGER, booked_start INTEGER, booked_end INTEGER,
    attempts INTEGER NOT NULL,
    next_action_at INTEGER,
    item_id TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX orders_org_created ON orders (org_id, created_at DESC, id DESC);
  CREATE INDEX orders_next_action ON orders (next_action_at) WHERE next_action_at IS NOT NULL;
  CREATE INDEX orders_booked ON orders (booked_norad_id, booked_start) WHERE booked_norad_id IS NOT NULL;
  CREATE TABLE order_statuses (
    order_id TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    status_code TEXT NOT NULL,
    reason_code TEXT, reason_text TEXT,
    links TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
  );
  CREATE TABLE idempotency_keys (
    client_id TEXT NOT NULL, key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, key)
  );
  CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    url TEXT NOT NULL, secret TEXT NOT NULL, events TEXT NOT NULL,
    enabled INTEGER NOT NULL, created_at INTEGER NOT NULL
  );
  CREATE INDEX webhooks_org ON webhooks (org_id, created_at);
  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL, event_type TEXT NOT NULL, payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','delivered','failed')),
    attempts INTEGER NOT NULL, next_attempt_at INTEGER,
    last_status INTEGER, last_error TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
  CREATE INDEX webhook_deliveries_org ON webhook_deliveries (org_id, created_at DESC, id DESC);
  `,
  // 5: searches by id always name the searchable collections, so UNIQUE (collection_id, id) serves them;
  // the id-only index cost every bulk-loaded item an extra B-tree insert.
  `
  DROP INDEX IF EXISTS items_id;
  `,
  // 6: the R*Tree gains time as a third dimension (dt_start … dt_end in days since 1970: float32 keeps a
  // fraction of a day at these magnitudes and the tree rounds outward). A bbox + datetime search then takes
  // only the candidates inside both (at 1M items a 10° box over all time gave ~1,500 candidate rows to
  // fetch for ~40 matches; bench:catalog). Rebuilt from the items table.
  `
  DROP TRIGGER IF EXISTS items_rtree_insert;
  DROP TRIGGER IF EXISTS items_rtree_update;
  DROP TRIGGER IF EXISTS items_rtree_delete;
  DROP TABLE IF EXISTS items_rtree;
  CREATE VIRTUAL TABLE items_rtree USING rtree(rid, minx, maxx, miny, maxy, mint, maxt);
  INSERT INTO items_rtree SELECT rid, minx, maxx, miny, maxy, dt_start / 86400000.0, dt_end / 86400000.0
    FROM items WHERE minx IS NOT NULL;
  CREATE TRIGGER items_rtree_insert AFTER INSERT ON items WHEN new.minx IS NOT NULL BEGIN
    INSERT INTO items_rtree VALUES (new.rid, new.minx, new.maxx, new.miny, new.maxy, new.dt_start / 86400000.0, new.dt_end / 86400000.0);
  END;
  CREATE TRIGGER items_rtree_update AFTER UPDATE OF minx, miny, maxx, maxy, dt_start, dt_end ON items BEGIN
    DELETE FROM items_rtree WHERE rid = old.rid;
    INSERT INTO items_rtree SELECT new.rid, new.minx, new.maxx, new.miny, new.maxy, new.dt_start / 86400000.0, new.dt_end / 86400000.0
      WHERE new.minx IS NOT NULL;
  END;
  CREATE TRIGGER items_rtree_delete AFTER DELETE ON items BEGIN
    DELETE FROM items_rtree WHERE rid = old.rid;
  END;
  `,
];
