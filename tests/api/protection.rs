//! Protection against clients that lock others out or exhaust the server: sign-in throttling,
//! the bound on password hashing, OAuth token errors, identity binding, CORS, slow clients.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::test::TestRequest;
use cogov::auth::throttle::SignInLimits;

use crate::common::{cli, Reply, TestApp};

const PASSWORD: &str = "the right password!";

fn sign_in(username: &str, password: &str, from: &str) -> TestRequest {
    let body = serde_urlencoded::to_string([
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ])
    .unwrap();
    TestRequest::post()
        .uri("/api/v1/auth/token")
        .peer_addr(from.parse::<SocketAddr>().unwrap())
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body)
}

fn client_sign_in(client_id: &str, secret: &str, from: &str) -> TestRequest {
    let body = serde_urlencoded::to_string([
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
    ])
    .unwrap();
    TestRequest::post()
        .uri("/api/v1/auth/token")
        .peer_addr(from.parse::<SocketAddr>().unwrap())
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body)
}

async fn account(app: &TestApp, username: &str) {
    cogov::commands::access::bootstrap_user(
        &cli(),
        &app.db,
        cogov::commands::access::NewUser {
            username,
            display_name: "T",
            email: None,
            password: PASSWORD,
            role: "family",
            council: None,
        },
    )
    .await
    .unwrap();
}

fn statuses(replies: &[Reply]) -> std::collections::BTreeMap<u16, usize> {
    let mut out = std::collections::BTreeMap::new();
    for r in replies {
        *out.entry(r.status.as_u16()).or_default() += 1;
    }
    out
}

const A: &str = "192.0.2.10:40000";
const B: &str = "198.51.100.20:40000";

#[actix_web::test]
async fn parallel_wrong_passwords_get_exactly_the_limit_of_real_checks() {
    let app = TestApp::with_protection(|p| {
        p.hashing = cogov::auth::secrets::Hashing::new(64);
    })
    .await;
    account(&app, "target").await;
    let attempts = (0..50).map(|i| app.send(sign_in("target", &format!("wrong {i}"), A)));
    let replies = futures_util::future::join_all(attempts).await;
    let counts = statuses(&replies);
    assert_eq!(counts.get(&401), Some(&5), "{counts:?}");
    assert_eq!(counts.get(&429), Some(&45), "{counts:?}");
    for r in replies.iter().filter(|r| r.status == 429) {
        let p = r.expect(429);
        assert_eq!(p["code"], "too-many-requests");
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
    }
    // The right password too waits for the window: 5 guesses were all there was.
    app.send(sign_in("target", PASSWORD, A)).await.expect(429);
    // Only real checks were counted; the refusals were not.
    let window = app.state.protection.sign_in.window_start(cogov::db::now());
    let counted = app.query(|conn| {
        cogov::db::access::throttle::counted(
            conn,
            "account_address",
            &format!("target {}", A.split(':').next().unwrap()),
            window,
        )
    });
    assert_eq!(counted, 5);
    let counted =
        app.query(|conn| cogov::db::access::throttle::counted(conn, "account", "target", window));
    assert_eq!(counted, 5);
}

/// Sleeps until just after the next window of `window` starts.
async fn next_window(window: Duration) {
    let len = window.as_millis() as i64;
    let now = chrono::Utc::now().timestamp_millis();
    let wait = len - now.rem_euclid(len) + 20;
    actix_web::rt::time::sleep(Duration::from_millis(wait as u64)).await;
}

#[actix_web::test]
async fn a_lockout_ends_with_its_window_and_refusals_do_not_extend_it() {
    let window = Duration::from_secs(5);
    let app = TestApp::with_protection(|p| {
        p.sign_in = SignInLimits {
            window,
            ..SignInLimits::default()
        };
    })
    .await;
    account(&app, "target").await;
    next_window(window).await;
    for i in 0..5 {
        app.send(sign_in("target", &format!("wrong {i}"), A))
            .await
            .expect(401);
    }
    let limited = app.send(sign_in("target", PASSWORD, A)).await;
    limited.expect(429);
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=5).contains(&wait), "{wait}");
    // Keep guessing, once every 100 ms, until the window is about to end: all refused, unchecked.
    let len = window.as_millis() as i64;
    let now = chrono::Utc::now().timestamp_millis();
    let end = now - now.rem_euclid(len) + len;
    let mut refused = 0;
    while chrono::Utc::now().timestamp_millis() < end - 300 {
        app.send(sign_in("target", "still wrong", A))
            .await
            .expect(429);
        refused += 1;
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused >= 1, "{refused}");
    next_window(window).await;
    app.send(sign_in("target", PASSWORD, A)).await.expect(200);
}

