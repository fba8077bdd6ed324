//! Access endpoints: `/api/v1/auth/token` (sign-in and client credentials), `/api/v1/me`,
//! `/api/v1/grants`, `/api/v1/audit-events`; and the bootstrap used by `cogov admin`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToResponse, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::body::JsonBody;
use super::paging::{private_list_response, split_page, PageRequest};
use super::preconditions::{created_response, CACHE_NONE};
use crate::auth::throttle::{self, Kind};
use crate::auth::{Principal, RequestFacts, Role, SignedIn};
use crate::commands::{self, sign_in};
use crate::db;
use crate::db::access::{self, AuditEvent, GrantRow};
use crate::error::ApiError;
use crate::state::AppState;

/// A token request, OAuth 2.0 style: form-encoded (or JSON). `password` grants sign a person in;
/// `client_credentials` grants sign a script in (the client may also authenticate with HTTP Basic).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "client_credentials", "client_id": "cl_reports", "client_secret": "s3cr3t..."}))]
pub struct TokenRequest {
    /// `password` or `client_credentials`.
    #[schema(value_type = GrantType)]
    pub grant_type: String,
    #[schema(max_length = 1024)]
    pub username: Option<String>,
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    #[schema(max_length = 1024)]
    pub client_id: Option<String>,
    #[schema(max_length = 1024)]
    pub client_secret: Option<String>,
    /// Ignored for `password` and `client_credentials` (access is decided by grants); for
    /// `refresh_token`, narrows the new tokens to these scopes (space-separated).
    #[schema(max_length = 1024)]
    pub scope: Option<String>,
    /// `authorization_code`: the code the app received at its redirect URI.
    #[schema(max_length = 1024)]
    pub code: Option<String>,
    /// `authorization_code`: exactly the redirect URI of the authorization request.
    #[schema(max_length = 2000)]
    pub redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE verifier whose S256 challenge the authorization request
    /// carried (RFC 7636).
    #[schema(min_length = 43, max_length = 128)]
    pub code_verifier: Option<String>,
    /// `refresh_token`: the refresh token; each works once (a new one comes with the answer).
    #[schema(max_length = 1024)]
    pub refresh_token: Option<String>,
}

/// The OAuth 2.0 grant types the token endpoint accepts.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // read only by the OpenAPI generator
pub enum GrantType {
    Password,
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
}

/// What `GET /api/v1/audit-events` returns.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // read only by the OpenAPI generator
pub enum AuditFormat {
    Json,
    Csv,
}

/// A short-lived bearer token; for an app (`authorization_code`, `refresh_token`), with a
/// refresh token and the scopes granted.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9...", "token_type": "Bearer", "expires_in": 900}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// Apps only: the next refresh token (each refresh token works once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Apps only: the scopes of the token, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "service_requests:read")]
    pub scope: Option<String>,
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn parse_token_request(req: &HttpRequest, body: &[u8]) -> Result<TokenRequest, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut request: TokenRequest = match content_type.as_str() {
        "application/x-www-form-urlencoded" => {
            let errors = super::hygiene::check_pairs(body, Some(super::hygiene::FORM_VALUE_MAX));
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            serde_urlencoded::from_bytes(body).map_err(|e| ApiError::BadRequest {
                code: "bad-form",
                detail: format!("cannot read the form: {e}"),
            })?
        }
        "application/json" => super::body::parse(body)?,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "send the token request as application/x-www-form-urlencoded (or application/json)"
                    .to_owned(),
            ))
        }
    };
    if let Some((id, secret)) = basic_credentials(req) {
        request.client_id.get_or_insert(id);
        request.client_secret.get_or_insert(secret);
    }
    Ok(request)
}

// The token endpoint's error responses: problem documents with the OAuth `error` member.

#[derive(ToResponse)]
#[response(
    description = "The request cannot be read (`error`: `invalid_request`).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:bad-form", "title": "Bad Request", "status": 400,
        "detail": "cannot read the form: invalid percent-encoding", "code": "bad-form",
        "instance": "/api/v1/auth/token", "error": "invalid_request"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TokenBadRequest(crate::error::Problem);

