//! Wraparound services: the service catalog (`/api/v1/service-categories`), partner
//! organizations and their members (`/api/v1/partner-organizations`), and service requests
//! (`/api/v1/service-requests`) with their lifecycle actions, notes, consents and disclosure
//! records. See docs/SERVICES.md.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::councils::PageParams;
use super::fields;
use super::paging::{list_response, private_list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_NONE, CACHE_REVALIDATE,
};
use crate::auth::{Caller, SignedIn};
use crate::commands::services::{
    self as cmd, CategoryRecord, Offering, PartnerRecord, QueueFilter, RequestView,
};
use crate::db::services::{Consent, Disclosure, Member, Note};
use crate::db::{self};
use crate::domain::services::{
    Action, AttributeDefinition, ConsentClass, ExceptionBasis, Giver, Party, Status, Visibility,
};
use crate::error::ApiError;
use crate::state::AppState;

fn uuid_of(what: &str, text: &str) -> Result<Uuid, ApiError> {
    Ok(db::stored_uuid(what, text)?)
}

fn opt_uuid(what: &str, text: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    text.map(|t| uuid_of(what, t)).transpose()
}

/// The text for a language: the exact tag, then the same primary language (`es` for `es-MX`),
/// then English, then any.
pub fn pick(map: &BTreeMap<String, String>, lang: Option<&str>) -> Option<String> {
    let lang = lang.unwrap_or("en").to_ascii_lowercase();
    let primary = lang.split('-').next().unwrap_or("").to_owned();
    let find = |f: &dyn Fn(&str) -> bool| {
        map.iter()
            .find(|(k, _)| f(&k.to_ascii_lowercase()))
            .map(|(_, v)| v.clone())
    };
    find(&|k| k == lang)
        .or_else(|| find(&|k| k.split('-').next() == Some(primary.as_str())))
        .or_else(|| find(&|k| k == "en" || k.starts_with("en-")))
        .or_else(|| map.values().next().cloned())
}

fn localized(value: &BTreeMap<String, String>, max: usize) -> Result<(), ValidationError> {
    let ok = value.len() <= 20
        && value.iter().all(|(k, v)| {
            crate::domain::is_language_tag(k) && !v.trim().is_empty() && v.chars().count() <= max
        });
    if ok {
        Ok(())
    } else {
        let mut e = ValidationError::new("localized");
        e.message = Some(
            format!("must map BCP 47 language tags (at most 20) to text of 1 to {max} characters")
                .into(),
        );
        Err(e)
    }
}

fn localized_name(value: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    localized(value, fields::NAME_MAX)
}

fn localized_text(value: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    localized(value, fields::TEXT_MAX)
}

// ---------------------------------------------------------------------------------------------
// Catalog

/// A Community Schools pillar (California Community Schools Partnership Program).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pillar {
    IntegratedStudentSupports,
    FamilyAndCommunityEngagement,
    CollaborativeLeadership,
    ExtendedLearning,
}

impl Pillar {
    fn as_str(self) -> &'static str {
        match self {
            Pillar::IntegratedStudentSupports => "integrated_student_supports",
            Pillar::FamilyAndCommunityEngagement => "family_and_community_engagement",
            Pillar::CollaborativeLeadership => "collaborative_leadership",
            Pillar::ExtendedLearning => "extended_learning",
        }
    }

    fn parse(text: &str) -> Option<Pillar> {
        [
            Pillar::IntegratedStudentSupports,
            Pillar::FamilyAndCommunityEngagement,
            Pillar::CollaborativeLeadership,
            Pillar::ExtendedLearning,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

/// A kind of service families may request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9000-7000-8000-00000000c001", "code": "food-assistance",
    "names": {"en": "Food assistance", "es": "Ayuda con alimentos"},
    "descriptions": {"en": "Groceries and meal programs for your family.", "es": "Despensa y programas de comidas para su familia."},
    "name": "Ayuda con alimentos", "description": "Despensa y programas de comidas para su familia.",
    "active": true, "first_contact_school_days": 2, "pillar": "integrated_student_supports",
    "sensitive": false, "consent_class": "general",
    "attributes": [{"code": "household_size", "datatype": "number", "required": true,
        "description": {"en": "How many people live in the home?", "es": "¿Cuántas personas viven en el hogar?"}, "values": []}],
    "created_at": "2026-11-25T08:41:42.123456Z", "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1
}))]
pub struct CategoryResponse {
    pub id: Uuid,
    pub code: String,
    /// The name by BCP 47 language tag.
    pub names: BTreeMap<String, String>,
    pub descriptions: BTreeMap<String, String>,
    /// The name in the language asked for (`?lang=`), else English, else any.
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: bool,
    /// The target for a first contact with the family, in school days.
    pub first_contact_school_days: Option<i64>,
    pub pillar: Option<Pillar>,
    /// The description and answers of a sensitive category's requests are left out of lists and
    /// shown only when one request is read (each read is in the audit trail).
    pub sensitive: bool,
    /// Whose consent a referral needs (see docs/SERVICES.md).
    pub consent_class: ConsentClass,
    pub attributes: Vec<AttributeDefinition>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn category_response(r: CategoryRecord, lang: Option<&str>) -> Result<CategoryResponse, ApiError> {
    Ok(CategoryResponse {
        id: uuid_of("category id", &r.row.id)?,
        name: pick(&r.names, lang),
        description: pick(&r.descriptions, lang),
        code: r.row.code,
        names: r.names,
        descriptions: r.descriptions,
        active: r.row.active,
        first_contact_school_days: r.row.first_contact_school_days,
        pillar: r.row.pillar.as_deref().and_then(Pillar::parse),
        sensitive: r.row.sensitive,
        consent_class: r.consent_class,
        attributes: r.attributes,
        created_at: r.row.created_at.and_utc(),
        updated_at: r.row.updated_at.and_utc(),
        version: r.row.version,
    })
}

fn default_true() -> bool {
    true
}

fn general() -> ConsentClass {
    ConsentClass::General
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "food-assistance",
    "names": {"en": "Food assistance", "es": "Ayuda con alimentos"},
    "descriptions": {"en": "Groceries and meal programs.", "es": "Despensa y programas de comidas."},
    "first_contact_school_days": 2, "pillar": "integrated_student_supports",
    "attributes": [{"code": "household_size", "datatype": "number", "required": true,
        "description": {"en": "How many people live in the home?", "es": "¿Cuántas personas viven en el hogar?"}}]}))]
pub struct CreateCategory {
    /// A stable code (the Open311 `service_code`).
    #[validate(custom(function = "fields::code"))]
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    #[validate(custom(function = "localized_name"))]
    pub names: BTreeMap<String, String>,
    #[serde(default)]
    #[validate(custom(function = "localized_text"))]
    pub descriptions: BTreeMap<String, String>,
    #[serde(default = "default_true")]
    #[schema(default = true)]
    pub active: bool,
    #[validate(range(min = 0, max = 365))]
    #[schema(minimum = 0, maximum = 365)]
    pub first_contact_school_days: Option<i64>,
    pub pillar: Option<Pillar>,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default = "general")]
    #[schema(default = "general")]
    pub consent_class: ConsentClass,
    /// Questions a request of this category answers (checked: codes unique, list values).
    #[serde(default)]
    pub attributes: Vec<AttributeDefinition>,
}

