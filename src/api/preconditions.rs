//! ETags and conditional requests. A resource's ETag is its `version` (strong); every change
//! must carry `If-Match` so that two editors cannot silently overwrite each other.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;

use crate::error::ApiError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header allows a change to apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
    /// Only weak tags were sent: they never match (RFC 9110 §13.1.1 strong comparison).
    Weak(Vec<String>),
}

impl IfMatch {
    /// Reads `If-Match`; a missing header is 428 (the client must say which version it edits).
    pub fn required(req: &HttpRequest) -> Result<IfMatch, ApiError> {
        let Some(value) = req.headers().get(header::IF_MATCH) else {
            return Err(ApiError::PreconditionRequired(
                "send If-Match with the ETag from your last read of this resource".to_owned(),
            ));
        };
        let text = value.to_str().map_err(|_| ApiError::BadRequest {
            code: "bad-header",
            detail: "If-Match is not valid ASCII".to_owned(),
        })?;
        if text.trim() == "*" {
            return Ok(IfMatch::Any);
        }
        let mut versions = Vec::new();
        let mut weak = Vec::new();
        for tag in text.split(',').map(str::trim) {
            // Weak tags never match under If-Match's strong comparison (RFC 9110 13.1.1).
            if tag.starts_with("W/") {
                weak.push(tag.to_owned());
                continue;
            }
            let inner = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .ok_or_else(|| ApiError::BadRequest {
                    code: "bad-header",
                    detail: format!("If-Match must hold quoted ETags such as \"3\", got {tag}"),
                })?;
            // An unknown tag is simply not current; it is not malformed.
            if let Ok(v) = inner.parse::<i64>() {
                versions.push(v);
            }
        }
        if versions.is_empty() && !weak.is_empty() {
            return Ok(IfMatch::Weak(weak));
        }
        Ok(IfMatch::Versions(versions))
    }

    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        match self {
            IfMatch::Any => Ok(()),
            IfMatch::Versions(v) if v.contains(&current) => Ok(()),
            IfMatch::Versions(_) => Err(ApiError::PreconditionFailed(format!(
                "the resource has changed since you read it (current ETag {}); read it again and retry",
                etag(current)
            ))),
            IfMatch::Weak(tags) => Err(ApiError::PreconditionFailed(format!(
                "weak ETags such as {} cannot be used in If-Match (RFC 9110 compares If-Match \
                 strongly); send the strong ETag this API returns, e.g. {}",
                tags[0],
                etag(current)
            ))),
        }
    }
}

/// True when `If-None-Match` names the current version (or `*`).
fn not_modified(req: &HttpRequest, version: i64) -> bool {
    let Some(Ok(text)) = req.headers().get(header::IF_NONE_MATCH).map(|v| v.to_str()) else {
        return false;
    };
    let current = etag(version);
    text.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == current)
}

/// A single resource with its ETag; answers 304 to a matching `If-None-Match`.
pub fn resource_response<T: Serialize>(
    req: &HttpRequest,
    body: &T,
    version: i64,
    cache: &'static str,
) -> HttpResponse {
    if not_modified(req, version) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(version)))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    with_etag(HttpResponse::Ok(), version, cache).json(body)
}

/// A 201 with `Location` and `ETag`.
pub fn created_response<T: Serialize>(
    location: String,
    body: &T,
    version: i64,
    cache: &'static str,
) -> HttpResponse {
    let mut builder = with_etag(HttpResponse::build(StatusCode::CREATED), version, cache);
    builder.insert_header((header::LOCATION, location));
    builder.json(body)
}

/// A 200 after a change, with the new `ETag`.
pub fn updated_response<T: Serialize>(body: &T, version: i64, cache: &'static str) -> HttpResponse {
    with_etag(HttpResponse::Ok(), version, cache).json(body)
}

fn with_etag(
    mut builder: HttpResponseBuilder,
    version: i64,
    cache: &'static str,
) -> HttpResponseBuilder {
    builder
        .insert_header((header::ETAG, etag(version)))
        .insert_header((header::CACHE_CONTROL, cache));
    builder
}

/// Cache policy for records anyone may see; clients revalidate with the ETag.
pub const CACHE_REVALIDATE: &str = "no-cache";
/// Cache policy for records tied to a person (contact details).
pub const CACHE_NONE: &str = "no-store";

impl From<IfMatch> for crate::commands::Expected {
    fn from(value: IfMatch) -> Self {
        match value {
            IfMatch::Any => crate::commands::Expected::Any,
            IfMatch::Versions(v) => crate::commands::Expected::Versions(v),
            IfMatch::Weak(tags) => crate::commands::Expected::Weak(tags),
        }
    }
}

/// The versions a change may apply to, from the request's required `If-Match`.
pub fn expected(req: &HttpRequest) -> Result<crate::commands::Expected, ApiError> {
    IfMatch::required(req).map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_match_parsing() {
        let req = TestRequest::default().to_http_request();
        assert!(matches!(
            IfMatch::required(&req),
            Err(ApiError::PreconditionRequired(_))
        ));

        let req = TestRequest::default()
            .insert_header(("If-Match", "\"3\", \"4\""))
            .to_http_request();
        let m = IfMatch::required(&req).unwrap();
        assert!(m.check(4).is_ok());
        assert!(matches!(m.check(5), Err(ApiError::PreconditionFailed(_))));

        let req = TestRequest::default()
            .insert_header(("If-Match", "*"))
            .to_http_request();
        assert!(IfMatch::required(&req).unwrap().check(99).is_ok());

        let req = TestRequest::default()
            .insert_header(("If-Match", "W/\"3\""))
            .to_http_request();
        assert!(IfMatch::required(&req).unwrap().check(3).is_err());

        let req = TestRequest::default()
            .insert_header(("If-Match", "3"))
            .to_http_request();
        assert!(matches!(
            IfMatch::required(&req),
            Err(ApiError::BadRequest { .. })
        ));
    }
}
