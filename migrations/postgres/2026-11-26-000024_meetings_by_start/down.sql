DROP INDEX meetings_starts_at_idx;
