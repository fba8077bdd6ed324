//! People: council members, family members, staff. Their records hold contact details, so every
//! read is authorized against the caller's relationship to the person.

use std::collections::HashMap;

use super::external_ids::{self, Identified};
use super::schools::still_referenced;
use super::{fields_ok, new_id, patch_optional, patch_required, require, Context, Expected, Patch};
use crate::auth::policy;
use crate::db::{self, people::Person, AnyConnection, Db};
use crate::domain::directory::{self, DirectoryField};
use crate::domain::external_ids::{ExternalId, ResourceKind};
use crate::domain::ids::PersonId;
use crate::error::ApiError;

pub struct NewPerson {
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_language: String,
    pub external_ids: Vec<ExternalId>,
}

/// A JSON merge patch of a person.
#[derive(Default)]
pub struct PersonChanges {
    pub display_name: Patch<String>,
    pub email: Patch<String>,
    pub phone: Patch<String>,
    pub preferred_language: Patch<String>,
    /// Replaces the whole list; `null` clears it.
    pub external_ids: Patch<Vec<ExternalId>>,
}

const KIND: ResourceKind = ResourceKind::Person;

/// Lists people: everyone for district admins; for council staff, the people they added and
/// those seated now on councils they staff.
pub fn list(
    ctx: &Context,
    db: &Db,
    mut filter: db::people::PersonFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<Identified<Person>>, ApiError> {
    ctx.for_app(None)?;
    require(policy::list_people(&ctx.caller), "people", "")?;
    if !ctx.caller.is_admin() {
        filter.visible_to = Some(db::people::Visibility {
            created_by: ctx.caller.actor_key().unwrap_or_default(),
            councils: ctx.caller.staffed_councils(),
        });
    }
    db.read(|conn| {
        let rows = db::people::list(conn, &filter, after, fetch)?;
        external_ids::attach(conn, KIND, rows, |p| &p.id)
    })
}

pub async fn create(
    ctx: &Context,
    db: &Db,
    input: NewPerson,
) -> Result<Identified<Person>, ApiError> {
    require(policy::create_person(&ctx.caller), "person", "")?;
    let ids = external_ids::checked(input.external_ids)?;
    let now = db::now();
    let row = Person {
        id: new_id(),
        display_name: input.display_name,
        email: input.email,
        phone: input.phone,
        preferred_language: input.preferred_language,
        created_at: now,
        updated_at: now,
        version: 1,
        created_by: ctx.caller.actor_key(),
        contact_erased_at: None,
    };
    ctx.write(db, "create", Some(row.id.clone()), 201, move |conn| {
        db::people::insert(conn, &row)?;
        external_ids::set_new(conn, KIND, &row.id, &ids)?;
        Ok(Identified {
            row,
            external_ids: ids,
        })
    })
    .await
}

pub fn find(ctx: &Context, db: &Db, id: PersonId) -> Result<Identified<Person>, ApiError> {
    ctx.for_app(None)?;
    let id = &id.key();
    db.read(|conn| {
        let facts = person_facts(conn, id)?;
        require(policy::read_person(&ctx.caller, id, &facts), "person", id)?;
        let mut person =
            db::people::find(conn, id)?.ok_or_else(|| ApiError::not_found("person", id))?;
        if !policy::sees_withheld_directory(&ctx.caller, id, &facts) {
            // Fellow members: the contact details the person withholds are left out (the name
            // stays: they sit on the same council).
            let withheld = withheld_of(conn, std::slice::from_ref(&person.id))?;
            let fields = withheld.get(&person.id).cloned().unwrap_or_default();
            if fields.contains(&DirectoryField::Email) {
                person.email = None;
            }
            if fields.contains(&DirectoryField::Phone) {
                person.phone = None;
            }
        }
        let external_ids = external_ids::of(conn, KIND, id)?;
        Ok(Identified {
            row: person,
            external_ids,
        })
    })
}

/// The directory fields each of these people withholds (only people who withhold any).
pub fn withheld_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<DirectoryField>>, ApiError> {
    db::people::directory::of_people(conn, ids)?
        .into_iter()
        .map(|p| {
            let opt_outs: Vec<DirectoryField> = serde_json::from_str(&p.opt_outs)
                .map_err(|e| ApiError::Internal(format!("stored directory opt-outs: {e}")))?;
            Ok((p.id, directory::withheld(&opt_outs, p.homeless_youth)))
        })
        .filter(|r| !matches!(r, Ok((_, f)) if f.is_empty()))
        .collect()
}

/// A person's name as public views show it: `None` when the person withholds it.
pub fn public_name(
    withheld: &HashMap<String, Vec<DirectoryField>>,
    person: &Person,
) -> Option<String> {
    match withheld.get(&person.id) {
        Some(fields) if fields.contains(&DirectoryField::Name) => None,
        _ => Some(person.display_name.clone()),
    }
}

/// A person's directory-information choices.
#[derive(Debug, Clone)]
pub struct DirectoryChoices {
    pub opt_outs: Vec<DirectoryField>,
    pub homeless_youth: bool,
    /// 0 until first set.
    pub version: i64,
}

fn choices_of(row: Option<db::people::DirectoryPreferences>) -> Result<DirectoryChoices, ApiError> {
    Ok(match row {
        None => DirectoryChoices {
            opt_outs: Vec::new(),
            homeless_youth: false,
            version: 0,
        },
        Some(p) => DirectoryChoices {
            opt_outs: serde_json::from_str(&p.opt_outs)
                .map_err(|e| ApiError::Internal(format!("stored directory opt-outs: {e}")))?,
            homeless_youth: p.homeless_youth,
            version: p.version,
        },
    })
}

/// Reads a person's directory choices: those who may change the person's record.
pub fn directory_choices(
    ctx: &Context,
    db: &Db,
    id: PersonId,
) -> Result<DirectoryChoices, ApiError> {
    ctx.for_app(None)?;
    let id = &id.key();
    db.read(|conn| {
        let facts = person_facts(conn, id)?;
        require(policy::update_person(&ctx.caller, id, &facts), "person", id)?;
        db::people::find(conn, id)?.ok_or_else(|| ApiError::not_found("person", id))?;
        choices_of(db::people::directory::find(conn, id)?)
    })
}

/// Sets a person's directory choices (version 0 while none are set). The person, staff related
/// to them and district admins set opt-outs; only staff and admins change the homeless-youth
/// flag.
pub async fn set_directory_choices(
    ctx: &Context,
    db: &Db,
    id: PersonId,
    expected: Expected,
    opt_outs: Vec<DirectoryField>,
    homeless_youth: bool,
) -> Result<DirectoryChoices, ApiError> {
    let id = id.key();
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let facts = person_facts(conn, &id)?;
        require(policy::update_person(&caller, &id, &facts), "person", &id)?;
        // An unknown person is 404 (not a refused reference), for admins too.
        db::people::find(conn, &id)?.ok_or_else(|| ApiError::not_found("person", &id))?;
        let current = db::people::directory::find(conn, &id)?;
        let before = choices_of(current.clone())?;
        expected.check(before.version)?;
        if homeless_youth != before.homeless_youth {
            require(policy::flag_homeless_youth(&caller, &facts), "person", &id)?;
        }
        let mut opt_outs = opt_outs;
        opt_outs.sort();
        opt_outs.dedup();
        let text = serde_json::to_string(&opt_outs)
            .map_err(|e| ApiError::Internal(format!("directory opt-outs: {e}")))?;
        let now = db::now();
        let row = match current {
            None => {
                let row = db::people::DirectoryPreferences {
                    id: id.clone(),
                    opt_outs: text,
                    homeless_youth,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                };
                db::people::directory::insert(conn, &row)?;
                row
            }
            Some(mut row) => {
                row.opt_outs = text;
                row.homeless_youth = homeless_youth;
                row.version += 1;
                row.updated_at = now;
                db::people::directory::update(conn, &row)?;
                row
            }
        };
        choices_of(Some(row))
    })
    .await
}

