//! The governance reports (docs/REPORTS.md, "Governance"): the public acts of councils, counted
//! by the database and never suppressed. Each command authorizes and resolves its filter with
//! [`reach`], reads grouped counts through `db::governance_reports`, and builds its report.

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};

use super::councils::{find_council, CouncilRecord};
use super::reports::{reach, Reach};
use super::{invalid, Context};
use crate::db::governance_reports::{self as store, KeyedCount, Scope};
use crate::db::{self, AnyConnection, Db};
use crate::domain::composition::SeatFacts;
use crate::domain::governance_reports::{self as gr, CouncilSeats, Count, NoticeInput};
use crate::domain::meeting::{notice_rule, MeetingType, NoticeFacts};
use crate::domain::report::{composition_report, SeatSnapshot};
use crate::domain::reports::{self, ReportFilter};
use crate::domain::{Constituency, Regime};
use crate::error::ApiError;

/// The filter checks of governance reports: a date range that holds; no service category.
fn problems(filter: &ReportFilter) -> Vec<(&'static str, &'static str)> {
    let mut out = filter.problems();
    if filter.category_id.is_some() {
        out.push((
            "category_id",
            "governance reports count councils' acts, not service requests: no category filter",
        ));
    }
    out
}

fn day_start(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// The councils and meetings a report counts: meetings starting from `from` (00:00 UTC) up to
/// the end of `to`.
fn scope(reach: &Reach) -> Scope {
    Scope {
        from: reach.filter.from.map(day_start),
        before: reach.filter.to.map(|d| day_start(d) + Duration::days(1)),
        schools: reach.schools.as_option(),
        council_id: reach.filter.council_id.clone(),
    }
}

fn start(
    ctx: &Context,
    conn: &mut AnyConnection,
    filter: ReportFilter,
) -> Result<(Reach, Scope), ApiError> {
    // Nothing is suppressed: the threshold is only required by `reach`.
    let reach = reach(ctx, conn, filter, problems, reports::MIN_THRESHOLD)?;
    let scope = scope(&reach);
    Ok((reach, scope))
}

fn counts(rows: Vec<KeyedCount>) -> Vec<Count> {
    rows.into_iter()
        .map(|r| Count {
            council_id: r.council_id,
            council_name: r.council_name,
            key: r.key,
            state: r.state,
            n: r.n,
        })
        .collect()
}

/// Seats, filled and vacant per council and constituency, and the composition rules' status.
pub fn seats(ctx: &Context, db: &Db, filter: ReportFilter) -> Result<gr::SeatsReport, ApiError> {
    db.read_report(|conn| {
        let (reach, scope) = start(ctx, conn, filter)?;
        let groups = store::seat_groups(conn, &scope)?;
        let today = db::today();
        let mut councils = Vec::new();
        for id in store::councils(conn, &scope)? {
            let council = CouncilRecord::try_from(find_council(conn, &id)?)?;
            // One snapshot per seat, rebuilt from the grouped counts: rules need only the facts.
            let mut snapshots = Vec::new();
            for g in groups.iter().filter(|g| g.council_id == id) {
                let constituency = Constituency::parse(&g.constituency).ok_or_else(|| {
                    ApiError::Internal(format!(
                        "stored seat constituency {:?} unknown",
                        g.constituency
                    ))
                })?;
                for _ in 0..g.seats {
                    snapshots.push(SeatSnapshot {
                        seat_id: uuid::Uuid::nil(),
                        title: String::new(),
                        facts: SeatFacts {
                            constituency,
                            voting: g.voting,
                            filled: g.filled,
                        },
                        term_end: None,
                        holder_name: None,
                    });
                }
            }
            let c = composition_report(
                db::stored_uuid("council id", &id)?,
                &council.rules,
                council.quorum_basis,
                &snapshots,
                today,
            );
            councils.push(CouncilSeats {
                council_id: id,
                council_name: council.row.name.clone(),
                by_constituency: c.by_constituency,
                totals: c.totals,
                rules: c.rules,
                all_rules_pass: c.all_rules_pass,
            });
        }
        Ok(gr::SeatsReport {
            filter: reach.echo(),
            as_of: today,
            councils,
        })
    })
}

/// Attendance rate per council and constituency over the meetings in range.
pub fn attendance(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
) -> Result<gr::AttendanceReport, ApiError> {
    db.read_report(|conn| {
        let (reach, scope) = start(ctx, conn, filter)?;
        let rows = store::attendance(conn, &scope)?;
        Ok(gr::attendance_report(reach.echo(), counts(rows)))
    })
}

/// Agenda items per council by the proposing seat's constituency.
pub fn agenda_sources(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
) -> Result<gr::AgendaSourcesReport, ApiError> {
    db.read_report(|conn| {
        let (reach, scope) = start(ctx, conn, filter)?;
        let rows = store::agenda_sources(conn, &scope)?;
        Ok(gr::agenda_sources_report(reach.echo(), counts(rows)))
    })
}

/// Motions and their outcomes per council over the meetings in range.
pub fn motions(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
) -> Result<gr::MotionsReport, ApiError> {
    db.read_report(|conn| {
        let (reach, scope) = start(ctx, conn, filter)?;
        let rows = store::motions(conn, &scope)?;
        Ok(gr::motions_report(reach.echo(), counts(rows)))
    })
}

/// Meetings noticed on time, late, with notice lifted, and amended, per council.
pub fn notices(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
) -> Result<gr::NoticesReport, ApiError> {
    db.read_report(|conn| {
        let (reach, scope) = start(ctx, conn, filter)?;
        let groups = store::notices(conn, &scope)?;
        let corrupt =
            |what: &str, v: &str| ApiError::Internal(format!("stored {what} {v:?} unknown"));
        let input = groups
            .into_iter()
            .map(|g| {
                // The meetings domain's notice rule decides the hours required.
                let facts = NoticeFacts {
                    regime: Regime::parse(&g.regime).ok_or_else(|| corrupt("regime", &g.regime))?,
                    meeting_type: MeetingType::parse(&g.meeting_type)
                        .ok_or_else(|| corrupt("meeting type", &g.meeting_type))?,
                    regular_notice_hours: g.regular_notice_hours,
                    special_notice_hours: g.special_notice_hours,
                    starts_at: Utc::now(),
                    time_zone: chrono_tz::UTC,
                    emergency_finding: None,
                    media_notified_at: None,
                };
                Ok(NoticeInput {
                    council_id: g.council_id,
                    council_name: g.council_name,
                    required_hours: notice_rule(&facts).map(|(_, hours)| hours),
                    lead_hours: g.lead_hours,
                    amended: g.amended != 0,
                    meetings: g.meetings,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(gr::notices_report(reach.echo(), input))
    })
}

/// Public comments per agenda item and meeting over the meetings in range, one page of
/// meetings at a time (in start order): up to `limit` meetings after `cursor` (422 when either
/// is not one). Each page is read in one read-only transaction.
pub fn comments(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<gr::CommentsReport, ApiError> {
    db.read_report(|conn| {
        let (reach, scope) = start(ctx, conn, filter)?;
        let page = gr::CommentsPage::parse(limit, cursor).map_err(invalid)?;
        let after = page.after.as_ref().map(|(at, id)| (*at, id.as_str()));
        let mut meetings = store::commented_meetings(conn, &scope, after, page.limit + 1)?;
        let more = meetings.len() as i64 > page.limit;
        meetings.truncate(page.limit as usize);
        let next_cursor = match meetings.last() {
            Some(last) if more => Some(gr::CommentsPage::cursor(last.starts_at, &last.id)),
            _ => None,
        };
        let counts = match meetings.last() {
            Some(last) => store::comments(conn, &scope, after, (last.starts_at, &last.id))?,
            None => Vec::new(),
        };
        let rows = counts
            .into_iter()
            .map(|r| gr::CommentRow {
                council_id: r.council_id,
                council_name: r.council_name,
                meeting_id: r.meeting_id,
                meeting_title: r.meeting_title,
                starts_at: gr::utc(r.starts_at),
                item_id: r.item_id,
                item_title: r.item_title,
                comments: r.comments,
                hidden: r.hidden,
            })
            .collect();
        Ok(gr::CommentsReport {
            filter: reach.echo(),
            rows,
            next_cursor,
        })
    })
}
