//! Wraparound services through the HTTP API: the catalog, partner organizations, and the
//! life of a service request with its notes, consents and disclosure records.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{id, version_tag, Reply, TestApp};

struct World {
    school: String,
    category: String,
    partner: String,
    staff: String,
    family: (String, String),
    other_family: String,
    partner_user: String,
}

async fn world(app: &TestApp) -> World {
    let school = id(&app.school("SVC1").await);
    let council = app
        .council(json!({"kind": "school_site_council", "name": "SSC", "school_id": school}))
        .await;
    let category = app
        .post(
            "/api/v1/service-categories",
            json!({"code": "food-assistance",
                "names": {"en": "Food assistance", "es": "Ayuda con alimentos"},
                "descriptions": {"en": "Groceries and meals.", "es": "Despensa y comidas."},
                "first_contact_school_days": 2, "pillar": "integrated_student_supports",
                "attributes": [
                    {"code": "household_size", "datatype": "number", "required": true,
                     "description": {"en": "How many people live in the home?", "es": "¿Cuántas personas viven en el hogar?"}},
                    {"code": "needs", "datatype": "multivaluelist",
                     "values": [{"key": "groceries", "name": {"en": "Groceries", "es": "Despensa"}},
                                {"key": "meals", "name": {"en": "Meals", "es": "Comidas"}}]}
                ]}),
        )
        .await
        .expect(201);
    let partner = app
        .post(
            "/api/v1/partner-organizations",
            json!({"name": "Eastside Family Resource Center", "contact_email": "referrals@eastside.example.org",
                "offerings": [{"category_id": id(&category), "school_id": school}]}),
        )
        .await
        .expect(201);
    let staff = app
        .user("Sam Staff", "council_staff", Some(&id(&council)))
        .1;
    let family = app.user("Maria Lopez", "family", None);
    let other_family = app.user("Other Family", "family", None).1;
    let (partner_person, partner_user) = app.user("Pat Partner", "partner", None);
    app.post(
        &format!("/api/v1/partner-organizations/{}/members", id(&partner)),
        json!({"person_id": partner_person}),
    )
    .await
    .expect(201);
    World {
        school,
        category: id(&category),
        partner: id(&partner),
        staff,
        family,
        other_family,
        partner_user,
    }
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> Reply {
    app.send_as(token, TestRequest::get().uri(path)).await
}

/// A POST as a client would send it: with a fresh Idempotency-Key.
async fn post_as(app: &TestApp, token: &str, path: &str, body: Value) -> Reply {
    app.send_as(
        token,
        TestRequest::post()
            .uri(path)
            .insert_header(("Idempotency-Key", uuid::Uuid::now_v7().to_string()))
            .set_json(body),
    )
    .await
}

async fn act(app: &TestApp, token: &str, request: &Value, action: &str, body: Value) -> Reply {
    app.send_as(
        token,
        TestRequest::post()
            .uri(&format!(
                "/api/v1/service-requests/{}/{action}",
                id(request)
            ))
            .insert_header(("If-Match", version_tag(request)))
            .set_json(body),
    )
    .await
}

/// The "done when" story: a family submits a request in Spanish, staff triage and refer it
/// with consent, the partner accepts and completes it with a family-visible note, the family
/// sees exactly that and its disclosure record and nothing else, and withdrawing consent cuts
/// the partner off.
#[actix_web::test]
async fn a_request_from_submission_to_completion() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let (family_id, family) = (&w.family.0, &w.family.1);

    // The family reads the catalog in Spanish (no token needed).
    let list = app
        .send(TestRequest::get().uri("/api/v1/service-categories?lang=es&active=true"))
        .await
        .expect(200);
    assert_eq!(list["items"][0]["name"], "Ayuda con alimentos");
    assert_eq!(list["items"][0]["description"], "Despensa y comidas.");

    // Bad answers: every bad field named.
    let p = post_as(
        &app,
        family,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-1",
            "attributes": {"needs": ["groceries", "cars"], "pets": 2}}),
    )
    .await
    .expect(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "attributes.pets",
            "attributes.household_size",
            "attributes.needs[1]"
        ]
    );

    let request = post_as(
        &app,
        family,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-204518",
            "description": "Necesitamos ayuda con comida.", "preferred_language": "es",
            "contact_method": "text", "urgency": "soon",
            "attributes": {"household_size": 5, "needs": ["groceries"]}}),
    )
    .await
    .expect(201);
    assert_eq!(request["status"], "submitted");
    assert_eq!(request["family_person_id"], family_id.as_str());
    assert_eq!(request["your_parts"], json!(["family"]));
    let path = format!("/api/v1/service-requests/{}", id(&request));

    // Another family and the partner (before referral) cannot know it exists.
    get_as(&app, &w.other_family, &path).await.expect(404);
    get_as(&app, &w.partner_user, &path).await.expect(404);
    get_as(&app, &w.partner_user, &format!("{path}/notes"))
        .await
        .expect(404);

    // The family cannot triage; the partner cannot either (not its request yet).
    let p = act(&app, family, &request, "triage", json!({}))
        .await
        .expect(409);
    assert_eq!(p["code"], "illegal-transition");
    act(&app, &w.partner_user, &request, "triage", json!({}))
        .await
        .expect(404);

    // Staff triage, then try to refer without consent.
    let triaged = act(
        &app,
        &w.staff,
        &request,
        "triage",
        json!({"note": "Revisado / Reviewed"}),
    )
    .await
    .expect(200);
    assert_eq!(triaged["status"], "triaged");
    let p = act(
        &app,
        &w.staff,
        &triaged,
        "refer",
        json!({"partner_id": w.partner}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "consent-required");
    // A stale ETag is refused.
    act(
        &app,
        &w.staff,
        &request,
        "refer",
        json!({"partner_id": w.partner}),
    )
    .await
    .expect(412);

    // The parent consents; staff refer.
    let consent = post_as(
        &app,
        family,
        &format!("{path}/consents"),
        json!({"partner_id": w.partner, "records": "Solicitud y respuestas",
            "purpose": "Ayuda con alimentos", "giver": "parent", "given_by_name": "María López"}),
    )
    .await
    .expect(201);
    assert_eq!(consent["in_force"], true);
    let referred = act(
        &app,
        &w.staff,
        &triaged,
        "refer",
        json!({"partner_id": w.partner, "note": "Referido / Referred"}),
    )
    .await
    .expect(200);
    assert_eq!(referred["status"], "referred");
    assert_eq!(referred["partner_id"], w.partner.as_str());

    // The partner sees the request now, without the family's person id.
    let seen = get_as(&app, &w.partner_user, &path).await.expect(200);
    assert_eq!(seen["your_parts"], json!(["partner"]));
    assert_eq!(seen["family_person_id"], Value::Null);
    assert_eq!(seen["subject_code"], "STU-204518");
    // The partner may not read consents or disclosures.
    get_as(&app, &w.partner_user, &format!("{path}/disclosures"))
        .await
        .expect(403);

    // Staff write a staff-only note; the partner accepts, starts, writes a partner note and a
    // family note, and completes.
    post_as(
        &app,
        &w.staff,
        &format!("{path}/notes"),
        json!({"visibility": "staff", "body": "Hermano también en la escuela"}),
    )
    .await
    .expect(201);
    let accepted = act(&app, &w.partner_user, &seen, "accept", json!({}))
        .await
        .expect(200);
    // The family may not complete it for the partner: wrong party, named.
    let p = act(&app, family, &accepted, "complete", json!({}))
        .await
        .expect(409);
    assert!(p["detail"].as_str().unwrap().contains("partner"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("family"), "{p}");
    let started = act(&app, &w.partner_user, &accepted, "start", json!({}))
        .await
        .expect(200);
    post_as(
        &app,
        &w.partner_user,
        &format!("{path}/notes"),
        json!({"visibility": "partner", "body": "Entrega programada"}),
    )
    .await
    .expect(201);
    post_as(
        &app,
        &w.partner_user,
        &format!("{path}/notes"),
        json!({"visibility": "family", "body": "Su despensa está lista el martes a las 3 pm."}),
    )
    .await
    .expect(201);
    // A partner may not write staff-only notes.
    post_as(
        &app,
        &w.partner_user,
        &format!("{path}/notes"),
        json!({"visibility": "staff", "body": "x"}),
    )
    .await
    .expect(403);
    let completed = act(&app, &w.partner_user, &started, "complete", json!({}))
        .await
        .expect(200);
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["open311_status"], "closed");

    // The family sees exactly: the status, its history, the family note, its disclosure.
    let mine = get_as(&app, family, &path).await.expect(200);
    assert_eq!(mine["status"], "completed");
    let steps: Vec<&str> = mine["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "submitted",
            "triaged",
            "referred",
            "accepted",
            "in_progress",
            "completed"
        ]
    );
    assert!(
        mine["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["actor"].is_null()),
        "families do not see who acted, only which side"
    );
    let notes = get_as(&app, family, &format!("{path}/notes"))
        .await
        .expect(200);
    let bodies: Vec<&str> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Su despensa está lista el martes a las 3 pm."]);
    let staff_notes = get_as(&app, &w.staff, &format!("{path}/notes"))
        .await
        .expect(200);
    assert_eq!(staff_notes["items"].as_array().unwrap().len(), 3);
    let partner_notes = get_as(&app, &w.partner_user, &format!("{path}/notes"))
        .await
        .expect(200);
    assert_eq!(partner_notes["items"].as_array().unwrap().len(), 2);
    let disclosures = get_as(&app, family, &format!("{path}/disclosures"))
        .await
        .expect(200);
    let items = disclosures["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["partner_id"], w.partner.as_str());
    assert_eq!(items[0]["consent_id"], id(&consent));
    assert_eq!(items[0]["purpose"], "Ayuda con alimentos");
    // The other family's list is empty; the family's holds its request.
    let theirs = get_as(&app, &w.other_family, "/api/v1/service-requests")
        .await
        .expect(200);
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    let own = get_as(&app, family, "/api/v1/service-requests")
        .await
        .expect(200);
    assert_eq!(own["items"].as_array().unwrap().len(), 1);

    // Withdrawing consent cuts the partner off at once.
    let before = get_as(&app, &w.partner_user, "/api/v1/service-requests")
        .await
        .expect(200);
    assert_eq!(before["items"].as_array().unwrap().len(), 1);
    let withdrawn = post_as(
        &app,
        family,
        &format!("{path}/consents/{}/withdraw", id(&consent)),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(withdrawn["in_force"], false);
    get_as(&app, &w.partner_user, &path).await.expect(404);
    get_as(&app, &w.partner_user, &format!("{path}/notes"))
        .await
        .expect(404);
    let after = get_as(&app, &w.partner_user, "/api/v1/service-requests")
        .await
        .expect(200);
    assert_eq!(after["items"].as_array().unwrap().len(), 0);

    // Every read of the request is in the audit trail, with who read it.
    let reads: Vec<(Option<String>, i64)> = app.query(|conn| {
        use cogov::db::schema::audit_events::dsl::*;
        use diesel::prelude::*;
        audit_events
            .filter(resource.eq("/api/v1/service-requests/{request_id}"))
            .filter(action.eq("read"))
            .select((actor_id, status))
            .load(conn)
    });
    assert!(reads
        .iter()
        .any(|(who, s)| who.as_deref() == Some(family_id.as_str()) && *s == 200));
    assert!(reads.iter().any(|(_, s)| *s == 404), "refused reads too");
}

#[actix_web::test]
async fn consent_follows_the_students_age() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let today = chrono::Utc::now().date_naive();
    let eighteen_today = today
        .checked_sub_months(chrono::Months::new(18 * 12))
        .unwrap();
    let request = app
        .send_as(
            &w.staff,
            TestRequest::post()
                .uri("/api/v1/service-requests")
                .insert_header(("Idempotency-Key", "eighteen-today"))
                .set_json(json!({
                "school_id": w.school, "category_id": w.category, "subject_code": "STU-9",
                "subject_birth_date": eighteen_today, "family_person_id": w.family.0,
                "attributes": {"household_size": 1}})),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/service-requests/{}/consents", id(&request));
    // The student is 18 today: a parent's consent no longer counts.
    let p = post_as(
        &app,
        &w.staff,
        &path,
        json!({"partner_id": w.partner, "records": "r", "purpose": "p", "giver": "parent",
            "given_by_name": "Parent"}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "consent-not-valid");
    post_as(
        &app,
        &w.staff,
        &path,
        json!({"partner_id": w.partner, "records": "r", "purpose": "p", "giver": "student",
            "given_by_name": "Student"}),
    )
    .await
    .expect(201);
    // One consent in force per partner.
    let p = post_as(
        &app,
        &w.staff,
        &path,
        json!({"partner_id": w.partner, "records": "r", "purpose": "p", "giver": "student",
            "given_by_name": "Student"}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "consent-exists");
}

#[actix_web::test]
async fn catalog_definitions_are_checked_and_admin_managed() {
    let app = TestApp::new().await;
    let (_, family) = app.user("F", "family", None);
    post_as(
        &app,
        &family,
        "/api/v1/service-categories",
        json!({"code": "x", "names": {"en": "X"}}),
    )
    .await
    .expect(403);
    let p = app
        .post(
            "/api/v1/service-categories",
            json!({"code": "x", "names": {"en": "X"}, "attributes": [
                {"code": "a", "datatype": "singlevaluelist"},
                {"code": "a", "datatype": "number"}]}),
        )
        .await
        .expect(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["attributes[0].values", "attributes[1].code"]);
    let c = app
        .post(
            "/api/v1/service-categories",
            json!({"code": "x", "names": {"en": "X"}}),
        )
        .await
        .expect(201);
    app.post(
        "/api/v1/service-categories",
        json!({"code": "x", "names": {"en": "Y"}}),
    )
    .await
    .expect(409);
    let path = format!("/api/v1/service-categories/{}", id(&c));
    let changed = app
        .patch(
            &path,
            &version_tag(&c),
            json!({"active": false, "pillar": null}),
        )
        .await
        .expect(200);
    assert_eq!(changed["active"], false);
    let listed = app
        .get("/api/v1/service-categories?active=true")
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn staff_queue_filters_and_counts() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    for (n, urgency) in ["routine", "urgent", "urgent"].iter().enumerate() {
        post_as(
            &app,
            &w.family.1,
            "/api/v1/service-requests",
            json!({"school_id": w.school, "category_id": w.category,
                "subject_code": format!("STU-{n}"), "urgency": urgency,
                "attributes": {"household_size": 2}}),
        )
        .await
        .expect(201);
    }
    let urgent = get_as(&app, &w.staff, "/api/v1/service-requests?urgency=urgent")
        .await
        .expect(200);
    assert_eq!(urgent["items"].as_array().unwrap().len(), 2);
    assert_eq!(urgent["items"][0]["your_parts"], json!(["staff"]));
    let mine = get_as(&app, &w.family.1, "/api/v1/service-requests")
        .await
        .expect(200);
    assert_eq!(mine["items"][0]["your_parts"], json!(["family"]));
    let q = get_as(&app, &w.staff, "/api/v1/service-requests?q=stu-1")
        .await
        .expect(200);
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    let page = get_as(&app, &w.staff, "/api/v1/service-requests?limit=2")
        .await
        .expect(200);
    assert!(page["next_cursor"].is_string());
    let counts = get_as(&app, &w.staff, "/api/v1/service-requests/counts")
        .await
        .expect(200);
    assert_eq!(counts["counts"]["submitted"], 3);
    assert_eq!(counts["total"], 3);
    // Staff of another school see none of them.
    let other_school = id(&app.school("SVC2").await);
    let other_council = app
        .council(json!({"kind": "school_site_council", "name": "Other", "school_id": other_school}))
        .await;
    let other_staff = app
        .user("Other Staff", "council_staff", Some(&id(&other_council)))
        .1;
    let none = get_as(&app, &other_staff, "/api/v1/service-requests/counts")
        .await
        .expect(200);
    assert_eq!(none["total"], 0);
    // Nothing is overdue yet (the target is 2 school days).
    let overdue = get_as(&app, &w.staff, "/api/v1/service-requests?overdue=true")
        .await
        .expect(200);
    assert_eq!(overdue["items"].as_array().unwrap().len(), 0);
}

/// Two instances move one request at once with the same ETag: one wins.
#[actix_web::test]
async fn racing_transitions_one_wins() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let w = world(&app).await;
    let request = post_as(
        &app,
        &w.family.1,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-R",
            "attributes": {"household_size": 2}}),
    )
    .await
    .expect(201);
    let uri = format!("/api/v1/service-requests/{}/triage", id(&request));
    let make = || {
        TestRequest::post()
            .uri(&uri)
            .insert_header(("If-Match", version_tag(&request)))
            .insert_header(("Authorization", format!("Bearer {}", w.staff)))
            .set_json(json!({}))
    };
    let replies = futures_util::future::join_all((0..10).map(|n| {
        let req = make();
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
    let codes: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 1, "{codes:?}");
    assert!(
        codes.iter().all(|&c| matches!(c, 200 | 409 | 412)),
        "{codes:?}"
    );
    let history = get_as(
        &app,
        &w.staff,
        &format!("/api/v1/service-requests/{}", id(&request)),
    )
    .await
    .expect(200)["history"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(history, 2, "one submit, one triage");
}

/// The public directory lists organizations and what they offer where, and nothing about
/// families or requests.
#[actix_web::test]
async fn hsds_directory_lists_offerings_not_requests() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    post_as(
        &app,
        &w.family.1,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-SECRET",
            "attributes": {"household_size": 2}}),
    )
    .await
    .expect(201);
    let root = app.send(TestRequest::get().uri("/hsds/")).await.expect(200);
    assert_eq!(root["version"], "3.0");
    let services = app
        .send(TestRequest::get().uri("/hsds/services?per_page=10"))
        .await;
    let body = services.expect(200);
    assert_eq!(body["total_items"], 1);
    assert_eq!(body["page_number"], 1);
    assert_eq!(body["last_page"], true);
    let service = &body["contents"][0];
    assert_eq!(service["organization_id"], w.partner.as_str());
    assert_eq!(service["name"], "Food assistance");
    assert_eq!(service["service_areas"][0]["id"], w.school.as_str());
    assert!(!String::from_utf8_lossy(&services.body).contains("STU-SECRET"));
    let one = app
        .send(TestRequest::get().uri(&format!(
            "/hsds/services/{}",
            service["id"].as_str().unwrap()
        )))
        .await
        .expect(200);
    assert_eq!(one["id"], service["id"]);
    app.send(TestRequest::get().uri("/hsds/services/nope"))
        .await
        .expect(404);
    let orgs = app
        .send(TestRequest::get().uri("/hsds/organizations"))
        .await
        .expect(200);
    assert_eq!(
        orgs["contents"][0]["name"],
        "Eastside Family Resource Center"
    );
    app.send(TestRequest::get().uri("/hsds/organizations?per_page=0"))
        .await
        .expect(422);
}

/// A 12+ minor consents alone to outpatient mental health only with the provider's attestation
/// and the parent-involvement decision; never to inpatient care or medication. The family may
/// withdraw its request; afterwards nothing moves it.
#[actix_web::test]
async fn minors_consent_and_families_withdraw() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut classes = Vec::new();
    for (code, class) in [
        ("counseling", "outpatient_mental_health"),
        ("inpatient", "inpatient_or_medication"),
    ] {
        let c = app
            .post(
                "/api/v1/service-categories",
                json!({"code": code, "names": {"en": code, "es": code}, "consent_class": class,
                    "sensitive": true}),
            )
            .await
            .expect(201);
        classes.push(id(&c));
    }
    // Details of a sensitive category's requests stay out of lists.
    let sensitive = post_as(
        &app,
        &w.family.1,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": classes[0], "subject_code": "STU-S",
            "description": "Mi hija está muy triste"}),
    )
    .await
    .expect(201);
    let listed = get_as(
        &app,
        &w.staff,
        &format!("/api/v1/service-requests?category_id={}", classes[0]),
    )
    .await
    .expect(200);
    assert_eq!(listed["items"][0]["description"], Value::Null);
    let one = get_as(
        &app,
        &w.staff,
        &format!("/api/v1/service-requests/{}", id(&sensitive)),
    )
    .await
    .expect(200);
    assert_eq!(one["description"], "Mi hija está muy triste");
    let fourteen = chrono::Utc::now()
        .date_naive()
        .checked_sub_months(chrono::Months::new(14 * 12))
        .unwrap();
    let mut requests = Vec::new();
    for category in &classes {
        requests.push(
            post_as(
                &app,
                &w.staff,
                "/api/v1/service-requests",
                json!({"school_id": w.school, "category_id": category, "subject_code": "STU-M",
                    "subject_birth_date": fourteen, "family_person_id": w.family.0}),
            )
            .await
            .expect(201),
        );
    }
    let minor = |extra: Value| {
        let mut body = json!({"partner_id": w.partner, "records": "Referral", "purpose": "Counseling",
            "giver": "student", "given_by_name": "Student"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let counseling = format!("/api/v1/service-requests/{}/consents", id(&requests[0]));
    let p = post_as(&app, &w.staff, &counseling, minor(json!({})))
        .await
        .expect(409);
    assert!(p["detail"].as_str().unwrap().contains("attestation"), "{p}");
    let p = post_as(
        &app,
        &w.staff,
        &counseling,
        minor(json!({"provider_attestation": true})),
    )
    .await
    .expect(409);
    assert!(
        p["detail"].as_str().unwrap().contains("parent-involvement"),
        "{p}"
    );
    post_as(
        &app,
        &w.staff,
        &counseling,
        minor(json!({"provider_attestation": true,
            "parent_involvement": "Not contacted: the counselor judged it inappropriate after consulting the student"})),
    )
    .await
    .expect(201);
    let inpatient = format!("/api/v1/service-requests/{}/consents", id(&requests[1]));
    let p = post_as(
        &app,
        &w.staff,
        &inpatient,
        minor(json!({"provider_attestation": true, "parent_involvement": "x"})),
    )
    .await
    .expect(409);
    assert!(p["detail"].as_str().unwrap().contains("never"), "{p}");

    // The family withdraws the second request; then nothing moves it.
    let withdrawn = act(
        &app,
        &w.family.1,
        &requests[1],
        "withdraw",
        json!({"note": "Ya no lo necesitamos"}),
    )
    .await
    .expect(200);
    assert_eq!(withdrawn["status"], "withdrawn");
    let p = act(&app, &w.staff, &withdrawn, "cancel", json!({}))
        .await
        .expect(409);
    assert_eq!(p["code"], "illegal-transition");
    assert!(p["detail"].as_str().unwrap().contains("withdrawn"), "{p}");
    // Without If-Match: 428.
    app.send_as(
        &w.staff,
        TestRequest::post()
            .uri(&format!(
                "/api/v1/service-requests/{}/triage",
                id(&requests[0])
            ))
            .set_json(json!({})),
    )
    .await
    .expect(428);
}

/// A family exports what it may see of its own requests, and nothing of others'.
#[actix_web::test]
async fn families_export_their_own_requests() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let request = post_as(
        &app,
        &w.family.1,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-E",
            "attributes": {"household_size": 3}}),
    )
    .await
    .expect(201);
    let path = format!("/api/v1/service-requests/{}", id(&request));
    post_as(
        &app,
        &w.staff,
        &format!("{path}/notes"),
        json!({"visibility": "staff", "body": "staff only"}),
    )
    .await
    .expect(201);
    post_as(
        &app,
        &w.family.1,
        &format!("{path}/notes"),
        json!({"visibility": "family", "body": "Gracias"}),
    )
    .await
    .expect(201);
    let export = get_as(&app, &w.family.1, "/api/v1/service-requests/export").await;
    assert_eq!(export.header("cache-control").as_deref(), Some("no-store"));
    let body = export.expect(200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["request"]["subject_code"], "STU-E");
    assert_eq!(items[0]["notes"].as_array().unwrap().len(), 1);
    assert_eq!(items[0]["notes"][0]["body"], "Gracias");
    let other = get_as(&app, &w.other_family, "/api/v1/service-requests/export")
        .await
        .expect(200);
    assert_eq!(other["items"].as_array().unwrap().len(), 0);
    get_as(&app, &w.staff, "/api/v1/service-requests/export")
        .await
        .expect(403);
}

