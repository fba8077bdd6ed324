//! Reports: the summary tables kept in step with service requests, and the aggregations the
//! reports read. Every figure is computed by the database (grouped sums over summary tables, or
//! grouped counts over an index); no request row is loaded.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::AnyConnection;

type Backend = <AnyConnection as Connection>::Backend;

/// Which rows a report reads: months `YYYY-MM` (inclusive), schools (`None`: every school),
/// one category. Built by the command from the request's filter and the caller's reach.
#[derive(Debug, Clone, Default)]
pub struct Slice {
    pub from_month: Option<String>,
    pub to_month: Option<String>,
    pub schools: Option<Vec<String>>,
    pub category_id: Option<String>,
}

/// A bound value.
enum Param {
    Text(String),
    Time(NaiveDateTime),
    Int(i64),
}

/// A statement with numbered parameters (`$1`, `$2`, …: both backends read them), shared by
/// every report's SQL (the governance reports add their council and meeting filters). SQLite
/// numbers `$n` parameters in the order they appear in the text, so the text is always written
/// front to back and each parameter is numbered where it is written.
pub(super) struct Statement {
    sql: String,
    binds: Vec<Param>,
}

impl Statement {
    pub(super) fn new(sql: &str) -> Statement {
        Statement {
            sql: sql.to_owned(),
            binds: Vec::new(),
        }
    }

    pub(super) fn param(&mut self, value: &str) -> String {
        self.binds.push(Param::Text(value.to_owned()));
        format!("${}", self.binds.len())
    }

    pub(super) fn time(&mut self, value: NaiveDateTime) -> String {
        self.binds.push(Param::Time(value));
        format!("${}", self.binds.len())
    }

    pub(super) fn int(&mut self, value: i64) -> String {
        self.binds.push(Param::Int(value));
        format!("${}", self.binds.len())
    }

    /// ` AND <column> <op> $n`.
    fn and(&mut self, column: &str, op: &str, value: &str) {
        let p = self.param(value);
        self.sql.push_str(&format!(" AND {column} {op} {p}"));
    }

    fn and_in(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            // Nobody's schools: nothing matches.
            self.sql.push_str(" AND 1 = 0");
            return;
        }
        let ps: Vec<String> = values.iter().map(|v| self.param(v)).collect();
        self.sql
            .push_str(&format!(" AND {column} IN ({})", ps.join(", ")));
    }

    /// The slice's filters on a table with `month`, `school_id` and `category_id` columns.
    fn slice(&mut self, slice: &Slice, with_school: bool) {
        if let Some(m) = &slice.from_month {
            self.and("month", ">=", m);
        }
        if let Some(m) = &slice.to_month {
            self.and("month", "<=", m);
        }
        if with_school {
            if let Some(s) = &slice.schools {
                self.and_in("school_id", s);
            }
        }
        if let Some(c) = &slice.category_id {
            self.and("category_id", "=", c);
        }
    }

    pub(super) fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    pub(super) fn load<T: QueryableByName<Backend> + 'static>(
        self,
        conn: &mut AnyConnection,
    ) -> QueryResult<Vec<T>> {
        let mut query = diesel::sql_query(self.sql).into_boxed::<Backend>();
        for b in self.binds {
            query = match b {
                Param::Text(t) => query.bind::<Text, _>(t),
                Param::Time(t) => query.bind::<Timestamp, _>(t),
                Param::Int(n) => query.bind::<BigInt, _>(n),
            };
        }
        query.load(conn)
    }
}

// Keeping the summaries in step ----------------------------------------------------------------

