//! Stored first responses of POSTs sent with an `Idempotency-Key`. Not a resource: no version,
//! no change-log entry.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{AnyConnection, StoreError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys, treat_none_as_default_value = false)]
pub struct IdempotencyRow {
    pub id: String,
    /// Who sent the request (`person:<id>`, `client:<id>`, `anonymous`): keys are per caller.
    pub caller: String,
    pub idempotency_key: String,
    /// SHA-256 of the method, path and body: a retry must be the same request.
    pub fingerprint: String,
    /// `None` while the first request is still being handled.
    pub status: Option<i64>,
    /// JSON object of the response headers a replay repeats (`Content-Type`, `Location`, `ETag`).
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn find(
    conn: &mut AnyConnection,
    caller: &str,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .filter(idempotency_keys::caller.eq(caller))
        .filter(idempotency_keys::idempotency_key.eq(key))
        .select(IdempotencyRow::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().next())
}

/// Claims the key; `StoreError::Duplicate` when another request holds it. Runs in a savepoint:
/// on PostgreSQL a refused insert would otherwise abort the whole transaction, and the caller
/// goes on to read who holds the key.
pub fn claim(conn: &mut AnyConnection, row: &IdempotencyRow) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::insert_into(idempotency_keys::table)
            .values(row)
            .execute(conn)
            .map(|_| ())
    })?;
    Ok(())
}

/// Forgets keys that expired before `now` (all of them, or one caller's one key).
pub fn forget_expired(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    only: Option<(&str, &str)>,
) -> QueryResult<usize> {
    let mut query = diesel::delete(idempotency_keys::table)
        .filter(idempotency_keys::expires_at.lt(now))
        .into_boxed();
    if let Some((caller, key)) = only {
        query = query
            .filter(idempotency_keys::caller.eq(caller.to_owned()))
            .filter(idempotency_keys::idempotency_key.eq(key.to_owned()));
    }
    query.execute(conn)
}

/// Stores the first response.
pub fn complete(
    conn: &mut AnyConnection,
    id: &str,
    status: i64,
    headers: &str,
    body: &str,
) -> QueryResult<usize> {
    diesel::update(idempotency_keys::table.find(id))
        .set((
            idempotency_keys::status.eq(Some(status)),
            idempotency_keys::response_headers.eq(Some(headers)),
            idempotency_keys::response_body.eq(Some(body)),
        ))
        .execute(conn)
}

/// Releases a key whose request failed in a way a retry may fix.
pub fn release(conn: &mut AnyConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.find(id)).execute(conn)
}
