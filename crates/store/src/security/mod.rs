//! Accounts and security: `accounts` (with scopes and API tokens), `sessions` (with
//! login throttling), `grants` (breaking the glass) and `signups` (residents waiting
//! for their grid member). The audit log is shared (`crate::audit`).

pub mod accounts;
pub mod grants;
pub mod sessions;
pub mod signups;
