//! Webhook subscriptions (district admins manage them) and the delivery worker's steps: claim a
//! subscription's queue, fill it from the change log, record each attempt, disable a
//! subscription whose deliveries keep failing.
//!
//! Order: each subscription receives its events in change-log order, one at a time; an event
//! that fails blocks the later events of the same subscription (not of others) until it is
//! delivered, redelivered by hand, or the subscription is disabled.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDateTime;

use super::changes::PUBLIC_RESOURCES;
use super::{
    audit_event, fields_ok, new_id, patch_optional, patch_required, require, Context, Expected,
    Patch, RequestFacts,
};
use crate::auth::policy::{self, Principal};
use crate::db::changes::FeedPosition;
use crate::db::webhooks::{Attempt, Cursor, Delivery, Webhook};
use crate::db::{self, dialect, Db};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::webhooks::{self as rules, AddressPolicy, Outcome};
use crate::error::{ApiError, FieldError};

/// How long the secret before a rotation keeps signing deliveries beside the new one.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// Random bytes in a new secret (Standard Webhooks asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;

pub struct NewWebhook {
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub active: bool,
}

/// A JSON merge patch of a subscription.
#[derive(Default)]
pub struct WebhookChanges {
    pub url: Patch<String>,
    pub description: Patch<String>,
    pub event_types: Patch<Vec<String>>,
    pub active: Patch<bool>,
}

/// A new secret in Standard Webhooks form, `whsec_<base64 of 32 random bytes>`.
fn new_secret() -> String {
    let raw: Vec<u8> = (0..SECRET_BYTES).map(|_| rand::random::<u8>()).collect();
    format!("{}{}", rules::SECRET_PREFIX, STANDARD.encode(raw))
}

fn check_event_types(types: &[String], errors: &mut Vec<FieldError>) {
    if types.is_empty() {
        errors.push(FieldError::new(
            "event_types",
            "must name at least one event type",
        ));
    } else if types.len() > rules::MAX_EVENT_TYPES {
        errors.push(FieldError::new(
            "event_types",
            format!("must name at most {} event types", rules::MAX_EVENT_TYPES),
        ));
    }
    for (i, t) in types.iter().enumerate() {
        if !rules::valid_event_pattern(t) {
            errors.push(FieldError::new(
                format!("event_types[{i}]"),
                "must be <resource>.<action> (either may be *), or *, e.g. council.updated or meeting.*",
            ));
        }
    }
}

/// Refuses a URL that is not https (unless allowed) or whose host resolves to an address cogov
/// does not call (see `domain::webhooks::forbidden_address`). Every address the name resolves to
/// must pass: the one used later may be any of them.
pub fn check_destination(policy: &AddressPolicy, url: &str) -> Result<(), String> {
    let target = policy.check_url(url)?;
    if let Some(ip) = target.ip {
        return policy.check_address(ip);
    }
    use std::net::ToSocketAddrs;
    let addrs: Vec<_> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| format!("host {} cannot be resolved ({e})", target.host))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("host {} has no address", target.host));
    }
    for addr in addrs {
        policy.check_address(addr.ip())?;
    }
    Ok(())
}

fn owner_of(caller: &Principal) -> (String, Option<String>) {
    match &caller.actor {
        policy::Actor::Person(id) => ("person".to_owned(), Some(id.clone())),
        policy::Actor::Client(id) => ("client".to_owned(), Some(id.clone())),
        policy::Actor::Anonymous => ("system".to_owned(), None),
    }
}

pub fn list(
    ctx: &Context,
    db: &Db,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<Webhook>, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "webhook", "")?;
    db.read(|conn| Ok(db::webhooks::list(conn, after, fetch)?))
}

pub fn find(ctx: &Context, db: &Db, id: WebhookId) -> Result<Webhook, ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "webhook", &id)?;
    db.read(|conn| Ok::<_, ApiError>(db::webhooks::find(conn, &id)?))?
        .ok_or_else(|| ApiError::not_found("webhook", &id))
}

