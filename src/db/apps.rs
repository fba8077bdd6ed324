//! Family invitations, registered apps, what families allowed them (grants), authorization codes
//! and refresh tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{
    family_invitations, oauth_apps, oauth_codes, oauth_grants, oauth_refresh_tokens,
};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = family_invitations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Invitation {
    pub id: String,
    pub person_id: String,
    /// SHA-256 (hex) of the code; the code itself is shown once, to staff.
    pub code_hash: String,
    /// `sign_up` or `password_reset`.
    pub purpose: String,
    /// `parent`, `guardian` or `student`.
    pub relationship: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod invitation {
    use super::*;
    versioned_writes!(family_invitations, Invitation, "family_invitation");

    pub fn by_code_hash(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<Invitation>> {
        family_invitations::table
            .filter(family_invitations::code_hash.eq(hash))
            .select(Invitation::as_select())
            .first(conn)
            .optional()
    }

    /// Marks the invitation used, unless it was used already (by this or another instance):
    /// returns whether this call used it.
    pub fn use_once(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            family_invitations::table
                .filter(family_invitations::id.eq(id))
                .filter(family_invitations::used_at.is_null()),
        )
        .set((
            family_invitations::used_at.eq(now),
            family_invitations::updated_at.eq(now),
            family_invitations::version.eq(family_invitations::version + 1),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = oauth_apps, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct App {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub owner: String,
    /// Redirect URIs, one per line (matched exactly).
    pub redirect_uris: String,
    pub confidential: bool,
    pub secret_hash: Option<String>,
    /// The scopes the app may ask for, space-separated.
    pub scopes: String,
    /// `pending`, `active` or `suspended`.
    pub status: String,
    pub submitted_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod app {
    use super::*;
    versioned_writes!(oauth_apps, App, "oauth_app");

    pub fn by_client_id(conn: &mut AnyConnection, client_id: &str) -> QueryResult<Option<App>> {
        oauth_apps::table
            .filter(oauth_apps::client_id.eq(client_id))
            .select(App::as_select())
            .first(conn)
            .optional()
    }

    pub fn list(
        conn: &mut AnyConnection,
        status: Option<&str>,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<App>> {
        let mut query = oauth_apps::table.select(App::as_select()).into_boxed();
        if let Some(s) = status {
            query = query.filter(oauth_apps::status.eq(s.to_owned()));
        }
        if let Some(after) = after {
            query = query.filter(oauth_apps::id.gt(after.to_owned()));
        }
        query.order(oauth_apps::id.asc()).limit(fetch).load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = oauth_grants, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct AppGrant {
    pub id: String,
    pub app_id: String,
    pub person_id: String,
    /// The scopes the family allowed, space-separated.
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// `family`, `refresh_token_reuse`, `code_reuse`.
    pub revoked_reason: Option<String>,
    pub version: i64,
}

pub mod grant {
    use super::*;
    versioned_writes!(oauth_grants, AppGrant, "oauth_grant");

    /// The grant in force of a person to an app.
    pub fn in_force(
        conn: &mut AnyConnection,
        app_id: &str,
        person_id: &str,
    ) -> QueryResult<Option<AppGrant>> {
        oauth_grants::table
            .filter(oauth_grants::app_id.eq(app_id))
            .filter(oauth_grants::person_id.eq(person_id))
            .filter(oauth_grants::revoked_at.is_null())
            .select(AppGrant::as_select())
            .first(conn)
            .optional()
    }

    /// A person's grants in force, with their apps.
    pub fn of_person(
        conn: &mut AnyConnection,
        person_id: &str,
    ) -> QueryResult<Vec<(AppGrant, App)>> {
        oauth_grants::table
            .inner_join(oauth_apps::table)
            .filter(oauth_grants::person_id.eq(person_id))
            .filter(oauth_grants::revoked_at.is_null())
            .select((AppGrant::as_select(), App::as_select()))
            .order(oauth_grants::id.asc())
            .load(conn)
    }

    /// Revokes a grant in force (one statement; a grant revoked already stays as it was).
    /// Returns whether this call revoked it.
    pub fn revoke(
        conn: &mut AnyConnection,
        id: &str,
        reason: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(
            oauth_grants::table
                .filter(oauth_grants::id.eq(id))
                .filter(oauth_grants::revoked_at.is_null()),
        )
        .set((
            oauth_grants::revoked_at.eq(now),
            oauth_grants::revoked_reason.eq(reason),
            oauth_grants::updated_at.eq(now),
            oauth_grants::version.eq(oauth_grants::version + 1),
        ))
        .execute(conn)?;
        if n == 1 {
            if let Some(row) = find(conn, id)? {
                crate::db::changes::record(
                    conn,
                    "oauth_grant",
                    &row.id,
                    crate::db::changes::Action::Updated,
                    row.version,
                    row.updated_at,
                )?;
            }
        }
        Ok(n == 1)
    }

    /// Notes that the app acted for the family now.
    pub fn touch(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(oauth_grants::table.filter(oauth_grants::id.eq(id)))
            .set(oauth_grants::last_used_at.eq(now))
            .execute(conn)
            .map(|_| ())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_codes, treat_none_as_default_value = false)]
pub struct Code {
    pub code_hash: String,
    pub grant_id: String,
    pub redirect_uri: String,
    /// The PKCE S256 challenge (base64url of SHA-256 of the verifier).
    pub code_challenge: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub mod code {
    use super::*;

    pub fn insert(conn: &mut AnyConnection, row: &Code) -> QueryResult<()> {
        diesel::insert_into(oauth_codes::table)
            .values(row)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<Code>> {
        oauth_codes::table
            .find(hash)
            .select(Code::as_select())
            .first(conn)
            .optional()
    }

    /// Uses the code, unless it was used already: returns whether this call used it.
    pub fn use_once(conn: &mut AnyConnection, hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            oauth_codes::table
                .filter(oauth_codes::code_hash.eq(hash))
                .filter(oauth_codes::used_at.is_null()),
        )
        .set(oauth_codes::used_at.eq(now))
        .execute(conn)
        .map(|n| n == 1)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_refresh_tokens, treat_none_as_default_value = false)]
pub struct RefreshToken {
    pub token_hash: String,
    pub grant_id: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub mod refresh {
    use super::*;

    pub fn insert(conn: &mut AnyConnection, row: &RefreshToken) -> QueryResult<()> {
        diesel::insert_into(oauth_refresh_tokens::table)
            .values(row)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<RefreshToken>> {
        oauth_refresh_tokens::table
            .find(hash)
            .select(RefreshToken::as_select())
            .first(conn)
            .optional()
    }

    /// Uses (rotates) the token, unless it was used already: returns whether this call used it.
    pub fn use_once(conn: &mut AnyConnection, hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            oauth_refresh_tokens::table
                .filter(oauth_refresh_tokens::token_hash.eq(hash))
                .filter(oauth_refresh_tokens::used_at.is_null()),
        )
        .set(oauth_refresh_tokens::used_at.eq(now))
        .execute(conn)
        .map(|n| n == 1)
    }
}

/// The latest (youngest) birth date recorded for a person as the student of a service request.
pub fn youngest_recorded_birth(
    conn: &mut AnyConnection,
    person_id: &str,
) -> QueryResult<Option<chrono::NaiveDate>> {
    use super::schema::service_requests;
    service_requests::table
        .filter(service_requests::subject_person_id.eq(person_id))
        .select(diesel::dsl::max(service_requests::subject_birth_date))
        .first(conn)
}
