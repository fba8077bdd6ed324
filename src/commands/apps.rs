//! Family accounts by invitation, and third-party apps that act for families: registration by
//! district admins, the OAuth 2.0 authorization code flow with PKCE (RFC 6749, RFC 7636, RFC
//! 9700), refresh tokens with rotation and reuse detection, revocation (RFC 7009), and the
//! family's own list of the apps it allowed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

use super::{access, accounts, fields_ok, new_id, require, sign_in, Context, Expected};
use crate::auth::policy::{self, Actor, AppAccess, Grant, Principal, Role};
use crate::auth::throttle::Kind;
use crate::auth::tokens::Tokens;
use crate::db::apps::{self as store, App, AppGrant, Code, Invitation, RefreshToken};
use crate::db::{self, Db, StoreError};
use crate::domain::apps::{self as rules, Relationship, Scope};
use crate::error::{ApiError, FieldError};
use crate::state::Protection;

/// How long a sign-up invitation stays valid.
pub const SIGN_UP_DAYS: i64 = 14;
/// How long a password-reset invitation stays valid.
pub const RESET_HOURS: i64 = 24;
/// How long an authorization code may wait to be exchanged (RFC 6749 section 4.1.2: at most 10
/// minutes; shorter is safer).
pub const CODE_SECS: i64 = 60;
/// How long a refresh token lives unused.
pub const REFRESH_DAYS: i64 = 30;

/// A random secret (256 bits), base64url.
fn secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What is stored of a secret: its SHA-256, hex. The secrets are random 256-bit values, so a fast
/// hash suffices (nothing to guess).
pub fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Family invitations

pub struct NewInvitation {
    pub person_id: String,
    /// `sign_up` or `password_reset`.
    pub purpose: String,
    /// `parent`, `guardian` or `student`.
    pub relationship: String,
    pub birth_date: Option<NaiveDate>,
}

/// An invitation and its code (shown once).
pub struct IssuedInvitation {
    pub invitation: Invitation,
    pub code: String,
}

/// Only family accounts are opened or reset by invitation: an account with any other role
/// (staff, admins, partners) is managed by an admin, so an invitation can never take one over.
fn family_only(conn: &mut db::AnyConnection, person_id: &str) -> Result<(), ApiError> {
    let privileged = db::access::grant::of_subject(conn, "person", person_id)?
        .iter()
        .any(|g| g.role != Role::Family.as_str());
    if privileged {
        return Err(ApiError::Conflict {
            code: "not-a-family-account",
            detail: "this person holds a role other than family; their account is managed by a district admin"
                .to_owned(),
        });
    }
    Ok(())
}

/// Invites a family contact (a person record) to open a family account, or to set a new
/// password: district admins and council staff. The code is single-use and expires; a child
/// under 13 gets no account (COPPA).
pub async fn invite(
    ctx: &Context,
    db: &Db,
    input: NewInvitation,
) -> Result<IssuedInvitation, ApiError> {
    ctx.for_app(None)?;
    require(policy::invite_family(&ctx.caller), "family invitations", "")?;
    let mut errors = Vec::new();
    let relationship = Relationship::parse(&input.relationship);
    if relationship.is_none() {
        errors.push(FieldError::new(
            "relationship",
            "must be parent, guardian or student",
        ));
    }
    let lifetime = match input.purpose.as_str() {
        "sign_up" => Duration::days(SIGN_UP_DAYS),
        "password_reset" => Duration::hours(RESET_HOURS),
        _ => {
            errors.push(FieldError::new(
                "purpose",
                "must be sign_up or password_reset",
            ));
            Duration::zero()
        }
    };
    fields_ok(errors)?;
    let relationship = relationship.unwrap_or(Relationship::Parent);
    let code = secret();
    let now = db::now();
    let row = Invitation {
        id: new_id(),
        person_id: input.person_id.clone(),
        code_hash: digest(&code),
        purpose: input.purpose.clone(),
        relationship: relationship.as_str().to_owned(),
        created_by: ctx.caller.actor_key().unwrap_or_default(),
        created_at: now,
        expires_at: now + lifetime,
        used_at: None,
        updated_at: now,
        version: 1,
    };
    let birth_date = input.birth_date;
    let invitation = ctx
        .write(db, "create", Some(row.id.clone()), 201, move |conn| {
            if db::people::find(conn, &row.person_id)?.is_none() {
                return Err(ApiError::validation("person_id", "no person with this id"));
            }
            let youngest = store::youngest_recorded_birth(conn, &row.person_id)?;
            rules::may_have_account(relationship, birth_date, youngest, now.date())
                .map_err(|(field, message)| ApiError::validation(field, message))?;
            family_only(conn, &row.person_id)?;
            let account = db::access::account::by_person(conn, &row.person_id)?;
            match (row.purpose.as_str(), account) {
                ("sign_up", Some(_)) => {
                    return Err(ApiError::Conflict {
                        code: "duplicate",
                        detail:
                            "this person has an account already; send a password_reset invitation"
                                .to_owned(),
                    })
                }
                ("password_reset", None) => {
                    return Err(ApiError::validation(
                        "purpose",
                        "this person has no account yet; send a sign_up invitation",
                    ))
                }
                _ => {}
            }
            store::invitation::insert(conn, &row)?;
            Ok(row)
        })
        .await?;
    Ok(IssuedInvitation { invitation, code })
}

