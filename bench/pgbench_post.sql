-- pgbench script: the database's own ceiling for a signed-in POST /councils, i.e. the statements
-- cogov sends for one such request on PostgreSQL, in the same shape (taken from the server's
-- statement log): three reads that resolve the caller's token (account, grants, held seats), then
-- one transaction per write (postgres_write_batch = 1, the default): the council, its change-log
-- row and the audit event, committed durably (a council created without external ids reads none).
-- bench/run.sh runs it on cogov's own tables with -M prepared (the variables are bind parameters
-- then, as in cogov) and -D person=<the benchmark admin's person id>.
\set n random(1, 999999999999)
SELECT id, person_id, username, password_hash, external_subject, disabled, created_at, updated_at, version
  FROM accounts WHERE person_id = :person;
SELECT id, subject_kind, subject_id, role, council_id, created_at, updated_at, version
  FROM grants WHERE subject_kind = 'person' AND subject_id = :person;
SELECT council_id FROM seats WHERE holder_id = :person;
BEGIN;
INSERT INTO councils (id, school_id, kind, regime, name, description, quorum_basis, regular_notice_hours,
                      special_notice_hours, composition_rules, created_at, updated_at, version, archived_at,
                      max_seats_per_person, speaker_seconds, assembly_quorum)
  VALUES ('00000000-0000-' || lpad(:client_id::text, 4, '0') || '-' || lpad(:n::text, 17, '0'), DEFAULT,
          'community_school_steering_committee', 'brown', 'Benchmark Steering Committee', 'created by the benchmark',
          'filled_voting_seats', 72, 24, '[]', localtimestamp, localtimestamp, 1, DEFAULT, 1, 180, DEFAULT);
INSERT INTO changes (resource, resource_id, action, version, occurred_at)
  VALUES ('council', '00000000-0000-' || lpad(:client_id::text, 4, '0') || '-' || lpad(:n::text, 17, '0'), 'created', 1, localtimestamp);
INSERT INTO audit_events (id, occurred_at, actor_kind, actor_id, roles, action, resource, resource_id, outcome, status,
                          request_id, client_address, user_agent, app_client_id)
  VALUES ('00000000-0001-' || lpad(:client_id::text, 4, '0') || '-' || lpad(:n::text, 17, '0'), localtimestamp, 'person', :person,
          'district_admin', 'create', '/api/v1/councils', '00000000-0000-' || lpad(:client_id::text, 4, '0') || '-' || lpad(:n::text, 17, '0'),
          'allowed', 201, '00000000-0002-' || lpad(:client_id::text, 4, '0') || '-' || lpad(:n::text, 17, '0'), '127.0.0.1', 'wrk', DEFAULT);
COMMIT;
