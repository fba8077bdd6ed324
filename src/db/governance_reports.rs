//! Governance reports: grouped counts over councils' seats, meetings, attendance, agenda items,
//! motions and public comments. Every figure is a grouped count computed by the database; no
//! row of those tables is loaded one by one.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};

use super::reports::Statement;
use super::{dialect, AnyConnection};

/// Which councils and meetings a governance report counts. Built by the command from the
/// request's filter and the caller's reach.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Meetings starting at or after this moment.
    pub from: Option<NaiveDateTime>,
    /// Meetings starting before this moment.
    pub before: Option<NaiveDateTime>,
    /// Councils of these schools only (`None`: every council).
    pub schools: Option<Vec<String>>,
    /// This council only. A district-wide council named here is counted even when `schools`
    /// is a list (it has no school).
    pub council_id: Option<String>,
}

/// The scope's filters, written onto a report statement.
trait ScopeFilters {
    /// The scope's council filters on the councils table aliased `c`.
    fn councils(&mut self, scope: &Scope);
    /// The scope's date range on the meetings table aliased `m`.
    fn meetings(&mut self, scope: &Scope);
    /// Meetings (aliased `m`) after `after` and up to `through` in (start, id) order.
    fn page(
        &mut self,
        after: Option<(NaiveDateTime, &str)>,
        through: Option<(NaiveDateTime, &str)>,
    );
}

impl ScopeFilters for Statement {
    fn councils(&mut self, scope: &Scope) {
        if let Some(id) = &scope.council_id {
            let p = self.param(id);
            self.push(&format!(" AND c.id = {p}"));
        }
        if let Some(schools) = &scope.schools {
            let ors: Vec<String> = schools.iter().map(|s| self.param(s)).collect();
            let list = if ors.is_empty() {
                "1 = 0".to_owned()
            } else {
                format!("c.school_id IN ({})", ors.join(", "))
            };
            if scope.council_id.is_some() {
                self.push(&format!(" AND ({list} OR c.school_id IS NULL)"));
            } else {
                self.push(&format!(" AND {list}"));
            }
        }
    }

    fn meetings(&mut self, scope: &Scope) {
        if let Some(from) = scope.from {
            let p = self.time(from);
            self.push(&format!(" AND m.starts_at >= {p}"));
        }
        if let Some(before) = scope.before {
            let p = self.time(before);
            self.push(&format!(" AND m.starts_at < {p}"));
        }
    }

    fn page(
        &mut self,
        after: Option<(NaiveDateTime, &str)>,
        through: Option<(NaiveDateTime, &str)>,
    ) {
        // The start alone bounds the index range; the id breaks ties between meetings that
        // start at the same moment.
        if let Some((at, id)) = after {
            let (t, t2, i) = (self.time(at), self.time(at), self.param(id));
            self.push(&format!(
                " AND m.starts_at >= {t} AND (m.starts_at > {t2} OR m.id > {i})"
            ));
        }
        if let Some((at, id)) = through {
            let (t, t2, i) = (self.time(at), self.time(at), self.param(id));
            self.push(&format!(
                " AND m.starts_at <= {t} AND (m.starts_at < {t2} OR m.id <= {i})"
            ));
        }
    }
}

/// A council a report covers.
#[derive(Debug, Clone, QueryableByName)]
pub struct CouncilRow {
    #[diesel(sql_type = Text)]
    pub id: String,
}

