//! Published meetings for calendar feeds, with their council's name.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::meetings::Meeting;
use super::schema::{councils, meetings};
use super::AnyConnection;

/// Which meetings a feed holds.
#[derive(Debug, Clone)]
pub enum Scope {
    Council(String),
    School(String),
    District,
}

/// Published meetings (noticed at some point, including those cancelled since) starting at or
/// after `from`, earliest first, at most `limit`, each with its council's name.
pub fn published(
    conn: &mut AnyConnection,
    scope: &Scope,
    from: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(Meeting, String)>> {
    let mut query = meetings::table
        .inner_join(councils::table.on(councils::id.eq(meetings::council_id)))
        .filter(meetings::noticed_at.is_not_null())
        .filter(meetings::starts_at.ge(from))
        .select((Meeting::as_select(), councils::name))
        .into_boxed();
    match scope {
        Scope::Council(id) => query = query.filter(meetings::council_id.eq(id.clone())),
        Scope::School(id) => query = query.filter(councils::school_id.eq(id.clone())),
        Scope::District => {}
    }
    query
        .order((meetings::starts_at.asc(), meetings::id.asc()))
        .limit(limit)
        .load(conn)
}
