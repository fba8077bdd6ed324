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
    responses(
        (status = 200, description = "The metadata.", body = AuthorizationServerMetadata),
        (status = 401, response = super::problems::Unauthorized),
        (status = 503, response = super::problems::Unavailable)))]
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
    #[schema(max_length = 20)]
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
        (status = 401, response = super::access::TokenUnauthorized),
        (status = 413, response = super::access::TokenPayloadTooLarge),
        (status = 415, response = super::access::TokenUnsupportedMediaType),
        (status = 422, response = super::access::TokenUnprocessable),
        (status = 503, response = super::access::TokenUnavailable)))]
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
    let mut form: RevocationRequest = serde_urlencoded::from_bytes(&body).map_err(|e| {
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
    if form.token_type_hint.as_ref().is_some_and(|h| h.len() > 20) {
        return Err(ApiError::validation(
            "token_type_hint",
            "must be refresh_token or access_token",
        )
        .oauth("invalid_request"));
    }
    let token = form.token.filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiError::validation("token", "name the token to revoke").oauth("invalid_request")
    })?;
    let client_id = form.client_id.filter(|c| !c.is_empty()).ok_or_else(|| {
        ApiError::Unauthorized("the app must say who it is (client_id)".to_owned())
            .oauth("invalid_client")
    })?;
    let ctx = Context::new(
        Principal::anonymous(),
        RequestFacts::of(&req),
        "/oauth/revoke",
    );
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

/// The consent form as the page sends it: the authorization request's parameters (hidden
/// fields), the family's sign-in, and the decision.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct ConsentAnswer {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub code_challenge_method: String,
    /// Not needed to deny.
    pub username: Option<String>,
    /// Not needed to deny.
    pub password: Option<String>,
    /// `allow` or `deny`.
    pub decision: String,
}

/// The parameters of an authorization request, each at most once (RFC 6749 section 3.1);
/// unknown parameters are ignored.
fn authorize_params(
    pairs: &[(String, String)],
) -> Result<(apps::AuthorizeRequest, Option<String>), ApiError> {
    let mut req = apps::AuthorizeRequest::default();
    let mut lang = None;
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in pairs {
        let slot = match k.as_str() {
            "response_type" => &mut req.response_type,
            "client_id" => &mut req.client_id,
            "redirect_uri" => &mut req.redirect_uri,
            "scope" => &mut req.scope,
            "state" => &mut req.state,
            "code_challenge" => &mut req.code_challenge,
            "code_challenge_method" => &mut req.code_challenge_method,
            "lang" => &mut lang,
            _ => continue,
        };
        if seen.contains(&k.as_str()) {
            return Err(ApiError::validation(k.clone(), "is sent more than once"));
        }
        seen.push(k.as_str());
        *slot = Some(v.clone());
    }
    Ok((req, lang))
}

/// The hidden fields that carry the authorization request through the consent form.
fn hidden_fields(req: &apps::AuthorizeRequest) -> Vec<serde_json::Value> {
    [
        ("response_type", &req.response_type),
        ("client_id", &req.client_id),
        ("redirect_uri", &req.redirect_uri),
        ("scope", &req.scope),
        ("state", &req.state),
        ("code_challenge", &req.code_challenge),
        ("code_challenge_method", &req.code_challenge_method),
    ]
    .into_iter()
    .filter_map(|(name, value)| {
        value
            .as_ref()
            .map(|v| serde_json::json!({"name": name, "value": v}))
    })
    .collect()
}

/// The origin of a redirect URI, which the consent form's answer is redirected to (the page's
/// Content-Security-Policy must allow it as a form target).
fn origin_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}

