//! Identity and access: token attacks, the authorization matrix, sign-in, grants, the audit trail.

use actix_web::test::TestRequest;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::common::{assert_problem, cli, id, key_path, TestApp, AUDIENCE, ISSUER, TEST_SECRET};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn district_token(claims: Value, kid: Option<&str>) -> String {
    let key =
        EncodingKey::from_rsa_pem(&std::fs::read(key_path("district-rs256.key")).unwrap()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    encode(&header, &claims, &key).unwrap()
}

fn b64(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn me(app: &TestApp, token: &str) -> crate::common::Reply {
    app.send(
        TestRequest::get()
            .uri("/api/v1/me")
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
}

#[actix_web::test]
async fn a_district_identity_provider_token_is_accepted() {
    let app = TestApp::new().await;
    let council = id(&app.council(json!({"kind": "assembly", "name": "A"})).await);
    let (person, _) = app.user("Dee District", "council_staff", Some(&council));
    let token = district_token(
        json!({"sub": format!("ext-{person}"), "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 300}),
        Some("district-1"),
    );
    let reply = me(&app, &token).await;
    let body = reply.expect(200);
    assert_eq!(body["person_id"], person);
    assert_eq!(body["roles"][0]["role"], "council_staff");
    assert!(body["roles"][0]["council_id"].is_string());
}

#[actix_web::test]
async fn token_attacks_are_all_refused_with_401() {
    let app = TestApp::new().await;
    let (person, good) = app.user("Tess Target", "district_admin", None);
    me(&app, &good).await.expect(200);
    let sub = format!("ext-{person}");
    let valid = json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 300});

    let mut attacks: Vec<(&str, String)> = Vec::new();
    attacks.push((
        "alg none",
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&valid)
        ),
    ));
    // Key confusion: HS256 "signed" with the identity provider's public key.
    let public_pem = std::fs::read(key_path("district-rs256.pub")).unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("district-1".to_owned());
    attacks.push((
        "HS256 with the RS public key",
        encode(&hs, &valid, &EncodingKey::from_secret(&public_pem)).unwrap(),
    ));
    attacks.push((
        "expired",
        district_token(
            json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now() - 600}),
            Some("district-1"),
        ),
    ));
    attacks.push((
        "nbf in the future",
        district_token(json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 900, "nbf": now() + 600}), Some("district-1")),
    ));
    attacks.push((
        "wrong iss",
        district_token(
            json!({"sub": sub, "iss": "https://evil.example", "aud": AUDIENCE, "exp": now() + 300}),
            Some("district-1"),
        ),
    ));
    attacks.push((
        "wrong aud",
        district_token(
            json!({"sub": sub, "iss": ISSUER, "aud": "someone-else", "exp": now() + 300}),
            Some("district-1"),
        ),
    ));
    attacks.push((
        "missing exp",
        district_token(
            json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE}),
            Some("district-1"),
        ),
    ));
    let genuine = district_token(valid.clone(), Some("district-1"));
    me(&app, &genuine).await.expect(200);
    let parts: Vec<&str> = genuine.split('.').collect();
    let mut tampered_claims = valid.clone();
    tampered_claims["sub"] = json!("ext-someone-else");
    attacks.push((
        "tampered payload",
        format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]),
    ));
    attacks.push((
        "unknown kid",
        district_token(valid.clone(), Some("district-2")),
    ));
    let es_key =
        EncodingKey::from_ec_pem(&std::fs::read(key_path("district-es256.key")).unwrap()).unwrap();
    let mut es = Header::new(Algorithm::ES256);
    es.kid = Some("district-1".to_owned());
    attacks.push((
        "ES256 from a key nobody configured",
        encode(&es, &valid, &es_key).unwrap(),
    ));
    // A token cogov signed, for a subject it does not know.
    let forged_sub = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "person:01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 300}),
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap();
    attacks.push(("unknown subject", forged_sub));
    attacks.push(("garbage", "not.a.token".to_owned()));
    attacks.push(("100 KiB", "a".repeat(100 * 1024)));

    for (name, token) in attacks {
        let reply = me(&app, &token).await;
        assert_eq!(
            reply.status.as_u16(),
            401,
            "{name}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_problem(&reply, 401);
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{name}"
        );
        // Also on a public endpoint: a bad token is never silently treated as anonymous.
        let public = app
            .send(
                TestRequest::get()
                    .uri("/api/v1/councils")
                    .insert_header(("Authorization", format!("Bearer {token}"))),
            )
            .await;
        assert_eq!(public.status.as_u16(), 401, "{name} on a public endpoint");
    }
    let reply = app
        .send(
            TestRequest::get()
                .uri("/api/v1/me")
                .insert_header(("Authorization", "Basic YTpi")),
        )
        .await;
    reply.expect(401);
}

