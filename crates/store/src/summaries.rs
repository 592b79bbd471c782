//! Summary tables: counts that change only when rows change, kept per place so
//! that a figure of a street or a city reads a few summary rows instead of
//! counting every item or person (issue 18, "figures that scale").
//!
//! Each table is kept by triggers of its migration (0028, 0038; 0035 keeps each
//! household's last day met, a value on the row rather than a count, checked
//! here the same way), so every write of a row
//! — a form, the API, the group commit of intake, an import, a bulk load, the
//! demo's history, even SQL typed by hand — changes its counts in the same
//! transaction. Figures that change with time (overdue, age bands, "this week")
//! are not summarised: they are computed when read.
//!
//! # Adding a summary
//!
//! A module that wants a count kept adds, in one migration on both engines, the
//! table (its key columns, `n BIGINT`, the key as primary key, the row's own
//! `path` first so that "under this area" is a range of the key), its backfill
//! from the rows and its triggers; then one [`Summary`] in [`SUMMARIES`] saying
//! how to recompute it from the rows. `wangge figures verify` ([`verify`]) then
//! checks it like the others, and its cockpit [`crate::cockpit::Source`] reads
//! it with a `SUM(n)` under the area's path.
//!
//! # Roll-ups
//!
//! A count whose key holds a day or a month has nearly as many rows per grid as
//! rows counted, so summing a district's grids is no faster than counting. Such
//! counts are kept as roll-ups (migrations 0062, 0063): one row for the row's own
//! place, one for each ancestor and one for the whole deployment (`/`), written by
//! triggers through `area_ancestors`; an area's figure is then the rows of its own
//! path (`WHERE path = $1`). They are checked here like the summaries.
//!
//! At a city's scale even a summary without a day sums too many rows (17,241
//! grids' residents by tag: 169,000 rows). So the registry's summaries are rolled
//! up too (migration 0068, `area_counts`): triggers on the summary tables pass each
//! change of a row to its place's ancestors, and [`residents_by_type`],
//! [`residents_by_tag`] and [`places`] read the area's own rows. The team's posts
//! are rolled up the same way (`team_post_counts`).
//!
//! # Demands entered on PostgreSQL: queued, then folded
//!
//! Intake writes every item through one connection, so what its transaction does
//! beside the items bounds its rate. Upserting the three summaries of demands there
//! (a commit of 32 items: ~133 rows, today's rows of every level) cost intake
//! 12–35 % (docs/benchmarks.md). On PostgreSQL the items' statement trigger
//! appends their counted columns to `demand_summary_queue` instead, in the same
//! transaction (migration 0074; a statement of more than 64 items, a history load,
//! is still summed into the tables directly), and every reader sums a `*_live` view — the table
//! plus its queued items counted as the table would count them — so a figure is
//! exact whether the queue is folded or not. [`fold_demand_queue`] moves the queue
//! into the tables: the server every [`FOLD_EVERY`], a history write before it
//! commits, [`verify`] first. The fold and a large statement count their items
//! through one function, `demand_summaries_add` (migration 0075); the open items
//! by deadline day (`demand_open_days`, migration 0076, kept on PostgreSQL only)
//! come through the same queue and fold, counted in by `demand_open_add`. SQLite's row
//! triggers write the tables directly (under 10 % of its intake); its views are the
//! tables.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::conditions::Conditions;
use crate::{Db, StoreResult};

/// One summary table and how to count it again from the rows.
pub struct Summary {
    /// The module that keeps it (`demands`, `registry`).
    pub module: &'static str,
    pub table: &'static str,
    /// The key of a row as one text, over the table's columns.
    pub key: &'static str,
    /// Its count: `n` for a summary table; `CAST(1 AS BIGINT)` for values kept on
    /// each row of a table (the households' last met days), whose key then holds
    /// the values.
    pub n: &'static str,
    /// The same keys and their counts, from the rows: `SELECT <key> AS k, COUNT(*) AS n …`.
    pub recompute: &'static str,
}

