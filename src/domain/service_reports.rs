//! The service-request reports: their shapes (JSON and CSV) and how they are assembled from
//! the figures the database summed, with small-cell suppression applied. Pure.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::reports::{self, Cell, Tabular};
use super::services::Status;

/// The filter a report was computed for, echoed in its answer.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct FilterEcho {
    /// First day counted (inclusive), if any.
    #[schema(value_type = Option<String>, format = Date, example = "2026-09-01")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day counted (inclusive), if any.
    #[schema(value_type = Option<String>, format = Date, example = "2026-11-30")]
    pub to: Option<chrono::NaiveDate>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub school_id: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub council_id: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub category_id: Option<String>,
}

/// One row of the status-count report: requests of one school and category created in one
/// month, by their current status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusCountRow {
    #[schema(value_type = String, format = Uuid)]
    pub school_id: String,
    pub school_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub category_id: String,
    pub category_code: String,
    /// `YYYY-MM`: the month the requests were created.
    pub month: String,
    /// Requests by current status; `null` when hidden (see `suppressed`).
    pub counts: BTreeMap<String, Option<i64>>,
    /// Every request of the row; `null` when hidden.
    pub total: Option<i64>,
    /// The figures of this row that are hidden (status names, `total`).
    pub suppressed: Vec<String>,
}

/// The column totals of the status-count report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusCountTotals {
    pub counts: BTreeMap<String, Option<i64>>,
    pub total: Option<i64>,
    pub suppressed: Vec<String>,
}

/// Service requests by school, category, month of creation and current status.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": "2026-09-01", "to": "2026-10-31", "school_id": null, "council_id": null, "category_id": null},
    "threshold": 10,
    "statuses": ["submitted", "triaged", "referred", "accepted", "rejected", "in_progress", "completed", "declined", "withdrawn", "cancelled"],
    "rows": [{"school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "school_name": "Lincoln Elementary",
        "category_id": "01936d4e-6000-7000-8000-00000000c001", "category_code": "food", "month": "2026-09",
        "counts": {"submitted": 14, "triaged": null, "referred": 0, "accepted": 0, "rejected": 0, "in_progress": 22,
            "completed": 31, "declined": null, "withdrawn": 0, "cancelled": 0},
        "total": 78, "suppressed": ["triaged", "declined"]}],
    "totals": {"counts": {"submitted": 14, "triaged": null, "referred": 0, "accepted": 0, "rejected": 0, "in_progress": 22,
        "completed": 31, "declined": null, "withdrawn": 0, "cancelled": 0}, "total": 78, "suppressed": ["triaged", "declined"]}
}))]
pub struct StatusCountReport {
    pub filter: FilterEcho,
    /// Counts of 1 up to this number are hidden.
    pub threshold: i64,
    /// The status columns, in lifecycle order.
    pub statuses: Vec<String>,
    pub rows: Vec<StatusCountRow>,
    pub totals: StatusCountTotals,
}

/// What the status-count report is built from: one non-zero count per key.
#[derive(Debug, Clone)]
pub struct StatusCountInput {
    pub school_id: String,
    pub school_name: String,
    pub category_id: String,
    pub category_code: String,
    pub month: String,
    pub status: String,
    pub requests: i64,
}

fn status_names() -> Vec<String> {
    Status::ALL.iter().map(|s| s.as_str().to_owned()).collect()
}

