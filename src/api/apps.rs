//! Family invitations (`/api/v1/family-invitations`), the app registry (`/api/v1/apps`) and the
//! family's own list of allowed apps (`/api/v1/me/apps`). See docs/APPS.md.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToResponse, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::body::JsonBody;
use super::paging::{private_list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_NONE,
};
use crate::auth::{Caller, SignedIn};
use crate::commands::apps;
use crate::db::apps::{App, AppGrant};
use crate::error::ApiError;
use crate::state::AppState;

/// An invitation for a family contact to open their account or set a new password.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "purpose": "sign_up", "relationship": "parent"}))]
pub struct CreateInvitation {
    /// The family contact's person record.
    pub person_id: Uuid,
    /// `sign_up` (a new family account; valid 14 days) or `password_reset` (a new password for an
    /// existing family account; valid 24 hours).
    #[schema(pattern = "^(sign_up|password_reset)$", max_length = 14)]
    pub purpose: String,
    /// `parent`, `guardian`, or `student` (a student needs `birth_date`, and must be 13 or older:
    /// no account for a child under 13, COPPA).
    #[schema(pattern = "^(parent|guardian|student)$", max_length = 8)]
    pub relationship: String,
    /// The student's birth date (required for `student`).
    pub birth_date: Option<NaiveDate>,
}

/// An invitation. `code` is shown once, in the answer to create: hand it (or `accept_path` with
/// it) to the family.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-7a10-7cc2-9a4f-2b8f0f3e9a12", "person_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
    "purpose": "sign_up", "relationship": "parent", "expires_at": "2026-12-10T08:41:42.123456Z",
    "code": "q1N4x0m9...", "created_at": "2026-11-26T08:41:42.123456Z", "version": 1}))]
pub struct InvitationResponse {
    pub id: Uuid,
    pub person_id: Uuid,
    pub purpose: String,
    pub relationship: String,
    pub expires_at: DateTime<Utc>,
    /// The single-use code (only in the answer to create).
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

/// Taking up an invitation.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "q1N4x0m9...", "username": "maria.lopez", "password": "a long passphrase here"}))]
pub struct AcceptInvitation {
    #[schema(max_length = 200)]
    pub code: String,
    /// The sign-in name to choose (sign-up only; a reset keeps the account's name).
    #[schema(max_length = 100)]
    pub username: Option<String>,
    /// The new password, 12 to 256 characters. Send this or `id_token`, not both.
    #[schema(min_length = 12, max_length = 256)]
    pub password: Option<String>,
    /// Instead of a password, where the district connects its identity provider: a token the
    /// provider issued to the family member (an OpenID Connect ID token or access token, as
    /// configured for bearer tokens). The account is linked to its subject, and the family
    /// signs in through the provider from then on. Send this or `password`, not both.
    #[schema(max_length = 8192)]
    pub id_token: Option<String>,
}

/// The account an invitation opened or reset.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"person_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "username": "maria.lopez", "purpose": "sign_up"}))]
pub struct AcceptedInvitation {
    pub person_id: Uuid,
    pub username: String,
    pub purpose: String,
}

fn uuid_of(what: &str, id: &str) -> Result<Uuid, ApiError> {
    Ok(crate::db::stored_uuid(what, id)?)
}

/// Invite a family contact
///
/// Makes a single-use, expiring code with which a family contact opens their family account
/// (`sign_up`) or sets a new password (`password_reset`). Only family accounts are opened or
/// reset this way (409 for a person holding any other role). No account for a child under 13
/// (COPPA): a `student` invitation needs a birth date showing 13 or older, and a person recorded
/// as the student of a service request with a birth date under 13 is refused (422).
#[utoipa::path(post, path = "/api/v1/family-invitations", tag = "apps", security(("bearer" = [])),
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "Created; the code is in the answer, and only there.", body = InvitationResponse,
            headers(("Location" = String, description = "URL of the invitation"), ("ETag" = String, description = "Version tag"))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::BodyErrors))]