/// Every summary table.
pub const SUMMARIES: &[Summary] = &[
    Summary {
        module: "demands",
        table: "demand_counts",
        key: "path || ' ' || category || ' ' || status || ' ' || CAST(day AS TEXT)",
        n: "n",
        recompute: "SELECT path || ' ' || category || ' ' || status || ' ' || \
                    CAST((created_at + 28800000) / 86400000 AS TEXT) AS k, COUNT(*) AS n FROM demands \
                    GROUP BY path, category, status, (created_at + 28800000) / 86400000",
    },
    Summary {
        module: "registry",
        table: "resident_counts",
        key: "path || ' ' || residence_type",
        n: "n",
        recompute: "SELECT path || ' ' || residence_type AS k, COUNT(*) AS n FROM residents \
                    WHERE status = 'active' GROUP BY path, residence_type",
    },
    Summary {
        module: "registry",
        table: "resident_tag_counts",
        key: "path || ' ' || tag_id",
        n: "n",
        recompute: "SELECT r.path || ' ' || rt.tag_id AS k, COUNT(*) AS n \
                    FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id \
                    WHERE r.status = 'active' GROUP BY r.path, rt.tag_id",
    },
    Summary {
        module: "registry",
        table: "place_counts",
        key: "path || ' ' || kind",
        n: "n",
        recompute: "SELECT path || ' buildings' AS k, COUNT(*) AS n FROM buildings GROUP BY path \
                    UNION ALL SELECT path || ' households', COUNT(*) FROM households GROUP BY path \
                    UNION ALL SELECT path || ' organisations', COUNT(*) FROM organisations GROUP BY path",
    },
    // Not a table of counts: each household's last day met and met at the door
    // (migration 0035), kept by triggers on `visits` for the coverage figure. A
    // household whose days differ from its visits shows as two keys, the stored
    // days (counted 0) and the days from its visits (stored 0).
    Summary {
        module: "visits",
        table: "households",
        key: "id || ' ' || COALESCE(last_met_on, '-') || ' ' || COALESCE(last_door_on, '-')",
        n: "CAST(1 AS BIGINT)",
        recompute: "SELECT h.id || ' ' || COALESCE(MAX(CASE WHEN v.outcome = 'met' THEN v.visited_on END), '-') \
                    || ' ' || COALESCE(MAX(CASE WHEN v.outcome = 'met' AND v.channel = 'door' \
                    THEN v.visited_on END), '-') AS k, CAST(1 AS BIGINT) AS n \
                    FROM households h LEFT JOIN visits v ON v.household_id = h.id GROUP BY h.id",
    },
    // Each resident's last day met (migration 0040), for the care tags' coverage:
    // a visit with someone met to their household at the door or by video, or one
    // naming them. Shown as the households' days are.
    Summary {
        module: "visits",
        table: "residents",
        key: "id || ' ' || COALESCE(last_met_on, '-')",
        n: "CAST(1 AS BIGINT)",
        recompute: "SELECT r.id || ' ' || COALESCE(MAX(v.visited_on), '-') AS k, CAST(1 AS BIGINT) AS n \
                    FROM residents r LEFT JOIN visits v ON v.household_id = r.household_id \
                    AND v.outcome = 'met' AND (v.channel IN ('door', 'video') OR v.resident_id = r.id) \
                    GROUP BY r.id",
    },
    // The roll-ups kept at every level (migration 0062). Each area's path with
    // itself, its ancestors and '/', from the areas' parents (not from the table
    // itself, which the roll-ups below join).
    Summary {
        module: "registry",
        table: "area_ancestors",
        key: "path || ' ' || ancestor",
        n: "CAST(1 AS BIGINT)",
        recompute: "WITH RECURSIVE up (path, ancestor, parent_id) AS ( \
                    SELECT path, path, parent_id FROM areas \
                    UNION ALL SELECT up.path, p.path, p.parent_id FROM up JOIN areas p ON p.id = up.parent_id) \
                    SELECT path || ' ' || ancestor AS k, CAST(1 AS BIGINT) AS n FROM up \
                    UNION SELECT path || ' /', CAST(1 AS BIGINT) FROM areas",
    },
    // Current residents by sex and month of birth at every level. A resident whose
    // place is no area's (so counted at no level) shows as a key `unplaced <path>`.
    Summary {
        module: "registry",
        table: "resident_births",
        key: "path || ' ' || gender || ' ' || month",
        n: "n",
        recompute: "SELECT a.ancestor || ' ' || r.gender || ' ' || substr(r.birth_date, 1, 7) AS k, COUNT(*) AS n \
                    FROM residents r JOIN area_ancestors a ON a.path = r.path WHERE r.status = 'active' \
                    GROUP BY a.ancestor, r.gender, substr(r.birth_date, 1, 7) \
                    UNION ALL SELECT 'unplaced ' || r.path, COUNT(*) FROM residents r WHERE r.status = 'active' \
                    AND NOT EXISTS (SELECT 1 FROM area_ancestors a WHERE a.path = r.path) GROUP BY r.path",
    },
    // Tagged current residents living in a household by the day last met ('' never),
    // at every level.
    Summary {
        module: "visits",
        table: "tag_met_days",
        key: "path || ' ' || tag_id || ' ' || met_on",
        n: "n",
        recompute: "SELECT a.ancestor || ' ' || rt.tag_id || ' ' || COALESCE(r.last_met_on, '') AS k, COUNT(*) AS n \
                    FROM residents r JOIN resident_tags rt ON rt.resident_id = r.id \
                    JOIN area_ancestors a ON a.path = r.path \
                    WHERE r.status = 'active' AND r.household_id IS NOT NULL \
                    GROUP BY a.ancestor, rt.tag_id, COALESCE(r.last_met_on, '')",
    },
    // Occupied households by the last day met, any channel and at the door ('' never),
    // at every level (migration 0067). A household whose place is no area's shows as
    // a key `unplaced <path>`.
    Summary {
        module: "visits",
        table: "household_met_days",
        key: "path || ' ' || channel || ' ' || met_on",
        n: "n",
        recompute: "SELECT a.ancestor || ' ' || c.channel || ' ' || CASE c.channel WHEN 'any' \
                    THEN COALESCE(h.last_met_on, '') ELSE COALESCE(h.last_door_on, '') END AS k, COUNT(*) AS n \
                    FROM households h JOIN area_ancestors a ON a.path = h.path \
                    CROSS JOIN (SELECT 'any' AS channel UNION ALL SELECT 'door') c WHERE h.occupancy <> 'vacant' \
                    GROUP BY a.ancestor, c.channel, CASE c.channel WHEN 'any' THEN COALESCE(h.last_met_on, '') \
                    ELSE COALESCE(h.last_door_on, '') END \
                    UNION ALL SELECT 'unplaced ' || h.path, COUNT(*) FROM households h WHERE h.occupancy <> 'vacant' \
                    AND NOT EXISTS (SELECT 1 FROM area_ancestors a WHERE a.path = h.path) GROUP BY h.path",
    },
    // The registry's summaries above rolled up to every level (migration 0068),
    // counted here from the rows themselves: residents by residence type, by care
    // tag, and places by kind. A row whose place is no area's is counted at no level.
    Summary {
        module: "registry",
        table: "area_counts",
        key: "path || ' ' || source || ' ' || k",
        n: "n",
        recompute: "SELECT a.ancestor || ' resident_counts ' || r.residence_type AS k, COUNT(*) AS n \
                    FROM residents r JOIN area_ancestors a ON a.path = r.path WHERE r.status = 'active' \
                    GROUP BY a.ancestor, r.residence_type \
                    UNION ALL SELECT a.ancestor || ' resident_tag_counts ' || rt.tag_id, COUNT(*) \
                    FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id \
                    JOIN area_ancestors a ON a.path = r.path WHERE r.status = 'active' GROUP BY a.ancestor, rt.tag_id \
                    UNION ALL SELECT a.ancestor || ' place_counts buildings', COUNT(*) FROM buildings b \
                    JOIN area_ancestors a ON a.path = b.path GROUP BY a.ancestor \
                    UNION ALL SELECT a.ancestor || ' place_counts households', COUNT(*) FROM households h \
                    JOIN area_ancestors a ON a.path = h.path GROUP BY a.ancestor \
                    UNION ALL SELECT a.ancestor || ' place_counts organisations', COUNT(*) FROM organisations o \
                    JOIN area_ancestors a ON a.path = o.path GROUP BY a.ancestor",
    },
    // The grids' posts by post and last day ('' open) at every level (migration 0068).
    Summary {
        module: "team",
        table: "team_post_counts",
        key: "path || ' ' || post || ' ' || ends_on",
        n: "n",
        recompute: "SELECT a.ancestor || ' ' || p.post || ' ' || COALESCE(p.ends_on, '') AS k, COUNT(*) AS n \
                    FROM grid_posts p JOIN areas g ON g.id = p.grid_id JOIN area_ancestors a ON a.path = g.path \
                    GROUP BY a.ancestor, p.post, COALESCE(p.ends_on, '')",
    },
    // Demands created and closed per day and category at every level (migration
    // 0063), one key per path, day and category holding both counts. An item whose place is no area's shows
    // as a key `unplaced <path>`.
    Summary {
        module: "demands",
        table: "demand_days",
        key: "path || ' ' || CAST(day AS TEXT) || ' ' || category || ' ' || CAST(created AS TEXT) || ' ' \
              || CAST(closed AS TEXT)",
        n: "CAST(CASE WHEN created = 0 AND closed = 0 THEN 0 ELSE 1 END AS BIGINT)",
        recompute: "SELECT ancestor || ' ' || CAST(day AS TEXT) || ' ' || category || ' ' || CAST(SUM(created) AS TEXT) \
                    || ' ' || CAST(SUM(closed) AS TEXT) AS k, CAST(1 AS BIGINT) AS n FROM ( \
                    SELECT a.ancestor, (d.created_at + 28800000) / 86400000 AS day, d.category, 1 AS created, \
                    0 AS closed FROM demands d JOIN area_ancestors a ON a.path = d.path \
                    UNION ALL SELECT a.ancestor, (d.closed_at + 28800000) / 86400000, d.category, 0, 1 \
                    FROM demands d JOIN area_ancestors a ON a.path = d.path WHERE d.closed_at IS NOT NULL \
                    ) counted GROUP BY ancestor, day, category \
                    UNION ALL SELECT 'unplaced ' || d.path, COUNT(*) FROM demands d \
                    WHERE NOT EXISTS (SELECT 1 FROM area_ancestors a WHERE a.path = d.path) GROUP BY d.path",
    },
    // Open items by the day of their deadline (to accept while submitted, to resolve
    // after) and of their creation, at every level (migration 0076; kept on
    // PostgreSQL, a view of the items on SQLite). An open item whose place is no
    // area's shows as a key `unplaced <path>`.
    Summary {
        module: "demands",
        table: "demand_open_days",
        key: "path || ' ' || CAST(due_day AS TEXT) || ' ' || CAST(created_day AS TEXT)",
        n: "n",
        recompute: "SELECT a.ancestor || ' ' || CAST((CASE WHEN d.status = 'submitted' THEN d.accept_due \
                    ELSE d.resolve_due END + 28800000) / 86400000 AS TEXT) || ' ' \
                    || CAST((d.created_at + 28800000) / 86400000 AS TEXT) AS k, COUNT(*) AS n \
                    FROM demands d JOIN area_ancestors a ON a.path = d.path \
                    WHERE d.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', \
                    'reopened') \
                    GROUP BY a.ancestor, (CASE WHEN d.status = 'submitted' THEN d.accept_due ELSE d.resolve_due END \
                    + 28800000) / 86400000, (d.created_at + 28800000) / 86400000 \
                    UNION ALL SELECT 'unplaced ' || d.path, COUNT(*) FROM demands d \
                    WHERE d.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', \
                    'reopened') AND NOT EXISTS (SELECT 1 FROM area_ancestors a WHERE a.path = d.path) GROUP BY d.path",
    },
    // The rates' parts per day of creation at every level (migration 0064), one key
    // per path and day holding every part.
    Summary {
        module: "demands",
        table: "demand_rate_days",
        key: "path || ' ' || CAST(day AS TEXT) || ' ' || CAST(items AS TEXT) || ' ' || CAST(responded AS TEXT) || ' ' || CAST(to_resolve AS TEXT) || ' ' || CAST(resolved AS TEXT) || ' ' || CAST(rated_staff AS TEXT) || ' ' || CAST(rated_other AS TEXT) || ' ' || CAST(satisfied AS TEXT) || ' ' || CAST(satisfied_other AS TEXT) || ' ' || CAST(closed_unrated AS TEXT)",
        n: "CAST(CASE WHEN items = 0 AND responded = 0 AND to_resolve = 0 AND resolved = 0 AND rated_staff = 0 \
            AND rated_other = 0 AND satisfied = 0 AND satisfied_other = 0 AND closed_unrated = 0 THEN 0 ELSE 1 END AS BIGINT)",
        recompute: "SELECT a.ancestor || ' ' || CAST((d.created_at + 28800000) / 86400000 AS TEXT) || ' ' || CAST(SUM(1) AS TEXT) || ' ' || CAST(SUM(CASE WHEN d.responded_at IS NOT NULL AND d.responded_at <= d.accept_due THEN 1 ELSE 0 END) AS TEXT) || ' ' || CAST(SUM(CASE WHEN d.status <> 'rejected' THEN 1 ELSE 0 END) AS TEXT) || ' ' || CAST(SUM(CASE WHEN d.status IN ('closed', 'rated') THEN 1 ELSE 0 END) AS TEXT) || ' ' || CAST(SUM(CASE WHEN d.rating IS NOT NULL AND d.rating_source = 'staff' THEN 1 ELSE 0 END) AS TEXT) || ' ' || CAST(SUM(CASE WHEN d.rating IS NOT NULL AND (d.rating_source IS NULL OR d.rating_source <> 'staff') THEN 1 ELSE 0 END) AS TEXT) || ' ' || CAST(SUM(CASE WHEN d.rating >= 4 THEN 1 ELSE 0 END) AS TEXT) || ' ' || CAST(SUM(CASE WHEN d.rating >= 4 AND (d.rating_source IS NULL OR d.rating_source <> 'staff') THEN 1 ELSE 0 END) AS TEXT) || ' ' || CAST(SUM(CASE WHEN d.status = 'closed' AND d.rating IS NULL AND COALESCE(d.rating_due, d.closed_at) IS NOT NULL THEN 1 ELSE 0 END) AS TEXT) AS k, \
                    CAST(1 AS BIGINT) AS n FROM demands d JOIN area_ancestors a ON a.path = d.path \
                    WHERE d.status <> 'merged' GROUP BY a.ancestor, (d.created_at + 28800000) / 86400000",
    },
];

