//! The council record: each public act of a council (a published agenda, an amendment, a closed
//! motion with every vote, approved minutes, a correction, a cancellation) is appended to the
//! council's hash chain in the act's own transaction; the chain is public, and anyone can check
//! it (docs/VERIFY.md). Appending locks the council's row before reading the chain's head, so
//! writers on any number of app instances append one after the other; the unique index on
//! (council, sequence) is the backstop.

use serde_json::{json, Value};

use super::councils::find_council;
use super::{new_id, Context};
use crate::db::dialect::{lock_row, LockTable};
use crate::db::record::RecordEntry;
use crate::db::{self, AnyConnection, Db, StoreError};
use crate::domain::record::{
    canonical, check_entry, entry_hash, recorded_at_text, sha256_hex, EntryBody, EntryKind,
    Problem, StoredEntry, GENESIS,
};
use crate::error::ApiError;

/// Entries verification reads at a time.
const VERIFY_BATCH: i64 = 500;

fn at(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map(|t| json!(recorded_at_text(t))).unwrap_or(Value::Null)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// What an entry of this kind says about its subject, from the rows as they are now, with the
/// council the subject belongs to; `None` when the subject is gone. Only facts that no longer
/// change once the act is done are taken, so that the description made when the act is recorded
/// is the description verification makes later.
fn describe(
    conn: &mut AnyConnection,
    kind: EntryKind,
    subject_id: &str,
) -> Result<Option<(String, Value)>, ApiError> {
    Ok(match kind {
        EntryKind::MeetingPublished => {
            let Some(m) = db::meetings::find(conn, subject_id)? else {
                return Ok(None);
            };
            let languages: Value =
                serde_json::from_str(&m.interpretation_languages).map_err(internal)?;
            let agenda: Vec<Value> = db::agenda::of_meeting(conn, &m.id)?
                .into_iter()
                .filter(|i| i.amendment_id.is_none())
                .map(|i| item_json(&i))
                .collect();
            let data = json!({
                "meeting": {"id": m.id, "title": m.title, "type": m.meeting_type,
                    "starts_at": at(Some(m.starts_at)), "ends_at": at(m.ends_at),
                    "time_zone": m.time_zone, "location": m.location, "remote_url": m.remote_url,
                    "interpretation_languages": languages,
                    "emergency_finding": m.emergency_finding, "noticed_at": at(m.noticed_at)},
                "agenda": agenda,
            });
            Some((m.council_id, data))
        }
        EntryKind::MeetingCancelled => {
            let Some(m) = db::meetings::find(conn, subject_id)? else {
                return Ok(None);
            };
            let data = json!({
                "meeting": {"id": m.id, "title": m.title, "starts_at": at(Some(m.starts_at)),
                    "noticed_at": at(m.noticed_at)},
                "status": m.status,
                "reason": m.cancel_reason,
            });
            Some((m.council_id, data))
        }
        EntryKind::AgendaAmended => {
            let Some(a) = db::agenda::amendments::find(conn, subject_id)? else {
                return Ok(None);
            };
            let Some(m) = db::meetings::find(conn, &a.meeting_id)? else {
                return Ok(None);
            };
            let items: Vec<Value> = db::agenda::of_meeting(conn, &m.id)?
                .into_iter()
                .filter(|i| i.amendment_id.as_deref() == Some(a.id.as_str()))
                .map(|i| item_json(&i))
                .collect();
            let data = json!({
                "amendment": {"id": a.id, "meeting_id": a.meeting_id, "reason": a.reason,
                    "after_notice_deadline": a.within_notice_window,
                    "made_at": at(Some(a.created_at))},
                "items": items,
            });
            Some((m.council_id, data))
        }
        EntryKind::MotionClosed => {
            let Some(motion) = db::motions::find(conn, subject_id)? else {
                return Ok(None);
            };
            let Some(m) = db::meetings::find(conn, &motion.meeting_id)? else {
                return Ok(None);
            };
            let mut votes = db::motions::ballots::of_motion(conn, &motion.id)?;
            votes.sort_by(|a, b| a.seat_id.cmp(&b.seat_id));
            let data = json!({
                "motion": {"id": motion.id, "meeting_id": motion.meeting_id,
                    "agenda_item_id": motion.agenda_item_id, "kind": motion.kind,
                    "text": motion.text, "mover_seat_id": motion.mover_seat_id,
                    "seconder_seat_id": motion.seconder_seat_id, "threshold": motion.threshold,
                    "membership": motion.membership, "result": motion.status,
                    "closed_at": at(motion.closed_at)},
                "votes": votes.iter().map(|v| json!({"seat_id": v.seat_id,
                    "person_id": v.person_id, "vote": v.choice, "reason": v.reason}))
                    .collect::<Vec<_>>(),
            });
            Some((m.council_id, data))
        }
        EntryKind::AssemblyMotionClosed => {
            let Some(motion) = db::assemblies::motions::find(conn, subject_id)? else {
                return Ok(None);
            };
            let Some(m) = db::meetings::find(conn, &motion.meeting_id)? else {
                return Ok(None);
            };
            let mut votes = db::assemblies::votes::of_motion(conn, &motion.id)?;
            votes.sort_by(|a, b| a.participant_id.cmp(&b.participant_id));
            let data = json!({
                "motion": {"id": motion.id, "meeting_id": motion.meeting_id,
                    "agenda_item_id": motion.agenda_item_id, "text": motion.text,
                    "mover_participant_id": motion.mover_participant_id,
                    "threshold": motion.threshold, "present_at_close": motion.present_at_close,
                    "result": motion.status, "closed_at": at(motion.closed_at)},
                "votes": votes.iter().map(|v| json!({"participant_id": v.participant_id,
                    "vote": v.choice})).collect::<Vec<_>>(),
            });
            Some((m.council_id, data))
        }
        EntryKind::MinutesApproved => {
            let Some(row) = db::minutes::find(conn, subject_id)? else {
                return Ok(None);
            };
            let data = json!({
                "minutes": {"id": row.id, "meeting_id": row.meeting_id, "status": row.status,
                    "summary": row.summary, "notes": row.notes,
                    "record_sha256": sha256_hex(&row.record),
                    "approved_by_motion_id": row.approved_by_motion_id,
                    "approved_at": at(row.approved_at)},
            });
            Some((row.council_id, data))
        }
        EntryKind::MinutesCorrected => {
            let Some(c) = db::minutes::corrections::find(conn, subject_id)? else {
                return Ok(None);
            };
            let Some(row) = db::minutes::find(conn, &c.minutes_id)? else {
                return Ok(None);
            };
            let data = json!({
                "correction": {"id": c.id, "minutes_id": c.minutes_id,
                    "meeting_id": row.meeting_id, "reason": c.reason,
                    "correction": c.correction, "made_at": at(Some(c.created_at))},
            });
            Some((row.council_id, data))
        }
    })
}

fn item_json(i: &db::agenda::AgendaItem) -> Value {
    json!({"id": i.id, "position": i.position, "kind": i.kind, "title": i.title,
        "description": i.description, "legal_basis": i.legal_basis, "presenter": i.presenter,
        "proposed_by_seat_id": i.proposed_by_seat_id, "added_late": i.added_late})
}

/// Appends the act to its council's chain. Called by the act's command inside its write
/// transaction, after the act's rows are written: the entry commits with the act or not at all.
pub(super) fn append(
    conn: &mut AnyConnection,
    kind: EntryKind,
    subject_id: &str,
) -> Result<RecordEntry, ApiError> {
    let (council_id, data) = describe(conn, kind, subject_id)?.ok_or_else(|| {
        ApiError::Internal(format!("{} {subject_id} to record is gone", kind.as_str()))
    })?;
    // One appender per council at a time, on every instance: the next one reads this head.
    lock_row(conn, LockTable::Councils, &council_id)?;
    let (seq, prev_hash) = match db::record::last(conn, &council_id)? {
        Some(last) => (last.seq + 1, last.hash),
        None => (1, GENESIS.to_owned()),
    };
    let now = db::now();
    let recorded_at = recorded_at_text(now);
    let body = EntryBody {
        council_id: &council_id,
        seq,
        kind: kind.as_str(),
        subject_id,
        recorded_at: &recorded_at,
        data: &data,
    };
    let hash = entry_hash(&prev_hash, &body).map_err(internal)?;
    let row = RecordEntry {
        id: new_id(),
        council_id: council_id.clone(),
        seq,
        kind: kind.as_str().to_owned(),
        subject_id: subject_id.to_owned(),
        recorded_at: now,
        data: canonical(&data).map_err(internal)?,
        prev_hash,
        hash,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    db::record::insert(conn, &row).map_err(|e| match StoreError::from(e) {
        // Only a writer that bypassed the council's lock gets here; nothing of the act was
        // stored, so the caller may simply try again.
        StoreError::Duplicate(_) => ApiError::Unavailable(format!(
            "entry {seq} of council {council_id}'s record was taken by another writer; try again"
        )),
        other => other.into(),
    })?;
    Ok(row)
}

/// An entry as served.
#[derive(Debug, Clone)]
pub struct EntryRecord {
    pub row: RecordEntry,
    pub kind: EntryKind,
    /// The stored data (as a JSON string when the stored text is not JSON).
    pub data: Value,
    /// The entry's `recorded_at` exactly as hashed.
    pub recorded_at: String,
}

fn entry_record(row: RecordEntry) -> Result<EntryRecord, ApiError> {
    let kind = EntryKind::parse(&row.kind)
        .ok_or_else(|| ApiError::Internal(format!("stored record kind {:?}", row.kind)))?;
    let data = serde_json::from_str(&row.data).unwrap_or_else(|_| Value::String(row.data.clone()));
    Ok(EntryRecord {
        kind,
        data,
        recorded_at: recorded_at_text(row.recorded_at),
        row,
    })
}

/// A page of a council's record, in sequence order: public, like the acts it holds.
pub fn list(
    _ctx: &Context,
    db: &Db,
    council_id: &str,
    after_seq: i64,
    fetch: i64,
) -> Result<Vec<EntryRecord>, ApiError> {
    let rows = db.read(|conn| {
        find_council(conn, council_id)?;
        Ok::<_, ApiError>(db::record::page(conn, council_id, after_seq, fetch)?)
    })?;
    rows.into_iter().map(entry_record).collect()
}

/// The outcome of checking a council's record.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Entries checked (all of them when `problem` is `None`; up to the bad one otherwise).
    pub checked: i64,
    /// The last good entry's sequence number and hash.
    pub head: Option<(i64, String)>,
    pub problem: Option<(Problem, String)>,
}

fn stored(row: &RecordEntry) -> StoredEntry {
    StoredEntry {
        council_id: row.council_id.clone(),
        seq: row.seq,
        kind: row.kind.clone(),
        subject_id: row.subject_id.clone(),
        recorded_at: recorded_at_text(row.recorded_at),
        data: row.data.clone(),
        prev_hash: row.prev_hash.clone(),
        hash: row.hash.clone(),
    }
}

fn explain(problem: &Problem) -> String {
    match problem {
        Problem::Gap { seq, expected } => {
            format!("entry {expected} is missing: the next stored entry is {seq}")
        }
        Problem::BrokenLink { seq } => format!(
            "entry {seq}'s prev_hash is not the hash of the entry before it"
        ),
        Problem::HashMismatch { seq } => format!(
            "entry {seq}'s hash is not the SHA-256 of its contents: the stored entry was changed"
        ),
        Problem::DataDiffers { seq } => format!(
            "entry {seq} no longer agrees with the records it describes: they were changed after the act was recorded"
        ),
    }
}

/// Recomputes the council's whole chain and compares each entry with the rows it describes now;
/// reports the first problem found.
pub fn verify(_ctx: &Context, db: &Db, council_id: &str) -> Result<Verification, ApiError> {
    db.read(|conn| {
        find_council(conn, council_id)?;
        let mut head: Option<(i64, String)> = None;
        let mut checked = 0;
        loop {
            let after = head.as_ref().map_or(0, |(seq, _)| *seq);
            let rows = db::record::page(conn, council_id, after, VERIFY_BATCH)?;
            if rows.is_empty() {
                return Ok(Verification {
                    checked,
                    head,
                    problem: None,
                });
            }
            for row in rows {
                let entry = stored(&row);
                let prev = head.as_ref().map(|(s, h)| (*s, h.as_str()));
                let mut outcome = check_entry(prev, &entry);
                if outcome.is_ok() {
                    outcome = data_agrees(conn, &row);
                }
                checked += 1;
                if let Err(problem) = outcome {
                    let detail = explain(&problem);
                    return Ok(Verification {
                        checked,
                        head,
                        problem: Some((problem, detail)),
                    });
                }
                head = Some((row.seq, row.hash));
            }
        }
    })
}

/// The entry's data is what its subject's rows say now.
fn data_agrees(conn: &mut AnyConnection, row: &RecordEntry) -> Result<(), Problem> {
    let differs = Problem::DataDiffers { seq: row.seq };
    let kind = EntryKind::parse(&row.kind).ok_or(differs.clone())?;
    let now = describe(conn, kind, &row.subject_id).map_err(|_| differs.clone())?;
    let stored: Value = serde_json::from_str(&row.data).map_err(|_| differs.clone())?;
    match now {
        Some((council, data))
            if council == row.council_id
                && canonical(&data).ok().is_some()
                && canonical(&data).ok() == canonical(&stored).ok() =>
        {
            Ok(())
        }
        _ => Err(differs),
    }
}
