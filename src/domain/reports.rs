//! What every report shares: the table a report renders as (JSON or CSV), small-cell
//! suppression with complementary suppression, percentiles read from day histograms, and the
//! RFC 4180 CSV writer. Pure: the figures are handed in.
//!
//! Suppression rule (docs/REPORTS.md): a count of people (students or families) `n` is hidden
//! when `1 <= n <= threshold`; zero is not a small cell and is shown. The threshold is the
//! largest count hidden, at least [`MIN_THRESHOLD`] (10: cells of 1–10 are hidden). A hidden
//! figure is `null` in JSON (and named in the row's `suppressed` list) and
//! [`SUPPRESSED_MARKER`] in CSV, never zero.

use chrono::{Datelike, NaiveDate};

use super::services::Action;

/// The smallest threshold a district may configure: cells of 1 to 10 are always hidden.
pub const MIN_THRESHOLD: i64 = 10;

/// What a hidden figure reads as in CSV.
pub const SUPPRESSED_MARKER: &str = "*";

/// Whether a count is a small cell under `threshold` (the largest count hidden).
pub fn is_small(n: i64, threshold: i64) -> bool {
    n >= 1 && n <= threshold
}

/// Which cells of a table of counts with published row and column totals to hide.
///
/// `cells[r][c]` are the counts; every row total, every column total and the grand total are
/// published too. Primary suppression hides every small cell (and small totals). Complementary
/// suppression then looks at each row and each column as the equation "cells add up to the
/// total": where exactly one member of an equation is hidden, it could be worked out from the
/// others, so a second member is hidden: the smallest non-zero visible cell, else a visible zero
/// cell, else the total. This repeats until no equation has exactly one hidden member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// `hidden[r][c]` for each cell.
    pub cells: Vec<Vec<bool>>,
    /// Whether each row's total is hidden.
    pub row_totals: Vec<bool>,
    /// Whether each column's total is hidden.
    pub column_totals: Vec<bool>,
    /// Whether the grand total is hidden.
    pub grand_total: bool,
}

impl Suppression {
    /// Whether anything at all is hidden.
    pub fn any(&self) -> bool {
        self.grand_total
            || self.row_totals.iter().any(|h| *h)
            || self.column_totals.iter().any(|h| *h)
            || self.cells.iter().flatten().any(|h| *h)
    }
}