/// Adds `delta` requests to a (school, category, month, status, partner) tally; `partner` is
/// `""` for none. Called in the transaction that creates the request or changes its status.
pub fn tally(
    conn: &mut AnyConnection,
    school_id: &str,
    category_id: &str,
    month: &str,
    status: &str,
    partner_id: &str,
    delta: i64,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO service_request_tallies \
         (school_id, category_id, month, status, partner_id, requests) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (month, school_id, category_id, status, partner_id) \
         DO UPDATE SET requests = service_request_tallies.requests + excluded.requests",
    )
    .bind::<Text, _>(school_id)
    .bind::<Text, _>(category_id)
    .bind::<Text, _>(month)
    .bind::<Text, _>(status)
    .bind::<Text, _>(partner_id)
    .bind::<BigInt, _>(delta)
    .execute(conn)
    .map(|_| ())
}

/// Counts one request whose first contact (`measure` `first_contact`) or completion
/// (`completion`) came `days` whole days after it was created, for its school and the district.
pub fn add_duration(
    conn: &mut AnyConnection,
    school_id: &str,
    category_id: &str,
    month: &str,
    measure: &str,
    days: i64,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO service_request_durations \
         (school_id, category_id, month, measure, days, requests) \
         VALUES ($1, $2, $3, $4, $5, 1) \
         ON CONFLICT (school_id, measure, month, category_id, days) \
         DO UPDATE SET requests = service_request_durations.requests + 1",
    )
    .bind::<Text, _>(school_id)
    .bind::<Text, _>(category_id)
    .bind::<Text, _>(month)
    .bind::<Text, _>(measure)
    .bind::<BigInt, _>(days)
    .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO service_request_district_durations \
         (category_id, month, measure, days, requests) \
         VALUES ($1, $2, $3, $4, 1) \
         ON CONFLICT (measure, month, category_id, days) \
         DO UPDATE SET requests = service_request_district_durations.requests + 1",
    )
    .bind::<Text, _>(category_id)
    .bind::<Text, _>(month)
    .bind::<Text, _>(measure)
    .bind::<BigInt, _>(days)
    .execute(conn)
    .map(|_| ())
}

/// Counts one action taken with a partner organization on a request.
pub fn add_partner_action(
    conn: &mut AnyConnection,
    partner_id: &str,
    school_id: &str,
    category_id: &str,
    month: &str,
    action: &str,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO service_request_partner_actions \
         (partner_id, school_id, category_id, month, action, requests) \
         VALUES ($1, $2, $3, $4, $5, 1) \
         ON CONFLICT (month, partner_id, school_id, category_id, action) \
         DO UPDATE SET requests = service_request_partner_actions.requests + 1",
    )
    .bind::<Text, _>(partner_id)
    .bind::<Text, _>(school_id)
    .bind::<Text, _>(category_id)
    .bind::<Text, _>(month)
    .bind::<Text, _>(action)
    .execute(conn)
    .map(|_| ())
}

// Reading --------------------------------------------------------------------------------------

/// Requests of one school, category, month and status.
#[derive(Debug, Clone, QueryableByName)]
pub struct StatusCount {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Text)]
    pub category_id: String,
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub requests: i64,
}

/// Requests by school, category, month of creation and current status (non-zero only).
pub fn status_counts(conn: &mut AnyConnection, slice: &Slice) -> QueryResult<Vec<StatusCount>> {
    let mut st = Statement::new(
        "SELECT school_id, category_id, month, status, CAST(SUM(requests) AS BIGINT) AS requests \
         FROM service_request_tallies WHERE 1 = 1",
    );
    st.slice(slice, true);
    st.push(
        " GROUP BY school_id, category_id, month, status HAVING SUM(requests) <> 0 \
         ORDER BY school_id, category_id, month, status",
    );
    st.load(conn)
}

/// Names of schools by id.
pub fn school_names(
    conn: &mut AnyConnection,
    ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    use super::schema::schools;
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            schools::table
                .filter(schools::id.eq_any(chunk))
                .select((schools::id, schools::name))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(out)
}

/// Codes of categories by id, with their first-contact targets in school days.
pub fn categories(conn: &mut AnyConnection) -> QueryResult<Vec<(String, String, Option<i64>)>> {
    use super::schema::service_categories as c;
    c::table
        .select((c::id, c::code, c::first_contact_school_days))
        .order(c::code.asc())
        .load(conn)
}

