//! The layers of docs/ARCHITECTURE.md, checked on the source: `domain` knows neither HTTP nor
//! SQL nor storage; `commands` knows no HTTP and writes no SQL; `db` knows neither HTTP nor
//! commands; `api` handlers reach storage only through commands.

use std::path::{Path, PathBuf};

fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under src/{}", "dir");
    out
}

/// Lines of code (comments left out) that mention one of `forbidden`.
fn offences(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in sources(dir) {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in forbidden {
                if code.contains(word) {
                    found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn domain_knows_no_http_sql_or_storage() {
    let found = offences(
        "domain",
        &[
            "actix",
            "diesel",
            "crate::db",
            "crate::api",
            "crate::commands",
            "HttpRequest",
        ],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn commands_know_no_http_and_write_no_sql() {
    let found = offences(
        "commands",
        &[
            "actix",
            "crate::api",
            "HttpRequest",
            "HttpResponse",
            "diesel::",
            "sql_query",
        ],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn storage_knows_no_http_and_no_commands() {
    let found = offences("db", &["actix", "crate::api", "crate::commands"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn handlers_reach_storage_only_through_commands() {
    let found = offences(
        "api",
        &["diesel::", ".db.read(", ".db.write(", "write_blocking"],
    );
    assert!(found.is_empty(), "{found:#?}");
}