pub async fn create_invitation(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateInvitation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let issued = apps::invite(
        &ctx,
        &state.db,
        apps::NewInvitation {
            person_id: body.person_id.to_string(),
            purpose: body.purpose,
            relationship: body.relationship,
            birth_date: body.birth_date,
        },
    )
    .await?;
    let inv = issued.invitation;
    let version = inv.version;
    let location = format!("/api/v1/family-invitations/{}", inv.id);
    let response = InvitationResponse {
        id: uuid_of("invitation id", &inv.id)?,
        person_id: uuid_of("person id", &inv.person_id)?,
        purpose: inv.purpose,
        relationship: inv.relationship,
        expires_at: inv.expires_at.and_utc(),
        code: issued.code,
        created_at: inv.created_at.and_utc(),
        version,
    };
    Ok(created_response(location, &response, version, CACHE_NONE))
}

#[derive(ToResponse)]
#[response(
    description = "The invitation has expired: staff send a new one.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:cogov:problem:invitation-expired", "title": "Gone", "status": 410,
        "detail": "the invitation has expired; ask the school for a new one", "code": "invitation-expired",
        "instance": "/api/v1/family-invitations/accept"})
)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub struct InvitationExpired(crate::error::Problem);

/// A redirect URI as registered (documentation only: the lists hold plain strings).
pub struct RedirectUriText;

impl utoipa::PartialSchema for RedirectUriText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "An absolute https URI (or http on a loopback address), without a fragment",
            ))
            .min_length(Some(1))
            .max_length(Some(2000))
            .examples([serde_json::json!("https://helper.example/callback")])
            .into()
    }
}

impl ToSchema for RedirectUriText {}

/// A scope an app may ask families for.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // read only by the OpenAPI generator
pub enum ScopeName {
    #[serde(rename = "service_requests:read")]
    ServiceRequestsRead,
    #[serde(rename = "service_requests:write")]
    ServiceRequestsWrite,
    #[serde(rename = "public:read")]
    PublicRead,
}

/// Take up an invitation
///
/// The family sends the code with the password it chooses (and, to sign up, a username). A
/// code works once, until it expires (410). Signing up opens the account with the `family` role.
#[utoipa::path(post, path = "/api/v1/family-invitations/accept", tag = "apps",
    request_body = AcceptInvitation,
    responses(
        (status = 200, description = "The account is open (or has its new password); sign in with it.", body = AcceptedInvitation),
        (status = 409, response = super::problems::Conflict),
        (status = 401, response = super::problems::Unauthorized),
        (status = 410, response = InvitationExpired),
        super::problems::BodyErrors))]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: JsonBody<AcceptInvitation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let credential = match (body.password, body.id_token) {
        (Some(password), None) => apps::Credential::Password(password),
        (None, Some(token)) => {
            apps::Credential::Provider(crate::auth::provider_subject(&state, &token, "id_token")?)
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "id_token",
                "send a password or an id_token, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::validation(
                "password",
                "choose a password (or send an id_token from the district's identity provider)",
            ))
        }
    };
    let accepted = apps::accept_invitation(
        &ctx,
        &state.db,
        apps::Acceptance {
            code: body.code,
            username: body.username,
            credential,
        },
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, CACHE_NONE))
        .json(AcceptedInvitation {
            person_id: uuid_of("person id", &accepted.person_id)?,
            username: accepted.username,
            purpose: accepted.purpose,
        }))
}

/// A registered app. `client_secret` appears only in the answer to create (confidential apps).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9b20-7cc2-9a4f-2b8f0f3e9a13", "client_id": "app_3f9a1c0d2b7e4a6f8c1d2e3f",
    "name": "Family Helper", "owner": "Helper Co.", "redirect_uris": ["https://helper.example/callback"],
    "confidential": false, "scopes": ["service_requests:read"], "status": "active",
    "created_at": "2026-11-26T08:41:42.123456Z", "updated_at": "2026-11-26T08:41:42.123456Z", "version": 1}))]
