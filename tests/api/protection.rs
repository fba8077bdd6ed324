//! Protection against clients that lock others out or exhaust the server: sign-in throttling,
//! the bound on password hashing, OAuth token errors, identity binding, CORS, slow clients.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::test::TestRequest;
use cogov::auth::throttle::SignInLimits;

use crate::common::{Reply, TestApp};

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

fn account(app: &TestApp, username: &str) {
    cogov::api::access::bootstrap_user(&app.db, username, "T", None, PASSWORD, "family", None)
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
    account(&app, "target");
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
    account(&app, "target");
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
    account(&app, "target");
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
    account(&app, "target");
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
        cogov::api::access::bootstrap_client(&app.db, "sync", "district_admin", None).unwrap();
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
    account(&app, "target");
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
    account(&app, "target");
    let (client_id, _) =
        cogov::api::access::bootstrap_client(&app.db, "sync", "district_admin", None).unwrap();
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
