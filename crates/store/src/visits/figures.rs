//! Coverage beyond the one figure of [`super::coverage`]: its trend by month, the
//! people of each care tag met in the window, and the households (or tagged
//! people) behind each figure, for the lists the cockpit links to.
//!
//! Every count here uses the same definition as [`super::coverage`]: occupied
//! households under the path as they are now, a visit counting when someone was met
//! (`outcome = 'met'`) on a day of the window. A door or video visit reaches
//! everyone in the household, a call or a chance meeting only the person met
//! (`VisitChannel::reaches_household`).

use serde::Serialize;
use sqlx::Row;
use time::{Date, Duration};
use utoipa::ToSchema;

use super::{iso, walking};
use crate::{Db, StoreResult, subtree_bounds};

/// One point of the trend: the share of households not met in the `days` ending `on`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrendPoint {
    /// The day the window ends: a month's last day, or today for this month.
    #[schema(format = Date)]
    pub on: String,
    pub households: u64,
    pub not_visited: u64,
}

impl TrendPoint {
    /// In per cent, one decimal (as [`super::Coverage::not_visited_percent`]).
    pub fn percent(&self) -> f64 {
        if self.households == 0 {
            0.0
        } else {
            (self.not_visited as f64 * 1000.0 / self.households as f64).round() / 10.0
        }
    }
}

/// The last day of each of the `months` months up to `today` (today for this
/// month), oldest first.
pub fn month_ends(today: Date, months: usize) -> Vec<Date> {
    let mut out = vec![today];
    let mut first = today.replace_day(1).expect("day 1");
    while out.len() < months {
        let end = first - Duration::days(1);
        out.push(end);
        first = end.replace_day(1).expect("day 1");
    }
    out.reverse();
    out
}

/// The households not met in the `days` ending at each of the last `months`
/// month ends, in one pass over the visits of the period (the covering index
/// `visits_path_met`, migration 0038), grouped once by household.
pub async fn trend(db: &Db, path: &str, today: Date, days: u16, months: usize) -> StoreResult<Vec<TrendPoint>> {
    let ends = month_ends(today, months.max(1));
    let window = |end: Date| (end - Duration::days(i64::from(days) - 1), end);
    let (lo, hi) = subtree_bounds(path);
    let households: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM households WHERE path >= $1 AND path < $2 AND occupancy <> 'vacant'")
            .bind(&lo)
            .bind(&hi)
            .fetch_one(&db.pool)
            .await?;
    // Days are ISO text: written into the statement, they are literals of the
    // program's own making (never input), so the per-month columns need no binds.
    // Each household met in the 15 months is one row of the inner query, with a
    // 1 for each window it was met in (one grouping, not a distinct count per
    // month); only those rows then meet `households` for the vacant ones.
    let (inner, outer): (Vec<String>, Vec<String>) = ends
        .iter()
        .enumerate()
        .map(|(i, &end)| {
            let (from, to) = window(end);
            (
                format!(
                    "MAX(CASE WHEN v.visited_on >= '{}' AND v.visited_on <= '{}' THEN 1 ELSE 0 END) AS w{i}",
                    iso(from),
                    iso(to)
                ),
                format!("CAST(COALESCE(SUM(m.w{i}), 0) AS BIGINT) AS m{i}"),
            )
        })
        .unzip();
    let sql = format!(
        "SELECT {} FROM (SELECT v.household_id, {} FROM visits v
             WHERE v.path >= $1 AND v.path < $2 AND v.visited_on >= $3 AND v.visited_on <= $4 AND v.outcome = 'met'
             GROUP BY v.household_id) AS m
         JOIN households h ON h.id = m.household_id WHERE h.occupancy <> 'vacant'",
        outer.join(", "),
        inner.join(", ")
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&lo)
        .bind(&hi)
        .bind(iso(window(ends[0]).0))
        .bind(iso(today))
        .fetch_one(&db.pool)
        .await?;
    let households = households as u64;
    ends.iter()
        .enumerate()
        .map(|(i, end)| {
            let visited: i64 = row.try_get(format!("m{i}").as_str())?;
            Ok(TrendPoint { on: iso(*end), households, not_visited: households.saturating_sub(visited as u64) })
        })
        .collect()
}