/// Only the fields sent change (JSON merge patch); `null` clears an optional field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false, "names": {"en": "Food help", "es": "Ayuda con comida"}}))]
pub struct UpdateCategory {
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "localized_name"))]
    #[schema(value_type = BTreeMap<String, String>, required = false)]
    pub names: Option<Option<BTreeMap<String, String>>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "localized_text"))]
    #[schema(value_type = BTreeMap<String, String>, required = false)]
    pub descriptions: Option<Option<BTreeMap<String, String>>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = bool, required = false)]
    pub active: Option<Option<bool>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(range(min = 0, max = 365))]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 365)]
    pub first_contact_school_days: Option<Option<i64>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<Pillar>)]
    pub pillar: Option<Option<Pillar>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = bool, required = false)]
    pub sensitive: Option<Option<bool>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = ConsentClass, required = false)]
    pub consent_class: Option<Option<ConsentClass>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Vec<AttributeDefinition>, required = false)]
    pub attributes: Option<Option<Vec<AttributeDefinition>>>,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CategoryListParams {
    /// `true`: only categories offered now; `false`: only retired ones.
    pub active: Option<bool>,
    /// The language for `name` and `description` (BCP 47, e.g. `es`).
    #[validate(custom(function = "fields::language"))]
    #[param(max_length = 35, example = "es")]
    pub lang: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LangParams {
    /// The language for `name` and `description` (BCP 47, e.g. `es`).
    #[validate(custom(function = "fields::language"))]
    #[param(max_length = 35, example = "es")]
    pub lang: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<CategoryResponse>,
    pub next_cursor: Option<String>,
}

/// List service categories
#[utoipa::path(get, path = "/api/v1/service-categories", tag = "services", params(CategoryListParams),
    responses(
        (status = 200, description = "A page of categories in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = CategoryList),
        super::problems::ListErrors))]
pub async fn list_categories(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<CategoryListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    super::body::validate(&params)?;
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = cmd::list_categories(
        &state.db,
        params.active,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |c| &c.row.id);
    let items = rows
        .into_iter()
        .map(|r| category_response(r, params.lang.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, next))
}

/// Add a service category
#[utoipa::path(post, path = "/api/v1/service-categories", tag = "services", request_body = CreateCategory,
    responses(
        (status = 201, description = "Created; `Location` names the new category.", body = CategoryResponse,
            headers(("Location" = String, description = "URL of the new category"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_category(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateCategory>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = cmd::NewCategory {
        code: b.code,
        names: b.names,
        descriptions: b.descriptions,
        active: b.active,
        first_contact_school_days: b.first_contact_school_days,
        pillar: b.pillar.map(|p| p.as_str().to_owned()),
        sensitive: b.sensitive,
        consent_class: b.consent_class,
        attributes: b.attributes,
    };
    let rec = cmd::create_category(&ctx, &state.db, input).await?;
    let version = rec.row.version;
    let location = format!("/api/v1/service-categories/{}", rec.row.id);
    Ok(created_response(
        location,
        &category_response(rec, None)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Get a service category
#[utoipa::path(get, path = "/api/v1/service-categories/{category_id}", tag = "services",
    params(("category_id" = Uuid, Path, description = "The category's id"), LangParams,
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The category with its attribute definitions, with its `ETag`.", body = CategoryResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        (status = 400, response = super::problems::BadRequest),
        (status = 422, response = super::problems::Unprocessable),
        super::problems::ReadErrors))]
pub async fn find_category(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<LangParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    super::body::validate(&params)?;
    let rec = cmd::find_category(&state.db, &id.into_inner().to_string())?;
    let version = rec.row.version;
    let body = category_response(rec, params.lang.as_deref())?;
    Ok(resource_response(&req, &body, version, CACHE_REVALIDATE))
}

/// Change a service category
#[utoipa::path(patch, path = "/api/v1/service-categories/{category_id}", tag = "services", request_body = UpdateCategory,
    params(("category_id" = Uuid, Path, description = "The category's id"),
           ("If-Match" = String, Header, description = "The category's current ETag")),
    responses(
        (status = 200, description = "The changed category, with the new `ETag`.", body = CategoryResponse),
        super::problems::ChangeErrors))]
pub async fn update_category(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateCategory>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let b = body.into_inner();
    let changes = cmd::CategoryChanges {
        names: b.names,
        descriptions: b.descriptions,
        active: b.active,
        first_contact_school_days: b.first_contact_school_days,
        pillar: b.pillar.map(|p| p.map(|p| p.as_str().to_owned())),
        sensitive: b.sensitive,
        consent_class: b.consent_class,
        attributes: b.attributes,
    };
    let rec = cmd::update_category(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        changes,
    )
    .await?;
    let version = rec.row.version;
    Ok(updated_response(
        &category_response(rec, None)?,
        version,
        CACHE_REVALIDATE,
    ))
}

// ---------------------------------------------------------------------------------------------
// Partner organizations

/// A category a partner organization offers at a school.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category_id": "01936d4e-9000-7000-8000-00000000c001", "school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e0001"}))]
pub struct OfferingBody {
    pub category_id: Uuid,
    pub school_id: Uuid,
}

fn offerings_in(list: Vec<OfferingBody>) -> Vec<Offering> {
    list.into_iter()
        .map(|o| Offering {
            category_id: o.category_id.to_string(),
            school_id: o.school_id.to_string(),
        })
        .collect()
}

/// An organization that provides services at schools.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9100-7000-8000-00000000e001", "name": "Eastside Family Resource Center",
    "contact_email": "referrals@eastside-frc.example.org", "contact_phone": "+1 213 555 0199",
    "offerings": [{"category_id": "01936d4e-9000-7000-8000-00000000c001", "school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e0001"}],
    "active": true,
    "created_at": "2026-11-25T08:41:42.123456Z", "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1
}))]
pub struct PartnerResponse {
    pub id: Uuid,
    pub name: String,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub offerings: Vec<OfferingBody>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn partner_response(r: PartnerRecord) -> Result<PartnerResponse, ApiError> {
    Ok(PartnerResponse {
        id: uuid_of("partner id", &r.row.id)?,
        name: r.row.name,
        contact_email: r.row.contact_email,
        contact_phone: r.row.contact_phone,
        offerings: r
            .offerings
            .iter()
            .map(|o| {
                Ok(OfferingBody {
                    category_id: uuid_of("category id", &o.category_id)?,
                    school_id: uuid_of("school id", &o.school_id)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?,
        active: r.row.active,
        created_at: r.row.created_at.and_utc(),
        updated_at: r.row.updated_at.and_utc(),
        version: r.row.version,
    })
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Eastside Family Resource Center", "contact_email": "referrals@eastside-frc.example.org",
    "offerings": [{"category_id": "01936d4e-9000-7000-8000-00000000c001", "school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e0001"}]}))]
pub struct CreatePartner {
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(custom(function = "fields::email"))]
    #[schema(
        max_length = 254,
        pattern = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub contact_email: Option<String>,
    #[validate(custom(function = "fields::phone"))]
    #[schema(max_length = 32, pattern = r"^\+?[ .()-]*(?:[0-9][ .()-]*){3,20}$")]
    pub contact_phone: Option<String>,
    #[serde(default)]
    #[validate(length(max = 500))]
    #[schema(max_items = 500)]
    pub offerings: Vec<OfferingBody>,
    #[serde(default = "default_true")]
    #[schema(default = true)]
    pub active: bool,
}

/// Only the fields sent change (JSON merge patch); `offerings` replaces the whole list.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_phone": "+1 213 555 0142", "active": true}))]
pub struct UpdatePartner {
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::name"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::email"))]
    #[schema(value_type = Option<String>, max_length = 254, pattern = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")]
    pub contact_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::phone"))]
    #[schema(value_type = Option<String>, max_length = 32, pattern = r"^\+?[ .()-]*(?:[0-9][ .()-]*){3,20}$")]
    pub contact_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Vec<OfferingBody>, required = false, max_items = 500)]
    pub offerings: Option<Option<Vec<OfferingBody>>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = bool, required = false)]
    pub active: Option<Option<bool>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerListParams {
    /// `true`: only active organizations; `false`: only inactive ones.
    pub active: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PartnerList {
    pub items: Vec<PartnerResponse>,
    pub next_cursor: Option<String>,
}

/// List partner organizations
#[utoipa::path(get, path = "/api/v1/partner-organizations", tag = "services", params(PartnerListParams),
    responses(
        (status = 200, description = "A page of organizations in creation order.", body = PartnerList),
        super::problems::ListErrors))]