/// The councils in scope, by name then id.
pub fn councils(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<String>> {
    let mut st = Statement::new("SELECT c.id AS id FROM councils c WHERE 1 = 1");
    st.councils(scope);
    st.push(" ORDER BY c.name, c.id");
    Ok(st
        .load::<CouncilRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Seats of one council with the same constituency, vote and holder state.
#[derive(Debug, Clone, QueryableByName)]
pub struct SeatGroup {
    #[diesel(sql_type = Text)]
    pub council_id: String,
    #[diesel(sql_type = Text)]
    pub constituency: String,
    #[diesel(sql_type = Bool)]
    pub voting: bool,
    #[diesel(sql_type = Bool)]
    pub filled: bool,
    #[diesel(sql_type = BigInt)]
    pub seats: i64,
}

/// Seats by council, constituency, voting and filled.
pub fn seat_groups(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<SeatGroup>> {
    let mut st = Statement::new(
        "SELECT s.council_id AS council_id, s.constituency AS constituency, s.voting AS voting, \
         (s.holder_id IS NOT NULL) AS filled, CAST(COUNT(*) AS BIGINT) AS seats \
         FROM seats s JOIN councils c ON c.id = s.council_id WHERE 1 = 1",
    );
    st.councils(scope);
    st.push(
        " GROUP BY s.council_id, s.constituency, s.voting, (s.holder_id IS NOT NULL) \
         ORDER BY s.council_id, s.constituency",
    );
    st.load(conn)
}

/// A count keyed by council and one text key (and a second one where a report needs it).
#[derive(Debug, Clone, QueryableByName)]
pub struct KeyedCount {
    #[diesel(sql_type = Text)]
    pub council_id: String,
    #[diesel(sql_type = Text)]
    pub council_name: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Attendance records of meetings in range by council, the seat's constituency and status
/// (`present`, `absent`). Counted by seat and status first, from the index on
/// `(seat_id, status, meeting_id)`, then summed by constituency: a seat is one of its
/// meeting's council's (attendance is only recorded for those), so the seat names the council.
/// Seats and councils are read first only when the scope names councils or schools, meetings
/// only for a date range.
pub fn attendance(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<KeyedCount>> {
    let mut st = Statement::new(
        "SELECT c.id AS council_id, c.name AS council_name, s.constituency AS key, \
         x.status AS state, CAST(SUM(x.n) AS BIGINT) AS n \
         FROM (SELECT a.seat_id AS seat_id, a.status AS status, COUNT(*) AS n \
         FROM meeting_attendance a",
    );
    if scope.schools.is_some() || scope.council_id.is_some() {
        st.push(" JOIN seats si ON si.id = a.seat_id JOIN councils c ON c.id = si.council_id");
    }
    if scope.from.is_some() || scope.before.is_some() {
        st.push(" JOIN meetings m ON m.id = a.meeting_id");
    }
    st.push(" WHERE 1 = 1");
    st.councils(scope);
    st.meetings(scope);
    st.push(
        " GROUP BY a.seat_id, a.status) x \
         JOIN seats s ON s.id = x.seat_id JOIN councils c ON c.id = s.council_id \
         GROUP BY c.id, c.name, s.constituency, x.status ORDER BY c.name, c.id, s.constituency",
    );
    st.load(conn)
}

/// Agenda items by council, the proposing seat's constituency (`""`: no proposing seat) and
/// item status. With a date range, only items placed on meetings in range. Counted by council,
/// proposing seat and status first (the index on `(council_id, proposed_by_seat_id, status,
/// meeting_id)` holds every column read), then summed by constituency.
pub fn agenda_sources(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<KeyedCount>> {
    let mut st = Statement::new(
        "SELECT c.id AS council_id, c.name AS council_name, COALESCE(s.constituency, '') AS key, \
         x.status AS state, CAST(SUM(x.n) AS BIGINT) AS n \
         FROM (SELECT i.council_id AS council_id, i.proposed_by_seat_id AS seat_id, \
         i.status AS status, COUNT(*) AS n FROM agenda_items i JOIN councils c ON c.id = i.council_id",
    );
    let dated = scope.from.is_some() || scope.before.is_some();
    if dated {
        st.push(" JOIN meetings m ON m.id = i.meeting_id");
    }
    st.push(" WHERE 1 = 1");
    st.councils(scope);
    if dated {
        st.meetings(scope);
    }
    st.push(
        " GROUP BY i.council_id, i.proposed_by_seat_id, i.status) x \
         JOIN councils c ON c.id = x.council_id LEFT JOIN seats s ON s.id = x.seat_id \
         GROUP BY c.id, c.name, COALESCE(s.constituency, ''), x.status \
         ORDER BY c.name, c.id, COALESCE(s.constituency, '')",
    );
    st.load(conn)
}

/// Motions of meetings in range by council and status (`key` is always `""`).
pub fn motions(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<KeyedCount>> {
    let mut st = Statement::new(
        "SELECT c.id AS council_id, c.name AS council_name, '' AS key, mo.status AS state, \
         CAST(COUNT(*) AS BIGINT) AS n \
         FROM motions mo JOIN meetings m ON m.id = mo.meeting_id \
         JOIN councils c ON c.id = m.council_id WHERE 1 = 1",
    );
    st.councils(scope);
    st.meetings(scope);
    st.push(" GROUP BY c.id, c.name, mo.status ORDER BY c.name, c.id, mo.status");
    st.load(conn)
}

/// Noticed meetings with the same council, notice rule inputs, type, lead time in whole hours
/// (rounded down) and amendment state.
#[derive(Debug, Clone, QueryableByName)]
pub struct NoticeGroup {
    #[diesel(sql_type = Text)]
    pub council_id: String,
    #[diesel(sql_type = Text)]
    pub council_name: String,
    #[diesel(sql_type = Text)]
    pub regime: String,
    #[diesel(sql_type = BigInt)]
    pub regular_notice_hours: i64,
    #[diesel(sql_type = BigInt)]
    pub special_notice_hours: i64,
    #[diesel(sql_type = Text)]
    pub meeting_type: String,
    /// Whole hours from the notice to the start, rounded down (negative: after the start).
    #[diesel(sql_type = BigInt)]
    pub lead_hours: i64,
    #[diesel(sql_type = BigInt)]
    pub amended: i64,
    #[diesel(sql_type = BigInt)]
    pub meetings: i64,
}

/// Noticed meetings in range, grouped as [`NoticeGroup`].
pub fn notices(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<NoticeGroup>> {
    let lead = match conn {
        AnyConnection::Sqlite(_) => {
            "(CASE WHEN strftime('%s', m.starts_at) < strftime('%s', m.noticed_at) \
             THEN -1 ELSE (CAST(strftime('%s', m.starts_at) AS INTEGER) \
             - CAST(strftime('%s', m.noticed_at) AS INTEGER)) / 3600 END)"
        }
        AnyConnection::Postgresql(_) => {
            "FLOOR(EXTRACT(EPOCH FROM (m.starts_at - m.noticed_at)) / 3600)"
        }
    };
    let amended =
        "(CASE WHEN EXISTS (SELECT 1 FROM meeting_amendments x WHERE x.meeting_id = m.id) \
         THEN 1 ELSE 0 END)";
    let mut st = Statement::new(&format!(
        "SELECT c.id AS council_id, c.name AS council_name, c.regime AS regime, \
         c.regular_notice_hours AS regular_notice_hours, \
         c.special_notice_hours AS special_notice_hours, m.meeting_type AS meeting_type, \
         CAST({lead} AS BIGINT) AS lead_hours, CAST({amended} AS BIGINT) AS amended, \
         CAST(COUNT(*) AS BIGINT) AS meetings \
         FROM meetings m JOIN councils c ON c.id = m.council_id \
         WHERE m.noticed_at IS NOT NULL"
    ));
    st.councils(scope);
    st.meetings(scope);
    st.push(&format!(
        " GROUP BY c.id, c.name, c.regime, c.regular_notice_hours, c.special_notice_hours, \
         m.meeting_type, CAST({lead} AS BIGINT), CAST({amended} AS BIGINT) ORDER BY c.name, c.id"
    ));
    st.load(conn)
}

/// Public comments on one agenda item of one meeting.
#[derive(Debug, Clone, QueryableByName)]
pub struct CommentCount {
    #[diesel(sql_type = Text)]
    pub council_id: String,
    #[diesel(sql_type = Text)]
    pub council_name: String,
    #[diesel(sql_type = Text)]
    pub meeting_id: String,
    #[diesel(sql_type = Text)]
    pub meeting_title: String,
    #[diesel(sql_type = Timestamp)]
    pub starts_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    pub item_id: String,
    #[diesel(sql_type = Text)]
    pub item_title: String,
    #[diesel(sql_type = BigInt)]
    pub comments: i64,
    #[diesel(sql_type = BigInt)]
    pub hidden: i64,
}

/// A meeting that drew public comments, as a page of the comments report lists them.
#[derive(Debug, Clone, QueryableByName)]
pub struct CommentedMeeting {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Timestamp)]
    pub starts_at: NaiveDateTime,
}

/// Up to `limit` meetings in scope that drew at least one public comment, in start order
/// (then id), after the meeting `after` (its start and id), from `meetings_starts_at_idx`;
/// each is checked for comments on the index of `public_comments` by meeting.
pub fn commented_meetings(
    conn: &mut AnyConnection,
    scope: &Scope,
    after: Option<(NaiveDateTime, &str)>,
    limit: i64,
) -> QueryResult<Vec<CommentedMeeting>> {
    let mut st = Statement::new(
        "SELECT m.id AS id, m.starts_at AS starts_at \
         FROM meetings m JOIN councils c ON c.id = m.council_id \
         WHERE EXISTS (SELECT 1 FROM public_comments pc WHERE pc.meeting_id = m.id)",
    );
    st.councils(scope);
    st.meetings(scope);
    st.page(after, None);
    let n = st.int(limit);
    st.push(&format!(" ORDER BY m.starts_at, m.id LIMIT {n}"));
    st.load(conn)
}

/// Public comments by meeting and agenda item (items with comments only) of the meetings in
/// scope after the meeting `after` and up to the meeting `through` (a page of
/// [`commented_meetings`]), in meeting start order, then by the item's place on the agenda (an
/// item no longer on an agenda last, on both backends). Counted by meeting and item from the
/// index on `(meeting_id, item_id, hidden_at)` (it holds every column read), then named with
/// their meeting, council and item.
pub fn comments(
    conn: &mut AnyConnection,
    scope: &Scope,
    after: Option<(NaiveDateTime, &str)>,
    through: (NaiveDateTime, &str),
) -> QueryResult<Vec<CommentCount>> {
    // A page is a bounded set of lookups by key: PostgreSQL is told the pages are in memory,
    // or it hashes every agenda item to name a few thousand.
    dialect::prefer_index_lookups(conn)?;
    let mut st = Statement::new(
        "SELECT c.id AS council_id, c.name AS council_name, m.id AS meeting_id, \
         m.title AS meeting_title, m.starts_at AS starts_at, i.id AS item_id, \
         i.title AS item_title, x.comments AS comments, x.hidden AS hidden \
         FROM (SELECT pc.meeting_id AS meeting_id, pc.item_id AS item_id, \
         CAST(COUNT(*) AS BIGINT) AS comments, \
         CAST(SUM(CASE WHEN pc.hidden_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS hidden \
         FROM meetings m JOIN councils c ON c.id = m.council_id \
         JOIN public_comments pc ON pc.meeting_id = m.id WHERE 1 = 1",
    );
    st.councils(scope);
    st.meetings(scope);
    st.page(after, Some(through));
    st.push(
        " GROUP BY pc.meeting_id, pc.item_id) x \
         JOIN meetings m ON m.id = x.meeting_id JOIN councils c ON c.id = m.council_id \
         JOIN agenda_items i ON i.id = x.item_id \
         ORDER BY m.starts_at, m.id, CASE WHEN i.position IS NULL THEN 1 ELSE 0 END, \
         i.position, i.id",
    );
    st.load(conn)
}
