use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::vault::{KEY_FILE_NAME, Vault, VaultError};
use crate::{StoreError, StoreResult};

/// The database engine behind a [`Db`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How to open the database.
#[derive(Clone, Debug)]
pub struct DbOptions {
    pub max_connections: u32,
    /// Where the key of the protected fields (ID card numbers, phones) comes from.
    pub key: KeySource,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 8, key: KeySource::Auto }
    }
}

/// Where [`Db::connect`] finds the key that seals ID card numbers and phones
/// ([`Vault`]). Every source but `Ephemeral` and `File` lets `WANGGE_KEY` win.
#[derive(Clone, Debug, Default)]
pub enum KeySource {
    /// What the command line does: `WANGGE_KEY` when set; else, for an SQLite file,
    /// the key file `wangge.key` next to it; for PostgreSQL the file named by
    /// `WANGGE_KEY_FILE`, else `wangge-data/wangge.key`. Key files are created when
    /// missing. An in-memory SQLite database gets an ephemeral key, as it forgets
    /// its data on close anyway.
    #[default]
    Auto,
    /// `WANGGE_KEY` when set, else this key file (created when missing).
    FromEnvOrFile(PathBuf),
    /// This key file (created when missing), whatever the environment says.
    File(PathBuf),
    /// A key already loaded: a second pool on the same database, a test.
    Vault(Arc<Vault>),
    /// A random key for this process only. For tests: whatever it seals cannot be
    /// read after a restart.
    Ephemeral,
}

/// Where [`KeySource::Auto`] looks for a PostgreSQL database's key file when
/// `WANGGE_KEY_FILE` is not set (the directory `wangge demo` uses for its data).
pub const DEFAULT_KEY_FILE: &str = "wangge-data/wangge.key";

/// A key found, or the key file that would have to be made.
enum Resolved {
    Loaded(Arc<Vault>),
    /// No key file here and no `WANGGE_KEY`: a new key is made only for a database
    /// that has sealed nothing yet ([`Db::connect`]).
    Missing(PathBuf),
}

impl KeySource {
    /// The key for the database at `url` (as given to [`Db::connect`]), or the key
    /// file that is missing.
    fn resolve(&self, backend: Backend, url: &str) -> Result<Resolved, VaultError> {
        let file_or_env = |path: PathBuf, env: bool| -> Result<Resolved, VaultError> {
            if env && let Some(vault) = Vault::from_env()? {
                return Ok(Resolved::Loaded(Arc::new(vault)));
            }
            if path.exists() {
                return Ok(Resolved::Loaded(Arc::new(Vault::from_file(&path)?)));
            }
            Ok(Resolved::Missing(path))
        };
        match self {
            Self::Vault(vault) => Ok(Resolved::Loaded(Arc::clone(vault))),
            Self::Auto => match backend {
                Backend::Sqlite => match sqlite_file(url) {
                    Some(db_file) => file_or_env(key_file_beside(&db_file), true),
                    None => Ok(Resolved::Loaded(Arc::new(Vault::from_env()?.unwrap_or_else(Vault::ephemeral)))),
                },
                Backend::Postgres => {
                    let file = std::env::var_os("WANGGE_KEY_FILE").filter(|f| !f.is_empty());
                    file_or_env(file.map_or_else(|| PathBuf::from(DEFAULT_KEY_FILE), PathBuf::from), true)
                }
            },
            Self::FromEnvOrFile(path) => file_or_env(path.clone(), true),
            Self::File(path) => file_or_env(path.clone(), false),
            Self::Ephemeral => Ok(Resolved::Loaded(Arc::new(Vault::ephemeral()))),
        }
    }
}

/// The key id the database's protected fields are sealed with, if it has any (a
/// new database has no `vault_key` table yet, or an empty one).
async fn recorded_key_id(pool: &AnyPool) -> Option<String> {
    sqlx::query_scalar::<_, String>("SELECT key_id FROM vault_key WHERE id = 1")
        .fetch_optional(pool)
        .await
        .ok()
        .flatten()
}