/// Everyone the roles table names, and the objects they touch.
struct World {
    council_a: String,
    council_b: String,
    seat_b: String,
    school: String,
    member: String,
    family: String,
    tokens: Vec<(&'static str, Option<String>)>,
}

async fn world(app: &TestApp) -> World {
    let school = id(&app.school("M1").await);
    let council_a = id(&app.council(json!({"kind": "assembly", "name": "A"})).await);
    let council_b = id(&app.council(json!({"kind": "assembly", "name": "B"})).await);
    let seat_a = app.seat(&council_a, "families").await;
    let seat_b = id(&app.seat(&council_b, "families").await);
    let (_, staff) = app.user("Sam Staff", "council_staff", Some(&council_a));
    let (member, member_token) = app.user("Mo Member", "none", None);
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat_a)),
        "\"1\"",
        json!({"person_id": member}),
    )
    .await
    .expect(200);
    let (family, family_token) = app.user("Fay Family", "family", None);
    let (_, partner) = app.user("Pat Partner", "partner", None);
    World {
        council_a,
        council_b,
        seat_b,
        school,
        member,
        family,
        tokens: vec![
            ("admin", Some(app.admin.clone())),
            ("staff", Some(staff)),
            ("member", Some(member_token)),
            ("family", Some(family_token)),
            ("partner", Some(partner)),
            ("anonymous", None),
        ],
    }
}

