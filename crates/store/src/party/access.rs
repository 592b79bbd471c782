//! Who reaches the Party roll and who signs in as a member:
//!
//! - **accounts opened for members** who have none (an in-service member registering
//!   from their unit rarely lives in the community): a `resident` account scoped to
//!   the member's grid (or community), bound to no household, with a first password
//!   to change at first sign-in; disabled when the member stops being active
//!   (`super::change_member`), enabled again only by staff ([`enable_account`]);
//! - **grants of the roll** (the member list and the member pages) to named
//!   accounts of a community, by its Party secretary or secretary, with a reason,
//!   until revoked (migration 0042).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::party::{MemberEventKind, MemberStatus, RegistrationState};
use wangge_domain::{Action, Phone, Role, Vocabulary, msg, new_id, now_millis};

use super::{Member, bad, event, member};
use crate::registry::areas::Area;
use crate::security::accounts::{self, Account, NewAccount};
use crate::security::recovery;
use crate::{Db, StoreError, StoreResult, Thing};

/// The user name proposed for a member's account: `dy` (党员) and the last four
/// digits of their phone (what its masked form shows; of their record when they
/// gave none), with `-2`, `-3`… when that is taken. Never more of the phone: user
/// names appear in lists and logs.
pub async fn proposed_username(db: &Db, member_id: &str) -> StoreResult<String> {
    let phone = super::reveal(db, member_id, true).await?;
    let digits: String = match phone {
        Some(p) => p.chars().filter(char::is_ascii_digit).collect(),
        None => member_id.chars().filter(char::is_ascii_alphanumeric).collect(),
    };
    let tail: String = digits.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    let base = format!("dy{}", tail.to_lowercase());
    for n in 1..100 {
        let name = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        if !username_taken(db, &name).await? {
            return Ok(name);
        }
    }
    Ok(format!("dy-{}", &accounts::random_secret()[..10]))
}

async fn username_taken(db: &Db, username: &str) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE username = $1")
        .bind(username)
        .fetch_one(&db.pool)
        .await?;
    Ok(n > 0)
}

/// Checks a user name for a member's account before anything is decided: well
/// formed and free ("dy345678 is taken already").
pub async fn check_username(db: &Db, username: &str) -> StoreResult<String> {
    let name = accounts::check_username(username)?;
    if username_taken(db, &name).await? {
        return Err(bad(msg!("security.error.username_taken", username = &name).field("username")));
    }
    Ok(name)
}

/// Whether a member counts as confirmed: put on the roll by staff (no
/// registration), or with a registration of theirs confirmed.
pub async fn confirmed(db: &Db, member_id: &str) -> StoreResult<bool> {
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM party_registrations WHERE member_id = $1")
        .bind(member_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(states.is_empty() || states.iter().any(|s| s == RegistrationState::Confirmed.code()))
}

/// A first password: twelve characters from an alphabet without look-alikes
/// (no 0/o, 1/l/i), easy to copy from a slip.
pub fn first_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let secret = accounts::random_secret();
    let bytes: Vec<u8> =
        (0..secret.len() / 2).filter_map(|i| u8::from_str_radix(&secret[2 * i..2 * i + 2], 16).ok()).collect();
    let mut out = String::new();
    for b in bytes.iter().take(12) {
        out.push(ALPHABET[*b as usize % ALPHABET.len()] as char);
        if out.len() == 4 || out.len() == 9 {
            out.push('-');
        }
    }
    out
}

/// Opens an account for a confirmed active member who has none (added by staff,
/// or with a registration confirmed: a registrant still waiting is refused): a `resident`
/// account scoped to their grid (or community), bound to no household, named
/// `username`, with `password` to change at first sign-in, signing in with the
/// member's phone too when no other account does; linked to the member.
pub async fn open_account(db: &Db, member_id: &str, username: &str, password: &str, by: &str) -> StoreResult<Account> {
    let m = member(db, member_id).await?;
    if m.status != MemberStatus::Active {
        return Err(bad(msg!("party.error.inactive", name = &m.name).field("member_id")));
    }
    if m.account_id.is_some() {
        return Err(StoreError::Conflict(msg!("party.account.has_one", name = &m.name)));
    }
    if !confirmed(db, member_id).await? {
        return Err(bad(msg!("party.account.not_confirmed", name = &m.name).field("member_id")));
    }
    let username = check_username(db, username).await?;
    let scope = m.grid_id.clone().unwrap_or_else(|| m.community_id.clone());
    let new = NewAccount {
        username,
        display_name: m.name.clone(),
        role: Role::Resident,
        scopes: vec![scope],
        password: password.to_owned(),
    };
    let account = accounts::create(db, new).await?;
    let phone = super::reveal(db, member_id, true).await?.and_then(|p| Phone::parse(&p).ok());
    if let Some(phone) = phone
        && !recovery::phone_taken(db, &phone).await?
    {
        recovery::set_phone(db, &account.id, &phone).await?;
    }
    let mut tx = db.pool.begin().await?;
    let linked = sqlx::query(
        "UPDATE party_members SET account_id = $1, account_opened = 1, updated_at = $2
         WHERE id = $3 AND account_id IS NULL",
    )
    .bind(&account.id)
    .bind(now_millis())
    .bind(member_id)
    .execute(&mut *tx)
    .await?;
    if linked.rows_affected() == 0 {
        // Linked meanwhile by someone else: the new account must not stay open.
        tx.rollback().await?;
        accounts::set_disabled(db, &account.id, true).await?;
        return Err(StoreError::Conflict(msg!("party.account.has_one", name = &m.name)));
    }
    event(&mut tx, member_id, MemberEventKind::Changed, &format!("账号: 已开通 {}", account.username), by).await?;
    tx.commit().await?;
    Ok(account)
}