#[actix_web::test]
async fn one_address_cannot_lock_a_person_out_nor_spray_accounts() {
    let app = TestApp::with_protection(|p| {
        p.sign_in.max_failures_per_address = 8;
    })
    .await;
    account(&app, "target").await;
    for _ in 0..5 {
        app.send(sign_in("target", "wrong", A)).await.expect(401);
    }
    app.send(sign_in("target", PASSWORD, A)).await.expect(429);
    // The person, from elsewhere, is not locked out; a right password gives its attempt back.
    for _ in 0..3 {
        app.send(sign_in("target", PASSWORD, B)).await.expect(200);
    }
    // A spraying many accounts from A hits the per-address limit (5 + 3 = 8 failures).
    for i in 0..3 {
        app.send(sign_in(&format!("someone{i}"), "wrong", A))
            .await
            .expect(401);
    }
    let p = app.send(sign_in("someone9", "wrong", A)).await.expect(429);
    assert_eq!(p["code"], "too-many-requests");
    app.send(sign_in("someone9", "wrong", B)).await.expect(401);
}

#[actix_web::test]
async fn many_addresses_together_lock_an_account_for_the_window() {
    let app = TestApp::with_protection(|p| {
        p.sign_in.max_failures_per_account = 7;
    })
    .await;
    account(&app, "target").await;
    for i in 0..7 {
        app.send(sign_in("target", "wrong", &format!("203.0.113.{i}:1000")))
            .await
            .expect(401);
    }
    app.send(sign_in("target", PASSWORD, B)).await.expect(429);
}

#[actix_web::test]
async fn a_wrong_client_secret_locks_out_only_the_address_that_sent_it() {
    let app = TestApp::new().await;
    let (client_id, secret) =
        cogov::commands::access::bootstrap_client(&cli(), &app.db, "sync", "district_admin", None)
            .await
            .unwrap();
    for _ in 0..5 {
        app.send(client_sign_in(&client_id, "wrong", A))
            .await
            .expect(401);
    }
    app.send(client_sign_in(&client_id, &secret, A))
        .await
        .expect(429);
    // The district's integration, from its own address, keeps working.
    app.send(client_sign_in(&client_id, &secret, B))
        .await
        .expect(200);
}

#[actix_web::test]
async fn sign_ins_beyond_the_hashing_bound_get_503_at_once() {
    let app = TestApp::with_protection(|p| {
        p.hashing = cogov::auth::secrets::Hashing::new(1);
    })
    .await;
    account(&app, "target").await;
    let held = app.state.protection.hashing.try_permit().unwrap();
    let started = std::time::Instant::now();
    let busy = app.send(sign_in("target", PASSWORD, A)).await;
    assert!(started.elapsed() < Duration::from_millis(500));
    let p = busy.expect(503);
    assert_eq!(p["code"], "unavailable");
    assert_eq!(p["error"], "temporarily_unavailable");
    assert!(busy.header("retry-after").is_some());
    drop(held);
    app.send(sign_in("target", PASSWORD, A)).await.expect(200);
}