/// The retention run removes the personal text of old closed requests and keeps their
/// history and disclosure record; open and recent requests are untouched.
#[actix_web::test]
async fn retention_anonymises_old_closed_requests() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut made = Vec::new();
    for code in ["STU-OLD", "STU-OPEN"] {
        made.push(
            post_as(
                &app,
                &w.family.1,
                "/api/v1/service-requests",
                json!({"school_id": w.school, "category_id": w.category, "subject_code": code,
                    "description": "Mi hijo necesita ayuda", "attributes": {"household_size": 4}}),
            )
            .await
            .expect(201),
        );
    }
    post_as(
        &app,
        &w.family.1,
        &format!("/api/v1/service-requests/{}/notes", id(&made[0])),
        json!({"visibility": "family", "body": "Llamar a María"}),
    )
    .await
    .expect(201);
    act(
        &app,
        &w.family.1,
        &made[0],
        "withdraw",
        json!({"note": "Ya no"}),
    )
    .await
    .expect(200);
    // Both were last changed long ago.
    app.db
        .write_blocking(|conn| {
            use cogov::db::schema::service_requests::dsl::*;
            use diesel::prelude::*;
            let old = chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            diesel::update(service_requests)
                .set(updated_at.eq(old))
                .execute(conn)
                .map_err(cogov::error::ApiError::from)
        })
        .unwrap();
    post_as(
        &app,
        &w.staff,
        "/api/v1/service-requests/anonymise",
        json!({"closed_before": "2021-01-01"}),
    )
    .await
    .expect(403);
    let run = app
        .post(
            "/api/v1/service-requests/anonymise",
            json!({"closed_before": "2021-01-01"}),
        )
        .await
        .expect(200);
    assert_eq!(run["anonymised"], 1);
    let old = app
        .get(&format!("/api/v1/service-requests/{}", id(&made[0])))
        .await
        .expect(200);
    assert_eq!(old["subject_code"], "anonymised");
    assert_eq!(old["description"], Value::Null);
    assert_eq!(old["family_person_id"], Value::Null);
    assert_eq!(old["attributes"], json!({}));
    assert_eq!(old["status"], "withdrawn");
    assert_eq!(old["history"].as_array().unwrap().len(), 2);
    assert_eq!(old["history"][1]["note"], "anonymised");
    let notes = app
        .get(&format!("/api/v1/service-requests/{}/notes", id(&made[0])))
        .await
        .expect(200);
    assert_eq!(notes["items"][0]["body"], "anonymised");
    let open = app
        .get(&format!("/api/v1/service-requests/{}", id(&made[1])))
        .await
        .expect(200);
    assert_eq!(open["subject_code"], "STU-OPEN");
    // A second run finds nothing more; a day in the future is refused.
    let again = app
        .post(
            "/api/v1/service-requests/anonymise",
            json!({"closed_before": "2021-01-01"}),
        )
        .await
        .expect(200);
    assert_eq!(again["anonymised"], 0);
    app.post(
        "/api/v1/service-requests/anonymise",
        json!({"closed_before": "2999-01-01"}),
    )
    .await
    .expect(422);
}

