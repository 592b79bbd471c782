//! Reports that write themselves: an area's figures for a past week or month, and
//! the record of scheduled reports queued (`report_runs`, one per scope and period).
//!
//! A report is computed as of the end of its period where the rows allow it: the
//! items of the period and their categories count by creation time, so the same
//! period gives the same numbers whenever it is regenerated; the trends end with the
//! period. Of a period that is over, the three rates and the open, overdue and
//! this week's items are read as the items stood at the period's end, from their
//! timelines (`demand_events`): an item closed or rated after the period changes
//! nothing in it. What the rows cannot give for a past moment is said in the
//! report, figure by figure ([`Basis`]): the registry and the team are as of the
//! making (people's moves are not kept as snapshots of counts).

use serde::Serialize;
use time::{Date, Duration, Month};
use wangge_domain::now_millis;

use super::{Figure, FigureQuery, Section, midnight};
use crate::{Db, StoreResult};

/// A report's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Week,
    Month,
}

impl ReportKind {
    pub fn code(self) -> &'static str {
        match self {
            ReportKind::Week => "week",
            ReportKind::Month => "month",
        }
    }

    pub fn from_code(code: &str) -> Option<ReportKind> {
        match code {
            "week" => Some(ReportKind::Week),
            "month" => Some(ReportKind::Month),
            _ => None,
        }
    }
}

/// A week (Monday to Sunday) or a calendar month, in China's days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportPeriod {
    pub kind: ReportKind,
    pub first: Date,
    pub last: Date,
}

impl ReportPeriod {
    /// The week or month that holds `day`.
    pub fn holding(kind: ReportKind, day: Date) -> ReportPeriod {
        match kind {
            ReportKind::Week => {
                let first = day - Duration::days(i64::from(day.weekday().number_days_from_monday()));
                ReportPeriod { kind, first, last: first + Duration::days(6) }
            }
            ReportKind::Month => {
                let first = day.replace_day(1).expect("day 1");
                let next = match first.month() {
                    Month::December => Date::from_calendar_date(first.year() + 1, Month::January, 1),
                    m => Date::from_calendar_date(first.year(), m.next(), 1),
                }
                .expect("the first of a month");
                ReportPeriod { kind, first, last: next - Duration::days(1) }
            }
        }
    }

    /// The last whole week or month before `today`.
    pub fn last_complete(kind: ReportKind, today: Date) -> ReportPeriod {
        let this = ReportPeriod::holding(kind, today);
        ReportPeriod::holding(kind, this.first - Duration::days(1))
    }

    /// `[from, to)` in Unix ms: midnight (China) of the first day to midnight after the last.
    pub fn bounds(&self) -> (i64, i64) {
        (midnight(self.first), midnight(self.last + Duration::days(1)))
    }

    /// The figures' query: the period, read as of its end (or now, if it has not ended).
    pub fn query(&self, path: &str, now: i64) -> FigureQuery {
        let (from, to) = self.bounds();
        FigureQuery { path: path.to_owned(), from, to, now: now.min(to - 1), past: to <= now }
    }

    /// Whether the period is over at `now`.
    pub fn is_over(&self, now: i64) -> bool {
        self.bounds().1 <= now
    }
}

/// How far a figure of a report holds for its period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Counted from the rows by their time: the same whenever the report is made.
    Period,
    /// The period's items, by the state they are in when the report is made (a
    /// period not over yet).
    PeriodItemsNow,
    /// As the items stood at the end of a period that is over, read from their
    /// timelines: the same whenever the report is made.
    AtEnd,
    /// As of the report's making: cannot be recomputed for a past period.
    Now,
}

impl Basis {
    pub fn code(self) -> &'static str {
        match self {
            Basis::Period => "period",
            Basis::PeriodItemsNow => "period_items_now",
            Basis::AtEnd => "at_end",
            Basis::Now => "now",
        }
    }
}

