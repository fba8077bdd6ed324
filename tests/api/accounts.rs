//! Accounts and API clients managed over the API: the lifecycle, sign-in effects (a disabled
//! account's or client's tokens stop at once, a rotated secret replaces the old one), who may
//! manage them, the audit trail of reads, and that no hash is ever served.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{district_token, id, version_tag, Reply, TestApp};

fn form(body: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body.to_owned())
}

fn encode_form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Reply {
    app.send(form(&encode_form(&[
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ])))
    .await
}

async fn client_token(app: &TestApp, client_id: &str, secret: &str) -> Reply {
    app.send(form(&encode_form(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
    ])))
    .await
}

async fn me(app: &TestApp, token: &str) -> Reply {
    app.send_as(token, TestRequest::get().uri("/api/v1/me"))
        .await
}

/// No response body names a stored hash, whatever its status.
#[track_caller]
fn no_hashes(reply: &Reply) {
    let text = String::from_utf8_lossy(&reply.body);
    assert!(
        !text.contains("password_hash")
            && !text.contains("secret_hash")
            && !text.contains("$argon2"),
        "a hash in a response: {text}"
    );
}

#[actix_web::test]
async fn an_account_is_given_changed_disabled_and_enabled() {
    let app = TestApp::new().await;
    let person = id(&app.person("Maria Lopez").await);

    // Password sign-in needs a username and a password together, and a long enough password.
    let p = app
        .post(
            "/api/v1/accounts",
            json!({"person_id": person, "username": "maria"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "password");
    let p = app
        .post(
            "/api/v1/accounts",
            json!({"person_id": person, "username": "maria", "password": "short"}),
        )
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "password");
    let p = app
        .post("/api/v1/accounts", json!({"person_id": uuid::Uuid::now_v7(), "username": "ghost", "password": "a long enough password"}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "person_id");
    app.post(
        "/api/v1/accounts",
        json!({"person_id": person, "password_hash": "x"}),
    )
    .await
    .expect(422);

    let reply = app
        .post(
            "/api/v1/accounts",
            json!({"person_id": person, "username": " Maria.Lopez ", "password": "a long enough password"}),
        )
        .await;
    no_hashes(&reply);
    let account = reply.expect(201);
    assert_eq!(account["username"], "maria.lopez");
    assert_eq!(account["has_password"], true);
    assert_eq!(account["disabled"], false);
    assert!(account.get("password").is_none());
    let url = format!("/api/v1/accounts/{}", id(&account));
    assert_eq!(reply.header("location").as_deref(), Some(url.as_str()));
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));

    // One account per person; a username belongs to one account.
    let p = app
        .post(
            "/api/v1/accounts",
            json!({"person_id": person, "external_subject": "x@district"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "duplicate");
    let other = id(&app.person("Other Person").await);
    app.post(
        "/api/v1/accounts",
        json!({"person_id": other, "username": "MARIA.LOPEZ", "password": "another long password"}),
    )
    .await
    .expect(409);

    // The person signs in.
    let token = sign_in(&app, "maria.lopez", "a long enough password")
        .await
        .expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me(&app, &token).await.expect(200)["person_id"], person);

    // Read, list, filter.
    let reply = app.get(&url).await;
    no_hashes(&reply);
    assert_eq!(reply.expect(200)["id"], account["id"]);
    let reply = app
        .get(&format!("/api/v1/accounts?person_id={person}"))
        .await;
    no_hashes(&reply);
    let listed = reply.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], account["id"]);
    let listed = app.get("/api/v1/accounts?disabled=true").await.expect(200);
    assert!(listed["items"].as_array().unwrap().is_empty());
    let all = app.collect_pages("/api/v1/accounts?limit=1").await;
    assert_eq!(all.len(), 2, "the admin's account and Maria's");

    // Changes need If-Match, and the current one.
    app.send_admin(
        TestRequest::patch()
            .uri(&url)
            .set_json(json!({"disabled": true})),
    )
    .await
    .expect(428);
    app.patch(&url, "\"7\"", json!({"disabled": true}))
        .await
        .expect(412);
    app.patch(&url, &version_tag(&account), json!({"disabled": null}))
        .await
        .expect(422);
    app.patch(&url, &version_tag(&account), json!({"password": null}))
        .await
        .expect(422);

    // A new password: the old one stops working.
    let reply = app
        .patch(
            &url,
            &version_tag(&account),
            json!({"password": "a brand new passphrase"}),
        )
        .await;
    no_hashes(&reply);
    let account = reply.expect(200);
    assert_eq!(account["version"], 2);
    sign_in(&app, "maria.lopez", "a long enough password")
        .await
        .expect(401);
    sign_in(&app, "maria.lopez", "a brand new passphrase")
        .await
        .expect(200);

    // Link an identity provider's subject: its tokens sign the person in; unlink: they stop.
    let idp = district_token("00u1maria@district");
    me(&app, &idp).await.expect(401);
    let account = app
        .patch(
            &url,
            &version_tag(&account),
            json!({"external_subject": "00u1maria@district"}),
        )
        .await
        .expect(200);
    assert_eq!(me(&app, &idp).await.expect(200)["person_id"], person);
    let account = app
        .patch(
            &url,
            &version_tag(&account),
            json!({"external_subject": null}),
        )
        .await
        .expect(200);
    assert_eq!(account["external_subject"], Value::Null);
    me(&app, &idp).await.expect(401);

    // A patch that changes nothing keeps the version.
    let same = app
        .patch(&url, &version_tag(&account), json!({"disabled": false}))
        .await
        .expect(200);
    assert_eq!(same["version"], account["version"]);

    // Disabled: the token already issued is refused on the very next request, and sign-in too.
    me(&app, &token).await.expect(200);
    let account = app
        .patch(&url, &version_tag(&account), json!({"disabled": true}))
        .await
        .expect(200);
    assert_eq!(account["disabled"], true);
    let refused = me(&app, &token).await;
    refused.expect(401);
    assert!(refused.header("www-authenticate").is_some());
    sign_in(&app, "maria.lopez", "a brand new passphrase")
        .await
        .expect(401);
    let listed = app.get("/api/v1/accounts?disabled=true").await.expect(200);
    assert_eq!(listed["items"][0]["id"], account["id"]);

    // Enabled again: the same token works again (it has not expired).
    let account = app
        .patch(&url, &version_tag(&account), json!({"disabled": false}))
        .await
        .expect(200);
    me(&app, &token).await.expect(200);

    // Removing the username ends password sign-in.
    let account = app
        .patch(&url, &version_tag(&account), json!({"username": null}))
        .await
        .expect(200);
    assert_eq!(account["has_password"], false);
    sign_in(&app, "maria.lopez", "a brand new passphrase")
        .await
        .expect(401);
    let p = app
        .patch(&url, &version_tag(&account), json!({"username": "maria"}))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "password");

    // Every change is in the change log and the audit trail.
    let events = app
        .get("/api/v1/audit-events?resource=/api/v1/accounts/%7Baccount_id%7D&action=update&outcome=allowed")
        .await
        .expect(200);
    assert!(events["items"].as_array().unwrap().len() >= 6);
}

