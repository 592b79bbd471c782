//! Answers written back to the registry. A form's date question may name a
//! registry fact (XLSForm's `save_to`, the vocabulary `wangge_domain::campaigns::Fact`:
//! the last gas check of a household, a person's last vaccination). The registry
//! keeps one value per subject and fact in `registry_facts`, with who wrote it and
//! when.
//!
//! When an answer is kept, each fact it names is written, unless the fact changed
//! after the form was opened (someone else wrote it meanwhile, from the registry or
//! another campaign): then the registry keeps its value and the answer is held in
//! `campaign_conflicts` for someone who runs the campaign to decide, instead of a
//! silent overwrite. An answer equal to the value held is no conflict.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;
use wangge_domain::campaigns::{Fact, Form, TargetKind};
use wangge_domain::{Vocabulary, msg, new_id, now_millis};

use super::{Target, vocab};
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

/// The value a fact holds now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FactValue {
    #[schema(format = Uuid)]
    pub subject_id: String,
    pub fact: Fact,
    /// A day, `YYYY-MM-DD`.
    pub value: String,
    pub updated_at: i64,
    pub updated_by_name: String,
    /// The campaign whose answer wrote it (none: written in the registry).
    #[schema(format = Uuid)]
    pub campaign_id: Option<String>,
}

/// Which value a conflict settles on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// The campaign's answer replaces the registry's value.
    Answer,
    /// The registry keeps its value.
    Registry,
}

impl Keep {
    fn code(self) -> &'static str {
        match self {
            Keep::Answer => "answer",
            Keep::Registry => "registry",
        }
    }
}

/// An answer held back because its fact changed after the form was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Conflict {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub campaign_id: String,
    #[schema(format = Uuid)]
    pub target_id: String,
    pub path: String,
    /// The household or person the fact is about.
    #[schema(format = Uuid)]
    pub subject_id: String,
    pub fact: Fact,
    pub answer_value: String,
    pub registry_value: String,
    pub registry_changed_at: i64,
    pub registry_changed_by: String,
    /// When the form was opened: the registry changed after it.
    pub opened_at: i64,
    pub answered_at: i64,
    /// How it was settled (none: still open).
    pub resolution: Option<Keep>,
    pub resolved_by_name: Option<String>,
    pub resolved_at: Option<i64>,
}

const CONFLICT_COLUMNS: &str = "id, campaign_id, target_id, path, subject_id, fact, answer_value, registry_value,
     registry_changed_at, registry_changed_by, opened_at, answered_at, resolution, resolved_by_name, resolved_at";

fn conflict_from(r: &sqlx::any::AnyRow) -> StoreResult<Conflict> {
    let resolution: Option<String> = r.try_get("resolution")?;
    Ok(Conflict {
        id: r.try_get("id")?,
        campaign_id: r.try_get("campaign_id")?,
        target_id: r.try_get("target_id")?,
        path: r.try_get("path")?,
        subject_id: r.try_get("subject_id")?,
        fact: vocab(r, "fact")?,
        answer_value: r.try_get("answer_value")?,
        registry_value: r.try_get("registry_value")?,
        registry_changed_at: r.try_get("registry_changed_at")?,
        registry_changed_by: r.try_get("registry_changed_by")?,
        opened_at: r.try_get("opened_at")?,
        answered_at: r.try_get("answered_at")?,
        resolution: resolution.map(|k| if k == "answer" { Keep::Answer } else { Keep::Registry }),
        resolved_by_name: r.try_get("resolved_by_name")?,
        resolved_at: r.try_get("resolved_at")?,
    })
}

/// The subject a fact of `target` is written to: the household, or the person.
fn subject_of(target: &Target, fact: Fact) -> Option<&str> {
    match fact.subject() {
        TargetKind::Household => Some(&target.household_id),
        TargetKind::Person => target.resident_id.as_deref(),
    }
}

