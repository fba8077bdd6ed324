use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{id, version_tag, TestApp};

#[actix_web::test]
async fn people_default_to_english_and_are_never_cached() {
    let app = TestApp::new().await;
    let reply = app
        .post("/api/v1/people", json!({"display_name": "Ana Ruiz"}))
        .await;
    let person = reply.expect(201);
    assert_eq!(person["preferred_language"], "en");
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let read = app.get(&format!("/api/v1/people/{}", id(&person))).await;
    assert_eq!(read.header("cache-control").as_deref(), Some("no-store"));
    let list = app.get("/api/v1/people").await;
    assert_eq!(list.header("cache-control").as_deref(), Some("no-store"));
}

#[actix_web::test]
async fn contact_details_are_validated_and_can_be_cleared() {
    let app = TestApp::new().await;
    let p = app
        .post("/api/v1/people", json!({"display_name": "X", "email": "not-an-email", "phone": "call me", "preferred_language": "en_US"}))
        .await
        .expect(422);
    let mut fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["email", "phone", "preferred_language"]);

    let person = app
        .post("/api/v1/people", json!({"display_name": "María López", "email": "Maria@Example.org", "phone": "+1 213 555 0100", "preferred_language": "es-MX"}))
        .await
        .expect(201);
    let path = format!("/api/v1/people/{}", id(&person));
    let cleared = app
        .patch(&path, "\"1\"", json!({"phone": null}))
        .await
        .expect(200);
    assert_eq!(cleared["phone"], serde_json::Value::Null);
    assert_eq!(cleared["email"], "Maria@Example.org");
    assert_eq!(cleared["display_name"], "María López");

    // Email lookup ignores case.
    let found = app
        .get("/api/v1/people?email=maria@example.org")
        .await
        .expect(200);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let by_lang = app
        .get("/api/v1/people?preferred_language=es-MX")
        .await
        .expect(200);
    assert_eq!(by_lang["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn someone_who_held_a_seat_cannot_be_deleted() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "assembly", "name": "Assembly"}))
        .await;
    let seat = app.seat(&id(&council), "families").await;
    let person = app.person("Holder").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        "\"1\"",
        json!({"person_id": id(&person)}),
    )
    .await
    .expect(200);
    let p = app
        .delete(&format!("/api/v1/people/{}", id(&person)), "\"1\"")
        .await
        .expect(409);
    assert_eq!(p["code"], "still-referenced");

    let stranger = app.person("Stranger").await;
    app.send_admin(TestRequest::delete().uri(&format!("/api/v1/people/{}", id(&stranger))))
        .await
        .expect(428);
    app.delete(&format!("/api/v1/people/{}", id(&stranger)), "\"1\"")
        .await
        .expect(204);
}

/// Staff find the people they added and the people seated now on their councils; seating a
/// stranger for a moment does not open the stranger's record to them.
#[actix_web::test]
async fn staff_see_people_they_are_related_to_now() {
    let app = TestApp::new().await;
    let council = id(&app.council(json!({"kind": "assembly", "name": "A"})).await);
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&council));
    let stranger = id(&app.person("Private Stranger").await);

    // A person the staff member adds is theirs to see and edit.
    let added = app
        .send_as(
            &staff,
            TestRequest::post()
                .uri("/api/v1/people")
                .set_json(json!({"display_name": "New Parent", "email": "np@example.org"})),
        )
        .await
        .expect(201);
    let added_path = format!("/api/v1/people/{}", id(&added));
    app.send_as(&staff, TestRequest::get().uri(&added_path))
        .await
        .expect(200);
    let listed = app
        .send_as(&staff, TestRequest::get().uri("/api/v1/people?q=e"))
        .await
        .expect(200);
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["display_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"New Parent"), "{names:?}");
    assert!(!names.contains(&"Private Stranger"), "{names:?}");

    // Seat the stranger and vacate at once: no lasting right over the record.
    let seat = app
        .send_as(
            &staff,
            TestRequest::post()
                .uri(&format!("/api/v1/councils/{council}/seats"))
                .set_json(json!({"constituency": "families", "title": "Parent"})),
        )
        .await
        .expect(201);
    let holder = format!("/api/v1/seats/{}/holder", id(&seat));
    let held = app
        .send_as(
            &staff,
            TestRequest::put()
                .uri(&holder)
                .insert_header(("If-Match", version_tag(&seat)))
                .set_json(json!({"person_id": stranger})),
        )
        .await
        .expect(200);
    let stranger_path = format!("/api/v1/people/{stranger}");
    app.send_as(&staff, TestRequest::get().uri(&stranger_path))
        .await
        .expect(200);
    app.send_as(
        &staff,
        TestRequest::delete()
            .uri(&holder)
            .insert_header(("If-Match", version_tag(&held))),
    )
    .await
    .expect(200);
    app.send_as(&staff, TestRequest::get().uri(&stranger_path))
        .await
        .expect(404);
    app.send_as(
        &staff,
        TestRequest::patch()
            .uri(&stranger_path)
            .insert_header(("If-Match", "*"))
            .set_json(json!({"email": "staff@example.org"})),
    )
    .await
    .expect(404);
}

