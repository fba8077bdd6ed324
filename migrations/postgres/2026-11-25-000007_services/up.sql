-- Wraparound services: the service catalog, partner organizations and their members, service
-- requests with their status history, notes, consents and FERPA disclosure records.
-- Keep this file identical in meaning to the same migration of the other backend.

CREATE TABLE service_categories (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    -- Names and descriptions keyed by BCP 47 language tag (JSON objects; no query looks inside).
    names TEXT NOT NULL,
    descriptions TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    first_contact_school_days BIGINT CHECK (first_contact_school_days IS NULL OR first_contact_school_days >= 0),
    pillar TEXT CHECK (pillar IS NULL OR pillar IN ('integrated_student_supports', 'family_and_community_engagement', 'collaborative_leadership', 'extended_learning')),
    sensitive BOOLEAN NOT NULL,
    consent_class TEXT NOT NULL CHECK (consent_class IN ('general', 'outpatient_mental_health', 'inpatient_or_medication')),
    -- Open311-style attribute definitions (a JSON array; checked by the application).
    attributes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX service_categories_code_key ON service_categories (code);

CREATE TABLE partner_organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    contact_email TEXT,
    contact_phone TEXT,
    -- Which categories the organization serves at which schools: a JSON array of
    -- {category_id, school_id}, read whole when a request is referred.
    offerings TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE partner_members (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partner_organizations (id) ON DELETE RESTRICT,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE RESTRICT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX partner_members_key ON partner_members (partner_id, person_id);
CREATE INDEX partner_members_person_idx ON partner_members (person_id);

CREATE TABLE service_requests (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
    category_id TEXT NOT NULL REFERENCES service_categories (id) ON DELETE RESTRICT,
    -- A coded reference to the student or family (a district code), never a name.
    subject_code TEXT NOT NULL,
    -- Only to tell who may consent (18, or 12 for outpatient mental health).
    subject_birth_date DATE,
    family_person_id TEXT REFERENCES people (id) ON DELETE RESTRICT,
    description TEXT,
    attributes TEXT NOT NULL,
    preferred_language TEXT NOT NULL,
    contact_method TEXT NOT NULL CHECK (contact_method IN ('email', 'phone', 'text', 'in_person', 'app')),
    urgency TEXT NOT NULL CHECK (urgency IN ('routine', 'soon', 'urgent')),
    status TEXT NOT NULL CHECK (status IN ('submitted', 'triaged', 'referred', 'accepted', 'rejected', 'in_progress', 'completed', 'declined', 'withdrawn', 'cancelled')),
    partner_id TEXT REFERENCES partner_organizations (id) ON DELETE RESTRICT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX service_requests_school_idx ON service_requests (school_id, id);
CREATE INDEX service_requests_status_idx ON service_requests (status, id);
CREATE INDEX service_requests_family_idx ON service_requests (family_person_id, id);
CREATE INDEX service_requests_partner_idx ON service_requests (partner_id, id);

CREATE TABLE service_request_events (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES service_requests (id) ON DELETE RESTRICT,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    party TEXT NOT NULL CHECK (party IN ('family', 'staff', 'partner')),
    note TEXT,
    partner_id TEXT REFERENCES partner_organizations (id) ON DELETE RESTRICT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX service_request_events_request_idx ON service_request_events (request_id, id);

CREATE TABLE service_request_notes (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES service_requests (id) ON DELETE RESTRICT,
    visibility TEXT NOT NULL CHECK (visibility IN ('family', 'staff', 'partner')),
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    party TEXT NOT NULL CHECK (party IN ('family', 'staff', 'partner')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX service_request_notes_request_idx ON service_request_notes (request_id, id);

CREATE TABLE service_consents (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES service_requests (id) ON DELETE RESTRICT,
    partner_id TEXT NOT NULL REFERENCES partner_organizations (id) ON DELETE RESTRICT,
    records TEXT NOT NULL,
    purpose TEXT NOT NULL,
    giver TEXT NOT NULL CHECK (giver IN ('parent', 'student')),
    given_by_name TEXT NOT NULL,
    given_on DATE NOT NULL,
    recorded_by TEXT NOT NULL,
    provider_attestation BOOLEAN NOT NULL,
    parent_involvement TEXT,
    withdrawn_at TIMESTAMP,
    withdrawn_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
-- One consent in force per request and recipient.
CREATE UNIQUE INDEX service_consents_in_force_key ON service_consents (request_id, partner_id) WHERE withdrawn_at IS NULL;
CREATE INDEX service_consents_request_idx ON service_consents (request_id, id);

-- FERPA 99.32: one immutable row per disclosure to a partner, kept with the request.
CREATE TABLE service_disclosures (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES service_requests (id) ON DELETE RESTRICT,
    partner_id TEXT NOT NULL REFERENCES partner_organizations (id) ON DELETE RESTRICT,
    consent_id TEXT REFERENCES service_consents (id) ON DELETE RESTRICT,
    records TEXT NOT NULL,
    purpose TEXT NOT NULL,
    disclosed_by TEXT NOT NULL,
    disclosed_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX service_disclosures_request_idx ON service_disclosures (request_id, id);
