//! Findings on late items (rule 5), an emergency meeting's determination vote (rule 4) and the
//! yearly cap on "just cause" remote attendance (rule 10), through HTTP.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use futures_util::future::join_all;
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

struct Body {
    council: Value,
    seats: Vec<Value>,
}

/// A council of `n` members under `regime`.
async fn body(app: &TestApp, regime: &str, n: usize) -> Body {
    let school = app
        .school(&format!("F{}", uuid::Uuid::now_v7().simple()))
        .await;
    let council = app
        .council(
            json!({"school_id": id(&school), "kind": "community_school_steering_committee",
            "name": "Steering", "regime": regime}),
        )
        .await;
    let mut seats = Vec::new();
    for k in 0..n {
        let seat = app.seat(&id(&council), "families").await;
        let person = app.person(&format!("Member {k}")).await;
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
    Body { council, seats }
}

/// A published meeting of the council with one action item; `open` opens it too.
async fn meeting(
    app: &TestApp,
    b: &Body,
    kind: &str,
    starts_in: i64,
    open: bool,
) -> (Value, Value) {
    let mut req = json!({"type": kind, "title": "Meeting", "starts_at": at(starts_in), "location": "Library"});
    if kind == "emergency" {
        req["emergency_finding"] = json!("dire_emergency");
    }
    let m = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&b.council)),
            req,
        )
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
    let mut m = post(app, &format!("{path}/publish"), Some("*"), json!({}))
        .await
        .expect(200);
    if open {
        m = post(app, &format!("{path}/open"), Some("*"), json!({}))
            .await
            .expect(200);
    }
    (m, item)
}

async fn attend(app: &TestApp, meeting: &Value, seat: &Value, body: Value) -> Reply {
    let mut req = body;
    req["seat_id"] = json!(id(seat));
    post(
        app,
        &format!("/api/v1/meetings/{}/attendance", id(meeting)),
        None,
        req,
    )
    .await
}

async fn present(app: &TestApp, meeting: &Value, seats: &[Value]) {
    for s in seats {
        attend(app, meeting, s, json!({"status": "present"}))
            .await
            .expect(200);
    }
}

/// Adds an action item after the notice deadline (by amendment) with its comment heard.
async fn late_item(app: &TestApp, meeting: &Value, title: &str) -> Value {
    let m = app
        .get(&format!("/api/v1/meetings/{}", id(meeting)))
        .await
        .expect(200);
    let added = post(
        app,
        &format!("/api/v1/meetings/{}/amendments", id(&m)),
        Some(&version_tag(&m)),
        json!({"reason": "Arose after posting", "item": {"kind": "action", "title": title}}),
    )
    .await
    .expect(201);
    let _ = added;
    let items = app
        .get(&format!("/api/v1/meetings/{}/agenda-items", id(meeting)))
        .await
        .expect(200);
    let item = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == title)
        .unwrap()
        .clone();
    assert_eq!(item["added_late"], true);
    hear(app, &item).await;
    item
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

fn votes(seats: &[Value], choices: &[&str]) -> Value {
    json!(seats
        .iter()
        .zip(choices)
        .map(|(s, c)| json!({"seat_id": id(s), "choice": c}))
        .collect::<Vec<_>>())
}

async fn find(app: &TestApp, item: &Value, body: Value) -> Reply {
    post(
        app,
        &format!("/api/v1/agenda-items/{}/findings", id(item)),
        None,
        body,
    )
    .await
}

async fn motion(app: &TestApp, meeting: &Value, item: &Value, mover: &Value) -> Reply {
    post(
        app,
        &format!("/api/v1/meetings/{}/motions", id(meeting)),
        None,
        json!({"kind": "main", "agenda_item_id": id(item), "text": "Act on it", "mover_seat_id": id(mover)}),
    )
    .await
}