#[actix_web::test]
async fn an_account_for_an_identity_provider_only() {
    let app = TestApp::new().await;
    let person = id(&app.person("Ines Idp").await);
    let account = app
        .post(
            "/api/v1/accounts",
            json!({"person_id": person, "external_subject": "00u1ines@district"}),
        )
        .await
        .expect(201);
    assert_eq!(account["username"], Value::Null);
    assert_eq!(account["has_password"], false);
    let idp = district_token("00u1ines@district");
    assert_eq!(me(&app, &idp).await.expect(200)["person_id"], person);
    // The subject belongs to one account.
    let other = id(&app.person("Other").await);
    let p = app
        .post(
            "/api/v1/accounts",
            json!({"person_id": other, "external_subject": "00u1ines@district"}),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "duplicate");
    // The operator's command changes the same account.
    cogov::commands::access::link_identity(
        &crate::common::cli(),
        &app.db,
        &person,
        "00u2ines@district",
    )
    .await
    .unwrap();
    let now = app
        .get(&format!("/api/v1/accounts/{}", id(&account)))
        .await
        .expect(200);
    assert_eq!(now["external_subject"], "00u2ines@district");
    assert_eq!(now["version"], 2);
    me(&app, &idp).await.expect(401);
    // An account that could not sign in any way is refused.
    let third = id(&app.person("Third").await);
    app.post("/api/v1/accounts", json!({"person_id": third}))
        .await
        .expect(422);
}

