//! The grid team's figures, from the roster (`store::team`): the current posts
//! under the area by post.

use sqlx::Row;
use wangge_domain::{Message, TeamPost, Vocabulary};

use super::{Figure, FigureQuery, Section};
use crate::conditions::Conditions;
use crate::{Db, StoreResult};

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let mut c = Conditions::default();
    c.under_path("a.path", &q.path);
    // Current on the day of reading, as `GridPost::current` says.
    let today = c.text(wangge_domain::format_date(q.today()));
    c.push(format!("(p.ends_on IS NULL OR p.ends_on >= {today})"));
    let sql = format!(
        "SELECT p.post, COUNT(*) AS n FROM grid_posts p JOIN areas a ON a.id = p.grid_id {} GROUP BY p.post",
        c.where_clause()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
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
