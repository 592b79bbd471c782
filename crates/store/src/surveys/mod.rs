//! Surveys (问卷调查): a questionnaire of an area, its form a campaigns
//! [`Form`] (question types, `required`, skip logic, XLSForm), answered by link,
//! on the portal, at the door or by phone with a grid member, or from paper typed
//! in later (flagged). Quotas per grid; results counted with
//! `wangge_domain::surveys::{tally, cross_tab}` (cells under 5 suppressed).
//!
//! **Anonymous means anonymous.** An anonymous survey's answer row holds the
//! answers and the coarse attributes only (grid, ten-year age band, residence
//! type, channel, paper flag, the day): no resident, account or staff name, a
//! random id (UUIDv7 would order answers by time), no time of day. Who has
//! answered is [`survey_responded`](self) keyed by survey and person, with nothing
//! that joins it to an answer; it refuses a second answer.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use wangge_domain::campaigns::Form;
use wangge_domain::surveys::{Channel, SurveyState, age_band, next};
use wangge_domain::{AreaLevel, Message, Vocabulary, msg, new_id, now_millis, text};

use crate::registry::areas;
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

#[derive(Clone, Debug, Serialize)]
pub struct Survey {
    pub id: String,
    pub area_id: String,
    pub area_name: String,
    pub path: String,
    pub title: String,
    pub intro: String,
    pub form: Form,
    pub anonymous: bool,
    pub state: SurveyState,
    pub author_name: String,
    pub created_at: i64,
}

const SELECT: &str = "SELECT s.id, s.area_id, a.name AS area_name, s.path, s.title, s.intro, s.form, s.anonymous,
        s.state, s.author_name, s.created_at
     FROM surveys s JOIN areas a ON a.id = s.area_id";

fn from_row(r: &AnyRow) -> StoreResult<Survey> {
    let state: String = r.try_get("state")?;
    let form: String = r.try_get("form")?;
    Ok(Survey {
        id: r.try_get("id")?,
        area_id: r.try_get("area_id")?,
        area_name: r.try_get("area_name")?,
        path: r.try_get("path")?,
        title: r.try_get("title")?,
        intro: r.try_get("intro")?,
        form: serde_json::from_str(&form)
            .map_err(|_| StoreError::Invalid(msg!("error.stored_value", what = "survey form", value = &form)))?,
        anonymous: r.try_get::<i64, _>("anonymous")? != 0,
        state: SurveyState::from_code(&state)
            .ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = SurveyState::NAME, value = &state)))?,
        author_name: r.try_get("author_name")?,
        created_at: r.try_get("created_at")?,
    })
}

fn bad(m: Message) -> StoreError {
    StoreError::Invalid(m)
}

/// A new survey of `area_id`, a draft, with `form` (which may be empty).
pub async fn create(
    db: &Db,
    area_id: &str,
    title: &str,
    intro: &str,
    form: &Form,
    anonymous: bool,
    author: &str,
) -> StoreResult<Survey> {
    let area = areas::get(db, area_id).await?;
    let title = text::normalize(title);
    if title.is_empty() {
        return Err(bad(msg!("surveys.error.required").field("title")));
    }
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO surveys (id, area_id, path, title, intro, form, anonymous, state, author_name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $9)",
    )
    .bind(&id)
    .bind(&area.id)
    .bind(&area.path)
    .bind(&title)
    .bind(intro.trim())
    .bind(serde_json::to_string(form).unwrap_or_default())
    .bind(i64::from(anonymous))
    .bind(author)
    .bind(now)
    .execute(&db.pool)
    .await?;
    get(db, &id).await
}

/// Replaces the form of a draft (the builder's every change, an XLSForm upload).
pub async fn set_form(db: &Db, id: &str, form: &Form) -> StoreResult<Survey> {
    let changed = sqlx::query("UPDATE surveys SET form = $1, updated_at = $2 WHERE id = $3 AND state = 'draft'")
        .bind(serde_json::to_string(form).unwrap_or_default())
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await?;
    if changed.rows_affected() != 1 {
        get(db, id).await?;
        return Err(StoreError::Conflict(msg!("surveys.error.not_draft")));
    }
    get(db, id).await
}

