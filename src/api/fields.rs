//! Field checks shared by request bodies. The limits here are repeated in each DTO's
//! `#[schema(...)]` (utoipa does not read `#[validate]`); a test checks that the two agree.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use validator::ValidationError;

pub const NAME_MAX: usize = 200;
pub const CODE_MAX: usize = 64;
pub const TEXT_MAX: usize = 4000;
pub const ADDRESS_MAX: usize = 500;
pub const EMAIL_MAX: usize = 254;
pub const PHONE_MAX: usize = 32;
pub const LANGUAGE_MAX: usize = 35;
pub const TIME_ZONE_MAX: usize = 64;

// The patterns below are published in the OpenAPI document as they are (each DTO's
// `#[schema(pattern = ...)]` names these constants) and are the checks the server runs, so a
// client that validates against the document and the server agree. They are written in the
// common subset of ECMA-262 and Rust regular expressions.

/// An email address: a local part of the usual unquoted characters, `@`, and a domain name
/// with at least one dot.
pub const EMAIL_PATTERN: &str = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";
/// A phone number: 3 to 20 digits, an optional leading `+`, and spaces, dashes, dots or brackets.
pub const PHONE_PATTERN: &str = r"^\+?[ .()-]*(?:[0-9][ .()-]*){3,20}$";
/// A BCP 47 language tag (well-formed, not checked against the registry).
pub const LANGUAGE_PATTERN: &str = r"^(?:[A-Za-z]{2,3}|[A-Za-z]{5,8})(?:-[A-Za-z0-9]{1,8})*$";

fn matches(
    pattern: &'static str,
    cache: &'static std::sync::OnceLock<regex::Regex>,
    value: &str,
) -> bool {
    cache
        .get_or_init(|| regex::Regex::new(pattern).expect("a valid pattern"))
        .is_match(value)
}

fn error(code: &'static str, message: impl Into<Cow<'static, str>>) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(message.into());
    e
}

/// A name or title: 1 to 200 characters, not only spaces.
pub fn name(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() || value.chars().count() > NAME_MAX {
        return Err(error(
            "length",
            format!("must be 1 to {NAME_MAX} characters, not only spaces"),
        ));
    }
    Ok(())
}

/// An identifier code: 1 to 64 characters without spaces.
pub fn code(value: &str) -> Result<(), ValidationError> {
    if value.is_empty()
        || value.chars().count() > CODE_MAX
        || value.chars().any(char::is_whitespace)
    {
        return Err(error(
            "code",
            format!("must be 1 to {CODE_MAX} characters without spaces"),
        ));
    }
    Ok(())
}

/// Free text of at most 4000 characters.
pub fn text(value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > TEXT_MAX {
        return Err(error(
            "length",
            format!("must be at most {TEXT_MAX} characters"),
        ));
    }
    Ok(())
}

/// A postal address of at most 500 characters.
pub fn address(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() || value.chars().count() > ADDRESS_MAX {
        return Err(error(
            "length",
            format!("must be 1 to {ADDRESS_MAX} characters"),
        ));
    }
    Ok(())
}

pub fn time_zone(value: &str) -> Result<(), ValidationError> {
    if value.len() > TIME_ZONE_MAX || !crate::domain::is_iana_time_zone(value) {
        return Err(error(
            "time_zone",
            "must be an IANA time zone such as America/Los_Angeles",
        ));
    }
    Ok(())
}

pub fn language(value: &str) -> Result<(), ValidationError> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    if value.len() > LANGUAGE_MAX || !matches(LANGUAGE_PATTERN, &RE, value) {
        return Err(error(
            "language",
            "must be a BCP 47 language tag such as en, es-MX or zh-Hant",
        ));
    }
    Ok(())
}

pub fn email(value: &str) -> Result<(), ValidationError> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    if value.len() > EMAIL_MAX || !matches(EMAIL_PATTERN, &RE, value) {
        return Err(error("email", "must be an email address"));
    }
    Ok(())
}

/// A phone number: digits with an optional leading `+` and spaces, dashes, dots or brackets.
pub fn phone(value: &str) -> Result<(), ValidationError> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    if value.chars().count() > PHONE_MAX || !matches(PHONE_PATTERN, &RE, value) {
        return Err(error(
            "phone",
            "must be a phone number such as +1 213 555 0100",
        ));
    }
    Ok(())
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Applies a PATCH value for a nullable field.
pub fn patch_nullable<T: Clone>(target: &mut Option<T>, patch: &Option<Option<T>>) {
    if let Some(value) = patch {
        *target = value.clone();
    }
}

/// Applies a PATCH value for a required field.
pub fn patch<T: Clone>(target: &mut T, patch: &Option<T>) {
    if let Some(value) = patch {
        *target = value.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_have_content() {
        assert!(name("Roosevelt").is_ok());
        assert!(name("   ").is_err());
        assert!(name(&"x".repeat(NAME_MAX)).is_ok());
        assert!(name(&"x".repeat(NAME_MAX + 1)).is_err());
        // Characters, not bytes.
        assert!(name(&"é".repeat(NAME_MAX)).is_ok());
    }

    #[test]
    fn phones() {
        assert!(phone("+1 (213) 555-0100").is_ok());
        assert!(phone("555").is_ok());
        assert!(phone("call me").is_err());
        assert!(phone("1+2").is_err());
        assert!(phone("12").is_err());
        assert!(phone(&"1".repeat(21)).is_err());
    }

    #[test]
    fn language_pattern_agrees_with_the_domain_rule() {
        for tag in [
            "en",
            "es-MX",
            "zh-Hant-TW",
            "hmn",
            "en-US-x-twain",
            "",
            "e",
            "english-",
            "en_US",
            "en--US",
            "toolongsubtag-x",
            "12",
            "en-123456789",
        ] {
            assert_eq!(
                language(tag).is_ok(),
                crate::domain::is_language_tag(tag),
                "{tag}"
            );
        }
    }

    #[test]
    fn emails() {
        assert!(email("maria.lopez@example.org").is_ok());
        assert!(email("a+b@sub.example-district.k12.ca.us").is_ok());
        assert!(email("no-at-sign").is_err());
        assert!(email("a@localhost").is_err());
        assert!(email("a b@example.org").is_err());
    }
}
