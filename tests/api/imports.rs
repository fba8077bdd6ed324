//! Roster imports: OneRoster 1.2 CSV and cogov's CSV, dry runs, idempotent re-runs, deltas,
//! error handling modes, malformed uploads, and one claim per job across instances.

use std::io::Write;
use std::time::Duration;

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{assert_problem, id, Reply, TestApp};

pub fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A manifest.csv declaring these OneRoster files (`("users", "bulk")`).
pub fn manifest(modes: &[(&str, &str)]) -> String {
    let mut text =
        String::from("propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n");
    for (file, mode) in modes {
        text.push_str(&format!("file.{file},{mode}\n"));
    }
    text
}

/// A zip of the files; when they are OneRoster files without a manifest.csv, with one that
/// declares each of them `delta` (the mode in which cogov applies rows as they come and deletes
/// only `tobedeleted` rows).
pub fn oneroster_zip(files: &[(&str, &str)]) -> Vec<u8> {
    let oneroster = files
        .iter()
        .any(|(n, _)| *n == "orgs.csv" || *n == "users.csv");
    if !oneroster || files.iter().any(|(n, _)| *n == "manifest.csv") {
        return zip_of(files);
    }
    let modes: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, _)| (n.trim_end_matches(".csv"), "delta"))
        .collect();
    let text = manifest(&modes);
    let mut all = vec![("manifest.csv", text.as_str())];
    all.extend_from_slice(files);
    zip_of(&all)
}

async fn upload(app: &TestApp, query: &str, body: Vec<u8>) -> Reply {
    app.send_admin(
        TestRequest::post()
            .uri(&format!("/api/v1/imports{query}"))
            .insert_header(("content-type", "application/zip"))
            .set_payload(body),
    )
    .await
}

