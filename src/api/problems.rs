//! Turns every error response into problem+json, whoever produced it (cogov's handlers, actix's
//! extractors and router, the HTTP layer), fills in `instance` and `request_id`, and echoes the
//! request id in `X-Request-Id` on every response.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use std::collections::BTreeMap;
use tracing_actix_web::RequestId;

use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::{IntoResponses, ToResponse};

use crate::error::{problem_response, ApiError, Problem, PROBLEM_JSON};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Headers of the original error response that the problem response keeps.
const KEPT_HEADERS: [HeaderName; 7] = [
    header::ETAG,
    header::RETRY_AFTER,
    header::ALLOW,
    header::LOCATION,
    header::WWW_AUTHENTICATE,
    super::rate_limit::POLICY_HEADER,
    super::rate_limit::STATE_HEADER,
];

/// Marks an error response that speaks another standard's error format on purpose (the Open311
/// GeoReport error array); it is left as it is.
pub struct ForeignErrorFormat;

pub async fn finish_response<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // Read what is needed before the call: holding a clone of the request across it would stop
    // the router from writing the matched path into it.
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    let res = next.call(req).await?;
    let already_problem = res.response().error().is_none()
        && res
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    let foreign = res
        .response()
        .extensions()
        .get::<ForeignErrorFormat>()
        .is_some();
    let mut res = if res.status().as_u16() >= 400 && !already_problem && !foreign {
        rewrite(res, request_id.as_deref())
    } else {
        res.map_into_left_body()
    };
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), id);
    }
    Ok(res)
}

/// Replaces an error response with its problem document (cogov's own errors are rendered by
/// `ApiError` without the request; the request's path and id are added here).
fn rewrite<B, L>(
    res: ServiceResponse<B>,
    request_id: Option<&str>,
) -> ServiceResponse<EitherBody<L>> {
    let status = res.status();
    let mut problem: Problem = match res.response().error() {
        Some(err) => match err.as_error::<ApiError>() {
            Some(api) => api.problem(),
            None => ApiError::Other {
                status,
                detail: if status.is_client_error() {
                    err.to_string()
                } else {
                    "the server could not handle this request".to_owned()
                },
            }
            .problem(),
        },
        None if status == actix_web::http::StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::MethodNotAllowed.problem()
        }
        None => ApiError::Other {
            status,
            detail: status.canonical_reason().unwrap_or("error").to_lowercase(),
        }
        .problem(),
    };
    problem.instance = Some(res.request().path().to_owned());
    problem.request_id = request_id.map(str::to_owned);
    let mut fresh = problem_response(status, &problem);
    for name in &KEPT_HEADERS {
        if let Some(value) = res.headers().get(name) {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, fresh).map_into_right_body()
}

/// The route of last resort: 404 problem+json.
pub async fn no_such_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(
        "no such route; the API is described at /api/v1/openapi.json".to_owned(),
    ))
}

/// A query string the typed extractor refused: 422 naming every bad parameter in the API's own
/// words (checked against the operation's documented parameters), or 400 when the query string
/// cannot be read at all.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    req: &HttpRequest,
) -> actix_web::Error {
    let route = crate::route::pattern(req).map_or_else(|| req.path().to_owned(), |p| p.to_string());
    let method = req.method().as_str().to_ascii_lowercase();
    let errors = super::messages::query_errors(&method, &route, req.query_string());
    if !errors.is_empty() {
        return ApiError::Validation(errors).into();
    }
    tracing::debug!(error = %err, "query string refused");
    ApiError::BadRequest {
        code: "bad-query",
        detail: "the query string cannot be read; send name=value pairs, percent-encoded"
            .to_owned(),
    }
    .into()
}

pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound(format!("no such resource ({err})")).into()
}

// Reusable error responses for the OpenAPI document.

#[derive(ToResponse)]
#[response(
    description = "The request cannot be read: malformed JSON, a bad query string or header.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:malformed-json", "title": "Bad Request", "status": 400,
        "detail": "the request body is not valid JSON: EOF while parsing an object at line 1 column 9",
        "code": "malformed-json", "instance": "/api/v1/councils", "request_id": "01936d4e-6000-7000-8000-000000000001"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct BadRequest(Problem);