#[actix_web::test]
async fn contact_details_can_be_erased_while_the_seat_record_stays() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seat = app.seat(&id(&council), "families").await;
    let person = app
        .post(
            "/api/v1/people",
            json!({"display_name": "Former Member", "email": "fm@example.org", "phone": "+1 213 555 0100"}),
        )
        .await
        .expect(201);
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        &version_tag(&seat),
        json!({"person_id": id(&person)}),
    )
    .await
    .expect(200);
    let path = format!("/api/v1/people/{}", id(&person));
    let refused = app.delete(&path, &version_tag(&person)).await.expect(409);
    assert!(
        refused["detail"].as_str().unwrap().contains("/contact"),
        "{refused}"
    );
    let erased = app
        .delete(&format!("{path}/contact"), &version_tag(&person))
        .await
        .expect(200);
    assert_eq!(erased["email"], serde_json::Value::Null);
    assert_eq!(erased["phone"], serde_json::Value::Null);
    assert!(erased["contact_erased_at"].is_string());
    assert_eq!(erased["display_name"], "Former Member");
    // The public record of the seat still names them.
    let holdings = app
        .get(&format!("/api/v1/seats/{}", id(&seat)))
        .await
        .expect(200);
    assert_eq!(holdings["holder"]["display_name"], "Former Member");
    // And their seats across councils are listed.
    let seats = app.get(&format!("{path}/seats")).await.expect(200);
    assert_eq!(seats["items"][0]["council_name"], "A");
    assert_eq!(seats["items"][0]["current"], true);
}

#[actix_web::test]
async fn me_lists_my_roles_and_seats() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "assembly", "name": "Mine"}))
        .await;
    let seat = app.seat(&id(&council), "families").await;
    let (person, token) = app.user("Mia Member", "none", None);
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        &version_tag(&seat),
        json!({"person_id": person}),
    )
    .await
    .expect(200);
    let me = app
        .send_as(&token, TestRequest::get().uri("/api/v1/me"))
        .await
        .expect(200);
    assert_eq!(
        me["roles"],
        json!([{"role": "council_member", "council_id": id(&council)}])
    );
    assert_eq!(me["seats"][0]["seat_id"], id(&seat).as_str());
    assert_eq!(me["seats"][0]["council_name"], "Mine");
}

