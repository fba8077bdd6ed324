use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::common::{id, version_tag, TestApp};

fn parity() -> Value {
    json!({"type": "balance", "name": "community parity",
           "left": ["families", "students", "community_organizations"], "relation": "at_least",
           "right": ["district", "administrators", "teachers", "classified_staff"]})
}

#[actix_web::test]
async fn a_seat_change_that_breaks_a_rule_is_refused_with_the_rule_named() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "assembly", "name": "A", "composition_rules": [parity()]}))
        .await;
    let seats = format!("/api/v1/councils/{}/seats", id(&council));

    let p = app
        .post(
            &seats,
            json!({"constituency": "teachers", "title": "Teacher"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "composition-rule-violation");
    assert_eq!(p["broken_rules"][0]["name"], "community parity");
    assert!(p["detail"].as_str().unwrap().contains("community parity"));
    assert_eq!(
        app.get(&seats).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing stored"
    );

    // Community seats first, then staff seats keep parity.
    app.seat(&id(&council), "families").await;
    let teacher = app.seat(&id(&council), "teachers").await;
    // Advisory seats never count.
    app.post(
        &seats,
        json!({"constituency": "teachers", "title": "Advisor", "voting": false}),
    )
    .await
    .expect(201);

    // Turning the family seat into a staff seat would break parity.
    let family_seats = app
        .get(&format!("{seats}?constituency=families"))
        .await
        .expect(200);
    let family = &family_seats["items"][0];
    let p = app
        .patch(
            &format!("/api/v1/seats/{}", id(family)),
            "\"1\"",
            json!({"constituency": "administrators"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "composition-rule-violation");
    assert_eq!(
        app.get(&format!("/api/v1/seats/{}", id(family)))
            .await
            .expect(200)["constituency"],
        "families"
    );

    // Deleting the family seat would too.
    app.delete(&format!("/api/v1/seats/{}", id(family)), "\"1\"")
        .await
        .expect(409);
    // Deleting the teacher seat is fine.
    app.delete(&format!("/api/v1/seats/{}", id(&teacher)), "\"1\"")
        .await
        .expect(204);
}

#[actix_web::test]
async fn overrides_are_allowed_on_request_and_recorded() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "assembly", "name": "A", "composition_rules": [parity()]}))
        .await;
    let seats = format!("/api/v1/councils/{}/seats", id(&council));
    let seat = app
        .post(
            &format!("{seats}?allow_rule_violation=true"),
            json!({"constituency": "teachers", "title": "Teacher"}),
        )
        .await
        .expect(201);
    let overrides = app
        .get(&format!("/api/v1/councils/{}/rule-overrides", id(&council)))
        .await
        .expect(200);
    let items = overrides["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["change"], "seat.created");
    assert_eq!(items[0]["seat_id"], id(&seat));
    assert_eq!(items[0]["broken_rules"][0]["name"], "community parity");

    let report = app
        .get(&format!("/api/v1/councils/{}/composition", id(&council)))
        .await
        .expect(200);
    assert_eq!(report["all_rules_pass"], false);
    assert_eq!(report["rules"][0]["passed"], false);
}

