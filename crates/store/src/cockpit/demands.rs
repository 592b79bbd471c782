//! The demands' figures: open, overdue, new this week and in the period, the
//! period's items by category, and the three rates.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use wangge_domain::{DemandStatus, Message, Vocabulary};

use super::{Figure, FigureQuery, Rows, Section, Value};
use std::collections::BTreeMap;

use crate::conditions::Conditions;
use crate::demands::{self, DemandFilter, conditions};
use crate::summaries;
use crate::{Db, StoreResult};

/// The ledger's count of `f` from the items, for tests to hold the figures to.
#[cfg(test)]
pub(super) async fn count_for_tests(db: &Db, f: &DemandFilter, now: i64) -> i64 {
    let c = conditions(f, now);
    c.scalar(format!("SELECT COUNT(*) FROM demands {}", c.where_clause())).fetch_one(&db.pool).await.unwrap()
}

fn ledger(status: &'static str, overdue: bool, from: Option<i64>, to: Option<i64>) -> Rows {
    Rows::Demands { status, overdue, category: None, from, to }
}

/// The items under `path` open at `at`, a moment in the past, and those of them
/// overdue then: each item's state as its timeline had it (see
/// [`demands::status_as_of`]), against its deadlines. A deadline is today's: an
/// item reopened after `at` has a fresh time to resolve, which is the only case
/// where it differs from the one it had then.
///
/// Every change of status is a step of the timeline, so the items open at `at` are
/// those open now with no step since (read from the open items' index), and those
/// among the few with a step since whose timeline says they were open then (read
/// from `demand_events_at`): never the year's closed items.
async fn open_as_of(db: &Db, path: &str, at: i64) -> StoreResult<(i64, i64)> {
    let open = DemandStatus::open();
    let working: Vec<DemandStatus> = open.iter().copied().filter(|s| *s != DemandStatus::Submitted).collect();
    let list = |l: &[DemandStatus]| l.iter().map(|s| format!("'{}'", s.code())).collect::<Vec<_>>().join(", ");
    let mut c = Conditions::default();
    c.under_path("path", path);
    let created = c.int(at);
    c.push(format!("created_at <= {created}"));
    let after = c.int(at);
    let changed = format!("SELECT l.demand_id FROM demand_events l WHERE l.at > {after}");
    // Open now, untouched since `at`: their status now is theirs then.
    let mut untouched = c.clone();
    untouched.push(format!("status IN ({})", list(&open)));
    untouched.push(format!("id NOT IN ({changed})"));
    let (at_a, at_b) = (untouched.int(at), untouched.int(at));
    let overdue = |at_a: &str, at_b: &str| {
        format!(
            "SUM(CASE WHEN (status = '{submitted}' AND accept_due < {at_a})
                   OR (status IN ({working}) AND resolve_due < {at_b}) THEN 1 ELSE 0 END)",
            submitted = DemandStatus::Submitted.code(),
            working = list(&working),
        )
    };
    let sql = format!(
        "SELECT COUNT(*) AS open, {} AS overdue FROM demands {}",
        overdue(&at_a, &at_b),
        untouched.where_clause()
    );
    let row = untouched.query(sql).fetch_one(&db.pool).await?;
    let (mut open_n, mut overdue_n) = (row.try_get::<i64, _>("open")?, row.try_get::<Option<i64>, _>("overdue")?);
    // Touched since: their state then from their timeline.
    c.push(format!("id IN ({changed})"));
    let (t_status, t_changed) = (c.int(at), c.int(at));
    let inner = format!(
        "SELECT accept_due, resolve_due, {} AS status FROM demands d {}",
        demands::status_as_of("d", &t_status, &t_changed),
        c.where_clause()
    );
    let (at_a, at_b) = (c.int(at), c.int(at));
    let sql = format!(
        "SELECT SUM(CASE WHEN status IN ({open}) THEN 1 ELSE 0 END) AS open, {overdue} AS overdue
         FROM ({inner}) AS items",
        open = list(&open),
        overdue = overdue(&at_a, &at_b),
    );
    let row = c.query(sql).fetch_one(&db.pool).await?;
    // SUM over no rows is NULL.
    open_n += row.try_get::<Option<i64>, _>("open")?.unwrap_or(0);
    overdue_n = Some(overdue_n.unwrap_or(0) + row.try_get::<Option<i64>, _>("overdue")?.unwrap_or(0));
    Ok((open_n, overdue_n.unwrap_or(0)))
}

