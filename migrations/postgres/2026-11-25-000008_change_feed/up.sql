-- The change feed reads the change log in commit order. On PostgreSQL sequence numbers are taken
-- when a row is inserted, not when its transaction commits, so a reader ordering by `seq` alone
-- could pass a number that a still-open transaction later commits. Each row therefore records the
-- id of the transaction that wrote it; the feed serves only rows of transactions older than the
-- oldest one still running, ordered by (txid, seq).
ALTER TABLE changes ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX changes_feed_idx ON changes (txid, seq);
