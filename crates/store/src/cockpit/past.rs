//! A past period's figures, kept once counted (`past_figures`, migration 0065).
//!
//! The figures of a period that is over are read as they stood at its end: the
//! demands from their timelines, the visits' coverage from the visits of the
//! window, asking the visits of everyone met since. That is the same whenever it
//! is computed, and slow (50 and 80 ms for a district of 100,000 people, for the
//! area and again for each child in the report's table), so a source's counts
//! for an area and a period are kept once counted, and read from there after.
//!
//! A kept row stays true because every write that can change it deletes it (the
//! migration's triggers, in the write's own transaction): a write whose effective
//! time (an item's creation, a step's time, a visit's day) lies before the last
//! hour drops the rows of the areas holding it whose period ended after that
//! time; a change of the households or tagged people the coverage is of drops
//! every period's. Writes of the last hour (the day's intake, steps, visits of
//! today) drop nothing: they cannot change a period that ended earlier.
//!
//! Why a period must have ended [`MARGIN`] before it is kept: a write that drops
//! nothing because it is of the last hour began at most an hour before it
//! commits, so if it was still running when a reader counted, it began less
//! than an hour before the reader, and its effective time is after the reader's
//! time less two hours, after any period the reader keeps (writes do not run for
//! an hour). A write that does drop rows but commits while a reader is counting
//! finds nothing of the reader's to drop yet: it raises `past_figures_epoch`, and
//! the reader keeps what it counted only if the epoch is the one it read before
//! counting (on PostgreSQL holding the epoch's row `FOR SHARE` while it writes,
//! which a dropping write waits for).
//!
//! The items created by category in a whole month that is over (source
//! `categories`, migration 0072) are kept alike: the year's page reads its eleven
//! past months from here, not from a year of the day roll-up.
//!
//! `wangge figures verify` counts every kept row again ([`verify`]).

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use super::FigureQuery;
use crate::summaries::Difference;
use crate::{Backend, Db, StoreResult};

/// How long before its counting a period must have ended to be kept, in ms.
pub const MARGIN: i64 = 2 * 3600 * 1000;

/// Whether `q`'s figures may be kept: a period read as of its end (the reports'
/// query), ended [`MARGIN`] before `now` (the real clock the triggers compare to).
fn keepable(q: &FigureQuery, now: i64) -> bool {
    q.past && q.now == q.to - 1 && crate::summaries::day_at_midnight(q.to).is_some() && q.to <= now - MARGIN
}

/// `source`'s counts for `q`: kept ones if any, else `count`'s, kept when `q` may be.
pub(super) async fn kept<T, F, Fut>(db: &Db, source: &str, q: &FigureQuery, count: F) -> StoreResult<T>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    if !keepable(q, wangge_domain::now_millis()) {
        return count().await;
    }
    let found: Option<String> = sqlx::query_scalar(
        "SELECT figures FROM past_figures WHERE path = $1 AND source = $2 AND to_ms = $3 AND from_ms = $4",
    )
    .bind(&q.path)
    .bind(source)
    .bind(q.to)
    .bind(q.from)
    .fetch_optional(&db.pool)
    .await?;
    // A row another version wrote differently is counted again (and replaced).
    if let Some(value) = found.and_then(|json| serde_json::from_str(&json).ok()) {
        return Ok(value);
    }
    count_and_keep(db, source, q, count).await
}

