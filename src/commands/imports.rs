//! Roster imports: an upload becomes a job that one app instance claims and runs in the
//! background. Rows are read one at a time and written in batches (one transaction per
//! [`BATCH`] rows, each record with its change-log entry and audit event), so memory stays flat
//! and other writes are served between batches.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::Arc;

use super::external_ids::{self as ext};
use super::{new_id, require, Context};
use crate::auth::policy::{self, Actor, Grant, Principal, Role};
use crate::db::imports::{Counts, Import, ImportRow, ImportSummary};
use crate::db::{self, AnyConnection, Db, StoreError};
use crate::domain::external_ids::{system_problem, ExternalId, ResourceKind};
use crate::domain::roster::{
    self, Format, Manifest, Mode, PersonFields, Record, RowError, RowIntent, SchoolFields,
};
use crate::error::{ApiError, FieldError};

/// Rows per write transaction.
pub const BATCH: usize = 500;
/// How long a job's lease lasts; the running instance renews it with every batch. A job still
/// `running` when its lease has run out is queued again by [`requeue_abandoned`].
pub const LEASE: chrono::Duration = chrono::Duration::seconds(120);
/// Largest upload accepted (bytes).
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;

/// What to do when some rows are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Change nothing when any row is refused.
    AllOrNothing,
    /// Apply the good rows and report the others.
    CommitGoodRows,
}

impl OnError {
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::AllOrNothing => "all_or_nothing",
            OnError::CommitGoodRows => "commit_good_rows",
        }
    }

    pub fn parse(text: &str) -> Option<OnError> {
        match text {
            "all_or_nothing" => Some(OnError::AllOrNothing),
            "commit_good_rows" => Some(OnError::CommitGoodRows),
            _ => None,
        }
    }
}

pub struct NewImport {
    /// The media type the upload was sent as (`None` from the command line).
    pub media_type: Option<String>,
    /// A zip archive of the CSV files.
    pub payload: Vec<u8>,
    pub dry_run: bool,
    pub on_error: OnError,
    /// The external-id system rows are matched by (default: `oneroster` or `sis`).
    pub system: Option<String>,
    /// Time zone of schools the import creates when the files carry none (OneRoster).
    pub time_zone: Option<String>,
}

/// Checks an upload's structure: a zip archive holding one format's files, each with its
/// required columns, and for OneRoster a manifest.csv that declares them. Returns the format.
/// Problems with a file (its header, the manifest) are each reported with the file, the line
/// and the column or property.
pub fn inspect(payload: &[u8]) -> Result<Format, ApiError> {
    let (format, _) = structure(payload)?;
    Ok(format)
}

fn file_errors(problems: Vec<roster::FileProblem>) -> ApiError {
    ApiError::Validation(
        problems
            .into_iter()
            .map(|p| FieldError {
                field: p.field,
                message: p.message,
                file: Some(p.file),
                line: p.line,
            })
            .collect(),
    )
}

/// The upload's format and, for OneRoster, the manifest's file modes.
fn structure(payload: &[u8]) -> Result<(Format, Manifest), ApiError> {
    let body = |m: String| ApiError::validation("body", m);
    let mut archive = zip::ZipArchive::new(Cursor::new(payload))
        .map_err(|e| body(format!("is not a readable zip archive ({e})")))?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    let format = roster::detect(&names).map_err(|m| body(format!("the archive {m}")))?;
    let mut problems = Vec::new();
    let manifest = match format {
        Format::Cogov => Manifest::default(),
        Format::OneRoster => match read_manifest(&mut archive, &names)? {
            Ok(m) => m,
            Err(p) => {
                problems.extend(p);
                Manifest::default()
            }
        },
    };
    for file in format.files() {
        if !names.iter().any(|n| n == file) {
            continue;
        }
        let entry = archive
            .by_name(file)
            .map_err(|e| body(format!("{file} cannot be read ({e})")))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(entry);
        let header = headers(&mut reader).map_err(|e| body(format!("{file}: {e}")))?;
        problems.extend(roster::header_problems(format, file, &header));
    }
    if problems.is_empty() {
        Ok((format, manifest))
    } else {
        Err(file_errors(problems))
    }
}

/// Reads and checks manifest.csv (a OneRoster upload must have one). The outer error is an
/// archive that cannot be read; the inner one the manifest's problems.
fn read_manifest(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    names: &[String],
) -> Result<Result<Manifest, Vec<roster::FileProblem>>, ApiError> {
    let present: Vec<String> = names
        .iter()
        .filter(|n| n.ends_with(".csv") && !n.contains('/') && *n != roster::MANIFEST)
        .cloned()
        .collect();
    let Ok(entry) = archive.by_name(roster::MANIFEST) else {
        return Ok(Err(vec![roster::FileProblem {
            file: roster::MANIFEST.to_owned(),
            line: None,
            field: roster::MANIFEST.to_owned(),
            message: "is missing: a OneRoster 1.2 upload holds manifest.csv, which declares each \
                      file bulk, delta or absent (manifest.version 1.0, oneroster.version 1.2)"
                .to_owned(),
        }]));
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(entry);
    let header = headers(&mut reader).map_err(|e| {
        ApiError::validation(roster::MANIFEST, format!("{}: {e}", roster::MANIFEST))
    })?;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map(|p| p.line() as i64).unwrap_or(0);
                rows.push((line, record.iter().map(str::to_owned).collect()));
            }
            Err(e) => {
                return Err(ApiError::validation(
                    roster::MANIFEST,
                    format!("is not valid CSV ({e})"),
                ))
            }
        }
    }
    Ok(roster::manifest(&header, &rows, &present))
}

