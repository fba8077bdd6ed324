//! Field checks shared by request bodies. The limits here are repeated in each DTO's
//! `#[schema(...)]` (utoipa does not read `#[validate]`); a test checks that the two agree.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use validator::ValidationError;

pub const NAME_MAX: usize = 200;
pub const CODE_MAX: usize = 64;
pub const TEXT_MAX: usize = 4000;
pub const ADDRESS_MAX: usize = 500;

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
    if !crate::domain::is_iana_time_zone(value) {
        return Err(error(
            "time_zone",
            "must be an IANA time zone such as America/Los_Angeles",
        ));
    }
    Ok(())
}

pub fn language(value: &str) -> Result<(), ValidationError> {
    if !crate::domain::is_language_tag(value) {
        return Err(error(
            "language",
            "must be a BCP 47 language tag such as en, es-MX or zh-Hant",
        ));
    }
    Ok(())
}

pub fn email(value: &str) -> Result<(), ValidationError> {
    use validator::ValidateEmail;
    if !value.validate_email() {
        return Err(error("email", "must be an email address"));
    }
    Ok(())
}

/// A phone number: digits with an optional leading `+` and spaces, dashes, dots or brackets.
pub fn phone(value: &str) -> Result<(), ValidationError> {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0));
    if !allowed || !(3..=20).contains(&digits) {
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
    }
}
