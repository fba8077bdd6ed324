//! Accounts, API clients, grants, and the audit trail.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{accounts, api_clients, audit_events, grants, seat_holdings, seats};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = accounts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Account {
    pub id: String,
    pub person_id: String,
    /// Lower-cased sign-in name (standalone installs).
    pub username: Option<String>,
    pub password_hash: Option<String>,
    /// The `sub` a district identity provider puts in its tokens for this person.
    pub external_subject: Option<String>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod account {
    use super::*;
    versioned_writes!(accounts, Account, "account");

    pub fn by_username(conn: &mut AnyConnection, username: &str) -> QueryResult<Option<Account>> {
        accounts::table
            .filter(accounts::username.eq(username))
            .select(Account::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().next())
    }

    pub fn by_person(conn: &mut AnyConnection, person_id: &str) -> QueryResult<Option<Account>> {
        accounts::table
            .filter(accounts::person_id.eq(person_id))
            .select(Account::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().next())
    }

    /// Accounts of people whose email is `email` (ignoring case).
    pub fn by_person_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Vec<Account>> {
        use crate::db::changes::lower;
        use crate::db::schema::people;
        accounts::table
            .inner_join(people::table)
            .filter(lower(people::email.assume_not_null()).eq(lower(email.to_owned())))
            .select(Account::as_select())
            .load(conn)
    }

    /// Binds an account that has no external subject yet to `subject`. Returns false when the
    /// account is bound already (to this or another subject): a binding is never overwritten
    /// here. A subject bound to another account is a unique violation.
    pub fn bind_external_subject(
        conn: &mut AnyConnection,
        account_id: &str,
        subject: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let bound = diesel::update(
            accounts::table
                .filter(accounts::id.eq(account_id))
                .filter(accounts::external_subject.is_null()),
        )
        .set((
            accounts::external_subject.eq(subject),
            accounts::updated_at.eq(now),
            accounts::version.eq(accounts::version + 1),
        ))
        .execute(conn)?
            == 1;
        if bound {
            if let Some(row) = find(conn, account_id)? {
                crate::db::changes::record(
                    conn,
                    "account",
                    &row.id,
                    crate::db::changes::Action::Updated,
                    row.version,
                    row.updated_at,
                )?;
            }
        }
        Ok(bound)
    }

    pub fn by_external_subject(
        conn: &mut AnyConnection,
        subject: &str,
    ) -> QueryResult<Option<Account>> {
        accounts::table
            .filter(accounts::external_subject.eq(subject))
            .select(Account::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().next())
    }

    #[derive(Debug, Default)]
    pub struct AccountFilter {
        pub person_id: Option<String>,
        pub disabled: Option<bool>,
    }

    /// A page of accounts in id order, after `after`.
    pub fn list(
        conn: &mut AnyConnection,
        filter: &AccountFilter,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<Account>> {
        let mut query = accounts::table.select(Account::as_select()).into_boxed();
        if let Some(p) = &filter.person_id {
            query = query.filter(accounts::person_id.eq(p.clone()));
        }
        if let Some(d) = filter.disabled {
            query = query.filter(accounts::disabled.eq(d));
        }
        if let Some(after) = after {
            query = query.filter(accounts::id.gt(after.to_owned()));
        }
        query.order(accounts::id.asc()).limit(fetch).load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = api_clients, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ApiClient {
    pub id: String,
    /// The public identifier a script sends as `client_id`.
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod client {
    use super::*;
    versioned_writes!(api_clients, ApiClient, "api_client");

    pub fn by_client_id(
        conn: &mut AnyConnection,
        client_id: &str,
    ) -> QueryResult<Option<ApiClient>> {
        api_clients::table
            .filter(api_clients::client_id.eq(client_id))
            .select(ApiClient::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().next())
    }

    #[derive(Debug, Default)]
    pub struct ClientFilter {
        pub client_id: Option<String>,
        pub disabled: Option<bool>,
    }

    /// A page of API clients in id order, after `after`.
    pub fn list(
        conn: &mut AnyConnection,
        filter: &ClientFilter,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<ApiClient>> {
        let mut query = api_clients::table
            .select(ApiClient::as_select())
            .into_boxed();
        if let Some(c) = &filter.client_id {
            query = query.filter(api_clients::client_id.eq(c.clone()));
        }
        if let Some(d) = filter.disabled {
            query = query.filter(api_clients::disabled.eq(d));
        }
        if let Some(after) = after {
            query = query.filter(api_clients::id.gt(after.to_owned()));
        }
        query.order(api_clients::id.asc()).limit(fetch).load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = grants, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct GrantRow {
    pub id: String,
    /// `person` or `client`.
    pub subject_kind: String,
    /// A person id, or an API client's `client_id`.
    pub subject_id: String,
    pub role: String,
    pub council_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod grant {
    use super::*;
    versioned_writes!(grants, GrantRow, "grant");

    pub fn of_subject(
        conn: &mut AnyConnection,
        kind: &str,
        subject_id: &str,
    ) -> QueryResult<Vec<GrantRow>> {
        grants::table
            .filter(grants::subject_kind.eq(kind))
            .filter(grants::subject_id.eq(subject_id))
            .select(GrantRow::as_select())
            .load(conn)
    }

    #[derive(Debug, Default)]
    pub struct GrantFilter {
        pub subject_id: Option<String>,
        pub council_id: Option<String>,
        pub role: Option<String>,
    }

    pub fn list(
        conn: &mut AnyConnection,
        filter: &GrantFilter,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<GrantRow>> {
        let mut query = grants::table.select(GrantRow::as_select()).into_boxed();
        if let Some(s) = &filter.subject_id {
            query = query.filter(grants::subject_id.eq(s.clone()));
        }
        if let Some(c) = &filter.council_id {
            query = query.filter(grants::council_id.eq(c.clone()));
        }
        if let Some(r) = &filter.role {
            query = query.filter(grants::role.eq(r.clone()));
        }
        if let Some(after) = after {
            query = query.filter(grants::id.gt(after.to_owned()));
        }
        query.order(grants::id.asc()).limit(fetch).load(conn)
    }
}

/// Councils where a person holds a seat now.
pub fn seated_now(conn: &mut AnyConnection, person_id: &str) -> QueryResult<Vec<String>> {
    seats::table
        .filter(seats::holder_id.eq(person_id))
        .select(seats::council_id)
        .load(conn)
}

/// Councils where a person holds a seat now, and where they ever held one.
pub fn seat_councils(
    conn: &mut AnyConnection,
    person_id: &str,
) -> QueryResult<(Vec<String>, Vec<String>)> {
    let now = seated_now(conn, person_id)?;
    let mut ever: Vec<String> = seat_holdings::table
        .inner_join(seats::table)
        .filter(seat_holdings::person_id.eq(person_id))
        .select(seats::council_id)
        .load(conn)?;
    ever.sort();
    ever.dedup();
    Ok((now, ever))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub struct AuditEvent {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub roles: String,
    pub action: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub outcome: String,
    pub status: i64,
    pub request_id: Option<String>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    /// The third-party app that acted for the person, when one did.
    pub app_client_id: Option<String>,
}

pub mod audit {
    use super::*;

    /// Appends one event. The trail is append-only: nothing in cogov updates or deletes it.
    pub fn record(conn: &mut AnyConnection, event: &AuditEvent) -> QueryResult<()> {
        diesel::insert_into(audit_events::table)
            .values(event)
            .execute(conn)
            .map(|_| ())
    }

    /// Appends several events in one statement, in the order given.
    pub fn record_many(conn: &mut AnyConnection, events: &[AuditEvent]) -> QueryResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        // Explicit values: a `None` is stored as NULL, as the single-event insert does.
        let values: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    (
                        audit_events::id.eq(&e.id),
                        audit_events::occurred_at.eq(e.occurred_at),
                        audit_events::actor_kind.eq(&e.actor_kind),
                        audit_events::actor_id.eq(&e.actor_id),
                        audit_events::roles.eq(&e.roles),
                        audit_events::action.eq(&e.action),
                        audit_events::resource.eq(&e.resource),
                    ),
                    (
                        audit_events::resource_id.eq(&e.resource_id),
                        audit_events::outcome.eq(&e.outcome),
                        audit_events::status.eq(e.status),
                        audit_events::request_id.eq(&e.request_id),
                        audit_events::client_address.eq(&e.client_address),
                        audit_events::user_agent.eq(&e.user_agent),
                    ),
                )
            })
            .collect();
        crate::insert_rows!(conn, audit_events::table, values)
    }

    #[derive(Debug, Default, Clone)]
    pub struct AuditFilter {
        pub actor_id: Option<String>,
        pub resource: Option<String>,
        pub resource_id: Option<String>,
        pub action: Option<String>,
        pub outcome: Option<String>,
        pub since: Option<NaiveDateTime>,
        pub until: Option<NaiveDateTime>,
    }

    pub fn list(
        conn: &mut AnyConnection,
        filter: &AuditFilter,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<AuditEvent>> {
        let mut query = audit_events::table
            .select(AuditEvent::as_select())
            .into_boxed();
        if let Some(v) = &filter.actor_id {
            query = query.filter(audit_events::actor_id.eq(v.clone()));
        }
        if let Some(v) = &filter.resource {
            query = query.filter(audit_events::resource.eq(v.clone()));
        }
        if let Some(v) = &filter.resource_id {
            query = query.filter(audit_events::resource_id.eq(v.clone()));
        }
        if let Some(v) = &filter.action {
            query = query.filter(audit_events::action.eq(v.clone()));
        }
        if let Some(v) = &filter.outcome {
            query = query.filter(audit_events::outcome.eq(v.clone()));
        }
        if let Some(v) = filter.since {
            query = query.filter(audit_events::occurred_at.ge(v));
        }
        if let Some(v) = filter.until {
            query = query.filter(audit_events::occurred_at.lt(v));
        }
        if let Some(after) = after {
            query = query.filter(audit_events::id.gt(after.to_owned()));
        }
        query.order(audit_events::id.asc()).limit(fetch).load(conn)
    }
}

/// Sign-in throttling counters (`sign_in_attempts`): one row per scope, subject and fixed window.
pub mod throttle {
    use super::*;
    use diesel::sql_types::{BigInt, Text, Timestamp};

    #[derive(QueryableByName)]
    struct Attempts {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)] // only whether a row came back matters
        attempts: i64,
    }

    /// Counts one attempt for `(scope, subject)` in the window starting at `window_start`, unless
    /// `limit` attempts are already counted there. One statement: concurrent callers (threads or
    /// cogov instances) can never count past the limit. Returns whether the attempt was counted.
    pub fn reserve(
        conn: &mut AnyConnection,
        scope: &str,
        subject: &str,
        window_start: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<bool> {
        let counted: Vec<Attempts> = diesel::sql_query(
            "INSERT INTO sign_in_attempts (scope, subject, window_start, attempts) \
             VALUES ($1, $2, $3, 1) \
             ON CONFLICT (scope, subject, window_start) \
             DO UPDATE SET attempts = sign_in_attempts.attempts + 1 \
             WHERE sign_in_attempts.attempts < $4 \
             RETURNING attempts",
        )
        .bind::<Text, _>(scope)
        .bind::<Text, _>(subject)
        .bind::<Timestamp, _>(window_start)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
        Ok(!counted.is_empty())
    }

    /// Gives back an attempt counted by [`reserve`] (the secret was right: not a failure).
    pub fn release(
        conn: &mut AnyConnection,
        scope: &str,
        subject: &str,
        window_start: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::sql_query(
            "UPDATE sign_in_attempts SET attempts = attempts - 1 \
             WHERE scope = $1 AND subject = $2 AND window_start = $3 AND attempts > 0",
        )
        .bind::<Text, _>(scope)
        .bind::<Text, _>(subject)
        .bind::<Timestamp, _>(window_start)
        .execute(conn)
        .map(|_| ())
    }

    /// Removes the counters of windows that started before `before` (they no longer limit anything).
    pub fn forget_before(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
        diesel::sql_query("DELETE FROM sign_in_attempts WHERE window_start < $1")
            .bind::<Timestamp, _>(before)
            .execute(conn)
    }

    /// The counted attempts of `(scope, subject)` in one window (0 when none).
    pub fn counted(
        conn: &mut AnyConnection,
        scope: &str,
        subject: &str,
        window_start: NaiveDateTime,
    ) -> QueryResult<i64> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            attempts: i64,
        }
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT attempts FROM sign_in_attempts \
             WHERE scope = $1 AND subject = $2 AND window_start = $3",
        )
        .bind::<Text, _>(scope)
        .bind::<Text, _>(subject)
        .bind::<Timestamp, _>(window_start)
        .load(conn)?;
        Ok(rows.first().map_or(0, |r| r.attempts))
    }
}
