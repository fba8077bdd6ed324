//! Storage: both backends build the same tables and columns, every write lands in the change log
//! in the same transaction, and timestamps read back exactly as written.

use cogov::db::{changes, dialect};
use serde_json::json;

use crate::common::{id, TestApp};

#[test]
fn both_backends_have_the_same_migrations() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let list = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = list("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, list("postgres"));
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                assert!(
                    root.join(backend).join(name).join(file).is_file(),
                    "{backend}/{name}/{file}"
                );
            }
        }
    }
}

/// The committed column list is what the migrations produce on this backend; CI runs this on
/// both, so both produce the same tables, columns and nullability.
#[actix_web::test]
async fn tables_and_columns_match_the_committed_list() {
    let app = TestApp::new().await;
    let actual = app.query(dialect::describe_tables);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/columns.txt");
    if std::env::var_os("UPDATE_COLUMNS").is_some() && !app.test_db.is_postgres() {
        std::fs::write(&path, actual.join("\n") + "\n").unwrap();
        return;
    }
    let expected: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        actual, expected,
        "schema differs from tests/api/columns.txt"
    );
}

#[actix_web::test]
async fn down_migrations_undo_everything() {
    use diesel::RunQueryDsl;
    let app = TestApp::new().await;
    let postgres = app.test_db.is_postgres();
    // Run every down.sql of this backend, newest first; no cogov table may remain.
    let backend = if postgres { "postgres" } else { "sqlite" };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for dir in names.iter().rev() {
        let sql = std::fs::read_to_string(dir.join("down.sql")).unwrap();
        app.db
            .write_blocking(|conn| -> Result<(), cogov::error::ApiError> {
                for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    diesel::sql_query(statement).execute(conn)?;
                }
                Ok(())
            })
            .unwrap();
    }
    let left = app.query(dialect::describe_tables);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[actix_web::test]
async fn every_write_is_in_the_change_log_and_deletes_leave_tombstones() {
    let app = TestApp::new().await;
    let school = app.school("CL1").await;
    let path = format!("/api/v1/schools/{}", id(&school));
    app.patch(&path, "\"1\"", json!({"name": "Renamed"}))
        .await
        .expect(200);
    app.delete(&path, "\"2\"").await.expect(204);
    // A refused write leaves no trace.
    app.post(
        "/api/v1/schools",
        json!({"name": "Dup", "district_code": "CL2", "time_zone": "UTC"}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/schools",
        json!({"name": "Dup", "district_code": "CL2", "time_zone": "UTC"}),
    )
    .await
    .expect(409);

    let log = app.query(|conn| changes::for_resource(conn, "school", &id(&school)));
    let seen: Vec<(&str, i64)> = log.iter().map(|c| (c.action.as_str(), c.version)).collect();
    assert_eq!(seen, [("created", 1), ("updated", 2), ("deleted", 3)]);
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));

    let all = app.query(|conn| {
        use cogov::db::schema::changes::dsl::*;
        use diesel::prelude::*;
        changes
            .filter(resource.eq("school"))
            .count()
            .get_result::<i64>(conn)
    });
    assert_eq!(
        all, 4,
        "three changes to the first school and one create of the second"
    );
}

#[actix_web::test]
async fn timestamps_read_back_exactly() {
    let app = TestApp::new().await;
    let created = app.person("Timely").await;
    let read = app
        .get(&format!("/api/v1/people/{}", id(&created)))
        .await
        .expect(200);
    assert_eq!(read["created_at"], created["created_at"]);
    let ts = created["created_at"].as_str().unwrap();
    let fraction = ts.split('.').nth(1).unwrap_or("");
    assert!(fraction.len() <= 7, "at most microseconds: {ts}");
}

