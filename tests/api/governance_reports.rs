//! Governance reports (docs/REPORTS.md, "Governance"): seats, attendance, agenda sources,
//! motions, notices and public comments per council, on hand-computed fixtures, as JSON and
//! CSV; never suppressed; the shared filter and who may read them.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{id, TestApp};

const BASE: &str = "/api/v1/reports/governance";

struct World {
    school: String,
    council: String,
    other_council: String,
    other_staff: String,
    family: String,
    /// families ×3 (2 filled), teachers ×2 (1 filled) on `council`.
    families: Vec<String>,
    teachers: Vec<String>,
}

/// Runs statements against the test database (fixtures of councils' past acts, as an import
/// would leave them).
fn sql(app: &TestApp, statements: Vec<String>) {
    app.query(move |conn| {
        use diesel::RunQueryDsl;
        for s in statements {
            diesel::sql_query(s).execute(conn)?;
        }
        Ok(())
    });
}

fn meeting(id: &str, council: &str, kind: &str, starts: &str, noticed: Option<&str>) -> String {
    let noticed = noticed.map_or("NULL".to_owned(), |n| format!("'{n}'"));
    format!(
        "INSERT INTO meetings (id, council_id, meeting_type, status, title, starts_at, time_zone, \
         location, interpretation_languages, noticed_at, created_at, updated_at, version) VALUES \
         ('{id}', '{council}', '{kind}', 'adjourned', 'Meeting {id}', '{starts}', 'UTC', 'Library', '[]', \
         {noticed}, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
    )
}

fn item(
    id: &str,
    council: &str,
    meeting: Option<&str>,
    status: &str,
    seat: Option<&str>,
) -> String {
    let q = |v: Option<&str>| v.map_or("NULL".to_owned(), |s| format!("'{s}'"));
    let decline = if status == "declined" {
        "'not ours'"
    } else {
        "NULL"
    };
    let position = if meeting.is_some() {
        format!("'{id}'")
    } else {
        "NULL".to_owned()
    };
    format!(
        "INSERT INTO agenda_items (id, council_id, meeting_id, status, position, kind, title, \
         proposed_by_seat_id, documents, translations, decline_reason, added_late, created_at, \
         updated_at, version) VALUES ('{id}', '{council}', {}, '{status}', {position}, \
         'discussion', 'Item {id}', {}, '[]', '{{}}', {decline}, FALSE, '2026-01-01 00:00:00', \
         '2026-01-01 00:00:00', 1)",
        q(meeting),
        q(seat)
    )
}

fn attend(id: &str, meeting: &str, seat: &str, person: &str, status: &str) -> String {
    format!(
        "INSERT INTO meeting_attendance (id, meeting_id, seat_id, person_id, status, remote, \
         created_at, updated_at, version) VALUES ('{id}', '{meeting}', '{seat}', '{person}', \
         '{status}', FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
    )
}

fn motion(id: &str, meeting: &str, item: &str, seat: &str, status: &str) -> String {
    let closed = if status == "open" {
        "NULL"
    } else {
        "'2026-10-01 20:00:00'"
    };
    format!(
        "INSERT INTO motions (id, meeting_id, agenda_item_id, kind, text, mover_seat_id, \
         threshold, status, membership, closed_at, created_at, updated_at, version) VALUES \
         ('{id}', '{meeting}', '{item}', 'main', 'Move', '{seat}', 'majority', '{status}', 5, \
         {closed}, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
    )
}

fn comment(id: &str, meeting: &str, item: &str, hidden: bool) -> String {
    let (at, reason) = if hidden {
        ("'2026-10-01 12:00:00'", "'spam'")
    } else {
        ("NULL", "NULL")
    };
    format!(
        "INSERT INTO public_comments (id, meeting_id, item_id, body, hidden_at, hidden_reason, \
         created_at, updated_at, version) VALUES ('{id}', '{meeting}', '{item}', 'Comment', {at}, \
         {reason}, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
    )
}

fn amendment(id: &str, meeting: &str) -> String {
    format!(
        "INSERT INTO meeting_amendments (id, meeting_id, reason, within_notice_window, created_at, \
         updated_at, version) VALUES ('{id}', '{meeting}', 'added item', TRUE, \
         '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
    )
}

