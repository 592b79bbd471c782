//! The daily digest of items past or near their deadline, per grid and community.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;
use wangge_domain::{DemandStatus, Vocabulary};

use super::{DUE_SOON_MS, vocab};
use crate::conditions::Conditions;
use crate::registry::areas;
use crate::{Db, StoreResult};

/// How many of the most overdue items each group lists.
pub const OLDEST: usize = 3;

/// One item of a digest: what, where it stands, by when.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DigestItem {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    pub category: String,
    pub status: DemandStatus,
    pub handler_name: Option<String>,
    /// The deadline that matters now (Unix ms).
    pub due: i64,
    pub overdue: bool,
}

/// The counts of one grid or community.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DigestGroup {
    pub area_code: String,
    pub area_name: String,
    /// `community` or `grid`.
    pub level: String,
    /// Open and past the deadline.
    pub overdue: i64,
    /// Open and due within a day.
    pub due_soon: i64,
    /// The most overdue (or soonest due) few, oldest deadline first.
    pub oldest: Vec<DigestItem>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Digest {
    /// When it was made (Unix ms).
    pub at: i64,
    pub overdue: i64,
    pub due_soon: i64,
    /// Each community, followed by its grids; only those with something to say.
    pub groups: Vec<DigestGroup>,
}

/// The digest of everything under `under_path` (all when `None`) at `now`.
pub async fn digest(db: &Db, under_path: Option<&str>, now: i64) -> StoreResult<Digest> {
    let mut c = Conditions::default();
    if let Some(path) = under_path {
        c.under_path("path", path);
    }
    let submitted = c.text(DemandStatus::Submitted.code());
    let others: Vec<String> =
        DemandStatus::open().into_iter().filter(|s| *s != DemandStatus::Submitted).map(|s| c.text(s.code())).collect();
    let (soon_a, soon_b) = (c.int(now + DUE_SOON_MS), c.int(now + DUE_SOON_MS));
    c.push(format!(
        "((status = {submitted} AND accept_due < {soon_a}) OR (status IN ({}) AND resolve_due < {soon_b}))",
        others.join(", ")
    ));
    let sql = format!(
        "SELECT id, path, title, category, status, handler_name, accept_due, resolve_due FROM demands {}",
        c.where_clause()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    // Keyed by area code; a community's grids sort right after it.
    let mut groups: BTreeMap<String, (String, Vec<DigestItem>)> = BTreeMap::new();
    let (mut overdue, mut due_soon) = (0, 0);
    for row in &rows {
        let status: DemandStatus = vocab(row, "status")?;
        let due: i64 =
            if status == DemandStatus::Submitted { row.try_get("accept_due")? } else { row.try_get("resolve_due")? };
        let item = DigestItem {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            category: row.try_get("category")?,
            status,
            handler_name: row.try_get("handler_name")?,
            due,
            overdue: due < now,
        };
        if item.overdue {
            overdue += 1;
        } else {
            due_soon += 1;
        }
        let path: String = row.try_get("path")?;
        let codes: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        for (index, level) in [(3, "community"), (4, "grid")] {
            if let Some(code) = codes.get(index) {
                groups.entry((*code).to_owned()).or_insert_with(|| (level.to_owned(), Vec::new())).1.push(item.clone());
            }
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (code, (level, mut items)) in groups {
        items.sort_by_key(|i| (i.due, i.id.clone()));
        let area_name = areas::get_by_code(db, &code).await.map(|a| a.name).unwrap_or_else(|_| code.clone());
        let overdue = items.iter().filter(|i| i.overdue).count() as i64;
        out.push(DigestGroup {
            area_code: code,
            area_name,
            level,
            overdue,
            due_soon: items.len() as i64 - overdue,
            oldest: items.into_iter().take(OLDEST).collect(),
        });
    }
    Ok(Digest { at: now, overdue, due_soon, groups: out })
}

impl Digest {
    /// The digest as Markdown, for people and the group robots.
    pub fn markdown(&self) -> String {
        let mut text = format!("**超期预警**：超期 {} 件，一天内到期 {} 件\n", self.overdue, self.due_soon);
        for g in &self.groups {
            let indent = if g.level == "grid" { "  " } else { "" };
            text.push_str(&format!("\n{indent}- **{}**：超期 {}，将到期 {}", g.area_name, g.overdue, g.due_soon));
            for i in &g.oldest {
                let late = if i.overdue { "超期" } else { "将到期" };
                text.push_str(&format!(
                    "\n{indent}  - [{late}] {}（{}，{}）",
                    i.title,
                    i.status.label_zh(),
                    i.handler_name.as_deref().unwrap_or("未派遣")
                ));
            }
        }
        text
    }
}
