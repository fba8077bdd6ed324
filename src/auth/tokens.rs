//! Bearer tokens: verification with algorithms and keys pinned by configuration (never taken from
//! the token), and issuance for standalone installs (HS256).

use std::collections::HashSet;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

/// How a token from a district identity provider names the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityClaim {
    /// `sub` matches an account's `external_subject`.
    Sub,
    /// `email` matches a person's email (case-insensitive).
    Email,
}

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Shortest HS256 secret accepted (RFC 7518 3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// What configures token handling (from the settings).
#[derive(Debug, Clone, Default)]
pub struct TokenConfig {
    /// HS256 secret of a standalone install: signs the tokens cogov issues and verifies them.
    pub secret: Option<String>,
    /// One public key (PEM) of a district identity provider, with its algorithm.
    pub public_key_pem: Option<(Vec<u8>, Algorithm, Option<String>)>,
    /// A JWKS document of a district identity provider (keys chosen by `kid`).
    pub jwks: Option<String>,
    /// Algorithms accepted for the identity provider's keys.
    pub allowed_algorithms: Vec<Algorithm>,
    pub issuer: String,
    pub audience: String,
    pub leeway_secs: u64,
    pub ttl_secs: u64,
}

struct PublicKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Verifies and issues tokens.
pub struct Tokens {
    hs256: Option<(EncodingKey, DecodingKey)>,
    public: Vec<PublicKey>,
    issuer: String,
    audience: String,
    leeway_secs: u64,
    pub ttl_secs: u64,
}

/// The claims cogov reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    /// One audience or several (RFC 7519 section 4.1.3 allows both; identity providers send both).
    pub aud: Audience,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// OpenID Connect: whether the provider verified `email`. An email the provider says it has
    /// not verified never binds an identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// On a token cogov issued to a third-party app: the family's grant to that app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// On a token issued to a third-party app: the app's `client_id` (RFC 9068 section 2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// On a token issued to a third-party app: its scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// The `aud` claim: a string, or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(list) => list.iter().any(|a| a == audience),
        }
    }
}

/// Why a token was refused. Every variant is answered 401; the text goes to the log and to the
/// `detail` of the problem.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not accepted here")]
    Algorithm,
    #[error("the token names a key this server does not know")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued for another issuer or audience")]
    WrongIssuerOrAudience,
    #[error("the token lacks a required claim ({0})")]
    MissingClaim(String),
}

impl Tokens {
    pub fn new(config: &TokenConfig) -> Result<Tokens, String> {
        let hs256 = match &config.secret {
            Some(secret) if secret.len() < MIN_SECRET_BYTES => {
                return Err(format!(
                    "the JWT secret must be at least {MIN_SECRET_BYTES} bytes long"
                ))
            }
            Some(secret) => Some((
                EncodingKey::from_secret(secret.as_bytes()),
                DecodingKey::from_secret(secret.as_bytes()),
            )),
            None => None,
        };
        let mut public = Vec::new();
        if let Some((pem, algorithm, kid)) = &config.public_key_pem {
            let key = match algorithm {
                Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512 => DecodingKey::from_rsa_pem(pem),
                Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
                Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
                other => return Err(format!("{other:?} is not a public-key algorithm")),
            }
            .map_err(|e| format!("cannot read the public key: {e}"))?;
            public.push(PublicKey {
                kid: kid.clone(),
                algorithm: *algorithm,
                key,
            });
        }
        if let Some(text) = &config.jwks {
            let set: JwkSet =
                serde_json::from_str(text).map_err(|e| format!("cannot read the JWKS: {e}"))?;
            for jwk in &set.keys {
                let Some(alg) = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| a.to_string().parse::<Algorithm>().ok())
                else {
                    return Err(format!(
                        "JWKS key {:?} has no usable \"alg\"",
                        jwk.common.key_id
                    ));
                };
                if !config.allowed_algorithms.contains(&alg) {
                    continue;
                }
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| format!("cannot use JWKS key {:?}: {e}", jwk.common.key_id))?;
                public.push(PublicKey {
                    kid: jwk.common.key_id.clone(),
                    algorithm: alg,
                    key,
                });
            }
        }
        Ok(Tokens {
            hs256,
            public,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway_secs: config.leeway_secs,
            ttl_secs: config.ttl_secs,
        })
    }

    /// Whether this install can issue tokens (it has an HS256 secret).
    pub fn can_issue(&self) -> bool {
        self.hs256.is_some()
    }

    /// Verifies a bearer token and returns its claims, and whether cogov itself issued it (HS256:
    /// only then are `person:`/`client:` subjects trusted as cogov ids).
    pub fn verify(&self, token: &str) -> Result<(Claims, bool), TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        let local = header.alg == Algorithm::HS256;
        let key = if local {
            &self.hs256.as_ref().ok_or(TokenError::Algorithm)?.1
        } else {
            let candidates: Vec<&PublicKey> = self
                .public
                .iter()
                .filter(|k| k.algorithm == header.alg)
                .collect();
            if candidates.is_empty() {
                return Err(TokenError::Algorithm);
            }
            let chosen = match &header.kid {
                Some(kid) => candidates
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid.as_str())),
                None if candidates.len() == 1 => candidates.first(),
                None => None,
            };
            &chosen.ok_or(TokenError::UnknownKey)?.key
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.required_spec_claims = ["exp", "iss", "aud", "sub"]
            .iter()
            .map(|s| s.to_string())
            .collect::<HashSet<_>>();
        decode::<Claims>(token, key, &validation)
            .and_then(|data| {
                // The library checked `aud` already; this guards against that check ever being
                // configured away.
                if data.claims.aud.contains(&self.audience) {
                    Ok((data.claims, local))
                } else {
                    Err(jsonwebtoken::errors::ErrorKind::InvalidAudience.into())
                }
            })
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                    ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                        TokenError::WrongIssuerOrAudience
                    }
                    ErrorKind::MissingRequiredClaim(c) => TokenError::MissingClaim(c.clone()),
                    ErrorKind::InvalidAlgorithm => TokenError::Algorithm,
                    ErrorKind::InvalidSignature => TokenError::Signature,
                    _ => TokenError::Malformed,
                }
            })
    }

    /// Issues a short-lived HS256 token for `subject` (`person:<id>` or `client:<client_id>`).
    pub fn issue(&self, subject: &str) -> Result<(String, u64), String> {
        let (key, _) = self
            .hs256
            .as_ref()
            .ok_or("this install has no JWT secret; it cannot issue tokens")?;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            exp: now + self.ttl_secs,
            nbf: Some(now),
            iat: Some(now),
            email: None,
            email_verified: None,
            grant: None,
            client_id: None,
            scope: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, key)
            .map(|t| (t, self.ttl_secs))
            .map_err(|e| format!("cannot sign the token: {e}"))
    }
}

