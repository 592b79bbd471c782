//! The cockpit (驾驶舱, module 9): the figures of any area for a period, the one
//! interface through which every module adds its own, and the trends and shares
//! the charts draw.
//!
//! # Adding figures
//!
//! A module adds figures with one [`Source`] in [`SOURCES`]: the [`Section`]s its
//! figures are shown in, and a function that, given a [`FigureQuery`] (an area's
//! path, a period, the time of reading), answers its [`Figure`]s. A table showing
//! other sections only (the children's columns, the map's one figure) does not run
//! it. Each figure carries
//! - a stable `key` (`registry.residents`, `demands.overdue`, `registry.tag.veteran`):
//!   the side-by-side table sorts by it and the API names it;
//! - a `label` and a `how` sentence, both [`Message`]s of the catalogue
//!   (`crates/web/locales/cockpit.yml`), translated once in the web layer: what the
//!   figure is, and how it is computed, in one sentence a street official can check;
//! - its [`Value`]: a count, or a rate with its two parts;
//! - the [`Rows`] behind it, if there is a list of them: the web layer turns it into
//!   a link, and only for viewers whose scope allows the list (officials above the
//!   community see counts, never names: see `names`);
//! - whether it is `sensitive` (a count of a sensitive care tag, shown only to those
//!   who see names).
//!
//! A source reads counts that change only when rows change from the summary tables
//! ([`crate::summaries`]: kept by triggers in the same transaction as the rows, one
//! range of summary rows under the area's path, or for counts by day or month the
//! roll-up rows of the area's own path, kept at every level), and computes what
//! changes with the clock (overdue, ages, rates) from indexed columns under the
//! area's path. Figures
//! are live: nothing is cached, nothing is rebuilt by a job. A count a module keeps
//! in a summary of its own is added as described in [`crate::summaries`].

mod campaigns;
mod demands;
mod instructions;
pub mod map;
mod participation;
mod party;
pub mod past;
pub(crate) mod registry;
pub mod report;
mod team;
#[cfg(test)]
mod tests;
mod trends;
mod visits;

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use time::Date;
use wangge_domain::Message;
use wangge_domain::demands::CHINA;

use crate::{Db, StoreResult};

pub use registry::{AgeBand, PyramidRow, age_pyramid};
pub use trends::{Bucket, Trends, trends};
pub use visits::COVERAGE_DAYS;

/// What the figures are asked about.
#[derive(Clone, Debug)]
pub struct FigureQuery {
    /// The area's path: everything at or under it.
    pub path: String,
    /// The period of the period's figures (the rates, new items, by category):
    /// `[from, to)` in Unix ms.
    pub from: i64,
    pub to: i64,
    /// The time of reading: what is overdue, how old people are, which week is this week.
    pub now: i64,
    /// Whether `now` is a moment in the past (a report of a period that is over):
    /// figures the rows keep the history of (the demands' states, from their
    /// timelines) are then read as they stood at `now`, not as they stand today.
    pub past: bool,
}

impl FigureQuery {
    /// The day of `now` in China.
    pub fn today(&self) -> Date {
        day_of(self.now)
    }

    /// Midnight (China) of the Monday of `now`'s week, in Unix ms.
    pub fn week_start(&self) -> i64 {
        let today = self.today();
        let monday = today - time::Duration::days(i64::from(today.weekday().number_days_from_monday()));
        midnight(monday)
    }
}

/// The day (China) of a Unix ms time.
pub fn day_of(ms: i64) -> Date {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.to_offset(CHINA).date()
}

/// Midnight (China) of `day` in Unix ms.
pub fn midnight(day: Date) -> i64 {
    (day.midnight().assume_offset(CHINA).unix_timestamp_nanos() / 1_000_000) as i64
}

/// A figure's value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Value {
    Count {
        count: i64,
    },
    /// `part / whole`; no rate when `whole` is 0.
    Rate {
        part: i64,
        whole: i64,
    },
}

impl Value {
    pub fn count(n: i64) -> Value {
        Value::Count { count: n }
    }

    /// The number a table sorts by: the count, or the rate (none when undefined).
    pub fn number(&self) -> Option<f64> {
        match *self {
            Value::Count { count } => Some(count as f64),
            Value::Rate { part, whole } => (whole > 0).then(|| part as f64 / whole as f64),
        }
    }
}