/// Brown Act, 5 seats: with 3 present (fewer than ⌈2/3 × 5⌉ = 4) the "arose after posting"
/// finding needs all three; with 4 present it needs ⌈2/3 × 4⌉ = 3. A failed finding is kept and
/// unlocks nothing; a passing one lets the motion be made.
#[actix_web::test]
async fn brown_need_arose_after_posting_thresholds() {
    let app = TestApp::new().await;
    let b = body(&app, "brown", 5).await;
    let (m, _) = meeting(&app, &b, "emergency", 1, true).await;
    present(&app, &m, &b.seats[..3]).await;
    post(
        &app,
        &format!("/api/v1/meetings/{}/emergency-vote", id(&m)),
        None,
        json!({"facts": "Flooded gym", "votes": votes(&b.seats, &["yes", "yes", "yes"])}),
    )
    .await
    .expect(201);
    let item = late_item(&app, &m, "Bus contract").await;
    let p = motion(&app, &m, &item, &b.seats[0]).await.expect(409);
    assert_eq!(p["code"], "late-item-needs-finding");

    let failed = find(
        &app,
        &item,
        json!({"kind": "need_arose_after_posting", "facts": "Contract lapses Friday",
        "votes": votes(&b.seats, &["yes", "yes", "no"])}),
    )
    .await
    .expect(201);
    assert_eq!(failed["passed"], false, "{failed}");
    assert_eq!(
        (failed["yes"].as_u64(), failed["no"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(failed["members_present"], 3);
    assert_eq!(failed["membership"], 5);
    let p = motion(&app, &m, &item, &b.seats[0]).await.expect(409);
    assert_eq!(
        p["code"], "late-item-needs-finding",
        "a failed finding unlocks nothing"
    );

    // A fourth member arrives: now two-thirds of four present (3) suffice, with one against.
    present(&app, &m, &b.seats[3..4]).await;
    let passed = find(
        &app,
        &item,
        json!({"kind": "need_arose_after_posting", "facts": "Contract lapses Friday",
        "votes": votes(&b.seats, &["yes", "yes", "yes", "no"])}),
    )
    .await
    .expect(201);
    assert_eq!(passed["passed"], true, "{passed}");
    assert_eq!(passed["votes"].as_array().unwrap().len(), 4);
    motion(&app, &m, &item, &b.seats[0]).await.expect(201);

    // Both findings are public record, oldest first.
    let listed = app
        .get(&format!("/api/v1/agenda-items/{}/findings", id(&item)))
        .await
        .expect(200);
    let passed: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["passed"])
        .collect();
    assert_eq!(passed, [&json!(false), &json!(true)]);
    let all = app
        .get(&format!("/api/v1/meetings/{}/findings", id(&m)))
        .await
        .expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert_eq!(all["items"][0]["kind"], "emergency_meeting");
}

/// A silent member present is recorded as abstaining, so a majority-of-the-body emergency
/// finding counts seats, not votes cast.
#[actix_web::test]
async fn emergency_finding_needs_a_majority_of_the_body() {
    let app = TestApp::new().await;
    let b = body(&app, "brown", 5).await;
    let (m, _) = meeting(&app, &b, "emergency", 1, true).await;
    present(&app, &m, &b.seats[..4]).await;
    post(
        &app,
        &format!("/api/v1/meetings/{}/emergency-vote", id(&m)),
        None,
        json!({"facts": "Flooded gym", "votes": votes(&b.seats, &["yes", "yes", "yes"])}),
    )
    .await
    .expect(201);
    let item = late_item(&app, &m, "Shelter").await;
    let f = find(
        &app,
        &item,
        json!({"kind": "emergency", "facts": "Storm damage",
        "votes": votes(&b.seats, &["yes", "yes"])}),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], false);
    assert_eq!(f["abstain"], 2, "present and silent: {f}");
    let f = find(
        &app,
        &item,
        json!({"kind": "emergency", "facts": "Storm damage",
        "votes": votes(&b.seats, &["yes", "yes", "yes", "no"])}),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], true);
    motion(&app, &m, &item, &b.seats[1]).await.expect(201);
}

/// An item added while the notice still runs was on time: it needs no finding.
#[actix_web::test]
async fn an_item_added_within_the_notice_needs_no_finding() {
    let app = TestApp::new().await;
    let b = body(&app, "greene", 5).await;
    let (m, _) = meeting(&app, &b, "regular", 100, true).await;
    present(&app, &m, &b.seats[..4]).await;
    let m_now = app
        .get(&format!("/api/v1/meetings/{}", id(&m)))
        .await
        .expect(200);
    // The deadline is 28 hours away: the item is in the notice.
    let added = post(
        &app,
        &format!("/api/v1/meetings/{}/amendments", id(&m_now)),
        Some(&version_tag(&m_now)),
        json!({"reason": "In time", "item": {"kind": "action", "title": "In time"}}),
    )
    .await
    .expect(201);
    let _ = added;
    let items = app
        .get(&format!("/api/v1/meetings/{}/agenda-items", id(&m)))
        .await
        .expect(200);
    let in_time = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "In time")
        .unwrap()
        .clone();
    assert_eq!(in_time["added_late"], false);
    let p = find(
        &app,
        &in_time,
        json!({"kind": "need_arose_after_posting", "facts": "x",
        "votes": votes(&b.seats, &["yes", "yes", "yes", "yes"])}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "finding-not-needed");
}