/// Assembles the status-count report from counts ordered by school, category, month.
pub fn status_count_report(
    filter: FilterEcho,
    threshold: i64,
    input: Vec<StatusCountInput>,
) -> StatusCountReport {
    let statuses = status_names();
    // Rows keyed by (school, category, month) in input order.
    let mut keys: Vec<StatusCountInput> = Vec::new();
    let mut cells: Vec<Vec<i64>> = Vec::new();
    for item in input {
        let same = keys.last().is_some_and(|k| {
            k.school_id == item.school_id
                && k.category_id == item.category_id
                && k.month == item.month
        });
        if !same {
            keys.push(item.clone());
            cells.push(vec![0; statuses.len()]);
        }
        if let (Some(col), Some(row)) = (
            statuses.iter().position(|s| *s == item.status),
            cells.last_mut(),
        ) {
            row[col] += item.requests;
        }
    }
    let hidden = reports::suppress(&cells, statuses.len(), threshold);
    let mut rows = Vec::with_capacity(keys.len());
    let mut column_totals = vec![0i64; statuses.len()];
    for (r, key) in keys.into_iter().enumerate() {
        let mut counts = BTreeMap::new();
        let mut suppressed = Vec::new();
        for (c, status) in statuses.iter().enumerate() {
            let v = cells[r][c];
            column_totals[c] += v;
            counts.insert(status.clone(), reports::shown(v, hidden.cells[r][c]));
            if hidden.cells[r][c] {
                suppressed.push(status.clone());
            }
        }
        let total: i64 = cells[r].iter().sum();
        if hidden.row_totals[r] {
            suppressed.push("total".to_owned());
        }
        rows.push(StatusCountRow {
            school_id: key.school_id,
            school_name: key.school_name,
            category_id: key.category_id,
            category_code: key.category_code,
            month: key.month,
            counts,
            total: reports::shown(total, hidden.row_totals[r]),
            suppressed,
        });
    }
    let mut counts = BTreeMap::new();
    let mut suppressed = Vec::new();
    for (c, status) in statuses.iter().enumerate() {
        counts.insert(
            status.clone(),
            reports::shown(column_totals[c], hidden.column_totals[c]),
        );
        if hidden.column_totals[c] {
            suppressed.push(status.clone());
        }
    }
    if hidden.grand_total {
        suppressed.push("total".to_owned());
    }
    let grand: i64 = column_totals.iter().sum();
    StatusCountReport {
        filter,
        threshold,
        statuses,
        rows,
        totals: StatusCountTotals {
            counts,
            total: reports::shown(grand, hidden.grand_total),
            suppressed,
        },
    }
}

impl Tabular for StatusCountReport {
    fn header(&self) -> Vec<&'static str> {
        let mut h = vec![
            "row",
            "school_id",
            "school_name",
            "category_id",
            "category_code",
            "month",
        ];
        h.extend(Status::ALL.iter().map(|s| s.as_str()));
        h.push("total");
        h
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        let mut out = Vec::with_capacity(self.rows.len() + 1);
        for row in &self.rows {
            let mut rec = vec![
                Cell::Text("cell".to_owned()),
                Cell::Text(row.school_id.clone()),
                Cell::Text(row.school_name.clone()),
                Cell::Text(row.category_id.clone()),
                Cell::Text(row.category_code.clone()),
                Cell::Text(row.month.clone()),
            ];
            rec.extend(
                self.statuses
                    .iter()
                    .map(|s| Cell::count(row.counts.get(s).copied().flatten())),
            );
            rec.push(Cell::count(row.total));
            out.push(rec);
        }
        let totals: Vec<Option<i64>> = self
            .statuses
            .iter()
            .map(|s| self.totals.counts.get(s).copied().flatten())
            .chain([self.totals.total])
            .collect();
        out.push(Cell::totals_record(5, &totals));
        out
    }
}

/// Hides small cells of a table of counts whose column totals are published (and row totals
/// when `row_totals`); returns the cells as shown, the names of the hidden ones per row, the
/// row totals and the column totals as shown.
struct Shown {
    cells: Vec<Vec<Option<i64>>>,
    hidden_names: Vec<Vec<String>>,
    row_totals: Vec<Option<i64>>,
    column_totals: Vec<Option<i64>>,
    column_hidden_names: Vec<String>,
    grand_total: Option<i64>,
}

