//! Meetings: `/api/v1/councils/{council_id}/meetings` and `/api/v1/meetings/{meeting_id}`, with
//! their lifecycle actions (`publish`, `open`, `recess`, `adjourn`, `cancel`) and history.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::councils::PageParams;
use super::fields;
use super::paging::{list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_REVALIDATE,
};
use crate::auth::{Caller, SignedIn};
use crate::commands::meetings::{self, MeetingRecord};
use crate::db::{self, meetings::Attendance, meetings::MeetingEvent};
use crate::domain::meeting::{
    EmergencyFinding, MeetingQuorum, MeetingStatus, MeetingType, RemoteBasis, Transition,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Longest remote-meeting link.
pub const URL_MAX: usize = 500;
/// Most interpretation languages a meeting lists.
pub const LANGUAGES_MAX: usize = 20;
/// Longest cancellation reason.
pub const REASON_MAX: usize = 1000;
/// A web link: `http://` or `https://` and no spaces.
pub const URL_PATTERN: &str = r"^https?://[^\s]+$";

/// A BCP 47 language tag, e.g. `es`, `zh-Hant`, `vi`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LanguageTag(pub String);

impl utoipa::PartialSchema for LanguageTag {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A BCP 47 language tag, e.g. es, zh-Hant, vi."))
            .min_length(Some(2))
            .max_length(Some(fields::LANGUAGE_MAX))
            .pattern(Some(fields::LANGUAGE_PATTERN))
            .into()
    }
}

impl ToSchema for LanguageTag {}

fn languages(list: &[LanguageTag]) -> Result<(), ValidationError> {
    if list.len() > LANGUAGES_MAX {
        let mut e = ValidationError::new("length");
        e.message = Some(format!("at most {LANGUAGES_MAX} languages").into());
        return Err(e);
    }
    list.iter().try_for_each(|l| fields::language(&l.0))
}

pub(super) fn web_link(value: &str) -> Result<(), ValidationError> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(URL_PATTERN).expect("a valid pattern"));
    if value.chars().count() > URL_MAX || !re.is_match(value) {
        let mut e = ValidationError::new("url");
        e.message = Some(
            format!("must be an http:// or https:// link of at most {URL_MAX} characters").into(),
        );
        return Err(e);
    }
    Ok(())
}

pub(super) fn reason(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() || value.chars().count() > REASON_MAX {
        let mut e = ValidationError::new("length");
        e.message = Some(format!("must be 1 to {REASON_MAX} characters, not only spaces").into());
        return Err(e);
    }
    Ok(())
}

fn tags(list: Vec<LanguageTag>) -> Vec<String> {
    list.into_iter().map(|l| l.0).collect()
}

