//! Post-processing of the OpenAPI document: what every operation shares is written here once,
//! from the same tables the server runs on, instead of in every `#[utoipa::path]`:
//!
//! - the error statuses each operation can return because of who may call it ([`ACCESS`]) and
//!   because it touches the database (401, 403, 503);
//! - the response headers a client needs (`ETag`, `Location`, `Link`, `Retry-After`,
//!   `X-Request-Id`), declared once under `components/headers`;
//! - the bound on every string query parameter that the server enforces
//!   ([`super::hygiene::QUERY_VALUE_MAX`]).

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr, Response};

use super::{fields, ACCESS};

/// Headers declared under `components/headers`, by name.
const HEADERS: &[(&str, &str)] = &[
    (
        "X-Request-Id",
        "The id of this request (a UUIDv7), also in a problem's `request_id` and in the server's log line for it; quote it in support requests.",
    ),
    (
        "ETag",
        "The resource's version in quotes (strong); send it back in `If-Match` to change the resource, or in `If-None-Match` to revalidate.",
    ),
    ("Location", "URL of the created resource."),
    (
        "Link",
        "`<…>; rel=\"next\"` with the URL of the next page, when there is one (RFC 8288).",
    ),
    ("Retry-After", "Seconds to wait before retrying."),
    (
        "RateLimit-Policy",
        "The caller's request quota, e.g. `\"default\";q=600;w=60` (600 requests per 60-second window; draft-ietf-httpapi-ratelimit-headers). Sent when a quota is configured, on every response except `/health/*` and `/metrics`.",
    ),
    (
        "RateLimit",
        "What is left of the quota, e.g. `\"default\";r=599;t=42` (599 requests left, the window resets in 42 seconds).",
    ),
    (
        "WWW-Authenticate",
        "`Bearer realm=\"cogov\", error=\"invalid_token\"` (RFC 6750).",
    ),
];

/// Patterns the server checks with these very regular expressions (see `fields.rs`), by
/// schema and property. (`#[schema(pattern = ...)]` takes only literals, so they are set here
/// from the constants the validators use.)
const PATTERNS: &[(&str, &str, &str)] = &[
    ("CreatePerson", "email", fields::EMAIL_PATTERN),
    ("CreatePerson", "phone", fields::PHONE_PATTERN),
    (
        "CreatePerson",
        "preferred_language",
        fields::LANGUAGE_PATTERN,
    ),
    ("UpdatePerson", "email", fields::EMAIL_PATTERN),
    ("UpdatePerson", "phone", fields::PHONE_PATTERN),
    (
        "UpdatePerson",
        "preferred_language",
        fields::LANGUAGE_PATTERN,
    ),
    (
        "ExternalIdBody",
        "system",
        crate::domain::external_ids::SYSTEM_PATTERN,
    ),
];

/// Sets `f` on the schema of a property of a component schema (of every variant, for one-of
/// schemas).
fn with_property(schema: &mut RefOr<Schema>, property: &str, f: &dyn Fn(&mut Object)) {
    match schema {
        RefOr::T(Schema::Object(object)) => {
            if let Some(RefOr::T(Schema::Object(p))) = object.properties.get_mut(property) {
                f(p);
            }
        }
        RefOr::T(Schema::OneOf(one_of)) => {
            for item in one_of.items.iter_mut() {
                with_property(item, property, f);
            }
        }
        _ => {}
    }
}

fn header_ref(name: &str) -> RefOr<Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}

fn response_ref(name: &str) -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(name))
}

/// Who may call an operation, as written in [`ACCESS`].
pub fn who_may_call(method: &str, path: &str) -> Option<&'static str> {
    ACCESS
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, who)| *who)
}

/// The error statuses an operation can return whatever its handler does, derived from the access
/// table and the method: 401 for any bearer token that does not verify (public operations
/// included), 403 where roles are checked, 429 where sign-ins are throttled, 503 wherever the
/// database is touched.
pub fn statuses_from_access(method: &str, path: &str) -> Vec<(&'static str, &'static str)> {
    let who = who_may_call(method, path).unwrap_or("");
    let mut out = vec![("401", "Unauthorized")];
    let roles_checked = !who.starts_with("anyone")
        && who != "any signed-in caller"
        && !who.contains("others get 404");
    if roles_checked {
        out.push(("403", "Forbidden"));
    }
    if path == "/api/v1/auth/token" {
        out.push(("429", "TooManyRequests"));
    } else if rate_limited(path) {
        out.push(("429", "QuotaExceeded"));
    }
    if path != "/health/live" {
        out.push(("503", "Unavailable"));
    }
    out
}

/// Whether requests to a path count against the caller's quota (see `api::rate_limit`).
fn rate_limited(path: &str) -> bool {
    !path.starts_with("/health/") && path != "/metrics"
}

/// The headers a successful response of an operation carries.
pub fn success_headers(
    method: &str,
    path: &str,
    status: &str,
    body_schema: Option<&str>,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    let is_list = body_schema.is_some_and(|s| s.ends_with("List"));
    let single = matches!(
        body_schema,
        Some(s) if s.ends_with("Response") && s != "TokenResponse"
    );
    match (method, status) {
        (_, "201") => out.extend(["Location", "ETag"]),
        ("get", "304") => out.push("ETag"),
        ("get", "200") if path.ends_with('}') && single => out.push("ETag"),
        ("post" | "patch" | "put" | "delete", "200") if single => out.push("ETag"),
        _ => {}
    }
    if is_list && status == "200" {
        out.push("Link");
    }
    out
}

