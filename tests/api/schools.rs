use serde_json::json;

use crate::common::{id, version_tag, TestApp};

#[actix_web::test]
async fn create_read_update_delete() {
    let app = TestApp::new().await;
    let reply = app
        .post(
            "/api/v1/schools",
            json!({"name": "Roosevelt Community School", "district_code": "19-64733", "time_zone": "America/Los_Angeles",
                   "address": "456 S Mathews St"}),
        )
        .await;
    let created = reply.expect(201);
    let path = format!("/api/v1/schools/{}", id(&created));
    assert_eq!(reply.header("location").as_deref(), Some(path.as_str()));
    assert_eq!(reply.etag(), "\"1\"");
    assert_eq!(created["version"], 1);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let read = app.get(&path).await.expect(200);
    assert_eq!(read, created, "a school reads back exactly as created");

    let updated = app
        .patch(
            &path,
            "\"1\"",
            json!({"address": null, "time_zone": "America/Chicago"}),
        )
        .await
        .expect(200);
    assert_eq!(updated["address"], serde_json::Value::Null);
    assert_eq!(updated["time_zone"], "America/Chicago");
    assert_eq!(updated["name"], "Roosevelt Community School");
    assert_eq!(updated["created_at"], created["created_at"]);
    assert_ne!(updated["updated_at"], created["updated_at"]);

    app.delete(&path, &version_tag(&updated)).await.expect(204);
    app.get(&path).await.expect(404);
    app.delete(&path, "*").await.expect(404);
}

#[actix_web::test]
async fn district_codes_are_unique() {
    let app = TestApp::new().await;
    app.school("X1").await;
    let p = app
        .post(
            "/api/v1/schools",
            json!({"name": "Other", "district_code": "X1", "time_zone": "UTC"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "duplicate");
    let other = app.school("X2").await;
    let p = app
        .patch(
            &format!("/api/v1/schools/{}", id(&other)),
            "\"1\"",
            json!({"district_code": "X1"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "duplicate");
    // The refused change left the school as it was.
    let same = app
        .get(&format!("/api/v1/schools/{}", id(&other)))
        .await
        .expect(200);
    assert_eq!(same["district_code"], "X2");
    assert_eq!(same["version"], 1);
}

#[actix_web::test]
async fn a_school_with_councils_cannot_be_deleted() {
    let app = TestApp::new().await;
    let school = app.school("S1").await;
    app.council(json!({"school_id": id(&school), "kind": "school_site_council", "name": "SSC"}))
        .await;
    let p = app
        .delete(&format!("/api/v1/schools/{}", id(&school)), "\"1\"")
        .await
        .expect(409);
    assert_eq!(p["code"], "still-referenced");
    app.get(&format!("/api/v1/schools/{}", id(&school)))
        .await
        .expect(200);
}

#[actix_web::test]
async fn list_pages_through_every_school_once_in_order() {
    let app = TestApp::new().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(id(&app.school(&format!("P{i}")).await));
    }
    let items = app.collect_pages("/api/v1/schools?limit=3").await;
    let seen: Vec<String> = items.iter().map(id).collect();
    assert_eq!(seen, created);

    let filtered = app
        .get("/api/v1/schools?district_code=P3")
        .await
        .expect(200);
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    assert_eq!(id(&filtered["items"][0]), created[3]);

    // Name search ignores case on both backends and treats % and _ literally.
    let hits = app.get("/api/v1/schools?q=school%20p5").await.expect(200);
    assert_eq!(hits["items"].as_array().unwrap().len(), 1);
    let none = app.get("/api/v1/schools?q=%25").await.expect(200);
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
}
