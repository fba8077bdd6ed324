//! The test harness: every test gets its own database (a temporary SQLite file, or, when
//! `COGOV_TEST_DATABASE_URL` names a PostgreSQL server, a schema of its own that is dropped
//! afterwards), and drives the same application factory `cogov serve` uses.

use std::rc::Rc;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::{test, web};
use cogov::app::{self, AppState};
use cogov::db::{Db, DbOptions};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl TestDb {
    pub fn new() -> TestDb {
        match std::env::var("COGOV_TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let mut admin = diesel::PgConnection::establish(&url).unwrap_or_else(|e| {
                    panic!("COGOV_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                admin
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create test schema");
                let sep = if url.contains('?') { '&' } else { '?' };
                TestDb {
                    // The application name lets a test find (and cut) its own connections.
                    url: format!(
                        "{url}{sep}options=-csearch_path%3D{schema}&application_name={schema}"
                    ),
                    cleanup: Cleanup::Postgres {
                        admin_url: url,
                        schema,
                    },
                }
            }
            Ok(url) if !url.is_empty() => {
                panic!("COGOV_TEST_DATABASE_URL must be a postgres:// URL, got {url}")
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("cogov.db").display());
                TestDb {
                    url,
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }

    /// Cuts every PostgreSQL connection this test's app holds, as a database restart or a
    /// network failure would. Returns how many were cut (0 on SQLite).
    pub fn cut_connections(&self) -> usize {
        let Cleanup::Postgres { admin_url, schema } = &self.cleanup else {
            return 0;
        };
        #[derive(diesel::QueryableByName)]
        struct Cut {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            #[allow(dead_code)]
            cut: bool,
        }
        let mut admin = diesel::PgConnection::establish(admin_url).expect("admin connection");
        use diesel::RunQueryDsl;
        let rows: Vec<Cut> = diesel::sql_query(
            "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind::<diesel::sql_types::Text, _>(schema)
        .load(&mut admin)
        .expect("terminate backends");
        rows.len()
    }

    pub fn open(&self) -> Db {
        let db = Db::open(&DbOptions {
            url: self.url.clone(),
            pool_size: 2,
            sqlite_synchronous_full: false,
            postgres_write_batch: cogov::config::DEFAULT_POSTGRES_WRITE_BATCH,
            connect_timeout: std::time::Duration::from_secs(10),
        })
        .expect("open test database");
        db.migrate().expect("migrate test database");
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, schema } = &self.cleanup {
            if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

type Call = Rc<dyn Fn(Request) -> LocalBoxFuture<'static, ServiceResponse>>;

/// The HS256 secret test apps sign their own tokens with.
pub const TEST_SECRET: &str = "test secret of a standalone install, 32+ bytes";
pub const ISSUER: &str = "https://idp.district.example";
pub const AUDIENCE: &str = "cogov";

pub fn key_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

/// Token settings of the test apps: a standalone secret plus a district identity provider's
/// RS256 key (kid `district-1`), as a real install connected to its district would have.
/// A token the district's identity provider (the test keys) issued for `sub`, valid 5 minutes.
pub fn district_token(sub: &str) -> String {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let key =
        EncodingKey::from_rsa_pem(&std::fs::read(key_path("district-rs256.key")).unwrap()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("district-1".to_owned());
    let claims = serde_json::json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE,
        "exp": jsonwebtoken::get_current_timestamp() + 300});
    encode(&header, &claims, &key).unwrap()
}

pub fn token_config() -> cogov::auth::tokens::TokenConfig {
    cogov::auth::tokens::TokenConfig {
        secret: Some(TEST_SECRET.to_owned()),
        public_key_pem: Some((
            std::fs::read(key_path("district-rs256.pub")).unwrap(),
            jsonwebtoken::Algorithm::RS256,
            Some("district-1".to_owned()),
        )),
        jwks: None,
        allowed_algorithms: vec![
            jsonwebtoken::Algorithm::RS256,
            jsonwebtoken::Algorithm::ES256,
        ],
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        leeway_secs: 5,
        ttl_secs: 900,
    }
}

/// The application under test. Fields drop in order: the service (and its pool) before the
/// database.
pub struct TestApp {
    call: Call,
    pub db: Db,
    pub state: web::Data<AppState>,
    /// A district admin's bearer token; the plain request helpers send it.
    pub admin: String,
    pub test_db: TestDb,
}

/// What a client sees of a response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    pub fn etag(&self) -> String {
        self.header("etag").expect("response has an ETag")
    }

    /// Asserts the status and, for errors, the problem+json shape; returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if status == 204 || status == 304 {
            return Value::Null;
        }
        let body = self.json();
        if status >= 400 {
            assert_problem(self, status);
        }
        body
    }
}