/// The schools of one council (none for a district-wide council).
pub fn schools_of_council(
    conn: &mut AnyConnection,
    council_id: &str,
) -> QueryResult<Option<Option<String>>> {
    use super::schema::councils;
    councils::table
        .filter(councils::id.eq(council_id))
        .select(councils::school_id)
        .first::<Option<String>>(conn)
        .optional()
}

/// Whether a school exists.
pub fn school_exists(conn: &mut AnyConnection, school_id: &str) -> QueryResult<bool> {
    use super::schema::schools;
    diesel::select(diesel::dsl::exists(
        schools::table.filter(schools::id.eq(school_id)),
    ))
    .get_result(conn)
}

/// Whether a category exists.
pub fn category_exists(conn: &mut AnyConnection, category_id: &str) -> QueryResult<bool> {
    use super::schema::service_categories;
    diesel::select(diesel::dsl::exists(
        service_categories::table.filter(service_categories::id.eq(category_id)),
    ))
    .get_result(conn)
}

/// One bar of a duration histogram.
#[derive(Debug, Clone, QueryableByName)]
pub struct DurationBar {
    #[diesel(sql_type = Text)]
    pub category_id: String,
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = Text)]
    pub measure: String,
    #[diesel(sql_type = BigInt)]
    pub days: i64,
    #[diesel(sql_type = BigInt)]
    pub requests: i64,
}

/// Duration histograms by category and month: from the district's table when the slice names
/// no schools, else summed over the slice's schools.
pub fn duration_histograms(
    conn: &mut AnyConnection,
    slice: &Slice,
) -> QueryResult<Vec<DurationBar>> {
    let mut st = match slice.schools {
        None => Statement::new(
            "SELECT category_id, month, measure, days, requests \
             FROM service_request_district_durations WHERE 1 = 1",
        ),
        Some(_) => Statement::new(
            "SELECT category_id, month, measure, days, CAST(SUM(requests) AS BIGINT) AS requests \
             FROM service_request_durations WHERE 1 = 1",
        ),
    };
    st.slice(slice, true);
    if slice.schools.is_some() {
        st.push(" GROUP BY category_id, month, measure, days");
    }
    st.push(" ORDER BY category_id, month, measure, days");
    st.load(conn)
}

/// Open requests of one school and category in one age bucket.
#[derive(Debug, Clone, QueryableByName)]
pub struct AgeCount {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Text)]
    pub category_id: String,
    /// Index of the bucket: 0 for the youngest.
    #[diesel(sql_type = BigInt)]
    pub bucket: i64,
    #[diesel(sql_type = BigInt)]
    pub requests: i64,
}

/// Requests in one of `statuses` by school, category and age bucket: bucket `i` holds requests
/// created after `bounds[i]` (and not after `bounds[i - 1]`); the last bucket, everything
/// older. `created` limits the creation time (`[from, to)`).
pub fn open_by_age(
    conn: &mut AnyConnection,
    statuses: &[String],
    bounds: &[NaiveDateTime],
    created: (Option<NaiveDateTime>, Option<NaiveDateTime>),
    schools: Option<&[String]>,
    category_id: Option<&str>,
) -> QueryResult<Vec<AgeCount>> {
    let mut st = Statement::new("SELECT school_id, category_id, CAST(CASE");
    for (i, b) in bounds.iter().enumerate() {
        let p = st.time(*b);
        st.push(&format!(" WHEN created_at > {p} THEN {i}"));
    }
    st.push(&format!(
        " ELSE {} END AS BIGINT) AS bucket, COUNT(*) AS requests FROM service_requests WHERE 1 = 1",
        bounds.len()
    ));
    st.and_in("status", statuses);
    if let Some(s) = schools {
        st.and_in("school_id", s);
    }
    if let Some(c) = category_id {
        st.and("category_id", "=", c);
    }
    created_between(&mut st, created);
    st.push(" GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
    st.load(conn)
}

/// Requests in one of `statuses` by school and category, whatever their age: sums of the
/// tallies (kept in step with every request), so the district's whole backlog is counted
/// without reading the requests themselves.
pub fn open_totals(
    conn: &mut AnyConnection,
    statuses: &[String],
    schools: Option<&[String]>,
    category_id: Option<&str>,
) -> QueryResult<Vec<(String, String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        school_id: String,
        #[diesel(sql_type = Text)]
        category_id: String,
        #[diesel(sql_type = BigInt)]
        requests: i64,
    }
    let mut st = Statement::new(
        "SELECT school_id, category_id, CAST(SUM(requests) AS BIGINT) AS requests \
         FROM service_request_tallies WHERE 1 = 1",
    );
    st.and_in("status", statuses);
    if let Some(s) = schools {
        st.and_in("school_id", s);
    }
    if let Some(c) = category_id {
        st.and("category_id", "=", c);
    }
    st.push(" GROUP BY school_id, category_id ORDER BY school_id, category_id");
    let rows: Vec<Row> = st.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.school_id, r.category_id, r.requests))
        .collect())
}