/// The items under `path` open at `now`, and those of them overdue, as the ledger's
/// overdue filter has it: submitted past their time to accept, or being worked on
/// past their time to resolve. Where the roll-up is kept (PostgreSQL,
/// [`summaries::open_items_rolled_up`]), the area's own rows of
/// `demand_open_days` (migration 0076; with the items not folded in yet,
/// `demand_open_days_live`), one per day of deadline and day of creation of its
/// open items: a city's 100,000 open items are ~2,000 rows. The rows of days before
/// today's are overdue whole; of today's, the items due before `now` are counted
/// from the index of open items by deadline (`demands_due`), a range of today's
/// deadlines of the whole deployment; the deadline's expression and the open
/// statuses are written out as the index has them, so that the planner sees that
/// it applies.
async fn open_and_overdue(db: &Db, path: &str, now: i64) -> StoreResult<(i64, i64)> {
    if !summaries::open_items_rolled_up(db) {
        // Both from the open items' partial index.
        let open =
            DemandFilter { under_path: Some(path.to_owned()), status: DemandStatus::open(), ..Default::default() };
        let c = conditions(&open, now);
        let open_n = c.scalar(format!("SELECT COUNT(*) FROM demands {}", c.where_clause())).fetch_one(&db.pool).await?;
        return Ok((open_n, overdue_at(db, path, now).await?));
    }
    let midnight = super::midnight(super::day_of(now));
    let today = summaries::day_at_midnight(midnight).expect("a midnight in China");
    let open = demands::status_list(&DemandStatus::open());
    let due = format!("CASE WHEN status = '{}' THEN accept_due ELSE resolve_due END", DemandStatus::Submitted.code());
    let (lo, hi) = crate::subtree_bounds(path);
    // Each placeholder once, in order: SQLite numbers named ones as they first appear.
    let mut c = Conditions::default();
    let (from_p, to_p, lo_p, hi_p) = (c.int(midnight), c.int(now), c.text(lo), c.text(hi));
    let (today_p, path_p) = (c.int(today), c.text(path.to_owned()));
    // One pass over the area's rows for both sums.
    let sql = format!(
        "SELECT o.open, o.due_before + (SELECT COUNT(*) FROM demands WHERE status IN ({open})
                    AND {due} >= {from_p} AND {due} < {to_p} AND path >= {lo_p} AND path < {hi_p}) AS overdue
         FROM (SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS open,
                      CAST(COALESCE(SUM(CASE WHEN due_day < {today_p} THEN n ELSE 0 END), 0) AS BIGINT) AS due_before
               FROM demand_open_days_live WHERE path = {path_p}) AS o"
    );
    let row = c.query(sql).fetch_one(&db.pool).await?;
    Ok((row.try_get("open")?, row.try_get("overdue")?))
}

/// SQLite's items under `path` overdue at `now` (see [`open_and_overdue`]): those
/// submitted past their time to accept and those being worked on past their time to
/// resolve, counted apart and added. Each count reads the open
/// items' index alone; the two as one `OR` made PostgreSQL read the table of every
/// open item (a bitmap scan, 6,000 pages for a district) and SQLite another index.
/// The open statuses are written out beside each's own so that SQLite sees the
/// partial index's condition.
async fn overdue_at(db: &Db, path: &str, now: i64) -> StoreResult<i64> {
    let list = demands::status_list;
    let open = list(&DemandStatus::open());
    let working: Vec<DemandStatus> =
        DemandStatus::open().iter().copied().filter(|s| *s != DemandStatus::Submitted).collect();
    let (lo, hi) = crate::subtree_bounds(path);
    // Each placeholder once, in order: SQLite numbers named ones as they first appear.
    let mut c = Conditions::default();
    let (lo_a, hi_a, at_a) = (c.text(lo.clone()), c.text(hi.clone()), c.int(now));
    let (lo_b, hi_b, at_b) = (c.text(lo), c.text(hi), c.int(now));
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM demands WHERE path >= {lo_a} AND path < {hi_a}
                    AND status IN ({open}) AND status = '{submitted}' AND accept_due < {at_a})
              + (SELECT COUNT(*) FROM demands WHERE path >= {lo_b} AND path < {hi_b}
                    AND status IN ({open}) AND status IN ({working}) AND resolve_due < {at_b})",
        submitted = DemandStatus::Submitted.code(),
        working = list(&working),
    );
    Ok(c.scalar(sql).fetch_one(&db.pool).await?)
}

