DROP INDEX imports_status_lease_idx;
ALTER TABLE imports DROP COLUMN lease_until;
