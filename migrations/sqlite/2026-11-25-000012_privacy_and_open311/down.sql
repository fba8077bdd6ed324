DROP TABLE directory_preferences;
ALTER TABLE service_disclosures DROP COLUMN legitimate_interest;
ALTER TABLE service_disclosures DROP COLUMN threat;
ALTER TABLE service_disclosures DROP COLUMN exception_id;
ALTER TABLE service_disclosures DROP COLUMN basis;
DROP INDEX service_disclosure_exceptions_request_idx;
DROP TABLE service_disclosure_exceptions;
DROP INDEX service_requests_subject_idx;
ALTER TABLE service_requests DROP COLUMN subject_person_id;
