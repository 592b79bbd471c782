use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::StoreResult;

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
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 8 }
    }
}

/// A connection pool and the engine it talks to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// SQLite settings applied to every connection. WAL lets readers go on while one
/// writer commits; `synchronous=FULL` makes every acknowledged commit survive a power
/// cut, not only a crash (NORMAL would risk the last commits, and a person typed them);
/// foreign keys are off by default in SQLite and must be switched on per connection;
/// `busy_timeout` makes a second writer wait instead of failing; a 64 MiB page cache
/// keeps the indexes of a large community in memory.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 10000;
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;";

impl Db {
    /// Opens `sqlite:PATH` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str, options: DbOptions) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise_url(url)?;
        let connect = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool_options =
            AnyPoolOptions::new().max_connections(options.max_connections).acquire_timeout(Duration::from_secs(30));
        let pool_options = match backend {
            Backend::Sqlite => pool_options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            }),
            Backend::Postgres => pool_options,
        };
        let pool = pool_options.connect_with(connect).await?;
        Ok(Self { pool, backend })
    }

    /// Brings the schema up to date. Safe to run on every start.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await?,
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
    Err(crate::StoreError::Invalid(format!(
        "unsupported database URL '{url}': use sqlite:PATH or postgres://USER@HOST/DB"
    )))
}