/// How the family will sign in after taking up an invitation.
pub enum Credential {
    /// A password of its own choosing (hashed before it is stored).
    Password(String),
    /// The subject of a verified token from the district's identity provider: the account is
    /// linked to it, and the family signs in through the provider.
    Provider(String),
}

/// What a family sends to take up an invitation.
pub struct Acceptance {
    pub code: String,
    /// The sign-in name (sign-up only; a reset keeps the account's name).
    pub username: Option<String>,
    pub credential: Credential,
}

/// The account an invitation opened or reset.
pub struct Accepted {
    pub person_id: String,
    pub username: String,
    pub purpose: String,
}

fn unusable_code(detail: &str) -> ApiError {
    ApiError::validation("code", detail)
}

/// Takes up an invitation: opens the family account (with the `family` role) or sets its new
/// password. The code works once, until it expires.
pub async fn accept_invitation(
    ctx: &Context,
    db: &Db,
    input: Acceptance,
) -> Result<Accepted, ApiError> {
    ctx.for_app(None)?;
    if input.code.is_empty() || input.code.len() > 200 {
        return Err(unusable_code("the invitation code is missing or not valid"));
    }
    let hash = digest(&input.code);
    let found = db.read(|conn| Ok::<_, ApiError>(store::invitation::by_code_hash(conn, &hash)?))?;
    let Some(invitation) = found else {
        return Err(unusable_code("the invitation code is not valid"));
    };
    let now = db::now();
    if invitation.used_at.is_some() {
        return Err(unusable_code(
            "the invitation was used already; ask the school for a new one",
        ));
    }
    if invitation.expires_at <= now {
        return Err(ApiError::Gone {
            code: "invitation-expired",
            detail: "the invitation has expired; ask the school for a new one".to_owned(),
        });
    }
    let username = if invitation.purpose == "sign_up" {
        let name = input
            .username
            .as_deref()
            .ok_or_else(|| ApiError::validation("username", "choose a username"))?;
        Some(accounts::username(name).map_err(|e| ApiError::Validation(vec![e]))?)
    } else {
        None
    };
    let (hash_of_password, subject) = match input.credential {
        Credential::Password(password) => (Some(accounts::password_hash(&password).await?), None),
        Credential::Provider(subject) => (
            None,
            Some(
                accounts::external_subject("id_token", &subject)
                    .map_err(|e| ApiError::Validation(vec![e]))?,
            ),
        ),
    };
    let person_id = invitation.person_id.clone();
    let purpose = invitation.purpose.clone();
    let action = if purpose == "sign_up" {
        "create"
    } else {
        "update"
    };
    // The family is the one acting: the audit event names them.
    let family = Context::new(
        Principal {
            actor: Actor::Person(person_id.clone()),
            grants: vec![Grant {
                role: Role::Family,
                council_id: None,
            }],
            seated_on: Vec::new(),
            app: None,
        },
        ctx.facts.clone(),
        ctx.operation.clone(),
    );
    let username = family
        .write(db, action, Some(person_id.clone()), 200, move |conn| {
            if !store::invitation::use_once(conn, &invitation.id, now)? {
                return Err(unusable_code(
                    "the invitation was used already; ask the school for a new one",
                ));
            }
            family_only(conn, &invitation.person_id)?;
            let existing = db::access::account::by_person(conn, &invitation.person_id)?;
            match existing {
                None if invitation.purpose == "sign_up" => {
                    let account = accounts::account_row(
                        invitation.person_id.clone(),
                        username.clone(),
                        hash_of_password,
                        subject,
                    );
                    accounts::open_account(conn, &account)?;
                    let has_family =
                        db::access::grant::of_subject(conn, "person", &invitation.person_id)?
                            .iter()
                            .any(|g| g.role == Role::Family.as_str());
                    if !has_family {
                        access::grant_role(
                            conn,
                            &access::NewGrant {
                                subject: access::Subject::Person,
                                subject_id: invitation.person_id.clone(),
                                role: Role::Family,
                                council_id: None,
                            },
                        )?;
                    }
                    Ok(username.unwrap_or_default())
                }
                Some(mut account) if invitation.purpose == "password_reset" => {
                    // A reset sets the new password, or links the provider identity instead.
                    if hash_of_password.is_some() {
                        account.password_hash = hash_of_password;
                    }
                    if subject.is_some() {
                        account.external_subject = subject;
                        accounts::not_taken(conn, &account)?;
                    }
                    account.updated_at = now;
                    account.version += 1;
                    let name = account.username.clone().unwrap_or_default();
                    db::access::account::update(conn, &account)?;
                    Ok(name)
                }
                Some(_) => Err(ApiError::Conflict {
                    code: "duplicate",
                    detail: "this person has an account already".to_owned(),
                }),
                None => Err(unusable_code("the account to reset no longer exists")),
            }
        })
        .await?;
    ctx.mark_recorded();
    Ok(Accepted {
        person_id,
        username,
        purpose,
    })
}

