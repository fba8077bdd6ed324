//! Signing in: a username and password, or an API client's id and secret, exchanged for a
//! short-lived bearer token — throttled in the database, with a bounded number of secrets checked
//! at once, and every attempt in the audit trail.

use super::{audit_event, Context};
use crate::auth::throttle::Kind;
use crate::auth::tokens::Tokens;
use crate::db::{self, access, AnyConnection, Db};
use crate::error::ApiError;
use crate::state::Protection;

/// What a caller signs in with.
pub struct Credentials {
    pub kind: Kind,
    /// A lower-cased username, or an API client's `client_id`.
    pub key: String,
    pub secret: String,
    /// Where the attempt comes from, as the per-address counters key it.
    pub address: String,
}

/// A bearer token and how many seconds it lives.
pub struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    /// Who signed in: `person:<id>` or `client:<client_id>`.
    pub subject: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized("the credentials are not valid".to_owned())
}

/// The credentials are wrong (or the account unknown, or a limit is reached): `invalid_grant`
/// for a person's password, `invalid_client` for an API client (RFC 6749 section 5.2).
fn refused(kind: Kind, err: ApiError) -> ApiError {
    err.oauth(match kind {
        Kind::Account => "invalid_grant",
        Kind::Client => "invalid_client",
    })
}

/// Runs a change of the sign-in counters in a transaction of its own, committed at once, on a
/// thread of its own. Not in the writer's group commit: a batch holds the row locks of all its
/// writes until it commits, in the order the writes arrived, so two batches taking counters of
/// different attempts in different orders could deadlock on PostgreSQL. Alone, each transaction
/// takes its counters in one fixed order (see `throttle::Attempt`), and holds them for a few
/// statements.
async fn counters_transaction(
    db: &Db,
    change: impl FnOnce(&mut AnyConnection) -> Result<(), ApiError> + Send + 'static,
) -> Result<(), ApiError> {
    let db = db.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("cogov-sign-in".to_owned())
        .spawn(move || {
            let _ = tx.send(db.write_blocking(change));
        })
        .map_err(|e| ApiError::Unavailable(format!("cannot count the attempt now: {e}")))?;
    rx.await
        .map_err(|_| ApiError::Internal("counting the attempt stopped".to_owned()))?
}

/// Exchanges credentials for a token. Wrong credentials and unknown accounts get the same 401;
/// beyond a limit the attempt gets 429 without being checked or counted; beyond the bound on
/// secrets checked at once, 503 at once.
pub async fn sign_in(
    ctx: &Context,
    db: &Db,
    protection: &Protection,
    tokens: &Tokens,
    credentials: Credentials,
) -> Result<Issued, ApiError> {
    let Credentials {
        kind,
        key,
        secret,
        address,
    } = credentials;
    if key.len() > 400 || secret.len() > 1024 {
        return Err(refused(kind, invalid_credentials()));
    }
    // Checking a secret costs ~19 MiB and tens of milliseconds: beyond the bound, refuse at once
    // rather than queue (a queue would grow with a flood, and so would memory).
    let permit = protection.hashing.try_permit().map_err(|_| {
        ApiError::Unavailable(
            "too many sign-ins are being checked right now; retry shortly".to_owned(),
        )
    })?;
    let (stored, subject) = db.read(|conn| {
        let found: Option<(String, String)> = if kind == Kind::Account {
            access::account::by_username(conn, &key)?
                .filter(|a| !a.disabled)
                .and_then(|a| {
                    a.password_hash
                        .map(|h| (h, format!("person:{}", a.person_id)))
                })
        } else {
            access::client::by_client_id(conn, &key)?
                .filter(|c| !c.disabled)
                .map(|c| (c.secret_hash, format!("client:{}", c.client_id)))
        };
        Ok::<_, ApiError>(
            found
                .map(|(h, s)| (Some(h), Some(s)))
                .unwrap_or((None, None)),
        )
    })?;
    let resource = if kind == Kind::Account {
        "account"
    } else {
        "api_client"
    };
    let record = |status: u16| {
        let mut event = audit_event(
            &ctx.caller,
            &ctx.facts,
            "sign_in",
            resource,
            Some(key.clone()),
            status,
        );
        if let Some(s) = &subject {
            let (k, id) = s.split_once(':').unwrap_or(("", s));
            event.actor_kind = if k == "client" {
                "client".to_owned()
            } else {
                "person".to_owned()
            };
            event.actor_id = Some(id.to_owned());
        }
        event
    };
    let limits = &protection.sign_in;
    let attempt = limits.attempt(kind, &key, &address, db::now());
    let refusal = record(429);
    let reservation = attempt.clone();
    let counted = counters_transaction(db, move |conn| {
        // Counters of past windows limit nothing; an occasional sweep keeps the table small.
        if rand::random::<u8>() < 4 {
            access::throttle::forget_before(conn, reservation.window_start)?;
        }
        if reservation.reserve(conn)? {
            Ok(())
        } else {
            // Nothing of a refused attempt counts: returning Err undoes any counter this
            // transaction already raised.
            Err(ApiError::TooManyRequests(0))
        }
    })
    .await;
    match counted {
        Ok(()) => {}
        Err(ApiError::TooManyRequests(_)) => {
            db.write(move |conn| access::audit::record(conn, &refusal).map_err(ApiError::from))
                .await?;
            return Err(refused(
                kind,
                ApiError::TooManyRequests(limits.seconds_left(attempt.window_start, db::now())),
            ));
        }
        Err(other) => return Err(other),
    }
    let ok = protection
        .hashing
        .verify(permit, secret, stored)
        .await
        .map_err(ApiError::Internal)?;
    if ok {
        counters_transaction(db, move |conn| {
            attempt.release(conn).map_err(ApiError::from)
        })
        .await?;
    }
    let event = record(if ok { 200 } else { 401 });
    db.write(move |conn| access::audit::record(conn, &event).map_err(ApiError::from))
        .await?;
    let Some(subject) = subject.filter(|_| ok) else {
        return Err(refused(kind, invalid_credentials()));
    };
    let (access_token, expires_in) = tokens.issue(&subject).map_err(ApiError::Internal)?;
    Ok(Issued {
        access_token,
        expires_in,
        subject,
    })
}
