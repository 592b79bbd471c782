//! Residents signing up themselves. A resident gives their name, ID card number, the
//! phone number they will sign in with and a password (the account's user name is
//! generated: nobody in their sixties should have to invent a pinyin login); when the name and number match someone living in a
//! community of the platform, a disabled resident account is created and waits for
//! the grid member of that household to confirm it (they know the family). Confirming
//! binds the account to the household and enables it; rejecting leaves it disabled.
//!
//! Whether a number matched is never told to the person signing up: the answer is
//! the same either way, so the form cannot be used to find out who lives where.

use crate::Thing;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use wangge_domain::{IdCardNumber, Phone, Role, Vocabulary, msg, new_id, now_millis, text};

use crate::registry::residents;
use crate::security::accounts::{check_password_strength, hash_password_async, random_secret};
use crate::{Db, StoreError, StoreResult};

/// What a person fills in to sign up.
pub struct SignupRequest {
    pub name: String,
    pub id_card: IdCardNumber,
    /// What they sign in with; sealed and blind-indexed (`security::recovery`).
    pub phone: Phone,
    pub password: String,
}

/// How a sign-up ended, for the caller (the person is told the same in every case
/// but `PhoneTaken`, which tells nothing about the roll).
#[derive(Debug, PartialEq, Eq)]
pub enum SignupOutcome {
    /// Waiting for the grid member: the id of the sign-up.
    Queued(String),
    /// No one by that name and number lives in a community here.
    Unmatched,
    /// This person already has an account or a sign-up waiting.
    AlreadyKnown,
    /// Some account signs in with this phone already.
    PhoneTaken,
}

/// A sign-up as the grid member sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Signup {
    pub id: String,
    pub account_id: String,
    pub username: String,
    /// The phone they will sign in with, masked (`138****5678`).
    pub phone: Option<String>,
    pub resident_id: String,
    pub resident_name: String,
    pub household_id: String,
    pub building_number: String,
    pub unit: String,
    pub room: String,
    pub path: String,
    pub status: String,
    pub requested_at: i64,
}

pub async fn request(db: &Db, req: SignupRequest) -> StoreResult<SignupOutcome> {
    check_password_strength(&req.password)?;
    if crate::security::recovery::phone_taken(db, &req.phone).await? {
        return Ok(SignupOutcome::PhoneTaken);
    }
    let Some(resident) = residents::find_active_by_id_card(db, &req.id_card).await? else {
        return Ok(SignupOutcome::Unmatched);
    };
    let Some(household_id) = resident.household_id.clone().filter(|_| same_name(&resident.name, &req.name)) else {
        return Ok(SignupOutcome::Unmatched);
    };
    let known = sqlx::query("SELECT count(*) AS n FROM signups WHERE resident_id = $1 AND status <> 'rejected'")
        .bind(&resident.id)
        .fetch_one(&db.pool)
        .await?
        .try_get::<i64, _>("n")?;
    if known > 0 {
        return Ok(SignupOutcome::AlreadyKnown);
    }
    let (account_id, signup_id, now) = (new_id(), new_id(), now_millis());
    // Generated, never typed: `r-` and ten random hex digits.
    let username = format!("r-{}", &random_secret()[..10]);
    let mut tx = db.pool.begin().await?;
    // Disabled until confirmed; the password is the person's own, so no forced change.
    sqlx::query(
        "INSERT INTO accounts (id, username, display_name, password_hash, role, must_change_password, disabled,
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, 1, $6, $7)",
    )
    .bind(&account_id)
    .bind(&username)
    .bind(&resident.name)
    .bind(hash_password_async(&req.password).await?)
    .bind(Role::Resident.code())
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        StoreError::on_unique(e, || msg!("security.error.username_taken", username = &username).field("username"))
    })?;
    crate::security::recovery::set_phone_on(&mut tx, &db.vault, &account_id, &req.phone).await?;
    sqlx::query(
        "INSERT INTO signups (id, account_id, resident_id, household_id, path, status, requested_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
    )
    .bind(&signup_id)
    .bind(&account_id)
    .bind(&resident.id)
    .bind(&household_id)
    .bind(&resident.path)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(SignupOutcome::Queued(signup_id))
}

/// Names match when they are the same after folding width and spaces (people type
/// "王 秀英" or full-width letters on old phones).
fn same_name(on_roll: &str, given: &str) -> bool {
    let fold = |s: &str| text::normalize(s).chars().filter(|c| !c.is_whitespace()).collect::<String>();
    !given.trim().is_empty() && fold(on_roll) == fold(given)
}

const SELECT: &str =
    "SELECT s.id, s.account_id, a.username, a.phone_enc, s.resident_id, r.name AS resident_name, s.household_id,
    b.number AS building_number, h.unit, h.room, s.path, s.status, s.requested_at
    FROM signups s JOIN accounts a ON a.id = s.account_id JOIN residents r ON r.id = s.resident_id
    JOIN households h ON h.id = s.household_id JOIN buildings b ON b.id = h.building_id";

fn from_row(db: &Db, row: &AnyRow) -> StoreResult<Signup> {
    let account_id: String = row.try_get("account_id")?;
    let sealed: Option<String> = row.try_get("phone_enc")?;
    Ok(Signup {
        id: row.try_get("id")?,
        phone: crate::security::recovery::masked(&db.vault, &account_id, sealed.as_deref())?,
        account_id,
        username: row.try_get("username")?,
        resident_id: row.try_get("resident_id")?,
        resident_name: row.try_get("resident_name")?,
        household_id: row.try_get("household_id")?,
        building_number: row.try_get("building_number")?,
        unit: row.try_get("unit")?,
        room: row.try_get("room")?,
        path: row.try_get("path")?,
        status: row.try_get("status")?,
        requested_at: row.try_get("requested_at")?,
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Signup> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE s.id = $1")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Thing::SignUp, id))?;
    from_row(db, &row)
}

/// Sign-ups waiting under `path` (all of them for `None`), oldest first.
pub async fn pending_under(db: &Db, path: Option<&str>) -> StoreResult<Vec<Signup>> {
    let (low, high) = crate::subtree_bounds(path.unwrap_or("/"));
    // SELECT is a constant: nothing of the caller's reaches the text.
    let sql = format!("{SELECT} WHERE s.status = 'pending' AND s.path >= $1 AND s.path < $2 ORDER BY s.requested_at");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(low).bind(high).fetch_all(&db.pool).await?;
    rows.iter().map(|row| from_row(db, row)).collect()
}

/// Confirms (binds the account to the household and enables it) or rejects a
/// waiting sign-up. Deciding twice is a conflict, not a silent success.
pub async fn decide(db: &Db, id: &str, confirm: bool, decided_by: &str) -> StoreResult<Signup> {
    let status = if confirm { "confirmed" } else { "rejected" };
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE signups SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4 AND status = 'pending'",
    )
    .bind(status)
    .bind(now_millis())
    .bind(decided_by)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        get(db, id).await?; // not found, or…
        return Err(StoreError::Conflict(msg!("security.error.signup_decided")));
    }
    if confirm {
        sqlx::query(
            "UPDATE accounts SET household_id = (SELECT household_id FROM signups WHERE id = $1), disabled = 0,
             updated_at = $2 WHERE id = (SELECT account_id FROM signups WHERE id = $3)",
        )
        .bind(id)
        .bind(now_millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    get(db, id).await
}