/// Decides which cells of `cells` (rows of equal length `columns`) to hide; see [`Suppression`].
pub fn suppress(cells: &[Vec<i64>], columns: usize, threshold: i64) -> Suppression {
    let rows = cells.len();
    // The table with its margins: row r's total at [r][columns], column c's total at
    // [rows][c], the grand total at [rows][columns].
    let mut value = vec![vec![0i64; columns + 1]; rows + 1];
    for (r, row) in cells.iter().enumerate() {
        for c in 0..columns {
            let v = row.get(c).copied().unwrap_or(0);
            value[r][c] = v;
            value[r][columns] += v;
            value[rows][c] += v;
            value[rows][columns] += v;
        }
    }
    let mut hidden: Vec<Vec<bool>> = value
        .iter()
        .map(|row| row.iter().map(|v| is_small(*v, threshold)).collect())
        .collect();
    // Every equation as the list of its members, the total last.
    let mut equations: Vec<Vec<(usize, usize)>> = Vec::with_capacity(rows + columns + 2);
    for r in 0..=rows {
        equations.push((0..=columns).map(|c| (r, c)).collect());
    }
    for c in 0..=columns {
        equations.push((0..=rows).map(|r| (r, c)).collect());
    }
    // Hidden members per equation, kept as cells are hidden: row r is equation r, column c is
    // equation rows + 1 + c.
    let mut count: Vec<usize> = equations
        .iter()
        .map(|eq| eq.iter().filter(|(r, c)| hidden[*r][*c]).count())
        .collect();
    loop {
        let mut changed = false;
        for (e, eq) in equations.iter().enumerate() {
            if count[e] != 1 {
                continue;
            }
            let (parts, total) = eq.split_at(eq.len() - 1);
            let visible = |&&(r, c): &&(usize, usize)| !hidden[r][c];
            let pick = parts
                .iter()
                .filter(visible)
                .filter(|(r, c)| value[*r][*c] > 0)
                .min_by_key(|(r, c)| (value[*r][*c], *r, *c))
                .or_else(|| parts.iter().find(visible))
                .or_else(|| total.iter().find(visible))
                .copied();
            if let Some((r, c)) = pick {
                hidden[r][c] = true;
                count[r] += 1;
                count[rows + 1 + c] += 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    Suppression {
        cells: hidden[..rows]
            .iter()
            .map(|row| row[..columns].to_vec())
            .collect(),
        row_totals: hidden[..rows].iter().map(|row| row[columns]).collect(),
        column_totals: hidden[rows][..columns].to_vec(),
        grand_total: hidden[rows][columns],
    }
}

/// A count as published: `None` when hidden.
pub fn shown(n: i64, hidden: bool) -> Option<i64> {
    (!hidden).then_some(n)
}

/// Median and 90th percentile of a histogram of whole days, `(days, how many)` in any order:
/// the nearest-rank percentiles (the smallest value with at least `p` percent of the values at
/// or below it). `None` for an empty histogram.
pub fn percentiles(histogram: &[(i64, i64)]) -> Option<(i64, i64)> {
    let mut sorted: Vec<(i64, i64)> = histogram.iter().copied().filter(|(_, n)| *n > 0).collect();
    sorted.sort_unstable();
    let total: i64 = sorted.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = |p: i64| (total * p + 99) / 100; // ceil(total * p / 100), at least 1
    let at = |rank: i64| {
        let mut seen = 0;
        for (days, n) in &sorted {
            seen += n;
            if seen >= rank {
                return *days;
            }
        }
        sorted.last().map(|(d, _)| *d).unwrap_or(0)
    };
    Some((at(rank(50).max(1)), at(rank(90).max(1))))
}

/// The first day of `date`'s month.
pub fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// Whether `date` is the last day of its month.
pub fn is_month_end(date: NaiveDate) -> bool {
    date.succ_opt()
        .is_none_or(|next| next.month() != date.month())
}

/// `YYYY-MM` of a date.
pub fn month_key(date: NaiveDate) -> String {
    date.format("%Y-%m").to_string()
}

/// Actions taken with a partner organization that the partner report counts.
pub const PARTNER_ACTIONS: [Action; 6] = [
    Action::Refer,
    Action::Accept,
    Action::Reject,
    Action::Start,
    Action::Complete,
    Action::Decline,
];

/// The filter every report takes: a date range (inclusive days), one school, one council (its
/// school; a district-wide council stands for every school), one service category. Ids are
/// checked to exist by the command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub school_id: Option<String>,
    pub council_id: Option<String>,
    pub category_id: Option<String>,
}

impl ReportFilter {
    /// What is wrong with the filter on its own, as `(field, message)` pairs.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                out.push(("from", "must not be after to"));
            }
        }
        out
    }

    /// Problems of a report counted by month of creation: the range must cover whole months.
    pub fn month_problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = self.problems();
        if self.from.is_some_and(|d| month_start(d) != d) {
            out.push((
                "from",
                "this report counts whole months: give the first day of a month",
            ));
        }
        if self.to.is_some_and(|d| !is_month_end(d)) {
            out.push((
                "to",
                "this report counts whole months: give the last day of a month",
            ));
        }
        out
    }

    /// `YYYY-MM` of `from` and `to`.
    pub fn months(&self) -> (Option<String>, Option<String>) {
        (self.from.map(month_key), self.to.map(month_key))
    }
}

/// One field of a CSV record.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A hidden figure: written as [`SUPPRESSED_MARKER`].
    Suppressed,
    /// No value (e.g. no median for a cell without requests).
    Empty,
}

impl Cell {
    /// A count, or the marker when hidden.
    pub fn count(value: Option<i64>) -> Cell {
        value.map_or(Cell::Suppressed, Cell::Int)
    }

    /// An optional text or number.
    pub fn text(value: Option<&str>) -> Cell {
        value.map_or(Cell::Empty, |v| Cell::Text(v.to_owned()))
    }

    /// A report's totals as a CSV record: `total` in the `row` column, `blank` empty key
    /// columns (a total names no school or category), then the counts.
    pub fn totals_record(blank: usize, counts: &[Option<i64>]) -> Vec<Cell> {
        std::iter::once(Cell::Text("total".to_owned()))
            .chain(std::iter::repeat_with(|| Cell::Empty).take(blank))
            .chain(counts.iter().map(|c| Cell::count(*c)))
            .collect()
    }
}

/// A report that can be written as one CSV table: a header row, then one record per row.
pub trait Tabular {
    /// Column names, in order.
    fn header(&self) -> Vec<&'static str>;
    /// The records, each as long as the header.
    fn records(&self) -> Vec<Vec<Cell>>;
}

/// A text field as RFC 4180 writes it: quoted when it holds a comma, a quote, CR or LF (quotes
/// doubled); a field a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR at the
/// start) gets a leading apostrophe, the OWASP advice against CSV injection.
pub fn csv_field(text: &str, out: &mut String) {
    let guarded;
    let text = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => {
            guarded = format!("'{text}");
            guarded.as_str()
        }
        _ => text,
    };
    if text.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// The report as CSV (RFC 4180): UTF-8, a header row, CRLF after every record.
