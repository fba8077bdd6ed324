//! Meetings: lifecycle, notice under the open-meeting laws, who may do what, and races between
//! app instances.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::common::{id, version_tag, TestApp};

fn at(hours_from_now: i64) -> String {
    (Utc::now() + Duration::hours(hours_from_now)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Brown Act steering committee at a school in Los Angeles.
async fn brown_council(app: &TestApp) -> Value {
    let school = app
        .school(&format!("M{}", uuid::Uuid::now_v7().simple()))
        .await;
    app.council(json!({"school_id": id(&school), "kind": "community_school_steering_committee", "name": "Steering"}))
        .await
}

async fn meeting(app: &TestApp, council: &Value, body: Value) -> Value {
    let mut full = json!({"type": "regular", "title": "Regular meeting / Reunión ordinaria",
        "starts_at": at(24 * 10), "location": "Library"});
    for (k, v) in body.as_object().unwrap() {
        full[k] = v.clone();
    }
    app.post(&format!("/api/v1/councils/{}/meetings", id(council)), full)
        .await
        .expect(201)
}

async fn act(app: &TestApp, m: &Value, action: &str) -> crate::common::Reply {
    app.send_admin(
        TestRequest::post()
            .uri(&format!("/api/v1/meetings/{}/{action}", id(m)))
            .insert_header(("If-Match", version_tag(m))),
    )
    .await
}

#[actix_web::test]
async fn a_meeting_goes_from_draft_to_adjourned_and_keeps_its_history() {
    let app = TestApp::new().await;
    let council = brown_council(&app).await;
    let m = meeting(
        &app,
        &council,
        json!({"starts_at": "2027-03-16T18:00:00-07:00", "ends_at": "2027-03-16T20:00:00-07:00",
               "remote_url": "https://meet.example.org/ssc", "interpretation_languages": ["es", "vi"]}),
    )
    .await;
    assert_eq!(m["status"], "draft");
    assert_eq!(m["type"], "regular");
    assert_eq!(m["time_zone"], "America/Los_Angeles", "from the school");
    assert_eq!(m["starts_at"], "2027-03-17T01:00:00Z");
    assert_eq!(m["starts_at_local"], "2027-03-16T18:00:00-07:00");
    // 72 clock hours before, across the spring-forward weekend.
    assert_eq!(m["notice_deadline"], "2027-03-14T01:00:00Z");
    assert_eq!(m["interpretation_languages"], json!(["es", "vi"]));
    let path = format!("/api/v1/meetings/{}", id(&m));

    // A draft is the staff's: the public cannot see it, in the list or by id.
    app.send(TestRequest::get().uri(&path)).await.expect(404);
    let list = format!("/api/v1/councils/{}/meetings", id(&council));
    let public = app.send(TestRequest::get().uri(&list)).await.expect(200);
    assert_eq!(public["items"], json!([]));
    assert_eq!(app.get(&list).await.expect(200)["items"][0]["id"], id(&m));

    // Drafts can be changed; a no-op keeps the version.
    let same = app
        .patch(&path, &version_tag(&m), json!({"title": m["title"]}))
        .await
        .expect(200);
    assert_eq!(same["version"], m["version"]);
    let m = app
        .patch(
            &path,
            &version_tag(&m),
            json!({"title": "Regular meeting (amended)", "ends_at": null}),
        )
        .await
        .expect(200);
    assert_eq!(m["ends_at"], Value::Null);

    let m = act(&app, &m, "publish").await.expect(200);
    assert_eq!(m["status"], "noticed");
    assert!(m["noticed_at"].is_string());
    let seen = app.send(TestRequest::get().uri(&path)).await.expect(200);
    assert_eq!(seen["status"], "noticed");
    assert_eq!(
        app.send(TestRequest::get().uri(&list)).await.expect(200)["items"][0]["id"],
        id(&m)
    );

    // After publication the meeting is changed only by amendment.
    let p = app
        .patch(&path, &version_tag(&m), json!({"title": "Late change"}))
        .await
        .expect(409);
    assert_eq!(p["code"], "meeting-not-draft");

    // Illegal transitions name the current state.
    let p = act(&app, &m, "adjourn").await.expect(409);
    assert_eq!(p["code"], "illegal-transition");
    assert!(p["detail"].as_str().unwrap().contains("noticed"), "{p}");
    let p = act(&app, &m, "publish").await.expect(409);
    assert!(p["detail"].as_str().unwrap().contains("draft"), "{p}");

    let m = act(&app, &m, "open").await.expect(200);
    assert_eq!(m["status"], "in_session");
    let m = act(&app, &m, "recess").await.expect(200);
    assert_eq!(m["status"], "recessed");
    let m = act(&app, &m, "open").await.expect(200);
    let p = app
        .send_admin(
            TestRequest::post()
                .uri(&format!("{path}/cancel"))
                .insert_header(("If-Match", version_tag(&m)))
                .set_json(json!({"reason": "too late"})),
        )
        .await
        .expect(409);
    assert!(p["detail"].as_str().unwrap().contains("in_session"), "{p}");
    let m = act(&app, &m, "adjourn").await.expect(200);
    assert_eq!(m["status"], "adjourned");
    act(&app, &m, "open").await.expect(409);

    // A stale ETag is 412, a missing one 428.
    let stale = json!({"id": m["id"], "version": 1});
    act(&app, &stale, "open").await.expect(412);
    app.send_admin(TestRequest::post().uri(&format!("{path}/open")))
        .await
        .expect(428);

    let events = app
        .send(TestRequest::get().uri(&format!("{path}/events")))
        .await
        .expect(200);
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["created", "publish", "open", "recess", "open", "adjourn"]
    );
    let publish = &events["items"][1];
    assert_eq!(publish["from_status"], "draft");
    assert_eq!(publish["to_status"], "noticed");
    assert!(publish["actor"].as_str().unwrap().starts_with("person:"));
}

#[actix_web::test]
async fn cancelling_needs_a_reason_and_is_final() {
    let app = TestApp::new().await;
    let council = brown_council(&app).await;
    let m = meeting(&app, &council, json!({})).await;
    let cancel = |etag: String, body: Value| {
        TestRequest::post()
            .uri(&format!("/api/v1/meetings/{}/cancel", id(&m)))
            .insert_header(("If-Match", etag))
            .set_json(body)
    };
    let p = app
        .send_admin(cancel(version_tag(&m), json!({"reason": "  "})))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "reason");
    let m2 = app
        .send_admin(cancel(
            version_tag(&m),
            json!({"reason": "Storm / Tormenta"}),
        ))
        .await
        .expect(200);
    assert_eq!(m2["status"], "cancelled");
    assert_eq!(m2["cancel_reason"], "Storm / Tormenta");
    act(&app, &m2, "publish").await.expect(409);
    // Cancelled before notice, it was never public.
    app.send(TestRequest::get().uri(&format!("/api/v1/meetings/{}", id(&m))))
        .await
        .expect(404);
}