/// The roll-ups of migrations 0062, 0067 and 0068 counted again from the rows (its backfill): for a
/// bulk load that suspended their triggers (`bulk::resume_upkeep_triggers`,
/// `bulk_sqlite`). Statements separated by `;`, none inside one.
pub(crate) const ROLLUPS_RECOUNT: &str = "DELETE FROM resident_births;
INSERT INTO resident_births (path, gender, month, n)
SELECT a.ancestor, r.gender, substr(r.birth_date, 1, 7), COUNT(*)
FROM residents r JOIN area_ancestors a ON a.path = r.path
WHERE r.status = 'active'
GROUP BY a.ancestor, r.gender, substr(r.birth_date, 1, 7);
DELETE FROM tag_met_days;
INSERT INTO tag_met_days (path, tag_id, met_on, n)
SELECT a.ancestor, rt.tag_id, COALESCE(r.last_met_on, ''), COUNT(*)
FROM residents r JOIN resident_tags rt ON rt.resident_id = r.id JOIN area_ancestors a ON a.path = r.path
WHERE r.status = 'active' AND r.household_id IS NOT NULL
GROUP BY a.ancestor, rt.tag_id, COALESCE(r.last_met_on, '');
DELETE FROM household_met_days;
INSERT INTO household_met_days (path, channel, met_on, n)
SELECT a.ancestor, c.channel,
       CASE c.channel WHEN 'any' THEN COALESCE(h.last_met_on, '') ELSE COALESCE(h.last_door_on, '') END, COUNT(*)
