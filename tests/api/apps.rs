//! Family accounts by invitation and third-party apps (OAuth 2.0 authorization code with PKCE):
//! the whole flow as a browser and an app drive it over HTTP, and the attacks the flow must
//! refuse.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{district_token, id, Reply, TestApp};

const REDIRECT: &str = "https://helper.example/callback";
const VERIFIER: &str = "a-pkce-verifier-of-enough-length-0123456789-abcdefghij";

fn form(path: &str, pairs: &[(&str, &str)]) -> TestRequest {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    TestRequest::post()
        .uri(path)
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body)
}

fn query_of(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn param(location: &str, name: &str) -> Option<String> {
    query_of(location)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn html(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// A family contact invited by the district admin, who takes up the invitation: their person id.
async fn family(app: &TestApp, name: &str, username: &str) -> String {
    let person = id(&app.person(name).await);
    let invitation = app
        .post(
            "/api/v1/family-invitations",
            json!({"person_id": person, "purpose": "sign_up", "relationship": "parent"}),
        )
        .await
        .expect(201);
    app.send(TestRequest::post().uri("/api/v1/family-invitations/accept").set_json(
        json!({"code": invitation["code"], "username": username, "password": "a family passphrase"}),
    ))
    .await
    .expect(200);
    person
}

async fn register(app: &TestApp, scopes: &[&str]) -> Value {
    app.post(
        "/api/v1/apps",
        json!({"name": "Family Helper", "owner": "Helper Co.", "redirect_uris": [REDIRECT],
            "scopes": scopes}),
    )
    .await
    .expect(201)
}

fn authorize_query(client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let challenge = cogov::domain::apps::s256(VERIFIER);
    let mut pairs: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "xyz-state"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        pairs.retain(|(key, _)| key != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oauth/authorize?{q}")
}

/// The browser part: the consent page, then the family signs in and allows. Returns the
/// redirect's Location.
async fn consent(app: &TestApp, client_id: &str, scope: &str, username: &str) -> String {
    let page = app
        .send(TestRequest::get().uri(&authorize_query(client_id, scope, &[])))
        .await;
    assert_eq!(page.status.as_u16(), 200, "{}", html(&page));
    // The form posts its hidden fields back, as a browser would.
    let body = html(&page);
    let hidden: Vec<(String, String)> = body
        .split("<input type=\"hidden\" ")
        .skip(1)
        .map(|chunk| {
            let name = chunk
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = chunk
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (
                name.to_owned(),
                value.replace("&#x2f;", "/").replace("&#x3a;", ":"),
            )
        })
        .collect();
    let mut pairs: Vec<(&str, &str)> = hidden
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.extend([
        ("username", username),
        ("password", "a family passphrase"),
        ("decision", "allow"),
    ]);
    let answer = app.send(form("/oauth/authorize", &pairs)).await;
    assert_eq!(answer.status.as_u16(), 303, "{}", html(&answer));
    answer.header("location").unwrap()
}

async fn exchange(
    app: &TestApp,
    client_id: &str,
    code: &str,
    redirect: &str,
    verifier: &str,
) -> Reply {
    app.send(form(
        "/api/v1/auth/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
    ))
    .await
}

async fn refresh(app: &TestApp, client_id: &str, token: &str) -> Reply {
    app.send(form(
        "/api/v1/auth/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", token),
        ],
    ))
    .await
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> Reply {
    app.send_as(token, TestRequest::get().uri(path)).await
}

/// The service catalog and a school a family can file requests at.
async fn services(app: &TestApp) -> (String, String) {
    let school = id(&app.school("APP1").await);
    app.council(json!({"kind": "school_site_council", "name": "SSC", "school_id": school}))
        .await;
    let category = app
        .post(
            "/api/v1/service-categories",
            json!({"code": "food-assistance",
                "names": {"en": "Food assistance", "es": "Ayuda con alimentos"},
                "descriptions": {"en": "Groceries and meals.", "es": "Despensa y comidas."},
                "first_contact_school_days": 2, "pillar": "integrated_student_supports",
                "attributes": []}),
        )
        .await
        .expect(201);
    (school, id(&category))
}

fn new_request(school: &str, category: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/service-requests")
        .insert_header(("Idempotency-Key", uuid::Uuid::now_v7().to_string()))
        .set_json(
            json!({"school_id": school, "category_id": category, "subject_code": "STU-1",
            "description": "We need help with groceries.", "attributes": {}}),
        )
}

#[actix_web::test]
async fn invitations_open_and_reset_family_accounts_once() {
    let app = TestApp::new().await;
    let person = id(&app.person("Maria Lopez").await);
    let invite = |purpose: &str, relationship: &str, birth: Option<&str>| json!({"person_id": person, "purpose": purpose, "relationship": relationship, "birth_date": birth});
    // No account for a child under 13; a student needs a birth date.
    let p = app
        .post(
            "/api/v1/family-invitations",
            invite("sign_up", "student", Some("2016-04-01")),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "birth_date");
    let p = app
        .post(
            "/api/v1/family-invitations",
            invite("sign_up", "student", None),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "birth_date");
    // A reset needs an account.
    let p = app
        .post(
            "/api/v1/family-invitations",
            invite("password_reset", "parent", None),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "purpose");

    let invitation = app
        .post(
            "/api/v1/family-invitations",
            invite("sign_up", "parent", None),
        )
        .await
        .expect(201);
    let code = invitation["code"].as_str().unwrap().to_owned();
    let accept = |code: &str, password: &str| {
        TestRequest::post()
            .uri("/api/v1/family-invitations/accept")
            .set_json(json!({"code": code, "username": "Maria.Lopez", "password": password}))
    };
    // A short password is refused without using the code.
    let p = app.send(accept(&code, "short")).await.expect(422);
    assert_eq!(p["errors"][0]["field"], "password");
    let done = app
        .send(accept(&code, "a family passphrase"))
        .await
        .expect(200);
    assert_eq!(done["username"], "maria.lopez");
    assert_eq!(done["person_id"], person.as_str());
    // Single use.
    let p = app
        .send(accept(&code, "another passphrase"))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "code");

    // The family signs in and is a family member.
    let sign_in = |password: &str| {
        form(
            "/api/v1/auth/token",
            &[
                ("grant_type", "password"),
                ("username", "maria.lopez"),
                ("password", password),
            ],
        )
    };
    let token = app.send(sign_in("a family passphrase")).await.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = get_as(&app, &token, "/api/v1/me").await.expect(200);
    assert_eq!(me["roles"][0]["role"], "family");
    // A second sign-up invitation is refused: the account exists.
    app.post(
        "/api/v1/family-invitations",
        invite("sign_up", "parent", None),
    )
    .await
    .expect(409);

    // Password reset by the same path.
    let reset = app
        .post(
            "/api/v1/family-invitations",
            invite("password_reset", "parent", None),
        )
        .await
        .expect(201);
    app.send(
        TestRequest::post()
            .uri("/api/v1/family-invitations/accept")
            .set_json(json!({"code": reset["code"], "password": "a brand new passphrase"})),
    )
    .await
    .expect(200);
    app.send(sign_in("a family passphrase")).await.expect(401);
    app.send(sign_in("a brand new passphrase"))
        .await
        .expect(200);

    // An expired invitation: 410.
    let late = app
        .post(
            "/api/v1/family-invitations",
            invite("password_reset", "parent", None),
        )
        .await
        .expect(201);
    let late_id = id(&late);
    app.query(|conn| {
        use cogov::db::schema::family_invitations::dsl::*;
        use diesel::prelude::*;
        diesel::update(family_invitations.filter(id.eq(&late_id)))
            .set(expires_at.eq(cogov::db::now() - chrono::Duration::minutes(1)))
            .execute(conn)
    });
    let p = app
        .send(
            TestRequest::post()
                .uri("/api/v1/family-invitations/accept")
                .set_json(json!({"code": late["code"], "password": "yet another passphrase"})),
        )
        .await
        .expect(410);
    assert_eq!(p["code"], "invitation-expired");

    // Staff accounts are never taken over by an invitation.
    let (staff_person, _) = app.user("Sam Admin", "district_admin", None);
    app.post(
        "/api/v1/family-invitations",
        json!({"person_id": staff_person, "purpose": "password_reset", "relationship": "parent"}),
    )
    .await
    .expect(409);

    // Invitations and sign-ups are in the audit trail.
    let events = app
        .get("/api/v1/audit-events?resource=/api/v1/family-invitations/accept")
        .await
        .expect(200);
    let allowed: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "allowed")
        .collect();
    let actions: Vec<&str> = allowed
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update"]);
    assert_eq!(
        allowed[0]["actor_id"],
        person.as_str(),
        "the family is the actor of its sign-up"
    );
}

/// The whole flow: registration, consent page, code, token, API call, refresh, revocation.
#[actix_web::test]
async fn an_app_acts_for_a_family_from_consent_to_revocation() {
    let app = TestApp::new().await;
    let (school, category) = services(&app).await;
    let person = family(&app, "Maria Lopez", "maria").await;
    let registered = register(&app, &["service_requests:read", "service_requests:write"]).await;
    assert_eq!(registered["status"], "active");
    assert_eq!(registered["confidential"], false);
    assert!(registered.get("client_secret").is_none());
    let client_id = registered["client_id"].as_str().unwrap().to_owned();

    // The metadata names the endpoints and S256 only.
    let meta = app
        .send(TestRequest::get().uri("/.well-known/oauth-authorization-server"))
        .await
        .expect(200);
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert!(meta["token_endpoint"]
        .as_str()
        .unwrap()
        .ends_with("/api/v1/auth/token"));

    // The consent page says in plain words what the app will do, in the family's language.
    let page = app
        .send(
            TestRequest::get()
                .uri(&authorize_query(&client_id, "service_requests:read", &[]))
                .insert_header(("Accept-Language", "es")),
        )
        .await;
    assert_eq!(page.status.as_u16(), 200);
    let body = html(&page);
    assert!(body.contains("Family Helper"), "{body}");
    assert!(body.contains("Ver sus solicitudes de servicios"), "{body}");
    assert!(!body.contains("<script"), "no scripts");
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("form-action 'self' https://helper.example"));
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));

    let location = consent(
        &app,
        &client_id,
        "service_requests:read service_requests:write",
        "maria",
    )
    .await;
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("xyz-state"));
    assert!(param(&location, "iss").is_some());
    let code = param(&location, "code").unwrap();

    let tokens = exchange(&app, &client_id, &code, REDIRECT, VERIFIER)
        .await
        .expect(200);
    assert_eq!(
        tokens["scope"],
        "service_requests:read service_requests:write"
    );
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();

    // The app files a request and reads it back, for the family.
    let filed = app
        .send_as(&access, new_request(&school, &category))
        .await
        .expect(201);
    assert_eq!(filed["family_person_id"], person.as_str());
    let list = get_as(&app, &access, "/api/v1/service-requests")
        .await
        .expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // The app's write names the app in the audit trail.
    let filed_id = id(&filed);
    let app_named: Vec<Option<String>> = app.query(|conn| {
        use cogov::db::schema::audit_events::dsl::*;
        use diesel::prelude::*;
        audit_events
            .filter(resource.eq("/api/v1/service-requests"))
            .filter(action.eq("create"))
            .select(app_client_id)
            .load(conn)
    });
    assert_eq!(app_named, [Some(client_id.clone())], "{filed_id}");
    // ... and a district admin reading the audit trail sees which app acted, as JSON and CSV.
    let trail = app
        .get("/api/v1/audit-events?resource=/api/v1/service-requests&action=create")
        .await
        .expect(200);
    let named: Vec<&Value> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["app_client_id"])
        .collect();
    assert_eq!(named, [&Value::from(client_id.clone())]);
    let csv = app
        .get("/api/v1/audit-events?resource=/api/v1/service-requests&action=create&format=csv")
        .await;
    let csv = String::from_utf8(csv.body.to_vec()).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",app_client_id"));
    assert!(lines.next().unwrap().ends_with(&format!(",{client_id}")));

    // The family sees the app, what it may do, and when it last acted.
    let family_token = app
        .send(form(
            "/api/v1/auth/token",
            &[
                ("grant_type", "password"),
                ("username", "maria"),
                ("password", "a family passphrase"),
            ],
        ))
        .await
        .expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = get_as(&app, &family_token, "/api/v1/me/apps")
        .await
        .expect(200);
    let allowed = &mine["items"][0];
    assert_eq!(allowed["app_name"], "Family Helper");
    assert_eq!(
        allowed["scopes"],
        json!(["service_requests:read", "service_requests:write"])
    );
    assert!(allowed["last_used_at"].is_string());
    // A read by the app is acting too: it moves "last acted".
    let before = allowed["last_used_at"].as_str().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(5));
    get_as(&app, &access, "/api/v1/service-requests")
        .await
        .expect(200);
    let mine = get_as(&app, &family_token, "/api/v1/me/apps")
        .await
        .expect(200);
    let after = mine["items"][0]["last_used_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(after > before, "{before} then {after}");
    // An app cannot list or revoke apps itself.
    get_as(&app, &access, "/api/v1/me/apps").await.expect(403);

    // Refresh: a new pair; the old refresh token is spent.
    let renewed = refresh(&app, &client_id, &refresh_token).await.expect(200);
    let access2 = renewed["access_token"].as_str().unwrap().to_owned();
    let refresh2 = renewed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh_token);
    get_as(&app, &access2, "/api/v1/service-requests")
        .await
        .expect(200);

    // Revocation by the app (RFC 7009): effective at once.
    app.send(form(
        "/oauth/revoke",
        &[("token", &refresh2), ("client_id", &client_id)],
    ))
    .await;
    let r = app
        .send(form(
            "/oauth/revoke",
            &[("token", &refresh2), ("client_id", &client_id)],
        ))
        .await;
    assert_eq!(r.status.as_u16(), 200);
    get_as(&app, &access2, "/api/v1/service-requests")
        .await
        .expect(401);
    refresh(&app, &client_id, &refresh2).await.expect(400);
    let mine = get_as(&app, &family_token, "/api/v1/me/apps")
        .await
        .expect(200);
    assert_eq!(mine["items"], json!([]));

    // Allowed again, then revoked by the family: effective at once.
    let location = consent(&app, &client_id, "service_requests:read", "maria").await;
    let tokens = exchange(
        &app,
        &client_id,
        &param(&location, "code").unwrap(),
        REDIRECT,
        VERIFIER,
    )
    .await
    .expect(200);
    let access3 = tokens["access_token"].as_str().unwrap().to_owned();
    get_as(&app, &access3, "/api/v1/service-requests")
        .await
        .expect(200);
    let mine = get_as(&app, &family_token, "/api/v1/me/apps")
        .await
        .expect(200);
    let grant = id(&mine["items"][0]);
    app.send_as(
        &family_token,
        TestRequest::delete()
            .uri(&format!("/api/v1/me/apps/{grant}"))
            .insert_header(("If-Match", "*")),
    )
    .await
    .expect(204);
    get_as(&app, &access3, "/api/v1/service-requests")
        .await
        .expect(401);
    let denied = refresh(&app, &client_id, tokens["refresh_token"].as_str().unwrap())
        .await
        .expect(400);
    assert_eq!(denied["error"], "invalid_grant");
}

