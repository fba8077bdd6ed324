//! Minutes of meetings and the corrections recorded after their approval.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{minutes, minutes_corrections};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = minutes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Minutes {
    pub id: String,
    /// One set of minutes per meeting (a unique index).
    pub meeting_id: String,
    pub council_id: String,
    /// `draft` or `approved`; approved minutes are immutable.
    pub status: String,
    /// JSON of what the record says (attendance, items, motions and votes, findings,
    /// amendments), generated when the draft is made; no query looks inside.
    pub record: String,
    pub summary: Option<String>,
    pub notes: Option<String>,
    /// The action item of a later meeting whose passing motion approves these minutes.
    pub approval_item_id: Option<String>,
    pub approved_by_motion_id: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(minutes, Minutes, "minutes");

pub fn of_meeting(conn: &mut AnyConnection, meeting_id: &str) -> QueryResult<Option<Minutes>> {
    minutes::table
        .filter(minutes::meeting_id.eq(meeting_id))
        .select(Minutes::as_select())
        .first(conn)
        .optional()
}

/// Draft minutes whose approval is scheduled on this agenda item.
pub fn awaiting_approval_on(conn: &mut AnyConnection, item_id: &str) -> QueryResult<Vec<Minutes>> {
    minutes::table
        .filter(minutes::approval_item_id.eq(item_id))
        .filter(minutes::status.eq("draft"))
        .select(Minutes::as_select())
        .load(conn)
}

/// A correction recorded after the minutes were approved.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = minutes_corrections, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Correction {
    pub id: String,
    pub minutes_id: String,
    pub reason: String,
    pub correction: String,
    pub actor: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod corrections {
    use super::*;
    versioned_writes!(minutes_corrections, Correction, "minutes_correction");

    pub fn of_minutes(conn: &mut AnyConnection, minutes_id: &str) -> QueryResult<Vec<Correction>> {
        minutes_corrections::table
            .filter(minutes_corrections::minutes_id.eq(minutes_id))
            .order(minutes_corrections::id.asc())
            .select(Correction::as_select())
            .load(conn)
    }
}
