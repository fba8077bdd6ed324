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
            // A parameter fills its braces; a suffix after them (`{code}.json`) stays.
            .map(|seg| match (seg.starts_with('{'), seg.find('}')) {
                (true, Some(end)) => format!("{some_id}{}", &seg[end + 1..]),
                _ => seg.to_owned(),
            })
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
                if georeport_403(path, status, r) {
                    continue;
                }
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
                let (media, content) = body["content"].as_object().unwrap().iter().next().unwrap();
                if media == "application/zip" {
                    // An upload: a binary body, described in words with an example file.
                    assert!(
                        body["description"]
                            .as_str()
                            .is_some_and(|d| d.contains("Example")),
                        "{where_}: upload without a described example"
                    );
                } else {
                    let schema_ref = content["schema"]["$ref"].as_str().unwrap();
                    let name = schema_ref.trim_start_matches("#/components/schemas/");
                    assert!(
                        doc["components"]["schemas"][name]["example"].is_object(),
                        "{where_}: body {name} has no example"
                    );
                }
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

/// Every `$ref` in the document points at something the document defines.
#[test]
fn every_reference_resolves() {
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    match (k.as_str(), x.as_str()) {
                        ("$ref", Some(r)) => out.push(r),
                        _ => walk(x, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let doc = document();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(refs.len() > 100, "only {} references", refs.len());
    let unresolved: Vec<&str> = refs
        .iter()
        .copied()
        .filter(|r| {
            let pointer = r.strip_prefix('#').unwrap_or("not local");
            doc.pointer(pointer).is_none()
        })
        .collect();
    assert!(unresolved.is_empty(), "unresolved: {unresolved:?}");
    for name in ["Problem", "FieldError", "RuleOutcome"] {
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
        None => v,
    }
}

/// The one documented exception to problem+json errors: Open311 request operations answer a
/// missing key (bearer token) with GeoReport v2's 403 error array, as GeoReport clients expect.
fn georeport_403(path: &str, status: &str, r: &Value) -> bool {
    path.starts_with("/open311/v2/requests")
        && status == "403"
        && r["content"]["application/json"]["schema"]["type"] == "array"
}

/// Every status an operation can return because of who may call it and what it touches is
/// documented, as problem+json with the Problem schema and an example of that status.
#[test]
fn statuses_derived_from_the_access_table_are_documented() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        let (_, _, who) = cogov::api::ACCESS
            .iter()
            .find(|(m, p, _)| *m == method && *p == path)
            .unwrap_or_else(|| panic!("{method} {path} has no ACCESS entry"));
        // A bearer token that does not verify is refused everywhere, public operations too.
        let mut expected = vec!["401"];
        let public = who.starts_with("anyone");
        if !public && *who != "any signed-in caller" && !who.contains("others get 404") {
            expected.push("403");
        }
        if path == "/api/v1/auth/token" {
            expected.push("429");
        }
        if path != "/health/live" {
            expected.push("503");
        }
        let has_body = op.get("requestBody").is_some();
        if has_body {
            expected.extend(["400", "413", "415", "422"]);
        }
        if path.ends_with('}') || path.contains("}/") {
            expected.push("404");
        }
        if matches!(method.as_str(), "patch" | "put" | "delete") {
            expected.extend(["412", "428"]);
        }
        let rs = &op["responses"];
        for status in expected {
            let r = rs
                .get(status)
                .unwrap_or_else(|| panic!("{method} {path}: {status} undocumented"));
            if georeport_403(&path, status, r) {
                continue;
            }
            let r = deref(&doc, r);
            let content = &r["content"]["application/problem+json"];
            assert_eq!(
                content["schema"]["$ref"], "#/components/schemas/Problem",
                "{method} {path} {status}"
            );
            assert_eq!(
                content["example"]["status"].as_u64(),
                status.parse::<u64>().ok(),
                "{method} {path} {status}: no example of this status"
            );
        }
        for (status, r) in rs.as_object().unwrap() {
            if georeport_403(&path, status, r) {
                continue;
            }
            if status.starts_with('4') || status.starts_with('5') {
                let r = deref(&doc, r);
                assert!(
                    r["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status}: not problem+json"
                );
            }
        }
    }
}

/// The headers a client needs are declared on every response that carries them.
#[test]
fn response_headers_are_declared() {
    let doc = document();
    for name in [
        "X-Request-Id",
        "ETag",
        "Location",
        "Link",
        "Retry-After",
        "WWW-Authenticate",
    ] {
        assert!(
            doc["components"]["headers"][name]["schema"].is_object(),
            "{name} is not a component header"
        );
    }
    let has = |r: &Value, h: &str| r["headers"][h]["$ref"] == format!("#/components/headers/{h}");
    for (method, path, op) in operations(&doc) {
        for (status, r) in op["responses"].as_object().unwrap() {
            let r = deref(&doc, r);
            let where_ = format!("{method} {path} {status}");
            assert!(has(r, "X-Request-Id"), "{where_}: X-Request-Id");
            let schema = r["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or("");
            if status == "201" {
                assert!(has(r, "Location") && has(r, "ETag"), "{where_}");
            }
            if status == "429" || status == "503" {
                assert!(has(r, "Retry-After"), "{where_}");
            }
            if status == "200" && schema.ends_with("List") {
                assert!(has(r, "Link"), "{where_}: Link");
            }
            let single = schema.ends_with("Response") && !schema.ends_with("TokenResponse");
            let by_id = method == "get" && path.ends_with('}');
            if (status == "200" && single && (by_id || method != "get")) || (status == "304") {
                assert!(has(r, "ETag"), "{where_}: ETag");
            }
        }
    }
}

/// What the document says about headers is what the server sends.
#[actix_web::test]
async fn declared_headers_are_sent() {
    let app = TestApp::new().await;
    let created = app
        .post(
            "/api/v1/schools",
            json!({"name": "H", "district_code": "H1", "time_zone": "UTC"}),
        )
        .await;
    created.expect(201);
    assert!(created.header("location").is_some() && created.header("etag").is_some());
    let path = created.header("location").unwrap();
    let read = app.get(&path).await;
    assert_eq!(read.etag(), "\"1\"");
    let changed = app.patch(&path, "\"1\"", json!({"name": "H2"})).await;
    assert_eq!(changed.etag(), "\"2\"");
    app.school("H2").await;
    let list = app.get("/api/v1/schools?limit=1").await;
    assert!(list
        .header("link")
        .is_some_and(|l| l.contains("rel=\"next\"")));
    for reply in [&created, &read, &changed, &list] {
        assert!(reply.header("x-request-id").is_some());
    }
    // A token that does not verify is refused on public operations too, as documented.
    let reply = app
        .send_as("not-a-token", TestRequest::get().uri("/api/v1/schools"))
        .await;
    reply.expect(401);
    assert!(reply.header("www-authenticate").is_some());
}

/// Every string a client sends in a body or a query string has a documented maximum length.
#[test]
fn every_request_string_is_bounded() {
    fn check(
        doc: &Value,
        schema: &Value,
        at: &str,
        seen: &mut Vec<String>,
        missing: &mut Vec<String>,
    ) {
        if let Some(r) = schema["$ref"].as_str() {
            if seen.iter().any(|s| s == r) {
                return;
            }
            seen.push(r.to_owned());
            check(
                doc,
                doc.pointer(r.trim_start_matches('#')).unwrap(),
                r,
                seen,
                missing,
            );
            return;
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for m in schema[key].as_array().into_iter().flatten() {
                check(doc, m, at, seen, missing);
            }
        }
        let is_string = schema["type"] == "string"
            || schema["type"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("string")));
        let bounded_by_form = schema["enum"].is_array()
            || matches!(
                schema["format"].as_str(),
                Some("uuid" | "date" | "date-time")
            );
        if is_string && !bounded_by_form && !schema["maxLength"].is_u64() {
            missing.push(at.to_owned());
        }
        for (name, p) in schema["properties"].as_object().into_iter().flatten() {
            check(doc, p, &format!("{at}.{name}"), seen, missing);
        }
        if schema["items"].is_object() {
            check(doc, &schema["items"], &format!("{at}[]"), seen, missing);
        }
    }
    let doc = document();
    let mut missing = Vec::new();
    for (method, path, op) in operations(&doc) {
        for (_, content) in op["requestBody"]["content"]
            .as_object()
            .into_iter()
            .flatten()
        {
            check(
                &doc,
                &content["schema"],
                &format!("{method} {path} body"),
                &mut Vec::new(),
                &mut missing,
            );
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "query" {
                let at = format!("{method} {path} ?{}", p["name"]);
                check(&doc, &p["schema"], &at, &mut Vec::new(), &mut missing);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "strings without maxLength: {missing:#?}"
    );
}

/// The patterns the document publishes are the checks the server runs: values that match are
/// accepted, values that do not are 422 naming the field.
#[actix_web::test]
async fn documented_patterns_are_the_enforced_ones() {
    let app = TestApp::new().await;
    let doc = document();
    let props = &doc["components"]["schemas"]["CreatePerson"]["properties"];
    let candidates: &[(&str, &[&str])] = &[
        (
            "email",
            &[
                "maria.lopez@example.org",
                "a+b@sub.k12.ca.us",
                "a@localhost",
                "no-at-sign",
                "a b@example.org",
                "é@example.org",
                "x@-bad.example.org",
                "x@example.org.",
            ],
        ),
        (
            "phone",
            &[
                "+1 (213) 555-0100",
                "555",
                "12",
                "1+2",
                "call me",
                "++1 213",
                "1234567890123456789012",
            ],
        ),
        (
            "preferred_language",
            &[
                "en",
                "es-MX",
                "zh-Hant-TW",
                "en_US",
                "e",
                "en--US",
                "12",
                "english-",
            ],
        ),
    ];
    let mut checked = 0;
    for (field, values) in candidates {
        let pattern = props[field]["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("CreatePerson.{field} has no pattern"));
        let max = props[field]["maxLength"].as_u64().unwrap() as usize;
        let re = regex::Regex::new(pattern).unwrap();
        for value in *values {
            let documented_ok = re.is_match(value) && value.chars().count() <= max;
            let reply = app
                .post(
                    "/api/v1/people",
                    json!({"display_name": "P", *field: value}),
                )
                .await;
            if documented_ok {
                reply.expect(201);
            } else {
                let p = reply.expect(422);
                assert_eq!(p["errors"][0]["field"], *field, "{value}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 20);
    // The enums that replace free strings.
    let format = doc["paths"]["/api/v1/audit-events"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "format")
        .unwrap()
        .clone();
    assert_eq!(format["schema"]["enum"], json!(["json", "csv"]));
    for (value, status) in [("json", 200), ("csv", 200), ("xml", 422)] {
        let reply = app
            .get(&format!("/api/v1/audit-events?format={value}"))
            .await;
        assert_eq!(reply.status.as_u16(), status, "format={value}");
    }
    assert_eq!(
        doc["components"]["schemas"]["GrantType"]["enum"],
        json!([
            "password",
            "client_credentials",
            "authorization_code",
            "refresh_token"
        ])
    );
    assert_eq!(doc["servers"][0]["url"], "/");
    assert!(doc["info"]["contact"]["name"].is_string());
}