/// Enables again the disabled account opened for an active member, with a new
/// first password to change at first sign-in: staff do this on purpose, never
/// the member's status by itself.
pub async fn enable_account(db: &Db, member_id: &str, password: &str, by: &str) -> StoreResult<(Member, Account)> {
    let m = member(db, member_id).await?;
    if m.status != MemberStatus::Active {
        return Err(bad(msg!("party.error.inactive", name = &m.name).field("member_id")));
    }
    let Some(account_id) = m.account_id.clone().filter(|_| m.account_opened) else {
        return Err(StoreError::Conflict(msg!("party.account.none_opened", name = &m.name)));
    };
    let account = accounts::get(db, &account_id).await?;
    if !account.disabled {
        return Err(StoreError::Conflict(msg!("party.account.enabled_already", username = &account.username)));
    }
    accounts::set_password(db, &account_id, password, true).await?;
    accounts::set_disabled(db, &account_id, false).await?;
    let mut conn = db.pool.acquire().await?;
    event(&mut conn, member_id, MemberEventKind::Changed, &format!("账号: 重新启用 {}", account.username), by).await?;
    Ok((m, accounts::get(db, &account_id).await?))
}

// ---- grants of the roll ----

/// Access to a community's roll granted to a named account.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RollGrant {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub path: String,
    #[schema(format = Uuid)]
    pub account_id: String,
    pub username: String,
    pub display_name: String,
    pub reason: String,
    pub granted_by_name: String,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by_name: Option<String>,
}

const GRANT: &str = "SELECT g.id, g.community_id, g.path, g.account_id, a.username, a.display_name, g.reason,
        g.granted_by_name, g.granted_at, g.revoked_at, g.revoked_by_name
     FROM party_roll_grants g JOIN accounts a ON a.id = g.account_id";

fn grant_from(r: &AnyRow) -> StoreResult<RollGrant> {
    Ok(RollGrant {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        path: r.try_get("path")?,
        account_id: r.try_get("account_id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        reason: r.try_get("reason")?,
        granted_by_name: r.try_get("granted_by_name")?,
        granted_at: r.try_get("granted_at")?,
        revoked_at: r.try_get("revoked_at")?,
        revoked_by_name: r.try_get("revoked_by_name")?,
    })
}

pub async fn grant(db: &Db, id: &str) -> StoreResult<RollGrant> {
    let sql = format!("{GRANT} WHERE g.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    grant_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyGrant, id))?)
}

/// A community's grants, live first, newest first (at most 200).
pub async fn grants_of(db: &Db, community_id: &str) -> StoreResult<Vec<RollGrant>> {
    let sql = format!(
        "{GRANT} WHERE g.community_id = $1
         ORDER BY CASE WHEN g.revoked_at IS NULL THEN 0 ELSE 1 END, g.granted_at DESC, g.id LIMIT 200"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(&db.pool).await?;
    rows.iter().map(grant_from).collect()
}

/// The paths of the communities whose roll `account_id` has a live grant to.
pub async fn granted_paths(db: &Db, account_id: &str) -> StoreResult<Vec<String>> {
    let rows = sqlx::query("SELECT path FROM party_roll_grants WHERE account_id = $1 AND revoked_at IS NULL")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("path")?)).collect()
}

/// Grants the roll of `community` to the account named `username`, which must be
/// an enabled account of the community (every scope inside it) whose role works
/// with the Party registry (`view_party`) without keeping it (`manage_party` sees
/// the roll already). An unknown name and another community's account are refused
/// with the same words.
pub async fn grant_roll(db: &Db, community: &Area, username: &str, reason: &str, by: &str) -> StoreResult<RollGrant> {
    let reason = super::line(reason, "reason", 200)?;
    let not_ours = || {
        bad(msg!("party.access.not_ours", username = username.trim(), community = &community.name).field("username"))
    };
    let account = match accounts::get_by_username(db, &username.trim().to_lowercase()).await {
        Ok(a) => a,
        Err(StoreError::NotFound { .. }) => return Err(not_ours()),
        Err(e) => return Err(e),
    };
    let ours = !account.scopes.is_empty() && account.scopes.iter().all(|s| s.path.starts_with(&community.path));
    if !ours || account.disabled {
        return Err(not_ours());
    }
    if account.role.may(Action::ManageParty) {
        return Err(StoreError::Conflict(
            msg!("party.access.sees_already", username = &account.username).field("username"),
        ));
    }
    if !account.role.may(Action::ViewParty) {
        return Err(bad(msg!("party.access.role", username = &account.username)
            .term("role", account.role)
            .field("username")));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO party_roll_grants (id, community_id, path, account_id, reason, granted_by_name, granted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(&community.path)
    .bind(&account.id)
    .bind(&reason)
    .bind(by)
    .bind(now_millis())
    .execute(&db.pool)
    .await
    .map_err(|e| {
        StoreError::on_unique(e, || {
            msg!("party.access.granted_already", username = &account.username).field("username")
        })
    })?;
    grant(db, &id).await
}

/// Revokes a live grant.
pub async fn revoke_roll(db: &Db, id: &str, by: &str) -> StoreResult<RollGrant> {
    let done = sqlx::query(
        "UPDATE party_roll_grants SET revoked_at = $1, revoked_by_name = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now_millis())
    .bind(by)
    .bind(id)
    .execute(&db.pool)
    .await?;
    let g = grant(db, id).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(msg!("party.access.revoked_already", username = &g.username)));
    }
    Ok(g)
}
