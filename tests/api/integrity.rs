//! No lost updates and no holes: rules that span requests hold in the database, with two app
//! instances on one database; every committed write has its audit event; the audit trail and
//! merge-patch semantics cannot be sidestepped.

use actix_web::test::TestRequest;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::common::{id, version_tag, Instance, Reply, TestApp};

/// Sends `make(n)` for each `n` in `0..count`, alternating between the two instances, all at once.
async fn race(
    app: &TestApp,
    other: &Instance,
    count: usize,
    make: impl Fn(usize) -> TestRequest,
) -> Vec<Reply> {
    join_all((0..count).map(|n| {
        let req = make(n);
        async move {
            if n % 2 == 0 {
                app.send_admin(req).await
            } else {
                other.send_admin(req).await
            }
        }
    }))
    .await
}

fn statuses(replies: &[Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.status.as_u16()).collect()
}

#[actix_web::test]
async fn fifty_patches_with_one_etag_one_wins() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let council = app
        .council(json!({"kind": "assembly", "name": "Before"}))
        .await;
    let path = format!("/api/v1/councils/{}", id(&council));
    let etag = version_tag(&council);
    let replies = race(&app, &other, 50, |n| {
        TestRequest::patch()
            .uri(&path)
            .insert_header(("If-Match", etag.clone()))
            .set_json(json!({"name": format!("Edit {n}")}))
    })
    .await;
    let codes = statuses(&replies);
    assert_eq!(
        codes.iter().filter(|&&c| c == 200).count(),
        1,
        "exactly one edit of version 1 wins: {codes:?}"
    );
    assert_eq!(codes.iter().filter(|&&c| c == 412).count(), 49, "{codes:?}");
    let winner = replies.iter().find(|r| r.status == 200).unwrap().json();
    let stored = app.get(&path).await.expect(200);
    assert_eq!(stored["version"], 2, "one update, one version step");
    assert_eq!(stored["name"], winner["name"]);
}

#[actix_web::test]
async fn racing_holder_assignments_leave_one_open_holding() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seat = app.seat(&id(&council), "families").await;
    let mut people = Vec::new();
    for n in 0..50 {
        people.push(id(&app.person(&format!("Parent {n}")).await));
    }
    let seat_key = id(&seat);
    let holder = format!("/api/v1/seats/{seat_key}/holder");
    // `If-Match: *` lets every request past the version check, so only the database keeps
    // the seat to one holder at a time.
    let replies = race(&app, &other, 50, |n| {
        TestRequest::put()
            .uri(&holder)
            .insert_header(("If-Match", "*"))
            .set_json(json!({"person_id": people[n], "starts_on": "2026-09-01"}))
    })
    .await;
    for r in &replies {
        assert!(
            matches!(r.status.as_u16(), 200 | 409 | 412),
            "{}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    assert!(statuses(&replies).contains(&200));
    let open: Vec<String> = app.query(|conn| {
        use cogov::db::schema::seat_holdings::dsl::*;
        use diesel::prelude::*;
        seat_holdings
            .filter(seat_id.eq(&seat_key))
            .filter(ended_on.is_null())
            .select(person_id)
            .load(conn)
    });
    assert_eq!(open.len(), 1, "one open holding: {open:?}");
    let now = app
        .get(&format!("/api/v1/seats/{}", id(&seat)))
        .await
        .expect(200);
    assert_eq!(now["holder"]["person_id"], open[0].as_str());
}

#[actix_web::test]
async fn racing_seat_deletions_never_break_a_rule_without_an_override() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    for round in 0..5 {
        let council = app
            .council(json!({"kind": "assembly", "name": format!("Round {round}"),
                "composition_rules": [{"type": "at_least", "name": "two families",
                    "constituency": "families", "min": 2}]}))
            .await;
        let mut seats = Vec::new();
        for _ in 0..4 {
            seats.push(app.seat(&id(&council), "families").await);
        }
        let replies = race(&app, &other, seats.len(), |n| {
            TestRequest::delete()
                .uri(&format!("/api/v1/seats/{}", id(&seats[n])))
                .insert_header(("If-Match", version_tag(&seats[n])))
        })
        .await;
        let codes = statuses(&replies);
        assert_eq!(
            codes.iter().filter(|&&c| c == 204).count(),
            2,
            "4 seats, at least 2 required: exactly 2 deletions pass ({codes:?})"
        );
        let report = app
            .get(&format!("/api/v1/councils/{}/composition", id(&council)))
            .await
            .expect(200);
        assert_eq!(report["all_rules_pass"], true, "round {round}: {report}");
        let overrides = app
            .get(&format!("/api/v1/councils/{}/rule-overrides", id(&council)))
            .await
            .expect(200);
        assert_eq!(overrides["items"], json!([]));
    }
}

#[actix_web::test]
async fn every_committed_write_has_its_audit_event() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let replies = race(&app, &other, 40, |n| {
        TestRequest::post()
            .uri("/api/v1/councils")
            .set_json(json!({"kind": "assembly", "name": format!("Council {n}")}))
    })
    .await;
    let created: Vec<String> = replies.iter().map(|r| id(&r.expect(201))).collect();
    let audited: Vec<Option<String>> = app.query(|conn| {
        use cogov::db::schema::audit_events::dsl::*;
        use diesel::prelude::*;
        audit_events
            .filter(resource.eq("/api/v1/councils"))
            .filter(action.eq("create"))
            .filter(outcome.eq("allowed"))
            .select(resource_id)
            .load(conn)
    });
    assert_eq!(
        audited.len(),
        created.len(),
        "one event per created council"
    );
    for council in &created {
        assert!(
            audited.contains(&Some(council.clone())),
            "{council} has no audit event"
        );
    }
}

