//! Meetings: creating and preparing them, and their lifecycle (publish the notice, open,
//! recess, adjourn, cancel), each action recorded with its actor and time.

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::councils::{find_council, not_archived, CouncilRecord};
use super::{fields_ok, new_id, patch_optional, patch_required, require, Context, Expected, Patch};
use crate::auth::policy::{self, Principal};
use crate::db::dialect::{lock_row, LockTable};
use crate::db::meetings::{Attendance, Meeting, MeetingEvent, MeetingFilter};
use crate::db::{self, AnyConnection, Db};
use crate::domain::meeting::{
    check_notice, notice_deadline, quorum as domain_quorum, Attendee, EmergencyFinding,
    MeetingQuorum, MeetingStatus, MeetingType, NoticeFacts, RemoteBasis, Transition,
};
use crate::domain::record::EntryKind;
use crate::domain::truncate_to_micros;
use crate::error::{ApiError, FieldError};

pub struct NewMeeting {
    pub meeting_type: MeetingType,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Defaults to the time zone of the council's school.
    pub time_zone: Option<String>,
    pub location: Option<String>,
    pub remote_url: Option<String>,
    pub interpretation_languages: Vec<String>,
    pub emergency_finding: Option<EmergencyFinding>,
    pub media_notified_at: Option<DateTime<Utc>>,
}

/// A JSON merge patch of a draft meeting.
#[derive(Default)]
pub struct MeetingChanges {
    pub meeting_type: Patch<MeetingType>,
    pub title: Patch<String>,
    pub starts_at: Patch<DateTime<Utc>>,
    pub ends_at: Patch<DateTime<Utc>>,
    pub time_zone: Patch<String>,
    pub location: Patch<String>,
    pub remote_url: Patch<String>,
    pub interpretation_languages: Patch<Vec<String>>,
    pub emergency_finding: Patch<EmergencyFinding>,
    pub media_notified_at: Patch<DateTime<Utc>>,
}

/// A meeting as stored, with its enums parsed and its notice deadline computed from its
/// council's rules.
#[derive(Debug, Clone)]
pub struct MeetingRecord {
    pub row: Meeting,
    pub meeting_type: MeetingType,
    pub status: MeetingStatus,
    pub time_zone: Tz,
    pub interpretation_languages: Vec<String>,
    pub emergency_finding: Option<EmergencyFinding>,
    /// The latest moment the notice may be published; `None` when notice periods are lifted.
    pub notice_deadline: Option<DateTime<Utc>>,
}

fn corrupt(what: &str, value: &str) -> ApiError {
    ApiError::Internal(format!("stored meeting {what} {value:?} unknown"))
}

fn notice_facts(row: &Meeting, council: &CouncilRecord) -> Result<NoticeFacts, ApiError> {
    Ok(NoticeFacts {
        regime: council.regime,
        meeting_type: MeetingType::parse(&row.meeting_type)
            .ok_or_else(|| corrupt("type", &row.meeting_type))?,
        regular_notice_hours: council.row.regular_notice_hours,
        special_notice_hours: council.row.special_notice_hours,
        starts_at: row.starts_at.and_utc(),
        time_zone: Tz::from_str(&row.time_zone)
            .map_err(|_| corrupt("time zone", &row.time_zone))?,
        emergency_finding: row
            .emergency_finding
            .as_deref()
            .map(|f| EmergencyFinding::parse(f).ok_or_else(|| corrupt("finding", f)))
            .transpose()?,
        media_notified_at: row.media_notified_at.map(|t| t.and_utc()),
    })
}

fn record(row: Meeting, council: &CouncilRecord) -> Result<MeetingRecord, ApiError> {
    let facts = notice_facts(&row, council)?;
    Ok(MeetingRecord {
        meeting_type: facts.meeting_type,
        status: MeetingStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
        time_zone: facts.time_zone,
        interpretation_languages: serde_json::from_str(&row.interpretation_languages)
            .map_err(|e| ApiError::Internal(format!("stored languages unreadable: {e}")))?,
        emergency_finding: facts.emergency_finding,
        notice_deadline: notice_deadline(&facts),
        row,
    })
}

fn council_of(conn: &mut AnyConnection, council_id: &str) -> Result<CouncilRecord, ApiError> {
    CouncilRecord::try_from(find_council(conn, council_id)?)
}

fn find_meeting(conn: &mut AnyConnection, id: &str) -> Result<Meeting, ApiError> {
    db::meetings::find(conn, id)?.ok_or_else(|| ApiError::not_found("meeting", id))
}