async fn world(app: &TestApp) -> World {
    let school = id(&app.school("GOV1").await);
    let council = id(&app
        .council(
            json!({"kind": "assembly", "name": "Lincoln Assembly", "school_id": school,
            "composition_rules": [
                {"type": "balance", "name": "families lead", "left": ["families"],
                 "relation": "at_least", "right": ["teachers"]},
                {"type": "at_least", "constituency": "families", "min": 4}]}),
        )
        .await);
    let other_school = id(&app.school("GOV2").await);
    let other_council = id(&app
        .council(json!({"kind": "assembly", "name": "Other Assembly", "school_id": other_school}))
        .await);
    let other_staff = app
        .user("Otto Staff", "council_staff", Some(&other_council))
        .1;
    let family = app.user("Fay Family", "family", None).1;
    let mut families = Vec::new();
    for _ in 0..3 {
        families.push(id(&app.seat(&council, "families").await));
    }
    let mut teachers = Vec::new();
    for _ in 0..2 {
        teachers.push(id(&app.seat(&council, "teachers").await));
    }
    let people: Vec<String> = {
        let mut v = Vec::new();
        for n in ["Ann", "Bo", "Cy"] {
            v.push(id(&app.person(n).await));
        }
        v
    };
    let (c, o) = (council.clone(), other_council.clone());
    let (f, t, p) = (families.clone(), teachers.clone(), people.clone());
    let mut s = vec![
        format!(
            "UPDATE seats SET holder_id = '{}' WHERE id = '{}'",
            p[0], f[0]
        ),
        format!(
            "UPDATE seats SET holder_id = '{}' WHERE id = '{}'",
            p[1], f[1]
        ),
        format!(
            "UPDATE seats SET holder_id = '{}' WHERE id = '{}'",
            p[2], t[0]
        ),
        // m1: regular, noticed 72 h ahead exactly (on time), amended; October.
        meeting(
            "m1",
            &c,
            "regular",
            "2026-10-05 18:00:00",
            Some("2026-10-02 18:00:00"),
        ),
        amendment("am1", "m1"),
        // m2: special, noticed 23 h 59 min ahead (late: 24 h required); November.
        meeting(
            "m2",
            &c,
            "special",
            "2026-11-10 18:00:00",
            Some("2026-11-09 18:01:00"),
        ),
        // m3: emergency: notice lifted; November.
        meeting(
            "m3",
            &c,
            "emergency",
            "2026-11-20 18:00:00",
            Some("2026-11-20 17:00:00"),
        ),
        // m4: never noticed; September.
        meeting("m4", &c, "regular", "2026-09-15 18:00:00", None),
        // The other council: one regular meeting noticed 100 h ahead.
        meeting(
            "o1",
            &o,
            "regular",
            "2026-10-06 18:00:00",
            Some("2026-10-02 14:00:00"),
        ),
        // Agenda: m1 has a families item, a teachers item, an item without a seat.
        item("i1", &c, Some("m1"), "accepted", Some(&f[0])),
        item("i2", &c, Some("m1"), "accepted", Some(&t[0])),
        item("i3", &c, Some("m1"), "accepted", None),
        item("i4", &c, Some("m2"), "accepted", Some(&f[1])),
        item("i5", &c, None, "proposed", Some(&f[0])),
        item("i6", &c, None, "declined", None),
        item("o1i", &o, Some("o1"), "accepted", None),
        // Attendance: m1 families 2 present, teachers 1 absent; m2 families 1 present 1 absent,
        // teachers 1 present.
        attend("a1", "m1", &f[0], &p[0], "present"),
        attend("a2", "m1", &f[1], &p[1], "present"),
        attend("a3", "m1", &t[0], &p[2], "absent"),
        attend("a4", "m2", &f[0], &p[0], "present"),
        attend("a5", "m2", &f[1], &p[1], "absent"),
        attend("a6", "m2", &t[0], &p[2], "present"),
        // Motions: m1 passed ×2, failed ×1; m2 open ×1.
        motion("mo1", "m1", "i1", &f[0], "passed"),
        motion("mo2", "m1", "i2", &f[0], "passed"),
        motion("mo3", "m1", "i3", &t[0], "failed"),
        motion("mo4", "m2", "i4", &f[1], "open"),
    ];
    // Comments: i1 ×3 (1 hidden), i3 ×1 on m1; i4 ×2 on m2.
    for (n, (m, i, hidden)) in [
        ("m1", "i1", false),
        ("m1", "i1", true),
        ("m1", "i1", false),
        ("m1", "i3", false),
        ("m2", "i4", false),
        ("m2", "i4", false),
    ]
    .into_iter()
    .enumerate()
    {
        s.push(comment(&format!("pc{n}"), m, i, hidden));
    }
    sql(app, s);
    World {
        school,
        council,
        other_council,
        other_staff,
        family,
        families,
        teachers,
    }
}

