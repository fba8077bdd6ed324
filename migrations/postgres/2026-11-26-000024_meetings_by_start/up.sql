-- Meetings in start order across every council: the public comments report is paged by
-- meeting in this order (docs/REPORTS.md), and district-wide date ranges read it. Keep this
-- file identical in meaning to the other backend's.
CREATE INDEX meetings_starts_at_idx ON meetings (starts_at, id);
