use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{id, version_tag, TestApp};

#[actix_web::test]
async fn defaults_follow_the_open_meeting_laws() {
    let app = TestApp::new().await;
    let school = app.school("R1").await;
    let ssc = app
        .council(json!({"school_id": id(&school), "kind": "school_site_council", "name": "SSC"}))
        .await;
    assert_eq!(ssc["regime"], "greene");
    assert_eq!(ssc["regular_notice_hours"], 72);
    assert_eq!(ssc["special_notice_hours"], 24);
    assert_eq!(ssc["quorum_basis"], "filled_voting_seats");
    assert_eq!(ssc["school_id"], id(&school));

    let steering = app
        .council(json!({"kind": "community_school_steering_committee", "name": "Steering"}))
        .await;
    assert_eq!(steering["regime"], "brown");
    assert_eq!(steering["school_id"], serde_json::Value::Null);
}

#[actix_web::test]
async fn notice_below_the_legal_floor_is_refused_unless_voluntary() {
    let app = TestApp::new().await;
    let p = app
        .post("/api/v1/councils", json!({"kind": "assembly", "name": "A", "regular_notice_hours": 48, "special_notice_hours": 12}))
        .await
        .expect(422);
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Brown"));

    let voluntary = app
        .council(json!({"kind": "assembly", "regime": "voluntary", "name": "A", "regular_notice_hours": 48, "special_notice_hours": 12}))
        .await;
    assert_eq!(voluntary["regular_notice_hours"], 48);

    // Bylaws may ask for more notice than the law.
    let more = app
        .council(json!({"kind": "assembly", "name": "B", "regular_notice_hours": 96}))
        .await;
    let path = format!("/api/v1/councils/{}", id(&more));
    let p = app
        .patch(&path, "\"1\"", json!({"regular_notice_hours": 24}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "regular_notice_hours");
    assert_eq!(app.get(&path).await.expect(200)["regular_notice_hours"], 96);
}

#[actix_web::test]
async fn unknown_school_is_a_field_error() {
    let app = TestApp::new().await;
    let p = app
        .post("/api/v1/councils", json!({"kind": "assembly", "name": "A", "school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "school_id");
    assert_eq!(
        app.get("/api/v1/councils").await.expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[actix_web::test]
async fn bad_rules_are_reported_by_position() {
    let app = TestApp::new().await;
    let p = app
        .post(
            "/api/v1/councils",
            json!({"kind": "assembly", "name": "A", "composition_rules": [
                {"type": "at_least", "constituency": "students", "min": 2},
                {"type": "balance", "left": ["families"], "relation": "at_least", "right": []},
                {"type": "majority_of", "constituency": "teachers", "of": ["administrators"]}
            ]}),
        )
        .await
        .expect(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["composition_rules[1].right", "composition_rules[2].of"]
    );

    let p = app
        .post(
            "/api/v1/councils",
            json!({"kind": "assembly", "name": "A", "composition_rules": [{"type": "quota"}]}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "composition_rules[0].type");
}

#[actix_web::test]
async fn rules_round_trip_and_can_be_replaced() {
    let app = TestApp::new().await;
    let rules = json!([
        {"type": "balance", "name": "parity", "left": ["families", "students", "community_organizations"],
         "relation": "at_least", "right": ["district", "administrators", "teachers", "classified_staff"], "count": "seats"},
        {"type": "at_least", "constituency": "students", "min": 2, "count": "filled"}
    ]);
    let council = app
        .council(json!({"kind": "assembly", "name": "A", "composition_rules": rules}))
        .await;
    assert_eq!(council["composition_rules"], rules);
    let path = format!("/api/v1/councils/{}", id(&council));
    let changed = app
        .patch(&path, "\"1\"", json!({"composition_rules": []}))
        .await
        .expect(200);
    assert_eq!(changed["composition_rules"], json!([]));
    assert_eq!(changed["version"], 2);
}

#[actix_web::test]
async fn list_filters() {
    let app = TestApp::new().await;
    let school = app.school("F1").await;
    let a = app.council(json!({"school_id": id(&school), "kind": "school_site_council", "name": "Site Council"})).await;
    let b = app
        .council(json!({"kind": "district_advisory", "name": "District Advisory"}))
        .await;
    let by_school = app
        .get(&format!("/api/v1/councils?school_id={}", id(&school)))
        .await
        .expect(200);
    assert_eq!(
        by_school["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect::<Vec<_>>(),
        [id(&a)]
    );
    let district = app
        .get("/api/v1/councils?district_only=true")
        .await
        .expect(200);
    assert_eq!(
        district["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect::<Vec<_>>(),
        [id(&b)]
    );
    let by_kind = app
        .get("/api/v1/councils?kind=school_site_council")
        .await
        .expect(200);
    assert_eq!(by_kind["items"].as_array().unwrap().len(), 1);
    let by_name = app.get("/api/v1/councils?q=ADVISORY").await.expect(200);
    assert_eq!(
        by_name["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect::<Vec<_>>(),
        [id(&b)]
    );
}

#[actix_web::test]
async fn a_council_with_history_is_kept_and_can_be_archived() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seat = app.seat(&id(&council), "families").await;
    let person = app.person("Held A Seat").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        &version_tag(&seat),
        json!({"person_id": id(&person)}),
    )
    .await
    .expect(200);
    let path = format!("/api/v1/councils/{}", id(&council));
    let p = app.delete(&path, "\"1\"").await.expect(409);
    assert_eq!(p["code"], "still-referenced");
    assert!(p["detail"].as_str().unwrap().contains("archive"), "{p}");

    // Archived: kept, read-only, out of default lists.
    let archived = app
        .send_admin(
            TestRequest::post()
                .uri(&format!("{path}/archive"))
                .insert_header(("If-Match", "\"1\"")),
        )
        .await
        .expect(200);
    assert!(archived["archived_at"].is_string());
    let tag = version_tag(&archived);
    let refused = app
        .patch(&path, &tag, json!({"name": "B"}))
        .await
        .expect(409);
    assert_eq!(refused["code"], "council-archived");
    app.post(
        &format!("{path}/seats"),
        json!({"constituency": "students", "title": "Student"}),
    )
    .await
    .expect(409);
    let listed = app.get("/api/v1/councils").await.expect(200);
    assert!(!listed.to_string().contains(&id(&council)));
    let all = app
        .get("/api/v1/councils?include_archived=true")
        .await
        .expect(200);
    assert!(all.to_string().contains(&id(&council)));
    app.get(&path).await.expect(200);

    // Restored: editable again.
    let restored = app
        .send_admin(
            TestRequest::delete()
                .uri(&format!("{path}/archive"))
                .insert_header(("If-Match", tag)),
        )
        .await
        .expect(200);
    assert_eq!(restored["archived_at"], serde_json::Value::Null);
    app.patch(&path, &version_tag(&restored), json!({"name": "B"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn a_council_without_history_goes_with_its_seats() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "assembly", "name": "Draft"}))
        .await;
    let seat = app.seat(&id(&council), "families").await;
    app.delete(&format!("/api/v1/councils/{}", id(&council)), "\"1\"")
        .await
        .expect(204);
    app.get(&format!("/api/v1/seats/{}", id(&seat)))
        .await
        .expect(404);
}