#[derive(ToResponse)]
#[response(
    description = "Wrong or unknown credentials: `error` is `invalid_grant` for a username and password, `invalid_client` for a client id and secret (then with `WWW-Authenticate: Basic`).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:unauthorized", "title": "Unauthorized", "status": 401,
        "detail": "the credentials are not valid", "code": "unauthorized",
        "instance": "/api/v1/auth/token", "error": "invalid_grant"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TokenUnauthorized(crate::error::Problem);

#[derive(ToResponse)]
#[response(
    description = "The body did not arrive in time (`error`: `invalid_request`).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:request-timeout", "title": "Request Timeout", "status": 408,
        "detail": "the request body did not arrive within 10 seconds", "code": "request-timeout",
        "instance": "/api/v1/auth/token", "error": "invalid_request"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TokenRequestTimeout(crate::error::Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is larger than 16 KiB (`error`: `invalid_request`).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:payload-too-large", "title": "Payload Too Large", "status": 413,
        "detail": "request body larger than 16384 bytes", "code": "payload-too-large",
        "instance": "/api/v1/auth/token", "error": "invalid_request"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TokenPayloadTooLarge(crate::error::Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is neither a form nor JSON (`error`: `invalid_request`).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:unsupported-media-type", "title": "Unsupported Media Type", "status": 415,
        "detail": "send the token request as application/x-www-form-urlencoded (or application/json)",
        "code": "unsupported-media-type", "instance": "/api/v1/auth/token", "error": "invalid_request"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TokenUnsupportedMediaType(crate::error::Problem);

#[derive(ToResponse)]
#[response(
    description = "An unknown `grant_type` (`error`: `unsupported_grant_type`) or missing credentials (`invalid_request`).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:validation-failed", "title": "Unprocessable Entity", "status": 422,
        "detail": "invalid request: grant_type: unsupported grant type \"implicit\"; use password, client_credentials, authorization_code or refresh_token",
        "code": "validation-failed", "instance": "/api/v1/auth/token", "error": "unsupported_grant_type",
        "errors": [{"field": "grant_type", "message": "unsupported grant type \"implicit\"; use password, client_credentials, authorization_code or refresh_token"}]})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TokenUnprocessable(crate::error::Problem);

#[derive(ToResponse)]
#[response(
    description = "Too many failed attempts for this account or client (from this address) or from this address in the current window; retry after `Retry-After` seconds, when the window ends. `error` is `invalid_grant` or `invalid_client`.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:too-many-requests", "title": "Too Many Requests", "status": 429,
        "detail": "too many attempts; retry after 412 seconds", "code": "too-many-requests",
        "instance": "/api/v1/auth/token", "error": "invalid_grant"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TokenTooManyRequests(crate::error::Problem);

#[derive(ToResponse)]
#[response(
    description = "The server is checking as many secrets as it allows at once, or the database is unavailable; retry after `Retry-After` seconds (`error`: `temporarily_unavailable`).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:unavailable", "title": "Service Unavailable", "status": 503,
        "detail": "too many sign-ins are being checked right now; retry shortly", "code": "unavailable",
        "instance": "/api/v1/auth/token", "error": "temporarily_unavailable"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct TokenUnavailable(crate::error::Problem);

