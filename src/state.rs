//! What every request handler can reach.

use std::time::Duration;

use crate::auth::secrets::Hashing;
use crate::auth::throttle::{CommentLimits, SignInLimits};
use crate::auth::tokens::{IdentityClaim, Tokens};
use crate::db::Db;

pub struct AppState {
    pub db: Db,
    pub tokens: Tokens,
    /// How tokens from a district identity provider name a person.
    pub identity_claim: IdentityClaim,
    /// Limits that keep clients from locking others out or exhausting the server.
    pub protection: Protection,
}

/// Sign-in throttling, the bound on concurrent password hashing, browser origins, and how long a
/// request body may take to arrive.
#[derive(Clone)]
pub struct Protection {
    pub sign_in: SignInLimits,
    pub hashing: Hashing,
    /// Origins (`scheme://host[:port]`) whose browser apps may call the API (CORS); none by default.
    pub cors_allowed_origins: Vec<String>,
    /// Longest wait for a request body to arrive in full.
    pub body_read_timeout: Duration,
    /// Bearer token a Prometheus scraper sends for `/metrics`; without one, only callers on the
    /// same host (loopback) may read it.
    pub metrics_token: Option<String>,
    /// Requests per caller per window on this instance (`None`: no quota).
    pub rate_limit: Option<std::sync::Arc<crate::quota::RateLimiter>>,
    /// How many written public comments one client address may send per window.
    pub public_comment: CommentLimits,
    /// Which URLs webhook subscriptions may name (https and public addresses unless allowed).
    pub webhook_addresses: crate::domain::webhooks::AddressPolicy,
    /// Reports hide counts of people from 1 up to this (small-cell suppression; at least 10).
    pub report_threshold: i64,
}

impl Default for Protection {
    fn default() -> Self {
        Protection {
            sign_in: SignInLimits::default(),
            hashing: Hashing::per_cpu(),
            cors_allowed_origins: Vec::new(),
            body_read_timeout: Duration::from_secs(10),
            metrics_token: None,
            rate_limit: None,
            public_comment: CommentLimits::default(),
            webhook_addresses: Default::default(),
            report_threshold: crate::domain::reports::MIN_THRESHOLD,
        }
    }
}
