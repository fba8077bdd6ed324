//! The public pages under /public/: what a family sees without an account, in English or
//! Spanish; the written-comment form without JavaScript (post, redirect, get); field errors; the
//! spam limit as a page; escaping of what visitors wrote; ETags and the security headers.

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

async fn step(app: &TestApp, meeting: &str, action: &str) {
    post(
        app,
        &format!("/api/v1/meetings/{meeting}/{action}"),
        Some("*"),
        json!({}),
    )
    .await
    .expect(200);
}

async fn hear(app: &TestApp, item: &str) {
    for s in ["open", "close"] {
        post(
            app,
            &format!("/api/v1/agenda-items/{item}/comment/{s}"),
            Some("*"),
            json!({}),
        )
        .await
        .expect(200);
    }
}

async fn decide(app: &TestApp, meeting: &str, item: &str, seats: &[String], choices: &[&str]) {
    let m = post(
        app,
        &format!("/api/v1/meetings/{meeting}/motions"),
        None,
        json!({"kind": "main", "agenda_item_id": item, "text": "Approve the reading plan",
            "mover_seat_id": seats[0], "seconder_seat_id": seats[1]}),
    )
    .await
    .expect(201);
    for (seat, choice) in seats.iter().zip(choices) {
        post(
            app,
            &format!("/api/v1/motions/{}/votes", id(&m)),
            None,
            json!({"seat_id": seat, "choice": choice}),
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
    .expect(200);
}

/// What the pages are about.
struct District {
    council: String,
    /// Adjourned, with approved minutes and a roll-call vote.
    past: String,
    /// Announced and in session, taking written comment on `item`.
    next: String,
    /// On `next`, translated into Spanish, with a document.
    item: String,
    /// A draft meeting: never on a public page.
    draft: String,
}

async fn district(app: &TestApp) -> District {
    let school = app
        .school(&format!("R{}", uuid::Uuid::now_v7().simple()))
        .await;
    let council = app
        .council(
            json!({"school_id": id(&school), "kind": "community_school_steering_committee",
            "name": "Roosevelt Steering Committee"}),
        )
        .await;
    let c = id(&council);
    let mut seats = Vec::new();
    for (n, constituency) in ["families", "families", "teachers", "administrators"]
        .into_iter()
        .enumerate()
    {
        let seat = app.seat(&c, constituency).await;
        let (person, _) = app.user(&format!("Member {n}"), "none", None);
        app.put(
            &format!("/api/v1/seats/{}/holder", id(&seat)),
            &version_tag(&seat),
            json!({"person_id": person}),
        )
        .await
        .expect(200);
        seats.push(id(&seat));
    }
    app.seat(&c, "students").await; // vacant
    let meeting = |title: &str, hours: i64| {
        json!({"type": "regular", "title": title, "starts_at": at(hours), "location": "Library",
            "time_zone": "America/Los_Angeles"})
    };
    let meetings = format!("/api/v1/councils/{c}/meetings");
    let past = id(&app
        .post(&meetings, meeting("March meeting", 240))
        .await
        .expect(201));
    let reading = id(&app
        .post(
            &format!("/api/v1/meetings/{past}/agenda-items"),
            json!({"kind": "action", "title": "Reading plan"}),
        )
        .await
        .expect(201));
    step(app, &past, "publish").await;
    step(app, &past, "open").await;
    for seat in &seats {
        post(
            app,
            &format!("/api/v1/meetings/{past}/attendance"),
            None,
            json!({"seat_id": seat, "status": "present"}),
        )
        .await
        .expect(200);
    }
    hear(app, &reading).await;
    decide(
        app,
        &past,
        &reading,
        &seats,
        &["yes", "no", "yes", "abstain"],
    )
    .await;
    step(app, &past, "adjourn").await;
    let minutes = app
        .post(&format!("/api/v1/meetings/{past}/minutes"), json!({}))
        .await
        .expect(201);

    let next = id(&app
        .post(&meetings, meeting("April meeting", 250))
        .await
        .expect(201));
    let item = id(&app
        .post(
            &format!("/api/v1/meetings/{next}/agenda-items"),
            json!({"kind": "discussion", "title": "After-school program",
                "description": "Hours of the program next year.",
                "documents": [{"url": "https://district.example/after-school.pdf", "title": "Program budget", "language": "en"}],
                "translations": {"es": {"title": "Programa después de clases", "summary": "Horario del programa el próximo año."}}}),
        )
        .await
        .expect(201));
    let approval = id(&app
        .post(
            &format!("/api/v1/meetings/{next}/agenda-items"),
            json!({"kind": "action", "title": "Approve the March minutes"}),
        )
        .await
        .expect(201));
    app.patch(
        &format!("/api/v1/minutes/{}", id(&minutes)),
        &version_tag(&minutes),
        json!({"approval_item_id": approval, "summary": "The council adopted the reading plan."}),
    )
    .await
    .expect(200);
    step(app, &next, "publish").await;
    step(app, &next, "open").await;
    for seat in &seats {
        post(
            app,
            &format!("/api/v1/meetings/{next}/attendance"),
            None,
            json!({"seat_id": seat, "status": "present"}),
        )
        .await
        .expect(200);
    }
    hear(app, &approval).await;
    decide(app, &next, &approval, &seats, &["yes"; 4]).await;
    let draft = id(&app
        .post(&meetings, meeting("Secret draft meeting", 300))
        .await
        .expect(201));
    District {
        council: c,
        past,
        next,
        item,
        draft,
    }
}

async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> Reply {
    let mut req = TestRequest::get().uri(path);
    if let Some(l) = accept_language {
        req = req.insert_header(("Accept-Language", l));
    }
    app.send(req).await
}

fn text(reply: &Reply) -> String {
    String::from_utf8(reply.body.clone()).expect("utf-8 page")
}

fn html(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status.as_u16(), status, "{}", text(reply));
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    text(reply)
}

fn form(item: &str, body: &str, lang: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/public/agenda-items/{item}/comments{lang}"))
        .peer_addr("198.51.100.7:40000".parse().unwrap())
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(body.to_owned())
}

#[actix_web::test]
async fn a_family_follows_the_council_in_english_and_spanish() {
    let app = TestApp::new().await;
    let d = district(&app).await;

    let r = page(&app, "/public/", None).await;
    let body = html(&r, 200);
    assert!(body.contains("<html lang=\"en\">"));
    assert!(body.contains("Roosevelt Steering Committee"));
    assert!(body.contains(&format!("/public/councils/{}", d.council)));
    assert!(
        body.contains(&format!("/public/meetings/{}", d.next)),
        "the next meeting is linked"
    );
    assert!(body.contains("/api/v1/meetings.ics"));
    assert!(!body.contains("Secret draft meeting"));
    assert_eq!(r.header("content-language").as_deref(), Some("en"));
    assert_eq!(r.header("vary").as_deref(), Some("Accept-Language"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(r.header("referrer-policy").is_some());

    // Spanish from the browser's languages, and from the switch over them.
    let es = html(
        &page(&app, "/public/", Some("es-MX,es;q=0.9,en;q=0.5")).await,
        200,
    );
    assert!(es.contains("<html lang=\"es\">") && es.contains("Consejos del distrito"));
    let switched = page(&app, "/public/?lang=es", Some("en-US")).await;
    assert_eq!(switched.header("content-language").as_deref(), Some("es"));
    assert!(html(&switched, 200).contains(&format!("/public/councils/{}?lang=es", d.council)));
    // Unknown languages fall back to English, never fail.
    let fr = page(&app, "/public/?lang=fr", Some("fr-CA, de;q=0.8")).await;
    assert_eq!(fr.header("content-language").as_deref(), Some("en"));
    let bad = page(&app, "/public/", Some(";;q=x,,")).await;
    assert_eq!(bad.status.as_u16(), 200);
    // /public goes to /public/.
    let r = page(&app, "/public?lang=es", None).await;
    assert_eq!(r.status.as_u16(), 308);
    assert_eq!(r.header("location").as_deref(), Some("/public/?lang=es"));

    // The council: seats by constituency with the vacancy, meetings, the calendar feed.
    let council = html(
        &page(&app, &format!("/public/councils/{}", d.council), Some("es")).await,
        200,
    );
    assert!(council.contains("Familias") && council.contains("Estudiantes"));
    assert!(council.contains("Vacante"), "the vacant students' seat");
    assert!(council.contains("Member 0"));
    assert!(council.contains(&format!("/api/v1/councils/{}/meetings.ics", d.council)));
    assert!(council.contains("April meeting") && council.contains("March meeting"));
    assert!(!council.contains("Secret draft meeting"));

    // The next meeting in Spanish: the translated title, the document, how to comment, the form.
    let next = html(
        &page(&app, &format!("/public/meetings/{}?lang=es", d.next), None).await,
        200,
    );
    assert!(next.contains("Programa después de clases"));
    assert!(next.contains("Horario del programa"));
    // Text from the database is escaped (MiniJinja also escapes `/`).
    assert!(next.contains("https:&#x2f;&#x2f;district.example&#x2f;after-school.pdf"));
    assert!(next.contains("Cómo comentar"));
    assert!(next.contains(&format!(
        "action=\"/public/agenda-items/{}/comments?lang=es\"",
        d.item
    )));
    assert!(
        next.contains(&format!("for=\"body-{}\"", d.item)),
        "labelled fields"
    );
    // In English, the title as written.
    let next_en = html(
        &page(&app, &format!("/public/meetings/{}", d.next), Some("en")).await,
        200,
    );
    assert!(next_en.contains("After-school program"));
    assert!(!next_en.contains("Programa después de clases"));

    // The past meeting: approved minutes with each member's vote.
    let past = html(
        &page(&app, &format!("/public/meetings/{}?lang=es", d.past), None).await,
        200,
    );
    assert!(past.contains("Acta aprobada") || past.contains("Aprobada el"));
    assert!(past.contains("The council adopted the reading plan."));
    for (member, vote) in [
        ("Member 0", "Sí"),
        ("Member 1", "No"),
        ("Member 3", "Abstención"),
    ] {
        let votes = &past[past.find("Cómo votó cada miembro").expect("the roll call")..];
        let row = format!("<tr><td>{member}</td>");
        let at = votes
            .find(&row)
            .unwrap_or_else(|| panic!("{member} in {votes}"));
        let end = votes[at..].find("</tr>").unwrap_or(votes.len() - at) + at;
        assert!(
            votes[at..end].contains(vote),
            "{member} voted {vote}: {}",
            &votes[at..end]
        );
    }

    // A draft meeting, an unknown one, a malformed id, an unknown path: 404 pages.
    for path in [
        format!("/public/meetings/{}", d.draft),
        format!("/public/meetings/{}", uuid::Uuid::now_v7()),
        "/public/meetings/not-a-uuid".to_owned(),
        "/public/councils/%3Cscript%3E".to_owned(),
        "/public/nowhere".to_owned(),
    ] {
        let r = page(&app, &path, Some("es")).await;
        assert!(html(&r, 404).contains("Página no encontrada"), "{path}");
    }
    // A signed-in admin gets the public page too: no drafts.
    let r = app
        .send_admin(TestRequest::get().uri(&format!("/public/meetings/{}", d.draft)))
        .await;
    assert_eq!(r.status.as_u16(), 404);
}

#[actix_web::test]
async fn the_comment_form_works_without_javascript() {
    let app = TestApp::new().await;
    let d = district(&app).await;

    // Posted, redirected (303) to the meeting page, which thanks and shows it escaped.
    let r = app
        .send(form(
            &d.item,
            "body=%3Cscript%3Ealert(1)%3C%2Fscript%3E+Keep+it+open%0D%0Auntil+6&author_name=Mar%C3%ADa&author_email=",
            "?lang=es",
        ))
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", text(&r));
    let location = r.header("location").unwrap();
    assert_eq!(
        location,
        format!("/public/meetings/{}?sent=1&lang=es#item-{}", d.next, d.item)
    );
    let shown = html(
        &page(&app, location.split('#').next().unwrap(), None).await,
        200,
    );
    assert!(shown.contains("Gracias"));
    assert!(shown.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; Keep it open"));
    assert!(!shown.contains("<script>"));
    assert!(shown.contains("María"));
    // The same comment as the JSON API has it.
    let listed = app
        .get(&format!("/api/v1/agenda-items/{}/comments", d.item))
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["author_name"], "María");
    assert_eq!(
        listed["items"][0]["body"],
        "<script>alert(1)</script> Keep it open\r\nuntil 6"
    );

    // Wrong fields: the page again (422), what was typed kept, the fields marked.
    let r = app
        .send(form(
            &d.item,
            "body=+++&author_name=Jos%C3%A9&author_email=not-an-email",
            "",
        ))
        .await;
    let again = html(&r, 422);
    assert!(again.contains("Your comment was not sent"));
    assert!(again.contains(&format!("id=\"body-{}\"", d.item)));
    assert!(again.contains("aria-invalid=\"true\""));
    assert!(again.contains("value=\"José\""), "the name is kept");
    assert!(again.contains("Please give a valid email address"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));

    // Another media type: 415, as a page.
    let r = app
        .send(
            TestRequest::post()
                .uri(&format!("/public/agenda-items/{}/comments", d.item))
                .set_json(json!({"body": "hello"})),
        )
        .await;
    html(&r, 415);
    // An item that does not exist, or a malformed id: 404 pages.
    let r = app
        .send(form(&uuid::Uuid::now_v7().to_string(), "body=hi", ""))
        .await;
    html(&r, 404);
    let r = app.send(form("nope", "body=hi", "")).await;
    html(&r, 404);
    // Comment on an item whose period closed: 409 as a page.
    hear(&app, &d.item).await;
    let r = app.send(form(&d.item, "body=too+late", "")).await;
    assert!(html(&r, 409).contains("closed"));
}

#[actix_web::test]
async fn the_spam_limit_is_a_page_with_retry_after() {
    let app = TestApp::with_protection(|p| p.public_comment.max_per_address = 1).await;
    let d = district(&app).await;
    let r = app.send(form(&d.item, "body=first", "")).await;
    assert_eq!(r.status.as_u16(), 303);
    let r = app.send(form(&d.item, "body=second", "?lang=es")).await;
    assert!(html(&r, 429).contains("Espere unos minutos"));
    assert!(r.header("retry-after").is_some());
}

#[actix_web::test]
async fn pages_are_cached_by_etag() {
    let app = TestApp::new().await;
    let d = district(&app).await;
    let path = format!("/public/councils/{}", d.council);
    let r = page(&app, &path, None).await;
    html(&r, 200);
    let etag = r.header("etag").expect("an ETag");
    assert!(r.header("cache-control").unwrap().contains("max-age"));
    let again = app
        .send(
            TestRequest::get()
                .uri(&path)
                .insert_header(("If-None-Match", etag.clone())),
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    assert!(again.body.is_empty());
    // Another language is another page.
    let es = app
        .send(
            TestRequest::get()
                .uri(&path)
                .insert_header(("If-None-Match", etag.clone()))
                .insert_header(("Accept-Language", "es")),
        )
        .await;
    assert_eq!(es.status.as_u16(), 200);
    // A change shows: a new comment changes the meeting page's ETag.
    let mpath = format!("/public/meetings/{}", d.next);
    let before = page(&app, &mpath, None).await.header("etag").unwrap();
    app.send(form(&d.item, "body=More+tutoring", "")).await;
    let after = page(&app, &mpath, None).await.header("etag").unwrap();
    assert_ne!(before, after);
}