#[derive(ToResponse)]
#[response(
    description = "No bearer token, or one that does not verify (expired, wrong issuer or audience, bad signature, unknown key). `WWW-Authenticate: Bearer` is set.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:unauthorized", "title": "Unauthorized", "status": 401,
        "detail": "the token has expired", "code": "unauthorized", "instance": "/api/v1/councils",
        "request_id": "01936d4e-6000-7000-8000-000000000001"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct Unauthorized(Problem);

#[derive(ToResponse)]
#[response(
    description = "Signed in, but the caller's roles do not allow this (objects the caller may not see answer 404 instead).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:forbidden", "title": "Forbidden", "status": 403,
        "detail": "your roles do not allow this on council 01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "code": "forbidden",
        "instance": "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct Forbidden(Problem);

#[derive(ToResponse)]
#[response(
    description = "Too many failed sign-ins for this account or client; retry after `Retry-After` seconds.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:too-many-requests", "title": "Too Many Requests", "status": 429,
        "detail": "too many attempts; retry after 900 seconds", "code": "too-many-requests", "instance": "/api/v1/auth/token"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TooManyRequests(Problem);

#[derive(ToResponse)]
#[response(
    description = "No such resource (also for malformed ids).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:not-found", "title": "Not Found", "status": 404,
        "detail": "no council with id 01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "code": "not-found",
        "instance": "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "request_id": "01936d4e-6000-7000-8000-000000000001"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct NotFound(Problem);

#[derive(ToResponse)]
#[response(
    description = "Conflicts with stored state: a duplicate unique value, a record still referenced by others, or a seat change that breaks a composition rule (`broken_rules` lists them; retry with `allow_rule_violation=true` to record an override).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:composition-rule-violation", "title": "Conflict", "status": 409,
        "detail": "this change would break 1 composition rule: community parity; pass allow_rule_violation=true to make it anyway (the override is recorded)",
        "code": "composition-rule-violation", "instance": "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11/seats",
        "broken_rules": [{"index": 0, "name": "community parity", "passed": false,
            "explanation": "families + students + community_organizations = 3 does not satisfy district + administrators + teachers + classified_staff = 4 (voting seats; required ≥)"}]})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct Conflict(Problem);

#[derive(ToResponse)]
#[response(
    description = "`If-Match` does not name the current version; read the resource again.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:precondition-failed", "title": "Precondition Failed", "status": 412,
        "detail": "the resource has changed since you read it (current ETag \"4\"); read it again and retry",
        "code": "precondition-failed", "instance": "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct PreconditionFailed(Problem);

#[derive(ToResponse)]
#[response(
    description = "The change was sent without `If-Match`.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:precondition-required", "title": "Precondition Required", "status": 428,
        "detail": "send If-Match with the ETag from your last read of this resource",
        "code": "precondition-required", "instance": "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct PreconditionRequired(Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is larger than 256 KiB.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:payload-too-large", "title": "Payload Too Large", "status": 413,
        "detail": "request body larger than 262144 bytes", "code": "payload-too-large", "instance": "/api/v1/people"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct PayloadTooLarge(Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is not `application/json`.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:unsupported-media-type", "title": "Unsupported Media Type", "status": 415,
        "detail": "send the body as Content-Type: application/json", "code": "unsupported-media-type", "instance": "/api/v1/people"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct UnsupportedMediaType(Problem);

#[derive(ToResponse)]
#[response(
    description = "Fields hold invalid values; `errors` lists every one.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:validation-failed", "title": "Unprocessable Entity", "status": 422,
        "detail": "invalid request: name: must be 1 to 200 characters; time_zone: must be an IANA time zone such as America/Los_Angeles",
        "code": "validation-failed", "instance": "/api/v1/schools",
        "errors": [{"field": "name", "message": "must be 1 to 200 characters"},
                   {"field": "time_zone", "message": "must be an IANA time zone such as America/Los_Angeles"}]})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct Unprocessable(Problem);

