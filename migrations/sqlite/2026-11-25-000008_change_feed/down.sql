DROP INDEX changes_feed_idx;
ALTER TABLE changes DROP COLUMN txid;
