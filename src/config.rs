//! Settings: built-in defaults, then an optional TOML file (`--config`), then `COGOV_*`
//! environment variables, then command-line flags.
//!
//! | setting | env | default |
//! |---|---|---|
//! | `listen` | `COGOV_LISTEN` | `127.0.0.1:8080` |
//! | `database_url` | `COGOV_DATABASE_URL` | `sqlite://./data/cogov.db` |
//! | `workers` | `COGOV_WORKERS` | 4 |
//! | `pool_size` | `COGOV_POOL_SIZE` | same as `workers` |
//! | `sqlite_synchronous` | `COGOV_SQLITE_SYNCHRONOUS` | `normal` (`full` for power-loss durability) |
//! | `postgres_write_batch` | `COGOV_POSTGRES_WRITE_BATCH` | `1` (writes per PostgreSQL transaction) |
//! | `migrate_on_start` | `COGOV_MIGRATE_ON_START` | `true` |
//! | `shutdown_timeout_secs` | `COGOV_SHUTDOWN_TIMEOUT_SECS` | 30 |
//! | `log_format` | `COGOV_LOG_FORMAT` | `json` (`text` for reading by eye) |
//! | `sign_in_window_secs` | `COGOV_SIGN_IN_WINDOW_SECS` | 900 |
//! | `sign_in_max_failures` | `COGOV_SIGN_IN_MAX_FAILURES` | 5 (per account or client, from one address) |
//! | `sign_in_max_failures_per_account` | `COGOV_SIGN_IN_MAX_FAILURES_PER_ACCOUNT` | 20 (0: off) |
//! | `sign_in_max_failures_per_address` | `COGOV_SIGN_IN_MAX_FAILURES_PER_ADDRESS` | 50 (0: off) |
//! | `password_hash_concurrency` | `COGOV_PASSWORD_HASH_CONCURRENCY` | number of CPUs |
//! | `cors_allowed_origins` | `COGOV_CORS_ALLOWED_ORIGINS` | none |
//! | `metrics_token` | `COGOV_METRICS_TOKEN` | none: `/metrics` answers loopback callers only |
//! | `client_request_timeout_secs` | `COGOV_CLIENT_REQUEST_TIMEOUT_SECS` | 10 |
//! | `body_read_timeout_secs` | `COGOV_BODY_READ_TIMEOUT_SECS` | 10 |
//! | `client_disconnect_timeout_secs` | `COGOV_CLIENT_DISCONNECT_TIMEOUT_SECS` | 2 |
//! | `keep_alive_secs` | `COGOV_KEEP_ALIVE_SECS` | 5 |
//! | `change_retention_days` | `COGOV_CHANGE_RETENTION_DAYS` | 30 (0: keep every change) |
//! | `maintenance_interval_secs` | `COGOV_MAINTENANCE_INTERVAL_SECS` | 3600 |
//! | `rate_limit_requests` | `COGOV_RATE_LIMIT_REQUESTS` | 600 per window per caller (0: off) |
//! | `rate_limit_window_secs` | `COGOV_RATE_LIMIT_WINDOW_SECS` | 60 |
//! | `webhook_delivery` | `COGOV_WEBHOOK_DELIVERY` | `true` (run the delivery worker in `serve`) |
//! | `webhook_allow_http` | `COGOV_WEBHOOK_ALLOW_HTTP` | `false` (subscriptions need https) |
//! | `webhook_allowed_networks` | `COGOV_WEBHOOK_ALLOWED_NETWORKS` | none (CIDRs exempt from the SSRF guard) |
//! | `webhook_retry_schedule_secs` | `COGOV_WEBHOOK_RETRY_SCHEDULE_SECS` | 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400 |
//! | `webhook_connect_timeout_secs` | `COGOV_WEBHOOK_CONNECT_TIMEOUT_SECS` | 5 |
//! | `webhook_timeout_secs` | `COGOV_WEBHOOK_TIMEOUT_SECS` | 15 |
//! | `webhook_poll_interval_ms` | `COGOV_WEBHOOK_POLL_INTERVAL_MS` | 1000 |
//! | `webhook_lease_secs` | `COGOV_WEBHOOK_LEASE_SECS` | 120 |
//! | `webhook_delivery_retention_days` | `COGOV_WEBHOOK_DELIVERY_RETENTION_DAYS` | 30 (0: keep the whole delivery log) |
//! | `service_request_retention_days` | `COGOV_SERVICE_REQUEST_RETENTION_DAYS` | none: off |
//! | `retention_interval_secs` | `COGOV_RETENTION_INTERVAL_SECS` | 3600 |
//! | `report_small_cell_threshold` | `COGOV_REPORT_SMALL_CELL_THRESHOLD` | 10: reports hide counts of 1–10 (at least 10) |