/// The people of one care tag under a path, and how many of them were met in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TagCoverage {
    /// The tag's code (`elderly_alone`).
    pub tag: String,
    pub people: u64,
    pub visited: u64,
}

/// The SQL that is true when person `r` was met in `[$3, $4]`: a door or video
/// visit to their household, or any visit naming them.
const MET_PERSON: &str = "EXISTS (SELECT 1 FROM visits v WHERE v.household_id = r.household_id
        AND v.visited_on >= $3 AND v.visited_on <= $4 AND v.outcome = 'met'
        AND (v.channel IN ('door', 'video') OR v.resident_id = r.id))";

/// Current residents living in a household under `path`, by care tag (every tag
/// someone holds), with those met in the `days` ending `today`. Tags sorted by code.
///
/// Each resident keeps the last day they were met by [`MET_PERSON`]'s definition
/// (`residents.last_met_on`, kept by triggers, migration 0040), so a person whose
/// last day lies in the window was met in it and one whose last day lies before it
/// (or who was never met) was not; only a person met *after* the window's end (a
/// past period's report) asks the visits. The range is read from
/// `residents_living` alone (issue 18: the `EXISTS` per tagged person took 1.2 s
/// for a district of 100,000 people).
pub async fn by_tag(db: &Db, path: &str, today: Date, days: u16) -> StoreResult<Vec<TagCoverage>> {
    let (lo, hi) = subtree_bounds(path);
    // Grouped by the tag's id and named in Rust: joining `tags` lets SQLite's
    // planner start from the tag and walk the whole city's tagged people.
    let sql = format!(
        "SELECT rt.tag_id, COUNT(*) AS people,
             SUM(CASE WHEN r.last_met_on IS NULL OR r.last_met_on < $3 THEN 0
                      WHEN r.last_met_on <= $4 THEN 1
                      WHEN {MET_PERSON} THEN 1 ELSE 0 END) AS visited
         FROM residents r JOIN resident_tags rt ON rt.resident_id = r.id
         WHERE r.path >= $1 AND r.path < $2 AND r.status = 'active' AND r.household_id IS NOT NULL
         GROUP BY rt.tag_id"
    );
    let codes = tag_codes(db).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&lo)
        .bind(&hi)
        .bind(iso(today - Duration::days(i64::from(days) - 1)))
        .bind(iso(today))
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let people: i64 = r.try_get("people")?;
        let visited: Option<i64> = r.try_get("visited")?;
        let Some(tag) = codes.get(&r.try_get::<String, _>("tag_id")?) else { continue };
        out.push(TagCoverage { tag: tag.clone(), people: people as u64, visited: visited.unwrap_or(0) as u64 });
    }
    out.sort_by(|a, b| a.tag.cmp(&b.tag));
    Ok(out)
}

/// Every tag's code by its id.
async fn tag_codes(db: &Db) -> StoreResult<std::collections::HashMap<String, String>> {
    sqlx::query("SELECT id, code FROM tags")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("code")?)))
        .collect()
}

/// Which rows behind a coverage figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Not met in the window (the seed's "rarely visited").
    NotVisited,
    /// Met through any channel.
    Visited,
    /// Met at the door.
    AtDoor,
}

impl Which {
    pub fn code(self) -> &'static str {
        match self {
            Which::NotVisited => "not_visited",
            Which::Visited => "visited",
            Which::AtDoor => "visited_at_door",
        }
    }

    pub fn from_code(code: &str) -> Option<Which> {
        [Which::NotVisited, Which::Visited, Which::AtDoor].into_iter().find(|w| w.code() == code)
    }
}