impl Tokens {
    /// Issues a short-lived HS256 token a third-party app uses for a family: the person is the
    /// subject, the grant, app and scopes are claims of their own.
    pub fn issue_for_app(
        &self,
        person_id: &str,
        grant_id: &str,
        client_id: &str,
        scope: &str,
    ) -> Result<(String, u64), String> {
        let (key, _) = self
            .hs256
            .as_ref()
            .ok_or("this install has no JWT secret; it cannot issue tokens")?;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: format!("person:{person_id}"),
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            exp: now + self.ttl_secs,
            nbf: Some(now),
            iat: Some(now),
            email: None,
            email_verified: None,
            grant: Some(grant_id.to_owned()),
            client_id: Some(client_id.to_owned()),
            scope: Some(scope.to_owned()),
        };
        encode(&Header::new(Algorithm::HS256), &claims, key)
            .map(|t| (t, self.ttl_secs))
            .map_err(|e| format!("cannot sign the token: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&TokenConfig {
            secret: Some("a standalone secret of at least 32 bytes".to_owned()),
            issuer: "https://idp.example".to_owned(),
            audience: "cogov".to_owned(),
            leeway_secs: 5,
            ttl_secs: 900,
            ..TokenConfig::default()
        })
        .unwrap()
    }

    fn sign(claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"a standalone secret of at least 32 bytes"),
        )
        .unwrap()
    }

    #[test]
    fn aud_may_be_a_string_or_an_array() {
        let t = tokens();
        let exp = jsonwebtoken::get_current_timestamp() + 60;
        let base = |aud: serde_json::Value| serde_json::json!({"sub": "person:x", "iss": "https://idp.example", "aud": aud, "exp": exp});
        let (claims, _) = t.verify(&sign(base("cogov".into()))).unwrap();
        assert_eq!(claims.aud, Audience::One("cogov".to_owned()));
        let (claims, _) = t
            .verify(&sign(base(serde_json::json!(["reports", "cogov"]))))
            .unwrap();
        assert!(claims.aud.contains("cogov"));
        for wrong in [
            serde_json::json!("other"),
            serde_json::json!(["reports", "other"]),
            serde_json::json!([]),
        ] {
            assert_eq!(
                t.verify(&sign(base(wrong.clone()))).unwrap_err(),
                TokenError::WrongIssuerOrAudience,
                "{wrong}"
            );
        }
        assert!(t.verify(&sign(base(serde_json::json!(42)))).is_err());
    }
}
