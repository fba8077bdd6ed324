//! The request counter behind the quotas of `api::rate_limit`: requests per caller in fixed
//! windows aligned to the clock, kept in this instance's memory (see that module for why).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