FROM households h JOIN area_ancestors a ON a.path = h.path
     CROSS JOIN (SELECT 'any' AS channel UNION ALL SELECT 'door') c
WHERE h.occupancy <> 'vacant'
GROUP BY a.ancestor, c.channel, CASE c.channel WHEN 'any' THEN COALESCE(h.last_met_on, '') ELSE COALESCE(h.last_door_on, '') END;
DELETE FROM area_counts;
INSERT INTO area_counts (path, source, k, n)
SELECT a.ancestor, 'resident_counts', s.residence_type, SUM(s.n)
FROM resident_counts s JOIN area_ancestors a ON a.path = s.path GROUP BY a.ancestor, s.residence_type
UNION ALL
SELECT a.ancestor, 'resident_tag_counts', s.tag_id, SUM(s.n)
FROM resident_tag_counts s JOIN area_ancestors a ON a.path = s.path GROUP BY a.ancestor, s.tag_id
UNION ALL
SELECT a.ancestor, 'place_counts', s.kind, SUM(s.n)
FROM place_counts s JOIN area_ancestors a ON a.path = s.path GROUP BY a.ancestor, s.kind;
DELETE FROM team_post_counts;
INSERT INTO team_post_counts (path, post, ends_on, n)
SELECT a.ancestor, p.post, COALESCE(p.ends_on, ''), COUNT(*)
FROM grid_posts p JOIN areas g ON g.id = p.grid_id JOIN area_ancestors a ON a.path = g.path
GROUP BY a.ancestor, p.post, COALESCE(p.ends_on, '');
";

