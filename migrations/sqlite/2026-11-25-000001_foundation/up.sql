-- cogov foundation: schools, people, councils, seats, seat history, rule overrides, change log.
-- Keep this file column-for-column identical in meaning to the same migration of the other backend.

CREATE TABLE schools (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    district_code TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    address TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX schools_district_code_key ON schools (district_code);

CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    preferred_language TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE councils (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT REFERENCES schools (id) ON DELETE RESTRICT,
    kind TEXT NOT NULL CHECK (kind IN ('school_site_council', 'community_school_steering_committee', 'district_advisory', 'assembly')),
    regime TEXT NOT NULL CHECK (regime IN ('brown', 'greene', 'voluntary')),
    name TEXT NOT NULL,
    description TEXT,
    quorum_basis TEXT NOT NULL CHECK (quorum_basis IN ('filled_voting_seats', 'authorized_voting_seats')),
    regular_notice_hours BIGINT NOT NULL CHECK (regular_notice_hours >= 0),
    special_notice_hours BIGINT NOT NULL CHECK (special_notice_hours >= 0),
    composition_rules TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX councils_school_id_idx ON councils (school_id);

CREATE TABLE seats (
    id TEXT PRIMARY KEY NOT NULL,
    council_id TEXT NOT NULL REFERENCES councils (id) ON DELETE RESTRICT,
    constituency TEXT NOT NULL CHECK (constituency IN ('district', 'administrators', 'teachers', 'classified_staff', 'students', 'families', 'community_organizations')),
    title TEXT NOT NULL,
    voting BOOLEAN NOT NULL,
    term_start DATE,
    term_end DATE,
    holder_id TEXT REFERENCES people (id) ON DELETE RESTRICT,
    holder_since DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK (term_end IS NULL OR term_start IS NULL OR term_end >= term_start)
);
CREATE INDEX seats_council_id_idx ON seats (council_id, id);
CREATE INDEX seats_holder_id_idx ON seats (holder_id);

CREATE TABLE seat_holdings (
    id TEXT PRIMARY KEY NOT NULL,
    seat_id TEXT NOT NULL REFERENCES seats (id) ON DELETE RESTRICT,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE RESTRICT,
    started_on DATE NOT NULL,
    ended_on DATE,
    end_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX seat_holdings_seat_id_idx ON seat_holdings (seat_id, id);
CREATE INDEX seat_holdings_person_id_idx ON seat_holdings (person_id);

CREATE TABLE rule_overrides (
    id TEXT PRIMARY KEY NOT NULL,
    council_id TEXT NOT NULL REFERENCES councils (id) ON DELETE RESTRICT,
    seat_id TEXT,
    change TEXT NOT NULL,
    broken_rules TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX rule_overrides_council_id_idx ON rule_overrides (council_id, id);

CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    resource TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    version BIGINT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
