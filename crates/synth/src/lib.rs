//! Deterministic synthetic communities: the Tashan demo of the seed study, and many
//! Tashan-shaped communities for benchmarks at city scale.
//!
//! Everything is written through the store ([`wangge_store::registry::areas`] for the
//! hierarchy, [`wangge_store::bulk::BulkLoader`] for the ledgers), one transaction
//! per community or few communities. The same seed always gives the same people:
//! names, ID card numbers, phones, ages, households and tags; only record ids (time
//! ordered UUIDs) and timestamps differ between runs.
//!
//! Modules are named after what they make: `names` (Chinese names), `people`
//! (ages, ID numbers, phones, tags, political status), `households` (who lives
//! together), `community` (one community's rows), `organisations`, `areas`
//! (the hierarchy), `demo` (Tashan) and `scale` (many communities); `demands`,
//! `visits`, `campaigns`, `instructions` and `party` the demo's year of each module.

mod activities;
mod areas;
mod campaigns;
mod community;
mod demands;
mod demo;
mod households;
mod instructions;
mod names;
mod notices;
mod organisations;
mod party;
mod party_joint;
mod party_life;
mod people;
mod scale;
mod surveys;
mod ventures;
mod visits;

pub use demo::{DEMO_COMMUNITY_CODE, DemoSummary, load_demo};
pub use scale::{GenerateOptions, GenerateSummary, generate};