pub async fn list_partners(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<PartnerListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = cmd::list_partners(
        &state.db,
        params.active,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |p| &p.row.id);
    let items = rows
        .into_iter()
        .map(partner_response)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, next))
}

/// Add a partner organization
#[utoipa::path(post, path = "/api/v1/partner-organizations", tag = "services", request_body = CreatePartner,
    responses(
        (status = 201, description = "Created; `Location` names the new organization.", body = PartnerResponse,
            headers(("Location" = String, description = "URL of the new organization"), ("ETag" = String, description = "Version tag for If-Match"))),
        super::problems::BodyErrors))]
pub async fn create_partner(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreatePartner>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = cmd::NewPartner {
        name: b.name,
        contact_email: b.contact_email,
        contact_phone: b.contact_phone,
        offerings: offerings_in(b.offerings),
        active: b.active,
    };
    let rec = cmd::create_partner(&ctx, &state.db, input).await?;
    let version = rec.row.version;
    let location = format!("/api/v1/partner-organizations/{}", rec.row.id);
    Ok(created_response(
        location,
        &partner_response(rec)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Get a partner organization
#[utoipa::path(get, path = "/api/v1/partner-organizations/{partner_id}", tag = "services",
    params(("partner_id" = Uuid, Path, description = "The organization's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The organization, with its `ETag`.", body = PartnerResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_partner(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rec = cmd::find_partner(&state.db, &id.into_inner().to_string())?;
    let version = rec.row.version;
    Ok(resource_response(
        &req,
        &partner_response(rec)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Change a partner organization
#[utoipa::path(patch, path = "/api/v1/partner-organizations/{partner_id}", tag = "services", request_body = UpdatePartner,
    params(("partner_id" = Uuid, Path, description = "The organization's id"),
           ("If-Match" = String, Header, description = "The organization's current ETag")),
    responses(
        (status = 200, description = "The changed organization, with the new `ETag`.", body = PartnerResponse),
        super::problems::ChangeErrors))]
pub async fn update_partner(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdatePartner>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let b = body.into_inner();
    let changes = cmd::PartnerChanges {
        name: b.name,
        contact_email: b.contact_email,
        contact_phone: b.contact_phone,
        offerings: b.offerings.map(|o| o.map(offerings_in)),
        active: b.active,
    };
    let rec = cmd::update_partner(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        changes,
    )
    .await?;
    let version = rec.row.version;
    Ok(updated_response(
        &partner_response(rec)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// A person who acts for a partner organization.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9200-7000-8000-00000000f001", "partner_id": "01936d4e-9100-7000-8000-00000000e001",
    "person_id": "01936d4e-7000-7000-8000-00000000a002", "created_at": "2026-11-25T08:41:42.123456Z", "version": 1}))]
pub struct MemberResponse {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub person_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

fn member_response(m: Member) -> Result<MemberResponse, ApiError> {
    Ok(MemberResponse {
        id: uuid_of("member id", &m.id)?,
        partner_id: uuid_of("partner id", &m.partner_id)?,
        person_id: uuid_of("person id", &m.person_id)?,
        created_at: m.created_at.and_utc(),
        version: m.version,
    })
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "01936d4e-7000-7000-8000-00000000a002"}))]
pub struct AddMember {
    pub person_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberResponse>,
    pub next_cursor: Option<String>,
}

/// List an organization's members
#[utoipa::path(get, path = "/api/v1/partner-organizations/{partner_id}/members", tag = "services",
    params(("partner_id" = Uuid, Path, description = "The organization's id"), PageParams),
    responses(
        (status = 200, description = "Members, oldest first.", body = MemberList),
        super::problems::NestedListErrors))]
pub async fn list_members(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = cmd::list_members(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |m| &m.id);
    let items = rows
        .into_iter()
        .map(member_response)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Add a member to an organization
///
/// The person acts for the organization once they also hold the `partner` role (a grant).
#[utoipa::path(post, path = "/api/v1/partner-organizations/{partner_id}/members", tag = "services", request_body = AddMember,
    params(("partner_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 201, description = "Added.", body = MemberResponse,
            headers(("Location" = String, description = "URL of the organization's members"), ("ETag" = String, description = "Version tag"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn add_member(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<AddMember>,
) -> Result<HttpResponse, ApiError> {
    let partner_id = id.into_inner().to_string();
    let m = cmd::add_member(
        &ctx,
        &state.db,
        partner_id.clone(),
        body.into_inner().person_id.to_string(),
    )
    .await?;
    let version = m.version;
    let location = format!("/api/v1/partner-organizations/{partner_id}/members");
    Ok(created_response(
        location,
        &member_response(m)?,
        version,
        CACHE_NONE,
    ))
}

/// Remove a member from an organization
#[utoipa::path(delete, path = "/api/v1/partner-organizations/{partner_id}/members/{member_id}", tag = "services",
    params(("partner_id" = Uuid, Path, description = "The organization's id"),
           ("member_id" = Uuid, Path, description = "The membership's id"),
           ("If-Match" = String, Header, description = "The membership's current ETag")),
    responses(
        (status = 204, description = "Removed."),
        super::problems::DeleteErrors))]
pub async fn remove_member(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let (partner_id, member_id) = path.into_inner();
    cmd::remove_member(
        &ctx,
        &state.db,
        partner_id.to_string(),
        member_id.to_string(),
        expected,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------------
// Service requests

/// How the family wants to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactMethod {
    Email,
    Phone,
    Text,
    InPerson,
    App,
}

impl ContactMethod {
    fn as_str(self) -> &'static str {
        match self {
            ContactMethod::Email => "email",
            ContactMethod::Phone => "phone",
            ContactMethod::Text => "text",
            ContactMethod::InPerson => "in_person",
            ContactMethod::App => "app",
        }
    }
}

/// How soon the family needs help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Routine,
    Soon,
    Urgent,
}

impl Urgency {
    fn as_str(self) -> &'static str {
        match self {
            Urgency::Routine => "routine",
            Urgency::Soon => "soon",
            Urgency::Urgent => "urgent",
        }
    }
}

fn subject_code(value: &str) -> Result<(), ValidationError> {
    fields::code(value)
}

fn attributes_size(value: &BTreeMap<String, Value>) -> Result<(), ValidationError> {
    if value.len() > 50 || value.keys().any(|k| k.chars().count() > 64) {
        let mut e = ValidationError::new("attributes");
        e.message = Some("at most 50 attributes, codes of at most 64 characters".into());
        return Err(e);
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e0001",
    "category_id": "01936d4e-9000-7000-8000-00000000c001", "subject_code": "STU-204518",
    "description": "Necesitamos ayuda con comida para la familia.",
    "attributes": {"household_size": 5}, "preferred_language": "es", "contact_method": "text", "urgency": "soon"}))]
