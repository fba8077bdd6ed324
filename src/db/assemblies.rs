//! Assemblies: participants registered for a meeting, the motions they vote on, and their votes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{assembly_motions, assembly_participants, assembly_votes};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = assembly_participants, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Participant {
    pub id: String,
    pub council_id: String,
    pub meeting_id: String,
    /// The name the participant gives.
    pub name: String,
    /// The constituency the participant declares.
    pub constituency: String,
    pub person_id: Option<String>,
    /// Checked in and not checked out since.
    pub present: bool,
    pub checked_in_at: Option<NaiveDateTime>,
    pub checked_out_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(assembly_participants, Participant, "assembly_participant");

/// A meeting's participants in registration order.
pub fn of_meeting(
    conn: &mut AnyConnection,
    meeting_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<Participant>> {
    let mut query = assembly_participants::table
        .filter(assembly_participants::meeting_id.eq(meeting_id.to_owned()))
        .select(Participant::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(assembly_participants::id.gt(after.to_owned()));
    }
    query
        .order(assembly_participants::id.asc())
        .limit(fetch)
        .load(conn)
}

/// The participants with these ids registered for the meeting.
pub fn by_ids(
    conn: &mut AnyConnection,
    meeting_id: &str,
    ids: &[String],
) -> QueryResult<Vec<Participant>> {
    let mut out = Vec::with_capacity(ids.len());
    // Bounded IN lists keep every backend's parameter limit far away.
    for chunk in ids.chunks(500) {
        out.extend(
            assembly_participants::table
                .filter(assembly_participants::meeting_id.eq(meeting_id))
                .filter(assembly_participants::id.eq_any(chunk))
                .select(Participant::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// How many participants are present now.
pub fn present_count(conn: &mut AnyConnection, meeting_id: &str) -> QueryResult<i64> {
    assembly_participants::table
        .filter(assembly_participants::meeting_id.eq(meeting_id))
        .filter(assembly_participants::present.eq(true))
        .count()
        .get_result(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = assembly_motions, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct AssemblyMotion {
    pub id: String,
    pub meeting_id: String,
    pub agenda_item_id: String,
    pub text: String,
    pub mover_participant_id: String,
    pub threshold: String,
    /// `open`, `passed` or `failed`; a closed motion is final.
    pub status: String,
    /// Participants present when the vote closed.
    pub present_at_close: Option<i64>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod motions {
    use super::*;
    versioned_writes!(assembly_motions, AssemblyMotion, "assembly_motion");

    /// A meeting's motions in the order they were made.
    pub fn of_meeting(
        conn: &mut AnyConnection,
        meeting_id: &str,
    ) -> QueryResult<Vec<AssemblyMotion>> {
        assembly_motions::table
            .filter(assembly_motions::meeting_id.eq(meeting_id))
            .order(assembly_motions::id.asc())
            .select(AssemblyMotion::as_select())
            .load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = assembly_votes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct AssemblyVote {
    pub id: String,
    pub motion_id: String,
    pub participant_id: String,
    pub choice: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod votes {
    use super::*;
    versioned_writes!(assembly_votes, AssemblyVote, "assembly_vote");

    /// Every vote on a motion, in the order cast.
    pub fn of_motion(conn: &mut AnyConnection, motion_id: &str) -> QueryResult<Vec<AssemblyVote>> {
        assembly_votes::table
            .filter(assembly_votes::motion_id.eq(motion_id))
            .order(assembly_votes::id.asc())
            .select(AssemblyVote::as_select())
            .load(conn)
    }

    /// Every choice cast on a motion.
    pub fn choices(conn: &mut AnyConnection, motion_id: &str) -> QueryResult<Vec<String>> {
        assembly_votes::table
            .filter(assembly_votes::motion_id.eq(motion_id))
            .select(assembly_votes::choice)
            .load(conn)
    }
}