/// Get an access token
///
/// Exchanges a username and password (`grant_type=password`) or a client id and secret
/// (`grant_type=client_credentials`, in the form or as HTTP Basic) for a short-lived bearer
/// token. Wrong credentials and unknown accounts get the same 401. Failed checks are limited per
/// 15-minute window (by default 5 per account or client from one address, 20 per account from all
/// addresses, 50 per address); beyond a limit the attempt gets 429 with `Retry-After` (the end of
/// the window) without being checked or counted. When the server is already checking as many
/// secrets as it allows at once, the attempt gets 503 with `Retry-After` at once.
///
/// Every error is a problem document that also carries the OAuth 2.0 `error` code (RFC 6749
/// section 5.2), so OAuth client libraries understand it: `invalid_request` (unreadable or
/// incomplete request), `unsupported_grant_type`, `invalid_grant` (wrong username or password,
/// or that account's attempts are used up for now), `invalid_client` (wrong client id or secret,
/// or that client's attempts from this address are used up), and `temporarily_unavailable` (503).
/// Statuses are as everywhere in cogov; a wrong client answers 401 with
/// `WWW-Authenticate: Basic`.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "access",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token.", body = TokenResponse),
        (status = 400, response = TokenBadRequest),
        (status = 401, response = TokenUnauthorized),
        (status = 408, response = TokenRequestTimeout),
        (status = 413, response = TokenPayloadTooLarge),
        (status = 415, response = TokenUnsupportedMediaType),
        (status = 422, response = TokenUnprocessable),
        (status = 429, response = TokenTooManyRequests),
        (status = 503, response = TokenUnavailable)))]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_token_body(payload, state.protection.body_read_timeout)
        .await
        .map_err(|e| e.oauth("invalid_request"))?;
    let request = parse_token_request(&req, &body).map_err(|e| e.oauth("invalid_request"))?;
    exchange(state, req, request).await.map_err(|e| match e {
        ApiError::OAuth { .. } => e,
        ApiError::Unavailable(_) => e.oauth("temporarily_unavailable"),
        ApiError::Internal(_) => e.oauth("server_error"),
        other => other.oauth("invalid_request"),
    })
}

/// Token requests are small forms; anything near this is not one.
const TOKEN_BODY_LIMIT: usize = 16 * 1024;

/// Reads the token request's body, at most [`TOKEN_BODY_LIMIT`] bytes within `timeout`.
async fn read_token_body(
    mut payload: web::Payload,
    timeout: std::time::Duration,
) -> Result<web::BytesMut, ApiError> {
    use futures_util::StreamExt;
    let read = async move {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest {
                code: "unreadable-body",
                detail: format!("cannot read the request body: {e}"),
            })?;
            if body.len() + chunk.len() > TOKEN_BODY_LIMIT {
                return Err(ApiError::PayloadTooLarge(TOKEN_BODY_LIMIT));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    actix_web::rt::time::timeout(timeout, read)
        .await
        .map_err(|_| ApiError::body_timeout(timeout.as_secs()))?
}

/// The credentials of a token request, or why it has none.
fn credentials(req: &HttpRequest, request: TokenRequest) -> Result<sign_in::Credentials, ApiError> {
    let (kind, key, secret) = match request.grant_type.as_str() {
        "password" => (
            Kind::Account,
            request.username.unwrap_or_default().trim().to_lowercase(),
            request.password.unwrap_or_default(),
        ),
        "client_credentials" => (
            Kind::Client,
            request.client_id.unwrap_or_default(),
            request.client_secret.unwrap_or_default(),
        ),
        other => {
            return Err(ApiError::validation(
                "grant_type",
                format!("unsupported grant type {other:?}; use password, client_credentials, authorization_code or refresh_token"),
            )
            .oauth("unsupported_grant_type"))
        }
    };
    if key.is_empty() || secret.is_empty() {
        let (field, message) = match kind {
            Kind::Account => ("username", "the password grant needs username and password"),
            Kind::Client => (
                "client_id",
                "client_credentials needs client_id and client_secret (in the form or as HTTP Basic)",
            ),
        };
        return Err(ApiError::validation(field, message).oauth("invalid_request"));
    }
    Ok(sign_in::Credentials {
        kind,
        key,
        secret,
        address: throttle::address_key(req.peer_addr().map(|a| a.ip())),
    })
}

async fn exchange(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: TokenRequest,
) -> Result<HttpResponse, ApiError> {
    let ctx = crate::commands::Context::new(
        Principal::anonymous(),
        RequestFacts::of(&req),
        "/api/v1/auth/token",
    );
    if matches!(
        request.grant_type.as_str(),
        "authorization_code" | "refresh_token"
    ) {
        return app_exchange(&state, &ctx, request).await;
    }
    let credentials = credentials(&req, request)?;
    let issued = sign_in::sign_in(
        &ctx,
        &state.db,
        &state.protection,
        &state.tokens,
        credentials,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .json(TokenResponse {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token: None,
            scope: None,
        }))
}

/// A form field the grant needs, or `invalid_request` naming it.
fn needed(value: Option<String>, field: &str, grant: &str) -> Result<String, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::validation(field, format!("{grant} needs {field}")).oauth("invalid_request")
    })
}

