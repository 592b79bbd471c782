//! Accounts (people who log in), their scopes, and API tokens.
//!
//! Passwords are hashed with Argon2id; tokens and session secrets are random and
//! stored only as SHA-256 hashes, so a leaked database opens nothing.

use crate::Thing;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::{Role, Vocabulary, msg, new_id, now_millis};

use crate::registry::areas::{self, Area};
use crate::{Db, StoreError, StoreResult};

/// A scope: a node of the hierarchy whose subtree an account may see.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Scope {
    #[schema(format = Uuid)]
    pub area_id: String,
    pub code: String,
    pub name: String,
    pub path: String,
}

impl From<Area> for Scope {
    fn from(a: Area) -> Self {
        Self { area_id: a.id, code: a.code, name: a.name, path: a.path }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Account {
    #[schema(format = Uuid)]
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub disabled: bool,
    pub household_id: Option<String>,
    pub scopes: Vec<Scope>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Area ids or codes the account may see (its subtrees).
    pub scopes: Vec<String>,
    /// The first password; the person must change it at first login.
    pub password: String,
}

/// Passwords must be at least this long; length beats composition rules.
pub const MIN_PASSWORD_LEN: usize = 10;

pub fn check_password_strength(password: &str) -> StoreResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::Invalid(
            msg!("security.error.password_short", least = MIN_PASSWORD_LEN).field("password"),
        ));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> StoreResult<String> {
    let failed =
        |e: &dyn std::fmt::Display| StoreError::Invalid(crate::error::operator(format!("cannot hash password: {e}")));
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&bytes).map_err(|e| failed(&e))?;
    let argon = Argon2::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon_into(&argon, password, &bytes, &mut out).map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::default().into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Checks a password against a stored hash (any Argon2 variant, version and
/// parameters the hash names) in constant time for equal lengths.
pub fn verify_password(password: &str, hash: &str) -> bool {
    // Anything unreadable in the stored hash verifies nothing.
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed.version.map(Version::try_from).transpose().ok()?.unwrap_or_default();
        let params = Params::try_from(&parsed).ok()?;
        let (expected, salt) = (parsed.hash?, parsed.salt?);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).ok()?;
        let mut out = vec![0u8; expected.len()];
        argon_into(&Argon2::new(algorithm, version, params), password, salt_bytes, &mut out).ok()?;
        // `Output`'s equality is constant-time.
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

/// Hashes into `out` with this thread's working memory, kept from one hash to the
/// next. Argon2 needs 19 MiB for each hash; allocated and freed every time, the
/// allocator kept the freed blocks and a server grew by 19 MiB with each of its
/// first logins (to 100 MB after six, docs/benchmarks.md). Hashes run on the
/// [`HASHES_AT_ONCE`] hashing threads, so a server holds that many blocks, once.
fn argon_into(argon: &Argon2<'_>, password: &str, salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    thread_local! {
        static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    MEMORY.with_borrow_mut(|memory| {
        let needed = argon.params().block_count();
        if memory.len() < needed {
            memory.resize(needed, Block::default());
        }
        argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..needed])
    })
}

/// Most Argon2 hashes computed at once in this process. Each takes 19 MiB and a
/// core for tens of milliseconds; a burst of logins waits its turn instead of
/// stalling every request (they run off the async workers, on their own threads) and
/// swelling memory (six at once took a server from 44 MB to 103 MB).
pub const HASHES_AT_ONCE: usize = 2;

type HashJob = Box<dyn FnOnce() + Send>;

/// The hashing threads: [`HASHES_AT_ONCE`] of them, for the life of the process.
/// Not tokio's blocking pool: each hashing thread keeps its 19 MiB of working
/// memory ([`argon_into`]), so the threads must be few and long-lived — two
/// threads, two blocks, for the life of the server (64 MB after 24 logins where
/// hashes on the blocking pool left 336 MB; docs/benchmarks.md).
static HASHERS: std::sync::LazyLock<std::sync::mpsc::Sender<HashJob>> = std::sync::LazyLock::new(|| {
    let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
    for n in 0..HASHES_AT_ONCE {
        let queue = queue.clone();
        let worker = move || loop {
            let next = {
                let queue = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                queue.recv()
            };
            match next {
                Ok(job) => job(),
                Err(_) => return,
            }
        };
        std::thread::Builder::new().name(format!("argon2-{n}")).spawn(worker).expect("a hashing thread starts");
    }
    jobs
});