/// The meeting with this id, if the caller may know it exists.
pub(super) fn visible_meeting(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
) -> Result<Meeting, ApiError> {
    let row = find_meeting(conn, id)?;
    require(
        policy::read_meeting(caller, &row.council_id, row.noticed_at.is_some()),
        "meeting",
        id,
    )?;
    Ok(row)
}

/// A meeting a change is about: it exists and the caller may see it (404), the caller runs its
/// council (403), and `If-Match` names its current version (412), in that order.
fn meeting_for_change(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
    expected: &Expected,
) -> Result<Meeting, ApiError> {
    let row = visible_meeting(conn, caller, id)?;
    require(
        policy::manage_council(caller, &row.council_id),
        "meeting",
        id,
    )?;
    expected.check(row.version)?;
    Ok(row)
}

fn micros(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    truncate_to_micros(t.naive_utc())
}

fn languages_text(languages: &[String]) -> Result<String, ApiError> {
    serde_json::to_string(languages).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Field rules that span fields, checked after every create and change.
fn check_fields(row: &Meeting) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(end) = row.ends_at {
        if end <= row.starts_at {
            errors.push(FieldError::new("ends_at", "must be after starts_at"));
        }
    }
    if row.location.is_none() && row.remote_url.is_none() {
        errors.push(FieldError::new(
            "location",
            "a meeting needs a location, a remote_url, or both",
        ));
    }
    if row.emergency_finding.is_some() && row.meeting_type != MeetingType::Emergency.as_str() {
        errors.push(FieldError::new(
            "emergency_finding",
            "only an emergency meeting carries an emergency finding",
        ));
    }
    fields_ok(errors)
}

