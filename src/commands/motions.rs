//! Motions and roll-call votes: a motion on an action item (or to adjourn or recess) is made by a
//! present voting member, each present voting member's vote is recorded by name, and closing the
//! motion records absent members and computes the result (domain::vote::tally). A closed motion
//! is final.

use super::meetings::{quorum_on, visible_meeting};
use super::{new_id, require, Context, Expected};
use crate::auth::policy::{self, Principal};
use crate::db::dialect::{lock_row, LockTable};
use crate::db::meetings::{Attendance, Meeting};
use crate::db::motions::{Motion, Vote};
use crate::db::{self, AnyConnection, Db, StoreError};
use crate::domain::agenda::{CommentPeriod, ItemKind};
use crate::domain::meeting::MeetingStatus;
use crate::domain::record::EntryKind;
use crate::domain::vote::{tally, Choice, MotionKind, Tally, Threshold};
use crate::error::ApiError;

pub struct NewMotion {
    pub kind: MotionKind,
    pub agenda_item_id: Option<String>,
    pub text: String,
    pub mover_seat_id: String,
    pub seconder_seat_id: Option<String>,
    pub threshold: Threshold,
}

/// A motion with its votes and, once closed, its result.
#[derive(Debug, Clone)]
pub struct MotionRecord {
    pub row: Motion,
    pub votes: Vec<Vote>,
    pub tally: Tally,
}

fn parse_threshold(m: &Motion) -> Result<Threshold, ApiError> {
    Threshold::parse(&m.threshold)
        .ok_or_else(|| ApiError::Internal(format!("stored threshold {:?}", m.threshold)))
}

fn record(row: Motion, votes: Vec<Vote>) -> Result<MotionRecord, ApiError> {
    let choices: Vec<Choice> = votes
        .iter()
        .map(|v| {
            Choice::parse(&v.choice)
                .ok_or_else(|| ApiError::Internal(format!("stored vote {:?}", v.choice)))
        })
        .collect::<Result<_, _>>()?;
    let tally = tally(parse_threshold(&row)?, &choices, row.membership as u32);
    Ok(MotionRecord { row, votes, tally })
}

fn load(conn: &mut AnyConnection, id: &str) -> Result<Motion, ApiError> {
    db::motions::find(conn, id)?.ok_or_else(|| ApiError::not_found("motion", id))
}

/// The meeting a vote-related change is about, locked, visible and run by the caller, and in
/// session.
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
                "the meeting is {}: motions are made and voted on while it is in session",
                meeting.status
            ),
        });
    }
    Ok(meeting)
}

