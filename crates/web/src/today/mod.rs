//! 今日 (today): a grid member's home on a phone. The page is a list of sections,
//! each a list of cards with one tap to act; every module that brings work for the
//! day adds its sections to [`SECTIONS`] — the one registry — and nothing else here
//! changes (visits due, campaign targets, instructions from above: ARCHITECTURE.md,
//! "今日").
//!
//! A section is a function that loads its cards for the caller (or `None` when it
//! does not apply to them); the page shows the sections in the order of
//! [`SECTIONS`], an empty one with its empty sentence.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use wangge_domain::demands::BusinessCalendar;

use crate::shared::auth::Principal;
use crate::shared::render::{Lang, frame, render, tr};
use crate::{ApiError, AppState};

/// One thing to do, as a card: what it is, by when, and the one tap that acts on it.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Card {
    /// The page that shows the whole record.
    pub href: String,
    pub title: String,
    /// A line under the title (category, place, state).
    pub detail: String,
    /// The deadline as a date, and how it reads (`3 working days left`).
    pub due_date: String,
    pub due_words: String,
    pub overdue: bool,
    /// The tap: a form posted to `act.action`, or a link when `act.post` is false.
    pub act: Option<Act>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Act {
    pub label: String,
    /// A form's action (posted with the CSRF token and `back=today`) or a link.
    pub action: String,
    pub post: bool,
}

/// One section of the page.
#[derive(Debug, Serialize)]
pub(crate) struct Section {
    /// The section's element id (`today-<id>`), stable for tests and links.
    pub id: &'static str,
    pub title: String,
    pub cards: Vec<Card>,
    /// How many there are in all (the cards are the first few).
    pub total: i64,
    /// Where the whole list is, when there are more than the cards.
    pub more: Option<String>,
    /// "All 34".
    pub more_label: String,
    /// What the section says when it has nothing.
    pub empty: String,
}

/// What every section may need, computed once per page.
pub(crate) struct Day {
    pub lang: Lang,
    pub now: i64,
    pub calendar: Arc<BusinessCalendar>,
}

/// A section's loader.
pub(crate) type Load = for<'a> fn(
    &'a AppState,
    &'a Principal,
    &'a Day,
) -> Pin<Box<dyn Future<Output = Result<Option<Section>, ApiError>> + Send + 'a>>;

/// The sections of 今日, in the order they are shown: the one place a module adds
/// its work for the day.
pub(crate) const SECTIONS: &[Load] = &[
    crate::demands::today::mine,
    crate::instructions::today::open,
    crate::visits::today::due,
    crate::campaigns::today::open,
    crate::demands::today::to_verify,
    crate::demands::today::new_reports,
];

/// How many cards a section shows before its "all N" link.
pub(crate) const CARDS: u32 = 20;

/// The page: every section that applies to the caller.
pub async fn today(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let day = Day { lang, now: wangge_domain::now_millis(), calendar: wangge_store::demands::calendar(&s.db).await? };
    let mut sections = Vec::new();
    for load in SECTIONS {
        if let Some(section) = load(&s, &p, &day).await? {
            sections.push(section);
        }
    }
    let ctx = context! {
        sections => Value::from(Serde(&sections)),
        date => crate::demands::today::date_words(wangge_domain::demands::BusinessCalendar::last_day(day.now + 1), lang),
        ..frame(&p, lang, "/today"),
    };
    Ok(render(lang, StatusCode::OK, "today/today.html", ctx))
}

/// "All 34" under a section.
pub(crate) fn all_words(total: i64, lang: Lang) -> String {
    tr("today.all", lang.code).replace("%{count}", &total.to_string())
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new().get("/today", Role(HandleDemand), today)
}