pub struct CreateRequest {
    pub school_id: Uuid,
    pub category_id: Uuid,
    /// A district code for the student or family (never a name).
    #[validate(custom(function = "subject_code"))]
    #[schema(min_length = 1, max_length = 64)]
    pub subject_code: String,
    /// The student's birth date, only when a consent rule needs the student's age (18; 12 for
    /// outpatient mental health).
    pub subject_birth_date: Option<NaiveDate>,
    /// Staff filing for a family: the family member who owns the request. Families leave it out.
    pub family_person_id: Option<Uuid>,
    /// Staff only: the student's own person record. From the student's 18th birthday (with
    /// `subject_birth_date`) the student, not the parent, owns the request.
    pub subject_person_id: Option<Uuid>,
    #[validate(custom(function = "fields::text"))]
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Answers to the category's attributes, by attribute code.
    #[serde(default)]
    #[validate(custom(function = "attributes_size"))]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, Value>,
    #[validate(custom(function = "fields::language"))]
    #[schema(default = "en", max_length = 35)]
    #[serde(default = "english")]
    pub preferred_language: String,
    #[serde(default = "app")]
    #[schema(default = "app")]
    pub contact_method: ContactMethod,
    #[serde(default = "routine")]
    #[schema(default = "routine")]
    pub urgency: Urgency,
}

fn english() -> String {
    "en".to_owned()
}

fn app() -> ContactMethod {
    ContactMethod::App
}

fn routine() -> Urgency {
    Urgency::Routine
}

/// One step in a request's status history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// `submit` or a lifecycle action.
    pub action: String,
    pub from_status: Option<Status>,
    pub to_status: Status,
    /// Which side acted: `family`, `staff` or `partner`.
    pub party: String,
    /// Who acted (`person:<id>`, `client:<id>`); shown to staff only.
    pub actor: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A request for a wraparound service. Fields a caller's part does not need are `null`: the
/// partner never sees the birth date or the family member's id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9300-7000-8000-000000010001", "school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e0001",
    "category_id": "01936d4e-9000-7000-8000-00000000c001", "status": "referred", "open311_status": "open",
    "subject_code": "STU-204518", "subject_birth_date": null, "family_person_id": "01936d4e-7000-7000-8000-00000000a001",
    "subject_person_id": null, "description": "Necesitamos ayuda con comida para la familia.", "attributes": {"household_size": 5},
    "preferred_language": "es", "contact_method": "text", "urgency": "soon",
    "partner_id": "01936d4e-9100-7000-8000-00000000e001", "your_parts": ["family"],
    "history": [{"action": "submit", "from_status": null, "to_status": "submitted", "party": "family", "actor": null, "note": null, "at": "2026-11-25T08:41:42.123456Z"}],
    "created_at": "2026-11-25T08:41:42.123456Z", "updated_at": "2026-11-25T09:12:03.000001Z", "version": 3
}))]
pub struct RequestResponse {
    pub id: Uuid,
    pub school_id: Uuid,
    pub category_id: Uuid,
    pub status: Status,
    /// The Open311 two-valued status (`open`, `closed`).
    pub open311_status: String,
    pub subject_code: String,
    pub subject_birth_date: Option<NaiveDate>,
    pub family_person_id: Option<Uuid>,
    /// The student's own person record (owns the request from 18); staff and family only.
    pub subject_person_id: Option<Uuid>,
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, Value>,
    pub preferred_language: String,
    pub contact_method: String,
    pub urgency: String,
    pub partner_id: Option<Uuid>,
    /// The parts the caller plays for this request: `family`, `staff`, `partner`.
    pub your_parts: Vec<String>,
    /// The status history, oldest first (single-request reads only; empty in lists).
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn request_response(v: RequestView) -> Result<RequestResponse, ApiError> {
    let staff = v.is_staff();
    let family = v.parties.contains(&Party::Family);
    let row = v.row;
    let history = v
        .history
        .into_iter()
        .map(|e| {
            Ok(HistoryEntry {
                from_status: e.from_status.as_deref().and_then(Status::parse),
                to_status: Status::parse(&e.to_status)
                    .ok_or_else(|| ApiError::Internal("stored status".to_owned()))?,
                action: e.action,
                party: e.party,
                actor: staff.then_some(e.actor),
                note: e.note,
                at: e.created_at.and_utc(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(RequestResponse {
        id: uuid_of("request id", &row.id)?,
        school_id: uuid_of("school id", &row.school_id)?,
        category_id: uuid_of("category id", &row.category_id)?,
        open311_status: v.status.open311().to_owned(),
        status: v.status,
        subject_code: row.subject_code,
        subject_birth_date: if staff || family {
            row.subject_birth_date
        } else {
            None
        },
        family_person_id: if staff || family {
            opt_uuid("person id", row.family_person_id.as_deref())?
        } else {
            None
        },
        subject_person_id: if staff || family {
            opt_uuid("person id", row.subject_person_id.as_deref())?
        } else {
            None
        },
        description: row.description,
        attributes: v.attributes,
        preferred_language: row.preferred_language,
        contact_method: row.contact_method,
        urgency: row.urgency,
        partner_id: opt_uuid("partner id", row.partner_id.as_deref())?,
        your_parts: v.parties.iter().map(|p| p.as_str().to_owned()).collect(),
        history,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        version: row.version,
    })
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestListParams {
    pub school_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub status: Option<Status>,
    pub partner_id: Option<Uuid>,
    pub urgency: Option<Urgency>,
    /// `true`: only requests still waiting for a first contact past their category's target.
    pub overdue: Option<bool>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    /// Text in the subject code or the description (case-insensitive).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestCountParams {
    pub school_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub urgency: Option<Urgency>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Text in the subject code or the description (case-insensitive).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RequestList {
    pub items: Vec<RequestResponse>,
    pub next_cursor: Option<String>,
}

/// How many requests the caller sees in each status.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"counts": {"submitted": 4, "triaged": 2, "referred": 1, "accepted": 0, "rejected": 0,
    "in_progress": 3, "completed": 12, "declined": 0, "withdrawn": 1, "cancelled": 0}, "total": 23}))]
pub struct RequestCounts {
    pub counts: BTreeMap<String, i64>,
    pub total: i64,
}

fn naive(t: Option<DateTime<Utc>>) -> Option<chrono::NaiveDateTime> {
    t.map(|t| t.naive_utc())
}

/// List service requests (the staff queue)
///
/// Only the requests the caller plays a part for: staff see their schools' requests, a family
/// its own, a partner those referred to its organization under a consent in force. Oldest first.
#[utoipa::path(get, path = "/api/v1/service-requests", tag = "services", params(RequestListParams),
    responses(
        (status = 200, description = "A page of requests in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = RequestList),
        super::problems::ListErrors))]
pub async fn list_requests(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<RequestListParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    super::body::validate(&p)?;
    let page = PageRequest::new(p.limit, p.cursor.as_deref())?;
    let q = QueueFilter {
        school_id: p.school_id.map(|u| u.to_string()),
        category_id: p.category_id.map(|u| u.to_string()),
        status: p.status,
        partner_id: p.partner_id.map(|u| u.to_string()),
        urgency: p.urgency.map(|u| u.as_str().to_owned()),
        overdue: p.overdue,
        created_after: naive(p.created_after),
        created_before: naive(p.created_before),
        updated_after: naive(p.updated_after),
        updated_before: naive(p.updated_before),
        q: p.q,
    };
    let rows = cmd::list_requests(&ctx, &state.db, q, page.after.as_deref(), page.fetch())?;
    let (rows, next) = split_page(rows, &page, |r| &r.row.id);
    let items = rows
        .into_iter()
        .map(request_response)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Count service requests by status
#[utoipa::path(get, path = "/api/v1/service-requests/counts", tag = "services", params(RequestCountParams),
    responses(
        (status = 200, description = "Counts of the requests the caller sees, by status.", body = RequestCounts),
        super::problems::ListErrors))]
pub async fn count_requests(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    params: web::Query<RequestCountParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    super::body::validate(&p)?;
    let q = QueueFilter {
        school_id: p.school_id.map(|u| u.to_string()),
        category_id: p.category_id.map(|u| u.to_string()),
        partner_id: p.partner_id.map(|u| u.to_string()),
        urgency: p.urgency.map(|u| u.as_str().to_owned()),
        created_after: naive(p.created_after),
        created_before: naive(p.created_before),
        q: p.q,
        ..Default::default()
    };
    let counts = cmd::count_requests(&ctx, &state.db, q)?;
    let total = counts.iter().map(|(_, n)| n).sum();
    let body = RequestCounts {
        counts: counts
            .into_iter()
            .map(|(s, n)| (s.as_str().to_owned(), n))
            .collect(),
        total,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_NONE))
        .json(body))
}

