//! Findings with their roll-call votes: `/api/v1/agenda-items/{item_id}/findings` (the findings
//! that let a meeting act on an item added after its notice), `/api/v1/meetings/{meeting_id}/
//! emergency-vote` (an emergency meeting's determination) and `/api/v1/meetings/{meeting_id}/
//! findings` (all of a meeting's findings).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::paging::list_response;
use super::preconditions::{created_response, CACHE_REVALIDATE};
use crate::auth::{Caller, SignedIn};
use crate::commands::findings::{self, FindingBallot, FindingRecord, NewFinding};
use crate::db;
use crate::domain::findings::FindingKind;
use crate::domain::vote::Choice;
use crate::error::ApiError;
use crate::state::AppState;

fn facts_text(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        let mut e = ValidationError::new("length");
        e.message = Some("must not be empty".into());
        return Err(e);
    }
    super::fields::text(value)
}

fn recusal_reason(value: &str) -> Result<(), ValidationError> {
    super::meetings::reason(value)
}

/// One member's vote on a finding.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"seat_id": "01936d4e-8000-7000-8000-00000000b001", "choice": "yes"}))]
pub struct FindingBallotBody {
    pub seat_id: Uuid,
    /// `yes`, `no`, `abstain` or `recused` (with its reason); members present who are not named
    /// are recorded as abstaining.
    pub choice: Choice,
    /// Required for a recusal.
    #[validate(custom(function = "recusal_reason"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: Option<String>,
}

/// Record a finding about an item added after the notice deadline.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "need_arose_after_posting",
    "facts": "The bus contract lapses Friday; the district told the council after the agenda was posted / El contrato del autobús vence el viernes",
    "votes": [{"seat_id": "01936d4e-8000-7000-8000-00000000b001", "choice": "yes"},
              {"seat_id": "01936d4e-8000-7000-8000-00000000b002", "choice": "yes"}]}))]
pub struct CreateFinding {
    /// `emergency` (Brown: majority of the body), `need_arose_after_posting` (Brown: two-thirds
    /// of members present, all of them if fewer than two-thirds of the members attend; Greene:
    /// unanimity of members present, the only finding the Greene Act allows) or `continued_item`
    /// (Brown: the item was on a posted agenda of this council ≤ 5 calendar days earlier).
    pub kind: FindingKind,
    /// The facts the body finds, in its own words.
    #[validate(custom(function = "facts_text"))]
    #[schema(min_length = 1, max_length = 4000)]
    pub facts: String,
    /// For `continued_item` only: the item on the earlier meeting's agenda.
    pub continued_from_item_id: Option<Uuid>,
    /// Each present voting member's vote (roll call); optional for `continued_item`.
    #[serde(default)]
    #[validate(nested, length(max = 200))]
    #[schema(max_items = 200)]
    pub votes: Vec<FindingBallotBody>,
}

/// Record an emergency meeting's determination vote.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"facts": "The gas main under the school broke this morning; the building is closed / Se rompió la tubería de gas",
    "votes": [{"seat_id": "01936d4e-8000-7000-8000-00000000b001", "choice": "yes"},
              {"seat_id": "01936d4e-8000-7000-8000-00000000b002", "choice": "no"}]}))]
pub struct CreateEmergencyVote {
    /// The emergency the body determines, in its own words.
    #[validate(custom(function = "facts_text"))]
    #[schema(min_length = 1, max_length = 4000)]
    pub facts: String,
    /// Each present voting member's vote (roll call).
    #[validate(nested, length(max = 200))]
    #[schema(max_items = 200)]
    pub votes: Vec<FindingBallotBody>,
}

/// One member's recorded vote on a finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingVoteResponse {
    pub seat_id: Uuid,
    pub person_id: Uuid,
    pub choice: Choice,
    pub reason: Option<String>,
}

/// A finding, each member's vote, and whether it passed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9700-7000-8000-00000000f001", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "agenda_item_id": "01936d4e-9200-7000-8000-00000000e002", "kind": "need_arose_after_posting",
    "facts": "The bus contract lapses Friday / El contrato del autobús vence el viernes",
    "continued_from_item_id": null, "members_present": 4, "membership": 5, "yes": 4, "no": 0, "abstain": 0, "recused": 0,
    "passed": true, "rule": "two-thirds of the members present, or all of them when fewer than two-thirds of the members attend (Gov. Code 54954.2(b)(2))",
    "votes": [{"seat_id": "01936d4e-8000-7000-8000-00000000b001", "person_id": "01936d4e-7000-7000-8000-00000000a001", "choice": "yes", "reason": null}],
    "recorded_by": "person:01936d4e-7000-7000-8000-00000000a009", "recorded_at": "2027-03-17T01:30:00Z"}))]
