//! Access: role grants, the audit trail, and bootstrapping accounts and API clients (with the
//! steps of `commands::accounts`).

use super::{accounts, fields_ok, new_id, require, Context, Expected};
use crate::auth::policy::{self, Role};
use crate::db::access::{self as store, AuditEvent, GrantRow};
use crate::db::{self, AnyConnection, Db, StoreError};
use crate::domain::ids::{CouncilId, GrantId};
use crate::error::{ApiError, FieldError};

/// Who a role is granted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Person,
    Client,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Person => "person",
            Subject::Client => "client",
        }
    }
}

pub struct NewGrant {
    pub subject: Subject,
    /// A person id, or an API client's `client_id`.
    pub subject_id: String,
    pub role: Role,
    pub council_id: Option<CouncilId>,
}

/// Most rows one CSV export holds; an export that stops here says so.
pub const CSV_MAX_ROWS: i64 = 100_000;

pub fn list_grants(
    ctx: &Context,
    db: &Db,
    filter: &store::grant::GrantFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<GrantRow>, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "grants", "")?;
    db.read(|conn| Ok(store::grant::list(conn, filter, after, fetch)?))
}

fn check_grant(conn: &mut AnyConnection, grant: &NewGrant) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    match (grant.role, &grant.council_id) {
        (Role::CouncilStaff, None) => errors.push(FieldError::new(
            "council_id",
            "council_staff needs the council",
        )),
        (Role::CouncilStaff, Some(c)) => {
            if db::councils::find(conn, &c.key())?.is_none() {
                errors.push(FieldError::new("council_id", "no council with this id"));
            }
        }
        (_, Some(_)) => errors.push(FieldError::new(
            "council_id",
            "only council_staff is granted per council",
        )),
        (_, None) => {}
    }
    let exists = match grant.subject {
        Subject::Person => db::people::find(conn, &grant.subject_id)?.is_some(),
        Subject::Client => store::client::by_client_id(conn, &grant.subject_id)?.is_some(),
    };
    if !exists {
        errors.push(FieldError::new(
            "subject_id",
            "no such person or API client",
        ));
    }
    fields_ok(errors)
}

/// Checks a grant and stores it: the one way a role is granted (endpoint and bootstrap). A role
/// is granted once per subject and council (a unique index, "no council" included).
pub(super) fn grant_role(conn: &mut AnyConnection, grant: &NewGrant) -> Result<GrantRow, ApiError> {
    check_grant(conn, grant)?;
    let now = db::now();
    let row = GrantRow {
        id: new_id(),
        subject_kind: grant.subject.as_str().to_owned(),
        subject_id: grant.subject_id.clone(),
        role: grant.role.as_str().to_owned(),
        council_id: grant.council_id.map(|c| c.key()),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    store::grant::insert(conn, &row).map_err(|e| match e {
        StoreError::Duplicate(_) => ApiError::Conflict {
            code: "duplicate",
            detail: "this role is already granted".to_owned(),
        },
        other => other.into(),
    })?;
    Ok(row)
}

pub async fn create_grant(ctx: &Context, db: &Db, grant: NewGrant) -> Result<GrantRow, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "grants", "")?;
    // The id is made inside; the audit event names the subject the role went to.
    let subject = grant.subject_id.clone();
    ctx.write(db, "create", Some(subject), 201, move |conn| {
        grant_role(conn, &grant)
    })
    .await
}

/// Revokes a grant. The last active district admin's grant cannot be revoked (409).
pub async fn delete_grant(
    ctx: &Context,
    db: &Db,
    id: GrantId,
    expected: Expected,
) -> Result<(), ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "grants", &id)?;
    ctx.write(db, "delete", Some(id.clone()), 204, move |conn| {
        let row =
            store::grant::find(conn, &id)?.ok_or_else(|| ApiError::not_found("grant", &id))?;
        expected.check(row.version)?;
        if row.role == Role::DistrictAdmin.as_str() {
            accounts::keep_an_admin(conn, |g| g.id == row.id)?;
        }
        store::grant::delete(conn, &row)?;
        Ok(())
    })
    .await
}

/// The seats the caller holds now (none for API clients).
pub fn my_seats(ctx: &Context, db: &Db) -> Result<Vec<super::people::SeatHeld>, ApiError> {
    ctx.for_app(None)?;
    let Some(person_id) = ctx.caller.person_id() else {
        return Ok(Vec::new());
    };
    db.read(|conn| super::people::seats_of(conn, person_id))
        .map(|seats| {
            seats
                .into_iter()
                .filter(|s| s.holding.ended_on.is_none())
                .collect()
        })
}

pub fn list_audit_events(
    ctx: &Context,
    db: &Db,
    filter: &store::audit::AuditFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<AuditEvent>, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "audit events", "")?;
    db.read(|conn| Ok(store::audit::list(conn, filter, after, fetch)?))
}

/// A CSV export of the audit trail: the file, and whether it stopped at [`CSV_MAX_ROWS`].
pub struct AuditExport {
    pub csv: Vec<u8>,
    pub truncated: bool,
}