pub async fn create(
    ctx: &Context,
    db: &Db,
    addresses: &AddressPolicy,
    input: NewWebhook,
) -> Result<Webhook, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "webhook", "")?;
    let mut errors = Vec::new();
    check_event_types(&input.event_types, &mut errors);
    if let Err(why) = check_destination(addresses, &input.url) {
        errors.push(FieldError::new("url", why));
    }
    fields_ok(errors)?;
    let now = db::now();
    let (owner_kind, owner_id) = owner_of(&ctx.caller);
    let row = Webhook {
        id: new_id(),
        url: input.url,
        description: input.description,
        event_types: input.event_types.join(" "),
        secret: new_secret(),
        previous_secret: None,
        previous_secret_expires_at: None,
        active: input.active,
        disabled_reason: (!input.active).then(|| "created disabled".to_owned()),
        disabled_at: (!input.active).then_some(now),
        owner_kind,
        owner_id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.write(db, "create", Some(row.id.clone()), 201, move |conn| {
        db::webhooks::insert(conn, &row)?;
        // New subscriptions start at the end of the change log: they receive what happens from
        // now on, not the history (the change feed serves that).
        let last = db::webhooks::log_end(conn)?;
        db::webhooks::insert_cursor(
            conn,
            &Cursor {
                webhook_id: row.id.clone(),
                after_txid: last.0,
                after_seq: last.1,
                lease_owner: None,
                lease_until: None,
            },
        )?;
        Ok(row)
    })
    .await
}

pub async fn update(
    ctx: &Context,
    db: &Db,
    addresses: &AddressPolicy,
    id: WebhookId,
    expected: Expected,
    changes: WebhookChanges,
) -> Result<Webhook, ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "webhook", &id)?;
    let mut errors = Vec::new();
    if let Some(Some(url)) = &changes.url {
        if let Err(why) = check_destination(addresses, url) {
            errors.push(FieldError::new("url", why));
        }
    }
    if let Some(Some(types)) = &changes.event_types {
        check_event_types(types, &mut errors);
    }
    fields_ok(errors)?;
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut row =
            db::webhooks::find(conn, &id)?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
        expected.check(row.version)?;
        let (mut errors, mut changed) = (Vec::new(), false);
        patch_required(&mut row.url, changes.url, "url", &mut errors, &mut changed);
        patch_optional(&mut row.description, changes.description, &mut changed);
        let mut types: Vec<String> = row.event_types.split(' ').map(str::to_owned).collect();
        patch_required(
            &mut types,
            changes.event_types,
            "event_types",
            &mut errors,
            &mut changed,
        );
        row.event_types = types.join(" ");
        let was_active = row.active;
        patch_required(
            &mut row.active,
            changes.active,
            "active",
            &mut errors,
            &mut changed,
        );
        fields_ok(errors)?;
        if !changed {
            return Ok(row);
        }
        let now = db::now();
        if row.active && !was_active {
            row.disabled_reason = None;
            row.disabled_at = None;
        } else if !row.active && was_active {
            row.disabled_reason = Some("disabled by a district admin".to_owned());
            row.disabled_at = Some(now);
        }
        row.version += 1;
        row.updated_at = now;
        db::webhooks::update(conn, &row)?;
        Ok(row)
    })
    .await
}

pub async fn delete(
    ctx: &Context,
    db: &Db,
    id: WebhookId,
    expected: Expected,
) -> Result<(), ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "webhook", &id)?;
    ctx.write(db, "delete", Some(id.clone()), 204, move |conn| {
        let row =
            db::webhooks::find(conn, &id)?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
        expected.check(row.version)?;
        Ok(db::webhooks::delete(conn, &row)?)
    })
    .await
}