/// The grants of third-party apps: an authorization code with its PKCE verifier, or a refresh
/// token (rotated on every use).
async fn app_exchange(
    state: &AppState,
    ctx: &crate::commands::Context,
    request: TokenRequest,
) -> Result<HttpResponse, ApiError> {
    use crate::commands::apps;
    let grant = request.grant_type.clone();
    let client = apps::ClientAuth {
        client_id: needed(request.client_id, "client_id", &grant)?,
        client_secret: request.client_secret.filter(|s| !s.is_empty()),
    };
    let tokens = if grant == "authorization_code" {
        let code = needed(request.code, "code", &grant)?;
        let redirect_uri = needed(request.redirect_uri, "redirect_uri", &grant)?;
        let verifier = needed(request.code_verifier, "code_verifier", &grant)?;
        apps::exchange_code(
            ctx,
            &state.db,
            &state.tokens,
            client,
            &code,
            &redirect_uri,
            &verifier,
        )
        .await?
    } else {
        let refresh_token = needed(request.refresh_token, "refresh_token", &grant)?;
        apps::refresh(
            ctx,
            &state.db,
            &state.tokens,
            client,
            &refresh_token,
            request.scope.as_deref(),
        )
        .await?
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: tokens.access_token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
            refresh_token: Some(tokens.refresh_token),
            scope: Some(tokens.scope),
        }))
}

/// A role someone holds: granted (`district_admin`, `council_staff`, `family`, `partner`) or
/// derived from holding a seat (`council_member`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    DistrictAdmin,
    CouncilStaff,
    CouncilMember,
    Family,
    Partner,
}

/// One role, and the council it is for when it is per council.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"role": "council_staff", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"}))]
pub struct RoleRef {
    pub role: RoleName,
    /// `null` for district-wide roles.
    pub council_id: Option<Uuid>,
}

/// Reads roles written as `role` or `role:council_id`, space-separated (as the audit trail
/// stores them).
pub fn parse_roles<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<RoleRef>, ApiError> {
    names
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(|name| {
            let (role, council) = match name.split_once(':') {
                Some((r, c)) => (r, Some(c)),
                None => (name, None),
            };
            let role: RoleName = serde_json::from_value(serde_json::Value::String(role.to_owned()))
                .map_err(|_| ApiError::Internal(format!("stored role {name:?} unknown")))?;
            let council_id = council
                .map(|c| db::stored_uuid("council id", c))
                .transpose()?;
            Ok(RoleRef { role, council_id })
        })
        .collect()
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"actor": "person", "person_id": "01936d4e-7000-7000-8000-00000000a001", "client_id": null,
    "roles": [{"role": "council_staff", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"},
              {"role": "council_member", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"}],
    "seats": [{"seat_id": "01936d4e-8000-7000-8000-00000000b001", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
        "council_name": "Roosevelt Steering Committee", "title": "Parent representative", "constituency": "families",
        "started_on": "2026-09-01", "ended_on": null, "current": true}]}))]
pub struct Me {
    /// `person` or `client`.
    pub actor: &'static str,
    pub person_id: Option<String>,
    pub client_id: Option<String>,
    /// Granted roles, and `council_member` for each council where the caller holds a seat.
    pub roles: Vec<RoleRef>,
    /// The seats the caller holds now, on any council.
    pub seats: Vec<super::people::SeatHeldResponse>,
}

/// The caller
#[utoipa::path(get, path = "/api/v1/me", tag = "access", security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in caller, their roles and their seats.", body = Me),
        (status = 401, response = super::problems::Unauthorized),
        super::problems::ReadErrors))]
pub async fn me(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
) -> Result<HttpResponse, ApiError> {
    let seats = commands::access::my_seats(&ctx, &state.db)?
        .into_iter()
        .map(super::people::SeatHeldResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let caller = ctx.caller;
    let (actor, person_id, client_id) = match &caller.actor {
        crate::auth::Actor::Person(id) => ("person", Some(id.clone()), None),
        crate::auth::Actor::Client(id) => ("client", None, Some(id.clone())),
        crate::auth::Actor::Anonymous => ("anonymous", None, None),
    };
    let names = caller.role_names();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .json(Me {
            actor,
            person_id,
            client_id,
            roles: parse_roles(names.iter().map(String::as_str))?,
            seats,
        }))
}

