-- Connections, job runs, snapshots, the temporal catalog and its changes.
--
-- Catalog rows are versioned: a row is part of every snapshot id in
-- [valid_from, valid_to), and valid_to IS NULL marks the current version.
-- Snapshot ids grow across all connections and are never reused.

CREATE TABLE connections (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    driver      TEXT NOT NULL,
    description TEXT,
    created_at  TEXT NOT NULL
);

-- Subjects (JWT `sub`) allowed to refresh and read one connection.
CREATE TABLE data_administrators (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    granted_at    TEXT NOT NULL,
    PRIMARY KEY (connection_id, subject)
);

CREATE TABLE job_runs (
    id            INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    job_type      TEXT NOT NULL DEFAULT 'CRAWL_METADATA',
    user_id       TEXT,
    status        TEXT NOT NULL
                  CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'SKIPPED')),
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    ended_at      TEXT,
    error         TEXT,
    summary       TEXT,
    snapshot_id   INTEGER,
    -- HOST:PID of the process running it, to recognise runs whose process died.
    worker        TEXT
);

-- At most one queued or running job run per connection, whoever inserts it.
CREATE UNIQUE INDEX job_runs_one_active_per_connection
    ON job_runs (connection_id) WHERE status IN ('QUEUED', 'RUNNING');
CREATE INDEX job_runs_by_connection ON job_runs (connection_id, id);

CREATE TABLE snapshots (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id  INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    job_run_id     INTEGER REFERENCES job_runs (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    database_count INTEGER NOT NULL,
    schema_count   INTEGER NOT NULL,
    table_count    INTEGER NOT NULL,
    column_count   INTEGER NOT NULL,
    change_count   INTEGER NOT NULL,
    warnings       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX snapshots_by_connection ON snapshots (connection_id, id);

CREATE TABLE catalog_databases (
    row_id        INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    stable_id     TEXT,
    valid_from    INTEGER NOT NULL,
    valid_to      INTEGER
);
CREATE INDEX catalog_databases_by_version
    ON catalog_databases (connection_id, valid_from, valid_to);

CREATE TABLE catalog_schemas (
    row_id        INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    database      TEXT NOT NULL,
    name          TEXT NOT NULL,
    stable_id     TEXT,
    comment       TEXT,
    valid_from    INTEGER NOT NULL,
    valid_to      INTEGER
);
CREATE INDEX catalog_schemas_by_version
    ON catalog_schemas (connection_id, valid_from, valid_to);

-- table_key identifies a table across its versions, renames included.
CREATE TABLE catalog_tables (
    row_id           INTEGER PRIMARY KEY,
    table_key        INTEGER NOT NULL,
    connection_id    INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    database         TEXT NOT NULL,
    schema           TEXT NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    stable_id        TEXT,
    comment          TEXT,
    definition       TEXT,
    partition_parent TEXT,
    partition_parent_schema TEXT,
    partition_bound  TEXT,
    last_altered     TEXT,
    version          TEXT,
    fingerprint      INTEGER NOT NULL,
    valid_from       INTEGER NOT NULL,
    valid_to         INTEGER
);
CREATE INDEX catalog_tables_current
    ON catalog_tables (connection_id, database, schema) WHERE valid_to IS NULL;
CREATE INDEX catalog_tables_by_version
    ON catalog_tables (connection_id, valid_from, valid_to);
CREATE INDEX catalog_tables_by_key ON catalog_tables (table_key);

CREATE TABLE catalog_columns (
    row_id          INTEGER PRIMARY KEY,
    table_key       INTEGER NOT NULL,
    connection_id   INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    ordinal         INTEGER NOT NULL,
    data_type       TEXT NOT NULL,
    normalized_type TEXT NOT NULL,
    base_type       TEXT,
    nullable        INTEGER NOT NULL,
    default_value   TEXT,
    comment         TEXT,
    identity        TEXT,
    generated       TEXT,
    primary_key     INTEGER NOT NULL,
    field_path      TEXT,
    stable_id       TEXT,
    valid_from      INTEGER NOT NULL,
    valid_to        INTEGER
);
CREATE INDEX catalog_columns_by_table ON catalog_columns (table_key, valid_to);
CREATE INDEX catalog_columns_by_version
    ON catalog_columns (connection_id, valid_from, valid_to);

CREATE TABLE changes (
    id            INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    snapshot_id   INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    database      TEXT NOT NULL,
    schema        TEXT,
    table_name    TEXT,
    column_name   TEXT,
    before        TEXT,
    after         TEXT,
    breaking      INTEGER NOT NULL
);
CREATE INDEX changes_by_snapshot ON changes (connection_id, snapshot_id);