use std::path::Path;
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::auth::tokens::{IdentityClaim, TokenConfig, MIN_SECRET_BYTES};
use crate::db::DbOptions;

/// Largest request body accepted (256 KiB); larger bodies get 413.
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    /// Survives a crash of the process; may lose the last transactions on power loss.
    Normal,
    /// Survives power loss; writes are several times slower.
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
}

/// Writes one PostgreSQL transaction takes by default: one. Row locks (a council's, while its
/// seats change) are held until commit, so a batch of unrelated writes would hold each other's
/// locks and could deadlock across writer threads; see docs/PERFORMANCE.md for the numbers.
pub const DEFAULT_POSTGRES_WRITE_BATCH: usize = 1;

const KEYS: &[&str] = &[
    "listen",
    "database_url",
    "workers",
    "pool_size",
    "sqlite_synchronous",
    "postgres_write_batch",
    "migrate_on_start",
    "shutdown_timeout_secs",
    "log_format",
    "jwt_secret",
    "jwt_secret_file",
    "jwt_public_key_file",
    "jwt_public_key_algorithm",
    "jwt_public_key_id",
    "jwt_jwks_file",
    "jwt_algorithms",
    "jwt_issuer",
    "jwt_audience",
    "jwt_leeway_secs",
    "jwt_identity_claim",
    "access_token_ttl_secs",
    "sign_in_window_secs",
    "sign_in_max_failures",
    "sign_in_max_failures_per_account",
    "sign_in_max_failures_per_address",
    "password_hash_concurrency",
    "cors_allowed_origins",
    "metrics_token",
    "client_request_timeout_secs",
    "body_read_timeout_secs",
    "client_disconnect_timeout_secs",
    "keep_alive_secs",
    "change_retention_days",
    "maintenance_interval_secs",
    "rate_limit_requests",
    "rate_limit_window_secs",
    "webhook_delivery",
    "webhook_allow_http",
    "webhook_allowed_networks",
    "webhook_retry_schedule_secs",
    "webhook_connect_timeout_secs",
    "webhook_timeout_secs",
    "webhook_poll_interval_ms",
    "webhook_lease_secs",
    "webhook_delivery_retention_days",
    "service_request_retention_days",
    "retention_interval_secs",
    "report_small_cell_threshold",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub workers: usize,
    pub pool_size: Option<u32>,
    pub sqlite_synchronous: SqliteSynchronous,
    /// On PostgreSQL, how many waiting writes one transaction may take (1: a transaction per
    /// write). See docs/PERFORMANCE.md for the measurement behind the default.
    pub postgres_write_batch: usize,
    pub migrate_on_start: bool,
    pub shutdown_timeout_secs: u64,
    pub log_format: LogFormat,
    /// HS256 secret for tokens cogov issues (at least 32 bytes). When absent, the secret is read
    /// from `jwt_secret_file`, which is created with a random secret if it does not exist.
    pub jwt_secret: Option<String>,
    pub jwt_secret_file: String,
    /// A district identity provider's public key (PEM), its algorithm and optional key id.
    pub jwt_public_key_file: Option<String>,
    pub jwt_public_key_algorithm: String,
    pub jwt_public_key_id: Option<String>,
    /// A district identity provider's keys as a JWKS file (chosen by `kid`).
    pub jwt_jwks_file: Option<String>,
    /// Algorithms accepted from the identity provider's keys.
    pub jwt_algorithms: Vec<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub jwt_leeway_secs: u64,
    /// How identity-provider tokens name a person: `sub` (an account's external subject) or
    /// `email`.
    pub jwt_identity_claim: IdentityClaim,
    pub access_token_ttl_secs: u64,
    /// Length of a sign-in throttling window; the longest anyone waits after being throttled.
    pub sign_in_window_secs: u64,
    /// Failed sign-ins per window for one account or API client from one address.
    pub sign_in_max_failures: u32,
    /// Failed sign-ins per window for one account from all addresses (0: no such limit).
    pub sign_in_max_failures_per_account: u32,
    /// Failed sign-ins per window from one address, over all accounts and clients (0: no such
    /// limit; set 0 behind a proxy that hides clients' addresses).
    pub sign_in_max_failures_per_address: u32,
    /// Most passwords or client secrets checked at once (default: one per CPU); sign-ins beyond
    /// it get 503 with `Retry-After` at once.
    pub password_hash_concurrency: Option<usize>,
    /// Origins of browser apps allowed to call the API (`https://app.district.example`); none by
    /// default. In the environment, separate them with commas.
    #[serde(deserialize_with = "list_or_commas")]
    pub cors_allowed_origins: Vec<String>,
    /// Bearer token for `/metrics` (a Prometheus scraper's); unset: loopback callers only.
    pub metrics_token: Option<String>,
    /// Longest time a client may take to send a request's headers (408 after it).
    pub client_request_timeout_secs: u64,
    /// Longest time a client may take to send a request's body, from when the handler starts
    /// reading it (408 after it).
    pub body_read_timeout_secs: u64,
    /// Longest wait for a client to close its side after cogov has answered and closed.
    pub client_disconnect_timeout_secs: u64,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive_secs: u64,
    /// Days the change log keeps a change before pruning it (0: keep every change). Feed cursors
    /// from before pruned changes get 410 Gone.
    pub change_retention_days: u32,
    /// How often `serve` runs its maintenance (pruning the change log).
    pub maintenance_interval_secs: u64,
    /// Requests one caller (an account, an API client, or an address when not signed in) may
    /// make per window on one app instance (0: no limit). Sent as `RateLimit-Policy`.
    pub rate_limit_requests: u32,
    /// The rate limit's window.
    pub rate_limit_window_secs: u64,
    /// Run the webhook delivery worker in `serve` (every instance may: they share the work).
    pub webhook_delivery: bool,
    /// Let subscriptions use plain http (for a receiver on the same host or in tests).
    pub webhook_allow_http: bool,
    /// Networks (CIDR, e.g. `10.20.0.0/16`) webhooks may call although they are private; none
    /// by default. In the environment, separate them with commas.
    #[serde(deserialize_with = "list_or_commas")]
    pub webhook_allowed_networks: Vec<String>,
    /// Waits before each retry of a failed delivery; once used up, the subscription is disabled.
    /// In the environment, separate them with commas.
    #[serde(deserialize_with = "numbers_or_commas")]
    pub webhook_retry_schedule_secs: Vec<u64>,
    pub webhook_connect_timeout_secs: u64,
    /// Longest time one delivery attempt may take in all.
    pub webhook_timeout_secs: u64,
    /// How often the worker looks for new changes and due retries.
    pub webhook_poll_interval_ms: u64,
    /// How long an instance holds a subscription's queue before another may take it over.
    pub webhook_lease_secs: u64,
    /// Days the delivery log keeps a delivered or failed delivery (and its attempts) before
    /// `serve`'s maintenance removes it (0: keep them all). Pending deliveries are never removed.
    pub webhook_delivery_retention_days: u32,
    /// Days after a service request is closed (counted from its last change) when `serve`
    /// anonymises it on its own; unset: never (off by default; `cogov retention run --days N` and
    /// the admin endpoint still work). Set it to the district's retention schedule.
    pub service_request_retention_days: Option<u32>,
    /// How often `serve` applies the retention setting (first run shortly after start).
    pub retention_interval_secs: u64,
    /// Reports hide every count of people from 1 up to this number (small-cell suppression,
    /// docs/REPORTS.md); at least 10.
    pub report_small_cell_threshold: i64,
}

