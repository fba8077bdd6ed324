//! Storage: one connection type for both backends, the pools, and the SQLite settings.
//!
//! The backend is chosen from the URL scheme (`sqlite://…` or `postgres://…`). Reads go through a
//! pool of `pool_size` connections. On SQLite every write goes through a single writer connection
//! and begins with `BEGIN IMMEDIATE`, so writers queue instead of failing with "database is locked";
//! on PostgreSQL writes share the read pool.

pub mod access;
pub mod agenda;
pub mod apps;
pub mod assemblies;
pub mod calendar;
pub mod changes;
pub mod councils;
pub mod dialect;
pub mod external_ids;
pub mod findings;
pub mod governance_reports;
pub mod idempotency;
pub mod imports;
pub mod meetings;
pub mod minutes;
pub mod motions;
pub mod participation;
pub mod people;
pub mod record;
pub mod reports;
pub mod schema;
pub mod schools;
pub mod seats;
pub mod services;
pub mod webhooks;
pub mod writer;

/// A query error, as the command layer names it.
pub type QueryError = diesel::result::Error;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

/// The one connection type that every query in `db/` is written against.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Which database a URL points at. Anything but these two schemes is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file path (the part after `sqlite://`).
    Sqlite(PathBuf),
    /// A libpq connection URL, passed through unchanged.
    Postgres(String),
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("COGOV_DATABASE_URL must start with sqlite:// or postgres:// (got scheme {0:?})")]
    UnknownScheme(String),
    #[error("the SQLite URL names no file; use e.g. sqlite://./data/cogov.db")]
    EmptySqlitePath,
    #[error("cannot create the directory for the SQLite database {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("cannot set up the connection pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("cannot run migrations: {0}")]
    Migrate(String),
    #[error("cannot set up the SQLite database: {0}")]
    Sqlite(String),
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, StartupError> {
        if let Some(rest) = url.strip_prefix("sqlite://") {
            if rest.is_empty() {
                return Err(StartupError::EmptySqlitePath);
            }
            return Ok(Target::Sqlite(PathBuf::from(rest)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_owned()));
        }
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or(url);
        Err(StartupError::UnknownScheme(scheme.to_owned()))
    }

    /// The URL with any password removed, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Target::Sqlite(path) => format!("sqlite://{}", path.display()),
            Target::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    parsed.to_string()
                }
                Err(_) => "postgres://(unparsable url)".to_owned(),
            },
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Target::Sqlite(_) => "sqlite",
            Target::Postgres(_) => "postgres",
        }
    }

    fn connect(&self) -> Result<AnyConnection, diesel::ConnectionError> {
        match self {
            Target::Sqlite(path) => {
                SqliteConnection::establish(&path.to_string_lossy()).map(AnyConnection::Sqlite)
            }
            Target::Postgres(url) => PgConnection::establish(url).map(AnyConnection::Postgresql),
        }
    }
}

/// Opens connections for r2d2 by URL scheme (the derive's own `establish` tries PostgreSQL first
/// and then SQLite, which hides the real error of a bad PostgreSQL URL).
#[derive(Debug, Clone)]
pub struct Manager {
    target: Target,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        self.target.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        conn.is_broken()
    }
}

/// Per-connection SQLite settings: WAL, foreign keys, a busy timeout, and the durability level.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas {
    synchronous_full: bool,
}

impl CustomizeConnection<AnyConnection, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        let synchronous = if self.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
        ))
        .map_err(r2d2::Error::QueryError)
    }
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub url: String,
    pub pool_size: u32,
    pub sqlite_synchronous_full: bool,
    /// On PostgreSQL, most writes one transaction takes (SQLite always batches).
    pub postgres_write_batch: usize,
    pub connect_timeout: Duration,
}

/// The pools the application uses. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    read: Pool,
    write: Pool,
    writer: writer::Writer,
    target: Target,
}

/// A write or read refused by storage, classified so callers never look at backend messages.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A versioned write found another version than the one it was based on (`UPDATE … WHERE
    /// version = ?` matched no row): someone else changed the record in between.
    #[error("the {0} changed since it was read")]
    Stale(&'static str),
    /// A unique index refused the row.
    #[error("a record with the same unique value exists ({0})")]
    Duplicate(String),
    /// A foreign key refused the change: other records still refer to this one, or it refers to
    /// a record that does not exist.
    #[error("other records refer to this one, or it refers to a record that does not exist")]
    StillReferenced,
    /// A stored value that cogov cannot read (an unknown enum text, an unparsable id).
    #[error("stored {0}")]
    Corrupt(String),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error("database error: {0}")]
    Query(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Duplicate(info.message().to_owned())
            }
            Error::DatabaseError(kind, info)
                if dialect::is_foreign_key_violation(&kind, &*info) =>
            {
                StoreError::StillReferenced
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(Unavailable::Lost(info.message().to_owned()))
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                StoreError::Unavailable(Unavailable::Lost(info.message().to_owned()))
            }
            Error::DatabaseError(_, info) if dialect::is_transient(&*info) => {
                StoreError::Unavailable(Unavailable::Lost(info.message().to_owned()))
            }
            other => StoreError::Query(other),
        }
    }
}

