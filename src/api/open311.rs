//! The Open311 GeoReport v2 facade under `/open311/v2/`: service discovery from the catalog, so
//! a 311 or civic-tech app lists cogov's services and the questions each asks with no custom
//! integration; and service requests filed, listed and read through the same commands as
//! `/api/v1/service-requests`. JSON only (`.json` paths; `.xml` paths are 406).
//!
//! Requests are about students, so every request operation needs a signed-in caller: the
//! GeoReport `api_key` is the caller's bearer token (`Authorization: Bearer`). Without one the
//! answer is 403 with a GeoReport error array; other errors are problem documents naming the
//! field, as everywhere in cogov.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::services::pick;
use crate::auth::Caller;
use crate::commands::services::{self as cmd, CategoryRecord};
use crate::commands::Context;
use crate::domain::services::Datatype;
use crate::error::ApiError;
use crate::state::AppState;

const CACHE_PUBLIC: &str = "public, max-age=300, stale-while-revalidate=60";

/// The most catalog categories the facade lists (a district has tens).
const MAX_SERVICES: i64 = 10_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Open311Params {
    /// Accepted and ignored: cogov serves one district.
    #[param(max_length = 64)]
    pub jurisdiction_id: Option<String>,
    /// BCP 47 language of names and descriptions (default `en`; falls back to English).
    #[param(max_length = 35, example = "es")]
    pub lang: Option<String>,
}

impl Open311Params {
    fn check(&self) -> Result<(), ApiError> {
        if self
            .jurisdiction_id
            .as_ref()
            .is_some_and(|j| j.chars().count() > 64)
        {
            return Err(ApiError::validation(
                "jurisdiction_id",
                "must be at most 64 characters",
            ));
        }
        if let Some(lang) = &self.lang {
            super::fields::language(lang)
                .map_err(|_| ApiError::validation("lang", "must be a BCP 47 language tag"))?;
        }
        Ok(())
    }
}

/// One service of the list (GeoReport v2 `services`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"service_code": "food-assistance", "service_name": "Ayuda con alimentos",
    "description": "Despensa y comidas.", "metadata": true, "type": "batch", "keywords": "",
    "group": "integrated_student_supports"}))]
pub struct Open311Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// `true` when the service has attributes (read its definition).
    pub metadata: bool,
    /// Always `batch`: staff triage each request.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub keywords: String,
    /// The community-school pillar.
    pub group: String,
}

/// One choice of a list attribute.
#[derive(Debug, Serialize, ToSchema)]
pub struct Open311Value {
    pub key: String,
    pub name: String,
}

/// One question of a service definition.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"variable": true, "code": "household_size", "datatype": "number",
    "required": true, "datatype_description": null, "order": 1,
    "description": "¿Cuántas personas viven en el hogar?", "values": []}))]
pub struct Open311Attribute {
    pub variable: bool,
    pub code: String,
    /// `string`, `text`, `number`, `datetime`, `singlevaluelist`, `multivaluelist` (a cogov
    /// `date` attribute is `datetime`, answered as a calendar date `YYYY-MM-DD`).
    pub datatype: String,
    pub required: bool,
    pub datatype_description: Option<String>,
    pub order: usize,
    pub description: String,
    pub values: Vec<Open311Value>,
}

/// A service definition (GeoReport v2 `services/{service_code}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Open311Definition {
    pub service_code: String,
    pub attributes: Vec<Open311Attribute>,
}

fn name_in(map: &BTreeMap<String, String>, lang: Option<&str>) -> String {
    pick(map, lang).unwrap_or_default()
}

fn service(c: &CategoryRecord, lang: Option<&str>) -> Open311Service {
    Open311Service {
        service_code: c.row.code.clone(),
        service_name: name_in(&c.names, lang),
        description: name_in(&c.descriptions, lang),
        metadata: !c.attributes.is_empty(),
        kind: "batch".to_owned(),
        keywords: String::new(),
        group: c.row.pillar.clone().unwrap_or_default(),
    }
}

