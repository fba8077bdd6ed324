//! The governance reports: seats, attendance, agenda sources, motions, notices and public
//! comments of councils, as JSON and CSV. Pure: assembled from counts the database grouped.
//!
//! These are public acts of public bodies (who sits on a council, who came, what was moved and
//! decided, when notice was posted, how many comments an item drew): no count is suppressed.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::composition::RuleOutcome;
use super::report::ConstituencyCount;
use super::reports::{Cell, Tabular};
use super::service_reports::FilterEcho;

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn int(n: i64) -> Cell {
    Cell::Int(n)
}

// Seats ------------------------------------------------------------------------------------------

/// The seats of one council and whether its composition rules hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouncilSeats {
    #[schema(value_type = String, format = Uuid)]
    pub council_id: String,
    pub council_name: String,
    /// One entry per constituency that has seats.
    pub by_constituency: Vec<ConstituencyCount>,
    /// All seats of the council (`constituency` is null).
    pub totals: ConstituencyCount,
    /// The council's composition rules, checked against its seats now.
    pub rules: Vec<RuleOutcome>,
    pub all_rules_pass: bool,
}

/// Seats, filled and vacant, by council and constituency, with composition-rule status. Public
/// acts of councils: no figure is suppressed. Seats are counted as they stand on `as_of`; the
/// date range does not apply.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": null, "to": null, "school_id": null, "council_id": null, "category_id": null},
    "as_of": "2026-11-26",
    "councils": [{"council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "council_name": "Lincoln School Site Council",
        "by_constituency": [
            {"constituency": "teachers", "seats": 3, "voting_seats": 3, "filled": 3, "vacant": 0},
            {"constituency": "families", "seats": 3, "voting_seats": 3, "filled": 2, "vacant": 1}],
        "totals": {"constituency": null, "seats": 6, "voting_seats": 6, "filled": 5, "vacant": 1},
        "rules": [{"index": 0, "name": "community parity", "passed": true,
            "explanation": "families = 3 ≥ teachers = 3 (voting seats; required ≥)"}],
        "all_rules_pass": true}]
}))]
pub struct SeatsReport {
    pub filter: FilterEcho,
    /// The day (UTC) the seats were counted.
    #[schema(value_type = String, format = Date)]
    pub as_of: chrono::NaiveDate,
    pub councils: Vec<CouncilSeats>,
}

fn constituency_name(c: &ConstituencyCount) -> String {
    c.constituency
        .map_or_else(|| "total".to_owned(), |c| c.as_str().to_owned())
}

impl Tabular for SeatsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "council_id",
            "council_name",
            "constituency",
            "seats",
            "voting_seats",
            "filled",
            "vacant",
            "rules_passed",
            "rules_failed",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        let mut out = Vec::new();
        for c in &self.councils {
            let passed = c.rules.iter().filter(|r| r.passed).count() as i64;
            let failed = c.rules.len() as i64 - passed;
            for g in c.by_constituency.iter().chain(std::iter::once(&c.totals)) {
                let is_total = g.constituency.is_none();
                out.push(vec![
                    text(&c.council_id),
                    text(&c.council_name),
                    Cell::Text(constituency_name(g)),
                    int(i64::from(g.seats)),
                    int(i64::from(g.voting_seats)),
                    int(i64::from(g.filled)),
                    int(i64::from(g.vacant)),
                    if is_total { int(passed) } else { Cell::Empty },
                    if is_total { int(failed) } else { Cell::Empty },
                ]);
            }
        }
        out
    }
}

// Grouped counts ---------------------------------------------------------------------------------

/// A count from the database: council, a key (constituency, or `""`), a state, and `n`.
#[derive(Debug, Clone)]
pub struct Count {
    pub council_id: String,
    pub council_name: String,
    pub key: String,
    pub state: String,
    pub n: i64,
}

/// Counts by (council, key) in input order, each with its counts by state.
fn by_key(input: Vec<Count>) -> Vec<(String, String, String, BTreeMap<String, i64>)> {
    let mut out: Vec<(String, String, String, BTreeMap<String, i64>)> = Vec::new();
    for c in input {
        let same = out
            .last()
            .is_some_and(|(id, _, key, _)| *id == c.council_id && *key == c.key);
        if !same {
            out.push((c.council_id, c.council_name, c.key, BTreeMap::new()));
        }
        if let Some(last) = out.last_mut() {
            *last.3.entry(c.state).or_insert(0) += c.n;
        }
    }
    out
}

