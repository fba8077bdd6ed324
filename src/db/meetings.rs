//! Meetings and the history of their lifecycle actions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{meeting_events, meetings};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = meetings, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Meeting {
    pub id: String,
    pub council_id: String,
    pub meeting_type: String,
    pub status: String,
    pub title: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: Option<NaiveDateTime>,
    /// IANA name; times are stored in UTC and shown in this zone.
    pub time_zone: String,
    pub location: Option<String>,
    pub remote_url: Option<String>,
    /// JSON array of BCP 47 tags (no query looks inside it).
    pub interpretation_languages: String,
    pub emergency_finding: Option<String>,
    pub media_notified_at: Option<NaiveDateTime>,
    /// When the notice and agenda were published; set once.
    pub noticed_at: Option<NaiveDateTime>,
    pub cancel_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(meetings, Meeting, "meeting");

#[derive(Debug, Default)]
pub struct MeetingFilter {
    pub status: Option<String>,
    /// Leave out meetings never published (drafts, and drafts cancelled before notice).
    pub published_only: bool,
}

pub fn list(
    conn: &mut AnyConnection,
    council_id: &str,
    filter: &MeetingFilter,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<Meeting>> {
    let mut query = meetings::table
        .filter(meetings::council_id.eq(council_id.to_owned()))
        .select(Meeting::as_select())
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(meetings::status.eq(status.clone()));
    }
    if filter.published_only {
        query = query.filter(meetings::noticed_at.is_not_null());
    }
    if let Some(after) = after {
        query = query.filter(meetings::id.gt(after.to_owned()));
    }
    query.order(meetings::id.asc()).limit(fetch).load(conn)
}

/// One lifecycle action on a meeting: who did what, when, from which status to which.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = meeting_events, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct MeetingEvent {
    pub id: String,
    pub meeting_id: String,
    /// `created`, `publish`, `open`, `recess`, `adjourn`, `cancel`.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// `person:<id>` or `client:<client_id>`.
    pub actor: Option<String>,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod events {
    use super::*;
    versioned_writes!(meeting_events, MeetingEvent, "meeting_event");

    /// A meeting's history, oldest first.
    pub fn of_meeting(
        conn: &mut AnyConnection,
        meeting_id: &str,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<MeetingEvent>> {
        let mut query = meeting_events::table
            .filter(meeting_events::meeting_id.eq(meeting_id.to_owned()))
            .select(MeetingEvent::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(meeting_events::id.gt(after.to_owned()));
        }
        query
            .order(meeting_events::id.asc())
            .limit(fetch)
            .load(conn)
    }
}

/// A seat holder's attendance at a meeting (one row per seat and meeting).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::meeting_attendance, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Attendance {
    pub id: String,
    pub meeting_id: String,
    pub seat_id: String,
    /// Who held the seat when attendance was taken.
    pub person_id: String,
    /// `present` or `absent`.
    pub status: String,
    pub remote: bool,
    pub remote_basis: Option<String>,
    pub arrived_at: Option<NaiveDateTime>,
    pub departed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod attendance {
    use super::super::schema::meeting_attendance;
    use super::*;
    versioned_writes!(meeting_attendance, Attendance, "meeting_attendance");

    /// A meeting's attendance, in the order it was first taken.
    pub fn of_meeting(conn: &mut AnyConnection, meeting_id: &str) -> QueryResult<Vec<Attendance>> {
        meeting_attendance::table
            .filter(meeting_attendance::meeting_id.eq(meeting_id))
            .order(meeting_attendance::id.asc())
            .select(Attendance::as_select())
            .load(conn)
    }

    pub fn of_seat(
        conn: &mut AnyConnection,
        meeting_id: &str,
        seat_id: &str,
    ) -> QueryResult<Option<Attendance>> {
        meeting_attendance::table
            .filter(meeting_attendance::meeting_id.eq(meeting_id))
            .filter(meeting_attendance::seat_id.eq(seat_id))
            .select(Attendance::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().next())
    }
}
