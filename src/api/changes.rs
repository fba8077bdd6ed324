//! `/api/v1/changes`: the change feed district systems sync by.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::PageRequest;
use crate::auth::Caller;
use crate::commands::changes;
use crate::db::changes::{Change, FeedPosition};
use crate::error::ApiError;
use crate::state::AppState;

/// One change to one resource. Thin on purpose: fetch the resource for its data (a deleted one
/// answers 404; the change is its tombstone).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "council.updated", "resource": "council",
    "id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "action": "updated", "version": 3,
    "occurred_at": "2026-11-25T08:41:42.123456Z",
    "href": "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11"}))]
pub struct ChangeResponse {
    /// `<resource>.<action>`, e.g. `seat.created`, `person.deleted`.
    #[serde(rename = "type")]
    pub change_type: String,
    /// The kind of resource: `school`, `person`, `council`, `seat`, `seat_holding`, …
    pub resource: String,
    pub id: String,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    /// The resource's version after the change (its ETag).
    pub version: i64,
    pub occurred_at: DateTime<Utc>,
    /// Where the resource's current state is read (absent for records read only through their
    /// parent, such as seat holdings or votes). After a `deleted` change it answers 404.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/api/v1/councils/01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11")]
    pub href: Option<String>,
}

/// The path of a resource kind's own URL, for the kinds that have one.
fn href(resource: &str, id: &str) -> Option<String> {
    let collection = match resource {
        "school" => "schools",
        "person" => "people",
        "council" => "councils",
        "seat" => "seats",
        "account" => "accounts",
        "api_client" => "api-clients",
        "service_category" => "service-categories",
        "partner_organization" => "partner-organizations",
        "service_request" => "service-requests",
        "meeting" => "meetings",
        "agenda_item" => "agenda-items",
        "motion" => "motions",
        _ => return None,
    };
    Some(format!("/api/v1/{collection}/{id}"))
}

impl From<Change> for ChangeResponse {
    fn from(c: Change) -> Self {
        ChangeResponse {
            href: href(&c.resource, &c.resource_id),
            change_type: format!("{}.{}", c.resource, c.action),
            resource: c.resource,
            id: c.resource_id,
            action: c.action,
            version: c.version,
            occurred_at: c.occurred_at.and_utc(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChangeList {
    pub items: Vec<ChangeResponse>,
    /// Where to continue: pass it as `cursor` next time. Always present, also on an empty page,
    /// so a client polls with the last cursor it was given.
    pub next_cursor: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangeParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page; omit to start from the beginning of the log.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

fn encode(p: FeedPosition) -> String {
    URL_SAFE_NO_PAD.encode(format!("feed:{}:{}", p.txid, p.seq))
}

fn decode(cursor: &str) -> Option<FeedPosition> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let mut parts = text.strip_prefix("feed:")?.split(':');
    let txid = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(FeedPosition { txid, seq })
}

/// Follow changes
///
/// Every create, update and delete of every resource the caller may follow, in the order they
/// were committed; a delete is a tombstone (`action: deleted`). Start without a cursor, then keep
/// passing `next_cursor`: no committed change is skipped, also with several cogov instances
/// writing at once (a change appears once every transaction that could still commit before it
/// has finished). Anyone may follow the public record (schools, councils, seats, seat holdings,
/// rule overrides); district admins also see people, accounts, API clients and grants.
///
/// Changes are kept for `change_retention_days` (30 by default); a cursor from before changes
/// that were pruned since is answered `410 Gone` (`cursor-expired`): resync from
/// `GET /api/v1/changes/head`.
#[utoipa::path(get, path = "/api/v1/changes", tag = "changes", params(ChangeParams),
    responses(
        (status = 200, description = "A page of changes in commit order; `Link: <…>; rel=\"next\"` when more are waiting.", body = ChangeList),
        (status = 410, response = super::problems::CursorExpired),
        super::problems::ListErrors))]
pub async fn list_changes(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    params: web::Query<ChangeParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, None)?;
    let after = match params.cursor.as_deref() {
        None | Some("") => FeedPosition::default(),
        Some(c) => decode(c)
            .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this API issued"))?,
    };
    let mut rows = changes::feed(&ctx, &state.db, after, page.fetch())?;
    let more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    let last = rows
        .last()
        .map(|c| FeedPosition {
            txid: c.txid,
            seq: c.seq,
        })
        .unwrap_or(after);
    let next_cursor = encode(last);
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if more {
        res.insert_header((
            header::LINK,
            format!(
                "<{}?limit={}&cursor={}>; rel=\"next\"",
                req.path(),
                page.limit,
                next_cursor
            ),
        ));
    }
    Ok(res.json(ChangeList {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Where the feed ends now.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"cursor": "ZmVlZDo3MzQ1MTEyOjQy"}))]
pub struct FeedHead {
    /// Pass it as `cursor` to `GET /api/v1/changes` to receive every change committed after
    /// this moment.
    pub cursor: String,
}

/// The feed's current end
///
/// A cursor at the end of the feed as of now. A full resync (first sync, or after
/// `410 cursor-expired`) takes it first, then re-reads the collections it keeps, then follows
/// `GET /api/v1/changes` from it: changes made while the collections were read are replayed,
/// none is missed.
#[utoipa::path(get, path = "/api/v1/changes/head", tag = "changes",
    responses(
        (status = 200, description = "The cursor at the feed's end.", body = FeedHead),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn feed_head(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let position = changes::head(&ctx, &state.db)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(FeedHead {
            cursor: encode(position),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        let p = FeedPosition {
            txid: 7_345_112,
            seq: 42,
        };
        assert_eq!(decode(&encode(p)), Some(p));
        assert_eq!(decode("not-a-cursor"), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("feed:1:2:3")), None);
    }
}
