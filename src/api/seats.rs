//! Seats: `/api/v1/councils/{council_id}/seats` and `/api/v1/seats/{seat_id}`, with holder changes
//! and seat history. Every change that alters who or what sits on a council is checked against the
//! council's composition rules.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::councils::{council_rules, seat_facts, PageParams};
use super::fields::{self, patch, patch_nullable};
use super::paging::{list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, resource_response, updated_response, IfMatch, CACHE_REVALIDATE,
};
use super::schools::still_referenced;
use crate::auth::{policy, require, SignedIn};
use crate::db::{self, councils::RuleOverride, seats::Holding, seats::Seat, AnyConnection};
use crate::domain::{composition, Constituency};
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// Who holds a seat now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeatHolder {
    pub person_id: Uuid,
    /// Public: seat holders' names are part of the public record.
    pub display_name: String,
    pub since: Option<NaiveDate>,
}

/// A seat on a council.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-8000-7000-8000-00000000b001", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
    "constituency": "families", "title": "Parent representative", "voting": true,
    "term_start": "2026-07-01", "term_end": "2028-06-30",
    "holder": {"person_id": "01936d4e-7000-7000-8000-00000000a001", "display_name": "María López", "since": "2026-09-01"},
    "created_at": "2026-11-25T08:41:42.123456Z", "updated_at": "2026-11-25T08:41:42.123456Z", "version": 2
}))]
pub struct SeatResponse {
    pub id: Uuid,
    pub council_id: Uuid,
    pub constituency: Constituency,
    pub title: String,
    /// `false` for an advisory seat (never counted for quorum or composition rules).
    pub voting: bool,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    /// `null` while the seat is vacant.
    pub holder: Option<SeatHolder>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn seat_response(seat: Seat, holder_name: Option<String>) -> Result<SeatResponse, ApiError> {
    let constituency = Constituency::parse(&seat.constituency).ok_or_else(|| {
        ApiError::Internal(format!(
            "stored constituency {:?} unknown",
            seat.constituency
        ))
    })?;
    let holder = match (seat.holder_id.as_deref(), holder_name) {
        (Some(id), Some(name)) => Some(SeatHolder {
            person_id: Uuid::parse_str(id).unwrap_or_default(),
            display_name: name,
            since: seat.holder_since,
        }),
        _ => None,
    };
    Ok(SeatResponse {
        id: Uuid::parse_str(&seat.id).unwrap_or_default(),
        council_id: Uuid::parse_str(&seat.council_id).unwrap_or_default(),
        constituency,
        title: seat.title,
        voting: seat.voting,
        term_start: seat.term_start,
        term_end: seat.term_end,
        holder,
        created_at: seat.created_at.and_utc(),
        updated_at: seat.updated_at.and_utc(),
        version: seat.version,
    })
}

/// Loads the holder's name and builds the response.
fn seat_with_holder(conn: &mut AnyConnection, seat: Seat) -> Result<SeatResponse, ApiError> {
    let name = match &seat.holder_id {
        Some(id) => db::people::find(conn, id)?.map(|p| p.display_name),
        None => None,
    };
    seat_response(seat, name)
}

fn default_true() -> bool {
    true
}

fn term_order(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<(), ApiError> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(ApiError::validation(
            "term_end",
            "must not be before term_start",
        )),
        _ => Ok(()),
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"constituency": "families", "title": "Parent representative", "voting": true,
    "term_start": "2026-07-01", "term_end": "2028-06-30"}))]
pub struct CreateSeat {
    pub constituency: Constituency,
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Defaults to `true`; `false` makes an advisory seat.
    #[serde(default = "default_true")]
    #[schema(default = true)]
    pub voting: bool,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
}

/// Only the fields sent are changed; `null` clears a term date. The holder is changed through
/// `/seats/{seat_id}/holder`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Parent representative (English learners)", "term_end": "2028-06-30"}))]
pub struct UpdateSeat {
    pub constituency: Option<Constituency>,
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    pub voting: Option<bool>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_end: Option<Option<NaiveDate>>,
}

fn end_reason(value: &str) -> Result<(), ValidationError> {
    fields::name(value)
}

