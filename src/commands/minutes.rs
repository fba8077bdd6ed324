//! Minutes: a draft per adjourned meeting generated from its record, free text edited by the
//! council's staff, approved when a passing motion on the approval item (an action item of a
//! later meeting of the same council) is closed, and immutable afterwards except for recorded
//! corrections. Drafts are the staff's; approved minutes are public.

use serde_json::{json, Value};

use super::meetings::visible_meeting;
use super::{new_id, patch_optional, require, Context, Expected, Patch};
use crate::auth::policy::{self, Principal};
use crate::db::dialect::{lock_row, LockTable};
use crate::db::meetings::Meeting;
use crate::db::minutes::{Correction, Minutes};
use crate::db::motions::Motion;
use crate::db::{self, AnyConnection, Db, StoreError};
use crate::domain::agenda::ItemKind;
use crate::domain::meeting::MeetingStatus;
use crate::domain::record::EntryKind;
use crate::error::ApiError;

/// Minutes with their corrections.
#[derive(Debug, Clone)]
pub struct MinutesRecord {
    pub row: Minutes,
    pub corrections: Vec<Correction>,
}

#[derive(Default)]
pub struct MinutesChanges {
    pub summary: Patch<String>,
    pub notes: Patch<String>,
    pub approval_item_id: Patch<String>,
}

fn at(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map(|t| json!(t.and_utc().to_rfc3339()))
        .unwrap_or(Value::Null)
}

/// What the record of an adjourned meeting says, for its minutes: the meeting, who attended and
/// how (with the basis of remote attendance), the items in order with their public comment
/// period and counts (written comments, hidden ones, speakers), findings and motions (each member's vote by name and the result), procedural
/// motions, the emergency determination and the agenda amendments.
fn from_record(conn: &mut AnyConnection, meeting: &Meeting) -> Result<Value, ApiError> {
    let seats = db::seats::all_of_council(conn, &meeting.council_id)?;
    let attendance = db::meetings::attendance::of_meeting(conn, &meeting.id)?;
    let items = db::agenda::of_meeting(conn, &meeting.id)?;
    let motions = db::motions::of_meeting(conn, &meeting.id)?;
    let findings = db::findings::of_meeting(conn, &meeting.id)?;
    let amendments = db::agenda::amendments::of_meeting(conn, &meeting.id)?;
    let comments = db::participation::counts(conn, &meeting.id)?;
    let assembly = assembly_record(conn, &meeting.id)?;
    let mut person_ids: Vec<String> = attendance.iter().map(|a| a.person_id.clone()).collect();
    let mut motion_votes = Vec::new();
    for m in &motions {
        let votes = db::motions::ballots::of_motion(conn, &m.id)?;
        person_ids.extend(votes.iter().map(|v| v.person_id.clone()));
        motion_votes.push((m, votes));
    }
    let mut finding_votes = Vec::new();
    for f in &findings {
        let votes = db::findings::ballots::of_finding(conn, &f.id)?;
        person_ids.extend(votes.iter().map(|v| v.person_id.clone()));
        finding_votes.push((f, votes));
    }
    person_ids.sort();
    person_ids.dedup();
    let people = db::people::by_ids(conn, &person_ids)?;
    let name = |id: &str| {
        people
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.display_name.clone())
    };
    let seat_title = |id: &str| seats.iter().find(|s| s.id == id).map(|s| s.title.clone());
    let member = |seat_id: &str, person_id: &str, choice: &str| {
        json!({"seat_id": seat_id, "seat": seat_title(seat_id), "person_id": person_id,
            "name": name(person_id), "vote": choice})
    };
    let motion_json = |m: &Motion, votes: &[db::motions::Vote]| {
        json!({"id": m.id, "kind": m.kind, "text": m.text, "mover_seat_id": m.mover_seat_id,
            "seconder_seat_id": m.seconder_seat_id, "threshold": m.threshold, "result": m.status,
            "closed_at": at(m.closed_at),
            "votes": votes.iter().map(|v| member(&v.seat_id, &v.person_id, &v.choice)).collect::<Vec<_>>()})
    };
    let finding_json = |f: &db::findings::Finding, votes: &[db::findings::FindingVote]| {
        json!({"id": f.id, "kind": f.kind, "facts": f.facts, "continued_from_item_id": f.continued_from_item_id,
            "members_present": f.members_present, "membership": f.membership, "passed": f.passed,
            "rule": f.rule,
            "votes": votes.iter().map(|v| member(&v.seat_id, &v.person_id, &v.choice)).collect::<Vec<_>>()})
    };
    let items_json: Vec<Value> = items
        .iter()
        .map(|i| {
            json!({"id": i.id, "title": i.title, "kind": i.kind, "description": i.description,
                "legal_basis": i.legal_basis, "added_late": i.added_late,
                "public_comment": {"opened_at": at(i.comment_opened_at), "closed_at": at(i.comment_closed_at),
                    "written": comments.iter().find(|c| c.item_id == i.id).map_or(0, |c| c.written),
                    "hidden": comments.iter().find(|c| c.item_id == i.id).map_or(0, |c| c.hidden),
                    "speakers": comments.iter().find(|c| c.item_id == i.id).map_or(0, |c| c.speakers)},
                "findings": finding_votes.iter()
                    .filter(|(f, _)| f.agenda_item_id.as_deref() == Some(i.id.as_str()))
                    .map(|(f, v)| finding_json(f, v)).collect::<Vec<_>>(),
                "motions": motion_votes.iter()
                    .filter(|(m, _)| m.agenda_item_id.as_deref() == Some(i.id.as_str()))
                    .map(|(m, v)| motion_json(m, v)).collect::<Vec<_>>(),
                "assembly_motions": assembly.motions.iter()
                    .filter(|(item, _)| *item == i.id)
                    .map(|(_, m)| m.clone()).collect::<Vec<_>>()})
        })
        .collect();
    Ok(json!({
        "meeting": {"id": meeting.id, "title": meeting.title, "type": meeting.meeting_type,
            "starts_at": meeting.starts_at.and_utc().to_rfc3339(), "time_zone": meeting.time_zone,
            "location": meeting.location, "remote_url": meeting.remote_url,
            "emergency_finding": meeting.emergency_finding, "noticed_at": at(meeting.noticed_at)},
        "attendance": attendance.iter().map(|a| json!({
            "seat_id": a.seat_id, "seat": seat_title(&a.seat_id), "person_id": a.person_id,
            "name": name(&a.person_id), "status": a.status, "remote": a.remote,
            "remote_basis": a.remote_basis, "arrived_at": at(a.arrived_at), "departed_at": at(a.departed_at)
        })).collect::<Vec<_>>(),
        "emergency_determination": finding_votes.iter()
            .filter(|(f, _)| f.agenda_item_id.is_none())
            .map(|(f, v)| finding_json(f, v)).collect::<Vec<_>>(),
        "participants": assembly.participants,
        "items": items_json,
        "procedural_motions": motion_votes.iter()
            .filter(|(m, _)| m.agenda_item_id.is_none())
            .map(|(m, v)| motion_json(m, v)).collect::<Vec<_>>(),
        "amendments": amendments.iter().map(|a| json!({
            "id": a.id, "reason": a.reason, "after_notice_deadline": a.within_notice_window,
            "made_at": a.created_at.and_utc().to_rfc3339()
        })).collect::<Vec<_>>(),
    }))
}

