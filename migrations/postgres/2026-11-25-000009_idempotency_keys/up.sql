-- Idempotency-Key: the first response to a POST with a key, replayed to retries of the same
-- request by the same caller. Keep this file identical in meaning to the other backend's.
CREATE TABLE idempotency_keys (
    id TEXT PRIMARY KEY NOT NULL,
    caller TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT,
    response_headers TEXT,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX idempotency_keys_caller_key ON idempotency_keys (caller, idempotency_key);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
