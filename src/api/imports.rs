//! `/api/v1/imports`: roster imports (OneRoster 1.2 CSV or cogov's CSV, in a zip archive), run
//! in the background; the job resource tells how far it got and what each row did.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::paging::{private_list_response, split_page, PageRequest};
use super::preconditions::{resource_response, CACHE_NONE};
use crate::auth::SignedIn;
use crate::commands::imports::{self, OnError, MAX_UPLOAD};
use crate::commands::Context;
use crate::db::imports::{ImportRow, ImportSummary};
use crate::db::{self, Db};
use crate::error::ApiError;
use crate::state::AppState;

/// Row counts of an import, by what happened (or, in a dry run, what would happen).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCounts {
    pub create: i64,
    pub update: i64,
    pub unchanged: i64,
    pub delete: i64,
    pub error: i64,
}

/// An import job.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9000-7000-8000-00000000c001", "status": "succeeded", "format": "oneroster",
    "dry_run": true, "on_error": "all_or_nothing", "system": "oneroster", "time_zone": "America/Los_Angeles",
    "counts": {"create": 1180, "update": 12, "unchanged": 40210, "delete": 3, "error": 2},
    "failure": null, "rows_url": "/api/v1/imports/01936d4e-9000-7000-8000-00000000c001/rows",
    "created_at": "2026-11-25T08:41:42.123456Z", "started_at": "2026-11-25T08:41:42.200000Z",
    "finished_at": "2026-11-25T08:42:10.512000Z", "version": 3
}))]
pub struct ImportResponse {
    pub id: Uuid,
    /// `queued` → `running` → `succeeded` or `failed`. An all-or-nothing import with refused
    /// rows ends `failed` and changes nothing; see its rows.
    #[schema(example = "running")]
    pub status: ImportStatus,
    pub format: ImportFormat,
    /// True: nothing is changed; the counts and rows say what a real run would do.
    pub dry_run: bool,
    pub on_error: OnErrorParam,
    /// The external-id system rows are matched by (their `sourcedId` is the value).
    pub system: String,
    /// Time zone given to schools the import creates when the files carry none.
    pub time_zone: String,
    pub counts: ImportCounts,
    /// Why the job failed as a whole (not row errors), if it did.
    pub failure: Option<String>,
    /// Where the per-row results are.
    pub rows_url: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub version: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    Oneroster,
    Cogov,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnErrorParam {
    AllOrNothing,
    CommitGoodRows,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    Create,
    Update,
    Unchanged,
    Delete,
    Error,
}

fn parse_enum<T: for<'de> Deserialize<'de>>(what: &str, text: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| ApiError::Internal(format!("stored import {what} {text:?} unknown")))
}

impl TryFrom<ImportSummary> for ImportResponse {
    type Error = ApiError;

    fn try_from(j: ImportSummary) -> Result<Self, ApiError> {
        Ok(ImportResponse {
            id: db::stored_uuid("import id", &j.id)?,
            status: parse_enum("status", &j.status)?,
            format: parse_enum("format", &j.format)?,
            dry_run: j.dry_run,
            on_error: parse_enum("on_error", &j.on_error)?,
            system: j.system,
            time_zone: j.time_zone,
            counts: ImportCounts {
                create: j.created_count,
                update: j.updated_count,
                unchanged: j.unchanged_count,
                delete: j.deleted_count,
                error: j.error_count,
            },
            failure: j.failure,
            rows_url: format!("/api/v1/imports/{}/rows", j.id),
            created_at: j.created_at.and_utc(),
            started_at: j.started_at.map(|t| t.and_utc()),
            finished_at: j.finished_at.map(|t| t.and_utc()),
            version: j.version,
        })
    }
}

/// What one row of an import did (or, in a dry run, would do).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "file": "users.csv", "line": 42, "sourced_id": "usr-4471", "outcome": "error",
    "resource_id": null, "field": "email", "message": "is not an email address"
}))]
pub struct ImportRowResponse {
    /// The file in the upload.
    pub file: String,
    /// The line in the file (the header is line 1); 0 for a record a bulk file left out.
    pub line: i64,
    /// The row's `sourcedId` (`external_id` in cogov's format), when it has one.
    pub sourced_id: Option<String>,
    pub outcome: RowOutcome,
    /// The school or person the row created, changed or deleted.
    pub resource_id: Option<Uuid>,
    /// The column a refused row is refused for.
    pub field: Option<String>,
    /// Why a row was refused, or a note (e.g. an org that is not a school is skipped).
    pub message: Option<String>,
}

impl TryFrom<ImportRow> for ImportRowResponse {
    type Error = ApiError;

