//! Campaigns saved as templates and started again on a schedule: the monthly gas
//! check, the yearly vaccination drive. A template keeps what a campaign was (its
//! area, title, form, whom it asks, how long it stays open, its retention) and when
//! it opens next; [`run_due`] starts the campaigns whose day has come, once each:
//! the next day is claimed by a guarded update before the campaign starts, so two
//! servers sweeping at once start one.

use serde::Serialize;
use sqlx::Row;
use time::{Date, Duration};
use utoipa::ToSchema;
use wangge_domain::campaigns::{Form, Repeat, TargetKind};
use wangge_domain::{AuditAction, Vocabulary, msg, new_id, now_millis};

use super::{Campaign, NewCampaign, TargetFilter, bad, day, iso, vocab};
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

/// A saved campaign and its schedule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Template {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub area_id: String,
    pub path: String,
    pub title: String,
    pub target_kind: TargetKind,
    pub filter: TargetFilter,
    /// Days each campaign of it stays open (opening and closing day included).
    pub days_open: i64,
    pub retention_days: Option<u16>,
    pub every: Repeat,
    /// The next opening day (none: not scheduled, or ended).
    #[schema(format = Date)]
    pub next_on: Option<String>,
    /// The campaign it was saved from.
    #[schema(format = Uuid)]
    pub source_campaign_id: Option<String>,
    pub created_by_name: String,
    pub created_at: i64,
    /// When its schedule was stopped (none: running).
    pub ended_at: Option<i64>,
}

const COLUMNS: &str = "id, area_id, path, title, target_kind, filter, days_open, retention_days, every, next_on,
     source_campaign_id, created_by_name, created_at, ended_at";

fn template_from(r: &sqlx::any::AnyRow) -> StoreResult<Template> {
    let filter: String = r.try_get("filter")?;
    Ok(Template {
        id: r.try_get("id")?,
        area_id: r.try_get("area_id")?,
        path: r.try_get("path")?,
        title: r.try_get("title")?,
        target_kind: vocab(r, "target_kind")?,
        filter: serde_json::from_str(&filter).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?,
        days_open: r.try_get("days_open")?,
        retention_days: r.try_get::<Option<i64>, _>("retention_days")?.map(|d| d as u16),
        every: vocab(r, "every")?,
        next_on: r.try_get("next_on")?,
        source_campaign_id: r.try_get("source_campaign_id")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: r.try_get("created_at")?,
        ended_at: r.try_get("ended_at")?,
    })
}

/// Saves a campaign as a template: its current form, scope and filter, how long it
/// stayed open, its retention; repeated `every` period from `first_on` (required
/// unless it is not repeated, and not in the past).
pub async fn save(
    db: &Db,
    campaign: &Campaign,
    every: Repeat,
    first_on: Option<Date>,
    today: Date,
    by_name: &str,
) -> StoreResult<Template> {
    let next_on = match (every, first_on) {
        (Repeat::Never, _) => None,
        (_, None) => return Err(bad(msg!("campaigns.error.first_on").field("first_on"))),
        (_, Some(d)) if d < today => {
            return Err(bad(msg!("campaigns.error.first_on_past", day = iso(d)).field("first_on")));
        }
        (_, Some(d)) => Some(iso(d)),
    };
    let form = super::form(db, &campaign.id, campaign.form_version).await?;
    let form_json = serde_json::to_string(&form).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?;
    let filter = serde_json::to_string(&campaign.filter).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?;
    let days_open = (day(&campaign.closes_on, "closes_on")? - day(&campaign.opens_on, "opens_on")?).whole_days() + 1;
    let id = new_id();
    sqlx::query(
        "INSERT INTO campaign_templates (id, area_id, path, title, form, target_kind, filter, days_open, retention_days,
                                         every, anchor_day, next_on, source_campaign_id, created_by_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&id)
    .bind(&campaign.area_id)
    .bind(&campaign.path)
    .bind(&campaign.title)
    .bind(form_json)
    .bind(campaign.target_kind.code())
    .bind(filter)
    .bind(days_open)
    .bind(campaign.retention_days.map(i64::from))
    .bind(every.code())
    .bind(first_on.map(|d| i64::from(d.day())))
    .bind(next_on)
    .bind(&campaign.id)
    .bind(by_name)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    get(db, &id).await
}

/// A day written `YYYY-MM-DD`.
pub fn day_of(text: &str) -> StoreResult<Date> {
    day(text, "day")
}

