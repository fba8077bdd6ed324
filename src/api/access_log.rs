//! One log line per request (docs/OPERATIONS.md): method, matched route, status, latency and
//! request id. Never the query string or the concrete path: they may hold personal data
//! (`?email=`, a person's id). The request's tracing span carries the same two safe fields, so
//! nothing else logged during the request can leak them either.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// The span every request runs in: the method and the request id, nothing from the URL.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!("request", method = %request.method(), request_id = %id)
    }

    fn on_request_end<B: MessageBody>(_: Span, _: &Result<ServiceResponse<B>, Error>) {}
}

pub async fn log_request<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.to_string())
        .unwrap_or_default();
    let res = next.call(req).await?;
    let route = crate::route::pattern(res.request());
    let route = route.as_deref().unwrap_or("(no route)");
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "cogov::request",
        method = %method,
        route = %route,
        status,
        latency_ms = format_args!("{latency_ms:.3}"),
        request_id = %request_id,
        "request"
    );
    Ok(res)
}
