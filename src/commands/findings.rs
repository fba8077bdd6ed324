//! Findings with their roll-call votes: the findings of Gov. Code 54954.2(b) / Ed. Code
//! 35147(c)(1) that let a meeting act on an item added after its notice (DOMAIN rule 5), and an
//! emergency meeting's determination vote (rule 4). A failed finding is kept too (it is public
//! record) but unlocks nothing. Both are taken while the meeting is in session with quorum, its
//! row locked, so a motion and a finding on one meeting never interleave.

use super::councils::{find_council, CouncilRecord};
use super::meetings::{local_date, quorum_on, visible_meeting};
use super::{new_id, require, Context};
use crate::auth::policy::{self, Principal};
use crate::db::agenda::AgendaItem;
use crate::db::dialect::{lock_row, LockTable};
use crate::db::findings::{Finding, FindingVote};
use crate::db::meetings::{Attendance, Meeting};
use crate::db::{self, AnyConnection, Db};
use crate::domain::findings::{passes, rule_for, within_continuation, FindingKind, FindingRule};
use crate::domain::meeting::{MeetingStatus, MeetingType};
use crate::domain::vote::Choice;
use crate::domain::Regime;
use crate::error::{ApiError, FieldError};

/// One member's vote on a finding.
pub struct FindingBallot {
    pub seat_id: String,
    pub choice: Choice,
    pub reason: Option<String>,
}

pub struct NewFinding {
    pub kind: FindingKind,
    pub facts: String,
    pub continued_from_item_id: Option<String>,
    pub votes: Vec<FindingBallot>,
}

/// A finding with every member's vote.
#[derive(Debug, Clone)]
pub struct FindingRecord {
    pub row: Finding,
    pub votes: Vec<FindingVote>,
}

fn council_of(conn: &mut AnyConnection, id: &str) -> Result<CouncilRecord, ApiError> {
    CouncilRecord::try_from(find_council(conn, id)?)
}

/// The meeting, locked, visible, run by the caller, in session.
fn meeting_in_session(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
) -> Result<Meeting, ApiError> {
    lock_row(conn, LockTable::Meetings, id)?;
    let meeting = visible_meeting(conn, caller, id)?;
    require(
        policy::manage_council(caller, &meeting.council_id),
        "meeting",
        id,
    )?;
    if meeting.status != MeetingStatus::InSession.as_str() {
        return Err(ApiError::Conflict {
            code: "meeting-not-in-session",
            detail: format!(
                "the meeting is {}: findings are voted while it is in session",
                meeting.status
            ),
        });
    }
    Ok(meeting)
}

fn present_holder(
    seats: &[db::seats::Seat],
    attendance: &[Attendance],
    seat_id: &str,
) -> Option<String> {
    let seat = seats.iter().find(|s| s.id == seat_id && s.voting)?;
    let holder = seat.holder_id.clone()?;
    attendance
        .iter()
        .any(|a| {
            a.seat_id == seat_id
                && a.person_id == holder
                && a.status == "present"
                && a.departed_at.is_none()
        })
        .then_some(holder)
}

