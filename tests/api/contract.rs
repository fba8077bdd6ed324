//! The OpenAPI document is the contract: it is generated from the code, committed, and checked
//! against what the handlers really do.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{id, TestApp};

const COMMITTED: &str = "openapi/openapi.json";

fn generated() -> String {
    cogov::app::openapi()
        .to_pretty_json()
        .expect("render OpenAPI")
        + "\n"
}

#[test]
fn committed_document_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED);
    let fresh = generated();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &fresh).expect("write openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{COMMITTED} is out of date with the code; regenerate it with `UPDATE_OPENAPI=1 cargo test --test api contract` and commit it"
    );
}

fn document() -> Value {
    serde_json::from_str(&generated()).unwrap()
}

#[actix_web::test]
async fn served_document_is_the_generated_one() {
    let app = TestApp::new().await;
    let served = app.get("/api/v1/openapi.json").await.expect(200);
    assert_eq!(served, document());
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
}

#[actix_web::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::new().await;
    let doc = document();
    let some_id = "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11";
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { some_id } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in ops.as_object().unwrap().keys() {
            let req = TestRequest::default()
                .method(method.to_uppercase().parse().unwrap())
                .uri(&concrete);
            let reply = app.send_admin(req).await;
            let status = reply.status.as_u16();
            assert_ne!(status, 405, "{method} {path} is documented but not routed");
            if status == 404 {
                let p = reply.json();
                assert!(
                    !p["detail"].as_str().unwrap().contains("no such route"),
                    "{method} {path} is documented but not routed"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} operations documented");
}

#[test]
fn every_operation_documents_its_errors_with_examples() {
    let doc = document();
    let responses = &doc["components"]["responses"];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let where_ = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{where_}: no summary"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{where_}: no tag"
            );
            assert!(
                op["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("**Who may call:**")),
                "{where_}: does not say who may call it"
            );
            assert!(
                op["security"].as_array().is_some_and(|s| !s.is_empty()),
                "{where_}: no security"
            );
            let rs = op["responses"].as_object().unwrap();
            assert!(
                rs.keys().any(|k| k.starts_with('2')),
                "{where_}: no success response"
            );
            for (status, r) in rs {
                if status.starts_with('4') || status.starts_with('5') {
                    let name = r["$ref"]
                        .as_str()
                        .unwrap_or_else(|| {
                            panic!("{where_} {status}: not a shared problem response")
                        })
                        .trim_start_matches("#/components/responses/");
                    let content = &responses[name]["content"]["application/problem+json"];
                    assert!(
                        content["example"].is_object(),
                        "{where_} {status}: no example"
                    );
                    assert_eq!(
                        content["example"]["status"].as_u64(),
                        status.parse::<u64>().ok(),
                        "{where_} {status}"
                    );
                }
            }
            if !path.starts_with("/health") {
                assert!(rs.contains_key("503"), "{where_}: 503 undocumented");
            }
            if let Some(body) = op.get("requestBody") {
                let (_, content) = body["content"].as_object().unwrap().iter().next().unwrap();
                let schema_ref = content["schema"]["$ref"].as_str().unwrap();
                let name = schema_ref.trim_start_matches("#/components/schemas/");
                assert!(
                    doc["components"]["schemas"][name]["example"].is_object(),
                    "{where_}: body {name} has no example"
                );
                for code in ["400", "413", "415", "422"] {
                    assert!(rs.contains_key(code), "{where_}: {code} undocumented");
                }
            }
            if method == "patch" || method == "delete" || method == "put" {
                let params = op["parameters"].as_array().unwrap();
                assert!(
                    params.iter().any(|p| p["name"] == "If-Match"),
                    "{where_}: If-Match undocumented"
                );
                assert!(
                    rs.contains_key("412") && rs.contains_key("428"),
                    "{where_}: 412/428 undocumented"
                );
            }
        }
    }
}

/// The limits the document states are the limits the server enforces.
#[actix_web::test]
async fn documented_length_limits_are_enforced() {
    let app = TestApp::new().await;
    let doc = document();
    let max = |schema: &str, field: &str| -> usize {
        doc["components"]["schemas"][schema]["properties"][field]["maxLength"]
            .as_u64()
            .unwrap_or_else(|| panic!("{schema}.{field} has no maxLength")) as usize
    };
    let cases: Vec<(&str, &str, &str, Value)> = vec![
        (
            "CreateSchool",
            "name",
            "/api/v1/schools",
            json!({"district_code": "L1", "time_zone": "UTC"}),
        ),
        (
            "CreateSchool",
            "district_code",
            "/api/v1/schools",
            json!({"name": "S", "time_zone": "UTC"}),
        ),
        (
            "CreateSchool",
            "address",
            "/api/v1/schools",
            json!({"name": "S", "district_code": "L2", "time_zone": "UTC"}),
        ),
        ("CreatePerson", "display_name", "/api/v1/people", json!({})),
        (
            "CreateCouncil",
            "name",
            "/api/v1/councils",
            json!({"kind": "assembly"}),
        ),
        (
            "CreateCouncil",
            "description",
            "/api/v1/councils",
            json!({"kind": "assembly", "name": "C"}),
        ),
    ];
    for (i, (schema, field, path, base)) in cases.into_iter().enumerate() {
        let limit = max(schema, field);
        for (len, ok) in [(limit, true), (limit + 1, false)] {
            let mut body = base.clone();
            body[field] = json!("é".repeat(len));
            if field != "district_code" && path == "/api/v1/schools" {
                body["district_code"] = json!(format!("L{i}-{len}"));
            }
            let reply = app.post(path, body).await;
            if ok {
                reply.expect(201);
            } else {
                let p = reply.expect(422);
                assert_eq!(p["errors"][0]["field"], field, "{schema}.{field}");
            }
        }
    }
    // The documented page size bound is the enforced one.
    let limit_param = doc["paths"]["/api/v1/councils"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    let maximum = limit_param["schema"]["maximum"].as_u64().unwrap();
    app.get(&format!("/api/v1/councils?limit={maximum}"))
        .await
        .expect(200);
    app.get(&format!("/api/v1/councils?limit={}", maximum + 1))
        .await
        .expect(422);
    let _ = id;
}
