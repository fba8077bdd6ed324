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

-- Minutes: a draft per meeting generated from its record, free text edited by staff, approved
-- by a passing motion at a later meeting of the same council; approved minutes change only by
-- recorded corrections.
CREATE TABLE minutes (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    council_id TEXT NOT NULL REFERENCES councils (id) ON DELETE RESTRICT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
    record TEXT NOT NULL,
    summary TEXT,
    notes TEXT,
    approval_item_id TEXT REFERENCES agenda_items (id) ON DELETE RESTRICT,
    -- The motion that approved them: a seated council's (motions) or an assembly's
    -- (assembly_motions, a later table); set by the approving motion's own transaction.
    approved_by_motion_id TEXT,
    approved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((status = 'approved') = (approved_by_motion_id IS NOT NULL)),
    CHECK ((approved_at IS NULL) = (approved_by_motion_id IS NULL))
);
CREATE UNIQUE INDEX minutes_meeting_key ON minutes (meeting_id);
CREATE INDEX minutes_approval_item_idx ON minutes (approval_item_id);

CREATE TABLE minutes_corrections (
    id TEXT PRIMARY KEY NOT NULL,
    minutes_id TEXT NOT NULL REFERENCES minutes (id) ON DELETE RESTRICT,
    reason TEXT NOT NULL,
    correction TEXT NOT NULL,
    actor TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX minutes_corrections_minutes_id_idx ON minutes_corrections (minutes_id, id);
