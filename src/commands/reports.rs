//! Reports: who may read them, which schools a caller's reports cover, and the
//! service-request reports, assembled from figures the database sums (docs/REPORTS.md).
//!
//! A new report plugs in as: a command here that calls [`reach`] (authorization and the
//! schools it covers), reads its figures through `db::reports` (or its own db module), and
//! builds a type of its own that is `Serialize + ToSchema` and [`reports::Tabular`], with
//! counts of people passed through [`reports::suppress`] at `threshold`.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};

use super::{problems_ok, require, Context};
use crate::auth::policy::{self, Principal};
use crate::db::reports::{self as store, Slice};
use crate::db::{self, AnyConnection, Db};
use crate::domain::reports::{self, ReportFilter};
use crate::domain::service_reports::{self as sr, FilterEcho};
use crate::domain::services::Status;
use crate::error::ApiError;

/// The schools a report covers once the caller's reach and the filter are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schools {
    /// Every school (a district admin without a school filter).
    All,
    /// These schools only (possibly none).
    Only(Vec<String>),
}

impl Schools {
    pub fn as_option(&self) -> Option<Vec<String>> {
        match self {
            Schools::All => None,
            Schools::Only(s) => Some(s.clone()),
        }
    }
}

/// What a report may cover: checked filter, the schools, the threshold.
#[derive(Debug, Clone)]
pub struct Reach {
    pub filter: ReportFilter,
    pub schools: Schools,
    /// Counts of 1 up to this are hidden.
    pub threshold: i64,
}

impl Reach {
    /// The filter as the report echoes it.
    pub fn echo(&self) -> FilterEcho {
        FilterEcho {
            from: self.filter.from,
            to: self.filter.to,
            school_id: self.filter.school_id.clone(),
            council_id: self.filter.council_id.clone(),
            category_id: self.filter.category_id.clone(),
        }
    }

    /// The summary-table slice of a report counted by month of creation.
    pub fn slice(&self) -> Slice {
        let (from_month, to_month) = self.filter.months();
        Slice {
            from_month,
            to_month,
            schools: self.schools.as_option(),
            category_id: self.filter.category_id.clone(),
        }
    }
}

/// Authorizes a report read and resolves the filter: 401/403 for callers who may not read
/// reports (apps acting for a family never may), 422 for a filter that does not hold or names
/// no such school, council or category, 403 for a school outside the caller's councils.
/// `problems` are the report's own checks of the filter (e.g. [`ReportFilter::month_problems`]).
pub fn reach(
    ctx: &Context,
    conn: &mut AnyConnection,
    filter: ReportFilter,
    problems_of: fn(&ReportFilter) -> Vec<(&'static str, &'static str)>,
    threshold: i64,
) -> Result<Reach, ApiError> {
    ctx.for_app(None)?;
    require(policy::read_reports(&ctx.caller), "reports", "")?;
    problems_ok(problems_of(&filter))?;
    let mut missing = Vec::new();
    if let Some(s) = &filter.school_id {
        if !store::school_exists(conn, s)? {
            missing.push(("school_id", "no school with this id"));
        }
    }
    let council_school = match &filter.council_id {
        Some(c) => match store::schools_of_council(conn, c)? {
            Some(school) => Some(school),
            None => {
                missing.push(("council_id", "no council with this id"));
                None
            }
        },
        None => None,
    };
    if let Some(c) = &filter.category_id {
        if !store::category_exists(conn, c)? {
            missing.push(("category_id", "no service category with this id"));
        }
    }
    problems_ok(missing)?;
    let mine = mine(conn, &ctx.caller)?;
    // The filter's schools: a school, a council's school (a district-wide council: all).
    let wanted = match (&filter.school_id, council_school) {
        (Some(s), Some(Some(c))) if *s != c => Schools::Only(Vec::new()),
        (Some(s), _) => Schools::Only(vec![s.clone()]),
        (None, Some(Some(c))) => Schools::Only(vec![c]),
        (None, _) => Schools::All,
    };
    let schools = match (wanted, mine) {
        (w, Schools::All) => w,
        (Schools::All, m) => m,
        (Schools::Only(w), Schools::Only(m)) => {
            if let Some(outside) = w.iter().find(|s| !m.contains(s)) {
                return Err(ApiError::Forbidden(format!(
                    "reports cover the schools of your councils only; school {outside} is not one of them"
                )));
            }
            Schools::Only(w)
        }
    };
    Ok(Reach {
        filter,
        schools,
        threshold: threshold.max(reports::MIN_THRESHOLD),
    })
}

/// The schools a caller's reports may cover.
fn mine(conn: &mut AnyConnection, caller: &Principal) -> Result<Schools, ApiError> {
    if caller.is_admin() {
        return Ok(Schools::All);
    }
    let mut schools = db::services::schools_of_councils(conn, &caller.staffed_councils())?;
    schools.sort();
    schools.dedup();
    Ok(Schools::Only(schools))
}