#[actix_web::test]
async fn an_api_client_is_created_rotated_and_disabled() {
    let app = TestApp::new().await;
    let council = id(&app.council(json!({"kind": "assembly", "name": "A"})).await);
    let reply = app
        .post("/api/v1/api-clients", json!({"name": "attendance reports"}))
        .await;
    no_hashes(&reply);
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let client = reply.expect(201);
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let first_secret = client["client_secret"].as_str().unwrap().to_owned();
    assert!(client_id.starts_with("cl_"));
    assert!(first_secret.len() >= 40);
    let url = format!("/api/v1/api-clients/{}", id(&client));
    assert_eq!(reply.header("location").as_deref(), Some(url.as_str()));

    // The secret is shown once: reads never carry it.
    let reply = app.get(&url).await;
    no_hashes(&reply);
    let read = reply.expect(200);
    assert!(read.get("client_secret").is_none());
    assert_eq!(read["client_id"], client_id.as_str());
    let reply = app
        .get(&format!("/api/v1/api-clients?client_id={client_id}"))
        .await;
    no_hashes(&reply);
    let listed = reply.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("client_secret").is_none());

    // Roles are grants; the client signs in and works.
    app.post(
        "/api/v1/grants",
        json!({"subject_kind": "client", "subject_id": client_id, "role": "council_staff", "council_id": council}),
    )
    .await
    .expect(201);
    let token = client_token(&app, &client_id, &first_secret)
        .await
        .expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        me(&app, &token).await.expect(200)["client_id"],
        client_id.as_str()
    );

    // Rotation: the old secret is refused at once, the new one works.
    let reply = app
        .send_admin(TestRequest::post().uri(&format!("{url}/secret")))
        .await;
    no_hashes(&reply);
    let rotated = reply.expect(200);
    let second_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(second_secret, first_secret);
    assert_eq!(rotated["version"], 2);
    assert_eq!(reply.etag(), "\"2\"");
    client_token(&app, &client_id, &first_secret)
        .await
        .expect(401);
    client_token(&app, &client_id, &second_secret)
        .await
        .expect(200);
    // With If-Match, a rotation based on a stale read is refused.
    app.send_admin(
        TestRequest::post()
            .uri(&format!("{url}/secret"))
            .insert_header(("If-Match", "\"1\"")),
    )
    .await
    .expect(412);

    // Rename; disable: its tokens stop at once and it cannot get new ones.
    let renamed = app
        .patch(&url, "\"2\"", json!({"name": "attendance exports"}))
        .await
        .expect(200);
    assert_eq!(renamed["name"], "attendance exports");
    app.patch(&url, &version_tag(&renamed), json!({"name": null}))
        .await
        .expect(422);
    app.patch(&url, &version_tag(&renamed), json!({"name": "  "}))
        .await
        .expect(422);
    me(&app, &token).await.expect(200);
    let disabled = app
        .patch(&url, &version_tag(&renamed), json!({"disabled": true}))
        .await
        .expect(200);
    me(&app, &token).await.expect(401);
    client_token(&app, &client_id, &second_secret)
        .await
        .expect(401);
    let listed = app
        .get("/api/v1/api-clients?disabled=true")
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["id"], client["id"]);
    app.patch(&url, &version_tag(&disabled), json!({"disabled": false}))
        .await
        .expect(200);
    me(&app, &token).await.expect(200);

    app.get(&format!("/api/v1/api-clients/{}", uuid::Uuid::now_v7()))
        .await
        .expect(404);
    app.send_admin(TestRequest::post().uri(&format!(
        "/api/v1/api-clients/{}/secret",
        uuid::Uuid::now_v7()
    )))
    .await
    .expect(404);
}

