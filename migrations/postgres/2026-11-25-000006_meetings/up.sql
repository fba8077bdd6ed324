-- Meetings under open-meeting law: the meeting, its lifecycle history, its agenda.
-- Keep this file column-for-column identical in meaning to the same migration of the other backend.

CREATE TABLE meetings (
    id TEXT PRIMARY KEY NOT NULL,
    council_id TEXT NOT NULL REFERENCES councils (id) ON DELETE RESTRICT,
    meeting_type TEXT NOT NULL CHECK (meeting_type IN ('regular', 'special', 'emergency')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'noticed', 'in_session', 'recessed', 'adjourned', 'cancelled')),
    title TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP,
    time_zone TEXT NOT NULL,
    location TEXT,
    remote_url TEXT,
    interpretation_languages TEXT NOT NULL,
    emergency_finding TEXT CHECK (emergency_finding IN ('emergency', 'dire_emergency')),
    media_notified_at TIMESTAMP,
    noticed_at TIMESTAMP,
    cancel_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK (ends_at IS NULL OR ends_at > starts_at),
    CHECK (location IS NOT NULL OR remote_url IS NOT NULL),
    CHECK (status <> 'cancelled' OR cancel_reason IS NOT NULL)
);
CREATE INDEX meetings_council_id_idx ON meetings (council_id, id);

CREATE TABLE meeting_events (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    action TEXT NOT NULL CHECK (action IN ('created', 'publish', 'open', 'recess', 'adjourn', 'cancel')),
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT,
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX meeting_events_meeting_id_idx ON meeting_events (meeting_id, id);

CREATE TABLE meeting_amendments (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    reason TEXT NOT NULL,
    within_notice_window BOOLEAN NOT NULL,
    actor TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX meeting_amendments_meeting_id_idx ON meeting_amendments (meeting_id, id);

CREATE TABLE agenda_items (
    id TEXT PRIMARY KEY NOT NULL,
    council_id TEXT NOT NULL REFERENCES councils (id) ON DELETE RESTRICT,
    meeting_id TEXT REFERENCES meetings (id) ON DELETE RESTRICT,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'declined')),
    position TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('information', 'discussion', 'action', 'consent', 'public_comment', 'closed_session')),
    legal_basis TEXT,
    title TEXT NOT NULL,
    description TEXT,
    presenter TEXT,
    proposed_by_seat_id TEXT REFERENCES seats (id) ON DELETE RESTRICT,
    proposed_by TEXT,
    minutes_allotted BIGINT CHECK (minutes_allotted IS NULL OR minutes_allotted > 0),
    documents TEXT NOT NULL,
    translations TEXT NOT NULL,
    decline_reason TEXT,
    added_late BOOLEAN NOT NULL,
    amendment_id TEXT REFERENCES meeting_amendments (id) ON DELETE RESTRICT,
    comment_opened_at TIMESTAMP,
    comment_closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK (kind <> 'closed_session' OR legal_basis IS NOT NULL),
    CHECK ((status = 'accepted') = (meeting_id IS NOT NULL)),
    CHECK ((meeting_id IS NULL) = (position IS NULL)),
    CHECK (status <> 'declined' OR decline_reason IS NOT NULL),
    CHECK (comment_closed_at IS NULL OR comment_opened_at IS NOT NULL)
);
CREATE UNIQUE INDEX agenda_items_position_key ON agenda_items (meeting_id, position);
CREATE INDEX agenda_items_council_id_idx ON agenda_items (council_id, id);

CREATE TABLE meeting_attendance (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    seat_id TEXT NOT NULL REFERENCES seats (id) ON DELETE RESTRICT,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE RESTRICT,
    status TEXT NOT NULL CHECK (status IN ('present', 'absent')),
    remote BOOLEAN NOT NULL,
    remote_basis TEXT CHECK (remote_basis IN ('teleconference_location', 'just_cause', 'emergency_circumstances')),
    arrived_at TIMESTAMP,
    departed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK (remote = (remote_basis IS NOT NULL)),
    CHECK (status = 'present' OR (remote = FALSE AND arrived_at IS NULL AND departed_at IS NULL)),
    CHECK (departed_at IS NULL OR arrived_at IS NULL OR departed_at >= arrived_at)
);
CREATE UNIQUE INDEX meeting_attendance_seat_key ON meeting_attendance (meeting_id, seat_id);

CREATE TABLE motions (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    agenda_item_id TEXT REFERENCES agenda_items (id) ON DELETE RESTRICT,
    kind TEXT NOT NULL CHECK (kind IN ('main', 'adjourn', 'recess')),
    text TEXT NOT NULL,
    mover_seat_id TEXT NOT NULL REFERENCES seats (id) ON DELETE RESTRICT,
    seconder_seat_id TEXT REFERENCES seats (id) ON DELETE RESTRICT,
    threshold TEXT NOT NULL CHECK (threshold IN ('majority', 'two_thirds', 'majority_of_membership')),
    status TEXT NOT NULL CHECK (status IN ('open', 'passed', 'failed')),
    membership BIGINT NOT NULL,
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((kind = 'main') = (agenda_item_id IS NOT NULL)),
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE INDEX motions_meeting_id_idx ON motions (meeting_id, id);

CREATE TABLE votes (
    id TEXT PRIMARY KEY NOT NULL,
    motion_id TEXT NOT NULL REFERENCES motions (id) ON DELETE RESTRICT,
    seat_id TEXT NOT NULL REFERENCES seats (id) ON DELETE RESTRICT,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE RESTRICT,
    choice TEXT NOT NULL CHECK (choice IN ('yes', 'no', 'abstain', 'recused', 'absent')),
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK (choice <> 'recused' OR reason IS NOT NULL)
);
CREATE UNIQUE INDEX votes_member_key ON votes (motion_id, person_id);
CREATE UNIQUE INDEX votes_seat_key ON votes (motion_id, seat_id);
