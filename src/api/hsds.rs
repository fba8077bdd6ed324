//! The partner-service directory as Open Referral HSDS 3.0 under `/hsds/`: which organization
//! offers which service at which school, so a county 211 or a referral platform can read it
//! without a custom integration. Read-only and public; never anything about a family or a
//! request. An HSDS service is one organization's offering of one category; the schools where
//! it is offered are its service areas.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::services::pick;
use crate::commands::services::{self as cmd, Directory};
use crate::error::ApiError;
use crate::state::AppState;

const CACHE_PUBLIC: &str = "public, max-age=300, stale-while-revalidate=60";

/// The API root: which HSDS version and profile this is.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"version": "3.0", "profile": "https://openreferral.org/hsds/3.0",
    "openapi_url": "/api/v1/openapi.json"}))]
pub struct HsdsRoot {
    pub version: String,
    pub profile: String,
    pub openapi_url: String,
}

/// An organization offering services.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9100-7000-8000-00000000e001", "name": "Eastside Family Resource Center",
    "description": "Ayuda con alimentos / Food assistance", "email": "referrals@eastside-frc.example.org",
    "phones": [{"id": "8d3c7a0e-5b1f-8e21-9a44-3f0d2c6b7e15", "number": "+1 213 555 0199"}]}))]
pub struct HsdsOrganization {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Absent when the organization gave none (HSDS has no null values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub phones: Vec<HsdsPhone>,
}

#[derive(Serialize, ToSchema)]
pub struct HsdsPhone {
    /// Stable UUID derived from the organization id.
    #[schema(format = Uuid)]
    pub id: String,
    pub number: String,
}

/// A language the service is described in.
#[derive(Serialize, ToSchema)]
pub struct HsdsLanguage {
    /// Stable UUID derived from the service id and the language code.
    #[schema(format = Uuid)]
    pub id: String,
    /// The language's English name.
    pub name: String,
    /// BCP 47 / ISO 639-1 code, e.g. `es`.
    pub code: String,
}

/// A school where a service is offered.
#[derive(Serialize, ToSchema)]
pub struct HsdsServiceArea {
    pub id: String,
    pub name: String,
}

/// One organization's offering of one service category.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "5f0c2d9a-7e43-8b1d-a2c6-90e4b7d13f58",
    "organization_id": "01936d4e-9100-7000-8000-00000000e001", "name": "Food assistance",
    "description": "Groceries and meal programs for your family.", "status": "active",
    "languages": [{"id": "0b7e9c14-2a65-8f30-b1d8-6c4e5a9f2d07", "name": "English", "code": "en"},
        {"id": "c4a1f7e2-93d0-8b56-8e2f-17d6b0a3c948", "name": "Spanish", "code": "es"}],
    "service_areas": [{"id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e0001", "name": "Roosevelt Elementary"}]}))]
pub struct HsdsService {
    /// Stable UUID derived from the organization id and the service category id.
    #[schema(format = Uuid)]
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    /// Languages the catalog describes the service in.
    pub languages: Vec<HsdsLanguage>,
    pub service_areas: Vec<HsdsServiceArea>,
}

#[derive(Serialize, ToSchema)]
pub struct HsdsServicePage {
    pub total_items: i64,
    pub total_pages: i64,
    pub page_number: i64,
    pub size: i64,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
    pub contents: Vec<HsdsService>,
}

#[derive(Serialize, ToSchema)]
pub struct HsdsOrganizationPage {
    pub total_items: i64,
    pub total_pages: i64,
    pub page_number: i64,
    pub size: i64,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
    pub contents: Vec<HsdsOrganization>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HsdsPageParams {
    /// Page number, from 1 (default 1).
    #[param(minimum = 1, maximum = 100000, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
}

fn page_of<T>(items: Vec<T>, params: &HsdsPageParams) -> Result<(Vec<T>, [i64; 4]), ApiError> {
    let size = params.per_page.unwrap_or(50);
    if !(1..=200).contains(&size) {
        return Err(ApiError::validation("per_page", "must be 1 to 200"));
    }
    let page = params.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(ApiError::validation("page", "must be 1 to 100000"));
    }
    let total = items.len() as i64;
    let pages = (total + size - 1) / size;
    let contents = items
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    Ok((contents, [total, pages, page, size]))
}

/// A stable UUID (version 8) for an HSDS record cogov has no row for, derived from the ids it
/// stands for, so that it is the same on every request and every instance.
fn derived_id(kind: &str, parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"cogov-hsds:");
    hash.update(kind.as_bytes());
    for part in parts {
        hash.update(b":");
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes).to_string()
}

