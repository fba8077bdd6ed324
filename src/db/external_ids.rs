//! External ids of schools, people and councils (`external_ids`). A record's ids are replaced as a
//! whole; two unique indexes hold one value per system and kind of record, and one value per
//! system on each record, across every writer.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{external_ids, import_rows};
use super::{AnyConnection, StoreError};
use crate::domain::external_ids::{ExternalId, ResourceKind};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = external_ids, treat_none_as_default_value = false)]
struct Row {
    id: String,
    resource_kind: String,
    resource_id: String,
    system: String,
    value: String,
    created_at: NaiveDateTime,
}

/// The external ids of one record, by system.
pub fn of(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    resource_id: &str,
) -> QueryResult<Vec<ExternalId>> {
    // Read with every GET of a record: a prepared statement on the backend's own connection
    // (see `on_backend!`).
    crate::on_backend!(conn, |c| external_ids::table
        .filter(external_ids::resource_kind.eq(kind.as_str()))
        .filter(external_ids::resource_id.eq(resource_id))
        .order(external_ids::system.asc())
        .select((external_ids::system, external_ids::value))
        .load::<(String, String)>(c))
    .map(|rows| {
        rows.into_iter()
            .map(|(system, value)| ExternalId { system, value })
            .collect()
    })
}

/// `find_with_ids(conn, id)`: a record of `$table` by id together with its external ids, in one
/// statement (the record left-joined to its ids; one row per id, or one row without an id). A
/// GET of a record reads both; one statement is one round trip to PostgreSQL and one read
/// transaction (one pass through the shared-memory lock) on SQLite. Prepared on the backend's
/// own connection (see `on_backend!`).
macro_rules! find_with_ids {
    ($table:ident, $row:ty, $kind:expr) => {
        pub fn find_with_ids(
            conn: &mut $crate::db::AnyConnection,
            id: &str,
        ) -> diesel::QueryResult<Option<($row, Vec<$crate::domain::external_ids::ExternalId>)>> {
            use $crate::db::schema::external_ids;
            let kind: $crate::domain::external_ids::ResourceKind = $kind;
            let rows = $crate::on_backend!(conn, |c| $table::table
                .left_join(
                    external_ids::table.on(external_ids::resource_id
                        .eq($table::id)
                        .and(external_ids::resource_kind.eq(kind.as_str()))),
                )
                .filter($table::id.eq(id))
                .order(external_ids::system.asc())
                .select((
                    <$row>::as_select(),
                    (external_ids::system, external_ids::value).nullable(),
                ))
                .load::<($row, Option<(String, String)>)>(c))?;
            let mut rows = rows.into_iter();
            let Some((row, first)) = rows.next() else {
                return Ok(None);
            };
            let ids = first
                .into_iter()
                .chain(rows.filter_map(|(_, id)| id))
                .map(|(system, value)| $crate::domain::external_ids::ExternalId { system, value })
                .collect();
            Ok(Some((row, ids)))
        }
    };
}
pub(crate) use find_with_ids;

/// The external ids of several records of one kind, by record id.
pub fn of_many(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    resource_ids: &[String],
) -> QueryResult<HashMap<String, Vec<ExternalId>>> {
    let mut out: HashMap<String, Vec<ExternalId>> = HashMap::new();
    if resource_ids.is_empty() {
        return Ok(out);
    }
    // Read with every list page (see `on_backend!`).
    let rows = crate::on_backend!(conn, |c| external_ids::table
        .filter(external_ids::resource_kind.eq(kind.as_str()))
        .filter(external_ids::resource_id.eq_any(resource_ids))
        .order((external_ids::resource_id.asc(), external_ids::system.asc()))
        .select((
            external_ids::resource_id,
            external_ids::system,
            external_ids::value,
        ))
        .load::<(String, String, String)>(c))?;
    for (id, system, value) in rows {
        out.entry(id)
            .or_default()
            .push(ExternalId { system, value });
    }
    Ok(out)
}

/// The id of the record of this kind that carries this external id, if any.
pub fn holder(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    id: &ExternalId,
) -> QueryResult<Option<String>> {
    external_ids::table
        .filter(external_ids::resource_kind.eq(kind.as_str()))
        .filter(external_ids::system.eq(&id.system))
        .filter(external_ids::value.eq(&id.value))
        .select(external_ids::resource_id)
        .load::<String>(conn)
        .map(|rows| rows.into_iter().next())
}

/// Which records of this kind carry each of these values of one system: value → record id
/// (values no record carries are absent). One query for a whole batch of rows, which looks
/// each value up in the unique index `(resource_kind, system, value)`: on PostgreSQL through
/// [`super::dialect::external_id_holders`] (a plain `value = ANY($3)` was planned as a scan of
/// the whole system's ids when the table had no statistics yet), on SQLite as an `IN (…)` list.
pub fn holders_of(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    system: &str,
    values: &[String],
) -> QueryResult<HashMap<String, String>> {
    if values.is_empty() {
        return Ok(HashMap::new());
    }
    if let Some(rows) = super::dialect::external_id_holders(conn, kind.as_str(), system, values)? {
        return Ok(rows.into_iter().collect());
    }
    external_ids::table
        .filter(external_ids::resource_kind.eq(kind.as_str()))
        .filter(external_ids::system.eq(system))
        .filter(external_ids::value.eq_any(values))
        .select((external_ids::value, external_ids::resource_id))
        .load::<(String, String)>(conn)
        .map(|rows| rows.into_iter().collect())
}

