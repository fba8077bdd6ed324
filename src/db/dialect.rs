//! The only place that looks at which backend a connection is. Everything else in `db/` is
//! written once against [`AnyConnection`].

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
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
    let result = f(conn);
    finish(conn, result)
}

/// Ends the transaction `f` ran in: commits on `Ok`, rolls back on `Err`.
fn finish<T, E>(conn: &mut AnyConnection, result: Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match result {
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

/// Runs a report's reads in one read-only transaction, so all its statements see one snapshot.
/// On PostgreSQL it is `REPEATABLE READ`, and its sorts and hashes may use 64 MB before they
/// spill to disk (the server's default `work_mem` is 4 MB, which a report over five years of
/// meetings exceeds); `SET LOCAL` ends with the transaction, so the pooled connection is back
/// to the default after it. Begun in one round trip.
pub fn report_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        AnyConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN DEFERRED")?
        }
        AnyConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction_sql(
            inner,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL work_mem = '64MB'",
        )?,
    }
    let result = f(conn);
    finish(conn, result)
}

/// Inside a report transaction: tells PostgreSQL that reading a row through an index costs
/// about what reading it in order does (`random_page_cost` 1.1 instead of 4, the setting for
/// data held in memory or on SSD), so a report over a bounded page looks rows up by key instead
/// of hashing whole tables. `SET LOCAL`: it ends with the transaction. SQLite always looks up
/// by key; nothing to say.
pub fn prefer_index_lookups(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(_) => Ok(()),
        AnyConnection::Postgresql(inner) => inner.batch_execute("SET LOCAL random_page_cost = 1.1"),
    }
}

/// True when the database refused a change because of a foreign key. PostgreSQL says so in the
/// error kind; SQLite reports a plain constraint error whose extended code is lost by the time
/// diesel reads it, so its message text is recognised here, the one place that knows backends.
pub fn is_foreign_key_violation(
    kind: &diesel::result::DatabaseErrorKind,
    info: &dyn diesel::result::DatabaseErrorInformation,
) -> bool {
    matches!(kind, diesel::result::DatabaseErrorKind::ForeignKeyViolation)
        || info.message().starts_with("FOREIGN KEY constraint failed")
}

/// True when an error says the database could not complete the statement for reasons a retry
/// may fix: the connection was lost (server restart, network cut, idle timeout), or
/// PostgreSQL chose this transaction as a deadlock or serialization victim. libpq reports these
/// as errors of unknown kind, so their texts are recognised here.
pub fn is_transient(info: &dyn diesel::result::DatabaseErrorInformation) -> bool {
    let message = info.message();
    [
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "deadlock detected",
        "could not serialize access",
        "the database system is shutting down",
        "the database system is starting up",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

#[derive(diesel::QueryableByName)]
struct Horizon {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    horizon: i64,
}

/// The change feed's horizon: the oldest transaction still running on PostgreSQL (rows of it and
/// of younger ones may still appear, so a reader stops below it). SQLite runs one writer at a
/// time and readers see only committed rows in sequence order: no horizon.
pub fn feed_horizon(conn: &mut AnyConnection) -> diesel::QueryResult<Option<i64>> {
    use diesel::RunQueryDsl;
    match conn {
        AnyConnection::Sqlite(_) => Ok(None),
        AnyConnection::Postgresql(_) => {
            let rows: Vec<Horizon> = diesel::sql_query(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon",
            )
            .load(conn)?;
            Ok(rows.first().map(|r| r.horizon))
        }
    }
}

/// Locks a row for the rest of the transaction, so that changes that must see each other's
/// effects (seat changes checked against a council's composition rules) run one after the
/// other. PostgreSQL takes a row lock (`FOR UPDATE`); SQLite's write transactions already run
/// one at a time (`BEGIN IMMEDIATE`), so there is nothing to take.
pub fn lock_row(conn: &mut AnyConnection, table: LockTable, id: &str) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    match conn {
        AnyConnection::Sqlite(_) => Ok(()),
        AnyConnection::Postgresql(_) => diesel::sql_query(table.select_for_update())
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(conn)
            .map(|_| ()),
    }
}

#[derive(diesel::QueryableByName)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[allow(dead_code)]
    webhook_id: String,
}

/// Claims a webhook subscription's queue for the rest of the transaction, or says it is taken.
/// PostgreSQL locks the row with `FOR UPDATE SKIP LOCKED`: an instance whose peer holds the row
/// moves on to other work at once instead of waiting for it. SQLite's write transactions run one
/// at a time, so the claim always succeeds there.
pub fn claim_webhook_queue(
    conn: &mut AnyConnection,
    webhook_id: &str,
) -> diesel::QueryResult<bool> {
    use diesel::RunQueryDsl;
    match conn {
        AnyConnection::Sqlite(_) => Ok(true),
        AnyConnection::Postgresql(_) => {
            let rows: Vec<Claimed> = diesel::sql_query(
                "SELECT webhook_id FROM webhook_cursors WHERE webhook_id = $1 FOR UPDATE SKIP LOCKED",
            )
            .bind::<diesel::sql_types::Text, _>(webhook_id)
            .load(conn)?;
            Ok(!rows.is_empty())
        }
    }
}

