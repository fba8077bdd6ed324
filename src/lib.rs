//! cogov: the system of record for community-school governance.

pub mod api;
pub mod app;
pub mod auth;
pub mod commands;
pub mod config;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod quota;
pub mod route;
pub mod state;
