//! The instructions' figures (`store::instructions`): of the receipts addressed to
//! the area or below it (received by the time of reading), those still open (to
//! confirm, to report, or to report again), those open past their due day, and the
//! on-time rate — reported by the due day, of those due by now or reported. One
//! grouped scan of `instruction_receipts(path, state)` joined to the instruction's
//! due day.

use sqlx::Row;
use wangge_domain::Message;

use super::{Figure, FigureQuery, Rows, Section, Value};
use crate::{Db, StoreResult, subtree_bounds};

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let today = q.today().to_string();
    let (lo, hi) = subtree_bounds(&q.path);
    let r = sqlx::query(
        "SELECT SUM(CASE WHEN r.state IN ('sent', 'read', 'returned') THEN 1 ELSE 0 END) AS open,
                SUM(CASE WHEN r.state IN ('sent', 'read', 'returned') AND i.due_on < $3 THEN 1 ELSE 0 END) AS late,
                SUM(CASE WHEN r.state IN ('reported', 'accepted') AND r.reported_on <= i.due_on THEN 1 ELSE 0 END)
                    AS on_time,
                SUM(CASE WHEN r.state IN ('reported', 'accepted') OR i.due_on < $3 THEN 1 ELSE 0 END) AS due
         FROM instruction_receipts r JOIN instructions i ON i.id = r.instruction_id
         WHERE r.path >= $1 AND r.path < $2 AND r.created_at <= $4",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(&today)
    .bind(q.now)
    .fetch_one(&db.pool)
    .await?;
    let n = |k: &str| -> StoreResult<i64> { Ok(r.try_get::<Option<i64>, _>(k)?.unwrap_or(0)) };
    let mut out = vec![Figure {
        key: "instructions.on_time".into(),
        section: Section::Instructions,
        label: Message::new("cockpit.figure.instructions_on_time"),
        how: Message::new("cockpit.how.instructions_on_time"),
        value: Value::Rate { part: n("on_time")?, whole: n("due")? },
        rows: Some(Rows::Instructions),
        sensitive: false,
    }];
    // Which receipts are open is known as it stands now, not as it stood then.
    if !q.past {
        out.push(
            Figure::count(
                "instructions.open",
                Section::Instructions,
                Message::new("cockpit.figure.instructions_open"),
                Message::new("cockpit.how.instructions_open"),
                n("open")?,
            )
            .rows(Rows::Instructions),
        );
        out.push(
            Figure::count(
                "instructions.late",
                Section::Instructions,
                Message::new("cockpit.figure.instructions_late"),
                Message::new("cockpit.how.instructions_late"),
                n("late")?,
            )
            .rows(Rows::Instructions),
        );
    }
    Ok(out)
}