/// The basis of `figure` in a report of a period that is `over` or not.
pub fn basis_of(figure: &Figure, over: bool) -> Basis {
    match figure.section {
        Section::Categories => Basis::Period,
        _ if figure.key == "demands.period" => Basis::Period,
        // The demands' states come from their timelines (`FigureQuery::past`).
        Section::Rates | Section::Demands if over => Basis::AtEnd,
        Section::Rates => Basis::PeriodItemsNow,
        _ => Basis::Now,
    }
}

/// Records that the report of `area_id` for `period` is being queued; `false` when
/// it already was (by this server or another): the caller then queues nothing.
pub async fn claim_run(db: &Db, area_id: &str, period: &ReportPeriod) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO report_runs (area_id, period, first_day, queued_at, deliveries) VALUES ($1, $2, $3, $4, 0)
         ON CONFLICT (area_id, period, first_day) DO NOTHING",
    )
    .bind(area_id)
    .bind(period.kind.code())
    .bind(wangge_domain::format_date(period.first))
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Notes how many deliveries a claimed run queued.
pub async fn set_deliveries(db: &Db, area_id: &str, period: &ReportPeriod, n: i64) -> StoreResult<()> {
    sqlx::query("UPDATE report_runs SET deliveries = $1 WHERE area_id = $2 AND period = $3 AND first_day = $4")
        .bind(n)
        .bind(area_id)
        .bind(period.kind.code())
        .bind(wangge_domain::format_date(period.first))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// How many runs were recorded for `area_id` (tests, `figures verify`).
pub async fn runs_of(db: &Db, area_id: &str) -> StoreResult<Vec<(String, String, i64)>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT period, first_day, deliveries FROM report_runs WHERE area_id = $1 ORDER BY period, first_day",
    )
    .bind(area_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("period")?, r.try_get("first_day")?, r.try_get("deliveries")?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn day(s: &str) -> Date {
        wangge_domain::parse_date(s).unwrap()
    }

    #[test]
    fn weeks_run_monday_to_sunday_and_months_to_their_last_day() {
        let w = ReportPeriod::holding(ReportKind::Week, day("2026-12-03"));
        assert_eq!((w.first, w.last), (day("2026-11-30"), day("2026-12-06")));
        let last = ReportPeriod::last_complete(ReportKind::Week, day("2026-12-07"));
        assert_eq!((last.first, last.last), (day("2026-11-30"), day("2026-12-06")));
        let m = ReportPeriod::holding(ReportKind::Month, day("2024-02-10"));
        assert_eq!((m.first, m.last), (day("2024-02-01"), day("2024-02-29")));
        let dec = ReportPeriod::last_complete(ReportKind::Month, day("2027-01-01"));
        assert_eq!((dec.first, dec.last), (day("2026-12-01"), day("2026-12-31")));
        let (from, to) = w.bounds();
        assert_eq!(to - from, 7 * 24 * 3600 * 1000);
        assert_eq!(w.query("/", i64::MAX).now, to - 1, "a past period is read as of its end");
    }

    #[tokio::test]
    async fn a_run_is_claimed_once() {
        testing::all_at(async |t| {
            let db = &t.db;
            let h = testing::hierarchy(db).await;
            let week = ReportPeriod::last_complete(ReportKind::Week, day("2026-12-07"));
            assert!(claim_run(db, &h.community.id, &week).await.unwrap());
            assert!(!claim_run(db, &h.community.id, &week).await.unwrap(), "the second claim of the week fails");
            assert!(claim_run(db, &h.street.id, &week).await.unwrap(), "another scope's is its own");
            set_deliveries(db, &h.community.id, &week, 2).await.unwrap();
            let runs = runs_of(db, &h.community.id).await.unwrap();
            assert_eq!(runs, vec![("week".to_owned(), "2026-11-30".to_owned(), 2)]);
        })
        .await;
    }
}
