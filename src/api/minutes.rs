//! Minutes: `/api/v1/meetings/{meeting_id}/minutes` (draft from the record, read) and
//! `/api/v1/minutes/{minutes_id}` with its `corrections`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::fields;
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_REVALIDATE,
};
use crate::auth::{Caller, SignedIn};
use crate::commands::minutes::{self, MinutesChanges, MinutesRecord};
use crate::db::{self, minutes::Correction};
use crate::error::ApiError;
use crate::state::AppState;

fn reason(value: &str) -> Result<(), ValidationError> {
    super::meetings::reason(value)
}

fn long_text(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        let mut e = ValidationError::new("length");
        e.message = Some("must not be empty".into());
        return Err(e);
    }
    fields::text(value)
}

/// A correction recorded after approval.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9900-7000-8000-00000000d101", "reason": "Misspelled name / Nombre mal escrito",
    "correction": "Item 3: the seconder was Ana Ruiz / El segundo fue Ana Ruiz",
    "recorded_by": "person:01936d4e-7000-7000-8000-00000000a009", "recorded_at": "2027-04-20T01:00:00Z"}))]
pub struct CorrectionResponse {
    pub id: Uuid,
    pub reason: String,
    pub correction: String,
    pub recorded_by: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl TryFrom<Correction> for CorrectionResponse {
    type Error = ApiError;

    fn try_from(c: Correction) -> Result<Self, ApiError> {
        Ok(CorrectionResponse {
            id: db::stored_uuid("correction id", &c.id)?,
            reason: c.reason,
            correction: c.correction,
            recorded_by: c.actor,
            recorded_at: c.created_at.and_utc(),
        })
    }
}

/// A meeting's minutes: what the record says, the staff's text, and approval.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9900-7000-8000-00000000d001", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "council_id": "01936d4e-8a00-7000-8000-00000000c101", "status": "approved",
    "record": {"meeting": {"title": "Regular meeting / Reunión ordinaria"}, "attendance": [], "items": [], "procedural_motions": [], "amendments": [], "emergency_determination": []},
    "summary": "The council adopted the plan / El consejo adoptó el plan", "notes": null,
    "approval_item_id": "01936d4e-9200-7000-8000-00000000e009", "approved_by_motion_id": "01936d4e-9500-7000-8000-00000000a509",
    "approved_at": "2027-04-14T01:30:00Z", "corrections": [], "created_at": "2027-03-18T16:00:00Z",
    "updated_at": "2027-04-14T01:30:00Z", "version": 3}))]
pub struct MinutesResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub council_id: Uuid,
    /// `draft` (council staff only) or `approved` (public, immutable).
    pub status: String,
    /// Generated from the record when the draft was made: `meeting`, `attendance` (with the
    /// basis of remote attendance), `emergency_determination`, `items` in order (public comment
    /// period, findings, motions with each member's vote and the result), `procedural_motions`,
    /// `amendments`.
    #[schema(value_type = Object)]
    pub record: Value,
    pub summary: Option<String>,
    pub notes: Option<String>,
    /// The action item of a later meeting whose passing motion approves the minutes.
    pub approval_item_id: Option<Uuid>,
    pub approved_by_motion_id: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Corrections recorded after approval, oldest first.
    pub corrections: Vec<CorrectionResponse>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<MinutesRecord> for MinutesResponse {
    type Error = ApiError;

    fn try_from(r: MinutesRecord) -> Result<Self, ApiError> {
        let m = r.row;
        let opt = |what: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| db::stored_uuid(what, s))
                .transpose()
                .map_err(ApiError::from)
        };
        Ok(MinutesResponse {
            id: db::stored_uuid("minutes id", &m.id)?,
            meeting_id: db::stored_uuid("meeting id", &m.meeting_id)?,
            council_id: db::stored_uuid("council id", &m.council_id)?,
            status: m.status,
            record: serde_json::from_str(&m.record).map_err(|e| {
                ApiError::Internal(format!("stored minutes record unreadable: {e}"))
            })?,
            summary: m.summary,
            notes: m.notes,
            approval_item_id: opt("agenda item id", &m.approval_item_id)?,
            approved_by_motion_id: opt("motion id", &m.approved_by_motion_id)?,
            approved_at: m.approved_at.map(|t| t.and_utc()),
            corrections: r
                .corrections
                .into_iter()
                .map(CorrectionResponse::try_from)
                .collect::<Result<_, _>>()?,
            created_at: m.created_at.and_utc(),
            updated_at: m.updated_at.and_utc(),
            version: m.version,
        })
    }
}

/// A JSON merge patch of draft minutes.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"summary": "The council adopted the plan / El consejo adoptó el plan",
    "approval_item_id": "01936d4e-9200-7000-8000-00000000e009"}))]
