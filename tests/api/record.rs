//! The council record through HTTP: a meeting cycle appends its public acts to the council's
//! hash chain; the chain and the server's verification agree; changing a stored entry or a row
//! an entry describes is found; two instances appending at once keep one chain; the procedure in
//! docs/VERIFY.md and scripts/verify_record.py check a live server's record.

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use futures_util::future::join_all;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{id, version_tag, Reply, TestApp};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

/// A school site council with eight filled seats.
async fn seated_council(app: &TestApp) -> (Value, Vec<Value>) {
    let school = app
        .school(&format!("R{}", uuid::Uuid::now_v7().simple()))
        .await;
    let council = app
        .council(json!({"school_id": id(&school), "kind": "school_site_council", "name": "School Site Council"}))
        .await;
    let mut seats = Vec::new();
    for (n, c) in [
        "administrators",
        "teachers",
        "teachers",
        "classified_staff",
        "families",
        "families",
        "families",
        "families",
    ]
    .into_iter()
    .enumerate()
    {
        let seat = app.seat(&id(&council), c).await;
        let person = app.person(&format!("Member {n}")).await;
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
    (council, seats)
}

async fn meeting(app: &TestApp, council: &Value, hours: i64, title: &str, items: &[&str]) -> Value {
    let m = post(
        app,
        &format!("/api/v1/councils/{}/meetings", id(council)),
        None,
        json!({"type": "regular", "title": title, "starts_at": at(hours), "location": "Library"}),
    )
    .await
    .expect(201);
    for title in items {
        post(
            app,
            &format!("/api/v1/meetings/{}/agenda-items", id(&m)),
            None,
            json!({"kind": "action", "title": title}),
        )
        .await
        .expect(201);
    }
    m
}

async fn act(app: &TestApp, meeting: &Value, action: &str, body: Value) -> Value {
    post(
        app,
        &format!("/api/v1/meetings/{}/{action}", id(meeting)),
        Some("*"),
        body,
    )
    .await
    .expect(200)
}

async fn agenda(app: &TestApp, meeting: &Value) -> Vec<Value> {
    app.get(&format!("/api/v1/meetings/{}/agenda-items", id(meeting)))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Opens the meeting with the first six members present.
async fn open_with_quorum(app: &TestApp, meeting: &Value, seats: &[Value]) {
    act(app, meeting, "open", json!({})).await;
    for (n, seat) in seats.iter().enumerate() {
        let status = if n < 6 { "present" } else { "absent" };
        post(
            app,
            &format!("/api/v1/meetings/{}/attendance", id(meeting)),
            None,
            json!({"seat_id": id(seat), "status": status}),
        )
        .await
        .expect(200);
    }
}

/// Hears the public on the item, moves it, takes the roll call and closes the motion.
async fn decide(app: &TestApp, meeting: &Value, item: &Value, seats: &[Value]) -> Value {
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
    let m = post(
        app,
        &format!("/api/v1/meetings/{}/motions", id(meeting)),
        None,
        json!({"kind": "main", "agenda_item_id": id(item), "text": "Approve \"as presented\" / Aprobar",
            "mover_seat_id": id(&seats[0]), "seconder_seat_id": id(&seats[1])}),
    )
    .await
    .expect(201);
    for (seat, choice) in seats[..6]
        .iter()
        .zip(["yes", "yes", "yes", "no", "yes", "abstain"])
    {
        post(
            app,
            &format!("/api/v1/motions/{}/votes", id(&m)),
            None,
            json!({"seat_id": id(seat), "choice": choice}),
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
    .expect(200)
}

async fn record_of(app: &TestApp, council: &Value) -> Vec<Value> {
    app.collect_pages(&format!("/api/v1/councils/{}/record", id(council)))
        .await
}

async fn verification(app: &TestApp, council: &Value) -> Value {
    app.get(&format!(
        "/api/v1/councils/{}/record/verification",
        id(council)
    ))
    .await
    .expect(200)
}

/// jq -cS of a value whose strings are plain text (what these tests put in).
fn sorted_compact(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String((*k).clone()),
                        sorted_compact(&map[*k])
                    )
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(sorted_compact)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// Checks the chain as docs/VERIFY.md tells a reader to: seq 1..n, each prev_hash the previous
/// hash, each hash the SHA-256 of prev_hash, a line feed and the canonical body.
fn check_chain(entries: &[Value]) {
    let mut prev = GENESIS.to_owned();
    for (n, e) in entries.iter().enumerate() {
        assert_eq!(e["seq"], json!(n + 1), "{e}");
        assert_eq!(e["prev_hash"], json!(prev), "entry {}", n + 1);
        let body = json!({"council_id": e["council_id"], "data": e["data"], "kind": e["kind"],
            "recorded_at": e["recorded_at"], "seq": e["seq"], "subject_id": e["subject"]["id"]});
        let text = format!("{prev}\n{}", sorted_compact(&body));
        let hash: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(e["hash"], json!(hash), "entry {}", n + 1);
        prev = hash;
    }
}

fn kinds(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

/// Runs one meeting cycle and the approval of its minutes at the next meeting; returns the
/// council, the first meeting's closed motion and the minutes.
async fn cycle(app: &TestApp) -> (Value, Value, Value) {
    let (council, seats) = seated_council(app).await;
    let first = meeting(app, &council, 100, "October meeting", &["Reading plan"]).await;
    act(app, &first, "publish", json!({})).await;
    post(
        app,
        &format!("/api/v1/meetings/{}/amendments", id(&first)),
        Some("*"),
        json!({"reason": "Bus strike announced", "item": {"kind": "action", "title": "Bus plan"}}),
    )
    .await
    .expect(201);
    open_with_quorum(app, &first, &seats).await;
    let items = agenda(app, &first).await;
    let motion = decide(app, &first, &items[0], &seats).await;
    assert_eq!(motion["status"], "passed");
    act(app, &first, "adjourn", json!({})).await;
    let draft = post(
        app,
        &format!("/api/v1/meetings/{}/minutes", id(&first)),
        None,
        json!({}),
    )
    .await
    .expect(201);

    let second = meeting(
        app,
        &council,
        120,
        "November meeting",
        &["Approve October minutes"],
    )
    .await;
    let approval = agenda(app, &second).await.remove(0);
    app.patch(
        &format!("/api/v1/minutes/{}", id(&draft)),
        &version_tag(&draft),
        json!({"approval_item_id": id(&approval)}),
    )
    .await
    .expect(200);
    act(app, &second, "publish", json!({})).await;
    open_with_quorum(app, &second, &seats).await;
    decide(app, &second, &approval, &seats).await;
    let minutes = app
        .get(&format!("/api/v1/minutes/{}", id(&draft)))
        .await
        .expect(200);
    assert_eq!(minutes["status"], "approved");
    post(
        app,
        &format!("/api/v1/minutes/{}/corrections", id(&draft)),
        None,
        json!({"reason": "Name misspelt", "correction": "Member 3, not Member 8, seconded."}),
    )
    .await
    .expect(201);

    let third = meeting(app, &council, 140, "December meeting", &[]).await;
    act(app, &third, "publish", json!({})).await;
    act(app, &third, "cancel", json!({"reason": "Snow day"})).await;
    // A draft's cancellation was never public: not recorded.
    let never = meeting(app, &council, 160, "Draft only", &[]).await;
    act(app, &never, "cancel", json!({"reason": "Not needed"})).await;
    (council, motion, minutes)
}

#[actix_web::test]
async fn a_meeting_cycle_is_recorded_and_the_chain_verifies() {
    let app = TestApp::new().await;
    let (council, motion, minutes) = cycle(&app).await;
    let entries = record_of(&app, &council).await;
    assert_eq!(
        kinds(&entries),
        [
            "meeting_published",
            "agenda_amended",
            "motion_closed",
            "meeting_published",
            "motion_closed",
            "minutes_approved",
            "minutes_corrected",
            "meeting_published",
            "meeting_cancelled",
        ]
    );
    check_chain(&entries);
    // The published agenda as noticed; the amendment carries the item it added.
    assert_eq!(entries[0]["data"]["agenda"][0]["title"], "Reading plan");
    assert_eq!(entries[0]["data"]["agenda"].as_array().unwrap().len(), 1);
    assert_eq!(entries[1]["data"]["items"][0]["title"], "Bus plan");
    assert_eq!(
        entries[1]["data"]["amendment"]["reason"],
        "Bus strike announced"
    );
    // The motion with every voting member's vote, absent ones included.
    assert_eq!(entries[2]["subject"]["id"], motion["id"]);
    assert_eq!(
        entries[2]["subject"]["href"],
        format!("/api/v1/motions/{}", id(&motion))
    );
    assert_eq!(entries[2]["data"]["motion"]["result"], "passed");
    let votes = entries[2]["data"]["votes"].as_array().unwrap();
    assert_eq!(votes.len(), 8);
    assert_eq!(votes.iter().filter(|v| v["vote"] == "absent").count(), 2);
    assert_eq!(votes.iter().filter(|v| v["vote"] == "no").count(), 1);
    assert_eq!(entries[5]["subject"]["id"], minutes["id"]);
    assert_eq!(entries[5]["data"]["minutes"]["status"], "approved");
    assert_eq!(entries[8]["data"]["reason"], "Snow day");

    let v = verification(&app, &council).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], 9);
    assert_eq!(v["head"]["seq"], 9);
    assert_eq!(v["head"]["hash"], entries[8]["hash"]);
    assert_eq!(v["problem"], Value::Null);

    // Paging by cursor and by after_seq; anyone may read it; ETag revalidation.
    let path = format!("/api/v1/councils/{}/record", id(&council));
    let page = app
        .send(TestRequest::get().uri(&format!("{path}?limit=4")))
        .await;
    let body = page.expect(200);
    assert_eq!(body["items"].as_array().unwrap().len(), 4);
    assert!(page.header("link").unwrap().contains("cursor="));
    let rest = app
        .send(TestRequest::get().uri(&format!("{path}?after_seq=7")))
        .await
        .expect(200);
    assert_eq!(rest["items"][0]["seq"], 8);
    assert_eq!(rest["next_cursor"], Value::Null);
    let tag = page.etag();
    let again = app
        .send(
            TestRequest::get()
                .uri(&format!("{path}?limit=4"))
                .insert_header(("If-None-Match", tag.as_str())),
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    for bad in [
        "?limit=0",
        "?after_seq=-1",
        "?cursor=bm90",
        "?after_seq=1&cursor=c2VxOjE",
    ] {
        let reply = app.get(&format!("{path}{bad}")).await;
        assert_eq!(reply.status.as_u16(), 422, "{bad}");
    }
    app.get(&format!("/api/v1/councils/{}/record", uuid::Uuid::now_v7()))
        .await
        .expect(404);
}

/// Runs a statement against the test database with the council's id as `$1`.
fn sql(app: &TestApp, statement: &'static str, council_or_motion: String) {
    app.query(move |conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query(statement)
            .bind::<diesel::sql_types::Text, _>(council_or_motion)
            .execute(conn)
    });
}

#[actix_web::test]
async fn changing_a_stored_entry_or_a_vote_is_found() {
    let app = TestApp::new().await;
    let (council, motion, _) = cycle(&app).await;
    let council_id = id(&council);
    let original = record_of(&app, &council).await;

    // A stored entry rewritten: its hash no longer matches, and the served data shows it.
    sql(
        &app,
        "UPDATE record_entries SET data = replace(data, 'Reading plan', 'Reading planX') \
         WHERE council_id = $1 AND seq = 1",
        council_id.clone(),
    );
    let v = verification(&app, &council).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["problem"]["code"], "hash-mismatch", "{v}");
    assert_eq!(v["problem"]["seq"], 1);
    assert_eq!(v["head"], Value::Null);
    assert_ne!(
        record_of(&app, &council).await[0]["data"],
        original[0]["data"]
    );
    sql(
        &app,
        "UPDATE record_entries SET data = replace(data, 'Reading planX', 'Reading plan') \
         WHERE council_id = $1 AND seq = 1",
        council_id.clone(),
    );
    assert_eq!(verification(&app, &council).await["ok"], true);

    // An entry relinked to another predecessor: the link is broken there.
    sql(
        &app,
        "UPDATE record_entries SET prev_hash = '0000000000000000000000000000000000000000000000000000000000000000' \
         WHERE council_id = $1 AND seq = 2",
        council_id.clone(),
    );
    let v = verification(&app, &council).await;
    assert_eq!(v["problem"]["code"], "broken-link", "{v}");
    assert_eq!(v["problem"]["seq"], 2);
    assert_eq!(v["head"]["seq"], 1);
    sql(
        &app,
        "UPDATE record_entries SET prev_hash = (SELECT e.hash FROM record_entries e \
         WHERE e.council_id = $1 AND e.seq = 1) WHERE council_id = $1 AND seq = 2",
        council_id.clone(),
    );
    assert_eq!(verification(&app, &council).await["ok"], true);

    // A vote changed after the motion closed: the chain is intact, but its entry no longer
    // agrees with the rows it describes.
    sql(
        &app,
        "UPDATE votes SET choice = 'yes' WHERE motion_id = $1 AND choice = 'no'",
        id(&motion),
    );
    let v = verification(&app, &council).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["problem"]["code"], "data-differs", "{v}");
    assert_eq!(v["problem"]["seq"], 3);
    assert_eq!(v["head"]["seq"], 2);
    assert_eq!(v["checked"], 3);
    // The served chain itself still checks: only the comparison with the rows finds this.
    check_chain(&record_of(&app, &council).await);
}

/// Two app instances publishing meetings of one council at the same time: every publication
/// gets its entry, and the entries form one chain (1..n, each linked to the one before).
#[actix_web::test]
async fn two_instances_appending_at_once_keep_one_chain() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let (council, _) = seated_council(&app).await;
    let mut meetings = Vec::new();
    for n in 0..12 {
        meetings.push(meeting(&app, &council, 100 + n, &format!("Meeting {n}"), &["Item"]).await);
    }
    let replies = join_all(meetings.iter().enumerate().map(|(n, m)| {
        let req = TestRequest::post()
            .uri(&format!("/api/v1/meetings/{}/publish", id(m)))
            .insert_header(("If-Match", "*"));
        let app = &app;
        let other = &other;
        async move {
            if n % 2 == 0 {
                app.send_admin(req).await
            } else {
                other.send_admin(req).await
            }
        }
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, vec![200; 12]);
    let entries = record_of(&app, &council).await;
    assert_eq!(entries.len(), 12);
    check_chain(&entries);
    let mut subjects: Vec<String> = entries
        .iter()
        .map(|e| e["subject"]["id"].as_str().unwrap().to_owned())
        .collect();
    subjects.sort();
    let mut published: Vec<String> = meetings.iter().map(id).collect();
    published.sort();
    assert_eq!(subjects, published);
    assert_eq!(verification(&app, &council).await["ok"], true);
}

/// The shell procedure in docs/VERIFY.md and scripts/verify_record.py, run as a reader would
/// against a live `cogov serve`: both accept the record, and both refuse it once a stored entry
/// is changed.
#[actix_web::test]
async fn the_documented_procedure_checks_a_live_server() {
    let app = TestApp::new().await;
    let (council, _, _) = cycle(&app).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/VERIFY.md")).unwrap();
    let block = doc
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.starts_with("# verify-record"))
        .expect("docs/VERIFY.md has the verify-record block");
    let dir = tempfile::tempdir().unwrap();
    let server = crate::cli::Server::start(&app.test_db.url, dir.path());
    let base = format!("http://{}", server.addr);
    let run = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .env("BASE", &base)
            .env("COUNCIL", id(&council))
            .output()
            .unwrap()
    };
    let script = root.join("scripts/verify_record.py");
    let script = script.to_str().unwrap();
    let shell = run("bash", &["-c", block]);
    let said = String::from_utf8_lossy(&shell.stdout).into_owned();
    assert!(
        shell.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&shell.stderr)
    );
    assert!(said.contains("ok: 9 entries"), "{said}");
    let py = run("python3", &[script, &base, &id(&council)]);
    let said = String::from_utf8_lossy(&py.stdout).into_owned();
    assert!(
        py.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert!(said.contains("ok: 9 entries"), "{said}");

    let cid = id(&council);
    app.query(move |conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "UPDATE record_entries SET data = replace(data, 'Snow day', 'Snow days') \
             WHERE council_id = $1 AND seq = 9",
        )
        .bind::<diesel::sql_types::Text, _>(cid)
        .execute(conn)
    });
    let shell = run("bash", &["-c", block]);
    let said = String::from_utf8_lossy(&shell.stdout).into_owned();
    assert!(!shell.status.success(), "{said}");
    assert!(said.contains("hash mismatch at entry 9"), "{said}");
    let py = run("python3", &[script, &base, &id(&council)]);
    let said = String::from_utf8_lossy(&py.stdout).into_owned();
    assert!(!py.status.success(), "{said}");
    assert!(said.contains("hash mismatch at entry 9"), "{said}");
    server.stop();
}