#[actix_web::test]
async fn only_district_admins_manage_accounts_and_clients() {
    let app = TestApp::new().await;
    let council = id(&app.council(json!({"kind": "assembly", "name": "A"})).await);
    let (person, staff) = app.user("Sam Staff", "council_staff", Some(&council));
    let account = app
        .get(&format!("/api/v1/accounts?person_id={person}"))
        .await
        .expect(200)["items"][0]
        .clone();
    let client = app
        .post("/api/v1/api-clients", json!({"name": "sync"}))
        .await
        .expect(201);
    let other = id(&app.person("Someone").await);
    let a = format!("/api/v1/accounts/{}", id(&account));
    let c = format!("/api/v1/api-clients/{}", id(&client));
    let requests = || {
        vec![
            TestRequest::get().uri("/api/v1/accounts"),
            TestRequest::get().uri(&a),
            TestRequest::post()
                .uri("/api/v1/accounts")
                .set_json(json!({"person_id": other, "external_subject": "s"})),
            TestRequest::patch()
                .uri(&a)
                .insert_header(("If-Match", "*"))
                .set_json(json!({"disabled": true})),
            TestRequest::get().uri("/api/v1/api-clients"),
            TestRequest::get().uri(&c),
            TestRequest::post()
                .uri("/api/v1/api-clients")
                .set_json(json!({"name": "mine"})),
            TestRequest::patch()
                .uri(&c)
                .insert_header(("If-Match", "*"))
                .set_json(json!({"disabled": true})),
            TestRequest::post().uri(&format!("{c}/secret")),
        ]
    };
    for req in requests() {
        let reply = app.send_as(&staff, req).await;
        no_hashes(&reply);
        reply.expect(403);
    }
    for req in requests() {
        let reply = app.send(req).await;
        reply.expect(401);
    }
    // Nothing changed.
    let now = app.get(&a).await.expect(200);
    assert_eq!(now["disabled"], false);
    assert_eq!(app.get(&c).await.expect(200)["version"], 1);
}

