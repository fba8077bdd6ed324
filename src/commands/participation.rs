//! Public participation in meetings: written public comment (anyone, no sign-in, no name
//! needed), in-person speakers recorded by staff with the time they are given, and staff hiding
//! an abusive comment with a reason (kept, never deleted). DOMAIN rules 7 and 8.

use std::net::IpAddr;

use super::{new_id, require, Context, Expected};
use crate::auth::policy::{self, Principal};
use crate::auth::throttle::{address_key, CommentLimits};
use crate::db::agenda::AgendaItem;
use crate::db::meetings::Meeting;
use crate::db::participation::{self as store, CommentCount, PublicComment, PublicSpeaker};
use crate::db::{self, AnyConnection, Db};
use crate::domain::meeting::MeetingStatus;
use crate::domain::participation::{comment_accepted, speaker_seconds, Interpretation};
use crate::error::ApiError;

/// A written comment as the public sends it; every field but the body is voluntary.
pub struct NewComment {
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub body: String,
}

/// A speaker staff call to the lectern; the name is voluntary.
pub struct NewSpeaker {
    pub name: Option<String>,
    pub interpretation: Interpretation,
}

/// A comment, with whether the caller may see what staff see (hidden text, email).
#[derive(Debug, Clone)]
pub struct CommentView {
    pub row: PublicComment,
    pub staff: bool,
}

/// An item on a meeting's agenda the caller may read, with its meeting.
fn item_on_meeting(
    conn: &mut AnyConnection,
    caller: &Principal,
    item_id: &str,
) -> Result<(AgendaItem, Meeting), ApiError> {
    let item = db::agenda::find(conn, item_id)?
        .ok_or_else(|| ApiError::not_found("agenda item", item_id))?;
    // A proposal is not on a public agenda: for comment, it does not exist.
    let Some(meeting_id) = item.meeting_id.clone() else {
        return Err(ApiError::not_found("agenda item", item_id));
    };
    let meeting = db::meetings::find(conn, &meeting_id)?
        .ok_or_else(|| ApiError::not_found("agenda item", item_id))?;
    require(
        policy::read_meeting(caller, &meeting.council_id, meeting.noticed_at.is_some()),
        "agenda item",
        item_id,
    )?;
    Ok((item, meeting))
}

pub(super) fn taking_comment(meeting: &Meeting) -> bool {
    [
        MeetingStatus::Noticed,
        MeetingStatus::InSession,
        MeetingStatus::Recessed,
    ]
    .iter()
    .any(|s| s.as_str() == meeting.status)
}

/// Submits a written comment on an item of a published meeting, until the item's comment
/// period closes or the meeting ends. Anyone may comment, signed in or not; each client address
/// may send `limits.max_per_address` comments per window (429 with the seconds to wait).
pub async fn submit_comment(
    ctx: &Context,
    db: &Db,
    limits: &CommentLimits,
    item_id: String,
    input: NewComment,
) -> Result<CommentView, ApiError> {
    let caller = ctx.caller.clone();
    let ip = ctx
        .facts
        .client_address
        .as_deref()
        .and_then(|a| a.parse::<IpAddr>().ok());
    let subject = address_key(ip);
    let limits = limits.clone();
    let staff_view = caller.clone();
    let row = ctx
        .write_with_id(
            db,
            "create",
            201,
            |c: &PublicComment| c.id.clone(),
            move |conn| {
                let (item, meeting) = item_on_meeting(conn, &caller, &item_id)?;
                if !comment_accepted(taking_comment(&meeting), item.comment_closed_at.is_some()) {
                    return Err(ApiError::Conflict {
                        code: "comment-closed",
                        detail: if item.comment_closed_at.is_some() {
                            "public comment on this item is closed".to_owned()
                        } else {
                            format!(
                                "the meeting is {}: written comment is taken from its notice until it ends",
                                meeting.status
                            )
                        },
                    });
                }
                let now = db::now();
                let window_start = limits.window_start(now);
                if rand::random::<u8>() < 4 {
                    store::throttle::forget_before(conn, window_start)?;
                }
                if !store::throttle::reserve(conn, &subject, window_start, limits.max_per_address)?
                {
                    return Err(ApiError::TooManyRequests(
                        limits.seconds_left(window_start, now),
                    ));
                }
                let row = PublicComment {
                    id: new_id(),
                    meeting_id: meeting.id,
                    item_id: item.id,
                    author_name: input.author_name,
                    author_email: input.author_email,
                    body: input.body,
                    hidden_at: None,
                    hidden_reason: None,
                    hidden_by: None,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                };
                store::insert(conn, &row)?;
                Ok(row)
            },
        )
        .await?;
    let staff = db.read(|conn| {
        let meeting = db::meetings::find(conn, &row.meeting_id)?;
        Ok::<_, ApiError>(meeting.is_some_and(|m| staff_view.staffs(&m.council_id)))
    })?;
    Ok(CommentView { row, staff })
}

