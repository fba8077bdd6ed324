-- pgbench script: the database's own ceiling for a write like POST /councils
-- (one row plus one change-log row, committed durably).
\set r random(1, 1000000000)
BEGIN;
INSERT INTO bench_rows VALUES (md5(:r::text || clock_timestamp()::text), 'Benchmark Steering Committee', now());
INSERT INTO bench_changes (resource_id, occurred_at) VALUES ('x', now());
COMMIT;
