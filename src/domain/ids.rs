//! Identifiers, one type per kind of record, so that a seat's id can never be passed where a
//! council's is expected. Each wraps the UUIDv7 cogov made for the record; stored as text.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7).
            pub fn generate() -> Self {
                $name(Uuid::now_v7())
            }

            /// The id as stored (hyphenated lower-case text).
            pub fn key(&self) -> String {
                self.0.to_string()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A school.
    SchoolId
);
id_type!(
    /// A person.
    PersonId
);
id_type!(
    /// A council.
    CouncilId
);
id_type!(
    /// A seat on a council.
    SeatId
);
id_type!(
    /// A role grant.
    GrantId
);
id_type!(
    /// A sign-in account.
    AccountId
);
id_type!(
    /// An API client (its record id, not the public `client_id`).
    ApiClientId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_their_uuid_and_are_distinct_types() {
        let u = Uuid::now_v7();
        let council = CouncilId::from(u);
        assert_eq!(council.key(), u.to_string());
        assert_eq!(format!("{council}"), u.to_string());
        assert_eq!(serde_json::to_string(&council).unwrap(), format!("\"{u}\""));
        assert_ne!(SeatId::generate().0, SeatId::generate().0);
    }
}
id_type!(
    /// A webhook subscription.
    WebhookId
);
id_type!(
    /// One event queued for one webhook subscription (its `webhook-id`).
    DeliveryId
);
