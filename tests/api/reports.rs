//! Reports (docs/REPORTS.md): the shared filter, content negotiation, who may read them, and
//! the service-request reports with small-cell suppression, on hand-computed fixtures.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{id, version_tag, Reply, TestApp};

const COUNTS: &str = "/api/v1/reports/service-requests/status-counts";

struct World {
    school: String,
    school_name: String,
    council: String,
    staff: String,
    /// food-assistance: 12 submitted and 3 triaged.
    food: String,
    /// housing: 11 submitted.
    housing: String,
    /// tutoring: 10 submitted.
    tutoring: String,
    other_school: String,
    other_staff: String,
    family: String,
    month: String,
}

async fn category(app: &TestApp, code: &str, days: Option<i64>) -> String {
    id(&app
        .post(
            "/api/v1/service-categories",
            json!({"code": code, "names": {"en": code}, "descriptions": {"en": code},
                "first_contact_school_days": days, "attributes": []}),
        )
        .await
        .expect(201))
}

/// Files `n` requests as `token`; returns them as created.
async fn file(app: &TestApp, token: &str, school: &str, category: &str, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(
            app.send_as(
                token,
                TestRequest::post()
                    .uri("/api/v1/service-requests")
                    .insert_header(("Idempotency-Key", uuid::Uuid::now_v7().to_string()))
                    .set_json(json!({"school_id": school, "category_id": category,
                        "subject_code": format!("S-{i}"), "attributes": {}})),
            )
            .await
            .expect(201),
        );
    }
    out
}

async fn act(app: &TestApp, token: &str, request: &Value, action: &str, body: Value) -> Value {
    app.send_as(
        token,
        TestRequest::post()
            .uri(&format!(
                "/api/v1/service-requests/{}/{action}",
                id(request)
            ))
            .insert_header(("If-Match", version_tag(request)))
            .set_json(body),
    )
    .await
    .expect(200)
}

