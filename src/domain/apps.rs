//! Rules of third-party apps and family accounts: scopes, PKCE (RFC 7636, S256 only), exact
//! redirect URIs, and who may have an account (COPPA: no account for a child under 13).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

/// What an app may ask a family for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read the family's service requests (with their notes, consents and disclosures).
    ServiceRequestsRead,
    /// File service requests for the family, add notes, give or withdraw consents.
    ServiceRequestsWrite,
    /// Read the public records (schools, councils, meetings) on the family's behalf.
    PublicRead,
}

pub const ALL_SCOPES: [Scope; 3] = [
    Scope::ServiceRequestsRead,
    Scope::ServiceRequestsWrite,
    Scope::PublicRead,
];

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ServiceRequestsRead => "service_requests:read",
            Scope::ServiceRequestsWrite => "service_requests:write",
            Scope::PublicRead => "public:read",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        ALL_SCOPES.into_iter().find(|s| s.as_str() == text)
    }
}

/// Parses a space-separated scope list (RFC 6749 section 3.3): every scope known, none twice
/// (duplicates are dropped), sorted. The unknown scope is the error.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    let mut scopes = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let scope = Scope::parse(word).ok_or_else(|| word.to_owned())?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    Ok(scopes)
}

pub fn scope_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a PKCE verifier is well formed (RFC 7636 section 4.1: 43 to 128 characters of
/// `[A-Za-z0-9-._~]`).
pub fn verifier_well_formed(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether a code challenge is an S256 challenge in form (base64url of 32 bytes, 43 characters).
pub fn challenge_well_formed(challenge: &str) -> bool {
    challenge.len() == 43
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// The S256 challenge of a verifier: `BASE64URL(SHA256(verifier))`.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` answers `challenge` (S256; the plain method is never accepted).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    verifier_well_formed(verifier) && s256(verifier) == challenge
}

/// Whether a redirect URI may be registered (RFC 9700 section 2.1 and 4.1): an absolute `https`
/// URI, or `http` on a loopback address for native apps; no fragment; no user info.
pub fn redirect_uri_allowed(text: &str) -> Result<(), &'static str> {
    let url = url::Url::parse(text).map_err(|_| "is not an absolute URI")?;
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry user information");
    }
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "http" if matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")) => Ok(()),
        _ => Err("must be https (or http on a loopback address, for native apps)"),
    }
}

/// Who a family invitation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    Parent,
    Guardian,
    /// A student with an account of their own: only from 13 (COPPA, 16 CFR 312).
    Student,
}

impl Relationship {
    pub fn parse(text: &str) -> Option<Relationship> {
        match text {
            "parent" => Some(Relationship::Parent),
            "guardian" => Some(Relationship::Guardian),
            "student" => Some(Relationship::Student),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Parent => "parent",
            Relationship::Guardian => "guardian",
            Relationship::Student => "student",
        }
    }
}

/// Youngest age at which a child may hold an account (COPPA): younger children are acted for by
/// their parents.
pub const MIN_ACCOUNT_AGE: i32 = 13;

/// Whether a person may be invited to an account. A student needs a birth date showing they are
/// 13 or older today; anyone recorded as the student of a service request with a birth date under
/// 13 gets no account whatever the relationship given.
pub fn may_have_account(
    relationship: Relationship,
    birth_date: Option<NaiveDate>,
    youngest_recorded_birth: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), (&'static str, &'static str)> {
    use super::services::age_on;
    if let Some(recorded) = youngest_recorded_birth {
        if age_on(recorded, today) < MIN_ACCOUNT_AGE {
            return Err((
                "person_id",
                "this person is recorded as a child under 13; children under 13 get no account (COPPA): invite a parent",
            ));
        }
    }
    if relationship == Relationship::Student {
        match birth_date {
            None => {
                return Err((
                    "birth_date",
                    "a student's invitation needs the birth date (no account under 13, COPPA)",
                ))
            }
            Some(b) if age_on(b, today) < MIN_ACCOUNT_AGE => {
                return Err((
                    "birth_date",
                    "children under 13 get no account (COPPA): invite a parent, who acts for them",
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_example() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches("short", &s256("short")));
        assert!(challenge_well_formed(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!challenge_well_formed("not-a-challenge"));
    }

    #[test]
    fn scopes_parse_strictly() {
        assert_eq!(
            parse_scopes("public:read service_requests:read public:read").unwrap(),
            [Scope::ServiceRequestsRead, Scope::PublicRead]
        );
        assert_eq!(parse_scopes("admin").unwrap_err(), "admin");
    }

    #[test]
    fn redirect_uris_are_https_or_loopback() {
        assert!(redirect_uri_allowed("https://app.example/cb").is_ok());
        assert!(redirect_uri_allowed("http://127.0.0.1:8123/cb").is_ok());
        assert!(redirect_uri_allowed("http://app.example/cb").is_err());
        assert!(redirect_uri_allowed("https://app.example/cb#x").is_err());
        assert!(redirect_uri_allowed("/cb").is_err());
    }

    #[test]
    fn no_account_under_13() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let twelve = NaiveDate::from_ymd_opt(2014, 1, 1);
        let fourteen = NaiveDate::from_ymd_opt(2012, 1, 1);
        assert!(may_have_account(Relationship::Student, twelve, None, today).is_err());
        assert!(may_have_account(Relationship::Student, None, None, today).is_err());
        assert!(may_have_account(Relationship::Student, fourteen, None, today).is_ok());
        assert!(may_have_account(Relationship::Parent, None, None, today).is_ok());
        assert!(may_have_account(Relationship::Parent, None, twelve, today).is_err());
    }
}