/// The key file that belongs to an SQLite database file: `wangge.key` in its directory.
pub fn key_file_beside(db_file: &Path) -> PathBuf {
    db_file.parent().unwrap_or(Path::new("")).join(KEY_FILE_NAME)
}

/// Makes the database file (created empty when missing, as SQLite would) and its
/// `-wal` and `-shm` companions readable by their owner only: they hold the
/// registry. SQLite gives the companions it creates the database file's mode, so a
/// database made here stays 0600 in all three; an older file made 0644 is tightened.
fn owner_only(file: &Path) -> StoreResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| {
        crate::StoreError::Invalid(crate::error::operator(format!("database file {}: {e}", file.display())))
    };
    if !file.exists() && file.parent().is_none_or(|dir| dir.as_os_str().is_empty() || dir.is_dir()) {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)
            .map(drop)
            .or_else(|e| if e.kind() == std::io::ErrorKind::AlreadyExists { Ok(()) } else { Err(io(e)) })?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", file.display()));
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    Ok(())
}

/// The file of an `sqlite:PATH` URL, or `None` for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Creates the empty database `name` on the PostgreSQL server of `server` (the URL
/// of a database there whose user may create others) and answers its URL: the
/// test suite's databases, the benchmarks', a restored copy. `name` is the
/// caller's own (letters, digits, `_`); [`drop_postgres_database`] drops it.
pub async fn create_postgres_database(server: &str, name: &str) -> StoreResult<String> {
    postgres_admin(server, format!("CREATE DATABASE {name}")).await?;
    Ok(with_database(server, name))
}

/// Drops the database `name` from the server of `server` (see
/// [`create_postgres_database`]); nobody may be connected to it.
pub async fn drop_postgres_database(server: &str, name: &str) -> StoreResult<()> {
    postgres_admin(server, format!("DROP DATABASE {name}")).await
}

async fn postgres_admin(server: &str, sql: String) -> StoreResult<()> {
    let admin = Db::connect(server, DbOptions { max_connections: 1, key: KeySource::Ephemeral }).await?;
    let done = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin.pool).await;
    admin.close().await;
    done?;
    Ok(())
}

/// `url` naming the database `name` instead of its own, its parameters kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host_at = base.find("://").map_or(0, |i| i + 3);
    let base = base[host_at..].find('/').map_or(base, |slash| &base[..host_at + slash]);
    query.map_or_else(|| format!("{base}/{name}"), |q| format!("{base}/{name}?{q}"))
}

/// A migration [`Db::migrate`] applied: its number and the words of its file name
/// (`0075_demand_summaries_add.sql`: 75, "demand summaries add").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
}

/// A connection pool, the engine it talks to and the key of the protected fields.
/// Cheap to clone; clones share the caches and the intake writer.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    pub vault: Arc<Vault>,
    /// The catalogue, the calendar and verified tokens ([`crate::cache`]).
    pub(crate) caches: Arc<crate::cache::Caches>,
    /// The group commit of new demands ([`crate::demands::intake`]).
    pub(crate) intake: Arc<crate::demands::intake::Writer>,
}

/// SQLite settings applied to every connection. WAL lets readers go on while one
/// writer commits; `synchronous=FULL` makes every acknowledged commit survive a power
/// cut, not only a crash (NORMAL would risk the last commits, and a person typed them);
/// foreign keys are off by default in SQLite and must be switched on per connection;
/// `busy_timeout` makes a second writer wait instead of failing; a 64 MiB page cache
/// keeps the indexes of a large community in memory, and the first GiB of the file
/// is read through a memory map shared by every connection (issue 18: the
/// cockpit's pages read the same index ranges on several connections at once; each
/// would otherwise copy them from the system's cache into its own). The WAL is checkpointed into
/// the database every 4,000 pages (16 MiB) rather than SQLite's 1,000: a page
/// written by many commits (the right edge of each index) is copied once per
/// checkpoint, so fewer, larger checkpoints copy less (intake ~8 % faster, its p99
/// a few ms higher; docs/benchmarks.md, run 4).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA wal_autocheckpoint = 4000;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -65536;
PRAGMA mmap_size = 1073741824;
PRAGMA temp_store = MEMORY;";