pub struct AppResponse {
    pub id: Uuid,
    /// What the app sends as `client_id`.
    pub client_id: String,
    pub name: String,
    pub owner: String,
    /// Matched exactly in authorization and token requests.
    pub redirect_uris: Vec<String>,
    /// A confidential client authenticates with its secret; a public one (a mobile or browser
    /// app) with PKCE alone.
    pub confidential: bool,
    /// The scopes the app may ask families for.
    pub scopes: Vec<String>,
    /// `pending` (submitted, awaiting a district admin), `active`, or `suspended`.
    #[schema(pattern = "^(pending|active|suspended)$")]
    pub status: String,
    /// The client secret, shown once (confidential apps, answer to create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl AppResponse {
    fn of(app: App, client_secret: Option<String>) -> Result<Self, ApiError> {
        Ok(AppResponse {
            id: uuid_of("app id", &app.id)?,
            client_id: app.client_id,
            name: app.name,
            owner: app.owner,
            redirect_uris: app.redirect_uris.lines().map(str::to_owned).collect(),
            confidential: app.confidential,
            scopes: app
                .scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            status: app.status,
            client_secret,
            created_at: app.created_at.and_utc(),
            updated_at: app.updated_at.and_utc(),
            version: app.version,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Family Helper", "owner": "Helper Co.", "redirect_uris": ["https://helper.example/callback"],
    "confidential": false, "scopes": ["service_requests:read", "service_requests:write"]}))]
pub struct CreateApp {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Who runs the app (shown to families on the consent page).
    #[schema(min_length = 1, max_length = 200)]
    pub owner: String,
    /// https URIs (or http on a loopback address, for native apps), 1 to 10, no fragments.
    #[schema(value_type = Vec<RedirectUriText>, min_items = 1, max_items = 10)]
    pub redirect_uris: Vec<String>,
    /// Whether the app keeps a client secret on a server (default false: a public client).
    #[serde(default)]
    pub confidential: bool,
    /// Of `service_requests:read`, `service_requests:write`, `public:read`.
    #[schema(value_type = Vec<ScopeName>, min_items = 1)]
    pub scopes: Vec<String>,
}

/// Only the fields sent change. `status: active` approves a submitted app or lifts a suspension;
/// `status: suspended` stops every token of the app at once.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "suspended"}))]
pub struct UpdateApp {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    #[schema(value_type = Option<Vec<RedirectUriText>>, min_items = 1, max_items = 10)]
    pub redirect_uris: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<ScopeName>>, min_items = 1)]
    pub scopes: Option<Vec<String>>,
    #[schema(pattern = "^(active|suspended)$", max_length = 9)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppListParams {
    /// Only apps in this state (`pending`, `active`, `suspended`).
    #[param(max_length = 9)]
    pub status: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AppList {
    pub items: Vec<AppResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Register an app
///
/// A district admin's registration is active at once; anyone else signed in submits it for
/// approval (`pending`). A confidential app's `client_secret` is in the answer, and only there.
#[utoipa::path(post, path = "/api/v1/apps", tag = "apps", security(("bearer" = [])), request_body = CreateApp,
    responses(
        (status = 201, description = "Registered (or submitted).", body = AppResponse,
            headers(("Location" = String, description = "URL of the app"), ("ETag" = String, description = "Version tag"))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::BodyErrors))]
pub async fn create_app(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateApp>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let registered = apps::register_app(
        &ctx,
        &state.db,
        apps::NewApp {
            name: body.name,
            owner: body.owner,
            redirect_uris: body.redirect_uris,
            confidential: body.confidential,
            scopes: body.scopes,
        },
    )
    .await?;
    let version = registered.app.version;
    let location = format!("/api/v1/apps/{}", registered.app.id);
    let response = AppResponse::of(registered.app, registered.client_secret)?;
    Ok(created_response(location, &response, version, CACHE_NONE))
}

/// List registered apps
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps", security(("bearer" = [])), params(AppListParams),
    responses(
        (status = 200, description = "A page of apps in registration order.", body = AppList),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ListErrors))]
