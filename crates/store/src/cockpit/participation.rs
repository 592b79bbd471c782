//! Participation's figures (`store::notices`, `store::surveys`,
//! `store::activities`): the reach of the live notices (reads ÷ resident accounts
//! reached, one per notice and account), the answers to open surveys, and the
//! share of unsatisfied answers about the activities of the period (the seed's
//! 12 %), under the area; the cockpit's table of the area's children shows them by
//! grid.

use wangge_domain::Message;

use super::{Figure, FigureQuery, Section, Value};
use crate::{Db, StoreResult};

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let reach = crate::notices::reach_by_grid(db, &q.path, q.now).await?;
    let (reached, read) = reach.iter().fold((0, 0), |(a, b), (_, r, d)| (a + r, b + d));
    let answers = crate::surveys::open_answers_on_grids(db, &q.path).await?;
    let (unsatisfied, rated) = crate::activities::satisfaction(db, &q.path, q.from, q.to)
        .await?
        .iter()
        .fold((0, 0), |(a, b), (_, part, whole)| (a + part, b + whole));
    let figure = |key: &str, label: &'static str, how: &'static str, value: Value| Figure {
        key: key.to_owned(),
        section: Section::Participation,
        label: Message::new(label),
        how: Message::new(how),
        value,
        rows: None,
        sensitive: false,
    };
    Ok(vec![
        figure(
            "participation.notice_reach",
            "cockpit.figure.notice_reach",
            "cockpit.how.notice_reach",
            Value::Rate { part: read, whole: reached },
        ),
        figure(
            "participation.survey_answers",
            "cockpit.figure.survey_answers",
            "cockpit.how.survey_answers",
            Value::count(answers),
        ),
        figure(
            "participation.activity_unsatisfied",
            "cockpit.figure.activity_unsatisfied",
            "cockpit.how.activity_unsatisfied",
            Value::Rate { part: unsatisfied, whole: rated },
        ),
    ])
}