/// Seat a person. The previous holder's holding (if any) ends the day the new one starts.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "01936d4e-7000-7000-8000-00000000a001", "starts_on": "2026-09-01"}))]
pub struct AssignHolder {
    pub person_id: Uuid,
    /// Defaults to today (UTC).
    pub starts_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RuleOverrideParams {
    /// Make the change even if it breaks a composition rule; the override is recorded and listed
    /// at `/councils/{council_id}/rule-overrides`.
    #[serde(default)]
    pub allow_rule_violation: bool,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VacateParams {
    /// The last day of the holding; defaults to today (UTC).
    pub ends_on: Option<NaiveDate>,
    /// Why the holding ended, e.g. `resigned`, `term ended` (1 to 200 characters).
    #[validate(custom(function = "end_reason"))]
    pub reason: Option<String>,
    /// Make the change even if it breaks a composition rule (the override is recorded).
    #[serde(default)]
    pub allow_rule_violation: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeatListParams {
    pub constituency: Option<Constituency>,
    /// `true` for voting seats only, `false` for advisory seats only.
    pub voting: Option<bool>,
    /// `true` for vacant seats only, `false` for filled seats only.
    pub vacant: Option<bool>,
    /// Only seats this person holds.
    pub holder_id: Option<Uuid>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SeatList {
    pub items: Vec<SeatResponse>,
    pub next_cursor: Option<String>,
}

/// One person's time in a seat.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-a000-7000-8000-00000000d001", "seat_id": "01936d4e-8000-7000-8000-00000000b001",
    "person_id": "01936d4e-7000-7000-8000-00000000a001", "started_on": "2024-09-01", "ended_on": "2026-08-31",
    "end_reason": "replaced"}))]
pub struct HoldingResponse {
    pub id: Uuid,
    pub seat_id: Uuid,
    pub person_id: Uuid,
    pub started_on: NaiveDate,
    /// `null` while the holding is current.
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
}

