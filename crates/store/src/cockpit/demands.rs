//! The demands' figures: open, overdue, new this week and in the period, the
//! period's items by category, and the three rates.

use sqlx::Row;
use wangge_domain::{DemandStatus, Message};

use super::{Figure, FigureQuery, Rows, Section, Value};
use crate::demands::{self, DemandFilter, conditions};
use crate::{Db, StoreResult};

async fn count(db: &Db, f: &DemandFilter, now: i64) -> StoreResult<i64> {
    let c = conditions(f, now);
    Ok(c.scalar(format!("SELECT COUNT(*) FROM demands {}", c.where_clause())).fetch_one(&db.pool).await?)
}

fn ledger(status: &'static str, overdue: bool, from: Option<i64>, to: Option<i64>) -> Rows {
    Rows::Demands { status, overdue, category: None, from, to }
}

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let under = Some(q.path.clone());
    let open = DemandFilter { under_path: under.clone(), status: DemandStatus::open(), ..Default::default() };
    let overdue = DemandFilter { under_path: under.clone(), overdue: true, ..Default::default() };
    let week_start = q.week_start();
    let this_week = DemandFilter { under_path: under.clone(), from: Some(week_start), ..Default::default() };
    let period = DemandFilter { under_path: under.clone(), from: Some(q.from), to: Some(q.to), ..Default::default() };
    let mut out = vec![
        Figure::count(
            "demands.open",
            Section::Demands,
            Message::new("cockpit.figure.open"),
            Message::new("cockpit.how.open"),
            count(db, &open, q.now).await?,
        )
        .rows(ledger("open", false, None, None)),
        Figure::count(
            "demands.overdue",
            Section::Demands,
            Message::new("cockpit.figure.overdue"),
            Message::new("cockpit.how.overdue"),
            count(db, &overdue, q.now).await?,
        )
        .rows(ledger("open", true, None, None)),
        Figure::count(
            "demands.this_week",
            Section::Demands,
            Message::new("cockpit.figure.this_week"),
            Message::new("cockpit.how.this_week"),
            count(db, &this_week, q.now).await?,
        )
        .rows(ledger("all", false, Some(week_start), None)),
        Figure::count(
            "demands.period",
            Section::Demands,
            Message::new("cockpit.figure.period_items"),
            Message::new("cockpit.how.period_items"),
            count(db, &period, q.now).await?,
        )
        .rows(ledger("all", false, Some(q.from), Some(q.to))),
    ];

    // The period's items by category: one grouped count, every active category shown.
    let c = conditions(&period, q.now);
    let sql = format!("SELECT category, COUNT(*) AS n FROM demands {} GROUP BY category", c.where_clause());
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut by_category: Vec<(String, i64)> = Vec::new();
    for row in &rows {
        by_category.push((row.try_get("category")?, row.try_get("n")?));
    }
    for category in demands::categories(db).await? {
        let n = by_category.iter().find(|(code, _)| *code == category.code).map_or(0, |(_, n)| *n);
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
    let rates = demands::rates_at(db, Some(&q.path), q.from, q.to, q.now).await?;
    for (key, part, whole) in [
        ("response_rate", rates.responded_in_time, rates.items),
        ("resolution_rate", rates.resolved, rates.to_resolve),
        ("satisfaction_rate", rates.satisfied, rates.rated),
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
