//! Residents sign in with their phone number, and get back in through their grid
//! member when they forget the password.
//!
//! **The phone an account signs in with** is sealed with the vault (bound to the
//! account's row) and found through its blind index (`accounts.phone_hash`, unique):
//! the account's user name stays generated, and no phone is stored in plain text.
//!
//! **Forgotten passwords** are not reset by e-mail or SMS (many residents have
//! neither at ease): the resident goes to their grid member (or the community
//! office), who finds the account, confirms they have seen the person or their ID
//! card, and issues a one-time code of eight digits. The resident types their phone,
//! the code and a new password. Only a keyed hash of the code is stored; a code
//! works once, for [`CODE_VALID_MS`], dies after [`MAX_TRIES`] wrong tries, and a new
//! code ends the one before.

use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;
use wangge_domain::{Phone, Role, Vocabulary, msg, new_id, now_millis};

use crate::security::accounts::{check_password_strength, hash_password_async};
use crate::vault::Vault;
use crate::{Db, StoreError, StoreResult, Thing};

/// A code is good for a day: time to go home and sit down at the phone.
pub const CODE_VALID_MS: i64 = 24 * 60 * 60 * 1000;
/// Wrong codes typed for one account before its code is ended.
pub const MAX_TRIES: i64 = 5;
/// Digits of a code: 10⁸ codes against five tries.
pub const CODE_DIGITS: usize = 8;

/// Blind index purposes: the sign-in phone, and the codes.
const PHONE: &str = "account_phone";
const CODE: &str = "recovery_code";

fn aad(account_id: &str) -> String {
    format!("accounts.phone:{account_id}")
}

/// The blind index of a sign-in phone, also the throttling key of a number nobody
/// signs in with (so no phone lands in plain text in `login_failures`).
pub fn phone_key(db: &Db, phone: &Phone) -> String {
    db.vault.blind(PHONE, phone.as_str())
}

/// Sets the phone `account_id` signs in with. A number already used by another
/// account is a conflict.
pub async fn set_phone(db: &Db, account_id: &str, phone: &Phone) -> StoreResult<()> {
    let mut conn = db.pool.acquire().await?;
    set_phone_on(&mut conn, &db.vault, account_id, phone).await
}

pub(crate) async fn set_phone_on(
    conn: &mut AnyConnection,
    vault: &Vault,
    account_id: &str,
    phone: &Phone,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE accounts SET phone_enc = $1, phone_hash = $2, updated_at = $3 WHERE id = $4")
        .bind(vault.seal(phone.as_str(), &aad(account_id)))
        .bind(vault.blind(PHONE, phone.as_str()))
        .bind(now_millis())
        .bind(account_id)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::on_unique(e, || msg!("security.error.phone_taken").field("phone")))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Thing::Account, account_id));
    }
    Ok(())
}

/// Whether some account signs in with `phone` already.
pub async fn phone_taken(db: &Db, phone: &Phone) -> StoreResult<bool> {
    Ok(account_by_phone(db, phone).await?.is_some())
}

/// The account (id, user name) that signs in with `phone`, found by blind index.
pub async fn account_by_phone(db: &Db, phone: &Phone) -> StoreResult<Option<(String, String)>> {
    let row = sqlx::query("SELECT id, username FROM accounts WHERE phone_hash = $1")
        .bind(phone_key(db, phone))
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("username")?))).transpose()
}

/// The phone `account_id` signs in with, opened.
pub async fn phone_of(db: &Db, account_id: &str) -> StoreResult<Option<Phone>> {
    let sealed: Option<Option<String>> = sqlx::query_scalar("SELECT phone_enc FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(sealed) = sealed.ok_or_else(|| StoreError::not_found(Thing::Account, account_id))? else {
        return Ok(None);
    };
    let opened = db.vault.open(&sealed, &aad(account_id))?;
    Phone::parse(&opened)
        .map(Some)
        .map_err(|e| StoreError::Invalid(msg!("error.stored_value", what = "phone", value = e)))
}

