//! Passwords and client secrets: argon2id hashes, random secrets, and a verification that takes
//! the same time whether or not the account exists.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// An argon2id hash in PHC string form.
pub fn hash(secret: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the secret: {e}"))
}

/// True when `secret` matches `stored`. With no stored hash (unknown account) it still spends
/// the time of a verification, so response times do not tell whether an account exists.
pub fn verify(secret: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    match stored {
        Some(hash) => Argon2::default()
            .verify_password(secret.as_bytes(), hash)
            .is_ok(),
        None => {
            let dummy = DUMMY.get_or_init(|| self::hash("not a real secret").unwrap_or_default());
            let _ = Argon2::default().verify_password(secret.as_bytes(), dummy.as_str());
            false
        }
    }
}

/// A random secret of `bytes` bytes, base64url without padding.
pub fn random(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("correct horse").unwrap();
        let b = hash("correct horse").unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse", Some(&a)));
        assert!(!verify("wrong horse", Some(&a)));
        assert!(!verify("correct horse", None));
        assert!(!verify("x", Some("not a hash")));
    }

    #[test]
    fn random_secrets() {
        assert_ne!(random(32), random(32));
        assert_eq!(random(32).len(), 43);
    }
}