#[actix_web::test]
async fn reads_of_accounts_and_clients_are_in_the_audit_trail() {
    let app = TestApp::new().await;
    let client = app
        .post("/api/v1/api-clients", json!({"name": "sync"}))
        .await
        .expect(201);
    let (_, staff) = app.user("Sam Staff", "family", None);
    app.get("/api/v1/accounts").await.expect(200);
    app.get(&format!("/api/v1/api-clients/{}", id(&client)))
        .await
        .expect(200);
    app.send_as(&staff, TestRequest::get().uri("/api/v1/api-clients"))
        .await
        .expect(403);
    let events = app.get("/api/v1/audit-events?limit=200").await.expect(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    let has = |resource: &str, action: &str, status: u64| {
        events
            .iter()
            .any(|e| e["resource"] == resource && e["action"] == action && e["status"] == status)
    };
    assert!(has("/api/v1/accounts", "list", 200), "{events:#?}");
    assert!(has("/api/v1/api-clients/{api_client_id}", "read", 200));
    assert!(has("/api/v1/api-clients", "list", 403));
    assert!(has("/api/v1/api-clients", "create", 201));
    let read = events
        .iter()
        .find(|e| e["resource"] == "/api/v1/api-clients/{api_client_id}")
        .unwrap();
    assert_eq!(read["resource_id"], client["id"]);
}

#[actix_web::test]
async fn admins_cannot_disable_themselves_nor_the_last_admin() {
    let app = TestApp::new().await;
    let me_now = me(&app, &app.admin).await.expect(200);
    let admin_person = me_now["person_id"].as_str().unwrap().to_owned();
    let own = app
        .get(&format!("/api/v1/accounts?person_id={admin_person}"))
        .await
        .expect(200)["items"][0]
        .clone();
    let own_url = format!("/api/v1/accounts/{}", id(&own));
    let p = app
        .patch(&own_url, &version_tag(&own), json!({"disabled": true}))
        .await
        .expect(409);
    assert_eq!(p["code"], "own-account");
    // Other changes to one's own account are fine.
    app.patch(
        &own_url,
        &version_tag(&own),
        json!({"external_subject": "ada@district"}),
    )
    .await
    .expect(200);

    // The last active district admin cannot be disabled by anyone (here: a caller whose own
    // account is not among the admins, as a command run with an admin's authority would be).
    let outsider = cogov::commands::Context::new(
        cogov::auth::Principal {
            actor: cogov::auth::Actor::Person(uuid::Uuid::now_v7().to_string()),
            grants: vec![cogov::auth::Grant {
                role: cogov::auth::Role::DistrictAdmin,
                council_id: None,
            }],
            seated_on: Vec::new(),
            app: None,
        },
        cogov::commands::RequestFacts::default(),
        "test",
    );
    let disable = || cogov::commands::accounts::AccountChanges {
        disabled: Some(Some(true)),
        ..Default::default()
    };
    let err = cogov::commands::accounts::update(
        &outsider,
        &app.db,
        uuid::Uuid::parse_str(&id(&own)).unwrap().into(),
        cogov::commands::Expected::Any,
        disable(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "last-district-admin");

    // With a second admin, one may disable the other; then the last one is protected again.
    let (second_person, second) = app.user("Bea Backup", "district_admin", None);
    let second_account = app
        .get(&format!("/api/v1/accounts?person_id={second_person}"))
        .await
        .expect(200)["items"][0]
        .clone();
    let own = app.get(&own_url).await.expect(200);
    app.send_as(
        &second,
        TestRequest::patch()
            .uri(&own_url)
            .insert_header(("If-Match", version_tag(&own)))
            .set_json(json!({"disabled": true})),
    )
    .await
    .expect(200);
    me(&app, &app.admin).await.expect(401);
    let err = cogov::commands::accounts::update(
        &outsider,
        &app.db,
        uuid::Uuid::parse_str(&id(&second_account)).unwrap().into(),
        cogov::commands::Expected::Any,
        disable(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "last-district-admin");
    me(&app, &second).await.expect(200);
}

#[actix_web::test]
async fn two_admins_disabling_each_other_at_once_leave_one() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let (a_person, a) = app.user("Ann Admin", "district_admin", None);
    let (b_person, b) = app.user("Ben Admin", "district_admin", None);
    // Only these two are admins: the harness admin's grant goes.
    let harness = me(&app, &app.admin).await.expect(200)["person_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant = app
        .get(&format!("/api/v1/grants?subject_id={harness}"))
        .await
        .expect(200)["items"][0]
        .clone();
    app.send_as(
        &a,
        TestRequest::delete()
            .uri(&format!("/api/v1/grants/{}", id(&grant)))
            .insert_header(("If-Match", "*")),
    )
    .await
    .expect(204);
    // (The harness admin is no longer an admin: read the accounts as Ann.)
    let a_account = app
        .send_as(
            &a,
            TestRequest::get().uri(&format!("/api/v1/accounts?person_id={a_person}")),
        )
        .await
        .expect(200)["items"][0]
        .clone();
    let b_account = app
        .send_as(
            &a,
            TestRequest::get().uri(&format!("/api/v1/accounts?person_id={b_person}")),
        )
        .await
        .expect(200)["items"][0]
        .clone();
    let disable = |token: &str, account: &Value| {
        TestRequest::patch()
            .uri(&format!("/api/v1/accounts/{}", id(account)))
            .insert_header(("If-Match", "*"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_json(json!({"disabled": true}))
    };
    let (one, two) = futures_util::future::join(
        app.send(disable(&a, &b_account)),
        other.send(disable(&b, &a_account)),
    )
    .await;
    let statuses = [one.status.as_u16(), two.status.as_u16()];
    assert!(
        statuses.contains(&200) && statuses.iter().any(|s| *s == 409 || *s == 401),
        "{statuses:?}"
    );
    // Exactly one of the two can still act.
    let ok_a = me(&app, &a).await.status.as_u16() == 200;
    let ok_b = me(&app, &b).await.status.as_u16() == 200;
    assert!(ok_a ^ ok_b, "a: {ok_a}, b: {ok_b}");
}

/// The lengths the OpenAPI document states for these bodies are the ones the server enforces.
#[actix_web::test]
async fn documented_limits_are_enforced() {
    let app = TestApp::new().await;
    let doc: Value = serde_json::from_str(
        &cogov::app::openapi()
            .to_json()
            .expect("render the OpenAPI document"),
    )
    .unwrap();
    let limit = |schema: &str, field: &str, bound: &str| -> usize {
        doc["components"]["schemas"][schema]["properties"][field][bound]
            .as_u64()
            .unwrap_or_else(|| panic!("{schema}.{field} has no {bound}")) as usize
    };
    let password_min = limit("CreateAccount", "password", "minLength");
    let password_max = limit("CreateAccount", "password", "maxLength");
    let cases: Vec<(&str, &str, usize, bool)> = vec![
        (
            "username",
            "maxLength",
            limit("CreateAccount", "username", "maxLength"),
            true,
        ),
        (
            "username",
            "maxLength",
            limit("CreateAccount", "username", "maxLength") + 1,
            false,
        ),
        ("password", "minLength", password_min, true),
        ("password", "minLength", password_min - 1, false),
        ("password", "maxLength", password_max, true),
        ("password", "maxLength", password_max + 1, false),
        (
            "external_subject",
            "maxLength",
            limit("CreateAccount", "external_subject", "maxLength"),
            true,
        ),
        (
            "external_subject",
            "maxLength",
            limit("CreateAccount", "external_subject", "maxLength") + 1,
            false,
        ),
    ];
    for (n, (field, bound, len, ok)) in cases.into_iter().enumerate() {
        let person = id(&app.person(&format!("Person {n}")).await);
        let mut body = json!({"person_id": person, "username": format!("user{n}"),
            "password": "a long enough password"});
        body[field] = json!("é".repeat(len));
        let reply = app.post("/api/v1/accounts", body).await;
        if ok {
            reply.expect(201);
        } else {
            let p = reply.expect(422);
            assert_eq!(p["errors"][0]["field"], field, "{field} {bound} {len}");
        }
    }
    let name_max = limit("CreateApiClient", "name", "maxLength");
    app.post("/api/v1/api-clients", json!({"name": "é".repeat(name_max)}))
        .await
        .expect(201);
    app.post(
        "/api/v1/api-clients",
        json!({"name": "é".repeat(name_max + 1)}),
    )
    .await
    .expect(422);
    // A username as long as an account may have still signs in.
    let long = "é".repeat(limit("CreateAccount", "username", "maxLength"));
    sign_in(&app, &long, "a long enough password")
        .await
        .expect(200);
}

#[actix_web::test]
async fn one_account_per_person_when_two_instances_race() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let person = id(&app.person("Rita Race").await);
    let create = |n: usize| {
        TestRequest::post().uri("/api/v1/accounts").set_json(
            json!({"person_id": person, "external_subject": format!("race-{n}@district")}),
        )
    };
    let (one, two) =
        futures_util::future::join(app.send_admin(create(1)), other.send_admin(create(2))).await;
    let mut statuses = [one.status.as_u16(), two.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let listed = app
        .get(&format!("/api/v1/accounts?person_id={person}"))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn an_admin_client_cannot_disable_itself() {
    let app = TestApp::new().await;
    let client = app
        .post("/api/v1/api-clients", json!({"name": "district sync"}))
        .await
        .expect(201);
    let client_id = client["client_id"].as_str().unwrap();
    app.post(
        "/api/v1/grants",
        json!({"subject_kind": "client", "subject_id": client_id, "role": "district_admin"}),
    )
    .await
    .expect(201);
    let token = client_token(&app, client_id, client["client_secret"].as_str().unwrap())
        .await
        .expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("/api/v1/api-clients/{}", id(&client));
    let p = app
        .send_as(
            &token,
            TestRequest::patch()
                .uri(&url)
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"disabled": true})),
        )
        .await
        .expect(409);
    assert_eq!(p["code"], "own-account");
    // It may manage others, and rotate its own secret.
    app.send_as(&token, TestRequest::get().uri("/api/v1/accounts"))
        .await
        .expect(200);
    app.send_as(&token, TestRequest::post().uri(&format!("{url}/secret")))
        .await
        .expect(200);
    // Another admin may disable it.
    app.patch(&url, "\"2\"", json!({"disabled": true}))
        .await
        .expect(200);
    me(&app, &token).await.expect(401);
}