#[actix_web::test]
async fn authorization_matrix() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let a = &w.council_a;
    let b = &w.council_b;
    let seat_b = &w.seat_b;
    let school = &w.school;
    let member = &w.member;
    let family = &w.family;
    let new_council = json!({"kind": "assembly", "name": "N"});
    let new_seat = json!({"constituency": "students", "title": "S"});
    let rename = json!({"name": "Renamed"});
    let person = json!({"display_name": "New Person"});
    let phone = json!({"phone": "+1 213 555 0100"});
    // A public address literal: accepted without resolving a name, never called (no worker runs).
    let hook_body = json!({"url": "https://93.184.215.14/hooks", "event_types": ["*"]});
    let hook = id(&app
        .post("/api/v1/webhooks", hook_body.clone())
        .await
        .expect(201));
    //                                                                admin staff member family partner anon
    let import = app
        .send_admin(
            TestRequest::post()
                .uri("/api/v1/imports?dry_run=true")
                .insert_header(("content-type", "application/zip"))
                .set_payload(crate::imports::zip_of(&[(
                    "people.csv",
                    "external_id,display_name\n1,A\n",
                )])),
        )
        .await
        .expect(202);
    let import = id(&import);
    let new_app = json!({"name": "Helper", "owner": "Helper Co.",
        "redirect_uris": ["https://helper.example/cb"], "scopes": ["service_requests:read"]});
    let cells: Vec<(&str, String, Option<Value>, [u16; 6])> = vec![
        (
            "GET",
            "/api/v1/apps".into(),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        // Anyone signed in may submit an app; only a district admin's is active at once.
        (
            "POST",
            "/api/v1/apps".into(),
            Some(new_app.clone()),
            [201, 201, 201, 201, 201, 401],
        ),
        (
            "GET",
            "/api/v1/me/apps".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            "POST",
            "/api/v1/family-invitations".into(),
            Some(
                json!({"person_id": family, "purpose": "password_reset", "relationship": "parent"}),
            ),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            "GET",
            "/api/v1/schools".into(),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/schools/{school}"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/schools".into(),
            Some(json!({"name": "S", "district_code": "NEW", "time_zone": "UTC"})),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/schools/{school}"),
            Some(rename.clone()),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            "/api/v1/councils".into(),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/councils/{a}"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/councils/{a}/composition"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/councils/{a}/seats"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/councils/{a}/rule-overrides"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/councils".into(),
            Some(new_council.clone()),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/councils/{a}"),
            Some(rename.clone()),
            [200, 200, 403, 403, 403, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/councils/{b}"),
            Some(rename.clone()),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "POST",
            format!("/api/v1/councils/{a}/seats"),
            Some(new_seat.clone()),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            "POST",
            format!("/api/v1/councils/{b}/seats"),
            Some(new_seat.clone()),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/seats/{seat_b}"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/seats/{seat_b}/holdings"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "PATCH",
            format!("/api/v1/seats/{seat_b}"),
            Some(json!({"title": "T"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            "/api/v1/people".into(),
            None,
            [200, 200, 403, 403, 403, 401],
        ),
        (
            "POST",
            "/api/v1/people".into(),
            Some(person.clone()),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/people/{member}"),
            None,
            [200, 200, 200, 404, 404, 401],
        ),
        (
            "GET",
            format!("/api/v1/people/{family}"),
            None,
            [200, 404, 404, 200, 404, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/people/{member}"),
            Some(phone.clone()),
            [200, 200, 200, 404, 404, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/people/{family}"),
            Some(phone.clone()),
            [200, 404, 404, 200, 404, 401],
        ),
        (
            "DELETE",
            format!("/api/v1/people/{family}"),
            None,
            [0, 404, 404, 403, 404, 401],
        ),
        (
            "GET",
            "/api/v1/me".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            "GET",
            "/api/v1/grants".into(),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            "/api/v1/audit-events".into(),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            "/api/v1/webhooks".into(),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "POST",
            "/api/v1/webhooks".into(),
            Some(hook_body.clone()),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/webhooks/{hook}"),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/webhooks/{hook}"),
            Some(json!({"description": "Sync"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "POST",
            format!("/api/v1/webhooks/{hook}/secret"),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/webhooks/{hook}/deliveries"),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "POST",
            format!(
                "/api/v1/webhooks/{hook}/deliveries/{}/redeliver",
                uuid::Uuid::now_v7()
            ),
            None,
            [404, 403, 403, 403, 403, 401],
        ),
        (
            "DELETE",
            format!("/api/v1/webhooks/{hook}"),
            None,
            [0, 403, 403, 403, 403, 401],
        ),
        (
            "DELETE",
            format!("/api/v1/schools/{school}"),
            None,
            [0, 403, 403, 403, 403, 401],
        ),
        // A JSON body is not an upload: the admin is told so (415), everyone else is refused.
        (
            "POST",
            "/api/v1/imports".into(),
            Some(json!({})),
            [415, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/imports/{import}"),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/imports/{import}/rows"),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
    ];
    let audit_rows = || {
        app.query(|conn| {
            use cogov::db::schema::audit_events::dsl::*;
            use diesel::prelude::*;
            audit_events.count().get_result::<i64>(conn)
        })
    };
    let before = audit_rows();
    let mut audited_requests = 0;
    let mut failures = Vec::new();
    for (method, path, body, expected) in &cells {
        for (i, (role, token)) in w.tokens.iter().enumerate() {
            if expected[i] == 0 {
                continue; // not exercised for this role (it would remove the object)
            }
            let mut req = TestRequest::default()
                .method(method.parse().unwrap())
                .uri(path)
                .insert_header(("If-Match", "*"));
            if let Some(b) = body {
                req = req.set_json(b);
            }
            if let Some(t) = token {
                req = req.insert_header(("Authorization", format!("Bearer {t}")));
            }
            let reply = app.send(req).await;
            let status = reply.status.as_u16();
            let protected = [
                "/api/v1/people",
                "/api/v1/grants",
                "/api/v1/audit-events",
                "/api/v1/me",
                "/api/v1/apps",
            ]
            .iter()
            .any(|p| path.starts_with(p));
            if *method != "GET" || protected {
                audited_requests += 1;
            }
            if status != expected[i] {
                failures.push(format!(
                    "{method} {path} as {role}: {status}, expected {} ({})",
                    expected[i],
                    String::from_utf8_lossy(&reply.body)
                ));
            } else if status >= 400 {
                assert_problem(&reply, status);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );
    // Every write and every protected read the matrix made is in the audit trail, denied ones too.
    assert_eq!(audit_rows() - before, audited_requests);
}

#[actix_web::test]
async fn the_audit_trail_records_protected_reads_and_all_writes() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let family_token = w.tokens[3].1.clone().unwrap();
    let staff_token = w.tokens[1].1.clone().unwrap();
    // A denied read of someone else's record, an allowed read of one's own, a write, a public read.
    app.send_as(
        &family_token,
        TestRequest::get().uri(&format!("/api/v1/people/{}", w.member)),
    )
    .await
    .expect(404);
    app.send_as(
        &family_token,
        TestRequest::get().uri(&format!("/api/v1/people/{}", w.family)),
    )
    .await
    .expect(200);
    let seat = app
        .send_as(
            &staff_token,
            TestRequest::post()
                .uri(&format!("/api/v1/councils/{}/seats", w.council_a))
                .set_json(json!({"constituency": "students", "title": "S"})),
        )
        .await
        .expect(201);
    app.send(TestRequest::get().uri("/api/v1/people"))
        .await
        .expect(401);
    app.send(TestRequest::get().uri(&format!("/api/v1/councils/{}", w.council_a)))
        .await
        .expect(200);

    let events = app.collect_pages("/api/v1/audit-events?limit=200").await;
    let find = |action: &str, resource: &str, actor: Option<&str>, outcome: &str| {
        events.iter().any(|e| {
            e["action"] == action
                && e["resource"] == resource
                && e["outcome"] == outcome
                && actor.is_none_or(|a| e["actor_id"] == a)
        })
    };
    assert!(
        find(
            "read",
            "/api/v1/people/{person_id}",
            Some(&w.family),
            "denied"
        ),
        "{events:#?}"
    );
    assert!(find(
        "read",
        "/api/v1/people/{person_id}",
        Some(&w.family),
        "allowed"
    ));
    assert!(find(
        "create",
        "/api/v1/councils/{council_id}/seats",
        None,
        "allowed"
    ));
    assert!(
        events
            .iter()
            .any(|e| e["resource_id"] == id(&seat) && e["status"] == 201),
        "created ids are recorded"
    );
    assert!(events
        .iter()
        .any(|e| e["action"] == "list" && e["actor_kind"] == "anonymous" && e["status"] == 401));
    assert!(
        !events
            .iter()
            .any(|e| e["resource"] == "/api/v1/councils/{council_id}" && e["action"] == "read"),
        "public reads are not audited"
    );
    let denied = events
        .iter()
        .find(|e| e["outcome"] == "denied" && e["actor_id"] == w.family.as_str())
        .unwrap();
    assert_eq!(denied["resource_id"], w.member.as_str());
    assert!(denied["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(
        denied["roles"],
        json!([{"role": "family", "council_id": null}])
    );

    // Filters and the CSV export.
    let mine = app
        .get(&format!("/api/v1/audit-events?actor_id={}", w.family))
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    let csv = app
        .get(&format!(
            "/api/v1/audit-events?actor_id={}&format=csv",
            w.family
        ))
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8(csv.body.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("id,occurred_at,actor_kind,actor_id,roles,action,resource"));
    assert_eq!(lines.len(), 3, "{text}");
    app.get("/api/v1/audit-events?format=xml").await.expect(422);
    // No way to change it.
    app.send_admin(TestRequest::delete().uri("/api/v1/audit-events"))
        .await
        .expect(405);
}

#[actix_web::test]
async fn sign_in_with_a_password_and_with_client_credentials() {
    let app = TestApp::new().await;
    let council = id(&app.council(json!({"kind": "assembly", "name": "A"})).await);
    cogov::commands::access::bootstrap_user(
        &cli(),
        &app.db,
        cogov::commands::access::NewUser {
            username: "Clerk",
            display_name: "Cleo Clerk",
            email: None,
            password: "a long enough password",
            role: "council_staff",
            council: Some(council.clone()),
        },
    )
    .await
    .unwrap();
    let form = |body: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body.to_owned())
    };

    let reply = app
        .send(form(
            "grant_type=password&username=clerk&password=a+long+enough+password",
        ))
        .await;
    let token = reply.expect(200);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 900);
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let access = token["access_token"].as_str().unwrap();
    let patched = app
        .send_as(
            access,
            TestRequest::patch()
                .uri(&format!("/api/v1/councils/{council}"))
                .insert_header(("If-Match", "*"))
                .set_json(json!({"name": "By the clerk"})),
        )
        .await;
    patched.expect(200);

    // Wrong password and unknown account look the same.
    let wrong = app
        .send(form("grant_type=password&username=clerk&password=nope"))
        .await
        .expect(401);
    let unknown = app
        .send(form("grant_type=password&username=nobody&password=nope"))
        .await
        .expect(401);
    assert_eq!(wrong["detail"], unknown["detail"]);

    // Scripts: client credentials, in the body or as HTTP Basic.
    let (client_id, secret) = cogov::commands::access::bootstrap_client(
        &cli(),
        &app.db,
        "reports",
        "council_staff",
        Some(council.clone()),
    )
    .await
    .unwrap();
    let reply = app
        .send(form(&format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
        )))
        .await;
    let script_token = reply.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let who = me(&app, &script_token).await.expect(200);
    assert_eq!(who["actor"], "client");
    assert_eq!(who["client_id"], client_id.as_str());
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    let reply = app
        .send(
            form("grant_type=client_credentials")
                .insert_header(("Authorization", format!("Basic {basic}"))),
        )
        .await;
    reply.expect(200);
    let reply = app
        .send(form(&format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret=wrong"
        )))
        .await;
    reply.expect(401);
    app.send(form("grant_type=implicit")).await.expect(422);
    app.send(
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .set_payload("x"),
    )
    .await
    .expect(415);
    let json_body = app
        .send(TestRequest::post().uri("/api/v1/auth/token").set_json(json!({"grant_type": "password", "username": "clerk", "password": "a long enough password"})))
        .await;
    json_body.expect(200);
}

#[actix_web::test]
async fn repeated_failed_sign_ins_are_rate_limited() {
    let app = TestApp::new().await;
    cogov::commands::access::bootstrap_user(
        &cli(),
        &app.db,
        cogov::commands::access::NewUser {
            username: "target",
            display_name: "T",
            email: None,
            password: "the right password!",
            role: "family",
            council: None,
        },
    )
    .await
    .unwrap();
    let attempt = |password: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(format!(
                "grant_type=password&username=target&password={password}"
            ))
    };
    for _ in 0..5 {
        app.send(attempt("wrong")).await.expect(401);
    }
    let limited = app.send(attempt("the+right+password%21")).await;
    let p = limited.expect(429);
    assert_eq!(p["code"], "too-many-requests");
    assert!(limited
        .header("retry-after")
        .is_some_and(|v| v.parse::<u64>().unwrap() > 0));
    // Another account is not affected.
    cogov::commands::access::bootstrap_user(
        &cli(),
        &app.db,
        cogov::commands::access::NewUser {
            username: "other",
            display_name: "O",
            email: None,
            password: "another password!!",
            role: "family",
            council: None,
        },
    )
    .await
    .unwrap();
    app.send(
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload("grant_type=password&username=other&password=another+password%21%21"),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn grants_are_data_and_take_effect_at_once() {
    let app = TestApp::new().await;
    let council = id(&app.council(json!({"kind": "assembly", "name": "A"})).await);
    let (person, token) = app.user("Gus Grantee", "none", None);
    let patch = |t: &str| {
        let t = t.to_owned();
        TestRequest::patch()
            .uri(&format!("/api/v1/councils/{council}"))
            .insert_header(("If-Match", "*"))
            .insert_header(("Authorization", format!("Bearer {t}")))
            .set_json(json!({"description": "x"}))
    };
    app.send(patch(&token)).await.expect(403);
    let p = app
        .post(
            "/api/v1/grants",
            json!({"subject_kind": "person", "subject_id": person, "role": "council_staff"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "council_id");
    let grant = app
        .post("/api/v1/grants", json!({"subject_kind": "person", "subject_id": person, "role": "council_staff", "council_id": council}))
        .await
        .expect(201);
    app.post("/api/v1/grants", json!({"subject_kind": "person", "subject_id": person, "role": "council_staff", "council_id": council}))
        .await
        .expect(409);
    app.send(patch(&token)).await.expect(200);
    let listed = app
        .get(&format!("/api/v1/grants?subject_id={person}"))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    app.delete(&format!("/api/v1/grants/{}", id(&grant)), "\"1\"")
        .await
        .expect(204);
    app.send(patch(&token)).await.expect(403);
}

#[actix_web::test]
async fn an_operator_links_a_person_to_their_identity_provider_subject() {
    let app = TestApp::new().await;
    let person = id(&app.person("Ines Idp").await);
    let token = district_token(
        json!({"sub": "00u1abcd@district", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 300}),
        Some("district-1"),
    );
    me(&app, &token).await.expect(401);
    cogov::commands::access::link_identity(&cli(), &app.db, &person, "00u1abcd@district")
        .await
        .unwrap();
    let who = me(&app, &token).await.expect(200);
    assert_eq!(who["person_id"], person.as_str());
    assert_eq!(
        who["roles"].as_array().unwrap().len(),
        0,
        "no grants yet: a signed-in caller with no roles"
    );
}

#[actix_web::test]
async fn keys_from_a_jwks_document_are_chosen_by_kid() {
    use cogov::auth::tokens::{TokenError, Tokens};
    let private =
        EncodingKey::from_rsa_pem(&std::fs::read(key_path("district-rs256.key")).unwrap()).unwrap();
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&private, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("rotating-2026".to_owned());
    let jwks = json!({"keys": [jwk]}).to_string();
    let mut config = crate::common::token_config();
    config.public_key_pem = None;
    config.jwks = Some(jwks);
    let tokens = Tokens::new(&config).unwrap();
    let claims = json!({"sub": "someone", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60});
    let (verified, local) = tokens
        .verify(&district_token(claims.clone(), Some("rotating-2026")))
        .unwrap();
    assert_eq!(verified.sub, "someone");
    assert!(
        !local,
        "a provider's token never counts as one cogov issued"
    );
    assert_eq!(
        tokens
            .verify(&district_token(claims, Some("district-1")))
            .unwrap_err(),
        TokenError::UnknownKey
    );

    // A JWKS key whose algorithm is not allowed is not used at all.
    config.allowed_algorithms = vec![Algorithm::ES256];
    let strict = Tokens::new(&config).unwrap();
    let claims = json!({"sub": "someone", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60});
    assert_eq!(
        strict
            .verify(&district_token(claims, Some("rotating-2026")))
            .unwrap_err(),
        TokenError::Algorithm
    );

    // A standalone secret shorter than 32 bytes is refused.
    let mut weak = crate::common::token_config();
    weak.secret = Some("short".to_owned());
    assert!(Tokens::new(&weak).is_err());
}

/// Public participation and assemblies: who may comment, hide, record speakers, register and
/// check in participants, and make and count assembly votes.
#[actix_web::test]
async fn participation_and_assembly_authorization_matrix() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let a = &w.council_a;
    let council = app.get(&format!("/api/v1/councils/{a}")).await.expect(200);
    app.patch(
        &format!("/api/v1/councils/{a}"),
        &crate::common::version_tag(&council),
        json!({"assembly_quorum": 1}),
    )
    .await
    .expect(200);
    let starts = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    let meeting = id(&app
        .post(
            &format!("/api/v1/councils/{a}/meetings"),
            json!({"type": "regular", "title": "M", "starts_at": starts, "location": "Gym",
                   "time_zone": "America/Los_Angeles"}),
        )
        .await
        .expect(201));
    let items = format!("/api/v1/meetings/{meeting}/agenda-items");
    let item = |title: &str| app.post(&items, json!({"kind": "action", "title": title}));
    let voted = id(&item("Voted").await.expect(201));
    let open = id(&item("Open").await.expect(201));
    for action in ["publish", "open"] {
        app.send_admin(
            TestRequest::post()
                .uri(&format!("/api/v1/meetings/{meeting}/{action}"))
                .insert_header(("If-Match", "*")),
        )
        .await
        .expect(200);
    }
    for s in ["open", "close"] {
        app.send_admin(
            TestRequest::post()
                .uri(&format!("/api/v1/agenda-items/{voted}/comment/{s}"))
                .insert_header(("If-Match", "*")),
        )
        .await
        .expect(200);
    }
    let participant = id(&app
        .post(
            &format!("/api/v1/meetings/{meeting}/participants"),
            json!({"name": "P", "constituency": "families"}),
        )
        .await
        .expect(201));
    app.post(
        &format!("/api/v1/meetings/{meeting}/check-ins"),
        json!({"participant_ids": [participant], "present": true}),
    )
    .await
    .expect(200);
    let comment = id(&app
        .post(
            &format!("/api/v1/agenda-items/{open}/comments"),
            json!({"body": "Hello"}),
        )
        .await
        .expect(201));
    let new_motion =
        json!({"agenda_item_id": voted, "text": "M", "mover_participant_id": participant});
    let motion = id(&app
        .post(
            &format!("/api/v1/meetings/{meeting}/assembly-motions"),
            new_motion.clone(),
        )
        .await
        .expect(201));
    //                                                                admin staff member family partner anon
    let cells: Vec<(&str, String, Option<Value>, [u16; 6])> = vec![
        (
            "POST",
            format!("/api/v1/agenda-items/{open}/comments"),
            Some(json!({"body": "Hi"})),
            [201, 201, 201, 201, 201, 201],
        ),
        (
            "GET",
            format!("/api/v1/agenda-items/{open}/comments"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/public-comments/{comment}/hide"),
            Some(json!({"reason": "R"})),
            [0, 200, 403, 403, 403, 401],
        ),
        (
            "POST",
            format!("/api/v1/agenda-items/{open}/speakers"),
            Some(json!({})),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/agenda-items/{open}/speakers"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/councils/{a}/agenda-sources"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/meetings/{meeting}/participants"),
            Some(json!({"name": "Q", "constituency": "students"})),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/meetings/{meeting}/participants"),
            None,
            [200, 200, 403, 403, 403, 401],
        ),
        (
            "POST",
            format!("/api/v1/meetings/{meeting}/check-ins"),
            Some(json!({"participant_ids": [participant], "present": true})),
            [200, 200, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/meetings/{meeting}/assembly-quorum"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/meetings/{meeting}/assembly-motions"),
            Some(new_motion),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/v1/assembly-motions/{motion}"),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/assembly-motions/{motion}/votes"),
            Some(json!({"votes": [{"participant_id": participant, "choice": "yes"}]})),
            [0, 201, 403, 403, 403, 401],
        ),
        (
            "POST",
            format!("/api/v1/assembly-motions/{motion}/close"),
            None,
            [0, 200, 403, 403, 403, 401],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &cells {
        for (i, (role, token)) in w.tokens.iter().enumerate() {
            if expected[i] == 0 {
                continue; // staff exercise it once; a second success would be a conflict
            }
            let mut req = TestRequest::default()
                .method(method.parse().unwrap())
                .uri(path)
                .insert_header(("If-Match", "*"));
            if let Some(b) = body {
                req = req.set_json(b);
            }
            if let Some(t) = token {
                req = req.insert_header(("Authorization", format!("Bearer {t}")));
            }
            let reply = app.send(req).await;
            let status = reply.status.as_u16();
            if status != expected[i] {
                failures.push(format!(
                    "{method} {path} as {role}: {status}, expected {} ({})",
                    expected[i],
                    String::from_utf8_lossy(&reply.body)
                ));
            } else if status >= 400 {
                assert_problem(&reply, status);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );
}