/// An assembly meeting's part of the record: its registered participants (name given,
/// constituency declared, presence) and each motion with every participant's vote.
struct AssemblyRecord {
    participants: Vec<Value>,
    /// (agenda item id, motion).
    motions: Vec<(String, Value)>,
}

fn assembly_record(conn: &mut AnyConnection, meeting_id: &str) -> Result<AssemblyRecord, ApiError> {
    let participants = db::assemblies::of_meeting(conn, meeting_id, None, i64::MAX)?;
    let name = |id: &str| {
        participants
            .iter()
            .find(|p| p.id == id)
            .map(
                |p| json!({"participant_id": p.id, "name": p.name, "constituency": p.constituency}),
            )
            .unwrap_or(Value::Null)
    };
    let mut motions = Vec::new();
    for m in db::assemblies::motions::of_meeting(conn, meeting_id)? {
        let votes = db::assemblies::votes::of_motion(conn, &m.id)?;
        let count = |choice: &str| votes.iter().filter(|v| v.choice == choice).count();
        let ballots: Vec<Value> = votes
            .iter()
            .map(|v| {
                let mut who = name(&v.participant_id);
                if let Some(map) = who.as_object_mut() {
                    map.insert("vote".to_owned(), json!(v.choice));
                }
                who
            })
            .collect();
        motions.push((
            m.agenda_item_id.clone(),
            json!({"id": m.id, "text": m.text, "mover": name(&m.mover_participant_id),
                "threshold": m.threshold, "result": m.status, "present_at_close": m.present_at_close,
                "closed_at": at(m.closed_at),
                "counts": {"yes": count("yes"), "no": count("no"), "abstain": count("abstain")},
                "votes": ballots}),
        ));
    }
    Ok(AssemblyRecord {
        participants: participants
            .iter()
            .map(|p| {
                json!({"participant_id": p.id, "name": p.name, "constituency": p.constituency,
                    "present": p.present, "checked_in_at": at(p.checked_in_at),
                    "checked_out_at": at(p.checked_out_at)})
            })
            .collect(),
        motions,
    })
}

