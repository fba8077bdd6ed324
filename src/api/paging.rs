//! Cursor pagination: `?limit=&cursor=`, `{ "items": [...], "next_cursor": ... }` and a
//! `Link: <...>; rel="next"` header. Cursors are opaque to clients (base64url of the last id
//! served); lists are ordered by id, which is time-ordered (UUIDv7).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    /// Serve items whose id is greater than this one.
    pub after: Option<String>,
}

impl PageRequest {
    pub fn new(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::validation(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match cursor {
            None | Some("") => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                ApiError::validation("cursor", "is not a cursor this API issued")
            })?),
        };
        Ok(PageRequest { limit, after })
    }

    /// Rows to fetch: one more than the limit, to know whether a next page exists.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let id = String::from_utf8(bytes).ok()?;
    uuid::Uuid::parse_str(&id).ok()?;
    Some(id)
}

pub fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Cuts the extra row off and says where the next page starts.
pub fn split_page<T>(
    mut rows: Vec<T>,
    page: &PageRequest,
    id_of: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let limit = page.limit as usize;
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|r| encode_cursor(id_of(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

/// The list body shape shared by every collection.
#[derive(Serialize)]
struct ListBody<'a, T: Serialize> {
    items: &'a [T],
    next_cursor: Option<&'a str>,
}

/// A 200 list response with the `Link` header when there is a next page.
pub fn list_response<T: Serialize>(
    req: &HttpRequest,
    items: &[T],
    next_cursor: Option<String>,
) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-cache"));
    if let Some(cursor) = &next_cursor {
        res.insert_header((
            header::LINK,
            format!("<{}>; rel=\"next\"", next_link(req, cursor)),
        ));
    }
    res.json(ListBody {
        items,
        next_cursor: next_cursor.as_deref(),
    })
}

/// A list of records tied to people (contact details, requests, grants, the audit trail): the
/// same page, never cached (`Cache-Control: no-store`).
pub fn private_list_response<T: Serialize>(
    req: &HttpRequest,
    items: &[T],
    next_cursor: Option<String>,
) -> HttpResponse {
    let mut res = list_response(req, items, next_cursor);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(super::preconditions::CACHE_NONE),
    );
    res
}

pub(crate) fn next_link(req: &HttpRequest, cursor: &str) -> String {
    let mut query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    query.push(("cursor".to_owned(), cursor.to_owned()));
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{}?{}", req.path(), encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let id = "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11";
        let page = PageRequest::new(Some(10), Some(&encode_cursor(id))).unwrap();
        assert_eq!(page.after.as_deref(), Some(id));
        assert!(PageRequest::new(None, Some("not-a-cursor")).is_err());
        assert!(PageRequest::new(None, Some(&encode_cursor("' OR 1=1 --"))).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit, 50);
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(201), None).is_err());
        assert!(PageRequest::new(Some(200), None).is_ok());
    }

    #[test]
    fn split_page_reports_the_last_served_id() {
        let page = PageRequest::new(Some(2), None).unwrap();
        let ids = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let (items, next) = split_page(ids, &page, |s| s.as_str());
        assert_eq!(items, vec!["a", "b"]);
        assert_eq!(next, Some(encode_cursor("b")));
    }
}
