//! The visits' figures (`store::visits::coverage`): of the occupied households
//! under the area, those not met in the 90 days ending on the day of reading (the
//! seed's "29% rarely visited" as a live figure), those met through any channel,
//! and those met at the door.

use wangge_domain::Message;

use super::{Figure, FigureQuery, Section, Value};
use crate::{Db, StoreResult};

/// The window of the coverage figures, in days.
pub const COVERAGE_DAYS: u16 = 90;

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let c = crate::visits::coverage(db, &q.path, q.today(), COVERAGE_DAYS).await?;
    let whole = c.households as i64;
    let rate = |key: &str, label: &'static str, how: &'static str, part: u64| Figure {
        key: format!("visits.{key}"),
        section: Section::Visits,
        label: Message::new(label).arg("days", COVERAGE_DAYS),
        how: Message::new(how).arg("days", COVERAGE_DAYS),
        value: Value::Rate { part: part as i64, whole },
        rows: None,
        sensitive: false,
    };
    Ok(vec![
        rate("not_visited", "cockpit.figure.visits_not_visited", "cockpit.how.visits_not_visited", c.not_visited),
        rate("visited", "cockpit.figure.visits_visited", "cockpit.how.visits_visited", c.visited),
        rate(
            "visited_at_door",
            "cockpit.figure.visits_visited_at_door",
            "cockpit.how.visits_visited_at_door",
            c.visited_at_door,
        ),
    ])
}