fn load(conn: &mut AnyConnection, id: &str) -> Result<Minutes, ApiError> {
    db::minutes::find(conn, id)?.ok_or_else(|| ApiError::not_found("minutes", id))
}

/// The minutes, if the caller may know them: approved ones whoever may read the meeting, drafts
/// the council's staff only (others get 404).
fn visible(conn: &mut AnyConnection, caller: &Principal, row: &Minutes) -> Result<(), ApiError> {
    visible_meeting(conn, caller, &row.meeting_id)?;
    if row.status != "approved"
        && policy::manage_council(caller, &row.council_id) != policy::Decision::Allow
    {
        return Err(ApiError::not_found("minutes", &row.id));
    }
    Ok(())
}

fn with_corrections(conn: &mut AnyConnection, row: Minutes) -> Result<MinutesRecord, ApiError> {
    let corrections = db::minutes::corrections::of_minutes(conn, &row.id)?;
    Ok(MinutesRecord { row, corrections })
}

/// Drafts the minutes of an adjourned meeting from its record. One set per meeting (a unique
/// index): a second draft is 409 `minutes-exist`, whichever instance takes it.
pub async fn draft(ctx: &Context, db: &Db, meeting_id: String) -> Result<MinutesRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write_with_id(
        db,
        "create",
        201,
        |r: &MinutesRecord| r.row.id.clone(),
        move |conn| {
            lock_row(conn, LockTable::Meetings, &meeting_id)?;
            let meeting = visible_meeting(conn, &caller, &meeting_id)?;
            require(
                policy::manage_council(&caller, &meeting.council_id),
                "meeting",
                &meeting_id,
            )?;
            if meeting.status != MeetingStatus::Adjourned.as_str() {
                return Err(ApiError::Conflict {
                    code: "meeting-not-adjourned",
                    detail: format!(
                    "the meeting is {}: minutes are drafted from the record once it is adjourned",
                    meeting.status
                ),
                });
            }
            let record = from_record(conn, &meeting)?;
            let now = db::now();
            let row = Minutes {
                id: new_id(),
                meeting_id: meeting.id.clone(),
                council_id: meeting.council_id.clone(),
                status: "draft".to_owned(),
                record: record.to_string(),
                summary: None,
                notes: None,
                approval_item_id: None,
                approved_by_motion_id: None,
                approved_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            db::minutes::insert(conn, &row).map_err(|e| match e {
                StoreError::Duplicate(_) => ApiError::Conflict {
                    code: "minutes-exist",
                    detail: "the meeting already has minutes".to_owned(),
                },
                other => other.into(),
            })?;
            Ok(MinutesRecord {
                row,
                corrections: Vec::new(),
            })
        },
    )
    .await
}

pub fn find(ctx: &Context, db: &Db, id: &str) -> Result<MinutesRecord, ApiError> {
    db.read(|conn| {
        let row = load(conn, id)?;
        visible(conn, &ctx.caller, &row)?;
        with_corrections(conn, row)
    })
}

/// A meeting's minutes (404 when it has none the caller may see).
pub fn of_meeting(ctx: &Context, db: &Db, meeting_id: &str) -> Result<MinutesRecord, ApiError> {
    db.read(|conn| {
        visible_meeting(conn, &ctx.caller, meeting_id)?;
        let row = db::minutes::of_meeting(conn, meeting_id)?
            .ok_or_else(|| ApiError::NotFound(format!("no minutes of meeting {meeting_id}")))?;
        visible(conn, &ctx.caller, &row)?;
        with_corrections(conn, row)
    })
}

fn approved_conflict() -> ApiError {
    ApiError::Conflict {
        code: "minutes-approved",
        detail: "approved minutes do not change; record a correction instead (POST /api/v1/minutes/{minutes_id}/corrections)".to_owned(),
    }
}