fn headers<R: Read>(reader: &mut csv::Reader<R>) -> Result<Vec<String>, String> {
    let header = reader
        .headers()
        .map_err(|e| format!("the header row is not CSV ({e})"))?;
    Ok(header
        .iter()
        .enumerate()
        // A leading UTF-8 byte order mark is allowed.
        .map(|(i, h)| {
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            };
            h.trim().to_owned()
        })
        .collect())
}

/// Creates an import job (district admins only). The job runs in the background; see [`run`].
pub async fn create(ctx: &Context, db: &Db, input: NewImport) -> Result<ImportSummary, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "import", "")?;
    if let Some(media) = &input.media_type {
        if !matches!(
            media.as_str(),
            "application/zip" | "application/x-zip-compressed"
        ) {
            return Err(ApiError::UnsupportedMediaType(
                "send the roster files as a zip archive with Content-Type: application/zip"
                    .to_owned(),
            ));
        }
    }
    if input.payload.len() > MAX_UPLOAD {
        return Err(ApiError::PayloadTooLarge(MAX_UPLOAD));
    }
    let format = inspect(&input.payload)?;
    let system = input
        .system
        .unwrap_or_else(|| format.default_system().to_owned());
    if let Some(p) = system_problem(&system) {
        return Err(ApiError::validation("system", p));
    }
    let time_zone = input.time_zone.unwrap_or_else(|| "UTC".to_owned());
    if time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiError::validation(
            "time_zone",
            "is not an IANA time zone such as America/Los_Angeles",
        ));
    }
    let now = db::now();
    let row = Import {
        id: new_id(),
        status: "queued".to_owned(),
        format: format.as_str().to_owned(),
        dry_run: input.dry_run,
        on_error: input.on_error.as_str().to_owned(),
        system,
        time_zone,
        payload: input.payload,
        created_by: ctx.caller.actor_key(),
        created_count: 0,
        updated_count: 0,
        unchanged_count: 0,
        deleted_count: 0,
        error_count: 0,
        failure: None,
        claimed_by: None,
        started_at: None,
        finished_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let id = row.id.clone();
    ctx.write(db, "create", Some(id.clone()), 202, move |conn| {
        db::imports::insert(conn, &row)?;
        Ok(())
    })
    .await?;
    db.read(|conn| Ok::<_, ApiError>(db::imports::find(conn, &id)?))?
        .ok_or_else(|| ApiError::not_found("import", &id))
}

pub fn find(ctx: &Context, db: &Db, id: &str) -> Result<ImportSummary, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "import", id)?;
    db.read(|conn| Ok::<_, ApiError>(db::imports::find(conn, id)?))?
        .ok_or_else(|| ApiError::not_found("import", id))
}

pub fn rows(
    ctx: &Context,
    db: &Db,
    id: &str,
    outcome: Option<&str>,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<ImportRow>, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "import", id)?;
    db.read(|conn| {
        db::imports::find(conn, id)?.ok_or_else(|| ApiError::not_found("import", id))?;
        Ok(db::imports::rows(conn, id, outcome, after, fetch)?)
    })
}

/// The caller a job acts as when an instance other than the one that received it runs it: the
/// district admin who created it.
pub fn job_context(created_by: Option<&str>, operation: &str) -> Context {
    let actor = match created_by.and_then(|c| c.split_once(':')) {
        Some(("person", id)) => Actor::Person(id.to_owned()),
        Some(("client", id)) => Actor::Client(id.to_owned()),
        _ => Actor::Anonymous,
    };
    Context::new(
        Principal {
            actor,
            grants: vec![Grant {
                role: Role::DistrictAdmin,
                council_id: None,
            }],
            seated_on: Vec::new(),
            app: None,
        },
        Default::default(),
        operation,
    )
}

/// One data row read from a file.
enum Planned {
    School(RowIntent<SchoolFields>),
    Person(RowIntent<PersonFields>),
}

struct ReadRow {
    file: &'static str,
    line: i64,
    planned: Result<Planned, RowError>,
    /// How the row's file is applied (cogov's files: as delta files).
    mode: Mode,
    /// The row's `dateLastModified`, when it has one.
    modified: Option<chrono::NaiveDateTime>,
}