/// The consent page: what the app will see and do, a sign-in, allow and deny.
fn consent_page(
    req: &HttpRequest,
    lang: super::html::Lang,
    status: actix_web::http::StatusCode,
    consent: &apps::Consent,
    request: &apps::AuthorizeRequest,
    username: &str,
    error: Option<String>,
) -> HttpResponse {
    let scopes: Vec<String> = consent
        .scopes
        .iter()
        .map(|s| s.as_str().replace(':', "_"))
        .collect();
    let ctx = minijinja::context! {
        app_name => consent.app_name.clone(),
        app_owner => consent.app_owner.clone(),
        scopes => scopes,
        hidden => minijinja::value::Serde(hidden_fields(request)),
        username => username,
        error => error,
    };
    let body = match super::html::render(req, lang, "oauth/authorize.html", ctx) {
        Ok(body) => body,
        Err(e) => return super::html::from_error(req, lang, e),
    };
    let mut res = super::html::page_with_status(lang, status, body);
    if let Some(origin) = origin_of(&consent.redirect_uri) {
        let csp = super::html::content_security_policy().replace(
            "form-action 'self'",
            &format!("form-action 'self' {origin}"),
        );
        if let Ok(value) = header::HeaderValue::from_str(&csp) {
            res.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    res
}

fn language(req: &HttpRequest, chosen: Option<&str>) -> super::html::Lang {
    chosen
        .and_then(super::html::Lang::parse)
        .unwrap_or_else(|| super::html::negotiate(req))
}

/// Where an authorization request that cannot go on is answered: a page when the app or its
/// redirect URI is not trusted, else a redirect back to the app with the OAuth error.
fn refused(req: &HttpRequest, lang: super::html::Lang, err: apps::AuthorizeError) -> HttpResponse {
    match err {
        apps::AuthorizeError::Page(e) => {
            use actix_web::ResponseError;
            super::html::error_page(
                req,
                lang,
                e.status_code(),
                "oauth_error",
                Some(e.to_string()),
            )
        }
        apps::AuthorizeError::Redirect {
            redirect_uri,
            error,
            description,
            state,
        } => {
            let issuer = base_url(req);
            let mut params = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = state.as_deref() {
                params.push(("state", s));
            }
            params.push(("iss", issuer.as_str()));
            super::html::see_other(&apps::redirect_to(&redirect_uri, &params))
        }
    }
}

/// Authorization endpoint: the sign-in and consent page (HTML; RFC 6749 section 4.1.1 with
/// PKCE, RFC 7636). An unknown or suspended app, or a redirect URI it did not register, is shown
/// an error page (the browser is never sent to an untrusted address); other errors go back to
/// the app's redirect URI with `error`, `state` and `iss`.
#[utoipa::path(get, path = "/oauth/authorize", tag = "apps",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "The app's client_id"),
        ("redirect_uri" = String, Query, description = "Exactly one of the app's registered redirect URIs"),
        ("scope" = String, Query, description = "Space-separated scopes, e.g. `service_requests:read`"),
        ("state" = Option<String>, Query, description = "Sent back unchanged to the redirect URI (at most 500 characters)"),
        ("code_challenge" = String, Query, description = "BASE64URL(SHA256(code_verifier)), 43 characters"),
        ("code_challenge_method" = String, Query, description = "`S256` (plain is refused)"),
        ("lang" = Option<String>, Query, description = "`en` or `es` (else Accept-Language)")),
    responses(
        (status = 200, description = "The sign-in and consent page (HTML, no scripts).", content_type = "text/html"),
        (status = 303, description = "Back to the app's redirect URI with `error`, `error_description`, `state` and `iss` (a bad scope, a missing or plain PKCE challenge, another response type).",
            headers(("Location" = String, description = "The app's redirect URI with the error"))),
        (status = 403, description = "The app is suspended or not approved (an HTML page).", content_type = "text/html"),
        (status = 422, description = "Unknown app, or a redirect URI the app did not register (an HTML page; the browser is not redirected).", content_type = "text/html")))]
pub async fn authorize_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let lang_default = super::html::negotiate(&req);
    let (request, lang) = match authorize_params(&pairs) {
        Ok(p) => p,
        Err(e) => return super::html::from_error(&req, lang_default, e),
    };
    let lang = language(&req, lang.as_deref());
    match apps::check_authorization(&state.db, &request) {
        Ok(consent) => consent_page(
            &req,
            lang,
            actix_web::http::StatusCode::OK,
            &consent,
            &request,
            "",
            None,
        ),
        Err(e) => refused(&req, lang, e),
    }
}

/// The consent form's answer: allow (with the family's sign-in) or deny. Sent by the page of
/// `GET /oauth/authorize` (its hidden fields carry the authorization request).
#[utoipa::path(post, path = "/oauth/authorize", tag = "apps",
    request_body(content = ConsentAnswer, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the app's redirect URI: with `code`, `state` and `iss` when allowed; with `error=access_denied` when denied.",
            headers(("Location" = String, description = "The app's redirect URI"))),
        (status = 401, description = "Wrong username or password: the page again, with the error (HTML).", content_type = "text/html"),
        (status = 403, description = "Not a family account, or the app is suspended (HTML).", content_type = "text/html"),
        (status = 429, description = "Too many failed sign-ins (HTML).", content_type = "text/html")))]
pub async fn authorize_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let lang_default = super::html::negotiate(&req);
    if body.len() > 16 * 1024 {
        return super::html::from_error(&req, lang_default, ApiError::PayloadTooLarge(16 * 1024));
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let (request, lang) = match authorize_params(&pairs) {
        Ok(p) => p,
        Err(e) => return super::html::from_error(&req, lang_default, e),
    };
    let lang = language(&req, lang.as_deref());
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let username = field("username");
    let answer = apps::Answer {
        issuer: base_url(&req),
        allow: field("decision") == "allow",
        username: username.clone(),
        password: field("password"),
        address: crate::auth::throttle::address_key(req.peer_addr().map(|a| a.ip())),
    };
    let ctx = Context::new(
        Principal::anonymous(),
        RequestFacts::of(&req),
        "/oauth/authorize",
    );
    match apps::answer(
        &ctx,
        &state.db,
        &state.protection,
        &state.tokens,
        &request,
        answer,
    )
    .await
    {
        Ok(location) => super::html::see_other(&location),
        Err(apps::AnswerError::Authorize(e)) => refused(&req, lang, e),
        Err(apps::AnswerError::SignIn(e)) => match apps::check_authorization(&state.db, &request) {
            Ok(consent) => {
                use actix_web::ResponseError;
                let status = e.status_code();
                let message = match &e {
                    ApiError::OAuth { cause, .. } => cause.to_string(),
                    other => other.to_string(),
                };
                consent_page(
                    &req,
                    lang,
                    status,
                    &consent,
                    &request,
                    &username,
                    Some(message),
                )
            }
            Err(e) => refused(&req, lang, e),
        },
    }
}
