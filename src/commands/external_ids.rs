//! External ids as the commands of schools, people and councils set and read them.

use crate::db::{self, AnyConnection, StoreError};
use crate::domain::external_ids::{list_problems, normalized, ExternalId, ResourceKind};
use crate::error::{ApiError, FieldError};

/// A record with the external ids it carries.
#[derive(Debug, Clone)]
pub struct Identified<T> {
    pub row: T,
    pub external_ids: Vec<ExternalId>,
}

/// Checks a list a caller sent as a whole (at most one value per system, not too many) and puts
/// it in a stable order.
pub fn checked(ids: Vec<ExternalId>) -> Result<Vec<ExternalId>, ApiError> {
    let problems = list_problems(&ids);
    if problems.is_empty() {
        Ok(normalized(ids))
    } else {
        Err(ApiError::Validation(
            problems
                .into_iter()
                .map(|m| FieldError::new("external_ids", m))
                .collect(),
        ))
    }
}

/// Sets a record's external ids to `ids` (already [`checked`]). An id another record of the kind
/// carries is a 409 that names it; the unique index refuses it too when two writers race.
pub fn set(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    resource_id: &str,
    ids: &[ExternalId],
) -> Result<(), ApiError> {
    for id in ids {
        if let Some(other) = db::external_ids::holder(conn, kind, id)? {
            if other != resource_id {
                return Err(duplicate(kind, id, Some(&other)));
            }
        }
    }
    db::external_ids::replace(conn, kind, resource_id, ids, db::now()).map_err(|e| match e {
        StoreError::Duplicate(_) => ApiError::Conflict {
            code: "duplicate-external-id",
            detail: format!(
                "another {} already carries one of these external ids",
                kind.as_str()
            ),
        },
        other => other.into(),
    })
}

/// Gives a record created in this transaction its external ids. A new record has none to
/// replace, so a record created without any costs no statement at all (a create is one round
/// trip shorter on PostgreSQL).
pub fn set_new(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    resource_id: &str,
    ids: &[ExternalId],
) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    set(conn, kind, resource_id, ids)
}

fn duplicate(kind: ResourceKind, id: &ExternalId, other: Option<&str>) -> ApiError {
    ApiError::Conflict {
        code: "duplicate-external-id",
        detail: format!(
            "the external id {}:{} already belongs to another {}{}; an external id names one {} \
             per system",
            id.system,
            id.value,
            kind.as_str(),
            other.map(|o| format!(" ({o})")).unwrap_or_default(),
            kind.as_str()
        ),
    }
}

/// Reads one record's external ids.
pub fn of(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    resource_id: &str,
) -> Result<Vec<ExternalId>, ApiError> {
    Ok(db::external_ids::of(conn, kind, resource_id)?)
}

/// Pairs each record with its external ids (one query for the page).
pub fn attach<T>(
    conn: &mut AnyConnection,
    kind: ResourceKind,
    rows: Vec<T>,
    id_of: impl Fn(&T) -> &str,
) -> Result<Vec<Identified<T>>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| id_of(r).to_owned()).collect();
    let mut map = db::external_ids::of_many(conn, kind, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let external_ids = map.remove(id_of(&row)).unwrap_or_default();
            Identified { row, external_ids }
        })
        .collect())
}