async fn report(app: &TestApp, path: &str) -> Value {
    app.get(&format!("{BASE}/{path}")).await.expect(200)
}

async fn csv(app: &TestApp, path: &str) -> String {
    let reply = app
        .send_admin(
            TestRequest::get()
                .uri(&format!("{BASE}/{path}"))
                .insert_header(("Accept", "text/csv")),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    String::from_utf8(reply.body.to_vec()).unwrap()
}

#[actix_web::test]
async fn seats_count_filled_and_vacant_and_check_rules() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = report(&app, &format!("seats?council_id={}", w.council)).await;
    let c = &r["councils"][0];
    assert_eq!(r["councils"].as_array().unwrap().len(), 1);
    assert_eq!(c["council_name"], "Lincoln Assembly");
    assert_eq!(
        c["by_constituency"],
        json!([
            {"constituency": "teachers", "seats": 2, "voting_seats": 2, "filled": 1, "vacant": 1},
            {"constituency": "families", "seats": 3, "voting_seats": 3, "filled": 2, "vacant": 1}
        ])
    );
    assert_eq!(c["totals"]["filled"], 3);
    assert_eq!(c["totals"]["vacant"], 2);
    // The same verdict as the council's own composition report.
    let own = app
        .get(&format!("/api/v1/councils/{}/composition", w.council))
        .await
        .expect(200);
    assert_eq!(c["rules"], own["rules"]);
    assert_eq!(c["all_rules_pass"], own["all_rules_pass"]);
    let text = csv(&app, &format!("seats?council_id={}", w.council)).await;
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "council_id,council_name,constituency,seats,voting_seats,filled,vacant,rules_passed,rules_failed"
    );
    assert_eq!(
        lines[1],
        format!("{},Lincoln Assembly,teachers,2,2,1,1,,", w.council)
    );
    // families 3 ≥ teachers 2 holds; families ≥ 4 does not.
    let passed: Vec<&Value> = c["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["passed"])
        .collect();
    assert_eq!(passed, vec![&json!(true), &json!(false)]);
    assert_eq!(c["all_rules_pass"], false);
    assert_eq!(
        lines[3],
        format!("{},Lincoln Assembly,total,5,5,3,2,1,1", w.council)
    );
    // Both councils without a filter.
    let all = report(&app, "seats").await;
    assert_eq!(all["councils"].as_array().unwrap().len(), 2);
    let _ = (&w.families, &w.teachers);
}

#[actix_web::test]
async fn attendance_rate_per_constituency() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = report(&app, &format!("attendance?school_id={}", w.school)).await;
    assert_eq!(
        r["rows"],
        json!([
            {"council_id": w.council, "council_name": "Lincoln Assembly", "constituency": "families",
             "expected": 4, "present": 3, "absent": 1, "rate": 0.75},
            {"council_id": w.council, "council_name": "Lincoln Assembly", "constituency": "teachers",
             "expected": 2, "present": 1, "absent": 1, "rate": 0.5}
        ])
    );
    // October only: m1.
    let r = report(&app, "attendance?from=2026-10-01&to=2026-10-31").await;
    let rates: Vec<(Value, Value)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["constituency"].clone(), x["rate"].clone()))
        .collect();
    assert_eq!(
        rates,
        vec![
            (json!("families"), json!(1.0)),
            (json!("teachers"), json!(0.0))
        ]
    );
    let text = csv(&app, &format!("attendance?school_id={}", w.school)).await;
    assert_eq!(
        text,
        format!(
            "council_id,council_name,constituency,expected,present,absent,rate\r\n\
             {c},Lincoln Assembly,families,4,3,1,0.7500\r\n\
             {c},Lincoln Assembly,teachers,2,1,1,0.5000\r\n",
            c = w.council
        )
    );
}

#[actix_web::test]
async fn agenda_sources_by_proposing_constituency() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = report(&app, &format!("agenda-sources?council_id={}", w.council)).await;
    let rows: Vec<(String, i64, i64, i64, i64)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["source"].as_str().unwrap().to_owned(),
                x["proposed"].as_i64().unwrap(),
                x["accepted"].as_i64().unwrap(),
                x["declined"].as_i64().unwrap(),
                x["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        // Items without a proposing seat come first.
        vec![
            ("no_proposing_seat".to_owned(), 0, 1, 1, 2),
            ("families".to_owned(), 1, 2, 0, 3),
            ("teachers".to_owned(), 0, 1, 0, 1),
        ]
    );
    // A date range counts items on meetings in it only: November has i4.
    let r = report(
        &app,
        &format!(
            "agenda-sources?council_id={}&from=2026-11-01&to=2026-11-30",
            w.council
        ),
    )
    .await;
    assert_eq!(r["rows"].as_array().unwrap().len(), 1);
    assert_eq!(r["rows"][0]["source"], "families");
    assert_eq!(r["rows"][0]["accepted"], 1);
    let text = csv(&app, &format!("agenda-sources?council_id={}", w.council)).await;
    assert!(text.starts_with(&format!(
        "council_id,council_name,source,proposed,accepted,declined,total\r\n{c},Lincoln Assembly,no_proposing_seat,0,1,1,2\r\n{c},Lincoln Assembly,families,1,2,0,3\r\n",
        c = w.council
    )));
}

