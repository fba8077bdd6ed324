-- Family accounts by invitation, and third-party apps acting for families (OAuth 2.0
-- authorization code with PKCE, refresh tokens with rotation).

-- A single-use, expiring code staff give a family contact to open their account or reset its
-- password. Only the SHA-256 of the code is kept.
CREATE TABLE family_invitations (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id),
    code_hash TEXT NOT NULL,
    purpose TEXT NOT NULL,
    relationship TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX family_invitations_code_idx ON family_invitations (code_hash);
CREATE INDEX family_invitations_person_idx ON family_invitations (person_id);

-- A registered third-party app (an OAuth 2.0 client). `status`: pending (submitted by a
-- developer, awaiting a district admin), active, suspended.
CREATE TABLE oauth_apps (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    confidential BOOLEAN NOT NULL,
    secret_hash TEXT NULL,
    scopes TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_by TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX oauth_apps_client_id_idx ON oauth_apps (client_id);

-- What a family allowed an app to do. One grant in force per app and person.
CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES oauth_apps (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    revoked_at TIMESTAMP NULL,
    revoked_reason TEXT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX oauth_grants_in_force_idx ON oauth_grants (app_id, person_id)
    WHERE revoked_at IS NULL;
CREATE INDEX oauth_grants_person_idx ON oauth_grants (person_id);

-- Authorization codes: single-use (used_at set by one conditional update), short-lived.
CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id),
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);

-- Refresh tokens: each use rotates it (used_at set by one conditional update); presenting a
-- used one again revokes the grant.
CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id),
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);
CREATE INDEX oauth_refresh_tokens_grant_idx ON oauth_refresh_tokens (grant_id);

-- The app that acted for a person, on every audit event an app's token caused.
ALTER TABLE audit_events ADD COLUMN app_client_id TEXT NULL;