/// A family app's retry must never file a second request for the same need: the key is
/// required here, and a retry with it files one request.
#[actix_web::test]
async fn a_service_request_needs_an_idempotency_key_and_a_retry_files_one() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let family = &w.family.1;
    let body = json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-7",
        "attributes": {"household_size": 3}});
    let without = app
        .send_as(
            family,
            TestRequest::post()
                .uri("/api/v1/service-requests")
                .set_json(body.clone()),
        )
        .await
        .expect(400);
    assert_eq!(without["code"], "idempotency-key-required");
    let send = || {
        app.send_as(
            family,
            TestRequest::post()
                .uri("/api/v1/service-requests")
                .insert_header(("Idempotency-Key", "family-app-0001"))
                .set_json(body.clone()),
        )
    };
    let first = send().await.expect(201);
    let retry = send().await;
    assert_eq!(id(&retry.expect(201)), id(&first));
    let mine = get_as(&app, family, "/api/v1/service-requests")
        .await
        .expect(200);
    let filed = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["subject_code"] == "STU-7")
        .count();
    assert_eq!(filed, 1);
}

async fn read(app: &TestApp, rid: &str) -> Reply {
    app.get(&format!("/api/v1/service-requests/{rid}")).await
}

/// Sets `updated_at` of these requests to `days` days ago (as if last changed then).
fn age(app: &TestApp, ids: &[String], days: i64) {
    let ids = ids.to_vec();
    app.db
        .write_blocking(move |conn| {
            use cogov::db::schema::service_requests::dsl::*;
            use diesel::prelude::*;
            let then = chrono::Utc::now().naive_utc() - chrono::Duration::days(days);
            diesel::update(service_requests.filter(id.eq_any(ids)))
                .set(updated_at.eq(then))
                .execute(conn)
                .map_err(cogov::error::ApiError::from)
        })
        .unwrap();
}

