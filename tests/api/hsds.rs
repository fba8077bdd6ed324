//! The `/hsds/` directory checked against Open Referral's own HSDS 3.0 JSON Schema files,
//! vendored under `tests/fixtures/hsds/` (see the README there). References between the files
//! resolve from that folder only, never the network. A reference to an HSDS file that is not
//! vendored describes a part of HSDS that cogov does not publish; the check replaces it with
//! `false`, so the test also fails if cogov ever starts emitting that part unchecked.

use std::path::{Path, PathBuf};

use actix_web::test::TestRequest;
use jsonschema::{Retrieve, Uri, Validator};
use serde_json::{json, Value};

use crate::common::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hsds")
}

/// Reads one vendored schema file, turning references to files that are not vendored into
/// `false` (cogov must not emit those properties).
fn load(name: &str) -> Value {
    fn walk(v: &mut Value, dir: &Path) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    if !dir.join(target).exists() {
                        *v = Value::Bool(false);
                        return;
                    }
                }
                map.values_mut().for_each(|c| walk(c, dir));
            }
            Value::Array(items) => items.iter_mut().for_each(|c| walk(c, dir)),
            _ => {}
        }
    }
    let dir = fixtures();
    let text = std::fs::read_to_string(dir.join(name)).expect("vendored HSDS schema");
    let mut schema: Value = serde_json::from_str(&text).expect("HSDS schema is JSON");
    walk(&mut schema, &dir);
    schema
}

/// Resolves `$ref`s between the vendored files from disk.
struct Fixtures;

impl Retrieve for Fixtures {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.path().as_str().trim_start_matches('/').to_owned();
        if name.contains('/') || !fixtures().join(&name).exists() {
            return Err(format!("{uri} is not a vendored HSDS schema").into());
        }
        Ok(load(&name))
    }
}

fn validator(name: &str) -> Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_base_uri(format!("json-schema:///{name}"))
        .should_validate_formats(true)
        .with_retriever(Fixtures)
        .build(&load(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check(validator: &Validator, what: &str, value: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the HSDS schema:\n{}\n{value:#}",
        errors.join("\n")
    );
}

/// The HSDS 3.0 page envelope (`Page` in the HSDS OpenAPI): the numbers and flags a client
/// pages with, and the records in `contents`.
fn check_page(page: &Value, total: usize) {
    for field in ["total_items", "total_pages", "page_number", "size"] {
        assert!(page[field].is_i64(), "{field} in {page:#}");
    }
    for field in ["first_page", "last_page", "empty"] {
        assert!(page[field].is_boolean(), "{field} in {page:#}");
    }
    assert_eq!(page["total_items"], total);
    assert!(page["contents"].is_array(), "{page:#}");
}

/// Two partners offering two categories at two schools: every `/hsds/` list page, each of its
/// records and each single record match Open Referral's own schema files.
#[actix_web::test]
async fn hsds_output_matches_the_official_schema() {
    let app = TestApp::new().await;
    let north = id(&app.school("HSDS1").await);
    let south = id(&app.school("HSDS2").await);
    let mut categories = Vec::new();
    for (code, en, es) in [
        ("food-assistance", "Food assistance", "Ayuda con alimentos"),
        ("tutoring", "Tutoring", "Tutoría"),
    ] {
        let c = app
            .post(
                "/api/v1/service-categories",
                json!({"code": code, "names": {"en": en, "es": es},
                    "descriptions": {"en": format!("{en} for families."), "es": format!("{es} para familias.")},
                    "first_contact_school_days": 2, "pillar": "integrated_student_supports"}),
            )
            .await
            .expect(201);
        categories.push(id(&c));
    }
    app.post(
        "/api/v1/partner-organizations",
        json!({"name": "Eastside Family Resource Center", "contact_email": "referrals@eastside.example.org",
            "contact_phone": "+1 213 555 0199",
            "offerings": [{"category_id": categories[0], "school_id": north},
                          {"category_id": categories[0], "school_id": south},
                          {"category_id": categories[1], "school_id": south}]}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/partner-organizations",
        json!({"name": "Westside Tutors",
            "offerings": [{"category_id": categories[1], "school_id": north}]}),
    )
    .await
    .expect(201);

    let service = validator("service.json");
    let organization = validator("organization.json");

    let page = app
        .send(TestRequest::get().uri("/hsds/services?per_page=2"))
        .await
        .expect(200);
    check_page(&page, 3);
    assert_eq!(page["total_pages"], 2);
    let mut ids = Vec::new();
    for p in 1..=2 {
        let page = app
            .send(TestRequest::get().uri(&format!("/hsds/services?per_page=2&page={p}")))
            .await
            .expect(200);
        check_page(&page, 3);
        for item in page["contents"].as_array().unwrap() {
            check(&service, "a service in the list", item);
            ids.push(item["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(ids.len(), 3);
    for sid in &ids {
        let one = app
            .send(TestRequest::get().uri(&format!("/hsds/services/{sid}")))
            .await
            .expect(200);
        check(&service, "a single service", &one);
        assert_eq!(&one["id"], sid);
        // HSDS 3.0 as released gives every id `"format": "uuid"`.
        assert!(uuid::Uuid::parse_str(sid).is_ok(), "service id {sid}");
        for language in one["languages"].as_array().unwrap() {
            assert!(uuid::Uuid::parse_str(language["id"].as_str().unwrap()).is_ok());
        }
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "service ids are unique: {ids:?}");

    let orgs = app
        .send(TestRequest::get().uri("/hsds/organizations"))
        .await
        .expect(200);
    check_page(&orgs, 2);
    for item in orgs["contents"].as_array().unwrap() {
        check(&organization, "an organization in the list", item);
        assert!(uuid::Uuid::parse_str(item["id"].as_str().unwrap()).is_ok());
    }
    let eastside = orgs["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Eastside Family Resource Center")
        .expect("listed");
    assert_eq!(eastside["phones"][0]["number"], "+1 213 555 0199");
    let westside = orgs["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Westside Tutors")
        .expect("listed");
    assert!(westside.get("email").is_none(), "no null email: {westside}");
}

/// The check is not vacuous: the official schema refuses what HSDS forbids.
#[test]
fn the_official_schema_refuses_bad_records() {
    let service = validator("service.json");
    assert!(!service.is_valid(&json!({"id": "x", "name": "n", "status": "open"})));
    assert!(!service.is_valid(&json!({"name": "n", "status": "active"})));
    assert!(
        !service.is_valid(&json!({"id": "x", "name": "n", "status": "active",
        "languages": ["en"]}))
    );
    assert!(
        !service.is_valid(&json!({"id": "x", "name": "n", "status": "active",
        "schedules": [{"id": "s"}]}))
    );
    let organization = validator("organization.json");
    assert!(
        !organization.is_valid(&json!({"id": "x", "name": "n", "description": "d",
        "phones": [{"number": "+1 213 555 0199"}]}))
    );
    assert!(
        !organization.is_valid(&json!({"id": "x", "name": "n", "description": "d",
        "email": null}))
    );
}
