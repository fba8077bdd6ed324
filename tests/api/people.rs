use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{id, TestApp};

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
