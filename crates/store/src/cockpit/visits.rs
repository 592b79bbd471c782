//! The visits' figures (`store::visits::coverage` and `visits::figures`): of the
//! occupied households under the area, those not met in the 90 days ending on the
//! day of reading (the seed's "29% rarely visited" as a live figure), those met
//! through any channel, and those met at the door; and for each care tag someone
//! holds, the share of its people met. Each figure names the households (or people)
//! behind it, linked only for viewers who see names there.

use serde::{Deserialize, Serialize};
use wangge_domain::Message;

use super::{Figure, FigureQuery, Rows, Section, Value};
use crate::registry::tags;
use crate::visits::figures::{self, TagCoverage, Which};
use crate::{Db, StoreResult};

/// The window of the coverage figures, in days.
pub const COVERAGE_DAYS: u16 = 90;

/// The coverage of the window ending on `q`'s day and each care tag's: of a
/// period that is over, counted once and then kept (`past`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PastCounts {
    households: u64,
    visited: u64,
    at_door: u64,
    tags: Vec<TagCoverage>,
}

pub(crate) async fn past_counts(db: &Db, q: &FigureQuery) -> StoreResult<PastCounts> {
    let c = crate::visits::coverage(db, &q.path, q.today(), COVERAGE_DAYS).await?;
    let tags = figures::by_tag(db, &q.path, q.today(), COVERAGE_DAYS).await?;
    Ok(PastCounts { households: c.households, visited: c.visited, at_door: c.visited_at_door, tags })
}

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let c = if q.past {
        super::past::kept(db, "visits", q, || past_counts(db, q)).await?
    } else {
        past_counts(db, q).await?
    };
    let whole = c.households as i64;
    let rate = |which: Which, label: &'static str, how: &'static str, part: u64| Figure {
        key: format!("visits.{}", which.code()),
        section: Section::Visits,
        label: Message::new(label).arg("days", COVERAGE_DAYS),
        how: Message::new(how).arg("days", COVERAGE_DAYS),
        value: Value::Rate { part: part as i64, whole },
        rows: Some(Rows::Visits { which: which.code(), tag: None }),
        sensitive: false,
    };
    let mut out = vec![
        rate(
            Which::NotVisited,
            "cockpit.figure.visits_not_visited",
            "cockpit.how.visits_not_visited",
            c.households - c.visited,
        ),
        rate(Which::Visited, "cockpit.figure.visits_visited", "cockpit.how.visits_visited", c.visited),
        rate(Which::AtDoor, "cockpit.figure.visits_visited_at_door", "cockpit.how.visits_visited_at_door", c.at_door),
    ];
    let catalogue = tags::list(db).await?;
    for t in c.tags {
        let Some(tag) = catalogue.iter().find(|c| c.code == t.tag) else { continue };
        out.push(Figure {
            key: format!("visits.tag.{}", tag.code),
            section: Section::Visits,
            label: Message::new("cockpit.figure.visits_tag")
                .lang_arg("tag", &tag.name_zh, &tag.name_en)
                .arg("days", COVERAGE_DAYS),
            how: Message::new("cockpit.how.visits_tag").arg("days", COVERAGE_DAYS),
            value: Value::Rate { part: t.visited as i64, whole: t.people as i64 },
            rows: Some(Rows::Visits { which: Which::NotVisited.code(), tag: Some(tag.code.clone()) }),
            sensitive: tag.sensitive,
        });
    }
    Ok(out)
}