    fn try_from(r: ImportRow) -> Result<Self, ApiError> {
        Ok(ImportRowResponse {
            file: r.file,
            line: r.line,
            sourced_id: r.sourced_id,
            outcome: parse_enum("row outcome", &r.outcome)?,
            resource_id: r
                .resource_id
                .as_deref()
                .map(|id| db::stored_uuid("resource id", id))
                .transpose()?,
            field: r.field,
            message: r.message,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `true`: compute what each row would do and change nothing.
    pub dry_run: Option<bool>,
    /// What to do when some rows are refused (default `all_or_nothing`).
    pub on_error: Option<OnErrorParam>,
    /// The external-id system rows are matched by; defaults to `oneroster` for OneRoster files
    /// and `sis` for cogov's files.
    #[param(
        pattern = "^[a-z0-9][a-z0-9_.-]{0,31}$",
        max_length = 32,
        example = "oneroster"
    )]
    pub system: Option<String>,
    /// IANA time zone for schools the import creates when the files carry none (default `UTC`).
    #[param(max_length = 64, example = "America/Los_Angeles")]
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportRowParams {
    /// Only rows with this outcome (e.g. `error`).
    pub outcome: Option<RowOutcome>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportRowList {
    pub items: Vec<ImportRowResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Runs a job on a thread of its own, so that the request that created it does not wait and
/// no request worker is held by it.
pub fn spawn_run(db: Db, ctx: Context, id: String) {
    crate::jobs::spawn_import(db, ctx, id);
}

/// Start an import
///
/// The body is a zip archive of OneRoster 1.2 CSV files (`manifest.csv`, which declares each
/// file `bulk`, `delta` or `absent`, with `orgs.csv` and/or `users.csv`; other OneRoster files
/// are not imported) or of cogov's CSV files (`schools.csv`, `people.csv`); see docs/IMPORT.md.
/// The archive's structure, the manifest and the headers are checked at once (422, each problem
/// in `errors` with its `file`, `line` and column or property in `field`); the rows are applied
/// in the background: follow the job at its `Location`. A bulk file deletes the records of this
/// source it leaves out (row results with `line` 0); a delta row not newer than what was last
/// applied for its record is `unchanged`.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/zip",
        description = "A zip archive (deflate or stored) holding manifest.csv with orgs.csv and/or users.csv (OneRoster 1.2), or schools.csv and/or people.csv (cogov). Example manifest.csv:\n\n```\npropertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,absent\nfile.users,delta\n```\n\nExample users.csv:\n\n```\nsourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,email,phone\nusr-4471,active,2026-11-01T00:00:00Z,true,mlopez,María,López,maria.lopez@example.org,+1 213 555 0100\nusr-4472,tobedeleted,2026-11-20T00:00:00Z,true,jkim,Ji-woo,Kim,,\n```"),
    responses(
        (status = 202, description = "Accepted: the job is queued; `Location` names it.", body = ImportResponse,
            headers(("Location" = String, description = "URL of the import job"))),
        super::problems::BodyErrors))]
pub async fn create_import(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ImportParams>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: "unreadable-body",
            detail: format!("cannot read the request body: {e}"),
        })?;
        if body.len() + chunk.len() > MAX_UPLOAD {
            return Err(ApiError::PayloadTooLarge(MAX_UPLOAD));
        }
        body.extend_from_slice(&chunk);
    }
    let input = imports::NewImport {
        media_type: Some(media),
        payload: body,
        dry_run: params.dry_run.unwrap_or(false),
        on_error: match params.on_error.unwrap_or(OnErrorParam::AllOrNothing) {
            OnErrorParam::AllOrNothing => OnError::AllOrNothing,
            OnErrorParam::CommitGoodRows => OnError::CommitGoodRows,
        },
        system: params.system,
        time_zone: params.time_zone,
    };
    let job = imports::create(&ctx, &state.db, input).await?;
    spawn_run(state.db.clone(), ctx.clone(), job.id.clone());
    let location = format!("/api/v1/imports/{}", job.id);
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .json(ImportResponse::try_from(job)?))
}

/// Get an import
#[utoipa::path(get, path = "/api/v1/imports/{import_id}", tag = "imports",
    params(("import_id" = Uuid, Path, description = "The import's id")),
    responses(
        (status = 200, description = "The job: status and counts.", body = ImportResponse),
        super::problems::ReadErrors))]
pub async fn find_import(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let job = imports::find(&ctx, &state.db, &id.into_inner().to_string())?;
    let version = job.version;
    Ok(resource_response(
        &req,
        &ImportResponse::try_from(job)?,
        version,
        CACHE_NONE,
    ))
}

/// List an import's row results
#[utoipa::path(get, path = "/api/v1/imports/{import_id}/rows", tag = "imports",
    params(("import_id" = Uuid, Path, description = "The import's id"), ImportRowParams),
    responses(
        (status = 200, description = "A page of row results in file order; `Link: <…>; rel=\"next\"` when there are more.", body = ImportRowList),
        super::problems::NestedListErrors))]
pub async fn list_import_rows(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<ImportRowParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let outcome = params.outcome.map(|o| match o {
        RowOutcome::Create => "create",
        RowOutcome::Update => "update",
        RowOutcome::Unchanged => "unchanged",
        RowOutcome::Delete => "delete",
        RowOutcome::Error => "error",
    });
    let rows = imports::rows(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        outcome,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |r| &r.id);
    let items = rows
        .into_iter()
        .map(ImportRowResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}
