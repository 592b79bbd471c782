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

use std::collections::HashMap;

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
/// month ends, the last point being today's [`super::coverage`] (the live figure).
///
/// Every point counts the occupied households now under `path` against those of
/// them met in its window. A window that has ended changes only when a visit of
/// its days or a household changes, so each grid's count of it is kept once
/// counted (`coverage_month_ends`, migration 0061) with the stamp of the grid's
/// versions it was counted at, and is counted again only when a write has raised
/// one of those versions since (see [`closed_windows`]).
pub async fn trend(db: &Db, path: &str, today: Date, days: u16, months: usize) -> StoreResult<Vec<TrendPoint>> {
    let (live, ended) =
        tokio::try_join!(super::coverage(db, path, today, days), ended_windows(db, path, today, days, months))?;
    Ok(ended.points(live.households, live.not_visited))
}

/// The ended windows of [`trend`], waiting for today's coverage (the live figure,
/// which a page computing the area's figures has already counted).
pub struct EndedWindows {
    today: Date,
    /// Each window's end and the households met in it.
    met: Vec<(Date, u64)>,
}

impl EndedWindows {
    /// The trend's points, given today's occupied households and those not met.
    pub fn points(self, households: u64, not_visited_today: u64) -> Vec<TrendPoint> {
        let mut out: Vec<TrendPoint> = self
            .met
            .into_iter()
            .map(|(end, met)| TrendPoint { on: iso(end), households, not_visited: households.saturating_sub(met) })
            .collect();
        out.push(TrendPoint { on: iso(self.today), households, not_visited: not_visited_today });
        out
    }
}

/// The households met in each of the windows of [`trend`] that have ended.
pub async fn ended_windows(db: &Db, path: &str, today: Date, days: u16, months: usize) -> StoreResult<EndedWindows> {
    let ends = month_ends(today, months.max(1));
    let closed = &ends[..ends.len() - 1];
    let met = closed_windows(db, path, closed, days).await?;
    Ok(EndedWindows { today, met: closed.iter().copied().zip(met).collect() })
}

/// The first day of the `days` ending on `end`.
fn window_start(end: Date, days: u16) -> Date {
    end - Duration::days(i64::from(days) - 1)
}

/// A grid's versions (`coverage_versions`) by month (`*`: its households).
type Versions = HashMap<String, i64>;

/// The stamp of a grid's count of the window ending `end`: the sum of its versions
/// of the months the window touches and of its households. Versions only grow, so
/// any write counted by a trigger since makes the sum larger.
fn stamp(versions: Option<&Versions>, end: Date, days: u16) -> i64 {
    let Some(versions) = versions else { return 0 };
    let (first, last) = (iso(window_start(end, days))[..7].to_owned(), iso(end)[..7].to_owned());
    versions.iter().filter(|(m, _)| *m == "*" || (**m >= first && **m <= last)).map(|(_, v)| *v).sum()
}