#[actix_web::test]
async fn every_token_error_carries_the_oauth_error_code() {
    let app = TestApp::new().await;
    account(&app, "target").await;
    let (client_id, _) =
        cogov::commands::access::bootstrap_client(&cli(), &app.db, "sync", "district_admin", None)
            .await
            .unwrap();
    let form = |body: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body.to_owned())
    };
    let cases: Vec<(&str, TestRequest, u16, &str)> = vec![
        (
            "not a form",
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("content-type", "text/plain"))
                .set_payload("x"),
            415,
            "invalid_request",
        ),
        (
            "malformed JSON",
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"grant_type\": "),
            400,
            "invalid_request",
        ),
        (
            "too large",
            form(&format!(
                "grant_type=password&username={}",
                "x".repeat(20_000)
            )),
            413,
            "invalid_request",
        ),
        (
            "unknown grant type",
            form("grant_type=implicit"),
            422,
            "unsupported_grant_type",
        ),
        (
            "no password",
            form("grant_type=password&username=target"),
            422,
            "invalid_request",
        ),
        (
            "wrong password",
            form("grant_type=password&username=target&password=wrong"),
            401,
            "invalid_grant",
        ),
        (
            "unknown account",
            form("grant_type=password&username=nobody&password=wrong"),
            401,
            "invalid_grant",
        ),
        (
            "wrong client secret",
            form(&format!(
                "grant_type=client_credentials&client_id={client_id}&client_secret=wrong"
            )),
            401,
            "invalid_client",
        ),
    ];
    for (name, req, status, error) in cases {
        let reply = app.send(req).await;
        assert_eq!(reply.status.as_u16(), status, "{name}: {:?}", reply.json());
        let p = reply.expect(status);
        assert_eq!(p["error"], error, "{name}");
        if error == "invalid_client" {
            assert_eq!(
                reply.header("www-authenticate").as_deref(),
                Some("Basic realm=\"cogov\""),
                "{name}"
            );
        }
    }
    for _ in 0..5 {
        app.send(sign_in("target", "wrong", A)).await.expect(401);
    }
    let p = app.send(sign_in("target", "wrong", A)).await.expect(429);
    assert_eq!(p["error"], "invalid_grant");

    // Only the token endpoint speaks OAuth.
    let p = app
        .send(TestRequest::get().uri("/api/v1/me"))
        .await
        .expect(401);
    assert!(p.get("error").is_none(), "{p}");
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn district_token(claims: serde_json::Value) -> String {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let key = EncodingKey::from_rsa_pem(
        &std::fs::read(crate::common::key_path("district-rs256.key")).unwrap(),
    )
    .unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("district-1".to_owned());
    encode(&header, &claims, &key).unwrap()
}

async fn me(app: &TestApp, token: &str) -> Reply {
    app.send(
        TestRequest::get()
            .uri("/api/v1/me")
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
}

#[actix_web::test]
async fn provider_tokens_name_the_audience_as_a_string_or_an_array() {
    use crate::common::{AUDIENCE, ISSUER};
    use serde_json::json;
    let app = TestApp::new().await;
    let (person, _) = app.user("Ava Audience", "family", None);
    let sub = format!("ext-{person}");
    for aud in [
        json!(AUDIENCE),
        json!([AUDIENCE]),
        json!(["https://reports.district.example", AUDIENCE]),
    ] {
        let token =
            district_token(json!({"sub": sub, "iss": ISSUER, "aud": aud, "exp": now() + 300}));
        let who = me(&app, &token).await.expect(200);
        assert_eq!(who["person_id"], person.as_str(), "{aud}");
    }
    for aud in [
        json!("someone-else"),
        json!(["someone-else", "another"]),
        json!([]),
    ] {
        let token =
            district_token(json!({"sub": sub, "iss": ISSUER, "aud": aud, "exp": now() + 300}));
        me(&app, &token).await.expect(401);
    }
}

/// A person (created by the admin) with an account not yet bound to any provider subject.
async fn unbound_person(app: &TestApp, name: &str, email: &str, role: Option<&str>) -> String {
    use cogov::db::access;
    let person = app
        .post(
            "/api/v1/people",
            serde_json::json!({"display_name": name, "email": email}),
        )
        .await
        .expect(201);
    let person_id = crate::common::id(&person);
    let now = cogov::db::now();
    let account = access::Account {
        id: uuid::Uuid::now_v7().to_string(),
        person_id: person_id.clone(),
        username: None,
        password_hash: None,
        external_subject: None,
        disabled: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    app.db
        .write_blocking(|conn| {
            access::account::insert(conn, &account).map_err(cogov::error::ApiError::from)
        })
        .unwrap();
    if let Some(role) = role {
        app.post(
            "/api/v1/grants",
            serde_json::json!({"subject_kind": "person", "subject_id": person_id, "role": role}),
        )
        .await
        .expect(201);
    }
    person_id
}

fn provider(sub: &str, email: &str) -> String {
    use crate::common::{AUDIENCE, ISSUER};
    district_token(
        serde_json::json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE,
        "exp": now() + 300, "email": email}),
    )
}

