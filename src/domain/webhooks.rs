//! Rules of webhook delivery (Standard Webhooks 1.0): which events a subscription takes, how a
//! delivery is signed, when it is retried, and which addresses cogov refuses to call.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Most event type patterns one subscription may list.
pub const MAX_EVENT_TYPES: usize = 50;
/// Longest event type pattern.
pub const EVENT_TYPE_MAX: usize = 100;
/// Longest subscription URL.
pub const URL_MAX: usize = 2000;
/// An event type pattern: `<resource>.<action>` where either part may be `*`, or `*` alone.
pub const EVENT_TYPE_PATTERN: &str = r"^(\*|(\*|[a-z][a-z0-9_]*)\.(\*|[a-z][a-z0-9_]*))$";
/// The prefix of a secret as shown to subscribers.
pub const SECRET_PREFIX: &str = "whsec_";

/// True when `pattern` is a valid event type pattern (see [`EVENT_TYPE_PATTERN`]).
pub fn valid_event_pattern(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let Some((resource, action)) = pattern.split_once('.') else {
        return false;
    };
    let part = |p: &str| {
        p == "*"
            || (p.starts_with(|c: char| c.is_ascii_lowercase())
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    };
    pattern.len() <= EVENT_TYPE_MAX && part(resource) && part(action)
}

/// True when an event of type `event_type` (`council.updated`) matches one of the patterns.
pub fn wants(patterns: &[&str], event_type: &str) -> bool {
    let (resource, action) = event_type.split_once('.').unwrap_or((event_type, ""));
    patterns.iter().any(|p| {
        if *p == "*" {
            return true;
        }
        match p.split_once('.') {
            Some((r, a)) => (r == "*" || r == resource) && (a == "*" || a == action),
            None => false,
        }
    })
}

/// The HMAC-SHA256 signature of one delivery attempt, `v1,<base64>`, over
/// `{webhook_id}.{timestamp}.{body}` keyed with the secret's decoded bytes. `None` for a secret
/// that is not `whsec_<base64>`.
pub fn sign(secret: &str, webhook_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).ok()?;
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret, space-separated (while a secret
/// rotates, the new and the previous one both sign).
pub fn signature_header(secrets: &[&str], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, webhook_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Standard Webhooks example schedule: the first attempt at once, then retries after these
/// waits (about 75 hours in all).
pub const DEFAULT_RETRY_SCHEDULE_SECS: &[u64] = &[
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
];

/// What one attempt's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: delivered.
    Delivered,
    /// 410 Gone: the receiver asks for no more deliveries; the subscription is disabled.
    Gone,
    /// Anything else (3xx is not followed, 4xx and 5xx, timeouts, refused connections): retry.
    Retry,
}

pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(200..=299) => Outcome::Delivered,
        Some(410) => Outcome::Gone,
        _ => Outcome::Retry,
    }
}

/// How long to wait before the next attempt after `failures` failed attempts in a row, or `None`
/// once the schedule is exhausted. `jitter` in [0, 1) spreads the wait by up to ±20% so that
/// many subscriptions failing together do not retry together; a receiver's `Retry-After` is
/// honoured when it asks for longer (up to the schedule's longest wait).
pub fn retry_delay(
    schedule: &[Duration],
    failures: usize,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let base = *schedule.get(failures.checked_sub(1)?)?;
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    let mut wait = base.mul_f64(factor);
    if let Some(asked) = retry_after {
        let longest = schedule.iter().max().copied().unwrap_or(base);
        wait = wait.max(asked.min(longest));
    }
    Some(wait)
}

/// A network in CIDR form (`10.0.0.0/8`, `fd00::/8`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Option<Network> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Why cogov will not call this address, if it will not: addresses inside the district's network
/// or the host itself (a subscription must not become a way to reach them).
pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if v6.to_ipv4_mapped().is_some() {
                return Some("an IPv4-mapped IPv6 address");
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("the unspecified address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a unique-local address")
            } else if first & 0xffc0 == 0xfec0 {
                Some("a site-local address")
            } else if v6.segments()[..6] == [0, 0, 0, 0, 0, 0] {
                Some("an IPv4-compatible IPv6 address")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("a documentation address")
            } else if first == 0x0064 && v6.segments()[1] == 0xff9b {
                Some("a NAT64 address")
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, _, _] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || a == 0 {
        Some("the unspecified address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.is_broadcast() || a >= 240 {
        Some("a reserved address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if ip.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
        Some("a documentation or benchmarking address")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("a protocol-assignment address")
    } else {
        None
    }
}

/// Refuses an address that is forbidden and not inside one of the allowed networks.
pub fn check_address(ip: IpAddr, allowed: &[Network]) -> Result<(), String> {
    if allowed.iter().any(|n| n.contains(ip)) {
        return Ok(());
    }
    match forbidden_address(ip) {
        Some(why) => Err(format!(
            "resolves to {ip}, {why}; cogov does not call such addresses"
        )),
        None => Ok(()),
    }
}

/// Which URLs subscriptions may name: https only and public addresses only, unless the
/// configuration allows plain http or names networks that may be called anyway.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    pub allow_http: bool,
    pub allowed_networks: Vec<Network>,
}