/// A meeting of a council.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9000-7000-8000-00000000c001", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
    "type": "regular", "status": "noticed", "title": "Regular meeting / Reunión ordinaria",
    "starts_at": "2027-03-17T01:00:00Z", "ends_at": "2027-03-17T03:00:00Z",
    "time_zone": "America/Los_Angeles", "starts_at_local": "2027-03-16T18:00:00-07:00",
    "location": "Roosevelt Elementary library, 456 Oak Ave", "remote_url": "https://meet.example.org/ssc",
    "interpretation_languages": ["es", "vi"], "emergency_finding": null, "media_notified_at": null,
    "notice_deadline": "2027-03-14T01:00:00Z", "noticed_at": "2027-03-10T16:00:00Z", "cancel_reason": null,
    "created_at": "2027-03-01T16:00:00Z", "updated_at": "2027-03-10T16:00:00Z", "version": 2
}))]
pub struct MeetingResponse {
    pub id: Uuid,
    pub council_id: Uuid,
    #[serde(rename = "type")]
    pub meeting_type: MeetingType,
    pub status: MeetingStatus,
    pub title: String,
    /// UTC.
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// IANA time zone the meeting is held in.
    pub time_zone: String,
    /// `starts_at` in the meeting's time zone, with its offset.
    pub starts_at_local: String,
    pub location: Option<String>,
    pub remote_url: Option<String>,
    /// BCP 47 tags of the languages interpreted at the meeting.
    pub interpretation_languages: Vec<String>,
    pub emergency_finding: Option<EmergencyFinding>,
    /// When media that asked were told of an emergency meeting.
    pub media_notified_at: Option<DateTime<Utc>>,
    /// The latest moment the notice may be published under the council's rules; `null` when
    /// notice periods are lifted (emergency meetings outside the Greene Act).
    pub notice_deadline: Option<DateTime<Utc>>,
    /// When the notice and agenda were published.
    pub noticed_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<MeetingRecord> for MeetingResponse {
    type Error = ApiError;

    fn try_from(m: MeetingRecord) -> Result<Self, ApiError> {
        let row = m.row;
        let starts_at = row.starts_at.and_utc();
        Ok(MeetingResponse {
            id: db::stored_uuid("meeting id", &row.id)?,
            council_id: db::stored_uuid("council id", &row.council_id)?,
            meeting_type: m.meeting_type,
            status: m.status,
            title: row.title,
            starts_at,
            ends_at: row.ends_at.map(|t| t.and_utc()),
            starts_at_local: starts_at.with_timezone(&m.time_zone).to_rfc3339(),
            time_zone: row.time_zone,
            location: row.location,
            remote_url: row.remote_url,
            interpretation_languages: m.interpretation_languages,
            emergency_finding: m.emergency_finding,
            media_notified_at: row.media_notified_at.map(|t| t.and_utc()),
            notice_deadline: m.notice_deadline,
            noticed_at: row.noticed_at.map(|t| t.and_utc()),
            cancel_reason: row.cancel_reason,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "type": "regular", "title": "Regular meeting / Reunión ordinaria",
    "starts_at": "2027-03-16T18:00:00-07:00", "ends_at": "2027-03-16T20:00:00-07:00",
    "location": "Roosevelt Elementary library, 456 Oak Ave", "remote_url": "https://meet.example.org/ssc",
    "interpretation_languages": ["es", "vi"]
}))]
pub struct CreateMeeting {
    #[serde(rename = "type")]
    pub meeting_type: MeetingType,
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Any RFC 3339 offset; stored and returned in UTC.
    pub starts_at: DateTime<Utc>,
    /// Expected end; after `starts_at`.
    pub ends_at: Option<DateTime<Utc>>,
    /// IANA time zone; defaults to the time zone of the council's school (required for a
    /// council without a school).
    #[validate(custom(function = "fields::time_zone"))]
    #[schema(max_length = 64)]
    pub time_zone: Option<String>,
    /// Where the public may attend; a meeting needs a location, a remote link, or both.
    #[validate(custom(function = "fields::address"))]
    #[schema(min_length = 1, max_length = 500)]
    pub location: Option<String>,
    #[validate(custom(function = "web_link"))]
    #[schema(max_length = 500, pattern = r"^https?://[^\s]+$")]
    pub remote_url: Option<String>,
    #[serde(default)]
    #[validate(custom(function = "languages"))]
    #[schema(max_items = 20)]
    pub interpretation_languages: Vec<LanguageTag>,
    /// Emergency meetings only: the finding the meeting rests on (Gov. Code 54956.5(a)).
    pub emergency_finding: Option<EmergencyFinding>,
    /// Emergency meetings only: when media that asked were told by telephone.
    pub media_notified_at: Option<DateTime<Utc>>,
}

/// Only the fields sent are changed; `null` clears an optional field. Only a draft can be
/// changed.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Special meeting / Reunión extraordinaria", "type": "special",
    "interpretation_languages": ["es"]}))]
pub struct UpdateMeeting {
    #[serde(default, rename = "type", deserialize_with = "fields::double_option")]
    #[schema(value_type = MeetingType, required = false)]
    pub meeting_type: Option<Option<MeetingType>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::name"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = DateTime<Utc>, required = false)]
    pub starts_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub ends_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::time_zone"))]
    #[schema(value_type = String, required = false, max_length = 64)]
    pub time_zone: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::address"))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 500)]
    pub location: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "web_link"))]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^https?://[^\s]+$")]
    pub remote_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "languages"))]
    #[schema(value_type = Vec<LanguageTag>, required = false, max_items = 20)]
    pub interpretation_languages: Option<Option<Vec<LanguageTag>>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<EmergencyFinding>)]
    pub emergency_finding: Option<Option<EmergencyFinding>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub media_notified_at: Option<Option<DateTime<Utc>>>,
}

