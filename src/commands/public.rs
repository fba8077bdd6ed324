//! What the public pages show: read-only views of councils, seats, meetings, agendas, written
//! comments and approved minutes, assembled from the same commands the JSON API calls.
//!
//! Every read here is made as an anonymous caller, whoever asks: a public page shows only what
//! anyone may see (published meetings, approved minutes, public names), so it may be cached and
//! shared.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{agenda, councils, meetings, minutes, participation, schools, seats, Context};
use crate::auth::policy::Principal;
use crate::db::{self, Db};
use crate::domain::agenda::{ItemKind, Translation};
use crate::domain::ids::CouncilId;
use crate::domain::meeting::MeetingStatus;
use crate::domain::Constituency;
use crate::error::ApiError;

/// How many rows one page of a list read fetches while a view gathers all of them.
const BATCH: i64 = 500;
/// Past meetings a council page lists (the most recent).
const PAST_SHOWN: usize = 20;

/// The order constituencies are listed in on a council page.
const CONSTITUENCIES: [Constituency; 7] = [
    Constituency::Families,
    Constituency::Students,
    Constituency::Teachers,
    Constituency::ClassifiedStaff,
    Constituency::Administrators,
    Constituency::CommunityOrganizations,
    Constituency::District,
];

/// A meeting as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingLine {
    pub id: String,
    pub title: String,
    /// `regular`, `special`, `emergency`.
    pub meeting_type: String,
    /// `noticed`, `in_session`, `recessed`, `adjourned`, `cancelled`.
    pub status: String,
    pub starts_at: DateTime<Utc>,
    /// RFC 3339 in the meeting's time zone (the `datetime` of `<time>`).
    pub starts_at_local: String,
    /// `2026-12-02 18:00 PST`: the start as people read it, in the meeting's time zone.
    pub when: String,
    pub time_zone: String,
    pub location: Option<String>,
}

