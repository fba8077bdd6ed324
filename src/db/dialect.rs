//! The only place that looks at which backend a connection is. Everything else in `db/` is
//! written once against [`AnyConnection`].

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::AnyConnection;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`, taking the write lock up
/// front: a deferred transaction that reads first and writes later can fail with "database is
/// locked" when it tries to upgrade. Nested transactions on the connection become savepoints.
pub fn begin_write(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
        AnyConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction(inner),
    }
}

/// Runs `f` in a write transaction (see [`begin_write`]); commits on `Ok`, rolls back on `Err`.
pub fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    begin_write(conn)?;
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

#[derive(diesel::QueryableByName)]
struct ColumnInfo {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

/// Every column of cogov's tables as `table.column null|not null`, sorted: the shape both backends
/// must agree on (a test compares it with a committed list).
pub fn describe_tables(conn: &mut AnyConnection) -> diesel::QueryResult<Vec<String>> {
    use diesel::RunQueryDsl;
    let sql = match conn {
        AnyConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, \
                    (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
               AND m.name <> '__diesel_schema_migrations'"
        }
        AnyConnection::Postgresql(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                    (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let rows: Vec<ColumnInfo> = diesel::sql_query(sql).load(conn)?;
    let mut lines: Vec<String> = rows
        .into_iter()
        .map(|r| {
            let null = if r.nullable { "null" } else { "not null" };
            format!("{}.{} {null}", r.table_name, r.column_name)
        })
        .collect();
    lines.sort();
    Ok(lines)
}
