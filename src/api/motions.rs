//! Motions and roll-call votes: `/api/v1/meetings/{meeting_id}/motions` and
//! `/api/v1/motions/{motion_id}` with its `votes` and `close`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::fields;
use super::paging::list_response;
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_REVALIDATE,
};
use crate::auth::{Caller, SignedIn};
use crate::commands::motions::{self, MotionRecord, NewMotion};
use crate::db::{self, motions::Vote};
use crate::domain::vote::{Choice, MotionKind, Tally, Threshold};
use crate::error::ApiError;
use crate::state::AppState;

fn recusal_reason(value: &str) -> Result<(), ValidationError> {
    super::meetings::reason(value)
}

fn motion_text(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        let mut e = ValidationError::new("length");
        e.message = Some("must not be empty".into());
        return Err(e);
    }
    fields::text(value)
}

/// One member's recorded vote.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9600-7000-8000-00000000a601", "motion_id": "01936d4e-9500-7000-8000-00000000a501",
    "seat_id": "01936d4e-8000-7000-8000-00000000b001", "person_id": "01936d4e-7000-7000-8000-00000000a001",
    "choice": "yes", "reason": null, "recorded_at": "2027-03-17T01:40:00Z"}))]
pub struct VoteResponse {
    pub id: Uuid,
    pub motion_id: Uuid,
    pub seat_id: Uuid,
    pub person_id: Uuid,
    pub choice: Choice,
    /// Why a member recused.
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl TryFrom<Vote> for VoteResponse {
    type Error = ApiError;

    fn try_from(v: Vote) -> Result<Self, ApiError> {
        Ok(VoteResponse {
            id: db::stored_uuid("vote id", &v.id)?,
            motion_id: db::stored_uuid("motion id", &v.motion_id)?,
            seat_id: db::stored_uuid("seat id", &v.seat_id)?,
            person_id: db::stored_uuid("person id", &v.person_id)?,
            choice: Choice::parse(&v.choice)
                .ok_or_else(|| ApiError::Internal(format!("stored vote {:?}", v.choice)))?,
            reason: v.reason,
            recorded_at: v.created_at.and_utc(),
        })
    }
}

/// A motion, every member's vote by name, and its result once closed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9500-7000-8000-00000000a501", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "agenda_item_id": "01936d4e-9200-7000-8000-00000000e001", "kind": "main",
    "text": "Approve the 2027 budget / Aprobar el presupuesto 2027",
    "mover_seat_id": "01936d4e-8000-7000-8000-00000000b001", "seconder_seat_id": "01936d4e-8000-7000-8000-00000000b002",
    "threshold": "majority", "status": "passed", "membership": 9, "closed_at": "2027-03-17T01:45:00Z",
    "tally": {"yes": 4, "no": 2, "abstain": 1, "recused": 0, "absent": 2, "passed": true},
    "votes": [], "created_at": "2027-03-17T01:35:00Z", "version": 2}))]
pub struct MotionResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub agenda_item_id: Option<Uuid>,
    pub kind: MotionKind,
    pub text: String,
    pub mover_seat_id: Uuid,
    pub seconder_seat_id: Option<Uuid>,
    pub threshold: Threshold,
    /// `open`, `passed` or `failed`.
    pub status: String,
    /// Filled voting seats when the motion was made.
    pub membership: i64,
    pub closed_at: Option<DateTime<Utc>>,
    /// The counts so far; `passed` is final once the motion is closed.
    pub tally: Tally,
    pub votes: Vec<VoteResponse>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<MotionRecord> for MotionResponse {
    type Error = ApiError;

    fn try_from(r: MotionRecord) -> Result<Self, ApiError> {
        let m = r.row;
        let opt = |what: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| db::stored_uuid(what, s))
                .transpose()
                .map_err(ApiError::from)
        };
        Ok(MotionResponse {
            id: db::stored_uuid("motion id", &m.id)?,
            meeting_id: db::stored_uuid("meeting id", &m.meeting_id)?,
            agenda_item_id: opt("agenda item id", &m.agenda_item_id)?,
            kind: MotionKind::parse(&m.kind)
                .ok_or_else(|| ApiError::Internal(format!("stored motion kind {:?}", m.kind)))?,
            text: m.text,
            mover_seat_id: db::stored_uuid("seat id", &m.mover_seat_id)?,
            seconder_seat_id: opt("seat id", &m.seconder_seat_id)?,
            threshold: Threshold::parse(&m.threshold)
                .ok_or_else(|| ApiError::Internal(format!("stored threshold {:?}", m.threshold)))?,
            status: m.status,
            membership: m.membership,
            closed_at: m.closed_at.map(|t| t.and_utc()),
            tally: r.tally,
            votes: r
                .votes
                .into_iter()
                .map(VoteResponse::try_from)
                .collect::<Result<_, _>>()?,
            created_at: m.created_at.and_utc(),
            version: m.version,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct MotionList {
    pub items: Vec<MotionResponse>,
    pub next_cursor: Option<String>,
}

/// Make a motion (the chair or clerk records it).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "main", "agenda_item_id": "01936d4e-9200-7000-8000-00000000e001",
    "text": "Approve the 2027 budget / Aprobar el presupuesto 2027", "threshold": "majority",
    "mover_seat_id": "01936d4e-8000-7000-8000-00000000b001", "seconder_seat_id": "01936d4e-8000-7000-8000-00000000b002"}))]