fn language_name(code: &str) -> String {
    match code.split('-').next().unwrap_or(code) {
        "en" => "English".to_owned(),
        "es" => "Spanish".to_owned(),
        "zh" => "Chinese".to_owned(),
        "vi" => "Vietnamese".to_owned(),
        "ko" => "Korean".to_owned(),
        "tl" => "Tagalog".to_owned(),
        _ => code.to_owned(),
    }
}

fn services(dir: &Directory) -> Vec<HsdsService> {
    let mut out = Vec::new();
    for p in &dir.partners {
        for c in &dir.categories {
            let schools: Vec<HsdsServiceArea> = p
                .offerings
                .iter()
                .filter(|o| o.category_id == c.row.id)
                .filter_map(|o| dir.schools.iter().find(|s| s.id == o.school_id))
                .map(|s| HsdsServiceArea {
                    id: s.id.clone(),
                    name: s.name.clone(),
                })
                .collect();
            if schools.is_empty() {
                continue;
            }
            let id = derived_id("service", &[&p.row.id, &c.row.id]);
            let languages = c
                .names
                .keys()
                .map(|code| HsdsLanguage {
                    id: derived_id("language", &[&id, code]),
                    name: language_name(code),
                    code: code.clone(),
                })
                .collect();
            out.push(HsdsService {
                id,
                organization_id: p.row.id.clone(),
                name: pick(&c.names, None).unwrap_or_default(),
                description: pick(&c.descriptions, None).unwrap_or_default(),
                status: "active".to_owned(),
                languages,
                service_areas: schools,
            });
        }
    }
    out
}

/// HSDS API root
#[utoipa::path(get, path = "/hsds/", tag = "directory",
    responses(
        (status = 200, description = "The HSDS version and profile.", body = HsdsRoot),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn root() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_PUBLIC))
        .json(HsdsRoot {
            version: "3.0".to_owned(),
            profile: "https://openreferral.org/hsds/3.0".to_owned(),
            openapi_url: "/api/v1/openapi.json".to_owned(),
        })
}

/// HSDS services
///
/// Each active organization's offering of each active category, with the schools where it is
/// offered.
#[utoipa::path(get, path = "/hsds/services", tag = "directory", params(HsdsPageParams),
    responses(
        (status = 200, description = "A page of services.", body = HsdsServicePage),
        super::problems::ListErrors))]
pub async fn list_services(
    state: web::Data<AppState>,
    params: web::Query<HsdsPageParams>,
) -> Result<HttpResponse, ApiError> {
    let dir = cmd::directory(&state.db)?;
    let (contents, [total_items, total_pages, page_number, size]) =
        page_of(services(&dir), &params)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_PUBLIC))
        .json(HsdsServicePage {
            total_items,
            total_pages,
            page_number,
            size,
            first_page: page_number == 1,
            last_page: page_number >= total_pages,
            empty: contents.is_empty(),
            contents,
        }))
}

/// HSDS service
#[utoipa::path(get, path = "/hsds/services/{service_id}", tag = "directory",
    params(("service_id" = String, Path, max_length = 200, description = "`<organization id>.<category code>`")),
    responses(
        (status = 200, description = "The service.", body = HsdsService),
        super::problems::ReadErrors))]
pub async fn find_service(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let dir = cmd::directory(&state.db)?;
    let service = services(&dir)
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::not_found("service", &id))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_PUBLIC))
        .json(service))
}

/// HSDS organizations
#[utoipa::path(get, path = "/hsds/organizations", tag = "directory", params(HsdsPageParams),
    responses(
        (status = 200, description = "A page of organizations.", body = HsdsOrganizationPage),
        super::problems::ListErrors))]
pub async fn list_organizations(
    state: web::Data<AppState>,
    params: web::Query<HsdsPageParams>,
) -> Result<HttpResponse, ApiError> {
    let dir = cmd::directory(&state.db)?;
    let all = services(&dir);
    let orgs = dir
        .partners
        .iter()
        .map(|p| {
            let offered: Vec<&str> = all
                .iter()
                .filter(|s| s.organization_id == p.row.id)
                .map(|s| s.name.as_str())
                .collect();
            HsdsOrganization {
                id: p.row.id.clone(),
                name: p.row.name.clone(),
                description: offered.join(", "),
                email: p.row.contact_email.clone(),
                phones: p
                    .row
                    .contact_phone
                    .iter()
                    .map(|n| HsdsPhone {
                        id: derived_id("phone", &[&p.row.id]),
                        number: n.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    let (contents, [total_items, total_pages, page_number, size]) = page_of(orgs, &params)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_PUBLIC))
        .json(HsdsOrganizationPage {
            total_items,
            total_pages,
            page_number,
            size,
            first_page: page_number == 1,
            last_page: page_number >= total_pages,
            empty: contents.is_empty(),
            contents,
        }))
}