fn event(
    caller: &Principal,
    meeting_id: &str,
    action: &str,
    from: Option<MeetingStatus>,
    to: MeetingStatus,
    note: Option<String>,
    at: chrono::NaiveDateTime,
) -> MeetingEvent {
    MeetingEvent {
        id: new_id(),
        meeting_id: meeting_id.to_owned(),
        action: action.to_owned(),
        from_status: from.map(|s| s.as_str().to_owned()),
        to_status: to.as_str().to_owned(),
        actor: caller.actor_key(),
        note,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

pub fn list(
    ctx: &Context,
    db: &Db,
    council_id: &str,
    status: Option<MeetingStatus>,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<MeetingRecord>, ApiError> {
    let filter = MeetingFilter {
        status: status.map(|s| s.as_str().to_owned()),
        published_only: !policy::sees_unpublished_meetings(&ctx.caller, council_id),
    };
    let (council, rows) = db.read(|conn| {
        let council = council_of(conn, council_id)?;
        let rows = db::meetings::list(conn, council_id, &filter, after, fetch)?;
        Ok::<_, ApiError>((council, rows))
    })?;
    rows.into_iter().map(|r| record(r, &council)).collect()
}

pub fn find(ctx: &Context, db: &Db, id: &str) -> Result<MeetingRecord, ApiError> {
    let (row, council) = db.read(|conn| {
        let row = visible_meeting(conn, &ctx.caller, id)?;
        let council = council_of(conn, &row.council_id)?;
        Ok::<_, ApiError>((row, council))
    })?;
    record(row, &council)
}

pub fn list_events(
    ctx: &Context,
    db: &Db,
    id: &str,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<MeetingEvent>, ApiError> {
    db.read(|conn| {
        visible_meeting(conn, &ctx.caller, id)?;
        Ok(db::meetings::events::of_meeting(conn, id, after, fetch)?)
    })
}

pub async fn create(
    ctx: &Context,
    db: &Db,
    council_id: String,
    input: NewMeeting,
) -> Result<MeetingRecord, ApiError> {
    require(
        policy::manage_council(&ctx.caller, &council_id),
        "council",
        &council_id,
    )?;
    let caller = ctx.caller.clone();
    let now = db::now();
    let meeting_id = new_id();
    ctx.write(db, "create", Some(meeting_id.clone()), 201, move |conn| {
        let council = council_of(conn, &council_id)?;
        not_archived(&council.row)?;
        let time_zone = match input.time_zone {
            Some(tz) => tz,
            None => match &council.row.school_id {
                Some(school) => db::schools::find(conn, school)?
                    .map(|s| s.time_zone)
                    .ok_or_else(|| ApiError::Internal("council's school missing".to_owned()))?,
                None => return Err(ApiError::validation(
                    "time_zone",
                    "is required: the council belongs to no school whose time zone could be used",
                )),
            },
        };
        let row = Meeting {
            id: meeting_id,
            council_id: council_id.clone(),
            meeting_type: input.meeting_type.as_str().to_owned(),
            status: MeetingStatus::Draft.as_str().to_owned(),
            title: input.title,
            starts_at: micros(input.starts_at),
            ends_at: input.ends_at.map(micros),
            time_zone,
            location: input.location,
            remote_url: input.remote_url,
            interpretation_languages: languages_text(&input.interpretation_languages)?,
            emergency_finding: input.emergency_finding.map(|f| f.as_str().to_owned()),
            media_notified_at: input.media_notified_at.map(micros),
            noticed_at: None,
            cancel_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        check_fields(&row)?;
        db::meetings::insert(conn, &row)?;
        db::meetings::events::insert(
            conn,
            &event(
                &caller,
                &row.id,
                "created",
                None,
                MeetingStatus::Draft,
                None,
                now,
            ),
        )?;
        record(row, &council)
    })
    .await
}

pub async fn update(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    changes: MeetingChanges,
) -> Result<MeetingRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        lock_row(conn, LockTable::Meetings, &id)?;
        let mut row = meeting_for_change(conn, &caller, &id, &expected)?;
        let council = council_of(conn, &row.council_id)?;
        not_archived(&council.row)?;
        if row.status != MeetingStatus::Draft.as_str() {
            return Err(ApiError::Conflict {
                code: "meeting-not-draft",
                detail: format!(
                    "the meeting is {}: only a draft can be changed; after its notice is published the agenda changes only by a recorded amendment",
                    row.status
                ),
            });
        }
        let (mut errors, mut changed) = (Vec::new(), false);
        patch_required(
            &mut row.meeting_type,
            changes.meeting_type.map(|t| t.map(|t| t.as_str().to_owned())),
            "type",
            &mut errors,
            &mut changed,
        );
        patch_required(&mut row.title, changes.title, "title", &mut errors, &mut changed);
        patch_required(
            &mut row.starts_at,
            changes.starts_at.map(|t| t.map(micros)),
            "starts_at",
            &mut errors,
            &mut changed,
        );
        patch_required(
            &mut row.time_zone,
            changes.time_zone,
            "time_zone",
            &mut errors,
            &mut changed,
        );
        let languages = match changes.interpretation_languages {
            None => None,
            Some(None) => Some(None),
            Some(Some(list)) => Some(Some(languages_text(&list)?)),
        };
        patch_required(
            &mut row.interpretation_languages,
            languages,
            "interpretation_languages",
            &mut errors,
            &mut changed,
        );
        patch_optional(&mut row.ends_at, changes.ends_at.map(|t| t.map(micros)), &mut changed);
        patch_optional(&mut row.location, changes.location, &mut changed);
        patch_optional(&mut row.remote_url, changes.remote_url, &mut changed);
        patch_optional(
            &mut row.emergency_finding,
            changes.emergency_finding.map(|f| f.map(|f| f.as_str().to_owned())),
            &mut changed,
        );
        patch_optional(
            &mut row.media_notified_at,
            changes.media_notified_at.map(|t| t.map(micros)),
            &mut changed,
        );
        fields_ok(errors)?;
        check_fields(&row)?;
        if changed {
            row.version += 1;
            row.updated_at = db::now();
            db::meetings::update(conn, &row)?;
        }
        record(row, &council)
    })
    .await
}

/// Applies a lifecycle action. The meeting's row is locked first, so two actions on one meeting
/// (from any number of app instances) run one after the other and the second sees the first's
/// result: racing `open` and `cancel` cannot both succeed.
pub async fn transition(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    action: Transition,
    reason: Option<String>,
) -> Result<MeetingRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        lock_row(conn, LockTable::Meetings, &id)?;
        let mut row = meeting_for_change(conn, &caller, &id, &expected)?;
        let council = council_of(conn, &row.council_id)?;
        not_archived(&council.row)?;
        let from =
            MeetingStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
        let Some(to) = action.apply(from) else {
            let allowed: Vec<&str> = action.allowed_from().iter().map(|s| s.as_str()).collect();
            return Err(ApiError::Conflict {
                code: "illegal-transition",
                detail: format!(
                    "the meeting is {from}; {action} is allowed only when it is {}",
                    allowed.join(" or ")
                ),
            });
        };
        let now = db::now();
        if action == Transition::Publish {
            let facts = notice_facts(&row, &council)?;
            check_notice(&facts, now.and_utc()).map_err(|refusal| ApiError::Conflict {
                code: refusal.code(),
                detail: refusal.detail(),
            })?;
            row.noticed_at = Some(now);
        }
        if action == Transition::Cancel {
            row.cancel_reason = reason.clone();
        }
        row.status = to.as_str().to_owned();
        row.version += 1;
        row.updated_at = now;
        db::meetings::update(conn, &row)?;
        db::meetings::events::insert(
            conn,
            &event(
                &caller,
                &row.id,
                action.as_str(),
                Some(from),
                to,
                reason,
                now,
            ),
        )?;
        match (action, from) {
            (Transition::Publish, _) => {
                super::record::append(conn, EntryKind::MeetingPublished, &row.id)?;
            }
            (Transition::Cancel, MeetingStatus::Draft) => {}
            (Transition::Cancel, _) => {
                super::record::append(conn, EntryKind::MeetingCancelled, &row.id)?;
            }
            _ => {}
        }
        record(row, &council)
    })
    .await
}