/// Waits until the job has ended and returns it.
async fn finished(app: &TestApp, job: &Value) -> Value {
    let path = format!("/api/v1/imports/{}", id(job));
    for _ in 0..2400 {
        let now = app.get(&path).await.expect(200);
        if now["status"] == "succeeded" || now["status"] == "failed" {
            return now;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {path} did not end");
}

async fn import(app: &TestApp, query: &str, files: &[(&str, &str)]) -> Value {
    let reply = upload(app, query, oneroster_zip(files)).await;
    let job = reply.expect(202);
    assert_eq!(
        reply.header("location").as_deref(),
        Some(format!("/api/v1/imports/{}", id(&job)).as_str())
    );
    finished(app, &job).await
}

async fn rows(app: &TestApp, job: &Value) -> Vec<Value> {
    app.collect_pages(&format!("/api/v1/imports/{}/rows?limit=2", id(job)))
        .await
}

fn counts(job: &Value) -> [i64; 5] {
    let c = &job["counts"];
    ["create", "update", "unchanged", "delete", "error"].map(|k| c[k].as_i64().unwrap())
}

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
d1,,,Unified District,district,D1,\n\
s1,,,Roosevelt Community School,school,1937234,d1\n";

const USERS: &str = "\u{feff}sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
u1,,,true,s1,parent,mlopez,,María,López,,,maria@example.org,,+1 213 555 0100,,,\n\
u2,,,true,s1,student,jkim,,Ji-woo,Kim,,,,,,,,\n\
u3,,,true,s1,teacher,bad,,Bea,Díaz,,,not-an-email,,,,,\n";

async fn people_with(app: &TestApp, ext: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/people?external_id=oneroster:{ext}"))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn a_dry_run_reports_each_row_and_changes_nothing() {
    let app = TestApp::new().await;
    // One person is already known by their sourcedId, under another name.
    app.post(
        "/api/v1/people",
        json!({"display_name": "Ji Kim", "external_ids": [{"system": "oneroster", "value": "u2"}]}),
    )
    .await
    .expect(201);
    let job = import(
        &app,
        "?dry_run=true&on_error=commit_good_rows",
        &[("orgs.csv", ORGS), ("users.csv", USERS)],
    )
    .await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["dry_run"], true);
    assert_eq!(job["format"], "oneroster");
    // create: school s1, user u1; update: u2; unchanged: the district org; error: u3.
    assert_eq!(counts(&job), [2, 1, 1, 0, 1]);
    let rows = rows(&app, &job).await;
    let brief: Vec<(String, i64, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_owned(),
                r["line"].as_i64().unwrap(),
                r["sourced_id"].as_str().unwrap_or("").to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |f: &str, l: i64, s: &str, o: &str| (f.to_owned(), l, s.to_owned(), o.to_owned());
    assert_eq!(
        brief,
        vec![
            expect("orgs.csv", 2, "d1", "unchanged"),
            expect("orgs.csv", 3, "s1", "create"),
            expect("users.csv", 2, "u1", "create"),
            expect("users.csv", 3, "u2", "update"),
            expect("users.csv", 4, "u3", "error"),
        ]
    );
    assert_eq!(rows[4]["field"], "email");
    assert_eq!(rows[4]["message"], "is not an email address");
    // Nothing changed.
    assert!(people_with(&app, "u1").await.is_empty());
    assert_eq!(people_with(&app, "u2").await[0]["display_name"], "Ji Kim");
    let schools = app.get("/api/v1/schools").await.expect(200);
    assert_eq!(schools["items"], json!([]));
    // Only the error rows, when asked for.
    let errors = app
        .get(&format!("/api/v1/imports/{}/rows?outcome=error", id(&job)))
        .await
        .expect(200);
    assert_eq!(errors["items"].as_array().unwrap().len(), 1);
}

/// Change-log entries of records (not of the import jobs themselves), counted in the database:
/// on PostgreSQL the feed serves a change only once every older transaction on the server has
/// finished, so counting through the feed could miss the first run's last changes.
fn record_changes(app: &TestApp) -> i64 {
    use cogov::db::schema::changes;
    use diesel::prelude::*;
    app.query(|conn| {
        changes::table
            .filter(changes::resource.ne("import"))
            .count()
            .get_result(conn)
    })
}

#[actix_web::test]
async fn a_real_run_twice_changes_nothing_the_second_time() {
    let app = TestApp::new().await;
    let users = USERS.replace("not-an-email", "bea@example.org");
    let files = [("orgs.csv", ORGS), ("users.csv", users.as_str())];
    let first = import(&app, "?time_zone=America/Los_Angeles", &files).await;
    assert_eq!(first["status"], "succeeded");
    assert_eq!(counts(&first), [4, 0, 1, 0, 0]);
    let maria = people_with(&app, "u1").await;
    assert_eq!(maria[0]["display_name"], "María López");
    assert_eq!(maria[0]["email"], "maria@example.org");
    assert_eq!(
        maria[0]["external_ids"],
        json!([{"system": "oneroster", "value": "u1"}])
    );
    let school = app
        .get("/api/v1/schools?external_id=oneroster:s1")
        .await
        .expect(200)["items"][0]
        .clone();
    assert_eq!(school["district_code"], "1937234");
    assert_eq!(school["time_zone"], "America/Los_Angeles");
    let changes_before = record_changes(&app);

    let second = import(&app, "", &files).await;
    assert_eq!(second["status"], "succeeded");
    assert_eq!(counts(&second), [0, 0, 5, 0, 0]);
    assert_eq!(
        people_with(&app, "u1").await,
        maria,
        "version and all fields kept"
    );
    let changes_after = record_changes(&app);
    assert_eq!(
        changes_after, changes_before,
        "no change events the second time"
    );

    // A changed row is an update, with the version moving once.
    let edited = files[1].1.replace("María,López", "María,López Ruiz");
    let third = import(&app, "", &[("users.csv", edited.as_str())]).await;
    assert_eq!(counts(&third), [0, 1, 2, 0, 0]);
    let now = people_with(&app, "u1").await;
    assert_eq!(now[0]["display_name"], "María López Ruiz");
    assert_eq!(now[0]["version"], 2);
}

#[actix_web::test]
async fn delta_rows_marked_tobedeleted_delete_or_report_why_not() {
    let app = TestApp::new().await;
    let users = USERS.replace("not-an-email", "bea@example.org");
    import(
        &app,
        "",
        &[("orgs.csv", ORGS), ("users.csv", users.as_str())],
    )
    .await;
    // u3 holds a seat: their record is history cogov keeps.
    let bea = people_with(&app, "u3").await[0].clone();
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seat = app.seat(&id(&council), "teachers").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        "\"1\"",
        json!({"person_id": id(&bea)}),
    )
    .await
    .expect(200);
    let delta = "sourcedId,status,dateLastModified,givenName,familyName\n\
u2,tobedeleted,2026-11-20T00:00:00Z,,\n\
u3,tobedeleted,2026-11-20T00:00:00Z,,\n\
u9,tobedeleted,2026-11-20T00:00:00Z,,\n";
    let job = import(&app, "?on_error=commit_good_rows", &[("users.csv", delta)]).await;
    assert_eq!(counts(&job), [0, 0, 1, 1, 1]);
    let rows = rows(&app, &job).await;
    assert_eq!(rows[0]["outcome"], "delete");
    assert_eq!(rows[1]["outcome"], "error");
    assert_eq!(rows[1]["field"], "status");
    assert!(rows[1]["message"].as_str().unwrap().contains("history"));
    assert_eq!(rows[2]["outcome"], "unchanged");
    assert!(people_with(&app, "u2").await.is_empty());
    app.get(&format!(
        "/api/v1/people/{}",
        rows[0]["resource_id"].as_str().unwrap()
    ))
    .await
    .expect(404);
    assert_eq!(people_with(&app, "u3").await.len(), 1, "kept");
}

#[actix_web::test]
async fn all_or_nothing_changes_nothing_and_commit_good_rows_applies_the_rest() {
    let app = TestApp::new().await;
    let files = [("users.csv", USERS)];
    let job = import(&app, "?on_error=all_or_nothing", &files).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["on_error"], "all_or_nothing");
    assert_eq!(counts(&job)[4], 1);
    assert!(people_with(&app, "u1").await.is_empty());
    let errors: Vec<Value> = rows(&app, &job)
        .await
        .into_iter()
        .filter(|r| r["outcome"] == "error")
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["line"], 4);

    let job = import(&app, "?on_error=commit_good_rows", &files).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(counts(&job), [2, 0, 0, 0, 1]);
    assert_eq!(people_with(&app, "u1").await.len(), 1);
    assert!(people_with(&app, "u3").await.is_empty());
}

