DROP INDEX import_rows_import_file_sourced_idx;
ALTER TABLE external_ids DROP COLUMN source_modified_at;