#[actix_web::test]
async fn notice_too_late_is_refused_naming_the_local_deadline() {
    let app = TestApp::new().await;
    let council = brown_council(&app).await;
    let starts = Utc::now() + Duration::hours(48);
    let m = meeting(
        &app,
        &council,
        json!({"starts_at": starts.to_rfc3339_opts(SecondsFormat::Secs, true)}),
    )
    .await;
    let p = act(&app, &m, "publish").await.expect(409);
    assert_eq!(p["code"], "notice-too-late");
    let deadline = cogov::domain::meeting::local_time(
        starts.with_nanosecond(0).unwrap() - Duration::hours(72),
        chrono_tz::America::Los_Angeles,
    );
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains(&deadline), "{detail} / {deadline}");
    assert!(detail.contains("54954.2"), "{detail}");
    assert_eq!(
        app.get(&format!("/api/v1/meetings/{}", id(&m)))
            .await
            .expect(200)["status"],
        "draft",
        "nothing changed"
    );

    // A Brown Act special meeting needs 24 hours: 48 are enough.
    let special = meeting(
        &app,
        &council,
        json!({"type": "special", "starts_at": starts.to_rfc3339_opts(SecondsFormat::Secs, true)}),
    )
    .await;
    act(&app, &special, "publish").await.expect(200);

    // The Greene Act knows no shorter notice for special meetings; a council in another zone
    // is told its own local deadline.
    let greene = app
        .council(json!({"kind": "school_site_council", "name": "SSC"}))
        .await;
    let p = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&greene)),
            json!({"type": "special", "title": "S", "starts_at": at(48), "location": "Room 4"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "time_zone");
    let ny = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&greene)),
            json!({"type": "special", "title": "S", "starts_at": starts.to_rfc3339_opts(SecondsFormat::Secs, true),
                   "location": "Room 4", "time_zone": "America/New_York"}),
        )
        .await
        .expect(201);
    let p = act(&app, &ny, "publish").await.expect(409);
    let deadline = cogov::domain::meeting::local_time(
        starts.with_nanosecond(0).unwrap() - Duration::hours(72),
        chrono_tz::America::New_York,
    );
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains(&deadline), "{detail} / {deadline}");
    assert!(detail.contains("Greene"), "{detail}");
}