async fn world(app: &TestApp) -> World {
    // A name a CSV writer must quote.
    let school_name = "Lincoln, \"East\" Elementary";
    let school = id(&app
        .post(
            "/api/v1/schools",
            json!({"name": school_name, "district_code": "RPT1", "time_zone": "America/Los_Angeles"}),
        )
        .await
        .expect(201));
    let council = id(&app
        .council(json!({"kind": "school_site_council", "name": "SSC", "school_id": school}))
        .await);
    let other_school = id(&app.school("RPT2").await);
    let other_council = id(&app
        .council(json!({"kind": "school_site_council", "name": "SSC 2", "school_id": other_school}))
        .await);
    let staff = app.user("Rita Staff", "council_staff", Some(&council)).1;
    let other_staff = app
        .user("Otto Staff", "council_staff", Some(&other_council))
        .1;
    let family = app.user("Fay Family", "family", None).1;
    let food = category(app, "food-assistance", Some(2)).await;
    let housing = category(app, "housing", Some(5)).await;
    let tutoring = category(app, "tutoring", None).await;
    let filed = file(app, &staff, &school, &food, 15).await;
    for r in &filed[..3] {
        act(app, &staff, r, "triage", json!({})).await;
    }
    file(app, &staff, &school, &housing, 11).await;
    file(app, &staff, &school, &tutoring, 10).await;
    World {
        school,
        school_name: school_name.to_owned(),
        council,
        staff,
        food,
        housing,
        tutoring,
        other_school,
        other_staff,
        family,
        month: chrono::Utc::now().format("%Y-%m").to_string(),
    }
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> Reply {
    app.send_as(token, TestRequest::get().uri(path)).await
}

/// The row's status counts in lifecycle order, then its total.
fn figures(row: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = [
        "submitted",
        "triaged",
        "referred",
        "accepted",
        "rejected",
        "in_progress",
        "completed",
        "declined",
        "withdrawn",
        "cancelled",
    ]
    .iter()
    .map(|s| row["counts"][s].clone())
    .collect();
    out.push(row["total"].clone());
    out
}

fn zeros_after(first: &[Value]) -> Vec<Value> {
    let mut v = first[..2].to_vec();
    v.extend(std::iter::repeat_n(json!(0), 8));
    v.push(first[2].clone());
    v
}

#[actix_web::test]
async fn status_counts_hide_small_cells_and_what_would_reveal_them() {
    let app = TestApp::new().await;
    let w = world(&app).await;

    // One category at a time. housing: 11 is above the threshold (10): shown.
    let r = app
        .get(&format!("{COUNTS}?category_id={}", w.housing))
        .await
        .expect(200);
    assert_eq!(r["threshold"], 10);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["school_id"], w.school.as_str());
    assert_eq!(rows[0]["school_name"], w.school_name.as_str());
    assert_eq!(rows[0]["category_code"], "housing");
    assert_eq!(rows[0]["month"], w.month.as_str());
    assert_eq!(
        figures(&rows[0]),
        zeros_after(&[json!(11), json!(0), json!(11)])
    );
    assert_eq!(rows[0]["suppressed"], json!([]));

    // tutoring: 10 is the threshold: hidden, and so is its total.
    let r = app
        .get(&format!("{COUNTS}?category_id={}", w.tutoring))
        .await
        .expect(200);
    let row = &r["rows"][0];
    assert_eq!(
        figures(row),
        zeros_after(&[Value::Null, json!(0), Value::Null])
    );
    assert_eq!(row["suppressed"], json!(["submitted", "total"]));
    assert_eq!(r["totals"]["total"], Value::Null);

    // food: 3 triaged is hidden; the row total 15 would reveal it from the 12 submitted, so
    // the 12 is hidden too. The column totals say the same (12 and 3) and are hidden alike.
    let r = app
        .get(&format!("{COUNTS}?category_id={}", w.food))
        .await
        .expect(200);
    let row = &r["rows"][0];
    assert_eq!(
        figures(row),
        zeros_after(&[Value::Null, Value::Null, json!(15)])
    );
    assert_eq!(row["suppressed"], json!(["submitted", "triaged"]));
    assert_eq!(
        figures(&r["totals"]),
        zeros_after(&[Value::Null, Value::Null, json!(15)])
    );

    // All three rows (hand-worked): food [12 3 | 15], housing [11 | 11], tutoring [10 | 10].
    // 3 and 10 are small; food's row hides 12; the totals row [33 3 | 36] hides 33; the
    // column of row totals [15 11 10 | 36] hides 11 (the smallest shown); housing's row then
    // hides its 11 submitted.
    let r = app.get(COUNTS).await.expect(200);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let by_code = |code: &str| rows.iter().find(|r| r["category_code"] == code).unwrap();
    assert_eq!(
        figures(by_code("food-assistance")),
        zeros_after(&[Value::Null, Value::Null, json!(15)])
    );
    assert_eq!(
        figures(by_code("housing")),
        zeros_after(&[Value::Null, json!(0), Value::Null])
    );
    assert_eq!(
        figures(by_code("tutoring")),
        zeros_after(&[Value::Null, json!(0), Value::Null])
    );
    assert_eq!(
        figures(&r["totals"]),
        zeros_after(&[Value::Null, Value::Null, json!(36)])
    );

    // A higher threshold hides 11 as well.
    let strict = TestApp::with_protection(|p| p.report_threshold = 11).await;
    let w2 = world(&strict).await;
    let r = strict
        .get(&format!("{COUNTS}?category_id={}", w2.housing))
        .await
        .expect(200);
    assert_eq!(r["threshold"], 11);
    assert_eq!(r["rows"][0]["counts"]["submitted"], Value::Null);
}