pub struct FindingResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    /// The late item it is about; `null` for an emergency meeting's determination.
    pub agenda_item_id: Option<Uuid>,
    pub kind: FindingKind,
    pub facts: String,
    pub continued_from_item_id: Option<Uuid>,
    /// Voting members present when it was voted.
    pub members_present: i64,
    /// Filled voting seats when it was voted.
    pub membership: i64,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    pub recused: u32,
    /// Whether it met its rule; a failed finding is kept but unlocks nothing.
    pub passed: bool,
    /// The rule its vote was measured by.
    pub rule: String,
    pub votes: Vec<FindingVoteResponse>,
    pub recorded_by: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl TryFrom<FindingRecord> for FindingResponse {
    type Error = ApiError;

    fn try_from(r: FindingRecord) -> Result<Self, ApiError> {
        let f = r.row;
        let opt = |what: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| db::stored_uuid(what, s))
                .transpose()
                .map_err(ApiError::from)
        };
        let votes: Vec<FindingVoteResponse> = r
            .votes
            .into_iter()
            .map(|v| {
                Ok::<_, ApiError>(FindingVoteResponse {
                    seat_id: db::stored_uuid("seat id", &v.seat_id)?,
                    person_id: db::stored_uuid("person id", &v.person_id)?,
                    choice: Choice::parse(&v.choice)
                        .ok_or_else(|| ApiError::Internal(format!("stored vote {:?}", v.choice)))?,
                    reason: v.reason,
                })
            })
            .collect::<Result<_, _>>()?;
        let count = |c: Choice| votes.iter().filter(|v| v.choice == c).count() as u32;
        Ok(FindingResponse {
            id: db::stored_uuid("finding id", &f.id)?,
            meeting_id: db::stored_uuid("meeting id", &f.meeting_id)?,
            agenda_item_id: opt("agenda item id", &f.agenda_item_id)?,
            kind: FindingKind::parse(&f.kind)
                .ok_or_else(|| ApiError::Internal(format!("stored finding kind {:?}", f.kind)))?,
            facts: f.facts,
            continued_from_item_id: opt("agenda item id", &f.continued_from_item_id)?,
            members_present: f.members_present,
            membership: f.membership,
            yes: count(Choice::Yes),
            no: count(Choice::No),
            abstain: count(Choice::Abstain),
            recused: count(Choice::Recused),
            passed: f.passed,
            rule: f.rule,
            votes,
            recorded_by: f.actor,
            recorded_at: f.created_at.and_utc(),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct FindingList {
    pub items: Vec<FindingResponse>,
    pub next_cursor: Option<String>,
}

fn ballots(votes: Vec<FindingBallotBody>) -> Vec<FindingBallot> {
    votes
        .into_iter()
        .map(|b| FindingBallot {
            seat_id: b.seat_id.to_string(),
            choice: b.choice,
            reason: b.reason,
        })
        .collect()
}

fn created(finding: FindingRecord) -> Result<HttpResponse, ApiError> {
    let version = finding.row.version;
    let location = format!("/api/v1/meetings/{}/findings", finding.row.meeting_id);
    Ok(created_response(
        location,
        &FindingResponse::try_from(finding)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Record a finding on a late item
///
/// For an item added after the notice deadline (`added_late`), at a meeting in session with
/// quorum. Every voting member present is recorded (those not named as abstaining) and the
/// finding is measured by the council's regime: Brown and voluntary councils may find an
/// `emergency` (yes from a majority of the body), a `need_arose_after_posting` (yes from ⌈2/3⌉ of
/// members present, or all of them when fewer than ⌈2/3⌉ of the filled seats attend) or a
/// `continued_item` (checked against the earlier meeting's record); Greene councils only
/// `need_arose_after_posting`, by unanimity of members present (409 `finding-not-available`
/// otherwise). A failed finding is recorded (201 with `passed: false`) and unlocks nothing; a
/// main motion on the item is allowed once one passed. 409 `finding-not-needed` for an item on
/// the posted agenda.
#[utoipa::path(post, path = "/api/v1/agenda-items/{item_id}/findings", tag = "agenda", request_body = CreateFinding,
    params(("item_id" = Uuid, Path, description = "The late item's id")),
    responses(
        (status = 201, description = "The finding with each member's vote and whether it passed; `Location` names the meeting's findings.", body = FindingResponse,
            headers(("Location" = String, description = "URL of the meeting's findings"), ("ETag" = String, description = "Version tag"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn record_finding(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateFinding>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = NewFinding {
        kind: b.kind,
        facts: b.facts,
        continued_from_item_id: b.continued_from_item_id.map(|u| u.to_string()),
        votes: ballots(b.votes),
    };
    created(findings::find_on_item(&ctx, &state.db, id.into_inner().to_string(), input).await?)
}

/// An item's findings
#[utoipa::path(get, path = "/api/v1/agenda-items/{item_id}/findings", tag = "agenda",
    params(("item_id" = Uuid, Path, description = "The item's id")),
    responses(
        (status = 200, description = "Every finding on the item, failed ones included, oldest first (one page).", body = FindingList),
        super::problems::ReadErrors))]
pub async fn item_findings(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let items = findings::of_item(&ctx, &state.db, &id.into_inner().to_string())?
        .into_iter()
        .map(FindingResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, None))
}

/// Record an emergency meeting's determination
///
/// The roll-call vote by which a majority of the body (yes from more than half of the filled
/// voting seats) determines the emergency the meeting rests on (Gov. Code 54956.5(a)). Taken
/// while the meeting is in session with quorum; until one passes, the meeting takes no main
/// motion (409 `emergency-vote-required`). A failed vote is recorded too. 409
/// `not-an-emergency-meeting` for other meetings and for Greene Act councils (which have no
/// emergency meetings).
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/emergency-vote", tag = "meetings", request_body = CreateEmergencyVote,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 201, description = "The determination with each member's vote and whether it passed; `Location` names the meeting's findings.", body = FindingResponse,
            headers(("Location" = String, description = "URL of the meeting's findings"), ("ETag" = String, description = "Version tag"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn emergency_vote(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateEmergencyVote>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    created(
        findings::emergency_vote(
            &ctx,
            &state.db,
            id.into_inner().to_string(),
            b.facts,
            ballots(b.votes),
        )
        .await?,
    )
}

/// A meeting's findings
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/findings", tag = "meetings",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "Every finding of the meeting (late items' findings and the emergency determination), failed ones included, oldest first (one page).", body = FindingList),
        super::problems::ReadErrors))]
pub async fn meeting_findings(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let items = findings::of_meeting(&ctx, &state.db, &id.into_inner().to_string())?
        .into_iter()
        .map(FindingResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, None))
}
