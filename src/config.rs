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
//! | `migrate_on_start` | `COGOV_MIGRATE_ON_START` | `true` |
//! | `shutdown_timeout_secs` | `COGOV_SHUTDOWN_TIMEOUT_SECS` | 30 |
//! | `log_format` | `COGOV_LOG_FORMAT` | `json` (`text` for reading by eye) |

use std::path::Path;
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

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

const KEYS: &[&str] = &[
    "listen",
    "database_url",
    "workers",
    "pool_size",
    "sqlite_synchronous",
    "migrate_on_start",
    "shutdown_timeout_secs",
    "log_format",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub workers: usize,
    pub pool_size: Option<u32>,
    pub sqlite_synchronous: SqliteSynchronous,
    pub migrate_on_start: bool,
    pub shutdown_timeout_secs: u64,
    pub log_format: LogFormat,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://./data/cogov.db".to_owned(),
            workers: 4,
            pool_size: None,
            sqlite_synchronous: SqliteSynchronous::Normal,
            migrate_on_start: true,
            shutdown_timeout_secs: 30,
            log_format: LogFormat::Json,
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
        Ok(())
    }

    pub fn db_options(&self) -> DbOptions {
        DbOptions {
            url: self.database_url.clone(),
            pool_size: self.pool_size.unwrap_or(self.workers as u32),
            sqlite_synchronous_full: self.sqlite_synchronous == SqliteSynchronous::Full,
            connect_timeout: Duration::from_secs(5),
        }
    }
}