/// A summary row that disagrees with the rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub table: &'static str,
    /// The row's key, its columns separated by spaces.
    pub key: String,
    /// What the table holds (0: no row).
    pub stored: i64,
    /// What the rows give.
    pub counted: i64,
}

async fn keyed(db: &Db, sql: String) -> StoreResult<BTreeMap<String, i64>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&db.pool).await?;
    let mut out = BTreeMap::new();
    for row in &rows {
        let n: i64 = row.try_get("n")?;
        if n != 0 {
            out.insert(row.try_get::<String, _>("k")?, n);
        }
    }
    Ok(out)
}

/// Drops the triggers on `table` whose names start with `prefix` (those keeping
/// one summary) and answers their names: for `wangge bench`, to measure what
/// keeping a summary costs a write. The summary is wrong from then on.
pub async fn drop_triggers(db: &Db, table: &str, prefix: &str) -> StoreResult<Vec<String>> {
    let find = match db.backend {
        crate::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1
             AND substr(name, 1, length($2)) = $2"
        }
        crate::Backend::Postgres => {
            "SELECT t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE c.relname = $1 AND NOT t.tgisinternal AND left(t.tgname::text, length($2)) = $2"
        }
    };
    let names: Vec<String> =
        sqlx::query_scalar(find).bind(table.to_owned()).bind(prefix.to_owned()).fetch_all(&db.pool).await?;
    for name in &names {
        let drop = match db.backend {
            crate::Backend::Sqlite => format!("DROP TRIGGER \"{name}\""),
            crate::Backend::Postgres => format!("DROP TRIGGER \"{name}\" ON \"{table}\""),
        };
        sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&db.pool).await?;
    }
    Ok(names)
}