/// Submit a service request
///
/// A family member submits for themselves; staff of the school may file for a family
/// (`family_person_id`). Attribute answers are checked against the category's definitions and
/// every bad one is named (`attributes.<code>`).
#[utoipa::path(post, path = "/api/v1/service-requests", tag = "services", request_body = CreateRequest,
    responses(
        (status = 201, description = "Submitted; `Location` names the new request.", body = RequestResponse,
            headers(("Location" = String, description = "URL of the new request"), ("ETag" = String, description = "Version tag for If-Match"))),
        super::problems::BodyErrors))]
pub async fn create_request(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = cmd::NewRequest {
        school_id: b.school_id.to_string(),
        category_id: b.category_id.to_string(),
        subject_code: b.subject_code,
        subject_birth_date: b.subject_birth_date,
        family_person_id: b.family_person_id.map(|u| u.to_string()),
        subject_person_id: b.subject_person_id.map(|u| u.to_string()),
        description: b.description,
        attributes: b.attributes,
        preferred_language: b.preferred_language,
        contact_method: b.contact_method.as_str().to_owned(),
        urgency: b.urgency.as_str().to_owned(),
    };
    let v = cmd::create_request(&ctx, &state.db, input).await?;
    let version = v.row.version;
    let location = format!("/api/v1/service-requests/{}", v.row.id);
    Ok(created_response(
        location,
        &request_response(v)?,
        version,
        CACHE_NONE,
    ))
}

/// Get a service request
///
/// With its status history. Every read is recorded in the audit trail.
#[utoipa::path(get, path = "/api/v1/service-requests/{request_id}", tag = "services",
    params(("request_id" = Uuid, Path, description = "The request's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The request, with its `ETag`.", body = RequestResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_request(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let v = cmd::find_request(&ctx, &state.db, &id.into_inner().to_string())?;
    let version = v.row.version;
    Ok(resource_response(
        &req,
        &request_response(v)?,
        version,
        CACHE_NONE,
    ))
}

fn note_text(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        let mut e = ValidationError::new("length");
        e.message = Some("must not be empty".into());
        return Err(e);
    }
    fields::text(value)
}

/// A lifecycle step. `partner_id` is sent with `refer` only.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Referido al centro de recursos familiares / Referred to the family resource center",
    "partner_id": "01936d4e-9100-7000-8000-00000000e001"}))]
pub struct TransitionBody {
    /// Shown in the status history to everyone who sees the request (staff-only remarks go in a
    /// `staff` note).
    #[validate(custom(function = "note_text"))]
    #[schema(min_length = 1, max_length = 4000)]
    pub note: Option<String>,
    pub partner_id: Option<Uuid>,
}

async fn transition(
    state: web::Data<AppState>,
    ctx: crate::commands::Context,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<TransitionBody>,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let b = body.into_inner();
    let input = cmd::TransitionInput {
        note: b.note,
        partner_id: b.partner_id.map(|u| u.to_string()),
    };
    let v = cmd::transition(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        action,
        input,
    )
    .await?;
    let version = v.row.version;
    Ok(updated_response(&request_response(v)?, version, CACHE_NONE))
}

macro_rules! transition_handler {
    ($name:ident, $action:expr, $path:literal, $summary:literal, $what:literal) => {
        #[doc = $summary]
        #[doc = ""]
        #[doc = $what]
        #[utoipa::path(post, path = $path, tag = "services", request_body = TransitionBody,
            params(("request_id" = Uuid, Path, description = "The request's id"),
                   ("If-Match" = String, Header, description = "The request's current ETag")),
            responses(
                (status = 200, description = "The request in its new status, with the new `ETag`.", body = RequestResponse),
                (status = 409, response = super::problems::Conflict),
                super::problems::ChangeErrors))]
        pub async fn $name(
            state: web::Data<AppState>,
            SignedIn(ctx): SignedIn,
            req: HttpRequest,
            id: web::Path<Uuid>,
            body: JsonBody<TransitionBody>,
        ) -> Result<HttpResponse, ApiError> {
            transition(state, ctx, req, id, body, $action).await
        }
    };
}

