//! The `cogov` command as an operator runs it: real process, real socket, real restart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::TestDb;

fn cogov() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cogov"));
    for (key, _) in std::env::vars() {
        if key.starts_with("COGOV_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("COGOV_LOG_FORMAT", "text")
        .env("COGOV_SHUTDOWN_TIMEOUT_SECS", "5");
    cmd
}

/// A `cogov serve` process (other modules run it too, e.g. `record`).
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
}

impl Server {
    pub(crate) fn start(url: &str, dir: &std::path::Path) -> Server {
        let mut child = cogov()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("COGOV_DATABASE_URL", url)
            .current_dir(dir)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start cogov");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("cogov did not say where it listens");
        Server { child, addr }
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, path, "application/json", &body, None)
    }

    fn request_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, path, "application/json", &body, Some(token))
    }

    fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
        let payload = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        (status, serde_json::from_str(payload).unwrap_or(Value::Null))
    }

    /// SIGTERM, as an orchestrator stops it; it must exit cleanly.
    pub(crate) fn stop(mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "cogov exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "cogov did not shut down");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `cogov admin create-user` with the password on standard input.
fn create_admin(url: &str, dir: &std::path::Path) {
    let out = run_create_admin(url, dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("created person"), "{said}");
}

fn run_create_admin(url: &str, dir: &std::path::Path) -> std::process::Output {
    let mut child = cogov()
        .args([
            "admin",
            "create-user",
            "--username",
            "Ada",
            "--display-name",
            "Ada Admin",
            "--role",
            "district_admin",
        ])
        .env("COGOV_DATABASE_URL", url)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery staple\n")
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A newcomer must see where the admin went and why a second one with the same name is refused:
/// the success line names the database, and a duplicate is explained in plain words, not SQL.
#[test]
fn create_user_names_the_database_and_explains_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("admin.db").display());
    let first = run_create_admin(&url, dir.path());
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        said.contains("admin.db"),
        "the success line names the database: {said}"
    );
    let again = run_create_admin(&url, dir.path());
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("\"ada\" exists"), "{err}");
    assert!(!err.to_lowercase().contains("unique constraint"), "{err}");
}

#[test]
fn data_survives_a_restart() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    create_admin(&db.url, dir.path());
    let server = Server::start(&db.url, dir.path());
    // Writes need a token: sign in with the bootstrapped account (form-encoded, as OAuth clients do).
    let (status, token) = server.raw(
        "POST",
        "/api/v1/auth/token",
        "application/x-www-form-urlencoded",
        "grant_type=password&username=ada&password=correct+horse+battery+staple",
        None,
    );
    assert_eq!(status, 200, "{token}");
    let token = token["access_token"].as_str().unwrap().to_owned();
    let council_body = json!({"kind": "assembly", "name": "Assembly"});
    let (status, _) = server.request("POST", "/api/v1/councils", Some(council_body.clone()));
    assert_eq!(status, 401, "anonymous writes are refused");
    let (status, council) =
        server.request_as(&token, "POST", "/api/v1/councils", Some(council_body));
    assert_eq!(status, 201, "{council}");
    let cid = council["id"].as_str().unwrap().to_owned();
    let (status, seat) = server.request_as(
        &token,
        "POST",
        &format!("/api/v1/councils/{cid}/seats"),
        Some(json!({"constituency": "families", "title": "Parent"})),
    );
    assert_eq!(status, 201, "{seat}");
    server.stop();

    // The signing secret was created on first start and is kept: the token still works.
    assert!(dir.path().join("data/jwt-secret").is_file());
    let server = Server::start(&db.url, dir.path());
    let (status, me) = server.request_as(&token, "GET", "/api/v1/me", None);
    assert_eq!(status, 200, "{me}");
    let (status, read) = server.request("GET", &format!("/api/v1/councils/{cid}"), None);
    assert_eq!(status, 200);
    assert_eq!(read, council);
    let (status, seats) = server.request("GET", &format!("/api/v1/councils/{cid}/seats"), None);
    assert_eq!(status, 200);
    assert_eq!(seats["items"][0], seat);
    server.stop();
}

#[test]
fn the_default_database_is_a_sqlite_file_under_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cogov()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let ready = lines.any(|l| l.is_ok_and(|l| l.contains("listening on http://")));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    assert!(ready);
    assert!(dir.path().join("data/cogov.db").is_file());
}

#[test]
fn an_unknown_database_scheme_is_refused_without_creating_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = cogov()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("COGOV_DATABASE_URL", "mysql://root@127.0.0.1/cogov")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sqlite:// or postgres://"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing may be created"
    );
}

#[test]
fn an_unreachable_postgres_fails_with_the_drivers_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = cogov()
        .arg("migrate")
        .env("COGOV_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot connect to the database"),
        "{stderr}"
    );
    assert!(
        stderr.contains("127.0.0.1"),
        "the real error is shown: {stderr}"
    );
}

