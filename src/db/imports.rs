//! Roster import jobs (`imports`) and their per-row results (`import_rows`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{import_rows, imports};
use super::{AnyConnection, StoreError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports, treat_none_as_default_value = false)]
pub struct Import {
    pub id: String,
    pub status: String,
    pub format: String,
    pub dry_run: bool,
    pub on_error: String,
    pub system: String,
    pub time_zone: String,
    pub payload: Vec<u8>,
    pub created_by: Option<String>,
    pub created_count: i64,
    pub updated_count: i64,
    pub unchanged_count: i64,
    pub deleted_count: i64,
    pub error_count: i64,
    pub failure: Option<String>,
    pub claimed_by: Option<String>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

/// An import without its upload, for showing.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = imports)]
pub struct ImportSummary {
    pub id: String,
    pub status: String,
    pub format: String,
    pub dry_run: bool,
    pub on_error: String,
    pub system: String,
    pub time_zone: String,
    pub created_by: Option<String>,
    pub created_count: i64,
    pub updated_count: i64,
    pub unchanged_count: i64,
    pub deleted_count: i64,
    pub error_count: i64,
    pub failure: Option<String>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_rows, treat_none_as_default_value = false)]
pub struct ImportRow {
    pub id: String,
    pub import_id: String,
    pub file: String,
    pub line: i64,
    pub sourced_id: Option<String>,
    pub outcome: String,
    pub resource_id: Option<String>,
    pub field: Option<String>,
    pub message: Option<String>,
}

/// The counts of a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub deleted: i64,
    pub errors: i64,
}