/// Edits a draft's free text and its approval item (a JSON merge patch). The update is
/// versioned: an approval committed meanwhile makes it 412.
pub async fn update(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    changes: MinutesChanges,
) -> Result<MinutesRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut row = load(conn, &id)?;
        visible(conn, &caller, &row)?;
        require(
            policy::manage_council(&caller, &row.council_id),
            "minutes",
            &id,
        )?;
        expected.check(row.version)?;
        if row.status == "approved" {
            return Err(approved_conflict());
        }
        if let Some(Some(item_id)) = &changes.approval_item_id {
            approval_item_ok(conn, &row, item_id)?;
        }
        let mut changed = false;
        patch_optional(&mut row.summary, changes.summary, &mut changed);
        patch_optional(&mut row.notes, changes.notes, &mut changed);
        patch_optional(
            &mut row.approval_item_id,
            changes.approval_item_id,
            &mut changed,
        );
        if changed {
            row.version += 1;
            row.updated_at = db::now();
            db::minutes::update(conn, &row)?;
        }
        with_corrections(conn, row)
    })
    .await
}

/// The approval item is an action item on the agenda of a later meeting of the same council.
fn approval_item_ok(
    conn: &mut AnyConnection,
    row: &Minutes,
    item_id: &str,
) -> Result<(), ApiError> {
    let refuse = |why: &str| ApiError::validation("approval_item_id", why);
    let item =
        db::agenda::find(conn, item_id)?.ok_or_else(|| refuse("no agenda item with this id"))?;
    let later = match &item.meeting_id {
        Some(m) => db::meetings::find(conn, m)?,
        None => None,
    };
    let minuted = db::meetings::find(conn, &row.meeting_id)?
        .ok_or_else(|| ApiError::not_found("meeting", &row.meeting_id))?;
    match later {
        Some(later)
            if later.council_id == row.council_id && later.starts_at > minuted.starts_at =>
        {
            if ItemKind::parse(&item.kind) != Some(ItemKind::Action) {
                return Err(refuse(
                    "must be an action item: the minutes are approved by a motion",
                ));
            }
            Ok(())
        }
        _ => Err(refuse(
            "must be an item on the agenda of a later meeting of the same council",
        )),
    }
}

/// Called by `motions::close` when a motion passes: draft minutes whose approval item the motion
/// acted on become approved, naming the motion. In the motion's transaction.
pub(super) fn approve_on_motion(conn: &mut AnyConnection, motion: &Motion) -> Result<(), ApiError> {
    let Some(item_id) = &motion.agenda_item_id else {
        return Ok(());
    };
    approve_on_passed(
        conn,
        item_id,
        &motion.id,
        motion.closed_at,
        motion.updated_at,
    )
}

/// Draft minutes whose approval item a passed motion (of a seated council or an assembly) acted
/// on become approved, naming the motion. In the motion's transaction.
pub(super) fn approve_on_passed(
    conn: &mut AnyConnection,
    item_id: &str,
    motion_id: &str,
    closed_at: Option<chrono::NaiveDateTime>,
    now: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    for mut row in db::minutes::awaiting_approval_on(conn, item_id)? {
        row.status = "approved".to_owned();
        row.approved_by_motion_id = Some(motion_id.to_owned());
        row.approved_at = closed_at;
        row.version += 1;
        row.updated_at = now;
        db::minutes::update(conn, &row)?;
        super::record::append(conn, EntryKind::MinutesApproved, &row.id)?;
    }
    Ok(())
}

/// Records a correction of approved minutes, with its reason, actor and time. Corrections are
/// kept beside the approved text, never merged into it.
pub async fn correct(
    ctx: &Context,
    db: &Db,
    id: String,
    reason: String,
    correction: String,
) -> Result<Correction, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "create", Some(id.clone()), 201, move |conn| {
        let row = load(conn, &id)?;
        visible(conn, &caller, &row)?;
        require(
            policy::manage_council(&caller, &row.council_id),
            "minutes",
            &id,
        )?;
        if row.status != "approved" {
            return Err(ApiError::Conflict {
                code: "minutes-not-approved",
                detail: "draft minutes are edited (PATCH); corrections are recorded after approval"
                    .to_owned(),
            });
        }
        let now = db::now();
        let c = Correction {
            id: new_id(),
            minutes_id: id,
            reason,
            correction,
            actor: caller.actor_key(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        db::minutes::corrections::insert(conn, &c)?;
        super::record::append(conn, EntryKind::MinutesCorrected, &c.id)?;
        Ok(c)
    })
    .await
}