use chrono::Timelike;

#[actix_web::test]
async fn emergency_meetings_need_a_finding_and_media_notice() {
    let app = TestApp::new().await;
    let council = brown_council(&app).await;
    let m = meeting(
        &app,
        &council,
        json!({"type": "emergency", "starts_at": at(2)}),
    )
    .await;
    let p = act(&app, &m, "publish").await.expect(409);
    assert_eq!(p["code"], "emergency-finding-required");
    let path = format!("/api/v1/meetings/{}", id(&m));
    let m = app
        .patch(
            &path,
            &version_tag(&m),
            json!({"emergency_finding": "emergency"}),
        )
        .await
        .expect(200);
    let p = act(&app, &m, "publish").await.expect(409);
    assert_eq!(p["code"], "media-notice-required");
    let m = app
        .patch(&path, &version_tag(&m), json!({"media_notified_at": at(0)}))
        .await
        .expect(200);
    assert_eq!(
        act(&app, &m, "publish").await.expect(200)["status"],
        "noticed"
    );

    // A dire emergency needs no media notice ahead.
    let dire = meeting(
        &app,
        &council,
        json!({"type": "emergency", "starts_at": at(0), "emergency_finding": "dire_emergency"}),
    )
    .await;
    act(&app, &dire, "publish").await.expect(200);

    // Only an emergency meeting carries a finding.
    let p = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(&council)),
            json!({"type": "regular", "title": "R", "starts_at": at(200), "location": "L", "emergency_finding": "emergency"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "emergency_finding");
}

