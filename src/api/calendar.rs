//! iCalendar feeds of published meetings (`.ics`), for calendar apps to subscribe to.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::commands::calendar::{self, FeedOf};
use crate::domain::calendar::render;
use crate::error::ApiError;
use crate::state::AppState;

pub const TEXT_CALENDAR: &str = "text/calendar; charset=utf-8";
/// Public and shared: calendar apps and caches may keep it for five minutes.
const CACHE_PUBLIC: &str = "public, max-age=300, stale-while-revalidate=60";

const EXAMPLE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//cogov//meetings//EN\r\nCALSCALE:GREGORIAN\r\nNAME:Roosevelt Community School Council\r\nX-WR-CALNAME:Roosevelt Community School Council\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\nX-PUBLISHED-TTL:PT1H\r\nBEGIN:VEVENT\r\nUID:meeting-01936d4e-7a00-7cc2-9a4f-2b8f0f3e9a31@cogov\r\nDTSTAMP:20261120T173000Z\r\nLAST-MODIFIED:20261120T173000Z\r\nSEQUENCE:2\r\nDTSTART:20261203T020000Z\r\nDTEND:20261203T040000Z\r\nSUMMARY:Roosevelt Community School Council: Regular meeting / Reunión ordinaria\r\nDESCRIPTION:regular meeting of Roosevelt Community School Council\\nInterpre\r\n tation: es\\, vi\\nAgenda: https://cogov.district.example/api/v1/meetings/019\r\n 36d4e-7a00-7cc2-9a4f-2b8f0f3e9a31/agenda-items\r\nLOCATION:Library\r\nURL:https://cogov.district.example/api/v1/meetings/01936d4e-7a00-7cc2-9a4f-2b8f0f3e9a31/agenda-items\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn respond(req: &HttpRequest, of: FeedOf, state: &AppState) -> Result<HttpResponse, ApiError> {
    let info = req.connection_info();
    let base = format!("{}://{}", info.scheme(), info.host());
    drop(info);
    let feed = calendar::feed(&state.db, of, chrono::Utc::now(), |id| {
        format!("{base}/api/v1/meetings/{id}/agenda-items")
    })?;
    let body = render(&feed.name, &feed.events);
    let digest = Sha256::digest(body.as_bytes());
    let tag: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"ics-{tag}\"");
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*")
        });
    let mut res = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, CACHE_PUBLIC));
    if unchanged {
        return Ok(res.finish());
    }
    Ok(res.content_type(TEXT_CALENDAR).body(body))
}

/// A council's meetings as a calendar
///
/// The council's published meetings (from 90 days ago on) as an iCalendar feed (RFC 5545) to
/// subscribe to from any calendar app: one event per meeting with a stable `UID`, times in UTC,
/// `SEQUENCE` raised by every change, cancelled meetings kept with `STATUS:CANCELLED`, and the
/// agenda's URL. Drafts never appear. Send `If-None-Match` with the `ETag` to get 304 when
/// nothing changed.
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/meetings.ics", tag = "meetings",
    params(("council_id" = Uuid, Path, description = "The council's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The calendar (`text/calendar; charset=utf-8`, CRLF line ends).",
            content_type = "text/calendar; charset=utf-8", body = String, example = json!(EXAMPLE)),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn council_calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    respond(&req, FeedOf::Council(id.into_inner().into()), &state)
}

/// A school's meetings as a calendar
///
/// The published meetings of every council of the school, as `GET
/// /api/v1/councils/{council_id}/meetings.ics` describes.
#[utoipa::path(get, path = "/api/v1/schools/{school_id}/meetings.ics", tag = "meetings",
    params(("school_id" = Uuid, Path, description = "The school's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The calendar (`text/calendar; charset=utf-8`, CRLF line ends).",
            content_type = "text/calendar; charset=utf-8", body = String, example = json!(EXAMPLE)),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn school_calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    respond(&req, FeedOf::School(id.into_inner().into()), &state)
}

/// The district's meetings as a calendar
///
/// The published meetings of every council in the district, as `GET
/// /api/v1/councils/{council_id}/meetings.ics` describes.
#[utoipa::path(get, path = "/api/v1/meetings.ics", tag = "meetings",
    params(("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The calendar (`text/calendar; charset=utf-8`, CRLF line ends).",
            content_type = "text/calendar; charset=utf-8", body = String, example = json!(EXAMPLE)),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn district_calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    respond(&req, FeedOf::District, &state)
}
