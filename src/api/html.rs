//! Server-rendered HTML pages: language negotiation, templates, and the HTML response.
//!
//! Pages are rendered with MiniJinja from templates compiled into the binary (`include_str!`,
//! no filesystem loader), so `cogov serve` runs from any directory. Every template whose name
//! ends in `.html` is auto-escaped: text from the database (a comment body with `<script>`) is
//! printed as text, never as markup.
//!
//! A handler that answers with a page does three things:
//!
//! ```ignore
//! let lang = html::negotiate(&req);                      // ?lang=, then Accept-Language
//! let body = html::render(&req, lang, "council.html", context! { council => ... })?;
//! Ok(html::page(&req, lang, body))                       // headers, ETag, 304
//! ```
//!
//! Errors meant for a person become pages too ([`error_page`], [`from_error`]), marked so that
//! the problem+json middleware leaves them alone. Nothing a visitor sends (an unknown language,
//! a malformed header) makes a page fail: it falls back to English.
//!
//! To add a page, put its template under `templates/`, list it in [`TEMPLATES`], and add its
//! words to `templates/strings/en.json` and `es.json` (a key missing from `es.json` shows the
//! English text).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use minijinja::value::{Serde, Value};
use minijinja::{context, Environment};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The templates compiled into the binary, by name. A page's template extends `base.html`.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("error.html", include_str!("../../templates/error.html")),
    (
        "district.html",
        include_str!("../../templates/district.html"),
    ),
    ("council.html", include_str!("../../templates/council.html")),
    ("meeting.html", include_str!("../../templates/meeting.html")),
    (
        "oauth/authorize.html",
        include_str!("../../templates/oauth/authorize.html"),
    ),
];

/// The style sheet every page carries inline (one request per page; allowed by its hash in the
/// Content-Security-Policy, so no other inline style can run).
pub const CSS: &str = include_str!("../../templates/site.css");

const STRINGS_EN: &str = include_str!("../../templates/strings/en.json");
const STRINGS_ES: &str = include_str!("../../templates/strings/es.json");

/// Pages may be kept by browsers and shared caches for a minute, then revalidated by ETag.
pub const CACHE_PAGE: &str = "public, max-age=60, must-revalidate";
/// Answers to a form post, error pages: never stored.
pub const CACHE_NONE: &str = "no-store";

/// The languages pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    /// Every supported language, the fallback first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The BCP 47 tag (`lang` attribute, `Content-Language`, `?lang=`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language's own name, for the language switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// The supported language a tag names (`es`, `es-MX`, `ES`); `None` for any other.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The page's words in this language (`t.key` in templates); English fills any gap.
    pub fn strings(self) -> &'static BTreeMap<String, String> {
        static EN: OnceLock<BTreeMap<String, String>> = OnceLock::new();
        static ES: OnceLock<BTreeMap<String, String>> = OnceLock::new();
        let en = EN.get_or_init(|| parse_strings(STRINGS_EN));
        match self {
            Lang::En => en,
            Lang::Es => ES.get_or_init(|| {
                let mut all = en.clone();
                all.extend(parse_strings(STRINGS_ES));
                all
            }),
        }
    }

    /// One word of the page in this language (the key itself when no language has it).
    pub fn text(self, key: &str) -> String {
        self.strings()
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    }
}

/// The string tables are compiled in and checked by the tests; an unreadable table would show
/// keys instead of words rather than fail a page.
fn parse_strings(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The language of a page: `?lang=` (the switch on every page) wins, then the best of the
/// browser's `Accept-Language` (by q-value, in the order sent when equal) that cogov speaks,
/// then English. An unknown or malformed value never fails the request.
pub fn negotiate(req: &HttpRequest) -> Lang {
    if let Some(lang) = chosen(req) {
        return lang;
    }
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(from_accept_language)
        .unwrap_or(Lang::En)
}

/// The language named by `?lang=`, if any and supported.
pub fn chosen(req: &HttpRequest) -> Option<Lang> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
}

/// The preferred supported language of an `Accept-Language` value (RFC 9110 12.5.4).
pub fn from_accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(u16, Lang)> = None;
    for part in value.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let mut q = 1000u16;
        for param in pieces {
            if let Some((k, v)) = param.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = quality(v.trim()).unwrap_or(0);
                }
            }
        }
        if q == 0 {
            continue;
        }
        let lang = if tag == "*" {
            Some(Lang::En)
        } else {
            Lang::parse(tag)
        };
        if let Some(lang) = lang {
            if best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
    }
    best.map(|(_, l)| l)
}

/// A q-value in thousandths (`0.8` is 800); `None` when it is not one.
fn quality(v: &str) -> Option<u16> {
    let value: f32 = v.parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env
    })
}

/// The links of the language switch: this page in each language.
fn switch(req: &HttpRequest, current: Lang) -> Vec<BTreeMap<&'static str, Value>> {
    let others: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Lang::ALL
        .into_iter()
        .map(|lang| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &others {
                query.append_pair(k, v);
            }
            query.append_pair("lang", lang.tag());
            let href = format!("{}?{}", req.path(), query.finish());
            BTreeMap::from([
                ("tag", Value::from(lang.tag())),
                ("name", Value::from(lang.name())),
                ("href", Value::from(href)),
                ("current", Value::from(lang == current)),
            ])
        })
        .collect()
}