fn show(cells: &[Vec<i64>], names: &[&str], threshold: i64) -> Shown {
    let hidden = reports::suppress(cells, names.len(), threshold);
    let mut out = Shown {
        cells: Vec::new(),
        hidden_names: Vec::new(),
        row_totals: Vec::new(),
        column_totals: Vec::new(),
        column_hidden_names: Vec::new(),
        grand_total: None,
    };
    let mut column_sums = vec![0i64; names.len()];
    for (r, row) in cells.iter().enumerate() {
        let mut shown_row = Vec::new();
        let mut hidden_row = Vec::new();
        for (c, v) in row.iter().enumerate() {
            column_sums[c] += v;
            shown_row.push(reports::shown(*v, hidden.cells[r][c]));
            if hidden.cells[r][c] {
                hidden_row.push(names[c].to_owned());
            }
        }
        if hidden.row_totals[r] {
            hidden_row.push("total".to_owned());
        }
        out.row_totals
            .push(reports::shown(row.iter().sum(), hidden.row_totals[r]));
        out.cells.push(shown_row);
        out.hidden_names.push(hidden_row);
    }
    for (c, sum) in column_sums.iter().enumerate() {
        out.column_totals
            .push(reports::shown(*sum, hidden.column_totals[c]));
        if hidden.column_totals[c] {
            out.column_hidden_names.push(names[c].to_owned());
        }
    }
    if hidden.grand_total {
        out.column_hidden_names.push("total".to_owned());
    }
    out.grand_total = reports::shown(column_sums.iter().sum(), hidden.grand_total);
    out
}

fn get(row: &[Option<i64>], i: usize) -> Option<i64> {
    row.get(i).copied().flatten()
}

// Durations ------------------------------------------------------------------------------------

/// Time to first contact and to completion for requests of one category created in one month.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DurationRow {
    #[schema(value_type = String, format = Uuid)]
    pub category_id: String,
    pub category_code: String,
    /// `YYYY-MM`: the month the requests were created.
    pub month: String,
    /// Requests first contacted (triaged); `null` when hidden.
    pub first_contacts: Option<i64>,
    /// Whole days from creation to first contact: the median (nearest rank); `null` when
    /// hidden or there is none.
    pub first_contact_median_days: Option<i64>,
    pub first_contact_p90_days: Option<i64>,
    /// Requests completed; `null` when hidden.
    pub completions: Option<i64>,
    pub completion_median_days: Option<i64>,
    pub completion_p90_days: Option<i64>,
    /// The figures of this row that are hidden.
    pub suppressed: Vec<String>,
}

/// Time to first contact and to completion, median and 90th percentile in whole days.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": "2026-09-01", "to": "2026-09-30", "school_id": null, "council_id": null, "category_id": null},
    "threshold": 10,
    "rows": [{"category_id": "01936d4e-6000-7000-8000-00000000c001", "category_code": "food", "month": "2026-09",
        "first_contacts": 52, "first_contact_median_days": 1, "first_contact_p90_days": 4,
        "completions": 7, "completion_median_days": null, "completion_p90_days": null,
        "suppressed": ["completions", "completion_median_days", "completion_p90_days"]}]
}))]
pub struct DurationReport {
    pub filter: FilterEcho,
    pub threshold: i64,
    pub rows: Vec<DurationRow>,
}

/// One bar of a histogram: category, month, measure (`first_contact`, `completion`), whole
/// days, requests. Ordered by category and month.
pub type Bar = (String, String, String, i64, i64);

