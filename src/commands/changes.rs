//! The change feed: every create, update and delete (a tombstone) of every resource, in commit
//! order, for district systems that keep a copy of cogov in sync.

use super::{require, Context};
use crate::auth::policy;
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
        let horizon = dialect::feed_horizon(conn)?;
        Ok(db::changes::feed(conn, after, horizon, kinds, fetch)?)
    })
}