/// Why a meeting is called off (shown with the meeting).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "No quorum expected / No se espera quórum"}))]
pub struct CancelMeeting {
    #[validate(custom(function = "reason"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MeetingListParams {
    pub status: Option<MeetingStatus>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeetingList {
    pub items: Vec<MeetingResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One lifecycle action on a meeting.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9100-7000-8000-00000000c101", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "action": "cancel", "from_status": "noticed", "to_status": "cancelled",
    "actor": "person:01936d4e-7000-7000-8000-00000000a002", "note": "No quorum expected / No se espera quórum",
    "occurred_at": "2027-03-12T16:00:00Z"}))]
pub struct MeetingEventResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    /// `created`, `publish`, `open`, `recess`, `adjourn` or `cancel`.
    pub action: String,
    pub from_status: Option<MeetingStatus>,
    pub to_status: MeetingStatus,
    /// Who did it: `person:<id>` or `client:<client_id>`.
    pub actor: Option<String>,
    pub note: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl TryFrom<MeetingEvent> for MeetingEventResponse {
    type Error = ApiError;

    fn try_from(e: MeetingEvent) -> Result<Self, ApiError> {
        let status = |s: &str| {
            MeetingStatus::parse(s)
                .ok_or_else(|| ApiError::Internal(format!("stored meeting status {s:?} unknown")))
        };
        Ok(MeetingEventResponse {
            id: db::stored_uuid("meeting event id", &e.id)?,
            meeting_id: db::stored_uuid("meeting id", &e.meeting_id)?,
            action: e.action,
            from_status: e.from_status.as_deref().map(status).transpose()?,
            to_status: status(&e.to_status)?,
            actor: e.actor,
            note: e.note,
            occurred_at: e.created_at.and_utc(),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeetingEventList {
    pub items: Vec<MeetingEventResponse>,
    pub next_cursor: Option<String>,
}

/// List a council's meetings
///
/// Meetings never published (drafts) are listed for the council's staff only.
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/meetings", tag = "meetings",
    params(("council_id" = Uuid, Path, description = "The council's id"), MeetingListParams),
    responses(
        (status = 200, description = "A page of meetings in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = MeetingList),
        super::problems::NestedListErrors))]
pub async fn list_meetings(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    council_id: web::Path<Uuid>,
    params: web::Query<MeetingListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = meetings::list(
        &ctx,
        &state.db,
        &council_id.into_inner().to_string(),
        params.status,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |m| &m.row.id);
    let items = rows
        .into_iter()
        .map(MeetingResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, next))
}

/// Schedule a meeting
///
/// Creates a draft; its notice is published with `POST /meetings/{meeting_id}/publish`.
#[utoipa::path(post, path = "/api/v1/councils/{council_id}/meetings", tag = "meetings", request_body = CreateMeeting,
    params(("council_id" = Uuid, Path, description = "The council's id")),
    responses(
        (status = 201, description = "Created as a draft; `Location` names the new meeting.", body = MeetingResponse,
            headers(("Location" = String, description = "URL of the new meeting"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_meeting(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    council_id: web::Path<Uuid>,
    body: JsonBody<CreateMeeting>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = meetings::NewMeeting {
        meeting_type: body.meeting_type,
        title: body.title,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        time_zone: body.time_zone,
        location: body.location,
        remote_url: body.remote_url,
        interpretation_languages: tags(body.interpretation_languages),
        emergency_finding: body.emergency_finding,
        media_notified_at: body.media_notified_at,
    };
    let meeting =
        meetings::create(&ctx, &state.db, council_id.into_inner().to_string(), input).await?;
    let version = meeting.row.version;
    let location = format!("/api/v1/meetings/{}", meeting.row.id);
    Ok(created_response(
        location,
        &MeetingResponse::try_from(meeting)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Get a meeting
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The meeting, with its `ETag`.", body = MeetingResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_meeting(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let meeting = meetings::find(&ctx, &state.db, &id.into_inner().to_string())?;
    let meeting = MeetingResponse::try_from(meeting)?;
    let version = meeting.version;
    Ok(resource_response(&req, &meeting, version, CACHE_REVALIDATE))
}

/// Change a draft meeting
#[utoipa::path(patch, path = "/api/v1/meetings/{meeting_id}", tag = "meetings", request_body = UpdateMeeting,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-Match" = String, Header, description = "The meeting's current ETag")),
    responses(
        (status = 200, description = "The changed meeting, with the new `ETag`.", body = MeetingResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn update_meeting(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateMeeting>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let changes = meetings::MeetingChanges {
        meeting_type: body.meeting_type,
        title: body.title,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        time_zone: body.time_zone,
        location: body.location,
        remote_url: body.remote_url,
        interpretation_languages: body.interpretation_languages.map(|l| l.map(tags)),
        emergency_finding: body.emergency_finding,
        media_notified_at: body.media_notified_at,
    };
    let meeting = meetings::update(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        changes,
    )
    .await?;
    let meeting = MeetingResponse::try_from(meeting)?;
    let version = meeting.version;
    Ok(updated_response(&meeting, version, CACHE_REVALIDATE))
}

async fn act(
    state: web::Data<AppState>,
    ctx: crate::commands::Context,
    req: HttpRequest,
    id: web::Path<Uuid>,
    action: Transition,
    reason: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let meeting = meetings::transition(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        action,
        reason,
    )
    .await?;
    let meeting = MeetingResponse::try_from(meeting)?;
    let version = meeting.version;
    Ok(updated_response(&meeting, version, CACHE_REVALIDATE))
}

/// Publish a meeting's notice and agenda
///
/// `draft → noticed`. Refused (409 `notice-too-late`) when fewer hours remain before the start
/// than the council's rules require (72 clock hours for a regular meeting, 24 for a Brown Act
/// special meeting; the detail names the deadline in the meeting's local time); an emergency
/// meeting needs a recorded finding (409 `emergency-finding-required`) and, unless dire, media
/// notice at least 1 hour before (409 `media-notice-required`).
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/publish", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-Match" = String, Header, description = "The meeting's current ETag")),
    responses(
        (status = 200, description = "The noticed meeting, with its new `ETag`.", body = MeetingResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn publish_meeting(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    act(state, ctx, req, id, Transition::Publish, None).await
}

/// Call a meeting to order
///
/// `noticed → in_session`, or `recessed → in_session` to resume.
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/open", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-Match" = String, Header, description = "The meeting's current ETag")),
    responses(
        (status = 200, description = "The meeting in session, with its new `ETag`.", body = MeetingResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn open_meeting(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    act(state, ctx, req, id, Transition::Open, None).await
}

/// Recess a meeting
///
/// `in_session → recessed`.
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/recess", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-Match" = String, Header, description = "The meeting's current ETag")),
    responses(
        (status = 200, description = "The meeting in recess, with its new `ETag`.", body = MeetingResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn recess_meeting(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    act(state, ctx, req, id, Transition::Recess, None).await
}

/// Adjourn a meeting
///
/// `in_session` or `recessed → adjourned`.
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/adjourn", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-Match" = String, Header, description = "The meeting's current ETag")),
    responses(
        (status = 200, description = "The adjourned meeting, with its new `ETag`.", body = MeetingResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn adjourn_meeting(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    act(state, ctx, req, id, Transition::Adjourn, None).await
}

/// Cancel a meeting
///
/// `draft` or `noticed → cancelled`, with a reason shown with the meeting.
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/cancel", tag = "meetings", request_body = CancelMeeting,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-Match" = String, Header, description = "The meeting's current ETag")),
    responses(
        (status = 200, description = "The cancelled meeting, with its new `ETag`.", body = MeetingResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn cancel_meeting(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<CancelMeeting>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.into_inner().reason;
    act(state, ctx, req, id, Transition::Cancel, Some(reason)).await
}

/// A meeting's history
///
/// Every lifecycle action, oldest first, with who did it and when.
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/events", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"), PageParams),
    responses(
        (status = 200, description = "Actions, oldest first.", body = MeetingEventList),
        super::problems::NestedListErrors))]
pub async fn list_meeting_events(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = meetings::list_events(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |e| &e.id);
    let items = rows
        .into_iter()
        .map(MeetingEventResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, next))
}

/// Present or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    Present,
    Absent,
}

/// Record (or correct) a seat holder's attendance.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"seat_id": "01936d4e-8000-7000-8000-00000000b001", "status": "present",
    "remote_basis": "teleconference_location", "arrived_at": "2027-03-17T01:05:00Z"}))]
