//! Storage of Wangge: one code path over SQLite (the default, one file) and
//! PostgreSQL (many communities, several app servers).
//!
//! SQL is written once with `$N` placeholders and run through sqlx's `Any` driver.
//! Where the engines really differ (DDL types, collations, bulk-load tricks) both
//! texts sit side by side, chosen by [`Backend`]. Each ledger has its own module with
//! its SQL next to the function that needs it.

pub mod activities;
pub mod audit;
pub mod backup;
pub mod bulk;
pub mod bulk_sqlite;
mod cache;
pub mod campaigns;
pub mod cockpit;
mod conditions;
mod db;
pub mod demands;
mod error;
pub mod instructions;
#[cfg(test)]
mod migration_trees;
pub mod notices;
pub mod notifications;
mod page;
pub mod party;
pub mod registry;
pub mod security;
pub mod stats;
pub mod summaries;
pub mod surveys;
pub mod team;
pub mod testing;
pub mod units;
pub mod vault;
pub mod ventures;
pub mod visits;
pub mod webhooks;

pub use db::{
    AppliedMigration, Backend, Db, DbOptions, KeySource, create_postgres_database, drop_postgres_database,
    key_file_beside, sqlite_file, with_database,
};
pub use error::{StoreError, StoreResult, Thing};
pub use page::{Page, PageRequest};
pub use vault::Vault;

/// The `[lo, hi)` range of `path` values that lie at or under `path`: every path in
/// the subtree starts with `path` (which ends in '/'), and '0' is the character after '/'.
pub fn subtree_bounds(path: &str) -> (String, String) {
    debug_assert!(path.ends_with('/'));
    let mut hi = path[..path.len() - 1].to_owned();
    hi.push('0');
    (path.to_owned(), hi)
}

#[cfg(test)]
mod tests {
    #[test]
    fn subtree_bounds_cover_exactly_the_subtree() {
        let (lo, hi) = super::subtree_bounds("/3706/370602/");
        for inside in ["/3706/370602/", "/3706/370602/370602003/", "/3706/370602/zzz/"] {
            assert!(lo.as_str() <= inside && inside < hi.as_str(), "{inside}");
        }
        for outside in ["/3706/3706021/", "/3706/370603/", "/3706/37060/", "/3706/"] {
            assert!(!(lo.as_str() <= outside && outside < hi.as_str()), "{outside}");
        }
    }
}