fn body_schema_name(response: &Response) -> Option<String> {
    response.content.values().find_map(|c| match c {
        RefOr::T(c) => match &c.schema {
            Some(RefOr::Ref(r)) => r
                .ref_location
                .strip_prefix("#/components/schemas/")
                .map(str::to_owned),
            _ => None,
        },
        RefOr::Ref(_) => None,
    })
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("post", item.post.as_mut()),
        ("put", item.put.as_mut()),
        ("patch", item.patch.as_mut()),
        ("delete", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

fn is_string(schema_type: &SchemaType) -> bool {
    match schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        SchemaType::AnyValue => false,
    }
}

/// The optional `Idempotency-Key` header every POST that changes something accepts.
fn idempotency_key_parameter(required: bool) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::ParameterBuilder;
    use utoipa::openapi::Required;
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(crate::commands::idempotency::KEY_MAX_LENGTH))
        .pattern(Some("^[\\x20-\\x7E]+$"))
        .examples([serde_json::json!("4f0c3a7e-sync-2026-11-25-0001")]);
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(
            "Makes a retry safe: the same key with the same request within 24 hours gets the first \
             response again (with `Idempotent-Replayed: true`) instead of acting twice; the same \
             key with another request is 422; while the first is still being handled, 409 with \
             `Retry-After: 1`.",
        ))
        .schema(Some(schema))
        .build()
}

/// Writes the shared statuses and headers into the document.
pub struct ContractDoc;

impl utoipa::Modify for ContractDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, description) in HEADERS {
            let schema = ObjectBuilder::new().schema_type(Type::String);
            let header = HeaderBuilder::new()
                .schema(Some(schema))
                .description(Some(*description))
                .build();
            components
                .headers
                .insert((*name).to_owned(), RefOr::T(header));
        }
        for (schema, property, pattern) in PATTERNS {
            if let Some(s) = components.schemas.get_mut(*schema) {
                with_property(s, property, &|p| p.pattern = Some((*pattern).to_owned()));
            }
        }
        // Composition rules are a domain type; their names are checked as other names are.
        if let Some(s) = components.schemas.get_mut("CompositionRule") {
            with_property(s, "name", &|p| {
                p.min_length = Some(1);
                p.max_length = Some(fields::NAME_MAX);
            });
        }
        for (name, response) in components.responses.iter_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            let headers = &mut response.headers;
            headers.insert("X-Request-Id".to_owned(), header_ref("X-Request-Id"));
            for name in ["RateLimit-Policy", "RateLimit"] {
                headers.insert(name.to_owned(), header_ref(name));
            }
            match name.as_str() {
                "TooManyRequests"
                | "QuotaExceeded"
                | "Unavailable"
                | "TokenTooManyRequests"
                | "TokenUnavailable"
                | "CommentTooManyRequests" => {
                    headers.insert("Retry-After".to_owned(), header_ref("Retry-After"));
                }
                "Unauthorized" | "TokenUnauthorized" => {
                    headers.insert(
                        "WWW-Authenticate".to_owned(),
                        header_ref("WWW-Authenticate"),
                    );
                }
                _ => {}
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                let responses = &mut op.responses.responses;
                for (status, name) in statuses_from_access(method, path) {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| response_ref(name));
                }
                if method == "post" && path != "/api/v1/auth/token" {
                    // Idempotency-Key (api::idempotency): a reused key is 422, a request still in
                    // progress is 409, a malformed key is 400.
                    for (status, name) in [
                        ("400", "BadRequest"),
                        ("409", "Conflict"),
                        ("422", "Unprocessable"),
                    ] {
                        responses
                            .entry(status.to_owned())
                            .or_insert_with(|| response_ref(name));
                    }
                    let required =
                        crate::commands::idempotency::KEY_REQUIRED.contains(&path.as_str());
                    op.parameters
                        .get_or_insert_with(Vec::new)
                        .push(RefOr::T(idempotency_key_parameter(required)));
                }
                for (status, response) in responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    let schema = body_schema_name(response);
                    let mut names = success_headers(method, path, status, schema.as_deref());
                    names.push("X-Request-Id");
                    if rate_limited(path) {
                        names.extend(["RateLimit-Policy", "RateLimit"]);
                    }
                    for name in names {
                        response.headers.insert(name.to_owned(), header_ref(name));
                    }
                }
                for param in op.parameters.iter_mut().flatten() {
                    let RefOr::T(param) = param else { continue };
                    if param.parameter_in != ParameterIn::Query {
                        continue;
                    }
                    if let Some(RefOr::T(Schema::Object(object))) = param.schema.as_mut() {
                        if is_string(&object.schema_type)
                            && object.max_length.is_none()
                            && object.enum_values.is_none()
                        {
                            object.max_length = Some(super::hygiene::QUERY_VALUE_MAX);
                        }
                    }
                }
            }
        }
    }
}