/// How often the server folds PostgreSQL's queue of demands entered: under a
/// sustained 3,000 items a second the views then add at most a few thousand rows.
pub const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Moves PostgreSQL's queue of demands entered (migration 0074) into
/// `demand_counts`, `demand_days` and `demand_rate_days`, in `conn`'s transaction
/// (or a transaction of its own), and answers how many items it folded; nothing to
/// do on SQLite. No figure changes: readers sum each table and its queue.
pub async fn fold_demand_queue(conn: &mut sqlx::AnyConnection) -> StoreResult<i64> {
    if conn.backend_name() == "SQLite" {
        return Ok(0);
    }
    Ok(sqlx::query_scalar("SELECT demand_summaries_fold()").fetch_one(conn).await?)
}

/// One round of the server's fold (every [`FOLD_EVERY`]): [`fold_demand_queue`]
/// in a transaction of its own that waits for no lock on a summary row longer than
/// 200 ms (an update holding one): it gives way, and the next round folds what is
/// left.
pub async fn fold_demand_queue_now(db: &Db) -> StoreResult<i64> {
    if db.backend != crate::Backend::Postgres {
        return Ok(0);
    }
    let mut tx = db.pool.begin().await?;
    sqlx::query("SET LOCAL lock_timeout = '200ms'").execute(&mut *tx).await?;
    let folded = fold_demand_queue(&mut tx).await?;
    tx.commit().await?;
    Ok(folded)
}