/// Assembles the durations report. A cell of `threshold` requests or fewer shows neither its
/// count nor its median and 90th percentile.
pub fn duration_report(
    filter: FilterEcho,
    threshold: i64,
    codes: &BTreeMap<String, String>,
    bars: Vec<Bar>,
) -> DurationReport {
    type Histograms = (Vec<(i64, i64)>, Vec<(i64, i64)>);
    let mut cells: BTreeMap<(String, String), Histograms> = BTreeMap::new();
    for (category, month, measure, days, n) in bars {
        let entry = cells.entry((category, month)).or_default();
        match measure.as_str() {
            "first_contact" => entry.0.push((days, n)),
            _ => entry.1.push((days, n)),
        }
    }
    let rows = cells
        .into_iter()
        .map(|((category_id, month), (first, done))| {
            let mut suppressed = Vec::new();
            let mut measure = |h: &[(i64, i64)], names: [&str; 3]| {
                let n: i64 = h.iter().map(|(_, n)| n).sum();
                if reports::is_small(n, threshold) {
                    suppressed.extend(names.iter().map(|s| s.to_string()));
                    (None, None, None)
                } else {
                    let p = reports::percentiles(h);
                    (Some(n), p.map(|p| p.0), p.map(|p| p.1))
                }
            };
            let f = measure(
                &first,
                [
                    "first_contacts",
                    "first_contact_median_days",
                    "first_contact_p90_days",
                ],
            );
            let d = measure(
                &done,
                [
                    "completions",
                    "completion_median_days",
                    "completion_p90_days",
                ],
            );
            DurationRow {
                category_code: codes.get(&category_id).cloned().unwrap_or_default(),
                category_id,
                month,
                first_contacts: f.0,
                first_contact_median_days: f.1,
                first_contact_p90_days: f.2,
                completions: d.0,
                completion_median_days: d.1,
                completion_p90_days: d.2,
                suppressed,
            }
        })
        .collect();
    DurationReport {
        filter,
        threshold,
        rows,
    }
}

fn opt(v: Option<i64>, hidden: bool) -> Cell {
    match (v, hidden) {
        (_, true) => Cell::Suppressed,
        (Some(n), false) => Cell::Int(n),
        (None, false) => Cell::Empty,
    }
}

impl Tabular for DurationReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "category_id",
            "category_code",
            "month",
            "first_contacts",
            "first_contact_median_days",
            "first_contact_p90_days",
            "completions",
            "completion_median_days",
            "completion_p90_days",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        self.rows
            .iter()
            .map(|r| {
                let h = |name: &str| r.suppressed.iter().any(|s| s == name);
                vec![
                    Cell::Text(r.category_id.clone()),
                    Cell::Text(r.category_code.clone()),
                    Cell::Text(r.month.clone()),
                    opt(r.first_contacts, h("first_contacts")),
                    opt(r.first_contact_median_days, h("first_contact_median_days")),
                    opt(r.first_contact_p90_days, h("first_contact_p90_days")),
                    opt(r.completions, h("completions")),
                    opt(r.completion_median_days, h("completion_median_days")),
                    opt(r.completion_p90_days, h("completion_p90_days")),
                ]
            })
            .collect()
    }
}

// Backlog --------------------------------------------------------------------------------------

/// Age buckets of the open backlog, youngest first: the lower bound of each in whole days.
pub const AGE_BUCKETS: [(&str, i64); 4] = [
    ("days_0_7", 0),
    ("days_8_30", 8),
    ("days_31_90", 31),
    ("days_91_plus", 91),
];

/// Open requests of one school and category by age.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacklogRow {
    #[schema(value_type = String, format = Uuid)]
    pub school_id: String,
    pub school_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub category_id: String,
    pub category_code: String,
    pub days_0_7: Option<i64>,
    pub days_8_30: Option<i64>,
    pub days_31_90: Option<i64>,
    pub days_91_plus: Option<i64>,
    pub total: Option<i64>,
    pub suppressed: Vec<String>,
}

/// Column totals of the backlog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacklogTotals {
    pub days_0_7: Option<i64>,
    pub days_8_30: Option<i64>,
    pub days_31_90: Option<i64>,
    pub days_91_plus: Option<i64>,
    pub total: Option<i64>,
    pub suppressed: Vec<String>,
}

