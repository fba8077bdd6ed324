-- The source's dateLastModified last applied for a record, kept with its external id in that
-- source's system: a delta row older than it is stale and ignored.
ALTER TABLE external_ids ADD COLUMN source_modified_at TIMESTAMP;
-- A bulk file's left-out records are found by an anti-join against the job's row results.
CREATE INDEX import_rows_import_file_sourced_idx ON import_rows (import_id, file, sourced_id);
