//! One error type for the API. Every variant has one HTTP status and a stable `code`, and every
//! error response is an RFC 9457 `application/problem+json` document.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{StoreError, Unavailable};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where the problem is: a JSON path into the body (`composition_rules[1].left`), or the name
    /// of a query parameter.
    #[schema(example = "name")]
    pub field: String,
    #[schema(example = "must be 1 to 200 characters")]
    pub message: String,
    /// For a problem in an uploaded file (a roster import): the file it is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "users.csv")]
    pub file: Option<String>,
    /// For a problem in an uploaded file: the line (the header is line 1); `field` is then the
    /// column or, in `manifest.csv`, the property.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 1)]
    pub line: Option<i64>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            file: None,
            line: None,
        }
    }

    /// A problem at a line of an uploaded file.
    pub fn in_file(
        file: impl Into<String>,
        line: i64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            file: Some(file.into()),
            line: Some(line),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {} {}", self.field, self.message),
            (Some(file), None) => write!(f, "{file}: {} {}", self.field, self.message),
            _ => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:cogov:problem:not-found",
    "title": "Not Found",
    "status": 404,
    "detail": "no council with id 01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
    "code": "not-found",
    "instance": "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
    "request_id": "01936d4e-6000-7000-8000-000000000001"
}))]
pub struct Problem {
    /// `urn:cogov:problem:<code>`; the codes are listed in docs/API.md.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code; clients branch on this.
    pub code: String,
    /// The request path this problem is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The id echoed in `X-Request-Id`, for support requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The OAuth 2.0 error code (RFC 6749 section 5.2): only on errors of the token endpoint
    /// (`invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`, and
    /// `temporarily_unavailable` or `server_error` when cogov cannot check credentials now).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "invalid_grant")]
    pub error: Option<String>,
    /// Every invalid field (422 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Composition rules a seat change would break (409 `composition-rule-violation` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub broken_rules: Vec<crate::domain::RuleOutcome>,
    /// The quota policies a 429 `quota-exceeded` ran out of (the `RateLimit-Policy` names).
    #[serde(rename = "violated-policies", skip_serializing_if = "Vec::is_empty")]
    pub violated_policies: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read at all (malformed JSON, bad query string).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401: no token, or a token that does not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but the caller's roles do not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 429: too many attempts; retry after the given seconds.
    #[error("too many attempts; retry after {0} seconds")]
    TooManyRequests(u64),
    /// 429: the caller's request quota for this window is spent.
    #[error("request quota of policy \"{policy}\" used up; retry after {retry_after} seconds")]
    QuotaExceeded {
        policy: &'static str,
        retry_after: u64,
    },
    /// 404: no such resource, or no such route.
    #[error("{0}")]
    NotFound(String),
    /// 405
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with stored state (duplicate, still referenced, ...).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 410: what the request points at existed once and is gone for good (an expired feed
    /// cursor).
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    /// 409: a seat change would break composition rules.
    #[error("{detail}")]
    RuleViolation {
        detail: String,
        broken: Vec<crate::domain::RuleOutcome>,
    },
    /// 412: `If-Match` names a version that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 428: a change was sent without `If-Match`.
    #[error("{0}")]
    PreconditionRequired(String),
    /// 413
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 415
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: the body or parameters parsed but hold invalid values; lists every bad field found.
    #[error("invalid request: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// 503: the database is unreachable or every connection is busy.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a fault of the server; the detail is logged, not sent.
    #[error("{0}")]
    Internal(String),
    /// Any other status produced outside cogov's handlers (e.g. by the HTTP layer).
    #[error("{detail}")]
    Other { status: StatusCode, detail: String },
    /// An error of the OAuth token endpoint: `cause` decides the status and the problem, `error`
    /// adds the OAuth 2.0 error code OAuth clients branch on.
    #[error("{cause}")]
    OAuth {
        error: &'static str,
        cause: Box<ApiError>,
    },
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        ApiError::NotFound(format!("no {what} with id {id}"))
    }

    /// 408: the request body did not arrive in full within `secs` seconds.
    pub fn body_timeout(secs: u64) -> Self {
        ApiError::Other {
            status: StatusCode::REQUEST_TIMEOUT,
            detail: format!("the request body did not arrive within {secs} seconds"),
        }
    }

    /// This error as an error of the OAuth token endpoint, with the OAuth `error` code.
    pub fn oauth(self, error: &'static str) -> Self {
        match self {
            ApiError::OAuth { cause, .. } => ApiError::OAuth { error, cause },
            other => ApiError::OAuth {
                error,
                cause: Box::new(other),
            },
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Gone { code, .. } => code,
            ApiError::NotFound(_) => "not-found",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::TooManyRequests(_) => "too-many-requests",
            ApiError::QuotaExceeded { .. } => "quota-exceeded",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::RuleViolation { .. } => "composition-rule-violation",
            ApiError::PreconditionFailed(_) => "precondition-failed",
            ApiError::PreconditionRequired(_) => "precondition-required",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Validation(_) => "validation-failed",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
            ApiError::Other { status, .. } => code_for_status(*status),
            ApiError::OAuth { cause, .. } => cause.code(),
        }
    }