/// The list behind a figure, as the web layer links to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "list", rename_all = "snake_case")]
pub enum Rows {
    /// Current residents, with a care tag when given.
    Residents { tag: Option<String> },
    /// The buildings (the area's page).
    Buildings,
    /// The demand ledger with these filters.
    Demands {
        /// `open`, `all`, or a status code.
        status: &'static str,
        overdue: bool,
        category: Option<String>,
        /// Created in `[from, to)` (Unix ms), when the figure is of a period.
        from: Option<i64>,
        to: Option<i64>,
    },
    /// The team of a grid (the grid's team page).
    Team,
    /// The households behind a coverage figure (`which`: `not_visited`, `visited`,
    /// `visited_at_door`), or with a care tag the people of that tag.
    Visits { which: &'static str, tag: Option<String> },
    /// The campaigns touching the area (their page lists each one's progress).
    Campaigns,
    /// The instructions received and sent at the area.
    Instructions,
    /// The Party registry of the area (members, units, registrations).
    Party,
    /// The branches of the area with their organisational life (三会一课).
    PartyLife,
    /// The three lists' projects of the area, of a state (`planned`, `done`…) or all.
    PartyProjects { state: &'static str },
}

impl Rows {
    /// Whether the list shows people by name: such lists are linked only for viewers
    /// who see names at that place.
    pub fn names(&self) -> bool {
        matches!(self, Rows::Residents { .. } | Rows::Visits { .. })
    }
}

/// The section of the cockpit a figure is shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// People, households, buildings, organisations.
    Registry,
    /// People by residence type.
    Residence,
    /// People by age band.
    Age,
    /// People by care tag.
    Care,
    /// Demands now and in the period.
    Demands,
    /// The period's items by category.
    Categories,
    /// The three rates.
    Rates,
    /// The grid team.
    Team,
    /// Home visits: coverage over 90 days.
    Visits,
    /// Door-to-door campaigns running today.
    Campaigns,
    /// Instructions from above: open, late, reported on time.
    Instructions,
    /// Party building: members, units, their rates, service hours.
    Party,
    /// Notices read and surveys answered.
    Participation,
}

impl Section {
    pub fn code(self) -> &'static str {
        match self {
            Section::Registry => "registry",
            Section::Residence => "residence",
            Section::Age => "age",
            Section::Care => "care",
            Section::Demands => "demands",
            Section::Categories => "categories",
            Section::Rates => "rates",
            Section::Team => "team",
            Section::Visits => "visits",
            Section::Campaigns => "campaigns",
            Section::Instructions => "instructions",
            Section::Party => "party",
            Section::Participation => "participation",
        }
    }

    /// Sections whose figures are one breakdown of a whole (drawn as shares).
    pub fn is_breakdown(self) -> bool {
        matches!(self, Section::Residence | Section::Age | Section::Care | Section::Categories | Section::Team)
    }
}

/// One figure of an area.
#[derive(Clone, Debug)]
pub struct Figure {
    pub key: String,
    pub section: Section,
    pub label: Message,
    /// How it is computed, in one sentence of the catalogue.
    pub how: Message,
    pub value: Value,
    pub rows: Option<Rows>,
    /// A count of a sensitive care tag: shown only to viewers who see names.
    pub sensitive: bool,
}

impl Figure {
    pub(crate) fn count(key: impl Into<String>, section: Section, label: Message, how: Message, n: i64) -> Figure {
        Figure { key: key.into(), section, label, how, value: Value::count(n), rows: None, sensitive: false }
    }

    pub(crate) fn rows(mut self, rows: Rows) -> Figure {
        self.rows = Some(rows);
        self
    }
}

/// What a [`Source`] computes.
pub type Compute =
    for<'a> fn(&'a Db, &'a FigureQuery) -> Pin<Box<dyn Future<Output = StoreResult<Vec<Figure>>> + Send + 'a>>;

/// One module's figures.
pub struct Source {
    /// The module that adds them (`registry`, `demands`, `team`).
    pub module: &'static str,
    /// The sections its figures are shown in: a table showing other sections only
    /// (the children's columns, a map's one figure) does not compute them.
    pub sections: &'static [Section],
    pub compute: Compute,
}

