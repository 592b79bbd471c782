//! Bulk loads into an SQLite file through a connection of their own: the rows of
//! [`crate::bulk`] bound straight into one prepared statement per table, reused for
//! every row, inside long transactions. `generate` uses it on SQLite files.
//!
//! Why not the pool: through sqlx's `Any` driver every value is boxed into
//! `AnyArguments`, each statement crosses a channel to sqlx's SQLite worker thread and
//! its arguments are converted once more there. For `generate` that was most of the
//! time and held it near 37,000 residents/s; here a row costs about what SQLite
//! itself needs (docs/benchmarks.md).
//!
//! The connection is a second one on the same file: rusqlite and sqlx link the same
//! bundled SQLite (libsqlite3-sys 0.37). It lives for one load, with settings of its
//! own ([`LOAD_PRAGMAS`]); the pool's connections keep theirs, and the file stays in
//! WAL mode, so serving is unaffected. SQLite has one writer at a time: while a
//! [`SqliteBulkTx`] is open the pool can still read, and a write through the pool
//! waits for the commit (`busy_timeout`).

use std::borrow::Cow;
use std::fmt;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{CachedStatement, Connection, OpenFlags, Transaction, TransactionBehavior, ffi, params};
use sqlx::error::{DatabaseError, ErrorKind};
use wangge_domain::{Vocabulary, new_id, now_millis};

use crate::areas::{self, Area};
use crate::bulk::{
    BuildingRow, GridPostRow, HouseholdRow, OrganisationRow, RESIDENT_INDEXES, ResidentRow, SealedResident,
    check_sealed,
};
use crate::{Backend, Db, StoreError, StoreResult};

/// Settings of the loading connection (per connection; nothing here outlives it).
///
/// - `synchronous = NORMAL`: in WAL mode a commit is then written but not flushed to
///   the disk; the database stays consistent after a crash or power cut and at worst
///   loses the last commits of the load, which `generate` can simply run again. The
///   pool keeps `FULL` for what people type.
/// - `cache_size` of 256 MiB: the residents' indexes are built at the end of a load by
///   sorting; the sorter works in memory up to the page cache's size, and larger
///   indexes than that spill to temporary files.
/// - `wal_autocheckpoint = 0`: the [`Checkpointer`] copies the log into the database
///   on a thread of its own, so the loader never waits for it.
/// - `foreign_keys = ON`, as on every connection: the loader checks what it inserts.
/// - `busy_timeout`: the pool may hold the write lock a moment when the load begins.
const LOAD_PRAGMAS: &str = "PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 10000;
PRAGMA synchronous = NORMAL;
PRAGMA wal_autocheckpoint = 0;
PRAGMA cache_size = -262144;
PRAGMA temp_store = MEMORY;";

/// A connection for bulk loads into the SQLite file behind a [`Db`].
pub struct SqliteBulkWriter {
    conn: Connection,
    checkpointer: Option<Checkpointer>,
}

impl SqliteBulkWriter {
    /// Opens a loading connection on `db`'s file; `None` when `db` is not an SQLite
    /// file (PostgreSQL, or an in-memory database no second connection can see).
    pub async fn open(db: &Db) -> StoreResult<Option<Self>> {
        if db.backend != Backend::Sqlite {
            return Ok(None);
        }
        let file: Option<String> = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_optional(&db.pool)
            .await?;
        let Some(file) = file.filter(|f| !f.is_empty()) else {
            return Ok(None);
        };
        let conn = open(&file)?;
        conn.execute_batch(LOAD_PRAGMAS).map_err(db_error)?;
        let checkpointer = Checkpointer::start(&file)?;
        Ok(Some(Self { conn, checkpointer: Some(checkpointer) }))
    }

