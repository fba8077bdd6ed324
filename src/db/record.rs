//! The council record: entries of each council's hash chain, appended and never changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::record_entries;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = record_entries, treat_none_as_default_value = false)]
pub struct RecordEntry {
    pub id: String,
    pub council_id: String,
    /// 1, 2, 3 … per council (a unique index with `council_id`).
    pub seq: i64,
    pub kind: String,
    pub subject_id: String,
    pub recorded_at: NaiveDateTime,
    /// The canonical JSON text of what the entry says (domain::record::canonical).
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

/// Appends an entry. Call it with the council's row locked, in the act's transaction.
pub fn insert(conn: &mut AnyConnection, row: &RecordEntry) -> QueryResult<()> {
    diesel::insert_into(record_entries::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The council's latest entry.
pub fn last(conn: &mut AnyConnection, council_id: &str) -> QueryResult<Option<RecordEntry>> {
    record_entries::table
        .filter(record_entries::council_id.eq(council_id))
        .order(record_entries::seq.desc())
        .select(RecordEntry::as_select())
        .first(conn)
        .optional()
}

/// The council's entries after `after_seq`, in order, at most `fetch` of them.
pub fn page(
    conn: &mut AnyConnection,
    council_id: &str,
    after_seq: i64,
    fetch: i64,
) -> QueryResult<Vec<RecordEntry>> {
    record_entries::table
        .filter(record_entries::council_id.eq(council_id))
        .filter(record_entries::seq.gt(after_seq))
        .order(record_entries::seq.asc())
        .limit(fetch)
        .select(RecordEntry::as_select())
        .load(conn)
}