#[actix_web::test]
async fn field_rules() {
    let app = TestApp::new().await;
    let council = brown_council(&app).await;
    let path = format!("/api/v1/councils/{}/meetings", id(&council));
    for (body, field) in [
        (
            json!({"type": "regular", "title": "R", "starts_at": at(200)}),
            "location",
        ),
        (
            json!({"type": "regular", "title": "R", "starts_at": at(200), "ends_at": at(199), "location": "L"}),
            "ends_at",
        ),
        (
            json!({"type": "regular", "title": "R", "starts_at": at(200), "location": "L", "interpretation_languages": ["es_MX"]}),
            "interpretation_languages",
        ),
        (
            json!({"type": "regular", "title": "R", "starts_at": at(200), "remote_url": "ftp://x"}),
            "remote_url",
        ),
        (
            json!({"type": "regular", "title": "R", "starts_at": at(200), "location": "L", "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
    ] {
        let p = app.post(&path, body).await.expect(422);
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    // A remote link alone is a place to meet.
    meeting(
        &app,
        &council,
        json!({"location": null, "remote_url": "https://meet.example.org/x"}),
    )
    .await;
}

/// Who may do what with meetings, for every kind of caller.
#[actix_web::test]
async fn authorization_matrix() {
    let app = TestApp::new().await;
    let council = brown_council(&app).await;
    let other_council = brown_council(&app).await;
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&id(&council)));
    let (_, other_staff) = app.user("Olga Other", "council_staff", Some(&id(&other_council)));
    let (member_id, member) = app.user("Mia Member", "none", None);
    let seat = app.seat(&id(&council), "families").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        &version_tag(&seat),
        json!({"person_id": member_id}),
    )
    .await
    .expect(200);
    let (_, family) = app.user("Fay Family", "family", None);

    let draft = meeting(&app, &council, json!({})).await;
    let create = format!("/api/v1/councils/{}/meetings", id(&council));
    let body = json!({"type": "regular", "title": "T", "starts_at": at(300), "location": "L"});
    let callers: [(&str, Option<&str>); 5] = [
        ("anonymous", None),
        ("family", Some(&family)),
        ("member", Some(&member)),
        ("other staff", Some(&other_staff)),
        ("staff", Some(&staff)),
    ];
    for (who, token) in callers {
        let send = |req: TestRequest| async {
            match token {
                Some(t) => app.send_as(t, req).await,
                None => app.send(req).await,
            }
        };
        let expect_create = match who {
            "anonymous" => 401,
            "staff" => 201,
            _ => 403,
        };
        send(TestRequest::post().uri(&create).set_json(&body))
            .await
            .expect(expect_create);
        let read_draft = if who == "staff" { 200 } else { 404 };
        send(TestRequest::get().uri(&format!("/api/v1/meetings/{}", id(&draft))))
            .await
            .expect(read_draft);
        send(TestRequest::get().uri(&format!("/api/v1/meetings/{}/events", id(&draft))))
            .await
            .expect(read_draft);
        let list = send(TestRequest::get().uri(&create)).await.expect(200);
        let drafts = list["items"].as_array().unwrap().len();
        assert_eq!(drafts > 0, who == "staff", "{who} sees drafts in the list");
        // Changing: 401 without a token, 404 for a draft the caller cannot see, otherwise 200.
        let expect_change = match who {
            "anonymous" => 401,
            "staff" => 200,
            _ => 404,
        };
        send(
            TestRequest::patch()
                .uri(&format!("/api/v1/meetings/{}", id(&draft)))
                .insert_header(("If-Match", "*"))
                .set_json(json!({"title": format!("Edited by {who}")})),
        )
        .await
        .expect(expect_change);
    }

    // Once published, everyone reads it; only the council's staff act on it.
    let published = act(
        &app,
        &app.get(&format!("/api/v1/meetings/{}", id(&draft)))
            .await
            .expect(200),
        "publish",
    )
    .await
    .expect(200);
    for (who, token) in callers {
        let send = |req: TestRequest| async {
            match token {
                Some(t) => app.send_as(t, req).await,
                None => app.send(req).await,
            }
        };
        send(TestRequest::get().uri(&format!("/api/v1/meetings/{}", id(&published))))
            .await
            .expect(200);
        let expect_act = match who {
            "anonymous" => 401,
            "staff" => 200,
            _ => 403,
        };
        send(
            TestRequest::post()
                .uri(&format!("/api/v1/meetings/{}/open", id(&published)))
                .insert_header(("If-Match", "*")),
        )
        .await
        .expect(expect_act);
        if who == "staff" {
            send(
                TestRequest::post()
                    .uri(&format!("/api/v1/meetings/{}/recess", id(&published)))
                    .insert_header(("If-Match", "*")),
            )
            .await
            .expect(200);
        }
    }
}

/// Two app instances race lifecycle actions on one meeting with `If-Match: *`: the meeting's row
/// lock makes them run one after the other, so exactly one publish wins and the others see the
/// new state (409), and of racing `open` and `cancel` exactly one succeeds.
#[actix_web::test]
async fn racing_transitions_on_two_instances() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let council = brown_council(&app).await;
    let m = meeting(&app, &council, json!({})).await;
    let publish = format!("/api/v1/meetings/{}/publish", id(&m));
    let replies = join_all((0..20).map(|n| {
        let req = TestRequest::post()
            .uri(&publish)
            .insert_header(("If-Match", "*"));
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
    assert_eq!(codes.iter().filter(|&&c| c == 409).count(), 19, "{codes:?}");

    let replies = join_all((0..20).map(|n| {
        let req = if n % 2 == 0 {
            TestRequest::post()
                .uri(&format!("/api/v1/meetings/{}/open", id(&m)))
                .insert_header(("If-Match", "*"))
        } else {
            TestRequest::post()
                .uri(&format!("/api/v1/meetings/{}/cancel", id(&m)))
                .insert_header(("If-Match", "*"))
                .set_json(json!({"reason": format!("race {n}")}))
        };
        let (app, other) = (&app, &other);
        async move {
            if n % 4 < 2 {
                app.send_admin(req).await
            } else {
                other.send_admin(req).await
            }
        }
    }))
    .await;
    let codes: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 409).count(), 19, "{codes:?}");
    let events = app
        .get(&format!("/api/v1/meetings/{}/events", id(&m)))
        .await
        .expect(200);
    assert_eq!(
        events["items"].as_array().unwrap().len(),
        3,
        "created, publish, and one of open/cancel: {events}"
    );
}

async fn seated(app: &TestApp, council: &Value, constituency: &str, voting: bool) -> Value {
    let seat = app
        .post(
            &format!("/api/v1/councils/{}/seats", id(council)),
            json!({"constituency": constituency, "title": format!("{constituency} seat"), "voting": voting}),
        )
        .await
        .expect(201);
    let person = app.person(&format!("Holder of {}", id(&seat))).await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        &version_tag(&seat),
        json!({"person_id": id(&person)}),
    )
    .await
    .expect(200)
}

