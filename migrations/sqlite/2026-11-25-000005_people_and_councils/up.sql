-- Who added a person (their record is visible to them until a seat relates them to a council),
-- when a person's contact details were erased, and councils that are archived or let one person
-- hold several seats. Keep this file identical in meaning to the same migration of the other
-- backend.
ALTER TABLE people ADD COLUMN created_by TEXT;
ALTER TABLE people ADD COLUMN contact_erased_at TIMESTAMP;
ALTER TABLE councils ADD COLUMN archived_at TIMESTAMP;
ALTER TABLE councils ADD COLUMN max_seats_per_person BIGINT NOT NULL DEFAULT 1;
CREATE INDEX people_created_by_idx ON people (created_by);
