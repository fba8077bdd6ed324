//! The route template a request matched, worked out once per request.
//!
//! `HttpRequest::match_pattern` matches the path against the whole route table again on every
//! call (trying each scope's patterns, dynamic segments by regular expression) and builds a new
//! string. The access log, the metrics, the audit middleware and the command context all name
//! the route, so one request used to match its path three or four times more after routing.

use std::rc::Rc;

use actix_web::{HttpMessage, HttpRequest};

/// The template once computed, kept in the request's extensions.
#[derive(Clone)]
struct Matched(Option<Rc<str>>);

/// The template of the route that served `req` (e.g. `/api/v1/councils/{council_id}`), or `None`
/// when no route matched. Call it only once the request has been routed (in a handler, or in a
/// middleware after the inner service answered), as `match_pattern` itself requires.
pub fn pattern(req: &HttpRequest) -> Option<Rc<str>> {
    if let Some(matched) = req.extensions().get::<Matched>() {
        return matched.0.clone();
    }
    let matched = req.match_pattern().map(Rc::from);
    req.extensions_mut().insert(Matched(matched.clone()));
    matched
}
