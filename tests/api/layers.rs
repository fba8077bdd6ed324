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

/// Every `Insertable` in `db` writes `NULL` for `None` (`treat_none_as_default_value = false`):
/// its insert then has one SQL text, which diesel prepares once per connection; with diesel's
/// default it writes `DEFAULT` and never caches the statement (see
/// `db::tests::single_record_inserts_are_prepared_once`).
#[test]
fn every_insertable_is_prepared_once() {
    let mut missing = Vec::new();
    let mut seen = 0;
    for (path, text) in sources("db") {
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let line = line.trim();
            if line.starts_with("#[derive(") && line.contains("Insertable") {
                seen += 1;
                let attr = lines.get(n + 1).map(|l| l.trim()).unwrap_or("");
                if !(attr.starts_with("#[diesel(")
                    && attr.contains("treat_none_as_default_value = false"))
                {
                    missing.push(format!("{}:{}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(seen > 20, "found only {seen} Insertable derives");
    assert!(
        missing.is_empty(),
        "Insertable without treat_none_as_default_value = false: {missing:?}"
    );
}
