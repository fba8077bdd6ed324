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
use super::paging::{list_response, split_page, PageRequest};
use super::preconditions::{created_response, IfMatch, CACHE_NONE};
use crate::auth::throttle::{self, Kind};
use crate::auth::{audit_event, policy, require, secrets, Principal, RequestFacts, Role, SignedIn};
use crate::db::access::{self, Account, ApiClient, AuditEvent, GrantRow};
use crate::db::{self, Db};
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// Most rows one CSV export holds.
const CSV_MAX_ROWS: i64 = 100_000;

/// A token request, OAuth 2.0 style: form-encoded (or JSON). `password` grants sign a person in;
/// `client_credentials` grants sign a script in (the client may also authenticate with HTTP Basic).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "client_credentials", "client_id": "cl_reports", "client_secret": "s3cr3t..."}))]
pub struct TokenRequest {
    /// `password` or `client_credentials`.
    pub grant_type: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Accepted and ignored: access is decided by grants, not scopes.
    pub scope: Option<String>,
}

/// A short-lived bearer token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9...", "token_type": "Bearer", "expires_in": 900}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
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
    let mut request: TokenRequest =
        match content_type.as_str() {
            "application/x-www-form-urlencoded" => {
                serde_urlencoded::from_bytes(body).map_err(|e| ApiError::BadRequest {
                    code: "bad-form",
                    detail: format!("cannot read the form: {e}"),
                })?
            }
            "application/json" => super::body::parse(body)?,
            _ => return Err(ApiError::UnsupportedMediaType(
                "send the token request as application/x-www-form-urlencoded (or application/json)"
                    .to_owned(),
            )),
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
        "detail": "invalid request: grant_type: unsupported grant type \"implicit\"; use password or client_credentials",
        "code": "validation-failed", "instance": "/api/v1/auth/token", "error": "unsupported_grant_type",
        "errors": [{"field": "grant_type", "message": "unsupported grant type \"implicit\"; use password or client_credentials"}]})
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

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized("the credentials are not valid".to_owned())
}

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

