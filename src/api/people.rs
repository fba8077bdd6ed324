//! `/api/v1/people`

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::body::JsonBody;
use super::external_ids::{self as ext, ExternalIdBody};
use super::fields;
use super::paging::{private_list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_NONE,
};
use crate::auth::{Caller, SignedIn};
use crate::commands::external_ids::Identified;
use crate::commands::people;
use crate::db::{self, people::Person};
use crate::domain::directory::DirectoryField;
use crate::error::ApiError;
use crate::state::AppState;

/// A person: a council member, a family member, a staff member.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-7000-7000-8000-00000000a001", "display_name": "María López",
    "email": "maria.lopez@example.org", "phone": "+1 213 555 0100", "preferred_language": "es-MX",
    "contact_erased_at": null, "external_ids": [{"system": "oneroster", "value": "usr-4471"}],
    "created_at": "2026-11-25T08:41:42.123456Z", "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1
}))]
pub struct PersonResponse {
    pub id: Uuid,
    /// The name shown on rosters and in minutes.
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// BCP 47 language tag for messages to this person.
    pub preferred_language: String,
    /// When the contact details were erased; the name stays on the public record of seats.
    pub contact_erased_at: Option<DateTime<Utc>>,
    /// Ids other systems use for this person, one per system, ordered by system.
    pub external_ids: Vec<ExternalIdBody>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<Identified<Person>> for PersonResponse {
    type Error = ApiError;

    fn try_from(i: Identified<Person>) -> Result<Self, ApiError> {
        let p = i.row;
        Ok(PersonResponse {
            external_ids: ext::out_ids(i.external_ids),
            id: db::stored_uuid("person id", &p.id)?,
            display_name: p.display_name,
            email: p.email,
            phone: p.phone,
            preferred_language: p.preferred_language,
            contact_erased_at: p.contact_erased_at.map(|t| t.and_utc()),
            created_at: p.created_at.and_utc(),
            updated_at: p.updated_at.and_utc(),
            version: p.version,
        })
    }
}

fn default_language() -> String {
    "en".to_owned()
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "María López", "email": "maria.lopez@example.org",
    "phone": "+1 213 555 0100", "preferred_language": "es-MX",
    "external_ids": [{"system": "sis", "value": "4471"}]}))]
pub struct CreatePerson {
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    #[validate(custom(function = "fields::email"))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[validate(custom(function = "fields::phone"))]
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    /// BCP 47 tag; defaults to `en`.
    #[serde(default = "default_language")]
    #[validate(custom(function = "fields::language"))]
    #[schema(default = "en", max_length = 35)]
    pub preferred_language: String,
    /// Ids other systems use for this person (one per system; at most 20).
    #[serde(default)]
    #[validate(nested, length(max = 20))]
    #[schema(max_items = 20)]
    pub external_ids: Vec<ExternalIdBody>,
}

/// Only the fields sent are changed; `null` clears an optional field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": null, "preferred_language": "es"}))]
pub struct UpdatePerson {
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::name"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::email"))]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::phone"))]
    #[schema(value_type = Option<String>, max_length = 32)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::language"))]
    #[schema(value_type = String, required = false, max_length = 35)]
    pub preferred_language: Option<Option<String>>,
    /// Replaces the whole list; `null` or `[]` removes them all.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(nested, length(max = 20))]
    #[schema(value_type = Option<Vec<ExternalIdBody>>, max_items = 20)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonListParams {
    /// Only people whose display name contains this text (case-insensitive).
    pub q: Option<String>,
    /// Only the person with this email (case-insensitive).
    pub email: Option<String>,
    /// Only people with this preferred language tag.
    pub preferred_language: Option<String>,
    /// Only the person carrying this external id, written `system:value` (e.g. `sis:4471`).
    #[param(example = "sis:4471")]
    pub external_id: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PersonList {
    pub items: Vec<PersonResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List people
#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(PersonListParams),
    responses(
        (status = 200, description = "A page of people in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = PersonList),
        super::problems::ListErrors))]
