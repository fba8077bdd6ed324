//! People: anyone who holds a seat, files a request or signs in.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::{contains_pattern, lower, versioned_writes};
use super::schema::people;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = people, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Person {
    pub id: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_language: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// Who added the person (`person:<id>` or `client:<client_id>`); they may see the record
    /// until a seat relates the person to a council.
    pub created_by: Option<String>,
    /// When the contact details were erased (the public record of seats stays).
    pub contact_erased_at: Option<NaiveDateTime>,
}

versioned_writes!(people, Person, "person");

/// Inserts several new people in one statement and records `created` for each (a roster
/// import's batch).
pub fn insert_many(conn: &mut AnyConnection, rows: &[Person]) -> Result<(), super::StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    // Columns as explicit values: a `None` is stored as NULL, as the single-row insert does.
    let values: Vec<_> = rows
        .iter()
        .map(|p| {
            (
                people::id.eq(&p.id),
                people::display_name.eq(&p.display_name),
                people::email.eq(&p.email),
                people::phone.eq(&p.phone),
                people::preferred_language.eq(&p.preferred_language),
                people::created_at.eq(p.created_at),
                people::updated_at.eq(p.updated_at),
                people::version.eq(p.version),
                people::created_by.eq(&p.created_by),
                people::contact_erased_at.eq(p.contact_erased_at),
            )
        })
        .collect();
    crate::insert_rows!(conn, people::table, values)?;
    let entries: Vec<_> = rows
        .iter()
        .map(|p| super::changes::Entry {
            resource: "person",
            resource_id: &p.id,
            action: super::changes::Action::Created,
            version: p.version,
            at: p.created_at,
        })
        .collect();
    super::changes::record_many(conn, &entries)?;
    Ok(())
}

/// Saves several people, each already advanced by one version from the one it was read at (one
/// versioned `UPDATE` each), and records their `updated` changes in one statement. Fails with
/// `Stale` when any of them changed meanwhile.
pub fn update_many(conn: &mut AnyConnection, rows: &[Person]) -> Result<(), super::StoreError> {
    for row in rows {
        let n = diesel::update(
            people::table
                .find(&row.id)
                .filter(people::version.eq(row.version - 1)),
        )
        .set(row)
        .execute(conn)?;
        if n == 0 {
            return Err(super::StoreError::Stale("person"));
        }
    }
    let entries: Vec<_> = rows
        .iter()
        .map(|p| super::changes::Entry {
            resource: "person",
            resource_id: &p.id,
            action: super::changes::Action::Updated,
            version: p.version,
            at: p.updated_at,
        })
        .collect();
    super::changes::record_many(conn, &entries)?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct PersonFilter {
    /// Only the record carrying this external id.
    pub external_id: Option<crate::domain::external_ids::ExternalId>,
    pub name_contains: Option<String>,
    pub email: Option<String>,
    pub preferred_language: Option<String>,
    /// Only people this caller may see: added by `created_by`, or holding a seat now on one of
    /// `councils`. `None`: everyone (district admins).
    pub visible_to: Option<Visibility>,
}

#[derive(Debug, Default, Clone)]
pub struct Visibility {
    pub created_by: String,
    pub councils: Vec<String>,
}

pub fn list(
    conn: &mut AnyConnection,
    filter: &PersonFilter,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<Person>> {
    let mut query = people::table.select(Person::as_select()).into_boxed();
    if let Some(text) = &filter.name_contains {
        query = query.filter(
            lower(people::display_name)
                .like(lower(contains_pattern(text)))
                .escape('\\'),
        );
    }
    if let Some(email) = &filter.email {
        query = query.filter(lower(people::email.assume_not_null()).eq(lower(email.clone())));
    }
    if let Some(lang) = &filter.preferred_language {
        query = query.filter(people::preferred_language.eq(lang.clone()));
    }
    if let Some(v) = &filter.visible_to {
        use super::schema::seats;
        let seated = seats::table
            .filter(seats::council_id.eq_any(v.councils.clone()))
            .filter(seats::holder_id.is_not_null())
            .select(seats::holder_id.assume_not_null());
        query = query.filter(
            people::created_by
                .eq(v.created_by.clone())
                .or(people::id.eq_any(seated)),
        );
    }
    if let Some(ext) = &filter.external_id {
        query = query.filter(people::id.eq_any(crate::external_id_holders!(
            crate::domain::external_ids::ResourceKind::Person,
            ext
        )));
    }
    if let Some(after) = after {
        query = query.filter(people::id.gt(after.to_owned()));
    }
    query.order(people::id.asc()).limit(fetch).load(conn)
}

/// The people with these ids (for showing seat holders by name).
pub fn by_ids(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<Vec<Person>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    people::table
        .filter(people::id.eq_any(ids))
        .select(Person::as_select())
        .load(conn)
}

/// A person's directory-information choices (absent: nothing withheld).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::directory_preferences, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct DirectoryPreferences {
    /// The person's id.
    pub id: String,
    /// A JSON array of field codes.
    pub opt_outs: String,
    pub homeless_youth: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod directory {
    use super::super::schema::directory_preferences;
    use super::*;
    versioned_writes!(
        directory_preferences,
        DirectoryPreferences,
        "directory_preferences"
    );

    /// The preferences of these people (those who set any).
    pub fn of_people(
        conn: &mut AnyConnection,
        ids: &[String],
    ) -> QueryResult<Vec<DirectoryPreferences>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        directory_preferences::table
            .filter(directory_preferences::id.eq_any(ids))
            .select(DirectoryPreferences::as_select())
            .load(conn)
    }
}
