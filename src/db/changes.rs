//! The change log: every write appends one row here in the same transaction, and a delete leaves
//! a tombstone. Sync feeds, webhooks and reports read from this one table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{change_prunes, changes};
use super::AnyConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = changes)]
pub struct Change {
    pub seq: i64,
    pub resource: String,
    pub resource_id: String,
    pub action: String,
    pub version: i64,
    pub occurred_at: NaiveDateTime,
    /// The writing transaction's position in commit order (PostgreSQL's transaction id; 0 on
    /// SQLite, where the sequence is commit order already).
    pub txid: i64,
}

#[derive(Insertable)]
#[diesel(table_name = changes, treat_none_as_default_value = false)]
struct NewChange<'a> {
    resource: &'a str,
    resource_id: &'a str,
    action: &'a str,
    version: i64,
    occurred_at: NaiveDateTime,
}

/// Whether the insert of one change has a fixed SQL text on both backends (so it is prepared
/// once per connection); see `db::tests::single_record_inserts_are_prepared_once`.
#[cfg(test)]
pub(super) fn insert_is_prepared_once() -> bool {
    use diesel::query_builder::QueryFragment;
    let insert = diesel::insert_into(changes::table).values(NewChange {
        resource: "council",
        resource_id: "c",
        action: "created",
        version: 1,
        occurred_at: NaiveDateTime::default(),
    });
    insert
        .is_safe_to_cache_prepared(&diesel::pg::Pg)
        .unwrap_or(false)
        && insert
            .is_safe_to_cache_prepared(&diesel::sqlite::Sqlite)
            .unwrap_or(false)
}

/// Appends one change. Call it inside the transaction that made the change.
pub fn record(
    conn: &mut AnyConnection,
    resource: &str,
    resource_id: &str,
    action: Action,
    version: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(changes::table)
        .values(NewChange {
            resource,
            resource_id,
            action: action.as_str(),
            version,
            occurred_at: at,
        })
        .execute(conn)
        .map(|_| ())
}

/// One entry for [`record_many`].
pub struct Entry<'a> {
    pub resource: &'a str,
    pub resource_id: &'a str,
    pub action: Action,
    pub version: i64,
    pub at: NaiveDateTime,
}

/// Appends several changes in one statement, in the order given. Call it inside the transaction
/// that made them.
pub fn record_many(conn: &mut AnyConnection, entries: &[Entry<'_>]) -> QueryResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewChange<'_>> = entries
        .iter()
        .map(|e| NewChange {
            resource: e.resource,
            resource_id: e.resource_id,
            action: e.action.as_str(),
            version: e.version,
            occurred_at: e.at,
        })
        .collect();
    crate::insert_rows!(conn, changes::table, rows)
}

/// Changes to one resource, oldest first.
pub fn for_resource(
    conn: &mut AnyConnection,
    resource: &str,
    resource_id: &str,
) -> QueryResult<Vec<Change>> {
    changes::table
        .filter(changes::resource.eq(resource))
        .filter(changes::resource_id.eq(resource_id))
        .order(changes::seq.asc())
        .select(Change::as_select())
        .load(conn)
}

/// A position in the change feed: after the change `seq` of transaction `txid`. Positions are
/// ordered as the feed serves changes: by transaction, then by sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FeedPosition {
    pub txid: i64,
    pub seq: i64,
}

/// The last position any prune removed: a cursor before it has missed changes for good.
pub fn pruned_through(conn: &mut AnyConnection) -> QueryResult<Option<FeedPosition>> {
    change_prunes::table
        .select((change_prunes::through_txid, change_prunes::through_seq))
        .order((
            change_prunes::through_txid.desc(),
            change_prunes::through_seq.desc(),
        ))
        .first::<(i64, i64)>(conn)
        .optional()
        .map(|p| p.map(|(txid, seq)| FeedPosition { txid, seq }))
}

/// Where the feed ends now for a reader: the last change below the horizon, or the last pruned
/// position when every change before it is gone (the start otherwise).
pub fn head(conn: &mut AnyConnection, horizon: Option<i64>) -> QueryResult<FeedPosition> {
    let mut query = changes::table
        .select((changes::txid, changes::seq))
        .into_boxed();
    if let Some(horizon) = horizon {
        query = query.filter(changes::txid.lt(horizon));
    }
    let last = query
        .order((changes::txid.desc(), changes::seq.desc()))
        .first::<(i64, i64)>(conn)
        .optional()?
        .map(|(txid, seq)| FeedPosition { txid, seq });
    let pruned = pruned_through(conn)?;
    Ok(last.max(pruned).unwrap_or_default())
}

/// Whether any change occurred before `cutoff` (whether a prune has anything to do).
pub fn any_before(conn: &mut AnyConnection, cutoff: NaiveDateTime) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        changes::table.filter(changes::occurred_at.lt(cutoff)),
    ))
    .get_result(conn)
}

#[derive(Insertable)]
#[diesel(table_name = change_prunes, treat_none_as_default_value = false)]
struct NewPrune<'a> {
    id: &'a str,
    through_txid: i64,
    through_seq: i64,
    removed: i64,
    pruned_at: NaiveDateTime,
}

