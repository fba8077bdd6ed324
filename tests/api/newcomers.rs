//! What a new user of the API tripped over: HEAD, weak ETags in If-Match, error messages that
//! named one field in Rust's words, and requests that were not logged.

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{id, TestApp};

#[actix_web::test]
async fn head_is_answered_wherever_get_is() {
    let app = TestApp::new().await;
    let school = app.school("HD1").await;
    let path = format!("/api/v1/schools/{}", id(&school));
    for uri in [
        "/health/live",
        "/health/ready",
        "/api/v1/schools",
        path.as_str(),
        "/api/v1/openapi.json",
    ] {
        let get = app.get(uri).await;
        let head = app
            .send_admin(
                TestRequest::default()
                    .method(actix_web::http::Method::HEAD)
                    .uri(uri),
            )
            .await;
        assert_eq!(head.status.as_u16(), 200, "HEAD {uri}");
        assert!(head.body.is_empty(), "HEAD {uri} sent a body");
        for name in ["content-type", "etag", "cache-control"] {
            assert_eq!(head.header(name), get.header(name), "HEAD {uri}: {name}");
        }
        assert!(head.header("x-request-id").is_some());
    }
    // Errors too: the status and headers of the GET, no body.
    let head = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/api/v1/people"),
        )
        .await;
    assert_eq!(head.status.as_u16(), 401);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    // A resource without GET still refuses HEAD.
    let head = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/api/v1/auth/token"),
        )
        .await;
    assert_eq!(head.status.as_u16(), 405);
}

#[actix_web::test]
async fn a_weak_etag_in_if_match_is_explained() {
    let app = TestApp::new().await;
    let school = app.school("W1").await;
    let path = format!("/api/v1/schools/{}", id(&school));
    let p = app
        .patch(&path, "W/\"1\"", json!({"name": "X"}))
        .await
        .expect(412);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("weak"), "{detail}");
    assert!(detail.contains("\"1\""), "{detail}");
    app.patch(&path, "\"1\"", json!({"name": "X"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn every_bad_field_is_reported_in_the_apis_words() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "C"})).await;
    let seats = format!("/api/v1/councils/{}/seats", id(&council));
    let p = app
        .post(
            &seats,
            json!({"constituency": "aliens", "title": 7, "voting": "yes", "term_start": "2028-02-30",
                   "term_end": "soon"}),
        )
        .await
        .expect(422);
    let errors: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        ["constituency", "term_end", "term_start", "title", "voting"]
    );
    let message = |f: &str| errors.iter().find(|(x, _)| x == f).unwrap().1.clone();
    assert_eq!(
        message("term_start"),
        "must be a date (YYYY-MM-DD) that exists"
    );
    assert_eq!(message("voting"), "must be true or false");
    assert_eq!(message("title"), "must be a string");
    assert!(message("constituency").starts_with("must be one of: district,"));
    for (_, m) in &errors {
        for rust in [
            "expected",
            "struct",
            "i64",
            "u32",
            "out of range",
            "invalid digit",
        ] {
            assert!(!m.contains(rust), "{m}");
        }
    }
    // A body that is not an object.
    let p = app.post("/api/v1/schools", json!([1, 2])).await.expect(422);
    assert_eq!(p["errors"][0]["message"], "must be a JSON object");
    assert!(!p["detail"].as_str().unwrap().contains("CreateSchool"));
    // Missing fields and wrongly typed ones together.
    let p = app
        .post("/api/v1/schools", json!({"district_code": 5}))
        .await
        .expect(422);
    let mut fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["district_code", "name", "time_zone"]);
    // Query parameters.
    let p = app.get("/api/v1/councils?limit=ten").await.expect(422);
    assert_eq!(
        p["errors"],
        json!([{"field": "limit", "message": "must be a whole number from 1 to 200"}])
    );
    assert_eq!(
        p["detail"],
        "invalid request: limit: must be a whole number from 1 to 200"
    );
}

/// A writer tests can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn each_request_is_logged_without_its_query_string() {
    let app = TestApp::new().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let reply = app
        .get("/api/v1/people?email=maria.lopez%40example.org&q=Mar%C3%ADa")
        .await;
    reply.expect(200);
    let person = app.person("Secret Name").await;
    app.get(&format!("/api/v1/people/{}", id(&person)))
        .await
        .expect(200);
    drop(guard);
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &serde_json::Value| l["target"] == "cogov::request")
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let first = &lines[0];
    assert_eq!(first["method"], "GET");
    assert_eq!(first["route"], "/api/v1/people");
    assert_eq!(first["status"], 200);
    assert!(first["latency_ms"]
        .as_str()
        .or(first["latency_ms"].as_f64().map(|_| "n"))
        .is_some());
    assert_eq!(
        first["request_id"].as_str(),
        reply.header("x-request-id").as_deref()
    );
    assert_eq!(lines[2]["route"], "/api/v1/people/{person_id}");
    for needle in [
        "example.org",
        "maria",
        "Mar",
        "email=",
        "?",
        &id(&person),
        "Secret",
    ] {
        assert!(!text.contains(needle), "the log holds {needle:?}: {text}");
    }
}
