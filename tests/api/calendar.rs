//! Meeting calendars (iCalendar feeds): what a calendar app subscribed to a council, a school or
//! the district sees, read back with a standard iCalendar parser.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use icalendar::{Component, EventLike};
use serde_json::{json, Value};

use crate::common::{assert_problem, id, version_tag, Reply, TestApp};

fn at(hours_from_now: i64) -> String {
    (Utc::now() + Duration::hours(hours_from_now)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn published_meeting(app: &TestApp, council: &Value, title: &str) -> Value {
    let m = app
        .post(
            &format!("/api/v1/councils/{}/meetings", id(council)),
            json!({"type": "regular", "title": title, "starts_at": at(24 * 10),
                   "location": "Library, Room 4", "interpretation_languages": ["es"]}),
        )
        .await
        .expect(201);
    app.send_admin(
        TestRequest::post()
            .uri(&format!("/api/v1/meetings/{}/publish", id(&m)))
            .insert_header(("If-Match", version_tag(&m))),
    )
    .await
    .expect(200)
}

async fn calendar(app: &TestApp, path: &str) -> (Reply, icalendar::Calendar) {
    let reply = app.send(TestRequest::get().uri(path)).await;
    assert_eq!(
        reply.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    // CRLF everywhere, no physical line over 75 octets.
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "bare LF in {text}"
    );
    assert!(text.split("\r\n").all(|l| l.len() <= 75));
    let parsed: icalendar::Calendar = text.parse().expect("a standard parser reads the feed");
    (reply, parsed)
}

fn events(cal: &icalendar::Calendar) -> Vec<&icalendar::Event> {
    cal.components
        .iter()
        .filter_map(|c| match c {
            icalendar::CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[actix_web::test]
async fn calendar_apps_see_published_meetings_with_stable_uids_and_cancellations() {
    let app = TestApp::new().await;
    let school = app.school("CAL-1").await;
    let council = app
        .council(
            json!({"school_id": id(&school), "kind": "community_school_steering_committee",
                        "name": "Roosevelt Council"}),
        )
        .await;
    let long_title = "Reunión ordinaria del consejo escolar, con interpretación — 会议 ".repeat(3);
    let m = published_meeting(&app, &council, &long_title).await;
    // A draft stays out of every feed.
    app.post(
        &format!("/api/v1/councils/{}/meetings", id(&council)),
        json!({"type": "regular", "title": "Draft only", "starts_at": at(24 * 20), "location": "Gym"}),
    )
    .await
    .expect(201);

    let path = format!("/api/v1/councils/{}/meetings.ics", id(&council));
    let (reply, cal) = calendar(&app, &path).await;
    let found = events(&cal);
    assert_eq!(found.len(), 1, "the draft is not published");
    let e = found[0];
    let uid = format!("meeting-{}@cogov", id(&m));
    assert_eq!(e.get_uid(), Some(uid.as_str()));
    assert_eq!(
        e.get_summary(),
        Some(format!("Roosevelt Council: {long_title}").as_str())
    );
    assert_eq!(e.get_location(), Some("Library, Room 4"));
    assert_eq!(e.get_status(), Some(icalendar::EventStatus::Confirmed));
    let first_sequence = e.property_value("SEQUENCE").unwrap().to_owned();
    assert!(e
        .get_url()
        .unwrap()
        .ends_with(&format!("/api/v1/meetings/{}/agenda-items", id(&m))));
    assert!(reply
        .header("cache-control")
        .is_some_and(|c| c.starts_with("public")));

    // Unchanged: 304 to the ETag.
    let etag = reply.header("etag").unwrap();
    let again = app
        .send(
            TestRequest::get()
                .uri(&path)
                .insert_header(("If-None-Match", etag.clone())),
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);

    // Cancelled: still there, same UID, STATUS:CANCELLED and a higher SEQUENCE; the ETag moves.
    app.send_admin(
        TestRequest::post()
            .uri(&format!("/api/v1/meetings/{}/cancel", id(&m)))
            .insert_header(("If-Match", version_tag(&m)))
            .set_json(json!({"reason": "No quorum expected / Sin quórum"})),
    )
    .await
    .expect(200);
    let (reply, cal) = calendar(&app, &path).await;
    assert_ne!(reply.header("etag").unwrap(), etag);
    let e = events(&cal)[0].clone();
    assert_eq!(e.get_uid(), Some(uid.as_str()));
    assert_eq!(e.get_status(), Some(icalendar::EventStatus::Cancelled));
    let sequence: i64 = e.property_value("SEQUENCE").unwrap().parse().unwrap();
    assert!(sequence > first_sequence.parse::<i64>().unwrap());

    // The school's and the district's feeds hold it too; another school's does not.
    let (_, by_school) = calendar(
        &app,
        &format!("/api/v1/schools/{}/meetings.ics", id(&school)),
    )
    .await;
    assert_eq!(events(&by_school)[0].get_uid(), Some(uid.as_str()));
    let (_, district) = calendar(&app, "/api/v1/meetings.ics").await;
    assert!(events(&district)
        .iter()
        .any(|e| e.get_uid() == Some(uid.as_str())));
    let other = app.school("CAL-2").await;
    let (_, empty) = calendar(
        &app,
        &format!("/api/v1/schools/{}/meetings.ics", id(&other)),
    )
    .await;
    assert!(events(&empty).is_empty());

    // Unknown council: a problem, not an empty calendar.
    let missing = app
        .send(TestRequest::get().uri(&format!(
            "/api/v1/councils/{}/meetings.ics",
            uuid::Uuid::now_v7()
        )))
        .await;
    assert_problem(&missing, 404);
}