/// Gives new records their first external id, many in one statement: `(record id, id)` pairs.
/// A value another record of the kind already holds is refused by the unique index
/// (`StoreError::Duplicate`), and then none of them is added.
pub fn add_many(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    ids: &[(String, ExternalId)],
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<Row> = ids
        .iter()
        .map(|(resource_id, id)| Row {
            id: uuid::Uuid::now_v7().to_string(),
            resource_kind: kind.as_str().to_owned(),
            resource_id: resource_id.clone(),
            system: id.system.clone(),
            value: id.value.clone(),
            created_at: at,
        })
        .collect();
    crate::insert_rows!(conn, external_ids::table, rows)?;
    Ok(())
}

/// A filter for a list query: `<table>::id.eq_any(holders(kind, id))` keeps the records of the
/// kind that carry this external id.
#[macro_export]
macro_rules! external_id_holders {
    ($kind:expr, $id:expr) => {
        $crate::db::schema::external_ids::table
            .filter($crate::db::schema::external_ids::resource_kind.eq($kind.as_str()))
            .filter($crate::db::schema::external_ids::system.eq($id.system.clone()))
            .filter($crate::db::schema::external_ids::value.eq($id.value.clone()))
            .select($crate::db::schema::external_ids::resource_id)
    };
}

/// Replaces a record's external ids with `ids` (inserting, changing and removing only what
/// differs). A value another record of the kind already holds is refused by the unique index
/// (`StoreError::Duplicate`).
pub fn replace(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    resource_id: &str,
    ids: &[ExternalId],
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let current = of(conn, kind, resource_id)?;
    for old in &current {
        if !ids.contains(old) {
            diesel::delete(
                external_ids::table
                    .filter(external_ids::resource_kind.eq(kind.as_str()))
                    .filter(external_ids::resource_id.eq(resource_id))
                    .filter(external_ids::system.eq(&old.system)),
            )
            .execute(conn)?;
        }
    }
    for new in ids {
        if !current.contains(new) {
            diesel::insert_into(external_ids::table)
                .values(Row {
                    id: uuid::Uuid::now_v7().to_string(),
                    resource_kind: kind.as_str().to_owned(),
                    resource_id: resource_id.to_owned(),
                    system: new.system.clone(),
                    value: new.value.clone(),
                    created_at: at,
                })
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Removes every external id of a record (when the record is deleted).
pub fn remove_all(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    resource_id: &str,
) -> QueryResult<usize> {
    diesel::delete(
        external_ids::table
            .filter(external_ids::resource_kind.eq(kind.as_str()))
            .filter(external_ids::resource_id.eq(resource_id)),
    )
    .execute(conn)
}

/// The source's `dateLastModified` last applied for each of these values of one system that has
/// one: value → date. One query for a batch of rows.
pub fn modified_of(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    system: &str,
    values: &[String],
) -> QueryResult<HashMap<String, NaiveDateTime>> {
    if values.is_empty() {
        return Ok(HashMap::new());
    }
    external_ids::table
        .filter(external_ids::resource_kind.eq(kind.as_str()))
        .filter(external_ids::system.eq(system))
        .filter(external_ids::value.eq_any(values))
        .filter(external_ids::source_modified_at.is_not_null())
        .select((external_ids::value, external_ids::source_modified_at))
        .load::<(String, Option<NaiveDateTime>)>(conn)
        .map(|rows| {
            rows.into_iter()
                .filter_map(|(v, at)| at.map(|at| (v, at)))
                .collect()
        })
}

/// Records the source's `dateLastModified` with these external ids of one system, where it is
/// later than what is stored (one statement).
pub fn stamp_modified(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    system: &str,
    values: &[String],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    if values.is_empty() {
        return Ok(0);
    }
    diesel::update(
        external_ids::table
            .filter(external_ids::resource_kind.eq(kind.as_str()))
            .filter(external_ids::system.eq(system))
            .filter(external_ids::value.eq_any(values))
            .filter(
                external_ids::source_modified_at
                    .is_null()
                    .or(external_ids::source_modified_at.lt(at)),
            ),
    )
    .set(external_ids::source_modified_at.eq(Some(at)))
    .execute(conn)
}

/// The values of one system, after `after` in order, that records of this kind carry and that
/// no row result of the import `import_id` from `file` names: the records a bulk file left out.
/// An anti-join in the database (`NOT EXISTS`), at most `fetch` values.
pub fn omitted(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    system: &str,
    import_id: &str,
    file: &str,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<String>> {
    let listed = import_rows::table
        .filter(import_rows::import_id.eq(import_id.to_owned()))
        .filter(import_rows::file.eq(file.to_owned()))
        .filter(import_rows::sourced_id.eq(external_ids::value.nullable()));
    let mut query = external_ids::table
        .filter(external_ids::resource_kind.eq(kind.as_str()))
        .filter(external_ids::system.eq(system.to_owned()))
        .filter(diesel::dsl::not(diesel::dsl::exists(listed)))
        .select(external_ids::value)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(external_ids::value.gt(after.to_owned()));
    }
    query
        .order(external_ids::value.asc())
        .limit(fetch)
        .load(conn)
}
