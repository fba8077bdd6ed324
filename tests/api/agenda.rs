//! Agenda items: order, proposals by seat holders, staff decisions, and amendments after
//! publication.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::common::{id, version_tag, TestApp};

fn at(hours_from_now: i64) -> String {
    (Utc::now() + Duration::hours(hours_from_now)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn setup(app: &TestApp) -> (Value, Value) {
    let school = app.school("A1").await;
    let council = app
        .council(json!({"school_id": id(&school), "kind": "community_school_steering_committee", "name": "Steering"}))
        .await;
    let meeting = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "Regular", "starts_at": at(240), "location": "Library"}),
        )
        .await
        .expect(201);
    (council, meeting)
}

async fn add(app: &TestApp, meeting: &Value, title: &str) -> Value {
    app.post(
        &format!("/api/v1/meetings/{}/agenda-items", id(meeting)),
        json!({"kind": "discussion", "title": title}),
    )
    .await
    .expect(201)
}

async fn titles(app: &TestApp, meeting: &Value) -> Vec<String> {
    app.get(&format!("/api/v1/meetings/{}/agenda-items", id(meeting)))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn post_with(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    etag: &str,
    body: Value,
) -> crate::common::Reply {
    let req = TestRequest::post()
        .uri(path)
        .insert_header(("If-Match", etag))
        .set_json(body);
    match token {
        Some(t) => app.send_as(t, req).await,
        None => app.send_admin(req).await,
    }
}

#[actix_web::test]
async fn staff_order_a_draft_agenda_without_renumbering() {
    let app = TestApp::new().await;
    let (_, meeting) = setup(&app).await;
    let a = add(&app, &meeting, "A").await;
    let b = add(&app, &meeting, "B").await;
    let c = add(&app, &meeting, "C").await;
    assert_eq!(titles(&app, &meeting).await, ["A", "B", "C"]);
    assert!(a["position"].as_str() < b["position"].as_str());

    // C to the top, then A right after C: only the moved item changes.
    let moved = post_with(
        &app,
        None,
        &format!("/api/v1/agenda-items/{}/move", id(&c)),
        &version_tag(&c),
        json!({"after_item_id": null}),
    )
    .await
    .expect(200);
    assert_eq!(moved["version"], 2);
    post_with(
        &app,
        None,
        &format!("/api/v1/agenda-items/{}/move", id(&a)),
        &version_tag(&a),
        json!({"after_item_id": id(&c)}),
    )
    .await
    .expect(200);
    assert_eq!(titles(&app, &meeting).await, ["C", "A", "B"]);
    let b_now = app
        .get(&format!("/api/v1/agenda-items/{}", id(&b)))
        .await
        .expect(200);
    assert_eq!(b_now["version"], 1, "B was not renumbered");
    assert_eq!(b_now["position"], b["position"]);

    // A closed session names its legal basis.
    let p = app
        .post(
            &format!("/api/v1/meetings/{}/agenda-items", id(&meeting)),
            json!({"kind": "closed_session", "title": "Personnel"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "legal_basis");
    let item = app
        .post(
            &format!("/api/v1/meetings/{}/agenda-items", id(&meeting)),
            json!({"kind": "closed_session", "title": "Personnel", "legal_basis": "Gov. Code 54957",
                   "documents": [{"url": "https://docs.example.org/p.pdf", "title": "Informe", "language": "es"}],
                   "translations": {"es": {"title": "Personal", "summary": null}}}),
        )
        .await
        .expect(201);
    assert_eq!(item["translations"]["es"]["title"], "Personal");
    let p = app
        .post(
            &format!("/api/v1/meetings/{}/agenda-items", id(&meeting)),
            json!({"kind": "action", "title": "X", "translations": {"es_MX": {"title": "X"}}}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "translations");

    // The public sees the agenda once the notice is published.
    let agenda = format!("/api/v1/meetings/{}/agenda-items", id(&meeting));
    app.send(TestRequest::get().uri(&agenda)).await.expect(404);
    let m = app
        .send_admin(
            TestRequest::post()
                .uri(&format!("/api/v1/meetings/{}/publish", id(&meeting)))
                .insert_header(("If-Match", "*")),
        )
        .await
        .expect(200);
    assert_eq!(m["status"], "noticed");
    assert_eq!(
        app.send(TestRequest::get().uri(&agenda)).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // After publication: no direct additions nor moves.
    let p = app
        .post(&agenda, json!({"kind": "discussion", "title": "Late"}))
        .await
        .expect(409);
    assert_eq!(p["code"], "meeting-not-draft");
    post_with(
        &app,
        None,
        &format!("/api/v1/agenda-items/{}/move", id(&b)),
        "*",
        json!({"after_item_id": null}),
    )
    .await
    .expect(409);
}

#[actix_web::test]
async fn seat_holders_propose_and_staff_decide() {
    let app = TestApp::new().await;
    let (council, meeting) = setup(&app).await;
    let (member_id, member) = app.user("Mia Member", "none", None);
    let (_, stranger) = app.user("Stan Stranger", "family", None);
    let seat = app.seat(&id(&council), "families").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        &version_tag(&seat),
        json!({"person_id": member_id}),
    )
    .await
    .expect(200);
    let propose = format!("/api/v1/councils/{}/agenda-items", id(&council));
    let body =
        json!({"kind": "action", "title": "Crossing guard", "proposed_by_seat_id": id(&seat)});
    app.send_as(&stranger, TestRequest::post().uri(&propose).set_json(&body))
        .await
        .expect(403);
    app.send(TestRequest::post().uri(&propose).set_json(&body))
        .await
        .expect(401);
    let other_seat = app.seat(&id(&council), "teachers").await;
    let p = app
        .send_as(
            &member,
            TestRequest::post().uri(&propose).set_json(
                json!({"kind": "action", "title": "X", "proposed_by_seat_id": id(&other_seat)}),
            ),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "proposed_by_seat_id");
    let first = app
        .send_as(&member, TestRequest::post().uri(&propose).set_json(&body))
        .await
        .expect(201);
    assert_eq!(first["status"], "proposed");
    assert_eq!(first["meeting_id"], Value::Null);
    let second = app
        .send_as(
            &member,
            TestRequest::post()
                .uri(&propose)
                .set_json(json!({"kind": "discussion", "title": "Library hours"})),
        )
        .await
        .expect(201);

    // Proposals are the proposer's and the staff's.
    let item = format!("/api/v1/agenda-items/{}", id(&first));
    app.send(TestRequest::get().uri(&item)).await.expect(404);
    app.send_as(&stranger, TestRequest::get().uri(&item))
        .await
        .expect(404);
    app.send_as(&member, TestRequest::get().uri(&item))
        .await
        .expect(200);
    let mine = app
        .send_as(&member, TestRequest::get().uri(&propose))
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    let theirs = app
        .send_as(&stranger, TestRequest::get().uri(&propose))
        .await
        .expect(200);
    assert_eq!(theirs["items"], json!([]));
    app.send(TestRequest::get().uri(&propose)).await.expect(401);
    let staff_view = app
        .get(&format!("{propose}?status=proposed"))
        .await
        .expect(200);
    assert_eq!(staff_view["items"].as_array().unwrap().len(), 2);

    // The member cannot decide; staff accept one and decline the other with a reason.
    post_with(
        &app,
        Some(&member),
        &format!("{item}/accept"),
        "*",
        json!({"meeting_id": id(&meeting)}),
    )
    .await
    .expect(403);
    let accepted = post_with(
        &app,
        None,
        &format!("{item}/accept"),
        &version_tag(&first),
        json!({"meeting_id": id(&meeting)}),
    )
    .await
    .expect(200);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["meeting_id"], id(&meeting));
    assert_eq!(titles(&app, &meeting).await, ["Crossing guard"]);
    post_with(
        &app,
        None,
        &format!("{item}/accept"),
        "*",
        json!({"meeting_id": id(&meeting)}),
    )
    .await
    .expect(409);
    let declined = post_with(
        &app,
        None,
        &format!("/api/v1/agenda-items/{}/decline", id(&second)),
        &version_tag(&second),
        json!({"reason": "Outside our jurisdiction / Fuera de nuestra competencia"}),
    )
    .await
    .expect(200);
    assert_eq!(declined["status"], "declined");
    let seen = app
        .send_as(
            &member,
            TestRequest::get().uri(&format!("/api/v1/agenda-items/{}", id(&second))),
        )
        .await
        .expect(200);
    assert_eq!(
        seen["decline_reason"],
        "Outside our jurisdiction / Fuera de nuestra competencia"
    );
    // An unknown meeting is a field error.
    let third = app
        .send_as(&member, TestRequest::post().uri(&propose).set_json(&body))
        .await
        .expect(201);
    let p = post_with(
        &app,
        None,
        &format!("/api/v1/agenda-items/{}/accept", id(&third)),
        "*",
        json!({"meeting_id": "01936d4e-9000-7000-8000-00000000c001"}),
    )
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "meeting_id");
}

#[actix_web::test]
async fn published_agendas_change_by_recorded_amendment() {
    let app = TestApp::new().await;
    let (council, meeting) = setup(&app).await;
    add(&app, &meeting, "Budget").await;
    let m = app
        .send_admin(
            TestRequest::post()
                .uri(&format!("/api/v1/meetings/{}/publish", id(&meeting)))
                .insert_header(("If-Match", version_tag(&meeting))),
        )
        .await
        .expect(200);
    let amend = format!("/api/v1/meetings/{}/amendments", id(&meeting));
    // A draft is changed directly, not by amendment.
    let draft = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "Next", "starts_at": at(500), "location": "L"}),
        )
        .await
        .expect(201);
    post_with(
        &app,
        None,
        &format!("/api/v1/meetings/{}/amendments", id(&draft)),
        "*",
        json!({"reason": "r", "item": {"kind": "action", "title": "X"}}),
    )
    .await
    .expect(409);

    // Well before the notice deadline the amended agenda is still posted in time.
    let created = post_with(&app, None, &amend, &version_tag(&m),
        json!({"reason": "Forgot the minutes / Olvidamos el acta", "item": {"kind": "action", "title": "Approve minutes"}}))
        .await;
    let body = created.expect(201);
    assert_eq!(body["within_notice_window"], false);
    let item = app
        .get(created.header("location").as_deref().unwrap())
        .await
        .expect(200);
    assert!(!item["added_late"].as_bool().unwrap());
    assert_eq!(item["amendment_id"], body["id"]);
    assert_eq!(titles(&app, &meeting).await, ["Budget", "Approve minutes"]);
    // The amendment moved the meeting's ETag: the old one is stale now.
    post_with(
        &app,
        None,
        &amend,
        &version_tag(&m),
        json!({"reason": "again", "item": {"kind": "action", "title": "Y"}}),
    )
    .await
    .expect(412);
    let list = app.send(TestRequest::get().uri(&amend)).await.expect(200);
    assert_eq!(list["items"][0]["item_id"], item["id"]);
    assert_eq!(
        list["items"][0]["reason"],
        "Forgot the minutes / Olvidamos el acta"
    );

    // A dire emergency has no notice period: anything added after posting is added late.
    let dire = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "emergency", "title": "Flood", "starts_at": at(1), "location": "Gym",
                   "emergency_finding": "dire_emergency"}),
        )
        .await
        .expect(201);
    let dire = app
        .send_admin(
            TestRequest::post()
                .uri(&format!("/api/v1/meetings/{}/publish", id(&dire)))
                .insert_header(("If-Match", version_tag(&dire))),
        )
        .await
        .expect(200);
    let late = post_with(&app, None, &format!("/api/v1/meetings/{}/amendments", id(&dire)), &version_tag(&dire),
        json!({"reason": "Shelter", "item": {"kind": "action", "title": "Open the gym as a shelter"}}))
        .await;
    assert_eq!(late.expect(201)["within_notice_window"], true);
    let item = app
        .get(late.header("location").as_deref().unwrap())
        .await
        .expect(200);
    assert_eq!(item["added_late"], true);
}

/// Items added to one agenda at once through two app instances all land, each with its own
/// position: the meeting's row lock orders them and the unique index would refuse a duplicate.
#[actix_web::test]
async fn racing_additions_get_distinct_positions() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let (_, meeting) = setup(&app).await;
    let path = format!("/api/v1/meetings/{}/agenda-items", id(&meeting));
    let replies = futures_util::future::join_all((0..20).map(|n| {
        let req = TestRequest::post()
            .uri(&path)
            .set_json(json!({"kind": "discussion", "title": format!("Item {n}")}));
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
    for r in &replies {
        assert_eq!(
            r.status.as_u16(),
            201,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let agenda = app.get(&path).await.expect(200);
    let mut positions: Vec<String> = agenda["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["position"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(positions.len(), 20);
    positions.dedup();
    assert_eq!(positions.len(), 20, "every item has its own position");
}