fn definition(c: &CategoryRecord, lang: Option<&str>) -> Open311Definition {
    Open311Definition {
        service_code: c.row.code.clone(),
        attributes: c
            .attributes
            .iter()
            .enumerate()
            .map(|(i, a)| Open311Attribute {
                variable: true,
                code: a.code.clone(),
                datatype: match a.datatype {
                    Datatype::String => "string",
                    Datatype::Text => "text",
                    Datatype::Number => "number",
                    Datatype::Date => "datetime",
                    Datatype::Singlevaluelist => "singlevaluelist",
                    Datatype::Multivaluelist => "multivaluelist",
                }
                .to_owned(),
                required: a.required,
                datatype_description: (a.datatype == Datatype::Date)
                    .then(|| "A calendar date, YYYY-MM-DD".to_owned()),
                order: i + 1,
                description: name_in(&a.description, lang),
                values: a
                    .values
                    .iter()
                    .map(|v| Open311Value {
                        key: v.key.clone(),
                        name: name_in(&v.name, lang),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Open311 service list
///
/// The active categories of the catalog as GeoReport v2 services, in the language asked.
#[utoipa::path(get, path = "/open311/v2/services.json", tag = "open311", params(Open311Params),
    responses(
        (status = 200, description = "The services.", body = [Open311Service]),
        super::problems::ListErrors))]
pub async fn list_services(
    state: web::Data<AppState>,
    params: web::Query<Open311Params>,
) -> Result<HttpResponse, ApiError> {
    params.check()?;
    let lang = params.lang.as_deref();
    let list: Vec<Open311Service> =
        cmd::list_categories(&state.db, Some(true), None, MAX_SERVICES)?
            .iter()
            .map(|c| service(c, lang))
            .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_PUBLIC))
        .json(list))
}

/// Open311 service definition
///
/// The questions a request of the service answers (`attribute[code]` in GeoReport v2), with
/// their types, whether required, and the keys of list values.
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.json", tag = "open311",
    params(("service_code" = String, Path, max_length = 64, description = "The catalog category's code"), Open311Params),
    responses(
        (status = 200, description = "The definition.", body = Open311Definition),
        super::problems::NestedListErrors))]
pub async fn find_service(
    state: web::Data<AppState>,
    code: web::Path<String>,
    params: web::Query<Open311Params>,
) -> Result<HttpResponse, ApiError> {
    params.check()?;
    let code = code.into_inner();
    let found = cmd::list_categories(&state.db, Some(true), None, MAX_SERVICES)?
        .into_iter()
        .find(|c| c.row.code == code)
        .ok_or_else(|| ApiError::not_found("service", &code))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_PUBLIC))
        .json(definition(&found, params.lang.as_deref())))
}

// ---------------------------------------------------------------------------------------------
// Service requests

/// One error of a GeoReport v2 error array.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": 403, "description": "an api_key is required: send your cogov bearer token as Authorization: Bearer <token>"}))]
pub struct Open311Error {
    pub code: u16,
    pub description: String,
}

/// The GeoReport answer to a request without a key: requests are about students and are never
/// public.
fn key_required() -> HttpResponse {
    let mut res = HttpResponse::Forbidden()
        .insert_header((header::CACHE_CONTROL, super::preconditions::CACHE_NONE))
        .json([Open311Error {
            code: 403,
            description: "an api_key is required: send your cogov bearer token as \
                          Authorization: Bearer <token> (service requests are never public)"
                .to_owned(),
        }]);
    res.extensions_mut()
        .insert(super::problems::ForeignErrorFormat);
    res
}

/// The caller when signed in (else the answer is [`key_required`]).
fn keyed(ctx: Context) -> Option<Context> {
    ctx.caller.is_authenticated().then_some(ctx)
}

