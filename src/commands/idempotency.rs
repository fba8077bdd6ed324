//! Idempotency keys: a POST sent again with the same `Idempotency-Key` gets the first response
//! instead of acting twice. Keys are per caller, held in the database (so they hold across app
//! instances), and expire after [`KEY_LIFETIME_HOURS`].

use chrono::Duration;
use sha2::{Digest, Sha256};

use super::{new_id, Context};
use crate::auth::policy::Actor;
use crate::db::idempotency::{self as store, IdempotencyRow};
use crate::db::{self, Db, StoreError};
use crate::error::ApiError;

/// How long a key is remembered.
pub const KEY_LIFETIME_HOURS: i64 = 24;
/// The response header that marks a replayed first answer (`Idempotent-Replayed: true`).
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Routes where a POST must carry a key: a family app's retry must never file a second
/// request for the same need.
pub const KEY_REQUIRED: &[&str] = &["/api/v1/service-requests"];
/// Longest key accepted.
pub const KEY_MAX_LENGTH: usize = 255;

/// What to do with a request that carries a key.
pub enum Claim {
    /// First time: handle it, then [`complete`] (or [`release`]) the claim with this id.
    New(String),
    /// Seen before and answered: send this response again.
    Replay {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

/// The key as the caller sent it, checked: 1 to 255 printable ASCII characters.
pub fn parse_key(text: &str) -> Result<&str, ApiError> {
    let ok = !text.is_empty()
        && text.len() <= KEY_MAX_LENGTH
        && text.bytes().all(|b| (0x20..0x7f).contains(&b));
    if ok {
        Ok(text)
    } else {
        Err(ApiError::BadRequest {
            code: "bad-idempotency-key",
            detail: format!(
                "Idempotency-Key must be 1 to {KEY_MAX_LENGTH} printable ASCII characters"
            ),
        })
    }
}

/// The fingerprint of a request: a retry must be the same method, path and body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update(b" ");
    hash.update(path.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn caller_key(ctx: &Context) -> String {
    match &ctx.caller.actor {
        Actor::Anonymous => "anonymous".to_owned(),
        Actor::Person(id) => format!("person:{id}"),
        Actor::Client(id) => format!("client:{id}"),
    }
}

/// Claims `key` for this request, or says how to answer a retry: the same request answered
/// before is replayed; another request with the same key is 422; the same request still being
/// handled (by this or another instance) is 409, to be retried shortly.
pub async fn claim(
    ctx: &Context,
    db: &Db,
    key: &str,
    fingerprint: String,
) -> Result<Claim, ApiError> {
    let caller = caller_key(ctx);
    let key = key.to_owned();
    db.write(move |conn| {
        let now = db::now();
        // An occasional sweep keeps the table to the keys still remembered.
        if rand::random::<u8>() < 4 {
            store::forget_expired(conn, now, None)?;
        } else {
            store::forget_expired(conn, now, Some((&caller, &key)))?;
        }
        let row = IdempotencyRow {
            id: new_id(),
            caller: caller.clone(),
            idempotency_key: key.clone(),
            fingerprint: fingerprint.clone(),
            status: None,
            response_headers: None,
            response_body: None,
            created_at: now,
            expires_at: now + Duration::hours(KEY_LIFETIME_HOURS),
        };
        match store::claim(conn, &row) {
            Ok(()) => return Ok(Claim::New(row.id)),
            Err(StoreError::Duplicate(_)) => {}
            Err(other) => return Err(other.into()),
        }
        let held = store::find(conn, &caller, &key)?
            .ok_or_else(|| ApiError::Unavailable("the key was just released; retry".to_owned()))?;
        if held.fingerprint != fingerprint {
            return Err(ApiError::Validation(vec![crate::error::FieldError::new(
                "Idempotency-Key",
                "was already used for a different request (another path or body); use a new key",
            )]));
        }
        match (held.status, held.response_body) {
            (Some(status), Some(body)) => Ok(Claim::Replay {
                status: u16::try_from(status).unwrap_or(500),
                headers: held
                    .response_headers
                    .and_then(|h| serde_json::from_str(&h).ok())
                    .unwrap_or_default(),
                body,
            }),
            _ => Err(ApiError::Conflict {
                code: "request-in-progress",
                detail:
                    "a request with this Idempotency-Key is still being handled; retry in a moment"
                        .to_owned(),
            }),
        }
    })
    .await
}

/// Stores the first response of a claimed key.
pub async fn complete(
    db: &Db,
    claim_id: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
) -> Result<(), ApiError> {
    let headers = serde_json::to_string(&headers).map_err(|e| ApiError::Internal(e.to_string()))?;
    db.write(move |conn| {
        store::complete(conn, &claim_id, i64::from(status), &headers, &body)?;
        Ok::<_, ApiError>(())
    })
    .await
}

/// Forgets a claim whose request failed in a way a retry may fix (5xx).
pub async fn release(db: &Db, claim_id: String) -> Result<(), ApiError> {
    db.write(move |conn| {
        store::release(conn, &claim_id)?;
        Ok::<_, ApiError>(())
    })
    .await
}
