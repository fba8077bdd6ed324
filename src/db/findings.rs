//! Findings on late items and emergency meetings, with their roll-call votes; and the counts
//! the cap on "just cause" remote attendance is decided by.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{finding_votes, findings, meeting_attendance, meetings};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = findings, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Finding {
    pub id: String,
    pub meeting_id: String,
    /// The late item it is about; `None` for an emergency meeting's determination.
    pub agenda_item_id: Option<String>,
    pub kind: String,
    /// The facts the body found, in its own words.
    pub facts: String,
    /// For `continued_item`: the item on the earlier meeting's posted agenda.
    pub continued_from_item_id: Option<String>,
    /// Voting members present and filled voting seats when it was voted.
    pub members_present: i64,
    pub membership: i64,
    pub passed: bool,
    /// The rule its vote was measured by, in words.
    pub rule: String,
    pub actor: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(findings, Finding, "finding");

pub fn of_meeting(conn: &mut AnyConnection, meeting_id: &str) -> QueryResult<Vec<Finding>> {
    findings::table
        .filter(findings::meeting_id.eq(meeting_id))
        .order(findings::id.asc())
        .select(Finding::as_select())
        .load(conn)
}

pub fn of_item(conn: &mut AnyConnection, item_id: &str) -> QueryResult<Vec<Finding>> {
    findings::table
        .filter(findings::agenda_item_id.eq(item_id))
        .order(findings::id.asc())
        .select(Finding::as_select())
        .load(conn)
}

/// Whether a passing finding of this kind exists for the item (or, with `item_id` `None`, an
/// emergency meeting's passing determination).
pub fn passed_exists(
    conn: &mut AnyConnection,
    meeting_id: &str,
    item_id: Option<&str>,
) -> QueryResult<bool> {
    let mut query = findings::table
        .filter(findings::meeting_id.eq(meeting_id))
        .filter(findings::passed.eq(true))
        .select(findings::id)
        .into_boxed();
    query = match item_id {
        Some(item) => query.filter(findings::agenda_item_id.eq(item.to_owned())),
        None => query.filter(findings::agenda_item_id.is_null()),
    };
    Ok(!query.limit(1).load::<String>(conn)?.is_empty())
}

/// One member's vote on a finding.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = finding_votes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct FindingVote {
    pub id: String,
    pub finding_id: String,
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
    versioned_writes!(finding_votes, FindingVote, "finding_vote");

    pub fn of_finding(conn: &mut AnyConnection, finding_id: &str) -> QueryResult<Vec<FindingVote>> {
        finding_votes::table
            .filter(finding_votes::finding_id.eq(finding_id))
            .order(finding_votes::id.asc())
            .select(FindingVote::as_select())
            .load(conn)
    }
}

/// Meetings of a council other than `except` whose attendance lists this person as remote for
/// "just cause", starting in `[from, to)` (UTC), not cancelled.
pub fn just_cause_meetings(
    conn: &mut AnyConnection,
    council_id: &str,
    person_id: &str,
    except: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    meeting_attendance::table
        .inner_join(meetings::table)
        .filter(meetings::council_id.eq(council_id))
        .filter(meetings::id.ne(except))
        .filter(meetings::status.ne("cancelled"))
        .filter(meetings::starts_at.ge(from))
        .filter(meetings::starts_at.lt(to))
        .filter(meeting_attendance::person_id.eq(person_id))
        .filter(meeting_attendance::status.eq("present"))
        .filter(meeting_attendance::remote_basis.eq("just_cause"))
        .count()
        .get_result(conn)
}

/// Regular meetings of a council starting in `[from, to)` (UTC), not cancelled.
pub fn regular_meetings(
    conn: &mut AnyConnection,
    council_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    meetings::table
        .filter(meetings::council_id.eq(council_id))
        .filter(meetings::meeting_type.eq("regular"))
        .filter(meetings::status.ne("cancelled"))
        .filter(meetings::starts_at.ge(from))
        .filter(meetings::starts_at.lt(to))
        .count()
        .get_result(conn)
}