/// A role granted to a person or an API client.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-b000-7000-8000-00000000e001", "subject_kind": "person",
    "subject_id": "01936d4e-7000-7000-8000-00000000a001", "role": "council_staff",
    "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "created_at": "2026-11-25T08:41:42.123456Z", "version": 1}))]
pub struct GrantResponse {
    pub id: Uuid,
    /// `person` or `client`.
    pub subject_kind: String,
    /// A person id, or an API client's `client_id`.
    pub subject_id: String,
    pub role: Role,
    pub council_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<GrantRow> for GrantResponse {
    type Error = ApiError;
    fn try_from(g: GrantRow) -> Result<Self, ApiError> {
        Ok(GrantResponse {
            id: db::stored_uuid("grant id", &g.id)?,
            role: Role::parse(&g.role)
                .ok_or_else(|| ApiError::Internal(format!("stored role {:?} unknown", g.role)))?,
            subject_kind: g.subject_kind,
            subject_id: g.subject_id,
            council_id: g
                .council_id
                .as_deref()
                .map(|c| db::stored_uuid("council id", c))
                .transpose()?,
            created_at: g.created_at.and_utc(),
            version: g.version,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Person,
    Client,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject_kind": "person", "subject_id": "01936d4e-7000-7000-8000-00000000a001",
    "role": "council_staff", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"}))]
pub struct CreateGrant {
    pub subject_kind: SubjectKind,
    /// A person id, or an API client's `client_id`.
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub subject_id: String,
    pub role: Role,
    /// Required for `council_staff`; not allowed for other roles.
    pub council_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GrantListParams {
    pub subject_id: Option<String>,
    pub council_id: Option<Uuid>,
    pub role: Option<Role>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GrantList {
    pub items: Vec<GrantResponse>,
    pub next_cursor: Option<String>,
}

/// List grants
#[utoipa::path(get, path = "/api/v1/grants", tag = "access", security(("bearer" = [])), params(GrantListParams),
    responses(
        (status = 200, description = "A page of grants.", body = GrantList),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ListErrors))]
pub async fn list_grants(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<GrantListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = access::grant::GrantFilter {
        subject_id: params.subject_id,
        council_id: params.council_id.map(|c| c.to_string()),
        role: params.role.map(|r| r.as_str().to_owned()),
    };
    let rows = commands::access::list_grants(
        &ctx,
        &state.db,
        &filter,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |g| &g.id);
    let items = rows
        .into_iter()
        .map(GrantResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Grant a role
#[utoipa::path(post, path = "/api/v1/grants", tag = "access", security(("bearer" = [])), request_body = CreateGrant,
    responses(
        (status = 201, description = "Granted.", body = GrantResponse),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_grant(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateGrant>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let grant = commands::access::NewGrant {
        subject: match body.subject_kind {
            SubjectKind::Person => commands::access::Subject::Person,
            SubjectKind::Client => commands::access::Subject::Client,
        },
        subject_id: body.subject_id,
        role: body.role,
        council_id: body.council_id.map(Into::into),
    };
    let row = commands::access::create_grant(&ctx, &state.db, grant).await?;
    let version = row.version;
    let location = format!("/api/v1/grants/{}", row.id);
    Ok(created_response(
        location,
        &GrantResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// Revoke a role
#[utoipa::path(delete, path = "/api/v1/grants/{grant_id}", tag = "access", security(("bearer" = [])),
    params(("grant_id" = Uuid, Path, description = "The grant's id"),
           ("If-Match" = String, Header, description = "The grant's current ETag")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::DeleteErrors))]
pub async fn delete_grant(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = super::preconditions::expected(&req)?;
    commands::access::delete_grant(&ctx, &state.db, id.into_inner().into(), expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-c000-7000-8000-00000000f001", "occurred_at": "2026-11-25T08:41:42.123456Z",
    "actor_kind": "person", "actor_id": "01936d4e-7000-7000-8000-00000000a001", "roles": [{"role": "district_admin", "council_id": null}],
    "action": "read", "resource": "/api/v1/people/{person_id}", "resource_id": "01936d4e-7000-7000-8000-00000000a002",
    "outcome": "allowed", "status": 200, "request_id": "01936d4e-6000-7000-8000-000000000001",
    "client_address": "203.0.113.7", "user_agent": "district-sync/2.1"}))]
pub struct AuditEventResponse {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// `anonymous`, `person` or `client`.
    pub actor_kind: String,
    /// Person id or API client id.
    pub actor_id: Option<String>,
    /// The caller's roles at the time.
    pub roles: Vec<RoleRef>,
    /// `read`, `list`, `create`, `update`, `delete`, `sign_in` or `authenticate`.
    pub action: String,
    /// The route template (e.g. `/api/v1/people/{person_id}`), or `account`/`api_client` for sign-ins.
    pub resource: String,
    pub resource_id: Option<String>,
    /// `allowed`, `denied` or `failed`.
    pub outcome: String,
    pub status: i64,
    pub request_id: Option<String>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    /// The third-party app that acted for the person (its OAuth `client_id`), when the request
    /// came with a token the family granted to an app; absent otherwise.
    #[schema(example = "app_4f1c2b9e")]
    pub app_client_id: Option<String>,
}

impl TryFrom<AuditEvent> for AuditEventResponse {
    type Error = ApiError;

    fn try_from(e: AuditEvent) -> Result<Self, ApiError> {
        Ok(AuditEventResponse {
            id: db::stored_uuid("audit event id", &e.id)?,
            occurred_at: e.occurred_at.and_utc(),
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            roles: parse_roles(e.roles.split(' '))?,
            action: e.action,
            resource: e.resource,
            resource_id: e.resource_id,
            outcome: e.outcome,
            status: e.status,
            request_id: e.request_id,
            client_address: e.client_address,
            user_agent: e.user_agent,
            app_client_id: e.app_client_id,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditListParams {
    pub actor_id: Option<String>,
    /// A route template such as `/api/v1/people/{person_id}`.
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// `json` (default, paged) or `csv` (every matching event, up to 100,000, as one file).
    #[param(value_type = Option<AuditFormat>, inline)]
    pub format: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventList {
    pub items: Vec<AuditEventResponse>,
    pub next_cursor: Option<String>,
}

/// The audit trail
///
/// Every write and every read of protected records, with who, when, what and the outcome: the
/// record of disclosures FERPA requires. Append-only: no endpoint changes or deletes it.
/// `format=csv` exports every matching event as CSV.
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "access", security(("bearer" = [])), params(AuditListParams),
    responses(
        (status = 200, description = "A page of events, oldest first (or a CSV file with `format=csv`).",
            content((AuditEventList = "application/json"), (String = "text/csv"))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ListErrors))]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<AuditListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let filter = access::audit::AuditFilter {
        actor_id: params.actor_id,
        resource: params.resource,
        resource_id: params.resource_id,
        action: params.action,
        outcome: params.outcome,
        since: params.since.map(|t| t.naive_utc()),
        until: params.until.map(|t| t.naive_utc()),
    };
    match params.format.as_deref() {
        None | Some("json") => {}
        Some("csv") => {
            let db = state.db.clone();
            // An export can be large: build it on the blocking pool, not on a request worker.
            let export =
                web::block(move || commands::access::export_audit_events(&ctx, &db, &filter))
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))??;
            let mut res = HttpResponse::Ok();
            res.content_type("text/csv; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, CACHE_NONE))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit-events.csv\"",
                ));
            if export.truncated {
                // The export stopped at its cap: say so, and how far it got.
                res.insert_header((
                    "Export-Truncated",
                    commands::access::CSV_MAX_ROWS.to_string(),
                ));
            }
            return Ok(res.body(export.csv));
        }
        Some(_) => return Err(ApiError::validation("format", "must be json or csv")),
    }
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = commands::access::list_audit_events(
        &ctx,
        &state.db,
        &filter,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |e| &e.id);
    let items = rows
        .into_iter()
        .map(AuditEventResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}
