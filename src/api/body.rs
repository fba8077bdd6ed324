//! The JSON body extractor every write endpoint uses: checks the media type, enforces the body
//! limit, rejects unknown fields with the field named, and reports every invalid value as a 422
//! with one entry per field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

/// A request body parsed from JSON and validated.
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media_type_ok = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        let limit = req
            .app_data::<web::PayloadConfig>()
            .map(|_| crate::config::BODY_LIMIT_BYTES)
            .unwrap_or(crate::config::BODY_LIMIT_BYTES);
        // A client that trickles its body must not hold a worker's request open at will.
        let timeout = req
            .app_data::<web::Data<crate::state::AppState>>()
            .map_or(std::time::Duration::from_secs(10), |s| {
                s.protection.body_read_timeout
            });
        Box::pin(async move {
            if !media_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as Content-Type: application/json".to_owned(),
                ));
            }
            let bytes = actix_web::rt::time::timeout(timeout, bytes)
                .await
                .map_err(|_| ApiError::body_timeout(timeout.as_secs()))?;
            let bytes = bytes.map_err(|err| {
                let status = err.as_response_error().status_code();
                if status == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(limit)
                } else {
                    ApiError::BadRequest {
                        code: "unreadable-body",
                        detail: format!("cannot read the request body: {err}"),
                    }
                }
            })?;
            Ok(JsonBody(parse_valid(&bytes)?))
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses JSON, naming every field at fault when the shape is wrong.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let (value, errors) = parse_fields::<T>(bytes)?;
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Parses JSON and validates it, reporting every bad field: wrongly typed fields and fields that
/// break a rule together.
pub fn parse_valid<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let (value, mut errors) = parse_fields::<T>(bytes)?;
    if let Some(value) = &value {
        if let Err(ApiError::Validation(more)) = validate(value) {
            for e in more {
                if !errors.iter().any(|known| known.field == e.field) {
                    errors.push(e);
                }
            }
        }
    }
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        _ => {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(ApiError::Validation(errors))
        }
    }
}

/// The most type errors reported for one body.
const MAX_FIELD_ERRORS: usize = 50;

/// Reads the body as JSON (400 when it is not), refuses control characters, then deserialises
/// it, taking each wrongly typed field out and trying again so that every one is reported. The
/// value is returned when what is left deserialises.
fn parse_fields<T: DeserializeOwned>(
    bytes: &[u8],
) -> Result<(Option<T>, Vec<FieldError>), ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::BadRequest {
            code: "malformed-json",
            detail: "the request body is empty; send a JSON object".to_owned(),
        });
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|err| ApiError::BadRequest {
            code: "malformed-json",
            detail: format!("the request body is not valid JSON: {err}"),
        })?;
    let mut errors = Vec::new();
    super::hygiene::check_json(&value, "", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if !value.is_object() {
        return Err(ApiError::validation("body", "must be a JSON object"));
    }
    let schema = schema_name::<T>();
    let sent: Vec<String> = value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    loop {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(parsed) => return Ok((Some(parsed), errors)),
            Err(err) => err,
        };
        let path = err.path().to_string();
        let message = strip_position(&err.into_inner().to_string());
        let (field, removable) = match backticked(&message) {
            // The path of an unknown field already ends with it; a missing field's path is
            // its parent.
            Some(name) if message.starts_with("missing field") => {
                if path == "." || path.is_empty() {
                    (name.to_owned(), false)
                } else {
                    (format!("{path}.{name}"), false)
                }
            }
            _ => (path.clone(), true),
        };
        if !errors.iter().any(|e: &FieldError| e.field == field) {
            let text = super::messages::field_message(&schema, &field, &message);
            errors.push(FieldError::new(field.clone(), text));
        }
        if !removable {
            if !field.contains('.') {
                // serde names the first missing field only; the document names them all.
                for required in super::messages::required_fields(&schema) {
                    if !sent.contains(&required) && !errors.iter().any(|e| e.field == required) {
                        errors.push(FieldError::new(required, "is required"));
                    }
                }
            }
            return Ok((None, errors));
        }
        if errors.len() >= MAX_FIELD_ERRORS || !remove_top_level(&mut value, &path) {
            return Ok((None, errors));
        }
    }
}

/// The name the document gives `T`'s schema (the type's own name).
fn schema_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_owned()
}

/// Takes the top-level member a path starts in out of the body; false if there is none.
fn remove_top_level(value: &mut serde_json::Value, path: &str) -> bool {
    let top = path.split(['.', '[']).next().unwrap_or("");
    value
        .as_object_mut()
        .is_some_and(|map| map.remove(top).is_some())
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// Runs the validator rules and reports every failing field.
pub fn validate<T: Validate>(value: &T) -> Result<(), ApiError> {
    match value.validate() {
        Ok(()) => Ok(()),
        Err(errors) => {
            let mut out = Vec::new();
            flatten(&errors, "", &mut out);
            out.sort_by(|a, b| a.field.cmp(&b.field));
            Err(ApiError::Validation(out))
        }
    }
}

fn flatten(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| format!("is invalid ({})", e.code));
                    out.push(FieldError::new(path.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: u32,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::Validation(list) => list[0].field.clone(),
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let err = parse::<Sample>(br#"{"name":"a","count":1,"colour":"red"}"#).unwrap_err();
        assert_eq!(field_of(err), "colour");
        let err = parse::<Sample>(br#"{"name":"a"}"#).unwrap_err();
        assert_eq!(field_of(err), "count");
        let err = parse::<Sample>(br#"{"name":"a","count":-1}"#).unwrap_err();
        assert_eq!(field_of(err), "count");
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(
            parse::<Sample>(br#"{"name": "#),
            Err(ApiError::BadRequest { .. })
        ));
        assert!(matches!(
            parse::<Sample>(br#"{"name":"a","count":1} trailing"#),
            Err(ApiError::BadRequest { .. })
        ));
        assert!(matches!(
            parse::<Sample>(b""),
            Err(ApiError::BadRequest { .. })
        ));
    }
}
