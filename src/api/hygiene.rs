//! Input hygiene, for every route at once: no NUL or other control character reaches a handler
//! or the database through a query parameter, a form field or a JSON string (PostgreSQL refuses
//! NUL in text, SQLite would store it), and no query parameter is longer than the document says.
//! Tab, CR and LF are allowed only in long text fields ([`MULTILINE_FIELDS`]). Refusals are 422
//! naming each field.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::{ApiError, FieldError};

/// The longest value a query parameter may have, in characters.
pub const QUERY_VALUE_MAX: usize = 200;

/// The longest value a form field may have, in characters.
pub const FORM_VALUE_MAX: usize = 1024;

/// Body fields holding long text, where tab, CR and LF are allowed.
pub const MULTILINE_FIELDS: &[&str] = &["description", "address"];

pub const CONTROL_MESSAGE: &str = "must not contain control characters";
pub const CONTROL_MESSAGE_MULTILINE: &str =
    "must not contain control characters other than tab, CR and LF";

/// What is wrong with a text value, if anything.
pub fn check_text(value: &str, multiline: bool) -> Option<&'static str> {
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\t' | '\r' | '\n'));
    if value.chars().any(bad) {
        Some(if multiline {
            CONTROL_MESSAGE_MULTILINE
        } else {
            CONTROL_MESSAGE
        })
    } else {
        None
    }
}

/// Checks `name=value&…` pairs (a query string or a form body); `limit` bounds each value.
pub fn check_pairs(encoded: &[u8], limit: Option<usize>) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(encoded) {
        let field = if check_text(&name, false).is_some() {
            name.chars().filter(|c| !c.is_control()).collect::<String>()
        } else {
            name.clone().into_owned()
        };
        if let Some(message) = check_text(&name, false).or_else(|| check_text(&value, false)) {
            errors.push(FieldError::new(field, message));
        } else if limit.is_some_and(|max| value.chars().count() > max) {
            errors.push(FieldError::new(
                field,
                format!("must be at most {} characters", limit.unwrap_or_default()),
            ));
        }
    }
    errors.dedup();
    errors
}

/// Checks every string (and key) of a JSON document; `path` is the JSON path of `value`.
pub fn check_json(value: &serde_json::Value, path: &str, errors: &mut Vec<FieldError>) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let leaf = path.rsplit('.').next().unwrap_or(path);
            let leaf = leaf.split('[').next().unwrap_or(leaf);
            if let Some(message) = check_text(s, MULTILINE_FIELDS.contains(&leaf)) {
                errors.push(FieldError::new(path, message));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_json(item, &format!("{path}[{i}]"), errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let clean: String = key.chars().filter(|c| !c.is_control()).collect();
                let child = if path.is_empty() {
                    clean.clone()
                } else {
                    format!("{path}.{clean}")
                };
                if check_text(key, false).is_some() {
                    errors.push(FieldError::new(
                        child,
                        format!("field names {CONTROL_MESSAGE}"),
                    ));
                    continue;
                }
                check_json(item, &child, errors);
            }
        }
        _ => {}
    }
}

/// The middleware: refuses control characters in the query string and query values over
/// [`QUERY_VALUE_MAX`] characters. JSON bodies are checked by [`super::body::parse`], form bodies
/// by the token endpoint.
pub async fn refuse_bad_input<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // Form bodies are read (and checked with `check_pairs`) by the one endpoint that takes them,
    // the token endpoint, which bounds their size and the time they may take to arrive.
    let errors = check_pairs(req.query_string().as_bytes(), Some(QUERY_VALUE_MAX));
    if !errors.is_empty() {
        let res = req.error_response(ApiError::Validation(errors));
        return Ok(res.map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters() {
        assert!(check_text("Roosevelt", false).is_none());
        assert!(check_text("a\0b", false).is_some());
        assert!(check_text("a\nb", false).is_some());
        assert!(check_text("a\nb\tc\r\n", true).is_none());
        assert!(check_text("a\0b", true).is_some());
        assert!(check_text("a\u{7f}", true).is_some());
        assert!(check_text("a\u{85}", true).is_some());
    }

    #[test]
    fn pairs_name_the_field() {
        let errors = check_pairs(b"q=%00&limit=5", Some(200));
        assert_eq!(errors, vec![FieldError::new("q", CONTROL_MESSAGE)]);
        let long = format!("q={}", "x".repeat(201));
        assert_eq!(check_pairs(long.as_bytes(), Some(200))[0].field, "q");
        assert!(check_pairs(long.as_bytes(), None).is_empty());
    }

    #[test]
    fn json_paths() {
        let v = serde_json::json!({"name": "a\u{0}", "description": "line\nline",
            "rules": [{"name": "x\u{1}"}], "address": "a\u{0}"});
        let mut errors = Vec::new();
        check_json(&v, "", &mut errors);
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, ["address", "name", "rules[0].name"]);
    }
}
