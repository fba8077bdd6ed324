//! What every request handler can reach.

use crate::auth::tokens::{IdentityClaim, Tokens};
use crate::db::Db;

pub struct AppState {
    pub db: Db,
    pub tokens: Tokens,
    /// How tokens from a district identity provider name a person.
    pub identity_claim: IdentityClaim,
}
