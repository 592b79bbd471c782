//! Trends of the demands over a year: new and closed items by week and by month.

use serde::Serialize;
use sqlx::Row;
use time::Date;

use super::{day_of, midnight};
use crate::{Db, StoreResult};

/// New and closed items of one week or month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bucket {
    /// The first day of the week (a Monday) or of the month.
    pub start: String,
    /// Items created in it (merged duplicates included: each came in).
    pub new: i64,
    /// Items closed in it.
    pub closed: i64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Trends {
    /// The last 52 weeks, the current one last.
    pub weeks: Vec<Bucket>,
    /// The last 12 months, the current one last.
    pub months: Vec<Bucket>,
}

/// Items created and closed per day under `path` from `first` to `now`'s day (both
/// whole), as days since `first`: the area's own rows of the roll-up `demand_days`
/// (migration 0063: per day and category, kept at every level; read with the items
/// PostgreSQL has not folded in yet, `demand_days_live`, 0074), however large the
/// area. Whole days: the callers read now (nothing is closed later today yet) or
/// at a period's last millisecond (a report).
async fn per_day(db: &Db, path: &str, first: Date, now: i64) -> StoreResult<Vec<(i64, i64, i64)>> {
    let first_day = crate::summaries::day_at_midnight(midnight(first)).expect("a midnight in China");
    let last_day = crate::summaries::day_at_midnight(midnight(day_of(now))).expect("a midnight in China");
    let rows = sqlx::query(
        "SELECT day - $2 AS d, CAST(SUM(created) AS BIGINT) AS created, CAST(SUM(closed) AS BIGINT) AS closed
         FROM demand_days_live WHERE path = $1 AND day >= $2 AND day <= $3 GROUP BY day",
    )
    .bind(path)
    .bind(first_day)
    .bind(last_day)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push((row.try_get("d")?, row.try_get("created")?, row.try_get("closed")?));
    }
    Ok(out)
}

/// New and closed items under `path` in the year up to `now`, by week and by month.
pub async fn trends(db: &Db, path: &str, now: i64) -> StoreResult<Trends> {
    let today = day_of(now);
    let this_monday = today - time::Duration::days(i64::from(today.weekday().number_days_from_monday()));
    let first_week = this_monday - time::Duration::weeks(51);
    let this_month = today.replace_day(1).expect("day 1");
    let mut first_month = this_month;
    for _ in 0..11 {
        first_month = (first_month - time::Duration::days(1)).replace_day(1).expect("day 1");
    }
    let first = first_week.min(first_month);
    let days = per_day(db, path, first, now).await?;
    let mut weeks: Vec<Bucket> = (0..52)
        .map(|i| Bucket { start: wangge_domain::format_date(first_week + time::Duration::weeks(i)), new: 0, closed: 0 })
        .collect();
    let mut months: Vec<Bucket> = Vec::with_capacity(12);
    let mut m = first_month;
    for _ in 0..12 {
        months.push(Bucket { start: wangge_domain::format_date(m), new: 0, closed: 0 });
        m = (m + time::Duration::days(31)).replace_day(1).expect("day 1");
    }
    for &(d, created, closed) in &days {
        let day = first + time::Duration::days(d);
        let week = (day - first_week).whole_weeks();
        if day >= first_week && (0..52).contains(&week) {
            weeks[week as usize].new += created;
            weeks[week as usize].closed += closed;
        }
        let month_start = wangge_domain::format_date(day.replace_day(1).expect("day 1"));
        if let Some(b) = months.iter_mut().find(|b| b.start == month_start) {
            b.new += created;
            b.closed += closed;
        }
    }
    Ok(Trends { weeks, months })
}