/// Reads the upload row by row on a thread of its own, sending batches of [`BATCH`] rows; at most
/// two batches wait at a time, so memory does not grow with the file.
fn read_rows(
    payload: Arc<Vec<u8>>,
    format: Format,
    manifest: Manifest,
) -> tokio::sync::mpsc::Receiver<Result<Vec<ReadRow>, String>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    std::thread::spawn(move || {
        if let Err(e) = read_into(&payload, format, &manifest, &tx) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

fn read_into(
    payload: &[u8],
    format: Format,
    manifest: &Manifest,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<ReadRow>, String>>,
) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(payload)).map_err(|e| e.to_string())?;
    for file in format.files() {
        let mode = match format {
            Format::OneRoster => manifest.mode(file),
            Format::Cogov => Mode::Delta,
        };
        if mode == Mode::Absent {
            continue;
        }
        let Ok(entry) = archive.by_name(file) else {
            continue;
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(entry);
        let header = headers(&mut reader)?;
        let columns: HashMap<String, usize> = header
            .into_iter()
            .enumerate()
            .map(|(i, h)| (h, i))
            .collect();
        let mut batch = Vec::with_capacity(BATCH);
        let mut record = csv::StringRecord::new();
        let mut modified_problem: Option<RowError> = None;
        loop {
            let line = reader.position().line() as i64;
            let mut modified = None;
            let planned = match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let rec = Record {
                        columns: &columns,
                        values: record.iter().collect(),
                    };
                    let planned = match (format, file) {
                        (Format::OneRoster, "orgs.csv") => {
                            roster::oneroster_org(&rec).map(Planned::School)
                        }
                        (Format::OneRoster, _) => roster::oneroster_user(&rec).map(Planned::Person),
                        (Format::Cogov, "schools.csv") => {
                            roster::cogov_school(&rec).map(Planned::School)
                        }
                        (Format::Cogov, _) => roster::cogov_person(&rec).map(Planned::Person),
                    };
                    match roster::date_last_modified(&rec) {
                        Ok(m) => modified = m,
                        Err(e) => modified_problem = Some(e),
                    }
                    planned
                }
                Err(e) => Err(RowError {
                    sourced_id: None,
                    field: "row".to_owned(),
                    message: format!("is not valid CSV ({e})"),
                }),
            };
            let line = record
                .position()
                .map(|p| p.line() as i64)
                .unwrap_or(line.max(1));
            let planned = match (planned, modified_problem.take()) {
                (Err(e), _) => Err(e),
                (Ok(_), Some(e)) => Err(e),
                (Ok(Planned::School(RowIntent::Delete { sourced_id })), None)
                | (Ok(Planned::Person(RowIntent::Delete { sourced_id })), None)
                    if mode == Mode::Bulk =>
                {
                    Err(RowError {
                        sourced_id: Some(sourced_id),
                        field: "status".to_owned(),
                        message: "is tobedeleted in a bulk file: a bulk file lists every record, \
                                  so leave the record out to delete it (or send a delta file)"
                            .to_owned(),
                    })
                }
                (Ok(p), None) => Ok(p),
            };
            batch.push(ReadRow {
                file,
                line,
                planned,
                mode,
                modified,
            });
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                tx.blocking_send(Ok(full))
                    .map_err(|_| "the import stopped".to_owned())?;
            }
        }
        if !batch.is_empty() {
            tx.blocking_send(Ok(batch))
                .map_err(|_| "the import stopped".to_owned())?;
        }
    }
    Ok(())
}

/// How the rows of one job are applied.
#[derive(Clone)]
struct Plan {
    import_id: String,
    /// The run holding the job's lease.
    worker: String,
    system: String,
    time_zone: String,
    /// The files in `bulk` mode: after their rows, records of this source they leave out are
    /// deleted.
    bulk: Vec<&'static str>,
}