static HASHING_NOW: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static HASHING_PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The most hashes this process has computed at the same moment (for tests).
pub fn hashing_peak() -> usize {
    HASHING_PEAK.load(std::sync::atomic::Ordering::SeqCst)
}

/// Runs `work` (an Argon2 hash) on one of the [`HASHES_AT_ONCE`] hashing threads,
/// in turn. A request given up meanwhile leaves its hash to finish on its thread, so
/// a third hash never starts beside two still running.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> StoreResult<T> {
    use std::sync::atomic::Ordering::SeqCst;
    let stopped = |e: &dyn std::fmt::Display| {
        StoreError::Invalid(crate::error::operator(format!("password hashing stopped: {e}")))
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let now = HASHING_NOW.fetch_add(1, SeqCst) + 1;
        HASHING_PEAK.fetch_max(now, SeqCst);
        let out = work();
        HASHING_NOW.fetch_sub(1, SeqCst);
        let _ = reply.send(out);
    });
    HASHERS.send(job).map_err(|e| stopped(&e))?;
    answer.await.map_err(|e| stopped(&e))
}

/// [`hash_password`] off the async workers, at most [`HASHES_AT_ONCE`] at a time.
pub async fn hash_password_async(password: &str) -> StoreResult<String> {
    let password = password.to_owned();
    hashing(move || hash_password(&password)).await?
}

/// [`verify_password`] off the async workers, at most [`HASHES_AT_ONCE`] at a time;
/// without a hash (an unknown name) against [`dummy_hash`], so that it costs the same.
pub async fn verify_password_async(password: &str, hash: Option<&str>) -> StoreResult<bool> {
    let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
    hashing(move || verify_password(&password, hash.as_deref().unwrap_or_else(|| dummy_hash()))).await
}

/// A hash to verify against when the account does not exist, so that a wrong user
/// name costs the same time as a wrong password and timing reveals nothing.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password").expect("hashing works"))
}

/// 32 random bytes as hex: session secrets and API tokens.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What is stored for a secret: its SHA-256, hex.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn role_of(row: &AnyRow) -> StoreResult<Role> {
    let code: String = row.try_get("role")?;
    Role::from_code(&code).ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = "role", value = &code)))
}

async fn account_from_row(db: &Db, row: &AnyRow) -> StoreResult<Account> {
    let id: String = row.try_get("id")?;
    Ok(Account {
        scopes: scopes_of(db, &id).await?,
        id,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: role_of(row)?,
        must_change_password: row.try_get::<i16, _>("must_change_password")? != 0,
        disabled: row.try_get::<i16, _>("disabled")? != 0,
        household_id: row.try_get("household_id")?,
    })
}

const COLUMNS: &str = "id, username, display_name, role, must_change_password, disabled, household_id";

pub async fn scopes_of(db: &Db, account_id: &str) -> StoreResult<Vec<Scope>> {
    let rows = sqlx::query(
        "SELECT a.id, a.code, a.name, a.path FROM account_scopes s JOIN areas a ON a.id = s.area_id
         WHERE s.account_id = $1 ORDER BY a.path",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Scope {
                area_id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                path: r.try_get("path")?,
            })
        })
        .collect()
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Account> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    account_from_row(db, &row.ok_or_else(|| StoreError::not_found(Thing::Account, id))?).await
}

pub async fn get_by_username(db: &Db, username: &str) -> StoreResult<Account> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE username = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(username.trim()).fetch_optional(&db.pool).await?;
    account_from_row(db, &row.ok_or_else(|| StoreError::not_found(Thing::Account, username))?).await
}

pub async fn list(db: &Db) -> StoreResult<Vec<Account>> {
    let sql = format!("SELECT {COLUMNS} FROM accounts ORDER BY username");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(account_from_row(db, row).await?);
    }
    Ok(out)
}

/// Resolves area ids or codes to areas.
pub async fn resolve_areas(db: &Db, refs: &[String]) -> StoreResult<Vec<Area>> {
    let mut out = Vec::new();
    for r in refs.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        let area = if r.bytes().all(|b| b.is_ascii_digit()) {
            areas::get_by_code(db, r).await?
        } else {
            areas::get(db, r).await?
        };
        out.push(area);
    }
    Ok(out)
}

pub(crate) fn check_username(username: &str) -> StoreResult<String> {
    let name = username.trim().to_lowercase();
    let ok = (3..=40).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.'));
    if !ok {
        return Err(StoreError::Invalid(msg!("security.error.username", username = username).field("username")));
    }
    Ok(name)
}

