-- Access: sign-in accounts, API clients, role grants, and the audit trail.
-- Keep this file column-for-column identical in meaning to the same migration of the other backend.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE RESTRICT,
    username TEXT,
    password_hash TEXT,
    external_subject TEXT,
    disabled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_person_id_key ON accounts (person_id);
CREATE UNIQUE INDEX accounts_username_key ON accounts (username);
CREATE UNIQUE INDEX accounts_external_subject_key ON accounts (external_subject);

CREATE TABLE api_clients (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX api_clients_client_id_key ON api_clients (client_id);

CREATE TABLE grants (
    id TEXT PRIMARY KEY NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('person', 'client')),
    subject_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('district_admin', 'council_staff', 'family', 'partner')),
    council_id TEXT REFERENCES councils (id) ON DELETE RESTRICT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((role = 'council_staff') = (council_id IS NOT NULL))
);
CREATE INDEX grants_subject_idx ON grants (subject_kind, subject_id);
CREATE UNIQUE INDEX grants_unique_key ON grants (subject_kind, subject_id, role, council_id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('anonymous', 'person', 'client')),
    actor_id TEXT,
    roles TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    resource_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
    status BIGINT NOT NULL,
    request_id TEXT,
    client_address TEXT,
    user_agent TEXT
);
CREATE INDEX audit_events_resource_idx ON audit_events (resource, resource_id, id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, id);
CREATE INDEX audit_events_attempts_idx ON audit_events (action, resource_id, occurred_at);
