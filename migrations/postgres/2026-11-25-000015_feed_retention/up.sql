-- The change log is kept for a retention period (`change_retention_days`); older changes are
-- pruned. Each prune records the last feed position it removed, so a cursor at or before that
-- position is known to have missed changes and is answered with 410 Gone instead of a silent gap.
CREATE TABLE change_prunes (
    id TEXT PRIMARY KEY NOT NULL,
    through_txid BIGINT NOT NULL,
    through_seq BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    pruned_at TIMESTAMP NOT NULL
);
CREATE INDEX change_prunes_position_idx ON change_prunes (through_txid, through_seq);
CREATE INDEX changes_occurred_at_idx ON changes (occurred_at);
