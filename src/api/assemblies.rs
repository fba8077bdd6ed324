//! Assemblies: participants of a meeting, check-in, quorum by count, and motions voted on by
//! participants.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::body::JsonBody;
use super::fields;
use super::paging::{private_list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_REVALIDATE,
};
use crate::auth::{Caller, SignedIn};
use crate::commands::assemblies::{self, AssemblyMotionRecord, NewAssemblyMotion, NewParticipant};
use crate::db::{self, assemblies::Participant};
use crate::domain::council::Constituency;
use crate::domain::participation::BATCH_MAX;
use crate::domain::vote::{Choice, Threshold};
use crate::error::ApiError;
use crate::state::AppState;

/// Register a participant. Staff register whoever comes; the name is what the participant
/// gives (it need not be a legal name) and the constituency what they declare.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Lupe Ortega", "constituency": "families"}))]
pub struct CreateParticipant {
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub constituency: Constituency,
    /// A person record, when the participant has one; a person registers once per meeting.
    pub person_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9600-7000-8000-000000012001", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "name": "Lupe Ortega", "constituency": "families", "person_id": null, "present": true,
    "checked_in_at": "2027-03-15T17:01:00Z", "checked_out_at": null, "version": 2
}))]
pub struct ParticipantResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub name: String,
    pub constituency: Constituency,
    pub person_id: Option<Uuid>,
    /// Checked in and not checked out since: may vote.
    pub present: bool,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl TryFrom<Participant> for ParticipantResponse {
    type Error = ApiError;

    fn try_from(p: Participant) -> Result<Self, ApiError> {
        Ok(ParticipantResponse {
            id: db::stored_uuid("participant id", &p.id)?,
            meeting_id: db::stored_uuid("meeting id", &p.meeting_id)?,
            constituency: Constituency::parse(&p.constituency).ok_or_else(|| {
                ApiError::Internal(format!("stored constituency {:?}", p.constituency))
            })?,
            person_id: p
                .person_id
                .as_deref()
                .map(|s| db::stored_uuid("person id", s))
                .transpose()?,
            name: p.name,
            present: p.present,
            checked_in_at: p.checked_in_at.map(|t| t.and_utc()),
            checked_out_at: p.checked_out_at.map(|t| t.and_utc()),
            version: p.version,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantList {
    pub items: Vec<ParticipantResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ParticipantListParams {
    /// Participants per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Check participants in (`present: true`) or out, up to 1,000 at once, all or none.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"participant_ids": ["01936d4e-9600-7000-8000-000000012001"], "present": true}))]
pub struct CheckIn {
    #[validate(length(min = 1, max = 1000, message = "must list 1 to 1000 participants"))]
    #[schema(min_items = 1, max_items = 1000)]
    pub participant_ids: Vec<Uuid>,
    pub present: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"present": 31, "required": 25, "met": true}))]
pub struct AssemblyQuorumResponse {
    /// Participants checked in now.
    pub present: i64,
    /// The council's `assembly_quorum`; `null` when none is set (no quorum, no votes).
    pub required: Option<i64>,
    pub met: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"agenda_item_id": "01936d4e-9200-7000-8000-00000000e001",
    "text": "Keep the library open on Saturdays / Abrir la biblioteca los sábados",
    "mover_participant_id": "01936d4e-9600-7000-8000-000000012001", "threshold": "majority"}))]
pub struct CreateAssemblyMotion {
    pub agenda_item_id: Uuid,
    #[validate(custom(function = "fields::text"))]
    #[schema(max_length = 4000)]
    pub text: String,
    /// A participant present now.
    pub mover_participant_id: Uuid,
    #[serde(default = "majority")]
    pub threshold: Threshold,
}

fn majority() -> Threshold {
    Threshold::Majority
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantVote {
    pub participant_id: Uuid,
    /// `yes`, `no` or `abstain`.
    pub choice: Choice,
}

/// The clerk records present participants' votes, up to 1,000 at once, all or none.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"votes": [{"participant_id": "01936d4e-9600-7000-8000-000000012001", "choice": "yes"}]}))]
pub struct CastVotes {
    #[validate(length(min = 1, max = 1000, message = "must list 1 to 1000 votes"))]
    #[schema(min_items = 1, max_items = 1000)]
    pub votes: Vec<ParticipantVote>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"recorded": 412}))]
pub struct VotesRecorded {
    pub recorded: usize,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9700-7000-8000-000000013001", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "agenda_item_id": "01936d4e-9200-7000-8000-00000000e001",
    "text": "Keep the library open on Saturdays / Abrir la biblioteca los sábados",
    "mover_participant_id": "01936d4e-9600-7000-8000-000000012001", "threshold": "majority",
    "status": "passed", "yes": 600, "no": 380, "abstain": 20, "present_at_close": 1000,
    "closed_at": "2027-03-15T18:30:00Z", "version": 2
}))]
pub struct AssemblyMotionResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub agenda_item_id: Uuid,
    pub text: String,
    pub mover_participant_id: Uuid,
    pub threshold: Threshold,
    /// `open`, `passed` or `failed`.
    pub status: String,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// Participants present when the vote closed.
    pub present_at_close: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl TryFrom<AssemblyMotionRecord> for AssemblyMotionResponse {
    type Error = ApiError;

    fn try_from(r: AssemblyMotionRecord) -> Result<Self, ApiError> {
        let m = r.row;
        Ok(AssemblyMotionResponse {
            id: db::stored_uuid("motion id", &m.id)?,
            meeting_id: db::stored_uuid("meeting id", &m.meeting_id)?,
            agenda_item_id: db::stored_uuid("agenda item id", &m.agenda_item_id)?,
            mover_participant_id: db::stored_uuid("participant id", &m.mover_participant_id)?,
            threshold: Threshold::parse(&m.threshold)
                .ok_or_else(|| ApiError::Internal(format!("stored threshold {:?}", m.threshold)))?,
            text: m.text,
            status: m.status,
            yes: r.tally.yes,
            no: r.tally.no,
            abstain: r.tally.abstain,
            present_at_close: m.present_at_close,
            closed_at: m.closed_at.map(|t| t.and_utc()),
            version: m.version,
        })
    }
}

