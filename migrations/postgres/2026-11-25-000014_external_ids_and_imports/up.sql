-- External ids: the identifiers other systems (a student information system, a OneRoster
-- export) use for cogov's schools, people and councils. One value per system and kind of
-- record, and one value per system on each record. Keep this file identical in meaning to the
-- other backend's.
CREATE TABLE external_ids (
    id TEXT PRIMARY KEY NOT NULL,
    resource_kind TEXT NOT NULL CHECK (resource_kind IN ('school', 'person', 'council')),
    resource_id TEXT NOT NULL,
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX external_ids_value ON external_ids (resource_kind, system, value);
CREATE UNIQUE INDEX external_ids_resource ON external_ids (resource_kind, resource_id, system);

-- Roster imports: one job per upload, claimed once by one app instance (a versioned update).
CREATE TABLE imports (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    format TEXT NOT NULL CHECK (format IN ('oneroster', 'cogov')),
    dry_run BOOLEAN NOT NULL,
    on_error TEXT NOT NULL CHECK (on_error IN ('all_or_nothing', 'commit_good_rows')),
    system TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    payload BYTEA NOT NULL,
    created_by TEXT,
    created_count BIGINT NOT NULL,
    updated_count BIGINT NOT NULL,
    unchanged_count BIGINT NOT NULL,
    deleted_count BIGINT NOT NULL,
    error_count BIGINT NOT NULL,
    failure TEXT,
    claimed_by TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX imports_status_idx ON imports (status, created_at);

-- One result per data row of an import (file, line, what happened or why not).
CREATE TABLE import_rows (
    id TEXT PRIMARY KEY NOT NULL,
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    line BIGINT NOT NULL,
    sourced_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('create', 'update', 'unchanged', 'delete', 'error')),
    resource_id TEXT,
    field TEXT,
    message TEXT
);
CREATE INDEX import_rows_import_idx ON import_rows (import_id, id);