/// How long an SQLite writer waits for another (part of every connection's
/// settings, with [`SQLITE_PRAGMAS`]).
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 10000";
/// The wait of a write made on the side of a read ([`Db::side_write`]).
const SIDE_WRITE_TIMEOUT: &str = "PRAGMA busy_timeout = 250";

impl Db {
    /// Opens `sqlite:PATH` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str, options: DbOptions) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let given = url;
        let (backend, url) = normalise_url(url)?;
        let key = options.key.resolve(backend, given)?;
        if let Some(file) = sqlite_file(given).filter(|_| backend == Backend::Sqlite) {
            owner_only(&file)?;
        }
        let connect = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool_options =
            AnyPoolOptions::new().max_connections(options.max_connections).acquire_timeout(Duration::from_secs(30));
        let pool_options = match backend {
            // A connection to a local file does not go stale: no ping (a round trip
            // to the connection's worker thread) before every use. PostgreSQL keeps
            // the ping, as a server may drop idle connections.
            Backend::Sqlite => pool_options
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(SQLITE_PRAGMAS).await?;
                        conn.execute(BUSY_TIMEOUT).await?;
                        Ok(())
                    })
                })
                // A connection back in the pool is never inside a transaction. After a
                // full disk (SQLITE_FULL) SQLite may have rolled a transaction back by
                // itself; sqlx's ROLLBACK then fails and its count of open transactions
                // stays at one, so every later `begin` on that connection became a
                // SAVEPOINT inside a deferred transaction and writers saw "database is
                // locked" long after space was freed. Such a connection is closed and
                // replaced (an atomic read, no round trip, on every acquire).
                .before_acquire(|conn, _| {
                    Box::pin(async move {
                        if sqlx::Connection::is_in_transaction(conn) {
                            tracing::warn!("closing a database connection left inside a transaction");
                            return Ok(false);
                        }
                        Ok(true)
                    })
                }),
            // No JIT: PostgreSQL compiles a query whose estimated cost passes
            // `jit_above_cost`, and the cost of a correlated `EXISTS` is estimated
            // for every row whether it runs or not — the visits' coverage of a
            // district (33,000 households, 30 ms) spent 10-25 ms compiling, on every
            // cockpit page. This server's queries are short; none gains from it.
            Backend::Postgres => pool_options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET jit = off").await?;
                    Ok(())
                })
            }),
        };
        let pool = pool_options.connect_with(connect).await?;
        let vault = match key {
            Resolved::Loaded(vault) => vault,
            // A lost key file must not be replaced by a new, useless key: only a
            // database that has sealed nothing yet gets one.
            Resolved::Missing(path) => match recorded_key_id(&pool).await {
                Some(key_id) => {
                    pool.close().await;
                    return Err(StoreError::Key(VaultError::MissingKey { path, key_id }));
                }
                None => Arc::new(Vault::from_file(&path)?),
            },
        };
        Ok(Self {
            pool,
            backend,
            vault,
            caches: Arc::new(crate::cache::Caches::new()),
            intake: Arc::new(crate::demands::intake::Writer::default()),
        })
    }

    /// Brings the schema up to date, checks that the key loaded is the one the
    /// database's protected fields are sealed with, and seals what an older version
    /// left in plain text. Safe to run on every start. Answers the migrations it
    /// applied (none when the schema was up to date), oldest first, so that an
    /// upgrade can say what it changed.
    pub async fn migrate(&self) -> StoreResult<Vec<AppliedMigration>> {
        use sqlx::migrate::Migrate;
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        let before: std::collections::HashSet<i64> = {
            let mut conn = self.pool.acquire().await?;
            conn.ensure_migrations_table(&migrator.table_name).await?;
            conn.list_applied_migrations(&migrator.table_name).await?.into_iter().map(|m| m.version).collect()
        };
        migrator.run(&self.pool).await?;
        let applied = migrator
            .iter()
            .filter(|m| !before.contains(&m.version))
            .map(|m| AppliedMigration { version: m.version, description: m.description.to_string() })
            .collect();
        self.check_key().await?;
        // What SQL cannot do: seal the team phones older versions kept in plain text
        // (after the key check, so they are sealed under the database's own key).
        crate::team::seal_plain_phones(self).await?;
        // …and number the items recorded before tracking numbers (0014).
        crate::demands::backfill_tracking(self).await?;
        Ok(applied)
    }

    /// Refreshes what SQLite's query planner knows of the tables whose size has
    /// changed greatly since they were last analysed (`PRAGMA optimize`, every
    /// table checked: flag 0x10000; each analysed on a sample). Without it the
    /// planner goes by the statistics of the last `ANALYZE` — for a database
    /// filled by `generate`, tables that were empty then — and picks the wrong
    /// index: the ledger's open items of a street read the city's year through
    /// `demands_created` (12–28 ms) instead of the street's open items through
    /// `demands_status` (2 ms; issue 18, docs/benchmarks.md). Run by `serve` when
    /// it starts and every six hours (not by `migrate`: a command or a test opening
    /// the database has no use for it). Not `ANALYZE` of everything: even on a
    /// sample it counts every table's rows, in one write transaction — for a city
    /// of 7,000,000 (35 GB) minutes in which every other writer waited its ten
    /// seconds and failed with "database is locked". PostgreSQL's autovacuum keeps
    /// its own statistics: nothing to do there.
    ///
    /// Before it, each table with an index the statistics do not know (an empty
    /// table, or an index a migration has just made) is analysed alone: an empty
    /// table in no time; a large table once after the upgrade that indexed it.
    pub async fn refresh_statistics(&self) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let analysed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            .fetch_one(&self.pool)
            .await?;
        if analysed == 0 {
            return self.analyze_all().await;
        }
        let unknown: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT m.tbl_name FROM sqlite_master m
             WHERE m.type = 'index' AND m.name NOT LIKE 'sqlite_autoindex_%'
                 AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.idx = m.name)",
        )
        .fetch_all(&self.pool)
        .await?;
        for table in unknown {
            // A table name of the schema's own, never input.
            let sql = format!("PRAGMA analysis_limit = 1000; ANALYZE \"{table}\"; PRAGMA analysis_limit = 0;");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&self.pool).await?;
        }
        sqlx::raw_sql("PRAGMA optimize = 0x10002").execute(&self.pool).await?;
        Ok(())
    }

    /// Runs `write` — a write a read makes on the side, such as a count kept for
    /// next time, whose reader's answer is right without it — on a connection of
    /// its own that on SQLite waits a quarter of a second for another writer
    /// instead of the usual ten: a page must not hang behind a long writer (an
    /// import, a sweep) for what it does not need. The connection's usual wait is
    /// put back afterwards, or the connection is closed rather than returned to
    /// the pool. PostgreSQL waits only on the rows written: as usual.
    pub(crate) async fn side_write<T>(
        &self,
        write: impl AsyncFnOnce(&mut sqlx::AnyConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self.pool.acquire().await?;
        let sqlite = self.backend == Backend::Sqlite;
        if sqlite {
            conn.execute(SIDE_WRITE_TIMEOUT).await?;
        }
        let written = write(&mut conn).await;
        if sqlite && conn.execute(BUSY_TIMEOUT).await.is_err() {
            drop(conn.detach());
        }
        written
    }

    /// `ANALYZE` of every table, on a sample of at most 1,000 rows per index, for
    /// a load that has just written them and that nobody else writes beside.
    async fn analyze_all(&self) -> StoreResult<()> {
        sqlx::raw_sql("PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA analysis_limit = 0;").execute(&self.pool).await?;
        Ok(())
    }

    /// After a bulk load (a benchmark's items): on PostgreSQL `VACUUM ANALYZE`, what
    /// autovacuum does within minutes of a load this size (the planner's statistics,
    /// and the visibility map that lets an index answer counts without the table);
    /// on SQLite `ANALYZE` of every table (on a sample).
    pub async fn settle_after_load(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Postgres => {
                sqlx::raw_sql("VACUUM ANALYZE").execute(&self.pool).await?;
                Ok(())
            }
            Backend::Sqlite => self.analyze_all().await,
        }
    }

    /// Records the key id on first use and refuses a different key afterwards, so
    /// that a lost or mixed-up key file stops the start with a clear message instead
    /// of failing at the first resident shown (or, worse, sealing new data under a
    /// second key).
    pub async fn check_key(&self) -> StoreResult<()> {
        sqlx::query("INSERT INTO vault_key (id, key_id, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(self.vault.key_id())
            .bind(wangge_domain::now_millis())
            .execute(&self.pool)
            .await?;
        let stored: String =
            sqlx::query_scalar("SELECT key_id FROM vault_key WHERE id = 1").fetch_one(&self.pool).await?;
        if stored != self.vault.key_id() {
            return Err(StoreError::Key(VaultError::DatabaseKey {
                expected: stored,
                loaded: self.vault.key_id().to_owned(),
                origin: self.vault.origin().to_string(),
            }));
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Accepts `sqlite:PATH`, `sqlite://PATH` and `postgres://` / `postgresql://` URLs;
/// SQLite files are opened read-write and created when missing.
fn normalise_url(url: &str) -> StoreResult<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let mut url = format!("sqlite://{path}");
        if !path.contains("mode=") && path != ":memory:" {
            url.push_str(if path.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
        }
        return Ok((Backend::Sqlite, url));
    }
    Err(crate::StoreError::Invalid(wangge_domain::msg!("error.database_url", url = url)))
}

/// An optional `DOUBLE PRECISION` value to bind (a coordinate).
///
/// Bind every `Option<f64>` through this, never directly: sqlx-core 0.9.0's `Any`
/// driver sends a NULL `f64` to PostgreSQL as a NULL `real` (it swaps the two float
/// kinds for NULLs; transact-rs/sqlx#4284). PostgreSQL caches the statement with
/// that parameter type, and the next execution of the same SQL with a number fails
/// with "incorrect binary data format in bind parameter N". Here a NULL is pushed as
/// the kind that sqlx turns into a NULL `double precision`, and a number as itself.
/// Remove when sqlx converts NULL doubles correctly.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Float(pub Option<f64>);

impl sqlx::Type<sqlx::Any> for Float {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <f64 as sqlx::Type<sqlx::Any>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Any> for Float {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self.0 {
            Some(v) => <f64 as sqlx::Encode<'_, sqlx::Any>>::encode_by_ref(&v, buf),
            // A NULL `f32` is what sqlx-core 0.9.0 binds as a NULL `f64`.
            None => <Option<f32> as sqlx::Encode<'_, sqlx::Any>>::encode_by_ref(&None, buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_database_and_its_wal_are_the_owners_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wangge.db");
        let url = format!("sqlite:{}", file.display());
        let db = Db::connect(&url, DbOptions::default()).await.unwrap();
        db.migrate().await.unwrap();
        let wal = dir.path().join("wangge.db-wal");
        assert!(wal.exists(), "WAL mode makes a -wal file");
        for path in [&file, &wal, &dir.path().join("wangge.db-shm"), &key_file_beside(&file)] {
            assert_eq!(mode(path), 0o600, "{}", path.display());
        }
        db.pool.close().await;

        // A database made 0644 by an older version is tightened when opened.
        std::fs::remove_file(&wal).ok();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let db = Db::connect(&url, DbOptions::default()).await.unwrap();
        db.migrate().await.unwrap();
        assert_eq!((mode(&file), mode(&wal)), (0o600, 0o600));
        db.pool.close().await;
    }

    #[tokio::test]
    async fn a_lost_key_file_is_not_replaced_by_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wangge.db");
        let url = format!("sqlite:{}", file.display());
        let db = Db::connect(&url, DbOptions::default()).await.unwrap();
        db.migrate().await.unwrap();
        let key_id = db.vault.key_id().to_owned();
        db.pool.close().await;
        let key = key_file_beside(&file);
        std::fs::remove_file(&key).unwrap();

        let refused = Db::connect(&url, DbOptions::default()).await.unwrap_err();
        let said = refused.to_string();
        assert!(matches!(refused, StoreError::Key(VaultError::MissingKey { .. })), "{said}");
        assert!(said.contains(&key.display().to_string()) && said.contains(&key_id), "{said}");
        assert!(!key.exists(), "no new, useless key file was made");
    }
}