transition_handler!(triage_request, Action::Triage, "/api/v1/service-requests/{request_id}/triage",
    "Triage a request", "Staff: `submitted` → `triaged`. A wrong party or state is 409 `illegal-transition` naming both.");
transition_handler!(refer_request, Action::Refer, "/api/v1/service-requests/{request_id}/refer",
    "Refer a request to a partner",
    "Staff: `triaged` or `rejected` → `referred`, with `partner_id`. Refused with 409 `consent-required` unless a consent in force names the partner and counts for the student's age today; writes a disclosure record.");
transition_handler!(
    accept_request,
    Action::Accept,
    "/api/v1/service-requests/{request_id}/accept",
    "Accept a referral",
    "Partner: `referred` → `accepted`."
);
transition_handler!(
    reject_request,
    Action::Reject,
    "/api/v1/service-requests/{request_id}/reject",
    "Reject a referral",
    "Partner: `referred` → `rejected` (staff may refer it elsewhere)."
);
transition_handler!(
    start_request,
    Action::Start,
    "/api/v1/service-requests/{request_id}/start",
    "Start the service",
    "Partner: `accepted` → `in_progress`."
);
transition_handler!(
    complete_request,
    Action::Complete,
    "/api/v1/service-requests/{request_id}/complete",
    "Complete the service",
    "Partner: `in_progress` → `completed`."
);
transition_handler!(
    decline_request,
    Action::Decline,
    "/api/v1/service-requests/{request_id}/decline",
    "Decline to continue",
    "Partner: `accepted` or `in_progress` → `declined`."
);
transition_handler!(
    withdraw_request,
    Action::Withdraw,
    "/api/v1/service-requests/{request_id}/withdraw",
    "Withdraw a request",
    "Family: any open request → `withdrawn`."
);
transition_handler!(
    cancel_request,
    Action::Cancel,
    "/api/v1/service-requests/{request_id}/cancel",
    "Cancel a request",
    "Staff: any open request → `cancelled`."
);

// Notes ---------------------------------------------------------------------------------------

/// A note on a request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9400-7000-8000-000000020001", "request_id": "01936d4e-9300-7000-8000-000000010001",
    "visibility": "family", "body": "Su primera cita es el martes a las 3 pm. / Your first appointment is Tuesday at 3 pm.",
    "party": "partner", "created_at": "2026-11-25T08:41:42.123456Z"}))]
pub struct NoteResponse {
    pub id: Uuid,
    pub request_id: Uuid,
    pub visibility: Visibility,
    pub body: String,
    /// Which side wrote it.
    pub party: String,
    pub created_at: DateTime<Utc>,
}

fn note_response(n: Note) -> Result<NoteResponse, ApiError> {
    Ok(NoteResponse {
        id: uuid_of("note id", &n.id)?,
        request_id: uuid_of("request id", &n.request_id)?,
        visibility: Visibility::parse(&n.visibility)
            .ok_or_else(|| ApiError::Internal("stored visibility".to_owned()))?,
        body: n.body,
        party: n.party,
        created_at: n.created_at.and_utc(),
    })
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"visibility": "family", "body": "¿Pueden llamarme después de las 5? / Can you call me after 5?"}))]
pub struct CreateNote {
    /// `family`: everyone who sees the request; `partner`: staff and the partner; `staff`: staff
    /// only. Families write `family` notes only.
    pub visibility: Visibility,
    #[validate(custom(function = "note_text"))]
    #[schema(min_length = 1, max_length = 4000)]
    pub body: String,
}

#[derive(Serialize, ToSchema)]
pub struct NoteList {
    pub items: Vec<NoteResponse>,
    pub next_cursor: Option<String>,
}

/// List a request's notes
///
/// Only the notes the caller may read: a family never sees `staff` or `partner` notes.
#[utoipa::path(get, path = "/api/v1/service-requests/{request_id}/notes", tag = "services",
    params(("request_id" = Uuid, Path, description = "The request's id"), PageParams),
    responses(
        (status = 200, description = "Notes, oldest first.", body = NoteList),
        super::problems::NestedListErrors))]
pub async fn list_notes(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = cmd::list_notes(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |n| &n.id);
    let items = rows
        .into_iter()
        .map(note_response)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Add a note to a request
#[utoipa::path(post, path = "/api/v1/service-requests/{request_id}/notes", tag = "services", request_body = CreateNote,
    params(("request_id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 403, response = super::problems::Forbidden),
        (status = 201, description = "Added.", body = NoteResponse,
            headers(("Location" = String, description = "URL of the request's notes"), ("ETag" = String, description = "Version tag"))),
        (status = 404, response = super::problems::NotFound),
        super::problems::BodyErrors))]
pub async fn add_note(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateNote>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let request_id = id.into_inner().to_string();
    let n = cmd::add_note(&ctx, &state.db, request_id.clone(), b.visibility, b.body).await?;
    let version = n.version;
    let location = format!("/api/v1/service-requests/{request_id}/notes");
    Ok(created_response(
        location,
        &note_response(n)?,
        version,
        CACHE_NONE,
    ))
}

// Consents and disclosures --------------------------------------------------------------------

/// A consent to disclose a request's records to a partner organization (FERPA 99.30).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9500-7000-8000-000000030001", "request_id": "01936d4e-9300-7000-8000-000000010001",
    "partner_id": "01936d4e-9100-7000-8000-00000000e001", "records": "Solicitud de servicio y respuestas / Service request and answers",
    "purpose": "Ayuda con alimentos / Food assistance", "giver": "parent", "given_by_name": "María López",
    "given_on": "2026-11-25", "provider_attestation": false, "parent_involvement": null, "in_force": true,
    "withdrawn_at": null, "created_at": "2026-11-25T08:41:42.123456Z", "version": 1}))]
pub struct ConsentResponse {
    pub id: Uuid,
    pub request_id: Uuid,
    /// The recipient.
    pub partner_id: Uuid,
    /// Which records may be disclosed.
    pub records: String,
    pub purpose: String,
    pub giver: Giver,
    pub given_by_name: String,
    pub given_on: NaiveDate,
    pub provider_attestation: bool,
    pub parent_involvement: Option<String>,
    pub in_force: bool,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

fn consent_response(c: Consent) -> Result<ConsentResponse, ApiError> {
    Ok(ConsentResponse {
        id: uuid_of("consent id", &c.id)?,
        request_id: uuid_of("request id", &c.request_id)?,
        partner_id: uuid_of("partner id", &c.partner_id)?,
        records: c.records,
        purpose: c.purpose,
        giver: Giver::parse(&c.giver)
            .ok_or_else(|| ApiError::Internal("stored giver".to_owned()))?,
        given_by_name: c.given_by_name,
        given_on: c.given_on,
        provider_attestation: c.provider_attestation,
        parent_involvement: c.parent_involvement,
        in_force: c.withdrawn_at.is_none(),
        withdrawn_at: c.withdrawn_at.map(|t| t.and_utc()),
        created_at: c.created_at.and_utc(),
        version: c.version,
    })
}

fn consent_text(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() || value.chars().count() > 1000 {
        let mut e = ValidationError::new("length");
        e.message = Some("must be 1 to 1000 characters".into());
        return Err(e);
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"partner_id": "01936d4e-9100-7000-8000-00000000e001",
    "records": "Solicitud de servicio y respuestas / Service request and answers",
    "purpose": "Ayuda con alimentos / Food assistance", "giver": "parent", "given_by_name": "María López"}))]