/// Files `n` requests as the family; withdraws them when `closed`.
async fn file(app: &TestApp, w: &World, prefix: &str, n: usize, closed: bool) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let made = post_as(
            app,
            &w.family.1,
            "/api/v1/service-requests",
            json!({"school_id": w.school, "category_id": w.category,
                "subject_code": format!("{prefix}-{i}"), "description": "Necesitamos comida",
                "attributes": {"household_size": 2}}),
        )
        .await
        .expect(201);
        if closed {
            act(app, &w.family.1, &made, "withdraw", json!({}))
                .await
                .expect(200);
        }
        ids.push(id(&made));
    }
    ids
}

/// The retention setting, applied by the job as of a given day: requests closed longer ago
/// than the period lose their personal text, others stay, and the dashboard counts by status
/// stay the same.
#[actix_web::test]
async fn the_retention_job_anonymises_after_the_configured_days_and_counts_stay_true() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let old_closed = file(&app, &w, "OLD", 1, true).await;
    let recent_closed = file(&app, &w, "RECENT", 1, true).await;
    let old_open = file(&app, &w, "OPEN", 1, false).await;
    age(&app, &old_closed, 40);
    age(&app, &recent_closed, 10);
    age(&app, &old_open, 400);
    let counts_before = app.get("/api/v1/service-requests/counts").await.expect(200);

    let now = chrono::Utc::now().naive_utc();
    let first = cogov::jobs::retention_once(&app.db, 30, now).await.unwrap();
    assert_eq!(first, 1);
    assert_eq!(
        read(&app, &old_closed[0]).await.expect(200)["subject_code"],
        "anonymised"
    );
    assert_eq!(
        read(&app, &recent_closed[0]).await.expect(200)["subject_code"],
        "RECENT-0"
    );
    assert_eq!(
        read(&app, &old_open[0]).await.expect(200)["subject_code"],
        "OPEN-0"
    );
    assert_eq!(
        app.get("/api/v1/service-requests/counts").await.expect(200),
        counts_before
    );

    // Run again the same day: nothing more. Three weeks later the recent one is due too.
    assert_eq!(
        cogov::jobs::retention_once(&app.db, 30, now).await.unwrap(),
        0
    );
    let later = now + chrono::Duration::days(21);
    assert_eq!(
        cogov::jobs::retention_once(&app.db, 30, later)
            .await
            .unwrap(),
        1
    );
    let recent = read(&app, &recent_closed[0]).await.expect(200);
    assert_eq!(recent["subject_code"], "anonymised");
    assert_eq!(recent["description"], Value::Null);
    assert_eq!(recent["status"], "withdrawn");
    assert_eq!(
        read(&app, &old_open[0]).await.expect(200)["subject_code"],
        "OPEN-0"
    );
    assert_eq!(
        app.get("/api/v1/service-requests/counts").await.expect(200),
        counts_before
    );
}