#[actix_web::test]
async fn cogovs_own_format_imports_schools_and_people() {
    let app = TestApp::new().await;
    let schools = "external_id,name,district_code,time_zone,address,status\n\
1937234,Roosevelt Community School,19-64733,America/Los_Angeles,456 S Mathews St,\n\
1937235,Bad Zone School,19-64734,Mars/Olympus,,\n";
    let people = "external_id,display_name,email,phone,preferred_language,status\n\
4471,María López,maria@example.org,,es-MX,\n";
    let job = import(
        &app,
        "?on_error=commit_good_rows",
        &[("schools.csv", schools), ("people.csv", people)],
    )
    .await;
    assert_eq!(job["format"], "cogov");
    assert_eq!(job["system"], "sis");
    assert_eq!(counts(&job), [2, 0, 0, 0, 1]);
    let rows = rows(&app, &job).await;
    assert_eq!(rows[1]["field"], "time_zone");
    let maria = app
        .get("/api/v1/people?external_id=sis:4471")
        .await
        .expect(200);
    assert_eq!(maria["items"][0]["preferred_language"], "es-MX");
}

#[actix_web::test]
async fn malformed_uploads_are_refused_at_once() {
    let app = TestApp::new().await;
    let reply = upload(&app, "", b"not a zip".to_vec()).await;
    assert_problem(&reply, 422);
    assert_eq!(reply.json()["errors"][0]["field"], "body");
    let reply = upload(&app, "", zip_of(&[("classes.csv", "sourcedId\n")])).await;
    assert_problem(&reply, 422);
    // Header problems, one per column, each in the shape of a row result.
    let reply = upload(
        &app,
        "",
        oneroster_zip(&[("users.csv", "sourcedId,GivenName,familyName\nu1,A,B\n")]),
    )
    .await;
    assert_problem(&reply, 422);
    let p = reply.json();
    assert_eq!(
        p["errors"],
        json!([
            {"file": "users.csv", "line": 1, "field": "givenName",
             "message": "is a required column and is missing (column names are case-sensitive)"},
            {"file": "users.csv", "line": 1, "field": "GivenName",
             "message": "is not a column of users.csv in OneRoster 1.2 (names are case-sensitive; extension columns start with metadata.)"}
        ])
    );
    let reply = upload(
        &app,
        "?system=Not%20Ok",
        oneroster_zip(&[("users.csv", USERS)]),
    )
    .await;
    assert_problem(&reply, 422);
    assert_eq!(reply.json()["errors"][0]["field"], "system");
    let reply = upload(
        &app,
        "?on_error=sometimes",
        oneroster_zip(&[("users.csv", USERS)]),
    )
    .await;
    assert!(matches!(reply.status.as_u16(), 400 | 422));
    let reply = app
        .send_admin(
            TestRequest::post()
                .uri("/api/v1/imports")
                .insert_header(("content-type", "text/csv"))
                .set_payload(USERS),
        )
        .await;
    assert_problem(&reply, 415);
    // A row that is not CSV is a row error, not a failed import.
    let job = import(
        &app,
        "?on_error=commit_good_rows",
        &[("users.csv", "sourcedId,givenName,familyName\nu1,\"A,B\n")],
    )
    .await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(counts(&job)[4], 1);
}