pub async fn update(
    ctx: &Context,
    db: &Db,
    id: PersonId,
    expected: Expected,
    changes: PersonChanges,
) -> Result<Identified<Person>, ApiError> {
    let id = id.key();
    let caller = ctx.caller.clone();
    let new_ids = match changes.external_ids {
        None => None,
        Some(list) => Some(external_ids::checked(list.unwrap_or_default())?),
    };
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let facts = person_facts(conn, &id)?;
        require(policy::update_person(&caller, &id, &facts), "person", &id)?;
        let mut row =
            db::people::find(conn, &id)?.ok_or_else(|| ApiError::not_found("person", &id))?;
        expected.check(row.version)?;
        let (mut errors, mut changed) = (Vec::new(), false);
        patch_required(
            &mut row.display_name,
            changes.display_name,
            "display_name",
            &mut errors,
            &mut changed,
        );
        patch_optional(&mut row.email, changes.email, &mut changed);
        patch_optional(&mut row.phone, changes.phone, &mut changed);
        patch_required(
            &mut row.preferred_language,
            changes.preferred_language,
            "preferred_language",
            &mut errors,
            &mut changed,
        );
        fields_ok(errors)?;
        let mut ids = external_ids::of(conn, KIND, &id)?;
        if let Some(new_ids) = new_ids {
            if new_ids != ids {
                external_ids::set(conn, KIND, &id, &new_ids)?;
                ids = new_ids;
                changed = true;
            }
        }
        if changed {
            row.version += 1;
            row.updated_at = db::now();
            db::people::update(conn, &row)?;
        }
        Ok(Identified {
            row,
            external_ids: ids,
        })
    })
    .await
}

