//! Schools.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::{contains_pattern, lower, versioned_writes};
use super::schema::schools;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = schools, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct School {
    pub id: String,
    pub name: String,
    pub district_code: String,
    pub time_zone: String,
    pub address: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(schools, School, "school");
super::external_ids::find_with_ids!(
    schools,
    School,
    crate::domain::external_ids::ResourceKind::School
);

#[derive(Debug, Default)]
pub struct SchoolFilter {
    /// Only the record carrying this external id.
    pub external_id: Option<crate::domain::external_ids::ExternalId>,
    pub district_code: Option<String>,
    pub name_contains: Option<String>,
}

/// Schools in id order, after `after`, at most `fetch` of them.
pub fn list(
    conn: &mut AnyConnection,
    filter: &SchoolFilter,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<School>> {
    let mut query = schools::table.select(School::as_select()).into_boxed();
    if let Some(code) = &filter.district_code {
        query = query.filter(schools::district_code.eq(code.clone()));
    }
    if let Some(text) = &filter.name_contains {
        query = query.filter(
            lower(schools::name)
                .like(lower(contains_pattern(text)))
                .escape('\\'),
        );
    }
    if let Some(ext) = &filter.external_id {
        query = query.filter(schools::id.eq_any(crate::external_id_holders!(
            crate::domain::external_ids::ResourceKind::School,
            ext
        )));
    }
    if let Some(after) = after {
        query = query.filter(schools::id.gt(after.to_owned()));
    }
    query.order(schools::id.asc()).limit(fetch).load(conn)
}
