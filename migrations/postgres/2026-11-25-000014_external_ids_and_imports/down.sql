DROP TABLE import_rows;
DROP TABLE imports;
DROP TABLE external_ids;
