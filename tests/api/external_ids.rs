use serde_json::json;

use crate::common::{assert_problem, id, version_tag, TestApp};

#[actix_web::test]
async fn schools_people_and_councils_carry_external_ids() {
    let app = TestApp::new().await;
    let school = app
        .post(
            "/api/v1/schools",
            json!({"name": "Roosevelt", "district_code": "R1", "time_zone": "UTC",
                   "external_ids": [{"system": "sis", "value": "1937234"}, {"system": "oneroster", "value": "org-1"}]}),
        )
        .await
        .expect(201);
    // Shown ordered by system.
    assert_eq!(
        school["external_ids"],
        json!([{"system": "oneroster", "value": "org-1"}, {"system": "sis", "value": "1937234"}])
    );
    let path = format!("/api/v1/schools/{}", id(&school));
    assert_eq!(app.get(&path).await.expect(200), school);

    let person = app
        .post(
            "/api/v1/people",
            json!({"display_name": "María López", "external_ids": [{"system": "sis", "value": "4471"}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        person["external_ids"],
        json!([{"system": "sis", "value": "4471"}])
    );
    let council = app
        .council(
            json!({"kind": "school_site_council", "name": "SSC", "school_id": id(&school),
                        "external_ids": [{"system": "sis", "value": "SSC-1"}, {"system": "edfi", "value": "9"}]}),
        )
        .await;
    assert_eq!(
        council["external_ids"],
        json!([{"system": "edfi", "value": "9"}, {"system": "sis", "value": "SSC-1"}])
    );
    // A record and its ids are read together: every id, once, in order.
    let path = format!("/api/v1/councils/{}", id(&council));
    assert_eq!(app.get(&path).await.expect(200), council);
    // Without any, the list is empty, not absent, when created and when read.
    let plain = app.person("Ana").await;
    assert_eq!(plain["external_ids"], json!([]));
    let bare = app
        .council(json!({"kind": "assembly", "name": "Open assembly"}))
        .await;
    assert_eq!(bare["external_ids"], json!([]));
    let path = format!("/api/v1/councils/{}", id(&bare));
    assert_eq!(app.get(&path).await.expect(200), bare);
}

#[actix_web::test]
async fn a_patch_replaces_the_list_and_moves_the_version() {
    let app = TestApp::new().await;
    let person = app
        .post(
            "/api/v1/people",
            json!({"display_name": "Ana", "external_ids": [{"system": "sis", "value": "1"}]}),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/people/{}", id(&person));
    // The same list: nothing changes, the version stays.
    let same = app
        .patch(
            &path,
            "\"1\"",
            json!({"external_ids": [{"system": "sis", "value": "1"}]}),
        )
        .await
        .expect(200);
    assert_eq!(same["version"], 1);
    // Another field only: the list stays.
    let renamed = app
        .patch(&path, "\"1\"", json!({"display_name": "Ana María"}))
        .await
        .expect(200);
    assert_eq!(renamed["external_ids"], person["external_ids"]);
    assert_eq!(renamed["version"], 2);
    // A new list replaces the old one as a whole, and the ETag moves.
    let reply = app
        .patch(
            &path,
            "\"2\"",
            json!({"external_ids": [{"system": "oneroster", "value": "u-9"}]}),
        )
        .await;
    let changed = reply.expect(200);
    assert_eq!(reply.etag(), "\"3\"");
    assert_eq!(
        changed["external_ids"],
        json!([{"system": "oneroster", "value": "u-9"}])
    );
    // The change log has the change.
    let cleared = app
        .patch(&path, "\"3\"", json!({"external_ids": null}))
        .await
        .expect(200);
    assert_eq!(cleared["external_ids"], json!([]));
    assert_eq!(cleared["version"], 4);
    // The old value is free again.
    app.post(
        "/api/v1/people",
        json!({"display_name": "Other", "external_ids": [{"system": "sis", "value": "1"}]}),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn an_external_id_names_one_record_per_system_and_kind() {
    let app = TestApp::new().await;
    app.post(
        "/api/v1/schools",
        json!({"name": "A", "district_code": "A", "time_zone": "UTC",
               "external_ids": [{"system": "sis", "value": "100"}]}),
    )
    .await
    .expect(201);
    let reply = app
        .post(
            "/api/v1/schools",
            json!({"name": "B", "district_code": "B", "time_zone": "UTC",
                   "external_ids": [{"system": "sis", "value": "100"}]}),
        )
        .await;
    assert_problem(&reply, 409);
    let p = reply.json();
    assert_eq!(p["code"], "duplicate-external-id");
    assert!(p["detail"].as_str().unwrap().contains("sis:100"), "{p}");
    // Nothing of the refused school was kept.
    let list = app.get("/api/v1/schools?district_code=B").await.expect(200);
    assert_eq!(list["items"], json!([]));
    // Values are case-sensitive, another system is another id, another kind another namespace.
    app.post(
        "/api/v1/schools",
        json!({"name": "C", "district_code": "C", "time_zone": "UTC",
               "external_ids": [{"system": "sis", "value": "100a"}, {"system": "nces", "value": "100"}]}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/people",
        json!({"display_name": "P", "external_ids": [{"system": "sis", "value": "100"}]}),
    )
    .await
    .expect(201);
    // A patch onto another school's id is refused the same way.
    let d = app.school("D").await;
    let reply = app
        .patch(
            &format!("/api/v1/schools/{}", id(&d)),
            &version_tag(&d),
            json!({"external_ids": [{"system": "sis", "value": "100"}]}),
        )
        .await;
    assert_problem(&reply, 409);
    // One value per system on a record.
    let reply = app
        .post(
            "/api/v1/people",
            json!({"display_name": "Q", "external_ids": [{"system": "sis", "value": "1"}, {"system": "sis", "value": "2"}]}),
        )
        .await;
    assert_problem(&reply, 422);
    assert_eq!(reply.json()["errors"][0]["field"], "external_ids");
}

#[actix_web::test]
async fn malformed_external_ids_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    for bad in [
        json!({"system": "SIS", "value": "1"}),
        json!({"system": "", "value": "1"}),
        json!({"system": "sis", "value": ""}),
        json!({"system": "sis", "value": " 1"}),
        json!({"system": "sis"}),
        json!({"system": "sis", "value": "1", "other": 2}),
    ] {
        let reply = app
            .post(
                "/api/v1/people",
                json!({"display_name": "Q", "external_ids": [bad]}),
            )
            .await;
        assert!(
            matches!(reply.status.as_u16(), 400 | 422),
            "{bad}: {}",
            reply.status
        );
        assert_problem(&reply, reply.status.as_u16());
        assert!(reply.json().to_string().contains("external_ids"), "{bad}");
    }
}

#[actix_web::test]
async fn lists_filter_by_external_id() {
    let app = TestApp::new().await;
    let school = app
        .post(
            "/api/v1/schools",
            json!({"name": "A", "district_code": "A", "time_zone": "UTC",
                   "external_ids": [{"system": "sis", "value": "x:1"}]}),
        )
        .await
        .expect(201);
    app.school("B").await;
    let list = app
        .get("/api/v1/schools?external_id=sis:x%3A1")
        .await
        .expect(200);
    assert_eq!(list["items"], json!([school]));
    let none = app
        .get("/api/v1/schools?external_id=sis:x")
        .await
        .expect(200);
    assert_eq!(none["items"], json!([]));

    let person = app
        .post(
            "/api/v1/people",
            json!({"display_name": "P", "external_ids": [{"system": "oneroster", "value": "u1"}]}),
        )
        .await
        .expect(201);
    app.person("Other").await;
    let list = app
        .get("/api/v1/people?external_id=oneroster:u1")
        .await
        .expect(200);
    assert_eq!(list["items"], json!([person]));

    let council = app
        .council(json!({"kind": "school_site_council", "name": "SSC",
                        "external_ids": [{"system": "sis", "value": "c1"}]}))
        .await;
    let list = app
        .get("/api/v1/councils?external_id=sis:c1")
        .await
        .expect(200);
    assert_eq!(list["items"], json!([council]));

    for bad in ["12345", "SIS:1", "sis:", ":1"] {
        let reply = app.get(&format!("/api/v1/people?external_id={bad}")).await;
        assert_problem(&reply, 422);
        assert_eq!(reply.json()["errors"][0]["field"], "external_id", "{bad}");
    }
}

#[actix_web::test]
async fn two_instances_cannot_give_one_external_id_to_two_people() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let body = |n: u32| json!({"display_name": format!("P{n}"), "external_ids": [{"system": "sis", "value": "race"}]});
    let mut statuses = Vec::new();
    for round in 0..5 {
        let value = format!("race-{round}");
        let a = body(1).to_string().replace("race", &value);
        let b = body(2).to_string().replace("race", &value);
        let (ra, rb) = futures_util::future::join(
            app.send_admin(
                actix_web::test::TestRequest::post()
                    .uri("/api/v1/people")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(a),
            ),
            other.send_admin(
                actix_web::test::TestRequest::post()
                    .uri("/api/v1/people")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(b),
            ),
        )
        .await;
        let mut pair = [ra.status.as_u16(), rb.status.as_u16()];
        pair.sort();
        statuses.push(pair);
        let list = app
            .get(&format!("/api/v1/people?external_id=sis:{value}"))
            .await
            .expect(200);
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
    }
    assert!(statuses.iter().all(|p| *p == [201, 409]), "{statuses:?}");
}

#[derive(diesel::QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// Regression (the PostgreSQL import slowed with the table's size): the batch lookup of an
/// import, `value = ANY($3)`, was planned on a table without statistics as a scan of every id of
/// the system, each compared with all 500 values of the batch (about 0.7 s a batch at 50,000
/// people). The statement now used must look each value up in the unique index, with a custom
/// plan and with the generic plan PostgreSQL switches a cached statement to, before and after
/// the table is analysed.
#[actix_web::test]
async fn the_batch_lookup_of_external_ids_probes_the_index_for_each_value() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::new().await;
    // 20,000 people and 20 schools with ids of one system (a recursive count: both backends).
    app.query(|conn| {
        conn.batch_execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999) \
             INSERT INTO external_ids (id, resource_kind, resource_id, system, value, created_at) \
             SELECT 'x' || i, 'person', 'p' || i, 'oneroster', 'user-' || i, '2026-11-26 00:00:00' \
             FROM n; \
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19) \
             INSERT INTO external_ids (id, resource_kind, resource_id, system, value, created_at) \
             SELECT 'y' || i, 'school', 's' || i, 'oneroster', 'school-' || i, '2026-11-26 00:00:00' \
             FROM n;",
        )
    });
    let batch: Vec<String> = (19_750..20_250).map(|n| format!("user-{n}")).collect();
    if app.test_db.is_postgres() {
        explain_holders(&app, &batch);
    }

    // The lookup answers what the rows hold: 250 of the 500 values are held (user-19750 to
    // user-19999), the others by nobody; a school's value is not a person's.
    let mut asked = batch.clone();
    asked.push("school-3".into());
    asked.push("user-19750".into()); // asked twice, answered once
    let held = app.query(|conn| {
        cogov::db::external_ids::holders_of(
            conn,
            cogov::domain::external_ids::ResourceKind::Person,
            "oneroster",
            &asked,
        )
    });
    assert_eq!(held.len(), 250);
    assert_eq!(held["user-19750"], "p19750");
    assert_eq!(held["user-19999"], "p19999");
    assert!(!held.contains_key("user-20000"));
    assert!(!held.contains_key("school-3"));
}

/// EXPLAINs the PostgreSQL batch lookup of `batch` under both plan cache modes, before and after
/// the table is analysed, and asserts each plan probes the unique index once per value.
fn explain_holders(app: &TestApp, batch: &[String]) {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl};
    let mut pg = diesel::PgConnection::establish(&app.test_db.url).expect("connect");
    let array = format!("'{{{}}}'", batch.join(","));
    pg.batch_execute(&format!(
        "PREPARE holders(text, text, text[]) AS {}",
        cogov::db::dialect::POSTGRES_EXTERNAL_ID_HOLDERS
    ))
    .expect("prepare");
    for analysed in [false, true] {
        if analysed {
            pg.batch_execute("ANALYZE external_ids").expect("analyze");
        }
        for mode in ["force_generic_plan", "force_custom_plan"] {
            pg.batch_execute(&format!("SET plan_cache_mode = {mode}"))
                .expect("plan mode");
            let plan: Vec<PlanLine> = diesel::sql_query(format!(
                "EXPLAIN EXECUTE holders('person', 'oneroster', {array})"
            ))
            .load(&mut pg)
            .expect("explain");
            let plan: Vec<String> = plan.into_iter().map(|l| l.line).collect();
            let text = plan.join("\n");
            let context = format!("analysed: {analysed}, {mode}:\n{text}");
            assert!(
                text.contains("Index Scan using external_ids_value on external_ids"),
                "{context}"
            );
            let cond = plan
                .iter()
                .find(|l| l.trim_start().starts_with("Index Cond:"))
                .unwrap_or_else(|| panic!("no index condition: {context}"));
            assert!(cond.contains("(value = v.value)"), "{context}");
            assert!(!text.contains("Seq Scan"), "{context}");
            assert!(!text.contains("Filter:"), "{context}");
        }
    }
    pg.batch_execute("RESET plan_cache_mode; DEALLOCATE holders")
        .expect("reset");
}