fn get(m: &BTreeMap<String, i64>, state: &str) -> i64 {
    m.get(state).copied().unwrap_or(0)
}

// Attendance -------------------------------------------------------------------------------------

/// Attendance of one constituency's seats at one council's meetings in range.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceRow {
    #[schema(value_type = String, format = Uuid)]
    pub council_id: String,
    pub council_name: String,
    pub constituency: String,
    /// Attendance records taken (members expected, summed over meetings).
    pub expected: i64,
    pub present: i64,
    pub absent: i64,
    /// `present / expected`, rounded to 4 decimals; null when nothing was expected.
    pub rate: Option<f64>,
}

/// Attendance rate per council and constituency: members present over members expected (the
/// attendance taken at each meeting), over the meetings that start in the date range. Public
/// acts of councils: no figure is suppressed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": "2026-09-01", "to": "2026-11-30", "school_id": null, "council_id": null, "category_id": null},
    "rows": [{"council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "council_name": "Lincoln School Site Council",
        "constituency": "families", "expected": 9, "present": 7, "absent": 2, "rate": 0.7778}]
}))]
pub struct AttendanceReport {
    pub filter: FilterEcho,
    pub rows: Vec<AttendanceRow>,
}

/// Rounds a ratio to 4 decimals.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0)
}

pub fn attendance_report(filter: FilterEcho, input: Vec<Count>) -> AttendanceReport {
    let rows = by_key(input)
        .into_iter()
        .map(|(council_id, council_name, constituency, m)| {
            let present = get(&m, "present");
            let absent = get(&m, "absent");
            let expected = m.values().sum();
            AttendanceRow {
                council_id,
                council_name,
                constituency,
                expected,
                present,
                absent,
                rate: rate(present, expected),
            }
        })
        .collect();
    AttendanceReport { filter, rows }
}

impl Tabular for AttendanceReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "council_id",
            "council_name",
            "constituency",
            "expected",
            "present",
            "absent",
            "rate",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        self.rows
            .iter()
            .map(|r| {
                vec![
                    text(&r.council_id),
                    text(&r.council_name),
                    text(&r.constituency),
                    int(r.expected),
                    int(r.present),
                    int(r.absent),
                    r.rate
                        .map_or(Cell::Empty, |v| Cell::Text(format!("{v:.4}"))),
                ]
            })
            .collect()
    }
}

// Agenda sources ---------------------------------------------------------------------------------

/// The source of agenda items without a proposing seat.
pub const NO_PROPOSING_SEAT: &str = "no_proposing_seat";

/// Agenda items of one council proposed from one constituency's seats.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaSourceRow {
    #[schema(value_type = String, format = Uuid)]
    pub council_id: String,
    pub council_name: String,
    /// The proposing seat's constituency, or `no_proposing_seat`.
    pub source: String,
    /// Items still proposed (not yet placed on a meeting).
    pub proposed: i64,
    /// Items placed on a meeting's agenda.
    pub accepted: i64,
    pub declined: i64,
    pub total: i64,
}

/// Agenda items by council and the constituency of the seat that proposed them (who sets the
/// agenda); items with no proposing seat are counted as `no_proposing_seat`. With a date
/// range, only items placed on meetings that start in it. Public acts of councils: no figure
/// is suppressed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": null, "to": null, "school_id": null, "council_id": null, "category_id": null},
    "rows": [
        {"council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "council_name": "Lincoln School Site Council",
         "source": "families", "proposed": 1, "accepted": 4, "declined": 0, "total": 5},
        {"council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "council_name": "Lincoln School Site Council",
         "source": "no_proposing_seat", "proposed": 0, "accepted": 6, "declined": 1, "total": 7}]
}))]
pub struct AgendaSourcesReport {
    pub filter: FilterEcho,
    pub rows: Vec<AgendaSourceRow>,
}

