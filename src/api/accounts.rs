//! `/api/v1/accounts` and `/api/v1/api-clients`: who may sign in, and how. District admins only;
//! every read is in the audit trail. No response carries a password or secret hash; a client
//! secret appears once, in the response that made it.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::body::JsonBody;
use super::fields;
use super::paging::{private_list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_NONE,
};
use crate::auth::SignedIn;
use crate::commands::{accounts, Expected};
use crate::db::{self, access};
use crate::error::ApiError;
use crate::state::AppState;

/// A person's sign-in account. Roles are granted to the person at `/api/v1/grants`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-8000-7000-8000-00000000c001", "person_id": "01936d4e-7000-7000-8000-00000000a001",
    "username": "maria.lopez", "has_password": true, "external_subject": "00u1abcd@district",
    "disabled": false, "created_at": "2026-11-25T08:41:42.123456Z",
    "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1
}))]
pub struct AccountResponse {
    pub id: Uuid,
    /// The person this account signs in.
    pub person_id: Uuid,
    /// Lower-cased sign-in name (password sign-in), if any.
    pub username: Option<String>,
    /// Whether a password is set (the password itself is never shown).
    pub has_password: bool,
    /// The `sub` the district's identity provider puts in this person's tokens, if linked.
    pub external_subject: Option<String>,
    /// A disabled account cannot sign in, and its tokens are refused on their next request.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<access::Account> for AccountResponse {
    type Error = ApiError;

    fn try_from(a: access::Account) -> Result<Self, ApiError> {
        Ok(AccountResponse {
            id: db::stored_uuid("account id", &a.id)?,
            person_id: db::stored_uuid("person id", &a.person_id)?,
            username: a.username,
            has_password: a.password_hash.is_some(),
            external_subject: a.external_subject,
            disabled: a.disabled,
            created_at: a.created_at.and_utc(),
            updated_at: a.updated_at.and_utc(),
            version: a.version,
        })
    }
}

fn valid_username(value: &str) -> Result<(), validator::ValidationError> {
    check(accounts::username(value))
}

fn valid_password(value: &str) -> Result<(), validator::ValidationError> {
    check(accounts::password(value))
}

fn valid_subject(value: &str) -> Result<(), validator::ValidationError> {
    check(accounts::external_subject("external_subject", value))
}

/// The command layer's field rule as a validator error, so that the body is refused with every
/// bad field before the handler runs.
fn check<T>(result: Result<T, crate::error::FieldError>) -> Result<(), validator::ValidationError> {
    result.map(|_| ()).map_err(|e| {
        let mut err = validator::ValidationError::new("invalid");
        err.message = Some(e.message.into());
        err
    })
}

/// Gives an existing person an account: a username and password, an identity provider's
/// subject, or both.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "01936d4e-7000-7000-8000-00000000a001",
    "username": "maria.lopez", "password": "a long passphrase", "external_subject": "00u1abcd@district"}))]
pub struct CreateAccount {
    pub person_id: Uuid,
    /// Sign-in name, stored lower-cased; needs `password`.
    #[validate(custom(function = "valid_username"))]
    #[schema(min_length = 1, max_length = 100)]
    pub username: Option<String>,
    /// 12 to 256 characters; stored only as an argon2id hash. Needs `username`.
    #[validate(custom(function = "valid_password"))]
    #[schema(min_length = 12, max_length = 256, write_only)]
    pub password: Option<String>,
    /// The identity provider's `sub` for this person.
    #[validate(custom(function = "valid_subject"))]
    #[schema(min_length = 1, max_length = 255)]
    pub external_subject: Option<String>,
}

