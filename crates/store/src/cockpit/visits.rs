//! The visits' figures (`store::visits::coverage` and `visits::figures`): of the
//! occupied households under the area, those not met in the 90 days ending on the
//! day of reading (the seed's "29% rarely visited" as a live figure), those met
//! through any channel, and those met at the door; and for each care tag someone
//! holds, the share of its people met. Each figure names the households (or people)
//! behind it, linked only for viewers who see names there.

use wangge_domain::Message;

use super::{Figure, FigureQuery, Rows, Section, Value};
use crate::registry::tags;
use crate::visits::figures::{self, Which};
use crate::{Db, StoreResult};

/// The window of the coverage figures, in days.
pub const COVERAGE_DAYS: u16 = 90;

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let c = crate::visits::coverage(db, &q.path, q.today(), COVERAGE_DAYS).await?;
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
        rate(Which::NotVisited, "cockpit.figure.visits_not_visited", "cockpit.how.visits_not_visited", c.not_visited),
        rate(Which::Visited, "cockpit.figure.visits_visited", "cockpit.how.visits_visited", c.visited),
        rate(
            Which::AtDoor,
            "cockpit.figure.visits_visited_at_door",
            "cockpit.how.visits_visited_at_door",
            c.visited_at_door,
        ),
    ];
    let catalogue = tags::list(db).await?;
    for t in figures::by_tag(db, &q.path, q.today(), COVERAGE_DAYS).await? {
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