/// The open backlog (requests not completed, declined, withdrawn or cancelled) by school,
/// category and age in whole days since creation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": null, "to": null, "school_id": null, "council_id": null, "category_id": null},
    "threshold": 10, "as_of": "2026-11-26T05:00:00Z",
    "rows": [{"school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "school_name": "Lincoln Elementary",
        "category_id": "01936d4e-6000-7000-8000-00000000c001", "category_code": "food",
        "days_0_7": 25, "days_8_30": 14, "days_31_90": null, "days_91_plus": null, "total": 47,
        "suppressed": ["days_31_90", "days_91_plus"]}],
    "totals": {"days_0_7": 25, "days_8_30": 14, "days_31_90": null, "days_91_plus": null, "total": 47,
        "suppressed": ["days_31_90", "days_91_plus"]}
}))]
pub struct BacklogReport {
    pub filter: FilterEcho,
    pub threshold: i64,
    /// The moment ages are counted from (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub as_of: chrono::DateTime<chrono::Utc>,
    pub rows: Vec<BacklogRow>,
    pub totals: BacklogTotals,
}

/// Open requests by key: (school id, school name, category id, category code) and the count in
/// each age bucket.
pub type BacklogInput = ((String, String, String, String), [i64; 4]);

pub fn backlog_report(
    filter: FilterEcho,
    threshold: i64,
    as_of: chrono::NaiveDateTime,
    input: Vec<BacklogInput>,
) -> BacklogReport {
    let names: Vec<&str> = AGE_BUCKETS.iter().map(|(n, _)| *n).collect();
    let cells: Vec<Vec<i64>> = input.iter().map(|(_, b)| b.to_vec()).collect();
    let s = show(&cells, &names, threshold);
    let rows = input
        .into_iter()
        .enumerate()
        .map(
            |(r, ((school_id, school_name, category_id, category_code), _))| BacklogRow {
                school_id,
                school_name,
                category_id,
                category_code,
                days_0_7: get(&s.cells[r], 0),
                days_8_30: get(&s.cells[r], 1),
                days_31_90: get(&s.cells[r], 2),
                days_91_plus: get(&s.cells[r], 3),
                total: s.row_totals[r],
                suppressed: s.hidden_names[r].clone(),
            },
        )
        .collect();
    BacklogReport {
        filter,
        threshold,
        as_of: as_of.and_utc(),
        rows,
        totals: BacklogTotals {
            days_0_7: get(&s.column_totals, 0),
            days_8_30: get(&s.column_totals, 1),
            days_31_90: get(&s.column_totals, 2),
            days_91_plus: get(&s.column_totals, 3),
            total: s.grand_total,
            suppressed: s.column_hidden_names,
        },
    }
}

impl Tabular for BacklogReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "row",
            "school_id",
            "school_name",
            "category_id",
            "category_code",
            "days_0_7",
            "days_8_30",
            "days_31_90",
            "days_91_plus",
            "total",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        let mut out: Vec<Vec<Cell>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text("cell".to_owned()),
                    Cell::Text(r.school_id.clone()),
                    Cell::Text(r.school_name.clone()),
                    Cell::Text(r.category_id.clone()),
                    Cell::Text(r.category_code.clone()),
                    Cell::count(r.days_0_7),
                    Cell::count(r.days_8_30),
                    Cell::count(r.days_31_90),
                    Cell::count(r.days_91_plus),
                    Cell::count(r.total),
                ]
            })
            .collect();
        let t = &self.totals;
        out.push(Cell::totals_record(
            4,
            &[
                t.days_0_7,
                t.days_8_30,
                t.days_31_90,
                t.days_91_plus,
                t.total,
            ],
        ));
        out
    }
}

// Overdue --------------------------------------------------------------------------------------

/// First contact against a category's target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueRow {
    #[schema(value_type = String, format = Uuid)]
    pub category_id: String,
    pub category_code: String,
    /// The category's `first_contact_school_days`.
    pub target_school_days: i64,
    /// The calendar days that target spans (5 school days per 7 calendar days).
    pub target_calendar_days: i64,
    /// First contacts within the target.
    pub contacted_on_time: Option<i64>,
    /// First contacts at or after `target_calendar_days` whole days.
    pub contacted_late: Option<i64>,
    /// Requests still `submitted` past the target now.
    pub waiting_overdue: Option<i64>,
    pub total: Option<i64>,
    pub suppressed: Vec<String>,
}