/// Parses an id read from a row; a stored id that is not a UUID is a corrupt row, never a nil id.
pub fn stored_uuid(what: &str, text: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(text)
        .map_err(|_| StoreError::Corrupt(format!("{what} {text:?} is not a UUID")))
}

/// Why the database cannot take a request now.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// No connection could be had from the pool (all busy for too long, or the database is gone).
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// The writer's queue is full or the writer has stopped.
    #[error("database overloaded: {0}")]
    Overloaded(&'static str),
    /// The connection broke, a commit failed, or the database chose this transaction as the
    /// victim of a deadlock or serialization conflict: retrying may succeed.
    #[error("the database did not complete the write: {0}")]
    Lost(String),
}

impl Db {
    /// Opens the database named by `options.url`. Tries one connection first so that a wrong URL
    /// or an unreachable server fails at once with the driver's own message.
    pub fn open(options: &DbOptions) -> Result<Self, StartupError> {
        let target = Target::parse(&options.url)?;
        if let Target::Sqlite(path) = &target {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| StartupError::CreateDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
        }
        let mut probe = target.connect()?;
        if let Target::Sqlite(_) = &target {
            // WAL is a property of the file: set it once, before the pools open connections
            // concurrently (switching modes needs the database to itself).
            probe
                .batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
                .map_err(|e| StartupError::Sqlite(format!("cannot enable WAL: {e}")))?;
        }
        drop(probe);

        let manager = Manager {
            target: target.clone(),
        };
        let builder = || {
            r2d2::Pool::builder()
                .test_on_check_out(false)
                .connection_timeout(options.connect_timeout)
        };
        let (read, write) = match &target {
            Target::Sqlite(_) => {
                let pragmas = SqlitePragmas {
                    synchronous_full: options.sqlite_synchronous_full,
                };
                let write = builder()
                    .max_size(1)
                    .connection_customizer(Box::new(pragmas))
                    .build(manager.clone())?;
                let read = builder()
                    .max_size(options.pool_size.max(1))
                    .connection_customizer(Box::new(pragmas))
                    .build(manager)?;
                (read, write)
            }
            Target::Postgres(_) => {
                let size = options.pool_size.max(1);
                let read = builder().max_size(size).build(manager.clone())?;
                let write = builder().max_size(size).build(manager)?;
                (read, write)
            }
        };
        // SQLite takes one writer at a time and gains most from shared commits; PostgreSQL
        // commits on several threads in parallel.
        let writer_options = match &target {
            Target::Sqlite(_) => writer::WriterOptions {
                threads: 1,
                max_batch: writer::SQLITE_MAX_BATCH,
            },
            Target::Postgres(_) => writer::WriterOptions {
                threads: options.pool_size.max(1) as usize,
                max_batch: options.postgres_write_batch,
            },
        };
        let writer = writer::Writer::start(write.clone(), writer_options);
        Ok(Db {
            read,
            write,
            writer,
            target,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Runs `f` on a read connection (no transaction: each statement sees committed data).
    pub fn read<T, E>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<Unavailable>,
    {
        let mut conn = self.read.get().map_err(Unavailable::Pool)?;
        f(&mut conn)
    }

    /// Runs a report's reads on a read connection, in one read-only transaction (one snapshot;
    /// see [`dialect::report_transaction`]).
    pub fn read_report<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<Unavailable> + From<diesel::result::Error>,
    {
        let mut conn = self.read.get().map_err(Unavailable::Pool)?;
        dialect::report_transaction(&mut conn, f)
    }

    /// Runs `f` in a write transaction on the writer thread (see [`writer`]) and waits for the
    /// commit without blocking the calling thread. `Err` from `f` undoes its changes only.
    pub async fn write<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<Unavailable> + Send + 'static,
    {
        self.writer.write(f).await
    }

    /// Runs `f` in its own write transaction on the calling thread, for tools and tests that do
    /// not run inside the server.
    pub fn write_blocking<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<Unavailable>,
    {
        let mut conn = self.write.get().map_err(Unavailable::Pool)?;
        dialect::write_transaction(&mut conn, f)
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> Result<usize, StartupError> {
        let mut conn = self
            .write
            .get()
            .map_err(|e| StartupError::Migrate(e.to_string()))?;
        dialect::run_migrations(&mut conn).map_err(StartupError::Migrate)
    }

    /// The pools' and the writer's state now, for metrics.
    pub fn health(&self) -> DbHealth {
        let (read, write) = (self.read.state(), self.write.state());
        DbHealth {
            read_connections: read.connections,
            read_idle: read.idle_connections,
            write_connections: write.connections,
            write_idle: write.idle_connections,
            writer_queue: self.writer.waiting(),
        }
    }

    /// True when the database answers a trivial query.
    pub fn ping(&self) -> bool {
        match self.read.get() {
            Ok(mut conn) => conn.ping().is_ok(),
            Err(_) => false,
        }
    }
}

/// The pools' and the writer's state at one moment.
#[derive(Debug, Clone, Copy)]
pub struct DbHealth {
    pub read_connections: u32,
    pub read_idle: u32,
    pub write_connections: u32,
    pub write_idle: u32,
    pub writer_queue: usize,
}

/// How far the process's clock is set from real time, in microseconds: always 0 when serving;
/// `cogov demo` alone moves it, to replay a year of a district's history through the same
/// commands (and the same notice and voting rules) a person would use.
static CLOCK_OFFSET_MICROS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Sets this process's clock to `at` (UTC). For `cogov demo` only: a served instance never
/// calls it, so its timestamps are the real time.
pub fn set_clock(at: chrono::NaiveDateTime) {
    let offset = (at - chrono::Utc::now().naive_utc())
        .num_microseconds()
        .unwrap_or(0);
    CLOCK_OFFSET_MICROS.store(offset, std::sync::atomic::Ordering::SeqCst);
}

/// The clock every stored timestamp comes from: UTC, truncated to microseconds so that both
/// backends store and return the same value.
pub fn now() -> chrono::NaiveDateTime {
    let offset = CLOCK_OFFSET_MICROS.load(std::sync::atomic::Ordering::SeqCst);
    crate::domain::truncate_to_micros(
        chrono::Utc::now().naive_utc() + chrono::Duration::microseconds(offset),
    )
}

/// Today's date (UTC) by the same clock as [`now`].
pub fn today() -> chrono::NaiveDate {
    now().date()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single-record insert whose SQL text is fixed is prepared once per connection and
    /// reused (diesel caches it); with diesel's default for `Insertable` every field may be
    /// `DEFAULT`, the text varies, and the backend parses and plans the insert on every write.
    /// Every `Insertable` in `db` therefore says `treat_none_as_default_value = false` (no
    /// nullable column has a default, so `NULL` and `DEFAULT` store the same).
    #[test]
    fn single_record_inserts_are_prepared_once() {
        use diesel::query_builder::QueryFragment;
        let event = access::AuditEvent {
            id: "e".into(),
            occurred_at: chrono::NaiveDateTime::default(),
            actor_kind: "person".into(),
            actor_id: None,
            roles: String::new(),
            action: "create".into(),
            resource: "/api/v1/councils".into(),
            resource_id: None,
            outcome: "allowed".into(),
            status: 201,
            request_id: None,
            client_address: None,
            user_agent: None,
            app_client_id: None,
        };
        let insert = diesel::insert_into(schema::audit_events::table).values(&event);
        assert!(insert.is_safe_to_cache_prepared(&diesel::pg::Pg).unwrap());
        assert!(insert
            .is_safe_to_cache_prepared(&diesel::sqlite::Sqlite)
            .unwrap());
        assert!(changes::insert_is_prepared_once());
    }

    #[test]
    fn url_scheme_picks_the_backend() {
        assert_eq!(
            Target::parse("sqlite://./data/cogov.db").unwrap(),
            Target::Sqlite(PathBuf::from("./data/cogov.db"))
        );
        assert!(matches!(
            Target::parse("postgres://u@127.0.0.1/test"),
            Ok(Target::Postgres(_))
        ));
        assert!(matches!(
            Target::parse("postgresql://u@127.0.0.1/test"),
            Ok(Target::Postgres(_))
        ));
    }

    #[test]
    fn unknown_schemes_are_refused_not_turned_into_files() {
        let err = Target::parse("mysql://root@localhost/test").unwrap_err();
        assert!(err.to_string().contains("\"mysql\""), "{err}");
        assert!(Target::parse("./data/cogov.db").is_err());
        assert!(matches!(
            Target::parse("sqlite://"),
            Err(StartupError::EmptySqlitePath)
        ));
    }

    #[test]
    fn passwords_are_redacted() {
        let t = Target::parse("postgres://app:s3cret@db.internal:5432/cogov").unwrap();
        let shown = t.redacted();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.internal"), "{shown}");
    }
}
