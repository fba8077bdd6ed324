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

/// [`verify`], with the argon2 working memory in `memory` (grown as needed and kept by the
/// caller for the next check). The hashing threads use this: argon2's own allocation of ~19 MiB
/// per check is a large aligned allocation, which the system allocator does not reliably reuse
/// (measured: resident memory grew by ~19 MiB with each of 20 sequential checks).
pub fn verify_reusing(memory: &mut Vec<argon2::Block>, secret: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let (stored, real) = match stored {
        Some(hash) => (hash, true),
        None => (
            DUMMY
                .get_or_init(|| self::hash("not a real secret").unwrap_or_default())
                .as_str(),
            false,
        ),
    };
    let matches = check_phc(memory, secret.as_bytes(), stored).unwrap_or(false);
    real && matches
}

/// Recomputes the hash a PHC string describes and compares it in constant time.
fn check_phc(memory: &mut Vec<argon2::Block>, secret: &[u8], stored: &str) -> Option<bool> {
    use argon2::{Algorithm, Params, PasswordHash, Version};
    let parsed = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    let salt = parsed.salt.as_ref()?;
    let expected = parsed.hash.as_ref()?.as_bytes();
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(secret, salt, &mut out, &mut memory[..blocks])
        .ok()?;
    let difference = out
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    Some(difference == 0)
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

/// Bounds how many secret checks run at once, and runs them on threads of their own.
///
/// Each argon2 check allocates about 19 MiB for its duration. Without a bound, a flood of
/// sign-ins queued unboundedly many checks and memory grew with the flood (8 clients with random
/// usernames for 6 s: 2.7 GB; 200 clients: 15.4 GB). Beyond the bound a sign-in is refused at once
/// (503 with `Retry-After`). The checks run on a fixed set of threads rather than the shared
/// blocking pool: the allocator keeps freed memory per thread, so checks spread over many pool
/// threads kept tens of MiB each (measured: 0.8–1.2 GB under a flood even with the bound), while
/// a few dedicated threads reuse the same memory.
#[derive(Clone)]
pub struct Hashing {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    jobs: std::sync::mpsc::Sender<HashJob>,
}

/// One check, given the hashing thread's working memory.
type HashJob = Box<dyn FnOnce(&mut Vec<argon2::Block>) + Send>;

/// Every permit to check a secret is in use.
#[derive(Debug)]
pub struct Busy;

impl Hashing {
    /// Starts `concurrency` hashing threads; they end when the last clone of this is dropped.
    pub fn new(concurrency: usize) -> Hashing {
        let concurrency = concurrency.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..concurrency {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("cogov-hash-{i}"))
                .spawn(move || {
                    // This thread's argon2 working memory, reused by every check it runs.
                    let mut memory = Vec::new();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => match queue.recv() {
                                Ok(job) => job,
                                Err(_) => return,
                            },
                            Err(_) => return,
                        };
                        // A panicking check loses its reply (the caller sees an error), not the
                        // thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            job(&mut memory)
                        }));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Hashing {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency)),
            jobs,
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

    /// [`verify`] on a hashing thread, holding `permit` until it is done.
    pub async fn verify(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
        secret: String,
        stored: Option<String>,
    ) -> Result<bool, String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |memory: &mut Vec<argon2::Block>| {
                let ok = verify_reusing(memory, &secret, stored.as_deref());
                drop(permit);
                let _ = reply.send(ok);
            }))
            .map_err(|_| "the password hashing threads have stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "a password check failed without an answer".to_owned())
    }
}

/// A random secret of `bytes` bytes, base64url without padding, that starts with a letter or a
/// digit: a secret starting with `-` is read as an option by command-line tools (`argparse`,
/// `getopt`) when passed as `--client-secret "$SECRET"`, so such a draw is drawn again (one in
/// 32 draws; the secret loses less than a tenth of a bit).
pub fn random(bytes: usize) -> String {
    loop {
        let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
        let secret = URL_SAFE_NO_PAD.encode(raw);
        if secret
            .as_bytes()
            .first()
            .is_none_or(|c| c.is_ascii_alphanumeric())
        {
            return secret;
        }
    }
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
    fn reusing_memory_verifies_like_argon2() {
        let a = hash("correct horse").unwrap();
        let mut memory = Vec::new();
        assert!(verify_reusing(&mut memory, "correct horse", Some(&a)));
        assert!(!verify_reusing(&mut memory, "wrong horse", Some(&a)));
        assert!(!verify_reusing(&mut memory, "correct horse", None));
        assert!(!verify_reusing(&mut memory, "x", Some("not a hash")));
        let cheap = Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x10,
            argon2::Params::new(1024, 2, 1, Some(16)).unwrap(),
        )
        .hash_password(b"other params")
        .unwrap()
        .to_string();
        assert!(verify_reusing(&mut memory, "other params", Some(&cheap)));
        assert!(!verify_reusing(&mut memory, "other param", Some(&cheap)));
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
        // Drawn freely, one secret in 32 starts with `-` or `_`; 2,000 draws would hold ~60.
        for _ in 0..2000 {
            let secret = random(32);
            assert!(secret.as_bytes()[0].is_ascii_alphanumeric(), "{secret}");
        }
    }
}