/// Recomputes every summary from the rows and answers where they differ (nothing
/// when all agree). Reads each table and its rows in one pass each, after folding
/// PostgreSQL's queue of demands entered into its tables; a summary row of 0
/// counts as no row.
pub async fn verify(db: &Db) -> StoreResult<Vec<Difference>> {
    fold_demand_queue(&mut *db.pool.acquire().await?).await?;
    let mut out = Vec::new();
    for s in SUMMARIES {
        let stored = keyed(db, format!("SELECT {} AS k, {} AS n FROM {}", s.key, s.n, s.table)).await?;
        let counted = keyed(db, s.recompute.to_owned()).await?;
        for (key, &n) in &counted {
            let have = stored.get(key).copied().unwrap_or(0);
            if have != n {
                out.push(Difference { table: s.table, key: key.clone(), stored: have, counted: n });
            }
        }
        for (key, &n) in &stored {
            if !counted.contains_key(key) {
                out.push(Difference { table: s.table, key: key.clone(), stored: n, counted: 0 });
            }
        }
    }
    // The kept counts of closed coverage windows (migration 0061): not a table of
    // one SQL recount, checked by their own code.
    out.extend(crate::visits::figures::verify_closed_windows(db).await?);
    // A past period's figures kept once counted (migration 0065): counted again.
    out.extend(crate::cockpit::past::verify(db).await?);
    Ok(out)
}

/// The summary day of a Unix ms time that is a midnight in China; `None` for any
/// other time (a count from such a bound needs the rows).
pub fn day_at_midnight(ms: i64) -> Option<i64> {
    const DAY: i64 = 86_400_000;
    let shifted = ms + 8 * 3_600_000;
    (shifted.rem_euclid(DAY) == 0).then_some(shifted.div_euclid(DAY))
}

/// What a count of demands from [`demand_counts`] selects.
#[derive(Clone, Debug, Default)]
pub struct DemandCount<'a> {
    /// At or under this path (everything when `None`).
    pub under_path: Option<&'a str>,
    /// In these statuses (any when empty).
    pub statuses: Vec<&'static str>,
    /// In these categories (any when empty).
    pub categories: Vec<String>,
    /// Created on days `[from_day, to_day)` (summary days, see [`day_at_midnight`]).
    pub from_day: Option<i64>,
    pub to_day: Option<i64>,
}

/// The number of items `f` selects, by category, from the summary: a range of
/// `demand_counts` under the path, never the items themselves.
pub async fn demand_counts(db: &Db, f: &DemandCount<'_>) -> StoreResult<BTreeMap<String, i64>> {
    let mut c = Conditions::default();
    if let Some(path) = f.under_path {
        c.under_path("path", path);
    }
    if !f.statuses.is_empty() {
        let list: Vec<String> = f.statuses.iter().map(|s| c.text(*s)).collect();
        c.push(format!("status IN ({})", list.join(", ")));
    }
    if !f.categories.is_empty() {
        let list: Vec<String> = f.categories.iter().map(|s| c.text(s.clone())).collect();
        c.push(format!("category IN ({})", list.join(", ")));
    }
    let day = day_column(f.under_path, f.from_day.zip(f.to_day).map(|(from, to)| to - from));
    if let Some(d) = f.from_day {
        let p = c.int(d);
        c.push(format!("{day} >= {p}"));
    }
    if let Some(d) = f.to_day {
        let p = c.int(d);
        c.push(format!("{day} < {p}"));
    }
    let sql = format!(
        "SELECT category, CAST(SUM(n) AS BIGINT) AS n FROM demand_counts_live {} GROUP BY category",
        c.where_clause()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut out = BTreeMap::new();
    for row in &rows {
        let n: Option<i64> = row.try_get("n")?;
        out.insert(row.try_get::<String, _>("category")?, n.unwrap_or(0));
    }
    Ok(out)
}

/// The `day` column as a count of `demand_counts` under `path` over `days` days
/// should name it: `day` lets the day index (`demand_counts_day`, migration 0060)
/// serve it, `+day` (the same value, no longer a column) keeps it on the path's
/// rows. The day index reads every place's rows of the days, the path's rows every
/// day of one place: it wins only for the whole deployment, or a city or a district
/// over a month at most. A street's rows of all days are fewer than a city's rows
/// of one week; SQLite's planner, going by sampled statistics, read a whole city's
/// year through the day index for a street's year (1.2 s in a city of 1,000,000
/// against tens of ms; docs/benchmarks.md). PostgreSQL reads `+day` as `day`.
pub(crate) fn day_column(path: Option<&str>, days: Option<i64>) -> &'static str {
    // Levels below the root: `/` 0, a city 1, a district 2, a street 3.
    let depth = path.map_or(0, |p| p.matches('/').count().saturating_sub(1));
    if depth == 0 || (depth <= 2 && days.is_some_and(|d| d <= 31)) { "day" } else { "+day" }
}