#[actix_web::test]
async fn status_counts_as_csv() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let expected = format!(
        "row,school_id,school_name,category_id,category_code,month,submitted,triaged,referred,accepted,rejected,in_progress,completed,declined,withdrawn,cancelled,total\r\n\
         cell,{},\"Lincoln, \"\"East\"\" Elementary\",{},food-assistance,{},*,*,0,0,0,0,0,0,0,0,15\r\n\
         total,,,,,,*,*,0,0,0,0,0,0,0,0,15\r\n",
        w.school, w.food, w.month
    );
    for req in [
        TestRequest::get().uri(&format!("{COUNTS}?category_id={}&format=csv", w.food)),
        TestRequest::get()
            .uri(&format!("{COUNTS}?category_id={}", w.food))
            .insert_header(("Accept", "text/csv")),
        TestRequest::get()
            .uri(&format!("{COUNTS}?category_id={}", w.food))
            .insert_header(("Accept", "application/json;q=0.5, text/csv")),
    ] {
        let reply = app.send_admin(req).await;
        assert_eq!(reply.status.as_u16(), 200);
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("text/csv; charset=utf-8")
        );
        assert_eq!(
            reply.header("content-disposition").as_deref(),
            Some("attachment; filename=\"service-request-status-counts.csv\"")
        );
        assert_eq!(String::from_utf8(reply.body.clone()).unwrap(), expected);
    }
    // format wins over Accept; */* and no Accept are JSON.
    for accept in ["text/csv", "*/*"] {
        let reply = app
            .send_admin(
                TestRequest::get()
                    .uri(&format!("{COUNTS}?format=json&category_id={}", w.food))
                    .insert_header(("Accept", accept)),
            )
            .await;
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/json")
        );
    }
    let reply = app
        .send_admin(
            TestRequest::get()
                .uri(COUNTS)
                .insert_header(("Accept", "application/xml")),
        )
        .await;
    assert_eq!(reply.expect(406)["code"], "not-acceptable");
    let reply = app.get(&format!("{COUNTS}?format=xml")).await;
    assert_eq!(reply.expect(422)["errors"][0]["field"], "format");
}

#[actix_web::test]
async fn report_filters_are_checked() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let bad = |q: &str| format!("{COUNTS}?{q}");
    let field = |v: Value| v["errors"][0]["field"].as_str().unwrap().to_owned();
    assert_eq!(
        field(
            app.get(&bad("from=2026-10-01&to=2026-09-30"))
                .await
                .expect(422)
        ),
        "from"
    );
    // Counted by month: whole months only.
    assert_eq!(
        field(app.get(&bad("from=2026-10-02")).await.expect(422)),
        "from"
    );
    assert_eq!(
        field(app.get(&bad("to=2026-10-30")).await.expect(422)),
        "to"
    );
    let nobody = uuid::Uuid::now_v7();
    assert_eq!(
        field(
            app.get(&bad(&format!("school_id={nobody}")))
                .await
                .expect(422)
        ),
        "school_id"
    );
    assert_eq!(
        field(
            app.get(&bad(&format!("council_id={nobody}")))
                .await
                .expect(422)
        ),
        "council_id"
    );
    assert_eq!(
        field(
            app.get(&bad(&format!("category_id={nobody}")))
                .await
                .expect(422)
        ),
        "category_id"
    );
    assert!(app
        .get(&bad("school_id=not-a-uuid"))
        .await
        .status
        .is_client_error());
    assert!(app.get(&bad("colour=blue")).await.status.is_client_error());
    // A range that holds: this month only, and a month without requests.
    let today = chrono::Utc::now().date_naive();
    let first = today.format("%Y-%m-01").to_string();
    let r = app
        .get(&bad(&format!("from={first}&category_id={}", w.housing)))
        .await
        .expect(200);
    assert_eq!(r["rows"][0]["total"], 11);
    assert_eq!(r["filter"]["from"], first.as_str());
    let r = app
        .get(&bad("from=2020-01-01&to=2020-01-31"))
        .await
        .expect(200);
    assert_eq!(r["rows"], json!([]));
    assert_eq!(r["totals"]["total"], 0);
}

#[actix_web::test]
async fn who_reads_reports() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // Staff of the school's council: their school, by school or council or without a filter.
    for q in [
        String::new(),
        format!("?school_id={}", w.school),
        format!("?council_id={}", w.council),
    ] {
        let r = get_as(&app, &w.staff, &format!("{COUNTS}{q}"))
            .await
            .expect(200);
        assert_eq!(r["totals"]["total"], 36, "{q}");
    }
    // Staff of another school see none of these requests, and may not name this school.
    let r = get_as(&app, &w.other_staff, COUNTS).await.expect(200);
    assert_eq!(r["rows"], json!([]));
    get_as(
        &app,
        &w.other_staff,
        &format!("{COUNTS}?school_id={}", w.school),
    )
    .await
    .expect(403);
    get_as(
        &app,
        &w.other_staff,
        &format!("{COUNTS}?school_id={}", w.other_school),
    )
    .await
    .expect(200);
    // Families never; nobody without a token.
    get_as(&app, &w.family, COUNTS).await.expect(403);
    app.send(TestRequest::get().uri(COUNTS)).await.expect(401);
}