/// Households under `path` met in the window of `days` ending on each of `ends`
/// (days before today).
///
/// First the area's own kept counts (its rows of `coverage_month_ends`), trusted
/// while their stamps are the sums of the area's own versions, which every write
/// below it raises (migration 0069): a city's twelve points are a few rows. Else
/// the sum of each grid's kept count; the grids whose counts are missing or stale
/// are counted again from their households' visits in one pass
/// (`visits_household_met`); then the grids' counts and the area's are kept.
///
/// The versions, the kept counts and the recount are read in one transaction (one
/// snapshot: repeatable read on PostgreSQL), so a count is kept with the stamp of
/// exactly the rows it was counted from; a write committed meanwhile raises a
/// version and the count is taken again next time rather than trusted.
async fn closed_windows(db: &Db, path: &str, ends: &[Date], days: u16) -> StoreResult<Vec<u64>> {
    if ends.is_empty() {
        return Ok(Vec::new());
    }
    let (lo, hi) = subtree_bounds(path);
    let mut tx = db.pool.begin().await?;
    if db.backend == crate::Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
    }
    let first_month = iso(window_start(ends[0], days))[..7].to_owned();
    let mut own = Versions::new();
    for row in
        sqlx::query("SELECT month, version FROM coverage_versions WHERE path = $1 AND (month = '*' OR month >= $2)")
            .bind(path.to_owned())
            .bind(&first_month)
            .fetch_all(&mut *tx)
            .await?
    {
        own.insert(row.try_get("month")?, row.try_get("version")?);
    }
    let own_stamps: Vec<i64> = ends.iter().map(|&e| stamp(Some(&own), e, days)).collect();
    let mut own_kept: HashMap<String, (i64, i64)> = HashMap::new();
    for row in sqlx::query("SELECT ends_on, met, stamp FROM coverage_month_ends WHERE path = $1 AND days = $2")
        .bind(path.to_owned())
        .bind(i32::from(days))
        .fetch_all(&mut *tx)
        .await?
    {
        own_kept.insert(row.try_get("ends_on")?, (row.try_get("met")?, row.try_get("stamp")?));
    }
    let trusted: Option<Vec<u64>> = ends
        .iter()
        .zip(&own_stamps)
        .map(|(e, want)| own_kept.get(&iso(*e)).filter(|(_, got)| got == want).map(|(n, _)| *n as u64))
        .collect();
    if let Some(met) = trusted {
        tx.commit().await?;
        return Ok(met);
    }

    let grids: Vec<String> = sqlx::query_scalar(
        "SELECT path FROM place_counts WHERE path >= $1 AND path < $2 AND kind = 'households' AND n > 0",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&mut *tx)
    .await?;
    let mut versions: HashMap<String, Versions> = HashMap::new();
    for row in sqlx::query(
        "SELECT path, month, version FROM coverage_versions
         WHERE path >= $1 AND path < $2 AND (month = '*' OR month >= $3)",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(&first_month)
    .fetch_all(&mut *tx)
    .await?
    {
        versions.entry(row.try_get("path")?).or_default().insert(row.try_get("month")?, row.try_get("version")?);
    }
    let mut kept: HashMap<(String, String), (i64, i64)> = HashMap::new();
    for row in sqlx::query(
        "SELECT path, ends_on, met, stamp FROM coverage_month_ends WHERE path >= $1 AND path < $2 AND days = $3",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(i32::from(days))
    .fetch_all(&mut *tx)
    .await?
    {
        kept.insert((row.try_get("path")?, row.try_get("ends_on")?), (row.try_get("met")?, row.try_get("stamp")?));
    }
    let stamps = |grid: &str| -> Vec<i64> { ends.iter().map(|&e| stamp(versions.get(grid), e, days)).collect() };
    let mut met = vec![0u64; ends.len()];
    let mut stale = Vec::new();
    for grid in &grids {
        let expected = stamps(grid);
        let found: Option<Vec<i64>> = ends
            .iter()
            .zip(&expected)
            .map(|(e, want)| kept.get(&(grid.clone(), iso(*e))).filter(|(_, got)| got == want).map(|(n, _)| *n))
            .collect();
        match found {
            Some(counts) => counts.iter().enumerate().for_each(|(i, n)| met[i] += *n as u64),
            None => stale.push(grid.clone()),
        }
    }
    let counted = if stale.is_empty() {
        HashMap::new()
    } else {
        let whole = (stale.len() == grids.len()).then_some(path);
        count_windows(&mut tx, whole, &stale, ends, days).await?
    };
    tx.commit().await?;
    let mut rows = Vec::with_capacity((stale.len() + 1) * ends.len());
    for grid in &stale {
        let expected = stamps(grid);
        let counts = counted.get(grid);
        for (i, end) in ends.iter().enumerate() {
            let n = counts.map_or(0, |c| c[i]);
            met[i] += n as u64;
            rows.push((grid.clone(), *end, n, expected[i]));
        }
    }
    // The area's own counts, unless the area is one of the grids (its rows are then
    // the grid's, kept above).
    if !grids.iter().any(|g| g == path) {
        for (i, end) in ends.iter().enumerate() {
            rows.push((path.to_owned(), *end, met[i] as i64, own_stamps[i]));
        }
    }
    // Keeping them is a write on a read: if the database is busy it may fail, and
    // the figures are right without it (counted again next time). A write on the
    // side (`Db::side_write`): a city's page waited ten seconds on every view
    // while a sweep wrote.
    if let Err(e) = db.side_write(async |conn| keep_windows(conn, &rows, days).await).await {
        tracing::warn!("keeping the coverage of closed windows: {e}");
    }
    Ok(met)
}

/// Each of `grids`' households met in each window, counted from the visits: one
/// row per household met in any window, then summed by grid. `whole`: the grids
/// are all those under this path (read as a range rather than a list).
async fn count_windows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    whole: Option<&str>,
    grids: &[String],
    ends: &[Date],
    days: u16,
) -> StoreResult<HashMap<String, Vec<i64>>> {
    let mut out = HashMap::new();
    let chunks: Vec<&[String]> = if whole.is_some() { vec![grids] } else { grids.chunks(400).collect() };
    for chunk in chunks {
        let mut c = crate::conditions::Conditions::default();
        if let Some(path) = whole {
            c.under_path("h.path", path);
        } else {
            let list: Vec<String> = chunk.iter().map(|g| c.text(g.clone())).collect();
            c.push(format!("h.path IN ({})", list.join(", ")));
        }
        c.push("h.occupancy <> 'vacant'".into());
        c.push("v.outcome = 'met'".into());
        let (first, last) = (c.text(iso(window_start(ends[0], days))), c.text(iso(ends[ends.len() - 1])));
        c.push(format!("v.visited_on >= {first} AND v.visited_on <= {last}"));
        // Days are ISO text of the program's own making (never input): literals.
        let (inner, outer): (Vec<String>, Vec<String>) = ends
            .iter()
            .enumerate()
            .map(|(i, &end)| {
                (
                    format!(
                        "MAX(CASE WHEN v.visited_on >= '{}' AND v.visited_on <= '{}' THEN 1 ELSE 0 END) AS w{i}",
                        iso(window_start(end, days)),
                        iso(end)
                    ),
                    format!("CAST(SUM(m.w{i}) AS BIGINT) AS m{i}"),
                )
            })
            .unzip();
        let sql = format!(
            "SELECT m.path, {} FROM (SELECT h.path, h.id, {} FROM households h JOIN visits v ON v.household_id = h.id
                 {} GROUP BY h.path, h.id) AS m GROUP BY m.path",
            outer.join(", "),
            inner.join(", "),
            c.where_clause()
        );
        for row in c.query(sql).fetch_all(&mut **tx).await? {
            let counts = (0..ends.len())
                .map(|i| row.try_get::<Option<i64>, _>(format!("m{i}").as_str()).map(Option::unwrap_or_default))
                .collect::<Result<Vec<i64>, _>>()?;
            out.insert(row.try_get::<String, _>("path")?, counts);
        }
    }
    Ok(out)
}