/// An item's written comments, public to whoever may read the meeting. Hidden comments show to
/// the public as hidden, with the reason; staff of the council see their text too.
pub fn comments(
    ctx: &Context,
    db: &Db,
    item_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<CommentView>, ApiError> {
    db.read(|conn| {
        let (_, meeting) = item_on_meeting(conn, &ctx.caller, item_id)?;
        let staff = ctx.caller.staffs(&meeting.council_id);
        Ok(store::of_item(conn, item_id, after, fetch)?
            .into_iter()
            .map(|row| CommentView { row, staff })
            .collect())
    })
}

/// Hides an abusive comment with a reason. The comment is kept: the public sees that it was
/// hidden and why, staff still see its text.
pub async fn hide_comment(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    reason: String,
) -> Result<CommentView, ApiError> {
    let caller = ctx.caller.clone();
    let row = ctx
        .write(db, "update", Some(id.clone()), 200, move |conn| {
            let mut row = store::find(conn, &id)?
                .ok_or_else(|| ApiError::not_found("public comment", &id))?;
            let meeting = db::meetings::find(conn, &row.meeting_id)?
                .ok_or_else(|| ApiError::not_found("public comment", &id))?;
            require(
                policy::read_meeting(&caller, &meeting.council_id, meeting.noticed_at.is_some()),
                "public comment",
                &id,
            )?;
            require(
                policy::manage_council(&caller, &meeting.council_id),
                "public comment",
                &id,
            )?;
            expected.check(row.version)?;
            if row.hidden_at.is_some() {
                return Err(ApiError::Conflict {
                    code: "comment-already-hidden",
                    detail: "the comment is already hidden".to_owned(),
                });
            }
            let now = db::now();
            row.hidden_at = Some(now);
            row.hidden_reason = Some(reason);
            row.hidden_by = caller.actor_key();
            row.updated_at = now;
            row.version += 1;
            store::update(conn, &row)?;
            Ok(row)
        })
        .await?;
    Ok(CommentView { row, staff: true })
}

/// Records a member of the public called to speak on an item of a meeting in session, with the
/// time the council's limit gives them (doubled with a consecutive interpreter, rule 7).
pub async fn record_speaker(
    ctx: &Context,
    db: &Db,
    item_id: String,
    input: NewSpeaker,
) -> Result<PublicSpeaker, ApiError> {
    let caller = ctx.caller.clone();
    ctx.write_with_id(
        db,
        "create",
        201,
        |s: &PublicSpeaker| s.id.clone(),
        move |conn| {
            let (item, meeting) = item_on_meeting(conn, &caller, &item_id)?;
            require(
                policy::manage_council(&caller, &meeting.council_id),
                "agenda item",
                &item_id,
            )?;
            if meeting.status != MeetingStatus::InSession.as_str() {
                return Err(ApiError::Conflict {
                    code: "meeting-not-in-session",
                    detail: format!(
                        "the meeting is {}: speakers are heard while it is in session",
                        meeting.status
                    ),
                });
            }
            let council = db::councils::find(conn, &meeting.council_id)?
                .ok_or_else(|| ApiError::not_found("council", &meeting.council_id))?;
            let now = db::now();
            let row = PublicSpeaker {
                id: new_id(),
                meeting_id: meeting.id,
                item_id: item.id,
                name: input.name,
                interpretation: input.interpretation.as_str().to_owned(),
                seconds_allowed: speaker_seconds(council.speaker_seconds, input.interpretation),
                recorded_by: caller.actor_key(),
                created_at: now,
                updated_at: now,
                version: 1,
            };
            store::speakers::insert(conn, &row)?;
            Ok(row)
        },
    )
    .await
}

/// The speakers heard on an item, public to whoever may read the meeting.
pub fn speakers(ctx: &Context, db: &Db, item_id: &str) -> Result<Vec<PublicSpeaker>, ApiError> {
    db.read(|conn| {
        item_on_meeting(conn, &ctx.caller, item_id)?;
        Ok(store::speakers::of_item(conn, item_id)?)
    })
}

/// Per item of a meeting: written comments (and how many of them are hidden) and speakers; for
/// the minutes. Items without any are left out.
pub fn comment_counts(
    ctx: &Context,
    db: &Db,
    meeting_id: &str,
) -> Result<Vec<CommentCount>, ApiError> {
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
        Ok(store::counts(conn, meeting_id)?)
    })
}

/// Who sets a council's agenda: per constituency of the seat an item was proposed from (staff
/// items have none), items proposed, accepted onto a meeting, and decided by a closed vote, for
/// items created in `[from, to)`. Counts of public acts: anyone may read them.
pub fn agenda_sources(
    _ctx: &Context,
    db: &Db,
    council_id: &str,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> Result<Vec<crate::domain::participation::SourceCount>, ApiError> {
    let items = db.read(|conn| {
        db::councils::find(conn, council_id)?
            .ok_or_else(|| ApiError::not_found("council", council_id))?;
        Ok::<_, ApiError>(store::item_sources(conn, council_id, from, to)?)
    })?;
    Ok(crate::domain::participation::agenda_sources(
        items
            .into_iter()
            .map(|i| (i.constituency, i.accepted, i.voted_on)),
    ))
}
