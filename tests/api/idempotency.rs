//! Idempotency-Key: a retried POST acts once, across app instances.

use actix_web::test::TestRequest;
use futures_util::future::join_all;
use serde_json::json;

use crate::common::{id, TestApp};

fn create(key: &str, name: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/councils")
        .insert_header(("Idempotency-Key", key.to_owned()))
        .set_json(json!({"kind": "assembly", "name": name}))
}

fn councils_named(app: &TestApp, name: &'static str) -> i64 {
    app.query(move |conn| {
        use cogov::db::schema::councils::dsl;
        use diesel::prelude::*;
        dsl::councils
            .filter(dsl::name.eq(name))
            .count()
            .get_result::<i64>(conn)
    })
}

#[actix_web::test]
async fn a_retried_post_is_answered_once() {
    let app = TestApp::new().await;
    let first = app.send_admin(create("sync-0001", "Once")).await;
    let created = first.expect(201);
    let again = app.send_admin(create("sync-0001", "Once")).await;
    let replayed = again.expect(201);
    assert_eq!(id(&replayed), id(&created));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert!(first.header("idempotent-replayed").is_none());
    assert_eq!(councils_named(&app, "Once"), 1);

    // The same key for another request is refused, naming the header.
    let other = app
        .send_admin(create("sync-0001", "Different"))
        .await
        .expect(422);
    assert_eq!(other["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(councils_named(&app, "Different"), 0);

    // Keys are per caller: another admin's identical key is their own.
    let (_, second_admin) = app.user("Second Admin", "district_admin", None);
    app.send_as(&second_admin, create("sync-0001", "Once"))
        .await
        .expect(201);
    assert_eq!(councils_named(&app, "Once"), 2);

    // A refusal is an answer too: the retry gets it again without acting.
    let bad = || {
        TestRequest::post()
            .uri("/api/v1/councils")
            .insert_header(("Idempotency-Key", "sync-0002"))
            .set_json(json!({"kind": "no such kind", "name": "Bad"}))
    };
    let refused = app.send_admin(bad()).await.expect(422);
    assert_eq!(refused["errors"][0]["field"], "kind", "{refused}");
    let again = app.send_admin(bad()).await;
    let replayed = again.expect(422);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(replayed["errors"], refused["errors"]);
    assert_eq!(replayed["code"], refused["code"]);

    // A malformed key is a bad request.
    let long = "k".repeat(256);
    app.send_admin(create(&long, "Long")).await.expect(400);

    // The replay is in the audit trail as a replay, not as a second creation.
    let replays = app.query(|conn| {
        use cogov::db::schema::audit_events::dsl::*;
        use diesel::prelude::*;
        audit_events
            .filter(action.eq("replay"))
            .count()
            .get_result::<i64>(conn)
    });
    assert_eq!(replays, 2);
}

/// Retries racing each other through two app instances create one record.
#[actix_web::test]
async fn racing_retries_through_two_instances_create_one_record() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let replies = join_all((0..12).map(|n| {
        let (app, other) = (&app, &other);
        async move {
            let req = create("retry-race", "Raced");
            if n % 2 == 0 {
                app.send_admin(req).await
            } else {
                other.send_admin(req).await
            }
        }
    }))
    .await;
    let mut ids = Vec::new();
    for reply in &replies {
        match reply.status.as_u16() {
            201 => ids.push(id(&reply.json())),
            409 => assert_eq!(reply.header("retry-after").as_deref(), Some("1")),
            other => panic!("{other}: {}", String::from_utf8_lossy(&reply.body)),
        }
    }
    assert!(!ids.is_empty());
    ids.dedup();
    assert_eq!(ids.len(), 1, "every 201 names the one council");
    assert_eq!(councils_named(&app, "Raced"), 1);
}