// ---------------------------------------------------------------------------------------------
// App registration

pub struct NewApp {
    pub name: String,
    pub owner: String,
    pub redirect_uris: Vec<String>,
    pub confidential: bool,
    pub scopes: Vec<String>,
}

/// A registered app, with its client secret when one was just made (shown once).
pub struct RegisteredApp {
    pub app: App,
    pub client_secret: Option<String>,
}

fn check_app_fields(
    name: &str,
    owner: &str,
    redirect_uris: &[String],
    scopes: &[String],
) -> Result<(String, String), ApiError> {
    let mut errors = Vec::new();
    for (field, value) in [("name", name), ("owner", owner)] {
        if value.trim().is_empty() || value.chars().count() > 200 {
            errors.push(FieldError::new(field, "must be 1 to 200 characters"));
        }
    }
    if redirect_uris.is_empty() || redirect_uris.len() > 10 {
        errors.push(FieldError::new(
            "redirect_uris",
            "list 1 to 10 redirect URIs",
        ));
    }
    for (i, uri) in redirect_uris.iter().enumerate() {
        if uri.len() > 2000 || uri.contains('\n') {
            errors.push(FieldError::new(
                format!("redirect_uris[{i}]"),
                "is not a usable URI",
            ));
        } else if let Err(why) = rules::redirect_uri_allowed(uri) {
            errors.push(FieldError::new(format!("redirect_uris[{i}]"), why));
        }
    }
    let mut parsed = Vec::new();
    for (i, s) in scopes.iter().enumerate() {
        match Scope::parse(s) {
            Some(scope) if !parsed.contains(&scope) => parsed.push(scope),
            Some(_) => {}
            None => errors.push(FieldError::new(
                format!("scopes[{i}]"),
                "must be service_requests:read, service_requests:write or public:read",
            )),
        }
    }
    if scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            "list the scopes the app may ask for",
        ));
    }
    fields_ok(errors)?;
    parsed.sort();
    Ok((redirect_uris.join("\n"), rules::scope_text(&parsed)))
}

