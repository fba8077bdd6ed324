//! Public participation: written comment without signing in, hiding with a reason, the
//! per-address limit across app instances, size limits, and speaker time.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::common::{cli, id, version_tag, TestApp};

fn at(hours_from_now: i64) -> String {
    (Utc::now() + Duration::hours(hours_from_now)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn post(app: &TestApp, path: &str, etag: Option<&str>, body: Value) -> crate::common::Reply {
    let mut req = TestRequest::post().uri(path).set_json(body);
    if let Some(e) = etag {
        req = req.insert_header(("If-Match", e));
    }
    app.send_admin(req).await
}

/// A council with a draft meeting holding one action item.
async fn draft(app: &TestApp) -> (Value, Value, Value) {
    let council = app
        .council(json!({"kind": "community_school_steering_committee", "name": "Steering"}))
        .await;
    let meeting = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "Regular", "starts_at": at(240), "location": "Library", "time_zone": "America/Los_Angeles"}),
        )
        .await
        .expect(201);
    let item = app
        .post(
            &format!("/api/v1/meetings/{}/agenda-items", id(&meeting)),
            json!({"kind": "action", "title": "After-school program"}),
        )
        .await
        .expect(201);
    (council, meeting, item)
}

async fn step(app: &TestApp, meeting: &Value, action: &str) -> Value {
    let current = app
        .get(&format!("/api/v1/meetings/{}", id(meeting)))
        .await
        .expect(200);
    post(
        app,
        &format!("/api/v1/meetings/{}/{action}", id(meeting)),
        Some(&version_tag(&current)),
        json!({}),
    )
    .await
    .expect(200)
}

fn comment_from(item: &Value, address: &str, body: Value) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/api/v1/agenda-items/{}/comments", id(item)))
        .peer_addr(address.parse().unwrap())
        .set_json(body)
}

async fn anonymous_comment(app: &TestApp, item: &Value, text: &str) -> crate::common::Reply {
    app.send(comment_from(
        item,
        "198.51.100.1:40000",
        json!({"body": text}),
    ))
    .await
}

fn comments_path(item: &Value) -> String {
    format!("/api/v1/agenda-items/{}/comments", id(item))
}

#[actix_web::test]
async fn anyone_comments_in_writing_without_signing_in_until_comment_closes() {
    let app = TestApp::new().await;
    let (_, meeting, item) = draft(&app).await;

    // A draft agenda is not public: there is nothing to comment on yet.
    anonymous_comment(&app, &item, "Early").await.expect(404);

    step(&app, &meeting, "publish").await;
    let anonymous = anonymous_comment(&app, &item, "Keep the program open until 6 pm.")
        .await
        .expect(201);
    assert_eq!(anonymous["author_name"], Value::Null);
    assert_eq!(anonymous["body"], "Keep the program open until 6 pm.");
    assert_eq!(anonymous["hidden"], false);
    let named = app
        .send(comment_from(
            &item,
            "198.51.100.2:40000",
            json!({"body": "Por favor, más tutoría.", "author_name": "María López", "author_email": "maria@example.org"}),
        ))
        .await
        .expect(201);
    assert_eq!(named["author_name"], "María López");
    // The email is for staff only, not even echoed to the public sender.
    assert_eq!(named["author_email"], Value::Null);

    // The public list shows both, in order, without the email; staff see the email.
    let public = app
        .send(TestRequest::get().uri(&comments_path(&item)))
        .await
        .expect(200);
    let items = public["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], anonymous["id"]);
    assert_eq!(items[1]["author_email"], Value::Null);
    let staff = app.get(&comments_path(&item)).await.expect(200);
    assert_eq!(staff["items"][1]["author_email"], "maria@example.org");

    // Comment is taken during the session until staff close it on the item.
    step(&app, &meeting, "open").await;
    anonymous_comment(&app, &item, "During the session")
        .await
        .expect(201);
    for s in ["open", "close"] {
        post(
            &app,
            &format!("/api/v1/agenda-items/{}/comment/{s}", id(&item)),
            Some("*"),
            json!({}),
        )
        .await
        .expect(200);
    }
    let refused = anonymous_comment(&app, &item, "Too late").await.expect(409);
    assert_eq!(refused["code"], "comment-closed");

    let counts =
        cogov::commands::participation::comment_counts(&cli(), &app.db, &id(&meeting)).unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].item_id, id(&item));
    assert_eq!((counts[0].written, counts[0].hidden), (3, 0));
}

#[actix_web::test]
async fn comment_ends_with_the_meeting() {
    let app = TestApp::new().await;
    let (_, meeting, item) = draft(&app).await;
    step(&app, &meeting, "publish").await;
    step(&app, &meeting, "open").await;
    step(&app, &meeting, "adjourn").await;
    let refused = anonymous_comment(&app, &item, "After the meeting")
        .await
        .expect(409);
    assert_eq!(refused["code"], "comment-closed");
}