/// Every module's figures, in the order the cockpit shows them. A new module adds
/// its [`Source`] here (and its strings to `locales/cockpit.yml`).
pub const SOURCES: &[Source] = &[
    Source {
        module: "registry",
        sections: &[Section::Registry, Section::Residence, Section::Care],
        compute: |db, q| Box::pin(registry::figures(db, q)),
    },
    Source { module: "registry", sections: &[Section::Age], compute: |db, q| Box::pin(registry::age_figures(db, q)) },
    Source {
        module: "demands",
        sections: &[Section::Demands, Section::Categories, Section::Rates],
        compute: |db, q| Box::pin(demands::figures(db, q)),
    },
    Source { module: "team", sections: &[Section::Team], compute: |db, q| Box::pin(team::figures(db, q)) },
    Source { module: "visits", sections: &[Section::Visits], compute: |db, q| Box::pin(visits::figures(db, q)) },
    Source {
        module: "campaigns",
        sections: &[Section::Campaigns],
        compute: |db, q| Box::pin(campaigns::figures(db, q)),
    },
    Source {
        module: "instructions",
        sections: &[Section::Instructions],
        compute: |db, q| Box::pin(instructions::figures(db, q)),
    },
    Source { module: "party", sections: &[Section::Party], compute: |db, q| Box::pin(party::figures(db, q)) },
    Source {
        module: "participation",
        sections: &[Section::Participation],
        compute: |db, q| Box::pin(participation::figures(db, q)),
    },
];

/// Every section, in the order the cockpit shows them.
pub const ALL_SECTIONS: &[Section] = &[
    Section::Registry,
    Section::Demands,
    Section::Rates,
    Section::Visits,
    Section::Campaigns,
    Section::Instructions,
    Section::Party,
    Section::Participation,
    Section::Residence,
    Section::Age,
    Section::Care,
    Section::Categories,
    Section::Team,
];

/// Every figure of the area at `q.path`.
pub async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    figures_in(db, q, ALL_SECTIONS).await
}

/// The figures of the area at `q.path` in `sections`: only the sources adding to
/// one of them are computed. The sources run one after the other on one
/// connection: pages computing several areas run the areas side by side instead.
pub async fn figures_in(db: &Db, q: &FigureQuery, sections: &[Section]) -> StoreResult<Vec<Figure>> {
    let mut out = Vec::new();
    for source in SOURCES.iter().filter(|s| s.sections.iter().any(|sec| sections.contains(sec))) {
        out.extend((source.compute)(db, q).await?.into_iter().filter(|f| sections.contains(&f.section)));
    }
    Ok(out)
}

/// The figures of each area of `queries` (a scope's children side by side), in
/// their order: a few at a time, each on a connection of its own, so that the
/// engine's readers work in parallel — as many as the machine has cores, four at
/// most, leaving the pool's other connections to everyone else.
pub async fn figures_each(db: &Db, queries: Vec<FigureQuery>) -> StoreResult<Vec<Vec<Figure>>> {
    figures_each_in(db, queries, ALL_SECTIONS).await
}

/// [`figures_each`] of `sections` only (see [`figures_in`]).
pub async fn figures_each_in(
    db: &Db,
    queries: Vec<FigureQuery>,
    sections: &[Section],
) -> StoreResult<Vec<Vec<Figure>>> {
    let sections: std::sync::Arc<[Section]> = sections.into();
    let width = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let mut out: Vec<Vec<Figure>> = vec![Vec::new(); queries.len()];
    let mut pending = queries.into_iter().enumerate();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < width {
            let Some((i, q)) = pending.next() else { break };
            let db = db.clone();
            let sections = sections.clone();
            running.spawn(async move { (i, figures_in(&db, &q, &sections).await) });
        }
        let Some(done) = running.join_next().await else { break };
        let (i, figures) =
            done.map_err(|e| crate::StoreError::Invalid(crate::error::operator(format!("computing figures: {e}"))))?;
        out[i] = figures?;
    }
    Ok(out)
}

/// The figure of `figures` with `key`.
pub fn find<'a>(figures: &'a [Figure], key: &str) -> Option<&'a Figure> {
    figures.iter().find(|f| f.key == key)
}
