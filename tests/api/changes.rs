//! The change feed: commit order, tombstones, who sees what, and no skipped commit on PostgreSQL
//! while older transactions are still open.

use actix_web::test::TestRequest;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::{json, Value};

use crate::common::{id, version_tag, TestApp};

/// Follows the feed from `cursor` to its current end; returns the changes and the last cursor.
async fn follow(app: &TestApp, token: Option<&str>, mut cursor: String) -> (Vec<Value>, String) {
    let mut seen = Vec::new();
    loop {
        let mut req = TestRequest::get().uri(&format!("/api/v1/changes?limit=3&cursor={cursor}"));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let reply = app.send(req).await;
        let page = reply.expect(200);
        let items = page["items"].as_array().unwrap().clone();
        let next = page["next_cursor"].as_str().unwrap().to_owned();
        let more = reply.header("link").is_some();
        seen.extend(items);
        cursor = next;
        if !more {
            return (seen, cursor);
        }
    }
}

/// Follows until at least `n` changes that `keep` selects arrived: on PostgreSQL a change
/// appears once every older transaction on the server has finished, and other tests'
/// transactions run at the same time.
async fn follow_until(
    app: &TestApp,
    token: Option<&str>,
    mut cursor: String,
    n: usize,
    keep: impl Fn(&Value) -> bool,
) -> (Vec<Value>, String) {
    let mut seen = Vec::new();
    for _ in 0..50 {
        let (more, next) = follow(app, token, cursor).await;
        seen.extend(more.into_iter().filter(|c| keep(c)));
        cursor = next;
        if seen.len() >= n {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (seen, cursor)
}

fn kinds(changes: &[Value]) -> Vec<String> {
    changes
        .iter()
        .map(|c| c["type"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_feed_follows_every_change_in_commit_order() {
    let app = TestApp::new().await;
    let admin = app.admin.clone();
    // Where the log is now (the test's own setup wrote to it).
    let (_, start) = follow(&app, Some(&admin), String::new()).await;

    let council = app
        .council(json!({"kind": "assembly", "name": "Feed"}))
        .await;
    let path = format!("/api/v1/councils/{}", id(&council));
    let renamed = app
        .patch(&path, &version_tag(&council), json!({"name": "Feed 2"}))
        .await
        .expect(200);
    let person = app.person("Private Person").await;
    app.delete(&path, &version_tag(&renamed)).await.expect(204);

    // Other tests' open transactions can hold the horizon back, so changes of this test's own
    // setup may still arrive after `start`: keep to the records made here.
    let mine = [id(&council), id(&person)];
    let ours = |c: &Value| mine.iter().any(|m| c["id"] == m.as_str());
    let (seen, end) = follow_until(&app, Some(&admin), start.clone(), 4, ours).await;
    assert_eq!(
        kinds(&seen),
        [
            "council.created",
            "council.updated",
            "person.created",
            "council.deleted"
        ]
    );
    assert_eq!(seen[1]["version"], 2);
    assert_eq!(
        seen[3]["id"],
        id(&council).as_str(),
        "a delete leaves a tombstone"
    );
    assert_eq!(seen[2]["id"], id(&person).as_str());

    // Anonymous callers follow the public record only: no person.
    let (public, _) = follow_until(&app, None, start, 3, ours).await;
    assert_eq!(
        kinds(&public),
        ["council.created", "council.updated", "council.deleted"]
    );

    // Nothing new: an empty page that hands back the same cursor.
    let page = app
        .get(&format!("/api/v1/changes?cursor={end}"))
        .await
        .expect(200);
    assert_eq!(page["items"], json!([]));
    assert_eq!(page["next_cursor"], end.as_str());

    let bad = app
        .get("/api/v1/changes?cursor=bm90LWEtY3Vyc29y")
        .await
        .expect(422);
    assert_eq!(bad["errors"][0]["field"], "cursor");
}

/// INTEGRATION's snapshot trap: on PostgreSQL a transaction that started earlier can commit a
/// change with a lower sequence number after a later one is visible. The feed must not hand out a
/// cursor beyond the open transaction's change, and must deliver it once it commits.
#[actix_web::test]
async fn no_commit_is_skipped_while_an_older_transaction_is_open() {
    let app = TestApp::new().await;
    if !app.test_db.is_postgres() {
        return; // SQLite commits one writer at a time: the sequence is commit order
    }
    let admin = app.admin.clone();
    let (_, start) = follow(&app, Some(&admin), String::new()).await;

    // T1: an older transaction writes a change and stays open.
    let mut t1 = diesel::PgConnection::establish(&app.test_db.url).unwrap();
    t1.batch_execute(
        "BEGIN; INSERT INTO changes (resource, resource_id, action, version, occurred_at) \
         VALUES ('school', 'older-transaction', 'created', 1, now())",
    )
    .unwrap();
    // T2: a later write commits through the API.
    let council = app
        .council(json!({"kind": "assembly", "name": "Later"}))
        .await;

    let council_id = id(&council);
    let (while_open, cursor) = follow(&app, Some(&admin), start.clone()).await;
    assert!(
        !while_open.iter().any(|c| c["id"] == council_id.as_str()),
        "a later commit may not be served while an older transaction is open: {while_open:?}"
    );
    t1.batch_execute("COMMIT").unwrap();

    // Follow on from the cursor handed out while T1 was open: both changes arrive, T1's first.
    let mut ids: Vec<String> = Vec::new();
    let mut cursor = cursor;
    for _ in 0..50 {
        let (more, next) = follow(&app, Some(&admin), cursor).await;
        ids.extend(more.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        cursor = next;
        if ids.contains(&council_id) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let ours: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|i| *i == "older-transaction" || *i == council_id)
        .collect();
    assert_eq!(ours, ["older-transaction", council_id.as_str()]);
}

/// Prunes everything the horizon allows as if `days` had passed, retrying while other tests'
/// open transactions on PostgreSQL hold the horizon back.
async fn prune_all(app: &TestApp) -> cogov::commands::changes::Pruned {
    let later = chrono::Utc::now().naive_utc() + chrono::Duration::minutes(1);
    for _ in 0..50 {
        let pruned = cogov::commands::changes::prune(
            &crate::common::cli(),
            &app.db,
            chrono::Duration::zero(),
            later,
        )
        .await
        .expect("prune");
        if let Some(pruned) = pruned {
            return pruned;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("nothing was pruned");
}

#[actix_web::test]
async fn pruned_changes_turn_old_cursors_away_with_a_resync_path() {
    let app = TestApp::new().await;
    let admin = app.admin.clone();
    let first = app.school("PRUNE-A").await;

    // Nothing is a month old yet: the default retention removes nothing.
    let kept = cogov::commands::changes::prune(
        &crate::common::cli(),
        &app.db,
        chrono::Duration::days(30),
        chrono::Utc::now().naive_utc(),
    )
    .await
    .unwrap();
    assert_eq!(kept, None);
    follow(&app, Some(&admin), String::new()).await;

    let pruned = prune_all(&app).await;
    assert!(pruned.removed > 0);

    // From the start, and from a cursor before the pruned changes: 410 with the resync path.
    for cursor in ["", "ZmVlZDowOjA"] {
        let reply = app
            .send(TestRequest::get().uri(&format!("/api/v1/changes?cursor={cursor}")))
            .await;
        crate::common::assert_problem(&reply, 410);
        let body = reply.json();
        assert_eq!(body["code"], "cursor-expired");
        assert!(body["detail"]
            .as_str()
            .unwrap()
            .contains("/api/v1/changes/head"));
    }

    // The head cursor follows on: later changes arrive, the pruned ones do not come back.
    let head = app.get("/api/v1/changes/head").await.expect(200);
    let head = head["cursor"].as_str().unwrap().to_owned();
    let school = app.school("PRUNE-B").await;
    // On PostgreSQL a change still behind the horizon (another session's open transaction) was
    // neither pruned nor before the head: it may follow. Nothing else may.
    let (seen, _) = follow_until(&app, Some(&admin), head, 1, |c| {
        c["resource"] == "school" && c["id"] != first["id"]
    })
    .await;
    assert_eq!(
        seen.iter().map(|c| c["id"].clone()).collect::<Vec<_>>(),
        [school["id"].clone()],
        "only the school created after the head: {seen:?}"
    );
    assert_eq!(
        seen[0]["href"],
        format!("/api/v1/schools/{}", id(&school)).as_str()
    );
}
