//! Motions and the votes cast on them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{motions, votes};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = motions, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Motion {
    pub id: String,
    pub meeting_id: String,
    /// The item a main motion acts on; `None` for adjourn and recess.
    pub agenda_item_id: Option<String>,
    pub kind: String,
    pub text: String,
    pub mover_seat_id: String,
    pub seconder_seat_id: Option<String>,
    pub threshold: String,
    /// `open`, `passed` or `failed`; a closed motion is final.
    pub status: String,
    /// Filled voting seats when the motion was made (majority of membership counts these).
    pub membership: i64,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(motions, Motion, "motion");

pub fn of_meeting(conn: &mut AnyConnection, meeting_id: &str) -> QueryResult<Vec<Motion>> {
    motions::table
        .filter(motions::meeting_id.eq(meeting_id))
        .order(motions::id.asc())
        .select(Motion::as_select())
        .load(conn)
}

/// One member's vote on a motion; one per member and motion (a unique index).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = votes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Vote {
    pub id: String,
    pub motion_id: String,
    pub seat_id: String,
    pub person_id: String,
    pub choice: String,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod ballots {
    use super::*;
    versioned_writes!(votes, Vote, "vote");

    pub fn of_motion(conn: &mut AnyConnection, motion_id: &str) -> QueryResult<Vec<Vote>> {
        votes::table
            .filter(votes::motion_id.eq(motion_id))
            .order(votes::id.asc())
            .select(Vote::as_select())
            .load(conn)
    }
}
