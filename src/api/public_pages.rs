//! The public pages under `/public/`: server-rendered HTML for families and neighbors, no
//! sign-in and no JavaScript needed. A district page listing the councils, a council page (seats
//! by constituency with vacancies, upcoming and past meetings, the calendar feed), and a meeting
//! page (when and where, the agenda with translated titles and documents, how to comment, a
//! written-comment form per item, and the approved minutes with each member's vote).
//!
//! The comment form posts `application/x-www-form-urlencoded` to
//! `/public/agenda-items/{item_id}/comments` and reaches the same command as
//! `POST /api/v1/agenda-items/{item_id}/comments`: 303 to the meeting page on success, the page
//! again with the errors marked (422) when a field is wrong, 415 for another media type, and the
//! spam limit's 429 as a page.
//!
//! These pages are HTML for people, not part of the JSON contract: they are left out of the
//! OpenAPI document (docs/PUBLIC.md describes them).

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::html::{self, Lang};
use super::hygiene::check_text;
use super::participation::CreateComment;
use crate::auth::Caller;
use crate::commands::participation::{self, NewComment};
use crate::commands::public;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// `GET /public`: to the district page.
pub async fn root_redirect(req: HttpRequest) -> HttpResponse {
    let target = match req.query_string() {
        "" => "/public/".to_owned(),
        q => format!("/public/?{q}"),
    };
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, target))
        .finish()
}

/// `GET /public/`: every council of the district with its next meeting.
pub async fn district(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
) -> HttpResponse {
    let lang = html::negotiate(&req);
    let view = match public::district(&ctx, &state.db, Utc::now()) {
        Ok(v) => v,
        Err(e) => return html::from_error(&req, lang, e),
    };
    show(&req, lang, "district.html", Value::from(Serde(&view)))
}

/// `GET /public/councils/{council_id}`: seats by constituency, upcoming and past meetings.
pub async fn council(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let lang = html::negotiate(&req);
    let view = match public::council(&ctx, &state.db, &id, Utc::now()) {
        Ok(v) => v,
        Err(e) => return html::from_error(&req, lang, e),
    };
    show(&req, lang, "council.html", Value::from(Serde(&view)))
}

/// `GET /public/meetings/{meeting_id}`: the meeting, its agenda, the comment forms, and the
/// approved minutes. `?sent=1` (where the comment form leads) thanks the visitor.
pub async fn meeting(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let lang = html::negotiate(&req);
    let view = match public::meeting(&ctx, &state.db, &id, lang.tag()) {
        Ok(v) => v,
        Err(e) => return html::from_error(&req, lang, e),
    };
    let sent = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| k == "sent" && v == "1");
    let ctx = context! { sent => sent, ..Value::from(Serde(&view)) };
    show(&req, lang, "meeting.html", ctx)
}

/// Any other path under `/public/`: a 404 page.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let lang = html::negotiate(&req);
    html::from_error(&req, lang, ApiError::NotFound(req.path().to_owned()))
}

fn show(req: &HttpRequest, lang: Lang, template: &str, ctx: Value) -> HttpResponse {
    match html::render(req, lang, template, ctx) {
        Ok(body) => html::page(req, lang, body),
        Err(e) => html::from_error(req, lang, e),
    }
}

/// The comment form as sent, to fill it in again when a field is wrong.
#[derive(Debug, Default, Serialize)]
struct FormState {
    item_id: String,
    body: String,
    author_name: String,
    author_email: String,
    /// The wrong fields, in form order.
    errors: Vec<FieldError>,
    /// Field name → wrong, for the template.
    bad: std::collections::BTreeMap<String, bool>,
}

const FORM_FIELDS: [&str; 3] = ["body", "author_name", "author_email"];

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Reads the form, and checks it with the JSON endpoint's rules (plus: no control characters but
/// line breaks and tabs in the comment).
fn read_form(item_id: &str, bytes: &[u8]) -> (FormState, Option<NewComment>) {
    let mut form = FormState {
        item_id: item_id.to_owned(),
        ..Default::default()
    };
    let mut errors = Vec::new();
    for (k, v) in url::form_urlencoded::parse(bytes) {
        let multiline = k == "body";
        let target = match k.as_ref() {
            "body" => &mut form.body,
            "author_name" => &mut form.author_name,
            "author_email" => &mut form.author_email,
            _ => continue,
        };
        if let Some(message) = check_text(&v, multiline) {
            errors.push(FieldError::new(k.as_ref(), message));
        }
        *target = v.into_owned();
    }
    let optional = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    let input = CreateComment {
        body: form.body.clone(),
        author_name: optional(&form.author_name),
        author_email: optional(&form.author_email),
    };
    if let Err(ApiError::Validation(found)) = super::body::validate(&input) {
        errors.extend(found);
    }
    form.errors = FORM_FIELDS
        .iter()
        .filter_map(|f| errors.iter().find(|e| e.field == *f).cloned())
        .collect();
    for e in &form.errors {
        form.bad.insert(e.field.clone(), true);
    }
    if !form.errors.is_empty() {
        return (form, None);
    }
    let comment = NewComment {
        body: input.body,
        author_name: input.author_name,
        author_email: input.author_email,
    };
    (form, Some(comment))
}

/// `POST /public/agenda-items/{item_id}/comments`: the written-comment form.
pub async fn submit_comment(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let lang = html::negotiate(&req);
    if !is_form(&req) {
        return html::error_page(
            &req,
            lang,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "error_unsupported",
            Some("Content-Type must be application/x-www-form-urlencoded".to_owned()),
        );
    }
    let item_id = id.into_inner();
    if uuid::Uuid::parse_str(&item_id).is_err() {
        return html::from_error(&req, lang, ApiError::not_found("agenda item", &item_id));
    }
    let (form, comment) = read_form(&item_id, &bytes);
    let Some(comment) = comment else {
        // Shown again with what was typed and the wrong fields marked.
        let view = match public::meeting_of_item(&ctx, &state.db, &item_id, lang.tag()) {
            Ok(v) => v,
            Err(e) => return html::from_error(&req, lang, e),
        };
        let page = context! { form => Serde(&form), ..Value::from(Serde(&view)) };
        return match html::render(&req, lang, "meeting.html", page) {
            Ok(body) => html::page_with_status(lang, StatusCode::UNPROCESSABLE_ENTITY, body),
            Err(e) => html::from_error(&req, lang, e),
        };
    };
    match participation::submit_comment(
        &ctx,
        &state.db,
        &state.protection.public_comment,
        item_id.clone(),
        comment,
    )
    .await
    {
        Ok(view) => {
            let lang_q = match html::chosen(&req) {
                Some(l) => format!("&lang={}", l.tag()),
                None => String::new(),
            };
            html::see_other(&format!(
                "/public/meetings/{}?sent=1{lang_q}#item-{}",
                view.row.meeting_id, view.row.item_id
            ))
        }
        Err(e) => html::from_error(&req, lang, e),
    }
}
