//! Minutes through HTTP: a Greene Act school site council's full cycle from proposals to
//! approved minutes; who may see drafts; approved minutes do not change; notice deadlines across
//! daylight-saving changes.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::common::{id, version_tag, Reply, TestApp};

fn at(hours_from_now: i64) -> String {
    (Utc::now() + Duration::hours(hours_from_now)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn post(app: &TestApp, path: &str, etag: Option<&str>, body: Value) -> Reply {
    let mut req = TestRequest::post().uri(path).set_json(body);
    if let Some(e) = etag {
        req = req.insert_header(("If-Match", e));
    }
    app.send_admin(req).await
}

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

/// Makes a main motion on the item, records the roll call and closes it.
async fn decide(
    app: &TestApp,
    meeting: &Value,
    item: &Value,
    seats: &[Value],
    choices: &[&str],
) -> Value {
    let m = post(
        app,
        &format!("/api/v1/meetings/{}/motions", id(meeting)),
        None,
        json!({"kind": "main", "agenda_item_id": id(item), "text": "Approve / Aprobar",
            "mover_seat_id": id(&seats[0]), "seconder_seat_id": id(&seats[1])}),
    )
    .await
    .expect(201);
    for (seat, choice) in seats.iter().zip(choices) {
        post(
            app,
            &format!("/api/v1/motions/{}/votes", id(&m)),
            None,
            json!({"seat_id": id(seat), "choice": choice}),
        )
        .await
        .expect(201);
    }
    post(
        app,
        &format!("/api/v1/motions/{}/close", id(&m)),
        Some(&version_tag(&m)),
        json!({}),
    )
    .await
    .expect(200)
}

async fn transition(app: &TestApp, meeting: &Value, action: &str) -> Value {
    post(
        app,
        &format!("/api/v1/meetings/{}/{action}", id(meeting)),
        Some("*"),
        json!({}),
    )
    .await
    .expect(200)
}

#[actix_web::test]
async fn full_cycle_of_a_greene_school_site_council() {
    let app = TestApp::new().await;
    let school = app
        .school(&format!("G{}", uuid::Uuid::now_v7().simple()))
        .await;
    let council = app
        .council(json!({"school_id": id(&school), "kind": "school_site_council", "name": "School Site Council / Consejo Escolar"}))
        .await;
    assert_eq!(council["regime"], "greene");
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&id(&council)));
    let mut seats = Vec::new();
    let mut tokens = Vec::new();
    for (n, c) in [
        "administrators",
        "teachers",
        "teachers",
        "classified_staff",
        "families",
        "families",
        "families",
        "families",
    ]
    .into_iter()
    .enumerate()
    {
        let seat = app.seat(&id(&council), c).await;
        let (person, token) = app.user(&format!("Member {n}"), "none", None);
        seats.push(
            app.put(
                &format!("/api/v1/seats/{}/holder", id(&seat)),
                &version_tag(&seat),
                json!({"person_id": person}),
            )
            .await
            .expect(200),
        );
        tokens.push(token);
    }
    let as_staff = |req: TestRequest| app.send_as(&staff, req);

    // A meeting 71 hours out cannot be noticed: the Greene Act wants 72 hours.
    let m = as_staff(
        TestRequest::post()
            .uri(&format!("/api/v1/councils/{}/meetings", id(&council)))
            .set_json(
                json!({"type": "regular", "title": "SSC meeting / Reunión del consejo",
                "starts_at": at(71), "location": "Room 4"}),
            ),
    )
    .await
    .expect(201);
    // Seat holders of three constituencies propose items; staff accept them.
    let propose = format!("/api/v1/councils/{}/agenda-items", id(&council));
    let mut items = Vec::new();
    for (n, title) in [(1, "Reading plan"), (3, "Yard duty"), (4, "Family night")] {
        let p = app
            .send_as(
                &tokens[n],
                TestRequest::post().uri(&propose).set_json(
                    json!({"kind": "action", "title": title, "proposed_by_seat_id": id(&seats[n])}),
                ),
            )
            .await
            .expect(201);
        let accepted = as_staff(
            TestRequest::post()
                .uri(&format!("/api/v1/agenda-items/{}/accept", id(&p)))
                .insert_header(("If-Match", version_tag(&p)))
                .set_json(json!({"meeting_id": id(&m)})),
        )
        .await
        .expect(200);
        items.push(accepted);
    }
    let path = format!("/api/v1/meetings/{}", id(&m));
    let p = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/publish"))
            .insert_header(("If-Match", "*")),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "notice-too-late");
    // Moved to start just over 72 hours out, it is noticed on time.
    let starts = Utc::now() + Duration::hours(72) + Duration::seconds(3);
    let m = as_staff(
        TestRequest::patch()
            .uri(&path)
            .insert_header(("If-Match", version_tag(&m)))
            .set_json(json!({"starts_at": starts.to_rfc3339_opts(SecondsFormat::Secs, true)})),
    )
    .await
    .expect(200);
    let m = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/publish"))
            .insert_header(("If-Match", version_tag(&m))),
    )
    .await
    .expect(200);
    assert_eq!(m["status"], "noticed");
    let wait = (starts - Duration::hours(72) - Utc::now()).num_milliseconds() + 50;
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
    }
    // Amended after the deadline: the added item was not in the posted notice.
    as_staff(
        TestRequest::post()
            .uri(&format!("{path}/amendments"))
            .insert_header(("If-Match", version_tag(&m)))
            .set_json(
                json!({"reason": "Bus company strike announced / Huelga de autobuses",
                "item": {"kind": "action", "title": "Bus strike plan"}}),
            ),
    )
    .await
    .expect(201);
    let agenda = app.get(&format!("{path}/agenda-items")).await.expect(200);
    let late = agenda["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Bus strike plan")
        .unwrap()
        .clone();
    assert_eq!(late["added_late"], true);

    let m = transition(&app, &m, "open").await;
    for (n, seat) in seats.iter().enumerate() {
        let status = if n < 6 { "present" } else { "absent" };
        post(
            &app,
            &format!("{path}/attendance"),
            None,
            json!({"seat_id": id(seat), "status": status}),
        )
        .await
        .expect(200);
    }
    let q = app.get(&format!("{path}/quorum")).await.expect(200);
    assert_eq!(q["met"], true, "{q}");
    // A family writes in without signing in; the minutes count it.
    app.send(
        TestRequest::post()
            .uri(&format!("/api/v1/agenda-items/{}/comments", id(&items[0])))
            .set_json(json!({"body": "Más tutoría, por favor / More tutoring, please"})),
    )
    .await
    .expect(201);
    hear(&app, &items[0]).await;
    let present = &seats[..6];
    let closed = decide(
        &app,
        &m,
        &items[0],
        present,
        &["yes", "yes", "yes", "no", "yes", "abstain"],
    )
    .await;
    assert_eq!(closed["status"], "passed");
    assert_eq!(
        closed["votes"].as_array().unwrap().len(),
        8,
        "absent members recorded"
    );

    // The late item: refused without a finding, allowed after a unanimous one.
    hear(&app, &late).await;
    let motion = json!({"kind": "main", "agenda_item_id": id(&late), "text": "Adopt the plan",
        "mover_seat_id": id(&seats[0])});
    let p = post(&app, &format!("{path}/motions"), None, motion.clone())
        .await
        .expect(409);
    assert_eq!(p["code"], "late-item-needs-finding");
    let finding = |choices: Vec<&str>| {
        json!({"kind": "need_arose_after_posting", "facts": "The strike was announced after posting / La huelga se anunció después",
            "votes": present.iter().zip(choices).map(|(s, c)| json!({"seat_id": id(s), "choice": c})).collect::<Vec<_>>()})
    };
    let f = post(
        &app,
        &format!("/api/v1/agenda-items/{}/findings", id(&late)),
        None,
        finding(vec!["yes", "yes", "yes", "yes", "yes", "no"]),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], false);
    post(&app, &format!("{path}/motions"), None, motion)
        .await
        .expect(409);
    let f = post(
        &app,
        &format!("/api/v1/agenda-items/{}/findings", id(&late)),
        None,
        finding(vec!["yes"; 6]),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], true);
    let closed_late = decide(&app, &m, &late, present, &["yes"; 6]).await;
    assert_eq!(closed_late["status"], "passed");
    let m = transition(&app, &m, "adjourn").await;
    assert_eq!(m["status"], "adjourned");

    // Minutes drafted from the record: the staff's until approved.
    let draft = as_staff(TestRequest::post().uri(&format!("{path}/minutes")))
        .await
        .expect(201);
    assert_eq!(draft["status"], "draft");
    let record = &draft["record"];
    assert_eq!(record["attendance"].as_array().unwrap().len(), 8);
    assert_eq!(record["attendance"][0]["name"], "Member 0");
    let rec_items = record["items"].as_array().unwrap();
    assert_eq!(rec_items.len(), 4, "items in order, the late one included");
    let reading = rec_items
        .iter()
        .find(|i| i["title"] == "Reading plan")
        .unwrap();
    assert_eq!(reading["motions"][0]["result"], "passed");
    let votes = reading["motions"][0]["votes"].as_array().unwrap();
    assert_eq!(votes.len(), 8);
    assert!(votes
        .iter()
        .any(|v| v["name"] == "Member 3" && v["vote"] == "no"));
    assert!(votes
        .iter()
        .any(|v| v["name"] == "Member 7" && v["vote"] == "absent"));
    assert!(reading["public_comment"]["closed_at"].is_string());
    assert_eq!(reading["public_comment"]["written"], 1);
    assert_eq!(reading["public_comment"]["speakers"], 0);
    let strike = rec_items
        .iter()
        .find(|i| i["title"] == "Bus strike plan")
        .unwrap();
    assert_eq!(strike["added_late"], true);
    assert_eq!(strike["findings"].as_array().unwrap().len(), 2);
    assert_eq!(strike["findings"][1]["passed"], true);
    assert_eq!(record["amendments"].as_array().unwrap().len(), 1);
    let minutes_path = format!("/api/v1/minutes/{}", id(&draft));
    app.send(TestRequest::get().uri(&minutes_path))
        .await
        .expect(404);
    app.send_as(
        &tokens[0],
        TestRequest::get().uri(&format!("{path}/minutes")),
    )
    .await
    .expect(404);
    as_staff(TestRequest::post().uri(&format!("{path}/minutes")))
        .await
        .expect(409);
    let draft = as_staff(
        TestRequest::patch()
            .uri(&minutes_path)
            .insert_header(("If-Match", version_tag(&draft)))
            .set_json(json!({"summary": "The council adopted the reading plan / El consejo adoptó el plan de lectura"})),
    )
    .await
    .expect(200);

    // Approved at the next meeting by a motion on an item that names the minutes.
    let next = as_staff(
        TestRequest::post()
            .uri(&format!("/api/v1/councils/{}/meetings", id(&council)))
            .set_json(json!({"type": "regular", "title": "Next SSC meeting", "starts_at": at(100), "location": "Room 4"})),
    )
    .await
    .expect(201);
    let approval = as_staff(
        TestRequest::post()
            .uri(&format!("/api/v1/meetings/{}/agenda-items", id(&next)))
            .set_json(json!({"kind": "action", "title": "Approve the minutes / Aprobar el acta"})),
    )
    .await
    .expect(201);
    // The approval item must belong to a later meeting of the council.
    let p = as_staff(
        TestRequest::patch()
            .uri(&minutes_path)
            .insert_header(("If-Match", version_tag(&draft)))
            .set_json(json!({"approval_item_id": id(&items[1])})),
    )
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "approval_item_id");
    let draft = as_staff(
        TestRequest::patch()
            .uri(&minutes_path)
            .insert_header(("If-Match", version_tag(&draft)))
            .set_json(json!({"approval_item_id": id(&approval)})),
    )
    .await
    .expect(200);
    assert_eq!(draft["approval_item_id"], id(&approval));
    transition(&app, &next, "publish").await;
    let next = transition(&app, &next, "open").await;
    for seat in &seats[..5] {
        post(
            &app,
            &format!("/api/v1/meetings/{}/attendance", id(&next)),
            None,
            json!({"seat_id": id(seat), "status": "present"}),
        )
        .await
        .expect(200);
    }
    hear(&app, &approval).await;
    let approving = decide(&app, &next, &approval, &seats[..5], &["yes"; 5]).await;
    let approved = app.get(&minutes_path).await.expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_by_motion_id"], id(&approving));
    // Public once approved.
    let public = app
        .send(TestRequest::get().uri(&format!("{path}/minutes")))
        .await
        .expect(200);
    assert_eq!(public["summary"], draft["summary"]);
    // Approved minutes do not change; a correction is recorded beside them.
    let p = as_staff(
        TestRequest::patch()
            .uri(&minutes_path)
            .insert_header(("If-Match", version_tag(&approved)))
            .set_json(json!({"summary": "Rewritten"})),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "minutes-approved");
    let c = as_staff(
        TestRequest::post()
            .uri(&format!("{minutes_path}/corrections"))
            .set_json(json!({"reason": "Misspelled name / Nombre mal escrito", "correction": "Item 1: seconded by Member 1"})),
    )
    .await
    .expect(201);
    assert!(c["recorded_by"].as_str().unwrap().starts_with("person:"));
    let seen = app
        .send(TestRequest::get().uri(&minutes_path))
        .await
        .expect(200);
    assert_eq!(seen["corrections"].as_array().unwrap().len(), 1);
    assert_eq!(
        seen["summary"], draft["summary"],
        "the approved text is unchanged"
    );
}

