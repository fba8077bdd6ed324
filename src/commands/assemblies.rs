//! Assemblies: councils without fixed seats. Participants register for a meeting with a name
//! and a declared constituency (optionally a person record), staff check them in and out, each
//! present participant has one vote, and quorum is a minimum count set on the council. Agenda
//! items and public comment are the ones every council uses.

use std::collections::{HashMap, HashSet};

use super::{new_id, require, Context, Expected};
use crate::auth::policy::{self, Principal};
use crate::db::assemblies::{self as store, AssemblyMotion, AssemblyVote, Participant};
use crate::db::councils::Council;
use crate::db::dialect::{lock_row, LockTable};
use crate::db::meetings::Meeting;
use crate::db::{self, AnyConnection, Db, StoreError};
use crate::domain::agenda::{CommentPeriod, ItemKind};
use crate::domain::council::{Constituency, CouncilKind};
use crate::domain::meeting::MeetingStatus;
use crate::domain::participation::{assembly_quorum, AssemblyQuorum};
use crate::domain::record::EntryKind;
use crate::domain::vote::{tally, Choice, Tally, Threshold};
use crate::error::ApiError;

pub struct NewParticipant {
    pub name: String,
    pub constituency: Constituency,
    pub person_id: Option<String>,
}

pub struct NewAssemblyMotion {
    pub agenda_item_id: String,
    pub text: String,
    pub mover_participant_id: String,
    pub threshold: Threshold,
}

/// A motion with its count.
#[derive(Debug, Clone)]
pub struct AssemblyMotionRecord {
    pub row: AssemblyMotion,
    pub tally: Tally,
}

