//! The campaigns' figures (`store::campaigns`): the campaigns running on the day of
//! reading that touch the area, and of their doors under the area those answered
//! by the time of reading, and those not reachable. Read from `campaigns` (a small
//! table) and, per running campaign, the index `campaign_targets(campaign_id, path,
//! status)`.

use sqlx::Row;
use wangge_domain::Message;

use super::{Figure, FigureQuery, Rows, Section, Value};
use crate::{Db, StoreResult, subtree_bounds};

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let today = q.today().to_string();
    let running: Vec<String> = crate::campaigns::touching(db, &q.path)
        .await?
        .into_iter()
        .filter(|c| c.opens_on <= today && today <= c.closes_on)
        .map(|c| c.id)
        .collect();
    let (lo, hi) = subtree_bounds(&q.path);
    let (mut expected, mut done, mut unreachable) = (0i64, 0i64, 0i64);
    for id in &running {
        let r = sqlx::query(
            "SELECT SUM(CASE WHEN status != 'exempt' THEN 1 ELSE 0 END) AS expected,
                    SUM(CASE WHEN status = 'done' AND settled_at <= $4 THEN 1 ELSE 0 END) AS done,
                    SUM(CASE WHEN status IN ('not_home', 'refused', 'no_such_household') THEN 1 ELSE 0 END) AS unreachable
             FROM campaign_targets WHERE campaign_id = $1 AND path >= $2 AND path < $3",
        )
        .bind(id)
        .bind(&lo)
        .bind(&hi)
        .bind(q.now)
        .fetch_one(&db.pool)
        .await?;
        expected += r.try_get::<Option<i64>, _>("expected")?.unwrap_or(0);
        done += r.try_get::<Option<i64>, _>("done")?.unwrap_or(0);
        unreachable += r.try_get::<Option<i64>, _>("unreachable")?.unwrap_or(0);
    }
    let mut out = vec![
        Figure::count(
            "campaigns.running",
            Section::Campaigns,
            Message::new("cockpit.figure.campaigns_running"),
            Message::new("cockpit.how.campaigns_running"),
            running.len() as i64,
        )
        .rows(Rows::Campaigns),
        Figure {
            key: "campaigns.done".into(),
            section: Section::Campaigns,
            label: Message::new("cockpit.figure.campaigns_done"),
            how: Message::new("cockpit.how.campaigns_done"),
            value: Value::Rate { part: done, whole: expected },
            rows: Some(Rows::Campaigns),
            sensitive: false,
        },
    ];
    // Who was not reachable is known as it stands now, not as it stood then.
    if !q.past {
        out.push(
            Figure::count(
                "campaigns.not_reachable",
                Section::Campaigns,
                Message::new("cockpit.figure.campaigns_not_reachable"),
                Message::new("cockpit.how.campaigns_not_reachable"),
                unreachable,
            )
            .rows(Rows::Campaigns),
        );
    }
    Ok(out)
}
