//! The council record: `/api/v1/councils/{council_id}/record` (the hash chain of the council's
//! public acts) and `/api/v1/councils/{council_id}/record/verification` (the server's own check
//! of it). docs/VERIFY.md shows how anyone checks a copy.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::paging::{DEFAULT_LIMIT, MAX_LIMIT};
use super::preconditions::CACHE_REVALIDATE;
use crate::auth::Caller;
use crate::commands::record::{self, EntryRecord, Verification};
use crate::domain::record::EntryKind;
use crate::error::ApiError;
use crate::state::AppState;

const COUNCIL: &str = "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11";

/// The kind of act an entry records.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    MeetingPublished,
    MeetingCancelled,
    AgendaAmended,
    MotionClosed,
    AssemblyMotionClosed,
    MinutesApproved,
    MinutesCorrected,
}

impl From<EntryKind> for RecordKind {
    fn from(k: EntryKind) -> Self {
        match k {
            EntryKind::MeetingPublished => RecordKind::MeetingPublished,
            EntryKind::MeetingCancelled => RecordKind::MeetingCancelled,
            EntryKind::AgendaAmended => RecordKind::AgendaAmended,
            EntryKind::MotionClosed => RecordKind::MotionClosed,
            EntryKind::AssemblyMotionClosed => RecordKind::AssemblyMotionClosed,
            EntryKind::MinutesApproved => RecordKind::MinutesApproved,
            EntryKind::MinutesCorrected => RecordKind::MinutesCorrected,
        }
    }
}

/// What an entry is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordSubject {
    /// The meeting, amendment, motion, assembly motion, minutes or correction.
    #[schema(example = "01936d4e-7a00-7cc2-9a4f-2b8f0f3e9a31")]
    pub id: String,
    /// Where it is read now.
    #[schema(example = "/api/v1/meetings/01936d4e-7a00-7cc2-9a4f-2b8f0f3e9a31")]
    pub href: String,
}

/// One entry of a council's record.
///
/// `hash` is the lowercase hex SHA-256 of `prev_hash`, a line feed, and the canonical JSON
/// (`jq -cS`) of `{council_id, data, kind, recorded_at, seq, subject_id}` with `subject_id` =
/// `subject.id` (docs/VERIFY.md).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 1, "council_id": COUNCIL, "kind": "meeting_published",
    "subject": {"id": "01936d4e-7a00-7cc2-9a4f-2b8f0f3e9a31",
        "href": "/api/v1/meetings/01936d4e-7a00-7cc2-9a4f-2b8f0f3e9a31"},
    "recorded_at": "2026-11-20T17:30:00.000000Z",
    "data": {"meeting": {"id": "01936d4e-7a00-7cc2-9a4f-2b8f0f3e9a31", "title": "Regular meeting",
        "type": "regular", "starts_at": "2026-12-03T02:00:00.000000Z", "ends_at": null,
        "time_zone": "America/Los_Angeles", "location": "Library", "remote_url": null,
        "interpretation_languages": ["es"], "emergency_finding": null,
        "noticed_at": "2026-11-20T17:30:00.000000Z"},
        "agenda": [{"id": "01936d4e-7b00-7cc2-9a4f-2b8f0f3e9a41", "position": "a0",
            "kind": "action", "title": "Reading plan", "description": null, "legal_basis": null,
            "presenter": null, "proposed_by_seat_id": null, "added_late": false}]},
    "prev_hash": "0000000000000000000000000000000000000000000000000000000000000000",
    "hash": "5f0c4b2ad4b8c1e0f8a5a1f3c2d9e7b6a4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9"}))]
pub struct RecordEntryResponse {
    /// 1, 2, 3 … within the council.
    pub seq: i64,
    pub council_id: String,
    pub kind: RecordKind,
    pub subject: RecordSubject,
    /// When the act was recorded: RFC 3339 in UTC with microseconds, exactly as hashed.
    pub recorded_at: String,
    /// What the act was (meeting and agenda; amendment and its items; motion with every
    /// member's vote by seat and person; minutes with the SHA-256 of their record; correction;
    /// cancellation), as hashed. Times are RFC 3339 UTC with microseconds.
    #[schema(value_type = Object)]
    pub data: Value,
    /// The previous entry's hash (64 zeros for the first entry).
    pub prev_hash: String,
    pub hash: String,
}

fn href(e: &EntryRecord) -> String {
    let id = &e.row.subject_id;
    let field = |outer: &str, inner: &str| {
        e.data
            .get(outer)
            .and_then(|o| o.get(inner))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match e.kind {
        EntryKind::MeetingPublished | EntryKind::MeetingCancelled => {
            format!("/api/v1/meetings/{id}")
        }
        EntryKind::AgendaAmended => format!(
            "/api/v1/meetings/{}/amendments",
            field("amendment", "meeting_id")
        ),
        EntryKind::MotionClosed => format!("/api/v1/motions/{id}"),
        EntryKind::AssemblyMotionClosed => format!("/api/v1/assembly-motions/{id}"),
        EntryKind::MinutesApproved => format!("/api/v1/minutes/{id}"),
        EntryKind::MinutesCorrected => format!(
            "/api/v1/minutes/{}/corrections",
            field("correction", "minutes_id")
        ),
    }
}

impl From<EntryRecord> for RecordEntryResponse {
    fn from(e: EntryRecord) -> Self {
        RecordEntryResponse {
            subject: RecordSubject {
                href: href(&e),
                id: e.row.subject_id.clone(),
            },
            kind: e.kind.into(),
            seq: e.row.seq,
            council_id: e.row.council_id,
            recorded_at: e.recorded_at,
            data: e.data,
            prev_hash: e.row.prev_hash,
            hash: e.row.hash,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RecordPage {
    pub items: Vec<RecordEntryResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordParams {
    /// Entries per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Start after this entry (the `seq` of the last entry you hold); not with `cursor`.
    #[param(minimum = 0, example = 0)]
    pub after_seq: Option<i64>,
}

fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    text.strip_prefix("seq:")?.parse().ok().filter(|s| *s >= 0)
}

/// The query of the next page's link: the request's own, with `cursor` for the next page.
fn next_link(req: &HttpRequest, cursor: &str) -> String {
    let mut query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "cursor" && k != "after_seq")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    query.push(("cursor".to_owned(), cursor.to_owned()));
    let text = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{}?{text}", req.path())
}

/// A strong tag of the body: any change to any entry served changes it.
fn body_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let tag: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"record-{tag}\"")
}

fn unchanged(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*")
        })
}