/// Every error is RFC 9457 problem+json with the members docs/API.md promises.
#[track_caller]
pub fn assert_problem(reply: &Reply, status: u16) {
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/problem+json"),
        "error without problem+json: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let p = reply.json();
    assert_eq!(p["status"], status);
    let code = p["code"].as_str().expect("code");
    if code == "quota-exceeded" {
        // The problem type registered with IANA for it.
        assert_eq!(
            p["type"],
            "https://iana.org/assignments/http-problem-types#quota-exceeded"
        );
    } else {
        assert_eq!(p["type"], format!("urn:cogov:problem:{code}"));
    }
    assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(p["detail"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(p["instance"].as_str().is_some_and(|t| t.starts_with('/')));
    assert_eq!(
        p["request_id"].as_str(),
        reply.header("x-request-id").as_deref()
    );
}

/// An application service over `state`, as `cogov serve` builds one per worker.
async fn service(state: web::Data<AppState>) -> Call {
    let service = Rc::new(test::init_service(app::build(state)).await);
    Rc::new(move |req| {
        let service = service.clone();
        Box::pin(async move {
            match service.call(req).await {
                Ok(res) => res.map_into_boxed_body(),
                Err(err) => panic!("service returned an error instead of a response: {err}"),
            }
        })
    })
}

/// Sends the request exactly as built and reads what a client would see.
async fn send(call: &Call, req: test::TestRequest) -> Reply {
    let res = call(req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await.to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// A second application instance on the same database, with its own pools and writer, as a
/// second `cogov serve` process behind a load balancer would be.
pub struct Instance {
    call: Call,
    admin: String,
}

impl Instance {
    /// Sends the request exactly as built (no token unless the caller added one).
    pub async fn send(&self, req: test::TestRequest) -> Reply {
        send(&self.call, req).await
    }

    pub async fn send_admin(&self, req: test::TestRequest) -> Reply {
        let req = req.insert_header(("Authorization", format!("Bearer {}", self.admin)));
        send(&self.call, req).await
    }
}

impl TestApp {
    /// Another app instance on this test's database.
    pub async fn second_instance(&self) -> Instance {
        let db = self.test_db.open();
        let state = web::Data::new(AppState {
            db,
            tokens: cogov::auth::tokens::Tokens::new(&token_config()).expect("token config"),
            identity_claim: cogov::auth::IdentityClaim::Sub,
            protection: self.state.protection.clone(),
        });
        Instance {
            call: service(state).await,
            admin: self.admin.clone(),
        }
    }

    pub async fn new() -> TestApp {
        TestApp::with_protection(|_| {}).await
    }

    /// An app whose limits (sign-in throttling, hashing bound, CORS, body timeout) the test sets.
    pub async fn with_protection(configure: impl FnOnce(&mut cogov::state::Protection)) -> TestApp {
        TestApp::with_options(cogov::auth::IdentityClaim::Sub, configure).await
    }

    /// An app with the given identity claim and limits.
    pub async fn with_options(
        identity_claim: cogov::auth::IdentityClaim,
        configure: impl FnOnce(&mut cogov::state::Protection),
    ) -> TestApp {
        let mut protection = cogov::state::Protection::default();
        configure(&mut protection);
        // Sign-in windows are fixed and aligned to the clock: a test that ran across a window's
        // end would see its counters reset halfway. Close to an end, start after it instead.
        let window = protection.sign_in.window.as_secs().max(1);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let left = window - now % window;
        if window >= 60 && left < 30 {
            std::thread::sleep(std::time::Duration::from_secs(left + 1));
        }
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("error"))
            .with_test_writer()
            .try_init();
        let test_db = TestDb::new();
        let db = test_db.open();
        let state = web::Data::new(AppState {
            db: db.clone(),
            tokens: cogov::auth::tokens::Tokens::new(&token_config()).expect("token config"),
            identity_claim,
            protection,
        });
        let call = service(state.clone()).await;
        let mut app = TestApp {
            call,
            db,
            state,
            admin: String::new(),
            test_db,
        };
        app.admin = app.user("Ada Admin", "district_admin", None).1;
        app
    }

    /// Creates a person with an account and one role (no password: the test mints the token
    /// directly) and returns their id and a bearer token.
    pub fn user(&self, name: &str, role: &str, council: Option<&str>) -> (String, String) {
        use cogov::db::access;
        let now = cogov::db::now();
        let person = cogov::db::people::Person {
            id: uuid::Uuid::now_v7().to_string(),
            display_name: name.to_owned(),
            email: Some(format!(
                "{}@example.org",
                name.to_lowercase().replace(' ', ".")
            )),
            phone: None,
            preferred_language: "en".to_owned(),
            created_at: now,
            updated_at: now,
            version: 1,
            created_by: None,
            contact_erased_at: None,
        };
        let account = access::Account {
            id: uuid::Uuid::now_v7().to_string(),
            person_id: person.id.clone(),
            username: None,
            password_hash: None,
            external_subject: Some(format!("ext-{}", person.id)),
            disabled: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let grant = (role != "none").then(|| access::GrantRow {
            id: uuid::Uuid::now_v7().to_string(),
            subject_kind: "person".to_owned(),
            subject_id: person.id.clone(),
            role: role.to_owned(),
            council_id: council.map(str::to_owned),
            created_at: now,
            updated_at: now,
            version: 1,
        });
        self.db
            .write_blocking(|conn| {
                cogov::db::people::insert(conn, &person)?;
                access::account::insert(conn, &account)?;
                if let Some(g) = &grant {
                    access::grant::insert(conn, g)?;
                }
                Ok::<_, cogov::error::ApiError>(())
            })
            .expect("create test user");
        let token = self
            .state
            .tokens
            .issue(&format!("person:{}", person.id))
            .unwrap()
            .0;
        (person.id, token)
    }

    /// Runs a query directly against the test database.
    pub fn query<T>(
        &self,
        f: impl FnOnce(&mut cogov::db::AnyConnection) -> diesel::QueryResult<T>,
    ) -> T {
        self.db
            .read(|conn| f(conn).map_err(cogov::error::ApiError::from))
            .expect("query")
    }

    /// Sends the request exactly as built (no token unless the caller added one).
    pub async fn send(&self, req: test::TestRequest) -> Reply {
        send(&self.call, req).await
    }

    /// Sends the request as the district admin.
    pub async fn send_admin(&self, req: test::TestRequest) -> Reply {
        self.send_as(&self.admin, req).await
    }

    /// Sends the request with this bearer token.
    pub async fn send_as(&self, token: &str, req: test::TestRequest) -> Reply {
        self.send(req.insert_header(("Authorization", format!("Bearer {token}"))))
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send_admin(test::TestRequest::get().uri(path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send_admin(test::TestRequest::post().uri(path).set_json(body))
            .await
    }

    pub async fn patch(&self, path: &str, etag: &str, body: Value) -> Reply {
        self.send_admin(
            test::TestRequest::patch()
                .uri(path)
                .insert_header(("If-Match", etag))
                .set_json(body),
        )
        .await
    }

    pub async fn put(&self, path: &str, etag: &str, body: Value) -> Reply {
        self.send_admin(
            test::TestRequest::put()
                .uri(path)
                .insert_header(("If-Match", etag))
                .set_json(body),
        )
        .await
    }

    pub async fn delete(&self, path: &str, etag: &str) -> Reply {
        self.send_admin(
            test::TestRequest::delete()
                .uri(path)
                .insert_header(("If-Match", etag)),
        )
        .await
    }

    // Fixtures.

    pub async fn school(&self, code: &str) -> Value {
        self.post(
            "/api/v1/schools",
            serde_json::json!({"name": format!("School {code}"), "district_code": code, "time_zone": "America/Los_Angeles"}),
        )
        .await
        .expect(201)
    }

    pub async fn person(&self, name: &str) -> Value {
        self.post("/api/v1/people", serde_json::json!({"display_name": name}))
            .await
            .expect(201)
    }

    pub async fn council(&self, body: Value) -> Value {
        self.post("/api/v1/councils", body).await.expect(201)
    }

    pub async fn seat(&self, council_id: &str, constituency: &str) -> Value {
        self.post(
            &format!("/api/v1/councils/{council_id}/seats"),
            serde_json::json!({"constituency": constituency, "title": format!("{constituency} seat")}),
        )
        .await
        .expect(201)
    }

    /// Follows `Link: rel="next"` from `path` and returns every item served, checking that the
    /// body's `next_cursor` and the header agree on each page.
    pub async fn collect_pages(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            assert!(pages < 1000, "pagination does not end");
            let reply = self.get(&url).await;
            let body = reply.expect(200);
            items.extend(body["items"].as_array().expect("items").iter().cloned());
            match (reply.header("link"), body["next_cursor"].as_str()) {
                (Some(link), Some(cursor)) => {
                    assert!(link.ends_with("; rel=\"next\""), "{link}");
                    assert!(link.contains(cursor), "{link} vs {cursor}");
                    next = Some(
                        link.trim_start_matches('<')
                            .split('>')
                            .next()
                            .unwrap()
                            .to_owned(),
                    );
                }
                (None, None) => {}
                other => panic!("Link header and next_cursor disagree: {other:?}"),
            }
        }
        items
    }
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

pub fn version_tag(v: &Value) -> String {
    format!("\"{}\"", v["version"])
}

/// The context the command line gives commands (bootstrap in tests, as `cogov admin` does).
pub fn cli() -> cogov::commands::Context {
    cogov::commands::Context::new(
        cogov::auth::Principal::anonymous(),
        cogov::commands::RequestFacts::default(),
        "cli:test",
    )
}
