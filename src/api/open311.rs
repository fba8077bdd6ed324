//! The Open311 GeoReport v2 facade under `/open311/v2/`: service discovery from the catalog, so
//! a 311 or civic-tech app lists cogov's services and the questions each asks with no custom
//! integration. JSON only (`.json` paths; there is no `.xml`). Requests are not filed or read
//! through this facade yet: use `/api/v1/service-requests`.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::services::pick;
use crate::commands::services::{self as cmd, CategoryRecord};
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
