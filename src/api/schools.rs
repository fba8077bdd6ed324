//! `/api/v1/schools`

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::body::JsonBody;
use super::external_ids::{self as ext, ExternalIdBody};
use super::fields;
use super::paging::{list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_REVALIDATE,
};
use crate::auth::SignedIn;
use crate::commands::external_ids::Identified;
use crate::commands::schools;
use crate::db::{self, schools::School};
use crate::error::ApiError;
use crate::state::AppState;

/// A school. Its `district_code` is the district's own identifier for it and is unique.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "name": "Roosevelt Community School",
    "district_code": "19-64733-1937234", "time_zone": "America/Los_Angeles",
    "address": "456 S Mathews St, Los Angeles, CA 90033",
    "external_ids": [{"system": "sis", "value": "1937234"}, {"system": "oneroster", "value": "org-roosevelt"}],
    "created_at": "2026-11-25T08:41:42.123456Z", "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1
}))]
pub struct SchoolResponse {
    pub id: Uuid,
    pub name: String,
    pub district_code: String,
    /// IANA time zone of the school; meeting times are shown in it.
    pub time_zone: String,
    pub address: Option<String>,
    /// Ids other systems use for this school, one per system, ordered by system.
    pub external_ids: Vec<ExternalIdBody>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Increases with every change; the `ETag` is this number in quotes.
    pub version: i64,
}

impl TryFrom<Identified<School>> for SchoolResponse {
    type Error = ApiError;

    fn try_from(i: Identified<School>) -> Result<Self, ApiError> {
        let s = i.row;
        Ok(SchoolResponse {
            external_ids: ext::out_ids(i.external_ids),
            id: db::stored_uuid("school id", &s.id)?,
            name: s.name,
            district_code: s.district_code,
            time_zone: s.time_zone,
            address: s.address,
            created_at: s.created_at.and_utc(),
            updated_at: s.updated_at.and_utc(),
            version: s.version,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Roosevelt Community School", "district_code": "19-64733-1937234",
    "time_zone": "America/Los_Angeles", "address": "456 S Mathews St, Los Angeles, CA 90033",
    "external_ids": [{"system": "sis", "value": "1937234"}]}))]
pub struct CreateSchool {
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(custom(function = "fields::code"))]
    #[schema(min_length = 1, max_length = 64)]
    pub district_code: String,
    /// IANA time zone, e.g. `America/Los_Angeles`.
    #[validate(custom(function = "fields::time_zone"))]
    #[schema(min_length = 1, max_length = 64)]
    pub time_zone: String,
    #[validate(custom(function = "fields::address"))]
    #[schema(min_length = 1, max_length = 500)]
    pub address: Option<String>,
    /// Ids other systems use for this school (one per system; at most 20).
    #[serde(default)]
    #[validate(nested, length(max = 20))]
    #[schema(max_items = 20)]
    pub external_ids: Vec<ExternalIdBody>,
}

/// Only the fields sent are changed; `null` clears an optional field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Roosevelt Community High School", "address": null,
    "external_ids": [{"system": "sis", "value": "1937234"}]}))]
pub struct UpdateSchool {
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::name"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::code"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 64)]
    pub district_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::time_zone"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 64)]
    pub time_zone: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::address"))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 500)]
    pub address: Option<Option<String>>,
    /// Replaces the whole list; `null` or `[]` removes them all.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(nested, length(max = 20))]
    #[schema(value_type = Option<Vec<ExternalIdBody>>, max_items = 20)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SchoolListParams {
    /// Only the school with this district code.
    pub district_code: Option<String>,
    /// Only schools whose name contains this text (case-insensitive).
    pub q: Option<String>,
    /// Only the school carrying this external id, written `system:value` (e.g. `sis:1937234`).
    #[param(example = "sis:1937234")]
    pub external_id: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SchoolList {
    pub items: Vec<SchoolResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn location(id: &str) -> String {
    format!("/api/v1/schools/{id}")
}

/// List schools
#[utoipa::path(get, path = "/api/v1/schools", tag = "schools", params(SchoolListParams),
    responses(
        (status = 200, description = "A page of schools in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = SchoolList),
        super::problems::ListErrors))]
pub async fn list_schools(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<SchoolListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = db::schools::SchoolFilter {
        district_code: params.district_code,
        name_contains: params.q,
        external_id: ext::filter(params.external_id)?,
    };
    let rows = schools::list(&state.db, &filter, page.after.as_deref(), page.fetch())?;
    let (rows, next) = split_page(rows, &page, |s| &s.row.id);
    let items = rows
        .into_iter()
        .map(SchoolResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, next))
}

/// Create a school
#[utoipa::path(post, path = "/api/v1/schools", tag = "schools", request_body = CreateSchool,
    responses(
        (status = 201, description = "Created; `Location` names the new school.", body = SchoolResponse,
            headers(("Location" = String, description = "URL of the new school"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_school(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateSchool>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = schools::NewSchool {
        name: body.name,
        district_code: body.district_code,
        time_zone: body.time_zone,
        address: body.address,
        external_ids: ext::into_ids(body.external_ids),
    };
    let row = schools::create(&ctx, &state.db, input).await?;
    let (version, loc) = (row.row.version, location(&row.row.id));
    Ok(created_response(
        loc,
        &SchoolResponse::try_from(row)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Get a school
#[utoipa::path(get, path = "/api/v1/schools/{school_id}", tag = "schools",
    params(("school_id" = Uuid, Path, description = "The school's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The school, with its `ETag`.", body = SchoolResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_school(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = schools::find(&state.db, id.into_inner().into())?;
    let version = row.row.version;
    Ok(resource_response(
        &req,
        &SchoolResponse::try_from(row)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Change a school
#[utoipa::path(patch, path = "/api/v1/schools/{school_id}", tag = "schools", request_body = UpdateSchool,
    params(("school_id" = Uuid, Path, description = "The school's id"),
           ("If-Match" = String, Header, description = "The school's current ETag")),
    responses(
        (status = 200, description = "The changed school, with its new `ETag`.", body = SchoolResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn update_school(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateSchool>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let changes = schools::SchoolChanges {
        name: body.name,
        district_code: body.district_code,
        time_zone: body.time_zone,
        address: body.address,
        external_ids: ext::patch_ids(body.external_ids),
    };
    let row = schools::update(&ctx, &state.db, id.into_inner().into(), expected, changes).await?;
    let version = row.row.version;
    Ok(updated_response(
        &SchoolResponse::try_from(row)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Delete a school
///
/// Refused with 409 while councils belong to the school.
#[utoipa::path(delete, path = "/api/v1/schools/{school_id}", tag = "schools",
    params(("school_id" = Uuid, Path, description = "The school's id"),
           ("If-Match" = String, Header, description = "The school's current ETag")),
    responses(
        (status = 204, description = "Deleted."),
        super::problems::DeleteErrors))]
pub async fn delete_school(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    schools::delete(&ctx, &state.db, id.into_inner().into(), expected).await?;
    Ok(HttpResponse::NoContent().finish())
}
