//! The three rates of the demand ledger for any area and period.
//!
//! Over the items created in `[from, to)` under an area, merged duplicates left out
//! (they are counted in the item they were merged into):
//! - response rate: items accepted, rejected or answered by their accept deadline,
//!   over all items;
//! - resolution rate: items closed (and then rated or not), over all items not
//!   rejected;
//! - satisfaction rate: items rated 4 or 5, over all items rated.

use serde::Serialize;
use utoipa::ToSchema;
use wangge_domain::{DemandStatus, Vocabulary};

use crate::conditions::Conditions;
use crate::{Db, StoreResult};

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
    pub rated: i64,
    /// Rated 4 or 5.
    pub satisfied: i64,
    /// `responded_in_time / items`; null when there are no items.
    pub response_rate: Option<f64>,
    /// `resolved / to_resolve`.
    pub resolution_rate: Option<f64>,
    /// `satisfied / rated`.
    pub satisfaction_rate: Option<f64>,
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The rates under `under_path` (everything when `None`) for items created in `[from, to)`.
pub async fn rates(db: &Db, under_path: Option<&str>, from: i64, to: i64) -> StoreResult<Rates> {
    let mut c = Conditions::default();
    if let Some(path) = under_path {
        c.under_path("path", path);
    }
    let (from, to) = (c.int(from), c.int(to));
    c.push(format!("created_at >= {from} AND created_at < {to}"));
    let merged = c.text(DemandStatus::Merged.code());
    c.push(format!("status <> {merged}"));
    let rejected = c.text(DemandStatus::Rejected.code());
    let (closed, rated) = (c.text(DemandStatus::Closed.code()), c.text(DemandStatus::Rated.code()));
    // One pass over the range: each figure is a sum of 0/1 cases, so the engine reads
    // the rows once whatever the number of figures.
    let sql = format!(
        "SELECT COUNT(*) AS items,
            SUM(CASE WHEN responded_at IS NOT NULL AND responded_at <= accept_due THEN 1 ELSE 0 END) AS responded,
            SUM(CASE WHEN status <> {rejected} THEN 1 ELSE 0 END) AS to_resolve,
            SUM(CASE WHEN status IN ({closed}, {rated}) THEN 1 ELSE 0 END) AS resolved,
            SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END) AS rated,
            SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) AS satisfied
         FROM demands {}",
        c.where_clause()
    );
    let row = c.query(sql).fetch_one(&db.pool).await?;
    use sqlx::Row;
    // SUM over no rows is NULL, not 0.
    let get = |name: &str| -> StoreResult<i64> { Ok(row.try_get::<Option<i64>, _>(name)?.unwrap_or(0)) };
    let (items, responded, to_resolve) = (get("items")?, get("responded")?, get("to_resolve")?);
    let (resolved, rated, satisfied) = (get("resolved")?, get("rated")?, get("satisfied")?);
    Ok(Rates {
        items,
        responded_in_time: responded,
        to_resolve,
        resolved,
        rated,
        satisfied,
        response_rate: ratio(responded, items),
        resolution_rate: ratio(resolved, to_resolve),
        satisfaction_rate: ratio(satisfied, rated),
    })
}
