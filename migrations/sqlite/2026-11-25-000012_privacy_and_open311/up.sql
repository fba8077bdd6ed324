-- The student a request is about, when they have a cogov person record: from their 18th
-- birthday they, not the parent, own the request (FERPA 99.5).
ALTER TABLE service_requests ADD COLUMN subject_person_id TEXT REFERENCES people (id);
CREATE INDEX service_requests_subject_idx ON service_requests (subject_person_id, id);

-- A recorded FERPA 99.31 exception that lets staff refer a request to a partner without
-- consent. Written once, never changed (no update path in the application).
CREATE TABLE service_disclosure_exceptions (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES service_requests (id) ON DELETE RESTRICT,
    partner_id TEXT NOT NULL REFERENCES partner_organizations (id) ON DELETE RESTRICT,
    basis TEXT NOT NULL CHECK (basis IN ('health_or_safety_emergency', 'school_official')),
    -- The articulable and significant threat (health or safety emergency, 99.36).
    threat TEXT,
    -- The legitimate educational interest (school official, 99.31(a)(1)).
    legitimate_interest TEXT,
    records TEXT NOT NULL,
    purpose TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX service_disclosure_exceptions_request_idx ON service_disclosure_exceptions (request_id, partner_id);

-- What a disclosure was made under: a consent, or a recorded exception (copied here so the
-- family's disclosure record says it in one row).
ALTER TABLE service_disclosures ADD COLUMN basis TEXT NOT NULL DEFAULT 'consent' CHECK (basis IN ('consent', 'health_or_safety_emergency', 'school_official'));
ALTER TABLE service_disclosures ADD COLUMN exception_id TEXT REFERENCES service_disclosure_exceptions (id);
ALTER TABLE service_disclosures ADD COLUMN threat TEXT;
ALTER TABLE service_disclosures ADD COLUMN legitimate_interest TEXT;

-- A person's directory-information choices (FERPA 99.37): fields withheld from public and
-- non-staff views, and the McKinney-Vento flag (directory information never released without
-- consent). One row per person, only once set.
CREATE TABLE directory_preferences (
    id TEXT PRIMARY KEY NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- A JSON array of field codes: name, email, phone.
    opt_outs TEXT NOT NULL,
    homeless_youth BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
