//! The visits' section of 今日 (`crate::today`): everyone due today or overdue in
//! the caller's area under the community's cadences, in walking order (building,
//! unit, door), each card opening the one-screen visit form for that household and
//! person.

use std::future::Future;
use std::pin::Pin;

use wangge_domain::Action;

use crate::shared::auth::Principal;
use crate::shared::render::tr;
use crate::today::{Act, CARDS, Card, Day, Section, all_words};
use crate::{ApiError, AppState};

type Loaded<'a> = Pin<Box<dyn Future<Output = Result<Option<Section>, ApiError>> + Send + 'a>>;

/// 待走访: for those who visit, in their own area (a grid member's grid, a
/// community's staff their community); none for anyone else or above a community.
pub(crate) fn due<'a>(s: &'a AppState, p: &'a Principal, day: &'a Day) -> Loaded<'a> {
    Box::pin(async move {
        if !p.role.may(Action::VisitHouseholds) {
            return Ok(None);
        }
        let Some(path) = p.list_path(&s.db, None).await.ok().flatten() else { return Ok(None) };
        let Ok(community) = super::community_of(&s.db, &path).await else { return Ok(None) };
        let lang = day.lang;
        let today = super::today();
        let due = wangge_store::visits::due(&s.db, &path, &community.id, today).await?;
        let words = super::pages::DueWords::new(&s.db, lang).await?;
        let total = due.len() as i64;
        let cards = due
            .iter()
            .take(CARDS as usize)
            .map(|e| {
                let line = words.line(e);
                let on =
                    time::Date::parse(&e.due_on, &time::format_description::well_known::Iso8601::DATE).unwrap_or(today);
                Card {
                    href: line.href.clone(),
                    title: format!("{} · {}", line.who, line.place),
                    detail: line.why,
                    due_date: crate::demands::today::date_words(on, lang),
                    due_words: line.when,
                    overdue: line.overdue,
                    act: Some(Act { label: tr("visits.record", lang.code), action: line.href, post: false }),
                }
            })
            .collect();
        Ok(Some(Section {
            id: "visits_due",
            title: tr("today.visits_due", lang.code),
            cards,
            total,
            more: (total > i64::from(CARDS)).then(|| "/visits".to_owned()),
            more_label: all_words(total, lang),
            empty: tr("today.visits_due_empty", lang.code),
        }))
    })
}
