//! `/api/v1/people`

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::body::JsonBody;
use super::fields::{self, patch, patch_nullable};
use super::paging::{list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, resource_response, updated_response, IfMatch, CACHE_NONE,
};
use super::schools::still_referenced;
use crate::auth::{policy, require, Caller, SignedIn};
use crate::db::{self, people::Person};
use crate::error::ApiError;
use crate::state::AppState;

/// A person: a council member, a family member, a staff member.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-7000-7000-8000-00000000a001", "display_name": "María López",
    "email": "maria.lopez@example.org", "phone": "+1 213 555 0100", "preferred_language": "es-MX",
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Person> for PersonResponse {
    fn from(p: Person) -> Self {
        PersonResponse {
            id: Uuid::parse_str(&p.id).unwrap_or_default(),
            display_name: p.display_name,
            email: p.email,
            phone: p.phone,
            preferred_language: p.preferred_language,
            created_at: p.created_at.and_utc(),
            updated_at: p.updated_at.and_utc(),
            version: p.version,
        }
    }
}

fn default_language() -> String {
    "en".to_owned()
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "María López", "email": "maria.lopez@example.org",
    "phone": "+1 213 555 0100", "preferred_language": "es-MX"}))]
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
}

/// Only the fields sent are changed; `null` clears an optional field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": null, "preferred_language": "es"}))]
pub struct UpdatePerson {
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::email"))]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::phone"))]
    #[schema(value_type = Option<String>, max_length = 32)]
    pub phone: Option<Option<String>>,
    #[validate(custom(function = "fields::language"))]
    #[schema(max_length = 35)]
    pub preferred_language: Option<String>,
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
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    params: web::Query<PersonListParams>,
) -> Result<HttpResponse, ApiError> {
    require(policy::district_admin_only(&caller), "people", "")?;
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = db::people::PersonFilter {
        name_contains: params.q,
        email: params.email,
        preferred_language: params.preferred_language,
    };
    let rows = state.db.read(|conn| {
        db::people::list(conn, &filter, page.after.as_deref(), page.fetch()).map_err(ApiError::from)
    })?;
    let (rows, next) = split_page(rows, &page, |p| &p.id);
    let items: Vec<PersonResponse> = rows.into_iter().map(Into::into).collect();
    let mut res = list_response(&req, &items, next);
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static(CACHE_NONE),
    );
    Ok(res)
}

/// Create a person
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = CreatePerson,
    responses(
        (status = 201, description = "Created; `Location` names the new person.", body = PersonResponse,
            headers(("Location" = String, description = "URL of the new person"), ("ETag" = String, description = "Version tag for If-Match"))),
        super::problems::BodyErrors))]
pub async fn create_person(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    body: JsonBody<CreatePerson>,
) -> Result<HttpResponse, ApiError> {
    require(policy::create_person(&caller), "person", "")?;
    let body = body.into_inner();
    let now = db::now();
    let row = Person {
        id: Uuid::now_v7().to_string(),
        display_name: body.display_name,
        email: body.email,
        phone: body.phone,
        preferred_language: body.preferred_language,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = state
        .db
        .write(move |conn| {
            db::people::insert(conn, &row)
                .map(|_| row)
                .map_err(ApiError::from)
        })
        .await?;
    let version = row.version;
    let location = format!("/api/v1/people/{}", row.id);
    Ok(created_response(
        location,
        &PersonResponse::from(row),
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
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let row = state.db.read(|conn| {
        let facts = person_facts(conn, &id)?;
        require(policy::read_person(&caller, &id, &facts), "person", &id)?;
        db::people::find(conn, &id)?.ok_or_else(|| ApiError::not_found("person", &id))
    })?;
    let version = row.version;
    Ok(resource_response(
        &req,
        &PersonResponse::from(row),
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
        super::problems::ChangeErrors))]
pub async fn update_person(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdatePerson>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner().to_string();
    let body = body.into_inner();
    let row = state
        .db
        .write(move |conn| {
            let facts = person_facts(conn, &id)?;
            require(policy::update_person(&caller, &id, &facts), "person", &id)?;
            let mut row =
                db::people::find(conn, &id)?.ok_or_else(|| ApiError::not_found("person", &id))?;
            if_match.check(row.version)?;
            patch(&mut row.display_name, &body.display_name);
            patch_nullable(&mut row.email, &body.email);
            patch_nullable(&mut row.phone, &body.phone);
            patch(&mut row.preferred_language, &body.preferred_language);
            row.version += 1;
            row.updated_at = db::now();
            db::people::update(conn, &row)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(updated_response(
        &PersonResponse::from(row),
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
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            let facts = person_facts(conn, &id)?;
            require(policy::delete_person(&caller, &id, &facts), "person", &id)?;
            let row =
                db::people::find(conn, &id)?.ok_or_else(|| ApiError::not_found("person", &id))?;
            if_match.check(row.version)?;
            db::people::delete(conn, &row).map_err(|e| {
                still_referenced(
                    e,
                    "this person holds or has held a seat; seat history is kept",
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The seats a person holds or held, which decide who may see their record.
fn person_facts(
    conn: &mut crate::db::AnyConnection,
    id: &str,
) -> Result<policy::PersonFacts, ApiError> {
    let (seated_now_on, seated_ever_on) = db::access::seat_councils(conn, id)?;
    Ok(policy::PersonFacts {
        seated_ever_on,
        seated_now_on,
    })
}
