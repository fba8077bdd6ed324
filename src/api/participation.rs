//! Public participation: written public comment on agenda items (anyone, no sign-in), staff
//! hiding an abusive comment, and in-person speakers with their time.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToResponse, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::fields;
use super::paging::{list_response, private_list_response, split_page, PageRequest};
use super::preconditions::{created_response, expected, updated_response, CACHE_REVALIDATE};
use crate::auth::{Caller, SignedIn};
use crate::commands::participation::{self, CommentView, NewComment, NewSpeaker};
use crate::db::{self, participation::PublicSpeaker};
use crate::domain::council::Constituency;
use crate::domain::participation::{Interpretation, COMMENT_CHARS_MAX};
use crate::error::ApiError;
use crate::state::AppState;

fn comment_body(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() || value.chars().count() > COMMENT_CHARS_MAX {
        let mut e = ValidationError::new("length");
        e.message =
            Some(format!("must be 1 to {COMMENT_CHARS_MAX} characters, not only spaces").into());
        return Err(e);
    }
    Ok(())
}

fn reason(value: &str) -> Result<(), ValidationError> {
    super::meetings::reason(value)
}

/// A written public comment. Nothing but the text is asked for: a name or email is voluntary,
/// and no sign-in is needed.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Please keep the after-school program open until 6 pm. / Por favor mantengan el programa después de clases abierto hasta las 6 pm.",
    "author_name": "María López"}))]
pub struct CreateComment {
    /// The comment (at most 5,000 characters).
    #[validate(custom(function = "comment_body"))]
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
    /// Voluntary: leave it out to comment anonymously (Gov. Code 54953.3). Shown with the
    /// comment.
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub author_name: Option<String>,
    /// Voluntary: for staff to reply; never shown to the public.
    #[validate(custom(function = "fields::email"))]
    #[schema(
        max_length = 254,
        pattern = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub author_email: Option<String>,
}

