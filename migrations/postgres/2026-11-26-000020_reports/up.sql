-- Summary tables the service-request reports read, kept in step with service_requests inside
-- the transaction that creates a request or changes its status. Months are the month a request
-- was created ('YYYY-MM', UTC): every report selects requests by creation date.

-- Requests by school, category, month of creation, current status and current partner
-- ('' when none).
CREATE TABLE service_request_tallies (
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
    category_id TEXT NOT NULL REFERENCES service_categories (id) ON DELETE RESTRICT,
    month TEXT NOT NULL,
    status TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (month, school_id, category_id, status, partner_id)
);

-- Histograms of whole days (floor) from a request's creation to its first contact (triage,
-- measure 'first_contact') and to its completion (measure 'completion').
CREATE TABLE service_request_durations (
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
    category_id TEXT NOT NULL REFERENCES service_categories (id) ON DELETE RESTRICT,
    month TEXT NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('first_contact', 'completion')),
    days BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (school_id, measure, month, category_id, days)
);

-- The same histograms for the whole district (what a report without a school reads).
CREATE TABLE service_request_district_durations (
    category_id TEXT NOT NULL REFERENCES service_categories (id) ON DELETE RESTRICT,
    month TEXT NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('first_contact', 'completion')),
    days BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (measure, month, category_id, days)
);

-- Actions taken with a partner organization on requests (refer, accept, reject, start,
-- complete, decline), by the request's school, category and month of creation.
CREATE TABLE service_request_partner_actions (
    partner_id TEXT NOT NULL REFERENCES partner_organizations (id) ON DELETE RESTRICT,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
    category_id TEXT NOT NULL REFERENCES service_categories (id) ON DELETE RESTRICT,
    month TEXT NOT NULL,
    action TEXT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (month, partner_id, school_id, category_id, action)
);

-- The open backlog and the overdue report read open requests by status and age.
CREATE INDEX service_requests_open_idx ON service_requests (status, created_at, school_id, category_id);

INSERT INTO service_request_tallies (school_id, category_id, month, status, partner_id, requests)
SELECT school_id, category_id, to_char(created_at, 'YYYY-MM'), status, COALESCE(partner_id, ''), COUNT(*)
FROM service_requests
GROUP BY school_id, category_id, to_char(created_at, 'YYYY-MM'), status, COALESCE(partner_id, '');

INSERT INTO service_request_durations (school_id, category_id, month, measure, days, requests)
SELECT r.school_id, r.category_id, to_char(r.created_at, 'YYYY-MM'),
       CASE e.action WHEN 'triage' THEN 'first_contact' ELSE 'completion' END,
       FLOOR(EXTRACT(EPOCH FROM e.created_at - r.created_at) / 86400)::BIGINT, COUNT(*)
FROM service_request_events e JOIN service_requests r ON r.id = e.request_id
WHERE e.action IN ('triage', 'complete')
GROUP BY r.school_id, r.category_id, to_char(r.created_at, 'YYYY-MM'),
         CASE e.action WHEN 'triage' THEN 'first_contact' ELSE 'completion' END,
         FLOOR(EXTRACT(EPOCH FROM e.created_at - r.created_at) / 86400)::BIGINT;

INSERT INTO service_request_partner_actions (partner_id, school_id, category_id, month, action, requests)
SELECT e.partner_id, r.school_id, r.category_id, to_char(r.created_at, 'YYYY-MM'), e.action, COUNT(*)
FROM service_request_events e JOIN service_requests r ON r.id = e.request_id
WHERE e.partner_id IS NOT NULL AND e.action IN ('refer', 'accept', 'reject', 'start', 'complete', 'decline')
GROUP BY e.partner_id, r.school_id, r.category_id, to_char(r.created_at, 'YYYY-MM'), e.action;

INSERT INTO service_request_district_durations (category_id, month, measure, days, requests)
SELECT category_id, month, measure, days, SUM(requests)
FROM service_request_durations
GROUP BY category_id, month, measure, days;