/// First contact against each category's target (categories with a target only).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": "2026-09-01", "to": "2026-11-30", "school_id": null, "council_id": null, "category_id": null},
    "threshold": 10, "as_of": "2026-11-26T05:00:00Z",
    "rows": [{"category_id": "01936d4e-6000-7000-8000-00000000c001", "category_code": "food",
        "target_school_days": 2, "target_calendar_days": 4,
        "contacted_on_time": 140, "contacted_late": 22, "waiting_overdue": null, "total": 169,
        "suppressed": ["waiting_overdue"]}],
    "totals": {"contacted_on_time": 140, "contacted_late": 22, "waiting_overdue": null, "total": 169,
        "suppressed": ["waiting_overdue"]}
}))]
pub struct OverdueReport {
    pub filter: FilterEcho,
    pub threshold: i64,
    #[schema(value_type = String, format = DateTime)]
    pub as_of: chrono::DateTime<chrono::Utc>,
    pub rows: Vec<OverdueRow>,
    pub totals: OverdueTotals,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueTotals {
    pub contacted_on_time: Option<i64>,
    pub contacted_late: Option<i64>,
    pub waiting_overdue: Option<i64>,
    pub total: Option<i64>,
    pub suppressed: Vec<String>,
}

/// Per category: (id, code, target school days, target calendar days) and
/// [on time, late, waiting overdue].
pub type OverdueInput = ((String, String, i64, i64), [i64; 3]);

pub fn overdue_report(
    filter: FilterEcho,
    threshold: i64,
    as_of: chrono::NaiveDateTime,
    input: Vec<OverdueInput>,
) -> OverdueReport {
    let names = ["contacted_on_time", "contacted_late", "waiting_overdue"];
    let cells: Vec<Vec<i64>> = input.iter().map(|(_, c)| c.to_vec()).collect();
    let s = show(&cells, &names, threshold);
    let rows = input
        .into_iter()
        .enumerate()
        .map(
            |(r, ((category_id, category_code, school_days, calendar_days), _))| OverdueRow {
                category_id,
                category_code,
                target_school_days: school_days,
                target_calendar_days: calendar_days,
                contacted_on_time: get(&s.cells[r], 0),
                contacted_late: get(&s.cells[r], 1),
                waiting_overdue: get(&s.cells[r], 2),
                total: s.row_totals[r],
                suppressed: s.hidden_names[r].clone(),
            },
        )
        .collect();
    OverdueReport {
        filter,
        threshold,
        as_of: as_of.and_utc(),
        rows,
        totals: OverdueTotals {
            contacted_on_time: get(&s.column_totals, 0),
            contacted_late: get(&s.column_totals, 1),
            waiting_overdue: get(&s.column_totals, 2),
            total: s.grand_total,
            suppressed: s.column_hidden_names,
        },
    }
}

impl Tabular for OverdueReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "row",
            "category_id",
            "category_code",
            "target_school_days",
            "target_calendar_days",
            "contacted_on_time",
            "contacted_late",
            "waiting_overdue",
            "total",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        let mut out: Vec<Vec<Cell>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text("cell".to_owned()),
                    Cell::Text(r.category_id.clone()),
                    Cell::Text(r.category_code.clone()),
                    Cell::Int(r.target_school_days),
                    Cell::Int(r.target_calendar_days),
                    Cell::count(r.contacted_on_time),
                    Cell::count(r.contacted_late),
                    Cell::count(r.waiting_overdue),
                    Cell::count(r.total),
                ]
            })
            .collect();
        let t = &self.totals;
        out.push(Cell::totals_record(
            4,
            &[
                t.contacted_on_time,
                t.contacted_late,
                t.waiting_overdue,
                t.total,
            ],
        ));
        out
    }
}

// Partners -------------------------------------------------------------------------------------