/// Seals every sign-in phone again under `new`, inside the key rotation's
/// transaction (see `residents::rekey`).
pub(crate) async fn rekey(conn: &mut AnyConnection, old: &Vault, new: &Vault) -> StoreResult<usize> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, phone_enc FROM accounts WHERE phone_enc IS NOT NULL").fetch_all(&mut *conn).await?;
    for (id, sealed) in &rows {
        let phone = old.open(sealed, &aad(id))?;
        sqlx::query("UPDATE accounts SET phone_enc = $1, phone_hash = $2 WHERE id = $3")
            .bind(new.seal(&phone, &aad(id)))
            .bind(new.blind(PHONE, &phone))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    // Codes are keyed by the old key: they cannot be checked any more, so they end.
    sqlx::query("UPDATE recovery_codes SET ended_at = $1 WHERE used_at IS NULL AND ended_at IS NULL")
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(rows.len())
}

// ---- finding a resident's account ------------------------------------------------

/// A resident's account as the grid member sees it when helping them back in.
#[derive(Clone, Debug, Serialize)]
pub struct ResidentAccount {
    pub id: String,
    pub name: String,
    pub household_id: String,
    pub building_number: String,
    pub unit: String,
    pub room: String,
    /// The household's place: the scope it is checked against.
    pub path: String,
    /// The sign-in phone, masked (`138****5678`); `None` when the account has none yet.
    pub phone: Option<String>,
    pub disabled: bool,
}

const SELECT: &str =
    "SELECT a.id, a.display_name, a.household_id, a.disabled, a.phone_enc, b.number AS building_number,
    h.unit, h.room, h.path FROM accounts a JOIN households h ON h.id = a.household_id
    JOIN buildings b ON b.id = h.building_id";

/// An account's sealed sign-in phone, opened and masked (`138****5678`).
pub(crate) fn masked(vault: &Vault, account_id: &str, sealed: Option<&str>) -> StoreResult<Option<String>> {
    let Some(sealed) = sealed else { return Ok(None) };
    let opened = vault.open(sealed, &aad(account_id))?;
    Ok(Some(Phone::parse(&opened).map_or_else(|_| "****".to_owned(), |p| p.masked())))
}

fn from_row(db: &Db, row: &AnyRow) -> StoreResult<ResidentAccount> {
    let id: String = row.try_get("id")?;
    let sealed: Option<String> = row.try_get("phone_enc")?;
    let phone = masked(&db.vault, &id, sealed.as_deref())?;
    Ok(ResidentAccount {
        name: row.try_get("display_name")?,
        household_id: row.try_get("household_id")?,
        building_number: row.try_get("building_number")?,
        unit: row.try_get("unit")?,
        room: row.try_get("room")?,
        path: row.try_get("path")?,
        disabled: row.try_get::<i16, _>("disabled")? != 0,
        phone,
        id,
    })
}

/// A resident's account bound to a household; any other account is not found.
pub async fn resident_account(db: &Db, account_id: &str) -> StoreResult<ResidentAccount> {
    let sql = format!("{SELECT} WHERE a.id = $1 AND a.role = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account_id)
        .bind(Role::Resident.code())
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Thing::Account, account_id))?;
    from_row(db, &row)
}

/// Residents' accounts under `path` whose sign-in phone is `query` (exact, through
/// the blind index) or whose name contains it; at most 20, by name.
pub async fn find_under(db: &Db, path: &str, query: &str) -> StoreResult<Vec<ResidentAccount>> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let (low, high) = crate::subtree_bounds(path);
    let rows = if let Ok(phone) = Phone::parse(query) {
        let sql = format!("{SELECT} WHERE a.phone_hash = $1 AND a.role = $2 AND h.path >= $3 AND h.path < $4");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(phone_key(db, &phone))
            .bind(Role::Resident.code())
            .bind(low)
            .bind(high)
            .fetch_all(&db.pool)
            .await?
    } else {
        let sql = format!(
            "{SELECT} WHERE a.display_name LIKE $1 AND a.role = $2 AND h.path >= $3 AND h.path < $4
             ORDER BY a.display_name, a.id LIMIT 20"
        );
        let escaped = crate::conditions::like_escaped(query);
        let sql = sql.replace("LIKE $1", "LIKE $1 ESCAPE '\\'");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(format!("%{escaped}%"))
            .bind(Role::Resident.code())
            .bind(low)
            .bind(high)
            .fetch_all(&db.pool)
            .await?
    };
    rows.iter().map(|row| from_row(db, row)).collect()
}