pub fn agenda_sources_report(filter: FilterEcho, input: Vec<Count>) -> AgendaSourcesReport {
    let rows = by_key(input)
        .into_iter()
        .map(|(council_id, council_name, key, m)| AgendaSourceRow {
            council_id,
            council_name,
            source: if key.is_empty() {
                NO_PROPOSING_SEAT.to_owned()
            } else {
                key
            },
            proposed: get(&m, "proposed"),
            accepted: get(&m, "accepted"),
            declined: get(&m, "declined"),
            total: m.values().sum(),
        })
        .collect();
    AgendaSourcesReport { filter, rows }
}

impl Tabular for AgendaSourcesReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "council_id",
            "council_name",
            "source",
            "proposed",
            "accepted",
            "declined",
            "total",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        self.rows
            .iter()
            .map(|r| {
                vec![
                    text(&r.council_id),
                    text(&r.council_name),
                    text(&r.source),
                    int(r.proposed),
                    int(r.accepted),
                    int(r.declined),
                    int(r.total),
                ]
            })
            .collect()
    }
}

// Motions ----------------------------------------------------------------------------------------

/// Motions of one council's meetings by outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct MotionRow {
    #[schema(value_type = String, format = Uuid)]
    pub council_id: String,
    pub council_name: String,
    /// Motions whose vote passed (status `passed`).
    pub adopted: i64,
    pub failed: i64,
    /// Motions still open (not yet voted).
    pub open: i64,
    pub total: i64,
}

/// Motions and their outcomes per council, over the meetings that start in the date range.
/// Public acts of councils: no figure is suppressed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": "2026-09-01", "to": "2026-11-30", "school_id": null, "council_id": null, "category_id": null},
    "rows": [{"council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "council_name": "Lincoln School Site Council",
        "adopted": 5, "failed": 1, "open": 0, "total": 6}]
}))]
pub struct MotionsReport {
    pub filter: FilterEcho,
    pub rows: Vec<MotionRow>,
}

pub fn motions_report(filter: FilterEcho, input: Vec<Count>) -> MotionsReport {
    let rows = by_key(input)
        .into_iter()
        .map(|(council_id, council_name, _, m)| MotionRow {
            council_id,
            council_name,
            adopted: get(&m, "passed"),
            failed: get(&m, "failed"),
            open: get(&m, "open"),
            total: m.values().sum(),
        })
        .collect();
    MotionsReport { filter, rows }
}

impl Tabular for MotionsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "council_id",
            "council_name",
            "adopted",
            "failed",
            "open",
            "total",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        self.rows
            .iter()
            .map(|r| {
                vec![
                    text(&r.council_id),
                    text(&r.council_name),
                    int(r.adopted),
                    int(r.failed),
                    int(r.open),
                    int(r.total),
                ]
            })
            .collect()
    }
}

// Notices ----------------------------------------------------------------------------------------

/// How one council's meetings were noticed.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct NoticeRow {
    #[schema(value_type = String, format = Uuid)]
    pub council_id: String,
    pub council_name: String,
    /// Meetings whose notice was posted.
    pub noticed: i64,
    /// Posted at least the required hours before the start (72 regular / 24 special under
    /// the Brown Act, or the council's own hours; the Greene Act's 72 for every meeting).
    pub on_time: i64,
    /// Posted later than the required hours before the start.
    pub late: i64,
    /// Emergency meetings outside the Greene Act: notice periods are lifted.
    pub notice_lifted: i64,
    /// Noticed meetings whose agenda was amended after notice.
    pub amended: i64,
}

/// Meetings noticed on time, late, with notice periods lifted, and amended after notice, per
/// council, over the meetings that start in the date range. Public acts of councils: no
/// figure is suppressed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": "2026-09-01", "to": "2026-11-30", "school_id": null, "council_id": null, "category_id": null},
    "rows": [{"council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "council_name": "Lincoln School Site Council",
        "noticed": 6, "on_time": 5, "late": 0, "notice_lifted": 1, "amended": 2}]
}))]
pub struct NoticesReport {
    pub filter: FilterEcho,
    pub rows: Vec<NoticeRow>,
}

/// Noticed meetings of one council with the same notice requirement, lead and amendment.
#[derive(Debug, Clone)]
pub struct NoticeInput {
    pub council_id: String,
    pub council_name: String,
    /// Hours of notice required; `None` when notice periods are lifted.
    pub required_hours: Option<i64>,
    /// Whole hours between notice and start, rounded down.
    pub lead_hours: i64,
    pub amended: bool,
    pub meetings: i64,
}

