//! Agenda items: seat holders propose, staff accept onto a meeting or decline with a reason;
//! staff add and order items on a draft agenda; after the notice is published the agenda
//! changes only by a recorded amendment, and an item added after the notice deadline is marked
//! `added_late`.

use std::collections::BTreeMap;

use super::councils::{find_council, not_archived};
use super::meetings::{find as find_meeting_record, MeetingRecord};
use super::{new_id, require, Context, Expected};
use crate::auth::policy::{self, Principal};
use crate::db::agenda::{AgendaItem, Amendment, ItemFilter};
use crate::db::dialect::{lock_row, LockTable};
use crate::db::meetings::Meeting;
use crate::db::{self, AnyConnection, Db};
use crate::domain::agenda::{
    added_late, rank, CommentPeriod, Document, ItemKind, ItemStatus, Translation,
};
use crate::domain::meeting::MeetingStatus;
use crate::domain::record::EntryKind;
use crate::error::ApiError;

pub struct NewItem {
    pub kind: ItemKind,
    pub legal_basis: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub presenter: Option<String>,
    pub proposed_by_seat_id: Option<String>,
    pub minutes_allotted: Option<i64>,
    pub documents: Vec<Document>,
    pub translations: BTreeMap<String, Translation>,
}

/// An item as stored, with its enums and lists parsed.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub row: AgendaItem,
    pub kind: ItemKind,
    pub status: ItemStatus,
    pub documents: Vec<Document>,
    pub translations: BTreeMap<String, Translation>,
}

impl TryFrom<AgendaItem> for ItemRecord {
    type Error = ApiError;

    fn try_from(row: AgendaItem) -> Result<Self, ApiError> {
        let corrupt = |what: &str, e: String| {
            ApiError::Internal(format!("stored agenda item {what} unreadable: {e}"))
        };
        Ok(ItemRecord {
            kind: ItemKind::parse(&row.kind).ok_or_else(|| corrupt("kind", row.kind.clone()))?,
            status: ItemStatus::parse(&row.status)
                .ok_or_else(|| corrupt("status", row.status.clone()))?,
            documents: serde_json::from_str(&row.documents)
                .map_err(|e| corrupt("documents", e.to_string()))?,
            translations: serde_json::from_str(&row.translations)
                .map_err(|e| corrupt("translations", e.to_string()))?,
            row,
        })
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))
}

fn find_item(conn: &mut AnyConnection, id: &str) -> Result<AgendaItem, ApiError> {
    db::agenda::find(conn, id)?.ok_or_else(|| ApiError::not_found("agenda item", id))
}

fn load_meeting(conn: &mut AnyConnection, id: &str) -> Result<Meeting, ApiError> {
    db::meetings::find(conn, id)?.ok_or_else(|| ApiError::not_found("meeting", id))
}

/// The item with this id, if the caller may know it exists.
fn visible_item(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
) -> Result<AgendaItem, ApiError> {
    let item = find_item(conn, id)?;
    let published = match &item.meeting_id {
        Some(m) => Some(load_meeting(conn, m)?.noticed_at.is_some()),
        None => None,
    };
    require(
        policy::read_agenda_item(
            caller,
            &item.council_id,
            published,
            item.proposed_by.as_deref(),
        ),
        "agenda item",
        id,
    )?;
    Ok(item)
}

/// A meeting whose agenda the caller changes: visible (404), run by the caller (403), at the
/// expected version (412) when one is given.
fn meeting_for_agenda(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
    expected: Option<&Expected>,
) -> Result<Meeting, ApiError> {
    lock_row(conn, LockTable::Meetings, id)?;
    let meeting = load_meeting(conn, id)?;
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
    if let Some(expected) = expected {
        expected.check(meeting.version)?;
    }
    not_archived(&find_council(conn, &meeting.council_id)?)?;
    Ok(meeting)
}

fn draft_only(meeting: &Meeting) -> Result<(), ApiError> {
    if meeting.status == MeetingStatus::Draft.as_str() {
        return Ok(());
    }
    Err(ApiError::Conflict {
        code: "meeting-not-draft",
        detail: format!(
            "the meeting is {}: its agenda changes only by a recorded amendment (POST /api/v1/meetings/{}/amendments)",
            meeting.status, meeting.id
        ),
    })
}

fn check_item(item: &NewItem) -> Result<(), ApiError> {
    if item.kind == ItemKind::ClosedSession && item.legal_basis.is_none() {
        return Err(ApiError::validation(
            "legal_basis",
            "a closed-session item must name its legal basis (e.g. Gov. Code 54957)",
        ));
    }
    Ok(())
}

