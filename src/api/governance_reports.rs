//! Governance reports under `/api/v1/reports/governance/…` (docs/REPORTS.md): the public acts
//! of councils, never suppressed. They take the shared report filter ([`ReportParams`]; date
//! range, school, council; a category is 422) and answer in JSON or CSV like every report.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::paging::next_link;
use super::reports::{negotiate, render, run, serve, ReportFormat, ReportParams};
use crate::auth::SignedIn;
use crate::commands::governance_reports as cmd;
use crate::domain::governance_reports::{
    AgendaSourcesReport, AttendanceReport, CommentsReport, MotionsReport, NoticesReport,
    SeatsReport,
};
use crate::error::ApiError;
use crate::state::AppState;

const SEATS_CSV: &str = "council_id,council_name,constituency,seats,voting_seats,filled,vacant,rules_passed,rules_failed\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,teachers,3,3,3,0,,\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,families,3,3,2,1,,\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,total,6,6,5,1,1,0\r\n";

/// Council seats and composition
///
/// Seats per council and constituency (all, voting, filled, vacant) as they stand today, with the council's composition rules checked against them (`as_of`). The date range does not apply. Public acts of councils: nothing is suppressed.
#[utoipa::path(get, path = "/api/v1/reports/governance/seats", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; RFC 4180, UTF-8, header row, CRLF; one record per council and constituency, then the council's `total` record carrying the counts of rules passed and failed).",
            content((SeatsReport = "application/json"),
                (String = "text/csv", example = json!(SEATS_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn governance_seats(
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "governance-seats",
        |c, d, f, _| cmd::seats(c, d, f),
    )
    .await
}

const ATTENDANCE_CSV: &str = "council_id,council_name,constituency,expected,present,absent,rate\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,families,9,7,2,0.7778\r\n";

/// Council attendance
///
/// Attendance rate per council and constituency: members present over members expected (the attendance taken at each meeting), summed over the meetings that start in the date range. Public acts of councils: nothing is suppressed.
#[utoipa::path(get, path = "/api/v1/reports/governance/attendance", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; RFC 4180, UTF-8, header row, CRLF; one record per council and constituency; `rate` has 4 decimals).",
            content((AttendanceReport = "application/json"),
                (String = "text/csv", example = json!(ATTENDANCE_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn governance_attendance(
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "governance-attendance",
        |c, d, f, _| cmd::attendance(c, d, f),
    )
    .await
}

const AGENDA_SOURCES_CSV: &str = "council_id,council_name,source,proposed,accepted,declined,total\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,families,1,4,0,5\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,no_proposing_seat,0,6,1,7\r\n";

/// Who sets councils' agendas
///
/// Agenda items per council by the constituency of the seat that proposed them (`no_proposing_seat` when none did), by item status. With a date range, only items placed on meetings that start in it. Public acts of councils: nothing is suppressed.
#[utoipa::path(get, path = "/api/v1/reports/governance/agenda-sources", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; RFC 4180, UTF-8, header row, CRLF; one record per council and source).",
            content((AgendaSourcesReport = "application/json"),
                (String = "text/csv", example = json!(AGENDA_SOURCES_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn governance_agenda_sources(
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "governance-agenda-sources",
        |c, d, f, _| cmd::agenda_sources(c, d, f),
    )
    .await
}

const MOTIONS_CSV: &str = "council_id,council_name,adopted,failed,open,total\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,5,1,0,6\r\n";

/// Council motions and outcomes
///
/// Motions per council by outcome (adopted, failed, still open), over the meetings that start in the date range. Public acts of councils: nothing is suppressed.
#[utoipa::path(get, path = "/api/v1/reports/governance/motions", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; RFC 4180, UTF-8, header row, CRLF; one record per council).",
            content((MotionsReport = "application/json"),
                (String = "text/csv", example = json!(MOTIONS_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn governance_motions(
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "governance-motions",
        |c, d, f, _| cmd::motions(c, d, f),
    )
    .await
}

const NOTICES_CSV: &str = "council_id,council_name,noticed,on_time,late,notice_lifted,amended\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,6,5,0,1,2\r\n";

/// Meeting notices on time and late
///
/// Noticed meetings per council: posted on time (at least the hours the meeting's notice rule requires before its start: Brown Act 72 h regular / 24 h special, or the council's own hours; the Greene Act's for every meeting), late, with notice periods lifted (emergency meetings), and amended after notice, over the meetings that start in the date range. Public acts of councils: nothing is suppressed.
#[utoipa::path(get, path = "/api/v1/reports/governance/notices", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; RFC 4180, UTF-8, header row, CRLF; one record per council).",
            content((NoticesReport = "application/json"),
                (String = "text/csv", example = json!(NOTICES_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn governance_notices(
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "governance-notices",
        |c, d, f, _| cmd::notices(c, d, f),
    )
    .await
}

const COMMENTS_CSV: &str = "council_id,council_name,meeting_id,meeting_title,starts_at,item_id,item_title,comments,hidden\r\n01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln School Site Council,01936d4e-7000-7000-8000-00000000a001,October regular meeting,2026-10-14T01:00:00Z,01936d4e-7100-7000-8000-00000000a101,School plan for student achievement,12,1\r\n";

/// The comments report's filter (the one every report takes), format and page. The filter's
/// fields are repeated from [`ReportParams`] rather than flattened into this struct: serde's
/// `flatten` reads every query value as text (so `limit` would not parse as a number) and
/// cannot be combined with `deny_unknown_fields`, which turns a misspelt parameter into a 422.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommentsParams {
    /// First day counted, inclusive (`YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date, example = "2026-09-01")]
    pub from: Option<NaiveDate>,
    /// Last day counted, inclusive (`YYYY-MM-DD`); not before `from`.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-30")]
    pub to: Option<NaiveDate>,
    /// Only this school.
    pub school_id: Option<Uuid>,
    /// Only this council.
    pub council_id: Option<Uuid>,
    /// Not accepted by governance reports (422); listed because every report reads it.
    pub category_id: Option<Uuid>,
    /// `json` or `csv`; takes precedence over `Accept`.
    #[param(value_type = Option<ReportFormat>, inline)]
    pub format: Option<String>,
    /// Meetings per page (each with every commented item): 1 to 1000, 100 by default.
    #[param(minimum = 1, maximum = 1000, example = 100)]
    pub limit: Option<i64>,
    /// Where to continue: the `next_cursor` of the previous page (or the `cursor` in its
    /// `Link: rel="next"` URL), with the same filter.
    pub cursor: Option<String>,
}

impl CommentsParams {
    fn split(self) -> (ReportParams, Option<i64>, Option<String>) {
        let report = ReportParams {
            from: self.from,
            to: self.to,
            school_id: self.school_id,
            council_id: self.council_id,
            category_id: self.category_id,
            format: self.format,
        };
        (report, self.limit, self.cursor)
    }
}

/// Public comments per agenda item
///
/// Public comments (counts only; hidden ones counted in `comments` and in `hidden`) per agenda item and meeting, over the meetings that start in the date range; items without comments are not listed. Paged by meeting, in the order meetings start (then by id), each meeting with all its commented items in agenda order: a page holds up to `limit` meetings, and `next_cursor` (JSON) or the `Link: rel="next"` header (JSON and CSV) leads to the next page. Each page is one consistent reading. Public acts of councils: nothing is suppressed.
#[utoipa::path(get, path = "/api/v1/reports/governance/comments", tag = "reports",
    security(("bearer" = [])), params(CommentsParams),
    responses(
        (status = 200, description = "A page of the report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; RFC 4180, UTF-8, header row, CRLF; one record per meeting and agenda item); `Link: <…>; rel=\"next\"` when more meetings follow.",
            headers(("Link" = String, description = "`<…>; rel=\"next\"` with the URL of the next page, when there is one (RFC 8288).")),
            content((CommentsReport = "application/json"),
                (String = "text/csv", example = json!(COMMENTS_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn governance_comments(
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<CommentsParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (params, limit, cursor) = params.into_inner().split();
    let format = negotiate(&req, params.format.as_deref())?;
    let filter = params.filter();
    let db = state.db.clone();
    let report = run(move || cmd::comments(&ctx, &db, filter, limit, cursor.as_deref())).await?;
    let mut res = render(format, &report, "governance-comments")?;
    if let Some(cursor) = &report.next_cursor {
        let link = format!("<{}>; rel=\"next\"", next_link(&req, cursor));
        if let Ok(value) = HeaderValue::from_str(&link) {
            res.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(res)
}