pub async fn list_people(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<PersonListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = db::people::PersonFilter {
        name_contains: params.q,
        email: params.email,
        preferred_language: params.preferred_language,
        visible_to: None,
        external_id: ext::filter(params.external_id)?,
    };
    let rows = people::list(&ctx, &state.db, filter, page.after.as_deref(), page.fetch())?;
    let (rows, next) = split_page(rows, &page, |p| &p.row.id);
    let items = rows
        .into_iter()
        .map(PersonResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Create a person
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = CreatePerson,
    responses(
        (status = 201, description = "Created; `Location` names the new person.", body = PersonResponse,
            headers(("Location" = String, description = "URL of the new person"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_person(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreatePerson>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = people::NewPerson {
        display_name: body.display_name,
        email: body.email,
        phone: body.phone,
        preferred_language: body.preferred_language,
        external_ids: ext::into_ids(body.external_ids),
    };
    let row = people::create(&ctx, &state.db, input).await?;
    let version = row.row.version;
    let location = format!("/api/v1/people/{}", row.row.id);
    Ok(created_response(
        location,
        &PersonResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// Get a person
#[utoipa::path(get, path = "/api/v1/people/{person_id}", tag = "people",
    params(("person_id" = Uuid, Path, description = "The person's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The person, with its `ETag`.", body = PersonResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_person(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = people::find(&ctx, &state.db, id.into_inner().into())?;
    let version = row.row.version;
    Ok(resource_response(
        &req,
        &PersonResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// Change a person
#[utoipa::path(patch, path = "/api/v1/people/{person_id}", tag = "people", request_body = UpdatePerson,
    params(("person_id" = Uuid, Path, description = "The person's id"),
           ("If-Match" = String, Header, description = "The person's current ETag")),
    responses(
        (status = 200, description = "The changed person, with the new `ETag`.", body = PersonResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn update_person(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdatePerson>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let changes = people::PersonChanges {
        display_name: body.display_name,
        email: body.email,
        phone: body.phone,
        preferred_language: body.preferred_language,
        external_ids: ext::patch_ids(body.external_ids),
    };
    let row = people::update(&ctx, &state.db, id.into_inner().into(), expected, changes).await?;
    let version = row.row.version;
    Ok(updated_response(
        &PersonResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// Delete a person
///
/// Refused with 409 while the person holds or has held a seat: seat history is a public record
/// and is never rewritten.
#[utoipa::path(delete, path = "/api/v1/people/{person_id}", tag = "people",
    params(("person_id" = Uuid, Path, description = "The person's id"),
           ("If-Match" = String, Header, description = "The person's current ETag")),
    responses(
        (status = 204, description = "Deleted."),
        super::problems::DeleteErrors))]
pub async fn delete_person(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    people::delete(&ctx, &state.db, id.into_inner().into(), expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Erase a person's contact details
///
/// Removes email and phone for good; the name stays on the public record of the seats the
/// person held. Use this when a person with seat history asks to be forgotten (their record
/// itself cannot be deleted).
#[utoipa::path(delete, path = "/api/v1/people/{person_id}/contact", tag = "people",
    params(("person_id" = Uuid, Path, description = "The person's id"),
           ("If-Match" = String, Header, description = "The person's current ETag")),
    responses(
        (status = 200, description = "The person without contact details, with the new `ETag`.", body = PersonResponse),
        super::problems::DeleteErrors))]
pub async fn erase_contact(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let row = people::erase_contact(&ctx, &state.db, id.into_inner().into(), expected).await?;
    let version = row.row.version;
    Ok(updated_response(
        &PersonResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// A seat a person holds or held.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"seat_id": "01936d4e-8000-7000-8000-00000000b001", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
    "council_name": "Roosevelt Steering Committee", "title": "Parent representative", "constituency": "families",
    "started_on": "2026-09-01", "ended_on": null, "current": true}))]
pub struct SeatHeldResponse {
    pub seat_id: Uuid,
    pub council_id: Uuid,
    pub council_name: String,
    pub title: String,
    pub constituency: crate::domain::Constituency,
    pub started_on: chrono::NaiveDate,
    /// `null` while the person holds the seat.
    pub ended_on: Option<chrono::NaiveDate>,
    pub current: bool,
}

impl TryFrom<people::SeatHeld> for SeatHeldResponse {
    type Error = ApiError;

    fn try_from(s: people::SeatHeld) -> Result<Self, ApiError> {
        Ok(SeatHeldResponse {
            seat_id: db::stored_uuid("seat id", &s.seat.id)?,
            council_id: db::stored_uuid("council id", &s.seat.council_id)?,
            council_name: s.council_name,
            title: s.seat.title,
            constituency: crate::domain::Constituency::parse(&s.seat.constituency).ok_or_else(
                || ApiError::Internal(format!("stored constituency {:?}", s.seat.constituency)),
            )?,
            started_on: s.holding.started_on,
            ended_on: s.holding.ended_on,
            current: s.holding.ended_on.is_none(),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct SeatHeldList {
    /// Every seat the person holds or held, on any council, oldest first.
    pub items: Vec<SeatHeldResponse>,
}

/// A person's seats across councils
#[utoipa::path(get, path = "/api/v1/people/{person_id}/seats", tag = "people",
    params(("person_id" = Uuid, Path, description = "The person's id")),
    responses(
        (status = 200, description = "Every seat the person holds or held.", body = SeatHeldList),
        super::problems::ReadErrors))]
pub async fn list_person_seats(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let items = people::seats_held(&ctx, &state.db, id.into_inner().into())?
        .into_iter()
        .map(SeatHeldResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_NONE))
        .json(SeatHeldList { items }))
}

/// A person's directory-information choices (FERPA 99.37).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"opt_outs": ["phone"], "homeless_youth": false, "withheld": ["phone"], "version": 1}))]
pub struct DirectoryPreferencesResponse {
    /// Fields the person withholds: `name` (shown as `null` on public seat rosters and
    /// composition reports), `email` and `phone` (left out for fellow council members).
    pub opt_outs: Vec<DirectoryField>,
    /// McKinney-Vento homeless youth: every directory field is withheld, whatever the opt-outs.
    pub homeless_youth: bool,
    /// What is withheld now (the opt-outs, or everything for a homeless youth).
    pub withheld: Vec<DirectoryField>,
    /// `0` until first set (send `If-Match: "0"` the first time).
    pub version: i64,
}

impl From<people::DirectoryChoices> for DirectoryPreferencesResponse {
    fn from(c: people::DirectoryChoices) -> Self {
        DirectoryPreferencesResponse {
            withheld: crate::domain::directory::withheld(&c.opt_outs, c.homeless_youth),
            opt_outs: c.opt_outs,
            homeless_youth: c.homeless_youth,
            version: c.version,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"opt_outs": ["name", "phone"], "homeless_youth": false}))]
pub struct SetDirectoryPreferences {
    /// Every field to withhold (the whole list; `[]` withholds nothing).
    #[validate(length(max = 3))]
    #[schema(max_items = 3)]
    pub opt_outs: Vec<DirectoryField>,
    /// Only district admins and staff related to the person change this.
    #[serde(default)]
    pub homeless_youth: bool,
}

/// A person's directory-information choices
#[utoipa::path(get, path = "/api/v1/people/{person_id}/directory-preferences", tag = "people",
    params(("person_id" = Uuid, Path, description = "The person's id")),
    responses(
        (status = 200, description = "The choices, with their `ETag` (\"0\" while none are set).", body = DirectoryPreferencesResponse),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReadErrors))]
pub async fn find_directory_preferences(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let c = people::directory_choices(&ctx, &state.db, id.into_inner().into())?;
    let version = c.version;
    Ok(resource_response(
        &req,
        &DirectoryPreferencesResponse::from(c),
        version,
        CACHE_NONE,
    ))
}

/// Set a person's directory-information choices
///
/// The person, staff related to them and district admins set the opt-outs; the homeless-youth
/// flag only staff and district admins. Withheld fields disappear at once from public seat
/// rosters and composition reports (name) and from fellow members' view of the person (email,
/// phone); district admins and related staff still see them (legitimate interest).
#[utoipa::path(put, path = "/api/v1/people/{person_id}/directory-preferences", tag = "people", request_body = SetDirectoryPreferences,
    params(("person_id" = Uuid, Path, description = "The person's id"),
           ("If-Match" = String, Header, description = "The choices' current ETag (\"0\" the first time)")),
    responses(
        (status = 200, description = "The new choices, with their `ETag`.", body = DirectoryPreferencesResponse),
        super::problems::ChangeErrors))]
pub async fn set_directory_preferences(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<SetDirectoryPreferences>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let b = body.into_inner();
    let c = people::set_directory_choices(
        &ctx,
        &state.db,
        id.into_inner().into(),
        expected,
        b.opt_outs,
        b.homeless_youth,
    )
    .await?;
    let version = c.version;
    Ok(updated_response(
        &DirectoryPreferencesResponse::from(c),
        version,
        CACHE_NONE,
    ))
}
