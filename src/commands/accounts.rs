//! Sign-in accounts and API clients: who may sign in, how, and whether they still may.
//!
//! District admins manage them over the API; `cogov admin create-user`, `create-client` and
//! `link-identity` (`commands::access::bootstrap_user`, `bootstrap_client`, `link_identity`) use
//! the same steps ([`open_account`], [`change_account`], [`new_client`], [`add_client`]), so each
//! rule about accounts and clients is written once. A disabled account or client is refused on
//! its next request (the auth middleware reads the flag on every request); a rotated secret
//! replaces the old one in the same write.

use super::{fields_ok, new_id, patch_optional, patch_required, require, Context, Expected, Patch};
use crate::auth::policy::{self, Actor, Principal, Role};
use crate::auth::secrets;
use crate::db::access::{self as store, Account, ApiClient, GrantRow};
use crate::db::dialect::{lock_row, LockTable};
use crate::db::{self, AnyConnection, Db, StoreError};
use crate::domain::ids::{AccountId, ApiClientId};
use crate::error::{ApiError, FieldError};

/// Shortest password, in characters.
pub const PASSWORD_MIN: usize = 12;
/// Longest password, in characters (the token endpoint reads at most 1 KiB of secret).
pub const PASSWORD_MAX: usize = 256;
/// Longest username, in characters.
pub const USERNAME_MAX: usize = 100;
/// Longest identity-provider subject, in characters.
pub const SUBJECT_MAX: usize = 255;
/// Longest API client name, in characters.
pub const CLIENT_NAME_MAX: usize = 200;

/// An account for an existing person.
pub struct NewAccount {
    pub person_id: String,
    /// With `password`: the person signs in at `POST /api/v1/auth/token`.
    pub username: Option<String>,
    pub password: Option<String>,
    /// The `sub` the district's identity provider puts in this person's tokens.
    pub external_subject: Option<String>,
}

/// A JSON merge patch of an account.
#[derive(Default)]
pub struct AccountChanges {
    pub disabled: Patch<bool>,
    /// `null` removes the username, and with it password sign-in.
    pub username: Patch<String>,
    /// A new password (cannot be `null`: remove the username to end password sign-in).
    pub password: Patch<String>,
    /// `null` unlinks the identity provider's subject.
    pub external_subject: Patch<String>,
}

/// An account change with its values checked and the new password already hashed: what
/// [`change_account`] applies inside a write.
#[derive(Default)]
pub struct AccountPatch {
    pub disabled: Patch<bool>,
    pub username: Patch<String>,
    pub password_hash: Option<String>,
    pub external_subject: Patch<String>,
}

/// A new API client.
pub struct NewClient {
    pub name: String,
}

/// A JSON merge patch of an API client.
#[derive(Default)]
pub struct ClientChanges {
    pub name: Patch<String>,
    pub disabled: Patch<bool>,
}

/// An API client with the secret just made for it: the only time the secret is known.
pub struct ClientSecret {
    pub client: ApiClient,
    pub secret: String,
}

fn own_record(detail: &str) -> ApiError {
    ApiError::Conflict {
        code: "own-account",
        detail: detail.to_owned(),
    }
}

fn duplicate(e: StoreError) -> ApiError {
    match e {
        StoreError::Duplicate(_) => ApiError::Conflict {
            code: "duplicate",
            detail: "the person already has an account, or the username or identity is taken"
                .to_owned(),
        },
        other => other.into(),
    }
}

/// A username as stored and signed in with: trimmed, lower-cased, 1 to 100 characters.
pub fn username(text: &str) -> Result<String, FieldError> {
    let name = text.trim().to_lowercase();
    if name.is_empty() || name.chars().count() > USERNAME_MAX {
        return Err(FieldError::new(
            "username",
            format!("must be 1 to {USERNAME_MAX} characters"),
        ));
    }
    Ok(name)
}