#[actix_web::test]
async fn a_job_is_claimed_by_one_instance() {
    use cogov::commands::imports;
    let app = TestApp::new().await;
    let ctx = imports::job_context(None, "cli:test");
    let job = imports::create(
        &ctx,
        &app.db,
        imports::NewImport {
            media_type: None,
            payload: oneroster_zip(&[("users.csv", USERS)]),
            dry_run: false,
            on_error: imports::OnError::CommitGoodRows,
            system: None,
            time_zone: None,
        },
    )
    .await
    .unwrap();
    let other = app.test_db.open();
    let (mut p1, mut p2) = (|_| {}, |_| {});
    let (a, b) = futures_util::future::join(
        imports::run(&ctx, &app.db, &job.id, &mut p1),
        imports::run(&ctx, &other, &job.id, &mut p2),
    )
    .await;
    let ran = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(ran, 1, "{a:?} / {b:?}");
    let done = a.or(b).unwrap();
    assert_eq!(done.status, "succeeded");
    assert_eq!(done.created_count, 2);
    assert_eq!(people_with(&app, "u1").await.len(), 1);
}

#[actix_web::test]
async fn other_writes_are_served_while_an_import_runs() {
    let app = TestApp::new().await;
    let mut users = String::from("sourcedId,givenName,familyName,email\n");
    for n in 0..1500 {
        users.push_str(&format!("u{n},Given{n},Family{n},u{n}@example.org\n"));
    }
    let job = upload(&app, "", oneroster_zip(&[("users.csv", &users)]))
        .await
        .expect(202);
    let mut served_during = 0;
    for n in 0..20 {
        let status = app
            .get(&format!("/api/v1/imports/{}", id(&job)))
            .await
            .expect(200)["status"]
            .clone();
        app.school(&format!("W{n}")).await;
        if status == "running" {
            served_during += 1;
        }
    }
    let done = finished(&app, &job).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(counts(&done)[0], 1500);
    let schools = app.get("/api/v1/schools?limit=200").await.expect(200);
    assert_eq!(schools["items"].as_array().unwrap().len(), 20);
    eprintln!("{served_during} of 20 school writes were served while the import ran");
}

/// A job whose instance died (it stopped renewing its lease) is queued again by the sweeper and
/// run to the end by another instance; a job whose lease is still live is left to its runner.
#[actix_web::test]
async fn a_job_whose_instance_died_is_picked_up_again() {
    use cogov::commands::imports;
    let app = TestApp::new().await;
    let ctx = imports::job_context(Some("person:dead-admin"), "cli:test");
    let new_job = |system: &str| imports::NewImport {
        media_type: None,
        payload: oneroster_zip(&[("users.csv", USERS)]),
        dry_run: false,
        on_error: imports::OnError::CommitGoodRows,
        system: Some(system.to_owned()),
        time_zone: None,
    };
    // Two sources: one source's real runs never overlap (see the next test).
    let dead = imports::create(&ctx, &app.db, new_job("oneroster"))
        .await
        .unwrap();
    let alive = imports::create(&ctx, &app.db, new_job("hr")).await.unwrap();
    let now = cogov::db::now();
    // Two instances claimed the jobs: one died a while ago (its lease has run out), the other
    // is still running (its lease is live).
    let (d, a) = (dead.id.clone(), alive.id.clone());
    app.db
        .write(move |conn| {
            let past = now - chrono::Duration::seconds(1);
            let later = now + chrono::Duration::minutes(10);
            assert!(cogov::db::imports::claim(conn, &d, "died", past, past)?);
            assert!(cogov::db::imports::claim(conn, &a, "alive", now, later)?);
            Ok::<_, cogov::error::ApiError>(())
        })
        .await
        .unwrap();
    let job_path = |id: &str| format!("/api/v1/imports/{id}");
    assert_eq!(
        app.get(&job_path(&dead.id)).await.expect(200)["status"],
        "running"
    );

    // Another instance's sweeper, against its own connections.
    let other = app.test_db.open();
    let started = cogov::jobs::sweep_imports_once(&other, cogov::db::now())
        .await
        .unwrap();
    assert_eq!(started, vec![dead.id.clone()]);
    let done = finished(&app, &json!({"id": dead.id})).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(counts(&done), [2, 0, 0, 0, 1]);
    assert_eq!(people_with(&app, "u1").await.len(), 1);
    let results = rows(&app, &done).await;
    assert_eq!(
        results.len(),
        3,
        "one result per row, none left from the dead run"
    );

    // The live job is not taken; sweeping again starts nothing.
    let again = cogov::jobs::sweep_imports_once(&other, cogov::db::now())
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(
        app.get(&job_path(&alive.id)).await.expect(200)["status"],
        "running"
    );
}