/// What is recorded of one seat holder's attendance.
pub struct AttendanceInput {
    pub seat_id: String,
    pub present: bool,
    pub remote_basis: Option<RemoteBasis>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub departed_at: Option<DateTime<Utc>>,
}

/// Records (or corrects) whether a seat's holder is present, with arrival, departure and the
/// basis of remote attendance. Taken while the meeting is noticed, in session or in recess; one
/// row per seat and meeting (a unique index), the meeting's row locked while it is written.
pub async fn record_attendance(
    ctx: &Context,
    db: &Db,
    meeting_id: String,
    input: AttendanceInput,
) -> Result<Attendance, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(meeting_id.clone()), 200, move |conn| {
        lock_row(conn, LockTable::Meetings, &meeting_id)?;
        let meeting = visible_meeting(conn, &caller, &meeting_id)?;
        require(
            policy::manage_council(&caller, &meeting.council_id),
            "meeting",
            &meeting_id,
        )?;
        let status = MeetingStatus::parse(&meeting.status)
            .ok_or_else(|| corrupt("status", &meeting.status))?;
        if !matches!(
            status,
            MeetingStatus::Noticed | MeetingStatus::InSession | MeetingStatus::Recessed
        ) {
            return Err(ApiError::Conflict {
                code: "meeting-not-in-session",
                detail: format!(
                    "the meeting is {status}: attendance is taken while it is noticed, in session or in recess"
                ),
            });
        }
        let seat = db::seats::find(conn, &input.seat_id)?
            .filter(|s| s.council_id == meeting.council_id)
            .ok_or_else(|| ApiError::validation("seat_id", "no seat of this meeting's council with this id"))?;
        let Some(holder) = seat.holder_id.clone() else {
            return Err(ApiError::validation("seat_id", "the seat is vacant"));
        };
        if !input.present
            && (input.remote_basis.is_some()
                || input.arrived_at.is_some()
                || input.departed_at.is_some())
        {
            return Err(ApiError::validation(
                "status",
                "an absent member has no remote basis, arrival or departure",
            ));
        }
        if let (Some(a), Some(d)) = (input.arrived_at, input.departed_at) {
            if d < a {
                return Err(ApiError::validation("departed_at", "must not be before arrived_at"));
            }
        }
        if input.present && input.remote_basis == Some(RemoteBasis::JustCause) {
            check_just_cause(conn, &meeting, &holder)?;
        }
        let now = db::now();
        let existing = db::meetings::attendance::of_seat(conn, &meeting_id, &seat.id)?;
        let mut row = existing.clone().unwrap_or(Attendance {
            id: new_id(),
            meeting_id: meeting_id.clone(),
            seat_id: seat.id.clone(),
            person_id: holder.clone(),
            status: String::new(),
            remote: false,
            remote_basis: None,
            arrived_at: None,
            departed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        });
        row.person_id = holder;
        row.status = if input.present { "present" } else { "absent" }.to_owned();
        row.remote = input.remote_basis.is_some();
        row.remote_basis = input.remote_basis.map(|b| b.as_str().to_owned());
        row.arrived_at = input.arrived_at.map(micros);
        row.departed_at = input.departed_at.map(micros);
        match existing {
            None => db::meetings::attendance::insert(conn, &row)?,
            Some(_) => {
                row.version += 1;
                row.updated_at = now;
                db::meetings::attendance::update(conn, &row)?
            }
        }
        Ok(row)
    })
    .await
}

