//! Record identifiers. Every record is keyed by a UUIDv7: unique across machines, so
//! the ledgers of many communities can be merged into one city database without
//! renumbering, and time-ordered, so B-tree inserts stay at the right edge of the index.
//!
//! Ids travel as their canonical text (the `Any` driver carries no UUID type). A
//! typed id per record (`ResidentId`, …) stood here unused by any caller and was
//! removed (issue 11): ids are checked where they are used — an id that names no
//! record in the caller's scope is "not found" — not by their shape.

use uuid::Uuid;

/// A fresh time-ordered identifier in its canonical text form.
pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_uuids_sorted_by_creation() {
        let (a, b) = (super::new_id(), super::new_id());
        assert!(a < b, "UUIDv7 keys are time ordered as text");
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 7);
    }
}