/// One source's real imports run one at a time: a second job of the same system is not claimed
/// while the first runs (its bulk deletions could otherwise race the other file), and starts
/// once the first has ended. Dry runs and other systems are not held up. Two instances claiming
/// two jobs of one system at the same moment: exactly one wins.
#[actix_web::test]
async fn one_source_imports_one_file_at_a_time() {
    use cogov::commands::imports;
    let app = TestApp::new().await;
    let ctx = imports::job_context(Some("person:admin"), "cli:test");
    let job = |system: &str, dry_run: bool| imports::NewImport {
        media_type: None,
        payload: oneroster_zip(&[("users.csv", USERS)]),
        dry_run,
        on_error: imports::OnError::CommitGoodRows,
        system: Some(system.to_owned()),
        time_zone: None,
    };
    let first = imports::create(&ctx, &app.db, job("sis", false))
        .await
        .unwrap();
    let second = imports::create(&ctx, &app.db, job("sis", false))
        .await
        .unwrap();
    let dry = imports::create(&ctx, &app.db, job("sis", true))
        .await
        .unwrap();
    let other = imports::create(&ctx, &app.db, job("hr", false))
        .await
        .unwrap();
    let claim = |id: String, worker: &'static str| {
        let db = app.db.clone();
        async move {
            db.write(move |conn| {
                let now = cogov::db::now();
                let later = now + chrono::Duration::minutes(2);
                Ok::<_, cogov::error::ApiError>(cogov::db::imports::claim(
                    conn, &id, worker, now, later,
                )?)
            })
            .await
            .unwrap()
        }
    };
    assert!(claim(first.id.clone(), "a").await);
    assert!(
        !claim(second.id.clone(), "b").await,
        "same source, held back"
    );
    assert!(
        claim(dry.id.clone(), "c").await,
        "a dry run is not held back"
    );
    assert!(
        claim(other.id.clone(), "d").await,
        "another source is not held back"
    );
    assert_eq!(
        app.get(&format!("/api/v1/imports/{}", second.id))
            .await
            .expect(200)["status"],
        "queued"
    );
    // The first run ends; the second is claimed now and runs to the end.
    let first_id = first.id.clone();
    app.db
        .write(move |conn| {
            cogov::db::imports::finish(
                conn,
                &first_id,
                "a",
                "succeeded",
                Default::default(),
                None,
                cogov::db::now(),
            )?;
            Ok::<_, cogov::error::ApiError>(())
        })
        .await
        .unwrap();
    let done = imports::run(&ctx, &app.db, &second.id, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(done.status, "succeeded");

    // Two instances, two jobs of one source, claimed at once: one runs, one waits.
    let third = imports::create(&ctx, &app.db, job("sis", false))
        .await
        .unwrap();
    let fourth = imports::create(&ctx, &app.db, job("sis", false))
        .await
        .unwrap();
    let (a, b) = (app.test_db.open(), app.test_db.open());
    let (t, f) = (third.id.clone(), fourth.id.clone());
    let race = |db: cogov::db::Db, id: String| {
        std::thread::spawn(move || {
            db.write_blocking(move |conn| {
                let now = cogov::db::now();
                let later = now + chrono::Duration::minutes(2);
                Ok::<_, cogov::error::ApiError>(cogov::db::imports::claim(
                    conn, &id, "racer", now, later,
                )?)
            })
            .unwrap()
        })
    };
    let (x, y) = (race(a, t), race(b, f));
    let won = [x.join().unwrap(), y.join().unwrap()];
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
}