    /// The problem document for this error. `instance` and `request_id` are filled in by the
    /// middleware that sees the request.
    pub fn problem(&self) -> Problem {
        if let ApiError::OAuth { error, cause } = self {
            let mut problem = cause.problem();
            problem.error = Some((*error).to_owned());
            return problem;
        }
        let status = self.status_code();
        let detail = match self {
            ApiError::Internal(_) => {
                "the server failed to handle this request; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        Problem {
            problem_type: match self {
                // The type registered for this problem (draft-ietf-httpapi-ratelimit-headers).
                ApiError::QuotaExceeded { .. } => {
                    "https://iana.org/assignments/http-problem-types#quota-exceeded".to_owned()
                }
                _ => format!("urn:cogov:problem:{}", self.code()),
            },
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: self.code().to_owned(),
            instance: None,
            request_id: None,
            error: None,
            errors: match self {
                ApiError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
            broken_rules: match self {
                ApiError::RuleViolation { broken, .. } => broken.clone(),
                _ => Vec::new(),
            },
            violated_policies: match self {
                ApiError::QuotaExceeded { policy, .. } => vec![(*policy).to_owned()],
                _ => Vec::new(),
            },
        }
    }
}

/// A stable code for statuses that reach the client from outside cogov's own errors.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad-request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        406 => "not-acceptable",
        408 => "request-timeout",
        411 => "length-required",
        413 => "payload-too-large",
        414 => "uri-too-long",
        415 => "unsupported-media-type",
        429 => "too-many-requests",
        431 => "request-header-fields-too-large",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "client-error",
    }
}

pub fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        builder.insert_header((header::RETRY_AFTER, "1"));
    }
    builder.body(serde_json::to_vec(problem).unwrap_or_default())
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests(_) | ApiError::QuotaExceeded { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::RuleViolation { .. } => StatusCode::CONFLICT,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Other { status, .. } => *status,
            ApiError::OAuth { cause, .. } => cause.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (oauth, inner) = match self {
            ApiError::OAuth { error, cause } => (Some(*error), cause.as_ref()),
            other => (None, other),
        };
        if let ApiError::Internal(detail) = inner {
            tracing::error!(error = %detail, "internal error");
        }
        let mut res = problem_response(self.status_code(), &self.problem());
        match inner {
            // The token endpoint authenticates clients with HTTP Basic (RFC 6749 section 5.2);
            // a failed password grant is not about a bearer token either.
            ApiError::Unauthorized(_) if oauth.is_some() => {
                let challenge = if oauth == Some("invalid_client") {
                    "Basic realm=\"cogov\""
                } else {
                    "Bearer realm=\"cogov\""
                };
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static(challenge),
                );
            }
            ApiError::Unauthorized(_) => {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static(
                        "Bearer realm=\"cogov\", error=\"invalid_token\"",
                    ),
                );
            }
            ApiError::TooManyRequests(secs)
            | ApiError::QuotaExceeded {
                retry_after: secs, ..
            } => {
                if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        res
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        ApiError::from(StoreError::from(err))
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Stale(what) => ApiError::PreconditionFailed(format!(
                "the {what} changed while this request was being handled; read it again and retry"
            )),
            StoreError::Duplicate(detail) => ApiError::Conflict {
                code: "duplicate",
                detail: format!("a record with the same unique value exists ({detail})"),
            },
            StoreError::StillReferenced => ApiError::Conflict {
                code: "still-referenced",
                detail: "other records refer to this one (or to a record that does not exist); remove those references first".to_owned(),
            },
            StoreError::Unavailable(u) => ApiError::from(u),
            StoreError::Corrupt(what) => ApiError::Internal(format!("corrupt row: {what}")),
            StoreError::Query(e) => ApiError::Internal(format!("database error: {e}")),
        }
    }
}

impl From<Unavailable> for ApiError {
    fn from(err: Unavailable) -> Self {
        ApiError::Unavailable(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_own_status_and_a_urn_type() {
        let cases = [
            (ApiError::NotFound("x".into()), 404),
            (ApiError::PreconditionFailed("x".into()), 412),
            (ApiError::PreconditionRequired("x".into()), 428),
            (ApiError::PayloadTooLarge(10), 413),
            (ApiError::validation("name", "required"), 422),
            (ApiError::Unavailable("x".into()), 503),
        ];
        for (err, status) in cases {
            let p = err.problem();
            assert_eq!(p.status, status);
            assert_eq!(p.problem_type, format!("urn:cogov:problem:{}", p.code));
        }
    }

    #[test]
    fn token_endpoint_errors_carry_the_oauth_code_and_keep_their_status() {
        let err = ApiError::Unauthorized("no".into()).oauth("invalid_client");
        assert_eq!(err.status_code(), StatusCode::UNAUTHORIZED);
        let p = err.problem();
        assert_eq!(p.error.as_deref(), Some("invalid_client"));
        assert_eq!(p.code, "unauthorized");
        let res = err.error_response();
        assert_eq!(
            res.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Basic realm=\"cogov\""
        );
        let json = serde_json::to_value(ApiError::NotFound("x".into()).problem()).unwrap();
        assert!(json.get("error").is_none(), "only token errors have it");
        let again = ApiError::TooManyRequests(5)
            .oauth("invalid_request")
            .oauth("invalid_grant");
        assert_eq!(again.problem().error.as_deref(), Some("invalid_grant"));
        assert_eq!(again.status_code(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[test]
    fn internal_details_are_not_sent() {
        let p = ApiError::Internal("password=hunter2".into()).problem();
        assert!(!p.detail.contains("hunter2"));
    }
}