pub struct RecordAttendance {
    pub seat_id: Uuid,
    pub status: AttendanceStatus,
    /// Set when the member attends remotely; written to the minutes.
    pub remote_basis: Option<RemoteBasis>,
    pub arrived_at: Option<DateTime<Utc>>,
    /// Set when the member leaves before adjournment (no longer counted for quorum).
    pub departed_at: Option<DateTime<Utc>>,
}

/// A seat holder's attendance at a meeting.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9400-7000-8000-00000000d101", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "seat_id": "01936d4e-8000-7000-8000-00000000b001", "person_id": "01936d4e-7000-7000-8000-00000000a001",
    "status": "present", "remote": true, "remote_basis": "teleconference_location",
    "arrived_at": "2027-03-17T01:05:00Z", "departed_at": null, "version": 1}))]
pub struct AttendanceResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub seat_id: Uuid,
    /// Who held the seat when attendance was taken.
    pub person_id: Uuid,
    pub status: AttendanceStatus,
    pub remote: bool,
    pub remote_basis: Option<RemoteBasis>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub departed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl TryFrom<Attendance> for AttendanceResponse {
    type Error = ApiError;

    fn try_from(a: Attendance) -> Result<Self, ApiError> {
        Ok(AttendanceResponse {
            id: db::stored_uuid("attendance id", &a.id)?,
            meeting_id: db::stored_uuid("meeting id", &a.meeting_id)?,
            seat_id: db::stored_uuid("seat id", &a.seat_id)?,
            person_id: db::stored_uuid("person id", &a.person_id)?,
            status: if a.status == "present" {
                AttendanceStatus::Present
            } else {
                AttendanceStatus::Absent
            },
            remote: a.remote,
            remote_basis: a.remote_basis.as_deref().and_then(RemoteBasis::parse),
            arrived_at: a.arrived_at.map(|t| t.and_utc()),
            departed_at: a.departed_at.map(|t| t.and_utc()),
            version: a.version,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceList {
    pub items: Vec<AttendanceResponse>,
    pub next_cursor: Option<String>,
}

/// Record attendance
///
/// One record per seat and meeting; recording again corrects it. Taken while the meeting is
/// noticed, in session or in recess (409 otherwise).
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/attendance", tag = "meetings", request_body = RecordAttendance,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "The seat holder's attendance as recorded.", body = AttendanceResponse),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn record_attendance(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<RecordAttendance>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = meetings::AttendanceInput {
        seat_id: body.seat_id.to_string(),
        present: body.status == AttendanceStatus::Present,
        remote_basis: body.remote_basis,
        arrived_at: body.arrived_at,
        departed_at: body.departed_at,
    };
    let row =
        meetings::record_attendance(&ctx, &state.db, id.into_inner().to_string(), input).await?;
    let row = AttendanceResponse::try_from(row)?;
    let version = row.version;
    Ok(updated_response(&row, version, CACHE_REVALIDATE))
}

/// A meeting's attendance
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/attendance", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "Every seat holder's attendance (one page).", body = AttendanceList),
        super::problems::ReadErrors))]
pub async fn list_attendance(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rows = meetings::list_attendance(&ctx, &state.db, &id.into_inner().to_string())?;
    let items = rows
        .into_iter()
        .map(AttendanceResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, None))
}

/// A meeting's quorum now
///
/// Required members from the council's quorum basis, voting members present, and whether quorum
/// is met (with members attending under Gov. Code 54953(f), only those present in person count).
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/quorum", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "Quorum now.", body = MeetingQuorum),
        super::problems::ReadErrors))]
pub async fn meeting_quorum(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let q = meetings::quorum(&ctx, &state.db, &id.into_inner().to_string())?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_REVALIDATE))
        .json(q))
}