/// An identity provider's subject: 1 to 255 characters, kept exactly as the provider sends it.
pub fn external_subject(field: &str, text: &str) -> Result<String, FieldError> {
    if text.is_empty() || text.chars().count() > SUBJECT_MAX {
        return Err(FieldError::new(
            field,
            format!("must be 1 to {SUBJECT_MAX} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// A new password: 12 to 256 characters.
pub fn password(text: &str) -> Result<(), FieldError> {
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&text.chars().count()) {
        return Err(FieldError::new(
            "password",
            format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

/// Checks a new password and hashes it (argon2id).
pub async fn password_hash(text: &str) -> Result<String, ApiError> {
    password(text).map_err(|e| ApiError::Validation(vec![e]))?;
    hash(text.to_owned()).await
}

/// Hashes on a thread of its own: argon2id is slow on purpose, and the caller's thread serves
/// requests.
async fn hash(secret: String) -> Result<String, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("cogov-hash".to_owned())
        .spawn(move || {
            let _ = tx.send(secrets::hash(&secret));
        })
        .map_err(|e| ApiError::Internal(format!("cannot start hashing: {e}")))?;
    rx.await
        .map_err(|_| ApiError::Internal("hashing stopped".to_owned()))?
        .map_err(ApiError::Internal)
}

/// Refuses (409) a username or identity that another account already has.
pub fn not_taken(conn: &mut AnyConnection, account: &Account) -> Result<(), ApiError> {
    if let Some(name) = &account.username {
        if store::account::by_username(conn, name)?.is_some_and(|a| a.id != account.id) {
            return Err(ApiError::Conflict {
                code: "duplicate",
                detail: format!("an account with the username {name:?} exists"),
            });
        }
    }
    if let Some(subject) = &account.external_subject {
        if store::account::by_external_subject(conn, subject)?.is_some_and(|a| a.id != account.id) {
            return Err(ApiError::Conflict {
                code: "duplicate",
                detail: "this identity is linked to another account".to_owned(),
            });
        }
    }
    Ok(())
}

/// Stores a new account for an existing person: the one way an account is made (the endpoint,
/// `cogov admin create-user` and `link-identity`). A person has at most one account, and a
/// username or identity belongs to one account (unique indexes; checked first for a clear 409).
pub fn open_account(conn: &mut AnyConnection, account: &Account) -> Result<(), ApiError> {
    if db::people::find(conn, &account.person_id)?.is_none() {
        return Err(ApiError::validation("person_id", "no person with this id"));
    }
    if store::account::by_person(conn, &account.person_id)?.is_some() {
        return Err(ApiError::Conflict {
            code: "duplicate",
            detail: "this person already has an account; change it instead".to_owned(),
        });
    }
    not_taken(conn, account)?;
    store::account::insert(conn, account).map_err(duplicate)
}

/// The row of a new account, its password already hashed.
pub fn account_row(
    person_id: String,
    username: Option<String>,
    password_hash: Option<String>,
    external_subject: Option<String>,
) -> Account {
    let now = db::now();
    Account {
        id: new_id(),
        person_id,
        username,
        password_hash,
        external_subject,
        disabled: false,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Applies a checked patch to an account and saves it: the one way an account changes (the
/// endpoint and `cogov admin link-identity`). A username and a password go together; removing
/// the username ends password sign-in. Disabling is refused for the caller's own account and
/// for the last active district admin (409).
pub fn change_account(
    conn: &mut AnyConnection,
    caller: &Principal,
    mut row: Account,
    patch: AccountPatch,
) -> Result<Account, ApiError> {
    let (mut errors, mut changed) = (Vec::new(), false);
    let was_disabled = row.disabled;
    patch_required(
        &mut row.disabled,
        patch.disabled,
        "disabled",
        &mut errors,
        &mut changed,
    );
    patch_optional(&mut row.username, patch.username, &mut changed);
    let new_password = patch.password_hash.is_some();
    if let Some(h) = patch.password_hash {
        row.password_hash = Some(h);
        changed = true;
    }
    if row.username.is_none() && row.password_hash.is_some() {
        if new_password {
            errors.push(FieldError::new(
                "username",
                "is needed to sign in with a password",
            ));
        } else {
            row.password_hash = None;
            changed = true;
        }
    }
    if row.username.is_some() && row.password_hash.is_none() {
        errors.push(FieldError::new("password", "is needed with a username"));
    }
    patch_optional(
        &mut row.external_subject,
        patch.external_subject,
        &mut changed,
    );
    fields_ok(errors)?;
    if !changed {
        return Ok(row);
    }
    if row.disabled && !was_disabled {
        if caller.person_id() == Some(row.person_id.as_str()) {
            return Err(own_record(
                "you cannot disable your own account; ask another district admin",
            ));
        }
        let person = row.person_id.clone();
        keep_an_admin(conn, |g| {
            g.subject_kind == "person" && g.subject_id == person
        })?;
    }
    not_taken(conn, &row)?;
    row.version += 1;
    row.updated_at = db::now();
    store::account::update(conn, &row).map_err(duplicate)?;
    Ok(row)
}

fn admin_only(ctx: &Context, what: &str, id: &str) -> Result<(), ApiError> {
    require(policy::district_admin_only(&ctx.caller), what, id)
}

pub fn list(
    ctx: &Context,
    db: &Db,
    filter: &store::account::AccountFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<Account>, ApiError> {
    ctx.for_app(None)?;
    admin_only(ctx, "accounts", "")?;
    db.read(|conn| Ok(store::account::list(conn, filter, after, fetch)?))
}

pub fn find(ctx: &Context, db: &Db, id: AccountId) -> Result<Account, ApiError> {
    ctx.for_app(None)?;
    let id = &id.key();
    admin_only(ctx, "account", id)?;
    db.read(|conn| {
        store::account::find(conn, id)?.ok_or_else(|| ApiError::not_found("account", id))
    })
}

/// Gives an existing person an account: a username and password, an identity provider's
/// subject, or both.
pub async fn create(ctx: &Context, db: &Db, input: NewAccount) -> Result<Account, ApiError> {
    admin_only(ctx, "accounts", "")?;
    let mut errors = Vec::new();
    let username = input
        .username
        .as_deref()
        .and_then(|u| username(u).map_err(|e| errors.push(e)).ok());
    let subject = input.external_subject.as_deref().and_then(|s| {
        external_subject("external_subject", s)
            .map_err(|e| errors.push(e))
            .ok()
    });
    if let Some(p) = &input.password {
        if let Err(e) = password(p) {
            errors.push(e);
        }
    }
    match (&input.username, &input.password) {
        (Some(_), None) => errors.push(FieldError::new("password", "is needed with a username")),
        (None, Some(_)) => errors.push(FieldError::new(
            "username",
            "is needed to sign in with a password",
        )),
        (None, None) if input.external_subject.is_none() => errors.push(FieldError::new(
            "username",
            "give a username and password, or an external_subject, or both",
        )),
        _ => {}
    }
    fields_ok(errors)?;
    let password_hash = match &input.password {
        Some(p) => Some(password_hash(p).await?),
        None => None,
    };
    let row = account_row(input.person_id, username, password_hash, subject);
    ctx.write(db, "create", Some(row.id.clone()), 201, move |conn| {
        open_account(conn, &row)?;
        Ok(row)
    })
    .await
}

/// Changes an account: disables or enables it, links or unlinks an identity, changes the
/// username or the password.
pub async fn update(
    ctx: &Context,
    db: &Db,
    id: AccountId,
    expected: Expected,
    changes: AccountChanges,
) -> Result<Account, ApiError> {
    let id = id.key();
    admin_only(ctx, "account", &id)?;
    let mut errors = Vec::new();
    let name = match changes.username {
        Some(Some(text)) => match username(&text) {
            Ok(u) => Some(Some(u)),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        other => other,
    };
    let subject = match changes.external_subject {
        Some(Some(text)) => match external_subject("external_subject", &text) {
            Ok(s) => Some(Some(s)),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        other => other,
    };
    let password = match changes.password {
        None => None,
        Some(None) => {
            errors.push(FieldError::new(
                "password",
                "cannot be null; remove the username to end password sign-in",
            ));
            None
        }
        Some(Some(p)) => {
            if let Err(e) = password(&p) {
                errors.push(e);
            }
            Some(p)
        }
    };
    fields_ok(errors)?;
    let password_hash = match password {
        Some(p) => Some(password_hash(&p).await?),
        None => None,
    };
    let patch = AccountPatch {
        disabled: changes.disabled,
        username: name,
        password_hash,
        external_subject: subject,
    };
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let row =
            store::account::find(conn, &id)?.ok_or_else(|| ApiError::not_found("account", &id))?;
        expected.check(row.version)?;
        change_account(conn, &caller, row, patch)
    })
    .await
}

/// A client name: 1 to 200 characters, not only spaces.
pub fn client_name(text: &str) -> Result<String, FieldError> {
    if text.trim().is_empty() || text.chars().count() > CLIENT_NAME_MAX {
        return Err(FieldError::new(
            "name",
            format!("must be 1 to {CLIENT_NAME_MAX} characters, not only spaces"),
        ));
    }
    Ok(text.to_owned())
}

/// A new API client's row and its secret: a random `client_id` (`cl_…`) and a random 256-bit
/// secret, of which only the argon2id hash is stored.
pub async fn new_client(name: &str) -> Result<ClientSecret, ApiError> {
    let name = client_name(name).map_err(|e| ApiError::Validation(vec![e]))?;
    let secret = secrets::random(32);
    let now = db::now();
    let client = ApiClient {
        id: new_id(),
        client_id: format!("cl_{}", secrets::random(12)),
        name,
        secret_hash: hash(secret.clone()).await?,
        disabled: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    Ok(ClientSecret { client, secret })
}

/// Stores a new API client: the one way a client is made (the endpoint and
/// `cogov admin create-client`).
pub fn add_client(conn: &mut AnyConnection, client: &ApiClient) -> Result<(), ApiError> {
    store::client::insert(conn, client).map_err(|e| match e {
        StoreError::Duplicate(_) => ApiError::Conflict {
            code: "duplicate",
            detail: "an API client with this client_id exists; try again".to_owned(),
        },
        other => other.into(),
    })
}

pub fn list_clients(
    ctx: &Context,
    db: &Db,
    filter: &store::client::ClientFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<ApiClient>, ApiError> {
    ctx.for_app(None)?;
    admin_only(ctx, "API clients", "")?;
    db.read(|conn| Ok(store::client::list(conn, filter, after, fetch)?))
}

pub fn find_client(ctx: &Context, db: &Db, id: ApiClientId) -> Result<ApiClient, ApiError> {
    ctx.for_app(None)?;
    let id = &id.key();
    admin_only(ctx, "API client", id)?;
    db.read(|conn| {
        store::client::find(conn, id)?.ok_or_else(|| ApiError::not_found("API client", id))
    })
}

/// Creates an API client; its roles are granted at `/api/v1/grants` with its `client_id`.
pub async fn create_client(
    ctx: &Context,
    db: &Db,
    input: NewClient,
) -> Result<ClientSecret, ApiError> {
    admin_only(ctx, "API clients", "")?;
    let made = new_client(&input.name).await?;
    ctx.write(
        db,
        "create",
        Some(made.client.id.clone()),
        201,
        move |conn| {
            add_client(conn, &made.client)?;
            Ok(made)
        },
    )
    .await
}

/// Renames, disables or enables an API client. A client cannot disable itself, nor the last
/// active district admin be disabled (409).
pub async fn update_client(
    ctx: &Context,
    db: &Db,
    id: ApiClientId,
    expected: Expected,
    changes: ClientChanges,
) -> Result<ApiClient, ApiError> {
    let id = id.key();
    admin_only(ctx, "API client", &id)?;
    let name = match changes.name {
        Some(Some(text)) => Some(Some(
            client_name(&text).map_err(|e| ApiError::Validation(vec![e]))?,
        )),
        other => other,
    };
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut row = store::client::find(conn, &id)?
            .ok_or_else(|| ApiError::not_found("API client", &id))?;
        expected.check(row.version)?;
        let (mut errors, mut changed) = (Vec::new(), false);
        let was_disabled = row.disabled;
        patch_required(&mut row.name, name, "name", &mut errors, &mut changed);
        patch_required(
            &mut row.disabled,
            changes.disabled,
            "disabled",
            &mut errors,
            &mut changed,
        );
        fields_ok(errors)?;
        if !changed {
            return Ok(row);
        }
        if row.disabled && !was_disabled {
            if caller.actor == Actor::Client(row.client_id.clone()) {
                return Err(own_record("an API client cannot disable itself"));
            }
            let client_id = row.client_id.clone();
            keep_an_admin(conn, |g| {
                g.subject_kind == "client" && g.subject_id == client_id
            })?;
        }
        row.version += 1;
        row.updated_at = db::now();
        store::client::update(conn, &row)?;
        Ok(row)
    })
    .await
}

/// Gives an API client a new secret. The old secret stops working with this write; tokens
/// already issued stay valid until they expire (disable the client to stop those at once).
pub async fn rotate_secret(
    ctx: &Context,
    db: &Db,
    id: ApiClientId,
    expected: Expected,
) -> Result<ClientSecret, ApiError> {
    let id = id.key();
    admin_only(ctx, "API client", &id)?;
    let secret = secrets::random(32);
    let secret_hash = hash(secret.clone()).await?;
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut client = store::client::find(conn, &id)?
            .ok_or_else(|| ApiError::not_found("API client", &id))?;
        expected.check(client.version)?;
        client.secret_hash = secret_hash;
        client.version += 1;
        client.updated_at = db::now();
        store::client::update(conn, &client)?;
        Ok(ClientSecret { client, secret })
    })
    .await
}

/// True when the grant's subject can still sign in (its account or API client is enabled).
fn subject_active(conn: &mut AnyConnection, grant: &GrantRow) -> Result<bool, ApiError> {
    Ok(match grant.subject_kind.as_str() {
        "person" => {
            store::account::by_person(conn, &grant.subject_id)?.is_some_and(|a| !a.disabled)
        }
        _ => store::client::by_client_id(conn, &grant.subject_id)?.is_some_and(|c| !c.disabled),
    })
}

/// Refuses (409 `last-district-admin`) a change after which no active district admin would be
/// left: nobody could grant roles or enable accounts again. `leaving` picks the district-admin
/// grants the change takes away (a revoked grant, a disabled account's or client's grants).
/// District-admin grants are locked while counting, so two changes racing each other (revoking,
/// disabling) cannot both pass the check.
pub fn keep_an_admin(
    conn: &mut AnyConnection,
    leaving: impl Fn(&GrantRow) -> bool,
) -> Result<(), ApiError> {
    lock_row(conn, LockTable::Grants, Role::DistrictAdmin.as_str())?;
    let filter = store::grant::GrantFilter {
        role: Some(Role::DistrictAdmin.as_str().to_owned()),
        ..Default::default()
    };
    let admins = store::grant::list(conn, &filter, None, 10_000)?;
    let (mut lost, mut kept) = (false, 0);
    for g in &admins {
        if subject_active(conn, g)? {
            if leaving(g) {
                lost = true;
            } else {
                kept += 1;
            }
        }
    }
    if lost && kept == 0 {
        return Err(ApiError::Conflict {
            code: "last-district-admin",
            detail: "this is the last active district admin; grant the role to someone else first"
                .to_owned(),
        });
    }
    Ok(())
}
