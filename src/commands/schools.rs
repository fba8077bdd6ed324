//! Schools of the district.

use super::external_ids::{self, Identified};
use super::{fields_ok, new_id, patch_optional, patch_required, require, Context, Expected, Patch};
use crate::auth::policy;
use crate::db::{self, schools::School, Db, StoreError};
use crate::domain::external_ids::{ExternalId, ResourceKind};
use crate::domain::ids::SchoolId;
use crate::error::ApiError;

pub struct NewSchool {
    pub name: String,
    pub district_code: String,
    pub time_zone: String,
    pub address: Option<String>,
    pub external_ids: Vec<ExternalId>,
}

/// A JSON merge patch of a school.
#[derive(Default)]
pub struct SchoolChanges {
    pub name: Patch<String>,
    pub district_code: Patch<String>,
    pub time_zone: Patch<String>,
    pub address: Patch<String>,
    /// Replaces the whole list; `null` clears it.
    pub external_ids: Patch<Vec<ExternalId>>,
}

const KIND: ResourceKind = ResourceKind::School;

pub fn list(
    db: &Db,
    filter: &db::schools::SchoolFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<Identified<School>>, ApiError> {
    db.read(|conn| {
        let rows = db::schools::list(conn, filter, after, fetch)?;
        external_ids::attach(conn, KIND, rows, |s| &s.id)
    })
}

pub fn find(db: &Db, id: SchoolId) -> Result<Identified<School>, ApiError> {
    let id = id.key();
    let (row, external_ids) = db
        .read(|conn| Ok::<_, ApiError>(db::schools::find_with_ids(conn, &id)?))?
        .ok_or_else(|| ApiError::not_found("school", &id))?;
    Ok(Identified { row, external_ids })
}

fn duplicate_code(err: StoreError) -> ApiError {
    match err {
        StoreError::Duplicate(_) => ApiError::Conflict {
            code: "duplicate",
            detail: "another school already has this district_code".to_owned(),
        },
        other => other.into(),
    }
}

pub async fn create(
    ctx: &Context,
    db: &Db,
    input: NewSchool,
) -> Result<Identified<School>, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "school", "")?;
    let ids = external_ids::checked(input.external_ids)?;
    let now = db::now();
    let row = School {
        id: new_id(),
        name: input.name,
        district_code: input.district_code,
        time_zone: input.time_zone,
        address: input.address,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.write(db, "create", Some(row.id.clone()), 201, move |conn| {
        db::schools::insert(conn, &row).map_err(duplicate_code)?;
        external_ids::set_new(conn, KIND, &row.id, &ids)?;
        Ok(Identified {
            row,
            external_ids: ids,
        })
    })
    .await
}

pub async fn update(
    ctx: &Context,
    db: &Db,
    id: SchoolId,
    expected: Expected,
    changes: SchoolChanges,
) -> Result<Identified<School>, ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "school", &id)?;
    let new_ids = match changes.external_ids {
        None => None,
        Some(list) => Some(external_ids::checked(list.unwrap_or_default())?),
    };
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut row =
            db::schools::find(conn, &id)?.ok_or_else(|| ApiError::not_found("school", &id))?;
        expected.check(row.version)?;
        let (mut errors, mut changed) = (Vec::new(), false);
        patch_required(
            &mut row.name,
            changes.name,
            "name",
            &mut errors,
            &mut changed,
        );
        patch_required(
            &mut row.district_code,
            changes.district_code,
            "district_code",
            &mut errors,
            &mut changed,
        );
        patch_required(
            &mut row.time_zone,
            changes.time_zone,
            "time_zone",
            &mut errors,
            &mut changed,
        );
        patch_optional(&mut row.address, changes.address, &mut changed);
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
            db::schools::update(conn, &row).map_err(duplicate_code)?;
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
    id: SchoolId,
    expected: Expected,
) -> Result<(), ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "school", &id)?;
    ctx.write(db, "delete", Some(id.clone()), 204, move |conn| {
        let row =
            db::schools::find(conn, &id)?.ok_or_else(|| ApiError::not_found("school", &id))?;
        expected.check(row.version)?;
        db::schools::delete(conn, &row).map_err(|e| {
            still_referenced(
                e,
                "councils still belong to this school; delete or move them first",
            )
        })?;
        db::external_ids::remove_all(conn, KIND, &id)?;
        Ok(())
    })
    .await
}

/// Maps a foreign-key refusal on delete to a 409 that says what still refers to the record.
pub fn still_referenced(err: StoreError, detail: &str) -> ApiError {
    match err {
        StoreError::StillReferenced => ApiError::Conflict {
            code: "still-referenced",
            detail: detail.to_owned(),
        },
        other => other.into(),
    }
}
