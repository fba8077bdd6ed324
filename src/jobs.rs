//! Background jobs `serve` runs on a timer. Each calls the same command a person could run
//! (`cogov retention run`), with the deployment's own authority; the audit trail names the job.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::auth::Principal;
use crate::commands::{imports, services, Context, RequestFacts};
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

/// Runs an import job on a thread of its own, so that whoever queued it does not wait for it.
pub fn spawn_import(db: Db, ctx: Context, id: String) {
    let spawned = std::thread::Builder::new()
        .name("cogov-import".to_owned())
        .spawn(move || {
            let system = actix_web::rt::System::new();
            if let Err(e) = system.block_on(imports::run(&ctx, &db, &id, &mut |_| {})) {
                tracing::warn!(import = %id, error = %e, "import not run");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start an import thread");
    }
}

/// One turn of the import sweeper: queues again the jobs whose instance died (their lease ran
/// out), then starts every job that is due; of several instances sweeping at once, one claims
/// each job. Returns the ids started.
pub async fn sweep_imports_once(db: &Db, now: NaiveDateTime) -> Result<Vec<String>, ApiError> {
    let due = imports::requeue_abandoned(db, now).await?;
    let mut started = Vec::with_capacity(due.len());
    for (id, created_by) in due {
        let ctx = imports::job_context(created_by.as_deref(), "job:import-sweeper");
        spawn_import(db.clone(), ctx, id.clone());
        started.push(id);
    }
    Ok(started)
}

/// Runs [`sweep_imports_once`] every `every` on a thread of its own.
pub fn start_import_sweeper(db: Db, every: Duration) {
    let spawned = std::thread::Builder::new()
        .name("cogov-import-sweeper".to_owned())
        .spawn(move || {
            let system = actix_web::rt::System::new();
            loop {
                std::thread::sleep(every);
                match system.block_on(sweep_imports_once(&db, crate::db::now())) {
                    Ok(ids) if ids.is_empty() => {}
                    Ok(ids) => tracing::info!(?ids, "import jobs picked up again"),
                    Err(e) => {
                        tracing::warn!(error = %e, "the import sweep failed; trying again later")
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the import sweeper");
    }
}