#[actix_web::test]
async fn attendance_and_quorum() {
    let app = TestApp::new().await;
    let council = brown_council(&app).await;
    let mut seats = Vec::new();
    for c in [
        "families",
        "families",
        "students",
        "teachers",
        "community_organizations",
    ] {
        seats.push(seated(&app, &council, c, true).await);
    }
    let advisory = seated(&app, &council, "district", false).await;
    let vacant = app.seat(&id(&council), "families").await;
    let m = meeting(&app, &council, json!({})).await;
    let attend = format!("/api/v1/meetings/{}/attendance", id(&m));
    let quorum = format!("/api/v1/meetings/{}/quorum", id(&m));
    let record = |seat: &Value, body: Value| {
        let mut body = body;
        body["seat_id"] = json!(id(seat));
        app.post(&attend, body)
    };
    let p = record(&seats[0], json!({"status": "present"}))
        .await
        .expect(409);
    assert_eq!(p["code"], "meeting-not-in-session");
    let m = act(&app, &m, "publish").await.expect(200);
    act(&app, &m, "open").await.expect(200);

    let q = app.send(TestRequest::get().uri(&quorum)).await.expect(200);
    assert_eq!(q["filled_voting_seats"], 5);
    assert_eq!(q["authorized_voting_seats"], 6);
    assert_eq!(q["required"], 3);
    assert_eq!(q["met"], false);

    record(&seats[0], json!({"status": "present"}))
        .await
        .expect(200);
    record(&advisory, json!({"status": "present"}))
        .await
        .expect(200);
    record(&seats[1], json!({"status": "absent"}))
        .await
        .expect(200);
    let r = record(
        &seats[2],
        json!({"status": "present", "remote_basis": "just_cause"}),
    )
    .await
    .expect(200);
    assert_eq!(r["remote"], true);
    let q = app.get(&quorum).await.expect(200);
    assert_eq!(
        (q["present_voting"].as_u64(), q["met"].as_bool()),
        (Some(2), Some(false))
    );
    record(&seats[3], json!({"status": "present"}))
        .await
        .expect(200);
    let q = app.get(&quorum).await.expect(200);
    assert_eq!(q["present_voting"], 3);
    assert_eq!(q["in_person_required"], true);
    assert_eq!(q["met"], false, "a just-cause member does not make quorum");
    assert_eq!(q["roll_call_required"], true);
    let fixed = record(&seats[1], json!({"status": "present", "arrived_at": at(0)}))
        .await
        .expect(200);
    assert_eq!(fixed["version"], 2, "recording again corrects the row");
    assert_eq!(app.get(&quorum).await.expect(200)["met"], true);
    // A departure is counted.
    record(
        &seats[1],
        json!({"status": "present", "arrived_at": at(-1), "departed_at": at(0)}),
    )
    .await
    .expect(200);
    assert_eq!(app.get(&quorum).await.expect(200)["met"], false);

    let p = record(
        &seats[4],
        json!({"status": "absent", "remote_basis": "just_cause"}),
    )
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "status");
    let p = record(&vacant, json!({"status": "present"}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "seat_id");
    let list = app.send(TestRequest::get().uri(&attend)).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
}

