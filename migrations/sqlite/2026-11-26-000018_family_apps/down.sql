ALTER TABLE audit_events DROP COLUMN app_client_id;
DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_grants;
DROP TABLE oauth_apps;
DROP TABLE family_invitations;
