DROP INDEX grants_unique_key;
CREATE UNIQUE INDEX grants_unique_key ON grants (subject_kind, subject_id, role, council_id);
DROP INDEX seat_holdings_one_open_key;
