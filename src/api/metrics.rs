//! Prometheus metrics: `GET /metrics` in the text exposition format, and the middleware that
//! measures every request. Names follow Prometheus and OpenTelemetry conventions: base units,
//! `_total` counters, and only low-cardinality labels (the matched route template, never a path
//! with ids in it).

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::error::ApiError;
use crate::state::AppState;

/// OpenTelemetry's advised buckets for `http.server.request.duration`, in seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

struct Metrics {
    registry: Registry,
    duration: HistogramVec,
    active: IntGauge,
    pool: GaugeVec,
    writer_queue: Gauge,
    webhook_backlog: Gauge,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let registry = Registry::new();
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &[
                "http_request_method",
                "http_route",
                "http_response_status_code",
            ],
        )
        .expect("a valid histogram");
        let active = IntGauge::new(
            "http_server_active_requests",
            "HTTP server requests being handled now.",
        )
        .expect("a valid gauge");
        let pool = GaugeVec::new(
            Opts::new(
                "cogov_db_pool_connections",
                "Database connections of the read and write pools, by state.",
            ),
            &["pool", "state"],
        )
        .expect("a valid gauge");
        let writer_queue = Gauge::new(
            "cogov_db_writer_queue_writes",
            "Writes waiting for the writer (over its limit they are refused with 503).",
        )
        .expect("a valid gauge");
        let webhook_backlog = Gauge::new(
            "cogov_webhook_backlog_events",
            "Webhook events queued and not yet delivered, over all subscriptions.",
        )
        .expect("a valid gauge");
        let deliveries = crate::delivery::metrics();
        for collector in [
            Box::new(duration.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(webhook_backlog.clone()),
            Box::new(deliveries.attempts.clone()),
            Box::new(deliveries.duration.clone()),
            Box::new(active.clone()),
            Box::new(pool.clone()),
            Box::new(writer_queue.clone()),
        ] {
            registry.register(collector).expect("distinct metric names");
        }
        Metrics {
            registry,
            duration,
            active,
            pool,
            writer_queue,
            webhook_backlog,
        }
    })
}

/// Unknown methods are reported as `_OTHER`, as OpenTelemetry advises (a label value a client
/// can choose at will would make series without end).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "_OTHER",
    }
}

/// Measures every request by method, matched route and status.
pub async fn measure<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let m = metrics();
    let started = Instant::now();
    let method = method_label(req.method());
    m.active.inc();
    let res = next.call(req).await;
    m.active.dec();
    if let Ok(res) = &res {
        // The route template the router matched; requests that matched none share one label.
        let route = crate::route::pattern(res.request());
        m.duration
            .with_label_values(&[
                method,
                route.as_deref().unwrap_or("unmatched"),
                res.status().as_str(),
            ])
            .observe(started.elapsed().as_secs_f64());
    }
    res
}

/// May this caller read the metrics? With a token configured, the scraper must send it; without
/// one, only callers on this host.
fn allowed(req: &HttpRequest, token: Option<&str>) -> bool {
    match token {
        Some(token) => req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|sent| {
                // Compared in full every time, so its length and content do not leak by timing.
                sent.len() == token.len()
                    && sent
                        .bytes()
                        .zip(token.bytes())
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0
            }),
        None => req.peer_addr().is_none_or(|a| a.ip().is_loopback()),
    }
}

/// Metrics for Prometheus
///
/// Request durations by method, route template and status
/// (`http_server_request_duration_seconds`, OpenTelemetry's buckets), requests in progress,
/// database pool use and the writer's queue, in the Prometheus text format. Readable by callers on
/// the same host, or by a scraper sending the configured `metrics_token` as a bearer token;
/// anyone else gets 404.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Metrics in the Prometheus text exposition format (0.0.4).",
            content_type = "text/plain", body = String,
            example = json!("# HELP http_server_active_requests HTTP server requests being handled now.\n# TYPE http_server_active_requests gauge\nhttp_server_active_requests 1\n")),
        (status = 404, response = super::problems::NotFound)))]
pub async fn metrics_endpoint(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !allowed(&req, state.protection.metrics_token.as_deref()) {
        // The same answer as for a path that does not exist: nothing to probe.
        return Err(ApiError::NotFound(format!("no route {}", req.path())));
    }
    let m = metrics();
    let db = state.db.health();
    for (pool, connections, idle) in [
        ("read", db.read_connections, db.read_idle),
        ("write", db.write_connections, db.write_idle),
    ] {
        m.pool
            .with_label_values(&[pool, "idle"])
            .set(f64::from(idle));
        m.pool
            .with_label_values(&[pool, "in_use"])
            .set(f64::from(connections.saturating_sub(idle)));
    }
    m.writer_queue.set(db.writer_queue as f64);
    if let Ok(backlog) = crate::commands::webhooks::backlog(&state.db) {
        m.webhook_backlog.set(backlog as f64);
    }
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&m.registry.gather(), &mut out)
        .map_err(|e| ApiError::Internal(format!("cannot encode metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}
