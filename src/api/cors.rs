//! CORS for browser apps of the district: only the origins in `cors_allowed_origins` are allowed,
//! each echoed back (never `*`) with `Vary: Origin`; no credentials (cogov takes bearer tokens,
//! not cookies). With no origins configured, cogov sends no CORS headers at all.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::state::AppState;

pub const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
pub const ALLOW_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key";
pub const EXPOSE_HEADERS: &str =
    "ETag, Link, Location, Retry-After, X-Request-Id, RateLimit, RateLimit-Policy";
/// Chromium caps a preflight's lifetime at 7200 s; longer would not be honoured anyway.
pub const MAX_AGE_SECS: &str = "7200";

/// An origin as browsers send it (`https://app.example.org`, `http://localhost:3000`), or `None`
/// when `text` is not a bare http(s) origin (a path, query or credentials are not allowed).
pub fn normalize_origin(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/"
        || text.trim().trim_end_matches('/').len() < text.trim().len() - 1
    {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

fn add_vary_origin(headers: &mut header::HeaderMap) {
    let has = headers.get_all(header::VARY).any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("origin"))
        })
    });
    if !has {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

pub async fn cors<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let allowed = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.protection.cors_allowed_origins.clone())
        .unwrap_or_default();
    if allowed.is_empty() {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o)))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        // Answered here, before authentication: a preflight never carries credentials.
        let mut res = HttpResponse::NoContent();
        res.insert_header((header::VARY, "Origin"));
        if let Some(origin) = origin {
            res.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECS));
        }
        let (http_req, _) = req.into_parts();
        return Ok(ServiceResponse::new(http_req, res.finish()).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    // Whether a response carries CORS headers depends on the Origin sent: caches must know.
    add_vary_origin(headers);
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_bare_http_origins() {
        assert_eq!(
            normalize_origin("https://App.District.example").as_deref(),
            Some("https://app.district.example")
        );
        assert_eq!(
            normalize_origin("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(
            normalize_origin("https://a.example:443").as_deref(),
            Some("https://a.example")
        );
        for bad in [
            "*",
            "null",
            "app.example",
            "ftp://a.example",
            "https://a.example/path",
            "https://user@a.example",
            "https://a.example?x=1",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }
}
