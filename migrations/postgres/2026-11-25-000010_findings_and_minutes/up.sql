-- Findings that let a meeting act on what its posted notice did not carry (Gov. Code 54954.2(b),
-- Ed. Code 35147(c)(1)) and the determination vote of an emergency meeting (Gov. Code 54956.5),
-- each with its roll-call vote.
-- Keep this file column-for-column identical in meaning to the same migration of the other backend.

CREATE TABLE findings (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    agenda_item_id TEXT REFERENCES agenda_items (id) ON DELETE RESTRICT,
    kind TEXT NOT NULL CHECK (kind IN ('emergency', 'need_arose_after_posting', 'continued_item', 'emergency_meeting')),
    facts TEXT NOT NULL,
    continued_from_item_id TEXT REFERENCES agenda_items (id) ON DELETE RESTRICT,
    members_present BIGINT NOT NULL,
    membership BIGINT NOT NULL,
    passed BOOLEAN NOT NULL,
    rule TEXT NOT NULL,
    actor TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((kind = 'emergency_meeting') = (agenda_item_id IS NULL)),
    CHECK ((kind = 'continued_item') = (continued_from_item_id IS NOT NULL))
);
CREATE INDEX findings_meeting_id_idx ON findings (meeting_id, id);
CREATE INDEX findings_agenda_item_id_idx ON findings (agenda_item_id, id);

CREATE TABLE finding_votes (
    id TEXT PRIMARY KEY NOT NULL,
    finding_id TEXT NOT NULL REFERENCES findings (id) ON DELETE RESTRICT,
    seat_id TEXT NOT NULL REFERENCES seats (id) ON DELETE RESTRICT,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE RESTRICT,
    choice TEXT NOT NULL CHECK (choice IN ('yes', 'no', 'abstain', 'recused')),
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK (choice <> 'recused' OR reason IS NOT NULL)
);
CREATE UNIQUE INDEX finding_votes_seat_key ON finding_votes (finding_id, seat_id);