#[actix_web::test]
async fn the_flow_refuses_attacks() {
    let app = TestApp::new().await;
    let (school, category) = services(&app).await;
    family(&app, "Maria Lopez", "maria").await;
    let other = family(&app, "Other Family", "other").await;
    let registered = register(&app, &["service_requests:read"]).await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let scope = "service_requests:read";

    // A redirect URI the app did not register: an error page, never a redirect there.
    let page = app
        .send(TestRequest::get().uri(&authorize_query(
            &client_id,
            scope,
            &[("redirect_uri", "https://evil.example/callback")],
        )))
        .await;
    assert_eq!(page.status.as_u16(), 422);
    assert!(page.header("location").is_none());
    // Unknown app: an error page.
    let page = app
        .send(TestRequest::get().uri(&authorize_query("app_unknown", scope, &[])))
        .await;
    assert_eq!(page.status.as_u16(), 422);
    // Missing or plain PKCE: back to the app with invalid_request.
    for extra in [
        vec![("code_challenge", ""), ("code_challenge_method", "")],
        vec![("code_challenge_method", "plain")],
    ] {
        let reply = app
            .send(TestRequest::get().uri(&authorize_query(&client_id, scope, &extra)))
            .await;
        assert_eq!(reply.status.as_u16(), 303, "{extra:?}");
        let location = reply.header("location").unwrap();
        assert_eq!(
            param(&location, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(param(&location, "state").as_deref(), Some("xyz-state"));
    }
    // A scope the app is not registered for.
    let reply = app
        .send(TestRequest::get().uri(&authorize_query(&client_id, "service_requests:write", &[])))
        .await;
    assert_eq!(
        param(&reply.header("location").unwrap(), "error").as_deref(),
        Some("invalid_scope")
    );
    // Denying sends access_denied back, no sign-in needed.
    let challenge = cogov::domain::apps::s256(VERIFIER);
    let deny = app
        .send(form(
            "/oauth/authorize",
            &[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", REDIRECT),
                ("scope", scope),
                ("state", "s1"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("decision", "deny"),
            ],
        ))
        .await;
    assert_eq!(deny.status.as_u16(), 303);
    assert_eq!(
        param(&deny.header("location").unwrap(), "error").as_deref(),
        Some("access_denied")
    );
    // A wrong password shows the page again (401), with no code.
    let wrong = app
        .send(form(
            "/oauth/authorize",
            &[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", REDIRECT),
                ("scope", scope),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("username", "maria"),
                ("password", "not the password"),
                ("decision", "allow"),
            ],
        ))
        .await;
    assert_eq!(wrong.status.as_u16(), 401);
    assert!(html(&wrong).contains("role=\"alert\""));

    // At the token endpoint: a changed redirect URI, a missing or wrong verifier.
    let code = param(&consent(&app, &client_id, scope, "maria").await, "code").unwrap();
    let p = exchange(
        &app,
        &client_id,
        &code,
        "https://helper.example/other",
        VERIFIER,
    )
    .await
    .expect(400);
    assert_eq!(p["error"], "invalid_grant");
    let code = param(&consent(&app, &client_id, scope, "maria").await, "code").unwrap();
    let p = app
        .send(form(
            "/api/v1/auth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &client_id),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        ))
        .await
        .expect(422);
    assert_eq!(p["error"], "invalid_request");
    let p = exchange(&app, &client_id, &code, REDIRECT, &format!("{VERIFIER}x"))
        .await
        .expect(400);
    assert_eq!(p["error"], "invalid_grant");

    // A reused code: refused, and the grant it came from is revoked.
    let code = param(&consent(&app, &client_id, scope, "maria").await, "code").unwrap();
    let tokens = exchange(&app, &client_id, &code, REDIRECT, VERIFIER)
        .await
        .expect(200);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    get_as(&app, &access, "/api/v1/service-requests")
        .await
        .expect(200);
    exchange(&app, &client_id, &code, REDIRECT, VERIFIER)
        .await
        .expect(400);
    get_as(&app, &access, "/api/v1/service-requests")
        .await
        .expect(401);

    // A reused refresh token revokes the family's grant to the app.
    let code = param(&consent(&app, &client_id, scope, "maria").await, "code").unwrap();
    let tokens = exchange(&app, &client_id, &code, REDIRECT, VERIFIER)
        .await
        .expect(200);
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let renewed = refresh(&app, &client_id, &first).await.expect(200);
    let access = renewed["access_token"].as_str().unwrap().to_owned();
    let p = refresh(&app, &client_id, &first).await.expect(400);
    assert_eq!(p["error"], "invalid_grant");
    get_as(&app, &access, "/api/v1/service-requests")
        .await
        .expect(401);
    refresh(&app, &client_id, renewed["refresh_token"].as_str().unwrap())
        .await
        .expect(400);

    // Scopes and the family role bound what an app does: a read-only app cannot file a
    // request, read people, or reach another family's request.
    let code = param(&consent(&app, &client_id, scope, "maria").await, "code").unwrap();
    let tokens = exchange(&app, &client_id, &code, REDIRECT, VERIFIER)
        .await
        .expect(200);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    app.send_as(&access, new_request(&school, &category))
        .await
        .expect(403);
    get_as(&app, &access, &format!("/api/v1/people/{other}"))
        .await
        .expect(403);
    get_as(&app, &access, "/api/v1/people").await.expect(403);
    let other_token = app
        .send(form(
            "/api/v1/auth/token",
            &[
                ("grant_type", "password"),
                ("username", "other"),
                ("password", "a family passphrase"),
            ],
        ))
        .await
        .expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = app
        .send_as(&other_token, new_request(&school, &category))
        .await
        .expect(201);
    get_as(
        &app,
        &access,
        &format!("/api/v1/service-requests/{}", id(&theirs)),
    )
    .await
    .expect(404);
    let list = get_as(&app, &access, "/api/v1/service-requests")
        .await
        .expect(200);
    assert_eq!(list["items"], json!([]));

    // A suspended app: its tokens stop at once, its refresh tokens and consent page too.
    let app_path = format!("/api/v1/apps/{}", id(&registered));
    app.patch(&app_path, "*", json!({"status": "suspended"}))
        .await
        .expect(200);
    get_as(&app, &access, "/api/v1/service-requests")
        .await
        .expect(401);
    let p = refresh(&app, &client_id, tokens["refresh_token"].as_str().unwrap())
        .await
        .expect(401);
    assert_eq!(p["error"], "invalid_client");
    let page = app
        .send(TestRequest::get().uri(&authorize_query(&client_id, scope, &[])))
        .await;
    assert_eq!(page.status.as_u16(), 403);
}

#[actix_web::test]
async fn developers_submit_apps_that_admins_approve() {
    let app = TestApp::new().await;
    let (_, developer) = app.user("Dee Developer", "none", None);
    let submitted = app
        .send_as(
            &developer,
            TestRequest::post().uri("/api/v1/apps").set_json(json!({
                "name": "Homework Pal", "owner": "Pal Inc.", "redirect_uris": ["http://127.0.0.1:8765/cb"],
                "confidential": true, "scopes": ["public:read"]})),
        )
        .await
        .expect(201);
    assert_eq!(submitted["status"], "pending");
    assert!(submitted["client_secret"].is_string());
    // Not usable before approval.
    let page = app
        .send(TestRequest::get().uri(&authorize_query(
            submitted["client_id"].as_str().unwrap(),
            "public:read",
            &[("redirect_uri", "http://127.0.0.1:8765/cb")],
        )))
        .await;
    assert_eq!(page.status.as_u16(), 403);
    let path = format!("/api/v1/apps/{}", id(&submitted));
    let approved = app
        .patch(&path, "\"1\"", json!({"status": "active"}))
        .await
        .expect(200);
    assert_eq!(approved["status"], "active");
    // Bad registrations name the field.
    let p = app
        .post(
            "/api/v1/apps",
            json!({"name": "X", "owner": "Y", "redirect_uris": ["http://evil.example/cb"], "scopes": ["admin"]}),
        )
        .await
        .expect(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["redirect_uris[0]", "scopes[0]"]);
}

/// A code is single-use across app instances: the same code sent at once to two instances on one
/// database is exchanged exactly once, and the losing attempts count as reuse, which ends the
/// grant (so the winner's token stops working too).
#[actix_web::test]
async fn a_code_raced_across_two_instances_is_exchanged_once() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    family(&app, "Rosa Diaz", "rosa").await;
    let registered = register(&app, &["service_requests:read"]).await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let location = consent(&app, &client_id, "service_requests:read", "rosa").await;
    let code = param(&location, "code").unwrap();
    let pairs = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let replies = futures_util::future::join_all((0..8).map(|n| {
        let req = form("/api/v1/auth/token", &pairs);
        let (app, other) = (&app, &other);
        async move {
            if n % 2 == 0 {
                app.send(req).await
            } else {
                other.send(req).await
            }
        }
    }))
    .await;
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(won.len(), 1, "exactly one exchange succeeds");
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status.as_u16(), 400);
        assert_eq!(r.json()["error"], "invalid_grant");
    }
    let token = won[0].json()["access_token"].as_str().unwrap().to_owned();
    let after = get_as(&app, &token, "/api/v1/service-requests").await;
    assert_eq!(after.status.as_u16(), 401, "a reused code ends the grant");
}

/// Where the district connects its identity provider, a family takes up its invitation by
/// linking the provider identity instead of choosing a password, and then signs in through
/// the provider; a token cogov issued, a bad token, or both credentials at once are refused
/// without using the code.
#[actix_web::test]
async fn an_invitation_links_the_district_identity_provider() {
    let app = TestApp::new().await;
    let person = id(&app.person("Ana Ruiz").await);
    let invitation = app
        .post(
            "/api/v1/family-invitations",
            json!({"person_id": person, "purpose": "sign_up", "relationship": "parent"}),
        )
        .await
        .expect(201);
    let code = invitation["code"].as_str().unwrap().to_owned();
    let accept = |body: Value| {
        TestRequest::post()
            .uri("/api/v1/family-invitations/accept")
            .set_json(body)
    };
    let provider = district_token("idp|ana-ruiz");
    let p = app
        .send(accept(json!({"code": code, "username": "ana", "password": "a family passphrase", "id_token": provider})))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "id_token");
    let p = app
        .send(accept(
            json!({"code": code, "username": "ana", "id_token": "not.a.token"}),
        ))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "id_token");
    let p = app
        .send(accept(json!({"code": code, "username": "ana"})))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "password");
    // A token cogov issued (here the admin's) names no provider identity.
    let own = app.admin.clone();
    let p = app
        .send(accept(
            json!({"code": code, "username": "ana", "id_token": own}),
        ))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "id_token");

    let done = app
        .send(accept(
            json!({"code": code, "username": "ana", "id_token": provider}),
        ))
        .await
        .expect(200);
    assert_eq!(done["person_id"], person.as_str());
    // The provider's token now signs the family in, as a family member.
    let me = get_as(&app, &provider, "/api/v1/me").await.expect(200);
    assert_eq!(me["person_id"], person.as_str(), "{me}");
    assert_eq!(me["roles"][0]["role"], "family");
    // No password was set: the password grant does not open the account.
    app.send(form(
        "/api/v1/auth/token",
        &[
            ("grant_type", "password"),
            ("username", "ana"),
            ("password", "a family passphrase"),
        ],
    ))
    .await
    .expect(401);
}
