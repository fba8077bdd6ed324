//! Error messages in the API's own words. When a value has the wrong type, what the client is
//! told comes from the OpenAPI document (the field's type, format or allowed values), never from
//! the Rust types behind it.

use std::sync::OnceLock;

use serde_json::Value;

use crate::error::FieldError;

/// The document as JSON, built once.
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        use utoipa::OpenApi;
        serde_json::to_value(super::ApiDoc::openapi()).unwrap_or(Value::Null)
    })
}

fn resolve(schema: &Value) -> &Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &document()["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// What a schema expects, said for people: "must be a date (YYYY-MM-DD) that exists".
pub fn expectation(schema: &Value) -> Option<String> {
    let schema = resolve(schema);
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(members) = schema[key].as_array() {
            return members
                .iter()
                .filter(|m| m["type"] != "null")
                .find_map(expectation);
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        return Some(format!("must be one of: {}", names.join(", ")));
    }
    match schema["format"].as_str() {
        Some("date") => return Some("must be a date (YYYY-MM-DD) that exists".to_owned()),
        Some("date-time") => {
            return Some(
                "must be a date and time in RFC 3339 form, such as 2026-11-25T08:41:42Z".to_owned(),
            )
        }
        Some("uuid") => return Some("must be a UUID".to_owned()),
        _ => {}
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let main = types.iter().find(|t| **t != "null")?;
    Some(match *main {
        "integer" => match (schema["minimum"].as_i64(), schema["maximum"].as_i64()) {
            (Some(lo), Some(hi)) => format!("must be a whole number from {lo} to {hi}"),
            (Some(lo), None) => format!("must be a whole number of at least {lo}"),
            _ => "must be a whole number".to_owned(),
        },
        "number" => "must be a number".to_owned(),
        "boolean" => "must be true or false".to_owned(),
        "string" => "must be a string".to_owned(),
        "array" => "must be a list".to_owned(),
        "object" => "must be an object".to_owned(),
        _ => return None,
    })
}

/// The schema of a field of a body, following `a.b[0].c` paths through the document.
fn field_schema<'a>(schema_name: &str, path: &str) -> Option<&'a Value> {
    let mut current = &document()["components"]["schemas"][schema_name];
    if current.is_null() {
        return None;
    }
    for segment in path.split('.') {
        let (name, indexed) = match segment.find('[') {
            Some(i) => (&segment[..i], segment[i..].matches('[').count()),
            None => (segment, 0),
        };
        current = object_member(current, name)?;
        for _ in 0..indexed {
            current = array_items(current)?;
        }
    }
    Some(current)
}

fn object_member<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    let schema = resolve_static(schema);
    if let Some(p) = schema["properties"].get(name) {
        return Some(p);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(found) = schema[key]
            .as_array()
            .and_then(|ms| ms.iter().find_map(|m| object_member(m, name)))
        {
            return Some(found);
        }
    }
    None
}

fn array_items(schema: &Value) -> Option<&Value> {
    let schema = resolve_static(schema);
    if schema["items"].is_object() {
        return Some(&schema["items"]);
    }
    ["oneOf", "anyOf"].iter().find_map(|key| {
        schema[*key]
            .as_array()
            .and_then(|ms| ms.iter().find_map(array_items))
    })
}

fn resolve_static(schema: &Value) -> &Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            &document()["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]
        }
        None => schema,
    }
}