/// The number of items `f` selects, from the summary.
pub async fn demand_total(db: &Db, f: &DemandCount<'_>) -> StoreResult<i64> {
    Ok(demand_counts(db, f).await?.values().sum())
}

/// Whether this database keeps the roll-up of open items (`demand_open_days`,
/// migration 0076): PostgreSQL does, through the queue; on SQLite row triggers
/// would cost intake as much as `demand_days` does (summary upkeep past 10 % of its
/// rate, docs/benchmarks.md), so there the table is a view of the items and open
/// items are counted from their own index (`demands_open`), a street's few
/// thousand entries.
pub fn open_items_rolled_up(db: &Db) -> bool {
    db.backend == crate::Backend::Postgres
}

/// Open items at or under the area at `path` (an area's path, or `/`) created on
/// days `[from_day, to_day)` (summary days, see [`day_at_midnight`]), from the
/// roll-up of open items by deadline and creation day (migration 0076, with the
/// queue: `demand_open_days_live`): the ledger's first page, a city's open items
/// of the last year, from ~2,000 rows instead of 100,000 index entries. Only where
/// [`open_items_rolled_up`].
pub async fn open_total(db: &Db, path: &str, from_day: Option<i64>, to_day: Option<i64>) -> StoreResult<i64> {
    let mut c = Conditions::default();
    let p = c.text(path);
    c.push(format!("path = {p}"));
    if let Some(day) = from_day {
        let d = c.int(day);
        c.push(format!("created_day >= {d}"));
    }
    if let Some(day) = to_day {
        let d = c.int(day);
        c.push(format!("created_day < {d}"));
    }
    let sql = format!("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM demand_open_days_live {}", c.where_clause());
    Ok(c.scalar(sql).fetch_one(&db.pool).await?)
}

/// Current residents of the area at `path` (an area's path, or `/`) by residence
/// type, from the summary's roll-up.
pub async fn residents_by_type(db: &Db, path: &str) -> StoreResult<BTreeMap<String, i64>> {
    rolled_up(db, "resident_counts", path).await
}

/// Current residents of the area at `path` by care tag id, from the summary's roll-up.
pub async fn residents_by_tag(db: &Db, path: &str) -> StoreResult<BTreeMap<String, i64>> {
    rolled_up(db, "resident_tag_counts", path).await
}

/// Buildings, households and organisations of the area at `path`, by table name,
/// from the summary's roll-up (migrations 0038, 0068).
pub async fn places(db: &Db, path: &str) -> StoreResult<BTreeMap<String, i64>> {
    rolled_up(db, "place_counts", path).await
}

/// The rows of summary `source` rolled up to the area at `path` (`area_counts`,
/// migration 0068): a city's few rows, not the sum of its 17,241 grids' (0.4 s).
async fn rolled_up(db: &Db, source: &str, path: &str) -> StoreResult<BTreeMap<String, i64>> {
    let rows = sqlx::query("SELECT k, n FROM area_counts WHERE path = $1 AND source = $2")
        .bind(path.to_owned())
        .bind(source.to_owned())
        .fetch_all(&db.pool)
        .await?;
    let mut out = BTreeMap::new();
    for row in &rows {
        let n: i64 = row.try_get("n")?;
        if n != 0 {
            out.insert(row.try_get::<String, _>("k")?, n);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::day_column;

    #[test]
    fn the_day_index_serves_only_wide_places_over_short_periods() {
        let (city, district, street) =
            ("/370600000000/", "/370600000000/370602000000/", "/370600000000/370602000000/370602004000/");
        assert_eq!(day_column(None, Some(400)), "day", "everything: the day index");
        assert_eq!(day_column(Some("/"), None), "day");
        assert_eq!(day_column(Some(city), Some(7)), "day");
        assert_eq!(day_column(Some(district), Some(31)), "day");
        assert_eq!(day_column(Some(district), Some(365)), "+day", "a district's year: its own rows");
        assert_eq!(day_column(Some(city), None), "+day", "all days: the place's rows");
        assert_eq!(day_column(Some(street), Some(7)), "+day", "a street's week: its own rows");
    }
}