/// A list setting given as a TOML array, or as one comma-separated string (environment).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(list) => list,
        Either::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// A list of numbers given as a TOML array, or as one comma-separated string (environment).
fn numbers_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<u64>),
        One(u64),
        Text(String),
    }
    match Either::deserialize(d)? {
        Either::List(list) => Ok(list),
        Either::One(n) => Ok(vec![n]),
        Either::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<u64>().map_err(|_| {
                    serde::de::Error::custom(format!("{s:?} is not a number of seconds"))
                })
            })
            .collect(),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://./data/cogov.db".to_owned(),
            workers: 4,
            pool_size: None,
            sqlite_synchronous: SqliteSynchronous::Normal,
            postgres_write_batch: DEFAULT_POSTGRES_WRITE_BATCH,
            migrate_on_start: true,
            shutdown_timeout_secs: 30,
            log_format: LogFormat::Json,
            jwt_secret: None,
            jwt_secret_file: "./data/jwt-secret".to_owned(),
            jwt_public_key_file: None,
            jwt_public_key_algorithm: "RS256".to_owned(),
            jwt_public_key_id: None,
            jwt_jwks_file: None,
            jwt_algorithms: vec!["RS256".to_owned(), "ES256".to_owned(), "EdDSA".to_owned()],
            jwt_issuer: "cogov".to_owned(),
            jwt_audience: "cogov".to_owned(),
            jwt_leeway_secs: 30,
            jwt_identity_claim: IdentityClaim::Sub,
            access_token_ttl_secs: 900,
            sign_in_window_secs: 900,
            sign_in_max_failures: 5,
            sign_in_max_failures_per_account: 20,
            sign_in_max_failures_per_address: 50,
            password_hash_concurrency: None,
            cors_allowed_origins: Vec::new(),
            metrics_token: None,
            client_request_timeout_secs: 10,
            body_read_timeout_secs: 10,
            client_disconnect_timeout_secs: 2,
            keep_alive_secs: 5,
            change_retention_days: 30,
            maintenance_interval_secs: 3600,
            rate_limit_requests: 600,
            rate_limit_window_secs: 60,
            webhook_delivery: true,
            webhook_allow_http: false,
            webhook_allowed_networks: Vec::new(),
            webhook_retry_schedule_secs: crate::domain::webhooks::DEFAULT_RETRY_SCHEDULE_SECS
                .to_vec(),
            webhook_connect_timeout_secs: 5,
            webhook_timeout_secs: 15,
            webhook_poll_interval_ms: 1000,
            webhook_lease_secs: 120,
            webhook_delivery_retention_days: 30,
            service_request_retention_days: None,
            retention_interval_secs: 3600,
            report_small_cell_threshold: crate::domain::reports::MIN_THRESHOLD,
        }
    }
}

