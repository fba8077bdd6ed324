//! Webhook subscriptions, their place in the change log, the events queued for them and every
//! delivery attempt.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{
    changes, grants, webhook_attempts, webhook_cursors, webhook_deliveries, webhooks,
};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhooks, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub owner_kind: String,
    pub owner_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(webhooks, Webhook, "webhook");

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_cursors, treat_none_as_default_value = false)]
pub struct Cursor {
    pub webhook_id: String,
    pub after_txid: i64,
    pub after_seq: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries, treat_none_as_default_value = false)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub change_seq: i64,
    pub event_type: String,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub failures_in_row: i64,
    pub next_attempt_at: NaiveDateTime,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts, treat_none_as_default_value = false)]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    pub attempt: i64,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub instance: String,
}

/// Subscriptions in id order, after `after`, at most `fetch` of them.
pub fn list(
    conn: &mut AnyConnection,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<Webhook>> {
    let mut query = webhooks::table.select(Webhook::as_select()).into_boxed();
    if let Some(after) = after {
        query = query.filter(webhooks::id.gt(after.to_owned()));
    }
    query.order(webhooks::id.asc()).limit(fetch).load(conn)
}

/// Ids of the active subscriptions.
pub fn active_ids(conn: &mut AnyConnection) -> QueryResult<Vec<String>> {
    webhooks::table
        .filter(webhooks::active.eq(true))
        .order(webhooks::id.asc())
        .select(webhooks::id)
        .load(conn)
}

pub fn insert_cursor(conn: &mut AnyConnection, cursor: &Cursor) -> QueryResult<()> {
    diesel::insert_into(webhook_cursors::table)
        .values(cursor)
        .execute(conn)
        .map(|_| ())
}

pub fn find_cursor(conn: &mut AnyConnection, webhook_id: &str) -> QueryResult<Option<Cursor>> {
    webhook_cursors::table
        .find(webhook_id)
        .select(Cursor::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().next())
}

/// Takes or extends the lease on a subscription's queue for `owner` until `until`, unless
/// another owner holds an unexpired lease. One statement, so two instances cannot both win.
pub fn take_lease(
    conn: &mut AnyConnection,
    webhook_id: &str,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        webhook_cursors::table.find(webhook_id).filter(
            webhook_cursors::lease_owner
                .is_null()
                .or(webhook_cursors::lease_owner.eq(owner))
                .or(webhook_cursors::lease_until.lt(now)),
        ),
    )
    .set((
        webhook_cursors::lease_owner.eq(owner),
        webhook_cursors::lease_until.eq(until),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives the lease back, if `owner` still holds it.
pub fn release_lease(conn: &mut AnyConnection, webhook_id: &str, owner: &str) -> QueryResult<()> {
    diesel::update(
        webhook_cursors::table
            .find(webhook_id)
            .filter(webhook_cursors::lease_owner.eq(owner)),
    )
    .set((
        webhook_cursors::lease_owner.eq(None::<String>),
        webhook_cursors::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(|_| ())
}

pub fn move_cursor(
    conn: &mut AnyConnection,
    webhook_id: &str,
    txid: i64,
    seq: i64,
) -> QueryResult<()> {
    diesel::update(webhook_cursors::table.find(webhook_id))
        .set((
            webhook_cursors::after_txid.eq(txid),
            webhook_cursors::after_seq.eq(seq),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn insert_delivery(conn: &mut AnyConnection, delivery: &Delivery) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table)
        .values(delivery)
        .execute(conn)
        .map(|_| ())
}

pub fn find_delivery(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table
        .find(id)
        .select(Delivery::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().next())
}

/// A subscription's queue: its pending events in the order they were queued, at most `fetch`.
pub fn pending(
    conn: &mut AnyConnection,
    webhook_id: &str,
    fetch: i64,
) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .filter(webhook_deliveries::state.eq("pending"))
        .order(webhook_deliveries::id.asc())
        .limit(fetch)
        .select(Delivery::as_select())
        .load(conn)
}

/// Events waiting to be delivered, over all subscriptions.
pub fn backlog(conn: &mut AnyConnection) -> QueryResult<i64> {
    webhook_deliveries::table
        .filter(webhook_deliveries::state.eq("pending"))
        .count()
        .get_result(conn)
}

/// A subscription's deliveries, newest first, before `before`, at most `fetch`.
pub fn deliveries(
    conn: &mut AnyConnection,
    webhook_id: &str,
    before: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .select(Delivery::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before.to_owned()));
    }
    query
        .order(webhook_deliveries::id.desc())
        .limit(fetch)
        .load(conn)
}

/// The attempts of these deliveries, oldest first.
pub fn attempts_of(conn: &mut AnyConnection, delivery_ids: &[String]) -> QueryResult<Vec<Attempt>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(delivery_ids.to_vec()))
        .order((
            webhook_attempts::delivery_id.asc(),
            webhook_attempts::attempt.asc(),
        ))
        .select(Attempt::as_select())
        .load(conn)
}

/// Records an attempt and the delivery's new state, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub fn record_attempt(
    conn: &mut AnyConnection,
    attempt: &Attempt,
    state: &str,
    failures_in_row: i64,
    next_attempt_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::insert_into(webhook_attempts::table)
        .values(attempt)
        .execute(conn)?;
    diesel::update(webhook_deliveries::table.find(&attempt.delivery_id))
        .set((
            webhook_deliveries::state.eq(state),
            webhook_deliveries::attempts.eq(attempt.attempt),
            webhook_deliveries::failures_in_row.eq(failures_in_row),
            webhook_deliveries::next_attempt_at.eq(next_attempt_at),
            webhook_deliveries::last_status_code.eq(attempt.status_code),
            webhook_deliveries::last_error.eq(attempt.error.clone()),
            webhook_deliveries::delivered_at.eq(delivered_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Puts a delivery back in its queue, due now, with a fresh retry schedule.
pub fn requeue(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::state.eq("pending"),
            webhook_deliveries::failures_in_row.eq(0_i64),
            webhook_deliveries::next_attempt_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// True when the subject (`person` or `client`) holds the district_admin role now.
pub fn is_district_admin(
    conn: &mut AnyConnection,
    subject_kind: &str,
    subject_id: &str,
) -> QueryResult<bool> {
    let n: i64 = grants::table
        .filter(grants::subject_kind.eq(subject_kind))
        .filter(grants::subject_id.eq(subject_id))
        .filter(grants::role.eq("district_admin"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The newest position in the change log, `(txid, seq)`; `(0, 0)` when it is empty. A new
/// subscription starts there.
pub fn log_end(conn: &mut AnyConnection) -> QueryResult<(i64, i64)> {
    let rows: Vec<(i64, i64)> = changes::table
        .order((changes::txid.desc(), changes::seq.desc()))
        .select((changes::txid, changes::seq))
        .limit(1)
        .load(conn)?;
    Ok(rows.into_iter().next().unwrap_or((0, 0)))
}

/// True when a subscription may have work: changes past its cursor, or a queued event due by
/// `now`. A cheap read that spares idle subscriptions a write transaction on every poll.
pub fn has_work(
    conn: &mut AnyConnection,
    webhook_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let Some(cursor) = find_cursor(conn, webhook_id)? else {
        return Ok(false);
    };
    let newer: i64 = changes::table
        .filter(
            changes::txid.gt(cursor.after_txid).or(changes::txid
                .eq(cursor.after_txid)
                .and(changes::seq.gt(cursor.after_seq))),
        )
        .count()
        .get_result(conn)?;
    if newer > 0 {
        return Ok(true);
    }
    let due: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .filter(webhook_deliveries::state.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .count()
        .get_result(conn)?;
    Ok(due > 0)
}

/// Removes the deliveries that ended (delivered or failed) before `cutoff`, with their attempts.
/// Pending deliveries stay whatever their age. Returns how many deliveries went.
pub fn prune_deliveries(conn: &mut AnyConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    let ended = webhook_deliveries::table
        .filter(webhook_deliveries::state.ne("pending"))
        .filter(
            webhook_deliveries::delivered_at
                .lt(cutoff)
                .or(webhook_deliveries::delivered_at
                    .is_null()
                    .and(webhook_deliveries::created_at.lt(cutoff))),
        )
        .select(webhook_deliveries::id);
    // Attempts first: the cascade of the foreign key is not relied on.
    diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(ended)))
        .execute(conn)?;
    let ended = webhook_deliveries::table
        .filter(webhook_deliveries::state.ne("pending"))
        .filter(
            webhook_deliveries::delivered_at
                .lt(cutoff)
                .or(webhook_deliveries::delivered_at
                    .is_null()
                    .and(webhook_deliveries::created_at.lt(cutoff))),
        );
    diesel::delete(ended).execute(conn)
}
