//! Black-box API tests. Each runs on SQLite by default and on PostgreSQL when
//! `COGOV_TEST_DATABASE_URL` is set (see docs/DATABASE.md); `.ci/run` runs both.

mod common;

mod access;
mod accounts;
mod agenda;
mod changes;
mod cli;
mod contract;
mod councils;
mod http;
mod hygiene;
mod idempotency;
mod integrity;
mod layers;
mod meetings;
mod metrics;
mod motions;
mod newcomers;
mod people;
mod protection;
mod schools;
mod seats;
mod services;
mod storage;
mod webhooks;
