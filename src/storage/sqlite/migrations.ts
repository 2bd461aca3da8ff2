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
];