/// Two app instances running the retention job at the same moment anonymise each request once
/// between them (each request's version moves by exactly one).
#[actix_web::test]
async fn two_instances_running_retention_at_once_anonymise_each_request_once() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let ids = file(&app, &w, "TWO", 12, true).await;
    age(&app, &ids, 90);
    let mut versions = Vec::new();
    for rid in &ids {
        versions.push(
            app.get(&format!("/api/v1/service-requests/{rid}"))
                .await
                .expect(200)["version"]
                .as_i64()
                .unwrap(),
        );
    }
    let other = app.test_db.open();
    let now = chrono::Utc::now().naive_utc();
    let (a, b) = futures_util::future::join(
        cogov::jobs::retention_once(&app.db, 30, now),
        cogov::jobs::retention_once(&other, 30, now),
    )
    .await;
    assert_eq!(a.unwrap() + b.unwrap(), ids.len());
    for (rid, before) in ids.iter().zip(versions) {
        let row = app
            .get(&format!("/api/v1/service-requests/{rid}"))
            .await
            .expect(200);
        assert_eq!(row["subject_code"], "anonymised");
        assert_eq!(row["version"].as_i64().unwrap(), before + 1);
    }
}

/// Sets the subject's birth date of a request directly (time passing to a birthday).
fn set_birth_date(app: &TestApp, rid: &str, birth: chrono::NaiveDate) {
    let rid = rid.to_owned();
    app.db
        .write_blocking(move |conn| {
            use cogov::db::schema::service_requests::dsl::*;
            use diesel::prelude::*;
            diesel::update(service_requests.filter(id.eq(rid)))
                .set(subject_birth_date.eq(Some(birth)))
                .execute(conn)
                .map_err(cogov::error::ApiError::from)
        })
        .unwrap();
}