pub struct CreateMotion {
    /// `main` (acts on an action or consent item), `adjourn` or `recess` (allowed without
    /// quorum).
    pub kind: MotionKind,
    pub agenda_item_id: Option<Uuid>,
    #[validate(custom(function = "motion_text"))]
    #[schema(min_length = 1, max_length = 4000)]
    pub text: String,
    pub mover_seat_id: Uuid,
    pub seconder_seat_id: Option<Uuid>,
    /// Defaults to `majority`.
    #[serde(default = "default_threshold")]
    pub threshold: Threshold,
}

fn default_threshold() -> Threshold {
    Threshold::Majority
}

/// Record a member's vote (roll call).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"seat_id": "01936d4e-8000-7000-8000-00000000b001", "choice": "recused",
    "reason": "Family member employed by the vendor / Familiar empleado por el proveedor"}))]
pub struct CastVote {
    pub seat_id: Uuid,
    /// `yes`, `no`, `abstain` or `recused` (absent members are recorded when the vote closes).
    pub choice: Choice,
    /// Required for a recusal.
    #[validate(custom(function = "recusal_reason"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: Option<String>,
}

/// Make a motion
///
/// Refused while the meeting is not in session (409 `meeting-not-in-session`), without quorum
/// unless it is to adjourn or recess (409 `no-quorum`), on an item that is not an action or
/// consent item (409 `item-not-actionable`) or was added after the notice deadline (409
/// `late-item-needs-finding`). Mover and seconder are voting members present now.
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/motions", tag = "motions", request_body = CreateMotion,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 201, description = "The open motion; `Location` names it.", body = MotionResponse,
            headers(("Location" = String, description = "URL of the motion"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn make_motion(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateMotion>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = NewMotion {
        kind: b.kind,
        agenda_item_id: b.agenda_item_id.map(|u| u.to_string()),
        text: b.text,
        mover_seat_id: b.mover_seat_id.to_string(),
        seconder_seat_id: b.seconder_seat_id.map(|u| u.to_string()),
        threshold: b.threshold,
    };
    let motion = motions::make(&ctx, &state.db, id.into_inner().to_string(), input).await?;
    let version = motion.row.version;
    let location = format!("/api/v1/motions/{}", motion.row.id);
    Ok(created_response(
        location,
        &MotionResponse::try_from(motion)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// A meeting's motions
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/motions", tag = "motions",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "Every motion with each member's vote, oldest first (one page).", body = MotionList),
        super::problems::ReadErrors))]
pub async fn list_motions(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let items = motions::of_meeting(&ctx, &state.db, &id.into_inner().to_string())?
        .into_iter()
        .map(MotionResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, None))
}

/// Get a motion
#[utoipa::path(get, path = "/api/v1/motions/{motion_id}", tag = "motions",
    params(("motion_id" = Uuid, Path, description = "The motion's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The motion with each member's vote, with its `ETag`.", body = MotionResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_motion(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let motion = MotionResponse::try_from(motions::find(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
    )?)?;
    let version = motion.version;
    Ok(resource_response(&req, &motion, version, CACHE_REVALIDATE))
}

/// Record a vote
///
/// One vote per member and motion (409 `already-voted`); only voting members present now vote;
/// a closed motion takes no votes (409 `motion-closed`).
#[utoipa::path(post, path = "/api/v1/motions/{motion_id}/votes", tag = "motions", request_body = CastVote,
    params(("motion_id" = Uuid, Path, description = "The motion's id")),
    responses(
        (status = 201, description = "The recorded vote; `Location` names its motion.", body = VoteResponse,
            headers(("Location" = String, description = "URL of the motion"), ("ETag" = String, description = "Version tag of the vote"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn cast_vote(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CastVote>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let motion_id = id.into_inner().to_string();
    let vote = motions::vote(
        &ctx,
        &state.db,
        motion_id.clone(),
        b.seat_id.to_string(),
        b.choice,
        b.reason,
    )
    .await?;
    let version = vote.version;
    Ok(created_response(
        format!("/api/v1/motions/{motion_id}"),
        &VoteResponse::try_from(vote)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Close the vote
///
/// Records every voting member who did not vote (`absent`, or `abstain` when present) and the
/// result; final.
#[utoipa::path(post, path = "/api/v1/motions/{motion_id}/close", tag = "motions",
    params(("motion_id" = Uuid, Path, description = "The motion's id"),
           ("If-Match" = String, Header, description = "The motion's current ETag")),
    responses(
        (status = 200, description = "The closed motion and its result, with its new `ETag`.", body = MotionResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn close_motion(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let motion = motions::close(&ctx, &state.db, id.into_inner().to_string(), expected).await?;
    let motion = MotionResponse::try_from(motion)?;
    let version = motion.version;
    Ok(updated_response(&motion, version, CACHE_REVALIDATE))
}