/// Hide an abusive comment; the reason is shown to the public in its place.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Threatens a student by name / Amenaza a un estudiante por su nombre"}))]
pub struct HideComment {
    #[validate(custom(function = "reason"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// A written public comment. A hidden comment shows `hidden: true` and the reason; its text
/// (`body`) and the author's name are shown to the council's staff only. `author_email` is shown
/// to staff only.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9400-7000-8000-000000010001", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "item_id": "01936d4e-9200-7000-8000-00000000e001",
    "body": "Please keep the after-school program open until 6 pm. / Por favor mantengan el programa después de clases abierto hasta las 6 pm.",
    "author_name": "María López", "author_email": null, "hidden": false, "hidden_reason": null, "hidden_at": null,
    "created_at": "2027-03-15T17:05:00Z", "updated_at": "2027-03-15T17:05:00Z", "version": 1
}))]
pub struct CommentResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub item_id: Uuid,
    /// `null` when the comment is hidden and the caller is not the council's staff.
    pub body: Option<String>,
    pub author_name: Option<String>,
    /// Staff of the council only.
    pub author_email: Option<String>,
    pub hidden: bool,
    pub hidden_reason: Option<String>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<CommentView> for CommentResponse {
    type Error = ApiError;

    fn try_from(v: CommentView) -> Result<Self, ApiError> {
        let row = v.row;
        let shown = v.staff || row.hidden_at.is_none();
        Ok(CommentResponse {
            id: db::stored_uuid("public comment id", &row.id)?,
            meeting_id: db::stored_uuid("meeting id", &row.meeting_id)?,
            item_id: db::stored_uuid("agenda item id", &row.item_id)?,
            body: shown.then_some(row.body),
            author_name: if shown { row.author_name } else { None },
            author_email: if v.staff { row.author_email } else { None },
            hidden: row.hidden_at.is_some(),
            hidden_reason: row.hidden_reason,
            hidden_at: row.hidden_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct CommentList {
    pub items: Vec<CommentResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommentListParams {
    /// Comments per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A member of the public called to speak on an item; the name is voluntary.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "José Hernández", "interpretation": "consecutive"}))]
pub struct CreateSpeaker {
    /// Voluntary; leave it out for an anonymous speaker.
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `consecutive`: an interpreter repeats after the speaker, who gets twice the council's
    /// limit; `simultaneous`: interpretation equipment, the usual limit. Default `none`.
    #[serde(default)]
    pub interpretation: Interpretation,
}

/// A speaker heard on an item and the time they were given.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9500-7000-8000-000000011001", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "item_id": "01936d4e-9200-7000-8000-00000000e001", "name": "José Hernández",
    "interpretation": "consecutive", "seconds_allowed": 360, "created_at": "2027-03-15T17:10:00Z", "version": 1
}))]
pub struct SpeakerResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub item_id: Uuid,
    pub name: Option<String>,
    pub interpretation: Interpretation,
    /// The council's speaker limit, doubled for a speaker with a consecutive interpreter.
    pub seconds_allowed: i64,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<PublicSpeaker> for SpeakerResponse {
    type Error = ApiError;

    fn try_from(row: PublicSpeaker) -> Result<Self, ApiError> {
        Ok(SpeakerResponse {
            id: db::stored_uuid("speaker id", &row.id)?,
            meeting_id: db::stored_uuid("meeting id", &row.meeting_id)?,
            item_id: db::stored_uuid("agenda item id", &row.item_id)?,
            interpretation: Interpretation::parse(&row.interpretation).ok_or_else(|| {
                ApiError::Internal(format!(
                    "stored interpretation unreadable: {}",
                    row.interpretation
                ))
            })?,
            name: row.name,
            seconds_allowed: row.seconds_allowed,
            created_at: row.created_at.and_utc(),
            version: row.version,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct SpeakerList {
    pub items: Vec<SpeakerResponse>,
    pub next_cursor: Option<String>,
}

#[derive(ToResponse)]
#[response(
    description = "This address sent as many comments as the window allows (10 per 10 minutes); retry after `Retry-After` seconds, when the window ends.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:too-many-requests", "title": "Too Many Requests", "status": 429,
        "detail": "too many attempts; retry after 412 seconds", "code": "too-many-requests",
        "instance": "/api/v1/agenda-items/01936d4e-9200-7000-8000-00000000e001/comments"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct CommentTooManyRequests(crate::error::Problem);

/// Comment on an agenda item
///
/// Anyone may send a written comment on an item of a published meeting, without signing in and
/// without giving a name, until the item's comment period is closed or the meeting ends.
/// Comments are public. Each client address may send 10 comments per 10 minutes.
#[utoipa::path(post, path = "/api/v1/agenda-items/{item_id}/comments", tag = "participation", request_body = CreateComment,
    params(("item_id" = Uuid, Path, description = "The item's id")),
    responses(
        (status = 201, description = "Received; `Location` names the comment.", body = CommentResponse,
            headers(("Location" = String, description = "URL of the comment"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        (status = 429, response = CommentTooManyRequests),
        super::problems::BodyErrors))]
pub async fn create_comment(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CreateComment>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let view = participation::submit_comment(
        &ctx,
        &state.db,
        &state.protection.public_comment,
        id.into_inner().to_string(),
        NewComment {
            author_name: body.author_name,
            author_email: body.author_email,
            body: body.body,
        },
    )
    .await?;
    let version = view.row.version;
    let location = format!("/api/v1/public-comments/{}", view.row.id);
    Ok(created_response(
        location,
        &CommentResponse::try_from(view)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// An agenda item's written comments
///
/// In the order they came. Hidden comments are listed as hidden, with the reason.
#[utoipa::path(get, path = "/api/v1/agenda-items/{item_id}/comments", tag = "participation",
    params(("item_id" = Uuid, Path, description = "The item's id"), CommentListParams),
    responses(
        (status = 200, description = "A page of comments.", body = CommentList),
        super::problems::NestedListErrors))]
pub async fn list_comments(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<CommentListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = participation::comments(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        page.after.as_deref(),
        page.fetch(),
    )?;
    let staff = rows.first().is_some_and(|v| v.staff);
    let (rows, next) = split_page(rows, &page, |v| &v.row.id);
    let items = rows
        .into_iter()
        .map(CommentResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if staff {
        private_list_response(&req, &items, next)
    } else {
        list_response(&req, &items, next)
    })
}

/// Hide an abusive comment
///
/// The comment is kept; the public sees that it is hidden and why.
#[utoipa::path(post, path = "/api/v1/public-comments/{comment_id}/hide", tag = "participation", request_body = HideComment,
    params(("comment_id" = Uuid, Path, description = "The comment's id"),
           ("If-Match" = String, Header, description = "The comment's current ETag")),
    responses(
        (status = 200, description = "The hidden comment, with its new `ETag`.", body = CommentResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn hide_comment(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<HideComment>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let view = participation::hide_comment(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        body.into_inner().reason,
    )
    .await?;
    let version = view.row.version;
    Ok(updated_response(
        &CommentResponse::try_from(view)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Record a public speaker on an item
///
/// While the meeting is in session; the speaker is given the council's speaker limit, twice
/// that with a consecutive interpreter.
#[utoipa::path(post, path = "/api/v1/agenda-items/{item_id}/speakers", tag = "participation", request_body = CreateSpeaker,
    params(("item_id" = Uuid, Path, description = "The item's id")),
    responses(
        (status = 201, description = "Recorded, with the seconds the speaker is given.", body = SpeakerResponse,
            headers(("Location" = String, description = "URL of the item's speakers"), ("ETag" = String, description = "Version tag"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_speaker(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateSpeaker>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let item_id = id.into_inner().to_string();
    let row = participation::record_speaker(
        &ctx,
        &state.db,
        item_id.clone(),
        NewSpeaker {
            name: body.name,
            interpretation: body.interpretation,
        },
    )
    .await?;
    let version = row.version;
    Ok(created_response(
        format!("/api/v1/agenda-items/{item_id}/speakers"),
        &SpeakerResponse::try_from(row)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// An agenda item's public speakers
///
/// In the order they were called (one page).
#[utoipa::path(get, path = "/api/v1/agenda-items/{item_id}/speakers", tag = "participation",
    params(("item_id" = Uuid, Path, description = "The item's id")),
    responses(
        (status = 200, description = "The speakers.", body = SpeakerList),
        super::problems::ReadErrors))]
pub async fn list_speakers(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rows = participation::speakers(&ctx, &state.db, &id.into_inner().to_string())?;
    let items = rows
        .into_iter()
        .map(SpeakerResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, None))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgendaSourceParams {
    /// First day counted (UTC, inclusive); default one year before `to`.
    #[param(example = "2026-08-01")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day counted (UTC, inclusive); default today.
    #[param(example = "2027-06-30")]
    pub to: Option<chrono::NaiveDate>,
}

/// Items from one source over the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaSource {
    /// The constituency of the seat the items were proposed from; `null` for items staff
    /// proposed or added without a seat (in assemblies, every item).
    pub constituency: Option<Constituency>,
    /// Items proposed or added.
    pub proposed: i64,
    /// Of those, put on a meeting's agenda.
    pub accepted: i64,
    /// Of those, decided by a vote that closed.
    pub voted_on: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "from": "2026-08-01", "to": "2027-06-30",
    "sources": [
        {"constituency": null, "proposed": 14, "accepted": 14, "voted_on": 9},
        {"constituency": "families", "proposed": 6, "accepted": 4, "voted_on": 3},
        {"constituency": "students", "proposed": 3, "accepted": 1, "voted_on": 0}]}))]
pub struct AgendaSources {
    pub council_id: Uuid,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// Staff (`constituency: null`) first, then constituencies by name; sources without items
    /// are left out.
    pub sources: Vec<AgendaSource>,
}

/// Who sets the agenda
///
/// Per constituency: agenda items proposed, accepted onto a meeting, and voted on, for items
/// created in the period. Counts of public acts.
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/agenda-sources", tag = "agenda",
    params(("council_id" = Uuid, Path, description = "The council's id"), AgendaSourceParams),
    responses(
        (status = 200, description = "Counts per source.", body = AgendaSources),
        super::problems::NestedListErrors))]
pub async fn agenda_sources(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<Uuid>,
    params: web::Query<AgendaSourceParams>,
) -> Result<HttpResponse, ApiError> {
    let to = params.to.unwrap_or_else(|| Utc::now().date_naive());
    let from = params
        .from
        .unwrap_or_else(|| to.checked_sub_months(chrono::Months::new(12)).unwrap_or(to));
    if from > to {
        return Err(ApiError::validation("from", "must not be after `to`"));
    }
    if (to - from).num_days() > 3660 {
        return Err(ApiError::validation(
            "from",
            "the period is at most 10 years",
        ));
    }
    let end = to
        .succ_opt()
        .unwrap_or(to)
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| ApiError::validation("to", "is not a day"))?;
    let start = from
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| ApiError::validation("from", "is not a day"))?;
    let council_id = id.into_inner();
    let counts =
        participation::agenda_sources(&ctx, &state.db, &council_id.to_string(), start, end)?;
    let sources =
        counts
            .into_iter()
            .map(|c| {
                Ok(AgendaSource {
                    constituency: match c.constituency {
                        None => None,
                        Some(s) => Some(Constituency::parse(&s).ok_or_else(|| {
                            ApiError::Internal(format!("stored constituency {s:?}"))
                        })?),
                    },
                    proposed: c.proposed,
                    accepted: c.accepted,
                    voted_on: c.voted_on,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(AgendaSources {
            council_id,
            from,
            to,
            sources,
        }))
}
