-- Invariants that span rows, held by the database so that they hold with several app instances.
-- Keep this file identical in meaning to the same migration of the other backend.

-- A seat has at most one open holding. Older duplicates (possible before this index) are closed
-- on the day they started, keeping the most recent one open.
UPDATE seat_holdings
   SET ended_on = started_on, end_reason = 'closed: a seat has one holder at a time'
 WHERE ended_on IS NULL
   AND id NOT IN (SELECT MAX(id) FROM seat_holdings WHERE ended_on IS NULL GROUP BY seat_id);
CREATE UNIQUE INDEX seat_holdings_one_open_key ON seat_holdings (seat_id) WHERE ended_on IS NULL;

-- A role is granted once per subject and council, "no council" included (a plain unique index
-- treats NULLs as distinct, so two identical district_admin grants could exist).
DELETE FROM grants
 WHERE id NOT IN (SELECT MIN(id) FROM grants
                  GROUP BY subject_kind, subject_id, role, COALESCE(council_id, ''));
DROP INDEX grants_unique_key;
CREATE UNIQUE INDEX grants_unique_key ON grants (subject_kind, subject_id, role, COALESCE(council_id, ''));