#[actix_web::test]
async fn motions_by_outcome() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = report(&app, "motions").await;
    assert_eq!(
        r["rows"],
        json!([{"council_id": w.council, "council_name": "Lincoln Assembly",
            "adopted": 2, "failed": 1, "open": 1, "total": 4}])
    );
    let text = csv(&app, "motions?to=2026-10-31").await;
    assert_eq!(
        text,
        format!(
            "council_id,council_name,adopted,failed,open,total\r\n{},Lincoln Assembly,2,1,0,3\r\n",
            w.council
        )
    );
}

#[actix_web::test]
async fn notices_on_time_late_lifted_and_amended() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = report(&app, "notices").await;
    assert_eq!(
        r["rows"],
        json!([
            {"council_id": w.council, "council_name": "Lincoln Assembly",
             "noticed": 3, "on_time": 1, "late": 1, "notice_lifted": 1, "amended": 1},
            {"council_id": w.other_council, "council_name": "Other Assembly",
             "noticed": 1, "on_time": 1, "late": 0, "notice_lifted": 0, "amended": 0}
        ])
    );
    let text = csv(&app, &format!("notices?council_id={}", w.council)).await;
    assert_eq!(
        text,
        format!(
            "council_id,council_name,noticed,on_time,late,notice_lifted,amended\r\n{},Lincoln Assembly,3,1,1,1,1\r\n",
            w.council
        )
    );
}

#[actix_web::test]
async fn comments_per_item_and_meeting() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = report(&app, &format!("comments?council_id={}", w.council)).await;
    let rows: Vec<(String, String, String, i64, i64)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["meeting_id"].as_str().unwrap().to_owned(),
                x["item_id"].as_str().unwrap().to_owned(),
                x["starts_at"].as_str().unwrap().to_owned(),
                x["comments"].as_i64().unwrap(),
                x["hidden"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "m1".into(),
                "i1".into(),
                "2026-10-05T18:00:00Z".into(),
                3,
                1
            ),
            (
                "m1".into(),
                "i3".into(),
                "2026-10-05T18:00:00Z".into(),
                1,
                0
            ),
            (
                "m2".into(),
                "i4".into(),
                "2026-11-10T18:00:00Z".into(),
                2,
                0
            ),
        ]
    );
    let text = csv(&app, "comments?from=2026-11-01").await;
    assert_eq!(
        text,
        format!(
            "council_id,council_name,meeting_id,meeting_title,starts_at,item_id,item_title,comments,hidden\r\n\
             {},Lincoln Assembly,m2,Meeting m2,2026-11-10T18:00:00Z,i4,Item i4,2,0\r\n",
            w.council
        )
    );
}

/// The meetings of a page of the comments report, in the order listed (each once).
fn meetings_of(page: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for row in page["rows"].as_array().unwrap() {
        let m = row["meeting_id"].as_str().unwrap().to_owned();
        if out.last() != Some(&m) {
            out.push(m);
        }
    }
    out
}