pub async fn create(db: &Db, new: NewAccount) -> StoreResult<Account> {
    let username = check_username(&new.username)?;
    check_password_strength(&new.password)?;
    let scopes = resolve_areas(db, &new.scopes).await?;
    // Administrators work across the deployment; everyone else sees only their subtrees.
    if scopes.is_empty() && !matches!(new.role, Role::Resident | Role::PlatformAdmin) {
        return Err(StoreError::Invalid(msg!("security.error.scope_needed").field("scopes")));
    }
    let id = new_id();
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO accounts (id, username, display_name, password_hash, role, must_change_password, disabled,
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, 0, $6, $7)",
    )
    .bind(&id)
    .bind(&username)
    .bind(new.display_name.trim())
    .bind(hash_password_async(&new.password).await?)
    .bind(new.role.code())
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        StoreError::on_unique(e, || msg!("security.error.username_taken", username = &username).field("username"))
    })?;
    for area in &scopes {
        sqlx::query("INSERT INTO account_scopes (account_id, area_id) VALUES ($1, $2)")
            .bind(&id)
            .bind(&area.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    get(db, &id).await
}

/// The stored hash of an active account, for login.
pub async fn credentials(db: &Db, username: &str) -> StoreResult<Option<(String, String)>> {
    let row = sqlx::query("SELECT id, password_hash FROM accounts WHERE username = $1 AND disabled = 0")
        .bind(username.trim().to_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("password_hash")?))).transpose()
}

pub async fn set_password(db: &Db, id: &str, password: &str, must_change: bool) -> StoreResult<()> {
    check_password_strength(password)?;
    let done =
        sqlx::query("UPDATE accounts SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4")
            .bind(hash_password_async(password).await?)
            .bind(i16::from(must_change))
            .bind(now_millis())
            .bind(id)
            .execute(&db.pool)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Thing::Account, id));
    }
    Ok(())
}

pub async fn set_disabled(db: &Db, id: &str, disabled: bool) -> StoreResult<()> {
    let done = sqlx::query("UPDATE accounts SET disabled = $1, updated_at = $2 WHERE id = $3")
        .bind(i16::from(disabled))
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Thing::Account, id));
    }
    if disabled {
        crate::security::sessions::revoke_all(db, id).await?;
    }
    Ok(())
}

// ---- API tokens -------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiToken {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewApiToken {
    pub name: String,
    pub role: Role,
    /// Area id or code.
    pub scope: String,
    /// Days until it expires; none for no expiry.
    pub expires_in_days: Option<u32>,
}

/// Issues a token; the secret is returned once and stored only as a hash.
pub async fn issue_token(db: &Db, new: NewApiToken, created_by: Option<&str>) -> StoreResult<(ApiToken, String)> {
    if new.role == Role::Resident {
        return Err(StoreError::Invalid(msg!("security.error.token_staff").field("role")));
    }
    let area = resolve_areas(db, std::slice::from_ref(&new.scope))
        .await?
        .pop()
        .ok_or_else(|| StoreError::Invalid(msg!("security.error.token_scope").field("scope")))?;
    let secret = format!("wgt_{}", random_secret());
    let now = now_millis();
    let expires_at = new.expires_in_days.map(|d| now + i64::from(d) * 86_400_000);
    let token = ApiToken {
        id: new_id(),
        name: new.name.trim().to_owned(),
        role: new.role,
        scope: area.clone().into(),
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_tokens (id, token_hash, name, role, area_id, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&token.id)
    .bind(secret_hash(&secret))
    .bind(&token.name)
    .bind(token.role.code())
    .bind(&area.id)
    .bind(created_by)
    .bind(now)
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok((token, secret))
}

pub async fn revoke_token(db: &Db, id: &str) -> StoreResult<()> {
    let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await?;
    db.caches.forget_tokens();
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Thing::ApiToken, id));
    }
    Ok(())
}

const TOKEN_SELECT: &str = "SELECT t.id, t.name, t.role, t.created_at, t.expires_at, t.revoked_at,
    a.id AS area_id, a.code, a.name AS area_name, a.path FROM api_tokens t JOIN areas a ON a.id = t.area_id";