fn record(conn: &mut AnyConnection, row: AssemblyMotion) -> Result<AssemblyMotionRecord, ApiError> {
    let choices = store::votes::choices(conn, &row.id)?
        .iter()
        .map(|c| Choice::parse(c).ok_or_else(|| ApiError::Internal(format!("stored vote {c:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let threshold = Threshold::parse(&row.threshold)
        .ok_or_else(|| ApiError::Internal(format!("stored threshold {:?}", row.threshold)))?;
    let membership = row.present_at_close.unwrap_or(choices.len() as i64);
    let tally = tally(
        threshold,
        &choices,
        u32::try_from(membership).unwrap_or(u32::MAX),
    );
    Ok(AssemblyMotionRecord { row, tally })
}

/// An assembly's meeting the caller runs: visible (404), staff of its council (403), the
/// council an assembly (409). Locked, so that changes to one meeting's roll run one at a time.
fn assembly_meeting(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
) -> Result<(Meeting, Council), ApiError> {
    lock_row(conn, LockTable::Meetings, id)?;
    let meeting =
        db::meetings::find(conn, id)?.ok_or_else(|| ApiError::not_found("meeting", id))?;
    require(
        policy::read_meeting(caller, &meeting.council_id, meeting.noticed_at.is_some()),
        "meeting",
        id,
    )?;
    require(
        policy::manage_council(caller, &meeting.council_id),
        "meeting",
        id,
    )?;
    let council = db::councils::find(conn, &meeting.council_id)?
        .ok_or_else(|| ApiError::not_found("council", &meeting.council_id))?;
    if council.kind != CouncilKind::Assembly.as_str() {
        return Err(ApiError::Conflict {
            code: "not-an-assembly",
            detail: format!(
                "the council is a {}: its members hold seats (participants are for assemblies)",
                council.kind
            ),
        });
    }
    Ok((meeting, council))
}

fn in_session(meeting: &Meeting, what: &str) -> Result<(), ApiError> {
    if meeting.status == MeetingStatus::InSession.as_str() {
        return Ok(());
    }
    Err(ApiError::Conflict {
        code: "meeting-not-in-session",
        detail: format!(
            "the meeting is {}: {what} while it is in session",
            meeting.status
        ),
    })
}

/// Registers a participant for an assembly's meeting (before or during it). A person record
/// registers once per meeting; a second registration is 409 `already-registered`.
pub async fn register(
    ctx: &Context,
    db: &Db,
    meeting_id: String,
    input: NewParticipant,
) -> Result<Participant, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write_with_id(
        db,
        "create",
        201,
        |p: &Participant| p.id.clone(),
        move |conn| {
            let (meeting, council) = assembly_meeting(conn, &caller, &meeting_id)?;
            if [MeetingStatus::Adjourned, MeetingStatus::Cancelled]
                .iter()
                .any(|s| s.as_str() == meeting.status)
            {
                return Err(ApiError::Conflict {
                    code: "meeting-ended",
                    detail: format!("the meeting is {}", meeting.status),
                });
            }
            if let Some(person) = &input.person_id {
                if db::people::find(conn, person)?.is_none() {
                    return Err(ApiError::validation("person_id", "no person with this id"));
                }
            }
            let now = db::now();
            let row = Participant {
                id: new_id(),
                council_id: council.id,
                meeting_id: meeting.id,
                name: input.name,
                constituency: input.constituency.as_str().to_owned(),
                person_id: input.person_id,
                present: false,
                checked_in_at: None,
                checked_out_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            store::insert(conn, &row).map_err(|e| match e {
                StoreError::Duplicate(_) => ApiError::Conflict {
                    code: "already-registered",
                    detail: "this person is already registered for this meeting".to_owned(),
                },
                other => other.into(),
            })?;
            Ok(row)
        },
    )
    .await
}

/// Checks participants in (`present = true`) or out, all or none. Returns them as changed.
pub async fn check_in(
    ctx: &Context,
    db: &Db,
    meeting_id: String,
    participant_ids: Vec<String>,
    present: bool,
) -> Result<Vec<Participant>, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(meeting_id.clone()), 200, move |conn| {
        let (meeting, _) = assembly_meeting(conn, &caller, &meeting_id)?;
        if ![MeetingStatus::Noticed, MeetingStatus::InSession, MeetingStatus::Recessed]
            .iter()
            .any(|s| s.as_str() == meeting.status)
        {
            return Err(ApiError::Conflict {
                code: "meeting-not-open",
                detail: format!(
                    "the meeting is {}: participants are checked in once its notice is published and until it ends",
                    meeting.status
                ),
            });
        }
        let unique: HashSet<&String> = participant_ids.iter().collect();
        if unique.len() != participant_ids.len() {
            return Err(ApiError::validation("participant_ids", "lists a participant twice"));
        }
        let found = store::by_ids(conn, &meeting_id, &participant_ids)?;
        if found.len() != participant_ids.len() {
            return Err(ApiError::validation(
                "participant_ids",
                "every id must be a participant registered for this meeting",
            ));
        }
        let now = db::now();
        let mut out = Vec::with_capacity(found.len());
        for mut p in found {
            if p.present != present {
                p.present = present;
                if present {
                    p.checked_in_at = Some(now);
                    p.checked_out_at = None;
                } else {
                    p.checked_out_at = Some(now);
                }
                p.updated_at = now;
                p.version += 1;
                store::update(conn, &p)?;
            }
            out.push(p);
        }
        Ok(out)
    })
    .await
}

/// A meeting's participants, for the council's staff.
pub fn participants(
    ctx: &Context,
    db: &Db,
    meeting_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<Participant>, ApiError> {
    db.read(|conn| {
        let meeting = db::meetings::find(conn, meeting_id)?
            .ok_or_else(|| ApiError::not_found("meeting", meeting_id))?;
        require(
            policy::read_meeting(
                &ctx.caller,
                &meeting.council_id,
                meeting.noticed_at.is_some(),
            ),
            "meeting",
            meeting_id,
        )?;
        require(
            policy::manage_council(&ctx.caller, &meeting.council_id),
            "meeting",
            meeting_id,
        )?;
        Ok(store::of_meeting(conn, meeting_id, after, fetch)?)
    })
}

fn quorum_of(
    conn: &mut AnyConnection,
    meeting: &Meeting,
    council: &Council,
) -> Result<AssemblyQuorum, ApiError> {
    Ok(assembly_quorum(
        store::present_count(conn, &meeting.id)?,
        council.assembly_quorum,
    ))
}

/// Present participants and the assembly's quorum, public to whoever may read the meeting.
pub fn quorum(ctx: &Context, db: &Db, meeting_id: &str) -> Result<AssemblyQuorum, ApiError> {
    db.read(|conn| {
        let meeting = db::meetings::find(conn, meeting_id)?
            .ok_or_else(|| ApiError::not_found("meeting", meeting_id))?;
        require(
            policy::read_meeting(
                &ctx.caller,
                &meeting.council_id,
                meeting.noticed_at.is_some(),
            ),
            "meeting",
            meeting_id,
        )?;
        let council = db::councils::find(conn, &meeting.council_id)?
            .ok_or_else(|| ApiError::not_found("council", &meeting.council_id))?;
        quorum_of(conn, &meeting, &council)
    })
}

/// A motion on an action or consent item, moved by a present participant, once the public was
/// heard on the item and with quorum.
pub async fn make_motion(
    ctx: &Context,
    db: &Db,
    meeting_id: String,
    input: NewAssemblyMotion,
) -> Result<AssemblyMotionRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write_with_id(db, "create", 201, |r: &AssemblyMotionRecord| r.row.id.clone(), move |conn| {
        let (meeting, council) = assembly_meeting(conn, &caller, &meeting_id)?;
        in_session(&meeting, "motions are made")?;
        let item = db::agenda::find(conn, &input.agenda_item_id)?
            .filter(|i| i.meeting_id.as_deref() == Some(meeting_id.as_str()))
            .ok_or_else(|| {
                ApiError::validation("agenda_item_id", "no item on this meeting's agenda with this id")
            })?;
        if !matches!(ItemKind::parse(&item.kind), Some(ItemKind::Action | ItemKind::Consent)) {
            return Err(ApiError::Conflict {
                code: "item-not-actionable",
                detail: format!("the item is a {} item; only action and consent items are voted on", item.kind),
            });
        }
        if !CommentPeriod::of(item.comment_opened_at.is_some(), item.comment_closed_at.is_some()).heard() {
            return Err(ApiError::Conflict {
                code: "public-comment-required",
                detail: "the public must be heard on the item first: open and close its public comment period".to_owned(),
            });
        }
        let quorum = quorum_of(conn, &meeting, &council)?;
        if !quorum.met {
            return Err(ApiError::Conflict {
                code: "no-quorum",
                detail: match quorum.required {
                    Some(r) => format!("{} participants are present and quorum needs {r}", quorum.present),
                    None => "the assembly has no quorum set (assembly_quorum on the council)".to_owned(),
                },
            });
        }
        let mover = store::by_ids(conn, &meeting_id, std::slice::from_ref(&input.mover_participant_id))?;
        if !mover.first().is_some_and(|p| p.present) {
            return Err(ApiError::validation(
                "mover_participant_id",
                "must be a participant present now",
            ));
        }
        let now = db::now();
        let row = AssemblyMotion {
            id: new_id(),
            meeting_id,
            agenda_item_id: item.id,
            text: input.text,
            mover_participant_id: input.mover_participant_id,
            threshold: input.threshold.as_str().to_owned(),
            status: "open".to_owned(),
            present_at_close: None,
            closed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        store::motions::insert(conn, &row)?;
        record(conn, row)
    })
    .await
}

fn open_motion(
    conn: &mut AnyConnection,
    caller: &Principal,
    motion_id: &str,
) -> Result<(AssemblyMotion, Meeting), ApiError> {
    let motion = store::motions::find(conn, motion_id)?
        .ok_or_else(|| ApiError::not_found("motion", motion_id))?;
    let (meeting, _) = assembly_meeting(conn, caller, &motion.meeting_id)?;
    in_session(&meeting, "votes are cast")?;
    // Read again under the meeting's lock.
    let motion = store::motions::find(conn, motion_id)?
        .ok_or_else(|| ApiError::not_found("motion", motion_id))?;
    if motion.status != "open" {
        return Err(ApiError::Conflict {
            code: "motion-closed",
            detail: format!(
                "the motion is closed ({}); its result is final",
                motion.status
            ),
        });
    }
    Ok((motion, meeting))
}

/// Records the votes of present participants (all or none). One vote per participant and
/// motion holds in the database: a second vote is 409 `already-voted`, whichever instance
/// takes it.
pub async fn vote(
    ctx: &Context,
    db: &Db,
    motion_id: String,
    votes: Vec<(String, Choice)>,
) -> Result<usize, ApiError> {
    if votes
        .iter()
        .any(|(_, c)| !matches!(c, Choice::Yes | Choice::No | Choice::Abstain))
    {
        return Err(ApiError::validation(
            "votes",
            "a participant votes yes, no or abstain",
        ));
    }
    let caller = ctx.caller.clone();
    ctx.write(db, "create", Some(motion_id.clone()), 201, move |conn| {
        let (motion, meeting) = open_motion(conn, &caller, &motion_id)?;
        let ids: Vec<String> = votes.iter().map(|(p, _)| p.clone()).collect();
        if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
            return Err(ApiError::validation("votes", "lists a participant twice"));
        }
        let present: HashMap<String, bool> = store::by_ids(conn, &meeting.id, &ids)?
            .into_iter()
            .map(|p| (p.id, p.present))
            .collect();
        if let Some((absent, _)) = votes.iter().find(|(p, _)| present.get(p) != Some(&true)) {
            return Err(ApiError::validation(
                "votes",
                format!("participant {absent} is not present at this meeting"),
            ));
        }
        let now = db::now();
        for (participant_id, choice) in &votes {
            let row = AssemblyVote {
                id: new_id(),
                motion_id: motion.id.clone(),
                participant_id: participant_id.clone(),
                choice: choice.as_str().to_owned(),
                created_at: now,
                updated_at: now,
                version: 1,
            };
            store::votes::insert(conn, &row).map_err(|e| match e {
                StoreError::Duplicate(_) => ApiError::Conflict {
                    code: "already-voted",
                    detail: format!(
                        "participant {participant_id} has already voted on this motion"
                    ),
                },
                other => other.into(),
            })?;
        }
        Ok(votes.len())
    })
    .await
}

/// Closes the vote and computes the result; participants present who did not vote count as
/// abstaining (they do not enter the majority). Final.
pub async fn close_motion(
    ctx: &Context,
    db: &Db,
    motion_id: String,
    expected: Expected,
) -> Result<AssemblyMotionRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(motion_id.clone()), 200, move |conn| {
        let (mut motion, meeting) = open_motion(conn, &caller, &motion_id)?;
        expected.check(motion.version)?;
        let present = store::present_count(conn, &meeting.id)?;
        let choices = store::votes::choices(conn, &motion.id)?;
        let cast = choices.len() as i64;
        let threshold = Threshold::parse(&motion.threshold).ok_or_else(|| {
            ApiError::Internal(format!("stored threshold {:?}", motion.threshold))
        })?;
        let parsed: Vec<Choice> = choices.iter().filter_map(|c| Choice::parse(c)).collect();
        let membership = present.max(cast);
        let result = tally(
            threshold,
            &parsed,
            u32::try_from(membership).unwrap_or(u32::MAX),
        );
        let now = db::now();
        motion.status = if result.passed { "passed" } else { "failed" }.to_owned();
        motion.present_at_close = Some(membership);
        motion.closed_at = Some(now);
        motion.updated_at = now;
        motion.version += 1;
        store::motions::update(conn, &motion)?;
        super::record::append(conn, EntryKind::AssemblyMotionClosed, &motion.id)?;
        if result.passed {
            super::minutes::approve_on_passed(
                conn,
                &motion.agenda_item_id,
                &motion.id,
                motion.closed_at,
                now,
            )?;
        }
        record(conn, motion)
    })
    .await
}

/// A motion with its count, public to whoever may read the meeting.
pub fn find_motion(ctx: &Context, db: &Db, id: &str) -> Result<AssemblyMotionRecord, ApiError> {
    db.read(|conn| {
        let motion =
            store::motions::find(conn, id)?.ok_or_else(|| ApiError::not_found("motion", id))?;
        let meeting = db::meetings::find(conn, &motion.meeting_id)?
            .ok_or_else(|| ApiError::not_found("motion", id))?;
        require(
            policy::read_meeting(
                &ctx.caller,
                &meeting.council_id,
                meeting.noticed_at.is_some(),
            ),
            "motion",
            id,
        )?;
        record(conn, motion)
    })
}