fn school_names(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, String>, ApiError> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    Ok(store::school_names(conn, &ids)?.into_iter().collect())
}

fn category_codes(conn: &mut AnyConnection) -> Result<HashMap<String, String>, ApiError> {
    Ok(store::categories(conn)?
        .into_iter()
        .map(|(id, code, _)| (id, code))
        .collect())
}

/// Requests by school, category, month of creation and current status.
pub fn status_counts(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
    threshold: i64,
) -> Result<sr::StatusCountReport, ApiError> {
    db.read_report(|conn| {
        let reach = reach(ctx, conn, filter, ReportFilter::month_problems, threshold)?;
        let counts = store::status_counts(conn, &reach.slice())?;
        let schools: Vec<String> = counts.iter().map(|c| c.school_id.clone()).collect();
        let names = school_names(conn, &schools)?;
        let codes = category_codes(conn)?;
        let input = counts
            .into_iter()
            .map(|c| sr::StatusCountInput {
                school_name: names.get(&c.school_id).cloned().unwrap_or_default(),
                category_code: codes.get(&c.category_id).cloned().unwrap_or_default(),
                school_id: c.school_id,
                category_id: c.category_id,
                month: c.month,
                status: c.status,
                requests: c.requests,
            })
            .collect();
        Ok(sr::status_count_report(
            reach.echo(),
            reach.threshold,
            input,
        ))
    })
}

/// The start of `date`'s day as a timestamp.
fn day_start(date: chrono::NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// `[from, to + 1 day)` of a filter, as timestamps.
fn created_range(filter: &ReportFilter) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
    (
        filter.from.map(day_start),
        filter.to.map(|d| day_start(d) + Duration::days(1)),
    )
}

/// Time to first contact and to completion by category and month of creation.
pub fn durations(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
    threshold: i64,
) -> Result<sr::DurationReport, ApiError> {
    db.read_report(|conn| {
        let reach = reach(ctx, conn, filter, ReportFilter::month_problems, threshold)?;
        let bars = store::duration_histograms(conn, &reach.slice())?
            .into_iter()
            .map(|b| (b.category_id, b.month, b.measure, b.days, b.requests))
            .collect();
        let codes = category_codes(conn)?.into_iter().collect();
        Ok(sr::duration_report(
            reach.echo(),
            reach.threshold,
            &codes,
            bars,
        ))
    })
}

/// Statuses of the open backlog: every status a request can still leave.
fn open_statuses() -> Vec<String> {
    Status::ALL
        .iter()
        .filter(|s| !s.is_closed())
        .map(|s| s.as_str().to_owned())
        .collect()
}

/// The open backlog by school, category and age.
pub fn backlog(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
    threshold: i64,
) -> Result<sr::BacklogReport, ApiError> {
    db.read_report(|conn| {
        let reach = reach(ctx, conn, filter, ReportFilter::problems, threshold)?;
        let now = db::now();
        // Ages in whole days: 0–7, 8–30, 31–90, 91 or more. A request is younger than 8
        // days when it was created after now - 8 days, and so on.
        let bounds: Vec<NaiveDateTime> = sr::AGE_BUCKETS[1..]
            .iter()
            .map(|(_, days)| now - Duration::days(*days))
            .collect();
        let schools = reach.schools.as_option();
        let counts = if reach.filter.from.is_none() && reach.filter.to.is_none() {
            backlog_by_age(
                conn,
                &bounds,
                schools.as_deref(),
                reach.filter.category_id.as_deref(),
            )?
        } else {
            store::open_by_age(
                conn,
                &open_statuses(),
                &bounds,
                created_range(&reach.filter),
                schools.as_deref(),
                reach.filter.category_id.as_deref(),
            )?
        };
        let ids: Vec<String> = counts.iter().map(|c| c.school_id.clone()).collect();
        let names = school_names(conn, &ids)?;
        let codes = category_codes(conn)?;
        let mut input: Vec<sr::BacklogInput> = Vec::new();
        for c in counts {
            let same = input
                .last()
                .is_some_and(|(k, _)| k.0 == c.school_id && k.2 == c.category_id);
            if !same {
                input.push((
                    (
                        c.school_id.clone(),
                        names.get(&c.school_id).cloned().unwrap_or_default(),
                        c.category_id.clone(),
                        codes.get(&c.category_id).cloned().unwrap_or_default(),
                    ),
                    [0; 4],
                ));
            }
            if let (Some(last), Ok(b)) = (input.last_mut(), usize::try_from(c.bucket)) {
                if let Some(slot) = last.1.get_mut(b) {
                    *slot += c.requests;
                }
            }
        }
        Ok(sr::backlog_report(
            reach.echo(),
            reach.threshold,
            now,
            input,
        ))
    })
}