pub async fn list_apps(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<AppListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = apps::list_apps(
        &ctx,
        &state.db,
        params.status.as_deref(),
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |a| &a.id);
    let items = rows
        .into_iter()
        .map(|a| AppResponse::of(a, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Get a registered app
#[utoipa::path(get, path = "/api/v1/apps/{app_id}", tag = "apps", security(("bearer" = [])),
    params(("app_id" = Uuid, Path, description = "The app's id")),
    responses(
        (status = 200, description = "The app, with its `ETag`.", body = AppResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReadErrors))]
pub async fn find_app(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let app = apps::find_app(&ctx, &state.db, &id.into_inner().to_string())?;
    let version = app.version;
    Ok(resource_response(
        &req,
        &AppResponse::of(app, None)?,
        version,
        CACHE_NONE,
    ))
}

/// Approve, suspend or change an app
#[utoipa::path(patch, path = "/api/v1/apps/{app_id}", tag = "apps", security(("bearer" = [])), request_body = UpdateApp,
    params(("app_id" = Uuid, Path, description = "The app's id"),
           ("If-Match" = String, Header, description = "The app's current ETag")),
    responses(
        (status = 200, description = "The changed app, with its new `ETag`.", body = AppResponse),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ChangeErrors))]
pub async fn update_app(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateApp>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let app = apps::update_app(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        apps::AppPatch {
            name: body.name,
            owner: body.owner,
            redirect_uris: body.redirect_uris,
            scopes: body.scopes,
            status: body.status,
        },
        expected,
    )
    .await?;
    let version = app.version;
    Ok(updated_response(
        &AppResponse::of(app, None)?,
        version,
        CACHE_NONE,
    ))
}

/// An app the family allowed, and what it may do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-aa30-7cc2-9a4f-2b8f0f3e9a14", "app_name": "Family Helper", "app_owner": "Helper Co.",
    "client_id": "app_3f9a1c0d2b7e4a6f8c1d2e3f", "scopes": ["service_requests:read"],
    "allowed_at": "2026-11-26T08:41:42.123456Z", "last_used_at": "2026-11-26T09:02:10.000000Z"}))]
pub struct AllowedApp {
    /// The grant's id: revoke with `DELETE /api/v1/me/apps/{grant_id}`.
    pub id: Uuid,
    pub app_name: String,
    pub app_owner: String,
    pub client_id: String,
    /// What the app may do for the family.
    pub scopes: Vec<String>,
    pub allowed_at: DateTime<Utc>,
    /// When the app last got tokens or changed something for the family.
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct AllowedAppList {
    pub items: Vec<AllowedApp>,
}

fn allowed(grant: AppGrant, app: App) -> Result<AllowedApp, ApiError> {
    Ok(AllowedApp {
        id: uuid_of("grant id", &grant.id)?,
        app_name: app.name,
        app_owner: app.owner,
        client_id: app.client_id,
        scopes: grant
            .scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        allowed_at: grant.created_at.and_utc(),
        last_used_at: grant.last_used_at.map(|t| t.and_utc()),
    })
}

/// The apps I allowed
///
/// Every app the caller allowed to act for them, what each may do and when it last acted.
#[utoipa::path(get, path = "/api/v1/me/apps", tag = "apps", security(("bearer" = [])),
    responses(
        (status = 200, description = "The apps in force.", body = AllowedAppList),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn my_apps(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
) -> Result<HttpResponse, ApiError> {
    let items = apps::my_apps(&ctx, &state.db)?
        .into_iter()
        .map(|(g, a)| allowed(g, a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, CACHE_NONE))
        .json(AllowedAppList { items }))
}

/// Revoke an app
///
/// Effective at once: the app's access tokens stop working on its next request and its refresh
/// tokens are refused. The app must ask again to act for the family.
#[utoipa::path(delete, path = "/api/v1/me/apps/{grant_id}", tag = "apps", security(("bearer" = [])),
    params(("grant_id" = Uuid, Path, description = "The grant's id (from GET /api/v1/me/apps)"),
           ("If-Match" = String, Header, description = "`*`, or the grant's version as a strong ETag")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::DeleteErrors))]
pub async fn revoke_my_app(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    apps::revoke_my_app(&ctx, &state.db, &id.into_inner().to_string(), expected).await?;
    Ok(HttpResponse::NoContent().finish())
}
