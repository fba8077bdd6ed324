//! Request quotas per caller, announced in every response with the IETF RateLimit headers
//! (`RateLimit-Policy: "default";q=600;w=60` and `RateLimit: "default";r=599;t=42`); a caller
//! over its quota gets 429 with `Retry-After` and the `quota-exceeded` problem type.
//!
//! A caller is its account or API client once signed in, its address otherwise. Windows are
//! fixed and aligned to the clock. The count is kept in memory by each app instance: holding it
//! in the database would add a write to every request, including every read. With several
//! instances behind a balancer, a caller's quota is therefore per instance (docs/INTEGRATION.md
//! says how to size it). Rules that decide who may do what never depend on it; sign-in
//! throttling, which does, is counted in the database.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub const POLICY_HEADER: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const STATE_HEADER: HeaderName = HeaderName::from_static("ratelimit");

/// The policy's name in the headers and in `violated-policies`.
pub const POLICY: &str = "default";

/// Paths outside any quota: probes and scrapes come from the platform, not from clients.
fn exempt(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

fn caller_key(req: &ServiceRequest) -> String {
    let signed_in = req
        .extensions()
        .get::<Principal>()
        .and_then(Principal::actor_key);
    signed_in.unwrap_or_else(|| {
        let address = req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        format!("address:{address}")
    })
}

fn header_value(text: String) -> Option<HeaderValue> {
    HeaderValue::from_str(&text).ok()
}

/// Counts the request against its caller's quota, refuses it when the quota is spent, and adds
/// the RateLimit headers to the response either way. Runs after authentication, so a signed-in
/// caller is counted by who it is.
pub async fn limit<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let limiter = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.protection.rate_limit.clone());
    let Some(limiter) = limiter.filter(|_| !exempt(req.path())) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let decision = limiter.check(&caller_key(&req), now);
    let policy = header_value(format!(
        "\"{POLICY}\";q={};w={}",
        limiter.quota(),
        limiter.window_secs()
    ));
    let state = header_value(format!(
        "\"{POLICY}\";r={};t={}",
        decision.remaining, decision.reset_secs
    ));
    let mut res = if decision.allowed {
        next.call(req).await?.map_into_left_body()
    } else {
        let (http_req, _) = req.into_parts();
        let err = ApiError::QuotaExceeded {
            policy: POLICY,
            retry_after: decision.reset_secs,
        };
        ServiceResponse::new(http_req, HttpResponse::from_error(err)).map_into_right_body()
    };
    let headers = res.headers_mut();
    if let Some(v) = policy {
        headers.insert(POLICY_HEADER, v);
    }
    if let Some(v) = state {
        headers.insert(STATE_HEADER, v);
    }
    Ok(res)
}
