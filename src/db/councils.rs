//! Councils and the record of composition-rule overrides.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::{contains_pattern, lower, versioned_writes};
use super::schema::{councils, rule_overrides};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = councils, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Council {
    pub id: String,
    pub school_id: Option<String>,
    pub kind: String,
    pub regime: String,
    pub name: String,
    pub description: Option<String>,
    pub quorum_basis: String,
    pub regular_notice_hours: i64,
    pub special_notice_hours: i64,
    /// JSON array of composition rules (no query looks inside it).
    pub composition_rules: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// Archived councils are kept, read-only, and left out of default lists.
    pub archived_at: Option<NaiveDateTime>,
    /// How many seats of this council one person may hold at once (1 unless the bylaws say).
    pub max_seats_per_person: i64,
    /// Seconds one member of the public may speak on an item (DOMAIN rule 7; default 180).
    pub speaker_seconds: i64,
    /// Assemblies: how many participants must be present for quorum.
    pub assembly_quorum: Option<i64>,
}

versioned_writes!(councils, Council, "council");
super::external_ids::find_with_ids!(
    councils,
    Council,
    crate::domain::external_ids::ResourceKind::Council
);

#[derive(Debug, Default)]
pub struct CouncilFilter {
    /// Only the council carrying this external id.
    pub external_id: Option<crate::domain::external_ids::ExternalId>,
    pub school_id: Option<String>,
    /// Only councils that belong to the district (no school).
    pub district_only: bool,
    pub kind: Option<String>,
    pub name_contains: Option<String>,
    /// Archived councils are left out unless asked for.
    pub include_archived: bool,
}

pub fn list(
    conn: &mut AnyConnection,
    filter: &CouncilFilter,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<Council>> {
    // A page is a prepared statement on the backend's own connection (see `on_backend!`).
    crate::on_backend!(conn, |c| {
        let mut query = councils::table.select(Council::as_select()).into_boxed();
        if let Some(school) = &filter.school_id {
            query = query.filter(councils::school_id.eq(school.clone()));
        }
        if filter.district_only {
            query = query.filter(councils::school_id.is_null());
        }
        if !filter.include_archived {
            query = query.filter(councils::archived_at.is_null());
        }
        if let Some(kind) = &filter.kind {
            query = query.filter(councils::kind.eq(kind.clone()));
        }
        if let Some(text) = &filter.name_contains {
            query = query.filter(
                lower(councils::name)
                    .like(lower(contains_pattern(text)))
                    .escape('\\'),
            );
        }
        if let Some(ext) = &filter.external_id {
            query = query.filter(councils::id.eq_any(crate::external_id_holders!(
                crate::domain::external_ids::ResourceKind::Council,
                ext
            )));
        }
        if let Some(after) = after {
            query = query.filter(councils::id.gt(after.to_owned()));
        }
        query.order(councils::id.asc()).limit(fetch).load(c)
    })
}

/// A seat change that was made although it broke composition rules, because the caller said so.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rule_overrides, treat_none_as_default_value = false)]
pub struct RuleOverride {
    pub id: String,
    pub council_id: String,
    pub seat_id: Option<String>,
    /// What was done, e.g. `seat.created`, `seat.holder_removed`.
    pub change: String,
    /// JSON array of the rule outcomes that the change broke.
    pub broken_rules: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub fn record_override(conn: &mut AnyConnection, row: &RuleOverride) -> QueryResult<()> {
    diesel::insert_into(rule_overrides::table)
        .values(row)
        .execute(conn)?;
    super::changes::record(
        conn,
        "rule_override",
        &row.id,
        super::changes::Action::Created,
        row.version,
        row.created_at,
    )
}

pub fn list_overrides(
    conn: &mut AnyConnection,
    council_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<RuleOverride>> {
    let mut query = rule_overrides::table
        .filter(rule_overrides::council_id.eq(council_id.to_owned()))
        .select(RuleOverride::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(rule_overrides::id.gt(after.to_owned()));
    }
    query
        .order(rule_overrides::id.asc())
        .limit(fetch)
        .load(conn)
}