/// Opens (`true`) or closes a survey; a survey without questions does not open.
pub async fn set_open(db: &Db, id: &str, open: bool) -> StoreResult<Survey> {
    let s = get(db, id).await?;
    let to = next(s.state, open).map_err(StoreError::Conflict)?;
    if open && s.form.questions.is_empty() {
        return Err(StoreError::Conflict(msg!("surveys.error.no_questions")));
    }
    sqlx::query("UPDATE surveys SET state = $1, updated_at = $2 WHERE id = $3")
        .bind(to.code())
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await?;
    get(db, id).await
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Survey> {
    let sql = format!("{SELECT} WHERE s.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Survey, id))?)
}

/// The surveys of areas at or under `path`, newest first.
pub async fn list_under(db: &Db, path: &str) -> StoreResult<Vec<Survey>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!("{SELECT} WHERE s.path >= $1 AND s.path < $2 ORDER BY s.created_at DESC, s.id LIMIT 200");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lo).bind(hi).fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

/// The open surveys of the areas above or at `path` (a household's grid path):
/// what a resident may answer.
pub async fn open_over(db: &Db, path: &str) -> StoreResult<Vec<Survey>> {
    let ancestors: Vec<String> =
        path.char_indices().filter(|&(i, c)| c == '/' && i > 0).map(|(i, _)| path[..=i].to_owned()).collect();
    let marks: Vec<String> = (1..=ancestors.len()).map(|i| format!("${i}")).collect();
    let sql =
        format!("{SELECT} WHERE s.state = 'open' AND s.path IN ({}) ORDER BY s.created_at DESC", marks.join(", "));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for a in &ancestors {
        q = q.bind(a);
    }
    q.fetch_all(&db.pool).await?.iter().map(from_row).collect()
}

/// Sets a grid's quota (0 removes it). The grid must lie under the survey's area.
pub async fn set_quota(db: &Db, id: &str, grid_id: &str, quota: i64) -> StoreResult<()> {
    let s = get(db, id).await?;
    match areas::get(db, grid_id).await {
        Ok(g) if g.level == AreaLevel::Grid && g.path.starts_with(&s.path) => {}
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(StoreError::not_found(Thing::Area, grid_id)),
        Err(e) => return Err(e),
    }
    if quota < 0 {
        return Err(bad(msg!("surveys.error.quota").field("quota")));
    }
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM survey_quotas WHERE survey_id = $1 AND grid_id = $2")
        .bind(id)
        .bind(grid_id)
        .execute(&mut *tx)
        .await?;
    if quota > 0 {
        sqlx::query("INSERT INTO survey_quotas (survey_id, grid_id, quota) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(grid_id)
            .bind(quota)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Who answers, as far as the survey may know.
#[derive(Clone, Debug, Default)]
pub struct Respondent {
    /// The person, for "has answered": a resident id, else `account:<id>`, else
    /// `None` (a link answered without signing in: nobody to stop answering twice).
    pub person_key: Option<String>,
    /// Their grid, when known.
    pub grid: Option<areas::Area>,
    pub birth_date: Option<String>,
    pub residence_type: Option<String>,
    /// Named surveys only: the resident, the account, the staff member typing in.
    pub resident_id: Option<String>,
    pub account_id: Option<String>,
    pub entered_by: Option<String>,
}

/// The respondent behind resident `resident_id` (at the door, by phone, on paper).
pub async fn respondent_of_resident(db: &Db, resident_id: &str) -> StoreResult<Respondent> {
    let r = crate::registry::residents::get(db, resident_id).await?;
    let grid = areas::get_by_path(db, &r.path).await.ok().filter(|a| a.level == AreaLevel::Grid);
    Ok(Respondent {
        person_key: Some(r.id.clone()),
        grid,
        birth_date: Some(r.birth_date.clone()),
        residence_type: Some(r.residence_type.code().to_owned()),
        resident_id: Some(r.id),
        ..Default::default()
    })
}

/// The respondent behind a resident's account: the person their confirmed sign-up
/// names, else the account with its household's grid.
pub async fn respondent_of_account(db: &Db, account_id: &str, household_id: &str) -> StoreResult<Respondent> {
    let resident: Option<String> = sqlx::query_scalar(
        "SELECT s.resident_id FROM signups s JOIN residents r ON r.id = s.resident_id
         WHERE s.account_id = $1 AND s.status = 'confirmed' AND r.household_id = $2 ORDER BY s.id LIMIT 1",
    )
    .bind(account_id)
    .bind(household_id)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(resident) = resident {
        let mut r = respondent_of_resident(db, &resident).await?;
        r.account_id = Some(account_id.to_owned());
        return Ok(r);
    }
    let h = crate::registry::households::get(db, household_id).await?;
    let grid = areas::get_by_path(db, &h.path).await.ok().filter(|a| a.level == AreaLevel::Grid);
    Ok(Respondent {
        person_key: Some(format!("account:{account_id}")),
        grid,
        account_id: Some(account_id.to_owned()),
        ..Default::default()
    })
}

/// Whether `person_key` has answered survey `id`.
pub async fn has_answered(db: &Db, id: &str, person_key: &str) -> StoreResult<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM survey_responded WHERE survey_id = $1 AND person_key = $2")
            .bind(id)
            .bind(person_key)
            .fetch_optional(&db.pool)
            .await?;
    Ok(found.is_some())
}

/// Takes an answer: the survey is open, the answers pass [`Form::check`], the
/// person has not answered, their grid's quota is not full. Errors of the answers
/// come back one per question.
pub async fn answer(
    db: &Db,
    id: &str,
    who: &Respondent,
    channel: Channel,
    given: &BTreeMap<String, String>,
    today: &str,
) -> StoreResult<Result<(), Vec<wangge_domain::campaigns::AnswerError>>> {
    let s = get(db, id).await?;
    if s.state != SurveyState::Open {
        return Err(StoreError::Conflict(Message::new("surveys.error.state").term("state", s.state)));
    }
    let kept = match s.form.check(given, today) {
        Ok(kept) => kept,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut tx = db.pool.begin().await?;
    if let Some(key) = &who.person_key {
        sqlx::query("INSERT INTO survey_responded (survey_id, person_key) VALUES ($1, $2)")
            .bind(id)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::on_unique(e, || msg!("surveys.error.answered")))?;
    }
    if let Some(grid) = &who.grid {
        let quota: Option<i64> =
            sqlx::query_scalar("SELECT quota FROM survey_quotas WHERE survey_id = $1 AND grid_id = $2")
                .bind(id)
                .bind(&grid.id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(quota) = quota {
            let taken: i64 =
                sqlx::query_scalar("SELECT count(*) FROM survey_answers WHERE survey_id = $1 AND grid_id = $2")
                    .bind(id)
                    .bind(&grid.id)
                    .fetch_one(&mut *tx)
                    .await?;
            if taken >= quota {
                return Err(StoreError::Conflict(msg!("surveys.error.quota_full", grid = &grid.name, quota = quota)));
            }
        }
    }
    let named = !s.anonymous;
    // An anonymous answer's id is random: a time-ordered id would line answers up
    // with the order people were recorded as having answered.
    let answer_id = if named { new_id() } else { random_id() };
    let band = who.birth_date.as_deref().map(|b| age_band(b, today)).unwrap_or_default();
    sqlx::query(
        "INSERT INTO survey_answers (id, survey_id, grid_id, path, age_band, residence_type, channel, paper, answers,
            answered_on, resident_id, account_id, entered_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&answer_id)
    .bind(id)
    .bind(who.grid.as_ref().map(|g| g.id.clone()))
    .bind(who.grid.as_ref().map_or_else(|| s.path.clone(), |g| g.path.clone()))
    .bind(band)
    .bind(who.residence_type.clone().unwrap_or_default())
    .bind(channel.code())
    .bind(i64::from(channel == Channel::Paper))
    .bind(serde_json::to_string(&kept).unwrap_or_default())
    .bind(today)
    .bind(who.resident_id.clone().filter(|_| named))
    .bind(who.account_id.clone().filter(|_| named))
    .bind(who.entered_by.clone().filter(|_| named))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// A UUID with no time in it, from the random tails of two fresh UUIDv7s.
fn random_id() -> String {
    let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.as_bytes()[8..]);
    bytes[8..].copy_from_slice(&b.as_bytes()[8..]);
    // Marked as a random (version 4) UUID.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// One answer with its coarse attributes (what results and exports read).
#[derive(Clone, Debug, Serialize)]
pub struct AnswerRow {
    pub grid: String,
    pub age_band: String,
    pub residence_type: String,
    pub channel: Channel,
    pub paper: bool,
    pub answers: BTreeMap<String, String>,
}

/// The answers of survey `id` from under `path`.
pub async fn answers_under(db: &Db, id: &str, path: &str) -> StoreResult<Vec<AnswerRow>> {
    let (lo, hi) = subtree_bounds(path);
    let rows = sqlx::query(
        "SELECT COALESCE(g.name, '') AS grid, s.age_band, s.residence_type, s.channel, s.paper, s.answers
         FROM survey_answers s LEFT JOIN areas g ON g.id = s.grid_id
         WHERE s.survey_id = $1 AND s.path >= $2 AND s.path < $3 ORDER BY s.id",
    )
    .bind(id)
    .bind(lo)
    .bind(hi)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let channel: String = r.try_get("channel")?;
            let answers: String = r.try_get("answers")?;
            Ok(AnswerRow {
                grid: r.try_get("grid")?,
                age_band: r.try_get("age_band")?,
                residence_type: r.try_get("residence_type")?,
                channel: Channel::from_code(&channel).unwrap_or(Channel::Online),
                paper: r.try_get::<i64, _>("paper")? != 0,
                answers: serde_json::from_str(&answers).unwrap_or_default(),
            })
        })
        .collect()
}

/// Per grid of the survey's area: answers and quota (0: none).
pub async fn by_grid(db: &Db, id: &str) -> StoreResult<Vec<(String, String, i64, i64)>> {
    let s = get(db, id).await?;
    let (lo, hi) = subtree_bounds(&s.path);
    let rows = sqlx::query(
        "SELECT g.id, g.name, (SELECT count(*) FROM survey_answers a WHERE a.survey_id = $1 AND a.grid_id = g.id) AS n,
            COALESCE((SELECT q.quota FROM survey_quotas q WHERE q.survey_id = $1 AND q.grid_id = g.id), 0) AS quota
         FROM areas g WHERE g.level = 'grid' AND g.path >= $2 AND g.path < $3 ORDER BY g.code",
    )
    .bind(id)
    .bind(lo)
    .bind(hi)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("name")?, r.try_get("n")?, r.try_get("quota")?))).collect()
}