/// The seat a proposal is made from must be on the council and, unless staff propose, held by
/// the caller.
fn check_seat(
    conn: &mut AnyConnection,
    caller: &Principal,
    council_id: &str,
    seat_id: &Option<String>,
) -> Result<(), ApiError> {
    let Some(seat_id) = seat_id else {
        return Ok(());
    };
    let seat = db::seats::find(conn, seat_id)?;
    let ok = seat.is_some_and(|s| {
        s.council_id == council_id
            && (caller.staffs(council_id) || s.holder_id.as_deref() == caller.person_id())
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "proposed_by_seat_id",
            "must be a seat on this council that you hold",
        ))
    }
}

fn new_row(
    caller: &Principal,
    council_id: &str,
    input: NewItem,
    meeting: Option<(&str, String)>,
) -> Result<AgendaItem, ApiError> {
    let now = db::now();
    let (meeting_id, position, status) = match meeting {
        Some((m, p)) => (Some(m.to_owned()), Some(p), ItemStatus::Accepted),
        None => (None, None, ItemStatus::Proposed),
    };
    Ok(AgendaItem {
        id: new_id(),
        council_id: council_id.to_owned(),
        meeting_id,
        status: status.as_str().to_owned(),
        position,
        kind: input.kind.as_str().to_owned(),
        legal_basis: input.legal_basis,
        title: input.title,
        description: input.description,
        presenter: input.presenter,
        proposed_by_seat_id: input.proposed_by_seat_id,
        proposed_by: caller.actor_key(),
        minutes_allotted: input.minutes_allotted,
        documents: json(&input.documents)?,
        translations: json(&input.translations)?,
        decline_reason: None,
        added_late: false,
        amendment_id: None,
        comment_opened_at: None,
        comment_closed_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    })
}

/// The rank after the last item of a meeting's agenda.
fn next_position(conn: &mut AnyConnection, meeting_id: &str) -> Result<String, ApiError> {
    let items = db::agenda::of_meeting(conn, meeting_id)?;
    Ok(rank::between(
        items.last().and_then(|i| i.position.as_deref()),
        None,
    ))
}

/// Staff add an item to a draft meeting's agenda, at its end.
pub async fn add_to_meeting(
    ctx: &Context,
    db: &Db,
    meeting_id: String,
    input: NewItem,
) -> Result<ItemRecord, ApiError> {
    check_item(&input)?;
    let caller = ctx.caller.clone();
    ctx.write_with_id(
        db,
        "create",
        201,
        |r: &ItemRecord| r.row.id.clone(),
        move |conn| {
            let meeting = meeting_for_agenda(conn, &caller, &meeting_id, None)?;
            draft_only(&meeting)?;
            check_seat(
                conn,
                &caller,
                &meeting.council_id,
                &input.proposed_by_seat_id,
            )?;
            let position = next_position(conn, &meeting_id)?;
            let row = new_row(
                &caller,
                &meeting.council_id,
                input,
                Some((&meeting_id, position)),
            )?;
            db::agenda::insert(conn, &row)?;
            ItemRecord::try_from(row)
        },
    )
    .await
}

/// A seat holder (or staff) proposes an item to a council; staff later accept it onto a
/// meeting or decline it.
pub async fn propose(
    ctx: &Context,
    db: &Db,
    council_id: String,
    input: NewItem,
) -> Result<ItemRecord, ApiError> {
    check_item(&input)?;
    let caller = ctx.caller.clone();
    ctx.write_with_id(
        db,
        "create",
        201,
        |r: &ItemRecord| r.row.id.clone(),
        move |conn| {
            let council = find_council(conn, &council_id)?;
            require(
                policy::propose_item(&caller, &council_id),
                "council",
                &council_id,
            )?;
            not_archived(&council)?;
            check_seat(conn, &caller, &council_id, &input.proposed_by_seat_id)?;
            let row = new_row(&caller, &council_id, input, None)?;
            db::agenda::insert(conn, &row)?;
            ItemRecord::try_from(row)
        },
    )
    .await
}

/// An item a staff decision is about: visible (404), the caller runs its council (403), at the
/// expected version (412), still a proposal (409).
fn proposal_for_decision(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
    expected: &Expected,
) -> Result<AgendaItem, ApiError> {
    let item = visible_item(conn, caller, id)?;
    require(
        policy::manage_council(caller, &item.council_id),
        "agenda item",
        id,
    )?;
    expected.check(item.version)?;
    if item.status != ItemStatus::Proposed.as_str() {
        return Err(ApiError::Conflict {
            code: "item-not-proposed",
            detail: format!(
                "the item is {}; only a proposed item can be accepted or declined",
                item.status
            ),
        });
    }
    Ok(item)
}