/// Two instances recording the same seat's attendance at once leave one row.
#[actix_web::test]
async fn racing_attendance_leaves_one_row_per_seat() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let council = brown_council(&app).await;
    let seat = seated(&app, &council, "families", true).await;
    let m = meeting(&app, &council, json!({})).await;
    let m = act(&app, &m, "publish").await.expect(200);
    act(&app, &m, "open").await.expect(200);
    let attend = format!("/api/v1/meetings/{}/attendance", id(&m));
    let replies = join_all((0..20).map(|n| {
        let req = TestRequest::post().uri(&attend).set_json(json!({
            "seat_id": id(&seat), "status": if n % 3 == 0 { "absent" } else { "present" }}));
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
            200,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let list = app.get(&attend).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["items"][0]["version"], 20,
        "every write applied once, in turn"
    );
}

/// A Brown Act council's meeting from scheduling to adjournment, through the HTTP API only, as
/// the staff, a seat holder and the public see it.
#[actix_web::test]
async fn full_cycle_of_a_brown_act_meeting() {
    let app = TestApp::new().await;
    let council = brown_council(&app).await;
    assert_eq!(council["regime"], "brown");
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&id(&council)));
    let mut seats = Vec::new();
    for c in [
        "families",
        "families",
        "students",
        "teachers",
        "community_organizations",
    ] {
        seats.push(seated(&app, &council, c, true).await);
    }
    let (member_id, member) = app.user("Mia Member", "none", None);
    let member_seat = app.seat(&id(&council), "families").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&member_seat)),
        &version_tag(&member_seat),
        json!({"person_id": member_id}),
    )
    .await
    .expect(200);
    let as_staff = |req: TestRequest| app.send_as(&staff, req);

    // Staff schedule a regular meeting ten days out, in the school's zone, with interpretation.
    let m = as_staff(
        TestRequest::post()
            .uri(&format!("/api/v1/councils/{}/meetings", id(&council)))
            .set_json(
                json!({"type": "regular", "title": "Regular meeting / Reunión ordinaria",
                "starts_at": at(240), "location": "Library", "interpretation_languages": ["es"]}),
            ),
    )
    .await
    .expect(201);
    // A member proposes an item from their seat; staff accept it onto the draft agenda.
    let proposal = app
        .send_as(
            &member,
            TestRequest::post()
                .uri(&format!("/api/v1/councils/{}/agenda-items", id(&council)))
                .set_json(
                    json!({"kind": "action", "title": "Crossing guard at Oak St",
                    "proposed_by_seat_id": id(&member_seat),
                    "translations": {"es": {"title": "Guardia de cruce en Oak St"}}}),
                ),
        )
        .await
        .expect(201);
    as_staff(
        TestRequest::post()
            .uri(&format!("/api/v1/agenda-items/{}/accept", id(&proposal)))
            .insert_header(("If-Match", version_tag(&proposal)))
            .set_json(json!({"meeting_id": id(&m)})),
    )
    .await
    .expect(200);
    as_staff(
        TestRequest::post()
            .uri(&format!("/api/v1/meetings/{}/agenda-items", id(&m)))
            .set_json(
                json!({"kind": "public_comment", "title": "Public comment / Comentario público"}),
            ),
    )
    .await
    .expect(201);
    // The public sees nothing until the notice is published, 72 clock hours ahead or more.
    let path = format!("/api/v1/meetings/{}", id(&m));
    app.send(TestRequest::get().uri(&path)).await.expect(404);
    let m = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/publish"))
            .insert_header(("If-Match", version_tag(&m))),
    )
    .await
    .expect(200);
    let agenda = app
        .send(TestRequest::get().uri(&format!("{path}/agenda-items")))
        .await
        .expect(200);
    let titles: Vec<&str> = agenda["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Crossing guard at Oak St",
            "Public comment / Comentario público"
        ]
    );
    // A change after notice goes through a recorded amendment.
    let amended = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/amendments"))
            .insert_header(("If-Match", version_tag(&m)))
            .set_json(json!({"reason": "Budget deadline moved", "item": {"kind": "action", "title": "Budget"}})),
    )
    .await
    .expect(201);
    assert_eq!(amended["within_notice_window"], false);
    let m = app.get(&path).await.expect(200);

    // The meeting opens; attendance is taken; quorum is met.
    let m = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/open"))
            .insert_header(("If-Match", version_tag(&m))),
    )
    .await
    .expect(200);
    for (n, seat) in seats.iter().enumerate() {
        let status = if n < 3 { "present" } else { "absent" };
        as_staff(
            TestRequest::post()
                .uri(&format!("{path}/attendance"))
                .set_json(json!({"seat_id": id(seat), "status": status})),
        )
        .await
        .expect(200);
    }
    as_staff(
        TestRequest::post()
            .uri(&format!("{path}/attendance"))
            .set_json(json!({"seat_id": id(&member_seat), "status": "present",
                "remote_basis": "teleconference_location"})),
    )
    .await
    .expect(200);
    let q = app
        .send(TestRequest::get().uri(&format!("{path}/quorum")))
        .await
        .expect(200);
    assert_eq!(
        (q["required"].as_u64(), q["present_voting"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(q["met"], true);
    assert_eq!(q["roll_call_required"], true);

    // The public is heard on the item, then it is moved, seconded and carried by roll call;
    // absent members are recorded, every vote is public by name.
    let item_id = agenda["items"][0]["id"].as_str().unwrap().to_owned();
    for step in ["open", "close"] {
        as_staff(
            TestRequest::post()
                .uri(&format!("/api/v1/agenda-items/{item_id}/comment/{step}"))
                .insert_header(("If-Match", "*")),
        )
        .await
        .expect(200);
    }
    let motion = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/motions"))
            .set_json(
                json!({"kind": "main", "agenda_item_id": agenda["items"][0]["id"],
                "text": "Request a crossing guard / Solicitar un guardia de cruce",
                "mover_seat_id": id(&member_seat), "seconder_seat_id": id(&seats[0])}),
            ),
    )
    .await
    .expect(201);
    for (seat, choice) in [
        (&seats[0], "yes"),
        (&seats[1], "yes"),
        (&seats[2], "no"),
        (&member_seat, "yes"),
    ] {
        as_staff(
            TestRequest::post()
                .uri(&format!("/api/v1/motions/{}/votes", id(&motion)))
                .set_json(json!({"seat_id": id(seat), "choice": choice})),
        )
        .await
        .expect(201);
    }
    let closed = as_staff(
        TestRequest::post()
            .uri(&format!("/api/v1/motions/{}/close", id(&motion)))
            .insert_header(("If-Match", version_tag(&motion))),
    )
    .await
    .expect(200);
    assert_eq!(closed["status"], "passed");
    assert_eq!(closed["tally"]["yes"], 3);
    assert_eq!(closed["tally"]["absent"], 2);
    let public = app
        .send(TestRequest::get().uri(&format!("{path}/motions")))
        .await
        .expect(200);
    assert_eq!(public["items"][0]["votes"].as_array().unwrap().len(), 6);

    // Recess, resume, adjourn; the history names each action.
    let m = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/recess"))
            .insert_header(("If-Match", version_tag(&m))),
    )
    .await
    .expect(200);
    let m = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/open"))
            .insert_header(("If-Match", version_tag(&m))),
    )
    .await
    .expect(200);
    let m = as_staff(
        TestRequest::post()
            .uri(&format!("{path}/adjourn"))
            .insert_header(("If-Match", version_tag(&m))),
    )
    .await
    .expect(200);
    assert_eq!(m["status"], "adjourned");
    let events = app
        .send(TestRequest::get().uri(&format!("{path}/events")))
        .await
        .expect(200);
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["created", "publish", "open", "recess", "open", "adjourn"]
    );
    let attendance = app
        .send(TestRequest::get().uri(&format!("{path}/attendance")))
        .await
        .expect(200);
    assert_eq!(attendance["items"].as_array().unwrap().len(), 6);

    // Minutes are drafted from the record, the staff's until approved.
    let minutes = as_staff(TestRequest::post().uri(&format!("{path}/minutes")))
        .await
        .expect(201);
    app.send(TestRequest::get().uri(&format!("{path}/minutes")))
        .await
        .expect(404);
    let record = &minutes["record"];
    let remote: Vec<&Value> = record["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["remote"] == true)
        .collect();
    assert_eq!(remote.len(), 1);
    assert_eq!(remote[0]["remote_basis"], "teleconference_location");
    assert_eq!(remote[0]["name"], "Mia Member");
    let crossing = &record["items"][0];
    assert_eq!(crossing["title"], "Crossing guard at Oak St");
    assert_eq!(crossing["motions"][0]["result"], "passed");
    assert_eq!(crossing["motions"][0]["votes"].as_array().unwrap().len(), 6);
    assert_eq!(record["amendments"].as_array().unwrap().len(), 1);
    as_staff(
        TestRequest::patch()
            .uri(&format!("/api/v1/minutes/{}", id(&minutes)))
            .insert_header(("If-Match", version_tag(&minutes)))
            .set_json(json!({"notes": "Interpretation in Spanish was provided / Se ofreció interpretación"})),
    )
    .await
    .expect(200);

    // Every change of the cycle is in the audit trail with the record it made or changed.
    let unnamed = app.query(|conn| {
        use cogov::db::schema::audit_events::dsl::*;
        use diesel::prelude::*;
        audit_events
            .filter(outcome.eq("allowed"))
            .filter(action.ne("read"))
            .filter(action.ne("list"))
            .filter(action.ne("sign_in"))
            .filter(resource_id.is_null())
            .select(resource)
            .load::<String>(conn)
    });
    assert!(
        unnamed.is_empty(),
        "changes audited without their record: {unnamed:?}"
    );
}