/// Greene Act: a late item at a Greene meeting (the emergency type still needs 72 h notice
/// under Greene, so the late item comes from a meeting published exactly at its deadline).
#[actix_web::test]
async fn greene_late_item_unanimity() {
    let app = TestApp::new().await;
    let b = body(&app, "greene", 5).await;
    let (m, _) = greene_meeting_past_deadline(&app, &b).await;
    present(&app, &m, &b.seats[..4]).await;
    let item = late_item(&app, &m, "Field trip").await;
    for kind in ["emergency", "continued_item"] {
        let mut req = json!({"kind": kind, "facts": "x", "votes": votes(&b.seats, &["yes"; 4])});
        if kind == "continued_item" {
            req["continued_from_item_id"] = json!(id(&item));
        }
        let p = find(&app, &item, req).await.expect(409);
        assert_eq!(p["code"], "finding-not-available", "{kind}");
    }
    let f = find(
        &app,
        &item,
        json!({"kind": "need_arose_after_posting", "facts": "Bus strike",
        "votes": votes(&b.seats, &["yes", "yes", "yes", "abstain"])}),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], false, "an abstention breaks unanimity");
    motion(&app, &m, &item, &b.seats[0]).await.expect(409);
    let f = find(
        &app,
        &item,
        json!({"kind": "need_arose_after_posting", "facts": "Bus strike",
        "votes": votes(&b.seats, &["yes"; 4])}),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], true);
    assert!(f["rule"].as_str().unwrap().contains("35147"));
    motion(&app, &m, &item, &b.seats[0]).await.expect(201);
}

/// A Greene meeting whose notice deadline has passed: published 72 h ahead, then moved to start
/// sooner is not allowed once noticed, so it is created to start just over 72 hours ahead and
/// its deadline passes while the test waits a moment.
async fn greene_meeting_past_deadline(app: &TestApp, b: &Body) -> (Value, Value) {
    let starts = Utc::now() + Duration::hours(72) + Duration::seconds(2);
    let m = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&b.council)),
            json!({"type": "regular", "title": "Meeting", "location": "Library",
                "starts_at": starts.to_rfc3339_opts(SecondsFormat::Secs, true)}),
        )
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
    post(app, &format!("{path}/publish"), Some("*"), json!({}))
        .await
        .expect(200);
    let wait = (starts - Duration::hours(72) - Utc::now()).num_milliseconds() + 50;
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
    }
    let m = post(app, &format!("{path}/open"), Some("*"), json!({}))
        .await
        .expect(200);
    (m, item)
}

/// Continuation (54954.2(b)(3)) is checked against the record: the earlier meeting of the same
/// council was held, carried the item on its posted agenda, and started no more than 5 calendar
/// days earlier.
#[actix_web::test]
async fn continued_item_is_checked_against_the_earlier_meeting() {
    let app = TestApp::new().await;
    let b = body(&app, "brown", 3).await;
    let (earlier, earlier_item) = meeting(&app, &b, "emergency", 1, true).await;
    post(
        &app,
        &format!("/api/v1/meetings/{}/adjourn", id(&earlier)),
        Some("*"),
        json!({}),
    )
    .await
    .expect(200);
    let emergency_vote = |m: Value| {
        let app = &app;
        let seats = b.seats.clone();
        async move {
            present(app, &m, &seats).await;
            post(
                app,
                &format!("/api/v1/meetings/{}/emergency-vote", id(&m)),
                None,
                json!({"facts": "Storm", "votes": votes(&seats, &["yes", "yes", "yes"])}),
            )
            .await
            .expect(201);
        }
    };
    // Two days later: continued.
    let (near, _) = meeting(&app, &b, "emergency", 49, true).await;
    emergency_vote(near.clone()).await;
    let item = late_item(&app, &near, "Continued budget").await;
    let f = find(
        &app,
        &item,
        json!({"kind": "continued_item", "facts": "Continued from the storm meeting",
        "continued_from_item_id": id(&earlier_item)}),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], true, "{f}");
    assert_eq!(f["continued_from_item_id"], id(&earlier_item));
    motion(&app, &near, &item, &b.seats[0]).await.expect(201);
    // Six days later: too late to continue.
    let (far, _) = meeting(&app, &b, "emergency", 6 * 24 + 2, true).await;
    emergency_vote(far.clone()).await;
    let item = late_item(&app, &far, "Continued budget").await;
    let f = find(
        &app,
        &item,
        json!({"kind": "continued_item", "facts": "Continued",
        "continued_from_item_id": id(&earlier_item)}),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], false);
    motion(&app, &far, &item, &b.seats[0]).await.expect(409);
    // An item of another council, or a missing reference, is a field error.
    let other = body(&app, "brown", 1).await;
    let (_, foreign) = meeting(&app, &other, "emergency", 1, false).await;
    let p = find(
        &app,
        &item,
        json!({"kind": "continued_item", "facts": "x",
        "continued_from_item_id": id(&foreign)}),
    )
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "continued_from_item_id");
    let p = find(&app, &item, json!({"kind": "continued_item", "facts": "x"}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "continued_from_item_id");
}

