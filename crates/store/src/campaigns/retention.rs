//! The retention purge: a campaign whose answers are health data (tests,
//! vaccination) states how many days after closing they are kept. When that day has
//! passed, its answers are reduced to counts (per question, how many gave each
//! answer) and deleted with the photos taken for it, in one transaction with the
//! audit entry. A dry run reports what would go and changes nothing.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;
use time::{Date, Duration};
use utoipa::ToSchema;
use wangge_domain::{AuditAction, Vocabulary, now_millis};

use super::{Campaign, day, get};
use crate::{Db, StoreResult};

/// How many targets gave one answer to one question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Count {
    pub question: String,
    /// A choice's name, or `*` for any answer to a question without choices.
    pub value: String,
    pub n: u64,
}

/// One campaign the purge reached (or would reach, in a dry run).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Purged {
    #[schema(format = Uuid)]
    pub campaign_id: String,
    pub title: String,
    pub path: String,
    #[schema(format = Date)]
    pub closes_on: String,
    pub retention_days: u16,
    /// Targets whose answers are (or would be) deleted.
    pub answers: u64,
    /// Photos taken for its photo questions that are (or would be) deleted.
    pub photos: u64,
    /// What is kept instead.
    pub counts: Vec<Count>,
}

/// The first day a campaign's answers may no longer be kept.
pub fn purge_on(c: &Campaign) -> Option<Date> {
    let days = c.retention_days?;
    let closes = day(&c.closes_on, "closes_on").ok()?;
    Some(closes + Duration::days(i64::from(days) + 1))
}

/// Campaigns with a retention period whose purge day has come by `today` and that
/// still hold answers.
async fn due(db: &Db, today: Date) -> StoreResult<Vec<Campaign>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM campaigns WHERE retention_days IS NOT NULL AND purged_at IS NULL ORDER BY closes_on, id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for id in ids {
        let c = get(db, &id).await?;
        if purge_on(&c).is_some_and(|d| d <= today) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Counts the answers of a campaign: per question, each choice picked (a multiple
/// choice counts each of its choices), or `*` for any answer.
async fn count(db: &Db, c: &Campaign) -> StoreResult<(u64, Vec<Count>)> {
    let rows =
        sqlx::query("SELECT id, form_version FROM campaign_targets WHERE campaign_id = $1 AND answers_enc IS NOT NULL")
            .bind(&c.id)
            .fetch_all(&db.pool)
            .await?;
    let mut forms = BTreeMap::new();
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        let version: Option<i64> = r.try_get("form_version")?;
        let version = version.unwrap_or(c.form_version);
        if let std::collections::btree_map::Entry::Vacant(slot) = forms.entry(version) {
            slot.insert(super::form(db, &c.id, version).await?);
        }
        let form = &forms[&version];
        for (question, value) in super::answers(db, &id).await?.unwrap_or_default() {
            let has_choices = form.question(&question).is_some_and(|q| q.kind.list().is_some());
            if has_choices {
                for v in value.split_whitespace() {
                    *counts.entry((question.clone(), v.to_owned())).or_default() += 1;
                }
            } else {
                *counts.entry((question, "*".to_owned())).or_default() += 1;
            }
        }
    }
    let counts = counts.into_iter().map(|((question, value), n)| Count { question, value, n }).collect();
    Ok((rows.len() as u64, counts))
}

/// Purges every campaign due by `today` (China time): with `dry_run`, only says
/// what would go. Each purge keeps the counts, deletes the answers, marks the
/// campaign purged and writes an audit entry (`campaign.purge`) in one transaction.
pub async fn purge(db: &Db, today: Date, dry_run: bool) -> StoreResult<Vec<Purged>> {
    let mut out = Vec::new();
    for c in due(db, today).await? {
        let (answers, counts) = count(db, &c).await?;
        let purged = Purged {
            campaign_id: c.id.clone(),
            title: c.title.clone(),
            path: c.path.clone(),
            closes_on: c.closes_on.clone(),
            retention_days: c.retention_days.unwrap_or_default(),
            answers,
            photos: super::photos::count_of_campaign(db, &c.id).await?,
            counts,
        };
        if !dry_run {
            let now = now_millis();
            let mut tx = db.pool.begin().await?;
            for k in &purged.counts {
                sqlx::query("INSERT INTO campaign_counts (campaign_id, question, value, n) VALUES ($1, $2, $3, $4)")
                    .bind(&c.id)
                    .bind(&k.question)
                    .bind(&k.value)
                    .bind(k.n as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            super::photos::purge_campaign(&mut tx, &c.id).await?;
            sqlx::query("UPDATE campaign_targets SET answers_enc = NULL, updated_at = $1 WHERE campaign_id = $2")
                .bind(now)
                .bind(&c.id)
                .execute(&mut *tx)
                .await?;
            // The guard makes a second server's sweep of the same campaign a no-op.
            let marked = sqlx::query("UPDATE campaigns SET purged_at = $1 WHERE id = $2 AND purged_at IS NULL")
                .bind(now)
                .bind(&c.id)
                .execute(&mut *tx)
                .await?;
            if marked.rows_affected() != 1 {
                tx.rollback().await?;
                continue;
            }
            let entry = crate::audit::Entry {
                actor_name: "system".into(),
                action: AuditAction::CampaignPurge.code().into(),
                target_kind: Some("campaign".into()),
                target_id: Some(c.id.clone()),
                path: Some(c.path.clone()),
                reason: Some(format!(
                    "retention {} days after {}: {} answers deleted, {} photos deleted, {} counts kept",
                    purged.retention_days,
                    c.closes_on,
                    purged.answers,
                    purged.photos,
                    purged.counts.len()
                )),
                ..Default::default()
            };
            crate::audit::record_on(&mut tx, entry).await?;
            tx.commit().await?;
        }
        out.push(purged);
    }
    Ok(out)
}

/// The counts kept of a purged campaign, by question and answer.
pub async fn kept(db: &Db, campaign_id: &str) -> StoreResult<Vec<Count>> {
    let rows =
        sqlx::query("SELECT question, value, n FROM campaign_counts WHERE campaign_id = $1 ORDER BY question, value")
            .bind(campaign_id)
            .fetch_all(&db.pool)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(Count {
                question: r.try_get("question")?,
                value: r.try_get("value")?,
                n: r.try_get::<i64, _>("n")? as u64,
            })
        })
        .collect()
}

/// When the campaign's answers were purged (none: kept).
pub async fn purged_at(db: &Db, campaign_id: &str) -> StoreResult<Option<i64>> {
    let at: Option<Option<i64>> = sqlx::query_scalar("SELECT purged_at FROM campaigns WHERE id = $1")
        .bind(campaign_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(at.flatten())
}