/// A council as the district page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CouncilLine {
    pub id: String,
    pub name: String,
    /// `school_site_council`, `community_school_steering_committee`, `district_advisory`,
    /// `assembly`.
    pub kind: String,
    pub school: Option<String>,
    pub next_meeting: Option<MeetingLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DistrictView {
    pub councils: Vec<CouncilLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeatLine {
    pub title: String,
    pub voting: bool,
    /// The holder's public name; `None` for a vacant seat (or a name withheld, FERPA 99.37,
    /// which shows as `holder_withheld`).
    pub holder: Option<String>,
    pub vacant: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeatGroup {
    pub constituency: String,
    pub seats: Vec<SeatLine>,
    pub vacancies: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CouncilView {
    pub council: CouncilLine,
    pub description: Option<String>,
    pub seat_groups: Vec<SeatGroup>,
    pub vacancies: usize,
    pub upcoming: Vec<MeetingLine>,
    pub past: Vec<MeetingLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentLine {
    pub title: String,
    pub url: String,
    pub language: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentLine {
    pub author_name: Option<String>,
    /// `None` when hidden by staff (the reason is shown instead).
    pub body: Option<String>,
    pub hidden_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub id: String,
    pub number: usize,
    /// In the page's language when the item has that translation, else as written.
    pub title: String,
    /// The title as written, when `title` is a translation.
    pub original_title: Option<String>,
    /// The translated summary, or the description as written.
    pub description: Option<String>,
    pub translated: bool,
    pub kind: String,
    pub legal_basis: Option<String>,
    pub presenter: Option<String>,
    pub documents: Vec<DocumentLine>,
    pub added_late: bool,
    /// A written comment on it is taken now.
    pub accepting_comment: bool,
    pub comment_closed: bool,
    pub comments: Vec<CommentLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MinutesView {
    pub approved_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    pub notes: Option<String>,
    /// What the record says (attendance; items with motions and each member's vote), as
    /// `GET /api/v1/meetings/{meeting_id}/minutes` returns it.
    pub record: serde_json::Value,
    pub corrections: Vec<CorrectionLine>,
}

/// A correction recorded after approval.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectionLine {
    pub correction: String,
    pub reason: String,
    pub made_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    pub meeting: MeetingLine,
    pub council_id: String,
    pub council_name: String,
    pub remote_url: Option<String>,
    pub interpretation_languages: Vec<String>,
    pub cancel_reason: Option<String>,
    /// The meeting takes written comment now (on items whose period is not closed).
    pub taking_comment: bool,
    pub items: Vec<ItemView>,
    pub minutes: Option<MinutesView>,
}

/// The context every public read runs as: anonymous, with the request's facts for the log.
fn anonymous(ctx: &Context) -> Context {
    Context::new(
        Principal::anonymous(),
        ctx.facts.clone(),
        ctx.operation.clone(),
    )
}

fn meeting_line(m: &meetings::MeetingRecord) -> MeetingLine {
    let starts = m.row.starts_at.and_utc();
    let local = starts.with_timezone(&m.time_zone);
    MeetingLine {
        id: m.row.id.clone(),
        title: m.row.title.clone(),
        meeting_type: m.meeting_type.as_str().to_owned(),
        status: m.status.as_str().to_owned(),
        starts_at: starts,
        starts_at_local: local.to_rfc3339(),
        when: local.format("%Y-%m-%d %H:%M %Z").to_string(),
        time_zone: m.row.time_zone.clone(),
        location: m.row.location.clone(),
    }
}

/// Still to come: announced or under way, or cancelled but its date not yet past.
fn upcoming(m: &meetings::MeetingRecord, now: DateTime<Utc>) -> bool {
    match m.status {
        MeetingStatus::Noticed | MeetingStatus::InSession | MeetingStatus::Recessed => true,
        MeetingStatus::Cancelled => m.row.starts_at.and_utc() >= now,
        MeetingStatus::Draft | MeetingStatus::Adjourned => false,
    }
}

/// Every published meeting of a council, by start time.
fn published_meetings(
    public: &Context,
    db: &Db,
    council_id: &str,
) -> Result<Vec<meetings::MeetingRecord>, ApiError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = meetings::list(public, db, council_id, None, after.as_deref(), BATCH)?;
        let full = page.len() as i64 == BATCH;
        after = page.last().map(|m| m.row.id.clone());
        all.extend(page.into_iter().filter(|m| m.row.noticed_at.is_some()));
        if !full {
            break;
        }
    }
    all.sort_by_key(|m| m.row.starts_at);
    Ok(all)
}

fn school_names(db: &Db) -> Result<BTreeMap<String, String>, ApiError> {
    let mut names = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = schools::list(db, &Default::default(), after.as_deref(), BATCH)?;
        let full = page.len() as i64 == BATCH;
        after = page.last().map(|s| s.row.id.clone());
        names.extend(page.into_iter().map(|s| (s.row.id, s.row.name)));
        if !full {
            break;
        }
    }
    Ok(names)
}

fn council_line(
    public: &Context,
    db: &Db,
    council: &councils::CouncilRecord,
    schools: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Result<(CouncilLine, Vec<meetings::MeetingRecord>), ApiError> {
    let all = published_meetings(public, db, &council.row.id)?;
    let line = CouncilLine {
        id: council.row.id.clone(),
        name: council.row.name.clone(),
        kind: council.kind.as_str().to_owned(),
        school: council
            .row
            .school_id
            .as_ref()
            .and_then(|s| schools.get(s).cloned()),
        next_meeting: all
            .iter()
            .find(|m| upcoming(m, now) && m.status != MeetingStatus::Cancelled)
            .map(meeting_line),
    };
    Ok((line, all))
}

/// The district page: every council that is not archived, by name, with its next meeting.
pub fn district(ctx: &Context, db: &Db, now: DateTime<Utc>) -> Result<DistrictView, ApiError> {
    let public = anonymous(ctx);
    let schools = school_names(db)?;
    let mut list = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = councils::list(db, &Default::default(), after.as_deref(), BATCH)?;
        let full = page.len() as i64 == BATCH;
        after = page.last().map(|c| c.row.id.clone());
        list.extend(page);
        if !full {
            break;
        }
    }
    let mut lines = Vec::new();
    for council in &list {
        lines.push(council_line(&public, db, council, &schools, now)?.0);
    }
    lines.sort_by(|a, b| (&a.school, &a.name).cmp(&(&b.school, &b.name)));
    Ok(DistrictView { councils: lines })
}

/// A council's page: its seats by constituency (vacancies shown), upcoming meetings, and the
/// most recent past ones. `None` when there is no such council (an id that is not a UUID
/// included).
pub fn council(
    ctx: &Context,
    db: &Db,
    id: &str,
    now: DateTime<Utc>,
) -> Result<CouncilView, ApiError> {
    let public = anonymous(ctx);
    let council_id = uuid::Uuid::parse_str(id)
        .map(CouncilId::from)
        .map_err(|_| ApiError::not_found("council", id))?;
    let council = councils::find(db, council_id)?;
    let schools = school_names(db)?;
    let (line, all) = council_line(&public, db, &council, &schools, now)?;
    let mut seat_rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = seats::list(db, council_id, &Default::default(), after.as_deref(), BATCH)?;
        let full = page.len() as i64 == BATCH;
        after = page.last().map(|s| s.seat.id.clone());
        seat_rows.extend(page);
        if !full {
            break;
        }
    }
    let mut seat_groups = Vec::new();
    for constituency in CONSTITUENCIES {
        let mut seats: Vec<SeatLine> = seat_rows
            .iter()
            .filter(|s| s.constituency == constituency)
            .map(|s| SeatLine {
                title: s.seat.title.clone(),
                voting: s.seat.voting,
                vacant: s.seat.holder_id.is_none(),
                holder: s.holder_name.clone(),
            })
            .collect();
        if seats.is_empty() {
            continue;
        }
        seats.sort_by(|a, b| a.title.cmp(&b.title));
        seat_groups.push(SeatGroup {
            constituency: constituency.as_str().to_owned(),
            vacancies: seats.iter().filter(|s| s.vacant).count(),
            seats,
        });
    }
    let mut past: Vec<MeetingLine> = all
        .iter()
        .rev()
        .filter(|m| !upcoming(m, now))
        .take(PAST_SHOWN)
        .map(meeting_line)
        .collect();
    past.truncate(PAST_SHOWN);
    Ok(CouncilView {
        description: council.row.description.clone(),
        vacancies: seat_groups.iter().map(|g| g.vacancies).sum(),
        seat_groups,
        upcoming: all
            .iter()
            .filter(|m| upcoming(m, now))
            .map(meeting_line)
            .collect(),
        past,
        council: line,
    })
}

/// The translation of an item in `lang` (a BCP 47 tag; `es` also finds `es-MX`).
fn translation<'a>(
    translations: &'a BTreeMap<String, Translation>,
    lang: &str,
) -> Option<&'a Translation> {
    translations.get(lang).or_else(|| {
        translations.iter().find_map(|(tag, t)| {
            let primary = tag.split('-').next().unwrap_or(tag);
            primary.eq_ignore_ascii_case(lang).then_some(t)
        })
    })
}