pub fn notices_report(filter: FilterEcho, input: Vec<NoticeInput>) -> NoticesReport {
    let mut rows: Vec<NoticeRow> = Vec::new();
    for g in input {
        if rows.last().is_none_or(|r| r.council_id != g.council_id) {
            rows.push(NoticeRow {
                council_id: g.council_id.clone(),
                council_name: g.council_name.clone(),
                ..Default::default()
            });
        }
        let Some(row) = rows.last_mut() else { continue };
        row.noticed += g.meetings;
        match g.required_hours {
            None => row.notice_lifted += g.meetings,
            Some(h) if g.lead_hours >= h => row.on_time += g.meetings,
            Some(_) => row.late += g.meetings,
        }
        if g.amended {
            row.amended += g.meetings;
        }
    }
    NoticesReport { filter, rows }
}

impl Tabular for NoticesReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "council_id",
            "council_name",
            "noticed",
            "on_time",
            "late",
            "notice_lifted",
            "amended",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        self.rows
            .iter()
            .map(|r| {
                vec![
                    text(&r.council_id),
                    text(&r.council_name),
                    int(r.noticed),
                    int(r.on_time),
                    int(r.late),
                    int(r.notice_lifted),
                    int(r.amended),
                ]
            })
            .collect()
    }
}

// Comments ---------------------------------------------------------------------------------------

/// Public comments on one agenda item of one meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentRow {
    #[schema(value_type = String, format = Uuid)]
    pub council_id: String,
    pub council_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub meeting_id: String,
    pub meeting_title: String,
    /// When the meeting starts (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: String,
    #[schema(value_type = String, format = Uuid)]
    pub item_id: String,
    pub item_title: String,
    /// Every comment received, hidden ones included.
    pub comments: i64,
    /// Comments hidden by moderation.
    pub hidden: i64,
}

/// Public comments per agenda item and meeting (counts only; items without comments are not
/// listed), over the meetings that start in the date range. Public acts of councils: no figure
/// is suppressed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "filter": {"from": "2026-09-01", "to": "2026-11-30", "school_id": null, "council_id": null, "category_id": null},
    "rows": [{"council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "council_name": "Lincoln School Site Council",
        "meeting_id": "01936d4e-7000-7000-8000-00000000a001", "meeting_title": "October regular meeting",
        "starts_at": "2026-10-14T01:00:00Z", "item_id": "01936d4e-7100-7000-8000-00000000a101",
        "item_title": "School plan for student achievement", "comments": 12, "hidden": 1}],
    "next_cursor": null
}))]
pub struct CommentsReport {
    pub filter: FilterEcho,
    pub rows: Vec<CommentRow>,
    /// Where the next page starts (pass it as `cursor`, with the same filter); `null` on the
    /// last page.
    #[schema(
        example = "MjAyNi0xMC0xNFQwMTowMDowMHwwMTkzNmQ0ZS03MDAwLTcwMDAtODAwMC0wMDAwMDAwMGEwMDE"
    )]
    pub next_cursor: Option<String>,
}

/// Meetings per page of the comments report when the request names no `limit`.
pub const COMMENT_PAGE_DEFAULT: i64 = 100;
/// The most meetings a page of the comments report may hold.
pub const COMMENT_PAGE_MAX: i64 = 1000;

/// A page of the comments report: up to `limit` meetings (with every commented item of each),
/// after the meeting `after` (its start, then id). A cursor is opaque to clients: base64url of
/// the last meeting's start and id.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentsPage {
    pub limit: i64,
    pub after: Option<(NaiveDateTime, String)>,
}

const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.f";

impl CommentsPage {
    /// The page a request asks for; the problems (field, message) when it asks for none.
    pub fn parse(
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<CommentsPage, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let limit = limit.unwrap_or(COMMENT_PAGE_DEFAULT);
        if !(1..=COMMENT_PAGE_MAX).contains(&limit) {
            problems.push(("limit", format!("must be between 1 and {COMMENT_PAGE_MAX}")));
        }
        let after = match cursor {
            None | Some("") => None,
            Some(c) => {
                let after = decode_cursor(c);
                if after.is_none() {
                    problems.push(("cursor", "is not a cursor this API issued".to_owned()));
                }
                after
            }
        };
        if problems.is_empty() {
            Ok(CommentsPage { limit, after })
        } else {
            Err(problems)
        }
    }