pub struct CreateConsent {
    /// The recipient.
    pub partner_id: Uuid,
    /// Which records may be disclosed.
    #[validate(custom(function = "consent_text"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub records: String,
    #[validate(custom(function = "consent_text"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub purpose: String,
    /// `parent`, or `student` (from 18; from 12 for outpatient mental health with the provider's
    /// attestation and parent-involvement decision).
    pub giver: Giver,
    /// The signer's name as signed.
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub given_by_name: String,
    /// Defaults to today.
    pub given_on: Option<NaiveDate>,
    /// The provider attests the minor is mature enough to participate (Fam. Code 6924).
    #[serde(default)]
    pub provider_attestation: bool,
    /// The provider's decision on involving the parent and why (H&S 124260(c)).
    #[validate(custom(function = "consent_text"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub parent_involvement: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentList {
    pub items: Vec<ConsentResponse>,
    pub next_cursor: Option<String>,
}

/// List a request's consents
#[utoipa::path(get, path = "/api/v1/service-requests/{request_id}/consents", tag = "services",
    params(("request_id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 403, response = super::problems::Forbidden),
        (status = 200, description = "Consents, oldest first.", body = ConsentList),
        super::problems::ReadErrors))]
pub async fn list_consents(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rows = cmd::list_consents(&ctx, &state.db, &id.into_inner().to_string())?;
    let items = rows
        .into_iter()
        .map(consent_response)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, None))
}

/// Record a consent
///
/// By the family, or by staff from a signed form. Refused with 409 `consent-not-valid` when the
/// giver cannot consent for the student's age.
#[utoipa::path(post, path = "/api/v1/service-requests/{request_id}/consents", tag = "services", request_body = CreateConsent,
    params(("request_id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 403, response = super::problems::Forbidden),
        (status = 201, description = "Recorded.", body = ConsentResponse,
            headers(("Location" = String, description = "URL of the request's consents"), ("ETag" = String, description = "Version tag"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn give_consent(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateConsent>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let request_id = id.into_inner().to_string();
    let input = cmd::NewConsent {
        partner_id: b.partner_id.to_string(),
        records: b.records,
        purpose: b.purpose,
        giver: b.giver,
        given_by_name: b.given_by_name,
        given_on: b.given_on,
        provider_attestation: b.provider_attestation,
        parent_involvement: b.parent_involvement,
    };
    let c = cmd::give_consent(&ctx, &state.db, request_id.clone(), input).await?;
    let version = c.version;
    let location = format!("/api/v1/service-requests/{request_id}/consents");
    Ok(created_response(
        location,
        &consent_response(c)?,
        version,
        CACHE_NONE,
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"partner_id": "01936d4e-9100-7000-8000-00000000e001",
    "basis": "health_or_safety_emergency",
    "threat": "El estudiante dijo que no tiene dónde dormir esta noche / The student said they have nowhere to sleep tonight",
    "records": "Solicitud de servicio / Service request", "purpose": "Alojamiento de emergencia / Emergency shelter"}))]
pub struct CreateException {
    /// The recipient.
    pub partner_id: Uuid,
    pub basis: ExceptionBasis,
    /// Required for `health_or_safety_emergency`: the articulable and significant threat.
    #[validate(custom(function = "consent_text"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub threat: Option<String>,
    /// Required for `school_official`: the legitimate educational interest.
    #[validate(custom(function = "consent_text"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub legitimate_interest: Option<String>,
    /// Which records may be disclosed.
    #[validate(custom(function = "consent_text"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub records: String,
    #[validate(custom(function = "consent_text"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub purpose: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9700-7000-8000-000000050001", "request_id": "01936d4e-9300-7000-8000-000000010001",
    "partner_id": "01936d4e-9100-7000-8000-00000000e001", "basis": "school_official", "threat": null,
    "legitimate_interest": "Tutoría contratada por la escuela / Tutoring the school contracts for",
    "records": "Solicitud de servicio / Service request", "purpose": "Tutoría / Tutoring",
    "recorded_at": "2026-11-25T09:10:00.000001Z"}))]
pub struct ExceptionResponse {
    pub id: Uuid,
    pub request_id: Uuid,
    pub partner_id: Uuid,
    pub basis: ExceptionBasis,
    pub threat: Option<String>,
    pub legitimate_interest: Option<String>,
    pub records: String,
    pub purpose: String,
    /// Who recorded it (staff and district admins see it; families see null).
    pub recorded_by: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

fn exception_response(
    e: crate::db::services::DisclosureException,
    staff: bool,
) -> Result<ExceptionResponse, ApiError> {
    Ok(ExceptionResponse {
        id: uuid_of("exception id", &e.id)?,
        request_id: uuid_of("request id", &e.request_id)?,
        partner_id: uuid_of("partner id", &e.partner_id)?,
        basis: ExceptionBasis::parse(&e.basis)
            .ok_or_else(|| ApiError::Internal("stored exception basis".to_owned()))?,
        threat: e.threat,
        legitimate_interest: e.legitimate_interest,
        records: e.records,
        purpose: e.purpose,
        recorded_by: staff.then_some(e.recorded_by),
        recorded_at: e.created_at.and_utc(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct ExceptionList {
    pub items: Vec<ExceptionResponse>,
    pub next_cursor: Option<String>,
}

/// Record a FERPA exception
///
/// Staff of the request's school record why the request may be referred to a partner without
/// consent (FERPA 99.31): a health or safety emergency (with the threat) or a school official
/// with a legitimate educational interest. Kept as written (no change, no delete); each referral
/// under it writes a disclosure record naming it, which the family reads.
#[utoipa::path(post, path = "/api/v1/service-requests/{request_id}/exceptions", tag = "services", request_body = CreateException,
    params(("request_id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 403, response = super::problems::Forbidden),
        (status = 201, description = "Recorded.", body = ExceptionResponse,
            headers(("Location" = String, description = "URL of the request's exceptions"), ("ETag" = String, description = "Version tag"))),
        (status = 404, response = super::problems::NotFound),
        super::problems::BodyErrors))]
pub async fn record_exception(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateException>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let request_id = id.into_inner().to_string();
    let input = cmd::NewException {
        partner_id: b.partner_id.to_string(),
        basis: b.basis,
        threat: b.threat,
        legitimate_interest: b.legitimate_interest,
        records: b.records,
        purpose: b.purpose,
    };
    let e = cmd::record_exception(&ctx, &state.db, request_id.clone(), input).await?;
    let version = e.version;
    let location = format!("/api/v1/service-requests/{request_id}/exceptions");
    Ok(created_response(
        location,
        &exception_response(e, true)?,
        version,
        CACHE_NONE,
    ))
}

/// List a request's FERPA exceptions
///
/// Staff and the family (who sees them without who recorded them).
#[utoipa::path(get, path = "/api/v1/service-requests/{request_id}/exceptions", tag = "services",
    params(("request_id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 403, response = super::problems::Forbidden),
        (status = 200, description = "Exceptions, oldest first.", body = ExceptionList),
        super::problems::ReadErrors))]
pub async fn list_exceptions(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (rows, staff) = cmd::list_exceptions(&ctx, &state.db, &id.into_inner().to_string())?;
    let items = rows
        .into_iter()
        .map(|e| exception_response(e, staff))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, None))
}

/// Withdraw a consent
///
/// The partner organization loses access to the request at once.
#[utoipa::path(post, path = "/api/v1/service-requests/{request_id}/consents/{consent_id}/withdraw", tag = "services",
    params(("request_id" = Uuid, Path, description = "The request's id"),
           ("consent_id" = Uuid, Path, description = "The consent's id")),
    responses(
        (status = 403, response = super::problems::Forbidden),
        (status = 200, description = "The withdrawn consent.", body = ConsentResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ReadErrors))]
pub async fn withdraw_consent(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (request_id, consent_id) = path.into_inner();
    let c = cmd::withdraw_consent(
        &ctx,
        &state.db,
        request_id.to_string(),
        consent_id.to_string(),
    )
    .await?;
    let version = c.version;
    Ok(updated_response(&consent_response(c)?, version, CACHE_NONE))
}

/// A disclosure of a request's records to a partner (FERPA 99.32), kept with the request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9600-7000-8000-000000040001", "request_id": "01936d4e-9300-7000-8000-000000010001",
    "partner_id": "01936d4e-9100-7000-8000-00000000e001", "consent_id": "01936d4e-9500-7000-8000-000000030001",
    "records": "Solicitud de servicio y respuestas / Service request and answers", "purpose": "Ayuda con alimentos / Food assistance",
    "disclosed_at": "2026-11-25T09:12:03.000001Z", "basis": "consent", "exception_id": null,
    "threat": null, "legitimate_interest": null}))]
