-- Webhook subscriptions, the events queued for each, and every delivery attempt. Keep this file
-- identical in meaning to the other backend's.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    -- Space-separated event type patterns (`council.updated`, `meeting.*`, `*`).
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- The secret before the last rotation; deliveries are signed with both until it expires.
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    active BOOLEAN NOT NULL,
    disabled_reason TEXT,
    disabled_at TIMESTAMP,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('person', 'client', 'system')),
    owner_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

-- Where each subscription is in the change log, and which instance works on it now (a lease, so
-- that with several instances each event is sent once per attempt). Kept apart from `webhooks`
-- so that the worker's progress is no change of the subscription itself.
CREATE TABLE webhook_cursors (
    webhook_id TEXT PRIMARY KEY NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    after_txid BIGINT NOT NULL,
    after_seq BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP
);

-- One event for one subscription: its `webhook-id`, the exact body sent on every attempt, and
-- where its retries stand.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    change_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL,
    failures_in_row BIGINT NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_status_code BIGINT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE UNIQUE INDEX webhook_deliveries_change ON webhook_deliveries (webhook_id, change_seq);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, state, id);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    instance TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
