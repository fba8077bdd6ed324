//! HTTP behaviour every client relies on: problem+json for every error, whoever raised it.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{assert_problem, id, TestApp};

#[actix_web::test]
async fn malformed_json_is_400_problem() {
    let app = TestApp::new().await;
    let reply = app
        .send_admin(
            TestRequest::post()
                .uri("/api/v1/schools")
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"name\": "),
        )
        .await;
    let p = reply.expect(400);
    assert_eq!(p["code"], "malformed-json");

    let reply = app
        .send_admin(
            TestRequest::post()
                .uri("/api/v1/schools")
                .insert_header(("content-type", "application/json"))
                .set_payload(""),
        )
        .await;
    reply.expect(400);
}

#[actix_web::test]
async fn wrong_content_type_is_415_problem() {
    let app = TestApp::new().await;
    let reply = app
        .send_admin(
            TestRequest::post()
                .uri("/api/v1/people")
                .insert_header(("content-type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
    assert_eq!(reply.expect(415)["code"], "unsupported-media-type");
    let reply = app
        .send_admin(TestRequest::post().uri("/api/v1/people").set_payload("{}"))
        .await;
    reply.expect(415);
}

#[actix_web::test]
async fn bodies_over_256_kib_are_413_and_store_nothing() {
    let app = TestApp::new().await;
    let big = "x".repeat(300 * 1024);
    let reply = app
        .send_admin(
            TestRequest::post()
                .uri("/api/v1/people")
                .insert_header(("content-type", "application/json"))
                .set_payload(format!("{{\"display_name\": \"{big}\"}}")),
        )
        .await;
    assert_eq!(reply.expect(413)["code"], "payload-too-large");
    let list = app.get("/api/v1/people").await.expect(200);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "only the test's admin"
    );
}

#[actix_web::test]
async fn unknown_fields_are_named() {
    let app = TestApp::new().await;
    let reply = app
        .post(
            "/api/v1/schools",
            json!({"name": "A", "district_code": "A1", "time_zone": "UTC", "principal": "x"}),
        )
        .await;
    let p = reply.expect(422);
    assert_eq!(p["errors"][0]["field"], "principal");
}

#[actix_web::test]
async fn wrong_types_name_the_field() {
    let app = TestApp::new().await;
    let reply = app
        .post(
            "/api/v1/councils",
            json!({"kind": "assembly", "name": "A", "regular_notice_hours": "soon"}),
        )
        .await;
    let p = reply.expect(422);
    assert_eq!(p["errors"][0]["field"], "regular_notice_hours");
    let reply = app
        .post("/api/v1/councils", json!({"kind": "senate", "name": "A"}))
        .await;
    assert_eq!(reply.expect(422)["errors"][0]["field"], "kind");
}

#[actix_web::test]
async fn validation_lists_every_bad_field() {
    let app = TestApp::new().await;
    let reply = app
        .post("/api/v1/schools", json!({"name": "  ", "district_code": "has space", "time_zone": "Mars/Olympus", "address": ""}))
        .await;
    let p = reply.expect(422);
    let mut fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["address", "district_code", "name", "time_zone"]);
}

#[actix_web::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::new().await;
    let reply = app.get("/api/v1/nothing-here").await;
    reply.expect(404);
    let reply = app.get("/").await;
    reply.expect(404);
    let reply = app
        .send_admin(TestRequest::put().uri("/api/v1/schools"))
        .await;
    assert_eq!(reply.expect(405)["code"], "method-not-allowed");
    assert_eq!(reply.header("allow").as_deref(), Some("GET, HEAD, POST"));
    let reply = app
        .send_admin(TestRequest::post().uri("/health/live"))
        .await;
    reply.expect(405);
}

#[actix_web::test]
async fn malformed_ids_are_404_and_bad_queries_are_400() {
    let app = TestApp::new().await;
    app.get("/api/v1/councils/not-a-uuid").await.expect(404);
    app.get("/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11")
        .await
        .expect(404);
    // Wrongly typed, unknown or out-of-list parameters are 422 naming each one, in the API's
    // own words.
    let p = app
        .get("/api/v1/councils?limit=ten&colour=red&kind=senate")
        .await
        .expect(422);
    assert_eq!(
        p["errors"],
        json!([
            {"field": "limit", "message": "must be a whole number from 1 to 200"},
            {"field": "colour", "message": "unknown parameter: this operation takes school_id, district_only, kind, q, include_archived, external_id, limit, cursor"},
            {"field": "kind", "message": "must be one of: school_site_council, community_school_steering_committee, district_advisory, assembly"},
        ])
    );
    let p = app.get("/api/v1/councils?limit=500").await.expect(422);
    assert_eq!(p["errors"][0]["field"], "limit");
    let p = app.get("/api/v1/councils?cursor=bm9wZQ").await.expect(422);
    assert_eq!(p["errors"][0]["field"], "cursor");
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::new().await;
    let ok = app.get("/health/live").await;
    assert!(ok
        .header("x-request-id")
        .is_some_and(|v| uuid::Uuid::parse_str(&v).is_ok()));
    let err = app.get("/api/v1/schools/not-an-id").await;
    assert_problem(&err, 404);
}

#[actix_web::test]
async fn readiness_checks_the_database() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/health/ready").await.expect(200)["status"], "ok");
    assert_eq!(app.get("/health/live").await.expect(200)["status"], "ok");
}

#[actix_web::test]
async fn conditional_requests() {
    let app = TestApp::new().await;
    let school = app.school("C1").await;
    let path = format!("/api/v1/schools/{}", id(&school));
    let first = app.get(&path).await;
    let tag = first.etag();
    assert_eq!(tag, "\"1\"");

    let not_modified = app
        .send_admin(
            TestRequest::get()
                .uri(&path)
                .insert_header(("If-None-Match", tag.as_str())),
        )
        .await;
    assert_eq!(not_modified.status.as_u16(), 304);
    assert_eq!(not_modified.etag(), tag);

    let p = app
        .send_admin(
            TestRequest::patch()
                .uri(&path)
                .set_json(json!({"name": "New"})),
        )
        .await
        .expect(428);
    assert_eq!(p["code"], "precondition-required");

    let changed = app.patch(&path, &tag, json!({"name": "New"})).await;
    assert_eq!(changed.expect(200)["version"], 2);
    assert_eq!(changed.etag(), "\"2\"");

    // The old tag is stale now: the second editor is told, and nothing is overwritten.
    let p = app
        .patch(&path, &tag, json!({"name": "Other"}))
        .await
        .expect(412);
    assert_eq!(p["code"], "precondition-failed");
    assert_eq!(app.get(&path).await.expect(200)["name"], "New");

    app.delete(&path, &tag).await.expect(412);
    app.delete(&path, "*").await.expect(204);
    app.get(&path).await.expect(404);
}

#[actix_web::test]
async fn docs_page_works_offline() {
    let app = TestApp::new().await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status.as_u16(), 308);
    assert_eq!(redirect.header("location").as_deref(), Some("/docs/"));
    let page = app.get("/docs/").await;
    assert_eq!(page.status.as_u16(), 200);
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("src=\"http"),
        "docs page loads scripts from the network"
    );
    let init = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(init.status.as_u16(), 200);
    let js = String::from_utf8(init.body.clone()).unwrap();
    assert!(js.contains("/api/v1/openapi.json"), "{js}");
    assert!(
        js.contains("\"validatorUrl\":\"none\"") || js.contains("validatorUrl"),
        "{js}"
    );
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"] {
        assert_eq!(app.get(asset).await.status.as_u16(), 200, "{asset}");
    }
}