impl From<Holding> for HoldingResponse {
    fn from(h: Holding) -> Self {
        HoldingResponse {
            id: Uuid::parse_str(&h.id).unwrap_or_default(),
            seat_id: Uuid::parse_str(&h.seat_id).unwrap_or_default(),
            person_id: Uuid::parse_str(&h.person_id).unwrap_or_default(),
            started_on: h.started_on,
            ended_on: h.ended_on,
            end_reason: h.end_reason,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HoldingList {
    pub items: Vec<HoldingResponse>,
    pub next_cursor: Option<String>,
}

/// Refuses a change that would break composition rules that hold now, unless the caller allowed
/// it; an allowed violation is recorded. `after` replaces (or, when `None`, removes) the seat
/// with id `seat_id` in the council's current seats.
fn guard_composition(
    conn: &mut AnyConnection,
    council_id: &str,
    seat_id: &str,
    after: Option<&Seat>,
    change: &str,
    allow: bool,
) -> Result<(), ApiError> {
    let council = db::councils::find(conn, council_id)?
        .ok_or_else(|| ApiError::not_found("council", council_id))?;
    let rules = council_rules(&council)?;
    if rules.is_empty() {
        return Ok(());
    }
    let before = db::seats::all_of_council(conn, council_id)?;
    let mut next: Vec<Seat> = before.iter().filter(|s| s.id != seat_id).cloned().collect();
    if let Some(seat) = after {
        next.push(seat.clone());
    }
    let broken = composition::newly_broken(&rules, &seat_facts(&before)?, &seat_facts(&next)?);
    if broken.is_empty() {
        return Ok(());
    }
    if !allow {
        let names: Vec<&str> = broken.iter().map(|b| b.name.as_str()).collect();
        return Err(ApiError::RuleViolation {
            detail: format!(
                "this change would break {} composition rule{}: {}; pass allow_rule_violation=true to make it anyway (the override is recorded)",
                broken.len(),
                if broken.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            broken,
        });
    }
    let now = db::now();
    db::councils::record_override(
        conn,
        &RuleOverride {
            id: Uuid::now_v7().to_string(),
            council_id: council_id.to_owned(),
            seat_id: Some(seat_id.to_owned()),
            change: change.to_owned(),
            broken_rules: serde_json::to_string(&broken)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            created_at: now,
            updated_at: now,
            version: 1,
        },
    )?;
    Ok(())
}

/// The seat a change is about: it exists, the caller runs its council, and `If-Match` names its
/// current version (checked in that order: 404, then 403, then 412).
fn seat_for_change(
    conn: &mut AnyConnection,
    caller: &crate::auth::Principal,
    id: &str,
    if_match: &IfMatch,
) -> Result<Seat, ApiError> {
    let seat = find_seat(conn, id)?;
    require(policy::manage_council(caller, &seat.council_id), "seat", id)?;
    if_match.check(seat.version)?;
    Ok(seat)
}

fn find_seat(conn: &mut AnyConnection, id: &str) -> Result<Seat, ApiError> {
    db::seats::find(conn, id)?.ok_or_else(|| ApiError::not_found("seat", id))
}

/// List a council's seats
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/seats", tag = "seats",
    params(("council_id" = Uuid, Path, description = "The council's id"), SeatListParams),
    responses(
        (status = 200, description = "A page of seats in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = SeatList),
        super::problems::NestedListErrors))]
pub async fn list_seats(
    state: web::Data<AppState>,
    req: HttpRequest,
    council_id: web::Path<Uuid>,
    params: web::Query<SeatListParams>,
) -> Result<HttpResponse, ApiError> {
    let council_id = council_id.into_inner().to_string();
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = db::seats::SeatFilter {
        constituency: params.constituency.map(|c| c.as_str().to_owned()),
        voting: params.voting,
        vacant: params.vacant,
        holder_id: params.holder_id.map(|u| u.to_string()),
    };
    let (rows, holders) = state.db.read(|conn| {
        if db::councils::find(conn, &council_id)?.is_none() {
            return Err(ApiError::not_found("council", &council_id));
        }
        let rows = db::seats::list(
            conn,
            &council_id,
            &filter,
            page.after.as_deref(),
            page.fetch(),
        )?;
        let ids: Vec<String> = rows.iter().filter_map(|s| s.holder_id.clone()).collect();
        let holders = db::people::by_ids(conn, &ids)?;
        Ok((rows, holders))
    })?;
    let (rows, next) = split_page(rows, &page, |s| &s.id);
    let items = rows
        .into_iter()
        .map(|s| {
            let name = s
                .holder_id
                .as_deref()
                .and_then(|h| holders.iter().find(|p| p.id == h))
                .map(|p| p.display_name.clone());
            seat_response(s, name)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, next))
}

/// Add a seat to a council
#[utoipa::path(post, path = "/api/v1/councils/{council_id}/seats", tag = "seats", request_body = CreateSeat,
    params(("council_id" = Uuid, Path, description = "The council's id"), RuleOverrideParams),
    responses(
        (status = 201, description = "Created (vacant); `Location` names the new seat.", body = SeatResponse,
            headers(("Location" = String, description = "URL of the new seat"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_seat(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    council_id: web::Path<Uuid>,
    params: web::Query<RuleOverrideParams>,
    body: JsonBody<CreateSeat>,
) -> Result<HttpResponse, ApiError> {
    require(
        policy::manage_council(&caller, &council_id.to_string()),
        "council",
        &council_id.to_string(),
    )?;
    let council_id = council_id.into_inner().to_string();
    let body = body.into_inner();
    term_order(body.term_start, body.term_end)?;
    let now = db::now();
    let row = Seat {
        id: Uuid::now_v7().to_string(),
        council_id: council_id.clone(),
        constituency: body.constituency.as_str().to_owned(),
        title: body.title,
        voting: body.voting,
        term_start: body.term_start,
        term_end: body.term_end,
        holder_id: None,
        holder_since: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let allow = params.allow_rule_violation;
    let row = state
        .db
        .write(move |conn| {
            guard_composition(
                conn,
                &council_id,
                &row.id,
                Some(&row),
                "seat.created",
                allow,
            )?;
            db::seats::insert(conn, &row)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    let location = format!("/api/v1/seats/{}", row.id);
    Ok(created_response(
        location,
        &seat_response(row, None)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Get a seat
#[utoipa::path(get, path = "/api/v1/seats/{seat_id}", tag = "seats",
    params(("seat_id" = Uuid, Path, description = "The seat's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The seat and its current holder, with its `ETag`.", body = SeatResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_seat_by_id(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let seat = state.db.read(|conn| {
        let seat = find_seat(conn, &id)?;
        seat_with_holder(conn, seat)
    })?;
    let version = seat.version;
    Ok(resource_response(&req, &seat, version, CACHE_REVALIDATE))
}

/// Change a seat
#[utoipa::path(patch, path = "/api/v1/seats/{seat_id}", tag = "seats", request_body = UpdateSeat,
    params(("seat_id" = Uuid, Path, description = "The seat's id"),
           ("If-Match" = String, Header, description = "The seat's current ETag"), RuleOverrideParams),
    responses(
        (status = 200, description = "The changed seat, with the new `ETag`.", body = SeatResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn update_seat(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<RuleOverrideParams>,
    body: JsonBody<UpdateSeat>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner().to_string();
    let body = body.into_inner();
    let seat = state
        .db
        .write(move |conn| {
            let mut row = seat_for_change(conn, &caller, &id, &if_match)?;
            if let Some(c) = body.constituency {
                row.constituency = c.as_str().to_owned();
            }
            patch(&mut row.title, &body.title);
            patch(&mut row.voting, &body.voting);
            patch_nullable(&mut row.term_start, &body.term_start);
            patch_nullable(&mut row.term_end, &body.term_end);
            term_order(row.term_start, row.term_end)?;
            guard_composition(
                conn,
                &row.council_id.clone(),
                &row.id,
                Some(&row),
                "seat.updated",
                params.allow_rule_violation,
            )?;
            row.version += 1;
            row.updated_at = db::now();
            db::seats::update(conn, &row)?;
            seat_with_holder(conn, row)
        })
        .await?;
    let version = seat.version;
    Ok(updated_response(&seat, version, CACHE_REVALIDATE))
}

/// Delete a seat
///
/// Only a seat that was never held can be deleted (409 otherwise: its history is kept). A seat
/// change that breaks a composition rule is refused with 409 unless `allow_rule_violation=true`.
#[utoipa::path(delete, path = "/api/v1/seats/{seat_id}", tag = "seats",
    params(("seat_id" = Uuid, Path, description = "The seat's id"),
           ("If-Match" = String, Header, description = "The seat's current ETag"), RuleOverrideParams),
    responses(
        (status = 204, description = "Deleted."),
        super::problems::DeleteErrors))]
pub async fn delete_seat(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<RuleOverrideParams>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            let row = seat_for_change(conn, &caller, &id, &if_match)?;
            guard_composition(
                conn,
                &row.council_id,
                &row.id,
                None,
                "seat.deleted",
                params.allow_rule_violation,
            )?;
            db::seats::delete(conn, &row).map_err(|e| {
                still_referenced(
                    e,
                    "this seat has been held; its history is kept (vacate it instead)",
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Seat a person
///
/// Ends the current holding (if any) the day the new one starts and opens a new one; nothing is
/// overwritten (see `/seats/{seat_id}/holdings`).
#[utoipa::path(put, path = "/api/v1/seats/{seat_id}/holder", tag = "seats", request_body = AssignHolder,
    params(("seat_id" = Uuid, Path, description = "The seat's id"),
           ("If-Match" = String, Header, description = "The seat's current ETag"), RuleOverrideParams),
    responses(
        (status = 200, description = "The seat with its new holder and `ETag`.", body = SeatResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn assign_holder(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<RuleOverrideParams>,
    body: JsonBody<AssignHolder>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner().to_string();
    let body = body.into_inner();
    let person_id = body.person_id.to_string();
    let starts_on = body.starts_on.unwrap_or_else(|| Utc::now().date_naive());
    let seat = state
        .db
        .write(move |conn| {
            let mut row = seat_for_change(conn, &caller, &id, &if_match)?;
            if db::people::find(conn, &person_id)?.is_none() {
                return Err(ApiError::validation("person_id", "no person with this id"));
            }
            if row.holder_id.as_deref() == Some(person_id.as_str()) {
                return Err(ApiError::Conflict {
                    code: "already-holder",
                    detail: "this person already holds the seat".to_owned(),
                });
            }
            let now = db::now();
            if let Some(mut current) = db::seats::holdings::current(conn, &id)? {
                if starts_on < current.started_on {
                    return Err(ApiError::Validation(vec![FieldError::new(
                        "starts_on",
                        format!(
                            "must not be before the current holding started ({})",
                            current.started_on
                        ),
                    )]));
                }
                current.ended_on = Some(starts_on);
                current.end_reason = Some("replaced".to_owned());
                current.version += 1;
                current.updated_at = now;
                db::seats::holdings::update(conn, &current)?;
            }
            row.holder_id = Some(person_id.clone());
            row.holder_since = Some(starts_on);
            guard_composition(
                conn,
                &row.council_id.clone(),
                &row.id,
                Some(&row),
                "seat.holder_assigned",
                params.allow_rule_violation,
            )?;
            db::seats::holdings::insert(
                conn,
                &Holding {
                    id: Uuid::now_v7().to_string(),
                    seat_id: id.clone(),
                    person_id: person_id.clone(),
                    started_on: starts_on,
                    ended_on: None,
                    end_reason: None,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                },
            )?;
            row.version += 1;
            row.updated_at = now;
            db::seats::update(conn, &row)?;
            seat_with_holder(conn, row)
        })
        .await?;
    let version = seat.version;
    Ok(updated_response(&seat, version, CACHE_REVALIDATE))
}

/// Vacate a seat
///
/// Ends the current holding; the seat stays, vacant.
#[utoipa::path(delete, path = "/api/v1/seats/{seat_id}/holder", tag = "seats",
    params(("seat_id" = Uuid, Path, description = "The seat's id"),
           ("If-Match" = String, Header, description = "The seat's current ETag"), VacateParams),
    responses(
        (status = 200, description = "The seat, now vacant, with its new `ETag`.", body = SeatResponse),
        (status = 400, response = super::problems::BadRequest),
        (status = 422, response = super::problems::Unprocessable),
        super::problems::DeleteErrors))]
pub async fn vacate_seat(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<VacateParams>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let params = params.into_inner();
    super::body::validate(&params)?;
    let id = id.into_inner().to_string();
    let ends_on = params.ends_on.unwrap_or_else(|| Utc::now().date_naive());
    let seat = state
        .db
        .write(move |conn| {
            let mut row = seat_for_change(conn, &caller, &id, &if_match)?;
            let Some(mut current) = db::seats::holdings::current(conn, &id)? else {
                return Err(ApiError::Conflict {
                    code: "seat-vacant",
                    detail: "the seat is already vacant".to_owned(),
                });
            };
            if ends_on < current.started_on {
                return Err(ApiError::validation(
                    "ends_on",
                    format!(
                        "must not be before the holding started ({})",
                        current.started_on
                    ),
                ));
            }
            row.holder_id = None;
            row.holder_since = None;
            guard_composition(
                conn,
                &row.council_id.clone(),
                &row.id,
                Some(&row),
                "seat.holder_removed",
                params.allow_rule_violation,
            )?;
            let now = db::now();
            current.ended_on = Some(ends_on);
            current.end_reason = Some(
                params
                    .reason
                    .clone()
                    .unwrap_or_else(|| "vacated".to_owned()),
            );
            current.version += 1;
            current.updated_at = now;
            db::seats::holdings::update(conn, &current)?;
            row.version += 1;
            row.updated_at = now;
            db::seats::update(conn, &row)?;
            seat_response(row, None)
        })
        .await?;
    let version = seat.version;
    Ok(updated_response(&seat, version, CACHE_REVALIDATE))
}

/// A seat's history
///
/// Everyone who has held the seat, oldest first.
#[utoipa::path(get, path = "/api/v1/seats/{seat_id}/holdings", tag = "seats",
    params(("seat_id" = Uuid, Path, description = "The seat's id"), PageParams),
    responses(
        (status = 200, description = "Holdings, oldest first.", body = HoldingList),
        super::problems::NestedListErrors))]
pub async fn list_holdings(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = state.db.read(|conn| {
        find_seat(conn, &id)?;
        Ok::<_, ApiError>(db::seats::holdings::of_seat(
            conn,
            &id,
            page.after.as_deref(),
            page.fetch(),
        )?)
    })?;
    let (rows, next) = split_page(rows, &page, |h| &h.id);
    let items: Vec<HoldingResponse> = rows.into_iter().map(Into::into).collect();
    Ok(list_response(&req, &items, next))
}