fn json_with_etag<T: Serialize>(req: &HttpRequest, body: &T) -> Result<HttpResponse, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let etag = body_etag(&bytes);
    let mut res = if unchanged(req, &etag) {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, CACHE_REVALIDATE));
    Ok(res.content_type("application/json").body(bytes))
}

/// A council's record
///
/// The hash chain of the council's public acts, oldest first: each published agenda, agenda
/// amendment, closed motion with every voting member's vote, closed assembly motion, approval
/// and correction of minutes, and cancellation of a noticed meeting, appended in the act's own
/// transaction. Anyone can recompute every `hash` from the entries with `jq` and `sha256sum`
/// (docs/VERIFY.md). Page with `cursor`, or with `after_seq` to continue from an entry you
/// hold. Send `If-None-Match` with the `ETag` to get 304 when the page is unchanged.
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/record", tag = "record",
    params(("council_id" = Uuid, Path, description = "The council's id"), RecordParams,
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "Entries in sequence order.", body = RecordPage),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::NestedListErrors))]
pub async fn council_record(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<RecordParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let after = match (params.cursor.as_deref(), params.after_seq) {
        (Some(c), Some(_)) if !c.is_empty() => {
            return Err(ApiError::validation(
                "after_seq",
                "give either cursor or after_seq, not both",
            ))
        }
        (Some(c), _) if !c.is_empty() => decode_cursor(c)
            .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this API issued"))?,
        (_, Some(seq)) if seq < 0 => {
            return Err(ApiError::validation("after_seq", "must be 0 or more"))
        }
        (_, Some(seq)) => seq,
        _ => 0,
    };
    let mut rows = record::list(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        after,
        limit + 1,
    )?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_cursor(r.row.seq))
    } else {
        None
    };
    let page = RecordPage {
        items: rows.into_iter().map(RecordEntryResponse::from).collect(),
        next_cursor: next.clone(),
    };
    let mut res = json_with_etag(&req, &page)?;
    if let Some(cursor) = next {
        if let Ok(value) =
            header::HeaderValue::from_str(&format!("<{}>; rel=\"next\"", next_link(&req, &cursor)))
        {
            res.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(res)
}

/// The chain's last entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordHead {
    pub seq: i64,
    pub hash: String,
}

/// The first problem found.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordProblem {
    /// `hash-mismatch` (the entry was changed), `broken-link` (its `prev_hash` is not the previous
    /// hash), `gap` (an entry is missing), or `data-differs` (the rows the entry describes were
    /// changed after the act was recorded).
    #[schema(example = "data-differs")]
    pub code: String,
    /// The entry where the problem is.
    pub seq: i64,
    pub detail: String,
}

/// The outcome of checking a council's record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"council_id": COUNCIL, "ok": false, "checked": 4,
    "head": {"seq": 3, "hash": "9b1d0c7e5a3f2e8d4c6b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d"},
    "problem": {"code": "data-differs", "seq": 4,
        "detail": "entry 4 no longer agrees with the records it describes: they were changed after the act was recorded"}}))]
pub struct RecordVerification {
    pub council_id: String,
    /// True when every entry checks and agrees with the records it describes.
    pub ok: bool,
    /// Entries checked (up to and including the bad one).
    pub checked: i64,
    /// The last entry that checked; `null` when none did.
    pub head: Option<RecordHead>,
    /// `null` when `ok`.
    pub problem: Option<RecordProblem>,
}

impl RecordVerification {
    fn new(council_id: String, v: Verification) -> Self {
        RecordVerification {
            council_id,
            ok: v.problem.is_none(),
            checked: v.checked,
            head: v.head.map(|(seq, hash)| RecordHead { seq, hash }),
            problem: v.problem.map(|(p, detail)| RecordProblem {
                code: p.code().to_owned(),
                seq: p.seq(),
                detail,
            }),
        }
    }
}

/// Check a council's record
///
/// The server recomputes every entry's hash and link from the stored entries, and compares
/// each entry's data with what the rows it describes (the meeting, the motion and its votes,
/// the minutes …) say now. Answers 200 either way: `ok` says whether the record holds, and
/// `problem` names the first entry that does not. To check without trusting the server, fetch
/// the record and follow docs/VERIFY.md.
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/record/verification", tag = "record",
    params(("council_id" = Uuid, Path, description = "The council's id")),
    responses(
        (status = 200, description = "The outcome of the check.", body = RecordVerification),
        super::problems::ReadErrors))]
pub async fn verify_council_record(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let council_id = id.into_inner().to_string();
    let outcome = record::verify(&ctx, &state.db, &council_id)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, super::preconditions::CACHE_NONE))
        .json(RecordVerification::new(council_id, outcome)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("bm90LWEtY3Vyc29y"), None);
        assert_eq!(decode_cursor("!!"), None);
    }
}