/// A new request as a GeoReport v2 form (`application/x-www-form-urlencoded`). Documented for
/// the schema; the body is read field by field so that `attribute[code]` keys can repeat.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"service_code": "food-assistance", "school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e0001",
    "subject_code": "STU-204518", "description": "Necesitamos ayuda con comida para la familia.",
    "attribute[household_size]": "5", "attribute[needs][]": "pantry", "preferred_language": "es"}))]
pub struct Open311RequestForm {
    /// The service (catalog category) code.
    #[schema(max_length = 64)]
    pub service_code: String,
    /// cogov extension: the school the request is for.
    pub school_id: Uuid,
    /// cogov extension: the district code of the student or family (never a name).
    #[schema(min_length = 1, max_length = 64)]
    pub subject_code: String,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Answers as `attribute[<code>]=value`; a `multivaluelist` repeats `attribute[<code>][]=key`.
    #[serde(rename = "attribute[code]")]
    #[schema(rename = "attribute[code]", max_length = 4000)]
    pub attribute: Option<String>,
    /// cogov extension (default `en`).
    #[schema(max_length = 35, default = "en")]
    pub preferred_language: Option<String>,
    /// cogov extension: `app` (default), `email`, `phone` or `text`.
    pub contact_method: Option<super::services::ContactMethod>,
    /// cogov extension: `routine` (default), `soon` or `urgent`.
    pub urgency: Option<super::services::Urgency>,
    /// Accepted and ignored: the key is the bearer token in `Authorization`.
    #[schema(max_length = 4096)]
    pub api_key: Option<String>,
    /// Accepted and ignored: cogov serves one district.
    #[schema(max_length = 64)]
    pub jurisdiction_id: Option<String>,
}

/// What POST answers for each new request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"service_request_id": "01936d4e-9300-7000-8000-000000010001",
    "service_notice": "Recibido: el personal de la escuela lo revisará. / Received: school staff will review it.",
    "account_id": null}))]
pub struct Open311Created {
    pub service_request_id: Uuid,
    pub service_notice: String,
    pub account_id: Option<String>,
}

/// A request as GeoReport v2 shows it. Location fields are always `null`: cogov never publishes
/// where a family lives.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"service_request_id": "01936d4e-9300-7000-8000-000000010001", "status": "open",
    "status_notes": "referred", "service_name": "Ayuda con alimentos", "service_code": "food-assistance",
    "description": "Necesitamos ayuda con comida para la familia.", "agency_responsible": "01936d4e-9100-7000-8000-00000000e001",
    "service_notice": null, "requested_datetime": "2026-11-25T08:41:42.123456Z",
    "updated_datetime": "2026-11-25T09:12:03.000001Z", "expected_datetime": null, "address": null,
    "address_id": null, "zipcode": null, "lat": null, "long": null, "media_url": null}))]
pub struct Open311ServiceRequest {
    pub service_request_id: Uuid,
    /// `open` or `closed` (closed: completed, declined, withdrawn, cancelled or rejected).
    #[schema(pattern = "^(open|closed)$")]
    pub status: String,
    /// cogov's finer status (`submitted`, `triaged`, `referred`, `accepted`, `in_progress`, ...).
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    /// `null` in lists for sensitive services (read the one request).
    pub description: Option<String>,
    /// The id of the partner organization the request is referred to.
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_datetime: DateTime<Utc>,
    pub updated_datetime: DateTime<Utc>,
    pub expected_datetime: Option<DateTime<Utc>>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

fn uuid(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::Internal(format!("stored id {text:?}")))
}

fn georeport(
    r: cmd::Open311Request,
    lang: Option<&str>,
) -> Result<Open311ServiceRequest, ApiError> {
    let row = r.view.row;
    Ok(Open311ServiceRequest {
        service_request_id: uuid(&row.id)?,
        status: r.view.status.open311().to_owned(),
        status_notes: r.view.status.as_str().to_owned(),
        service_name: r
            .category
            .as_ref()
            .map(|c| name_in(&c.names, lang))
            .unwrap_or_default(),
        service_code: r.category.map(|c| c.row.code).unwrap_or_default(),
        description: row.description,
        agency_responsible: row.partner_id,
        service_notice: None,
        requested_datetime: row.created_at.and_utc(),
        updated_datetime: row.updated_at.and_utc(),
        expected_datetime: None,
        address: None,
        address_id: None,
        zipcode: None,
        lat: None,
        long: None,
        media_url: None,
    })
}

