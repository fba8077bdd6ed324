//! The rules of cogov's domain, as plain types and pure functions. Nothing here knows about HTTP
//! or SQL, so every rule is unit-tested on its own.

pub mod agenda;
pub mod apps;
pub mod calendar;
pub mod composition;
pub mod council;
pub mod directory;
pub mod external_ids;
pub mod findings;
pub mod governance_reports;
pub mod ids;
pub mod meeting;
pub mod participation;
pub mod record;
pub mod report;
pub mod reports;
pub mod roster;
pub mod service_reports;
pub mod services;
pub mod terms;
pub mod vote;
pub mod webhooks;

use std::str::FromStr;

pub use composition::{CompositionRule, RuleOutcome, SeatFacts};
pub use council::{Constituency, CouncilKind, QuorumBasis, Regime};

/// Timestamps are stored in UTC with microsecond precision on both backends (SQLite would keep
/// nanoseconds, PostgreSQL keeps microseconds; a value must read back as it was written).
pub fn truncate_to_micros(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let nanos = t.nanosecond();
    t.with_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

/// An IANA time zone name such as `America/Los_Angeles`.
pub fn is_iana_time_zone(name: &str) -> bool {
    chrono_tz::Tz::from_str(name).is_ok()
}

/// A well-formed BCP 47 language tag (`en`, `es-MX`, `zh-Hant-TW`, `hmn`): a primary language
/// subtag of 2–3 letters (or 4–8 for registered languages) followed by subtags of 1–8 letters or
/// digits. Checks the syntax only; the registry of subtags changes too often to hard-code.
pub fn is_language_tag(tag: &str) -> bool {
    if tag.is_empty() || tag.len() > 35 {
        return false;
    }
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    let primary_ok =
        matches!(primary.len(), 2..=3 | 5..=8) && primary.chars().all(|c| c.is_ascii_alphabetic());
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        for ok in [
            "en",
            "es-MX",
            "zh-Hant-TW",
            "hmn",
            "sgn-BE-FR",
            "en-US-x-twain",
        ] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "e",
            "english-",
            "en_US",
            "en--US",
            "toolongsubtag-x",
            "12",
            "en-123456789",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn time_zones() {
        assert!(is_iana_time_zone("America/Los_Angeles"));
        assert!(is_iana_time_zone("UTC"));
        assert!(!is_iana_time_zone("Pacific Standard Time"));
        assert!(!is_iana_time_zone("America/Nowhere"));
    }

    #[test]
    fn micros() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_nano_opt(8, 41, 42, 123_456_789)
            .unwrap();
        assert_eq!(
            truncate_to_micros(t).and_utc().timestamp_subsec_nanos(),
            123_456_000
        );
    }
}