#[test]
fn configuration_layers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cogov.toml");
    std::fs::write(&file, "workers = 0\n").unwrap();
    let out = cogov()
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workers"));

    // A standalone secret shorter than 32 bytes is refused at start.
    let out = cogov()
        .arg("migrate")
        .env("COGOV_JWT_SECRET", "too short")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));

    // The environment overrides the file.
    let out = cogov()
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .env("COGOV_WORKERS", "2")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let migrations = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
    )
    .unwrap()
    .count();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("applied {migrations} migration"))
    );
    let again = cogov()
        .arg("migrate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("applied 0 migration"));

    std::fs::write(&file, "listn = \"127.0.0.1:1\"\n").unwrap();
    let out = cogov()
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a misspelt setting is an error");

    let out = cogov()
        .args(["--config", "missing.toml", "migrate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn openapi_command_prints_the_contract() {
    let out = cogov().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let generated: Value =
        serde_json::from_str(&cogov::app::openapi().to_pretty_json().unwrap()).unwrap();
    assert_eq!(printed, generated);
}

/// On a terminal, `admin create-user` asks for the password twice and never shows it. The test
/// gives the command a real terminal (a pseudo-terminal from `script`) and types into it.
#[test]
fn create_user_prompts_on_a_terminal_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tty.db").display());
    let command = format!(
        "{} admin create-user --username tess --display-name Tess --role district_admin",
        env!("CARGO_BIN_EXE_cogov")
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("COGOV_DATABASE_URL", &url)
        .env_remove("COGOV_TEST_DATABASE_URL")
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the script command (util-linux) runs a command on a pseudo-terminal");
    let mut stdin = child.stdin.take().unwrap();
    let typer = std::thread::spawn(move || {
        for _ in 0..2 {
            std::thread::sleep(Duration::from_millis(700));
            stdin.write_all(b"never shown on screen\n").unwrap();
        }
    });
    let out = child.wait_with_output().unwrap();
    typer.join().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("Password for tess"), "{screen}");
    assert!(screen.contains("Repeat the password"), "{screen}");
    assert!(screen.contains("created person"), "{screen}");
    assert!(
        !screen.contains("never shown"),
        "the password was echoed: {screen}"
    );
}

#[test]
fn cogov_import_reads_csv_files_and_runs_twice_without_changes() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let migrated = cogov()
        .arg("migrate")
        .env("COGOV_DATABASE_URL", &db.url)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    let users = dir.path().join("users.csv");
    std::fs::write(
        &users,
        "sourcedId,givenName,familyName,email\nu1,María,López,maria@example.org\nu2,Ji-woo,Kim,\nu3,Bea,Díaz,not-an-email\n",
    )
    .unwrap();
    // Loose OneRoster files need their manifest.csv too.
    let manifest = dir.path().join("manifest.csv");
    let without = cogov()
        .arg("import")
        .arg(&users)
        .env("COGOV_DATABASE_URL", &db.url)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!without.status.success());
    let said = String::from_utf8_lossy(&without.stderr);
    assert!(
        said.contains("manifest.csv: manifest.csv is missing"),
        "{said}"
    );
    std::fs::write(
        &manifest,
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.users,delta\n",
    )
    .unwrap();
    let import = |args: &[&str]| {
        let out = cogov()
            .arg("import")
            .args(args)
            .arg(&manifest)
            .arg(&users)
            .env("COGOV_DATABASE_URL", &db.url)
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A dry run: what would happen, row by row; the refused row by file, line and field.
    let (ok, said, _) = import(&["--dry-run", "--on-error", "commit_good_rows"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("succeeded (dry run): create 2, update 0, unchanged 0, delete 0, error 1"),
        "{said}"
    );
    assert!(
        said.contains("users.csv:4: email is not an email address"),
        "{said}"
    );
    // All or nothing with a bad row: fails, changes nothing.
    let (ok, said, _) = import(&[]);
    assert!(!ok, "{said}");
    assert!(said.contains("failed"), "{said}");
    let (ok, said, progress) = import(&["--on-error", "commit_good_rows"]);
    assert!(ok, "{said}");
    assert!(said.contains("create 2, update 0, unchanged 0"), "{said}");
    // Not a terminal: progress as plain lines, no carriage returns.
    assert!(progress.contains("3 rows"), "{progress}");
    assert!(!progress.contains('\r'), "{progress}");
    let (ok, said, _) = import(&["--on-error", "commit_good_rows"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("create 0, update 0, unchanged 2, delete 0, error 1"),
        "{said}"
    );
}

/// `cogov retention run` needs a period (the setting is off by default) and runs once with one.
#[test]
fn retention_run_needs_a_period_and_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cogov.db", dir.path().display());
    let out = cogov()
        .args(["retention", "run"])
        .env("COGOV_DATABASE_URL", &url)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("service_request_retention_days"));
    let out = cogov()
        .args(["retention", "run"])
        .env("COGOV_DATABASE_URL", &url)
        .env("COGOV_SERVICE_REQUEST_RETENTION_DAYS", "365")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("anonymised 0 service request(s)"));
    let out = cogov()
        .args(["retention", "run", "--days", "0"])
        .env("COGOV_DATABASE_URL", &url)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "zero days is refused");
}