pub async fn delete(
    ctx: &Context,
    db: &Db,
    id: PersonId,
    expected: Expected,
) -> Result<(), ApiError> {
    let id = id.key();
    let caller = ctx.caller.clone();
    ctx.write(db, "delete", Some(id.clone()), 204, move |conn| {
        let facts = person_facts(conn, &id)?;
        require(policy::delete_person(&caller, &id, &facts), "person", &id)?;
        let row = db::people::find(conn, &id)?.ok_or_else(|| ApiError::not_found("person", &id))?;
        expected.check(row.version)?;
        db::people::delete(conn, &row).map_err(|e| {
            still_referenced(
                e,
                "this person holds or has held a seat, and seat history is a public record that \
                 is kept; erase their contact details instead (DELETE /api/v1/people/{person_id}/contact)",
            )
        })?;
        db::external_ids::remove_all(conn, KIND, &id)?;
        Ok(())
    })
    .await
}

/// Erases a person's contact details (email, phone) for good, keeping their name on the public
/// record of the seats they held. District admins only.
pub async fn erase_contact(
    ctx: &Context,
    db: &Db,
    id: PersonId,
    expected: Expected,
) -> Result<Identified<Person>, ApiError> {
    let id = id.key();
    let caller = ctx.caller.clone();
    ctx.write(db, "delete", Some(id.clone()), 200, move |conn| {
        let facts = person_facts(conn, &id)?;
        require(policy::delete_person(&caller, &id, &facts), "person", &id)?;
        let mut row =
            db::people::find(conn, &id)?.ok_or_else(|| ApiError::not_found("person", &id))?;
        expected.check(row.version)?;
        row.email = None;
        row.phone = None;
        let now = db::now();
        row.contact_erased_at.get_or_insert(now);
        row.version += 1;
        row.updated_at = now;
        db::people::update(conn, &row)?;
        let external_ids = external_ids::of(conn, KIND, &id)?;
        Ok(Identified { row, external_ids })
    })
    .await
}

/// One seat a person holds or held, on any council.
pub struct SeatHeld {
    pub holding: db::seats::Holding,
    pub seat: db::seats::Seat,
    pub council_name: String,
}

/// Every seat a person holds or held, oldest first; visible to whoever may read the person.
pub fn seats_held(ctx: &Context, db: &Db, id: PersonId) -> Result<Vec<SeatHeld>, ApiError> {
    ctx.for_app(None)?;
    let id = &id.key();
    db.read(|conn| {
        let facts = person_facts(conn, id)?;
        require(policy::read_person(&ctx.caller, id, &facts), "person", id)?;
        if db::people::find(conn, id)?.is_none() {
            return Err(ApiError::not_found("person", id));
        }
        seats_of(conn, id)
    })
}

/// A person's seats with their councils' names.
pub fn seats_of(conn: &mut AnyConnection, person_id: &str) -> Result<Vec<SeatHeld>, ApiError> {
    let rows = db::seats::holdings::of_person(conn, person_id)?;
    let mut out = Vec::with_capacity(rows.len());
    for (holding, seat) in rows {
        let council_name = db::councils::find(conn, &seat.council_id)?
            .map(|c| c.name)
            .ok_or_else(|| ApiError::Internal(format!("seat {} has no council", seat.id)))?;
        out.push(SeatHeld {
            holding,
            seat,
            council_name,
        });
    }
    Ok(out)
}

/// The seats a person holds or held, which decide who may see their record.
fn person_facts(conn: &mut AnyConnection, id: &str) -> Result<policy::PersonFacts, ApiError> {
    let (seated_now_on, seated_ever_on) = db::access::seat_councils(conn, id)?;
    let created_by = db::people::find(conn, id)?.and_then(|p| p.created_by);
    Ok(policy::PersonFacts {
        seated_ever_on,
        seated_now_on,
        created_by,
    })
}