/// Keeps counts of closed windows: `(grid, end, met, stamp)`.
async fn keep_windows(conn: &mut sqlx::AnyConnection, rows: &[(String, Date, i64, i64)], days: u16) -> StoreResult<()> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    for chunk in rows.chunks(100) {
        let mut c = crate::conditions::Conditions::default();
        let values: Vec<String> = chunk
            .iter()
            .map(|(grid, end, met, stamp)| {
                format!(
                    "({}, {}, {}, {}, {}, {})",
                    c.text(grid.clone()),
                    c.int(i64::from(days)),
                    c.text(iso(*end)),
                    c.text(iso(window_start(*end, days))),
                    c.int(*met),
                    c.int(*stamp)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO coverage_month_ends (path, days, ends_on, starts_on, met, stamp) VALUES {}
             ON CONFLICT (path, days, ends_on) DO UPDATE
             SET starts_on = excluded.starts_on, met = excluded.met, stamp = excluded.stamp",
            values.join(", ")
        );
        c.query(sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Kept counts of closed windows (`coverage_month_ends`, a grid's or an area's
/// above) still current — their stamp the sum of their path's versions now — that
/// differ from a recount from the visits: `wangge figures verify`'s check of them.
/// Stale counts are not differences: they are counted again when next read.
pub async fn verify_closed_windows(db: &Db) -> StoreResult<Vec<crate::summaries::Difference>> {
    let mut tx = db.pool.begin().await?;
    if db.backend == crate::Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
    }
    let mut versions: HashMap<String, Versions> = HashMap::new();
    for row in sqlx::query("SELECT path, month, version FROM coverage_versions").fetch_all(&mut *tx).await? {
        versions.entry(row.try_get("path")?).or_default().insert(row.try_get("month")?, row.try_get("version")?);
    }
    let rows = sqlx::query(
        "SELECT m.path, CAST(m.days AS BIGINT) AS days, m.ends_on, m.met, m.stamp,
             (SELECT COUNT(*) FROM households h
              WHERE h.path >= m.path AND h.path < substr(m.path, 1, length(m.path) - 1) || '0'
                AND h.occupancy <> 'vacant'
                AND EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id AND v.outcome = 'met'
                            AND v.visited_on >= m.starts_on AND v.visited_on <= m.ends_on)) AS counted
         FROM coverage_month_ends m",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for row in &rows {
        let (path, ends_on): (String, String) = (row.try_get("path")?, row.try_get("ends_on")?);
        let days: i64 = row.try_get("days")?;
        let Some(end) = wangge_domain::parse_date(&ends_on) else { continue };
        let days = u16::try_from(days).unwrap_or(0);
        if row.try_get::<i64, _>("stamp")? != stamp(versions.get(&path), end, days) {
            continue;
        }
        let (stored, counted): (i64, i64) = (row.try_get("met")?, row.try_get("counted")?);
        if stored != counted {
            out.push(crate::summaries::Difference {
                table: "coverage_month_ends",
                key: format!("{path} {days} {ends_on}"),
                stored,
                counted,
            });
        }
    }
    Ok(out)
}

/// The people of one care tag under a path, and how many of them were met in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
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
///
/// Faster still, the tagged people are kept counted by tag and last day met at
/// every level of the hierarchy (`tag_met_days`, migration 0062): the window is
/// then the few hundred rows of the area's own path (a district's 49 ms → under
/// one). Those rows serve whenever nobody under the area was met after the
/// window's end; otherwise (a past period's report) the people are read as above.
pub async fn by_tag(db: &Db, path: &str, today: Date, days: u16) -> StoreResult<Vec<TagCoverage>> {
    let codes = tag_codes(db).await?;
    let from = iso(today - Duration::days(i64::from(days) - 1));
    let to = iso(today);
    let kept = sqlx::query(
        "SELECT tag_id, CAST(SUM(n) AS BIGINT) AS people,
             CAST(SUM(CASE WHEN met_on >= $2 AND met_on <= $3 THEN n ELSE 0 END) AS BIGINT) AS visited,
             CAST(SUM(CASE WHEN met_on > $3 THEN n ELSE 0 END) AS BIGINT) AS later
         FROM tag_met_days WHERE path = $1 GROUP BY tag_id",
    )
    .bind(path)
    .bind(&from)
    .bind(&to)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    let mut met_later = false;
    for r in &kept {
        met_later |= r.try_get::<i64, _>("later")? != 0;
        let people: i64 = r.try_get("people")?;
        let Some(tag) = codes.get(&r.try_get::<String, _>("tag_id")?) else { continue };
        if people != 0 {
            out.push(TagCoverage {
                tag: tag.clone(),
                people: people as u64,
                visited: r.try_get::<i64, _>("visited")? as u64,
            });
        }
    }
    if !met_later {
        out.sort_by(|a, b| a.tag.cmp(&b.tag));
        return Ok(out);
    }
    by_tag_from_people(db, path, &codes, &from, &to).await
}

/// [`by_tag`] from the area's people, asking the visits of those met after the
/// window's end.
pub(crate) async fn by_tag_from_people(
    db: &Db,
    path: &str,
    codes: &std::collections::HashMap<String, String>,
    from: &str,
    to: &str,
) -> StoreResult<Vec<TagCoverage>> {
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
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .persistent(false) // a range of paths: planned with its values (`Conditions::query`)
        .bind(&lo)
        .bind(&hi)
        .bind(from)
        .bind(to)
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
    // A range of paths: planned with its values (`Conditions::query`).
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false).bind(&lo).bind(&hi).bind(&from).bind(&to);
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