#[actix_web::test]
async fn staff_hide_an_abusive_comment_which_stays_listed_with_the_reason() {
    let app = TestApp::new().await;
    let (council, meeting, item) = draft(&app).await;
    step(&app, &meeting, "publish").await;
    let abusive = anonymous_comment(&app, &item, "Insults").await.expect(201);
    let hide = |token: Option<String>, etag: &str| {
        let mut req = TestRequest::post()
            .uri(&format!("/api/v1/public-comments/{}/hide", id(&abusive)))
            .insert_header(("If-Match", etag.to_owned()))
            .set_json(
                json!({"reason": "Insults a parent by name / Insulta a una madre por su nombre"}),
            );
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        req
    };
    app.send(hide(None, "\"1\"")).await.expect(401);
    let elsewhere = app
        .council(json!({"kind": "assembly", "name": "Other"}))
        .await;
    let (_, other_staff) = app.user("Olga Other", "council_staff", Some(&id(&elsewhere)));
    app.send(hide(Some(other_staff), "\"1\"")).await.expect(403);
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&id(&council)));
    app.send(hide(Some(staff.clone()), "\"7\""))
        .await
        .expect(412);
    let hidden = app
        .send(hide(Some(staff.clone()), "\"1\""))
        .await
        .expect(200);
    assert_eq!(hidden["hidden"], true);
    assert_eq!(hidden["body"], "Insults");
    let again = app.send(hide(Some(staff.clone()), "*")).await.expect(409);
    assert_eq!(again["code"], "comment-already-hidden");

    // The public sees that it was hidden and why, not its text.
    let public = app
        .send(TestRequest::get().uri(&comments_path(&item)))
        .await
        .expect(200);
    let shown = &public["items"][0];
    assert_eq!(shown["hidden"], true);
    assert_eq!(shown["body"], Value::Null);
    assert_eq!(
        shown["hidden_reason"],
        "Insults a parent by name / Insulta a una madre por su nombre"
    );
    // Staff still read it.
    let for_staff = app
        .send_as(&staff, TestRequest::get().uri(&comments_path(&item)))
        .await
        .expect(200);
    assert_eq!(for_staff["items"][0]["body"], "Insults");

    let counts =
        cogov::commands::participation::comment_counts(&cli(), &app.db, &id(&meeting)).unwrap();
    assert_eq!((counts[0].written, counts[0].hidden), (1, 1));
}

#[actix_web::test]
async fn comments_are_limited_per_address_across_app_instances() {
    let app = TestApp::with_protection(|p| p.public_comment.max_per_address = 3).await;
    let other = app.second_instance().await;
    let (_, meeting, item) = draft(&app).await;
    step(&app, &meeting, "publish").await;

    // Six at once from one address, split over two instances: exactly three get through.
    let sends = (0..6).map(|n| {
        let req = comment_from(
            &item,
            "203.0.113.7:50000",
            json!({"body": format!("Comment {n}")}),
        );
        let app = &app;
        let other = &other;
        async move {
            if n % 2 == 0 {
                app.send(req).await
            } else {
                other.send(req).await
            }
        }
    });
    let replies = join_all(sends).await;
    let accepted = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(accepted, 3);
    for r in replies.iter().filter(|r| r.status != 201) {
        let p = r.expect(429);
        assert_eq!(p["code"], "too-many-requests");
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=600).contains(&wait), "Retry-After {wait}");
    }
    // The same /64 of IPv6 counts as one address; another address is not affected.
    app.send(comment_from(
        &item,
        "198.51.100.9:1",
        json!({"body": "Mine"}),
    ))
    .await
    .expect(201);
    for a in [
        "[2001:db8:1:2::1]:1",
        "[2001:db8:1:2::2]:1",
        "[2001:db8:1:2::3]:1",
    ] {
        app.send(comment_from(&item, a, json!({"body": "v6"})))
            .await
            .expect(201);
    }
    app.send(comment_from(
        &item,
        "[2001:db8:1:2::ff]:1",
        json!({"body": "v6"}),
    ))
    .await
    .expect(429);
    let listed = app.get(&comments_path(&item)).await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 3 + 1 + 3);
}