#[actix_web::test]
async fn comments_are_paged_by_meeting_in_start_order() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // The other council's o1 and a second meeting o2 start at the same moment; both draw a
    // comment. District-wide: m1 (Oct 5), o1 and o2 (Oct 6, by id), m2 (Nov 10).
    let o = w.other_council.clone();
    sql(
        &app,
        vec![
            meeting("o2", &o, "regular", "2026-10-06 18:00:00", None),
            item("o2i", &o, Some("o2"), "accepted", None),
            comment("opc1", "o1", "o1i", false),
            comment("opc2", "o2", "o2i", true),
        ],
    );
    // Every meeting fits on the default page.
    let all = report(&app, "comments").await;
    assert_eq!(meetings_of(&all), ["m1", "o1", "o2", "m2"]);
    assert_eq!(all["rows"].as_array().unwrap().len(), 5);
    assert_eq!(all["next_cursor"], Value::Null);

    // One meeting per page: a meeting's items stay together, the tie at Oct 6 is broken by id,
    // and following `next_cursor` or the Link header gives the same pages.
    let mut seen = Vec::new();
    let mut path = "comments?limit=1".to_owned();
    loop {
        let reply = app.get(&format!("{BASE}/{path}")).await;
        let link = reply.header("link");
        let page = reply.expect(200);
        seen.push(meetings_of(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                let link = link.expect("a Link header on every page but the last");
                let next = format!("comments?limit=1&cursor={cursor}");
                assert_eq!(link, format!("<{BASE}/{next}>; rel=\"next\""));
                path = next;
            }
            None => {
                assert_eq!(link, None, "no Link header on the last page");
                break;
            }
        }
    }
    assert_eq!(seen, [["m1"], ["o1"], ["o2"], ["m2"]]);
    let first = report(&app, "comments?limit=1").await;
    assert_eq!(first["rows"].as_array().unwrap().len(), 2, "m1: i1 and i3");

    // Two per page, with a filter: the filter holds on every page.
    let p1 = report(&app, &format!("comments?limit=2&school_id={}", w.school)).await;
    assert_eq!(meetings_of(&p1), ["m1", "m2"]);
    assert_eq!(p1["next_cursor"], Value::Null);
    let p1 = report(&app, "comments?limit=2&from=2026-10-06").await;
    assert_eq!(meetings_of(&p1), ["o1", "o2"]);
    let cursor = p1["next_cursor"].as_str().unwrap();
    let p2 = report(
        &app,
        &format!("comments?limit=2&from=2026-10-06&cursor={cursor}"),
    )
    .await;
    assert_eq!(meetings_of(&p2), ["m2"]);
    assert_eq!(p2["next_cursor"], Value::Null);

    // CSV pages carry the Link header too.
    let reply = app
        .send_admin(
            TestRequest::get()
                .uri(&format!("{BASE}/comments?limit=3&format=csv"))
                .insert_header(("Accept", "text/csv")),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    let link = reply.header("link").expect("a Link header on a CSV page");
    assert!(
        link.contains("format=csv") && link.contains("cursor="),
        "{link}"
    );
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    assert_eq!(text.lines().count(), 1 + 4, "header, m1 ×2, o1, o2: {text}");

    // A page that is not one: a clear 422 naming the field.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("cursor=%27%20OR%201%3D1", "cursor"),
    ] {
        let reply = app.get(&format!("{BASE}/comments?{query}")).await;
        assert_eq!(reply.status.as_u16(), 422, "{query}");
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{query}"
        );
        let body = reply.expect(422);
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
}

#[actix_web::test]
async fn governance_reports_are_never_suppressed_and_check_their_filter_and_reader() {
    let app = TestApp::with_protection(|p| p.report_threshold = 50).await;
    let w = world(&app).await;
    // Counts far under the threshold are shown.
    let r = report(&app, "motions").await;
    assert_eq!(r["rows"][0]["adopted"], 2);
    for path in [
        "seats",
        "attendance",
        "agenda-sources",
        "motions",
        "notices",
        "comments",
    ] {
        // A category does not apply; a range must hold.
        let bad = app
            .get(&format!(
                "{BASE}/{path}?category_id={}",
                uuid::Uuid::now_v7()
            ))
            .await;
        assert_eq!(bad.status.as_u16(), 422, "{path}");
        let bad = app
            .get(&format!("{BASE}/{path}?from=2026-11-02&to=2026-11-01"))
            .await;
        assert_eq!(bad.status.as_u16(), 422, "{path}");
        // Families may not read reports; staff of another school may not name this one.
        let reply = app
            .send_as(&w.family, TestRequest::get().uri(&format!("{BASE}/{path}")))
            .await;
        assert_eq!(reply.status.as_u16(), 403, "{path}");
        let reply = app
            .send_as(
                &w.other_staff,
                TestRequest::get().uri(&format!("{BASE}/{path}?school_id={}", w.school)),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 403, "{path}");
        let reply = app
            .send(TestRequest::get().uri(&format!("{BASE}/{path}")))
            .await;
        assert_eq!(reply.status.as_u16(), 401, "{path}");
    }
    // Staff see their own councils only.
    let reply = app
        .send_as(
            &w.other_staff,
            TestRequest::get().uri(&format!("{BASE}/notices")),
        )
        .await;
    let rows = reply.expect(200)["rows"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["council_id"], json!(w.other_council));
}