/// Staff accept a proposal onto a draft meeting of the same council, at the end of its agenda.
pub async fn accept(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    meeting_id: String,
) -> Result<ItemRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut item = proposal_for_decision(conn, &caller, &id, &expected)?;
        let meeting = match meeting_for_agenda(conn, &caller, &meeting_id, None) {
            Err(ApiError::NotFound(_)) => None,
            other => Some(other?),
        };
        let Some(meeting) = meeting.filter(|m| m.council_id == item.council_id) else {
            return Err(ApiError::validation(
                "meeting_id",
                "no meeting of this item's council with this id",
            ));
        };
        draft_only(&meeting)?;
        item.position = Some(next_position(conn, &meeting_id)?);
        item.meeting_id = Some(meeting_id);
        item.status = ItemStatus::Accepted.as_str().to_owned();
        item.version += 1;
        item.updated_at = db::now();
        db::agenda::update(conn, &item)?;
        ItemRecord::try_from(item)
    })
    .await
}

/// Staff decline a proposal with a reason the proposer sees.
pub async fn decline(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    reason: String,
) -> Result<ItemRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut item = proposal_for_decision(conn, &caller, &id, &expected)?;
        item.status = ItemStatus::Declined.as_str().to_owned();
        item.decline_reason = Some(reason);
        item.version += 1;
        item.updated_at = db::now();
        db::agenda::update(conn, &item)?;
        ItemRecord::try_from(item)
    })
    .await
}

/// Moves an item of a draft agenda right after `after_item_id` (or to the top when `None`).
/// Only the moved item changes: it takes a rank between its new neighbours.
pub async fn move_item(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    after_item_id: Option<String>,
) -> Result<ItemRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let item = visible_item(conn, &caller, &id)?;
        let Some(meeting_id) = item.meeting_id.clone() else {
            return Err(ApiError::Conflict {
                code: "item-not-on-agenda",
                detail: "the item is not on a meeting's agenda".to_owned(),
            });
        };
        let meeting = meeting_for_agenda(conn, &caller, &meeting_id, None)?;
        // Read again under the meeting's lock: another move may have just changed it.
        let mut item = find_item(conn, &id)?;
        expected.check(item.version)?;
        draft_only(&meeting)?;
        let others: Vec<AgendaItem> = db::agenda::of_meeting(conn, &meeting_id)?
            .into_iter()
            .filter(|i| i.id != id)
            .collect();
        let index = match &after_item_id {
            None => 0,
            Some(after) => {
                others.iter().position(|i| &i.id == after).ok_or_else(|| {
                    ApiError::validation(
                        "after_item_id",
                        "no other item on this meeting's agenda with this id",
                    )
                })? + 1
            }
        };
        let before = index
            .checked_sub(1)
            .and_then(|i| others.get(i))
            .and_then(|i| i.position.as_deref());
        let after = others.get(index).and_then(|i| i.position.as_deref());
        item.position = Some(rank::between(before, after));
        item.version += 1;
        item.updated_at = db::now();
        db::agenda::update(conn, &item)?;
        ItemRecord::try_from(item)
    })
    .await
}

