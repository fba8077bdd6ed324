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
        let mut rec = vec![
            Cell::Text("total".to_owned()),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ];
        rec.extend(
            self.statuses
                .iter()
                .map(|s| Cell::count(self.totals.counts.get(s).copied().flatten())),
        );
        rec.push(Cell::count(self.totals.total));
        out.push(rec);
        out
    }
}
