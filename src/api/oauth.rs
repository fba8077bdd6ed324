//! OAuth 2.0 for third-party apps: authorization server metadata (RFC 8414), token revocation
//! (RFC 7009), and the authorization endpoint with its sign-in and consent page. The token
//! endpoint is `/api/v1/auth/token` (see `access`). See docs/APPS.md.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::preconditions::CACHE_NONE;
use crate::auth::{Principal, RequestFacts};
use crate::commands::{apps, Context};
use crate::domain::apps::ALL_SCOPES;
use crate::error::ApiError;
use crate::state::AppState;

/// The server's address as the caller reached it (`scheme://host`), for absolute URLs.
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// Authorization server metadata (RFC 8414).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "issuer": "https://cogov.district.example",
    "authorization_endpoint": "https://cogov.district.example/oauth/authorize",
    "token_endpoint": "https://cogov.district.example/api/v1/auth/token",
    "revocation_endpoint": "https://cogov.district.example/oauth/revoke",
    "scopes_supported": ["service_requests:read", "service_requests:write", "public:read"],
    "response_types_supported": ["code"],
    "grant_types_supported": ["authorization_code", "refresh_token"],
    "code_challenge_methods_supported": ["S256"],
    "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
    "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
    "authorization_response_iss_parameter_supported": true,
    "service_documentation": "https://cogov.district.example/api/v1/openapi.json",
    "ui_locales_supported": ["en", "es"]
}))]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    /// Only S256: the plain method is refused.
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The redirect back to the app carries `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
    pub service_documentation: String,
    pub ui_locales_supported: Vec<&'static str>,
}

/// Authorization server metadata
///
/// What OAuth client libraries read to find the endpoints (RFC 8414): the authorization
/// endpoint, the token endpoint, revocation, the scopes, and that PKCE is S256 only.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "apps",
    responses((status = 200, description = "The metadata.", body = AuthorizationServerMetadata)))]
pub async fn metadata(req: HttpRequest) -> HttpResponse {
    let base = base_url(&req);
    let auth_methods = vec!["none", "client_secret_basic", "client_secret_post"];
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(AuthorizationServerMetadata {
            issuer: base.clone(),
            authorization_endpoint: format!("{base}/oauth/authorize"),
            token_endpoint: format!("{base}/api/v1/auth/token"),
            revocation_endpoint: format!("{base}/oauth/revoke"),
            scopes_supported: ALL_SCOPES.iter().map(|s| s.as_str()).collect(),
            response_types_supported: vec!["code"],
            grant_types_supported: vec!["authorization_code", "refresh_token"],
            code_challenge_methods_supported: vec!["S256"],
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            authorization_response_iss_parameter_supported: true,
            service_documentation: format!("{base}/api/v1/openapi.json"),
            ui_locales_supported: vec!["en", "es"],
        })
}

/// A revocation request (RFC 7009), form-encoded. The app authenticates with its `client_id`
/// (and, when confidential, its secret in the form or as HTTP Basic).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"token": "c2VjcmV0IHJlZnJlc2ggdG9rZW4...", "token_type_hint": "refresh_token", "client_id": "app_3f9a1c0d2b7e4a6f8c1d2e3f"}))]
pub struct RevocationRequest {
    #[schema(max_length = 8192)]
    pub token: Option<String>,
    /// `refresh_token` or `access_token` (a hint only: both are looked for).
    pub token_type_hint: Option<String>,
    #[schema(max_length = 200)]
    pub client_id: Option<String>,
    #[schema(max_length = 200)]
    pub client_secret: Option<String>,
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // RFC 6749 section 2.3.1: the parts are form-encoded before Basic encoding.
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// Revoke a token
///
/// An app gives up its access (RFC 7009): revoking its refresh token or an access token ends the
/// family's grant to the app, and every token of that grant stops working at once. An unknown or
/// already revoked token is answered 200 as well.
#[utoipa::path(post, path = "/oauth/revoke", tag = "apps",
    request_body(content = RevocationRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke."),
        (status = 400, response = super::access::TokenBadRequest),
        (status = 401, description = "The app's client credentials are not valid (`error`: `invalid_client`).",
            body = crate::error::Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:cogov:problem:unauthorized", "title": "Unauthorized", "status": 401,
                "detail": "the app's client credentials are not valid", "code": "unauthorized", "error": "invalid_client"})),
        (status = 413, response = super::access::TokenPayloadTooLarge),
        (status = 415, response = super::access::TokenUnsupportedMediaType)))]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(ApiError::UnsupportedMediaType(
            "send the revocation request as application/x-www-form-urlencoded".to_owned(),
        )
        .oauth("invalid_request"));
    }
    if body.len() > 16 * 1024 {
        return Err(ApiError::PayloadTooLarge(16 * 1024).oauth("invalid_request"));
    }
    let mut form: RevocationRequest =
        serde_urlencoded::from_bytes(&body).map_err(|e| {
            ApiError::BadRequest {
                code: "bad-form",
                detail: format!("cannot read the form: {e}"),
            }
            .oauth("invalid_request")
        })?;
    if let Some((id, secret)) = basic_credentials(&req) {
        form.client_id.get_or_insert(id);
        form.client_secret.get_or_insert(secret);
    }
    let token = form.token.filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiError::validation("token", "name the token to revoke").oauth("invalid_request")
    })?;
    let client_id = form.client_id.filter(|c| !c.is_empty()).ok_or_else(|| {
        ApiError::Unauthorized("the app must say who it is (client_id)".to_owned())
            .oauth("invalid_client")
    })?;
    let ctx = Context::new(Principal::anonymous(), RequestFacts::of(&req), "/oauth/revoke");
    apps::revoke_token(
        &ctx,
        &state.db,
        &state.tokens,
        apps::ClientAuth {
            client_id,
            client_secret: form.client_secret.filter(|s| !s.is_empty()),
        },
        &token,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .finish())
}