fn created_between(st: &mut Statement, created: (Option<NaiveDateTime>, Option<NaiveDateTime>)) {
    if let Some(f) = created.0 {
        let p = st.time(f);
        st.push(&format!(" AND created_at >= {p}"));
    }
    if let Some(t) = created.1 {
        let p = st.time(t);
        st.push(&format!(" AND created_at < {p}"));
    }
}

/// Requests still `submitted` that were created before their category's cut-off, by school
/// and category: `cutoffs` pairs a category with the time before which its requests are late.
pub fn overdue_open(
    conn: &mut AnyConnection,
    cutoffs: &[(String, NaiveDateTime)],
    created: (Option<NaiveDateTime>, Option<NaiveDateTime>),
    schools: Option<&[String]>,
) -> QueryResult<Vec<(String, String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        school_id: String,
        #[diesel(sql_type = Text)]
        category_id: String,
        #[diesel(sql_type = BigInt)]
        requests: i64,
    }
    if cutoffs.is_empty() {
        return Ok(Vec::new());
    }
    let mut st = Statement::new(
        "SELECT school_id, category_id, COUNT(*) AS requests FROM service_requests WHERE 1 = 1",
    );
    st.and("status", "=", "submitted");
    st.push(" AND (");
    for (i, (category, cutoff)) in cutoffs.iter().enumerate() {
        if i > 0 {
            st.push(" OR ");
        }
        let c = st.param(category);
        let t = st.time(*cutoff);
        st.push(&format!("(category_id = {c} AND created_at < {t})"));
    }
    st.push(")");
    if let Some(s) = schools {
        st.and_in("school_id", s);
    }
    created_between(&mut st, created);
    st.push(" GROUP BY school_id, category_id ORDER BY school_id, category_id");
    let rows: Vec<Row> = st.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.school_id, r.category_id, r.requests))
        .collect())
}

/// Actions taken with one partner organization.
#[derive(Debug, Clone, QueryableByName)]
pub struct PartnerAction {
    #[diesel(sql_type = Text)]
    pub partner_id: String,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = BigInt)]
    pub requests: i64,
}

/// Actions by partner organization over the slice.
pub fn partner_actions(conn: &mut AnyConnection, slice: &Slice) -> QueryResult<Vec<PartnerAction>> {
    let mut st = Statement::new(
        "SELECT partner_id, action, CAST(SUM(requests) AS BIGINT) AS requests \
         FROM service_request_partner_actions WHERE 1 = 1",
    );
    st.slice(slice, true);
    st.push(" GROUP BY partner_id, action HAVING SUM(requests) <> 0 ORDER BY partner_id, action");
    st.load(conn)
}

/// Names of partner organizations.
pub fn partner_names(conn: &mut AnyConnection) -> QueryResult<Vec<(String, String)>> {
    use super::schema::partner_organizations as p;
    p::table.select((p::id, p::name)).load(conn)
}