#[actix_web::test]
async fn assigning_a_holder_keeps_history() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seat = app.seat(&id(&council), "families").await;
    let first = app.person("First Holder").await;
    let second = app.person("Second Holder").await;
    let holder = format!("/api/v1/seats/{}/holder", id(&seat));

    let seated = app
        .put(
            &holder,
            "\"1\"",
            json!({"person_id": id(&first), "starts_on": "2025-09-01"}),
        )
        .await
        .expect(200);
    assert_eq!(seated["holder"]["person_id"], id(&first));
    assert_eq!(seated["holder"]["display_name"], "First Holder");
    assert_eq!(seated["holder"]["since"], "2025-09-01");
    assert_eq!(seated["version"], 2);

    let p = app
        .put(&holder, "\"2\"", json!({"person_id": id(&first)}))
        .await
        .expect(409);
    assert_eq!(p["code"], "already-holder");
    let p = app
        .put(
            &holder,
            "\"2\"",
            json!({"person_id": id(&second), "starts_on": "2025-01-01"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "starts_on");
    let p = app
        .put(
            &holder,
            "\"2\"",
            json!({"person_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "person_id");
    app.put(&holder, "\"1\"", json!({"person_id": id(&second)}))
        .await
        .expect(412);

    let replaced = app
        .put(
            &holder,
            "\"2\"",
            json!({"person_id": id(&second), "starts_on": "2026-09-01"}),
        )
        .await
        .expect(200);
    assert_eq!(replaced["holder"]["person_id"], id(&second));

    let history = app
        .get(&format!("/api/v1/seats/{}/holdings", id(&seat)))
        .await
        .expect(200);
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["person_id"], id(&first));
    assert_eq!(items[0]["started_on"], "2025-09-01");
    assert_eq!(items[0]["ended_on"], "2026-09-01");
    assert_eq!(items[0]["end_reason"], "replaced");
    assert_eq!(items[1]["person_id"], id(&second));
    assert_eq!(items[1]["ended_on"], Value::Null);

    let vacated = app
        .send_admin(
            actix_web::test::TestRequest::delete()
                .uri(&format!("{holder}?ends_on=2026-10-01&reason=resigned"))
                .insert_header(("If-Match", version_tag(&replaced))),
        )
        .await
        .expect(200);
    assert_eq!(vacated["holder"], Value::Null);
    let history = app
        .get(&format!("/api/v1/seats/{}/holdings", id(&seat)))
        .await
        .expect(200);
    assert_eq!(history["items"][1]["ended_on"], "2026-10-01");
    assert_eq!(history["items"][1]["end_reason"], "resigned");

    let p = app
        .delete(&holder, &version_tag(&vacated))
        .await
        .expect(409);
    assert_eq!(p["code"], "seat-vacant");

    // A seat with history is kept.
    let p = app
        .delete(
            &format!("/api/v1/seats/{}", id(&seat)),
            &version_tag(&vacated),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "still-referenced");
}

#[actix_web::test]
async fn vacating_can_break_a_rule_on_filled_seats() {
    let app = TestApp::new().await;
    let rule = json!({"type": "at_least", "name": "two students", "constituency": "students", "min": 2, "count": "filled"});
    let council = app
        .council(json!({"kind": "assembly", "name": "A", "composition_rules": [rule]}))
        .await;
    let mut seats = Vec::new();
    for name in ["S1", "S2"] {
        let seat = app.seat(&id(&council), "students").await;
        let person = app.person(name).await;
        let seated = app
            .put(
                &format!("/api/v1/seats/{}/holder", id(&seat)),
                "\"1\"",
                json!({"person_id": id(&person)}),
            )
            .await
            .expect(200);
        seats.push(seated);
    }
    let holder = format!("/api/v1/seats/{}/holder", id(&seats[0]));
    let p = app.delete(&holder, "\"2\"").await.expect(409);
    assert_eq!(p["broken_rules"][0]["name"], "two students");
    let vacated = app
        .send_admin(
            actix_web::test::TestRequest::delete()
                .uri(&format!("{holder}?allow_rule_violation=true"))
                .insert_header(("If-Match", "\"2\"")),
        )
        .await
        .expect(200);
    assert_eq!(vacated["holder"], Value::Null);
    let overrides = app
        .get(&format!("/api/v1/councils/{}/rule-overrides", id(&council)))
        .await
        .expect(200);
    assert_eq!(overrides["items"][0]["change"], "seat.holder_removed");
}

#[actix_web::test]
async fn composition_report() {
    let app = TestApp::new().await;
    let council = app
        .council(
            json!({"kind": "school_site_council", "name": "SSC", "composition_rules": [
                parity(),
                {"type": "at_least", "constituency": "students", "min": 2}
            ]}),
        )
        .await;
    let cid = id(&council);
    let today = Utc::now().date_naive();
    let soon = (today + Duration::days(30)).to_string();
    let later = (today + Duration::days(90)).to_string();
    let seats = format!("/api/v1/councils/{cid}/seats");
    let family = app
        .post(
            &seats,
            json!({"constituency": "families", "title": "Parent A", "term_end": soon}),
        )
        .await
        .expect(201);
    app.post(
        &seats,
        json!({"constituency": "families", "title": "Parent B", "term_end": later}),
    )
    .await
    .expect(201);
    app.post(
        &seats,
        json!({"constituency": "students", "title": "Student"}),
    )
    .await
    .expect(201);
    app.post(
        &seats,
        json!({"constituency": "teachers", "title": "Teacher"}),
    )
    .await
    .expect(201);
    app.post(
        &seats,
        json!({"constituency": "administrators", "title": "Principal"}),
    )
    .await
    .expect(201);
    app.post(
        &seats,
        json!({"constituency": "teachers", "title": "Observer", "voting": false}),
    )
    .await
    .expect(201);
    let parent = app.person("Parent A").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&family)),
        "\"1\"",
        json!({"person_id": id(&parent)}),
    )
    .await
    .expect(200);

    let report = app
        .get(&format!("/api/v1/councils/{cid}/composition"))
        .await
        .expect(200);
    assert_eq!(report["as_of"], today.to_string());
    let groups = report["by_constituency"].as_array().unwrap();
    let order: Vec<&str> = groups
        .iter()
        .map(|g| g["constituency"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["administrators", "teachers", "students", "families"]
    );
    let families = &groups[3];
    assert_eq!(
        (
            families["seats"].as_u64(),
            families["filled"].as_u64(),
            families["vacant"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let teachers = &groups[1];
    assert_eq!(
        (
            teachers["seats"].as_u64(),
            teachers["voting_seats"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(report["totals"]["seats"], 6);
    assert_eq!(report["totals"]["filled"], 1);

    let ending = report["terms_ending_soon"].as_array().unwrap();
    assert_eq!(ending.len(), 1, "only the term within 60 days");
    assert_eq!(ending[0]["seat_id"], id(&family));
    assert_eq!(ending[0]["days_left"], 30);
    assert_eq!(ending[0]["holder_name"], "Parent A");

    assert_eq!(report["rules"][0]["passed"], true);
    assert!(report["rules"][0]["explanation"]
        .as_str()
        .unwrap()
        .contains("= 3"));
    assert_eq!(report["rules"][1]["passed"], false);
    assert_eq!(
        report["rules"][1]["name"],
        "at least 2 voting seats of students"
    );
    assert_eq!(report["all_rules_pass"], false);
    assert_eq!(report["quorum"]["required"], 1);

    app.get("/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11/composition")
        .await
        .expect(404);
}

#[actix_web::test]
async fn seat_fields_are_checked() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seats = format!("/api/v1/councils/{}/seats", id(&council));
    let p = app
        .post(&seats, json!({"constituency": "families", "title": "P", "term_start": "2027-01-01", "term_end": "2026-01-01"}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "term_end");
    let p = app
        .post(&seats, json!({"constituency": "parents", "title": "P"}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "constituency");
    let p = app
        .post(
            &seats,
            json!({"constituency": "families", "title": "P", "term_end": "next june"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "term_end");
    app.post(
        "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11/seats",
        json!({"constituency": "families", "title": "P"}),
    )
    .await
    .expect(404);
}

#[actix_web::test]
async fn seat_lists_filter_and_page() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let cid = id(&council);
    let mut all = Vec::new();
    for c in ["families", "students", "families", "teachers", "families"] {
        all.push(id(&app.seat(&cid, c).await));
    }
    let person = app.person("P").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", all[0]),
        "\"1\"",
        json!({"person_id": id(&person)}),
    )
    .await
    .expect(200);

    let paged: Vec<String> = app
        .collect_pages(&format!("/api/v1/councils/{cid}/seats?limit=2"))
        .await
        .iter()
        .map(id)
        .collect();
    assert_eq!(paged, all);
    let families = app
        .collect_pages(&format!(
            "/api/v1/councils/{cid}/seats?constituency=families&limit=1"
        ))
        .await;
    assert_eq!(families.len(), 3);
    let vacant = app
        .get(&format!("/api/v1/councils/{cid}/seats?vacant=true"))
        .await
        .expect(200);
    assert_eq!(vacant["items"].as_array().unwrap().len(), 4);
    let held = app
        .get(&format!(
            "/api/v1/councils/{cid}/seats?holder_id={}",
            id(&person)
        ))
        .await
        .expect(200);
    assert_eq!(
        held["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect::<Vec<_>>(),
        [all[0].clone()]
    );
    assert_eq!(held["items"][0]["holder"]["display_name"], "P");
}

/// A holding counts from its first day, so seating someone ahead of time is refused: they would
/// count for quorum and composition before their term starts.
#[actix_web::test]
async fn a_holding_cannot_start_in_the_future() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seat = app.seat(&id(&council), "families").await;
    let person = app.person("Future Member").await;
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
    let problem = app
        .put(
            &format!("/api/v1/seats/{}/holder", id(&seat)),
            &version_tag(&seat),
            json!({"person_id": id(&person), "starts_on": tomorrow}),
        )
        .await
        .expect(422);
    assert_eq!(problem["errors"][0]["field"], "starts_on");
}

/// One person holds one seat per council unless the council's bylaws allow more.
#[actix_web::test]
async fn one_person_one_seat_per_council_by_default() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let person = id(&app.person("Busy Parent").await);
    let first = app.seat(&id(&council), "families").await;
    let second = app.seat(&id(&council), "community_organizations").await;
    let seat_person = |seat: serde_json::Value| {
        let app = &app;
        let person = person.clone();
        async move {
            app.put(
                &format!("/api/v1/seats/{}/holder", id(&seat)),
                &version_tag(&seat),
                json!({"person_id": person}),
            )
            .await
        }
    };
    seat_person(first).await.expect(200);
    let problem = seat_person(second.clone()).await.expect(409);
    assert_eq!(problem["code"], "seat-limit");

    let path = format!("/api/v1/councils/{}", id(&council));
    app.patch(
        &path,
        &version_tag(&council),
        json!({"max_seats_per_person": 2}),
    )
    .await
    .expect(200);
    seat_person(second).await.expect(200);
}