const NOTICE: &str =
    "Received: school staff will review it. / Recibido: el personal de la escuela lo revisará.";

/// Parses the form: known fields once each, answers by code, anything else named.
fn parse_form(body: &[u8]) -> Result<cmd::Open311New, ApiError> {
    let mut one: BTreeMap<String, String> = BTreeMap::new();
    let mut answers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut errors = Vec::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        if let Some(rest) = key.strip_prefix("attribute[") {
            let code = rest
                .strip_suffix("][]")
                .or_else(|| rest.strip_suffix(']'))
                .filter(|c| !c.is_empty() && !c.contains(['[', ']']));
            match code {
                Some(code) => answers
                    .entry(code.to_owned())
                    .or_default()
                    .push(value.into_owned()),
                None => errors.push(crate::error::FieldError::new(
                    key.to_string(),
                    "write answers as attribute[code]=value or attribute[code][]=value",
                )),
            }
            continue;
        }
        match key.as_ref() {
            "service_code" | "school_id" | "subject_code" | "description"
            | "preferred_language" | "contact_method" | "urgency" | "api_key"
            | "jurisdiction_id" => {
                if one.insert(key.to_string(), value.into_owned()).is_some() {
                    errors.push(crate::error::FieldError::new(key.to_string(), "sent twice"));
                }
            }
            // GeoReport fields cogov does not take: a location or personal contact details
            // would put a family's home and identity in the request.
            _ => errors.push(crate::error::FieldError::new(
                key.to_string(),
                "not a field cogov takes (no location, names or contact details: see the \
                 service-request documentation)",
            )),
        }
    }
    let mut take = |name: &str| one.remove(name).filter(|v| !v.is_empty());
    let service_code = take("service_code");
    let school_id = take("school_id");
    let subject_code = take("subject_code");
    let description = take("description");
    let preferred_language = take("preferred_language").unwrap_or_else(|| "en".to_owned());
    let contact_method = take("contact_method").unwrap_or_else(|| "app".to_owned());
    let urgency = take("urgency").unwrap_or_else(|| "routine".to_owned());
    let mut need = |field: &str, v: &Option<String>| {
        if v.is_none() {
            errors.push(crate::error::FieldError::new(field, "is required"));
        }
    };
    need("service_code", &service_code);
    need("school_id", &school_id);
    need("subject_code", &subject_code);
    if let Some(s) = &school_id {
        if Uuid::parse_str(s).is_err() {
            errors.push(crate::error::FieldError::new("school_id", "must be a UUID"));
        }
    }
    if let Some(c) = &subject_code {
        if super::fields::code(c).is_err() {
            errors.push(crate::error::FieldError::new(
                "subject_code",
                "must be a district code of 1 to 64 letters, digits, '.', '_' or '-'",
            ));
        }
    }
    if let Some(d) = &description {
        if d.chars().count() > 4000 || super::fields::text(d).is_err() {
            errors.push(crate::error::FieldError::new(
                "description",
                "must be at most 4000 characters of text",
            ));
        }
    }
    if super::fields::language(&preferred_language).is_err() {
        errors.push(crate::error::FieldError::new(
            "preferred_language",
            "must be a BCP 47 language tag",
        ));
    }
    if !["app", "email", "phone", "text"].contains(&contact_method.as_str()) {
        errors.push(crate::error::FieldError::new(
            "contact_method",
            "must be app, email, phone or text",
        ));
    }
    if !["routine", "soon", "urgent"].contains(&urgency.as_str()) {
        errors.push(crate::error::FieldError::new(
            "urgency",
            "must be routine, soon or urgent",
        ));
    }
    if answers.len() > 50 || answers.keys().any(|k| k.chars().count() > 64) {
        errors.push(crate::error::FieldError::new(
            "attribute",
            "at most 50 attributes, codes of at most 64 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(cmd::Open311New {
        service_code: service_code.unwrap_or_default(),
        school_id: school_id.unwrap_or_default(),
        subject_code: subject_code.unwrap_or_default(),
        description,
        answers,
        preferred_language,
        contact_method,
        urgency,
    })
}