fn listed(list: &Value, rid: &str) -> bool {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == rid)
}

/// FERPA 99.5: on the 18th birthday an existing request passes from the parent to the student.
/// The day before, the parent owns it and the student sees nothing; on the birthday the student
/// reads and acts on it, the parent no longer does, and the parent's earlier consent no longer
/// allows a new referral.
#[actix_web::test]
async fn an_existing_request_passes_to_the_student_on_the_18th_birthday() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let (student_id, student) = app.user("Ana Student", "family", None);
    let (parent_id, parent) = (&w.family.0, &w.family.1);
    let today = chrono::Utc::now().date_naive();
    let eighteen_today = today.checked_sub_months(chrono::Months::new(216)).unwrap();
    let eighteen_tomorrow = eighteen_today + chrono::Duration::days(1);
    let request = post_as(
        &app,
        &w.staff,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-18",
            "subject_birth_date": eighteen_tomorrow, "family_person_id": parent_id,
            "subject_person_id": student_id, "attributes": {"household_size": 3}}),
    )
    .await
    .expect(201);
    let rid = id(&request);
    let path = format!("/api/v1/service-requests/{rid}");
    // Only staff link the student's record.
    let p = post_as(
        &app,
        parent,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-18",
            "subject_person_id": student_id, "attributes": {"household_size": 3}}),
    )
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "subject_person_id");

    // The day before the birthday: the parent's request.
    assert_eq!(
        get_as(&app, parent, &path).await.expect(200)["your_parts"],
        json!(["family"])
    );
    get_as(&app, &student, &path).await.expect(404);
    let mine = get_as(&app, &student, "/api/v1/service-requests")
        .await
        .expect(200);
    assert!(!listed(&mine, &rid));
    // The parent consents (a parent's consent, not the student's).
    let consents = format!("{path}/consents");
    let p = post_as(&app, parent, &consents,
        json!({"partner_id": w.partner, "records": "Solicitud", "purpose": "Comida", "giver": "student",
            "given_by_name": "María López"}))
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "giver");
    post_as(&app, parent, &consents,
        json!({"partner_id": w.partner, "records": "Solicitud", "purpose": "Comida", "giver": "parent",
            "given_by_name": "María López"}))
    .await
    .expect(201);
    let triaged = act(&app, &w.staff, &request, "triage", json!({}))
        .await
        .expect(200);

    // The birthday comes.
    set_birth_date(&app, &rid, eighteen_today);
    get_as(&app, parent, &path).await.expect(404);
    let parents = get_as(&app, parent, "/api/v1/service-requests")
        .await
        .expect(200);
    assert!(!listed(&parents, &rid));
    let seen = get_as(&app, &student, &path).await.expect(200);
    assert_eq!(seen["your_parts"], json!(["family"]));
    assert_eq!(seen["status"], "triaged");
    let mine = get_as(&app, &student, "/api/v1/service-requests")
        .await
        .expect(200);
    assert!(listed(&mine, &rid));
    // The parent's consent on file no longer allows a new disclosure.
    let p = act(
        &app,
        &w.staff,
        &triaged,
        "refer",
        json!({"partner_id": w.partner}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "consent-required");
    // The student withdraws the parent's consent and gives their own (only as the student).
    let list = get_as(&app, &student, &consents).await.expect(200);
    let old = list["items"][0]["id"].as_str().unwrap().to_owned();
    app.send_as(
        &student,
        TestRequest::post().uri(&format!("{consents}/{old}/withdraw")),
    )
    .await
    .expect(200);
    let p = post_as(&app, &student, &consents,
        json!({"partner_id": w.partner, "records": "Mi solicitud", "purpose": "Comida", "giver": "parent",
            "given_by_name": "Ana"}))
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "giver");
    post_as(&app, &student, &consents,
        json!({"partner_id": w.partner, "records": "Mi solicitud", "purpose": "Comida", "giver": "student",
            "given_by_name": "Ana"}))
    .await
    .expect(201);
    act(
        &app,
        &w.staff,
        &triaged,
        "refer",
        json!({"partner_id": w.partner}),
    )
    .await
    .expect(200);
    let record = get_as(&app, &student, &format!("{path}/disclosures"))
        .await
        .expect(200);
    assert_eq!(record["items"].as_array().unwrap().len(), 1);
    assert_eq!(record["items"][0]["records"], "Mi solicitud");
    get_as(&app, parent, &format!("{path}/disclosures"))
        .await
        .expect(404);
    // The student's export holds it; the parent's does not.
    let export = get_as(&app, &student, "/api/v1/service-requests/export")
        .await
        .expect(200);
    assert!(export.to_string().contains(&rid));
    let export = get_as(&app, parent, "/api/v1/service-requests/export")
        .await
        .expect(200);
    assert!(!export.to_string().contains(&rid));
}

