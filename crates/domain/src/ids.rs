//! Record identifiers. Every record is keyed by a UUIDv7: unique across machines, so
//! the ledgers of many communities can be merged into one city database without
//! renumbering, and time-ordered, so B-tree inserts stay at the right edge of the index.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A fresh time-ordered identifier in its canonical text form.
pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not a record identifier (a UUID such as 0190f2a4-7c1e-7b3a-9c4d-2e5f6a7b8c9d)")]
pub struct IdParseError(pub String);

macro_rules! record_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self { Self(Uuid::now_v7()) }
            pub fn as_uuid(&self) -> Uuid { self.0 }
        }

        impl Default for $name {
            fn default() -> Self { Self::new() }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| IdParseError(s.to_owned()))
            }
        }
    )*};
}

record_id!(
    /// A node of the administrative hierarchy: city, district, street, community or grid.
    AreaId,
    BuildingId,
    HouseholdId,
    /// A person in the registry. Never deleted: moving out only changes their status.
    ResidentId,
    OrganisationId,
    TagId,
    /// An entry in a resident's history (moved in, moved out, moved house).
    EventId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_creation() {
        let a = ResidentId::new();
        let b = ResidentId::new();
        assert!(a < b, "UUIDv7 keys are time ordered");
        assert_eq!(a.to_string().parse::<ResidentId>().unwrap(), a);
        assert!("12".parse::<ResidentId>().is_err());
    }
}