/// Claims the job and runs it to the end; `progress` hears the number of rows done so far.
/// Returns `Ok` with the job as it ended (also when it `failed`), or `Conflict` when another
/// instance has claimed it or another real run of the same system is under way (one source's
/// imports run one at a time, so that a bulk file's deletions never race another file).
pub async fn run(
    ctx: &Context,
    db: &Db,
    id: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ApiError> {
    let worker = format!("{}:{}", std::process::id(), new_id());
    let (claim_id, claim_worker) = (id.to_owned(), worker.clone());
    let claimed = db
        .write(move |conn| {
            let now = db::now();
            db::imports::claim(conn, &claim_id, &claim_worker, now, now + LEASE)
        })
        .await?;
    if !claimed {
        return Err(ApiError::Conflict {
            code: "import-claimed",
            detail: format!(
                "import {id} did not start: another run has it, or another import of the same \
                 system is running (the job then waits in the queue and starts when that ends)"
            ),
        });
    }
    let outcome = run_claimed(ctx, db, id, &worker, progress).await;
    let (status, counts, failure) = match outcome {
        Ok((status, counts)) => (status, counts, None),
        Err(ApiError::Conflict {
            code: "import-lease-lost",
            detail,
        }) => {
            // Another instance runs the job now; it records the end.
            return Err(ApiError::Conflict {
                code: "import-lease-lost",
                detail,
            });
        }
        Err(e) => ("failed", Counts::default(), Some(e.to_string())),
    };
    let finish_id = id.to_owned();
    db.write(move |conn| {
        db::imports::finish(
            conn,
            &finish_id,
            &worker,
            status,
            counts,
            failure,
            db::now(),
        )
    })
    .await?;
    db.read(|conn| Ok::<_, ApiError>(db::imports::find(conn, id)?))?
        .ok_or_else(|| ApiError::not_found("import", id))
}

/// Queues again the jobs whose instance stopped renewing their lease before `now` (it died), and
/// returns every queued job that is due to run: those, and jobs queued longer than a lease ago
/// that no instance started. Each job is then claimed by one instance with [`run`]. Not an HTTP
/// operation: `serve` runs it on a timer.
pub async fn requeue_abandoned(
    db: &Db,
    now: chrono::NaiveDateTime,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    db.write(move |conn| {
        let requeued = db::imports::requeue_expired(conn, now)?;
        let mut due = db::imports::queued_before(conn, now - LEASE, 100)?;
        for id in requeued {
            if !due.iter().any(|(d, _)| *d == id) {
                let created_by = db::imports::find(conn, &id)?.and_then(|j| j.created_by);
                due.push((id, created_by));
            }
        }
        Ok::<_, ApiError>(due)
    })
    .await
}

async fn run_claimed(
    ctx: &Context,
    db: &Db,
    id: &str,
    worker: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<(&'static str, Counts), ApiError> {
    let job = db
        .read(|conn| Ok::<_, ApiError>(db::imports::find(conn, id)?))?
        .ok_or_else(|| ApiError::not_found("import", id))?;
    let payload = db
        .read(|conn| Ok::<_, ApiError>(db::imports::payload(conn, id)?))?
        .ok_or_else(|| ApiError::not_found("import", id))?;
    let payload = Arc::new(payload);
    let format = Format::parse(&job.format)
        .ok_or_else(|| ApiError::Internal(format!("stored import format {:?}", job.format)))?;
    let on_error = OnError::parse(&job.on_error)
        .ok_or_else(|| ApiError::Internal(format!("stored on_error {:?}", job.on_error)))?;
    let (_, manifest) = structure(&payload)?;
    let plan = Plan {
        import_id: id.to_owned(),
        worker: worker.to_owned(),
        system: job.system.clone(),
        time_zone: job.time_zone.clone(),
        bulk: match format {
            Format::OneRoster => format
                .files()
                .into_iter()
                .filter(|f| manifest.mode(f) == Mode::Bulk)
                .collect(),
            Format::Cogov => Vec::new(),
        },
    };
    // A dry run, and the check before an all-or-nothing run, apply each batch and roll it back.
    let check_first = job.dry_run || on_error == OnError::AllOrNothing;
    if check_first {
        let counts = pass(
            ctx,
            db,
            &plan,
            payload.clone(),
            format,
            manifest.clone(),
            false,
            progress,
        )
        .await?;
        if job.dry_run {
            return Ok(("succeeded", counts));
        }
        if counts.errors > 0 {
            return Ok(("failed", counts));
        }
        let clear_id = id.to_owned();
        db.write(move |conn| Ok::<_, ApiError>(db::imports::clear_rows(conn, &clear_id)?))
            .await?;
    }
    let counts = pass(ctx, db, &plan, payload, format, manifest, true, progress).await?;
    Ok(("succeeded", counts))
}

#[allow(clippy::too_many_arguments)]
/// Reads every row and applies it batch by batch; `commit = false` rolls each batch back (the
/// results are what a real run would do, given what is stored now).
async fn pass(
    ctx: &Context,
    db: &Db,
    plan: &Plan,
    payload: Arc<Vec<u8>>,
    format: Format,
    manifest: Manifest,
    commit: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Counts, ApiError> {
    let mut rx = read_rows(payload, format, manifest);
    let mut counts = Counts::default();
    let mut done = 0u64;
    while let Some(batch) = rx.recv().await {
        let batch = batch.map_err(|e| ApiError::validation("body", e))?;
        let n = batch.len() as u64;
        let (ctx2, plan2) = (ctx.clone(), plan.clone());
        let batch_counts = db
            .write(move |conn| apply_batch(conn, &ctx2, &plan2, batch, commit))
            .await?;
        counts.created += batch_counts.created;
        counts.updated += batch_counts.updated;
        counts.unchanged += batch_counts.unchanged;
        counts.deleted += batch_counts.deleted;
        counts.errors += batch_counts.errors;
        done += n;
        progress(done);
    }
    // Bulk files list every record: the records of this source a bulk file left out go.
    for &file in &plan.bulk {
        let mut after: Option<String> = None;
        loop {
            let (ctx2, plan2, after2) = (ctx.clone(), plan.clone(), after.clone());
            let (batch_counts, last) = db
                .write(move |conn| apply_omitted(conn, &ctx2, &plan2, file, after2, commit))
                .await?;
            let Some((last, n)) = last else {
                break;
            };
            counts.deleted += batch_counts.deleted;
            counts.errors += batch_counts.errors;
            done += n;
            progress(done);
            after = Some(last);
        }
    }
    Ok(counts)
}

/// The kind of record a file's rows are.
fn kind_of(file: &str) -> ResourceKind {
    match file {
        "orgs.csv" | "schools.csv" => ResourceKind::School,
        _ => ResourceKind::Person,
    }
}

/// Renews the job's lease in the current transaction; an error when another run has the job.
fn hold_lease(conn: &mut AnyConnection, plan: &Plan) -> Result<(), ApiError> {
    if !db::imports::renew(conn, &plan.import_id, &plan.worker, db::now() + LEASE)? {
        return Err(ApiError::Conflict {
            code: "import-lease-lost",
            detail: format!(
                "import {} was taken over by another instance after its lease ran out",
                plan.import_id
            ),
        });
    }
    Ok(())
}

/// Deletes up to [`BATCH`] records of this source (sourcedId after `after`) that a bulk `file`
/// left out, through the path `tobedeleted` rows take, and records a row result for each
/// (line 0: the record is not in the file). The records are found in SQL: external ids of the
/// import's system that no row result of this job and file names. Returns the counts and the
/// last sourcedId handled with how many were, or `None` when none was left.
fn apply_omitted(
    conn: &mut AnyConnection,
    ctx: &Context,
    plan: &Plan,
    file: &'static str,
    after: Option<String>,
    commit: bool,
) -> Result<(Counts, Option<(String, u64)>), ApiError> {
    hold_lease(conn, plan)?;
    let kind = kind_of(file);
    let omitted = db::external_ids::omitted(
        conn,
        kind,
        &plan.system,
        &plan.import_id,
        file,
        after.as_deref(),
        BATCH as i64,
    )?;
    let Some(last) = omitted.last().cloned() else {
        return Ok((Counts::default(), None));
    };
    let n = omitted.len() as u64;
    let work = |conn: &mut AnyConnection| -> Vec<Done> {
        omitted
            .iter()
            .map(|sourced_id| {
                let sourced_id = sourced_id.clone();
                let planned = match kind {
                    ResourceKind::School => Planned::School(RowIntent::Delete { sourced_id }),
                    _ => Planned::Person(RowIntent::Delete { sourced_id }),
                };
                match db::imports::savepoint(conn, |c| apply_row(c, ctx, plan, planned)) {
                    Ok(a) => Done {
                        message: Some(format!("not in the bulk {file}: deleted")),
                        ..a.into()
                    },
                    Err(RowFailure { message, .. }) => Done::refused(
                        "sourcedId".to_owned(),
                        format!("not in the bulk {file}, but {message}"),
                    ),
                }
            })
            .collect()
    };
    let done = if commit {
        work(conn)
    } else {
        db::imports::undone(conn, work)?
    };
    let mut counts = Counts::default();
    let mut results = Vec::with_capacity(done.len());
    for (sourced_id, d) in omitted.into_iter().zip(done) {
        match d.outcome {
            "delete" => counts.deleted += 1,
            "error" => counts.errors += 1,
            _ => counts.unchanged += 1,
        }
        results.push(ImportRow {
            id: new_id(),
            import_id: plan.import_id.clone(),
            file: file.to_owned(),
            line: 0,
            sourced_id: Some(sourced_id),
            outcome: d.outcome.to_owned(),
            resource_id: d.resource_id,
            field: d.field,
            message: d.message,
        });
    }
    db::imports::add_rows(conn, &results)?;
    Ok((counts, Some((last, n))))
}

/// Marks the rows of a delta file that are not newer than what cogov last applied for their
/// record (by `dateLastModified`) as left alone: an older row is stale, an equal one unchanged.
fn skip_stale(
    conn: &mut AnyConnection,
    plan: &Plan,
    batch: &mut [ReadRow],
) -> Result<(), ApiError> {
    let Some(first) = batch.first() else {
        return Ok(());
    };
    let kind = kind_of(first.file);
    let dated: Vec<String> = batch
        .iter()
        .filter(|r| r.mode == Mode::Delta && r.modified.is_some())
        .filter_map(|r| planned_sourced(&r.planned))
        .collect();
    if dated.is_empty() {
        return Ok(());
    }
    let last = db::external_ids::modified_of(conn, kind, &plan.system, &dated)?;
    for row in batch.iter_mut() {
        let (Some(m), Some(id)) = (row.modified, planned_sourced(&row.planned)) else {
            continue;
        };
        let Some(l) = last.get(&id).copied() else {
            continue;
        };
        if row.mode != Mode::Delta || m > l {
            continue;
        }
        let shown = |t: chrono::NaiveDateTime| {
            t.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        };
        let reason = if m < l {
            format!(
                "stale: its dateLastModified {} is older than {}, which cogov last applied for this record",
                shown(m),
                shown(l)
            )
        } else {
            format!(
                "its dateLastModified {} is the one cogov last applied for this record",
                shown(m)
            )
        };
        row.planned = Ok(match kind {
            ResourceKind::School => Planned::School(RowIntent::Skip {
                sourced_id: id,
                reason,
            }),
            _ => Planned::Person(RowIntent::Skip {
                sourced_id: id,
                reason,
            }),
        });
    }
    Ok(())
}

fn planned_sourced(planned: &Result<Planned, RowError>) -> Option<String> {
    match planned {
        Ok(Planned::School(i)) => sourced_of(i),
        Ok(Planned::Person(i)) => sourced_of(i),
        Err(e) => e.sourced_id.clone(),
    }
}

/// Records the source's `dateLastModified` of the rows that were applied (created, updated or
/// found unchanged) with their external id: one statement per distinct date.
fn stamp_modified(
    conn: &mut AnyConnection,
    plan: &Plan,
    stamps: &[Option<(String, chrono::NaiveDateTime)>],
    done: &[Done],
    kind: ResourceKind,
) -> Result<(), db::QueryError> {
    let mut by_date: HashMap<chrono::NaiveDateTime, Vec<String>> = HashMap::new();
    for (stamp, d) in stamps.iter().zip(done) {
        let Some((value, at)) = stamp else {
            continue;
        };
        if matches!(d.outcome, "create" | "update" | "unchanged") && d.resource_id.is_some() {
            by_date.entry(*at).or_default().push(value.clone());
        }
    }
    for (at, values) in by_date {
        db::external_ids::stamp_modified(conn, kind, &plan.system, &values, at)?;
    }
    Ok(())
}

/// What applying one row did.
struct Applied {
    outcome: &'static str,
    resource_id: Option<String>,
    message: Option<String>,
}

/// One row's result, before it is stored.
struct Done {
    outcome: &'static str,
    resource_id: Option<String>,
    field: Option<String>,
    message: Option<String>,
}

impl From<Applied> for Done {
    fn from(a: Applied) -> Self {
        Done {
            outcome: a.outcome,
            resource_id: a.resource_id,
            field: None,
            message: a.message,
        }
    }
}

impl Done {
    fn refused(field: String, message: String) -> Self {
        Done {
            outcome: "error",
            resource_id: None,
            field: Some(field),
            message: Some(message),
        }
    }
}

fn apply_batch(
    conn: &mut AnyConnection,
    ctx: &Context,
    plan: &Plan,
    mut batch: Vec<ReadRow>,
    commit: bool,
) -> Result<Counts, ApiError> {
    // The batch is written only while this run still holds the job: the lease is renewed in the
    // batch's own transaction.
    hold_lease(conn, plan)?;
    skip_stale(conn, plan, &mut batch)?;
    let kind = batch.first().map(|r| kind_of(r.file));
    // Each row's dateLastModified, to be recorded with its external id once applied.
    let stamps: Vec<Option<(String, chrono::NaiveDateTime)>> = batch
        .iter()
        .map(|r| Some((planned_sourced(&r.planned)?, r.modified?)))
        .collect();
    let places: Vec<(&'static str, i64, Option<String>)> = batch
        .iter()
        .map(|row| {
            let sourced = match &row.planned {
                Ok(Planned::School(i)) => sourced_of(i),
                Ok(Planned::Person(i)) => sourced_of(i),
                Err(e) => e.sourced_id.clone(),
            };
            (row.file, row.line, sourced)
        })
        .collect();
    let work = |conn: &mut AnyConnection| -> Result<Vec<Done>, db::QueryError> {
        let mut done = None;
        if people_only(&batch) {
            // The whole batch in a few statements; when the database refuses any of them, the
            // batch is undone and applied row by row below, which names the refused rows.
            if let Ok(d) =
                db::imports::savepoint(conn, |c| apply_people_at_once(c, ctx, plan, &batch))
            {
                done = Some(d);
            }
        }
        let done = match done {
            Some(d) => d,
            None => apply_row_by_row(conn, ctx, plan, batch),
        };
        if let Some(kind) = kind {
            stamp_modified(conn, plan, &stamps, &done, kind)?;
        }
        Ok(done)
    };
    let done = if commit {
        work(conn)?
    } else {
        db::imports::undone(conn, work)??
    };
    let mut counts = Counts::default();
    let mut results = Vec::with_capacity(done.len());
    for ((file, line, sourced), d) in places.into_iter().zip(done) {
        match d.outcome {
            "create" => counts.created += 1,
            "update" => counts.updated += 1,
            "delete" => counts.deleted += 1,
            "error" => counts.errors += 1,
            _ => counts.unchanged += 1,
        }
        results.push(ImportRow {
            id: new_id(),
            import_id: plan.import_id.clone(),
            file: file.to_owned(),
            line,
            sourced_id: sourced,
            outcome: d.outcome.to_owned(),
            resource_id: d.resource_id,
            field: d.field,
            message: d.message,
        });
    }
    db::imports::add_rows(conn, &results)?;
    Ok(counts)
}

/// Applies each row in a savepoint of its own: a refused row is undone alone.
fn apply_row_by_row(
    conn: &mut AnyConnection,
    ctx: &Context,
    plan: &Plan,
    batch: Vec<ReadRow>,
) -> Vec<Done> {
    batch
        .into_iter()
        .map(|row| match row.planned {
            Err(e) => Done::refused(e.field, e.message),
            Ok(planned) => {
                match db::imports::savepoint(conn, |c| apply_row(c, ctx, plan, planned)) {
                    Ok(a) => a.into(),
                    Err(RowFailure { field, message }) => Done::refused(field, message),
                }
            }
        })
        .collect()
}

/// Whether a batch can be applied at once: only people to create or update (and rows skipped
/// or refused while reading), each sourcedId once.
fn people_only(batch: &[ReadRow]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(batch.len());
    batch.iter().all(|row| match &row.planned {
        Err(_) | Ok(Planned::Person(RowIntent::Skip { .. })) => true,
        Ok(Planned::Person(RowIntent::Upsert { sourced_id, .. })) => seen.insert(sourced_id),
        Ok(_) => false,
    })
}

/// Applies a [`people_only`] batch with a fixed number of statements: one query for the
/// external ids the rows name, one for the people holding them, then one multi-row insert each
/// for new people, their external ids, their change-log entries and the audit events, and one
/// versioned update per changed person. The results are those of [`apply_row_by_row`].
fn apply_people_at_once(
    conn: &mut AnyConnection,
    ctx: &Context,
    plan: &Plan,
    batch: &[ReadRow],
) -> Result<Vec<Done>, ApiError> {
    const KIND: ResourceKind = ResourceKind::Person;
    let values: Vec<String> = batch
        .iter()
        .filter_map(|row| match &row.planned {
            Ok(Planned::Person(RowIntent::Upsert { sourced_id, .. })) => Some(sourced_id.clone()),
            _ => None,
        })
        .collect();
    let held = db::external_ids::holders_of(conn, KIND, &plan.system, &values)?;
    let ids: Vec<String> = held.values().cloned().collect();
    let mut stored: HashMap<String, db::people::Person> = db::people::by_ids(conn, &ids)?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let now = db::now();
    let mut created = Vec::new();
    let mut new_ids = Vec::new();
    let mut changed = Vec::new();
    let mut events = Vec::new();
    let mut done = Vec::with_capacity(batch.len());
    for row in batch {
        let d = match &row.planned {
            Err(e) => Done::refused(e.field.clone(), e.message.clone()),
            Ok(Planned::Person(RowIntent::Skip { reason, .. })) => skipped(reason).into(),
            Ok(Planned::Person(RowIntent::Upsert { sourced_id, fields })) => {
                match held.get(sourced_id) {
                    None => {
                        let person = new_person(ctx, fields.clone(), now);
                        let id = person.id.clone();
                        new_ids.push((id.clone(), external(plan, sourced_id)));
                        events.push(ctx.audit_event("create", Some(id.clone()), 201));
                        created.push(person);
                        applied_row("create", id)
                    }
                    Some(id) => match stored.remove(id) {
                        None => Done::refused(
                            "sourcedId".to_owned(),
                            "the person of this id is gone".to_owned(),
                        ),
                        Some(before) => match merged_person(&before, fields.clone(), now) {
                            None => applied_row("unchanged", id.clone()),
                            Some(after) => {
                                events.push(ctx.audit_event("update", Some(id.clone()), 200));
                                changed.push(after);
                                applied_row("update", id.clone())
                            }
                        },
                    },
                }
            }
            Ok(_) => {
                return Err(ApiError::Internal(
                    "a batch of schools or deletions cannot be applied at once".to_owned(),
                ))
            }
        };
        done.push(d);
    }
    db::people::insert_many(conn, &created)?;
    db::external_ids::add_many(conn, KIND, &new_ids, now)?;
    db::people::update_many(conn, &changed)?;
    db::access::audit::record_many(conn, &events)?;
    Ok(done)
}

fn applied_row(outcome: &'static str, id: String) -> Done {
    Done {
        outcome,
        resource_id: Some(id),
        field: None,
        message: None,
    }
}

/// A person the import creates.
fn new_person(
    ctx: &Context,
    fields: PersonFields,
    now: chrono::NaiveDateTime,
) -> db::people::Person {
    db::people::Person {
        id: new_id(),
        display_name: fields.display_name,
        email: fields.email,
        phone: fields.phone,
        preferred_language: fields.preferred_language.unwrap_or_else(|| "en".to_owned()),
        created_at: now,
        updated_at: now,
        version: 1,
        created_by: ctx.caller.actor_key(),
        contact_erased_at: None,
    }
}

/// The stored person with a row's fields applied, one version on; `None` when nothing differs.
fn merged_person(
    before: &db::people::Person,
    fields: PersonFields,
    now: chrono::NaiveDateTime,
) -> Option<db::people::Person> {
    let mut row = before.clone();
    row.display_name = fields.display_name;
    // Erased contact details stay erased.
    if row.contact_erased_at.is_none() {
        row.email = fields.email;
        row.phone = fields.phone;
    }
    if let Some(l) = fields.preferred_language {
        row.preferred_language = l;
    }
    let same = row.display_name == before.display_name
        && row.email == before.email
        && row.phone == before.phone
        && row.preferred_language == before.preferred_language;
    if same {
        return None;
    }
    row.version += 1;
    row.updated_at = now;
    Some(row)
}

fn sourced_of<T>(intent: &RowIntent<T>) -> Option<String> {
    match intent {
        RowIntent::Upsert { sourced_id, .. }
        | RowIntent::Delete { sourced_id }
        | RowIntent::Skip { sourced_id, .. } => Some(sourced_id.clone()),
    }
}

/// A row refused while applying it.
struct RowFailure {
    field: String,
    message: String,
}

impl From<db::QueryError> for RowFailure {
    fn from(e: db::QueryError) -> Self {
        StoreError::from(e).into()
    }
}

impl From<StoreError> for RowFailure {
    fn from(e: StoreError) -> Self {
        let (field, message) = match e {
            StoreError::Duplicate(_) => ("sourcedId", "another record already has this value"),
            StoreError::StillReferenced => (
                "status",
                "the record has history that cogov keeps (seats held, councils, requests); it \
                 was not deleted",
            ),
            StoreError::Stale(_) => ("sourcedId", "the record changed during the import"),
            _ => ("row", "the database refused the row"),
        };
        RowFailure {
            field: field.to_owned(),
            message: message.to_owned(),
        }
    }
}

impl From<ApiError> for RowFailure {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Conflict { detail, .. } => RowFailure {
                field: "sourcedId".to_owned(),
                message: detail,
            },
            other => RowFailure {
                field: "row".to_owned(),
                message: other.to_string(),
            },
        }
    }
}

fn audit(
    conn: &mut AnyConnection,
    ctx: &Context,
    action: &str,
    id: &str,
    status: u16,
) -> Result<(), RowFailure> {
    let event = ctx.audit_event(action, Some(id.to_owned()), status);
    db::access::audit::record(conn, &event)?;
    Ok(())
}

fn apply_row(
    conn: &mut AnyConnection,
    ctx: &Context,
    plan: &Plan,
    planned: Planned,
) -> Result<Applied, RowFailure> {
    match planned {
        Planned::School(intent) => apply_school(conn, ctx, plan, intent),
        Planned::Person(intent) => apply_person(conn, ctx, plan, intent),
    }
}

fn applied(outcome: &'static str, id: String) -> Result<Applied, RowFailure> {
    Ok(Applied {
        outcome,
        resource_id: Some(id),
        message: None,
    })
}

fn external(plan: &Plan, sourced_id: &str) -> ExternalId {
    ExternalId {
        system: plan.system.clone(),
        value: sourced_id.to_owned(),
    }
}

/// A row left alone, with why.
fn skipped(reason: &str) -> Applied {
    Applied {
        outcome: "unchanged",
        resource_id: None,
        message: Some(format!("skipped: {reason}")),
    }
}

/// A `tobedeleted` row: removes the record holding the row's sourcedId (with `remove`) and its
/// external ids, audited; a sourcedId no record holds is left as it is.
fn delete_held(
    conn: &mut AnyConnection,
    ctx: &Context,
    plan: &Plan,
    kind: ResourceKind,
    sourced_id: &str,
    what: &str,
    remove: impl FnOnce(&mut AnyConnection, &str) -> Result<(), RowFailure>,
) -> Result<Applied, RowFailure> {
    let ext_id = external(plan, sourced_id);
    let Some(id) = db::external_ids::holder(conn, kind, &ext_id)? else {
        return Ok(Applied {
            outcome: "unchanged",
            resource_id: None,
            message: Some(format!("no {what} has this id; nothing to delete")),
        });
    };
    remove(conn, &id)?;
    db::external_ids::remove_all(conn, kind, &id)?;
    audit(conn, ctx, "delete", &id, 204)?;
    applied("delete", id)
}

fn apply_school(
    conn: &mut AnyConnection,
    ctx: &Context,
    plan: &Plan,
    intent: RowIntent<SchoolFields>,
) -> Result<Applied, RowFailure> {
    const KIND: ResourceKind = ResourceKind::School;
    match intent {
        RowIntent::Skip { reason, .. } => Ok(skipped(&reason)),
        RowIntent::Delete { sourced_id } => {
            delete_held(conn, ctx, plan, KIND, &sourced_id, "school", |conn, id| {
                if let Some(row) = db::schools::find(conn, id)? {
                    db::schools::delete(conn, &row)?;
                }
                Ok(())
            })
        }
        RowIntent::Upsert { sourced_id, fields } => {
            let ext_id = external(plan, &sourced_id);
            let taken = |conn: &mut AnyConnection, me: Option<&str>| -> Result<(), RowFailure> {
                let filter = db::schools::SchoolFilter {
                    district_code: Some(fields.district_code.clone()),
                    ..Default::default()
                };
                let others = db::schools::list(conn, &filter, None, 2)?;
                if others.iter().any(|s| Some(s.id.as_str()) != me) {
                    return Err(RowFailure {
                        field: "identifier".to_owned(),
                        message: format!(
                            "another school already has the district code {}",
                            fields.district_code
                        ),
                    });
                }
                Ok(())
            };
            match db::external_ids::holder(conn, KIND, &ext_id)? {
                None => {
                    taken(conn, None)?;
                    let now = db::now();
                    let row = db::schools::School {
                        id: new_id(),
                        name: fields.name.clone(),
                        district_code: fields.district_code.clone(),
                        time_zone: fields
                            .time_zone
                            .clone()
                            .unwrap_or_else(|| plan.time_zone.clone()),
                        address: fields.address.clone().flatten(),
                        created_at: now,
                        updated_at: now,
                        version: 1,
                    };
                    db::schools::insert(conn, &row)?;
                    ext::set(conn, KIND, &row.id, &[ext_id])?;
                    audit(conn, ctx, "create", &row.id, 201)?;
                    applied("create", row.id)
                }
                Some(id) => {
                    let Some(mut row) = db::schools::find(conn, &id)? else {
                        return Err(RowFailure {
                            field: "sourcedId".to_owned(),
                            message: "the school of this id is gone".to_owned(),
                        });
                    };
                    let before = row.clone();
                    row.name = fields.name.clone();
                    row.district_code = fields.district_code.clone();
                    if let Some(tz) = &fields.time_zone {
                        row.time_zone = tz.clone();
                    }
                    if let Some(address) = &fields.address {
                        row.address = address.clone();
                    }
                    let same = row.name == before.name
                        && row.district_code == before.district_code
                        && row.time_zone == before.time_zone
                        && row.address == before.address;
                    if same {
                        return applied("unchanged", id);
                    }
                    if row.district_code != before.district_code {
                        taken(conn, Some(&id))?;
                    }
                    row.version += 1;
                    row.updated_at = db::now();
                    db::schools::update(conn, &row)?;
                    audit(conn, ctx, "update", &id, 200)?;
                    applied("update", id)
                }
            }
        }
    }
}

fn apply_person(
    conn: &mut AnyConnection,
    ctx: &Context,
    plan: &Plan,
    intent: RowIntent<PersonFields>,
) -> Result<Applied, RowFailure> {
    const KIND: ResourceKind = ResourceKind::Person;
    match intent {
        RowIntent::Skip { reason, .. } => Ok(skipped(&reason)),
        RowIntent::Delete { sourced_id } => {
            delete_held(conn, ctx, plan, KIND, &sourced_id, "person", |conn, id| {
                if let Some(row) = db::people::find(conn, id)? {
                    db::people::delete(conn, &row)?;
                }
                Ok(())
            })
        }
        RowIntent::Upsert { sourced_id, fields } => {
            let ext_id = external(plan, &sourced_id);
            match db::external_ids::holder(conn, KIND, &ext_id)? {
                None => {
                    let row = new_person(ctx, fields, db::now());
                    db::people::insert(conn, &row)?;
                    ext::set(conn, KIND, &row.id, &[ext_id])?;
                    audit(conn, ctx, "create", &row.id, 201)?;
                    applied("create", row.id)
                }
                Some(id) => {
                    let Some(before) = db::people::find(conn, &id)? else {
                        return Err(RowFailure {
                            field: "sourcedId".to_owned(),
                            message: "the person of this id is gone".to_owned(),
                        });
                    };
                    let Some(row) = merged_person(&before, fields, db::now()) else {
                        return applied("unchanged", id);
                    };
                    db::people::update(conn, &row)?;
                    audit(conn, ctx, "update", &id, 200)?;
                    applied("update", id)
                }
            }
        }
    }
}
