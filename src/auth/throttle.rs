//! Sign-in throttling: how many failed checks of a password or client secret are allowed, per
//! what, and for how long.
//!
//! Every attempt that reaches the (slow) secret check first reserves its place in each counter
//! that applies to it, with one atomic statement per counter in one transaction
//! ([`crate::db::access::throttle::reserve`]); when any counter is full the attempt is refused
//! with 429 without a check and without counting. A right secret gives its places back, so the
//! counters hold failed checks (and checks in flight). Windows are fixed (`window` long, aligned
//! to the Unix epoch): a refused attempt never extends a lockout, which ends when the window does.
//!
//! The counters, for an attempt on account `a` (or API client `c`) from address `ip`:
//! - `account_address` (`a` from `ip`): `max_failures`. Someone guessing from one place locks
//!   only that place out of that account.
//! - `account` (`a` from anywhere): `max_failures_per_account`, higher, so that one address
//!   cannot lock a person out, but many addresses together still cannot guess for long.
//! - `client_address` (`c` from `ip`): `max_failures`. There is deliberately no counter for a
//!   client from anywhere: a client secret is 256 random bits, so limiting guesses of it protects
//!   nothing, while a global lock would let anyone who knows a client id cut a district's
//!   integration off. A wrong secret locks out only the address that sent it.
//! - `address` (`ip`, whatever account or client): `max_failures_per_address`, against one
//!   address spraying many accounts.
//!
//! IPv6 addresses count by their /64 prefix (one subscriber usually holds a whole /64).

use std::net::IpAddr;
use std::time::Duration;

use chrono::NaiveDateTime;

use crate::db::access::throttle;
use crate::db::AnyConnection;

/// The limits (settings `sign_in_*`).
#[derive(Debug, Clone)]
pub struct SignInLimits {
    pub window: Duration,
    /// Per account or client, from one address.
    pub max_failures: i64,
    /// Per account, from all addresses (0: no such limit).
    pub max_failures_per_account: i64,
    /// Per address, over all accounts and clients (0: no such limit).
    pub max_failures_per_address: i64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            window: Duration::from_secs(900),
            max_failures: 5,
            max_failures_per_account: 20,
            max_failures_per_address: 50,
        }
    }
}

/// What is signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Account,
    Client,
}

/// The counters one attempt is counted in: `(scope, subject, limit)`, always in the same order
/// (so concurrent transactions lock rows in one order and cannot deadlock).
#[derive(Debug, Clone)]
pub struct Attempt {
    pub window_start: NaiveDateTime,
    counters: Vec<(&'static str, String, i64)>,
}

/// The address key of a client: the IPv4 address, or the /64 of an IPv6 address.
pub fn address_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".to_owned(),
    }
}

impl SignInLimits {
    /// The start of the window `now` falls in.
    pub fn window_start(&self, now: NaiveDateTime) -> NaiveDateTime {
        let len = self.window.as_micros().max(1) as i64;
        let t = now.and_utc().timestamp_micros();
        let start = t - t.rem_euclid(len);
        chrono::DateTime::from_timestamp_micros(start)
            .map(|d| d.naive_utc())
            .unwrap_or(now)
    }

    /// Whole seconds from `now` until the window starting at `window_start` ends (at least 1).
    pub fn seconds_left(&self, window_start: NaiveDateTime, now: NaiveDateTime) -> u64 {
        let end = window_start
            + chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::seconds(900));
        let micros = (end - now).num_microseconds().unwrap_or(0).max(0) as u64;
        micros.div_ceil(1_000_000).max(1)
    }

    /// The counters an attempt on `key` (a username or client id) from `address` is counted in.
    pub fn attempt(&self, kind: Kind, key: &str, address: &str, now: NaiveDateTime) -> Attempt {
        let mut counters = Vec::with_capacity(3);
        if self.max_failures_per_address > 0 {
            counters.push(("address", address.to_owned(), self.max_failures_per_address));
        }
        match kind {
            Kind::Account => {
                if self.max_failures_per_account > 0 {
                    counters.push(("account", key.to_owned(), self.max_failures_per_account));
                }
                counters.push((
                    "account_address",
                    format!("{key} {address}"),
                    self.max_failures,
                ));
            }
            Kind::Client => counters.push((
                "client_address",
                format!("{key} {address}"),
                self.max_failures,
            )),
        }
        Attempt {
            window_start: self.window_start(now),
            counters,
        }
    }
}

impl Attempt {
    /// Counts the attempt in every counter, or in none when one is full (returns false). Call it
    /// inside a write transaction: a refused attempt's partial counts are rolled back with it.
    pub fn reserve(&self, conn: &mut AnyConnection) -> diesel::QueryResult<bool> {
        for (scope, subject, limit) in &self.counters {
            if !throttle::reserve(conn, scope, subject, self.window_start, *limit)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Gives the attempt back (the secret was right).
    pub fn release(&self, conn: &mut AnyConnection) -> diesel::QueryResult<()> {
        for (scope, subject, _) in &self.counters {
            throttle::release(conn, scope, subject, self.window_start)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn windows_are_fixed_and_bound_the_wait() {
        let limits = SignInLimits::default();
        let start = limits.window_start(at("2026-11-25 10:07:12.5"));
        assert_eq!(start, at("2026-11-25 10:00:00.0"));
        assert_eq!(limits.window_start(at("2026-11-25 10:14:59.9")), start);
        assert_eq!(
            limits.window_start(at("2026-11-25 10:15:00.0")),
            at("2026-11-25 10:15:00.0")
        );
        assert_eq!(limits.seconds_left(start, at("2026-11-25 10:07:12.5")), 468);
        assert_eq!(limits.seconds_left(start, at("2026-11-25 10:14:59.9")), 1);
    }

    #[test]
    fn clients_have_no_global_counter() {
        let limits = SignInLimits::default();
        let now = at("2026-11-25 10:00:00.0");
        let scopes = |a: &Attempt| a.counters.iter().map(|c| c.0).collect::<Vec<_>>();
        assert_eq!(
            scopes(&limits.attempt(Kind::Client, "cl_x", "192.0.2.1", now)),
            ["address", "client_address"]
        );
        assert_eq!(
            scopes(&limits.attempt(Kind::Account, "ada", "192.0.2.1", now)),
            ["address", "account", "account_address"]
        );
    }

    #[test]
    fn ipv6_counts_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(Some(a)), address_key(Some(b)));
        assert_eq!(address_key(Some(a)), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(Some(mapped)), "192.0.2.7");
    }
}

/// Limits on written public comment, which needs no sign-in (settings fixed for now): at most
/// `max_per_address` comments from one client address (IPv6: its /64) per `window`, counted in
/// the database so that the limit holds across cogov instances.
#[derive(Debug, Clone)]
pub struct CommentLimits {
    pub window: Duration,
    pub max_per_address: i64,
}

impl Default for CommentLimits {
    fn default() -> Self {
        CommentLimits {
            window: Duration::from_secs(600),
            max_per_address: 10,
        }
    }
}

impl CommentLimits {
    fn as_windows(&self) -> SignInLimits {
        SignInLimits {
            window: self.window,
            ..SignInLimits::default()
        }
    }

    /// The start of the window `now` falls in.
    pub fn window_start(&self, now: NaiveDateTime) -> NaiveDateTime {
        self.as_windows().window_start(now)
    }

    /// Whole seconds from `now` until the window starting at `window_start` ends (at least 1).
    pub fn seconds_left(&self, window_start: NaiveDateTime, now: NaiveDateTime) -> u64 {
        self.as_windows().seconds_left(window_start, now)
    }
}