/// The required properties of a component schema.
pub fn required_fields(schema_name: &str) -> Vec<String> {
    document()["components"]["schemas"][schema_name]["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The message for one field of a body that did not deserialise.
pub fn field_message(schema_name: &str, field: &str, serde_message: &str) -> String {
    if serde_message.starts_with("unknown field") {
        return "unknown field: not part of this resource (check the spelling)".to_owned();
    }
    if serde_message.starts_with("missing field") {
        return "is required".to_owned();
    }
    if serde_message.starts_with("invalid type: null") {
        return "must not be null".to_owned();
    }
    if let Some(text) = field_schema(schema_name, field).and_then(expectation) {
        return text;
    }
    fallback(serde_message)
}

/// Words for the messages serde gives when the document has nothing to say.
fn fallback(message: &str) -> String {
    let m = message;
    if m.contains("expected one of") {
        let allowed: Vec<&str> = m
            .split("expected one of")
            .nth(1)
            .unwrap_or("")
            .split('`')
            .skip(1)
            .step_by(2)
            .collect();
        return format!("must be one of: {}", allowed.join(", "));
    }
    if ["expected i", "expected u", "invalid digit", "number too"]
        .iter()
        .any(|p| m.contains(p))
    {
        return "must be a whole number".to_owned();
    }
    if m.contains("expected a boolean") || m.contains("provided string was not") {
        return "must be true or false".to_owned();
    }
    if m.contains("UUID") {
        return "must be a UUID".to_owned();
    }
    if m.contains("expected a sequence") {
        return "must be a list".to_owned();
    }
    if m.contains("expected struct") || m.contains("expected a map") {
        return "must be an object".to_owned();
    }
    if m.contains("expected a string") || m.contains("expected a borrowed string") {
        return "must be a string".to_owned();
    }
    "has a value of the wrong type or form".to_owned()
}

/// Checks each query parameter against the operation's documented parameters and says what is
/// wrong with each bad one; used when the typed query extractor refuses a query string.
pub fn query_errors(method: &str, route: &str, query: &str) -> Vec<FieldError> {
    let op = &document()["paths"][route][method];
    let params: Vec<&Value> = op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["in"] == "query").collect())
        .unwrap_or_default();
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if errors.iter().any(|e: &FieldError| e.field == name) {
            continue;
        }
        if seen.iter().any(|s| *s == name) {
            errors.push(FieldError::new(name.into_owned(), "must be given once"));
            continue;
        }
        seen.push(name.clone().into_owned());
        let Some(param) = params.iter().find(|p| p["name"] == name.as_ref()) else {
            let known: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
            let message = if known.is_empty() {
                "unknown parameter: this operation takes no query parameters".to_owned()
            } else {
                format!(
                    "unknown parameter: this operation takes {}",
                    known.join(", ")
                )
            };
            errors.push(FieldError::new(name.into_owned(), message));
            continue;
        };
        if !fits(&param["schema"], &value) {
            let message =
                expectation(&param["schema"]).unwrap_or_else(|| "is not valid here".to_owned());
            errors.push(FieldError::new(name.into_owned(), message));
        }
    }
    errors
}

/// Whether a query value parses as the schema's type (ranges are checked by the handlers).
fn fits(schema: &Value, value: &str) -> bool {
    let schema = resolve(schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(members) = schema[key].as_array() {
            return members
                .iter()
                .filter(|m| m["type"] != "null")
                .any(|m| fits(m, value));
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        return values.iter().any(|v| v.as_str() == Some(value));
    }
    match schema["format"].as_str() {
        Some("date") => return chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
        Some("date-time") => return chrono::DateTime::parse_from_rfc3339(value).is_ok(),
        Some("uuid") => return uuid::Uuid::parse_str(value).is_ok(),
        _ => {}
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"integer") {
        return value.parse::<i64>().is_ok();
    }
    if types.contains(&"boolean") {
        return value == "true" || value == "false";
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_from_the_document() {
        assert_eq!(
            field_message("CreateSeat", "term_end", "input is out of range"),
            "must be a date (YYYY-MM-DD) that exists"
        );
        assert_eq!(
            field_message("CreateSeat", "constituency", "unknown variant `x`, expected one of `district`"),
            "must be one of: district, administrators, teachers, classified_staff, students, families, community_organizations"
        );
        assert!(field_message(
            "CreateCouncil",
            "regular_notice_hours",
            "invalid type: string \"soon\", expected i64"
        )
        .starts_with("must be a whole number"));
        assert_eq!(
            field_message("CreateCouncil", "school_id", "UUID parsing failed"),
            "must be a UUID"
        );
    }

    #[test]
    fn query_parameters_are_named() {
        let errors = query_errors(
            "get",
            "/api/v1/councils",
            "limit=ten&kind=senate&colour=red",
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "kind", "colour"]);
        assert_eq!(errors[0].message, "must be a whole number from 1 to 200");
        let errors = query_errors("get", "/api/v1/councils", "q=a&q=b");
        assert_eq!(errors, vec![FieldError::new("q", "must be given once")]);
    }
}
