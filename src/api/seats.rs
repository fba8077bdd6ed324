//! Seats: `/api/v1/councils/{council_id}/seats` and `/api/v1/seats/{seat_id}`, with holder changes
//! and seat history. Every change that alters who or what sits on a council is checked against the
//! council's composition rules.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};
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
use crate::auth::SignedIn;
use crate::commands::seats::{self, SeatRecord};
use crate::db::{self, seats::Holding};
use crate::domain::Constituency;
use crate::error::ApiError;
use crate::state::AppState;
use chrono::Utc;

/// Who holds a seat now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeatHolder {
    pub person_id: Uuid,
    /// Public: seat holders' names are part of the public record, unless the holder withholds
    /// their name as directory information (FERPA 99.37; then `null`).
    pub display_name: Option<String>,
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

impl TryFrom<SeatRecord> for SeatResponse {
    type Error = ApiError;

    fn try_from(r: SeatRecord) -> Result<Self, ApiError> {
        let seat = r.seat;
        let holder = match (seat.holder_id.as_deref(), r.holder_name) {
            (Some(id), name) => Some(SeatHolder {
                person_id: db::stored_uuid("person id", id)?,
                display_name: name,
                since: seat.holder_since,
            }),
            _ => None,
        };
        Ok(SeatResponse {
            id: db::stored_uuid("seat id", &seat.id)?,
            council_id: db::stored_uuid("council id", &seat.council_id)?,
            constituency: r.constituency,
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
}

fn default_true() -> bool {
    true
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
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Constituency, required = false)]
    pub constituency: Option<Option<Constituency>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::name"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = bool, required = false)]
    pub voting: Option<Option<bool>>,
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

impl TryFrom<Holding> for HoldingResponse {
    type Error = ApiError;

    fn try_from(h: Holding) -> Result<Self, ApiError> {
        Ok(HoldingResponse {
            id: db::stored_uuid("holding id", &h.id)?,
            seat_id: db::stored_uuid("seat id", &h.seat_id)?,
            person_id: db::stored_uuid("person id", &h.person_id)?,
            started_on: h.started_on,
            ended_on: h.ended_on,
            end_reason: h.end_reason,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct HoldingList {
    pub items: Vec<HoldingResponse>,
    pub next_cursor: Option<String>,
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
    let council_id: crate::domain::ids::CouncilId = council_id.into_inner().into();
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = db::seats::SeatFilter {
        constituency: params.constituency.map(|c| c.as_str().to_owned()),
        voting: params.voting,
        vacant: params.vacant,
        holder_id: params.holder_id.map(|u| u.to_string()),
    };
    let rows = seats::list(
        &state.db,
        council_id,
        &filter,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |s| &s.seat.id);
    let items = rows
        .into_iter()
        .map(SeatResponse::try_from)
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
    SignedIn(ctx): SignedIn,
    council_id: web::Path<Uuid>,
    params: web::Query<RuleOverrideParams>,
    body: JsonBody<CreateSeat>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = seats::NewSeat {
        constituency: body.constituency,
        title: body.title,
        voting: body.voting,
        term_start: body.term_start,
        term_end: body.term_end,
    };
    let seat = seats::create(
        &ctx,
        &state.db,
        council_id.into_inner().into(),
        input,
        params.allow_rule_violation,
    )
    .await?;
    let version = seat.seat.version;
    let location = format!("/api/v1/seats/{}", seat.seat.id);
    Ok(created_response(
        location,
        &SeatResponse::try_from(seat)?,
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
    let seat = SeatResponse::try_from(seats::find(&state.db, id.into_inner().into())?)?;
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
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<RuleOverrideParams>,
    body: JsonBody<UpdateSeat>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let changes = seats::SeatChanges {
        constituency: body.constituency,
        title: body.title,
        voting: body.voting,
        term_start: body.term_start,
        term_end: body.term_end,
    };
    let seat = seats::update(
        &ctx,
        &state.db,
        id.into_inner().into(),
        expected,
        changes,
        params.allow_rule_violation,
    )
    .await?;
    let seat = SeatResponse::try_from(seat)?;
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
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<RuleOverrideParams>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    seats::delete(
        &ctx,
        &state.db,
        id.into_inner().into(),
        expected,
        params.allow_rule_violation,
    )
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
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<RuleOverrideParams>,
    body: JsonBody<AssignHolder>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let seat = seats::assign_holder(
        &ctx,
        &state.db,
        id.into_inner().into(),
        expected,
        body.person_id.into(),
        body.starts_on,
        params.allow_rule_violation,
    )
    .await?;
    let seat = SeatResponse::try_from(seat)?;
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
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<VacateParams>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let params = params.into_inner();
    super::body::validate(&params)?;
    let input = seats::Vacate {
        ends_on: params.ends_on,
        reason: params.reason,
    };
    let seat = seats::vacate(
        &ctx,
        &state.db,
        id.into_inner().into(),
        expected,
        input,
        params.allow_rule_violation,
    )
    .await?;
    let seat = SeatResponse::try_from(seat)?;
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
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = seats::list_holdings(
        &state.db,
        id.into_inner().into(),
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |h| &h.id);
    let items = rows
        .into_iter()
        .map(HoldingResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, next))
}