/// Runs a change of the sign-in counters in a transaction of its own, committed at once, on the
/// blocking pool. Not in the writer's group commit: a batch holds the row locks of all its writes
/// until it commits, in the order the writes arrived, so two batches taking counters of different
/// attempts in different orders could deadlock on PostgreSQL. Alone, each transaction takes its
/// counters in one fixed order (see `throttle::Attempt`), and holds them for a few statements.
async fn counters_transaction(
    db: &Db,
    change: impl FnOnce(&mut db::AnyConnection) -> Result<(), ApiError> + Send + 'static,
) -> Result<(), ApiError> {
    let db = db.clone();
    web::block(move || db.write_blocking(change))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// The credentials are wrong (or the account unknown, or a limit is reached): `invalid_grant`
/// for a person's password, `invalid_client` for an API client (RFC 6749 section 5.2).
fn refused(kind: Kind, err: ApiError) -> ApiError {
    err.oauth(match kind {
        Kind::Account => "invalid_grant",
        Kind::Client => "invalid_client",
    })
}

async fn exchange(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: TokenRequest,
) -> Result<HttpResponse, ApiError> {
    let (kind, key, secret) = match request.grant_type.as_str() {
        "password" => (
            Kind::Account,
            request
                .username
                .clone()
                .unwrap_or_default()
                .trim()
                .to_lowercase(),
            request.password.clone().unwrap_or_default(),
        ),
        "client_credentials" => (
            Kind::Client,
            request.client_id.clone().unwrap_or_default(),
            request.client_secret.clone().unwrap_or_default(),
        ),
        other => {
            return Err(ApiError::validation(
                "grant_type",
                format!("unsupported grant type {other:?}; use password or client_credentials"),
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
    if key.len() > 200 || secret.len() > 1024 {
        return Err(refused(kind, invalid_credentials()));
    }
    // Checking a secret costs ~19 MiB and tens of milliseconds: beyond the bound, refuse at once
    // rather than queue (a queue would grow with a flood, and so would memory).
    let permit = state.protection.hashing.try_permit().map_err(|_| {
        ApiError::Unavailable(
            "too many sign-ins are being checked right now; retry shortly".to_owned(),
        )
    })?;
    let facts = RequestFacts::of(&req);
    let (stored, subject) = state.db.read(|conn| {
        let found: Option<(String, String)> = if kind == Kind::Account {
            access::account::by_username(conn, &key)?
                .filter(|a| !a.disabled)
                .and_then(|a| {
                    a.password_hash
                        .map(|h| (h, format!("person:{}", a.person_id)))
                })
        } else {
            access::client::by_client_id(conn, &key)?
                .filter(|c| !c.disabled)
                .map(|c| (c.secret_hash, format!("client:{}", c.client_id)))
        };
        Ok::<_, ApiError>(
            found
                .map(|(h, s)| (Some(h), Some(s)))
                .unwrap_or((None, None)),
        )
    })?;
    let resource = if kind == Kind::Account {
        "account"
    } else {
        "api_client"
    };
    let record = |status: u16| {
        let mut event = audit_event(
            &Principal::anonymous(),
            &facts,
            "sign_in",
            resource,
            Some(key.clone()),
            status,
        );
        if let Some(s) = &subject {
            let (k, id) = s.split_once(':').unwrap_or(("", s));
            event.actor_kind = if k == "client" {
                "client".to_owned()
            } else {
                "person".to_owned()
            };
            event.actor_id = Some(id.to_owned());
        }
        event
    };
    let limits = &state.protection.sign_in;
    let now = db::now();
    let address = throttle::address_key(req.peer_addr().map(|a| a.ip()));
    let attempt = limits.attempt(kind, &key, &address, now);
    let refusal = record(429);
    let reservation = attempt.clone();
    let counted = counters_transaction(&state.db, move |conn| {
        // Counters of past windows limit nothing; an occasional sweep keeps the table small.
        if rand::random::<u8>() < 4 {
            access::throttle::forget_before(conn, reservation.window_start)?;
        }
        if reservation.reserve(conn)? {
            Ok(())
        } else {
            // Nothing of a refused attempt counts: returning Err undoes any counter this
            // transaction already raised.
            Err(ApiError::TooManyRequests(0))
        }
    })
    .await;
    match counted {
        Ok(()) => {}
        Err(ApiError::TooManyRequests(_)) => {
            state
                .db
                .write(move |conn| access::audit::record(conn, &refusal).map_err(ApiError::from))
                .await?;
            return Err(refused(
                kind,
                ApiError::TooManyRequests(limits.seconds_left(attempt.window_start, db::now())),
            ));
        }
        Err(other) => return Err(other),
    }
    let ok = state
        .protection
        .hashing
        .verify(permit, secret, stored)
        .await
        .map_err(ApiError::Internal)?;
    if ok {
        counters_transaction(&state.db, move |conn| {
            attempt.release(conn).map_err(ApiError::from)
        })
        .await?;
    }
    let event = record(if ok { 200 } else { 401 });
    state
        .db
        .write(move |conn| access::audit::record(conn, &event).map_err(ApiError::from))
        .await?;
    let Some(subject) = subject.filter(|_| ok) else {
        return Err(refused(kind, invalid_credentials()));
    };
    let (access_token, expires_in) = state.tokens.issue(&subject).map_err(ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
        }))
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"actor": "person", "person_id": "01936d4e-7000-7000-8000-00000000a001", "client_id": null,
    "roles": ["council_staff:01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "council_member:01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"]}))]
pub struct Me {
    /// `person` or `client`.
    pub actor: &'static str,
    pub person_id: Option<String>,
    pub client_id: Option<String>,
    /// Roles as `role` or `role:council_id`; `council_member:<id>` is derived from holding a seat.
    pub roles: Vec<String>,
}

/// The caller
#[utoipa::path(get, path = "/api/v1/me", tag = "access", security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in caller and their roles.", body = Me),
        (status = 401, response = super::problems::Unauthorized),
        super::problems::ReadErrors))]
pub async fn me(SignedIn(caller): SignedIn) -> Result<HttpResponse, ApiError> {
    let (actor, person_id, client_id) = match &caller.actor {
        crate::auth::Actor::Person(id) => ("person", Some(id.clone()), None),
        crate::auth::Actor::Client(id) => ("client", None, Some(id.clone())),
        crate::auth::Actor::Anonymous => ("anonymous", None, None),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .json(Me {
            actor,
            person_id,
            client_id,
            roles: caller.role_names(),
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
            id: Uuid::parse_str(&g.id).unwrap_or_default(),
            role: Role::parse(&g.role)
                .ok_or_else(|| ApiError::Internal(format!("stored role {:?} unknown", g.role)))?,
            subject_kind: g.subject_kind,
            subject_id: g.subject_id,
            council_id: g
                .council_id
                .as_deref()
                .and_then(|c| Uuid::parse_str(c).ok()),
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
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    params: web::Query<GrantListParams>,
) -> Result<HttpResponse, ApiError> {
    require(policy::district_admin_only(&caller), "grants", "")?;
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = access::grant::GrantFilter {
        subject_id: params.subject_id,
        council_id: params.council_id.map(|c| c.to_string()),
        role: params.role.map(|r| r.as_str().to_owned()),
    };
    let rows = state.db.read(|conn| {
        access::grant::list(conn, &filter, page.after.as_deref(), page.fetch())
            .map_err(ApiError::from)
    })?;
    let (rows, next) = split_page(rows, &page, |g| &g.id);
    let items = rows
        .into_iter()
        .map(GrantResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let mut res = list_response(&req, &items, next);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(CACHE_NONE),
    );
    Ok(res)
}

fn check_grant(conn: &mut db::AnyConnection, body: &CreateGrant) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    match (body.role, body.council_id) {
        (Role::CouncilStaff, None) => errors.push(FieldError::new(
            "council_id",
            "council_staff needs the council",
        )),
        (Role::CouncilStaff, Some(c)) => {
            if db::councils::find(conn, &c.to_string())?.is_none() {
                errors.push(FieldError::new("council_id", "no council with this id"));
            }
        }
        (_, Some(_)) => errors.push(FieldError::new(
            "council_id",
            "only council_staff is granted per council",
        )),
        (_, None) => {}
    }
    let exists = match body.subject_kind {
        SubjectKind::Person => db::people::find(conn, &body.subject_id)?.is_some(),
        SubjectKind::Client => access::client::by_client_id(conn, &body.subject_id)?.is_some(),
    };
    if !exists {
        errors.push(FieldError::new(
            "subject_id",
            "no such person or API client",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Checks a grant request and stores it: the one way a role is granted (endpoint and bootstrap).
fn grant_role(conn: &mut db::AnyConnection, body: &CreateGrant) -> Result<GrantRow, ApiError> {
    check_grant(conn, body)?;
    let now = db::now();
    let row = GrantRow {
        id: Uuid::now_v7().to_string(),
        subject_kind: match body.subject_kind {
            SubjectKind::Person => "person",
            SubjectKind::Client => "client",
        }
        .to_owned(),
        subject_id: body.subject_id.clone(),
        role: body.role.as_str().to_owned(),
        council_id: body.council_id.map(|c| c.to_string()),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    access::grant::insert(conn, &row).map_err(|e| match ApiError::from(e) {
        ApiError::Conflict {
            code: "duplicate", ..
        } => ApiError::Conflict {
            code: "duplicate",
            detail: "this role is already granted".to_owned(),
        },
        other => other,
    })?;
    Ok(row)
}

/// A grant request from the command line's words.
fn grant_request(
    subject_kind: SubjectKind,
    subject_id: String,
    role: &str,
    council: Option<String>,
) -> Result<CreateGrant, ApiError> {
    let role = Role::parse(role).ok_or_else(|| {
        ApiError::validation(
            "role",
            "must be district_admin, council_staff, family or partner",
        )
    })?;
    let council_id = council
        .map(|c| Uuid::parse_str(&c))
        .transpose()
        .map_err(|_| ApiError::validation("council", "not a council id"))?;
    Ok(CreateGrant {
        subject_kind,
        subject_id,
        role,
        council_id,
    })
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
    SignedIn(caller): SignedIn,
    body: JsonBody<CreateGrant>,
) -> Result<HttpResponse, ApiError> {
    require(policy::district_admin_only(&caller), "grants", "")?;
    let body = body.into_inner();
    let row = state
        .db
        .write(move |conn| {
            let row = grant_role(conn, &body)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
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
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    require(policy::district_admin_only(&caller), "grants", "")?;
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            let row =
                access::grant::find(conn, &id)?.ok_or_else(|| ApiError::not_found("grant", &id))?;
            if_match.check(row.version)?;
            access::grant::delete(conn, &row)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-c000-7000-8000-00000000f001", "occurred_at": "2026-11-25T08:41:42.123456Z",
    "actor_kind": "person", "actor_id": "01936d4e-7000-7000-8000-00000000a001", "roles": "district_admin",
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
    /// The caller's roles at the time, space-separated.
    pub roles: String,
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
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(e: AuditEvent) -> Self {
        AuditEventResponse {
            id: Uuid::parse_str(&e.id).unwrap_or_default(),
            occurred_at: e.occurred_at.and_utc(),
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            roles: e.roles,
            action: e.action,
            resource: e.resource,
            resource_id: e.resource_id,
            outcome: e.outcome,
            status: e.status,
            request_id: e.request_id,
            client_address: e.client_address,
            user_agent: e.user_agent,
        }
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
        (status = 200, description = "A page of events, oldest first (or a CSV file with `format=csv`).", body = AuditEventList,
            content_type = "application/json"),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ListErrors))]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    params: web::Query<AuditListParams>,
) -> Result<HttpResponse, ApiError> {
    require(policy::district_admin_only(&caller), "audit events", "")?;
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
            let csv = web::block(move || audit_csv(&db, &filter))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??;
            return Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, CACHE_NONE))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit-events.csv\"",
                ))
                .body(csv));
        }
        Some(_) => return Err(ApiError::validation("format", "must be json or csv")),
    }
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = state.db.read(|conn| {
        access::audit::list(conn, &filter, page.after.as_deref(), page.fetch())
            .map_err(ApiError::from)
    })?;
    let (rows, next) = split_page(rows, &page, |e| &e.id);
    let items: Vec<AuditEventResponse> = rows.into_iter().map(Into::into).collect();
    let mut res = list_response(&req, &items, next);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(CACHE_NONE),
    );
    Ok(res)
}

fn audit_csv(db: &Db, filter: &access::audit::AuditFilter) -> Result<Vec<u8>, ApiError> {
    let rows = db.read(|conn| {
        access::audit::list(conn, filter, None, CSV_MAX_ROWS).map_err(ApiError::from)
    })?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| ApiError::Internal(format!("cannot write CSV: {e}"));
    out.write_record([
        "id",
        "occurred_at",
        "actor_kind",
        "actor_id",
        "roles",
        "action",
        "resource",
        "resource_id",
        "outcome",
        "status",
        "request_id",
        "client_address",
        "user_agent",
    ])
    .map_err(csv_error)?;
    for e in rows {
        let occurred = e
            .occurred_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let status = e.status.to_string();
        out.write_record([
            e.id.as_str(),
            occurred.as_str(),
            e.actor_kind.as_str(),
            e.actor_id.as_deref().unwrap_or(""),
            e.roles.as_str(),
            e.action.as_str(),
            e.resource.as_str(),
            e.resource_id.as_deref().unwrap_or(""),
            e.outcome.as_str(),
            status.as_str(),
            e.request_id.as_deref().unwrap_or(""),
            e.client_address.as_deref().unwrap_or(""),
            e.user_agent.as_deref().unwrap_or(""),
        ])
        .map_err(csv_error)?;
    }
    out.into_inner()
        .map_err(|e| ApiError::Internal(format!("cannot write CSV: {e}")))
}

/// Creates a person with a sign-in account and one role (`cogov admin create-user`, tests).
pub fn bootstrap_user(
    db: &Db,
    username: &str,
    display_name: &str,
    email: Option<String>,
    password: &str,
    role: &str,
    council: Option<String>,
) -> Result<String, ApiError> {
    if password.chars().count() < 12 {
        return Err(ApiError::validation(
            "password",
            "must be at least 12 characters",
        ));
    }
    let username = username.trim().to_lowercase();
    if username.is_empty() || username.len() > 100 {
        return Err(ApiError::validation(
            "username",
            "must be 1 to 100 characters",
        ));
    }
    let hash = secrets::hash(password).map_err(ApiError::Internal)?;
    let now = db::now();
    let person_id = Uuid::now_v7().to_string();
    let grant = grant_request(SubjectKind::Person, person_id.clone(), role, council)?;
    let person = db::people::Person {
        id: person_id.clone(),
        display_name: display_name.to_owned(),
        email,
        phone: None,
        preferred_language: "en".to_owned(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let account = Account {
        id: Uuid::now_v7().to_string(),
        person_id: person.id.clone(),
        username: Some(username),
        password_hash: Some(hash),
        external_subject: None,
        disabled: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    db.write_blocking(|conn| {
        db::people::insert(conn, &person)?;
        access::account::insert(conn, &account)?;
        grant_role(conn, &grant)?;
        Ok::<_, ApiError>(())
    })?;
    Ok(person_id)
}

/// Creates an API client with one role; returns its client id and secret (shown once).
pub fn bootstrap_client(
    db: &Db,
    name: &str,
    role: &str,
    council: Option<String>,
) -> Result<(String, String), ApiError> {
    let client_id = format!("cl_{}", secrets::random(12));
    let grant = grant_request(SubjectKind::Client, client_id.clone(), role, council)?;
    let secret = secrets::random(32);
    let now = db::now();
    let client = ApiClient {
        id: Uuid::now_v7().to_string(),
        client_id: client_id.clone(),
        name: name.to_owned(),
        secret_hash: secrets::hash(&secret).map_err(ApiError::Internal)?,
        disabled: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    db.write_blocking(|conn| {
        access::client::insert(conn, &client)?;
        grant_role(conn, &grant)?;
        Ok::<_, ApiError>(())
    })?;
    Ok((client_id, secret))
}

/// Records the identity provider's subject for a person (creating their account if needed), so
/// that tokens with that `sub` sign them in.
pub fn link_identity(db: &Db, person_id: &str, subject: &str) -> Result<(), ApiError> {
    if subject.is_empty() || subject.len() > 255 {
        return Err(ApiError::validation(
            "subject",
            "must be 1 to 255 characters",
        ));
    }
    db.write_blocking(|conn| {
        if db::people::find(conn, person_id)?.is_none() {
            return Err(ApiError::not_found("person", person_id));
        }
        let now = db::now();
        match access::account::by_person(conn, person_id)? {
            Some(mut account) => {
                account.external_subject = Some(subject.to_owned());
                account.version += 1;
                account.updated_at = now;
                access::account::update(conn, &account)?;
            }
            None => access::account::insert(
                conn,
                &Account {
                    id: Uuid::now_v7().to_string(),
                    person_id: person_id.to_owned(),
                    username: None,
                    password_hash: None,
                    external_subject: Some(subject.to_owned()),
                    disabled: false,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                },
            )?,
        }
        Ok(())
    })
}