/// The partner actions the partner report counts, as its columns.
pub const PARTNER_COLUMNS: [(&str, &str); 6] = [
    ("refer", "referred"),
    ("accept", "accepted"),
    ("reject", "rejected"),
    ("start", "started"),
    ("complete", "completed"),
    ("decline", "declined"),
];

/// Referrals to one partner organization and what became of them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerRow {
    /// The partner organization; `null` in the totals.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub partner_id: Option<String>,
    /// `null` in the totals.
    pub partner_name: Option<String>,
    /// Referrals made to the partner.
    pub referred: Option<i64>,
    pub accepted: Option<i64>,
    pub rejected: Option<i64>,
    pub started: Option<i64>,
    pub completed: Option<i64>,
    pub declined: Option<i64>,
    pub suppressed: Vec<String>,
}

/// Referrals and outcomes per partner organization: how many times requests were referred to
/// each, and accepted, rejected, started, completed and declined by it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": "2026-09-01", "to": "2026-11-30", "school_id": null, "council_id": null, "category_id": null},
    "threshold": 10,
    "rows": [{"partner_id": "01936d4e-7000-7000-8000-00000000d001", "partner_name": "Eastside Family Resource Center",
        "referred": 120, "accepted": 104, "rejected": 16, "started": 98, "completed": 81, "declined": null,
        "suppressed": ["declined"]}],
    "totals": {"partner_id": null, "partner_name": null, "referred": 120, "accepted": 104, "rejected": 16, "started": 98,
        "completed": 81, "declined": null, "suppressed": ["declined"]}
}))]
pub struct PartnerReport {
    pub filter: FilterEcho,
    pub threshold: i64,
    pub rows: Vec<PartnerRow>,
    /// Column totals (`partner_id` and `partner_name` are `null`).
    pub totals: PartnerRow,
}

/// Per partner: (id, name) and counts in [`PARTNER_COLUMNS`] order.
pub type PartnerInput = ((String, String), [i64; 6]);

pub fn partner_report(
    filter: FilterEcho,
    threshold: i64,
    input: Vec<PartnerInput>,
) -> PartnerReport {
    let names: Vec<&str> = PARTNER_COLUMNS.iter().map(|(_, n)| *n).collect();
    let cells: Vec<Vec<i64>> = input.iter().map(|(_, c)| c.to_vec()).collect();
    let s = show(&cells, &names, threshold);
    let row = |id: Option<String>,
               name: Option<String>,
               v: &[Option<i64>],
               suppressed: Vec<String>| PartnerRow {
        partner_id: id,
        partner_name: name,
        referred: get(v, 0),
        accepted: get(v, 1),
        rejected: get(v, 2),
        started: get(v, 3),
        completed: get(v, 4),
        declined: get(v, 5),
        // Row totals (sums of different actions) are not published.
        suppressed: suppressed.into_iter().filter(|n| n != "total").collect(),
    };
    let rows = input
        .into_iter()
        .enumerate()
        .map(|(r, ((id, name), _))| {
            row(Some(id), Some(name), &s.cells[r], s.hidden_names[r].clone())
        })
        .collect();
    let totals = row(None, None, &s.column_totals, s.column_hidden_names.clone());
    PartnerReport {
        filter,
        threshold,
        rows,
        totals,
    }
}

impl Tabular for PartnerReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "row",
            "partner_id",
            "partner_name",
            "referred",
            "accepted",
            "rejected",
            "started",
            "completed",
            "declined",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        let rec = |kind: &str, r: &PartnerRow| {
            vec![
                Cell::Text(kind.to_owned()),
                Cell::text(r.partner_id.as_deref()),
                Cell::text(r.partner_name.as_deref()),
                Cell::count(r.referred),
                Cell::count(r.accepted),
                Cell::count(r.rejected),
                Cell::count(r.started),
                Cell::count(r.completed),
                Cell::count(r.declined),
            ]
        };
        let mut out: Vec<Vec<Cell>> = self.rows.iter().map(|r| rec("cell", r)).collect();
        out.push(rec("total", &self.totals));
        out
    }
}