/// Signs in with a password as a person would.
fn sign_in(server: &Server, username: &str, password: &str) -> String {
    let (status, token) = server.raw(
        "POST",
        "/api/v1/auth/token",
        "application/x-www-form-urlencoded",
        &format!("grant_type=password&username={username}&password={password}"),
        None,
    );
    assert_eq!(status, 200, "{username}: {token}");
    token["access_token"].as_str().unwrap().to_owned()
}

/// `cogov demo` gives a newcomer a living district: councils of every kind with a history of
/// held meetings and approved minutes, the next meeting noticed, and sign-ins that work, where a
/// family sees its own requests only. It refuses a database that already holds councils.
#[test]
fn demo_fills_an_empty_database_with_a_living_district() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let out = cogov()
        .args(["demo", "--months", "3"])
        .env("COGOV_DATABASE_URL", &db.url)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("4 schools, 8 councils"), "{stdout}");
    let password_of = |username: &str| -> String {
        stdout
            .lines()
            .map(str::split_whitespace)
            .find_map(|mut words| {
                (words.next() == Some(username)).then(|| words.next().unwrap().to_owned())
            })
            .unwrap_or_else(|| panic!("no sign-in for {username} in {stdout}"))
    };

    let server = Server::start(&db.url, dir.path());
    let (status, councils) = server.request("GET", "/api/v1/councils?limit=50", None);
    assert_eq!(status, 200);
    let councils = councils["items"].as_array().unwrap().clone();
    assert_eq!(councils.len(), 8);
    for kind in [
        "school_site_council",
        "community_school_steering_committee",
        "district_advisory",
        "assembly",
    ] {
        assert!(councils.iter().any(|c| c["kind"] == kind), "{kind}");
    }
    // A steering committee: held meetings with approved minutes, and the next one noticed.
    let steering = councils
        .iter()
        .find(|c| c["kind"] == "community_school_steering_committee")
        .unwrap();
    let (_, composition) = server.request(
        "GET",
        &format!(
            "/api/v1/councils/{}/composition",
            steering["id"].as_str().unwrap()
        ),
        None,
    );
    assert!(composition.to_string().contains("vacan"), "{composition}");
    let (_, meetings) = server.request(
        "GET",
        &format!(
            "/api/v1/councils/{}/meetings?limit=50",
            steering["id"].as_str().unwrap()
        ),
        None,
    );
    let meetings = meetings["items"].as_array().unwrap().clone();
    let now = chrono::Utc::now().to_rfc3339();
    assert!(meetings
        .iter()
        .any(|m| m["status"] == "noticed" && m["starts_at"].as_str().unwrap() > now.as_str()));
    let held: Vec<&Value> = meetings
        .iter()
        .filter(|m| m["status"] == "adjourned")
        .collect();
    assert!(held.len() >= 2, "{meetings:?}");
    let approved = held
        .iter()
        .filter(|m| {
            let (status, minutes) = server.request(
                "GET",
                &format!("/api/v1/meetings/{}/minutes", m["id"].as_str().unwrap()),
                None,
            );
            status == 200 && minutes["status"] == "approved"
        })
        .count();
    assert!(approved >= 1, "minutes approved at the following meeting");

    // Every printed sign-in works; the family sees only its own requests.
    for user in ["admin", "staff", "partner"] {
        sign_in(&server, user, &password_of(user));
    }
    let family = sign_in(&server, "familia", &password_of("familia"));
    let (_, me) = server.request_as(&family, "GET", "/api/v1/me", None);
    let (status, mine) = server.request_as(&family, "GET", "/api/v1/service-requests", None);
    assert_eq!(status, 200, "{mine}");
    let mine = mine["items"].as_array().unwrap();
    assert!(!mine.is_empty());
    assert!(mine
        .iter()
        .all(|r| r["family_person_id"] == me["person_id"]));
    let admin = sign_in(&server, "admin", &password_of("admin"));
    let (_, all) = server.request_as(&admin, "GET", "/api/v1/service-requests?limit=200", None);
    let all = all["items"].as_array().unwrap();
    assert_eq!(all.len(), 60);
    assert!(all.len() > mine.len());
    for status in ["submitted", "referred", "completed"] {
        assert!(all.iter().any(|r| r["status"] == status), "{status}");
    }
    server.stop();

    let again = cogov()
        .args(["demo", "--months", "3"])
        .env("COGOV_DATABASE_URL", &db.url)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty database"));
}