impl Settings {
    /// Loads the layers. `file` is the `--config` path, if given; a named file that does not exist
    /// is an error rather than silently ignored.
    pub fn load(file: Option<&Path>) -> Result<Settings, String> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(format!(
                    "configuration file {} does not exist",
                    path.display()
                ));
            }
            figment = figment.merge(Toml::file(path));
        }
        // Only the settings' own names: other COGOV_* variables (e.g. the test suite's) are not
        // configuration of the service.
        figment = figment.merge(
            Env::prefixed("COGOV_")
                .filter(|key| KEYS.iter().any(|k| key.as_str().eq_ignore_ascii_case(k))),
        );
        let settings: Settings = figment
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), String> {
        if self.workers == 0 || self.workers > 256 {
            return Err("workers must be between 1 and 256".to_owned());
        }
        if self.pool_size == Some(0) {
            return Err("pool_size must be at least 1".to_owned());
        }
        if !(1..=1024).contains(&self.postgres_write_batch) {
            return Err("postgres_write_batch must be between 1 and 1024".to_owned());
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "jwt_secret must be at least {MIN_SECRET_BYTES} bytes long"
                ));
            }
        }
        if !(60..=86_400).contains(&self.access_token_ttl_secs) {
            return Err("access_token_ttl_secs must be between 60 and 86400".to_owned());
        }
        if self.jwt_leeway_secs > 300 {
            return Err("jwt_leeway_secs must be at most 300".to_owned());
        }
        if !(1..=86_400).contains(&self.sign_in_window_secs) {
            return Err("sign_in_window_secs must be between 1 and 86400".to_owned());
        }
        if self.report_small_cell_threshold < crate::domain::reports::MIN_THRESHOLD {
            return Err(format!(
                "report_small_cell_threshold must be at least {}",
                crate::domain::reports::MIN_THRESHOLD
            ));
        }
        if self.sign_in_max_failures == 0 {
            return Err("sign_in_max_failures must be at least 1".to_owned());
        }
        if self.password_hash_concurrency == Some(0) {
            return Err("password_hash_concurrency must be at least 1".to_owned());
        }
        for origin in &self.cors_allowed_origins {
            if crate::api::cors::normalize_origin(origin).is_none() {
                return Err(format!(
                    "cors_allowed_origins: {origin:?} is not an origin like https://app.example.org"
                ));
            }
        }
        if let Some(days) = self.service_request_retention_days {
            if !(1..=36_500).contains(&days) {
                return Err("service_request_retention_days must be between 1 and 36500".to_owned());
            }
        }
        if !(60..=604_800).contains(&self.retention_interval_secs) {
            return Err("retention_interval_secs must be between 60 and 604800".to_owned());
        }
        for (name, value) in [
            (
                "client_request_timeout_secs",
                self.client_request_timeout_secs,
            ),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
        ] {
            if !(1..=600).contains(&value) {
                return Err(format!("{name} must be between 1 and 600"));
            }
        }
        for network in &self.webhook_allowed_networks {
            if crate::domain::webhooks::Network::parse(network).is_none() {
                return Err(format!(
                    "webhook_allowed_networks: {network:?} is not a network like 10.20.0.0/16"
                ));
            }
        }
        if self.webhook_retry_schedule_secs.is_empty()
            || self
                .webhook_retry_schedule_secs
                .iter()
                .any(|s| *s > 7 * 86_400)
        {
            return Err(
                "webhook_retry_schedule_secs must list at least one wait, each at most 7 days"
                    .to_owned(),
            );
        }
        if !(1..=60).contains(&self.webhook_connect_timeout_secs)
            || !(1..=120).contains(&self.webhook_timeout_secs)
        {
            return Err(
                "webhook_connect_timeout_secs must be 1 to 60 and webhook_timeout_secs 1 to 120"
                    .to_owned(),
            );
        }
        if !(10..=60_000).contains(&self.webhook_poll_interval_ms) {
            return Err("webhook_poll_interval_ms must be between 10 and 60000".to_owned());
        }
        if self.webhook_lease_secs < 2 * self.webhook_timeout_secs {
            return Err(
                "webhook_lease_secs must be at least twice webhook_timeout_secs".to_owned(),
            );
        }
        Ok(())
    }

    /// Sign-in limits, hashing bound, CORS origins and body timeout for the application state.
    pub fn protection(&self) -> crate::state::Protection {
        use crate::auth::secrets::Hashing;
        crate::state::Protection {
            sign_in: crate::auth::throttle::SignInLimits {
                window: Duration::from_secs(self.sign_in_window_secs),
                max_failures: i64::from(self.sign_in_max_failures),
                max_failures_per_account: i64::from(self.sign_in_max_failures_per_account),
                max_failures_per_address: i64::from(self.sign_in_max_failures_per_address),
            },
            hashing: self
                .password_hash_concurrency
                .map_or_else(Hashing::per_cpu, Hashing::new),
            cors_allowed_origins: self
                .cors_allowed_origins
                .iter()
                .filter_map(|o| crate::api::cors::normalize_origin(o))
                .collect(),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            metrics_token: self.metrics_token.clone(),
            rate_limit: crate::quota::RateLimiter::new(
                self.rate_limit_requests,
                self.rate_limit_window_secs,
            ),
            public_comment: crate::auth::throttle::CommentLimits::default(),
            webhook_addresses: self.webhook_addresses(),
            report_threshold: self.report_small_cell_threshold,
        }
    }

    fn webhook_addresses(&self) -> crate::domain::webhooks::AddressPolicy {
        crate::domain::webhooks::AddressPolicy {
            allow_http: self.webhook_allow_http,
            allowed_networks: self
                .webhook_allowed_networks
                .iter()
                .filter_map(|n| crate::domain::webhooks::Network::parse(n))
                .collect(),
        }
    }

    /// How the webhook delivery worker runs.
    pub fn delivery_options(&self) -> crate::delivery::DeliveryOptions {
        crate::delivery::DeliveryOptions {
            addresses: self.webhook_addresses(),
            retry_schedule: self
                .webhook_retry_schedule_secs
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            connect_timeout: Duration::from_secs(self.webhook_connect_timeout_secs),
            timeout: Duration::from_secs(self.webhook_timeout_secs),
            poll_interval: Duration::from_millis(self.webhook_poll_interval_ms),
            lease: Duration::from_secs(self.webhook_lease_secs),
        }
    }

    pub fn db_options(&self) -> DbOptions {
        DbOptions {
            url: self.database_url.clone(),
            pool_size: self.pool_size.unwrap_or(self.workers as u32),
            sqlite_synchronous_full: self.sqlite_synchronous == SqliteSynchronous::Full,
            postgres_write_batch: self.postgres_write_batch,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

fn parse_algorithm(name: &str) -> Result<jsonwebtoken::Algorithm, String> {
    let alg: jsonwebtoken::Algorithm = name
        .parse()
        .map_err(|_| format!("unknown JWT algorithm {name:?}"))?;
    if alg == jsonwebtoken::Algorithm::HS256 || name.starts_with("HS") {
        return Err(format!(
            "{name} is not a public-key algorithm; set jwt_secret for HS256"
        ));
    }
    Ok(alg)
}

impl Settings {
    /// Reads the key material the settings name. Creates the secret file of a standalone install
    /// (mode 0600) on first start.
    pub fn token_config(&self) -> Result<TokenConfig, String> {
        let secret = match &self.jwt_secret {
            Some(s) => s.clone(),
            None => read_or_create_secret(Path::new(&self.jwt_secret_file))?,
        };
        let public_key_pem = match &self.jwt_public_key_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("cannot read jwt_public_key_file {path}: {e}"))?;
                let alg = parse_algorithm(&self.jwt_public_key_algorithm)?;
                Some((pem, alg, self.jwt_public_key_id.clone()))
            }
            None => None,
        };
        let jwks = match &self.jwt_jwks_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read jwt_jwks_file {path}: {e}"))?,
            ),
            None => None,
        };
        let allowed_algorithms = self
            .jwt_algorithms
            .iter()
            .map(|a| parse_algorithm(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TokenConfig {
            secret: Some(secret),
            public_key_pem,
            jwks,
            allowed_algorithms,
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            leeway_secs: self.jwt_leeway_secs,
            ttl_secs: self.access_token_ttl_secs,
        })
    }
}