/// Registers an app. A district admin's registration is active at once; anyone else signed in
/// (a developer) submits it, and it waits (`pending`) until a district admin approves it.
pub async fn register_app(
    ctx: &Context,
    db: &Db,
    input: NewApp,
) -> Result<RegisteredApp, ApiError> {
    ctx.for_app(None)?;
    if !ctx.caller.is_authenticated() {
        return Err(ApiError::Unauthorized(
            "this needs a bearer token (Authorization: Bearer <token>)".to_owned(),
        ));
    }
    let (redirect_uris, scopes) = check_app_fields(
        &input.name,
        &input.owner,
        &input.redirect_uris,
        &input.scopes,
    )?;
    let client_secret = input.confidential.then(secret);
    let now = db::now();
    let admin = ctx.caller.is_admin();
    let app = App {
        id: new_id(),
        client_id: format!("app_{}", &digest(&secret())[..24]),
        name: input.name.trim().to_owned(),
        owner: input.owner.trim().to_owned(),
        redirect_uris,
        confidential: input.confidential,
        secret_hash: client_secret.as_deref().map(digest),
        scopes,
        status: if admin { "active" } else { "pending" }.to_owned(),
        submitted_by: if admin { None } else { ctx.caller.actor_key() },
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let app = ctx
        .write(db, "create", Some(app.id.clone()), 201, move |conn| {
            store::app::insert(conn, &app)?;
            Ok(app)
        })
        .await?;
    Ok(RegisteredApp { app, client_secret })
}

pub fn list_apps(
    ctx: &Context,
    db: &Db,
    status: Option<&str>,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<App>, ApiError> {
    ctx.for_app(None)?;
    require(policy::district_admin_only(&ctx.caller), "apps", "")?;
    db.read(|conn| Ok(store::app::list(conn, status, after, fetch)?))
}

pub fn find_app(ctx: &Context, db: &Db, id: &str) -> Result<App, ApiError> {
    ctx.for_app(None)?;
    require(policy::district_admin_only(&ctx.caller), "app", id)?;
    db.read(|conn| store::app::find(conn, id)?.ok_or_else(|| ApiError::not_found("app", id)))
}

#[derive(Default)]
pub struct AppPatch {
    pub name: Option<String>,
    pub owner: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    /// `active` (approve, or lift a suspension) or `suspended`.
    pub status: Option<String>,
}

/// Changes an app: district admins approve (`active`), suspend (`suspended`: every token of the
/// app stops working at once), or change its details.
pub async fn update_app(
    ctx: &Context,
    db: &Db,
    id: &str,
    patch: AppPatch,
    expected: Expected,
) -> Result<App, ApiError> {
    ctx.for_app(None)?;
    require(policy::district_admin_only(&ctx.caller), "app", id)?;
    if let Some(s) = &patch.status {
        if !matches!(s.as_str(), "active" | "suspended") {
            return Err(ApiError::validation(
                "status",
                "must be active or suspended",
            ));
        }
    }
    let id = id.to_owned();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut app =
            store::app::find(conn, &id)?.ok_or_else(|| ApiError::not_found("app", &id))?;
        expected.check(app.version)?;
        let uris: Vec<String> = patch
            .redirect_uris
            .unwrap_or_else(|| app.redirect_uris.lines().map(str::to_owned).collect());
        let scopes: Vec<String> = patch.scopes.unwrap_or_else(|| {
            app.scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        });
        let name = patch.name.unwrap_or(app.name.clone());
        let owner = patch.owner.unwrap_or(app.owner.clone());
        let (redirect_uris, scopes) = check_app_fields(&name, &owner, &uris, &scopes)?;
        app.name = name.trim().to_owned();
        app.owner = owner.trim().to_owned();
        app.redirect_uris = redirect_uris;
        app.scopes = scopes;
        if let Some(s) = patch.status {
            app.status = s;
        }
        app.updated_at = db::now();
        app.version += 1;
        store::app::update(conn, &app)?;
        Ok(app)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Authorization: the consent page and its answer

/// The query of an authorization request (RFC 6749 section 4.1.1, RFC 7636 section 4.3).
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// What the consent page shows, and what its answer carries on.
#[derive(Debug, Clone)]
pub struct Consent {
    pub app_name: String,
    pub app_owner: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<Scope>,
    pub state: Option<String>,
    pub code_challenge: String,
}

/// Why an authorization request stops.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The app or its redirect URI cannot be trusted: the browser is never sent there (RFC 6749
    /// section 4.1.2.1); the page explains.
    Page(ApiError),
    /// Sent back to the app's redirect URI with an OAuth error code.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

/// Checks an authorization request, in the order RFC 6749 asks: the app and its exact redirect
/// URI first (an error there is shown, never redirected), then the rest (sent back to the app).
pub fn check_authorization(db: &Db, req: &AuthorizeRequest) -> Result<Consent, AuthorizeError> {
    let page = AuthorizeError::Page;
    let client_id = req
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 200)
        .ok_or_else(|| {
            page(ApiError::validation(
                "client_id",
                "the app did not say who it is",
            ))
        })?;
    let app = db
        .read(|conn| Ok::<_, ApiError>(store::app::by_client_id(conn, client_id)?))
        .map_err(page)?
        .ok_or_else(|| {
            page(ApiError::validation(
                "client_id",
                "no app with this client_id",
            ))
        })?;
    match app.status.as_str() {
        "active" => {}
        "suspended" => {
            return Err(page(ApiError::Forbidden(
                "this app is suspended by the district".to_owned(),
            )))
        }
        _ => {
            return Err(page(ApiError::Forbidden(
                "this app is not approved by the district yet".to_owned(),
            )))
        }
    }
    let redirect_uri = req
        .redirect_uri
        .as_deref()
        .filter(|uri| app.redirect_uris.lines().any(|r| r == *uri))
        .ok_or_else(|| {
            page(ApiError::validation(
                "redirect_uri",
                "the redirect URI is not one the app registered",
            ))
        })?
        .to_owned();
    let redirect = |error, description: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description: description.to_owned(),
        state: req.state.clone(),
    };
    if req.response_type.as_deref() != Some("code") {
        return Err(redirect(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if req.code_challenge_method.as_deref() != Some("S256") {
        return Err(redirect(
            "invalid_request",
            "PKCE is required with code_challenge_method=S256",
        ));
    }
    let challenge = req
        .code_challenge
        .as_deref()
        .filter(|c| rules::challenge_well_formed(c))
        .ok_or_else(|| redirect("invalid_request", "code_challenge is missing or malformed"))?;
    if req.state.as_ref().is_some_and(|s| s.len() > 500) {
        return Err(redirect(
            "invalid_request",
            "state is longer than 500 characters",
        ));
    }
    let allowed = rules::parse_scopes(&app.scopes).unwrap_or_default();
    let scopes = rules::parse_scopes(req.scope.as_deref().unwrap_or(""))
        .map_err(|s| redirect("invalid_scope", &format!("unknown scope {s}")))?;
    if scopes.is_empty() {
        return Err(redirect("invalid_scope", "ask for at least one scope"));
    }
    if let Some(s) = scopes.iter().find(|s| !allowed.contains(s)) {
        return Err(redirect(
            "invalid_scope",
            &format!("the app is not registered for {}", s.as_str()),
        ));
    }
    Ok(Consent {
        app_name: app.name,
        app_owner: app.owner,
        client_id: app.client_id,
        redirect_uri,
        scopes,
        state: req.state.clone(),
        code_challenge: challenge.to_owned(),
    })
}

/// The family's answer on the consent page.
pub struct Answer {
    /// This server's issuer, sent back as `iss` (RFC 9207).
    pub issuer: String,
    pub allow: bool,
    pub username: String,
    pub password: String,
    pub address: String,
}

/// Why an answer on the consent page did not go through (the page is shown again).
#[derive(Debug)]
pub enum AnswerError {
    Authorize(AuthorizeError),
    /// Wrong credentials, a limit reached, or not a family account: shown on the page.
    SignIn(ApiError),
}

/// Builds the redirect back to the app: `code` (or `error`), `state` and `iss` (RFC 9207).
pub fn redirect_to(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut pairs = url.query_pairs_mut();
                for (k, v) in params {
                    pairs.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

/// Answers the consent page: the family signs in (throttled and audited as every sign-in) and
/// allows or denies. Allowing records (or widens) the family's grant to the app and makes a
/// single-use code valid for [`CODE_SECS`]; the result is where the browser goes next.
pub async fn answer(
    ctx: &Context,
    db: &Db,
    protection: &Protection,
    tokens: &Tokens,
    req: &AuthorizeRequest,
    answer: Answer,
) -> Result<String, AnswerError> {
    let consent = check_authorization(db, req).map_err(AnswerError::Authorize)?;
    let state = consent.state.clone().unwrap_or_default();
    let issuer = answer.issuer.clone();
    let with_state = |mut params: Vec<(&'static str, String)>| {
        if consent.state.is_some() {
            params.push(("state", state.clone()));
        }
        params.push(("iss", issuer.clone()));
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirect_to(&consent.redirect_uri, &borrowed)
    };
    if !answer.allow {
        return Ok(with_state(vec![
            ("error", "access_denied".to_owned()),
            (
                "error_description",
                "the family did not allow the app".to_owned(),
            ),
        ]));
    }
    let issued = sign_in::sign_in(
        ctx,
        db,
        protection,
        tokens,
        sign_in::Credentials {
            kind: Kind::Account,
            key: answer.username.trim().to_lowercase(),
            secret: answer.password,
            address: answer.address,
        },
    )
    .await
    .map_err(AnswerError::SignIn)?;
    let person_id = issued
        .subject
        .strip_prefix("person:")
        .unwrap_or_default()
        .to_owned();
    let grants = db
        .read(|conn| Ok::<_, ApiError>(db::access::grant::of_subject(conn, "person", &person_id)?))
        .map_err(AnswerError::SignIn)?;
    if !grants.iter().any(|g| g.role == Role::Family.as_str()) {
        return Err(AnswerError::SignIn(ApiError::Forbidden(
            "only family accounts can allow apps".to_owned(),
        )));
    }
    let code = secret();
    let family = Context::new(
        Principal {
            actor: Actor::Person(person_id.clone()),
            grants: vec![Grant {
                role: Role::Family,
                council_id: None,
            }],
            seated_on: Vec::new(),
            app: None,
        },
        ctx.facts.clone(),
        ctx.operation.clone(),
    );
    let client_id = consent.client_id.clone();
    let scopes = consent.scopes.clone();
    let code_row = Code {
        code_hash: digest(&code),
        grant_id: String::new(),
        redirect_uri: consent.redirect_uri.clone(),
        code_challenge: consent.code_challenge.clone(),
        scopes: rules::scope_text(&scopes),
        created_at: db::now(),
        expires_at: db::now() + Duration::seconds(CODE_SECS),
        used_at: None,
    };
    family
        .write_with_id(
            db,
            "create",
            200,
            |g: &AppGrant| g.id.clone(),
            move |conn| {
                let app = store::app::by_client_id(conn, &client_id)?
                    .filter(|a| a.status == "active")
                    .ok_or_else(|| ApiError::Forbidden("the app is not active".to_owned()))?;
                let now = db::now();
                let grant = match store::grant::in_force(conn, &app.id, &person_id)? {
                    Some(mut grant) => {
                        let mut all = rules::parse_scopes(&grant.scopes).unwrap_or_default();
                        all.extend(scopes.iter().copied());
                        all.sort();
                        all.dedup();
                        grant.scopes = rules::scope_text(&all);
                        grant.updated_at = now;
                        grant.version += 1;
                        store::grant::update(conn, &grant)?;
                        grant
                    }
                    None => {
                        let grant = AppGrant {
                            id: new_id(),
                            app_id: app.id.clone(),
                            person_id: person_id.clone(),
                            scopes: rules::scope_text(&scopes),
                            created_at: now,
                            updated_at: now,
                            last_used_at: None,
                            revoked_at: None,
                            revoked_reason: None,
                            version: 1,
                        };
                        store::grant::insert(conn, &grant).map_err(|e| match e {
                            StoreError::Duplicate(_) => ApiError::Conflict {
                                code: "duplicate",
                                detail: "the app was allowed at the same moment; try again"
                                    .to_owned(),
                            },
                            other => other.into(),
                        })?;
                        grant
                    }
                };
                store::code::insert(
                    conn,
                    &Code {
                        grant_id: grant.id.clone(),
                        ..code_row
                    },
                )?;
                Ok(grant)
            },
        )
        .await
        .map_err(AnswerError::SignIn)?;
    Ok(with_state(vec![("code", code)]))
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// How an app authenticates at the token and revocation endpoints: its `client_id`, and its
/// secret when it is a confidential client.
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// What the token endpoint gives an app.
pub struct AppTokens {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub scope: String,
}

fn invalid_client() -> ApiError {
    ApiError::Unauthorized("the app's client credentials are not valid".to_owned())
        .oauth("invalid_client")
}

fn invalid_grant(detail: &str) -> ApiError {
    ApiError::BadRequest {
        code: "invalid-grant",
        detail: detail.to_owned(),
    }
    .oauth("invalid_grant")
}

/// The app a request authenticates as: active, with the right secret when confidential.
fn authenticate_app(conn: &mut db::AnyConnection, client: &ClientAuth) -> Result<App, ApiError> {
    let app = store::app::by_client_id(conn, &client.client_id)?.ok_or_else(invalid_client)?;
    match (&app.secret_hash, &client.client_secret) {
        (Some(stored), Some(given)) if *stored == digest(given) => {}
        (None, None) => {}
        _ => return Err(invalid_client()),
    }
    if app.status != "active" {
        return Err(
            ApiError::Unauthorized("the app is suspended".to_owned()).oauth("invalid_client")
        );
    }
    Ok(app)
}

/// A context that speaks for the family and names the app, for the audit events of the token
/// endpoint (where the caller has no bearer token).
fn acting(
    ctx: &Context,
    person_id: &str,
    client_id: &str,
    grant_id: &str,
    scopes: &str,
) -> Context {
    let ctx = Context::new(
        Principal {
            actor: Actor::Person(person_id.to_owned()),
            grants: Vec::new(),
            seated_on: Vec::new(),
            app: Some(AppAccess {
                client_id: client_id.to_owned(),
                grant_id: grant_id.to_owned(),
                scopes: rules::parse_scopes(scopes).unwrap_or_default(),
            }),
        },
        ctx.facts.clone(),
        ctx.operation.clone(),
    );
    ctx.token_endpoint();
    ctx
}

/// What a single-use credential turned out to be, decided inside the transaction that used it.
enum Use {
    Issued(Box<(AppGrant, RefreshToken, String)>),
    /// A refresh token or code presented a second time: the grant was revoked.
    Replayed,
    Refused(&'static str),
}

/// The grant goes on with its next refresh token (the code exchange and every refresh end here),
/// unless the family has revoked it meanwhile.
fn continue_grant(
    conn: &mut db::AnyConnection,
    grant_id: &str,
    scopes: &str,
    now: NaiveDateTime,
) -> Result<Use, ApiError> {
    Ok(match store::grant::find(conn, grant_id)? {
        Some(grant) if grant.revoked_at.is_none() => {
            let (row, token) = new_refresh(&grant.id, scopes, now);
            store::refresh::insert(conn, &row)?;
            store::grant::touch(conn, &grant.id, now)?;
            Use::Issued(Box::new((grant, row, token)))
        }
        _ => Use::Refused("the family revoked the app's access"),
    })
}

/// Writes a token request's audit event, as refused unless a token was issued.
fn record_use(
    conn: &mut db::AnyConnection,
    mut event: db::access::AuditEvent,
    outcome: &Use,
) -> Result<(), ApiError> {
    if !matches!(outcome, Use::Issued(_)) {
        event.action = "refuse".to_owned();
        event.status = 400;
        event.outcome = "denied".to_owned();
    }
    Ok(db::access::audit::record(conn, &event)?)
}

fn new_refresh(grant_id: &str, scopes: &str, now: NaiveDateTime) -> (RefreshToken, String) {
    let token = secret();
    (
        RefreshToken {
            token_hash: digest(&token),
            grant_id: grant_id.to_owned(),
            scopes: scopes.to_owned(),
            created_at: now,
            expires_at: now + Duration::days(REFRESH_DAYS),
            used_at: None,
        },
        token,
    )
}

/// Exchanges an authorization code (with the PKCE verifier and the same redirect URI) for an
/// access token and a refresh token. A code works once: presented again, it revokes the grant
/// (RFC 6749 section 4.1.2).
pub async fn exchange_code(
    ctx: &Context,
    db: &Db,
    tokens: &Tokens,
    client: ClientAuth,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<AppTokens, ApiError> {
    let hash = digest(code);
    let (app, found) = db.read(|conn| {
        let app = authenticate_app(conn, &client)?;
        let found = match store::code::find(conn, &hash)? {
            Some(code) => store::grant::find(conn, &code.grant_id)?.map(|g| (code, g)),
            None => None,
        };
        Ok::<_, ApiError>((app, found))
    })?;
    let (code_row, grant) = found
        .filter(|(_, g)| g.app_id == app.id)
        .ok_or_else(|| invalid_grant("the code is not valid"))?;
    let family = acting(
        ctx,
        &grant.person_id,
        &app.client_id,
        &grant.id,
        &code_row.scopes,
    );
    let event = family.audit_event("create", Some(grant.id.clone()), 200);
    let redirect_uri = redirect_uri.to_owned();
    let verifier = verifier.to_owned();
    let grant_id = grant.id.clone();
    let outcome = db
        .write(move |conn| {
            let now = db::now();
            let outcome = if !store::code::use_once(conn, &hash, now)? {
                store::grant::revoke(conn, &grant_id, "code_reuse", now)?;
                Use::Replayed
            } else if code_row.expires_at <= now {
                Use::Refused("the code has expired")
            } else if code_row.redirect_uri != redirect_uri {
                Use::Refused("redirect_uri differs from the authorization request's")
            } else if !rules::pkce_matches(&verifier, &code_row.code_challenge) {
                Use::Refused("the code_verifier does not match the code_challenge (PKCE S256)")
            } else {
                continue_grant(conn, &grant_id, &code_row.scopes, now)?
            };
            record_use(conn, event, &outcome)?;
            Ok::<_, ApiError>(outcome)
        })
        .await?;
    issue(tokens, &app, outcome)
}

fn issue(tokens: &Tokens, app: &App, outcome: Use) -> Result<AppTokens, ApiError> {
    match outcome {
        Use::Issued(issued) => {
            let (grant, row, refresh_token) = *issued;
            let (access_token, expires_in) = tokens
                .issue_for_app(&grant.person_id, &grant.id, &app.client_id, &row.scopes)
                .map_err(ApiError::Internal)?;
            Ok(AppTokens {
                access_token,
                expires_in,
                refresh_token,
                scope: row.scopes,
            })
        }
        Use::Replayed => Err(invalid_grant(
            "this was used already; the family's grant to the app is revoked",
        )),
        Use::Refused(why) => Err(invalid_grant(why)),
    }
}

/// Exchanges a refresh token for a new access token and a new refresh token (rotation). A
/// refresh token works once: presented again (stolen, or replayed), it revokes the family's
/// grant to the app (RFC 9700 section 4.14.2).
pub async fn refresh(
    ctx: &Context,
    db: &Db,
    tokens: &Tokens,
    client: ClientAuth,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<AppTokens, ApiError> {
    let hash = digest(refresh_token);
    let (app, found) = db.read(|conn| {
        let app = authenticate_app(conn, &client)?;
        let found = match store::refresh::find(conn, &hash)? {
            Some(row) => store::grant::find(conn, &row.grant_id)?.map(|g| (row, g)),
            None => None,
        };
        Ok::<_, ApiError>((app, found))
    })?;
    let (row, grant) = found
        .filter(|(_, g)| g.app_id == app.id)
        .ok_or_else(|| invalid_grant("the refresh token is not valid"))?;
    let scopes = match scope {
        None => row.scopes.clone(),
        Some(asked) => {
            let asked = rules::parse_scopes(asked).map_err(|s| {
                ApiError::validation("scope", format!("unknown scope {s}")).oauth("invalid_scope")
            })?;
            let held = rules::parse_scopes(&row.scopes).unwrap_or_default();
            if asked.is_empty() || asked.iter().any(|s| !held.contains(s)) {
                return Err(ApiError::validation(
                    "scope",
                    "ask for no more than the refresh token holds",
                )
                .oauth("invalid_scope"));
            }
            rules::scope_text(&asked)
        }
    };
    let family = acting(ctx, &grant.person_id, &app.client_id, &grant.id, &scopes);
    let event = family.audit_event("update", Some(grant.id.clone()), 200);
    let grant_id = grant.id.clone();
    let outcome = db
        .write(move |conn| {
            let now = db::now();
            let outcome = if !store::refresh::use_once(conn, &hash, now)? {
                store::grant::revoke(conn, &grant_id, "refresh_token_reuse", now)?;
                Use::Replayed
            } else if row.expires_at <= now {
                Use::Refused("the refresh token has expired")
            } else {
                continue_grant(conn, &grant_id, &scopes, now)?
            };
            record_use(conn, event, &outcome)?;
            Ok::<_, ApiError>(outcome)
        })
        .await?;
    issue(tokens, &app, outcome)
}

/// Revokes a token (RFC 7009): a refresh token or an access token of this app ends the family's
/// grant to it, and with it every token of the grant. An unknown or already revoked token is
/// answered the same (nothing to do).
pub async fn revoke_token(
    ctx: &Context,
    db: &Db,
    tokens: &Tokens,
    client: ClientAuth,
    token: &str,
) -> Result<(), ApiError> {
    let hash = digest(token);
    let from_jwt = tokens
        .verify(token)
        .ok()
        .filter(|(_, local)| *local)
        .and_then(|(claims, _)| claims.grant);
    let (app, grant) = db.read(|conn| {
        let app = authenticate_app(conn, &client)?;
        let grant_id = match store::refresh::find(conn, &hash)? {
            Some(row) => Some(row.grant_id),
            None => from_jwt,
        };
        let grant = match grant_id {
            Some(id) => store::grant::find(conn, &id)?,
            None => None,
        };
        Ok::<_, ApiError>((app, grant))
    })?;
    let Some(grant) = grant.filter(|g| g.app_id == app.id && g.revoked_at.is_none()) else {
        return Ok(());
    };
    let family = acting(
        ctx,
        &grant.person_id,
        &app.client_id,
        &grant.id,
        &grant.scopes,
    );
    let grant_id = grant.id.clone();
    family
        .write(db, "delete", Some(grant_id.clone()), 200, move |conn| {
            store::grant::revoke(conn, &grant_id, "app", db::now())?;
            Ok(())
        })
        .await
}

// ---------------------------------------------------------------------------------------------
// The family's own list

/// The apps a family allowed, and what each may do.
pub fn my_apps(ctx: &Context, db: &Db) -> Result<Vec<(AppGrant, App)>, ApiError> {
    ctx.for_app(None)?;
    let person_id = ctx
        .caller
        .person_id()
        .ok_or_else(|| ApiError::Forbidden("only people allow apps".to_owned()))?
        .to_owned();
    db.read(|conn| Ok(store::grant::of_person(conn, &person_id)?))
}

/// Revokes one of the family's grants: effective at once (the app's tokens stop working on the
/// next request, and its refresh tokens are refused).
pub async fn revoke_my_app(
    ctx: &Context,
    db: &Db,
    grant_id: &str,
    expected: Expected,
) -> Result<(), ApiError> {
    ctx.for_app(None)?;
    let person_id = ctx
        .caller
        .person_id()
        .ok_or_else(|| ApiError::Forbidden("only people allow apps".to_owned()))?
        .to_owned();
    let grant_id = grant_id.to_owned();
    ctx.write(db, "delete", Some(grant_id.clone()), 204, move |conn| {
        let grant = store::grant::find(conn, &grant_id)?
            .filter(|g| g.person_id == person_id && g.revoked_at.is_none())
            .ok_or_else(|| ApiError::not_found("app grant", &grant_id))?;
        expected.check(grant.version)?;
        store::grant::revoke(conn, &grant.id, "family", db::now())?;
        Ok(())
    })
    .await
}
