//! The registry (基础台账, module 1): the hierarchy (`areas`), buildings,
//! households, people (`residents`, with their history), organisations, tags, and
//! the jobs of browser imports (`import_jobs`). Every row carries its grid's path.

pub mod areas;
pub mod buildings;
pub mod households;
pub mod import_jobs;
pub mod organisations;
pub mod residents;
pub mod tags;