pub fn to_csv(report: &dyn Tabular) -> String {
    let mut out = String::new();
    let header = report.header();
    for (i, name) in header.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(name, &mut out);
    }
    out.push_str("\r\n");
    for record in report.records() {
        for (i, cell) in record.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match cell {
                Cell::Text(t) => csv_field(t, &mut out),
                Cell::Int(n) => out.push_str(&n.to_string()),
                Cell::Suppressed => out.push_str(SUPPRESSED_MARKER),
                Cell::Empty => {}
            }
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_one_to_threshold() {
        assert!(!is_small(0, 10));
        assert!(is_small(1, 10));
        assert!(is_small(10, 10));
        assert!(!is_small(11, 10));
    }

    #[test]
    fn one_hidden_cell_in_a_row_hides_the_smallest_other() {
        // Row 0: 5 is small; 40 and 20 are not. The row total (65) would reveal 5 from 40 and
        // 20, so the smallest other non-zero cell (20) is hidden too. Column 0 then has one
        // hidden cell (5) against 30: that hides 30; column 2 has 20 hidden against 50: hides 50.
        let cells = vec![vec![5, 40, 20], vec![30, 60, 50]];
        let s = suppress(&cells, 3, 10);
        assert_eq!(
            s.cells,
            vec![vec![true, false, true], vec![true, false, true]]
        );
        assert_eq!(s.row_totals, vec![false, false]);
        assert_eq!(s.column_totals, vec![false, false, false]);
        assert!(!s.grand_total);
    }

    #[test]
    fn nothing_small_hides_nothing() {
        let s = suppress(&[vec![11, 0, 25]], 3, 10);
        assert!(!s.any());
    }

    #[test]
    fn a_lone_hidden_cell_beside_zeros_hides_a_zero() {
        // 4 with zeros beside it: the row total (4) is small too, so two members are hidden.
        let s = suppress(&[vec![4, 0], vec![20, 30]], 2, 10);
        assert!(s.cells[0][0]);
        assert!(s.row_totals[0]);
        // Column 0: 4 hidden, 20 visible, total 24: the 20 must go.
        assert!(s.cells[1][0]);
    }

    #[test]
    fn every_equation_has_zero_or_at_least_two_hidden() {
        let cells = vec![
            vec![3, 50, 12, 0],
            vec![14, 9, 33, 2],
            vec![40, 41, 42, 43],
            vec![0, 0, 11, 1],
        ];
        let s = suppress(&cells, 4, 10);
        for r in 0..4 {
            let n = s.cells[r].iter().filter(|h| **h).count() + s.row_totals[r] as usize;
            assert!(n != 1, "row {r}");
        }
        for c in 0..4 {
            let n = (0..4).filter(|r| s.cells[*r][c]).count() + s.column_totals[c] as usize;
            assert!(n != 1, "column {c}");
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        // Ten values: 0,0,1,1,1,2,3,3,7,9. Median rank 5 → 1; p90 rank 9 → 7.
        let h = [(3, 2), (0, 2), (1, 3), (2, 1), (7, 1), (9, 1)];
        assert_eq!(percentiles(&h), Some((1, 7)));
        assert_eq!(percentiles(&[]), None);
        assert_eq!(percentiles(&[(4, 1)]), Some((4, 4)));
    }

    #[test]
    fn csv_quotes_and_crlf() {
        struct T;
        impl Tabular for T {
            fn header(&self) -> Vec<&'static str> {
                vec!["name", "n"]
            }
            fn records(&self) -> Vec<Vec<Cell>> {
                vec![
                    vec![Cell::Text("Lincoln, \"Elementary\"".into()), Cell::Int(12)],
                    vec![Cell::Text("=1+1".into()), Cell::Suppressed],
                    vec![Cell::Text("two\nlines".into()), Cell::Empty],
                ]
            }
        }
        assert_eq!(
            to_csv(&T),
            "name,n\r\n\"Lincoln, \"\"Elementary\"\"\",12\r\n'=1+1,*\r\n\"two\nlines\",\r\n"
        );
    }

    #[test]
    fn months() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert!(is_month_end(d));
        assert!(!is_month_end(NaiveDate::from_ymd_opt(2024, 2, 28).unwrap()));
        assert_eq!(month_key(d), "2024-02");
        assert_eq!(month_start(d), NaiveDate::from_ymd_opt(2024, 2, 1).unwrap());
    }
}
