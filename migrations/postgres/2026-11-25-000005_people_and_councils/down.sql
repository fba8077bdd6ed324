DROP INDEX people_created_by_idx;
ALTER TABLE councils DROP COLUMN max_seats_per_person;
ALTER TABLE councils DROP COLUMN archived_at;
ALTER TABLE people DROP COLUMN contact_erased_at;
ALTER TABLE people DROP COLUMN created_by;