async fn set_email(app: &TestApp, token: &str, person: &str, email: &str) {
    app.send_as(
        token,
        TestRequest::patch()
            .uri(&format!("/api/v1/people/{person}"))
            .insert_header(("If-Match", "*"))
            .set_json(serde_json::json!({"email": email})),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn a_first_sign_in_by_email_binds_the_subject_and_later_email_edits_change_nothing() {
    let app = TestApp::with_options(cogov::auth::IdentityClaim::Email, |_| {}).await;
    let fay = unbound_person(&app, "Fay Family", "fay@home.example", Some("family")).await;
    // An email the provider has not verified binds nothing.
    let unverified = district_token(
        serde_json::json!({"sub": "idp|fay", "iss": crate::common::ISSUER,
        "aud": crate::common::AUDIENCE, "exp": now() + 300, "email": "fay@home.example",
        "email_verified": false}),
    );
    me(&app, &unverified).await.expect(401);
    let token = provider("idp|fay", "FAY@home.example");
    let who = me(&app, &token).await.expect(200);
    assert_eq!(who["person_id"], fay.as_str());
    let bound = app.query(|conn| cogov::db::access::account::by_person(conn, &fay));
    assert_eq!(bound.unwrap().external_subject.as_deref(), Some("idp|fay"));
    // Fay changes her email; her provider subject still signs her in, whatever the token's email.
    set_email(&app, &app.admin, &fay, "fay@new.example").await;
    let who = me(&app, &provider("idp|fay", "fay@home.example"))
        .await
        .expect(200);
    assert_eq!(who["person_id"], fay.as_str());
    // Another subject presenting Fay's email gets nothing: her account is bound.
    me(&app, &provider("idp|other", "fay@new.example"))
        .await
        .expect(401);
}

#[actix_web::test]
async fn staff_cannot_become_an_admin_by_editing_the_admins_email() {
    let app = TestApp::with_options(cogov::auth::IdentityClaim::Email, |_| {}).await;
    let council = crate::common::id(
        &app.council(serde_json::json!({"kind": "assembly", "name": "A"}))
            .await,
    );
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&council));
    // A seated admin who has signed in (bound) and one who never has (unbound).
    let (bound_admin, _) = app.user("Ada Admin", "district_admin", None);
    let fresh_admin = unbound_person(
        &app,
        "Nia New",
        "nia@district.example",
        Some("district_admin"),
    )
    .await;
    for admin in [&bound_admin, &fresh_admin] {
        let seat = app.seat(&council, "district").await;
        app.put(
            &format!("/api/v1/seats/{}/holder", crate::common::id(&seat)),
            "\"1\"",
            serde_json::json!({"person_id": admin}),
        )
        .await
        .expect(200);
        // Staff may edit the records of people on their council: they put their own email on
        // the admin's record and sign in with their own provider identity.
        set_email(&app, &staff, admin, "mallory@evil.example").await;
        me(&app, &provider("idp|mallory", "mallory@evil.example"))
            .await
            .expect(401);
    }
    let fresh = app.query(|conn| cogov::db::access::account::by_person(conn, &fresh_admin));
    assert_eq!(fresh.unwrap().external_subject, None, "nothing was bound");
    // The bound admin still signs in with their own subject.
    let who = me(
        &app,
        &provider(&format!("ext-{bound_admin}"), "ada@example.org"),
    )
    .await
    .expect(200);
    assert_eq!(who["person_id"], bound_admin.as_str());
}

#[actix_web::test]
async fn a_family_cannot_lock_out_an_admin_by_taking_their_email() {
    let app = TestApp::with_options(cogov::auth::IdentityClaim::Email, |_| {}).await;
    let (admin, _) = app.user("Ada Admin", "district_admin", None);
    let (family, family_token) = app.user("Fay Family", "family", None);
    set_email(&app, &family_token, &family, "ada.admin@example.org").await;
    let who = me(
        &app,
        &provider(&format!("ext-{admin}"), "ada.admin@example.org"),
    )
    .await
    .expect(200);
    assert_eq!(who["person_id"], admin.as_str());
    // Nor sign in as the admin with it.
    me(&app, &provider("idp|fay", "ada.admin@example.org"))
        .await
        .expect(401);
}

/// Serves `app`'s state on a real socket with the server's client timeouts.
async fn real_server(app: &TestApp, request_timeout: Duration) -> SocketAddr {
    let state = app.state.clone();
    let server = actix_web::HttpServer::new(move || cogov::app::build(state.clone()))
        .workers(1)
        .client_request_timeout(request_timeout)
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(Duration::from_secs(2))
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    addr
}

/// Sends `head`, then trickles `trickle` one byte every `every`, reading whatever comes back;
/// returns the response text and how long until the server closed the connection.
fn trickle(
    addr: SocketAddr,
    head: String,
    trickle: Vec<u8>,
    every: Duration,
) -> (String, Duration) {
    use std::io::{Read, Write};
    let started = std::time::Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(every)).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = Vec::new();
    let mut pending = trickle.into_iter();
    let mut buf = [0u8; 4096];
    loop {
        assert!(started.elapsed() < Duration::from_secs(20), "never closed");
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                if let Some(byte) = pending.next() {
                    if stream.write_all(&[byte]).is_err() {
                        break;
                    }
                }
            }
            Err(_) => break,
        }
    }
    (
        String::from_utf8_lossy(&response).into_owned(),
        started.elapsed(),
    )
}