pub struct DisclosureResponse {
    pub id: Uuid,
    pub request_id: Uuid,
    /// The recipient.
    pub partner_id: Uuid,
    /// The consent the disclosure was made under (basis `consent`).
    pub consent_id: Option<Uuid>,
    pub records: String,
    pub purpose: String,
    pub disclosed_at: DateTime<Utc>,
    /// What allowed it: `consent`, or a recorded FERPA exception
    /// (`health_or_safety_emergency`, `school_official`).
    #[schema(value_type = String, pattern = "^(consent|health_or_safety_emergency|school_official)$")]
    pub basis: String,
    /// The recorded exception (when not `consent`).
    pub exception_id: Option<Uuid>,
    /// The threat that made it a health or safety emergency.
    pub threat: Option<String>,
    /// The school official's legitimate educational interest.
    pub legitimate_interest: Option<String>,
}

fn disclosure_response(d: Disclosure) -> Result<DisclosureResponse, ApiError> {
    Ok(DisclosureResponse {
        id: uuid_of("disclosure id", &d.id)?,
        request_id: uuid_of("request id", &d.request_id)?,
        partner_id: uuid_of("partner id", &d.partner_id)?,
        consent_id: opt_uuid("consent id", d.consent_id.as_deref())?,
        records: d.records,
        purpose: d.purpose,
        disclosed_at: d.disclosed_at.and_utc(),
        basis: d.basis,
        exception_id: opt_uuid("exception id", d.exception_id.as_deref())?,
        threat: d.threat,
        legitimate_interest: d.legitimate_interest,
    })
}

#[derive(Serialize, ToSchema)]
pub struct DisclosureList {
    pub items: Vec<DisclosureResponse>,
    pub next_cursor: Option<String>,
}

/// A request's disclosure record
///
/// Every disclosure of the request's records to a partner, for the family and staff.
#[utoipa::path(get, path = "/api/v1/service-requests/{request_id}/disclosures", tag = "services",
    params(("request_id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 403, response = super::problems::Forbidden),
        (status = 200, description = "Disclosures, oldest first.", body = DisclosureList),
        super::problems::ReadErrors))]
pub async fn list_disclosures(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rows = cmd::list_disclosures(&ctx, &state.db, &id.into_inner().to_string())?;
    let items = rows
        .into_iter()
        .map(disclosure_response)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, None))
}

/// One request in a family's export.
#[derive(Serialize, ToSchema)]
pub struct ExportedRequest {
    pub request: RequestResponse,
    pub notes: Vec<NoteResponse>,
    pub consents: Vec<ConsentResponse>,
    pub disclosures: Vec<DisclosureResponse>,
}

/// A family's export.
#[derive(Serialize, ToSchema)]
pub struct FamilyExport {
    pub exported_at: DateTime<Utc>,
    pub items: Vec<ExportedRequest>,
}

/// Export my service requests
///
/// Everything a family may see of its own requests, as one JSON document: each request with
/// its status history, family notes, consents and disclosure record.
#[utoipa::path(get, path = "/api/v1/service-requests/export", tag = "services",
    responses(
        (status = 200, description = "The caller's requests (at most 1000).", body = FamilyExport),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn export_requests(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
) -> Result<HttpResponse, ApiError> {
    let rows = cmd::export_family(&ctx, &state.db)?;
    let items = rows
        .into_iter()
        .map(|e| {
            Ok(ExportedRequest {
                request: request_response(e.request)?,
                notes: e
                    .notes
                    .into_iter()
                    .map(note_response)
                    .collect::<Result<_, ApiError>>()?,
                consents: e
                    .consents
                    .into_iter()
                    .map(consent_response)
                    .collect::<Result<_, ApiError>>()?,
                disclosures: e
                    .disclosures
                    .into_iter()
                    .map(disclosure_response)
                    .collect::<Result<_, ApiError>>()?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_NONE))
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"service-requests.json\"",
        ))
        .json(FamilyExport {
            exported_at: Utc::now(),
            items,
        }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"closed_before": "2025-07-01"}))]
pub struct AnonymiseBody {
    /// Anonymise requests closed (last changed) before this day (UTC).
    pub closed_before: NaiveDate,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"anonymised": 42}))]
pub struct AnonymiseResult {
    /// How many requests were anonymised by this run (at most 1000; run again for more).
    pub anonymised: usize,
}

/// Anonymise closed service requests
///
/// The retention run: removes the personal text of requests closed before a day (subject code,
/// birth date, family link, description, answers, note bodies, signers' names); their status
/// history and disclosure records stay.
#[utoipa::path(post, path = "/api/v1/service-requests/anonymise", tag = "services", request_body = AnonymiseBody,
    responses(
        (status = 200, description = "How many requests were anonymised.", body = AnonymiseResult),
        super::problems::BodyErrors))]
pub async fn anonymise_requests(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<AnonymiseBody>,
) -> Result<HttpResponse, ApiError> {
    let closed_before = body.into_inner().closed_before;
    if closed_before > Utc::now().date_naive() {
        return Err(ApiError::validation(
            "closed_before",
            "must not be in the future",
        ));
    }
    let anonymised = cmd::anonymise_closed(&ctx, &state.db, closed_before).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_NONE))
        .json(AnonymiseResult { anonymised }))
}
