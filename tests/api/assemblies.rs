//! Assemblies: participants instead of seats, check-in, quorum by count, one vote per present
//! participant (also across app instances), at the scale of a large assembly.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::common::{id, version_tag, TestApp};

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

async fn step(app: &TestApp, meeting: &Value, action: &str) {
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
    .expect(200);
}

/// An assembly with a published meeting holding one action item.
async fn assembly(app: &TestApp, quorum: i64) -> (Value, Value, Value) {
    let council = app
        .council(json!({"kind": "assembly", "name": "Family Assembly", "assembly_quorum": quorum}))
        .await;
    assert_eq!(council["assembly_quorum"], quorum);
    let meeting = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "Assembly", "starts_at": at(240),
                   "location": "Gym", "time_zone": "America/Los_Angeles"}),
        )
        .await
        .expect(201);
    let item = app
        .post(
            &format!("/api/v1/meetings/{}/agenda-items", id(&meeting)),
            json!({"kind": "action", "title": "Saturday library"}),
        )
        .await
        .expect(201);
    step(app, &meeting, "publish").await;
    (council, meeting, item)
}

async fn register(app: &TestApp, meeting: &Value, name: &str, constituency: &str) -> Value {
    app.post(
        &format!("/api/v1/meetings/{}/participants", id(meeting)),
        json!({"name": name, "constituency": constituency}),
    )
    .await
    .expect(201)
}

async fn check_in(app: &TestApp, meeting: &Value, ids: &[String], present: bool) -> Value {
    app.post(
        &format!("/api/v1/meetings/{}/check-ins", id(meeting)),
        json!({"participant_ids": ids, "present": present}),
    )
    .await
    .expect(200)
}

async fn hear(app: &TestApp, item: &Value) {
    for s in ["open", "close"] {
        post(
            app,
            &format!("/api/v1/agenda-items/{}/comment/{s}", id(item)),
            Some("*"),
            json!({}),
        )
        .await
        .expect(200);
    }
}

async fn quorum(app: &TestApp, meeting: &Value) -> Value {
    app.send(TestRequest::get().uri(&format!("/api/v1/meetings/{}/assembly-quorum", id(meeting))))
        .await
        .expect(200)
}

