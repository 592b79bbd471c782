//! The integration tests: a real server (SQLite, and PostgreSQL when
//! `WANGGE_TEST_POSTGRES` names one) driven over HTTP, and the command line, in one
//! binary with a module per area, so that the workspace links one test program
//! instead of one per file. The browser tests are the other binary
//! (`tests/browser.rs`).

#[path = "../common/mod.rs"]
mod common;

mod activities;
mod api;
mod authz;
mod callback;
mod campaigns;
mod cli;
mod cockpit;
mod demand_forms;
mod demands;
mod durability;
mod instructions;
mod notices;
mod open311;
mod party;
mod party_life;
mod reach;
mod security;
mod self_service;
mod team;
mod today;
mod tracking;
mod visits;
