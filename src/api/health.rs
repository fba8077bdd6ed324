//! Health endpoints for load balancers and orchestrators.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

/// Liveness
///
/// The process is up and serving HTTP. Touches nothing else.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "Alive.", body = Health)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness
///
/// The database answers; take the instance out of rotation while this fails.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve.", body = Health),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.db.ping() {
        Ok(HttpResponse::Ok().json(Health { status: "ok" }))
    } else {
        Err(ApiError::Unavailable(
            "the database does not answer".to_owned(),
        ))
    }
}