#[actix_web::test]
async fn an_assembly_meets_and_votes_by_present_participants() {
    let app = TestApp::new().await;
    let (council, meeting, item) = assembly(&app, 3).await;
    let mut people = Vec::new();
    for (name, constituency) in [
        ("Lupe", "families"),
        ("Ana", "families"),
        ("Theo", "students"),
        ("Sia", "students"),
        ("Tom", "teachers"),
        ("Kim", "teachers"),
    ] {
        let p = register(&app, &meeting, name, constituency).await;
        assert_eq!(p["present"], false);
        people.push(id(&p));
    }
    assert_eq!(
        quorum(&app, &meeting).await,
        json!({"present": 0, "required": 3, "met": false})
    );
    step(&app, &meeting, "open").await;
    check_in(&app, &meeting, &people[..2], true).await;
    hear(&app, &item).await;
    let motion_body = |mover: &str| json!({"agenda_item_id": id(&item), "text": "Open the library on Saturdays", "mover_participant_id": mover});
    let motions = format!("/api/v1/meetings/{}/assembly-motions", id(&meeting));
    let p = app
        .post(&motions, motion_body(&people[0]))
        .await
        .expect(409);
    assert_eq!(p["code"], "no-quorum");
    let listed = check_in(&app, &meeting, &people[2..5], true).await;
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["present"] == true));
    check_in(&app, &meeting, &people[4..5], false).await;
    assert_eq!(
        quorum(&app, &meeting).await,
        json!({"present": 4, "required": 3, "met": true})
    );
    // A participant who is not present neither moves nor votes.
    let p = app
        .post(&motions, motion_body(&people[5]))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "mover_participant_id");
    let motion = app
        .post(&motions, motion_body(&people[0]))
        .await
        .expect(201);
    let votes = format!("/api/v1/assembly-motions/{}/votes", id(&motion));
    let p = app
        .post(
            &votes,
            json!({"votes": [{"participant_id": people[4], "choice": "yes"}]}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "votes");
    let cast = app
        .post(
            &votes,
            json!({"votes": [
                {"participant_id": people[0], "choice": "yes"},
                {"participant_id": people[1], "choice": "yes"},
                {"participant_id": people[2], "choice": "no"}]}),
        )
        .await
        .expect(201);
    assert_eq!(cast["recorded"], 3);
    let again = app
        .post(
            &votes,
            json!({"votes": [{"participant_id": people[2], "choice": "yes"}]}),
        )
        .await
        .expect(409);
    assert_eq!(again["code"], "already-voted");
    let closed = post(
        &app,
        &format!("/api/v1/assembly-motions/{}/close", id(&motion)),
        Some(&version_tag(&motion)),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(closed["status"], "passed");
    assert_eq!(
        (closed["yes"].clone(), closed["no"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(closed["present_at_close"], 4);
    // The count is public; staff-only lists are not.
    let public = app
        .send(TestRequest::get().uri(&format!("/api/v1/assembly-motions/{}", id(&motion))))
        .await
        .expect(200);
    assert_eq!(public["status"], "passed");
    app.send(TestRequest::get().uri(&format!("/api/v1/meetings/{}/participants", id(&meeting))))
        .await
        .expect(401);
    step(&app, &meeting, "adjourn").await;
    // Assembly items are entered by staff: one item, on the agenda, voted on.
    let sources = app
        .send(TestRequest::get().uri(&format!("/api/v1/councils/{}/agenda-sources", id(&council))))
        .await
        .expect(200);
    assert_eq!(
        sources["sources"],
        json!([{"constituency": null, "proposed": 1, "accepted": 1, "voted_on": 1}])
    );
    let p = app
        .post(
            &format!("/api/v1/meetings/{}/participants", id(&meeting)),
            json!({"name": "Late", "constituency": "families"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "meeting-ended");

    // Minutes drafted from the record: who took part, and how each participant voted.
    let draft = app
        .send_admin(TestRequest::post().uri(&format!("/api/v1/meetings/{}/minutes", id(&meeting))))
        .await
        .expect(201);
    let record = &draft["record"];
    assert_eq!(record["participants"].as_array().unwrap().len(), 6);
    let decided = &record["items"][0]["assembly_motions"][0];
    assert_eq!(decided["result"], "passed");
    assert_eq!(decided["counts"], json!({"yes": 2, "no": 1, "abstain": 0}));
    assert_eq!(
        decided["votes"][2],
        json!({"participant_id": people[2], "name": "Theo", "constituency": "students", "vote": "no"})
    );
    // Approved by a motion at the next assembly.
    let next = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "Next assembly", "starts_at": at(480), "location": "Gym", "time_zone": "America/Los_Angeles"}),
        )
        .await
        .expect(201);
    let approval = app
        .post(
            &format!("/api/v1/meetings/{}/agenda-items", id(&next)),
            json!({"kind": "action", "title": "Approve the minutes / Aprobar el acta"}),
        )
        .await
        .expect(201);
    step(&app, &next, "publish").await;
    let minutes_path = format!("/api/v1/minutes/{}", id(&draft));
    app.patch(
        &minutes_path,
        &version_tag(&draft),
        json!({"approval_item_id": id(&approval)}),
    )
    .await
    .expect(200);
    step(&app, &next, "open").await;
    let mut voters = Vec::new();
    for (name, constituency) in [
        ("Lupe", "families"),
        ("Theo", "students"),
        ("Tom", "teachers"),
    ] {
        voters.push(id(&register(&app, &next, name, constituency).await));
    }
    check_in(&app, &next, &voters, true).await;
    hear(&app, &approval).await;
    let motion = app
        .post(
            &format!("/api/v1/meetings/{}/assembly-motions", id(&next)),
            json!({"agenda_item_id": id(&approval), "text": "Approve the minutes", "mover_participant_id": voters[0]}),
        )
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/assembly-motions/{}/votes", id(&motion)),
        json!({"votes": voters.iter().map(|v| json!({"participant_id": v, "choice": "yes"})).collect::<Vec<_>>()}),
    )
    .await
    .expect(201);
    post(
        &app,
        &format!("/api/v1/assembly-motions/{}/close", id(&motion)),
        Some(&version_tag(&motion)),
        json!({}),
    )
    .await
    .expect(200);
    let approved = app
        .send(TestRequest::get().uri(&minutes_path))
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved", "public once approved");
    assert_eq!(approved["approved_by_motion_id"], id(&motion));
    let p = app
        .patch(
            &minutes_path,
            &version_tag(&approved),
            json!({"notes": "changed"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "minutes-approved");
}

#[actix_web::test]
async fn participants_are_for_assemblies_only() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "school_site_council", "name": "SSC"}))
        .await;
    let meeting = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "SSC", "starts_at": at(240),
                   "location": "Library", "time_zone": "America/Los_Angeles"}),
        )
        .await
        .expect(201);
    let p = app
        .post(
            &format!("/api/v1/meetings/{}/participants", id(&meeting)),
            json!({"name": "X", "constituency": "families"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "not-an-assembly");
}

#[actix_web::test]
async fn one_person_registers_once_and_votes_once_across_app_instances() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let (_, meeting, item) = assembly(&app, 1).await;
    let person = app.person("Rosa Díaz").await;
    let body = json!({"name": "Rosa", "constituency": "families", "person_id": id(&person)});
    let path = format!("/api/v1/meetings/{}/participants", id(&meeting));
    let (a, b) = futures_util::future::join(
        app.send_admin(TestRequest::post().uri(&path).set_json(body.clone())),
        other.send_admin(TestRequest::post().uri(&path).set_json(body.clone())),
    )
    .await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let rosa = if a.status == 201 { a.json() } else { b.json() };

    step(&app, &meeting, "open").await;
    check_in(&app, &meeting, &[id(&rosa)], true).await;
    hear(&app, &item).await;
    let motion = app
        .post(
            &format!("/api/v1/meetings/{}/assembly-motions", id(&meeting)),
            json!({"agenda_item_id": id(&item), "text": "Yes", "mover_participant_id": id(&rosa)}),
        )
        .await
        .expect(201);
    let votes = format!("/api/v1/assembly-motions/{}/votes", id(&motion));
    let ballot = |choice: &str| json!({"votes": [{"participant_id": id(&rosa), "choice": choice}]});
    let (a, b) = futures_util::future::join(
        app.send_admin(TestRequest::post().uri(&votes).set_json(ballot("yes"))),
        other.send_admin(TestRequest::post().uri(&votes).set_json(ballot("no"))),
    )
    .await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let counted = app
        .get(&format!("/api/v1/assembly-motions/{}", id(&motion)))
        .await
        .expect(200);
    assert_eq!(
        counted["yes"].as_u64().unwrap() + counted["no"].as_u64().unwrap(),
        1
    );
}