/// Locks a row for the rest of the transaction unless another transaction holds it: `false`
/// when it is held (PostgreSQL `FOR UPDATE SKIP LOCKED`) or gone. Work that several app
/// instances may start at once (the retention run) takes each row this way and leaves rows
/// another instance is working on to it. SQLite's write transactions run one at a time.
pub fn try_lock_row(
    conn: &mut AnyConnection,
    table: LockTable,
    id: &str,
) -> diesel::QueryResult<bool> {
    use diesel::RunQueryDsl;
    match conn {
        AnyConnection::Sqlite(_) => Ok(true),
        AnyConnection::Postgresql(_) => {
            diesel::sql_query(format!("{} SKIP LOCKED", table.select_for_update()))
                .bind::<diesel::sql_types::Text, _>(id)
                .execute(conn)
                .map(|n| n > 0)
        }
    }
}

/// The PostgreSQL statement behind [`external_id_holders`]: `$1` kind of record, `$2` system,
/// `$3` the values (`text[]`). Each value is looked up on its own through the unique index
/// `(resource_kind, system, value)` (the `LATERAL … LIMIT 1` keeps the planner from turning it
/// into a scan of every id of the system), whatever the table's statistics and whether the
/// server runs the cached statement with a custom or a generic plan. The plain
/// `value = ANY($3)` form did not hold: on a table not yet analysed, the generic plan scanned
/// every id of the system and compared each with every value of the batch.
pub const POSTGRES_EXTERNAL_ID_HOLDERS: &str = "SELECT v.value, h.resource_id \
     FROM unnest($3::text[]) AS v(value) \
     CROSS JOIN LATERAL (SELECT e.resource_id FROM external_ids e \
     WHERE e.resource_kind = $1 AND e.system = $2 AND e.value = v.value LIMIT 1) AS h";

#[derive(diesel::QueryableByName)]
struct Holder {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    resource_id: String,
}

/// Which records of one kind hold these values of one system, as `(value, record id)` pairs, on
/// PostgreSQL by [`POSTGRES_EXTERNAL_ID_HOLDERS`]. `None` on SQLite, whose planner already
/// looks each value of an `IN (…)` list up in the index: the caller runs its portable query.
pub fn external_id_holders(
    conn: &mut AnyConnection,
    kind: &str,
    system: &str,
    values: &[String],
) -> diesel::QueryResult<Option<Vec<(String, String)>>> {
    use diesel::sql_types::{Array, Text};
    use diesel::RunQueryDsl;
    match conn {
        AnyConnection::Sqlite(_) => Ok(None),
        AnyConnection::Postgresql(pg) => {
            let rows: Vec<Holder> = diesel::sql_query(POSTGRES_EXTERNAL_ID_HOLDERS)
                .bind::<Text, _>(kind)
                .bind::<Text, _>(system)
                .bind::<Array<Text>, _>(values)
                .load(pg)?;
            Ok(Some(
                rows.into_iter().map(|r| (r.value, r.resource_id)).collect(),
            ))
        }
    }
}

impl LockTable {
    /// The PostgreSQL statement that locks the row (`$1`: its key).
    fn select_for_update(self) -> &'static str {
        match self {
            LockTable::Councils => "SELECT id FROM councils WHERE id = $1 FOR UPDATE",
            LockTable::Grants => "SELECT id FROM grants WHERE role = $1 FOR UPDATE",
            LockTable::Meetings => "SELECT id FROM meetings WHERE id = $1 FOR UPDATE",
            LockTable::ServiceRequests => {
                "SELECT id FROM service_requests WHERE id = $1 FOR UPDATE"
            }
        }
    }
}

/// Tables whose rows [`lock_row`] may lock.
#[derive(Debug, Clone, Copy)]
pub enum LockTable {
    /// By council id.
    Councils,
    /// Every grant of one role (by role name).
    Grants,
    /// By meeting id: lifecycle actions on one meeting run one after the other.
    Meetings,
    /// By service request id.
    ServiceRequests,
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

/// Inserts several rows into one table: on PostgreSQL one multi-row `INSERT` (each row is a round
/// trip to the server otherwise); on SQLite, which runs in the process, one cached prepared
/// statement per row. `$rows` is a `Vec` of insertable values. Evaluates to a `QueryResult<()>`.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::db::AnyConnection::Postgresql(c) => diesel::insert_into($table)
                .values(rows)
                .execute(c)
                .map(|_| ()),
            $crate::db::AnyConnection::Sqlite(c) => {
                let mut done: diesel::QueryResult<()> = Ok(());
                for row in rows {
                    if let Err(e) = diesel::insert_into($table).values(row).execute(c) {
                        done = Err(e);
                        break;
                    }
                }
                done
            }
        }
    }};
}

/// Runs `$body` on the concrete connection inside an [`AnyConnection`], with `$c` bound to it;
/// the body is compiled once per backend. Through the connection enum diesel renders a query's
/// SQL text again on every call, even when its prepared statement is cached, and a query with
/// `LIMIT` is not cached at all (it is prepared again each time). On the concrete connection a
/// query with a static type is looked up in the statement cache by that type, and a boxed query
/// (`LIMIT` included) by its text, so hot reads (a record by id, a page of a list) run as
/// prepared statements.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}