/// Rule 4: an emergency meeting acts only after a majority of the body determines the emergency
/// by roll call; the vote is recorded with each member's choice, a failed one too.
#[actix_web::test]
async fn emergency_meeting_needs_its_determination_vote() {
    let app = TestApp::new().await;
    let b = body(&app, "brown", 5).await;
    let (m, item) = meeting(&app, &b, "emergency", 1, true).await;
    hear(&app, &item).await;
    present(&app, &m, &b.seats[..3]).await;
    let p = motion(&app, &m, &item, &b.seats[0]).await.expect(409);
    assert_eq!(p["code"], "emergency-vote-required");
    let vote_path = format!("/api/v1/meetings/{}/emergency-vote", id(&m));
    let p = post(
        &app,
        &vote_path,
        None,
        json!({"facts": "Gas leak", "votes": []}),
    )
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "votes");
    let p = post(
        &app,
        &vote_path,
        None,
        json!({"facts": "Gas leak",
        "votes": [{"seat_id": id(&b.seats[4]), "choice": "yes"}]}),
    )
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "votes[0].seat_id", "absent member");
    let f = post(
        &app,
        &vote_path,
        None,
        json!({"facts": "Gas leak", "votes": votes(&b.seats, &["yes", "yes", "no"])}),
    )
    .await
    .expect(201);
    assert_eq!(
        f["passed"], false,
        "2 of 5 seats is not a majority of the body"
    );
    motion(&app, &m, &item, &b.seats[0]).await.expect(409);
    let f = post(
        &app,
        &vote_path,
        None,
        json!({"facts": "Gas leak", "votes": votes(&b.seats, &["yes", "yes", "yes"])}),
    )
    .await
    .expect(201);
    assert_eq!(f["passed"], true);
    assert_eq!(f["kind"], "emergency_meeting");
    assert_eq!(f["agenda_item_id"], Value::Null);
    motion(&app, &m, &item, &b.seats[0]).await.expect(201);
    // A regular meeting has no determination to vote.
    let (regular, _) = meeting(&app, &b, "regular", 100, true).await;
    present(&app, &regular, &b.seats[..3]).await;
    let p = post(
        &app,
        &format!("/api/v1/meetings/{}/emergency-vote", id(&regular)),
        None,
        json!({"facts": "x", "votes": votes(&b.seats, &["yes", "yes", "yes"])}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "not-an-emergency-meeting");
}