#[actix_web::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off_at_the_timeout() {
    let app = TestApp::with_protection(|p| p.body_read_timeout = Duration::from_secs(1)).await;
    let addr = real_server(&app, Duration::from_secs(1)).await;
    let head = format!(
        "POST /api/v1/people HTTP/1.1\r\nHost: cogov\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{",
        app.admin
    );
    let body = vec![b' '; 199];
    let (response, took) = actix_web::rt::task::spawn_blocking(move || {
        trickle(addr, head, body, Duration::from_millis(300))
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("request-timeout"), "{response}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // The token endpoint reads its own body, with the same limit.
    let head = "POST /api/v1/auth/token HTTP/1.1\r\nHost: cogov\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ngrant_type="
        .to_owned();
    let (response, took) = actix_web::rt::task::spawn_blocking(move || {
        trickle(addr, head, vec![b'x'; 190], Duration::from_millis(300))
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("invalid_request"), "{response}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[actix_web::test]
async fn headers_trickled_a_byte_at_a_time_are_cut_off_at_the_timeout() {
    let app = TestApp::new().await;
    let addr = real_server(&app, Duration::from_secs(1)).await;
    let rest =
        b"ost: cogov\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n".to_vec();
    let (response, took) = actix_web::rt::task::spawn_blocking(move || {
        trickle(
            addr,
            "GET /health/live HTTP/1.1\r\nH".to_owned(),
            rest,
            Duration::from_millis(300),
        )
    })
    .await
    .unwrap();
    assert!(
        response.is_empty() || response.starts_with("HTTP/1.1 408"),
        "{response}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[actix_web::test]
async fn cors_answers_only_allow_listed_origins() {
    let app = TestApp::with_protection(|p| {
        p.cors_allowed_origins = vec!["https://app.district.example".to_owned()];
    })
    .await;
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/councils")
            .insert_header(("Origin", origin.to_owned()))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            ))
    };
    let ok = app.send(preflight("https://app.district.example")).await;
    assert_eq!(ok.status.as_u16(), 204);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("https://app.district.example")
    );
    assert_eq!(
        ok.header("access-control-allow-methods").as_deref(),
        Some("GET, POST, PUT, PATCH, DELETE")
    );
    assert_eq!(
        ok.header("access-control-allow-headers").as_deref(),
        Some("Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key")
    );
    assert_eq!(ok.header("access-control-max-age").as_deref(), Some("7200"));
    assert_eq!(ok.header("vary").as_deref(), Some("Origin"));
    assert!(ok.header("access-control-allow-credentials").is_none());

    let denied = app.send(preflight("https://evil.example")).await;
    assert!(denied.header("access-control-allow-origin").is_none());
    assert!(denied.header("access-control-allow-methods").is_none());

    // Actual requests, successful and failed: the origin echoed, headers exposed, Vary set.
    for (path, status) in [("/api/v1/councils", 200), ("/api/v1/nowhere", 404)] {
        let reply = app
            .send(
                TestRequest::get()
                    .uri(path)
                    .insert_header(("Origin", "https://app.district.example")),
            )
            .await;
        assert_eq!(reply.status.as_u16(), status);
        assert_eq!(
            reply.header("access-control-allow-origin").as_deref(),
            Some("https://app.district.example")
        );
        assert_eq!(
            reply.header("access-control-expose-headers").as_deref(),
            Some("ETag, Link, Location, Retry-After, X-Request-Id, RateLimit, RateLimit-Policy")
        );
        assert!(reply.header("vary").is_some_and(|v| v.contains("Origin")));
        assert!(reply.header("access-control-allow-credentials").is_none());
    }
    let other = app
        .send(
            TestRequest::get()
                .uri("/api/v1/councils")
                .insert_header(("Origin", "https://evil.example")),
        )
        .await;
    assert_eq!(other.status.as_u16(), 200);
    assert!(other.header("access-control-allow-origin").is_none());
    assert!(other.header("vary").is_some_and(|v| v.contains("Origin")));
}

#[actix_web::test]
async fn without_allowed_origins_no_cors_headers_are_sent() {
    let app = TestApp::new().await;
    let reply = app
        .send(
            TestRequest::get()
                .uri("/api/v1/councils")
                .insert_header(("Origin", "https://app.district.example")),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert!(reply.header("access-control-allow-origin").is_none());
    let preflight = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/api/v1/councils")
                .insert_header(("Origin", "https://app.district.example"))
                .insert_header(("Access-Control-Request-Method", "POST")),
        )
        .await;
    assert!(preflight.header("access-control-allow-origin").is_none());
}

#[test]
fn cors_origins_come_from_the_environment_as_a_list() {
    let settings: cogov::config::Settings = figment::Figment::from(
        figment::providers::Serialized::defaults(cogov::config::Settings::default()),
    )
    .merge(figment::providers::Serialized::default(
        "cors_allowed_origins",
        "https://a.example, https://b.example:8443",
    ))
    .extract()
    .unwrap();
    let protection = settings.protection();
    assert_eq!(
        protection.cors_allowed_origins,
        ["https://a.example", "https://b.example:8443"]
    );
}

#[actix_web::test]
async fn the_limit_holds_across_two_instances_on_one_database() {
    use actix_web::{test, web};
    let app = TestApp::with_protection(|p| {
        p.hashing = cogov::auth::secrets::Hashing::new(32);
    })
    .await;
    account(&app, "target").await;
    // A second cogov instance: its own pools and writer, the same database.
    let protection = cogov::state::Protection {
        hashing: cogov::auth::secrets::Hashing::new(32),
        ..Default::default()
    };
    let other = web::Data::new(cogov::app::AppState {
        db: app.test_db.open(),
        tokens: cogov::auth::tokens::Tokens::new(&crate::common::token_config()).unwrap(),
        identity_claim: cogov::auth::IdentityClaim::Sub,
        protection,
    });
    let second = test::init_service(cogov::app::build(other)).await;
    let from_second = (0..20).map(|i| {
        let req = sign_in("target", &format!("wrong {i}"), A).to_request();
        let second = &second;
        async move { test::call_service(second, req).await.status().as_u16() }
    });
    let from_first = (0..20).map(|i| app.send(sign_in("target", &format!("wrong {i}"), A)));
    let (first, second_statuses) = futures_util::future::join(
        futures_util::future::join_all(from_first),
        futures_util::future::join_all(from_second),
    )
    .await;
    let checked = first.iter().filter(|r| r.status == 401).count()
        + second_statuses.iter().filter(|s| **s == 401).count();
    let refused = first.iter().filter(|r| r.status == 429).count()
        + second_statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 35));
}

