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

/// Bounds how many secret checks run at once. Each argon2 check holds about 19 MiB for its
/// duration; without a bound, a flood of sign-ins queues unboundedly many of them and memory
/// grows with the flood. Beyond the bound a sign-in is refused at once (503 with `Retry-After`).
#[derive(Clone)]
pub struct Hashing {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Every permit to check a secret is in use.
#[derive(Debug)]
pub struct Busy;

impl Hashing {
    pub fn new(concurrency: usize) -> Hashing {
        Hashing {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))),
        }
    }

    /// The default bound: one check per CPU.
    pub fn per_cpu() -> Hashing {
        Hashing::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Takes a permit for one check now, or fails at once when all are in use.
    pub fn try_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Busy> {
        self.permits.clone().try_acquire_owned().map_err(|_| Busy)
    }

    /// [`verify`] on the blocking pool, holding `permit` until it is done.
    pub async fn verify(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
        secret: String,
        stored: Option<String>,
    ) -> Result<bool, String> {
        actix_web::web::block(move || {
            let ok = verify(&secret, stored.as_deref());
            drop(permit);
            ok
        })
        .await
        .map_err(|e| e.to_string())
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
    fn hashing_permits_are_bounded_and_returned() {
        let hashing = Hashing::new(2);
        let a = hashing.try_permit().unwrap();
        let _b = hashing.try_permit().unwrap();
        assert!(hashing.try_permit().is_err());
        drop(a);
        assert!(hashing.try_permit().is_ok());
    }

    #[test]
    fn random_secrets() {
        assert_ne!(random(32), random(32));
        assert_eq!(random(32).len(), 43);
    }
}