    /// The cursor of a page that ends with this meeting.
    pub fn cursor(starts_at: NaiveDateTime, meeting_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{meeting_id}", starts_at.format(CURSOR_TIME)))
    }
}

fn decode_cursor(cursor: &str) -> Option<(NaiveDateTime, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (at, id) = text.split_once('|')?;
    let at = NaiveDateTime::parse_from_str(at, CURSOR_TIME).ok()?;
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    id_ok.then(|| (at, id.to_owned()))
}

/// A timestamp as RFC 3339 UTC (`2026-10-14T01:00:00Z`).
pub fn utc(at: NaiveDateTime) -> String {
    at.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Tabular for CommentsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "council_id",
            "council_name",
            "meeting_id",
            "meeting_title",
            "starts_at",
            "item_id",
            "item_title",
            "comments",
            "hidden",
        ]
    }

    fn records(&self) -> Vec<Vec<Cell>> {
        self.rows
            .iter()
            .map(|r| {
                vec![
                    text(&r.council_id),
                    text(&r.council_name),
                    text(&r.meeting_id),
                    text(&r.meeting_title),
                    text(&r.starts_at),
                    text(&r.item_id),
                    text(&r.item_title),
                    int(r.comments),
                    int(r.hidden),
                ]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_page_cursors_round_trip_and_reject_forgeries() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 10, 14)
            .and_then(|d| d.and_hms_micro_opt(1, 0, 0, 250))
            .unwrap();
        let id = "01936d4e-7000-7000-8000-00000000a001";
        let page = CommentsPage::parse(Some(5), Some(&CommentsPage::cursor(at, id))).unwrap();
        assert_eq!(
            page,
            CommentsPage {
                limit: 5,
                after: Some((at, id.to_owned()))
            }
        );
        assert_eq!(
            CommentsPage::parse(None, None).unwrap().limit,
            COMMENT_PAGE_DEFAULT
        );
        let forged = URL_SAFE_NO_PAD.encode("2026-10-14T01:00:00|' OR 1=1 --");
        for bad in ["not a cursor", "bm90LWEtY3Vyc29y", forged.as_str()] {
            let problems = CommentsPage::parse(None, Some(bad)).unwrap_err();
            assert_eq!(problems[0].0, "cursor", "{bad}");
        }
        assert_eq!(
            CommentsPage::parse(Some(0), None).unwrap_err()[0].0,
            "limit"
        );
        assert!(CommentsPage::parse(Some(COMMENT_PAGE_MAX + 1), None).is_err());
        assert!(CommentsPage::parse(Some(COMMENT_PAGE_MAX), None).is_ok());
    }

    fn count(council: &str, key: &str, state: &str, n: i64) -> Count {
        Count {
            council_id: council.to_owned(),
            council_name: council.to_uppercase(),
            key: key.to_owned(),
            state: state.to_owned(),
            n,
        }
    }

    #[test]
    fn attendance_rates_per_constituency() {
        let r = attendance_report(
            FilterEcho::default(),
            vec![
                count("a", "families", "absent", 1),
                count("a", "families", "present", 2),
                count("a", "teachers", "present", 3),
            ],
        );
        assert_eq!(r.rows.len(), 2);
        assert_eq!(
            (r.rows[0].expected, r.rows[0].present, r.rows[0].rate),
            (3, 2, Some(0.6667))
        );
        assert_eq!(r.rows[1].rate, Some(1.0));
    }

    #[test]
    fn notices_on_time_late_and_lifted() {
        let g = |required: Option<i64>, lead, amended, meetings| NoticeInput {
            council_id: "a".into(),
            council_name: "A".into(),
            required_hours: required,
            lead_hours: lead,
            amended,
            meetings,
        };
        let r = notices_report(
            FilterEcho::default(),
            vec![
                g(Some(72), 72, false, 2),
                g(Some(72), 71, true, 1),
                g(None, 0, false, 1),
            ],
        );
        let row = &r.rows[0];
        assert_eq!(
            (
                row.noticed,
                row.on_time,
                row.late,
                row.notice_lifted,
                row.amended
            ),
            (4, 2, 1, 1, 1)
        );
    }
}