#[actix_web::test]
async fn a_thousand_participant_assembly_vote_is_exact() {
    let started = std::time::Instant::now();
    let app = TestApp::new().await;
    let (_, meeting, item) = assembly(&app, 500).await;
    let constituencies = ["families", "students", "community_organizations"];
    let path = format!("/api/v1/meetings/{}/participants", id(&meeting));
    let mut ids = Vec::with_capacity(1000);
    for chunk in (0..1000).collect::<Vec<_>>().chunks(100) {
        let replies = join_all(chunk.iter().map(|n| {
            app.post(
                &path,
                json!({"name": format!("Participant {n}"), "constituency": constituencies[n % 3]}),
            )
        }))
        .await;
        ids.extend(replies.iter().map(|r| id(&r.expect(201))));
    }
    step(&app, &meeting, "open").await;
    let listed = check_in(&app, &meeting, &ids, true).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1000);
    assert_eq!(quorum(&app, &meeting).await["present"], 1000);
    hear(&app, &item).await;
    let motion = app
        .post(
            &format!("/api/v1/meetings/{}/assembly-motions", id(&meeting)),
            json!({"agenda_item_id": id(&item), "text": "Adopt the plan", "mover_participant_id": ids[0],
                   "threshold": "two_thirds"}),
        )
        .await
        .expect(201);
    // 667 yes, 323 no, 10 abstain: two thirds of the votes cast (990) is 660.
    let votes: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let choice = match n {
                0..=666 => "yes",
                667..=989 => "no",
                _ => "abstain",
            };
            json!({"participant_id": p, "choice": choice})
        })
        .collect();
    let cast = app
        .post(
            &format!("/api/v1/assembly-motions/{}/votes", id(&motion)),
            json!({"votes": votes}),
        )
        .await
        .expect(201);
    assert_eq!(cast["recorded"], 1000);
    let closed = post(
        &app,
        &format!("/api/v1/assembly-motions/{}/close", id(&motion)),
        Some(&version_tag(&motion)),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(closed["yes"], 667);
    assert_eq!(closed["no"], 323);
    assert_eq!(closed["abstain"], 10);
    assert_eq!(closed["present_at_close"], 1000);
    assert_eq!(closed["status"], "passed");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}
