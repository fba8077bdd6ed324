-- The change feed reads the change log in commit order. SQLite commits one writer at a time, so
-- the sequence is already commit order: every row's transaction position is 0.
ALTER TABLE changes ADD COLUMN txid BIGINT NOT NULL DEFAULT 0;
CREATE INDEX changes_feed_idx ON changes (txid, seq);