/// FERPA 99.31 and 99.32: without consent, a referral needs a recorded exception that says its
/// basis (the threat; the legitimate interest); staff record it, it never changes, the partner
/// then has the request, and the family sees the disclosure with its basis.
#[actix_web::test]
async fn a_referral_without_consent_needs_a_recorded_ferpa_exception() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let family = &w.family.1;
    let request = post_as(
        &app,
        family,
        "/api/v1/service-requests",
        json!({"school_id": w.school, "category_id": w.category, "subject_code": "STU-911",
            "description": "No tenemos dónde dormir", "attributes": {"household_size": 4}}),
    )
    .await
    .expect(201);
    let path = format!("/api/v1/service-requests/{}", id(&request));
    let triaged = act(&app, &w.staff, &request, "triage", json!({}))
        .await
        .expect(200);
    let p = act(
        &app,
        &w.staff,
        &triaged,
        "refer",
        json!({"partner_id": w.partner}),
    )
    .await
    .expect(409);
    assert_eq!(p["code"], "consent-required");

    let exceptions = format!("{path}/exceptions");
    let emergency = json!({"partner_id": w.partner, "basis": "health_or_safety_emergency",
        "threat": "La familia duerme en el coche esta noche / The family sleeps in the car tonight",
        "records": "Solicitud de servicio", "purpose": "Alojamiento de emergencia"});
    // Who may record one: staff; the family is refused, others do not see the request.
    post_as(&app, family, &exceptions, emergency.clone())
        .await
        .expect(403);
    post_as(&app, &w.other_family, &exceptions, emergency.clone())
        .await
        .expect(404);
    post_as(&app, &w.partner_user, &exceptions, emergency.clone())
        .await
        .expect(404);
    app.send(
        TestRequest::post()
            .uri(&exceptions)
            .set_json(emergency.clone()),
    )
    .await
    .expect(401);
    // What it must say.
    let p = post_as(
        &app,
        &w.staff,
        &exceptions,
        json!({"partner_id": w.partner, "basis": "health_or_safety_emergency",
            "legitimate_interest": "x", "records": "r", "purpose": "p"}),
    )
    .await
    .expect(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["threat", "legitimate_interest"]);
    let p = post_as(&app, &w.staff, &exceptions,
        json!({"partner_id": w.partner, "basis": "school_official", "records": "r", "purpose": "p"}))
    .await
    .expect(422);
    assert_eq!(p["errors"][0]["field"], "legitimate_interest");
    post_as(
        &app,
        &w.staff,
        &exceptions,
        json!({"partner_id": w.partner, "basis": "vibes", "records": "r", "purpose": "p"}),
    )
    .await
    .expect(422);

    let recorded = post_as(&app, &w.staff, &exceptions, emergency.clone())
        .await
        .expect(201);
    assert_eq!(recorded["basis"], "health_or_safety_emergency");
    assert!(recorded["recorded_by"]
        .as_str()
        .unwrap()
        .starts_with("person:"));
    // Kept as written: nothing changes or removes it.
    let exception_path = format!("{exceptions}/{}", id(&recorded));
    for method in ["PATCH", "DELETE", "PUT"] {
        let reply = app
            .send_as(
                &w.staff,
                TestRequest::default()
                    .method(method.parse().unwrap())
                    .uri(&exception_path)
                    .insert_header(("If-Match", "\"1\""))
                    .set_json(json!({"threat": "changed"})),
            )
            .await;
        assert!(
            [404, 405].contains(&reply.status.as_u16()),
            "{method}: {}",
            reply.status
        );
    }

    // The partner cannot see the request before the referral; after it, it can.
    get_as(&app, &w.partner_user, &path).await.expect(404);
    act(
        &app,
        &w.staff,
        &triaged,
        "refer",
        json!({"partner_id": w.partner}),
    )
    .await
    .expect(200);
    let seen = get_as(&app, &w.partner_user, &path).await.expect(200);
    assert_eq!(seen["your_parts"], json!(["partner"]));
    let queue = get_as(&app, &w.partner_user, "/api/v1/service-requests")
        .await
        .expect(200);
    assert!(listed(&queue, &id(&request)));

    // The family sees the disclosure with its basis and threat, and the exception itself
    // (without who recorded it).
    let record = get_as(&app, family, &format!("{path}/disclosures"))
        .await
        .expect(200);
    let d = &record["items"][0];
    assert_eq!(d["basis"], "health_or_safety_emergency");
    assert_eq!(d["exception_id"], recorded["id"]);
    assert_eq!(d["consent_id"], Value::Null);
    assert_eq!(d["threat"], emergency["threat"]);
    assert_eq!(d["purpose"], "Alojamiento de emergencia");
    let list = get_as(&app, family, &exceptions).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["recorded_by"], Value::Null);
    get_as(&app, &w.partner_user, &exceptions).await.expect(403);
    get_as(&app, &w.other_family, &exceptions).await.expect(404);
    get_as(&app, &w.staff, &exceptions).await.expect(200);
}

/// Open311 GeoReport v2 discovery: the active catalog as services, and a service's definition
/// with its attributes' types, required flags and list keys, in the language asked; JSON only.
#[actix_web::test]
async fn open311_lists_services_and_their_definitions() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let _ = &w;
    let list = app
        .send(TestRequest::get().uri("/open311/v2/services.json?lang=es&jurisdiction_id=district"))
        .await
        .expect(200);
    assert_eq!(
        list,
        json!([{"service_code": "food-assistance", "service_name": "Ayuda con alimentos",
            "description": "Despensa y comidas.", "metadata": true, "type": "batch",
            "keywords": "", "group": "integrated_student_supports"}])
    );
    let def = app
        .send(TestRequest::get().uri("/open311/v2/services/food-assistance.json"))
        .await
        .expect(200);
    assert_eq!(def["service_code"], "food-assistance");
    let attrs = def["attributes"].as_array().unwrap();
    assert_eq!(attrs.len(), 2);
    assert_eq!(attrs[0]["code"], "household_size");
    assert_eq!(attrs[0]["datatype"], "number");
    assert_eq!(attrs[0]["required"], true);
    assert_eq!(attrs[0]["order"], 1);
    assert_eq!(attrs[0]["description"], "How many people live in the home?");
    assert_eq!(attrs[1]["datatype"], "multivaluelist");
    assert_eq!(attrs[1]["required"], false);
    assert_eq!(
        attrs[1]["values"],
        json!([{"key": "groceries", "name": "Groceries"}, {"key": "meals", "name": "Meals"}])
    );
    let reply = app
        .send(TestRequest::get().uri("/open311/v2/services/no-such.json"))
        .await;
    crate::common::assert_problem(&reply, 404);
    let reply = app
        .send(TestRequest::get().uri("/open311/v2/services.json?lang=%01"))
        .await;
    crate::common::assert_problem(&reply, 422);
    let reply = app
        .send(TestRequest::get().uri("/open311/v2/services.xml"))
        .await;
    crate::common::assert_problem(&reply, 406);
}

/// A GeoReport v2 form POST to `/open311/v2/requests.json`.
async fn open311_post(app: &TestApp, token: Option<&str>, form: &str) -> Reply {
    let req = TestRequest::post()
        .uri("/open311/v2/requests.json")
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(form.to_owned());
    match token {
        Some(t) => app.send_as(t, req).await,
        None => app.send(req).await,
    }
}

fn assert_georeport_403(reply: &Reply) {
    assert_eq!(reply.status.as_u16(), 403);
    let body = reply.json();
    assert_eq!(body[0]["code"], 403, "{body}");
    assert!(body[0]["description"].as_str().unwrap().contains("api_key"));
    assert_eq!(body.as_array().unwrap().len(), 1);
}

