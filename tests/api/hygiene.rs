//! Input hygiene: a NUL or other control character is refused with 422 naming the field, on
//! both backends, wherever it comes in (query string, JSON body, form body); nothing is stored.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::TestApp;

fn fields(p: &serde_json::Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn nul_in_a_query_parameter_is_422_anonymously_too() {
    let app = TestApp::new().await;
    let reply = app
        .send(TestRequest::get().uri("/api/v1/councils?q=%00"))
        .await;
    let p = reply.expect(422);
    assert_eq!(fields(&p), ["q"]);
    for uri in [
        "/api/v1/schools?q=a%01b",
        "/api/v1/people?email=x%00%40example.org",
        "/api/v1/audit-events?actor_id=%0A",
    ] {
        assert_eq!(fields(&app.get(uri).await.expect(422)).len(), 1, "{uri}");
    }
    // Longer than the documented maxLength.
    let long = "x".repeat(201);
    let p = app
        .get(&format!("/api/v1/councils?q={long}"))
        .await
        .expect(422);
    assert_eq!(fields(&p), ["q"]);
    app.get(&format!("/api/v1/councils?q={}", "x".repeat(200)))
        .await
        .expect(200);
}

#[actix_web::test]
async fn nul_in_a_token_form_is_422_anonymously() {
    let app = TestApp::new().await;
    let reply = app
        .send(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload("grant_type=password&username=%00&password=x"),
        )
        .await;
    assert_eq!(fields(&reply.expect(422)), ["username"]);
    // A clean form still reaches the endpoint (and is refused for its credentials only).
    let reply = app
        .send(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload("grant_type=password&username=nobody&password=x"),
        )
        .await;
    reply.expect(401);
    let reply = app
        .send(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .set_json(json!({"grant_type": "password", "username": "a\u{0}", "password": "x"})),
        )
        .await;
    assert_eq!(fields(&reply.expect(422)), ["username"]);
}

#[actix_web::test]
async fn control_characters_in_json_are_422_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let p = app
        .post(
            "/api/v1/schools",
            json!({"name": "Nul\u{0}School", "district_code": "N\u{7}1", "time_zone": "UTC"}),
        )
        .await
        .expect(422);
    let mut f = fields(&p);
    f.sort();
    assert_eq!(f, ["district_code", "name"]);
    let p = app
        .post("/api/v1/people", json!({"display_name": "Line\nBreak"}))
        .await
        .expect(422);
    assert_eq!(fields(&p), ["display_name"]);
    // Nested paths are named.
    let p = app
        .post(
            "/api/v1/councils",
            json!({"kind": "assembly", "name": "C", "composition_rules": [
                {"type": "at_least", "name": "x\u{0}", "constituency": "students", "min": 1}]}),
        )
        .await
        .expect(422);
    assert_eq!(fields(&p), ["composition_rules[0].name"]);
    // Long text keeps its tabs and line breaks; NUL is refused there too.
    let ok = app
        .post(
            "/api/v1/councils",
            json!({"kind": "assembly", "name": "C", "description": "Line one\r\nLine\ttwo"}),
        )
        .await
        .expect(201);
    assert_eq!(ok["description"], "Line one\r\nLine\ttwo");
    let p = app
        .post(
            "/api/v1/councils",
            json!({"kind": "assembly", "name": "D", "description": "a\u{0}"}),
        )
        .await
        .expect(422);
    assert_eq!(fields(&p), ["description"]);
    let list = app.get("/api/v1/schools").await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}