#[derive(ToResponse)]
#[response(
    description = "The database is unreachable or overloaded; retry after `Retry-After` seconds.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:unavailable", "title": "Service Unavailable", "status": 503,
        "detail": "database unavailable: timed out waiting for connection", "code": "unavailable", "instance": "/api/v1/councils"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct Unavailable(Problem);

#[derive(ToResponse)]
#[response(
    description = "The caller's request quota for this window is used up (`RateLimit-Policy`); retry after `Retry-After` seconds. A caller is its account or API client, or its address when not signed in.",
    content_type = "application/problem+json",
    example = json!({"type": "https://iana.org/assignments/http-problem-types#quota-exceeded", "title": "Too Many Requests", "status": 429,
        "detail": "request quota of policy \"default\" used up; retry after 42 seconds", "code": "quota-exceeded",
        "instance": "/api/v1/councils", "violated-policies": ["default"]})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct QuotaExceeded(Problem);

#[derive(ToResponse)]
#[response(
    description = "The cursor points before changes that were pruned after the retention period (`change_retention_days`), so following it would skip them. Start again: take `GET /api/v1/changes/head`, re-read the collections you keep, then follow the feed from that head cursor (docs/INTEGRATION.md, \"Resync\").",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:cursor-expired", "title": "Gone", "status": 410,
        "detail": "this cursor points before changes pruned after the retention period; resync: GET /api/v1/changes/head, re-read the collections you keep, then follow the feed from that cursor",
        "code": "cursor-expired", "instance": "/api/v1/changes"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct CursorExpired(Problem);

#[derive(ToResponse)]
#[response(
    description = "`Accept` allows neither `application/json` nor `text/csv`; ask for one of them, or pass `format=json|csv`.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:not-acceptable", "title": "Not Acceptable", "status": 406,
        "detail": "reports are served as application/json or text/csv (or ask with ?format=json|csv)", "code": "not-acceptable",
        "instance": "/api/v1/reports/service-requests/status-counts"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct NotAcceptable(Problem);

// The sets of error responses operations share, so that each operation's annotation names the
// set instead of repeating every status.

fn refs(entries: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    entries
        .iter()
        .map(|(status, name)| {
            (
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(*name)),
            )
        })
        .collect()
}

macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident: $(($status:literal, $response:literal)),+ $(,)?) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                refs(&[$(($status, $response)),+])
            }
        }
    };
}

error_set!(
    /// Reading one resource.
    ReadErrors: ("404", "NotFound"), ("503", "Unavailable")
);
error_set!(
    /// Listing a top-level collection.
    ListErrors: ("400", "BadRequest"), ("422", "Unprocessable"), ("503", "Unavailable")
);
error_set!(
    /// Reading a report (JSON or CSV by content negotiation).
    ReportErrors: ("400", "BadRequest"), ("406", "NotAcceptable"), ("422", "Unprocessable"), ("503", "Unavailable")
);
error_set!(
    /// Listing a collection that belongs to another resource.
    NestedListErrors: ("400", "BadRequest"), ("404", "NotFound"), ("422", "Unprocessable"), ("503", "Unavailable")
);
error_set!(
    /// Any request with a JSON body.
    BodyErrors: ("400", "BadRequest"), ("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType"),
        ("422", "Unprocessable"), ("503", "Unavailable")
);
error_set!(
    /// Changing an existing resource with a JSON body and `If-Match`.
    ChangeErrors: ("400", "BadRequest"), ("404", "NotFound"), ("412", "PreconditionFailed"),
        ("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType"), ("422", "Unprocessable"),
        ("428", "PreconditionRequired"), ("503", "Unavailable")
);
error_set!(
    /// Deleting with `If-Match` (400 for an `If-Match` that is not a list of quoted ETags, 422
    /// for bad query parameters).
    DeleteErrors: ("400", "BadRequest"), ("404", "NotFound"), ("422", "Unprocessable"), ("409", "Conflict"), ("412", "PreconditionFailed"),
        ("428", "PreconditionRequired"), ("503", "Unavailable")
);
