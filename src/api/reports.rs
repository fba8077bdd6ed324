//! Reports under `/api/v1/reports/…` (docs/REPORTS.md): every report takes the same filter
//! ([`ReportParams`]) and answers in JSON or CSV by one content negotiation ([`negotiate`],
//! [`render`]).
//!
//! A new report plugs in with: a handler here that takes `web::Query<ReportParams>`, calls
//! [`negotiate`] first, runs its one command (on the blocking pool) with
//! [`ReportParams::filter`] and the configured threshold, and returns [`render`]; its
//! `#[utoipa::path]` names `params(ReportParams)`, both media types in its 200 response
//! (`content((TheReport = "application/json"), (String = "text/csv", example = …))`) and
//! `super::problems::ReportErrors`; a route under the `/reports` scope in `api/mod.rs`, and a
//! line in `ACCESS`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::preconditions::CACHE_NONE;
use crate::auth::SignedIn;
use crate::commands;
use crate::commands::Context;
use crate::db::Db;
use crate::domain::reports::{to_csv, ReportFilter, Tabular};
use crate::domain::service_reports::{
    BacklogReport, DurationReport, OverdueReport, PartnerReport, StatusCountReport,
};
use crate::error::ApiError;
use crate::state::AppState;

/// The media type of CSV reports.
pub const TEXT_CSV: &str = "text/csv; charset=utf-8";

/// The filter every report takes, and the format to answer in.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// First day counted, inclusive (`YYYY-MM-DD`). Reports counted by month want the first
    /// day of a month.
    #[param(value_type = Option<String>, format = Date, example = "2026-09-01")]
    pub from: Option<NaiveDate>,
    /// Last day counted, inclusive (`YYYY-MM-DD`); not before `from`. Reports counted by month
    /// want the last day of a month.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-30")]
    pub to: Option<NaiveDate>,
    /// Only this school.
    pub school_id: Option<Uuid>,
    /// Only the school of this council (a district-wide council: every school).
    pub council_id: Option<Uuid>,
    /// Only this service category.
    pub category_id: Option<Uuid>,
    /// `json` or `csv`; takes precedence over `Accept`.
    #[param(value_type = Option<ReportFormat>, inline)]
    pub format: Option<String>,
}

impl ReportParams {
    pub fn filter(&self) -> ReportFilter {
        ReportFilter {
            from: self.from,
            to: self.to,
            school_id: self.school_id.map(|u| u.to_string()),
            council_id: self.council_id.map(|u| u.to_string()),
            category_id: self.category_id.map(|u| u.to_string()),
        }
    }
}

/// The formats a report is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
}

/// Which format to answer in: `format` if given (`json` or `csv`, else 422); otherwise the
/// `Accept` header's most preferred of `application/json` and `text/csv` (`*/*`,
/// `application/*` and no header at all mean JSON; `text/*` means CSV); 406 when `Accept`
/// allows neither.
pub fn negotiate(req: &HttpRequest, format: Option<&str>) -> Result<ReportFormat, ApiError> {
    match format {
        Some("json") => return Ok(ReportFormat::Json),
        Some("csv") => return Ok(ReportFormat::Csv),
        Some(_) => return Err(ApiError::validation("format", "must be json or csv")),
        None => {}
    }
    let Some(accept) = req.headers().get(header::ACCEPT) else {
        return Ok(ReportFormat::Json);
    };
    let accept = accept.to_str().unwrap_or_default();
    if accept.trim().is_empty() {
        return Ok(ReportFormat::Json);
    }
    // (q, specificity, format) of the best range for each format; the higher q wins, then JSON.
    let mut json: Option<(u32, u8)> = None;
    let mut csv: Option<(u32, u8)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut q = 1000u32;
        for p in parts {
            let p = p.trim();
            if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                q = v
                    .trim()
                    .parse::<f32>()
                    .map(|f| (f.clamp(0.0, 1.0) * 1000.0).round() as u32)
                    .unwrap_or(0);
            }
        }
        let (to_json, to_csv) = match media.as_str() {
            "application/json" => (Some(2), None),
            "text/csv" => (None, Some(2)),
            "application/*" => (Some(1), None),
            "text/*" => (None, Some(1)),
            "*/*" => (Some(0), Some(0)),
            _ => (None, None),
        };
        // A more specific range decides the quality of its type.
        let better = |slot: &mut Option<(u32, u8)>, spec: Option<u8>| {
            if let Some(spec) = spec {
                match slot {
                    Some((_, s)) if *s > spec => {}
                    _ => *slot = Some((q, spec)),
                }
            }
        };
        better(&mut json, to_json);
        better(&mut csv, to_csv);
    }
    let json_q = json.map_or(0, |(q, _)| q);
    let csv_q = csv.map_or(0, |(q, _)| q);
    if json_q == 0 && csv_q == 0 {
        return Err(ApiError::Other {
            status: actix_web::http::StatusCode::NOT_ACCEPTABLE,
            detail:
                "reports are served as application/json or text/csv (or ask with ?format=json|csv)"
                    .to_owned(),
        });
    }
    Ok(if csv_q > json_q {
        ReportFormat::Csv
    } else {
        ReportFormat::Json
    })
}

