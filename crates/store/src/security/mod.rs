//! Accounts and security: `accounts` (with scopes and API tokens), `sessions` (with
//! login throttling), `grants` (breaking the glass), `signups` (residents waiting
//! for their grid member) and `recovery` (signing in by phone, one-time codes from
//! the grid member for a forgotten password). The audit log is shared (`crate::audit`).

pub mod accounts;
pub mod grants;
pub mod recovery;
pub mod sessions;
pub mod signups;
