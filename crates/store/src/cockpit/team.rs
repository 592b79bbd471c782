//! The grid team's figures, from the roster (`store::team`): the current posts
//! under the area by post, from their roll-up (`team_post_counts`).

use sqlx::Row;
use wangge_domain::{Message, TeamPost, Vocabulary};

use super::{Figure, FigureQuery, Section};
use crate::{Db, StoreResult};

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    // Current on the day of reading, as `GridPost::current` says: open ('') or
    // ending today or later. From the posts rolled up to the area (migration 0068,
    // `team_post_counts`): a city's few rows rather than its 163,651 posts.
    let today = wangge_domain::format_date(q.today());
    let rows = sqlx::query(
        "SELECT post, CAST(SUM(n) AS BIGINT) AS n FROM team_post_counts
         WHERE path = $1 AND (ends_on = '' OR ends_on >= $2) GROUP BY post",
    )
    .bind(q.path.clone())
    .bind(today)
    .fetch_all(&db.pool)
    .await?;
    let mut by_post: Vec<(String, i64)> = Vec::new();
    for row in &rows {
        by_post.push((row.try_get("post")?, row.try_get("n")?));
    }
    let total = by_post.iter().map(|(_, n)| n).sum();
    let mut out = vec![Figure::count(
        "team.people",
        Section::Team,
        Message::new("cockpit.figure.team"),
        Message::new("cockpit.how.team"),
        total,
    )];
    for &post in TeamPost::all() {
        let n = by_post.iter().find(|(code, _)| code == post.code()).map_or(0, |(_, n)| *n);
        out.push(Figure::count(
            format!("team.post.{}", post.code()),
            Section::Team,
            Message::new("cockpit.figure.post").term("post", post),
            Message::new("cockpit.how.post"),
            n,
        ));
    }
    Ok(out)
}