// ---- codes ------------------------------------------------------------------------

/// A code just issued: shown once to the grid member, never stored.
#[derive(Clone, Debug, Serialize)]
pub struct Issued {
    pub id: String,
    pub account_id: String,
    /// Eight digits.
    pub code: String,
    pub expires_at: i64,
    pub path: String,
}

impl Issued {
    /// `4827 1936`: two groups of four, easy to read out and to copy onto paper.
    pub fn readable(&self) -> String {
        format!("{} {}", &self.code[..4], &self.code[4..])
    }
}

fn code_hash(vault: &Vault, account_id: &str, code: &str) -> String {
    vault.blind(CODE, &format!("{account_id}:{code}"))
}

fn random_code() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    // 2⁶⁴ mod 10⁸ bias is below one in 10¹¹: negligible.
    format!("{:0width$}", u64::from_le_bytes(bytes) % 10u64.pow(CODE_DIGITS as u32), width = CODE_DIGITS)
}

/// Issues a one-time code for a resident's account, ending any code before it.
/// `seen_in_person` must be true: the one who issues it has seen the person or their
/// ID card. `phone` sets the account's sign-in phone first when it has none (older
/// accounts signed up with a user name); an account with neither cannot use a code.
pub async fn issue(
    db: &Db,
    account_id: &str,
    issued_by: &str,
    seen_in_person: bool,
    phone: Option<&Phone>,
) -> StoreResult<Issued> {
    if !seen_in_person {
        return Err(StoreError::Invalid(msg!("recovery.error.not_seen").field("seen")));
    }
    let account = resident_account(db, account_id).await?;
    if account.disabled {
        return Err(StoreError::Conflict(msg!("recovery.error.disabled")));
    }
    let mut tx = db.pool.begin().await?;
    match (&account.phone, phone) {
        (_, Some(phone)) => set_phone_on(&mut tx, &db.vault, account_id, phone).await?,
        (Some(_), None) => {}
        (None, None) => return Err(StoreError::Invalid(msg!("recovery.error.phone_needed").field("phone"))),
    }
    let now = now_millis();
    sqlx::query(
        "UPDATE recovery_codes SET ended_at = $1 WHERE account_id = $2 AND used_at IS NULL AND ended_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .execute(&mut *tx)
    .await?;
    let issued = Issued {
        id: new_id(),
        account_id: account_id.to_owned(),
        code: random_code(),
        expires_at: now + CODE_VALID_MS,
        path: account.path.clone(),
    };
    sqlx::query(
        "INSERT INTO recovery_codes (id, account_id, code_hash, path, issued_by, seen_in_person, issued_at, expires_at,
         failed_tries) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, 0)",
    )
    .bind(&issued.id)
    .bind(account_id)
    .bind(code_hash(&db.vault, account_id, &issued.code))
    .bind(&issued.path)
    .bind(issued_by)
    .bind(now)
    .bind(issued.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(issued)
}

/// What typing a phone and a code came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Redeemed {
    /// The password is set; the code is used. (The account, its household's path.)
    Done { account_id: String, username: String, path: String },
    /// No live code for that phone, or the code is wrong (the same answer, so the form
    /// tells nobody which numbers have accounts). `account` names the account when the
    /// phone has one, for the audit log.
    Refused { account: Option<(String, String)> },
}