#[actix_web::test]
async fn comment_size_is_limited_and_named() {
    let app = TestApp::new().await;
    let (_, meeting, item) = draft(&app).await;
    step(&app, &meeting, "publish").await;
    anonymous_comment(&app, &item, &"é".repeat(5000))
        .await
        .expect(201);
    for (body, field) in [
        (json!({"body": "é".repeat(5001)}), "body"),
        (json!({"body": "   "}), "body"),
        (
            json!({"body": "ok", "author_name": "n".repeat(201)}),
            "author_name",
        ),
        (
            json!({"body": "ok", "author_email": "not an email"}),
            "author_email",
        ),
    ] {
        let p = app
            .send(comment_from(&item, "198.51.100.3:1", body))
            .await
            .expect(422);
        assert_eq!(p["errors"][0]["field"], field);
    }
    let p = app
        .send(comment_from(
            &item,
            "198.51.100.3:1",
            json!({"body": "ok", "sign_in_sheet": "x"}),
        ))
        .await;
    assert!(p.status.is_client_error());
}

#[actix_web::test]
async fn speakers_get_the_council_limit_doubled_with_a_consecutive_interpreter() {
    let app = TestApp::new().await;
    let (council, meeting, item) = draft(&app).await;
    assert_eq!(council["speaker_seconds"], 180);
    let council = app
        .patch(
            &format!("/api/v1/councils/{}", id(&council)),
            &version_tag(&council),
            json!({"speaker_seconds": 120}),
        )
        .await
        .expect(200);
    assert_eq!(council["speaker_seconds"], 120);
    let p = app
        .patch(
            &format!("/api/v1/councils/{}", id(&council)),
            &version_tag(&council),
            json!({"speaker_seconds": 10}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "speaker_seconds");

    let path = format!("/api/v1/agenda-items/{}/speakers", id(&item));
    step(&app, &meeting, "publish").await;
    // Speakers are heard in session.
    let p = app.post(&path, json!({})).await.expect(409);
    assert_eq!(p["code"], "meeting-not-in-session");
    step(&app, &meeting, "open").await;
    app.send(TestRequest::post().uri(&path).set_json(json!({})))
        .await
        .expect(401);
    let mut given = Vec::new();
    for body in [
        json!({}),
        json!({"name": "José Hernández", "interpretation": "consecutive"}),
        json!({"interpretation": "simultaneous"}),
    ] {
        given.push(app.post(&path, body).await.expect(201)["seconds_allowed"].clone());
    }
    assert_eq!(given, [json!(120), json!(240), json!(120)]);
    let p = app
        .post(&path, json!({"interpretation": "whispered"}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "interpretation");

    let listed = app.send(TestRequest::get().uri(&path)).await.expect(200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["name"], "José Hernández");
    assert_eq!(items[1]["interpretation"], "consecutive");
    let counts =
        cogov::commands::participation::comment_counts(&cli(), &app.db, &id(&meeting)).unwrap();
    assert_eq!((counts[0].written, counts[0].speakers), (0, 3));
}

#[actix_web::test]
async fn agenda_sources_count_items_by_the_constituency_that_proposed_them() {
    let app = TestApp::new().await;
    let (council, meeting, _staff_item) = draft(&app).await;
    let families = app.seat(&id(&council), "families").await;
    let students = app.seat(&id(&council), "students").await;
    let proposals = format!("/api/v1/councils/{}/agenda-items", id(&council));
    let propose = |seat: &Value, title: &str| {
        app.post(
            &proposals,
            json!({"kind": "discussion", "title": title, "proposed_by_seat_id": id(seat)}),
        )
    };
    let f1 = propose(&families, "Family 1").await.expect(201);
    propose(&families, "Family 2").await.expect(201);
    propose(&students, "Student 1").await.expect(201);
    post(
        &app,
        &format!("/api/v1/agenda-items/{}/accept", id(&f1)),
        Some(&version_tag(&f1)),
        json!({"meeting_id": id(&meeting)}),
    )
    .await
    .expect(200);

    let path = format!("/api/v1/councils/{}/agenda-sources", id(&council));
    let report = app.send(TestRequest::get().uri(&path)).await.expect(200);
    assert_eq!(
        report["sources"],
        json!([
            {"constituency": null, "proposed": 1, "accepted": 1, "voted_on": 0},
            {"constituency": "families", "proposed": 2, "accepted": 1, "voted_on": 0},
            {"constituency": "students", "proposed": 1, "accepted": 0, "voted_on": 0}
        ])
    );
    let tomorrow = (Utc::now() + Duration::days(1)).date_naive();
    let week = (Utc::now() + Duration::days(7)).date_naive();
    let later = app
        .send(TestRequest::get().uri(&format!("{path}?from={tomorrow}&to={week}")))
        .await
        .expect(200);
    assert_eq!(later["sources"], json!([]));
    let p = app
        .send(TestRequest::get().uri(&format!("{path}?from=2027-02-30")))
        .await;
    assert!(p.status.is_client_error());
    let p = app
        .send(TestRequest::get().uri(&format!("{path}?from=2027-03-01&to=2027-02-01")))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "from");
}