/// The answers to open surveys counted on the grids under `path` (the sum of
/// [`response_by_grid`]): the cockpit's figure. Read from the open surveys'
/// answers, not the grids: a city has 17,241 grids and few answers.
pub async fn open_answers_on_grids(db: &Db, path: &str) -> StoreResult<i64> {
    let (lo, hi) = subtree_bounds(path);
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM survey_answers a JOIN areas g ON g.id = a.grid_id AND g.level = 'grid'
         WHERE a.survey_id IN (SELECT id FROM surveys WHERE state = 'open') AND g.path >= $1 AND g.path < $2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_one(&db.pool)
    .await?)
}

/// Per grid under `path`: answers to the surveys of areas at or above the grid
/// that are open (the cockpit counts their sum with [`open_answers_on_grids`]).
pub async fn response_by_grid(db: &Db, path: &str) -> StoreResult<Vec<(String, i64)>> {
    let (lo, hi) = subtree_bounds(path);
    let rows = sqlx::query(
        "SELECT g.name, count(a.id) AS n FROM areas g
            LEFT JOIN survey_answers a ON a.grid_id = g.id
                AND a.survey_id IN (SELECT id FROM surveys WHERE state = 'open')
         WHERE g.level = 'grid' AND g.path >= $1 AND g.path < $2 GROUP BY g.name, g.code ORDER BY g.code",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("name")?, r.try_get("n")?))).collect()
}