/// Minutes wait for the meeting to end; corrections wait for approval; only staff write them.
#[actix_web::test]
async fn minutes_refusals_and_access() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "community_school_steering_committee", "name": "Steering"}))
        .await;
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&id(&council)));
    let other = app
        .council(json!({"kind": "community_school_steering_committee", "name": "Other"}))
        .await;
    let (_, other_staff) = app.user("Olga Other", "council_staff", Some(&id(&other)));
    let (_, family) = app.user("Fay Family", "family", None);
    let m = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "M", "starts_at": at(100), "location": "L", "time_zone": "America/Los_Angeles"}),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/meetings/{}", id(&m));
    let m = transition(&app, &m, "publish").await;
    let p = post(&app, &format!("{path}/minutes"), None, json!({}))
        .await
        .expect(409);
    assert_eq!(p["code"], "meeting-not-adjourned");
    transition(&app, &m, "open").await;
    transition(&app, &m, "adjourn").await;
    app.get(&format!("{path}/minutes")).await.expect(404);
    for (token, status) in [
        (None, 401),
        (Some(&family), 403),
        (Some(&other_staff), 403),
        (Some(&staff), 201),
    ] {
        let req = TestRequest::post().uri(&format!("{path}/minutes"));
        let reply = match token {
            Some(t) => app.send_as(t, req).await,
            None => app.send(req).await,
        };
        reply.expect(status);
    }
    let minutes = app.get(&format!("{path}/minutes")).await.expect(200);
    let p = post(
        &app,
        &format!("/api/v1/minutes/{}/corrections", id(&minutes)),
        None,
        json!({"reason": "r", "correction": "c"}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "minutes-not-approved");
    for token in [&family, &other_staff] {
        app.send_as(
            token,
            TestRequest::get().uri(&format!("/api/v1/minutes/{}", id(&minutes))),
        )
        .await
        .expect(404);
    }
    let p = app
        .patch(
            &format!("/api/v1/minutes/{}", id(&minutes)),
            &version_tag(&minutes),
            json!({"summary": "x".repeat(4001)}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "summary");
    app.send(
        TestRequest::patch()
            .uri(&format!("/api/v1/minutes/{}", id(&minutes)))
            .set_json(json!({"summary": "No If-Match"})),
    )
    .await
    .expect(401);
    app.send_admin(
        TestRequest::patch()
            .uri(&format!("/api/v1/minutes/{}", id(&minutes)))
            .set_json(json!({"summary": "No If-Match"})),
    )
    .await
    .expect(428);
}

/// Notice deadlines through HTTP across daylight-saving changes, in two time zones: 72 clock
/// hours before a Tuesday 18:00 start after the spring-forward Sunday is Saturday 17:00 local;
/// after the fall-back Sunday it is Saturday 19:00 local.
#[actix_web::test]
async fn notice_deadlines_across_daylight_saving_changes() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "community_school_steering_committee", "name": "Steering"}))
        .await;
    // (zone, start in UTC, deadline in UTC)
    let cases = [
        // 2027-03-16 18:00 PDT (UTC-7) → 2027-03-13 17:00 PST (UTC-8).
        (
            "America/Los_Angeles",
            "2027-03-17T01:00:00Z",
            "2027-03-14T01:00:00Z",
        ),
        // 2027-03-16 18:00 EDT (UTC-4) → 2027-03-13 17:00 EST (UTC-5).
        (
            "America/New_York",
            "2027-03-16T22:00:00Z",
            "2027-03-13T22:00:00Z",
        ),
        // 2027-11-09 18:00 PST (UTC-8) → 2027-11-06 19:00 PDT (UTC-7).
        (
            "America/Los_Angeles",
            "2027-11-10T02:00:00Z",
            "2027-11-07T02:00:00Z",
        ),
        // 2027-11-09 18:00 EST (UTC-5) → 2027-11-06 19:00 EDT (UTC-4).
        (
            "America/New_York",
            "2027-11-09T23:00:00Z",
            "2027-11-06T23:00:00Z",
        ),
    ];
    for (zone, starts, deadline) in cases {
        let m = app
            .post(
                &format!("/api/v1/councils/{}/meetings", id(&council)),
                json!({"type": "regular", "title": "M", "starts_at": starts, "time_zone": zone, "location": "L"}),
            )
            .await
            .expect(201);
        assert_eq!(m["notice_deadline"], deadline, "{zone} {starts}");
        // Published well before the deadline: accepted.
        transition(&app, &m, "publish").await;
    }
}

/// Ten drafts of one meeting's minutes sent at once through two app instances: the unique index
/// keeps one set, the others are 409 `minutes-exist`.
#[actix_web::test]
async fn one_set_of_minutes_per_meeting_across_instances() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let council = app
        .council(json!({"kind": "community_school_steering_committee", "name": "Steering"}))
        .await;
    let m = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "M", "starts_at": at(100), "location": "L", "time_zone": "America/New_York"}),
        )
        .await
        .expect(201);
    for action in ["publish", "open", "adjourn"] {
        transition(&app, &m, action).await;
    }
    let path = format!("/api/v1/meetings/{}/minutes", id(&m));
    let replies = futures_util::future::join_all((0..10).map(|n| {
        let req = TestRequest::post().uri(&path);
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
    assert_eq!(codes.iter().filter(|&&c| c == 409).count(), 9, "{codes:?}");
}