/// Replaces the secret. The previous one keeps signing deliveries beside the new one for
/// [`ROTATION_OVERLAP_HOURS`], so receivers can switch without losing an event.
pub async fn rotate_secret(
    ctx: &Context,
    db: &Db,
    id: WebhookId,
    expected: Expected,
) -> Result<Webhook, ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "webhook", &id)?;
    ctx.write(db, "rotate-secret", Some(id.clone()), 200, move |conn| {
        let mut row =
            db::webhooks::find(conn, &id)?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
        expected.check(row.version)?;
        let now = db::now();
        row.previous_secret = Some(std::mem::replace(&mut row.secret, new_secret()));
        row.previous_secret_expires_at =
            Some(now + chrono::Duration::hours(ROTATION_OVERLAP_HOURS));
        row.version += 1;
        row.updated_at = now;
        db::webhooks::update(conn, &row)?;
        Ok(row)
    })
    .await
}

/// A subscription's deliveries, newest first, each with its attempts.
pub fn deliveries(
    ctx: &Context,
    db: &Db,
    id: WebhookId,
    before: Option<&str>,
    fetch: i64,
) -> Result<Vec<(Delivery, Vec<Attempt>)>, ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "webhook", &id)?;
    db.read(|conn| {
        db::webhooks::find(conn, &id)?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
        let rows = db::webhooks::deliveries(conn, &id, before, fetch)?;
        let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
        let mut attempts = db::webhooks::attempts_of(conn, &ids)?;
        Ok(rows
            .into_iter()
            .map(|d| {
                let (mine, rest): (Vec<Attempt>, Vec<Attempt>) =
                    attempts.drain(..).partition(|a| a.delivery_id == d.id);
                attempts = rest;
                (d, mine)
            })
            .collect())
    })
}

/// Sends a delivery again (with the same `webhook-id`): it goes back to the head of its
/// subscription's queue, due now, with a fresh retry schedule.
pub async fn redeliver(
    ctx: &Context,
    db: &Db,
    id: WebhookId,
    delivery: DeliveryId,
) -> Result<Delivery, ApiError> {
    let (id, delivery) = (id.key(), delivery.key());
    require(policy::district_admin_only(&ctx.caller), "webhook", &id)?;
    ctx.write(db, "redeliver", Some(delivery.clone()), 202, move |conn| {
        let found = db::webhooks::find_delivery(conn, &delivery)?
            .filter(|d| d.webhook_id == id)
            .ok_or_else(|| ApiError::not_found("delivery", &delivery))?;
        db::webhooks::requeue(conn, &found.id, db::now())?;
        Ok(db::webhooks::find_delivery(conn, &found.id)?.unwrap_or(found))
    })
    .await
}

// The delivery worker's steps. They run on the worker's own thread (blocking writes).

/// A subscription's queue, claimed by one worker instance until `lease_until`.
pub struct Claim {
    pub webhook: Webhook,
    pub queued: usize,
}

/// Claims a subscription's queue for `instance` (unless another instance holds it) and fills it
/// from the change log up to the safe horizon: the events of the kinds the subscription wants
/// and its owner may read. Returns `None` when the queue is taken or the subscription inactive.
pub fn claim(
    db: &Db,
    webhook_id: &str,
    instance: &str,
    lease: Duration,
    batch: i64,
) -> Result<Option<Claim>, ApiError> {
    let webhook_id = webhook_id.to_owned();
    let instance = instance.to_owned();
    db.write_blocking(move |conn| {
        if !dialect::claim_webhook_queue(conn, &webhook_id)? {
            return Ok(None);
        }
        let Some(webhook) = db::webhooks::find(conn, &webhook_id)? else {
            return Ok(None);
        };
        if !webhook.active {
            return Ok(None);
        }
        let now = db::now();
        let until =
            now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
        if !db::webhooks::take_lease(conn, &webhook_id, &instance, now, until)? {
            return Ok(None);
        }
        let Some(cursor) = db::webhooks::find_cursor(conn, &webhook_id)? else {
            return Ok(None);
        };
        let sees_all = match (webhook.owner_kind.as_str(), &webhook.owner_id) {
            ("system", _) => true,
            (kind, Some(owner)) => db::webhooks::is_district_admin(conn, kind, owner)?,
            _ => false,
        };
        let kinds = (!sees_all).then_some(PUBLIC_RESOURCES);
        let horizon = dialect::feed_horizon(conn)?;
        let after = FeedPosition {
            txid: cursor.after_txid,
            seq: cursor.after_seq,
        };
        let changes = db::changes::feed(conn, after, horizon, kinds, batch)?;
        let patterns: Vec<&str> = webhook.event_types.split(' ').collect();
        let mut queued = 0;
        for change in &changes {
            let event_type = format!("{}.{}", change.resource, change.action);
            if !rules::wants(&patterns, &event_type) {
                continue;
            }
            let at = change.occurred_at.and_utc();
            let payload = serde_json::json!({
                "type": event_type,
                "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "data": {
                    "id": change.resource_id,
                    "resource": change.resource,
                    "action": change.action,
                    "version": change.version,
                },
            });
            db::webhooks::insert_delivery(
                conn,
                &Delivery {
                    id: new_id(),
                    webhook_id: webhook_id.clone(),
                    change_seq: change.seq,
                    event_type,
                    payload: payload.to_string(),
                    state: "pending".to_owned(),
                    attempts: 0,
                    failures_in_row: 0,
                    next_attempt_at: now,
                    last_status_code: None,
                    last_error: None,
                    created_at: now,
                    delivered_at: None,
                },
            )?;
            queued += 1;
        }
        if let Some(last) = changes.last() {
            db::webhooks::move_cursor(conn, &webhook_id, last.txid, last.seq)?;
        }
        Ok(Some(Claim { webhook, queued }))
    })
}