/// The whole open backlog by age without counting every open request: the younger buckets
/// are counted over the index of open requests (only the last `bounds.last()` days are read),
/// and the oldest bucket is the tallies' open total less those. The result is the same as
/// [`store::open_by_age`] over every open request, in the same order.
fn backlog_by_age(
    conn: &mut AnyConnection,
    bounds: &[NaiveDateTime],
    schools: Option<&[String]>,
    category_id: Option<&str>,
) -> Result<Vec<store::AgeCount>, ApiError> {
    let statuses = open_statuses();
    let oldest = bounds.len();
    let recent = match bounds.last() {
        Some(b) => store::open_by_age(
            conn,
            &statuses,
            bounds,
            (Some(*b), None),
            schools,
            category_id,
        )?,
        None => Vec::new(),
    };
    let totals = store::open_totals(conn, &statuses, schools, category_id)?;
    let mut younger: HashMap<(String, String), i64> = HashMap::new();
    for c in &recent {
        if usize::try_from(c.bucket).is_ok_and(|b| b < oldest) {
            *younger
                .entry((c.school_id.clone(), c.category_id.clone()))
                .or_default() += c.requests;
        }
    }
    let mut counts: Vec<store::AgeCount> = recent
        .into_iter()
        .filter(|c| usize::try_from(c.bucket).is_ok_and(|b| b < oldest))
        .collect();
    for (school_id, category_id, total) in totals {
        let young = younger
            .get(&(school_id.clone(), category_id.clone()))
            .copied()
            .unwrap_or(0);
        if total > young {
            counts.push(store::AgeCount {
                school_id,
                category_id,
                bucket: i64::try_from(oldest).unwrap_or(i64::MAX),
                requests: total - young,
            });
        }
    }
    counts.sort_by(|a, b| {
        (&a.school_id, &a.category_id, a.bucket).cmp(&(&b.school_id, &b.category_id, b.bucket))
    });
    Ok(counts)
}

/// First contact against each category's target.
pub fn overdue(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
    threshold: i64,
) -> Result<sr::OverdueReport, ApiError> {
    db.read_report(|conn| {
        let reach = reach(ctx, conn, filter, ReportFilter::month_problems, threshold)?;
        let now = db::now();
        let targets: Vec<(String, String, i64, i64)> = store::categories(conn)?
            .into_iter()
            .filter(|(id, _, _)| reach.filter.category_id.as_ref().is_none_or(|c| c == id))
            .filter_map(|(id, code, days)| {
                days.map(|d| (id, code, d, super::services::calendar_days(d)))
            })
            .collect();
        let cutoffs: Vec<(String, NaiveDateTime)> = targets
            .iter()
            .map(|(id, _, _, cal)| (id.clone(), now - Duration::days(*cal)))
            .collect();
        let schools = reach.schools.as_option();
        let waiting = store::overdue_open(
            conn,
            &cutoffs,
            created_range(&reach.filter),
            schools.as_deref(),
        )?;
        let bars = store::duration_histograms(conn, &reach.slice())?;
        let input = targets
            .into_iter()
            .map(|(id, code, days, cal)| {
                let (mut on_time, mut late) = (0, 0);
                for b in bars
                    .iter()
                    .filter(|b| b.category_id == id && b.measure == "first_contact")
                {
                    if b.days < cal {
                        on_time += b.requests;
                    } else {
                        late += b.requests;
                    }
                }
                let waiting: i64 = waiting
                    .iter()
                    .filter(|(_, c, _)| *c == id)
                    .map(|(_, _, n)| n)
                    .sum();
                ((id, code, days, cal), [on_time, late, waiting])
            })
            .collect();
        Ok(sr::overdue_report(
            reach.echo(),
            reach.threshold,
            now,
            input,
        ))
    })
}

/// Referrals and outcomes per partner organization.
pub fn partners(
    ctx: &Context,
    db: &Db,
    filter: ReportFilter,
    threshold: i64,
) -> Result<sr::PartnerReport, ApiError> {
    db.read_report(|conn| {
        let reach = reach(ctx, conn, filter, ReportFilter::month_problems, threshold)?;
        let actions = store::partner_actions(conn, &reach.slice())?;
        let names: HashMap<String, String> = store::partner_names(conn)?.into_iter().collect();
        let mut input: Vec<sr::PartnerInput> = Vec::new();
        for a in actions {
            if input.last().is_none_or(|(k, _)| k.0 != a.partner_id) {
                input.push((
                    (
                        a.partner_id.clone(),
                        names.get(&a.partner_id).cloned().unwrap_or_default(),
                    ),
                    [0; 6],
                ));
            }
            let col = sr::PARTNER_COLUMNS
                .iter()
                .position(|(act, _)| *act == a.action);
            if let (Some(last), Some(col)) = (input.last_mut(), col) {
                last.1[col] += a.requests;
            }
        }
        Ok(sr::partner_report(reach.echo(), reach.threshold, input))
    })
}