/// Open311 submit a service request
///
/// A GeoReport v2 `POST requests`, form-encoded, filed through the same checks as
/// `POST /api/v1/service-requests` (a family for themselves; staff of the school for a family
/// through the native API only). The key is the caller's bearer token. An `Idempotency-Key` is
/// honoured when sent but not required (GeoReport clients do not send one): a client that
/// retries without it may file the request twice.
#[utoipa::path(post, path = "/open311/v2/requests.json", tag = "open311",
    request_body(content = Open311RequestForm, content_type = "application/x-www-form-urlencoded"),
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Optional: a retry with the same key and body gets the first answer again")),
    responses(
        (status = 200, description = "Filed.", body = [Open311Created]),
        (status = 403, description = "No api_key (bearer token): a GeoReport error array. (A signed-in caller whose roles do not allow filing for the school gets a problem document.)",
            content((Vec<Open311Error> = "application/json"), (crate::error::Problem = "application/problem+json"))),
        super::problems::BodyErrors))]
pub async fn create_request(
    Caller(ctx): Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(ctx) = keyed(ctx) else {
        return Ok(key_required());
    };
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(ApiError::UnsupportedMediaType(
            "send the request as application/x-www-form-urlencoded".to_owned(),
        ));
    }
    let input = parse_form(&body)?;
    let filed = cmd::create_open311_request(&ctx, &state.db, input).await?;
    let id = uuid(&filed.view.row.id)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, super::preconditions::CACHE_NONE))
        .json([Open311Created {
            service_request_id: id,
            service_notice: NOTICE.to_owned(),
            account_id: None,
        }]))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Open311RequestParams {
    /// Comma-separated request ids (at most 50); when sent, the other filters are ignored.
    #[param(max_length = 2000)]
    pub service_request_id: Option<String>,
    #[param(max_length = 64)]
    pub service_code: Option<String>,
    /// Requests filed at or after this time (default: 90 days before `end_date` or now).
    pub start_date: Option<DateTime<Utc>>,
    /// Requests filed before this time; at most 90 days after `start_date`.
    pub end_date: Option<DateTime<Utc>>,
    /// `open` or `closed`.
    #[param(pattern = "^(open|closed)$")]
    pub status: Option<String>,
    #[param(max_length = 64)]
    pub jurisdiction_id: Option<String>,
    /// BCP 47 language of service names (default `en`).
    #[param(max_length = 35)]
    pub lang: Option<String>,
    /// Requests looked at per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// From the `Link: <…>; rel="next"` of the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

fn parse_filter(p: &Open311RequestParams) -> Result<cmd::Open311Filter, ApiError> {
    Open311Params {
        jurisdiction_id: p.jurisdiction_id.clone(),
        lang: p.lang.clone(),
    }
    .check()?;
    let mut ids = Vec::new();
    if let Some(list) = p.service_request_id.as_deref().filter(|l| !l.is_empty()) {
        for part in list.split(',') {
            let id = Uuid::parse_str(part.trim()).map_err(|_| {
                ApiError::validation(
                    "service_request_id",
                    "must be request ids separated by commas",
                )
            })?;
            ids.push(id.to_string());
        }
        if ids.len() > 50 {
            return Err(ApiError::validation("service_request_id", "at most 50 ids"));
        }
    }
    if p.service_code
        .as_ref()
        .is_some_and(|c| c.chars().count() > 64)
    {
        return Err(ApiError::validation(
            "service_code",
            "must be at most 64 characters",
        ));
    }
    let status = p.status.clone().filter(|s| !s.is_empty());
    if status
        .as_deref()
        .is_some_and(|s| s != "open" && s != "closed")
    {
        return Err(ApiError::validation("status", "must be open or closed"));
    }
    let end = p.end_date.unwrap_or_else(Utc::now);
    let start = p.start_date.unwrap_or(end - Duration::days(90));
    if start > end {
        return Err(ApiError::validation(
            "start_date",
            "must be before end_date",
        ));
    }
    if end - start > Duration::days(90) {
        return Err(ApiError::validation(
            "end_date",
            "must be at most 90 days after start_date",
        ));
    }
    Ok(cmd::Open311Filter {
        ids,
        service_code: p.service_code.clone().filter(|c| !c.is_empty()),
        start: Some(start.naive_utc()),
        end: Some(end.naive_utc()),
        status,
    })
}

/// Open311 list service requests
///
/// Only the requests the caller plays a part for (a family sees its own; staff their schools'),
/// filed within the date window (default the last 90 days), oldest first. A page looks at
/// `limit` requests and lists those that pass `status`; `Link: <…>; rel="next"` names the next
/// page. Without a key (bearer token): 403, since requests are about students.
#[utoipa::path(get, path = "/open311/v2/requests.json", tag = "open311", params(Open311RequestParams),
    responses(
        (status = 200, description = "The requests.", body = [Open311ServiceRequest]),
        (status = 403, description = "No api_key (bearer token).", body = [Open311Error]),
        super::problems::ListErrors))]