    /// Ends the load: stops the background checkpoints and copies what is left of
    /// the log into the database, so that the load's cost is all counted here and
    /// the file is complete without its log.
    pub fn finish(mut self) -> StoreResult<()> {
        if let Some(checkpointer) = self.checkpointer.take() {
            checkpointer.stop();
        }
        self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).map_err(db_error)
    }

    /// Opens a transaction that takes the write lock at once, so a busy database
    /// makes the load wait at its start rather than fail halfway.
    pub fn begin(&mut self) -> StoreResult<SqliteBulkTx<'_>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
        Ok(SqliteBulkTx { tx, now: now_millis() })
    }

    /// Builds the indexes that [`crate::bulk::drop_resident_indexes`] dropped, on this
    /// connection and its large cache. Fails, leaving the unique index missing, if a
    /// load put the same ID card number in twice (a loader's bug, see
    /// [`crate::bulk::create_resident_indexes`]).
    pub fn create_resident_indexes(&mut self) -> StoreResult<()> {
        for (name, create) in RESIDENT_INDEXES {
            let sql = create.replacen("INDEX ", "INDEX IF NOT EXISTS ", 1);
            self.conn.execute_batch(&sql).map_err(|e| {
                tracing::error!("rebuilding index {name}: {e}");
                db_error(e)
            })?;
        }
        // Fresh statistics, so the planner uses the new indexes for scoped searches.
        self.conn.execute_batch("ANALYZE").map_err(db_error)
    }
}

impl Drop for SqliteBulkWriter {
    fn drop(&mut self) {
        if let Some(checkpointer) = self.checkpointer.take() {
            checkpointer.stop();
        }
    }
}

/// Opens the file the pool has open, read-write. No URI parsing: the name comes from
/// SQLite itself (`pragma_database_list`), so it is a plain path.
fn open(file: &str) -> StoreResult<Connection> {
    Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(db_error)
}

/// Copies the write-ahead log into the database file while the load goes on, from a
/// connection and thread of its own.
///
/// In WAL mode every page is written twice: into the log at commit, and into the
/// database at a checkpoint, which also waits for the disk (`fsync`) twice. Run by
/// the committing connection, as SQLite does by default, that took about a fifth of
/// the load; here it overlaps with the next transaction, and with the sorting of an
/// index build. A passive checkpoint never blocks the writer: it copies what is
/// committed and leaves the rest for the next round.
struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

/// How often the checkpointer looks for committed pages to copy.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

impl Checkpointer {
    fn start(file: &str) -> StoreResult<Self> {
        let conn = open(file)?;
        conn.execute_batch("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;").map_err(db_error)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                loop {
                    // A failed round is retried at the next; `finish` checkpoints once
                    // more and reports its error.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::debug!("background checkpoint: {e}");
                    }
                    if stopped.recv_timeout(CHECKPOINT_EVERY) != Err(RecvTimeoutError::Timeout) {
                        return;
                    }
                }
            })
            .map_err(|e| StoreError::Invalid(format!("starting the checkpoint thread: {e}")))?;
        Ok(Self { stop, thread })
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// One transaction of a bulk load; dropped without [`SqliteBulkTx::commit`], it rolls back.
pub struct SqliteBulkTx<'c> {
    tx: Transaction<'c>,
    /// `created_at` and `updated_at` of every row it writes.
    now: i64,
}