/// A family files through the Open311 form and reads the request back through Open311 and the
/// native API; bad answers are named; another family and anonymous callers see nothing; the
/// status turns `closed` when the request ends.
#[actix_web::test]
async fn open311_files_and_reads_requests_through_the_same_rules() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let family = &w.family.1;
    let base = format!("school_id={}&subject_code=STU-311", w.school);

    // Bad answers and fields: every one named, as problem documents.
    let p = open311_post(
        &app,
        Some(family),
        &format!("service_code=food-assistance&{base}&attribute[household_size]=many&attribute[needs][]=caviar&attribute[pets]=2&lat=37.1"),
    )
    .await
    .expect(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["lat"],
        "unknown GeoReport fields are refused first: {p}"
    );
    let p = open311_post(
        &app,
        Some(family),
        &format!("service_code=food-assistance&{base}&attribute[household_size]=many&attribute[needs][]=caviar&attribute[pets]=2"),
    )
    .await
    .expect(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "attributes.household_size",
        "attributes.needs[0]",
        "attributes.pets",
    ] {
        assert!(fields.contains(&f), "{f} not named in {p}");
    }
    let p = open311_post(&app, Some(family), "service_code=no-such&school_id=x")
        .await
        .expect(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"school_id") && fields.contains(&"subject_code"));
    let p = open311_post(&app, Some(family), &format!("service_code=no-such&{base}"))
        .await
        .expect(422);
    assert_eq!(p["errors"][0]["field"], "service_code");

    // No key (bearer token): the GeoReport 403 error array.
    let form = format!(
        "service_code=food-assistance&{base}&description=Necesitamos+comida&attribute[household_size]=5&attribute[needs][]=groceries&attribute[needs][]=meals&api_key=whatever"
    );
    assert_georeport_403(&open311_post(&app, None, &form).await);

    // Filed as the family.
    let filed = open311_post(&app, Some(family), &form).await.expect(200);
    assert_eq!(filed.as_array().unwrap().len(), 1);
    assert!(filed[0]["account_id"].is_null());
    assert!(filed[0]["service_notice"]
        .as_str()
        .unwrap()
        .contains("Recibido"));
    let rid = filed[0]["service_request_id"].as_str().unwrap().to_owned();

    // An Idempotency-Key is honoured when sent: the retry gets the first answer.
    let keyed = |key: &str| {
        TestRequest::post()
            .uri("/open311/v2/requests.json")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .insert_header(("Idempotency-Key", key.to_owned()))
            .set_payload(form.clone())
    };
    let first = app
        .send_as(family, keyed("open311-retry-1"))
        .await
        .expect(200);
    let again = app
        .send_as(family, keyed("open311-retry-1"))
        .await
        .expect(200);
    assert_eq!(first, again);
    let keyed_id = first[0]["service_request_id"].as_str().unwrap().to_owned();
    assert_ne!(keyed_id, rid);
    let withdrawn_keyed = get_as(
        &app,
        family,
        &format!("/api/v1/service-requests/{keyed_id}"),
    )
    .await
    .expect(200);
    act(&app, family, &withdrawn_keyed, "withdraw", json!({}))
        .await
        .expect(200);

    // The same record through the native API.
    let native = get_as(&app, family, &format!("/api/v1/service-requests/{rid}"))
        .await
        .expect(200);
    assert_eq!(native["category_id"], w.category.as_str());
    assert_eq!(native["school_id"], w.school.as_str());
    assert_eq!(native["family_person_id"], w.family.0.as_str());
    assert_eq!(native["attributes"]["household_size"], 5);
    assert_eq!(native["attributes"]["needs"], json!(["groceries", "meals"]));
    assert_eq!(native["description"], "Necesitamos comida");

    // And through Open311.
    let one_path = format!("/open311/v2/requests/{rid}.json");
    let one = get_as(&app, family, &format!("{one_path}?lang=es"))
        .await
        .expect(200);
    assert_eq!(one[0]["service_request_id"], rid.as_str());
    assert_eq!(one[0]["status"], "open");
    assert_eq!(one[0]["status_notes"], "submitted");
    assert_eq!(one[0]["service_code"], "food-assistance");
    assert_eq!(one[0]["service_name"], "Ayuda con alimentos");
    assert!(one[0]["lat"].is_null() && one[0]["address"].is_null());
    let requested = one[0]["requested_datetime"].as_str().unwrap();
    assert!(requested.ends_with('Z'), "{requested} has no zone");
    let list = get_as(&app, family, "/open311/v2/requests.json")
        .await
        .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["service_request_id"], rid.as_str());
    let list = get_as(&app, family, "/open311/v2/requests.json?status=open")
        .await
        .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["service_request_id"], rid.as_str());
    let list = get_as(
        &app,
        family,
        &format!("/open311/v2/requests.json?service_request_id={rid}"),
    )
    .await
    .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let closed = get_as(&app, family, "/open311/v2/requests.json?status=closed")
        .await
        .expect(200);
    assert_eq!(closed.as_array().unwrap().len(), 1);
    assert_eq!(closed[0]["service_request_id"], keyed_id.as_str());
    assert_eq!(closed[0]["status_notes"], "withdrawn");
    let none = get_as(
        &app,
        family,
        "/open311/v2/requests.json?service_code=no-such",
    )
    .await
    .expect(200);
    assert_eq!(none, json!([]));
    crate::common::assert_problem(
        &get_as(&app, family, "/open311/v2/requests.json?status=done").await,
        422,
    );
    crate::common::assert_problem(
        &get_as(
            &app,
            family,
            "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        )
        .await,
        422,
    );

    // Another family: 404 for the one, an empty list, even by id.
    get_as(&app, &w.other_family, &one_path).await.expect(404);
    let theirs = get_as(&app, &w.other_family, "/open311/v2/requests.json")
        .await
        .expect(200);
    assert_eq!(theirs, json!([]));
    let theirs = get_as(
        &app,
        &w.other_family,
        &format!("/open311/v2/requests.json?service_request_id={rid}"),
    )
    .await
    .expect(200);
    assert_eq!(theirs, json!([]));
    // Anonymous callers: nothing about requests.
    assert_georeport_403(&app.send(TestRequest::get().uri(&one_path)).await);
    assert_georeport_403(
        &app.send(TestRequest::get().uri("/open311/v2/requests.json"))
            .await,
    );
    // Staff of the school see it.
    let staff_list = get_as(&app, &w.staff, "/open311/v2/requests.json")
        .await
        .expect(200);
    assert_eq!(staff_list[0]["service_request_id"], rid.as_str());

    // XML is refused with 406.
    let xml = get_as(&app, family, "/open311/v2/requests.xml").await;
    crate::common::assert_problem(&xml, 406);

    // The family withdraws it: closed, with the detail in status_notes.
    let withdrawn = act(&app, family, &native, "withdraw", json!({}))
        .await
        .expect(200);
    assert_eq!(withdrawn["status"], "withdrawn");
    let one = get_as(&app, family, &one_path).await.expect(200);
    assert_eq!(one[0]["status"], "closed");
    assert_eq!(one[0]["status_notes"], "withdrawn");
    let closed = get_as(&app, family, "/open311/v2/requests.json?status=closed")
        .await
        .expect(200);
    assert_eq!(closed.as_array().unwrap().len(), 2);
    assert_eq!(closed[0]["service_request_id"], rid.as_str());
    let open = get_as(&app, family, "/open311/v2/requests.json?status=open")
        .await
        .expect(200);
    assert_eq!(open, json!([]));
}
