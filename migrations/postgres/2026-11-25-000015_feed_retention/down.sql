DROP INDEX changes_occurred_at_idx;
DROP TABLE change_prunes;
