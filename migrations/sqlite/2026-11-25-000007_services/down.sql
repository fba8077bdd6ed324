DROP TABLE service_disclosures;
DROP TABLE service_consents;
DROP TABLE service_request_notes;
DROP TABLE service_request_events;
DROP TABLE service_requests;
DROP TABLE partner_members;
DROP TABLE partner_organizations;
DROP TABLE service_categories;