pub fn insert(conn: &mut AnyConnection, row: &Import) -> Result<(), StoreError> {
    diesel::insert_into(imports::table)
        .values(row)
        .execute(conn)?;
    super::changes::record(
        conn,
        "import",
        &row.id,
        super::changes::Action::Created,
        row.version,
        row.created_at,
    )?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<ImportSummary>> {
    imports::table
        .find(id)
        .select(ImportSummary::as_select())
        .load(conn)
        .map(|r| r.into_iter().next())
}

/// The upload of a job.
pub fn payload(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<Vec<u8>>> {
    imports::table
        .find(id)
        .select(imports::payload)
        .load::<Vec<u8>>(conn)
        .map(|r| r.into_iter().next())
}

/// Jobs waiting to run, oldest first.
pub fn queued(conn: &mut AnyConnection, fetch: i64) -> QueryResult<Vec<String>> {
    imports::table
        .filter(imports::status.eq("queued"))
        .order(imports::created_at.asc())
        .select(imports::id)
        .limit(fetch)
        .load(conn)
}

/// Jobs queued before `before`, oldest first, with who created them.
pub fn queued_before(
    conn: &mut AnyConnection,
    before: NaiveDateTime,
    fetch: i64,
) -> QueryResult<Vec<(String, Option<String>)>> {
    imports::table
        .filter(imports::status.eq("queued"))
        .filter(imports::updated_at.lt(before))
        .order(imports::created_at.asc())
        .select((imports::id, imports::created_by))
        .limit(fetch)
        .load(conn)
}

/// Claims a queued job for `worker`, leased until `lease_until`: one statement that matches only
/// while the job is still queued at the version read, so of several instances exactly one gets
/// it. True if this one did.
pub fn claim(
    conn: &mut AnyConnection,
    id: &str,
    worker: &str,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> Result<bool, StoreError> {
    let Some(job) = find(conn, id)? else {
        return Ok(false);
    };
    if job.status != "queued" {
        return Ok(false);
    }
    // In a savepoint: when another real run of the same system holds the unique index
    // `imports_one_running_per_system`, the refused update is undone and the job stays queued
    // (the sweeper starts it once that run has ended).
    let claimed = savepoint(conn, |c| {
        diesel::update(
            imports::table
                .find(id)
                .filter(imports::status.eq("queued"))
                .filter(imports::version.eq(job.version)),
        )
        .set((
            imports::status.eq("running"),
            imports::claimed_by.eq(worker),
            imports::lease_until.eq(lease_until),
            imports::started_at.eq(at),
            imports::updated_at.eq(at),
            imports::version.eq(job.version + 1),
        ))
        .execute(c)
        .map_err(StoreError::from)
    });
    let n = match claimed {
        Ok(n) => n,
        Err(StoreError::Duplicate(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    if n == 1 {
        super::changes::record(
            conn,
            "import",
            id,
            super::changes::Action::Updated,
            job.version + 1,
            at,
        )?;
    }
    Ok(n == 1)
}

/// Extends the lease of a job `worker` runs. False when the job is no longer this worker's (its
/// lease ran out and another instance took it over): the worker must stop.
pub fn renew(
    conn: &mut AnyConnection,
    id: &str,
    worker: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        imports::table
            .find(id)
            .filter(imports::status.eq("running"))
            .filter(imports::claimed_by.eq(worker)),
    )
    .set(imports::lease_until.eq(lease_until))
    .execute(conn)
    .map(|n| n == 1)
}

/// Puts the running jobs whose lease ran out before `now` back in the queue (their instance
/// died), forgetting the row results they had written. Returns their ids.
pub fn requeue_expired(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> Result<Vec<String>, StoreError> {
    let expired: Vec<(String, i64)> = imports::table
        .filter(imports::status.eq("running"))
        .filter(imports::lease_until.lt(now))
        .select((imports::id, imports::version))
        .load(conn)?;
    let mut requeued = Vec::new();
    for (id, version) in expired {
        let n = diesel::update(
            imports::table
                .find(&id)
                .filter(imports::status.eq("running"))
                .filter(imports::version.eq(version)),
        )
        .set((
            imports::status.eq("queued"),
            imports::claimed_by.eq(None::<String>),
            imports::lease_until.eq(None::<NaiveDateTime>),
            imports::updated_at.eq(now),
            imports::version.eq(version + 1),
        ))
        .execute(conn)?;
        if n == 1 {
            clear_rows(conn, &id)?;
            super::changes::record(
                conn,
                "import",
                &id,
                super::changes::Action::Updated,
                version + 1,
                now,
            )?;
            requeued.push(id);
        }
    }
    Ok(requeued)
}

/// Ends a running job with its status, counts and failure (if any). `Stale` when the job is no
/// longer `worker`'s.
pub fn finish(
    conn: &mut AnyConnection,
    id: &str,
    worker: &str,
    status: &str,
    counts: Counts,
    failure: Option<String>,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let job = find(conn, id)?.ok_or(StoreError::Stale("import"))?;
    let n = diesel::update(
        imports::table
            .find(id)
            .filter(imports::claimed_by.eq(worker))
            .filter(imports::version.eq(job.version)),
    )
    .set((
        imports::status.eq(status),
        imports::lease_until.eq(None::<NaiveDateTime>),
        imports::created_count.eq(counts.created),
        imports::updated_count.eq(counts.updated),
        imports::unchanged_count.eq(counts.unchanged),
        imports::deleted_count.eq(counts.deleted),
        imports::error_count.eq(counts.errors),
        imports::failure.eq(failure),
        imports::finished_at.eq(at),
        imports::updated_at.eq(at),
        imports::version.eq(job.version + 1),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::Stale("import"));
    }
    super::changes::record(
        conn,
        "import",
        id,
        super::changes::Action::Updated,
        job.version + 1,
        at,
    )?;
    Ok(())
}

/// Adds row results, a batch in one statement.
pub fn add_rows(conn: &mut AnyConnection, rows: &[ImportRow]) -> QueryResult<()> {
    for chunk in rows.chunks(500) {
        // Explicit values: a `None` is stored as NULL.
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    import_rows::id.eq(&r.id),
                    import_rows::import_id.eq(&r.import_id),
                    import_rows::file.eq(&r.file),
                    import_rows::line.eq(r.line),
                    import_rows::sourced_id.eq(&r.sourced_id),
                    import_rows::outcome.eq(&r.outcome),
                    import_rows::resource_id.eq(&r.resource_id),
                    import_rows::field.eq(&r.field),
                    import_rows::message.eq(&r.message),
                )
            })
            .collect();
        crate::insert_rows!(conn, import_rows::table, values)?;
    }
    Ok(())
}

/// Forgets a job's row results (before a real run replaces its check's results).
pub fn clear_rows(conn: &mut AnyConnection, import_id: &str) -> QueryResult<usize> {
    diesel::delete(import_rows::table.filter(import_rows::import_id.eq(import_id))).execute(conn)
}

/// A job's row results in order, after `after`, optionally only of one outcome.
pub fn rows(
    conn: &mut AnyConnection,
    import_id: &str,
    outcome: Option<&str>,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<ImportRow>> {
    let mut query = import_rows::table
        .filter(import_rows::import_id.eq(import_id))
        .select(ImportRow::as_select())
        .into_boxed();
    if let Some(o) = outcome {
        query = query.filter(import_rows::outcome.eq(o.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(import_rows::id.gt(after.to_owned()));
    }
    query.order(import_rows::id.asc()).limit(fetch).load(conn)
}

/// Runs `f` in a savepoint of the current transaction: when it fails, what it wrote is undone
/// and the rest of the transaction goes on.
pub fn savepoint<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

/// Runs `f` and then undoes everything it wrote (a dry run), returning what it returned.
pub fn undone<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> T,
) -> QueryResult<T> {
    let mut out = None;
    let result = conn.transaction::<(), diesel::result::Error, _>(|c| {
        out = Some(f(c));
        Err(diesel::result::Error::RollbackTransaction)
    });
    match (result, out) {
        (Err(diesel::result::Error::RollbackTransaction), Some(out)) => Ok(out),
        (Err(e), _) => Err(e),
        (Ok(()), _) => Err(diesel::result::Error::RollbackTransaction),
    }
}
