//! The catalogue of care tags (重点人群标签). Administrators manage it; the registry
//! ships with the tags every community uses, marked sensitive where a tag reveals
//! health, disability, income or legal status.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::{msg, new_id, now_millis};

use crate::{Db, StoreError, StoreResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Tag {
    #[schema(format = Uuid)]
    pub id: String,
    /// Stable key, e.g. `elderly_alone`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Reveals health, disability, income or legal status: shown only to roles that need it.
    pub sensitive: bool,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewTag {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub sensitive: bool,
}

/// The tags a new database starts with: (code, 中文, English, sensitive).
pub const STANDARD_TAGS: [(&str, &str, &str, bool); 12] = [
    ("elderly_alone", "独居老人", "Elderly living alone", false),
    ("empty_nest", "空巢老人", "Empty-nest elderly", false),
    ("disabled", "残疾人", "Disabled", true),
    ("low_income", "低保", "Low-income allowance", true),
    ("veteran", "退役军人", "Veteran", false),
    ("left_behind_child", "留守儿童", "Left-behind child", false),
    ("serious_illness", "大病患者", "Serious illness", true),
    ("special_hardship", "特困人员", "Extreme hardship", true),
    ("community_correction", "社区矫正", "Under community correction", true),
    ("mental_disorder", "严重精神障碍", "Severe mental disorder", true),
    ("pregnant", "孕产妇", "Pregnant or postnatal", true),
    ("volunteer", "志愿者", "Volunteer", false),
];

fn from_row(row: &AnyRow) -> StoreResult<Tag> {
    Ok(Tag {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name_zh: row.try_get("name_zh")?,
        name_en: row.try_get("name_en")?,
        sensitive: row.try_get::<i16, _>("sensitive")? != 0,
    })
}

pub async fn list(db: &Db) -> StoreResult<Vec<Tag>> {
    let rows =
        sqlx::query("SELECT id, code, name_zh, name_en, sensitive FROM tags ORDER BY code").fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn create(db: &Db, new: NewTag) -> StoreResult<Tag> {
    let code = new.code.trim().to_lowercase();
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(StoreError::Invalid(msg!("registry.error.tag_code", code = &code).field("code")));
    }
    if new.name_zh.trim().is_empty() {
        return Err(StoreError::Invalid(msg!("registry.error.tag_name").field("name_zh")));
    }
    let tag = Tag {
        id: new_id(),
        code,
        name_zh: new.name_zh.trim().to_owned(),
        name_en: new.name_en.trim().to_owned(),
        sensitive: new.sensitive,
    };
    sqlx::query("INSERT INTO tags (id, code, name_zh, name_en, sensitive, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&tag.id)
        .bind(&tag.code)
        .bind(&tag.name_zh)
        .bind(&tag.name_en)
        .bind(i16::from(tag.sensitive))
        .bind(now_millis())
        .execute(&db.pool)
        .await
        .map_err(|e| StoreError::on_unique(e, || msg!("registry.error.tag_exists", code = &tag.code).field("code")))?;
    Ok(tag)
}

/// Adds the standard tags that are missing; returns the whole catalogue.
pub async fn ensure_standard(db: &Db) -> StoreResult<Vec<Tag>> {
    let existing = list(db).await?;
    for (code, zh, en, sensitive) in STANDARD_TAGS {
        if !existing.iter().any(|t| t.code == code) {
            let new = NewTag { code: code.into(), name_zh: zh.into(), name_en: en.into(), sensitive };
            create(db, new).await?;
        }
    }
    list(db).await
}

/// Finds a tag by its code or either of its names (what ledgers write in 人员类别).
pub fn find<'a>(catalogue: &'a [Tag], term: &str) -> Option<&'a Tag> {
    let term = term.trim();
    catalogue.iter().find(|t| t.code == term || t.name_zh == term || t.name_en.eq_ignore_ascii_case(term))
}
