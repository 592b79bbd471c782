//! Trends of the demands over a year: new and closed items by week and by month.

use serde::Serialize;
use sqlx::Row;
use time::Date;

use super::{day_of, midnight};
use crate::conditions::Conditions;
use crate::{Db, StoreResult};

const DAY_MS: i64 = 24 * 3600 * 1000;

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

/// Counts per day since `first` (inclusive), of `column` (a Unix ms column) under `path`.
async fn per_day(db: &Db, path: &str, column: &str, first: Date, now: i64) -> StoreResult<Vec<(i64, i64)>> {
    let mut c = Conditions::default();
    c.under_path("path", path);
    let start = midnight(first);
    let (from, to) = (c.int(start), c.int(now + 1));
    c.push(format!("{column} >= {from} AND {column} < {to}"));
    let origin = c.int(start);
    let day = c.int(DAY_MS);
    let sql = format!(
        "SELECT ({column} - {origin}) / {day} AS d, COUNT(*) AS n FROM demands {} GROUP BY ({column} - {origin}) / {day}",
        c.where_clause()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push((row.try_get("d")?, row.try_get("n")?));
    }
    Ok(out)
}

/// Items created per day since `first` (inclusive) under `path`, as [`per_day`]
/// counts them, from the summary `demand_counts` (its days are China's, as
/// `first` is): a few hundred summary rows per grid rather than a year of items.
async fn created_per_day(db: &Db, path: &str, first: Date, now: i64) -> StoreResult<Vec<(i64, i64)>> {
    let first_day = crate::summaries::day_at_midnight(midnight(first)).expect("a midnight in China");
    let last_day = crate::summaries::day_at_midnight(midnight(day_of(now))).expect("a midnight in China");
    let mut c = Conditions::default();
    c.under_path("path", path);
    let (from, to) = (c.int(first_day), c.int(last_day));
    // Fifteen months: the path's rows unless the path is the whole deployment.
    let day = crate::summaries::day_column(Some(path), Some(last_day - first_day + 1));
    c.push(format!("{day} >= {from} AND {day} <= {to}"));
    let origin = c.int(first_day);
    let sql = format!(
        "SELECT day - {origin} AS d, CAST(SUM(n) AS BIGINT) AS n FROM demand_counts {} GROUP BY day",
        c.where_clause()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push((row.try_get("d")?, row.try_get("n")?));
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
    let created = created_per_day(db, path, first, now).await?;
    let closed = per_day(db, path, "closed_at", first, now).await?;
    let mut weeks: Vec<Bucket> = (0..52)
        .map(|i| Bucket { start: wangge_domain::format_date(first_week + time::Duration::weeks(i)), new: 0, closed: 0 })
        .collect();
    let mut months: Vec<Bucket> = Vec::with_capacity(12);
    let mut m = first_month;
    for _ in 0..12 {
        months.push(Bucket { start: wangge_domain::format_date(m), new: 0, closed: 0 });
        m = (m + time::Duration::days(31)).replace_day(1).expect("day 1");
    }
    let mut add = |days: &[(i64, i64)], closed: bool| {
        for &(d, n) in days {
            let day = first + time::Duration::days(d);
            let week = (day - first_week).whole_weeks();
            if day >= first_week && (0..52).contains(&week) {
                let b = &mut weeks[week as usize];
                if closed { b.closed += n } else { b.new += n }
            }
            let month_start = wangge_domain::format_date(day.replace_day(1).expect("day 1"));
            if let Some(b) = months.iter_mut().find(|b| b.start == month_start) {
                if closed { b.closed += n } else { b.new += n }
            }
        }
    };
    add(&created, false);
    add(&closed, true);
    Ok(Trends { weeks, months })
}
