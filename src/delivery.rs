//! The webhook delivery worker: a background thread that `cogov serve` starts. It claims each
//! active subscription's queue in turn (one instance at a time per subscription, see
//! `commands::webhooks::claim`), fills it from the change log, and POSTs its events in order,
//! signed as Standard Webhooks 1.0 asks, with retries on a schedule.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::commands::webhooks::{self, After, AttemptResult};
use crate::db::webhooks::Delivery;
use crate::db::Db;
use crate::domain::webhooks::{self as rules, AddressPolicy};

/// How the worker delivers.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Which URLs may be called (checked again after resolving each name, at every attempt).
    pub addresses: AddressPolicy,
    /// Waits before each retry; once they are used up the subscription is disabled.
    pub retry_schedule: Vec<Duration>,
    /// Longest wait for a receiver to accept the connection.
    pub connect_timeout: Duration,
    /// Longest time one attempt may take in all (connect, send, answer).
    pub timeout: Duration,
    /// How often the worker looks for new changes and due retries.
    pub poll_interval: Duration,
    /// How long an instance holds a subscription's queue before another may take it over (when
    /// the holder stopped without giving it back).
    pub lease: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            addresses: AddressPolicy::default(),
            retry_schedule: rules::DEFAULT_RETRY_SCHEDULE_SECS
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(120),
        }
    }
}

/// Delivery counts and latency, registered with `/metrics`.
pub struct DeliveryMetrics {
    /// Attempts by outcome: `delivered`, `retry`, `disabled`.
    pub attempts: IntCounterVec,
    /// Seconds per attempt, by outcome.
    pub duration: HistogramVec,
}

pub fn metrics() -> &'static DeliveryMetrics {
    static METRICS: OnceLock<DeliveryMetrics> = OnceLock::new();
    METRICS.get_or_init(|| DeliveryMetrics {
        attempts: IntCounterVec::new(
            Opts::new(
                "cogov_webhook_deliveries_total",
                "Webhook delivery attempts, by outcome (delivered, retry, disabled).",
            ),
            &["outcome"],
        )
        .expect("a valid counter"),
        duration: HistogramVec::new(
            HistogramOpts::new(
                "cogov_webhook_delivery_duration_seconds",
                "Duration of webhook delivery attempts, by outcome.",
            )
            .buckets(vec![
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0,
            ]),
            &["outcome"],
        )
        .expect("a valid histogram"),
    })
}

/// Resolves names as usual, then drops every address the policy refuses; none left is an error.
/// The connection goes to an address checked here, so a name cannot point elsewhere between the
/// check and the connect.
#[derive(Debug)]
struct GuardedResolver {
    inner: DefaultResolver,
    policy: AddressPolicy,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let found = self.inner.resolve(uri, config, timeout)?;
        let mut kept = self.empty();
        let mut refused = None;
        for addr in found.iter() {
            match self.policy.check_address(addr.ip()) {
                Ok(()) => kept.push(*addr),
                Err(why) => refused = Some(why),
            }
        }
        if kept.is_empty() {
            let why = refused.unwrap_or_else(|| "the host has no address".to_owned());
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                why,
            )));
        }
        Ok(kept)
    }
}

fn agent(options: &DeliveryOptions) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_connect(Some(options.connect_timeout))
        .timeout_global(Some(options.timeout))
        .user_agent("cogov-webhooks/1")
        .build();
    ureq::Agent::with_parts(
        config,
        DefaultConnector::default(),
        GuardedResolver {
            inner: DefaultResolver::default(),
            policy: options.addresses.clone(),
        },
    )
}

/// Sends one attempt: the stored body, signed for this attempt's timestamp.
fn attempt(
    agent: &ureq::Agent,
    policy: &AddressPolicy,
    url: &str,
    secrets: &[&str],
    delivery: &Delivery,
) -> AttemptResult {
    let started = Instant::now();
    if let Err(why) = policy.check_url(url) {
        return AttemptResult {
            status: None,
            latency: started.elapsed(),
            error: Some(format!("url {why}")),
            retry_after: None,
        };
    }
    let timestamp = chrono::Utc::now().timestamp();
    let body = delivery.payload.as_bytes();
    let signature = rules::signature_header(secrets, &delivery.id, timestamp, body);
    let sent = agent
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .send(body);
    let latency = started.elapsed();
    match sent {
        Ok(mut res) => {
            let retry_after = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // Read (a little of) the answer so the connection can be reused; its content does
            // not matter.
            let _ = res.body_mut().with_config().limit(64 * 1024).read_to_vec();
            AttemptResult {
                status: Some(res.status().as_u16()),
                latency,
                error: None,
                retry_after,
            }
        }
        Err(err) => AttemptResult {
            status: None,
            latency,
            error: Some(err.to_string()),
            retry_after: None,
        },
    }
}