pub struct UpdateMinutes {
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "long_text"))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 4000)]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "long_text"))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 4000)]
    pub notes: Option<Option<String>>,
    /// An action item on the agenda of a later meeting of the same council; when a motion on it
    /// passes and is closed, the minutes are approved.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub approval_item_id: Option<Option<Uuid>>,
}

/// Record a correction of approved minutes.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Misspelled name / Nombre mal escrito",
    "correction": "Item 3: the seconder was Ana Ruiz / El segundo fue Ana Ruiz"}))]
pub struct CreateCorrection {
    #[validate(custom(function = "reason"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    #[validate(custom(function = "long_text"))]
    #[schema(min_length = 1, max_length = 4000)]
    pub correction: String,
}

fn render(m: MinutesRecord) -> Result<(MinutesResponse, i64), ApiError> {
    let version = m.row.version;
    Ok((MinutesResponse::try_from(m)?, version))
}

/// Draft the minutes
///
/// Generates the minutes of an adjourned meeting from its record (409 `meeting-not-adjourned`
/// before). One set per meeting (409 `minutes-exist`). The draft is visible to the council's
/// staff only until it is approved.
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/minutes", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 201, description = "The draft; `Location` names it.", body = MinutesResponse,
            headers(("Location" = String, description = "URL of the minutes"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::ReadErrors))]
pub async fn draft_minutes(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (body, version) =
        render(minutes::draft(&ctx, &state.db, id.into_inner().to_string()).await?)?;
    Ok(created_response(
        format!("/api/v1/minutes/{}", body.id),
        &body,
        version,
        CACHE_REVALIDATE,
    ))
}

/// A meeting's minutes
///
/// Approved minutes are public; a draft is visible to the council's staff only (others get 404).
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/minutes", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The minutes with their `ETag`.", body = MinutesResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn meeting_minutes(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (body, version) = render(minutes::of_meeting(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
    )?)?;
    Ok(resource_response(&req, &body, version, CACHE_REVALIDATE))
}

/// Get minutes
///
/// Approved minutes are public; a draft is visible to the council's staff only (others get 404).
#[utoipa::path(get, path = "/api/v1/minutes/{minutes_id}", tag = "meetings",
    params(("minutes_id" = Uuid, Path, description = "The minutes' id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The minutes with their `ETag`.", body = MinutesResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_minutes(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (body, version) = render(minutes::find(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
    )?)?;
    Ok(resource_response(&req, &body, version, CACHE_REVALIDATE))
}

/// Edit draft minutes
///
/// A JSON merge patch of the free text and the approval item (an action item of a later meeting
/// of the same council). Approved minutes do not change (409 `minutes-approved`): record a
/// correction instead.
#[utoipa::path(patch, path = "/api/v1/minutes/{minutes_id}", tag = "meetings", request_body = UpdateMinutes,
    params(("minutes_id" = Uuid, Path, description = "The minutes' id"),
           ("If-Match" = String, Header, description = "The minutes' current ETag")),
    responses(
        (status = 200, description = "The minutes with their new `ETag`.", body = MinutesResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors,
        super::problems::BodyErrors))]
pub async fn update_minutes(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateMinutes>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let b = body.into_inner();
    let changes = MinutesChanges {
        summary: b.summary,
        notes: b.notes,
        approval_item_id: b.approval_item_id.map(|o| o.map(|u| u.to_string())),
    };
    let (body, version) = render(
        minutes::update(
            &ctx,
            &state.db,
            id.into_inner().to_string(),
            expected,
            changes,
        )
        .await?,
    )?;
    Ok(updated_response(&body, version, CACHE_REVALIDATE))
}

/// Record a correction
///
/// Approved minutes are corrected by a recorded correction (reason, actor, time) kept beside
/// them; draft minutes are edited instead (409 `minutes-not-approved`).
#[utoipa::path(post, path = "/api/v1/minutes/{minutes_id}/corrections", tag = "meetings", request_body = CreateCorrection,
    params(("minutes_id" = Uuid, Path, description = "The minutes' id")),
    responses(
        (status = 201, description = "The correction; `Location` names the minutes.", body = CorrectionResponse,
            headers(("Location" = String, description = "URL of the minutes"), ("ETag" = String, description = "Version tag of the correction"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn correct_minutes(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateCorrection>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let minutes_id = id.into_inner().to_string();
    let c = minutes::correct(&ctx, &state.db, minutes_id.clone(), b.reason, b.correction).await?;
    let version = c.version;
    Ok(created_response(
        format!("/api/v1/minutes/{minutes_id}"),
        &CorrectionResponse::try_from(c)?,
        version,
        CACHE_REVALIDATE,
    ))
}
