//! Background jobs `serve` runs on a timer. Each calls the same command a person could run
//! (`cogov retention run`), with the deployment's own authority; the audit trail names the job.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::auth::Principal;
use crate::commands::{services, Context, RequestFacts};
use crate::db::Db;
use crate::error::ApiError;

/// The operation name the retention job's audit events carry.
pub const RETENTION_OPERATION: &str = "job:service-request-retention";

/// The context a background job acts in.
pub fn job_context(operation: &str) -> Context {
    Context::new(Principal::anonymous(), RequestFacts::default(), operation)
}

/// Applies the service-request retention setting once, as of `now` (the job's clock; tests pass
/// their own). Returns how many requests this run anonymised.
pub async fn retention_once(
    db: &Db,
    retention_days: u32,
    now: NaiveDateTime,
) -> Result<usize, ApiError> {
    let ctx = job_context(RETENTION_OPERATION);
    services::apply_retention(&ctx, db, retention_days, now).await
}

/// Runs [`retention_once`] every `every`, starting a minute after the call. A failed run is
/// logged and tried again at the next tick; several app instances may run this at once.
pub async fn retention_loop(db: Db, retention_days: u32, every: Duration) {
    let mut ticks = actix_web::rt::time::interval_at(
        actix_web::rt::time::Instant::now() + Duration::from_secs(60),
        every,
    );
    loop {
        ticks.tick().await;
        match retention_once(&db, retention_days, crate::db::now()).await {
            Ok(0) => tracing::debug!("retention: nothing to anonymise"),
            Ok(n) => tracing::info!(anonymised = n, retention_days, "retention applied"),
            Err(e) => tracing::warn!(error = %e, "retention run failed; trying again later"),
        }
    }
}