async fn current(conn: &mut sqlx::AnyConnection, subject_id: &str, fact: Fact) -> StoreResult<Option<FactValue>> {
    let row = sqlx::query(
        "SELECT subject_id, fact, value, updated_at, updated_by_name, campaign_id
         FROM registry_facts WHERE subject_id = $1 AND fact = $2",
    )
    .bind(subject_id)
    .bind(fact.code())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(fact_from).transpose()
}

fn fact_from(r: &sqlx::any::AnyRow) -> StoreResult<FactValue> {
    Ok(FactValue {
        subject_id: r.try_get("subject_id")?,
        fact: vocab(r, "fact")?,
        value: r.try_get("value")?,
        updated_at: r.try_get("updated_at")?,
        updated_by_name: r.try_get("updated_by_name")?,
        campaign_id: r.try_get("campaign_id")?,
    })
}

/// Writes a fact's value (an insert, or an update of the one row).
async fn put(conn: &mut sqlx::AnyConnection, v: &FactValue, path: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO registry_facts (subject_id, fact, value, path, updated_at, updated_by_name, campaign_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (subject_id, fact) DO UPDATE SET value = excluded.value, path = excluded.path,
             updated_at = excluded.updated_at, updated_by_name = excluded.updated_by_name,
             campaign_id = excluded.campaign_id",
    )
    .bind(&v.subject_id)
    .bind(v.fact.code())
    .bind(&v.value)
    .bind(path)
    .bind(v.updated_at)
    .bind(&v.updated_by_name)
    .bind(&v.campaign_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn value(subject_id: &str, fact: Fact, value: &str, at: i64, by_name: &str, campaign_id: Option<&str>) -> FactValue {
    FactValue {
        subject_id: subject_id.to_owned(),
        fact,
        value: value.to_owned(),
        updated_at: at,
        updated_by_name: by_name.to_owned(),
        campaign_id: campaign_id.map(str::to_owned),
    }
}

/// Writes the facts a kept answer names, in the answer's transaction: each is
/// written unless it changed after `opened_at`, and then held as a conflict.
/// Returns the facts written and the conflicts raised.
pub(super) async fn apply(
    conn: &mut sqlx::AnyConnection,
    target: &Target,
    form: &Form,
    kept: &std::collections::BTreeMap<String, String>,
    opened_at: i64,
    by_name: &str,
) -> StoreResult<(Vec<Fact>, Vec<Conflict>)> {
    let now = now_millis();
    let mut written = Vec::new();
    let mut conflicts = Vec::new();
    for (q, fact) in form.write_backs() {
        let (Some(value), Some(subject)) = (kept.get(&q.name), subject_of(target, fact)) else { continue };
        match current(conn, subject, fact).await? {
            Some(held) if held.value == *value => {}
            Some(held) if held.updated_at > opened_at => {
                let c = Conflict {
                    id: new_id(),
                    campaign_id: target.campaign_id.clone(),
                    target_id: target.id.clone(),
                    path: target.path.clone(),
                    subject_id: subject.to_owned(),
                    fact,
                    answer_value: value.clone(),
                    registry_value: held.value,
                    registry_changed_at: held.updated_at,
                    registry_changed_by: held.updated_by_name,
                    opened_at,
                    answered_at: now,
                    resolution: None,
                    resolved_by_name: None,
                    resolved_at: None,
                };
                sqlx::query(
                    "INSERT INTO campaign_conflicts (id, campaign_id, target_id, path, subject_id, fact, answer_value,
                         registry_value, registry_changed_at, registry_changed_by, opened_at, answered_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&c.id)
                .bind(&c.campaign_id)
                .bind(&c.target_id)
                .bind(&c.path)
                .bind(&c.subject_id)
                .bind(fact.code())
                .bind(&c.answer_value)
                .bind(&c.registry_value)
                .bind(c.registry_changed_at)
                .bind(&c.registry_changed_by)
                .bind(c.opened_at)
                .bind(c.answered_at)
                .execute(&mut *conn)
                .await?;
                conflicts.push(c);
            }
            _ => {
                let v = self::value(subject, fact, value, now, by_name, Some(&target.campaign_id));
                put(conn, &v, &target.path).await?;
                written.push(fact);
            }
        }
    }
    Ok((written, conflicts))
}

/// Writes the facts of answers settled in the past (the demo's history), oldest
/// last write winning: a fact already newer than `at` stays.
pub(super) async fn apply_past(
    conn: &mut sqlx::AnyConnection,
    target: &Target,
    form: &Form,
    answers: &std::collections::BTreeMap<String, String>,
    at: i64,
    by_name: &str,
) -> StoreResult<()> {
    for (q, fact) in form.write_backs() {
        let (Some(value), Some(subject)) = (answers.get(&q.name), subject_of(target, fact)) else { continue };
        if current(conn, subject, fact).await?.is_none_or(|held| held.updated_at <= at) {
            put(conn, &self::value(subject, fact, value, at, by_name, Some(&target.campaign_id)), &target.path).await?;
        }
    }
    Ok(())
}

/// Sets a fact from the registry itself (an office correcting a date by hand).
pub async fn set(db: &Db, subject_id: &str, path: &str, fact: Fact, value: &str, by_name: &str) -> StoreResult<()> {
    let mut conn = db.pool.acquire().await?;
    put(&mut conn, &self::value(subject_id, fact, value, now_millis(), by_name, None), path).await
}

/// The facts held about these subjects (a household and its people), by subject
/// then fact.
pub async fn facts(db: &Db, subject_ids: &[String]) -> StoreResult<Vec<FactValue>> {
    let mut out = Vec::new();
    for chunk in subject_ids.chunks(200) {
        let marks = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT subject_id, fact, value, updated_at, updated_by_name, campaign_id FROM registry_facts
             WHERE subject_id IN ({marks}) ORDER BY subject_id, fact"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&db.pool).await? {
            out.push(fact_from(&r)?);
        }
    }
    Ok(out)
}

/// A campaign's conflicts under `path`, open ones first, newest first.
pub async fn conflicts(db: &Db, campaign_id: &str, path: &str, open_only: bool) -> StoreResult<Vec<Conflict>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "SELECT {CONFLICT_COLUMNS} FROM campaign_conflicts
         WHERE campaign_id = $1 AND path >= $2 AND path < $3 {}
         ORDER BY CASE WHEN resolved_at IS NULL THEN 0 ELSE 1 END, answered_at DESC, id",
        if open_only { "AND resolved_at IS NULL" } else { "" }
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(campaign_id).bind(lo).bind(hi).fetch_all(&db.pool).await?;
    rows.iter().map(conflict_from).collect()
}

/// A conflict by id.
pub async fn conflict(db: &Db, id: &str) -> StoreResult<Conflict> {
    let sql = format!("SELECT {CONFLICT_COLUMNS} FROM campaign_conflicts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    conflict_from(&row.ok_or_else(|| StoreError::not_found(Thing::CampaignConflict, id))?)
}

/// Settles a conflict: the answer replaces the registry's value, or the registry
/// keeps it. A conflict is settled once (a second decision is refused).
pub async fn resolve(db: &Db, id: &str, keep: Keep, by_name: &str) -> StoreResult<Conflict> {
    let c = conflict(db, id).await?;
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    let settled = sqlx::query(
        "UPDATE campaign_conflicts SET resolution = $1, resolved_by_name = $2, resolved_at = $3
         WHERE id = $4 AND resolved_at IS NULL",
    )
    .bind(keep.code())
    .bind(by_name)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if settled.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("campaigns.error.conflict_settled")));
    }
    if keep == Keep::Answer {
        let v = value(&c.subject_id, c.fact, &c.answer_value, now, by_name, Some(&c.campaign_id));
        put(&mut tx, &v, &c.path).await?;
    }
    tx.commit().await?;
    conflict(db, id).await
}