/// A template by id.
pub async fn get(db: &Db, id: &str) -> StoreResult<Template> {
    let sql = format!("SELECT {COLUMNS} FROM campaign_templates WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    template_from(&row.ok_or_else(|| StoreError::not_found(Thing::CampaignTemplate, id))?)
}

/// The form a template's campaigns ask.
pub async fn form(db: &Db, id: &str) -> StoreResult<Form> {
    let text: Option<String> = sqlx::query_scalar("SELECT form FROM campaign_templates WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    let text = text.ok_or_else(|| StoreError::not_found(Thing::CampaignTemplate, id))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Invalid(crate::error::operator(e)))
}

/// The templates of areas under `path`, running ones first, by next opening day.
pub async fn list(db: &Db, path: &str) -> StoreResult<Vec<Template>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "SELECT {COLUMNS} FROM campaign_templates WHERE path >= $1 AND path < $2
         ORDER BY CASE WHEN ended_at IS NULL THEN 0 ELSE 1 END, next_on, created_at DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lo).bind(hi).fetch_all(&db.pool).await?;
    rows.iter().map(template_from).collect()
}

/// The campaigns a template started, newest first.
pub async fn campaigns_of(db: &Db, id: &str) -> StoreResult<Vec<Campaign>> {
    let sql =
        format!("SELECT {} FROM campaigns WHERE template_id = $1 ORDER BY opens_on DESC, id", super::CAMPAIGN_COLUMNS);
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&db.pool).await?;
    rows.iter().map(super::campaign_from).collect()
}

/// Stops a template's schedule (its campaigns stay as they are).
pub async fn end(db: &Db, id: &str) -> StoreResult<Template> {
    let ended =
        sqlx::query("UPDATE campaign_templates SET ended_at = $1, next_on = NULL WHERE id = $2 AND ended_at IS NULL")
            .bind(now_millis())
            .bind(id)
            .execute(&db.pool)
            .await?;
    if ended.rows_affected() != 1 {
        get(db, id).await?;
        return Err(StoreError::Conflict(msg!("campaigns.error.template_ended")));
    }
    get(db, id).await
}

/// What one sweep did with a template whose day had come.
#[derive(Clone, Debug)]
pub struct Run {
    pub template_id: String,
    /// The campaign started, or why none was (no targets, say).
    pub started: Result<Campaign, String>,
}

/// Starts the campaigns of templates whose next day is `today` or earlier (a
/// server that was off opens the missed one today, once, not one per missed
/// period), and moves each template's next day on. Each start is audited
/// (`campaign.start`, by "system").
pub async fn run_due(db: &Db, today: Date) -> StoreResult<Vec<Run>> {
    let sql = format!(
        "SELECT {COLUMNS}, anchor_day FROM campaign_templates
         WHERE ended_at IS NULL AND next_on IS NOT NULL AND next_on <= $1 ORDER BY next_on, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(iso(today)).fetch_all(&db.pool).await?;
    let mut out = Vec::new();
    for r in &rows {
        let t = template_from(r)?;
        let anchor = r.try_get::<Option<i64>, _>("anchor_day")?.unwrap_or(1) as u8;
        let due = t.next_on.clone().unwrap_or_default();
        let mut next = t.every.after(day(&due, "next_on")?, anchor);
        while let Some(n) = next
            && n <= today
        {
            next = t.every.after(n, anchor);
        }
        // The claim: only the sweep that moves the day on starts the campaign.
        let claimed = sqlx::query("UPDATE campaign_templates SET next_on = $1 WHERE id = $2 AND next_on = $3")
            .bind(next.map(iso))
            .bind(&t.id)
            .bind(&due)
            .execute(&db.pool)
            .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        let new = NewCampaign {
            area_id: t.area_id.clone(),
            title: t.title.clone(),
            target_kind: t.target_kind,
            filter: t.filter.clone(),
            opens_on: iso(today),
            closes_on: iso(today + Duration::days((t.days_open - 1).max(0))),
            retention_days: t.retention_days,
            form: form(db, &t.id).await?,
        };
        let started = match super::start(db, new, None, "system").await {
            Ok(c) => {
                sqlx::query("UPDATE campaigns SET template_id = $1 WHERE id = $2")
                    .bind(&t.id)
                    .bind(&c.id)
                    .execute(&db.pool)
                    .await?;
                let entry = crate::audit::Entry {
                    actor_name: "system".into(),
                    action: AuditAction::CampaignStart.code().into(),
                    target_kind: Some("campaign".into()),
                    target_id: Some(c.id.clone()),
                    path: Some(c.path.clone()),
                    reason: Some(format!("template {} ({}), due {due}", t.id, t.every.code())),
                    ..Default::default()
                };
                crate::audit::record(db, entry).await?;
                Ok(c)
            }
            Err(StoreError::Invalid(m)) => Err(m.key.to_owned()),
            Err(e) => return Err(e),
        };
        out.push(Run { template_id: t.id, started });
    }
    Ok(out)
}