/// Writes that arrive together are committed together; one that fails is undone alone.
#[actix_web::test]
async fn concurrent_writes_commit_independently() {
    let app = TestApp::new().await;
    let creates = (0..150).map(|i| {
        app.post(
            "/api/v1/people",
            json!({"display_name": format!("Person {i}")}),
        )
    });
    // Twenty attempts at the same district code: exactly one may win.
    let duplicates = (0..20).map(|i| {
        app.post(
            "/api/v1/schools",
            json!({"name": format!("Try {i}"), "district_code": "SAME", "time_zone": "UTC"}),
        )
    });
    let (people, schools) = futures_util::future::join(
        futures_util::future::join_all(creates),
        futures_util::future::join_all(duplicates),
    )
    .await;
    assert!(people.iter().all(|r| r.status.as_u16() == 201));
    let won = schools.iter().filter(|r| r.status.as_u16() == 201).count();
    let refused = schools.iter().filter(|r| r.status.as_u16() == 409).count();
    assert_eq!((won, refused), (1, 19));

    let listed = app.collect_pages("/api/v1/people?limit=200").await;
    assert_eq!(listed.len(), 151, "the 150 and the test's admin");
    let count = |what: &'static str| {
        app.query(move |conn| {
            use cogov::db::schema::changes::dsl::*;
            use diesel::prelude::*;
            changes
                .filter(resource.eq(what))
                .count()
                .get_result::<i64>(conn)
        })
    };
    // One change per committed write, none for refused ones.
    assert_eq!(count("person"), 151);
    assert_eq!(count("school"), 1);
}

/// Regression: a write that panicked used to end the writer thread, and with it every later write.
#[actix_web::test]
async fn a_panicking_write_does_not_stop_the_writer() {
    let app = TestApp::new().await;
    let result: Result<(), cogov::error::ApiError> = app
        .db
        .write(|_| -> Result<(), cogov::error::ApiError> { panic!("a bug in one write") })
        .await;
    assert!(
        matches!(result, Err(cogov::error::ApiError::Internal(_))),
        "a panic is a fault of the server, answered as one: {result:?}"
    );
    app.post("/api/v1/people", json!({"display_name": "After the panic"}))
        .await
        .expect(201);
}

/// A panic in one write of a batch fails that write alone: the writes committed with it stand.
#[actix_web::test]
async fn a_panicking_write_fails_alone_in_its_batch() {
    let app = TestApp::new().await;
    let db = app.db.clone();
    let writes = (0..60).map(|n| {
        let db = db.clone();
        async move {
            db.write(move |conn| -> Result<(), cogov::error::ApiError> {
                if n == 30 {
                    panic!("a bug in one write");
                }
                let now = cogov::db::now();
                cogov::db::people::insert(
                    conn,
                    &cogov::db::people::Person {
                        id: uuid::Uuid::now_v7().to_string(),
                        display_name: format!("Batch {n}"),
                        email: None,
                        phone: None,
                        preferred_language: "en".to_owned(),
                        created_at: now,
                        updated_at: now,
                        version: 1,
                        created_by: None,
                        contact_erased_at: None,
                    },
                )?;
                Ok(())
            })
            .await
        }
    });
    let results = futures_util::future::join_all(writes).await;
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(failed, vec![30], "only the panicking write fails");
    let stored = app.db.read(|conn| {
        use cogov::db::schema::people::dsl::*;
        use diesel::prelude::*;
        people
            .filter(display_name.like("Batch %"))
            .count()
            .get_result::<i64>(conn)
            .map_err(cogov::error::ApiError::from)
    });
    assert_eq!(stored.unwrap(), 59);
}

/// Regression: after the database cut its connections, a write answered 500. A client must see
/// 503 (try again) and the service must recover on its own.
#[actix_web::test]
async fn cut_database_connections_are_unavailable_not_internal_errors() {
    let app = TestApp::new().await;
    if !app.test_db.is_postgres() {
        return; // SQLite is a file in this process: it has no connections to cut
    }
    app.post(
        "/api/v1/councils",
        json!({"kind": "assembly", "name": "Before"}),
    )
    .await
    .expect(201);
    assert!(app.test_db.cut_connections() > 0);
    let mut recovered = false;
    for attempt in 0..10 {
        let reply = app
            .post(
                "/api/v1/councils",
                json!({"kind": "assembly", "name": format!("After {attempt}")}),
            )
            .await;
        match reply.status.as_u16() {
            201 => {
                recovered = true;
                break;
            }
            503 => assert!(reply.header("retry-after").is_some()),
            other => panic!(
                "a cut connection answered {other}: {}",
                String::from_utf8_lossy(&reply.body)
            ),
        }
    }
    assert!(recovered, "writes work again once connections are replaced");
}