/// The trail records by matched route: percent-escaped spellings of a protected path reach the
/// same handler and are recorded the same way.
#[actix_web::test]
async fn escaped_paths_are_audited_like_plain_ones() {
    let app = TestApp::new().await;
    let person = id(&app.person("Private Person").await);
    let count = |route: &'static str, act: &'static str| {
        app.query(move |conn| {
            use cogov::db::schema::audit_events::dsl::*;
            use diesel::prelude::*;
            audit_events
                .filter(resource.eq(route))
                .filter(action.eq(act))
                .count()
                .get_result::<i64>(conn)
        })
    };
    for (n, path) in [
        format!("/api/v1/%70eople/{person}"),
        format!("/api/v1/people/{person}"),
        format!("/%61pi/v1/people/{person}"),
        format!("/api/%76%31/%70%65%6F%70%6C%65/{person}"),
    ]
    .iter()
    .enumerate()
    {
        let before = count("/api/v1/people/{person_id}", "read");
        app.get(path).await.expect(200);
        assert_eq!(
            count("/api/v1/people/{person_id}", "read"),
            before + 1,
            "spelling {n} ({path}) was not audited"
        );
    }
    let grantee = id(&app.person("Would-be Admin").await);
    for (n, path) in ["/%61pi/v1/grants", "/api/v1/%67rants", "/api/v1/grant%73"]
        .iter()
        .enumerate()
    {
        let before = count("/api/v1/grants", "create");
        let reply = app
            .post(
                path,
                json!({"subject_kind": "person", "subject_id": grantee, "role": "family"}),
            )
            .await;
        assert!(matches!(reply.status.as_u16(), 201 | 409), "{path}");
        assert_eq!(
            count("/api/v1/grants", "create"),
            before + 1,
            "spelling {n} ({path}) was not audited"
        );
    }
}

#[actix_web::test]
async fn patch_follows_json_merge_patch() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "assembly", "name": "Merge", "description": "kept"}))
        .await;
    let path = format!("/api/v1/councils/{}", id(&council));
    let tag = version_tag(&council);

    // null on a required field is refused, naming the field; nothing changes.
    let refused = app
        .patch(&path, &tag, json!({"name": null, "kind": null}))
        .await
        .expect(422);
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"kind"),
        "{refused}"
    );

    // An empty patch and one that sets what is stored change nothing: same version, same ETag.
    for body in [json!({}), json!({"name": "Merge", "description": "kept"})] {
        let reply = app.patch(&path, &tag, body).await;
        let same = reply.expect(200);
        assert_eq!(same["version"], 1);
        assert_eq!(reply.etag(), tag);
    }

    // null clears an optional field.
    let cleared = app
        .patch(&path, &tag, json!({"description": null}))
        .await
        .expect(200);
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["version"], 2);

    let school = app.school("MP-1").await;
    app.patch(
        &format!("/api/v1/schools/{}", id(&school)),
        &version_tag(&school),
        json!({"time_zone": null}),
    )
    .await
    .expect(422);
    let person = app.person("Merge Person").await;
    app.patch(
        &format!("/api/v1/people/{}", id(&person)),
        &version_tag(&person),
        json!({"display_name": null}),
    )
    .await
    .expect(422);
}

#[actix_web::test]
async fn the_last_district_admin_cannot_be_revoked() {
    let app = TestApp::new().await;
    let grants = app
        .get("/api/v1/grants?role=district_admin")
        .await
        .expect(200);
    let items = grants["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let only = format!("/api/v1/grants/{}", id(&items[0]));
    let reply = app.delete(&only, &version_tag(&items[0])).await;
    let problem = reply.expect(409);
    assert_eq!(problem["code"], "last-district-admin");

    // With a second admin, the first grant can go.
    let (_, second) = app.user("Second Admin", "district_admin", None);
    app.delete(&only, &version_tag(&items[0])).await.expect(204);

    // And an identical grant cannot be made twice, "no council" included.
    let (person, _) = app.user("Family Member", "none", None);
    let grant = || {
        TestRequest::post()
            .uri("/api/v1/grants")
            .set_json(json!({"subject_kind": "person", "subject_id": person, "role": "family"}))
    };
    app.send_as(&second, grant()).await.expect(201);
    app.send_as(&second, grant()).await.expect(409);
}

#[actix_web::test]
async fn csv_exports_neutralise_spreadsheet_formulas() {
    let app = TestApp::new().await;
    app.send_admin(
        TestRequest::post()
            .uri("/api/v1/councils")
            .insert_header(("User-Agent", "=HYPERLINK(\"http://evil.example\",\"x\")"))
            .set_json(json!({"kind": "assembly", "name": "CSV"})),
    )
    .await
    .expect(201);
    let reply = app.get("/api/v1/audit-events?format=csv").await;
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body.clone()).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.contains(",=HYPERLINK"), "{text}");
    assert!(reply.header("export-truncated").is_none());
}