/// Only the fields sent are changed (JSON merge patch).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UpdateAccount {
    /// `true` stops sign-in and refuses the account's tokens at once.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = bool, required = false)]
    pub disabled: Option<Option<bool>>,
    /// `null` removes the username and with it password sign-in.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "valid_username"))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub username: Option<Option<String>>,
    /// A new password, 12 to 256 characters.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "valid_password"))]
    #[schema(value_type = String, required = false, min_length = 12, max_length = 256, write_only)]
    pub password: Option<Option<String>>,
    /// Links the identity provider's `sub`; `null` unlinks it.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "valid_subject"))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255)]
    pub external_subject: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountListParams {
    /// Only the account of this person.
    pub person_id: Option<Uuid>,
    /// Only disabled (`true`) or enabled (`false`) accounts.
    pub disabled: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<AccountResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List accounts
#[utoipa::path(get, path = "/api/v1/accounts", tag = "access", security(("bearer" = [])), params(AccountListParams),
    responses(
        (status = 200, description = "A page of accounts in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = AccountList),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ListErrors))]
pub async fn list_accounts(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<AccountListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = access::account::AccountFilter {
        person_id: params.person_id.map(|p| p.to_string()),
        disabled: params.disabled,
    };
    let rows = accounts::list(
        &ctx,
        &state.db,
        &filter,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |a| &a.id);
    let items = rows
        .into_iter()
        .map(AccountResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Give a person an account
///
/// The person must exist (`POST /api/v1/people`). Refused with 409 when the person already has
/// an account, or the username or identity is another account's.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "access", security(("bearer" = [])), request_body = CreateAccount,
    responses(
        (status = 201, description = "Created; `Location` names the new account.", body = AccountResponse,
            headers(("Location" = String, description = "URL of the new account"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_account(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = accounts::NewAccount {
        person_id: body.person_id.to_string(),
        username: body.username,
        password: body.password,
        external_subject: body.external_subject,
    };
    let row = accounts::create(&ctx, &state.db, input).await?;
    let version = row.version;
    let location = format!("/api/v1/accounts/{}", row.id);
    Ok(created_response(
        location,
        &AccountResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// Get an account
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}", tag = "access", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The account, with its `ETag`.", body = AccountResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReadErrors))]
pub async fn find_account(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = accounts::find(&ctx, &state.db, id.into_inner().into())?;
    let version = row.version;
    Ok(resource_response(
        &req,
        &AccountResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// Change an account
///
/// Disable or enable it, link or unlink an identity, change the username or set a new password.
/// A disabled account's tokens are refused from the next request on. Disabling your own account,
/// or the last active district admin's, is refused with 409.
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}", tag = "access", security(("bearer" = [])), request_body = UpdateAccount,
    params(("account_id" = Uuid, Path, description = "The account's id"),
           ("If-Match" = String, Header, description = "The account's current ETag")),
    responses(
        (status = 200, description = "The changed account, with the new `ETag`.", body = AccountResponse),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn update_account(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateAccount>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let changes = accounts::AccountChanges {
        disabled: body.disabled,
        username: body.username,
        password: body.password,
        external_subject: body.external_subject,
    };
    let row = accounts::update(&ctx, &state.db, id.into_inner().into(), expected, changes).await?;
    let version = row.version;
    Ok(updated_response(
        &AccountResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// An API client: a script that signs in with client credentials. Its roles are granted at
/// `/api/v1/grants` with `subject_kind: client` and its `client_id`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9000-7000-8000-00000000d001", "client_id": "cl_3q2-7wEi9Xk1aPzQ",
    "name": "attendance reports", "disabled": false, "created_at": "2026-11-25T08:41:42.123456Z",
    "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1
}))]
pub struct ApiClientResponse {
    pub id: Uuid,
    /// The public identifier the script sends as `client_id`.
    pub client_id: String,
    pub name: String,
    /// A disabled client cannot get tokens, and its tokens are refused on their next request.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<access::ApiClient> for ApiClientResponse {
    type Error = ApiError;

    fn try_from(c: access::ApiClient) -> Result<Self, ApiError> {
        Ok(ApiClientResponse {
            id: db::stored_uuid("API client id", &c.id)?,
            client_id: c.client_id,
            name: c.name,
            disabled: c.disabled,
            created_at: c.created_at.and_utc(),
            updated_at: c.updated_at.and_utc(),
            version: c.version,
        })
    }
}

/// An API client with its new secret. The secret is shown here once and never again: store it
/// now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9000-7000-8000-00000000d001", "client_id": "cl_3q2-7wEi9Xk1aPzQ",
    "name": "attendance reports", "disabled": false, "created_at": "2026-11-25T08:41:42.123456Z",
    "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1,
    "client_secret": "Hq0v6mN1c1pX4Jd9l2yZs8rT0aBcDeFgHiJkLmNoPqR"
}))]
pub struct ApiClientSecret {
    #[serde(flatten)]
    #[schema(inline)]
    pub client: ApiClientResponse,
    /// Send it with `client_id` to `POST /api/v1/auth/token` (`grant_type=client_credentials`).
    pub client_secret: String,
}

impl TryFrom<accounts::ClientSecret> for ApiClientSecret {
    type Error = ApiError;

    fn try_from(made: accounts::ClientSecret) -> Result<Self, ApiError> {
        Ok(ApiClientSecret {
            client: ApiClientResponse::try_from(made.client)?,
            client_secret: made.secret,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "attendance reports"}))]
pub struct CreateApiClient {
    /// What the script is for.
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// Only the fields sent are changed (JSON merge patch).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UpdateApiClient {
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::name"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    /// `true` stops new tokens and refuses the client's tokens at once.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = bool, required = false)]
    pub disabled: Option<Option<bool>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApiClientListParams {
    /// Only the client with this `client_id`.
    pub client_id: Option<String>,
    /// Only disabled (`true`) or enabled (`false`) clients.
    pub disabled: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiClientList {
    pub items: Vec<ApiClientResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List API clients
#[utoipa::path(get, path = "/api/v1/api-clients", tag = "access", security(("bearer" = [])), params(ApiClientListParams),
    responses(
        (status = 200, description = "A page of API clients in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = ApiClientList),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ListErrors))]
pub async fn list_api_clients(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ApiClientListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = access::client::ClientFilter {
        client_id: params.client_id,
        disabled: params.disabled,
    };
    let rows = accounts::list_clients(
        &ctx,
        &state.db,
        &filter,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |c| &c.id);
    let items = rows
        .into_iter()
        .map(ApiClientResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Create an API client
///
/// Returns the new `client_id` and `client_secret`; the secret is shown in this response only.
/// Grant the client its roles at `/api/v1/grants`.
#[utoipa::path(post, path = "/api/v1/api-clients", tag = "access", security(("bearer" = [])), request_body = CreateApiClient,
    responses(
        (status = 201, description = "Created; `Location` names the new client. The secret is not shown again.", body = ApiClientSecret,
            headers(("Location" = String, description = "URL of the new API client"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_api_client(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateApiClient>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let made =
        accounts::create_client(&ctx, &state.db, accounts::NewClient { name: body.name }).await?;
    let version = made.client.version;
    let location = format!("/api/v1/api-clients/{}", made.client.id);
    Ok(created_response(
        location,
        &ApiClientSecret::try_from(made)?,
        version,
        CACHE_NONE,
    ))
}

/// Get an API client
#[utoipa::path(get, path = "/api/v1/api-clients/{api_client_id}", tag = "access", security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path, description = "The API client's id (not its `client_id`)"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The API client, with its `ETag`.", body = ApiClientResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReadErrors))]
pub async fn find_api_client(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = accounts::find_client(&ctx, &state.db, id.into_inner().into())?;
    let version = row.version;
    Ok(resource_response(
        &req,
        &ApiClientResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// Change an API client
///
/// Rename, disable or enable it. A disabled client's tokens are refused from the next request
/// on. A client cannot disable itself, nor the last active district admin be disabled (409).
#[utoipa::path(patch, path = "/api/v1/api-clients/{api_client_id}", tag = "access", security(("bearer" = [])), request_body = UpdateApiClient,
    params(("api_client_id" = Uuid, Path, description = "The API client's id (not its `client_id`)"),
           ("If-Match" = String, Header, description = "The API client's current ETag")),
    responses(
        (status = 200, description = "The changed API client, with the new `ETag`.", body = ApiClientResponse),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn update_api_client(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateApiClient>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let changes = accounts::ClientChanges {
        name: body.name,
        disabled: body.disabled,
    };
    let row =
        accounts::update_client(&ctx, &state.db, id.into_inner().into(), expected, changes).await?;
    let version = row.version;
    Ok(updated_response(
        &ApiClientResponse::try_from(row)?,
        version,
        CACHE_NONE,
    ))
}

/// Rotate an API client's secret
///
/// Makes a new secret and returns it once. The old secret stops working with this change; tokens
/// already issued with it stay valid until they expire (15 minutes by default): disable the
/// client to refuse those at once. `If-Match` is optional: with it, a rotation based on a stale
/// read is refused (412).
#[utoipa::path(post, path = "/api/v1/api-clients/{api_client_id}/secret", tag = "access", security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path, description = "The API client's id (not its `client_id`)"),
           ("If-Match" = Option<String>, Header, description = "The API client's current ETag (optional)")),
    responses(
        (status = 200, description = "The API client with its new secret and `ETag`. The secret is not shown again.", body = ApiClientSecret),
        (status = 400, response = super::problems::BadRequest),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
        (status = 412, response = super::problems::PreconditionFailed),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn rotate_api_client_secret(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = if req.headers().contains_key(header::IF_MATCH) {
        expected(&req)?
    } else {
        Expected::Any
    };
    let made = accounts::rotate_secret(&ctx, &state.db, id.into_inner().into(), expected).await?;
    let version = made.client.version;
    Ok(updated_response(
        &ApiClientSecret::try_from(made)?,
        version,
        CACHE_NONE,
    ))
}