/// Items created in `[from, to)` under `path`, by category: when both bounds are
/// midnights in China (every period of the cockpit and its reports), the whole
/// calendar months in it that are over as kept once counted (`past_figures`,
/// source `categories`: a year is eleven kept rows and this month's days), the
/// rest from the roll-up `demand_days`; else from the items.
pub(super) async fn created_by_category(
    db: &Db,
    path: &str,
    from: Option<i64>,
    to: Option<i64>,
    now: i64,
) -> StoreResult<BTreeMap<String, i64>> {
    let from_day = from.map(summaries::day_at_midnight);
    let to_day = to.map(summaries::day_at_midnight);
    if !(from_day.is_none_or(|d| d.is_some()) && to_day.is_none_or(|d| d.is_some())) {
        return created_from_items(db, path, from, to, now).await;
    }
    let months = match (from, to) {
        (Some(from), Some(to)) => whole_months(from, to, wangge_domain::now_millis()),
        _ => Vec::new(),
    };
    let (Some(&(first, _)), Some(&(_, last))) = (months.first(), months.last()) else {
        return created_from_days(db, path, from, to).await;
    };
    let mut out = BTreeMap::new();
    let mut add = |counts: BTreeMap<String, i64>| {
        for (category, n) in counts {
            *out.entry(category).or_insert(0) += n;
        }
    };
    for counts in super::past::kept_each(db, "categories", path, &months, |from, to| async move {
        created_from_days(db, path, Some(from), Some(to)).await
    })
    .await?
    {
        add(counts);
    }
    if from.is_some_and(|from| from < first) {
        add(created_from_days(db, path, from, Some(first)).await?);
    }
    if to.is_none_or(|to| to > last) {
        add(created_from_days(db, path, Some(last), to).await?);
    }
    out.retain(|_, n| *n != 0);
    Ok(out)
}

/// The calendar months (China) wholly inside `[from, to)` that ended
/// [`super::past::MARGIN`] before `clock`, as `[start, end)` in Unix ms, oldest
/// first: the month reports' periods, so a month a report kept is the year's too.
fn whole_months(from: i64, to: i64, clock: i64) -> Vec<(i64, i64)> {
    use super::report::{ReportKind, ReportPeriod};
    let after = |m: &ReportPeriod| ReportPeriod::holding(ReportKind::Month, m.last + time::Duration::days(1));
    let holding = ReportPeriod::holding(ReportKind::Month, super::day_of(from));
    let first = if holding.bounds().0 < from { after(&holding) } else { holding };
    std::iter::successors(Some(first), |m| Some(after(m)))
        .map(|m| m.bounds())
        .take_while(|&(_, end)| end <= to && end <= clock - super::past::MARGIN)
        .collect()
}

/// Items created in `[from, to)` (whole days) under `path`, by category: the
/// area's own rows of the roll-up by day and category (migration 0063; with the
/// items PostgreSQL has not folded in yet, `demand_days_live`, 0074), a few
/// thousand for a year however large the area.
async fn created_from_days(
    db: &Db,
    path: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> StoreResult<BTreeMap<String, i64>> {
    let mut c = Conditions::default();
    let p = c.text(path);
    c.push(format!("path = {p}"));
    if let Some(day) = from.and_then(summaries::day_at_midnight) {
        let d = c.int(day);
        c.push(format!("day >= {d}"));
    }
    if let Some(day) = to.and_then(summaries::day_at_midnight) {
        let d = c.int(day);
        c.push(format!("day < {d}"));
    }
    let sql = format!(
        "SELECT category, CAST(SUM(created) AS BIGINT) AS n FROM demand_days_live {} GROUP BY category",
        c.where_clause()
    );
    let mut out = BTreeMap::new();
    for row in c.query(sql).fetch_all(&db.pool).await? {
        let n: i64 = row.try_get("n")?;
        if n != 0 {
            out.insert(row.try_get::<String, _>("category")?, n);
        }
    }
    Ok(out)
}

/// Items created in `[from, to)` under `path`, by category, counted from the items.
pub(crate) async fn created_from_items(
    db: &Db,
    path: &str,
    from: Option<i64>,
    to: Option<i64>,
    now: i64,
) -> StoreResult<BTreeMap<String, i64>> {
    let f = DemandFilter { under_path: Some(path.to_owned()), from, to, ..Default::default() };
    let c = conditions(&f, now);
    let sql = format!("SELECT category, COUNT(*) AS n FROM demands {} GROUP BY category", c.where_clause());
    let mut out = BTreeMap::new();
    for row in c.query(sql).fetch_all(&db.pool).await? {
        out.insert(row.try_get::<String, _>("category")?, row.try_get::<i64, _>("n")?);
    }
    Ok(out)
}

/// The counts of a period that is over, as they stood at its end (`q.now`): the
/// items open and overdue then, and the parts of the three rates of the period's
/// items. Kept as JSON (`past`): a row written before a change of these fields
/// does not read and is counted again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PastCounts {
    open: i64,
    overdue: i64,
    rates: RateParts,
}