fn read_or_create_secret(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim().to_owned();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "{} holds a secret shorter than {MIN_SECRET_BYTES} bytes",
                    path.display()
                ));
            }
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let secret = crate::auth::secrets::random(48);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            use std::io::Write;
            let mut file = options
                .open(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            file.write_all(secret.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(secret)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_settings_read_lists_from_text_and_check_their_limits() {
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Serialized::default("webhook_retry_schedule_secs", "1, 2,3"))
            .merge(Serialized::default(
                "webhook_allowed_networks",
                "127.0.0.0/8, fd00::/8",
            ))
            .extract()
            .unwrap();
        assert_eq!(settings.webhook_retry_schedule_secs, vec![1, 2, 3]);
        assert!(settings.check().is_ok());
        let options = settings.delivery_options();
        assert_eq!(options.addresses.allowed_networks.len(), 2);
        assert_eq!(options.retry_schedule.len(), 3);
        let bad = Settings {
            webhook_allowed_networks: vec!["10.0.0.0/40".to_owned()],
            ..Settings::default()
        };
        assert!(bad.check().is_err());
        let bad = Settings {
            webhook_lease_secs: 15,
            ..Settings::default()
        };
        assert!(bad.check().is_err());
        let bad = Settings {
            webhook_retry_schedule_secs: Vec::new(),
            ..Settings::default()
        };
        assert!(bad.check().is_err());
    }
}