impl AddressPolicy {
    pub fn check_url(&self, url: &str) -> Result<Target, String> {
        check_url(url, self.allow_http)
    }

    pub fn check_address(&self, ip: IpAddr) -> Result<(), String> {
        check_address(ip, &self.allowed_networks)
    }
}

/// The parts of a subscription URL cogov connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The host is an IP address literal (no name to resolve).
    pub ip: Option<IpAddr>,
}

/// Checks a subscription URL's form: absolute `https` (or `http` when `allow_http`), with a host,
/// without user name or password, and no fragment.
pub fn check_url(text: &str, allow_http: bool) -> Result<Target, String> {
    if text.len() > URL_MAX {
        return Err(format!("must be at most {URL_MAX} characters"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("is not an absolute URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err("must use https".to_owned()),
        other => return Err(format!("must use https, not {other}")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment (#…)".to_owned());
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "has no port".to_owned())?;
    match url.host() {
        Some(url::Host::Domain(d)) => Ok(Target {
            host: d.to_owned(),
            port,
            ip: None,
        }),
        Some(url::Host::Ipv4(ip)) => Ok(Target {
            host: ip.to_string(),
            port,
            ip: Some(IpAddr::V4(ip)),
        }),
        Some(url::Host::Ipv6(ip)) => Ok(Target {
            host: ip.to_string(),
            port,
            ip: Some(IpAddr::V6(ip)),
        }),
        None => Err("has no host".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn patterns_match_resource_and_action() {
        assert!(wants(&["council.updated"], "council.updated"));
        assert!(!wants(&["council.updated"], "council.created"));
        assert!(wants(&["meeting.*"], "meeting.deleted"));
        assert!(wants(&["*.deleted"], "person.deleted"));
        assert!(wants(&["*"], "seat.created"));
        assert!(!wants(&[], "seat.created"));
        assert!(valid_event_pattern("meeting.*"));
        assert!(valid_event_pattern("seat_holding.created"));
        assert!(!valid_event_pattern("meeting"));
        assert!(!valid_event_pattern("Meeting.created"));
        assert!(!valid_event_pattern("a.b.c"));
        assert!(!valid_event_pattern(""));
    }

    /// The known-answer vector of the Standard Webhooks reference libraries.
    #[test]
    fn signature_matches_the_reference_vector() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("not-a-secret", "x", 1, b""), None);
        let two = signature_header(
            &[secret, secret],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
        );
        assert_eq!(two.split(' ').count(), 2);
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter() {
        let schedule: Vec<Duration> = DEFAULT_RETRY_SCHEDULE_SECS
            .iter()
            .map(|s| Duration::from_secs(*s))
            .collect();
        assert_eq!(retry_delay(&schedule, 0, 0.5, None), None);
        assert_eq!(
            retry_delay(&schedule, 1, 0.5, None),
            Some(Duration::from_secs(5))
        );
        let low = retry_delay(&schedule, 2, 0.0, None).unwrap();
        let high = retry_delay(&schedule, 2, 0.999, None).unwrap();
        assert!(low >= Duration::from_secs(240) && high <= Duration::from_secs(360));
        assert_eq!(
            retry_delay(&schedule, 1, 0.5, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_delay(&schedule, 10, 0.5, None), None);
        let total: u64 = DEFAULT_RETRY_SCHEDULE_SECS.iter().sum();
        assert!((70 * 3600..80 * 3600).contains(&total));
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for text in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert!(check_address(ip, &[]).is_err(), "{text} was allowed");
        }
        for text in ["8.8.8.8", "2606:4700:4700::1111", "100.128.0.1"] {
            let ip: IpAddr = text.parse().unwrap();
            assert!(check_address(ip, &[]).is_ok(), "{text} was refused");
        }
        let loopback = Network::parse("127.0.0.0/8").unwrap();
        assert!(check_address("127.0.0.1".parse().unwrap(), &[loopback]).is_ok());
        assert!(check_address("10.0.0.1".parse().unwrap(), &[loopback]).is_err());
        assert!(Network::parse("::1")
            .unwrap()
            .contains("::1".parse().unwrap()));
        assert!(Network::parse("10.0.0.0/33").is_none());
        assert!(check_address(IpAddr::V6(Ipv6Addr::UNSPECIFIED), &[]).is_err());
    }

    #[test]
    fn urls_must_be_https_without_credentials() {
        assert!(check_url("https://hooks.district.example/cogov", false).is_ok());
        assert!(check_url("http://hooks.district.example/cogov", false).is_err());
        assert!(check_url("http://127.0.0.1:9000/", true).is_ok());
        assert!(check_url("https://user:pw@hooks.district.example/", false).is_err());
        assert!(check_url("ftp://hooks.district.example/", false).is_err());
        assert!(check_url("/relative", false).is_err());
        let t = check_url("https://[::1]:8443/x", false).unwrap();
        assert_eq!(t.port, 8443);
        assert_eq!(t.ip, Some("::1".parse().unwrap()));
    }
}