pub async fn list_requests(
    Caller(ctx): Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<Open311RequestParams>,
) -> Result<HttpResponse, ApiError> {
    let Some(ctx) = keyed(ctx) else {
        return Ok(key_required());
    };
    let p = params.into_inner();
    let filter = parse_filter(&p)?;
    let page = super::paging::PageRequest::new(p.limit, p.cursor.as_deref())?;
    let (rows, next) =
        cmd::list_open311_requests(&ctx, &state.db, filter, page.after.as_deref(), page.limit)?;
    let lang = p.lang.as_deref();
    let items = rows
        .into_iter()
        .map(|r| georeport(r, lang))
        .collect::<Result<Vec<_>, _>>()?;
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, super::preconditions::CACHE_NONE));
    if let Some(id) = next {
        let cursor = super::paging::encode_cursor(&id);
        res.insert_header((
            header::LINK,
            format!(
                "<{}>; rel=\"next\"",
                super::paging::next_link(&req, &cursor)
            ),
        ));
    }
    Ok(res.json(items))
}

/// Open311 get a service request
///
/// One request as a one-element GeoReport array; 404 for a request the caller plays no part
/// for, and 403 without a key (bearer token).
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.json", tag = "open311",
    params(("service_request_id" = Uuid, Path, description = "The request's id"), Open311Params),
    responses(
        (status = 200, description = "The request.", body = [Open311ServiceRequest]),
        (status = 403, description = "No api_key (bearer token).", body = [Open311Error]),
        super::problems::NestedListErrors))]
pub async fn find_request(
    Caller(ctx): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    params: web::Query<Open311Params>,
) -> Result<HttpResponse, ApiError> {
    let Some(ctx) = keyed(ctx) else {
        return Ok(key_required());
    };
    params.check()?;
    let found = cmd::find_open311_request(&ctx, &state.db, &id.into_inner().to_string())?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, super::preconditions::CACHE_NONE))
        .json([georeport(found, params.lang.as_deref())?]))
}

/// Any other path under `/open311/v2/`: cogov speaks GeoReport v2 in JSON only, so a `.xml`
/// path is 406 (naming the `.json` one); anything else is 404.
pub async fn unmatched(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.path().ends_with(".xml") {
        return Err(ApiError::Other {
            status: actix_web::http::StatusCode::NOT_ACCEPTABLE,
            detail: "cogov serves Open311 in JSON only: use the .json path".to_owned(),
        });
    }
    super::problems::no_such_route().await
}
