//! Black-box API tests. Each runs on SQLite by default and on PostgreSQL when
//! `COGOV_TEST_DATABASE_URL` is set (see docs/DATABASE.md); `.ci/run` runs both.

mod common;

mod access;
mod accounts;
mod agenda;
mod apps;
mod assemblies;
mod calendar;
mod changes;
mod cli;
mod contract;
mod councils;
mod external_ids;
mod findings;
mod governance_reports;
mod hsds;
mod http;
mod hygiene;
mod idempotency;
mod imports;
mod integrity;
mod layers;
mod meetings;
mod metrics;
mod minutes;
mod motions;
mod newcomers;
mod participation;
mod people;
mod protection;
mod public_pages;
mod record;
mod reports;
mod schools;
mod seats;
mod services;
mod storage;
mod webhooks;