/// SB 707: a member's "just cause" remote attendance is capped per calendar year, here at 2 for
/// a council meeting monthly or less; the refusal names the rule, the count and the cap.
#[actix_web::test]
async fn just_cause_remote_attendance_is_capped() {
    let app = TestApp::new().await;
    let b = body(&app, "brown", 3).await;
    let mut meetings = Vec::new();
    for k in 0..3 {
        meetings.push(meeting(&app, &b, "regular", 80 + k, false).await.0);
    }
    let just_cause = json!({"status": "present", "remote_basis": "just_cause"});
    for m in &meetings[..2] {
        attend(&app, m, &b.seats[0], just_cause.clone())
            .await
            .expect(200);
    }
    // Correcting an existing record of the same meeting does not count it twice.
    attend(&app, &meetings[1], &b.seats[0], just_cause.clone())
        .await
        .expect(200);
    let p = attend(&app, &meetings[2], &b.seats[0], just_cause.clone())
        .await
        .expect(409);
    assert_eq!(p["code"], "just-cause-cap-reached");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("attended 2 meetings"), "{detail}");
    assert!(detail.contains("the cap is 2"), "{detail}");
    assert!(detail.contains("54953(f)"), "{detail}");
    // Other bases and other members are not capped.
    attend(
        &app,
        &meetings[2],
        &b.seats[0],
        json!({"status": "present", "remote_basis": "teleconference_location"}),
    )
    .await
    .expect(200);
    attend(&app, &meetings[2], &b.seats[1], just_cause.clone())
        .await
        .expect(200);
    // The basis is kept with the attendance (for the minutes).
    let list = app
        .get(&format!("/api/v1/meetings/{}/attendance", id(&meetings[0])))
        .await
        .expect(200);
    assert_eq!(list["items"][0]["remote_basis"], "just_cause");
}

/// With one use left, two app instances record the member's "just cause" attendance at two
/// meetings at once: the council's row lock lets exactly one through.
#[actix_web::test]
async fn the_last_just_cause_use_is_taken_once_across_instances() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let b = body(&app, "brown", 3).await;
    let mut meetings = Vec::new();
    for k in 0..5 {
        meetings.push(meeting(&app, &b, "regular", 80 + k, false).await.0);
    }
    let just_cause =
        json!({"status": "present", "remote_basis": "just_cause", "seat_id": id(&b.seats[0])});
    attend(&app, &meetings[0], &b.seats[0], just_cause.clone())
        .await
        .expect(200);
    let replies = join_all(meetings[1..].iter().enumerate().map(|(n, m)| {
        let req = TestRequest::post()
            .uri(&format!("/api/v1/meetings/{}/attendance", id(m)))
            .set_json(just_cause.clone());
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
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 409).count(), 3, "{codes:?}");
}

/// Who may record and read findings.
#[actix_web::test]
async fn authorization_matrix() {
    let app = TestApp::new().await;
    let b = body(&app, "brown", 3).await;
    let other = body(&app, "brown", 1).await;
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&id(&b.council)));
    let (_, other_staff) = app.user("Olga Other", "council_staff", Some(&id(&other.council)));
    let (_, family) = app.user("Fay Family", "family", None);
    let (m, _) = meeting(&app, &b, "emergency", 1, true).await;
    present(&app, &m, &b.seats).await;
    let item = late_item(&app, &m, "Late").await;
    let callers: [(&str, Option<&str>); 4] = [
        ("anonymous", None),
        ("family", Some(&family)),
        ("other staff", Some(&other_staff)),
        ("staff", Some(&staff)),
    ];
    let ballots = votes(&b.seats, &["yes", "yes", "yes"]);
    for (who, token) in callers {
        let send = |req: TestRequest| async {
            match token {
                Some(t) => app.send_as(t, req).await,
                None => app.send(req).await,
            }
        };
        let write = match who {
            "anonymous" => 401,
            "staff" => 201,
            _ => 403,
        };
        send(
            TestRequest::post()
                .uri(&format!("/api/v1/meetings/{}/emergency-vote", id(&m)))
                .set_json(json!({"facts": "x", "votes": ballots})),
        )
        .await
        .expect(write);
        send(
            TestRequest::post()
                .uri(&format!("/api/v1/agenda-items/{}/findings", id(&item)))
                .set_json(json!({"kind": "emergency", "facts": "x", "votes": ballots})),
        )
        .await
        .expect(write);
        // Findings are public record once the meeting is noticed.
        send(TestRequest::get().uri(&format!("/api/v1/agenda-items/{}/findings", id(&item))))
            .await
            .expect(200);
        send(TestRequest::get().uri(&format!("/api/v1/meetings/{}/findings", id(&m))))
            .await
            .expect(200);
    }
    // A draft meeting's findings are not known to the public.
    let draft = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&b.council)),
            json!({"type": "regular", "title": "Draft", "starts_at": at(300), "location": "L"}),
        )
        .await
        .expect(201);
    app.send(TestRequest::get().uri(&format!("/api/v1/meetings/{}/findings", id(&draft))))
        .await
        .expect(404);
    app.send_as(
        &staff,
        TestRequest::get().uri(&format!("/api/v1/meetings/{}/findings", id(&draft))),
    )
    .await
    .expect(200);
}