/// A stored value cogov cannot read is an error the operator sees, never a silent default (a
/// corrupt id used to come back as the nil UUID).
#[actix_web::test]
async fn a_corrupt_stored_id_is_an_error_not_a_nil_id() {
    let app = TestApp::new().await;
    let council = app.council(json!({"kind": "assembly", "name": "A"})).await;
    let seat = app.seat(&id(&council), "families").await;
    let person = app.person("Someone").await;
    app.query(|conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "INSERT INTO seat_holdings (id, seat_id, person_id, started_on, ended_on, end_reason, \
             created_at, updated_at, version) VALUES ('not-a-uuid', $1, $2, '2026-01-01', \
             '2026-02-01', 'test', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)",
        )
        .bind::<diesel::sql_types::Text, _>(id(&seat))
        .bind::<diesel::sql_types::Text, _>(id(&person))
        .execute(conn)
    });
    let reply = app
        .get(&format!("/api/v1/seats/{}/holdings", id(&seat)))
        .await;
    let problem = reply.expect(500);
    assert_eq!(problem["code"], "internal");
    assert!(!String::from_utf8_lossy(&reply.body).contains("00000000-0000-0000-0000-000000000000"));
}

/// A report reads in one transaction: what it returns comes back, an error comes back as it
/// was; on PostgreSQL the transaction is read-only and its larger `work_mem` ends with it (the
/// pooled connection goes back to the server's default).
#[actix_web::test]
async fn reports_read_in_one_read_only_transaction() {
    use cogov::error::ApiError;
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        work_mem: String,
    }
    fn work_mem(conn: &mut cogov::db::AnyConnection) -> Result<String, ApiError> {
        Ok(diesel::sql_query("SHOW work_mem")
            .get_result::<Setting>(conn)?
            .work_mem)
    }

    let app = TestApp::new().await;
    let value = app.db.read_report(|_| Ok::<_, ApiError>(7)).unwrap();
    assert_eq!(value, 7);
    let refused = app
        .db
        .read_report(|_| Err::<(), _>(ApiError::not_found("council", "x")));
    assert!(matches!(refused, Err(ApiError::NotFound(_))));
    if !app.test_db.is_postgres() {
        return;
    }
    let write = app.db.read_report(|conn| {
        diesel::sql_query(
            "INSERT INTO changes (resource, resource_id, action, version, occurred_at) \
             VALUES ('council', 'x', 'created', 1, CURRENT_TIMESTAMP)",
        )
        .execute(conn)
        .map_err(ApiError::from)
    });
    assert!(write.is_err(), "a report's transaction is read-only");
    assert_eq!(app.db.read_report(work_mem).unwrap(), "64MB");
    // The pool may hand out any of its connections: each is back to the default.
    for _ in 0..8 {
        assert_ne!(app.db.read(work_mem).unwrap(), "64MB");
    }
}

/// The inserts every audited write makes (its change-log row and its audit event) are prepared
/// once per connection and reused: PostgreSQL lists them among the session's prepared
/// statements after two writes on one connection. (SQLite keeps its statements inside the
/// process; the same rule is checked for it by a unit test of `db`.)
#[actix_web::test]
async fn audited_writes_reuse_prepared_inserts() {
    use cogov::db::access::{audit, AuditEvent};
    use cogov::db::changes::{self, Action};
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    let app = TestApp::new().await;
    let now = chrono::Utc::now().naive_utc();
    let prepared = app.query(|conn| {
        for n in 0..2 {
            let id = format!("prepared-{n}");
            changes::record(conn, "council", &id, Action::Created, 1, now)?;
            audit::record(
                conn,
                &AuditEvent {
                    id: id.clone(),
                    occurred_at: now,
                    actor_kind: "person".into(),
                    actor_id: None,
                    roles: "district_admin".into(),
                    action: "create".into(),
                    resource: "/api/v1/councils".into(),
                    resource_id: Some(id),
                    outcome: "allowed".into(),
                    status: 201,
                    request_id: None,
                    client_address: None,
                    user_agent: None,
                    app_client_id: None,
                },
            )?;
        }
        if !matches!(conn, cogov::db::AnyConnection::Postgresql(_)) {
            return Ok(None);
        }
        diesel::sql_query(
            "SELECT COUNT(*) AS n FROM pg_prepared_statements \
             WHERE statement LIKE 'INSERT INTO \"changes\"%' \
             OR statement LIKE 'INSERT INTO \"audit_events\"%'",
        )
        .get_result::<Count>(conn)
        .map(|c| Some(c.n))
    });
    let stored = app.query(|conn| {
        use cogov::db::schema::audit_events::dsl::*;
        audit_events
            .filter(id.like("prepared-%"))
            .count()
            .get_result::<i64>(conn)
    });
    assert_eq!(stored, 2, "both events stored");
    if app.test_db.is_postgres() {
        assert_eq!(prepared, Some(2), "one prepared insert each, reused");
    }
}