impl SqliteBulkTx<'_> {
    pub fn commit(self) -> StoreResult<()> {
        self.tx.commit().map_err(db_error)
    }

    /// The statement for `sql`, prepared once per connection and reused.
    fn statement(&self, sql: &str) -> StoreResult<CachedStatement<'_>> {
        self.tx.prepare_cached(sql).map_err(db_error)
    }

    /// Inserts areas made by [`areas::plan`], parents first. A code already taken is
    /// a conflict, as in [`areas::create_on`].
    pub fn areas(&self, rows: &[Area]) -> StoreResult<()> {
        let mut stmt = self.statement(
            "INSERT INTO areas (id, parent_id, level, code, name, path, boundary, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for a in rows {
            let boundary = a.boundary.as_ref().map(|b| b.to_string());
            stmt.execute(params![
                a.id,
                a.parent_id,
                a.level.as_str(),
                a.code,
                a.name,
                a.path,
                boundary,
                a.created_at,
                a.updated_at
            ])
            .map_err(|e| on_unique(e, || areas::already_exists(&a.code)))?;
        }
        Ok(())
    }

    pub fn grid_posts(&self, rows: &[GridPostRow]) -> StoreResult<()> {
        rows.iter().try_for_each(GridPostRow::check)?;
        let mut stmt = self.statement(
            "INSERT INTO grid_posts (id, grid_id, post, person_name, phone, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )?;
        for r in rows {
            stmt.execute(params![new_id(), r.grid_id, r.post, r.person_name, r.phone, self.now]).map_err(db_error)?;
        }
        Ok(())
    }

    pub fn buildings(&self, rows: &[BuildingRow]) -> StoreResult<()> {
        let mut stmt = self.statement(
            "INSERT INTO buildings (id, grid_id, community_id, path, number, address, kind, floors, units, lat, lng, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for r in rows {
            stmt.execute(params![
                r.id,
                r.grid_id,
                r.community_id,
                r.path,
                r.number,
                r.address,
                r.kind.code(),
                r.floors,
                r.units,
                r.lat,
                r.lng,
                self.now,
                self.now
            ])
            .map_err(db_error)?;
        }
        Ok(())
    }

    pub fn households(&self, rows: &[HouseholdRow]) -> StoreResult<()> {
        let mut stmt = self.statement(
            "INSERT INTO households (id, building_id, path, unit, room, occupancy, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for r in rows {
            stmt.execute(params![r.id, r.building_id, r.path, r.unit, r.room, r.occupancy.code(), self.now, self.now])
                .map_err(db_error)?;
        }
        Ok(())
    }

    /// Inserts residents, with their protected fields as [`crate::bulk::seal_residents`]
    /// sealed them (one per row, in order), and their tags.
    pub fn residents(&self, rows: &[ResidentRow], sealed: &[SealedResident]) -> StoreResult<()> {
        check_sealed(rows, sealed)?;
        let mut stmt = self.statement(
            "INSERT INTO residents (id, household_id, path, name, gender, birth_date, id_card_enc, id_card_hash, \
             id_last4_hash, phone_enc, phone_hash, phone_last4_hash, residence_type, relation, political_status, \
             ethnicity, notes, status, registered_on, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for (r, SealedResident(p)) in rows.iter().zip(sealed) {
            stmt.execute(params![
                r.id,
                r.household_id,
                r.path,
                r.name,
                r.gender.code(),
                r.birth_date,
                p.id_card_enc,
                p.id_card_hash,
                p.id_last4_hash,
                p.phone_enc,
                p.phone_hash,
                p.phone_last4_hash,
                r.residence_type.code(),
                r.relation.code(),
                r.political_status.code(),
                r.ethnicity,
                r.notes,
                r.status.code(),
                r.registered_on,
                self.now,
                self.now
            ])
            .map_err(db_error)?;
        }
        let mut tags = self.statement("INSERT INTO resident_tags (resident_id, tag_id) VALUES (?, ?)")?;
        for r in rows {
            for tag in &r.tag_ids {
                tags.execute(params![r.id, tag]).map_err(db_error)?;
            }
        }
        Ok(())
    }

    pub fn organisations(&self, rows: &[OrganisationRow]) -> StoreResult<()> {
        let mut stmt = self.statement(
            "INSERT INTO organisations (id, grid_id, path, name, kind, address, contact_name, phone, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for r in rows {
            stmt.execute(params![
                r.id,
                r.grid_id,
                r.path,
                r.name,
                r.kind.code(),
                r.address,
                r.contact_name,
                r.phone,
                self.now,
                self.now
            ])
            .map_err(db_error)?;
        }
        Ok(())
    }
}

// -- errors ------------------------------------------------------------------------------

/// An error of the loading connection, in the store's usual form: a
/// `StoreError::Database` whose unique and foreign-key violations are recognised as
/// such, like the pool's, so callers handle both the same way.
fn db_error(err: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Database(Box::new(SqliteFailure::from(err))))
}

/// [`StoreError::on_unique`] for the loading connection.
fn on_unique(err: rusqlite::Error, message: impl FnOnce() -> String) -> StoreError {
    match db_error(err) {
        StoreError::Database(e) => StoreError::on_unique(e, message),
        other => other,
    }
}

#[derive(Debug)]
struct SqliteFailure {
    /// SQLite's extended result code.
    code: Option<i32>,
    message: String,
    source: rusqlite::Error,
}

impl From<rusqlite::Error> for SqliteFailure {
    fn from(source: rusqlite::Error) -> Self {
        let code = source.sqlite_error().map(|e| e.extended_code);
        Self { code, message: source.to_string(), source }
    }
}

impl fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqliteFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        self.code.map(|c| Cow::Owned(c.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => ErrorKind::UniqueViolation,
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => ErrorKind::ForeignKeyViolation,
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => ErrorKind::NotNullViolation,
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}