/// One household (or, for a tag, one person) behind a figure, with when they were
/// last met and last met at the door (within the window).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Behind {
    #[schema(format = Uuid)]
    pub household_id: String,
    /// The person, for a tag's figure.
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    pub name: Option<String>,
    pub building: String,
    pub unit: String,
    pub room: String,
    #[schema(format = Date)]
    pub last_met: Option<String>,
    #[schema(format = Date)]
    pub last_at_door: Option<String>,
}

/// The households under `path` behind a figure over the `days` ending `today` (with
/// `tag`: the people of that care tag), in walking order (building, unit, room).
/// The caller checks that the viewer sees names there.
pub async fn behind(
    db: &Db,
    path: &str,
    today: Date,
    days: u16,
    which: Which,
    tag: Option<&str>,
) -> StoreResult<Vec<Behind>> {
    let (lo, hi) = subtree_bounds(path);
    let (from, to) = (iso(today - Duration::days(i64::from(days) - 1)), iso(today));
    let sql = match tag {
        None => "SELECT h.id AS household_id, NULL AS resident_id, NULL AS name, b.number, h.unit, h.room,
                    (SELECT MAX(v.visited_on) FROM visits v WHERE v.household_id = h.id AND v.outcome = 'met'
                       AND v.visited_on >= $3 AND v.visited_on <= $4) AS last_met,
                    (SELECT MAX(v.visited_on) FROM visits v WHERE v.household_id = h.id AND v.outcome = 'met'
                       AND v.channel = 'door' AND v.visited_on >= $3 AND v.visited_on <= $4) AS last_at_door
                 FROM households h JOIN buildings b ON b.id = h.building_id
                 WHERE h.path >= $1 AND h.path < $2 AND h.occupancy <> 'vacant'"
            .to_owned(),
        Some(_) => "SELECT r.household_id, r.id AS resident_id, r.name, b.number, h.unit, h.room,
                    (SELECT MAX(v.visited_on) FROM visits v WHERE v.household_id = r.household_id
                       AND v.outcome = 'met' AND v.visited_on >= $3 AND v.visited_on <= $4
                       AND (v.channel IN ('door', 'video') OR v.resident_id = r.id)) AS last_met,
                    (SELECT MAX(v.visited_on) FROM visits v WHERE v.household_id = r.household_id
                       AND v.outcome = 'met' AND v.channel = 'door'
                       AND v.visited_on >= $3 AND v.visited_on <= $4) AS last_at_door
                 FROM residents r JOIN resident_tags rt ON rt.resident_id = r.id
                 JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
                 WHERE r.path >= $1 AND r.path < $2 AND r.status = 'active' AND rt.tag_id = $5"
            .to_owned(),
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&lo).bind(&hi).bind(&from).bind(&to);
    if let Some(code) = tag {
        let id = tag_codes(db).await?.into_iter().find(|(_, c)| c == code).map(|(id, _)| id).unwrap_or_default();
        q = q.bind(id);
    }
    let rows = q.fetch_all(&db.pool).await?;
    let mut out = Vec::new();
    for r in &rows {
        let line = Behind {
            household_id: r.try_get("household_id")?,
            resident_id: r.try_get("resident_id")?,
            name: r.try_get("name")?,
            building: r.try_get("number")?,
            unit: r.try_get("unit")?,
            room: r.try_get("room")?,
            last_met: r.try_get("last_met")?,
            last_at_door: r.try_get("last_at_door")?,
        };
        let keep = match which {
            Which::NotVisited => line.last_met.is_none(),
            Which::Visited => line.last_met.is_some(),
            Which::AtDoor => line.last_at_door.is_some(),
        };
        if keep {
            out.push(line);
        }
    }
    out.sort_by(|a, b| {
        walking(&a.building)
            .cmp(&walking(&b.building))
            .then_with(|| walking(&a.unit).cmp(&walking(&b.unit)))
            .then_with(|| walking(&a.room).cmp(&walking(&b.room)))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}
