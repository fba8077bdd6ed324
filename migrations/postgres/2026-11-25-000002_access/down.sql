DROP TABLE audit_events;
DROP TABLE grants;
DROP TABLE api_clients;
DROP TABLE accounts;
