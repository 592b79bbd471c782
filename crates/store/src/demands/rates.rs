//! The three rates of the demand ledger for any area and period.
//!
//! Over the items created in `[from, to)` under an area, merged duplicates left out
//! (they are counted in the item they were merged into):
//! - response rate: items accepted, rejected or answered by their accept deadline,
//!   over all items;
//! - resolution rate: items closed (and then rated or not), over all items not
//!   rejected;
//! - satisfaction rate: items rated 4 or 5, over all items rated — by the resident
//!   themselves or recorded by staff after a call-back (both counted, shown apart).
//!   A closed item not rated within its community's days to rate (`rating_days`,
//!   default [`RATING_DAYS_DEFAULT`]) is "not rated": it is in neither part of the
//!   fraction, and is never taken as satisfied.

use serde::Serialize;
use utoipa::ToSchema;
use wangge_domain::{DemandStatus, Vocabulary, now_millis};

use super::DAY_MS;
use crate::conditions::Conditions;
use crate::{Db, StoreResult};

/// Days a closed item may be rated in when its community has not said otherwise.
pub const RATING_DAYS_DEFAULT: i64 = 7;

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Rates {
    /// Items counted (created in the period, not merged into another).
    pub items: i64,
    /// Accepted, rejected or answered by the accept deadline.
    pub responded_in_time: i64,
    /// Items that were to be resolved: all counted but the rejected.
    pub to_resolve: i64,
    /// Closed (rated or not).
    pub resolved: i64,
    /// Rated, by the resident or recorded by staff: `rated_by_resident + rated_by_staff`.
    pub rated: i64,
    /// Rated by the resident (the portal, the tracking page).
    pub rated_by_resident: i64,
    /// Recorded by staff after a call-back (who called and when are on the item).
    pub rated_by_staff: i64,
    /// Rated 4 or 5.
    pub satisfied: i64,
    /// Rated 4 or 5 by the resident.
    pub satisfied_by_resident: i64,
    /// Closed, not rated, and the time to rate is over: not rated, never satisfied.
    pub not_rated: i64,
    /// Closed, not rated yet, still within the time to rate.
    pub awaiting_rating: i64,
    /// `responded_in_time / items`; null when there are no items.
    pub response_rate: Option<f64>,
    /// `resolved / to_resolve`.
    pub resolution_rate: Option<f64>,
    /// `satisfied / rated`.
    pub satisfaction_rate: Option<f64>,
    /// `satisfied_by_resident / rated_by_resident`: the residents' own word alone.
    pub resident_satisfaction_rate: Option<f64>,
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The rates under `under_path` (everything when `None`) for items created in `[from, to)`.
pub async fn rates(db: &Db, under_path: Option<&str>, from: i64, to: i64) -> StoreResult<Rates> {
    rates_at(db, under_path, from, to, now_millis()).await
}

/// [`rates`] as they stand now, with `now` deciding which closed items' time to
/// rate is over (the items' states are today's).
pub async fn rates_at(db: &Db, under_path: Option<&str>, from: i64, to: i64, now: i64) -> StoreResult<Rates> {
    rates_with(db, under_path, from, to, now, false).await
}

/// [`rates`] as they stood at `as_of`, a moment in the past: each item's state is
/// the one its timeline (`demand_events`) had reached by then, a response counts if
/// it was given by then, a rating if it was given by then (`rated_at`). Steps taken
/// later change nothing, so a past period's rates are the same whenever they are
/// computed. Two things the rows do not keep are read from today's row: a rating
/// replaced after `as_of` (an item rated, reopened and rated again) counts with its
/// latest score, and the end of the time to rate is the latest closing's.
pub async fn rates_as_of(db: &Db, under_path: Option<&str>, from: i64, to: i64, as_of: i64) -> StoreResult<Rates> {
    rates_with(db, under_path, from, to, as_of, true).await
}

/// The SQL of an item's state at the moment bound as `at` (and again as
/// `at_again`: one value, two placeholders): the state its last step up to then
/// led to (event ids are UUIDv7, so they order the steps of one millisecond); an
/// item with no step recorded by then had just been submitted.
///
/// Every change of an item's status is a step of its timeline, so an item with no
/// step after `at` is still in the state it was in then: its row's status, read
/// without its timeline. Only the items with a step after `at` (found once, by
/// `demand_events_at`, migration 0038) read their timeline — for a report of last
/// week, the few items touched since, not the year's (issue 18).
pub(crate) fn status_as_of(item: &str, at: &str, at_again: &str) -> String {
    format!(
        "CASE WHEN {item}.id IN (SELECT l.demand_id FROM demand_events l WHERE l.at > {at_again})
            THEN COALESCE((SELECT e.to_status FROM demand_events e WHERE e.demand_id = {item}.id AND e.at <= {at}
                ORDER BY e.at DESC, e.id DESC LIMIT 1), '{}')
            ELSE {item}.status END",
        DemandStatus::Submitted.code()
    )
}

async fn rates_with(db: &Db, under_path: Option<&str>, from: i64, to: i64, now: i64, past: bool) -> StoreResult<Rates> {
    if !past && let Some((from_day, to_day)) = whole_days(from, to) {
        return rates_from_days(db, under_path.unwrap_or("/"), (from_day, to_day), (from, to), now).await;
    }
    rates_from_items(db, under_path, from, to, now, past).await
}

/// The days `[from_day, to_day)` of `[from, to)` when each bound is a midnight in
/// China or open (`from` ≤ 0, `to` the largest time): every period of the cockpit,
/// its reports and the ledger's default.
fn whole_days(from: i64, to: i64) -> Option<(Option<i64>, Option<i64>)> {
    let from_day = if from <= 0 { None } else { Some(crate::summaries::day_at_midnight(from)?) };
    let to_day = if to == i64::MAX { None } else { Some(crate::summaries::day_at_midnight(to)?) };
    Some((from_day, to_day))
}

/// When a closed, unrated item's time to rate ends: its own, or the default after
/// its closing for items closed before windows were kept. Written out as the
/// index `demands_awaiting_rating` (migration 0064) has it, so that the engines
/// read that index: `RATING_DAYS_DEFAULT` days in ms.
const RATING_ENDS: &str = "COALESCE(rating_due, closed_at + 604800000)";

/// [`rates_at`] of whole days from the roll-up `demand_rate_days` (migration 0064,
/// read with its queued items as `demand_rate_days_live`, 0074):
/// every part of the rates is a function of an item's row alone, kept per day of
/// creation at every level, so an area's year is its ~365 rows. The one part that
/// changes with the clock — a closed item not rated, still within its time to rate
/// or past it — is split by counting those still within it from the items (the
/// index of closed unrated items by the end of their time: a few days' closings).
async fn rates_from_days(
    db: &Db,
    path: &str,
    (from_day, to_day): (Option<i64>, Option<i64>),
    (from, to): (i64, i64),
    now: i64,
) -> StoreResult<Rates> {
    use sqlx::Row;
    let mut c = Conditions::default();
    let p = c.text(path);
    c.push(format!("path = {p}"));
    if let Some(day) = from_day {
        let d = c.int(day);
        c.push(format!("day >= {d}"));
    }
    if let Some(day) = to_day {
        let d = c.int(day);
        c.push(format!("day < {d}"));
    }
    let sums = [
        "items",
        "responded",
        "to_resolve",
        "resolved",
        "rated_staff",
        "rated_other",
        "satisfied",
        "satisfied_other",
        "closed_unrated",
    ]
    .map(|col| format!("CAST(SUM({col}) AS BIGINT) AS {col}"))
    .join(", ");
    let row =
        c.query(format!("SELECT {sums} FROM demand_rate_days_live {}", c.where_clause())).fetch_one(&db.pool).await?;
    let get = |name: &str| -> StoreResult<i64> { Ok(row.try_get::<Option<i64>, _>(name)?.unwrap_or(0)) };

    let mut a = Conditions::default();
    // Written out, not bound: SQLite uses a partial index only for a query whose
    // WHERE visibly implies the index's.
    a.push(format!("status = '{}'", DemandStatus::Closed.code()));
    a.push("rating IS NULL".into());
    let at = a.int(now);
    a.push(format!("{RATING_ENDS} >= {at}"));
    if path != "/" {
        a.under_path("path", path);
    }
    let (lo, hi) = (a.int(from), a.int(to));
    a.push(format!("created_at >= {lo} AND created_at < {hi}"));
    // SQLite's planner takes the index of states, which holds every closed item of
    // the area (half a district's year): told which to read. PostgreSQL finds it
    // alone with the expression's statistics (migration 0071: it keeps none of a
    // partial index's expressions).
    let indexed = if db.backend == crate::Backend::Sqlite { " INDEXED BY demands_awaiting_rating" } else { "" };
    let awaiting =
        a.scalar(format!("SELECT COUNT(*) FROM demands{indexed} {}", a.where_clause())).fetch_one(&db.pool).await?;
    Ok(assemble(Parts {
        items: get("items")?,
        responded: get("responded")?,
        to_resolve: get("to_resolve")?,
        resolved: get("resolved")?,
        rated_by_staff: get("rated_staff")?,
        rated_by_resident: get("rated_other")?,
        satisfied: get("satisfied")?,
        satisfied_by_resident: get("satisfied_other")?,
        not_rated: get("closed_unrated")? - awaiting,
        awaiting,
    }))
}

/// The counts the rates are made of.
struct Parts {
    items: i64,
    responded: i64,
    to_resolve: i64,
    resolved: i64,
    rated_by_staff: i64,
    rated_by_resident: i64,
    satisfied: i64,
    satisfied_by_resident: i64,
    not_rated: i64,
    awaiting: i64,
}

fn assemble(p: Parts) -> Rates {
    let rated = p.rated_by_resident + p.rated_by_staff;
    Rates {
        items: p.items,
        responded_in_time: p.responded,
        to_resolve: p.to_resolve,
        resolved: p.resolved,
        rated,
        rated_by_resident: p.rated_by_resident,
        rated_by_staff: p.rated_by_staff,
        satisfied: p.satisfied,
        satisfied_by_resident: p.satisfied_by_resident,
        not_rated: p.not_rated,
        awaiting_rating: p.awaiting,
        response_rate: ratio(p.responded, p.items),
        resolution_rate: ratio(p.resolved, p.to_resolve),
        satisfaction_rate: ratio(p.satisfied, rated),
        resident_satisfaction_rate: ratio(p.satisfied_by_resident, p.rated_by_resident),
    }
}

/// The rates from the items' own rows (their index `demands_path`), as they stand
/// at `now` or, `past`, as they stood then: any period, and the reference the
/// roll-up is tested against.
pub(crate) async fn rates_from_items(
    db: &Db,
    under_path: Option<&str>,
    from: i64,
    to: i64,
    now: i64,
    past: bool,
) -> StoreResult<Rates> {
    let mut c = Conditions::default();
    if let Some(path) = under_path {
        c.under_path("path", path);
    }
    let (from, to) = (c.int(from), c.int(to));
    c.push(format!("created_at >= {from} AND created_at < {to}"));
    let merged = c.text(DemandStatus::Merged.code());
    let source = if past {
        // The items of the range as they stood at `now`; the outer query then reads
        // them exactly as it reads today's rows.
        let (t_responded, t_rating, t_source) = (c.int(now), c.int(now), c.int(now));
        let (t_status, t_changed) = (c.int(now), c.int(now));
        let inner = format!(
            "SELECT d.accept_due, d.rating_due, d.closed_at,
                CASE WHEN d.responded_at <= {t_responded} THEN d.responded_at END AS responded_at,
                CASE WHEN d.rated_at <= {t_rating} THEN d.rating END AS rating,
                CASE WHEN d.rated_at <= {t_source} THEN d.rating_source END AS rating_source,
                {} AS status
             FROM demands d {}",
            status_as_of("d", &t_status, &t_changed),
            c.where_clause()
        );
        format!("({inner}) AS demands WHERE status <> {merged}")
    } else {
        c.push(format!("status <> {merged}"));
        format!("demands {}", c.where_clause())
    };
    let rejected = c.text(DemandStatus::Rejected.code());
    let (closed, rated) = (c.text(DemandStatus::Closed.code()), c.text(DemandStatus::Rated.code()));
    let closed_again = c.text(DemandStatus::Closed.code());
    // An item closed before rating windows existed has no `rating_due`: the default.
    let default_window = c.int(RATING_DAYS_DEFAULT * DAY_MS);
    let due = format!("COALESCE(rating_due, closed_at + {default_window})");
    let (now_a, now_b) = (c.int(now), c.int(now));
    // Ratings written before their source was (all by the resident then) count as the resident's.
    let by_staff = "rating_source = 'staff'";
    // One pass over the range: each figure is a sum of 0/1 cases, so the engine reads
    // the rows once whatever the number of figures.
    let sql = format!(
        "SELECT COUNT(*) AS items,
            SUM(CASE WHEN responded_at IS NOT NULL AND responded_at <= accept_due THEN 1 ELSE 0 END) AS responded,
            SUM(CASE WHEN status <> {rejected} THEN 1 ELSE 0 END) AS to_resolve,
            SUM(CASE WHEN status IN ({closed}, {rated}) THEN 1 ELSE 0 END) AS resolved,
            SUM(CASE WHEN rating IS NOT NULL AND {by_staff} THEN 1 ELSE 0 END) AS rated_staff,
            SUM(CASE WHEN rating IS NOT NULL AND NOT ({by_staff}) THEN 1 ELSE 0 END) AS rated_resident,
            SUM(CASE WHEN rating IS NOT NULL AND rating_source IS NULL THEN 1 ELSE 0 END) AS rated_unknown,
            SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) AS satisfied,
            SUM(CASE WHEN rating >= 4 AND (rating_source IS NULL OR NOT ({by_staff})) THEN 1 ELSE 0 END)
                AS satisfied_resident,
            SUM(CASE WHEN status = {closed_again} AND rating IS NULL AND {due} < {now_a} THEN 1 ELSE 0 END)
                AS not_rated,
            SUM(CASE WHEN status = {closed_again} AND rating IS NULL AND {due} >= {now_b} THEN 1 ELSE 0 END)
                AS awaiting
         FROM {source}"
    );
    let row = c.query(sql).fetch_one(&db.pool).await?;
    use sqlx::Row;
    // SUM over no rows is NULL, not 0.
    let get = |name: &str| -> StoreResult<i64> { Ok(row.try_get::<Option<i64>, _>(name)?.unwrap_or(0)) };
    let (items, responded, to_resolve) = (get("items")?, get("responded")?, get("to_resolve")?);
    let (resolved, satisfied) = (get("resolved")?, get("satisfied")?);
    // `NOT (rating_source = 'staff')` is NULL, not true, for a NULL source.
    Ok(assemble(Parts {
        items,
        responded,
        to_resolve,
        resolved,
        rated_by_staff: get("rated_staff")?,
        rated_by_resident: get("rated_resident")? + get("rated_unknown")?,
        satisfied,
        satisfied_by_resident: get("satisfied_resident")?,
        not_rated: get("not_rated")?,
        awaiting: get("awaiting")?,
    }))
}

#[cfg(test)]
#[test]
fn the_rating_end_written_out_is_the_default_window() {
    assert!(RATING_ENDS.contains(&format!("closed_at + {})", RATING_DAYS_DEFAULT * DAY_MS)));
}
