//! Agenda items (proposals and items on meetings) and the amendments of published agendas.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{agenda_items, meeting_amendments};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agenda_items, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct AgendaItem {
    pub id: String,
    pub council_id: String,
    /// Set once the item is on a meeting's agenda.
    pub meeting_id: Option<String>,
    pub status: String,
    /// Rank within the meeting (`domain::agenda::rank`), unique per meeting.
    pub position: Option<String>,
    pub kind: String,
    pub legal_basis: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub presenter: Option<String>,
    pub proposed_by_seat_id: Option<String>,
    /// `person:<id>` or `client:<client_id>` of whoever proposed or added it.
    pub proposed_by: Option<String>,
    pub minutes_allotted: Option<i64>,
    /// JSON array of documents (no query looks inside).
    pub documents: String,
    /// JSON object of translations by BCP 47 tag (no query looks inside).
    pub translations: String,
    pub decline_reason: Option<String>,
    pub added_late: bool,
    pub amendment_id: Option<String>,
    /// When the public comment period on this item was opened and closed (DOMAIN rule 6).
    pub comment_opened_at: Option<NaiveDateTime>,
    pub comment_closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(agenda_items, AgendaItem, "agenda_item");

/// A meeting's agenda in order.
pub fn of_meeting(conn: &mut AnyConnection, meeting_id: &str) -> QueryResult<Vec<AgendaItem>> {
    agenda_items::table
        .filter(agenda_items::meeting_id.eq(meeting_id))
        .order(agenda_items::position.asc())
        .select(AgendaItem::as_select())
        .load(conn)
}

#[derive(Debug, Default)]
pub struct ItemFilter {
    pub status: Option<String>,
    /// Only items proposed by this actor key.
    pub proposed_by: Option<String>,
}

/// A council's items (proposals and agenda items), in creation order.
pub fn of_council(
    conn: &mut AnyConnection,
    council_id: &str,
    filter: &ItemFilter,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<AgendaItem>> {
    let mut query = agenda_items::table
        .filter(agenda_items::council_id.eq(council_id.to_owned()))
        .select(AgendaItem::as_select())
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(agenda_items::status.eq(status.clone()));
    }
    if let Some(by) = &filter.proposed_by {
        query = query.filter(agenda_items::proposed_by.eq(by.clone()));
    }
    if let Some(after) = after {
        query = query.filter(agenda_items::id.gt(after.to_owned()));
    }
    query.order(agenda_items::id.asc()).limit(fetch).load(conn)
}

/// A recorded change to a published agenda.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = meeting_amendments, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Amendment {
    pub id: String,
    pub meeting_id: String,
    pub reason: String,
    /// Made after the notice deadline: what it added was not in the posted notice.
    pub within_notice_window: bool,
    pub actor: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod amendments {
    use super::*;
    versioned_writes!(meeting_amendments, Amendment, "meeting_amendment");

    pub fn of_meeting(conn: &mut AnyConnection, meeting_id: &str) -> QueryResult<Vec<Amendment>> {
        meeting_amendments::table
            .filter(meeting_amendments::meeting_id.eq(meeting_id))
            .order(meeting_amendments::id.asc())
            .select(Amendment::as_select())
            .load(conn)
    }
}
