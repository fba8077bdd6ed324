//! External ids: the identifiers other systems (a student information system, a OneRoster
//! export, an identity provider) use for a cogov record, as `{system, value}` pairs.

use serde::{Deserialize, Serialize};

/// Longest system name.
pub const SYSTEM_MAX: usize = 32;
/// Longest value.
pub const VALUE_MAX: usize = 200;
/// Most external ids on one record.
pub const PER_RECORD_MAX: usize = 20;
/// A system name: lower-case letters, digits, `_`, `.` and `-`, starting with a letter or digit.
/// Published in the OpenAPI document as is.
pub const SYSTEM_PATTERN: &str = r"^[a-z0-9][a-z0-9_.-]{0,31}$";

/// One identifier of a record in another system.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExternalId {
    pub system: String,
    pub value: String,
}

/// The kinds of record that carry external ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    School,
    Person,
    Council,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::School => "school",
            ResourceKind::Person => "person",
            ResourceKind::Council => "council",
        }
    }
}

/// Why a system name is not acceptable, if it is not.
pub fn system_problem(system: &str) -> Option<String> {
    let ok = !system.is_empty()
        && system.len() <= SYSTEM_MAX
        && system.chars().enumerate().all(|(i, c)| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || (i > 0 && matches!(c, '_' | '.' | '-'))
        });
    (!ok).then(|| {
        format!(
            "must be 1 to {SYSTEM_MAX} characters: lower-case letters, digits, '_', '.' or '-', \
             starting with a letter or digit"
        )
    })
}

/// Why a value is not acceptable, if it is not (values are case-sensitive and kept as sent).
pub fn value_problem(value: &str) -> Option<String> {
    let ok = !value.is_empty()
        && value.chars().count() <= VALUE_MAX
        && !value.chars().any(char::is_control)
        && value.trim() == value;
    (!ok).then(|| {
        format!(
            "must be 1 to {VALUE_MAX} characters, without control characters or leading or \
             trailing spaces"
        )
    })
}

/// Problems of a whole list: too many, or one system twice (a record has one value per system).
pub fn list_problems(ids: &[ExternalId]) -> Vec<String> {
    let mut out = Vec::new();
    if ids.len() > PER_RECORD_MAX {
        out.push(format!("at most {PER_RECORD_MAX} external ids per record"));
    }
    let mut systems: Vec<&str> = ids.iter().map(|e| e.system.as_str()).collect();
    systems.sort_unstable();
    for pair in systems.windows(2) {
        if pair[0] == pair[1] {
            out.push(format!(
                "system {:?} appears more than once; a record has one value per system",
                pair[0]
            ));
        }
    }
    out
}

/// Parses the list filter `system:value` (the value may itself contain `:`).
pub fn parse_filter(text: &str) -> Result<ExternalId, String> {
    let Some((system, value)) = text.split_once(':') else {
        return Err("must be system:value, e.g. sis:12345".to_owned());
    };
    if let Some(p) = system_problem(system) {
        return Err(format!("the system before ':' {p}"));
    }
    if let Some(p) = value_problem(value) {
        return Err(format!("the value after ':' {p}"));
    }
    Ok(ExternalId {
        system: system.to_owned(),
        value: value.to_owned(),
    })
}

/// The list in a stable order (by system), so that equal lists compare equal.
pub fn normalized(mut ids: Vec<ExternalId>) -> Vec<ExternalId> {
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(system: &str, value: &str) -> ExternalId {
        ExternalId {
            system: system.into(),
            value: value.into(),
        }
    }

    #[test]
    fn filters_are_system_colon_value() {
        assert_eq!(parse_filter("sis:12345"), Ok(id("sis", "12345")));
        assert_eq!(parse_filter("oneroster:a:b"), Ok(id("oneroster", "a:b")));
        assert!(parse_filter("12345").is_err());
        assert!(parse_filter("SIS:1").is_err());
        assert!(parse_filter("sis:").is_err());
        assert!(parse_filter(":1").is_err());
    }

    #[test]
    fn a_system_appears_once_per_record() {
        assert!(list_problems(&[id("sis", "1"), id("oneroster", "1")]).is_empty());
        assert_eq!(list_problems(&[id("sis", "1"), id("sis", "2")]).len(), 1);
    }

    #[test]
    fn the_pattern_and_the_check_agree() {
        let re = regex::Regex::new(SYSTEM_PATTERN).unwrap();
        for s in [
            "sis",
            "a",
            "one-roster.v1_2",
            "Sis",
            "-x",
            "",
            "x y",
            &"a".repeat(33),
        ] {
            assert_eq!(re.is_match(s), system_problem(s).is_none(), "{s:?}");
        }
    }
}
