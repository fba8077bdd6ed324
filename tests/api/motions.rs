//! Motions and roll-call votes: quorum, per-member votes, results, and one vote per member even
//! across app instances.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::common::{id, version_tag, TestApp};

fn at(hours_from_now: i64) -> String {
    (Utc::now() + Duration::hours(hours_from_now)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

struct Session {
    meeting: Value,
    item: Value,
    seats: Vec<Value>,
}

async fn post(app: &TestApp, path: &str, etag: Option<&str>, body: Value) -> crate::common::Reply {
    let mut req = TestRequest::post().uri(path).set_json(body);
    if let Some(e) = etag {
        req = req.insert_header(("If-Match", e));
    }
    app.send_admin(req).await
}

/// A Brown Act council of five members in session with an action item; nobody marked present.
async fn session(app: &TestApp, meeting_type: &str, starts_in: i64) -> Session {
    let school = app
        .school(&format!("V{}", uuid::Uuid::now_v7().simple()))
        .await;
    let council = app
        .council(json!({"school_id": id(&school), "kind": "community_school_steering_committee", "name": "Steering"}))
        .await;
    let mut seats = Vec::new();
    for n in 0..5 {
        let seat = app.seat(&id(&council), "families").await;
        let person = app.person(&format!("Member {n}")).await;
        seats.push(
            app.put(
                &format!("/api/v1/seats/{}/holder", id(&seat)),
                &version_tag(&seat),
                json!({"person_id": id(&person)}),
            )
            .await
            .expect(200),
        );
    }
    let mut body = json!({"type": meeting_type, "title": "Meeting", "starts_at": at(starts_in), "location": "Library"});
    if meeting_type == "emergency" {
        body["emergency_finding"] = json!("dire_emergency");
    }
    let m = app
        .post(&format!("/api/v1/councils/{}/meetings", id(&council)), body)
        .await
        .expect(201);
    let item = app
        .post(
            &format!("/api/v1/meetings/{}/agenda-items", id(&m)),
            json!({"kind": "action", "title": "Budget"}),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/meetings/{}", id(&m));
    let m = post(
        app,
        &format!("{path}/publish"),
        Some(&version_tag(&m)),
        json!({}),
    )
    .await
    .expect(200);
    let meeting = post(
        app,
        &format!("{path}/open"),
        Some(&version_tag(&m)),
        json!({}),
    )
    .await
    .expect(200);
    hear(app, &item).await;
    Session {
        meeting,
        item,
        seats,
    }
}

/// Opens and closes public comment on an item (rule 6).
async fn hear(app: &TestApp, item: &Value) {
    for step in ["open", "close"] {
        post(
            app,
            &format!("/api/v1/agenda-items/{}/comment/{step}", id(item)),
            Some("*"),
            json!({}),
        )
        .await
        .expect(200);
    }
}

async fn attend(app: &TestApp, s: &Session, n: usize, status: &str) {
    post(
        app,
        &format!("/api/v1/meetings/{}/attendance", id(&s.meeting)),
        None,
        json!({"seat_id": id(&s.seats[n]), "status": status}),
    )
    .await
    .expect(200);
}

async fn motion(app: &TestApp, s: &Session, body: Value) -> crate::common::Reply {
    post(
        app,
        &format!("/api/v1/meetings/{}/motions", id(&s.meeting)),
        None,
        body,
    )
    .await
}

async fn vote(app: &TestApp, m: &Value, seat: &Value, choice: &str) -> crate::common::Reply {
    post(
        app,
        &format!("/api/v1/motions/{}/votes", id(m)),
        None,
        json!({"seat_id": id(seat), "choice": choice}),
    )
    .await
}

#[actix_web::test]
async fn a_roll_call_vote_records_every_member() {
    let app = TestApp::new().await;
    let s = session(&app, "regular", 240).await;
    let main = json!({"kind": "main", "agenda_item_id": id(&s.item), "text": "Approve the budget",
        "mover_seat_id": id(&s.seats[0]), "seconder_seat_id": id(&s.seats[1])});
    // Without quorum only adjourn and recess may be moved.
    let p = motion(&app, &s, main.clone()).await.expect(409);
    assert_eq!(p["code"], "no-quorum");
    attend(&app, &s, 0, "present").await;
    attend(&app, &s, 1, "present").await;
    let recess = motion(
        &app,
        &s,
        json!({"kind": "recess", "text": "Recess for ten minutes",
        "mover_seat_id": id(&s.seats[0])}),
    )
    .await
    .expect(201);
    assert_eq!(recess["agenda_item_id"], Value::Null);
    attend(&app, &s, 2, "present").await;
    attend(&app, &s, 3, "present").await;
    attend(&app, &s, 4, "absent").await;

    // The mover must be present; a main motion names an action item of this meeting.
    let mut absent_mover = main.clone();
    absent_mover["mover_seat_id"] = json!(id(&s.seats[4]));
    let p = motion(&app, &s, absent_mover).await.expect(422);
    assert_eq!(p["errors"][0]["field"], "mover_seat_id");
    let p = motion(
        &app,
        &s,
        json!({"kind": "main", "text": "x", "mover_seat_id": id(&s.seats[0])}),
    )
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "agenda_item_id");

    let m = motion(&app, &s, main.clone()).await.expect(201);
    assert_eq!(m["status"], "open");
    assert_eq!(m["membership"], 5);
    vote(&app, &m, &s.seats[0], "yes").await.expect(201);
    vote(&app, &m, &s.seats[1], "yes").await.expect(201);
    vote(&app, &m, &s.seats[2], "no").await.expect(201);
    let p = vote(&app, &m, &s.seats[0], "no").await.expect(409);
    assert_eq!(p["code"], "already-voted");
    let p = vote(&app, &m, &s.seats[3], "recused").await.expect(422);
    assert_eq!(p["errors"][0]["field"], "reason");
    post(&app, &format!("/api/v1/motions/{}/votes", id(&m)), None,
        json!({"seat_id": id(&s.seats[3]), "choice": "recused", "reason": "Vendor is family / El proveedor es familia"}))
        .await
        .expect(201);
    let p = vote(&app, &m, &s.seats[4], "yes").await.expect(422);
    assert_eq!(
        p["errors"][0]["field"], "seat_id",
        "absent members do not vote"
    );
    vote(&app, &m, &s.seats[4], "absent").await.expect(422);

    let closed = post(
        &app,
        &format!("/api/v1/motions/{}/close", id(&m)),
        Some(&version_tag(&m)),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(closed["status"], "passed");
    assert_eq!(
        closed["tally"],
        json!({"yes": 2, "no": 1, "abstain": 0, "recused": 1, "absent": 1, "passed": true})
    );
    assert_eq!(
        closed["votes"].as_array().unwrap().len(),
        5,
        "every member, by name"
    );
    // Final.
    let p = post(
        &app,
        &format!("/api/v1/motions/{}/close", id(&m)),
        Some("*"),
        json!({}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "motion-closed");
    vote(&app, &m, &s.seats[3], "yes").await.expect(409);
    // Public record.
    let seen = app
        .send(TestRequest::get().uri(&format!("/api/v1/motions/{}", id(&m))))
        .await
        .expect(200);
    assert_eq!(seen["status"], "passed");

    // A tie fails; a silent present member is recorded as abstaining.
    let tie = motion(&app, &s, main.clone()).await.expect(201);
    vote(&app, &tie, &s.seats[0], "yes").await.expect(201);
    vote(&app, &tie, &s.seats[1], "no").await.expect(201);
    let closed = post(
        &app,
        &format!("/api/v1/motions/{}/close", id(&tie)),
        Some("*"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(closed["status"], "failed");
    assert_eq!(closed["tally"]["abstain"], 2);
    let list = app
        .send(TestRequest::get().uri(&format!("/api/v1/meetings/{}/motions", id(&s.meeting))))
        .await
        .expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
}

/// A motion on an item waits until the public was heard on it: comment opened, then closed.
#[actix_web::test]
async fn motions_wait_for_public_comment() {
    let app = TestApp::new().await;
    let s = session(&app, "regular", 240).await;
    for n in 0..3 {
        attend(&app, &s, n, "present").await;
    }
    let m = app
        .get(&format!("/api/v1/meetings/{}", id(&s.meeting)))
        .await
        .expect(200);
    let added = post(&app, &format!("/api/v1/meetings/{}/amendments", id(&m)), Some(&version_tag(&m)),
        json!({"reason": "Requested by families", "item": {"kind": "action", "title": "Field trip"}}))
        .await;
    let item = app
        .get(added.header("location").as_deref().unwrap())
        .await
        .expect(200);
    assert_eq!(
        item["added_late"], false,
        "ten days ahead, still in the posted notice"
    );
    let body = json!({"kind": "main", "agenda_item_id": id(&item), "text": "Approve the trip",
        "mover_seat_id": id(&s.seats[0])});
    let p = motion(&app, &s, body.clone()).await.expect(409);
    assert_eq!(p["code"], "public-comment-required");
    let comment = |step: &str| format!("/api/v1/agenda-items/{}/comment/{step}", id(&item));
    let p = post(&app, &comment("close"), Some("*"), json!({}))
        .await
        .expect(409);
    assert_eq!(p["code"], "comment-not-open");
    let opened = post(&app, &comment("open"), Some(&version_tag(&item)), json!({}))
        .await
        .expect(200);
    assert!(opened["comment_opened_at"].is_string());
    post(&app, &comment("open"), Some("*"), json!({}))
        .await
        .expect(409);
    let p = motion(&app, &s, body.clone()).await.expect(409);
    assert_eq!(p["code"], "public-comment-required", "open is not enough");
    post(
        &app,
        &comment("close"),
        Some(&version_tag(&opened)),
        json!({}),
    )
    .await
    .expect(200);
    motion(&app, &s, body).await.expect(201);
}

#[actix_web::test]
async fn items_added_late_cannot_be_acted_on_without_findings() {
    let app = TestApp::new().await;
    let s = session(&app, "emergency", 1).await;
    for n in 0..3 {
        attend(&app, &s, n, "present").await;
    }
    let m = app
        .get(&format!("/api/v1/meetings/{}", id(&s.meeting)))
        .await
        .expect(200);
    let late = post(
        &app,
        &format!("/api/v1/meetings/{}/amendments", id(&m)),
        Some(&version_tag(&m)),
        json!({"reason": "New", "item": {"kind": "action", "title": "Shelter"}}),
    )
    .await;
    let item = app
        .get(late.header("location").as_deref().unwrap())
        .await
        .expect(200);
    assert_eq!(item["added_late"], true);
    let p = motion(
        &app,
        &s,
        json!({"kind": "main", "agenda_item_id": id(&item), "text": "Open the shelter",
        "mover_seat_id": id(&s.seats[0])}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "emergency-vote-required");
    // The emergency meeting's determination (rule 4), then the late item's finding (rule 5).
    post(
        &app,
        &format!("/api/v1/meetings/{}/emergency-vote", id(&m)),
        None,
        json!({"facts": "Wildfire smoke", "votes": s.seats[..3].iter()
            .map(|seat| json!({"seat_id": id(seat), "choice": "yes"})).collect::<Vec<_>>()}),
    )
    .await
    .expect(201);
    let p = motion(
        &app,
        &s,
        json!({"kind": "main", "agenda_item_id": id(&item), "text": "Open the shelter",
        "mover_seat_id": id(&s.seats[0])}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "late-item-needs-finding");
    // The item noticed with the meeting is fine.
    motion(
        &app,
        &s,
        json!({"kind": "main", "agenda_item_id": id(&s.item), "text": "Approve",
        "mover_seat_id": id(&s.seats[0])}),
    )
    .await
    .expect(201);
}

/// Twenty votes for one member on one motion, sent at once through two app instances: the
/// unique index keeps one.
#[actix_web::test]
async fn double_votes_on_two_instances_count_once() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let s = session(&app, "regular", 240).await;
    for n in 0..3 {
        attend(&app, &s, n, "present").await;
    }
    let m = motion(
        &app,
        &s,
        json!({"kind": "main", "agenda_item_id": id(&s.item), "text": "Approve",
        "mover_seat_id": id(&s.seats[0])}),
    )
    .await
    .expect(201);
    let path = format!("/api/v1/motions/{}/votes", id(&m));
    let replies = join_all((0..20).map(|n| {
        let req = TestRequest::post().uri(&path).set_json(json!({
            "seat_id": id(&s.seats[0]), "choice": if n % 2 == 0 { "yes" } else { "no" }}));
        let (app, other) = (&app, &other);
        async move {
            if n % 2 == 0 {
                app.send_admin(req).await
            } else {
                other.send_admin(req).await
            }
        }
    }))
    .await;
    let codes: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(codes.iter().filter(|&&c| c == 201).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 409).count(), 19, "{codes:?}");
    let seen = app
        .get(&format!("/api/v1/motions/{}", id(&m)))
        .await
        .expect(200);
    assert_eq!(seen["votes"].as_array().unwrap().len(), 1);
}