/// True when a subscription has changes to take or events due (a read; see `claim`).
pub fn has_work(db: &Db, webhook_id: &str) -> Result<bool, ApiError> {
    db.read(|conn| Ok(db::webhooks::has_work(conn, webhook_id, db::now())?))
}

/// The next events of a claimed queue, in order.
pub fn queue(db: &Db, webhook_id: &str, fetch: i64) -> Result<Vec<Delivery>, ApiError> {
    db.read(|conn| Ok(db::webhooks::pending(conn, webhook_id, fetch)?))
}

/// Extends `instance`'s lease on a queue; false when another instance has taken it over.
pub fn renew(db: &Db, webhook_id: &str, instance: &str, lease: Duration) -> Result<bool, ApiError> {
    let (webhook_id, instance) = (webhook_id.to_owned(), instance.to_owned());
    db.write_blocking(move |conn| {
        let now = db::now();
        let until =
            now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
        Ok(db::webhooks::take_lease(
            conn,
            &webhook_id,
            &instance,
            now,
            until,
        )?)
    })
}

pub fn release(db: &Db, webhook_id: &str, instance: &str) -> Result<(), ApiError> {
    let (webhook_id, instance) = (webhook_id.to_owned(), instance.to_owned());
    db.write_blocking(move |conn| Ok(db::webhooks::release_lease(conn, &webhook_id, &instance)?))
}

/// Ids of the subscriptions that are active.
pub fn active(db: &Db) -> Result<Vec<String>, ApiError> {
    db.read(|conn| Ok(db::webhooks::active_ids(conn)?))
}

/// Events waiting to be delivered, over all subscriptions.
pub fn backlog(db: &Db) -> Result<i64, ApiError> {
    db.read(|conn| Ok(db::webhooks::backlog(conn)?))
}

/// The secrets that sign a delivery now: the current one, and the previous one while it overlaps.
pub fn signing_secrets(webhook: &Webhook, now: NaiveDateTime) -> Vec<&str> {
    let mut secrets = vec![webhook.secret.as_str()];
    if let (Some(previous), Some(until)) =
        (&webhook.previous_secret, webhook.previous_secret_expires_at)
    {
        if until > now {
            secrets.push(previous);
        }
    }
    secrets
}

/// What one attempt got back.
pub struct AttemptResult {
    pub status: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Delivered,
    /// Retried later; later events of the subscription wait.
    Retry,
    /// The receiver answered 410, or the retry schedule is exhausted: the subscription is
    /// disabled.
    Disabled,
}