/// Sets `created_at` of these requests to `days` days ago.
fn backdate(app: &TestApp, requests: &[Value], days: i64) -> chrono::NaiveDateTime {
    let ids: Vec<String> = requests.iter().map(id).collect();
    let then = chrono::Utc::now().naive_utc() - chrono::Duration::days(days);
    app.db
        .write_blocking(move |conn| {
            use cogov::db::schema::service_requests::dsl::*;
            use diesel::prelude::*;
            diesel::update(service_requests.filter(id.eq_any(ids)))
                .set(created_at.eq(then))
                .execute(conn)
                .map_err(cogov::error::ApiError::from)
        })
        .unwrap();
    then
}

/// Reads a request again (for its current version).
async fn reread(app: &TestApp, r: &Value) -> Value {
    app.get(&format!("/api/v1/service-requests/{}", id(r)))
        .await
        .expect(200)
}

#[actix_web::test]
async fn durations_backlog_and_overdue() {
    let app = TestApp::new().await;
    let school = id(&app.school("RPT3").await);
    let council = id(&app
        .council(json!({"kind": "school_site_council", "name": "SSC", "school_id": school}))
        .await);
    let staff = app.user("Rita Staff", "council_staff", Some(&council)).1;
    // food: first contact within 2 school days = 4 calendar days.
    let food = category(&app, "food-assistance", Some(2)).await;
    let housing = category(&app, "housing", None).await;

    // 14 food requests filed 5 days ago: 11 first contacted now (5 days: late), 3 still waiting
    // (overdue). 12 filed today and contacted at once (0 days: on time).
    let old = file(&app, &staff, &school, &food, 14).await;
    let old_created = backdate(&app, &old, 5);
    for r in &old[..11] {
        let r = reread(&app, r).await;
        act(&app, &staff, &r, "triage", json!({})).await;
    }
    for r in file(&app, &staff, &school, &food, 12).await {
        act(&app, &staff, &r, "triage", json!({})).await;
    }
    // 13 housing requests, never contacted: 11 filed 10 days ago, 2 filed 40 days ago.
    let h = file(&app, &staff, &school, &housing, 13).await;
    backdate(&app, &h[..11], 10);
    backdate(&app, &h[11..], 40);
    // 12 legal-aid requests filed 120 days ago, never contacted (no target).
    let legal = category(&app, "legal-aid", None).await;
    let l = file(&app, &staff, &school, &legal, 12).await;
    backdate(&app, &l, 120);

    // Durations: whole days 0 (x12) and 5 (x11).
    let r = app
        .get("/api/v1/reports/service-requests/durations")
        .await
        .expect(200);
    let rows = r["rows"].as_array().unwrap();
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    let old_month = old_created.format("%Y-%m").to_string();
    if old_month == this_month {
        // 23 contacts: median rank 12 → 0 days; 90th percentile rank 21 → 5 days.
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["month"], this_month.as_str());
        assert_eq!(rows[0]["first_contacts"], 23);
        assert_eq!(rows[0]["first_contact_median_days"], 0);
        assert_eq!(rows[0]["first_contact_p90_days"], 5);
    } else {
        assert_eq!(rows.len(), 2);
        let old = rows
            .iter()
            .find(|r| r["month"] == old_month.as_str())
            .unwrap();
        assert_eq!(old["first_contacts"], 11);
        assert_eq!(old["first_contact_median_days"], 5);
        assert_eq!(old["first_contact_p90_days"], 5);
        let new = rows
            .iter()
            .find(|r| r["month"] == this_month.as_str())
            .unwrap();
        assert_eq!(new["first_contacts"], 12);
        assert_eq!(new["first_contact_median_days"], 0);
    }
    // No completions: zero is not a small cell; there is no median of nothing.
    assert_eq!(rows[0]["completions"], 0);
    assert_eq!(rows[0]["completion_median_days"], Value::Null);
    assert_eq!(rows[0]["category_code"], "food-assistance");

    // Overdue: food [on time 12, late 11, waiting 3 | 26]. 3 is small; the row total would
    // reveal it, so the next smallest (11) is hidden; the column of late contacts (11) then
    // hides its total.
    let r = app
        .get("/api/v1/reports/service-requests/overdue")
        .await
        .expect(200);
    assert_eq!(
        r["rows"].as_array().unwrap().len(),
        1,
        "housing has no target"
    );
    let row = &r["rows"][0];
    assert_eq!(row["target_school_days"], 2);
    assert_eq!(row["target_calendar_days"], 4);
    assert_eq!(row["contacted_on_time"], 12);
    assert_eq!(row["contacted_late"], Value::Null);
    assert_eq!(row["waiting_overdue"], Value::Null);
    assert_eq!(row["total"], 26);
    assert_eq!(
        row["suppressed"],
        json!(["contacted_late", "waiting_overdue"])
    );
    assert_eq!(r["totals"]["contacted_on_time"], 12);
    assert_eq!(r["totals"]["contacted_late"], Value::Null);
    assert_eq!(r["totals"]["total"], 26);
    let csv = app
        .get("/api/v1/reports/service-requests/overdue?format=csv")
        .await;
    assert_eq!(
        String::from_utf8(csv.body.clone()).unwrap(),
        format!(
            "row,category_id,category_code,target_school_days,target_calendar_days,contacted_on_time,contacted_late,waiting_overdue,total\r\n\
             cell,{food},food-assistance,2,4,12,*,*,26\r\n\
             total,,,,,12,*,*,26\r\n"
        )
    );

    // Backlog (every request is open): food [26 0 0 0 | 26], housing [0 11 2 0 | 13], legal
    // aid [0 0 0 12 | 12]. The 2 is small, housing's 11 is hidden with it, and the 8–30 column
    // total (11) after it.
    let r = app
        .get("/api/v1/reports/service-requests/backlog")
        .await
        .expect(200);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let l = rows
        .iter()
        .find(|r| r["category_code"] == "legal-aid")
        .unwrap();
    assert_eq!(
        [
            &l["days_0_7"],
            &l["days_8_30"],
            &l["days_31_90"],
            &l["days_91_plus"],
            &l["total"]
        ],
        [&json!(0), &json!(0), &json!(0), &json!(12), &json!(12)]
    );
    let f = rows
        .iter()
        .find(|r| r["category_code"] == "food-assistance")
        .unwrap();
    assert_eq!(
        [
            &f["days_0_7"],
            &f["days_8_30"],
            &f["days_31_90"],
            &f["days_91_plus"],
            &f["total"]
        ],
        [&json!(26), &json!(0), &json!(0), &json!(0), &json!(26)]
    );
    let h = rows
        .iter()
        .find(|r| r["category_code"] == "housing")
        .unwrap();
    assert_eq!(
        [
            &h["days_0_7"],
            &h["days_8_30"],
            &h["days_31_90"],
            &h["days_91_plus"],
            &h["total"]
        ],
        [&json!(0), &Value::Null, &Value::Null, &json!(0), &json!(13)]
    );
    let t = &r["totals"];
    assert_eq!(
        [
            &t["days_0_7"],
            &t["days_8_30"],
            &t["days_31_90"],
            &t["days_91_plus"],
            &t["total"]
        ],
        [
            &json!(26),
            &Value::Null,
            &Value::Null,
            &json!(12),
            &json!(51)
        ]
    );
    // Filters: one category; a creation range (any days) that leaves out the older housing.
    let r = app
        .get(&format!(
            "/api/v1/reports/service-requests/backlog?category_id={housing}&from={}",
            (chrono::Utc::now() - chrono::Duration::days(20)).format("%Y-%m-%d")
        ))
        .await
        .expect(200);
    assert_eq!(r["rows"][0]["days_8_30"], 11);
    assert_eq!(r["rows"][0]["total"], 11);

    // Partners: none referred yet.
    let r = app
        .get("/api/v1/reports/service-requests/partners")
        .await
        .expect(200);
    assert_eq!(r["rows"], json!([]));
    // The totals name no partner: null, not an empty string the contract's uuid refuses.
    assert_eq!(r["totals"]["partner_id"], Value::Null);
    assert_eq!(r["totals"]["partner_name"], Value::Null);
    assert_eq!(r["totals"]["referred"], 0);

    // `as_of` is a date-time with its offset, as the contract says.
    for report in ["backlog", "overdue"] {
        let r = app
            .get(&format!("/api/v1/reports/service-requests/{report}"))
            .await
            .expect(200);
        let as_of = r["as_of"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(as_of).is_ok(),
            "{report}: {as_of}"
        );
    }
}
