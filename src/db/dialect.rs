//! The only place that looks at which backend a connection is. Everything else in `db/` is
//! written once against [`AnyConnection`].

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::AnyConnection;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Runs `f` in a transaction. On SQLite it begins with `BEGIN IMMEDIATE`, taking the write lock up
/// front: a deferred transaction that reads first and writes later can fail with "database is
/// locked" when it tries to upgrade. Nested `conn.transaction(..)` calls inside `f` become
/// savepoints, as usual.
pub fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        AnyConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction(inner)?,
    }
    match f(conn) {
        Ok(value) => {
            <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(err) => {
            // A failed rollback leaves the connection marked broken; the pool then drops it.
            let _ = <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(err)
        }
    }
}

/// Applies the pending migrations of the connection's backend.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, String> {
    let applied = match conn {
        AnyConnection::Sqlite(inner) => inner.run_pending_migrations(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(inner) => inner.run_pending_migrations(POSTGRES_MIGRATIONS),
    };
    applied.map(|list| list.len()).map_err(|e| e.to_string())
}