/// Renders template `name` with `ctx` plus what every page has: `lang` (the tag), `t` (the
/// language's words), `css`, `switch` (the language links), `q` (`?lang=xx` to append to a
/// link when the visitor chose the language with the switch, else empty). A template that fails
/// to render is a fault of the server (500, logged).
pub fn render(req: &HttpRequest, lang: Lang, name: &str, ctx: Value) -> Result<String, ApiError> {
    let q = if chosen(req).is_some() {
        format!("?lang={}", lang.tag())
    } else {
        String::new()
    };
    let full = context! {
        lang => lang.tag(),
        t => Serde(lang.strings()),
        css => CSS,
        switch => Serde(switch(req, lang)),
        q => q,
        ..ctx
    };
    environment()
        .get_template(name)
        .and_then(|t| t.render(full))
        .map_err(|e| ApiError::Internal(format!("template {name}: {e:#}")))
}

/// The Content-Security-Policy of every page: nothing loads but the page itself and its one
/// inline style sheet; no script runs; forms post only back to cogov.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
    })
}

fn headers(res: &mut actix_web::HttpResponseBuilder, lang: Lang, cache: &'static str) {
    res.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_LANGUAGE, lang.tag()))
        .insert_header((header::VARY, "Accept-Language"))
        .insert_header((header::CONTENT_SECURITY_POLICY, content_security_policy()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, cache));
}

/// The strong ETag of a page body.
pub fn etag_of(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let tag: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("\"html-{tag}\"")
}

/// A 200 page, cacheable: `ETag` from its bytes, 304 when `If-None-Match` names it.
pub fn page(req: &HttpRequest, lang: Lang, body: String) -> HttpResponse {
    let etag = etag_of(&body);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
        });
    let mut res = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    headers(&mut res, lang, CACHE_PAGE);
    res.insert_header((header::ETAG, etag));
    if unchanged {
        res.finish()
    } else {
        res.body(body)
    }
}

/// A page with another status (a form shown again with its errors, an error page): not stored
/// by caches, and left as HTML by the problem+json middleware.
pub fn page_with_status(lang: Lang, status: StatusCode, body: String) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    headers(&mut res, lang, CACHE_NONE);
    let mut res = res.body(body);
    res.extensions_mut()
        .insert(super::problems::ForeignErrorFormat);
    res
}

/// 303 See Other to `location` (the answer to a form post that succeeded).
pub fn see_other(location: &str) -> HttpResponse {
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::CACHE_CONTROL, CACHE_NONE));
    if let Ok(v) = HeaderValue::from_str(location) {
        res.insert_header((header::LOCATION, v));
    }
    res.finish()
}

/// An error as a page: a title and a sentence in the visitor's language (keys of the string
/// table), and the detail (in English, from cogov's error) when there is one to show.
pub fn error_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    title_key: &str,
    detail: Option<String>,
) -> HttpResponse {
    let ctx = context! {
        status => status.as_u16(),
        title => lang.text(title_key),
        message => lang.text(&format!("{title_key}_message")),
        detail => detail,
    };
    let body = render(req, lang, "error.html", ctx).unwrap_or_else(|e| {
        tracing::error!(error = %e, "error page does not render");
        format!(
            "<!doctype html><html lang=\"{}\"><title>{}</title><h1>{}</h1></html>",
            lang.tag(),
            status.as_u16(),
            status.as_u16()
        )
    });
    page_with_status(lang, status, body)
}

/// Any error of a command as a page with its status: 404 "not found", 429 "wait" (with
/// `Retry-After`), 503 "try again", and 500 for a fault (logged; no detail shown).
pub fn from_error(req: &HttpRequest, lang: Lang, err: ApiError) -> HttpResponse {
    use actix_web::ResponseError;
    let status = err.status_code();
    let (key, detail) = match &err {
        ApiError::NotFound(_) => ("error_not_found", None),
        ApiError::TooManyRequests(_) | ApiError::QuotaExceeded { .. } => ("error_too_many", None),
        ApiError::Unavailable(_) => ("error_unavailable", None),
        ApiError::Internal(detail) => {
            tracing::error!(error = %detail, "public page failed");
            ("error_internal", None)
        }
        ApiError::Conflict { detail, .. } => ("error_conflict", Some(detail.clone())),
        other if status.is_client_error() => ("error_bad_request", Some(other.to_string())),
        _ => ("error_internal", None),
    };
    let mut res = error_page(req, lang, status, key, detail);
    let retry = match err {
        ApiError::TooManyRequests(s) => Some(s),
        ApiError::QuotaExceeded { retry_after, .. } => Some(retry_after),
        _ => None,
    };
    if let Some(v) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(
            from_accept_language("es-MX,es;q=0.9,en;q=0.8"),
            Some(Lang::Es)
        );
        assert_eq!(
            from_accept_language("fr, en;q=0.5, es;q=0.7"),
            Some(Lang::Es)
        );
        assert_eq!(from_accept_language("fr, de"), None);
        assert_eq!(from_accept_language("es;q=0, en"), Some(Lang::En));
        assert_eq!(from_accept_language("*"), Some(Lang::En));
        assert_eq!(from_accept_language("es;q=abc"), None);
        assert_eq!(from_accept_language(""), None);
        assert_eq!(from_accept_language("en;q=0.5, es;q=0.5"), Some(Lang::En));
    }

    #[test]
    fn every_template_compiles_and_every_key_has_english() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let en: BTreeMap<String, String> = serde_json::from_str(STRINGS_EN).expect("en.json");
        let es: BTreeMap<String, String> = serde_json::from_str(STRINGS_ES).expect("es.json");
        let missing: Vec<&String> = es.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "in es.json only: {missing:?}");
        let untranslated: Vec<&String> = en.keys().filter(|k| !es.contains_key(*k)).collect();
        assert!(untranslated.is_empty(), "not in es.json: {untranslated:?}");
    }
}