/// `count`'s counts for `q`, a period that may be kept and holds no kept row yet
/// that reads: counted, then kept unless a write dropped figures meanwhile.
async fn count_and_keep<T, F, Fut>(db: &Db, source: &str, q: &FigureQuery, count: F) -> StoreResult<T>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let epoch: i64 = sqlx::query_scalar("SELECT n FROM past_figures_epoch WHERE id = 1").fetch_one(&db.pool).await?;
    let value = count().await?;
    let json = serde_json::to_string(&value)
        .map_err(|e| crate::StoreError::Invalid(crate::error::operator(format!("keeping figures: {e}"))))?;
    const KEEP: &str = "INSERT INTO past_figures (path, source, to_ms, from_ms, figures)
        SELECT $1, $2, $3, $4, $5 WHERE (SELECT n FROM past_figures_epoch WHERE id = 1) = $6
        ON CONFLICT (path, source, to_ms, from_ms) DO UPDATE SET figures = excluded.figures";
    let keep = sqlx::query(KEEP).bind(&q.path).bind(source).bind(q.to).bind(q.from).bind(&json).bind(epoch);
    let backend = db.backend;
    // Keeping them is a write on a read, on the side (`Db::side_write`): the figures
    // are right without it (counted again next time), so a page does not wait the
    // usual ten seconds behind a long writer for it, nor fail when it cannot.
    let written = db
        .side_write(async |conn| {
            if backend == Backend::Postgres {
                // The epoch's row held until the row is committed: a dropping write
                // waits for it, then deletes the row (see the module's comment).
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::query("SELECT n FROM past_figures_epoch WHERE id = 1 FOR SHARE").execute(&mut *tx).await?;
                keep.execute(&mut *tx).await?;
                tx.commit().await?;
            } else {
                // One statement: SQLite takes the write lock before reading the epoch
                // (a transaction reading first would fail to take it once another
                // connection wrote), and its writers take turns.
                keep.execute(&mut *conn).await?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = written {
        tracing::warn!("keeping the past figures of {source} at {}: {e}", q.path);
    }
    Ok(value)
}

/// `source`'s counts for `path` in each of `periods` (`[from, to)`, each ended
/// [`MARGIN`] before now, as a year's months): those kept read in one query, the
/// others counted by `count` and kept as [`kept`] keeps them.
pub(super) async fn kept_each<T, F, Fut>(
    db: &Db,
    source: &str,
    path: &str,
    periods: &[(i64, i64)],
    count: F,
) -> StoreResult<Vec<T>>
where
    T: Serialize + DeserializeOwned,
    F: Fn(i64, i64) -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else { return Ok(Vec::new()) };
    let rows = sqlx::query(
        "SELECT from_ms, to_ms, figures FROM past_figures
         WHERE path = $1 AND source = $2 AND to_ms >= $3 AND to_ms <= $4",
    )
    .bind(path)
    .bind(source)
    .bind(first.1)
    .bind(last.1)
    .fetch_all(&db.pool)
    .await?;
    let mut found = std::collections::HashMap::new();
    for row in &rows {
        let period: (i64, i64) = (row.try_get("from_ms")?, row.try_get("to_ms")?);
        found.insert(period, row.try_get::<String, _>("figures")?);
    }
    let mut out = Vec::with_capacity(periods.len());
    for &(from, to) in periods {
        // A row another version wrote differently is counted again (and replaced).
        match found.get(&(from, to)).and_then(|json| serde_json::from_str(json).ok()) {
            Some(value) => out.push(value),
            None => {
                let q = FigureQuery { path: path.to_owned(), from, to, now: to - 1, past: true };
                debug_assert!(keepable(&q, wangge_domain::now_millis()), "{from}..{to} may not be kept");
                out.push(count_and_keep(db, source, &q, || count(from, to)).await?);
            }
        }
    }
    Ok(out)
}

/// Counts and keeps the last whole week's and month's figures of every area above
/// the grids not kept yet (a grid's are quick to count): the reports officials open
/// on Monday morning then read kept rows from the first. Run by the server's
/// report schedule; a call stops counting at `until` (the next call goes on), so
/// it never holds the machine long. Returns how many areas it counted.
pub async fn warm(db: &Db, now: i64, until: std::time::Instant) -> StoreResult<usize> {
    use super::report::{ReportKind, ReportPeriod};
    let today = super::day_of(now);
    let mut paths: Vec<String> =
        sqlx::query_scalar("SELECT path FROM areas WHERE level <> 'grid' ORDER BY path").fetch_all(&db.pool).await?;
    paths.insert(0, "/".to_owned());
    let mut counted = 0;
    for kind in [ReportKind::Week, ReportKind::Month] {
        let period = ReportPeriod::last_complete(kind, today);
        let (from, to) = period.bounds();
        if to > now - MARGIN {
            continue;
        }
        // An area is done when both sources are kept: a correction drops one alone.
        let kept: std::collections::HashSet<String> = sqlx::query_scalar(
            "SELECT path FROM past_figures WHERE to_ms = $1 AND from_ms = $2 AND source IN ('demands', 'visits')
             GROUP BY path HAVING COUNT(DISTINCT source) = 2",
        )
        .bind(to)
        .bind(from)
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .collect();
        for path in paths.iter().filter(|p| !kept.contains(*p)) {
            if std::time::Instant::now() >= until {
                return Ok(counted);
            }
            super::figures_in(db, &period.query(path, now), &[super::Section::Rates, super::Section::Visits]).await?;
            counted += 1;
        }
    }
    Ok(counted)
}

/// Every kept row counted again from the rows; a row that differs is reported
/// (`past_figures <source> <path> <from>..<to>`).
pub async fn verify(db: &Db) -> StoreResult<Vec<Difference>> {
    let rows =
        sqlx::query("SELECT path, source, to_ms, from_ms, figures FROM past_figures ORDER BY path, source, to_ms")
            .fetch_all(&db.pool)
            .await?;
    let mut out = Vec::new();
    for r in rows {
        let (path, source): (String, String) = (r.try_get("path")?, r.try_get("source")?);
        let (to, from): (i64, i64) = (r.try_get("to_ms")?, r.try_get("from_ms")?);
        let kept: String = r.try_get("figures")?;
        let q = FigureQuery { path: path.clone(), from, to, now: to - 1, past: true };
        let counted = match source.as_str() {
            "demands" => serde_json::to_value(super::demands::past_counts(db, &q).await?),
            "visits" => serde_json::to_value(super::visits::past_counts(db, &q).await?),
            "categories" => {
                serde_json::to_value(super::demands::created_from_items(db, &path, Some(from), Some(to), q.now).await?)
            }
            _ => continue,
        }
        .map_err(|e| crate::StoreError::Invalid(crate::error::operator(format!("verifying figures: {e}"))))?;
        let kept_value: serde_json::Value = serde_json::from_str(&kept).unwrap_or(serde_json::Value::Null);
        if let Some((field, stored, counted)) = first_difference("", &kept_value, &counted) {
            out.push(Difference {
                table: "past_figures",
                key: format!("{source} {path} {from}..{to} {field}"),
                stored,
                counted,
            });
        }
    }
    Ok(out)
}

/// The first count (by its place in the JSON, `rates.items`, `tags.2.visited`)
/// that differs between what was kept and what was counted again; a difference
/// of shape is reported as the place with -1.
fn first_difference(at: &str, kept: &serde_json::Value, counted: &serde_json::Value) -> Option<(String, i64, i64)> {
    use serde_json::Value;
    let join = |k: &str| if at.is_empty() { k.to_owned() } else { format!("{at}.{k}") };
    match (kept, counted) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(&join(k), a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null))
            })
        }
        (Value::Array(a), Value::Array(b)) => (0..a.len().max(b.len())).find_map(|i| {
            first_difference(&join(&i.to_string()), a.get(i).unwrap_or(&Value::Null), b.get(i).unwrap_or(&Value::Null))
        }),
        (a, b) if a == b => None,
        (a, b) => Some((at.to_owned(), a.as_i64().unwrap_or(-1), b.as_i64().unwrap_or(-1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_period_read_at_its_end_and_over_two_hours_ago_is_kept() {
        let day = 24 * 3600 * 1000;
        // Midnight in China of some day: 16:00 UTC.
        let to = 1_795_968_000_000;
        assert_eq!(crate::summaries::day_at_midnight(to).map(|_| ()), Some(()));
        let q = FigureQuery { path: "/".into(), from: to - 7 * day, to, now: to - 1, past: true };
        assert!(keepable(&q, to + MARGIN));
        assert!(!keepable(&q, to + MARGIN - 1), "ended less than two hours ago");
        assert!(!keepable(&FigureQuery { past: false, ..q.clone() }, to + day), "not read as of its end");
        assert!(!keepable(&FigureQuery { now: to - 2, ..q.clone() }, to + day));
        assert!(!keepable(&FigureQuery { to: to + 1, now: to, ..q }, to + day), "not a midnight");
    }
}