/// Adds an item to a published agenda by a recorded amendment (with its reason). After the
/// notice deadline the item is marked `added_late`: the posted notice did not carry it.
pub async fn amend(
    ctx: &Context,
    db: &Db,
    meeting_id: String,
    expected: Expected,
    reason: String,
    input: NewItem,
) -> Result<(Amendment, ItemRecord), ApiError> {
    check_item(&input)?;
    let record: MeetingRecord = find_meeting_record(ctx, db, &meeting_id)?;
    let deadline = record.notice_deadline;
    let caller = ctx.caller.clone();
    ctx.write(db, "create", Some(meeting_id.clone()), 201, move |conn| {
        let mut meeting = meeting_for_agenda(conn, &caller, &meeting_id, Some(&expected))?;
        let status = MeetingStatus::parse(&meeting.status)
            .ok_or_else(|| ApiError::Internal("stored meeting status unknown".to_owned()))?;
        if !matches!(
            status,
            MeetingStatus::Noticed | MeetingStatus::InSession | MeetingStatus::Recessed
        ) {
            return Err(ApiError::Conflict {
                code: "meeting-not-published",
                detail: format!(
                    "the meeting is {status}: a draft's agenda is changed directly, and an adjourned or cancelled meeting's not at all"
                ),
            });
        }
        check_seat(conn, &caller, &meeting.council_id, &input.proposed_by_seat_id)?;
        let now = db::now();
        let late = added_late(deadline, now.and_utc());
        let amendment = Amendment {
            id: new_id(),
            meeting_id: meeting_id.clone(),
            reason,
            within_notice_window: late,
            actor: caller.actor_key(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        db::agenda::amendments::insert(conn, &amendment)?;
        let position = next_position(conn, &meeting_id)?;
        let mut row = new_row(
            &caller,
            &meeting.council_id,
            input,
            Some((&meeting_id, position)),
        )?;
        row.added_late = late;
        row.amendment_id = Some(amendment.id.clone());
        db::agenda::insert(conn, &row)?;
        // The agenda is part of the meeting: its ETag moves with it.
        meeting.version += 1;
        meeting.updated_at = now;
        db::meetings::update(conn, &meeting)?;
        super::record::append(conn, EntryKind::AgendaAmended, &amendment.id)?;
        Ok((amendment, ItemRecord::try_from(row)?))
    })
    .await
}

pub fn find(ctx: &Context, db: &Db, id: &str) -> Result<ItemRecord, ApiError> {
    db.read(|conn| visible_item(conn, &ctx.caller, id))?
        .try_into()
}

/// A meeting's agenda, in order.
pub fn agenda(ctx: &Context, db: &Db, meeting_id: &str) -> Result<Vec<ItemRecord>, ApiError> {
    let rows = db.read(|conn| {
        let meeting = load_meeting(conn, meeting_id)?;
        require(
            policy::read_meeting(
                &ctx.caller,
                &meeting.council_id,
                meeting.noticed_at.is_some(),
            ),
            "meeting",
            meeting_id,
        )?;
        Ok::<_, ApiError>(db::agenda::of_meeting(conn, meeting_id)?)
    })?;
    rows.into_iter().map(ItemRecord::try_from).collect()
}

/// A council's items and proposals: all of them for its staff, one's own for anyone else
/// signed in.
pub fn of_council(
    ctx: &Context,
    db: &Db,
    council_id: &str,
    status: Option<ItemStatus>,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<ItemRecord>, ApiError> {
    if !ctx.caller.is_authenticated() {
        require(policy::Decision::SignIn, "council", council_id)?;
    }
    let filter = ItemFilter {
        status: status.map(|s| s.as_str().to_owned()),
        proposed_by: (policy::manage_council(&ctx.caller, council_id) != policy::Decision::Allow)
            .then(|| ctx.caller.actor_key().unwrap_or_default()),
    };
    let rows = db.read(|conn| {
        find_council(conn, council_id)?;
        Ok::<_, ApiError>(db::agenda::of_council(
            conn, council_id, &filter, after, fetch,
        )?)
    })?;
    rows.into_iter().map(ItemRecord::try_from).collect()
}

pub fn amendments(ctx: &Context, db: &Db, meeting_id: &str) -> Result<Vec<Amendment>, ApiError> {
    db.read(|conn| {
        let meeting = load_meeting(conn, meeting_id)?;
        require(
            policy::read_meeting(
                &ctx.caller,
                &meeting.council_id,
                meeting.noticed_at.is_some(),
            ),
            "meeting",
            meeting_id,
        )?;
        Ok(db::agenda::amendments::of_meeting(conn, meeting_id)?)
    })
}

/// Opens (`open = true`) or closes the public comment period on an item of a meeting in
/// session. A period opens once and closes once; a motion on the item needs both (rule 6).
pub async fn comment_period(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    open: bool,
) -> Result<ItemRecord, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let item = visible_item(conn, &caller, &id)?;
        let Some(meeting_id) = item.meeting_id.clone() else {
            return Err(ApiError::Conflict {
                code: "item-not-on-agenda",
                detail: "the item is not on a meeting's agenda".to_owned(),
            });
        };
        let meeting = meeting_for_agenda(conn, &caller, &meeting_id, None)?;
        if meeting.status != MeetingStatus::InSession.as_str() {
            return Err(ApiError::Conflict {
                code: "meeting-not-in-session",
                detail: format!(
                    "the meeting is {}: public comment is taken while it is in session",
                    meeting.status
                ),
            });
        }
        let mut item = find_item(conn, &id)?;
        expected.check(item.version)?;
        let period = CommentPeriod::of(
            item.comment_opened_at.is_some(),
            item.comment_closed_at.is_some(),
        );
        let now = db::now();
        match (open, period) {
            (true, CommentPeriod::NotOpened) => item.comment_opened_at = Some(now),
            (false, CommentPeriod::Open) => item.comment_closed_at = Some(now),
            (true, _) => {
                return Err(ApiError::Conflict {
                    code: "comment-already-opened",
                    detail: "public comment on this item was already opened".to_owned(),
                })
            }
            (false, CommentPeriod::NotOpened) => {
                return Err(ApiError::Conflict {
                    code: "comment-not-open",
                    detail: "public comment on this item has not been opened".to_owned(),
                })
            }
            (false, CommentPeriod::Closed) => {
                return Err(ApiError::Conflict {
                    code: "comment-already-closed",
                    detail: "public comment on this item was already closed".to_owned(),
                })
            }
        }
        item.version += 1;
        item.updated_at = now;
        db::agenda::update(conn, &item)?;
        ItemRecord::try_from(item)
    })
    .await
}