/// The report in the negotiated format: JSON, or an RFC 4180 CSV attachment named
/// `<name>.csv`. Never cached; `Vary: Accept`.
pub fn render<R: Serialize + Tabular>(
    format: ReportFormat,
    report: &R,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .insert_header((header::VARY, "Accept"));
    Ok(match format {
        ReportFormat::Json => res.json(report),
        ReportFormat::Csv => res
            .content_type(TEXT_CSV)
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ))
            .body(to_csv(report)),
    })
}

/// Runs a report command on the blocking pool (a report may read many summary rows).
pub(super) async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

const STATUS_COUNTS_CSV: &str = "row,school_id,school_name,category_id,category_code,month,submitted,triaged,referred,accepted,rejected,in_progress,completed,declined,withdrawn,cancelled,total\r\ncell,01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln Elementary,01936d4e-6000-7000-8000-00000000c001,food,2026-09,14,*,0,0,0,22,31,*,0,0,78\r\ntotal,,,,,,14,*,0,0,0,22,31,*,0,0,78\r\n";

/// Service requests by status
///
/// Requests by school, service category, month of creation (`YYYY-MM`) and current status,
/// with row totals and column totals. Counts of 1 up to the configured threshold (10 by
/// default) are hidden, and more cells are hidden where a total would reveal one
/// (complementary suppression): a hidden count is `null` in JSON (named in the row's
/// `suppressed`) and `*` in CSV. `from` and `to` must cover whole months.
#[utoipa::path(get, path = "/api/v1/reports/service-requests/status-counts", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; RFC 4180, UTF-8, header row, CRLF; the last record, `row` = `total`, holds the column totals; `*` marks a hidden count).",
            content((StatusCountReport = "application/json"),
                (String = "text/csv", example = json!(STATUS_COUNTS_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn service_request_status_counts(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let format = negotiate(&req, p.format.as_deref())?;
    let filter = p.filter();
    let threshold = state.protection.report_threshold;
    let db = state.db.clone();
    let report =
        run(move || commands::reports::status_counts(&ctx, &db, filter, threshold)).await?;
    render(format, &report, "service-request-status-counts")
}

/// Negotiates, runs one report command on the blocking pool with the request's filter and the
/// configured threshold, and renders it.
pub(super) async fn serve<R: Serialize + Tabular + Send + 'static>(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    params: ReportParams,
    name: &str,
    command: impl FnOnce(&Context, &Db, ReportFilter, i64) -> Result<R, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let format = negotiate(&req, params.format.as_deref())?;
    let filter = params.filter();
    let threshold = state.protection.report_threshold;
    let db = state.db.clone();
    let report = run(move || command(&ctx, &db, filter, threshold)).await?;
    render(format, &report, name)
}

const DURATIONS_CSV: &str = "category_id,category_code,month,first_contacts,first_contact_median_days,first_contact_p90_days,completions,completion_median_days,completion_p90_days\r\n01936d4e-6000-7000-8000-00000000c001,food,2026-09,52,1,4,*,*,*\r\n";

/// Time to first contact and to completion
///
/// For requests created in each month, by category: how many were first contacted (triaged)
/// and completed, and the median and 90th percentile of the whole days it took from creation
/// (nearest rank). A cell of up to the threshold's number of requests shows neither its count
/// nor its durations. `from` and `to` must cover whole months.
#[utoipa::path(get, path = "/api/v1/reports/service-requests/durations", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; `*` marks a hidden figure; an empty field, none).",
            content((DurationReport = "application/json"),
                (String = "text/csv", example = json!(DURATIONS_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn service_request_durations(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "service-request-durations",
        commands::reports::durations,
    )
    .await
}

const BACKLOG_CSV: &str = "row,school_id,school_name,category_id,category_code,days_0_7,days_8_30,days_31_90,days_91_plus,total\r\ncell,01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11,Lincoln Elementary,01936d4e-6000-7000-8000-00000000c001,food,25,14,*,*,47\r\ntotal,,,,,25,14,*,*,47\r\n";

/// Open backlog by age
///
/// Requests still open (not completed, declined, withdrawn or cancelled) by school, category
/// and age in whole days since creation: 0–7, 8–30, 31–90, 91 or more, with row and column
/// totals and small-cell suppression. `from` and `to` (any days) limit the creation date.
#[utoipa::path(get, path = "/api/v1/reports/service-requests/backlog", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; the last record, `row` = `total`, holds the column totals; `*` marks a hidden count).",
            content((BacklogReport = "application/json"),
                (String = "text/csv", example = json!(BACKLOG_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn service_request_backlog(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "service-request-backlog",
        commands::reports::backlog,
    )
    .await
}

const OVERDUE_CSV: &str = "row,category_id,category_code,target_school_days,target_calendar_days,contacted_on_time,contacted_late,waiting_overdue,total\r\ncell,01936d4e-6000-7000-8000-00000000c001,food,2,4,140,22,*,169\r\ntotal,,,,,140,22,*,169\r\n";

/// First contact against targets
///
/// For each category with a `first_contact_school_days` target: requests first contacted
/// within it and late (at or after the target's calendar days, 5 school days per 7 calendar
/// days), and requests still `submitted` past it now, with small-cell suppression. `from` and
/// `to` must cover whole months.
#[utoipa::path(get, path = "/api/v1/reports/service-requests/overdue", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; the last record, `row` = `total`, holds the column totals; `*` marks a hidden count).",
            content((OverdueReport = "application/json"),
                (String = "text/csv", example = json!(OVERDUE_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn service_request_overdue(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "service-request-overdue",
        commands::reports::overdue,
    )
    .await
}

const PARTNERS_CSV: &str = "row,partner_id,partner_name,referred,accepted,rejected,started,completed,declined\r\ncell,01936d4e-7000-7000-8000-00000000d001,Eastside Family Resource Center,120,104,16,98,81,*\r\ntotal,,,120,104,16,98,81,*\r\n";

/// Referrals and outcomes per partner
///
/// For requests created in the range: how many times they were referred to each partner
/// organization, and accepted, rejected, started, completed and declined by it, with
/// small-cell suppression. `from` and `to` must cover whole months.
#[utoipa::path(get, path = "/api/v1/reports/service-requests/partners", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (`format=csv` or `Accept: text/csv`; the last record, `row` = `total`, holds the column totals; `*` marks a hidden count).",
            content((PartnerReport = "application/json"),
                (String = "text/csv", example = json!(PARTNERS_CSV)))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReportErrors))]
pub async fn service_request_partners(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    serve(
        state,
        ctx,
        req,
        params.into_inner(),
        "service-request-partners",
        commands::reports::partners,
    )
    .await
}