/// Register a participant for an assembly's meeting
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/participants", tag = "assemblies", request_body = CreateParticipant,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 201, description = "Registered (not yet present).", body = ParticipantResponse,
            headers(("Location" = String, description = "URL of the meeting's participants"), ("ETag" = String, description = "Version tag"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn register_participant(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateParticipant>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let meeting_id = id.into_inner().to_string();
    let p = assemblies::register(
        &ctx,
        &state.db,
        meeting_id.clone(),
        NewParticipant {
            name: body.name,
            constituency: body.constituency,
            person_id: body.person_id.map(|u| u.to_string()),
        },
    )
    .await?;
    let version = p.version;
    Ok(created_response(
        format!("/api/v1/meetings/{meeting_id}/participants"),
        &ParticipantResponse::try_from(p)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// An assembly meeting's participants
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/participants", tag = "assemblies",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"), ParticipantListParams),
    responses(
        (status = 200, description = "A page of participants in registration order.", body = ParticipantList),
        (status = 403, response = super::problems::Forbidden),
        super::problems::NestedListErrors))]
pub async fn list_participants(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<ParticipantListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = assemblies::participants(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |p| &p.id);
    let items = rows
        .into_iter()
        .map(ParticipantResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Check participants in or out
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/check-ins", tag = "assemblies", request_body = CheckIn,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "The participants as checked in or out.", body = ParticipantList),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn check_in(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<CheckIn>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let rows = assemblies::check_in(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        body.participant_ids.iter().map(Uuid::to_string).collect(),
        body.present,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(ParticipantResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, None))
}

/// An assembly meeting's quorum
///
/// Participants present now against the minimum count set on the assembly.
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/assembly-quorum", tag = "assemblies",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "Present and required counts.", body = AssemblyQuorumResponse),
        super::problems::ReadErrors))]
pub async fn assembly_quorum(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let q = assemblies::quorum(&ctx, &state.db, &id.into_inner().to_string())?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(AssemblyQuorumResponse {
            present: q.present,
            required: q.required,
            met: q.met,
        }))
}

/// Make a motion in an assembly
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/assembly-motions", tag = "assemblies", request_body = CreateAssemblyMotion,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 201, description = "The open motion.", body = AssemblyMotionResponse,
            headers(("Location" = String, description = "URL of the motion"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn make_assembly_motion(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateAssemblyMotion>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let r = assemblies::make_motion(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        NewAssemblyMotion {
            agenda_item_id: body.agenda_item_id.to_string(),
            text: body.text,
            mover_participant_id: body.mover_participant_id.to_string(),
            threshold: body.threshold,
        },
    )
    .await?;
    let version = r.row.version;
    let location = format!("/api/v1/assembly-motions/{}", r.row.id);
    Ok(created_response(
        location,
        &AssemblyMotionResponse::try_from(r)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Get an assembly motion with its count
#[utoipa::path(get, path = "/api/v1/assembly-motions/{motion_id}", tag = "assemblies",
    params(("motion_id" = Uuid, Path, description = "The motion's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The motion, with its `ETag`.", body = AssemblyMotionResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_assembly_motion(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let r = AssemblyMotionResponse::try_from(assemblies::find_motion(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
    )?)?;
    let version = r.version;
    Ok(resource_response(&req, &r, version, CACHE_REVALIDATE))
}

/// Record participants' votes
///
/// Present participants only, one vote each per motion (a second is 409 `already-voted`).
#[utoipa::path(post, path = "/api/v1/assembly-motions/{motion_id}/votes", tag = "assemblies", request_body = CastVotes,
    params(("motion_id" = Uuid, Path, description = "The motion's id")),
    responses(
        (status = 201, description = "Every vote recorded.", body = VotesRecorded),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn cast_votes(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CastVotes>,
) -> Result<HttpResponse, ApiError> {
    let votes: Vec<(String, Choice)> = body
        .into_inner()
        .votes
        .into_iter()
        .take(BATCH_MAX)
        .map(|v| (v.participant_id.to_string(), v.choice))
        .collect();
    let recorded = assemblies::vote(&ctx, &state.db, id.into_inner().to_string(), votes).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(VotesRecorded { recorded }))
}

/// Close an assembly vote
#[utoipa::path(post, path = "/api/v1/assembly-motions/{motion_id}/close", tag = "assemblies",
    params(("motion_id" = Uuid, Path, description = "The motion's id"),
           ("If-Match" = String, Header, description = "The motion's current ETag")),
    responses(
        (status = 200, description = "The result, final.", body = AssemblyMotionResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn close_assembly_motion(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let r =
        assemblies::close_motion(&ctx, &state.db, id.into_inner().to_string(), expected).await?;
    let r = AssemblyMotionResponse::try_from(r)?;
    let version = r.version;
    Ok(updated_response(&r, version, CACHE_REVALIDATE))
}