/// A meeting's page: when and where, the agenda (titles in `lang` where translated, documents,
/// written comments and whether comment is taken), and the approved minutes with each member's
/// vote. 404 for a meeting never published, as in the JSON API.
pub fn meeting(ctx: &Context, db: &Db, id: &str, lang: &str) -> Result<MeetingView, ApiError> {
    let public = anonymous(ctx);
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::not_found("meeting", id));
    }
    let record = meetings::find(&public, db, id)?;
    let council = councils::find(
        db,
        CouncilId::from(db::stored_uuid("council id", &record.row.council_id)?),
    )?;
    let taking = participation::taking_comment(&record.row);
    let mut items = Vec::new();
    for (n, item) in agenda::agenda(&public, db, id)?.into_iter().enumerate() {
        let comments = participation::comments(&public, db, &item.row.id, None, BATCH)?
            .into_iter()
            .map(|c| {
                let hidden = c.row.hidden_at.is_some();
                CommentLine {
                    author_name: if hidden { None } else { c.row.author_name },
                    body: if hidden { None } else { Some(c.row.body) },
                    hidden_reason: c.row.hidden_reason,
                    created_at: c.row.created_at.and_utc(),
                }
            })
            .collect();
        let translated = translation(&item.translations, lang);
        let closed = item.row.comment_closed_at.is_some();
        items.push(ItemView {
            id: item.row.id.clone(),
            number: n + 1,
            title: translated
                .map(|t| t.title.clone())
                .unwrap_or_else(|| item.row.title.clone()),
            original_title: translated.map(|_| item.row.title.clone()),
            description: translated
                .and_then(|t| t.summary.clone())
                .or_else(|| item.row.description.clone()),
            translated: translated.is_some(),
            kind: item.kind.as_str().to_owned(),
            legal_basis: item.row.legal_basis.clone(),
            presenter: item.row.presenter.clone(),
            documents: item
                .documents
                .iter()
                .map(|d| DocumentLine {
                    title: d.title.clone(),
                    url: d.url.clone(),
                    language: d.language.clone(),
                })
                .collect(),
            added_late: item.row.added_late,
            accepting_comment: taking && !closed && item.kind != ItemKind::ClosedSession,
            comment_closed: closed,
            comments,
        });
    }
    let minutes = match minutes::of_meeting(&public, db, id) {
        Ok(m) if m.row.status == "approved" => Some(MinutesView {
            approved_at: m.row.approved_at.map(|t| t.and_utc()),
            summary: m.row.summary.clone(),
            notes: m.row.notes.clone(),
            record: serde_json::from_str(&m.row.record)
                .map_err(|e| ApiError::Internal(format!("stored minutes unreadable: {e}")))?,
            corrections: m
                .corrections
                .iter()
                .map(|c| CorrectionLine {
                    correction: c.correction.clone(),
                    reason: c.reason.clone(),
                    made_at: c.created_at.and_utc(),
                })
                .collect(),
        }),
        Ok(_) | Err(ApiError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(MeetingView {
        meeting: meeting_line(&record),
        council_id: council.row.id.clone(),
        council_name: council.row.name.clone(),
        remote_url: record.row.remote_url.clone(),
        interpretation_languages: record.interpretation_languages.clone(),
        cancel_reason: record.row.cancel_reason.clone(),
        taking_comment: taking,
        items,
        minutes,
    })
}

/// The page of the meeting an agenda item is on (the comment form shown again with its errors).
pub fn meeting_of_item(
    ctx: &Context,
    db: &Db,
    item_id: &str,
    lang: &str,
) -> Result<MeetingView, ApiError> {
    let item = agenda::find(&anonymous(ctx), db, item_id)?;
    let meeting_id = item
        .row
        .meeting_id
        .ok_or_else(|| ApiError::not_found("agenda item", item_id))?;
    meeting(ctx, db, &meeting_id, lang)
}