/// Exports the audit trail as CSV (long work: call it off the request workers). Fields a caller
/// controls (user agent, ids) are neutralised so that a spreadsheet never runs them as formulas.
pub fn export_audit_events(
    ctx: &Context,
    db: &Db,
    filter: &store::audit::AuditFilter,
) -> Result<AuditExport, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "audit events", "")?;
    let mut rows = db.read(|conn| {
        Ok::<_, ApiError>(store::audit::list(conn, filter, None, CSV_MAX_ROWS + 1)?)
    })?;
    let truncated = rows.len() as i64 > CSV_MAX_ROWS;
    rows.truncate(CSV_MAX_ROWS as usize);
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
        "app_client_id",
    ])
    .map_err(csv_error)?;
    for e in rows {
        let occurred = e
            .occurred_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let status = e.status.to_string();
        let cells = [
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
            e.app_client_id.as_deref().unwrap_or(""),
        ];
        out.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))
            .map_err(csv_error)?;
    }
    let csv = out
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("cannot write CSV: {e}")))?;
    Ok(AuditExport { csv, truncated })
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, carriage return at the
/// start) gets a leading apostrophe, the OWASP advice against CSV injection.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A grant from the command line's words.
fn grant_from_words(
    subject: Subject,
    subject_id: String,
    role: &str,
    council: Option<String>,
) -> Result<NewGrant, ApiError> {
    let role = Role::parse(role).ok_or_else(|| {
        ApiError::validation(
            "role",
            "must be district_admin, council_staff, family or partner",
        )
    })?;
    let council_id = council
        .map(|c| uuid::Uuid::parse_str(&c).map(CouncilId::from))
        .transpose()
        .map_err(|_| ApiError::validation("council", "not a council id"))?;
    Ok(NewGrant {
        subject,
        subject_id,
        role,
        council_id,
    })
}

/// A person with a sign-in account and one role, in the command line's words.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<String>,
    pub password: &'a str,
    pub role: &'a str,
    pub council: Option<String>,
}

/// Creates a person with a sign-in account and one role (`cogov admin create-user`, tests), in
/// one transaction, with the steps the account endpoints use.
pub async fn bootstrap_user(ctx: &Context, db: &Db, user: NewUser<'_>) -> Result<String, ApiError> {
    let NewUser {
        username,
        display_name,
        email,
        password,
        role,
        council,
    } = user;
    let username = accounts::username(username).map_err(|e| ApiError::Validation(vec![e]))?;
    let hash = accounts::password_hash(password).await?;
    let now = db::now();
    let person_id = new_id();
    let grant = grant_from_words(Subject::Person, person_id.clone(), role, council)?;
    let person = db::people::Person {
        id: person_id.clone(),
        display_name: display_name.to_owned(),
        email,
        phone: None,
        preferred_language: "en".to_owned(),
        created_at: now,
        updated_at: now,
        version: 1,
        created_by: Some(ctx.operation.clone()),
        contact_erased_at: None,
    };
    let account = accounts::account_row(person_id.clone(), Some(username), Some(hash), None);
    ctx.write(db, "create", Some(person_id.clone()), 201, move |conn| {
        db::people::insert(conn, &person)?;
        accounts::open_account(conn, &account)?;
        grant_role(conn, &grant)?;
        Ok(())
    })
    .await?;
    Ok(person_id)
}

/// Creates an API client with one role (`cogov admin create-client`, tests); returns its client
/// id and secret (shown once). The same steps as `POST /api/v1/api-clients` and a grant.
pub async fn bootstrap_client(
    ctx: &Context,
    db: &Db,
    name: &str,
    role: &str,
    council: Option<String>,
) -> Result<(String, String), ApiError> {
    let accounts::ClientSecret { client, secret } = accounts::new_client(name).await?;
    let client_id = client.client_id.clone();
    let grant = grant_from_words(Subject::Client, client_id.clone(), role, council)?;
    ctx.write(db, "create", Some(client.id.clone()), 201, move |conn| {
        accounts::add_client(conn, &client)?;
        grant_role(conn, &grant)?;
        Ok(())
    })
    .await?;
    Ok((client_id, secret))
}

/// Records the identity provider's subject for a person (`cogov admin link-identity`), so that
/// tokens with that `sub` sign them in: their account is changed as `PATCH
/// /api/v1/accounts/{account_id}` changes it, or, without one, opened as `POST /api/v1/accounts`
/// opens it.
pub async fn link_identity(
    ctx: &Context,
    db: &Db,
    person_id: &str,
    subject: &str,
) -> Result<(), ApiError> {
    let subject = accounts::external_subject("subject", subject)
        .map_err(|e| ApiError::Validation(vec![e]))?;
    let person_id = person_id.to_owned();
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(person_id.clone()), 200, move |conn| {
        if db::people::find(conn, &person_id)?.is_none() {
            return Err(ApiError::not_found("person", &person_id));
        }
        match store::account::by_person(conn, &person_id)? {
            Some(account) => {
                let patch = accounts::AccountPatch {
                    external_subject: Some(Some(subject)),
                    ..Default::default()
                };
                accounts::change_account(conn, &caller, account, patch)?;
            }
            None => accounts::open_account(
                conn,
                &accounts::account_row(person_id.clone(), None, None, Some(subject)),
            )?,
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("curl/8.0"), "curl/8.0");
    }
}