/// The students' seat holder on the council's public roster.
async fn roster(app: &TestApp, council: &str) -> serde_json::Value {
    let path = format!("/api/v1/councils/{council}/seats");
    let seats = app.send(TestRequest::get().uri(&path)).await.expect(200);
    seats["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["constituency"] == "students")
        .unwrap()["holder"]
        .clone()
}

async fn put(
    app: &TestApp,
    path: &str,
    token: &str,
    etag: &str,
    body: serde_json::Value,
) -> crate::common::Reply {
    app.send_as(
        token,
        TestRequest::put()
            .uri(path)
            .insert_header(("If-Match", etag.to_owned()))
            .set_json(body),
    )
    .await
}

/// FERPA 99.37: a person's directory opt-outs suppress their name on public rosters and their
/// contact details for fellow members; staff related to them still see everything; a homeless
/// youth's directory information is withheld whatever the opt-outs, and only staff set that.
#[actix_web::test]
async fn directory_opt_outs_suppress_fields_for_those_without_a_legitimate_interest() {
    let app = TestApp::new().await;
    let council = id(&app.council(json!({"kind": "assembly", "name": "A"})).await);
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&council));
    let (student_id, student) = app.user("Ana Student", "family", None);
    let (_, fellow) = app.user("Fellow Member", "family", None);
    let (_, stranger) = app.user("Stranger", "family", None);
    let fellow_id = app
        .send_as(&fellow, TestRequest::get().uri("/api/v1/me"))
        .await
        .expect(200)["person_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = format!("/api/v1/people/{student_id}");
    app.patch(
        &me,
        "\"1\"",
        json!({"email": "ana@example.org", "phone": "+1 213 555 0100"}),
    )
    .await
    .expect(200);
    for (holder, constituency) in [(&student_id, "students"), (&fellow_id, "families")] {
        let seat = app.seat(&council, constituency).await;
        app.put(
            &format!("/api/v1/seats/{}/holder", id(&seat)),
            "\"1\"",
            json!({"person_id": holder}),
        )
        .await
        .expect(200);
    }
    let prefs = format!("{me}/directory-preferences");
    let none = app.send_as(&student, TestRequest::get().uri(&prefs)).await;
    assert_eq!(none.etag(), "\"0\"");
    assert_eq!(none.expect(200)["withheld"], json!([]));
    assert_eq!(roster(&app, &council).await["display_name"], "Ana Student");

    // The student withholds name and phone (the whole list each time); only as staff the flag.
    put(
        &app,
        &prefs,
        &stranger,
        "\"0\"",
        json!({"opt_outs": ["name"]}),
    )
    .await
    .expect(404);
    put(
        &app,
        &prefs,
        &fellow,
        "\"0\"",
        json!({"opt_outs": ["name"]}),
    )
    .await
    .expect(403);
    put(
        &app,
        &prefs,
        &student,
        "\"0\"",
        json!({"opt_outs": ["address"]}),
    )
    .await
    .expect(422);
    put(
        &app,
        &prefs,
        &student,
        "\"0\"",
        json!({"opt_outs": ["name"], "homeless_youth": true}),
    )
    .await
    .expect(403);
    let set = put(
        &app,
        &prefs,
        &student,
        "\"0\"",
        json!({"opt_outs": ["phone", "name"]}),
    )
    .await
    .expect(200);
    assert_eq!(set["withheld"], json!(["name", "phone"]));
    put(&app, &prefs, &student, "\"0\"", json!({"opt_outs": []}))
        .await
        .expect(412);

    // Public roster and composition: the seat is held, the name is not shown.
    let holder = roster(&app, &council).await;
    assert_eq!(holder["person_id"], student_id.as_str());
    assert_eq!(holder["display_name"], serde_json::Value::Null);
    let composition = app
        .send(TestRequest::get().uri(&format!("/api/v1/councils/{council}/composition")))
        .await
        .expect(200);
    assert!(!composition.to_string().contains("Ana Student"));
    // A fellow member sees the record without the phone; related staff see everything.
    let seen = app
        .send_as(&fellow, TestRequest::get().uri(&me))
        .await
        .expect(200);
    assert_eq!(seen["phone"], serde_json::Value::Null);
    assert_eq!(seen["email"], "ana@example.org");
    let seen = app
        .send_as(&staff, TestRequest::get().uri(&me))
        .await
        .expect(200);
    assert_eq!(seen["phone"], "+1 213 555 0100");

    // Staff mark a homeless youth: everything is withheld, whatever the opt-outs.
    let flagged = put(
        &app,
        &prefs,
        &staff,
        "\"1\"",
        json!({"opt_outs": [], "homeless_youth": true}),
    )
    .await
    .expect(200);
    assert_eq!(flagged["withheld"], json!(["name", "email", "phone"]));
    let seen = app
        .send_as(&fellow, TestRequest::get().uri(&me))
        .await
        .expect(200);
    assert_eq!(seen["email"], serde_json::Value::Null);
    assert_eq!(seen["phone"], serde_json::Value::Null);
    assert_eq!(
        roster(&app, &council).await["display_name"],
        serde_json::Value::Null
    );
    // The student cannot lift the flag.
    put(
        &app,
        &prefs,
        &student,
        "\"2\"",
        json!({"opt_outs": [], "homeless_youth": false}),
    )
    .await
    .expect(403);
    let seen = app
        .send_as(&student, TestRequest::get().uri(&me))
        .await
        .expect(200);
    assert_eq!(seen["phone"], "+1 213 555 0100");
}

/// Regression: directory choices for a person who does not exist were a 409 (a refused
/// reference) for an admin; they are 404 like every other read or change of an unknown person.
#[actix_web::test]
async fn directory_choices_of_an_unknown_person_are_404() {
    let app = TestApp::new().await;
    let path = format!(
        "/api/v1/people/{}/directory-preferences",
        uuid::Uuid::now_v7()
    );
    let put = app
        .send_admin(
            TestRequest::put()
                .uri(&path)
                .insert_header(("If-Match", "*"))
                .set_json(json!({"homeless_youth": false, "opt_outs": ["name"]})),
        )
        .await;
    crate::common::assert_problem(&put, 404);
    let get = app.get(&path).await;
    crate::common::assert_problem(&get, 404);
}