/// The running worker. Dropping it (or [`Worker::stop`]) stops it after the attempt in flight.
pub struct Worker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread on `db`.
    pub fn start(db: Db, options: DeliveryOptions) -> Worker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("cogov-webhooks".to_owned())
            .spawn(move || run(db, options, flag))
            .expect("start the webhook delivery thread");
        Worker {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops the worker and waits for it.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Events claimed from the change log per pass.
const FILL_BATCH: i64 = 200;
/// Events read from a queue at a time.
const QUEUE_BATCH: i64 = 50;

fn run(db: Db, options: DeliveryOptions, stop: Arc<AtomicBool>) {
    let instance = uuid::Uuid::now_v7().to_string();
    let agent = agent(&options);
    tracing::info!(%instance, "webhook delivery started");
    while !stop.load(Ordering::Acquire) {
        let mut busy = false;
        match webhooks::active(&db) {
            Ok(ids) => {
                for id in ids {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    match serve_queue(&db, &agent, &options, &instance, &id, &stop) {
                        Ok(more) => busy |= more,
                        Err(err) => {
                            tracing::warn!(webhook = %id, error = %err, "webhook queue not served");
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot list webhook subscriptions"),
        }
        if !busy {
            sleep_unless_stopped(options.poll_interval, &stop);
        }
    }
    tracing::info!(%instance, "webhook delivery stopped");
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(50);
    let until = Instant::now() + total;
    while !stop.load(Ordering::Acquire) && Instant::now() < until {
        std::thread::sleep(step.min(until.saturating_duration_since(Instant::now())));
    }
}

/// Claims one subscription's queue, delivers what is due in order, and gives the queue back.
/// Returns true when more work may be waiting at once.
fn serve_queue(
    db: &Db,
    agent: &ureq::Agent,
    options: &DeliveryOptions,
    instance: &str,
    webhook_id: &str,
    stop: &AtomicBool,
) -> Result<bool, crate::error::ApiError> {
    if !webhooks::has_work(db, webhook_id)? {
        return Ok(false);
    }
    let Some(claim) = webhooks::claim(db, webhook_id, instance, options.lease, FILL_BATCH)? else {
        return Ok(false);
    };
    let more = claim.queued as i64 >= FILL_BATCH;
    let result = deliver_due(db, agent, options, instance, &claim.webhook, stop);
    webhooks::release(db, webhook_id, instance)?;
    result.map(|sent| more || sent)
}

fn deliver_due(
    db: &Db,
    agent: &ureq::Agent,
    options: &DeliveryOptions,
    instance: &str,
    webhook: &crate::db::webhooks::Webhook,
    stop: &AtomicBool,
) -> Result<bool, crate::error::ApiError> {
    let mut sent = false;
    loop {
        let queue = webhooks::queue(db, &webhook.id, QUEUE_BATCH)?;
        let full = queue.len() as i64 == QUEUE_BATCH;
        for delivery in queue {
            if stop.load(Ordering::Acquire) || delivery.next_attempt_at > crate::db::now() {
                return Ok(sent);
            }
            // The lease bounds how long a stalled instance keeps others from a queue; it is
            // renewed before each attempt, and an instance that lost it stops, so two instances
            // never send the same attempt.
            if !webhooks::renew(db, &webhook.id, instance, options.lease)? {
                return Ok(sent);
            }
            let now = crate::db::now();
            let secrets = webhooks::signing_secrets(webhook, now);
            let result = attempt(agent, &options.addresses, &webhook.url, &secrets, &delivery);
            let seconds = result.latency.as_secs_f64();
            let after = webhooks::record(db, &delivery, instance, result, &options.retry_schedule)?;
            let outcome = match after {
                After::Delivered => "delivered",
                After::Retry => "retry",
                After::Disabled => "disabled",
            };
            let m = metrics();
            m.attempts.with_label_values(&[outcome]).inc();
            m.duration.with_label_values(&[outcome]).observe(seconds);
            if after != After::Delivered {
                return Ok(sent);
            }
            sent = true;
        }
        if !full {
            return Ok(sent);
        }
    }
}