/// The seat's holder is a voting member present now.
fn present_voting(
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

pub async fn make(
    ctx: &Context,
    db: &Db,
    meeting_id: String,
    input: NewMotion,
) -> Result<MotionRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write_with_id(db, "create", 201, |r: &MotionRecord| r.row.id.clone(), move |conn| {
        let meeting = meeting_in_session(conn, &caller, &meeting_id)?;
        match (input.kind, &input.agenda_item_id) {
            (MotionKind::Main, None) => {
                return Err(ApiError::validation(
                    "agenda_item_id",
                    "a main motion acts on an agenda item",
                ))
            }
            (MotionKind::Main, Some(item_id)) => {
                let item = db::agenda::find(conn, item_id)?
                    .filter(|i| i.meeting_id.as_deref() == Some(meeting_id.as_str()))
                    .ok_or_else(|| {
                        ApiError::validation("agenda_item_id", "no item on this meeting's agenda with this id")
                    })?;
                if !matches!(
                    ItemKind::parse(&item.kind),
                    Some(ItemKind::Action | ItemKind::Consent)
                ) {
                    return Err(ApiError::Conflict {
                        code: "item-not-actionable",
                        detail: format!(
                            "the item is a {} item; only action and consent items are voted on",
                            item.kind
                        ),
                    });
                }
                super::findings::motion_allowed(conn, &meeting, &item)?;
                let period = CommentPeriod::of(
                    item.comment_opened_at.is_some(),
                    item.comment_closed_at.is_some(),
                );
                if !period.heard() {
                    return Err(ApiError::Conflict {
                        code: "public-comment-required",
                        detail: "the public must be heard on the item first: open and close its public comment period (POST /api/v1/agenda-items/{item_id}/comment/open, then /close; Gov. Code 54954.3(a), Ed. Code 35147(c))".to_owned(),
                    });
                }
            }
            (_, Some(_)) => {
                return Err(ApiError::validation(
                    "agenda_item_id",
                    "only a main motion names an agenda item",
                ))
            }
            (_, None) => {}
        }
        let (quorum, seats, attendance) = quorum_on(conn, &meeting)?;
        if !quorum.met && !input.kind.allowed_without_quorum() {
            return Err(ApiError::Conflict {
                code: "no-quorum",
                detail: format!(
                    "{} voting members are present and quorum needs {}{}; without quorum only motions to adjourn or recess may be made",
                    quorum.present_voting,
                    quorum.required,
                    if quorum.in_person_required { " present in person" } else { "" }
                ),
            });
        }
        if present_voting(&seats, &attendance, &input.mover_seat_id).is_none() {
            return Err(ApiError::validation(
                "mover_seat_id",
                "must be the seat of a voting member present now",
            ));
        }
        if let Some(seconder) = &input.seconder_seat_id {
            if seconder == &input.mover_seat_id
                || present_voting(&seats, &attendance, seconder).is_none()
            {
                return Err(ApiError::validation(
                    "seconder_seat_id",
                    "must be the seat of another voting member present now",
                ));
            }
        }
        let now = db::now();
        let row = Motion {
            id: new_id(),
            meeting_id,
            agenda_item_id: input.agenda_item_id,
            kind: input.kind.as_str().to_owned(),
            text: input.text,
            mover_seat_id: input.mover_seat_id,
            seconder_seat_id: input.seconder_seat_id,
            threshold: input.threshold.as_str().to_owned(),
            status: "open".to_owned(),
            membership: i64::from(quorum.filled_voting_seats),
            closed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        db::motions::insert(conn, &row)?;
        record(row, Vec::new())
    })
    .await
}

fn open_motion(motion: &Motion) -> Result<(), ApiError> {
    if motion.status == "open" {
        return Ok(());
    }
    Err(ApiError::Conflict {
        code: "motion-closed",
        detail: format!(
            "the motion is closed ({}); its result is final",
            motion.status
        ),
    })
}

/// Records one present voting member's vote. One vote per member and motion holds in the
/// database (a unique index): a second vote is 409 `already-voted`, whichever instance takes it.
pub async fn vote(
    ctx: &Context,
    db: &Db,
    motion_id: String,
    seat_id: String,
    choice: Choice,
    reason: Option<String>,
) -> Result<Vote, ApiError> {
    if choice == Choice::Absent {
        return Err(ApiError::validation(
            "choice",
            "absent is recorded when the vote closes",
        ));
    }
    if choice == Choice::Recused && reason.is_none() {
        return Err(ApiError::validation(
            "reason",
            "a recusal states its reason",
        ));
    }
    let caller = ctx.caller.clone();
    ctx.write(db, "create", Some(motion_id.clone()), 201, move |conn| {
        let motion = load(conn, &motion_id)?;
        let meeting = meeting_in_session(conn, &caller, &motion.meeting_id)?;
        let motion = load(conn, &motion_id)?;
        open_motion(&motion)?;
        let (_, seats, attendance) = quorum_on(conn, &meeting)?;
        let Some(person_id) = present_voting(&seats, &attendance, &seat_id) else {
            return Err(ApiError::validation(
                "seat_id",
                "must be the seat of a voting member present now",
            ));
        };
        let now = db::now();
        let row = Vote {
            id: new_id(),
            motion_id,
            seat_id,
            person_id,
            choice: choice.as_str().to_owned(),
            reason,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        db::motions::ballots::insert(conn, &row).map_err(|e| match e {
            StoreError::Duplicate(_) => ApiError::Conflict {
                code: "already-voted",
                detail: "this member has already voted on this motion".to_owned(),
            },
            other => other.into(),
        })?;
        Ok(row)
    })
    .await
}

/// Closes the vote: every voting member who did not vote is recorded (`absent` if not present,
/// `abstain` if present and silent), and the result is computed. Final.
pub async fn close(
    ctx: &Context,
    db: &Db,
    motion_id: String,
    expected: Expected,
) -> Result<MotionRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(motion_id.clone()), 200, move |conn| {
        let motion = load(conn, &motion_id)?;
        let meeting = meeting_in_session(conn, &caller, &motion.meeting_id)?;
        let mut motion = load(conn, &motion_id)?;
        expected.check(motion.version)?;
        open_motion(&motion)?;
        let (_, seats, attendance) = quorum_on(conn, &meeting)?;
        let mut votes = db::motions::ballots::of_motion(conn, &motion_id)?;
        let now = db::now();
        for seat in seats.iter().filter(|s| s.voting) {
            let Some(holder) = &seat.holder_id else {
                continue;
            };
            if votes
                .iter()
                .any(|v| &v.person_id == holder || v.seat_id == seat.id)
            {
                continue;
            }
            let present = present_voting(&seats, &attendance, &seat.id).is_some();
            let row = Vote {
                id: new_id(),
                motion_id: motion_id.clone(),
                seat_id: seat.id.clone(),
                person_id: holder.clone(),
                choice: if present {
                    Choice::Abstain
                } else {
                    Choice::Absent
                }
                .as_str()
                .to_owned(),
                reason: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            db::motions::ballots::insert(conn, &row)?;
            votes.push(row);
        }
        let result = record(motion.clone(), votes)?;
        motion.status = if result.tally.passed {
            "passed"
        } else {
            "failed"
        }
        .to_owned();
        motion.closed_at = Some(now);
        motion.version += 1;
        motion.updated_at = now;
        db::motions::update(conn, &motion)?;
        super::record::append(conn, EntryKind::MotionClosed, &motion.id)?;
        if result.tally.passed {
            super::minutes::approve_on_motion(conn, &motion)?;
        }
        Ok(MotionRecord {
            row: motion,
            ..result
        })
    })
    .await
}

pub fn find(ctx: &Context, db: &Db, id: &str) -> Result<MotionRecord, ApiError> {
    let (row, votes) = db.read(|conn| {
        let row = load(conn, id)?;
        visible_meeting(conn, &ctx.caller, &row.meeting_id)?;
        let votes = db::motions::ballots::of_motion(conn, id)?;
        Ok::<_, ApiError>((row, votes))
    })?;
    record(row, votes)
}

pub fn of_meeting(ctx: &Context, db: &Db, meeting_id: &str) -> Result<Vec<MotionRecord>, ApiError> {
    let rows = db.read(|conn| {
        visible_meeting(conn, &ctx.caller, meeting_id)?;
        let mut out = Vec::new();
        for m in db::motions::of_meeting(conn, meeting_id)? {
            let votes = db::motions::ballots::of_motion(conn, &m.id)?;
            out.push((m, votes));
        }
        Ok::<_, ApiError>(out)
    })?;
    rows.into_iter().map(|(m, v)| record(m, v)).collect()
}
