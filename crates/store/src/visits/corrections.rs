//! Corrections of the registry proposed at a visit (a new phone, a name written
//! wrong, a birth date): kept as a proposal — the changes sealed, since they may
//! hold a phone — until whoever may edit the registry there confirms it (and the
//! caller applies it through `registry::residents::update`, audited before/after
//! like any registry edit) or declines it.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;
use wangge_domain::{Explain, msg, new_id, now_millis};

use crate::registry::residents::ResidentUpdate;
use crate::{Db, StoreError, StoreResult, Thing};

/// What a visit may propose to correct of a person.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Changes {
    pub name: Option<String>,
    pub phone: Option<String>,
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    pub notes: Option<String>,
}

impl Changes {
    fn trimmed(self) -> Self {
        let keep = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Changes {
            name: keep(self.name),
            phone: keep(self.phone),
            birth_date: keep(self.birth_date),
            notes: keep(self.notes),
        }
    }

    fn is_empty(&self) -> bool {
        self == &Changes::default()
    }

    /// As a registry update: only the fields given change.
    pub fn update(&self) -> ResidentUpdate {
        ResidentUpdate {
            name: self.name.clone(),
            phone: self.phone.clone(),
            birth_date: self.birth_date.clone(),
            notes: self.notes.clone(),
            ..Default::default()
        }
    }
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionStatus {
    Proposed,
    Confirmed,
    Declined,
}

impl CorrectionStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Confirmed => "confirmed",
            Self::Declined => "declined",
        }
    }

    fn from_code(code: &str) -> Self {
        match code {
            "confirmed" => Self::Confirmed,
            "declined" => Self::Declined,
            _ => Self::Proposed,
        }
    }
}

/// A proposed correction, its changes opened.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Correction {
    #[schema(format = Uuid)]
    pub id: String,
    pub path: String,
    #[schema(format = Uuid)]
    pub resident_id: String,
    #[schema(format = Uuid)]
    pub visit_id: Option<String>,
    pub changes: Changes,
    pub note: String,
    pub status: CorrectionStatus,
    pub proposed_by_name: String,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
}

fn aad(id: &str) -> String {
    format!("registry_corrections.changes:{id}")
}

const SELECT: &str = "SELECT id, path, resident_id, visit_id, changes_enc, note, status, proposed_by_name, \
                      decided_by_name, decided_at, created_at FROM registry_corrections";

fn from_row(db: &Db, r: &sqlx::any::AnyRow) -> StoreResult<Correction> {
    let id: String = r.try_get("id")?;
    let sealed: String = r.try_get("changes_enc")?;
    let changes = serde_json::from_str(&db.vault.open(&sealed, &aad(&id))?).unwrap_or_default();
    Ok(Correction {
        path: r.try_get("path")?,
        resident_id: r.try_get("resident_id")?,
        visit_id: r.try_get("visit_id")?,
        changes,
        note: r.try_get("note")?,
        status: CorrectionStatus::from_code(&r.try_get::<String, _>("status")?),
        proposed_by_name: r.try_get("proposed_by_name")?,
        decided_by_name: r.try_get("decided_by_name")?,
        decided_at: r.try_get("decided_at")?,
        created_at: r.try_get("created_at")?,
        id,
    })
}

/// Proposes a correction of a person of the visited household (nothing is changed
/// yet). At least one change; the person must live in the visit's household.
pub async fn propose(
    db: &Db,
    visit_id: &str,
    resident_id: &str,
    changes: Changes,
    note: &str,
    by: (Option<&str>, &str),
) -> StoreResult<Correction> {
    let visit = super::get(db, visit_id).await?;
    let lives: Option<String> = sqlx::query_scalar("SELECT household_id FROM residents WHERE id = $1")
        .bind(resident_id)
        .fetch_optional(&db.pool)
        .await?
        .flatten();
    if lives.as_deref() != Some(visit.household_id.as_str()) {
        return Err(StoreError::not_found(Thing::Resident, resident_id));
    }
    let changes = changes.trimmed();
    if changes.is_empty() {
        return Err(StoreError::Invalid(msg!("visits.error.no_change").field("value")));
    }
    // Checked now, so that a confirmation cannot fail on what was proposed.
    if let Some(phone) = &changes.phone {
        wangge_domain::Phone::parse(phone).map_err(|e| StoreError::Invalid(e.message().field("value")))?;
    }
    if let Some(birth) = &changes.birth_date {
        super::day(birth, "value")?;
    }
    let id = new_id();
    let sealed = db.vault.seal(&serde_json::to_string(&changes).unwrap_or_default(), &aad(&id));
    sqlx::query(
        "INSERT INTO registry_corrections (id, path, resident_id, visit_id, changes_enc, note, status, proposed_by_id,
                                           proposed_by_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $8, $9)",
    )
    .bind(&id)
    .bind(&visit.path)
    .bind(resident_id)
    .bind(visit_id)
    .bind(&sealed)
    .bind(note.trim())
    .bind(by.0)
    .bind(by.1)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    get(db, &id).await
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Correction> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    from_row(db, &row.ok_or_else(|| StoreError::not_found(Thing::Correction, id))?)
}

/// The proposals made at one visit, oldest first.
pub async fn of_visit(db: &Db, visit_id: &str) -> StoreResult<Vec<Correction>> {
    let sql = format!("{SELECT} WHERE visit_id = $1 ORDER BY created_at");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(visit_id).fetch_all(&db.pool).await?;
    rows.iter().map(|r| from_row(db, r)).collect()
}

/// Proposals still waiting under `path`, oldest first.
pub async fn waiting(db: &Db, path: &str) -> StoreResult<Vec<Correction>> {
    let (lo, hi) = crate::subtree_bounds(path);
    let sql = format!("{SELECT} WHERE path >= $1 AND path < $2 AND status = 'proposed' ORDER BY created_at");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lo).bind(hi).fetch_all(&db.pool).await?;
    rows.iter().map(|r| from_row(db, r)).collect()
}

/// Marks a waiting proposal confirmed or declined; a decided one is not decided
/// again. Confirming here only records the decision: the caller applies the
/// changes (`registry::residents::update`) and audits them.
pub async fn decide(db: &Db, id: &str, confirm: bool, by_name: &str) -> StoreResult<Correction> {
    let status = if confirm { CorrectionStatus::Confirmed } else { CorrectionStatus::Declined };
    let done = sqlx::query(
        "UPDATE registry_corrections SET status = $1, decided_by_name = $2, decided_at = $3
         WHERE id = $4 AND status = 'proposed'",
    )
    .bind(status.code())
    .bind(by_name)
    .bind(now_millis())
    .bind(id)
    .execute(&db.pool)
    .await?;
    let found = get(db, id).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(msg!("visits.error.decided")));
    }
    Ok(found)
}