/// The two parts of each of the three rates.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RateParts {
    /// The response rate: answered in time, of the items.
    responded: i64,
    items: i64,
    /// The resolution rate: resolved, of those to resolve.
    resolved: i64,
    to_resolve: i64,
    /// The satisfaction rate: satisfied, of those rated.
    satisfied: i64,
    rated: i64,
}

impl From<&demands::Rates> for RateParts {
    fn from(r: &demands::Rates) -> RateParts {
        RateParts {
            responded: r.responded_in_time,
            items: r.items,
            resolved: r.resolved,
            to_resolve: r.to_resolve,
            satisfied: r.satisfied,
            rated: r.rated,
        }
    }
}

pub(crate) async fn past_counts(db: &Db, q: &FigureQuery) -> StoreResult<PastCounts> {
    let (open, overdue) = open_as_of(db, &q.path, q.now).await?;
    let r = demands::rates_as_of(db, Some(&q.path), q.from, q.to, q.now).await?;
    Ok(PastCounts { open, overdue, rates: RateParts::from(&r) })
}

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let week_start = q.week_start();
    // Read as of a past moment, "this week" ends with that moment, not today.
    let week_end = q.past.then_some(q.now + 1);
    // Of a period that is over, the open and overdue items and the rates as they
    // stood at its end: counted once, then kept (`past`).
    let past = if q.past { Some(super::past::kept(db, "demands", q, || past_counts(db, q)).await?) } else { None };
    let (open_n, overdue_n) =
        if let Some(p) = &past { (p.open, p.overdue) } else { open_and_overdue(db, &q.path, q.now).await? };
    let this_week: i64 = created_by_category(db, &q.path, Some(week_start), week_end, q.now).await?.values().sum();
    let by_category = created_by_category(db, &q.path, Some(q.from), Some(q.to), q.now).await?;
    let mut out = vec![
        Figure::count(
            "demands.open",
            Section::Demands,
            Message::new("cockpit.figure.open"),
            Message::new("cockpit.how.open"),
            open_n,
        )
        .rows(ledger("open", false, None, None)),
        Figure::count(
            "demands.overdue",
            Section::Demands,
            Message::new("cockpit.figure.overdue"),
            Message::new("cockpit.how.overdue"),
            overdue_n,
        )
        .rows(ledger("open", true, None, None)),
        Figure::count(
            "demands.this_week",
            Section::Demands,
            Message::new("cockpit.figure.this_week"),
            Message::new("cockpit.how.this_week"),
            this_week,
        )
        .rows(ledger("all", false, Some(week_start), None)),
        Figure::count(
            "demands.period",
            Section::Demands,
            Message::new("cockpit.figure.period_items"),
            Message::new("cockpit.how.period_items"),
            by_category.values().sum(),
        )
        .rows(ledger("all", false, Some(q.from), Some(q.to))),
    ];

    // The period's items by category, every active category shown.
    for category in demands::categories(db).await? {
        let n = by_category.get(&category.code).copied().unwrap_or(0);
        if n == 0 && !category.active {
            continue;
        }
        out.push(
            Figure::count(
                format!("demands.category.{}", category.code),
                Section::Categories,
                Message::new("cockpit.figure.category").lang_arg("category", &category.name_zh, &category.name_en),
                Message::new("cockpit.how.category"),
                n,
            )
            .rows(Rows::Demands {
                status: "all",
                overdue: false,
                category: Some(category.code.clone()),
                from: Some(q.from),
                to: Some(q.to),
            }),
        );
    }

    // The three rates of the period, as the ledger computes them.
    // Of a period that is over, as they stood at its end: the same whenever computed.
    let parts = match past {
        Some(p) => p.rates,
        None => RateParts::from(&demands::rates_at(db, Some(&q.path), q.from, q.to, q.now).await?),
    };
    for (key, part, whole) in [
        ("response_rate", parts.responded, parts.items),
        ("resolution_rate", parts.resolved, parts.to_resolve),
        ("satisfaction_rate", parts.satisfied, parts.rated),
    ] {
        out.push(Figure {
            key: format!("demands.{key}"),
            section: Section::Rates,
            label: Message::new(match key {
                "response_rate" => "cockpit.figure.response_rate",
                "resolution_rate" => "cockpit.figure.resolution_rate",
                _ => "cockpit.figure.satisfaction_rate",
            }),
            how: Message::new(match key {
                "response_rate" => "cockpit.how.response_rate",
                "resolution_rate" => "cockpit.how.resolution_rate",
                _ => "cockpit.how.satisfaction_rate",
            }),
            value: Value::Rate { part, whole },
            rows: Some(ledger("all", false, Some(q.from), Some(q.to))),
            sensitive: false,
        });
    }
    Ok(out)
}