/// A batch of people written at once leaves, for each person created or updated, the same trail
/// as a single write: its change-log entry at its version and an audit event. A file naming one
/// sourcedId twice is applied row by row, in order (create, then update).
#[actix_web::test]
async fn people_written_in_a_batch_have_their_change_log_and_audit_events() {
    use cogov::db::schema::{audit_events, changes};
    use diesel::prelude::*;
    let app = TestApp::new().await;
    let job = import(&app, "?on_error=commit_good_rows", &[("users.csv", USERS)]).await;
    assert_eq!(counts(&job), [2, 0, 0, 0, 1]);
    let created: Vec<String> = rows(&app, &job)
        .await
        .iter()
        .filter(|r| r["outcome"] == "create")
        .map(|r| r["resource_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(created.len(), 2);
    for person in &created {
        let p = person.clone();
        let trail: Vec<(String, i64)> = app.query(move |conn| {
            changes::table
                .filter(changes::resource.eq("person"))
                .filter(changes::resource_id.eq(p))
                .order(changes::seq.asc())
                .select((changes::action, changes::version))
                .load(conn)
        });
        assert_eq!(trail, [("created".to_owned(), 1)]);
        let p = person.clone();
        let audited: Vec<(String, i64)> = app.query(move |conn| {
            audit_events::table
                .filter(audit_events::resource_id.eq(p))
                .select((audit_events::action, audit_events::status))
                .load(conn)
        });
        assert_eq!(audited, [("create".to_owned(), 201)]);
    }

    // One sourcedId twice in a file: the later row updates what the earlier one created.
    let twice = "sourcedId,givenName,familyName,email\n\
                 u9,Ana,Ruiz,ana@example.org\n\
                 u9,Ana,Ruiz Soto,ana@example.org\n";
    let job = import(&app, "", &[("users.csv", twice)]).await;
    assert_eq!(counts(&job), [1, 1, 0, 0, 0]);
    let ana = people_with(&app, "u9").await;
    assert_eq!(ana[0]["display_name"], "Ana Ruiz Soto");
    assert_eq!(ana[0]["version"], 2);
}

/// The problems of a 422 as `(file, line, field)`, in order.
fn problems(reply: &Reply) -> Vec<(String, Option<i64>, String)> {
    assert_problem(reply, 422);
    reply.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap_or("").to_owned(),
                e["line"].as_i64(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn at(file: &str, line: Option<i64>, field: &str) -> (String, Option<i64>, String) {
    (file.to_owned(), line, field.to_owned())
}

#[actix_web::test]
async fn a_oneroster_upload_needs_a_manifest_that_declares_its_files() {
    let app = TestApp::new().await;
    // No manifest: refused at once, naming the file.
    let reply = upload(&app, "", zip_of(&[("users.csv", USERS)])).await;
    assert_eq!(
        problems(&reply),
        vec![at("manifest.csv", None, "manifest.csv")]
    );
    assert!(reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("is missing"));
    assert!(reply.json()["detail"]
        .as_str()
        .unwrap()
        .contains("manifest.csv"));
    // Versions, an unknown mode, a file declared but missing, a file present but absent, a file
    // present but not declared: every problem with its line.
    let bad = "propertyName,value\n\
manifest.version,1.1\n\
oneroster.version,1.2\n\
file.users,sometimes\n\
file.orgs,absent\n\
file.classes,bulk\n";
    let reply = upload(
        &app,
        "",
        zip_of(&[
            ("manifest.csv", bad),
            ("users.csv", USERS),
            ("orgs.csv", ORGS),
            ("enrollments.csv", "sourcedId\n"),
        ]),
    )
    .await;
    assert_eq!(
        problems(&reply),
        vec![
            at("manifest.csv", Some(2), "manifest.version"),
            at("manifest.csv", Some(4), "file.users"),
            at("manifest.csv", Some(5), "file.orgs"),
            at("manifest.csv", Some(6), "file.classes"),
            at("manifest.csv", None, "file.enrollments"),
        ]
    );
    let messages: Vec<String> = reply.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(messages[0], "must be 1.0, not \"1.1\"");
    assert_eq!(
        messages[1],
        "must be absent, bulk or delta, not \"sometimes\""
    );
    assert_eq!(
        messages[2],
        "declares orgs.csv absent, but the upload holds orgs.csv"
    );
    assert_eq!(
        messages[3],
        "declares classes.csv bulk, but the upload has no classes.csv"
    );
    // A manifest without the versions.
    let reply = upload(
        &app,
        "",
        zip_of(&[
            ("manifest.csv", "propertyName,value\nfile.users,bulk\n"),
            ("users.csv", USERS),
        ]),
    )
    .await;
    assert_eq!(
        problems(&reply),
        vec![
            at("manifest.csv", None, "manifest.version"),
            at("manifest.csv", None, "oneroster.version"),
        ]
    );
    // A good manifest with a bad header: the header's problems.
    let reply = upload(
        &app,
        "",
        zip_of(&[
            ("manifest.csv", &manifest(&[("users", "bulk")])),
            ("users.csv", "sourcedId,givenName\nu1,A\n"),
        ]),
    )
    .await;
    assert_eq!(
        problems(&reply),
        vec![at("users.csv", Some(1), "familyName")]
    );
    // cogov's own files need no manifest.
    upload(
        &app,
        "",
        zip_of(&[("people.csv", "external_id,display_name\n1,A\n")]),
    )
    .await
    .expect(202);
}

const BULK_USERS: &str =
    "sourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,email\n\
u1,,,true,u1,María,López,maria@example.org\n\
u2,,,true,u2,Ji-woo,Kim,\n\
u3,,,true,u3,Bea,Díaz,\n";

fn bulk(users: &str) -> Vec<u8> {
    zip_of(&[
        (
            "manifest.csv",
            &manifest(&[("users", "bulk"), ("orgs", "absent")]),
        ),
        ("users.csv", users),
    ])
}

async fn bulk_import(app: &TestApp, query: &str, users: &str) -> Value {
    let job = upload(app, query, bulk(users)).await.expect(202);
    finished(app, &job).await
}

#[actix_web::test]
async fn a_bulk_file_deletes_the_records_of_its_source_it_leaves_out() {
    let app = TestApp::new().await;
    let files = [
        (
            "manifest.csv",
            manifest(&[("users", "bulk"), ("orgs", "bulk")]),
        ),
        ("orgs.csv", ORGS.to_owned()),
        ("users.csv", BULK_USERS.to_owned()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let job = finished(&app, &upload(&app, "", zip_of(&files)).await.expect(202)).await;
    assert_eq!(counts(&job), [4, 0, 1, 0, 0]);
    // Made by hand: without an external id, and with one in another system.
    let hand = app
        .post("/api/v1/people", json!({"display_name": "Hand Made"}))
        .await
        .expect(201);
    let sis = app
        .post(
            "/api/v1/people",
            json!({"display_name": "From SIS", "external_ids": [{"system": "sis", "value": "u2"}]}),
        )
        .await
        .expect(201);
    let ji = people_with(&app, "u2").await[0].clone();
    let changes_before = record_changes(&app);

    // u2 and u3 are left out. A dry run lists the deletes and changes nothing.
    let only_u1 =
        "sourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,email\n\
u1,,,true,u1,María,López,maria@example.org\n";
    let dry = bulk_import(&app, "?dry_run=true", only_u1).await;
    assert_eq!(dry["status"], "succeeded");
    assert_eq!(counts(&dry), [0, 0, 1, 2, 0]);
    let dry_rows = rows(&app, &dry).await;
    let deletes: Vec<(&str, i64, &str, &str)> = dry_rows
        .iter()
        .filter(|r| r["outcome"] == "delete")
        .map(|r| {
            (
                r["file"].as_str().unwrap(),
                r["line"].as_i64().unwrap(),
                r["sourced_id"].as_str().unwrap(),
                r["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        deletes,
        vec![
            ("users.csv", 0, "u2", "not in the bulk users.csv: deleted"),
            ("users.csv", 0, "u3", "not in the bulk users.csv: deleted"),
        ]
    );
    assert_eq!(dry_rows[1]["resource_id"], ji["id"]);
    assert_eq!(
        people_with(&app, "u2").await.len(),
        1,
        "a dry run deletes nothing"
    );
    assert_eq!(record_changes(&app), changes_before);

    // The real run deletes exactly u2 and u3, with a tombstone each; the school and the people
    // made by hand stay.
    let job = bulk_import(&app, "", only_u1).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(counts(&job), [0, 0, 1, 2, 0]);
    assert!(people_with(&app, "u2").await.is_empty());
    assert!(people_with(&app, "u3").await.is_empty());
    app.get(&format!("/api/v1/people/{}", id(&ji)))
        .await
        .expect(404);
    app.get(&format!("/api/v1/people/{}", id(&hand)))
        .await
        .expect(200);
    app.get(&format!("/api/v1/people/{}", id(&sis)))
        .await
        .expect(200);
    assert_eq!(people_with(&app, "u1").await.len(), 1);
    assert_eq!(
        app.get("/api/v1/schools?external_id=oneroster:s1")
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "orgs.csv is absent in this upload: schools are left alone"
    );
    assert_eq!(record_changes(&app), changes_before + 2);
    let tombstones = app.query(|conn| {
        use cogov::db::schema::changes;
        use diesel::prelude::*;
        changes::table
            .filter(changes::resource_id.eq(id(&ji)))
            .order(changes::seq.asc())
            .select(changes::action)
            .load::<String>(conn)
    });
    assert_eq!(tombstones.last().map(String::as_str), Some("deleted"));

    // The same bulk file again changes nothing.
    let again = bulk_import(&app, "", only_u1).await;
    assert_eq!(counts(&again), [0, 0, 1, 0, 0]);
    assert_eq!(record_changes(&app), changes_before + 2);
}

#[actix_web::test]
async fn a_bulk_omission_that_would_break_history_is_refused() {
    let app = TestApp::new().await;
    bulk_import(&app, "", BULK_USERS).await;
    // u3 holds a seat.
    let bea = people_with(&app, "u3").await[0].clone();
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seat = app.seat(&id(&council), "teachers").await;
    app.put(
        &format!("/api/v1/seats/{}/holder", id(&seat)),
        "\"1\"",
        json!({"person_id": id(&bea)}),
    )
    .await
    .expect(200);
    let only_u1 = "sourcedId,givenName,familyName\nu1,María,López\n";
    // All or nothing: the refused delete stops the whole import.
    let job = bulk_import(&app, "", only_u1).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(counts(&job), [0, 1, 0, 1, 1]);
    let refused: Vec<Value> = rows(&app, &job)
        .await
        .into_iter()
        .filter(|r| r["outcome"] == "error")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["sourced_id"], "u3");
    assert_eq!(refused[0]["line"], 0);
    assert_eq!(refused[0]["field"], "sourcedId");
    assert!(refused[0]["message"].as_str().unwrap().contains("history"));
    assert_eq!(people_with(&app, "u2").await.len(), 1, "nothing deleted");
    assert_eq!(
        people_with(&app, "u1").await[0]["email"],
        "maria@example.org"
    );
    // Good rows only: u2 goes, u3 stays.
    let job = bulk_import(&app, "?on_error=commit_good_rows", only_u1).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(counts(&job), [0, 1, 0, 1, 1]);
    assert!(people_with(&app, "u2").await.is_empty());
    assert_eq!(people_with(&app, "u3").await.len(), 1);
    // A tobedeleted row has no place in a bulk file.
    let job = bulk_import(
        &app,
        "?on_error=commit_good_rows",
        "sourcedId,status,givenName,familyName\nu1,tobedeleted,,\nu3,,Bea,Díaz\n",
    )
    .await;
    let rows = rows(&app, &job).await;
    assert_eq!(rows[0]["outcome"], "error");
    assert_eq!(rows[0]["field"], "status");
    assert_eq!(people_with(&app, "u1").await.len(), 1);
}

#[actix_web::test]
async fn a_delta_row_older_than_what_was_applied_is_stale() {
    let app = TestApp::new().await;
    let delta =
        |rows: &str| format!("sourcedId,status,dateLastModified,givenName,familyName\n{rows}");
    let first = import(
        &app,
        "",
        &[(
            "users.csv",
            &delta("u1,active,2026-11-10T08:00:00Z,María,López\n"),
        )],
    )
    .await;
    assert_eq!(counts(&first), [1, 0, 0, 0, 0]);
    // Older: ignored, with why.
    let job = import(
        &app,
        "",
        &[(
            "users.csv",
            &delta("u1,active,2026-11-05T08:00:00Z,Old,Name\n"),
        )],
    )
    .await;
    assert_eq!(counts(&job), [0, 0, 1, 0, 0]);
    let row = rows(&app, &job).await[0].clone();
    assert_eq!(row["outcome"], "unchanged");
    assert_eq!(
        row["message"],
        "skipped: stale: its dateLastModified 2026-11-05T08:00:00Z is older than \
         2026-11-10T08:00:00Z, which cogov last applied for this record"
    );
    assert_eq!(
        people_with(&app, "u1").await[0]["display_name"],
        "María López"
    );
    // An older tobedeleted row is stale too.
    let job = import(
        &app,
        "",
        &[(
            "users.csv",
            &delta("u1,tobedeleted,2026-11-01T00:00:00Z,,\n"),
        )],
    )
    .await;
    assert_eq!(counts(&job), [0, 0, 1, 0, 0]);
    assert_eq!(people_with(&app, "u1").await.len(), 1);
    // Equal: unchanged.
    let job = import(
        &app,
        "",
        &[(
            "users.csv",
            &delta("u1,active,2026-11-10T08:00:00Z,Same,Time\n"),
        )],
    )
    .await;
    assert_eq!(counts(&job), [0, 0, 1, 0, 0]);
    assert_eq!(
        people_with(&app, "u1").await[0]["display_name"],
        "María López"
    );
    // Newer: applied, and then the bar is the newer date.
    let job = import(
        &app,
        "",
        &[(
            "users.csv",
            &delta("u1,active,2026-11-12T08:00:00Z,María,López Ruiz\n"),
        )],
    )
    .await;
    assert_eq!(counts(&job), [0, 1, 0, 0, 0]);
    assert_eq!(
        people_with(&app, "u1").await[0]["display_name"],
        "María López Ruiz"
    );
    let job = import(
        &app,
        "",
        &[(
            "users.csv",
            &delta("u1,active,2026-11-11T08:00:00Z,María,López\n"),
        )],
    )
    .await;
    assert_eq!(counts(&job), [0, 0, 1, 0, 0]);
    // A malformed date is a row error.
    let job = import(
        &app,
        "?on_error=commit_good_rows",
        &[("users.csv", &delta("u1,active,yesterday,María,López\n"))],
    )
    .await;
    assert_eq!(rows(&app, &job).await[0]["field"], "dateLastModified");
}