pub fn list_attendance(ctx: &Context, db: &Db, id: &str) -> Result<Vec<Attendance>, ApiError> {
    db.read(|conn| {
        visible_meeting(conn, &ctx.caller, id)?;
        Ok(db::meetings::attendance::of_meeting(conn, id)?)
    })
}

/// Whether the meeting has quorum now: the council's basis over its current seats, and the
/// voting members present (arrived and not departed).
pub fn quorum(ctx: &Context, db: &Db, id: &str) -> Result<MeetingQuorum, ApiError> {
    db.read(|conn| {
        let meeting = visible_meeting(conn, &ctx.caller, id)?;
        Ok::<_, ApiError>(quorum_on(conn, &meeting)?.0)
    })
}

/// Quorum of a meeting as the database says now, with the council's seats and the meeting's
/// attendance it was computed from.
pub(super) fn quorum_on(
    conn: &mut AnyConnection,
    meeting: &Meeting,
) -> Result<(MeetingQuorum, Vec<db::seats::Seat>, Vec<Attendance>), ApiError> {
    let council = council_of(conn, &meeting.council_id)?;
    let seats = db::seats::all_of_council(conn, &meeting.council_id)?;
    let rows = db::meetings::attendance::of_meeting(conn, &meeting.id)?;
    let filled = seats
        .iter()
        .filter(|s| s.voting && s.holder_id.is_some())
        .count() as u32;
    let authorized = seats.iter().filter(|s| s.voting).count() as u32;
    let attendees: Vec<Attendee> = rows
        .iter()
        .map(|r| Attendee {
            voting: seats.iter().any(|s| {
                s.id == r.seat_id && s.voting && s.holder_id.as_deref() == Some(&r.person_id)
            }),
            present: r.status == "present" && r.departed_at.is_none(),
            remote: r.remote_basis.as_deref().and_then(RemoteBasis::parse),
        })
        .collect();
    let q = domain_quorum(council.quorum_basis, filled, authorized, &attendees);
    Ok((q, seats, rows))
}

/// The local calendar date of a stored UTC time in the meeting's time zone.
pub(super) fn local_date(
    meeting: &Meeting,
    at: NaiveDateTime,
) -> Result<chrono::NaiveDate, ApiError> {
    let tz = Tz::from_str(&meeting.time_zone)
        .map_err(|_| ApiError::Internal(format!("stored time zone {:?}", meeting.time_zone)))?;
    Ok(at.and_utc().with_timezone(&tz).date_naive())
}

/// Refuses a member's "just cause" remote attendance beyond the yearly cap (Gov. Code
/// 54953(f)(3), SB 707): 2, 5 or 7 meetings of this council in the meeting's calendar year (in
/// its time zone), by how many regular meetings the council holds that year. Called by
/// `record_attendance` with the meeting's row locked; the council's row is locked too,
/// so two meetings of one council cannot each take the member's last remaining use.
fn check_just_cause(
    conn: &mut AnyConnection,
    meeting: &Meeting,
    person_id: &str,
) -> Result<(), ApiError> {
    use chrono::{Datelike, NaiveDate, TimeZone};
    lock_row(conn, LockTable::Councils, &meeting.council_id)?;
    let tz = Tz::from_str(&meeting.time_zone)
        .map_err(|_| ApiError::Internal(format!("stored time zone {:?}", meeting.time_zone)))?;
    let year = local_date(meeting, meeting.starts_at)?.year();
    let start_of = |y: i32| -> Result<NaiveDateTime, ApiError> {
        let midnight = NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .ok_or_else(|| ApiError::Internal(format!("year {y} out of range")))?;
        tz.from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.naive_utc())
            .ok_or_else(|| ApiError::Internal(format!("no local midnight on {y}-01-01")))
    };
    let (from, to) = (start_of(year)?, start_of(year + 1)?);
    let used = db::findings::just_cause_meetings(
        conn,
        &meeting.council_id,
        person_id,
        &meeting.id,
        from,
        to,
    )?;
    let regular = db::findings::regular_meetings(conn, &meeting.council_id, from, to)?;
    let cap = crate::domain::findings::just_cause_cap(u32::try_from(regular).unwrap_or(u32::MAX));
    if used >= i64::from(cap) {
        return Err(ApiError::Conflict {
            code: "just-cause-cap-reached",
            detail: format!(
                "the member has attended {used} meetings of this council remotely for just cause in {year}; the cap is {cap} for a body holding {regular} regular meetings that year (Gov. Code 54953(f)(3), SB 707: 2 when it meets monthly or less, 5 twice a month, 7 three or more times a month)"
            ),
        });
    }
    Ok(())
}