fn token_from_row(r: &AnyRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: role_of(r)?,
        scope: Scope {
            area_id: r.try_get("area_id")?,
            code: r.try_get("code")?,
            name: r.try_get("area_name")?,
            path: r.try_get("path")?,
        },
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub async fn list_tokens(db: &Db) -> StoreResult<Vec<ApiToken>> {
    let sql = format!("{TOKEN_SELECT} ORDER BY t.created_at DESC");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&db.pool).await?;
    rows.iter().map(token_from_row).collect()
}

/// The live token with this secret, if any.
pub async fn token_by_secret(db: &Db, secret: &str) -> StoreResult<Option<ApiToken>> {
    token_by_hash(db, &secret_hash(secret)).await
}

async fn token_by_hash(db: &Db, hash: &str) -> StoreResult<Option<ApiToken>> {
    let sql = format!(
        "{TOKEN_SELECT} WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(hash).bind(now_millis()).fetch_optional(&db.pool).await?;
    row.as_ref().map(token_from_row).transpose()
}

/// [`token_by_secret`] with the paths of the token's live grants, remembered for a
/// moment so that a busy integration does not cost two lookups per request
/// ([`crate::cache`]). Revoking a token, or giving or ending a grant, in this process
/// takes effect at once; done by another process on the same database, within
/// [`crate::cache::TOKEN_TTL`] (2 s). Expiry times are checked on every call.
pub async fn verified_token(db: &Db, secret: &str) -> StoreResult<Option<(ApiToken, Vec<String>)>> {
    let hash = secret_hash(secret);
    let entry = match db.caches.token(&hash) {
        Ok(entry) => entry,
        Err(generation) => {
            let read_at = std::time::Instant::now();
            let Some(token) = token_by_hash(db, &hash).await? else { return Ok(None) };
            let grants = crate::security::grants::active(db, &token.id).await?;
            let entry = crate::cache::TokenEntry { token, grants };
            db.caches.put_token(generation, read_at, hash, entry.clone());
            entry
        }
    };
    let now = now_millis();
    if entry.token.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let grants = entry.grants.into_iter().filter(|(_, until)| *until > now).map(|(path, _)| path).collect();
    Ok(Some((entry.token, grants)))
}

/// Binds a resident's account to their household, once a grid member has confirmed
/// who they are. Only resident accounts are bound; binding again moves the binding.
pub async fn bind_household(db: &Db, account_id: &str, household_id: &str) -> StoreResult<Account> {
    let account = get(db, account_id).await?;
    if account.role != Role::Resident {
        return Err(StoreError::Invalid(msg!("security.error.not_resident", username = &account.username)));
    }
    sqlx::query("UPDATE accounts SET household_id = $1, updated_at = $2 WHERE id = $3")
        .bind(household_id)
        .bind(now_millis())
        .bind(account_id)
        .execute(&db.pool)
        .await?;
    get(db, account_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A burst of logins hashes two at a time, on blocking threads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_logins_hashes_at_most_two_at_once() {
        let hash = hash_password_async("long-enough-password").await.unwrap();
        let logins: Vec<_> = (0..6)
            .map(|i| {
                let hash = hash.clone();
                tokio::spawn(async move {
                    let password = if i % 2 == 0 { "long-enough-password" } else { "wrong" };
                    verify_password_async(password, Some(&hash)).await.unwrap()
                })
            })
            .collect();
        let mut verified = Vec::new();
        for login in logins {
            verified.push(login.await.unwrap());
        }
        assert_eq!(verified, [true, false, true, false, true, false]);
        assert!(!verify_password_async("anything", None).await.unwrap(), "an unknown name verifies nothing");
        let peak = hashing_peak();
        assert!((1..=HASHES_AT_ONCE).contains(&peak), "at most {HASHES_AT_ONCE} hashes at once, saw {peak}");
    }

    /// Hashing with our kept working memory writes and reads the standard PHC
    /// strings: hashes stored before it (and by other Argon2 tools) still verify,
    /// with whatever parameters they name.
    #[test]
    fn hashes_are_standard_argon2() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
        let ours = hash_password("long-enough-password").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"long-enough-password", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"long-enough-passwore", &parsed).is_err());

        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let small = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(1024, 3, 1, Some(24)).unwrap());
        let theirs = small.hash_password(b"another-password", &salt).unwrap().to_string();
        assert!(verify_password("another-password", &theirs), "{theirs}");
        assert!(!verify_password("another-passwore", &theirs));
        assert!(verify_password("long-enough-password", &ours), "after a smaller hash on the same thread");
        assert!(!verify_password("x", "not a hash"));
    }
}