/// Records an attempt and its consequence: delivered, retried after the schedule's next wait, or
/// (410 / schedule exhausted) the subscription disabled, with an audit event and a reason its
/// owner sees.
pub fn record(
    db: &Db,
    delivery: &Delivery,
    instance: &str,
    result: AttemptResult,
    schedule: &[Duration],
) -> Result<After, ApiError> {
    let now = db::now();
    let attempt = Attempt {
        id: new_id(),
        delivery_id: delivery.id.clone(),
        attempt: delivery.attempts + 1,
        attempted_at: now,
        status_code: result.status.map(i64::from),
        latency_ms: i64::try_from(result.latency.as_millis()).unwrap_or(i64::MAX),
        error: result.error.clone(),
        instance: instance.to_owned(),
    };
    let failures = usize::try_from(delivery.failures_in_row).unwrap_or(0) + 1;
    let (after, state, next, reason) = match rules::outcome(result.status) {
        Outcome::Delivered => (After::Delivered, "delivered", now, None),
        Outcome::Gone => (
            After::Disabled,
            "failed",
            now,
            Some("the receiver answered 410 Gone".to_owned()),
        ),
        Outcome::Retry => {
            match rules::retry_delay(
                schedule,
                failures,
                rand::random::<f64>(),
                result.retry_after,
            ) {
                Some(wait) => (
                    After::Retry,
                    "pending",
                    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(24)),
                    None,
                ),
                None => (
                    After::Disabled,
                    "failed",
                    now,
                    Some(format!(
                        "delivery {} failed {failures} times in a row (last: {})",
                        delivery.id,
                        result
                            .status
                            .map(|s| format!("HTTP {s}"))
                            .or(result.error.clone())
                            .unwrap_or_default()
                    )),
                ),
            }
        }
    };
    let failures_in_row = if after == After::Delivered {
        0
    } else {
        failures as i64
    };
    let delivered_at = (after == After::Delivered).then_some(now);
    let webhook_id = delivery.webhook_id.clone();
    let event = reason.as_ref().map(|_| {
        audit_event(
            &Principal::anonymous(),
            &RequestFacts::default(),
            "disable",
            "worker:webhooks",
            Some(webhook_id.clone()),
            200,
        )
    });
    let reason_logged = reason.clone();
    db.write_blocking(move |conn| {
        db::webhooks::record_attempt(conn, &attempt, state, failures_in_row, next, delivered_at)?;
        if let Some(reason) = reason {
            if let Some(mut row) = db::webhooks::find(conn, &webhook_id)? {
                if row.active {
                    row.active = false;
                    row.disabled_reason = Some(reason);
                    row.disabled_at = Some(now);
                    row.version += 1;
                    row.updated_at = now;
                    db::webhooks::update(conn, &row)?;
                    if let Some(event) = &event {
                        db::access::audit::record(conn, event)?;
                    }
                }
            }
        }
        Ok::<_, ApiError>(())
    })?;
    if let Some(reason) = reason_logged {
        tracing::warn!(webhook = %delivery.webhook_id, %reason, "webhook subscription disabled");
    }
    Ok(after)
}

/// Removes from the delivery log the deliveries that ended longer than `retention` ago (as of
/// `now`): delivered ones by when they were delivered, failed ones by when their event was
/// queued; pending ones stay. The operator's maintenance, run by `cogov serve` on a timer beside
/// the change-log pruning; not an HTTP operation. Returns how many deliveries went.
pub async fn prune_deliveries(
    ctx: &Context,
    db: &Db,
    retention: chrono::Duration,
    now: NaiveDateTime,
) -> Result<usize, ApiError> {
    let cutoff = now - retention;
    let id = new_id();
    ctx.write(db, "prune_webhook_deliveries", Some(id), 200, move |conn| {
        Ok(db::webhooks::prune_deliveries(conn, cutoff)?)
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_standard_webhooks_secrets() {
        let s = super::new_secret();
        let raw = s.strip_prefix("whsec_").expect("prefix");
        use base64::Engine;
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(raw)
                .unwrap()
                .len(),
            32
        );
    }
}