/// Removes the changes that occurred before `cutoff`, up to the last such change in feed order
/// (and never past the horizon: a transaction still running may yet add changes before it), and
/// records the position removed through. Returns that position and how many changes went, or
/// `None` when nothing was old enough.
pub fn prune(
    conn: &mut AnyConnection,
    cutoff: NaiveDateTime,
    horizon: Option<i64>,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(FeedPosition, i64)>> {
    let mut query = changes::table
        .filter(changes::occurred_at.lt(cutoff))
        .select((changes::txid, changes::seq))
        .into_boxed();
    if let Some(horizon) = horizon {
        query = query.filter(changes::txid.lt(horizon));
    }
    let Some((txid, seq)) = query
        .order((changes::txid.desc(), changes::seq.desc()))
        .first::<(i64, i64)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let removed = diesel::delete(
        changes::table.filter(
            changes::txid
                .lt(txid)
                .or(changes::txid.eq(txid).and(changes::seq.le(seq))),
        ),
    )
    .execute(conn)? as i64;
    diesel::insert_into(change_prunes::table)
        .values(NewPrune {
            id,
            through_txid: txid,
            through_seq: seq,
            removed,
            pruned_at: now,
        })
        .execute(conn)?;
    Ok(Some((FeedPosition { txid, seq }, removed)))
}

/// Changes after `after`, in commit order, at most `fetch` of them, only of the given resource
/// kinds (`None`: all), and only of transactions older than `horizon` (when the backend has one,
/// see `dialect::feed_horizon`): a transaction still running may yet commit rows, and a reader
/// must not move past them.
pub fn feed(
    conn: &mut AnyConnection,
    after: FeedPosition,
    horizon: Option<i64>,
    resources: Option<&[&str]>,
    fetch: i64,
) -> QueryResult<Vec<Change>> {
    let mut query = changes::table
        .filter(
            changes::txid
                .gt(after.txid)
                .or(changes::txid.eq(after.txid).and(changes::seq.gt(after.seq))),
        )
        .select(Change::as_select())
        .into_boxed();
    if let Some(horizon) = horizon {
        query = query.filter(changes::txid.lt(horizon));
    }
    if let Some(kinds) = resources {
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        query = query.filter(changes::resource.eq_any(kinds));
    }
    query
        .order((changes::txid.asc(), changes::seq.asc()))
        .limit(fetch)
        .load(conn)
}

diesel::define_sql_function! {
    /// SQL `lower()`; used as `lower(column) LIKE lower(pattern)` so that matching ignores case on
    /// both backends in the same way.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A `LIKE` pattern matching `text` anywhere, with `%`, `_` and `\` escaped (escape char `\`).
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Writes a versioned row and its change entry: `insert`, `update` and `delete`, each of which
/// checks the version in the statement itself, and `find`. Each aggregate module invokes it once.
///
/// The version check is part of the SQL (`UPDATE … WHERE id = ? AND version = ?`), not only of
/// the code before it: with several writers (PostgreSQL, several app instances) another
/// transaction may change the row between our read and our write, and then zero rows match and
/// the write fails with [`StoreError::Stale`](crate::db::StoreError::Stale) instead of silently
/// overwriting the other change.
macro_rules! versioned_writes {
    ($table:ident, $row:ty, $resource:literal) => {
        /// Inserts the row and records `created`.
        pub fn insert(
            conn: &mut $crate::db::AnyConnection,
            row: &$row,
        ) -> Result<(), $crate::db::StoreError> {
            diesel::insert_into($table::table)
                .values(row)
                .execute(conn)?;
            $crate::db::changes::record(
                conn,
                $resource,
                &row.id,
                $crate::db::changes::Action::Created,
                row.version,
                row.created_at,
            )?;
            Ok(())
        }

        /// Saves every column of the row, whose `version` has already been advanced by one from
        /// the version it was read at, and records `updated`. Fails with `Stale` when the stored
        /// row is no longer at the version it was read at.
        pub fn update(
            conn: &mut $crate::db::AnyConnection,
            row: &$row,
        ) -> Result<(), $crate::db::StoreError> {
            let n = diesel::update(
                $table::table
                    .find(&row.id)
                    .filter($table::version.eq(row.version - 1)),
            )
            .set(row)
            .execute(conn)?;
            if n == 0 {
                return Err($crate::db::StoreError::Stale($resource));
            }
            $crate::db::changes::record(
                conn,
                $resource,
                &row.id,
                $crate::db::changes::Action::Updated,
                row.version,
                row.updated_at,
            )?;
            Ok(())
        }

        /// Deletes the row if it is still at the version it was read at, and records a
        /// `deleted` tombstone.
        pub fn delete(
            conn: &mut $crate::db::AnyConnection,
            row: &$row,
        ) -> Result<(), $crate::db::StoreError> {
            let n = diesel::delete(
                $table::table
                    .find(&row.id)
                    .filter($table::version.eq(row.version)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err($crate::db::StoreError::Stale($resource));
            }
            $crate::db::changes::record(
                conn,
                $resource,
                &row.id,
                $crate::db::changes::Action::Deleted,
                row.version + 1,
                $crate::db::now(),
            )?;
            Ok(())
        }

        /// The row with this id, if any: a prepared statement on the backend's own connection
        /// (see `on_backend!`). No `LIMIT 1`: the primary key already bounds the result.
        pub fn find(
            conn: &mut $crate::db::AnyConnection,
            id: &str,
        ) -> diesel::QueryResult<Option<$row>> {
            $crate::on_backend!(conn, |c| $table::table
                .find(id)
                .select(<$row>::as_select())
                .load(c)
                .map(|rows| rows.into_iter().next()))
        }
    };
}
pub(crate) use versioned_writes;

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