/// Checks the votes, records the finding and every present voting member's vote (members who
/// were not named are recorded as abstaining), and decides it by its rule.
#[allow(clippy::too_many_arguments)]
fn record_finding(
    conn: &mut AnyConnection,
    caller: &Principal,
    meeting: &Meeting,
    item_id: Option<String>,
    kind: FindingKind,
    rule: FindingRule,
    facts: String,
    continued_from_item_id: Option<String>,
    continued: bool,
    ballots: Vec<FindingBallot>,
) -> Result<FindingRecord, ApiError> {
    let (quorum, seats, attendance) = quorum_on(conn, meeting)?;
    if !quorum.met {
        return Err(ApiError::Conflict {
            code: "no-quorum",
            detail: format!(
                "{} voting members are present and quorum needs {}{}; a finding is business that needs quorum",
                quorum.present_voting,
                quorum.required,
                if quorum.in_person_required { " present in person" } else { "" }
            ),
        });
    }
    if rule != FindingRule::Continuation && ballots.is_empty() {
        return Err(ApiError::validation(
            "votes",
            "a finding is voted by roll call: give each present member's vote",
        ));
    }
    let mut errors = Vec::new();
    let mut named: Vec<(String, String, &FindingBallot)> = Vec::new();
    for (n, b) in ballots.iter().enumerate() {
        let field = format!("votes[{n}]");
        match present_holder(&seats, &attendance, &b.seat_id) {
            None => errors.push(FieldError::new(
                format!("{field}.seat_id"),
                "must be the seat of a voting member present now",
            )),
            Some(_) if named.iter().any(|(s, _, _)| s == &b.seat_id) => errors.push(
                FieldError::new(format!("{field}.seat_id"), "one vote per member"),
            ),
            Some(person) => named.push((b.seat_id.clone(), person, b)),
        }
        if b.choice == Choice::Absent {
            errors.push(FieldError::new(
                format!("{field}.choice"),
                "only members present vote on a finding",
            ));
        }
        if b.choice == Choice::Recused && b.reason.is_none() {
            errors.push(FieldError::new(
                format!("{field}.reason"),
                "a recusal states its reason",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = db::now();
    let finding_id = new_id();
    let vote =
        |seat_id: String, person_id: String, choice: Choice, reason: Option<String>| FindingVote {
            id: new_id(),
            finding_id: finding_id.clone(),
            seat_id,
            person_id,
            choice: choice.as_str().to_owned(),
            reason,
            created_at: now,
            updated_at: now,
            version: 1,
        };
    let mut votes: Vec<FindingVote> = named
        .iter()
        .map(|(seat, person, b)| vote(seat.clone(), person.clone(), b.choice, b.reason.clone()))
        .collect();
    for seat in seats.iter().filter(|s| s.voting) {
        if votes.iter().any(|v| v.seat_id == seat.id) {
            continue;
        }
        if let Some(person) = present_holder(&seats, &attendance, &seat.id) {
            votes.push(vote(seat.id.clone(), person, Choice::Abstain, None));
        }
    }
    let yes = votes
        .iter()
        .filter(|v| v.choice == Choice::Yes.as_str())
        .count() as u32;
    let row = Finding {
        id: finding_id.clone(),
        meeting_id: meeting.id.clone(),
        agenda_item_id: item_id,
        kind: kind.as_str().to_owned(),
        facts,
        continued_from_item_id,
        members_present: i64::from(quorum.present_voting),
        membership: i64::from(quorum.filled_voting_seats),
        passed: passes(
            rule,
            yes,
            quorum.present_voting,
            quorum.filled_voting_seats,
            continued,
        ),
        rule: rule.describe().to_owned(),
        actor: caller.actor_key(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    db::findings::insert(conn, &row)?;
    for v in &votes {
        db::findings::ballots::insert(conn, v)?;
    }
    Ok(FindingRecord { row, votes })
}

/// Whether the earlier item was on the posted agenda of an earlier, held meeting of the same
/// council no more than 5 calendar days before this one (54954.2(b)(3)).
fn continuation_holds(
    conn: &mut AnyConnection,
    meeting: &Meeting,
    earlier_item_id: &str,
) -> Result<bool, ApiError> {
    let not_ours = || {
        ApiError::validation(
            "continued_from_item_id",
            "no item on an agenda of an earlier meeting of this council with this id",
        )
    };
    let earlier_item = db::agenda::find(conn, earlier_item_id)?.ok_or_else(not_ours)?;
    let Some(earlier_meeting_id) = earlier_item.meeting_id.clone() else {
        return Err(not_ours());
    };
    let earlier = db::meetings::find(conn, &earlier_meeting_id)?.ok_or_else(not_ours)?;
    if earlier.council_id != meeting.council_id
        || earlier.id == meeting.id
        || earlier.starts_at >= meeting.starts_at
    {
        return Err(not_ours());
    }
    let posted = earlier.noticed_at.is_some() && !earlier_item.added_late;
    let held = matches!(
        MeetingStatus::parse(&earlier.status),
        Some(MeetingStatus::InSession | MeetingStatus::Recessed | MeetingStatus::Adjourned)
    );
    Ok(posted
        && held
        && within_continuation(
            local_date(meeting, earlier.starts_at)?,
            local_date(meeting, meeting.starts_at)?,
        ))
}

/// Records a rule-5 finding about an item added after the notice deadline.
pub async fn find_on_item(
    ctx: &Context,
    db: &Db,
    item_id: String,
    input: NewFinding,
) -> Result<FindingRecord, ApiError> {
    if input.kind == FindingKind::EmergencyMeeting {
        return Err(ApiError::validation(
            "kind",
            "an emergency meeting's determination is voted on the meeting (POST /api/v1/meetings/{meeting_id}/emergency-vote)",
        ));
    }
    match (input.kind, &input.continued_from_item_id) {
        (FindingKind::ContinuedItem, None) => {
            return Err(ApiError::validation(
                "continued_from_item_id",
                "a continued item names the item on the earlier meeting's agenda",
            ))
        }
        (FindingKind::ContinuedItem, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(ApiError::validation(
                "continued_from_item_id",
                "only a continued_item finding names an earlier item",
            ))
        }
    }
    let caller = ctx.caller.clone();
    ctx.write_with_id(db, "create", 201, |r: &FindingRecord| r.row.id.clone(), move |conn| {
        let item = db::agenda::find(conn, &item_id)?
            .ok_or_else(|| ApiError::not_found("agenda item", &item_id))?;
        let Some(meeting_id) = item.meeting_id.clone() else {
            // A proposal on no meeting: nothing to find yet. Only its council's staff know it.
            require(policy::manage_council(&caller, &item.council_id), "agenda item", &item_id)?;
            return Err(ApiError::Conflict {
                code: "finding-not-needed",
                detail: "the item is on no meeting's agenda".to_owned(),
            });
        };
        let meeting = meeting_in_session(conn, &caller, &meeting_id)?;
        if !item.added_late {
            return Err(ApiError::Conflict {
                code: "finding-not-needed",
                detail: "the item was on the posted agenda: acting on it needs no finding".to_owned(),
            });
        }
        let council = council_of(conn, &meeting.council_id)?;
        let Some(rule) = rule_for(council.regime, input.kind) else {
            return Err(ApiError::Conflict {
                code: "finding-not-available",
                detail: format!(
                    "under the Greene Act (Ed. Code 35147(c)(1)) the only finding is need_arose_after_posting, by unanimity of the members present; {} is not available to this council",
                    input.kind
                ),
            });
        };
        let continued = match &input.continued_from_item_id {
            Some(earlier) => continuation_holds(conn, &meeting, earlier)?,
            None => false,
        };
        record_finding(
            conn,
            &caller,
            &meeting,
            Some(item.id),
            input.kind,
            rule,
            input.facts,
            input.continued_from_item_id,
            continued,
            input.votes,
        )
    })
    .await
}

/// Records the vote of a majority of the body that determines the emergency an emergency
/// meeting rests on (54956.5(a)); until one passes, the meeting takes no main motion.
pub async fn emergency_vote(
    ctx: &Context,
    db: &Db,
    meeting_id: String,
    facts: String,
    votes: Vec<FindingBallot>,
) -> Result<FindingRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write_with_id(db, "create", 201, |r: &FindingRecord| r.row.id.clone(), move |conn| {
        let meeting = meeting_in_session(conn, &caller, &meeting_id)?;
        let council = council_of(conn, &meeting.council_id)?;
        if !needs_emergency_vote(&meeting, council.regime) {
            return Err(ApiError::Conflict {
                code: "not-an-emergency-meeting",
                detail: format!(
                    "the meeting is a {} meeting{}: only an emergency meeting under the Brown Act rules votes its determination (Gov. Code 54956.5(a))",
                    meeting.meeting_type,
                    if council.regime == Regime::Greene { " of a Greene Act council" } else { "" }
                ),
            });
        }
        record_finding(
            conn,
            &caller,
            &meeting,
            None,
            FindingKind::EmergencyMeeting,
            FindingRule::MajorityOfBody,
            facts,
            None,
            false,
            votes,
        )
    })
    .await
}

fn needs_emergency_vote(meeting: &Meeting, regime: Regime) -> bool {
    meeting.meeting_type == MeetingType::Emergency.as_str() && regime != Regime::Greene
}

/// What a main motion needs beyond its item being actionable: for an item added late, a passing
/// rule-5 finding; at an emergency meeting (Brown or voluntary), the passing determination vote.
/// Called by `motions::make` with the meeting's row locked.
pub(super) fn motion_allowed(
    conn: &mut AnyConnection,
    meeting: &Meeting,
    item: &AgendaItem,
) -> Result<(), ApiError> {
    let council = council_of(conn, &meeting.council_id)?;
    if needs_emergency_vote(meeting, council.regime)
        && !db::findings::passed_exists(conn, &meeting.id, None)?
    {
        return Err(ApiError::Conflict {
            code: "emergency-vote-required",
            detail: format!(
                "an emergency meeting acts only after a majority of the body determines the emergency by roll call (Gov. Code 54956.5(a)): record it with POST /api/v1/meetings/{}/emergency-vote",
                meeting.id
            ),
        });
    }
    if item.added_late && !db::findings::passed_exists(conn, &meeting.id, Some(&item.id))? {
        return Err(ApiError::Conflict {
            code: "late-item-needs-finding",
            detail: format!(
                "the item was added after the notice deadline; acting on it needs a passing finding (Gov. Code 54954.2(b) / Ed. Code 35147(c)(1)): record it with POST /api/v1/agenda-items/{}/findings",
                item.id
            ),
        });
    }
    Ok(())
}

fn with_votes(
    conn: &mut AnyConnection,
    rows: Vec<Finding>,
) -> Result<Vec<FindingRecord>, ApiError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let votes = db::findings::ballots::of_finding(conn, &row.id)?;
        out.push(FindingRecord { row, votes });
    }
    Ok(out)
}

/// An item's findings, oldest first, failed ones included.
pub fn of_item(ctx: &Context, db: &Db, item_id: &str) -> Result<Vec<FindingRecord>, ApiError> {
    db.read(|conn| {
        let item = db::agenda::find(conn, item_id)?
            .ok_or_else(|| ApiError::not_found("agenda item", item_id))?;
        match &item.meeting_id {
            Some(meeting_id) => {
                visible_meeting(conn, &ctx.caller, meeting_id)?;
            }
            None => require(
                policy::manage_council(&ctx.caller, &item.council_id),
                "agenda item",
                item_id,
            )?,
        }
        let rows = db::findings::of_item(conn, item_id)?;
        with_votes(conn, rows)
    })
}

/// A meeting's findings (items' and the emergency determination), oldest first.
pub fn of_meeting(
    ctx: &Context,
    db: &Db,
    meeting_id: &str,
) -> Result<Vec<FindingRecord>, ApiError> {
    db.read(|conn| {
        visible_meeting(conn, &ctx.caller, meeting_id)?;
        let rows = db::findings::of_meeting(conn, meeting_id)?;
        with_votes(conn, rows)
    })
}
