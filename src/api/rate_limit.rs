//! Request quotas per caller, announced in every response with the IETF RateLimit headers
//! (`RateLimit-Policy: "default";q=600;w=60` and `RateLimit: "default";r=599;t=42`); a caller
//! over its quota gets 429 with `Retry-After` and the `quota-exceeded` problem type.
//!
//! A caller is its account or API client once signed in, its address otherwise. Windows are
//! fixed and aligned to the clock. The count is kept in memory by each app instance: holding it
//! in the database would add a write to every request, including every read. With several
//! instances behind a balancer, a caller's quota is therefore per instance (docs/INTEGRATION.md
//! says how to size it). Rules that decide who may do what never depend on it; sign-in
//! throttling, which does, is counted in the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub const POLICY_HEADER: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const STATE_HEADER: HeaderName = HeaderName::from_static("ratelimit");

/// The policy's name in the headers and in `violated-policies`.
pub const POLICY: &str = "default";

/// Paths outside any quota: probes and scrapes come from the platform, not from clients.
fn exempt(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

/// Counts requests per caller in fixed windows.
pub struct RateLimiter {
    quota: u32,
    window_secs: u64,
    counts: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    index: u64,
    by_caller: HashMap<String, u32>,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests left in this window after this one.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
}

impl RateLimiter {
    /// `quota` requests per `window_secs`; `None` when the quota is 0 (no limit).
    pub fn new(quota: u32, window_secs: u64) -> Option<Arc<RateLimiter>> {
        (quota > 0).then(|| {
            Arc::new(RateLimiter {
                quota,
                window_secs: window_secs.max(1),
                counts: Mutex::new(Window::default()),
            })
        })
    }

    pub fn quota(&self) -> u32 {
        self.quota
    }

    pub fn window_secs(&self) -> u64 {
        self.window_secs
    }

    /// Counts one request of `caller` at `now` (seconds since the epoch).
    pub fn check(&self, caller: &str, now: u64) -> Decision {
        let index = now / self.window_secs;
        let reset_secs = self.window_secs - now % self.window_secs;
        let mut window = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if window.index != index {
            // A new window: every count starts again, and the map holds only current callers.
            window.index = index;
            window.by_caller.clear();
        }
        let before = window.by_caller.get(caller).copied().unwrap_or(0);
        let allowed = before < self.quota;
        let used = if allowed { before + 1 } else { before };
        // A caller already counted in this window is updated without copying its key.
        match window.by_caller.get_mut(caller) {
            Some(slot) => *slot = used,
            None => {
                window.by_caller.insert(caller.to_owned(), used);
            }
        }
        Decision {
            allowed,
            remaining: self.quota - used,
            reset_secs,
        }
    }
}

fn caller_key(req: &ServiceRequest) -> String {
    let signed_in = req
        .extensions()
        .get::<Principal>()
        .and_then(Principal::actor_key);
    signed_in.unwrap_or_else(|| {
        let address = req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        format!("address:{address}")
    })
}

fn header_value(text: String) -> Option<HeaderValue> {
    HeaderValue::from_str(&text).ok()
}

/// Counts the request against its caller's quota, refuses it when the quota is spent, and adds
/// the RateLimit headers to the response either way. Runs after authentication, so a signed-in
/// caller is counted by who it is.
pub async fn limit<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let limiter = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.protection.rate_limit.clone());
    let Some(limiter) = limiter.filter(|_| !exempt(req.path())) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let decision = limiter.check(&caller_key(&req), now);
    let policy = header_value(format!(
        "\"{POLICY}\";q={};w={}",
        limiter.quota(),
        limiter.window_secs()
    ));
    let state = header_value(format!(
        "\"{POLICY}\";r={};t={}",
        decision.remaining, decision.reset_secs
    ));
    let mut res = if decision.allowed {
        next.call(req).await?.map_into_left_body()
    } else {
        let (http_req, _) = req.into_parts();
        let err = ApiError::QuotaExceeded {
            policy: POLICY,
            retry_after: decision.reset_secs,
        };
        ServiceResponse::new(http_req, HttpResponse::from_error(err)).map_into_right_body()
    };
    let headers = res.headers_mut();
    if let Some(v) = policy {
        headers.insert(POLICY_HEADER, v);
    }
    if let Some(v) = state {
        headers.insert(STATE_HEADER, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_caller_and_starts_again_each_window() {
        let limiter = RateLimiter::new(2, 60).unwrap();
        let at = 6_000; // a window boundary
        assert_eq!(
            limiter.check("a", at),
            Decision {
                allowed: true,
                remaining: 1,
                reset_secs: 60
            }
        );
        assert!(limiter.check("a", at + 1).allowed);
        let third = limiter.check("a", at + 59);
        assert!(!third.allowed);
        assert_eq!((third.remaining, third.reset_secs), (0, 1));
        // Another caller has its own quota; the next window starts from zero.
        assert!(limiter.check("b", at + 59).allowed);
        assert!(limiter.check("a", at + 60).allowed);
    }

    #[test]
    fn no_quota_means_no_limiter() {
        assert!(RateLimiter::new(0, 60).is_none());
    }
}
