//! The change feed: every create, update and delete (a tombstone) of every resource, in commit
//! order, for district systems that keep a copy of cogov in sync.

use super::{require, Context};
use crate::auth::policy;
use chrono::{Duration, NaiveDateTime};

use crate::db::changes::{Change, FeedPosition};
use crate::db::{self, dialect, Db};
use crate::error::ApiError;

/// Resource kinds whose changes anyone may follow: the public record. Changes to everything else
/// (people, accounts, API clients, grants, and any resource not listed here) are shown to district
/// admins only; a new kind of resource is private until it is added here.
pub const PUBLIC_RESOURCES: &[&str] =
    &["school", "council", "seat", "seat_holding", "rule_override"];

/// Changes after `after`, at most `fetch`, that the caller may follow.
pub fn feed(
    ctx: &Context,
    db: &Db,
    after: FeedPosition,
    fetch: i64,
) -> Result<Vec<Change>, ApiError> {
    require(policy::read_public(), "changes", "")?;
    let kinds = if ctx.caller.is_admin() {
        None
    } else {
        Some(PUBLIC_RESOURCES)
    };
    db.read(|conn| {
        if let Some(pruned) = db::changes::pruned_through(conn)? {
            if after < pruned {
                return Err(expired());
            }
        }
        let horizon = dialect::feed_horizon(conn)?;
        Ok(db::changes::feed(conn, after, horizon, kinds, fetch)?)
    })
}

fn expired() -> ApiError {
    ApiError::Gone {
        code: "cursor-expired",
        detail: "this cursor points before changes pruned after the retention period; resync: \
                 GET /api/v1/changes/head, re-read the collections you keep, then follow the \
                 feed from that cursor"
            .to_owned(),
    }
}

/// Where the feed ends now: a cursor to take before re-reading collections in a full resync, so
/// that following the feed from it afterwards misses nothing written meanwhile.
pub fn head(_ctx: &Context, db: &Db) -> Result<FeedPosition, ApiError> {
    require(policy::read_public(), "changes", "")?;
    db.read(|conn| {
        let horizon = dialect::feed_horizon(conn)?;
        Ok(db::changes::head(conn, horizon)?)
    })
}

/// What one prune removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub through: FeedPosition,
    pub removed: i64,
}

/// Removes changes older than `retention` (as of `now`) from the change log: the operator's
/// maintenance, run by `cogov serve` on a timer and by `cogov admin prune-changes`; not an HTTP
/// operation. Cursors before the removed changes are answered 410 from then on. With several
/// app instances each may run it; a second run at once finds nothing more to remove.
pub async fn prune(
    ctx: &Context,
    db: &Db,
    retention: Duration,
    now: NaiveDateTime,
) -> Result<Option<Pruned>, ApiError> {
    let cutoff = now - retention;
    if !db.read(|conn| db::changes::any_before(conn, cutoff).map_err(ApiError::from))? {
        return Ok(None);
    }
    let id = super::new_id();
    ctx.write(db, "prune_changes", Some(id.clone()), 200, move |conn| {
        let horizon = dialect::feed_horizon(conn)?;
        Ok(db::changes::prune(conn, cutoff, horizon, &id, now)?
            .map(|(through, removed)| Pruned { through, removed }))
    })
    .await
}