#[actix_web::test]
async fn each_caller_has_a_request_quota_announced_in_ratelimit_headers() {
    // A day-long window: the test cannot straddle a reset except at midnight UTC.
    let app = TestApp::with_protection(|p| {
        p.rate_limit = cogov::quota::RateLimiter::new(3, 86_400);
    })
    .await;
    let from = |addr: &str| {
        TestRequest::get()
            .uri("/api/v1/schools")
            .peer_addr(addr.parse::<SocketAddr>().unwrap())
    };
    for left in [2, 1, 0] {
        let reply = app.send(from("198.51.100.7:4000")).await;
        reply.expect(200);
        assert_eq!(
            reply.header("ratelimit-policy").as_deref(),
            Some("\"default\";q=3;w=86400")
        );
        let state = reply.header("ratelimit").unwrap();
        assert!(
            state.starts_with(&format!("\"default\";r={left};t=")),
            "{state}"
        );
    }
    let refused = app.send(from("198.51.100.7:4001")).await;
    crate::common::assert_problem(&refused, 429);
    let problem = refused.json();
    assert_eq!(problem["code"], "quota-exceeded");
    assert_eq!(problem["violated-policies"], serde_json::json!(["default"]));
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry));
    assert!(refused
        .header("ratelimit")
        .unwrap()
        .starts_with("\"default\";r=0;t="));

    // Another address, and a signed-in caller from the spent address, have quotas of their own;
    // health probes count against nothing.
    app.send(from("198.51.100.8:4000")).await.expect(200);
    app.send_as(&app.admin, from("198.51.100.7:4002"))
        .await
        .expect(200);
    let probe = app
        .send(
            TestRequest::get()
                .uri("/health/live")
                .peer_addr("198.51.100.7:4003".parse::<SocketAddr>().unwrap()),
        )
        .await;
    probe.expect(200);
    assert!(probe.header("ratelimit").is_none());
}