/// Sets a new password with a phone and a one-time code. The code is used (and all
/// the account's sessions end) only when the password is acceptable: a weak password
/// is said (`StoreError::Invalid`) and the code still works.
pub async fn redeem(db: &Db, phone: &Phone, code: &str, new_password: &str) -> StoreResult<Redeemed> {
    let code: String = wangge_domain::text::normalize(code).chars().filter(char::is_ascii_digit).collect();
    let Some((account_id, username)) = account_by_phone(db, phone).await? else {
        return Ok(Redeemed::Refused { account: None });
    };
    let now = now_millis();
    let live = sqlx::query(
        "SELECT id, code_hash, path FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL AND ended_at IS NULL
         AND expires_at > $2 ORDER BY issued_at DESC LIMIT 1",
    )
    .bind(&account_id)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let account = Some((account_id.clone(), username.clone()));
    let Some(live) = live else { return Ok(Redeemed::Refused { account }) };
    let id: String = live.try_get("id")?;
    let stored: String = live.try_get("code_hash")?;
    if code.len() != CODE_DIGITS || code_hash(&db.vault, &account_id, &code) != stored {
        sqlx::query(
            "UPDATE recovery_codes SET failed_tries = failed_tries + 1,
             ended_at = CASE WHEN failed_tries + 1 >= $1 THEN $2 ELSE ended_at END WHERE id = $3",
        )
        .bind(MAX_TRIES)
        .bind(now)
        .bind(&id)
        .execute(&db.pool)
        .await?;
        return Ok(Redeemed::Refused { account });
    }
    check_password_strength(new_password)?;
    let hash = hash_password_async(new_password).await?;
    let mut tx = db.pool.begin().await?;
    // Used once: a second request with the same code finds it used and changes nothing.
    let used =
        sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND ended_at IS NULL")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    if used.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(Redeemed::Refused { account });
    }
    sqlx::query("UPDATE accounts SET password_hash = $1, must_change_password = 0, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(&account_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE account_id = $1").bind(&account_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Redeemed::Done { account_id, username, path: live.try_get("path")? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::accounts::{self, NewAccount};
    use crate::testing::{self, TestDb};

    async fn resident(db: &Db, household_id: &str, username: &str) -> String {
        let new = NewAccount {
            username: username.into(),
            display_name: "王秀英".into(),
            role: Role::Resident,
            scopes: vec![],
            password: "first-password".into(),
        };
        let account = accounts::create(db, new).await.unwrap();
        accounts::bind_household(db, &account.id, household_id).await.unwrap();
        account.id
    }

    #[tokio::test]
    async fn a_phone_is_sealed_blind_indexed_and_found() {
        testing::all_at(async |t: &TestDb| {
            let db = &t.db;
            let h = testing::hierarchy(db).await;
            let id = resident(db, &h.household.id, "wxy").await;
            let phone = Phone::parse("138 0013 8000").unwrap();
            set_phone(db, &id, &phone).await.unwrap();
            let stored: (Option<String>, Option<String>) =
                sqlx::query_as("SELECT phone_enc, phone_hash FROM accounts WHERE id = $1")
                    .bind(&id)
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            let (enc, hash) = (stored.0.unwrap(), stored.1.unwrap());
            assert!(!enc.contains("13800138000") && !hash.contains("13800138000"), "never in plain text");
            assert_eq!(account_by_phone(db, &phone).await.unwrap(), Some((id.clone(), "wxy".into())));
            assert_eq!(phone_of(db, &id).await.unwrap(), Some(phone.clone()));
            // One number, one account.
            let other = resident(db, &h.household.id, "other").await;
            let taken = set_phone(db, &other, &phone).await.unwrap_err();
            assert!(matches!(taken, StoreError::Conflict(_)), "{taken:?}");
            // Found by the grid over the household, by phone or by name; not next door.
            let by_phone = find_under(db, &h.grid.path, "13800138000").await.unwrap();
            assert_eq!(by_phone.len(), 1);
            assert_eq!(by_phone[0].phone.as_deref(), Some("138****8000"));
            assert_eq!(find_under(db, &h.grid.path, "秀英").await.unwrap().len(), 2);
            assert!(find_under(db, &h.other_grid.path, "13800138000").await.unwrap().is_empty());
            assert!(find_under(db, &h.other_grid.path, "秀英").await.unwrap().is_empty());
            assert!(find_under(db, &h.grid.path, "%").await.unwrap().is_empty(), "a wildcard is a character");
        })
        .await;
    }

    #[tokio::test]
    async fn a_code_works_once_within_its_day_and_dies_after_five_wrong_tries() {
        testing::all_at(async |t: &TestDb| {
            let db = &t.db;
            let h = testing::hierarchy(db).await;
            let id = resident(db, &h.household.id, "wxy").await;
            let phone = Phone::parse("13800138000").unwrap();
            let refused = issue(db, &id, "staff", false, Some(&phone)).await.unwrap_err();
            assert!(matches!(refused, StoreError::Invalid(_)), "not without seeing the person");
            let refused = issue(db, &id, "staff", true, None).await.unwrap_err();
            assert!(matches!(refused, StoreError::Invalid(_)), "no phone to sign in with");
            let first = issue(db, &id, "staff", true, Some(&phone)).await.unwrap();
            assert_eq!(first.code.len(), 8);
            assert!(first.code.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(first.readable().len(), 9);
            let hashes: Vec<String> =
                sqlx::query_scalar("SELECT code_hash FROM recovery_codes").fetch_all(&db.pool).await.unwrap();
            assert!(hashes.iter().all(|h| !h.contains(&first.code)), "only a keyed hash is kept");
            // A new code ends the one before.
            let second = issue(db, &id, "staff", true, None).await.unwrap();
            let refused = redeem(db, &phone, &first.code, "new-password-1").await.unwrap();
            assert!(matches!(refused, Redeemed::Refused { account: Some(_) }), "{refused:?}");
            // A weak password is said, and the code still works.
            assert!(matches!(redeem(db, &phone, &second.code, "short").await, Err(StoreError::Invalid(_))));
            let done = redeem(db, &phone, &second.readable(), "new-password-1").await.unwrap();
            assert_eq!(
                done,
                Redeemed::Done { account_id: id.clone(), username: "wxy".into(), path: h.household.path.clone() }
            );
            let (_, hash) = accounts::credentials(db, "wxy").await.unwrap().unwrap();
            assert!(accounts::verify_password("new-password-1", &hash));
            // Used once.
            let again = redeem(db, &phone, &second.code, "new-password-2").await.unwrap();
            assert!(matches!(again, Redeemed::Refused { .. }));
            // A number nobody signs in with is refused the same way.
            let stranger = Phone::parse("13900139000").unwrap();
            assert_eq!(redeem(db, &stranger, &second.code, "x").await.unwrap(), Redeemed::Refused { account: None });

            // Five wrong tries end a code, even the right one after them.
            let third = issue(db, &id, "staff", true, None).await.unwrap();
            let wrong = if third.code == "00000000" { "11111111" } else { "00000000" };
            for _ in 0..MAX_TRIES {
                assert!(matches!(redeem(db, &phone, wrong, "new-password-3").await.unwrap(), Redeemed::Refused { .. }));
            }
            let late = redeem(db, &phone, &third.code, "new-password-3").await.unwrap();
            assert!(matches!(late, Redeemed::Refused { .. }), "ended after five wrong tries");

            // And a code past its day is refused.
            let fourth = issue(db, &id, "staff", true, None).await.unwrap();
            sqlx::query("UPDATE recovery_codes SET expires_at = $1 WHERE id = $2")
                .bind(now_millis() - 1)
                .bind(&fourth.id)
                .execute(&db.pool)
                .await
                .unwrap();
            assert!(matches!(
                redeem(db, &phone, &fourth.code, "new-password-4").await.unwrap(),
                Redeemed::Refused { .. }
            ));
        })
        .await;
    }
}
