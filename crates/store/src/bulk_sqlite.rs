//! Bulk loads into an SQLite file through a connection of their own: the rows of
//! [`crate::bulk`] bound straight into one prepared statement per table, inside long
//! transactions. `generate` uses it on SQLite files.
//!
//! Why not the pool: through sqlx's `Any` driver every value is boxed into
//! `AnyArguments`, each statement crosses a channel to sqlx's SQLite worker thread and
//! its arguments are converted once more there. For `generate` that was most of the
//! time and held it near 37,000 residents/s; here a row costs about what SQLite
//! itself needs (docs/benchmarks.md).
//!
//! The connection is a second one on the same file: rusqlite and sqlx link the same
//! bundled SQLite (libsqlite3-sys 0.37). It lives for one load, with settings of its
//! own ([`LOAD_PRAGMAS`]); the pool's connections keep theirs. It works in one of
//! two modes:
//!
//! - **Shared** (the default): the file stays in WAL mode. While a [`SqliteBulkTx`]
//!   is open the pool can still read, and a write through the pool waits for the
//!   commit (`busy_timeout`). A [`Checkpointer`] copies the log into the database on
//!   a thread of its own.
//! - **The file to itself** ([`SqliteBulkWriter::take_file`], for a registry that is
//!   still empty): an exclusive lock, the rollback journal in memory and no waiting
//!   for the disk. Every page is then written once instead of twice (log, then
//!   database) and nothing else may touch the file until [`SqliteBulkWriter::finish`]
//!   puts it back in WAL mode, flushed to the disk.

use std::borrow::Cow;
use std::ffi::{CStr, c_int};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior, ffi};
use sqlx::error::{DatabaseError, ErrorKind};
use wangge_domain::{Vocabulary, now_millis};

use crate::error::operator;

use crate::bulk::{
    BuildingRow, GRID_POST_COLUMNS, GridPostRow, HouseholdRow, OrganisationRow, RESIDENT_INDEXES, ResidentRow,
    SealedResident, check_sealed,
};
use crate::registry::areas::{self, Area};
use crate::team::SealedPost;
use crate::{Backend, Db, StoreError, StoreResult};

/// Settings of the loading connection (per connection; nothing here outlives it).
///
/// - `synchronous = NORMAL`: in WAL mode a commit is then written but not flushed to
///   the disk; the database stays consistent after a crash or power cut and at worst
///   loses the last commits of the load, which `generate` can simply run again. The
///   pool keeps `FULL` for what people type.
/// - `wal_autocheckpoint = 0`: the [`Checkpointer`] copies the log into the database
///   on a thread of its own, so the loader never waits for it.
/// - `foreign_keys = OFF`: the loader does not look up the parent of every row it
///   inserts (about a tenth of its time). Its callers write references to rows they
///   made themselves (`generate` builds a community's households from its buildings,
///   its residents from its households); the tests run `PRAGMA foreign_key_check` on
///   what it wrote.
/// - `cache_size` of 256 MiB: a transaction's pages stay in memory until its commit.
/// - `busy_timeout`: the pool may hold the write lock a moment when the load begins.
const LOAD_PRAGMAS: &str = "PRAGMA foreign_keys = OFF;
PRAGMA busy_timeout = 10000;
PRAGMA synchronous = NORMAL;
PRAGMA wal_autocheckpoint = 0;
PRAGMA cache_size = -262144;
PRAGMA temp_store = MEMORY;";

/// Settings for building indexes at the end of a load. SQLite sorts an index's keys
/// before writing it. With temporary files allowed and a page cache of 8 MiB, its
/// sorter cuts the keys into runs of 8 MiB, sorts them on up to three helper threads
/// while the table scan goes on, and merges them in parallel; in memory
/// (`temp_store = MEMORY`) it sorts everything at the end on one thread. The runs
/// live in temporary files that the operating system mostly keeps in memory.
/// `mmap_size` lets the scans of the table read the file in place instead of
/// copying every page (2 GiB is SQLite's default ceiling). `analysis_limit` makes
/// the `ANALYZE` that follows read a sample of each index rather than all of it
/// (about 0.7 s per million residents): statistics good enough for the planner to
/// pick the right index, which is all they are for.
const INDEX_PRAGMAS: &str = "PRAGMA temp_store = FILE;
PRAGMA threads = 3;
PRAGMA cache_size = -8192;
PRAGMA mmap_size = 2147418112;
PRAGMA analysis_limit = 1000;";

/// Transactions between two restarts of the write-ahead log (see [`SqliteBulkWriter::begin`]).
const RESTART_LOG_EVERY: usize = 8;

/// A connection for bulk loads into the SQLite file behind a [`Db`].
pub struct SqliteBulkWriter {
    conn: Connection,
    file: String,
    /// Whether [`SqliteBulkWriter::take_file`] took the file for this connection.
    exclusive: bool,
    /// Running in shared mode, from the first transaction to [`SqliteBulkWriter::finish`].
    checkpointer: Option<Checkpointer>,
    transactions: usize,
    /// The triggers on `visits` dropped by [`SqliteBulkWriter::take_file`], as
    /// SQLite keeps their text, to be created again by [`SqliteBulkWriter::finish`].
    suspended_triggers: Vec<String>,
}

impl SqliteBulkWriter {
    /// Opens a loading connection on `db`'s file, in shared mode; `None` when `db` is
    /// not an SQLite file (PostgreSQL, or an in-memory database no second connection
    /// can see).
    pub async fn open(db: &Db) -> StoreResult<Option<Self>> {
        if db.backend != Backend::Sqlite {
            return Ok(None);
        }
        // On a connection closed afterwards rather than returned to the pool, so
        // that `take_file` finds the pool idle.
        let mut conn = db.pool.acquire().await?;
        let file: Option<String> = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_optional(&mut *conn)
            .await?;
        conn.close().await?;
        let Some(file) = file.filter(|f| !f.is_empty()) else {
            return Ok(None);
        };
        let conn = open(&file)?;
        Ok(Some(Self {
            conn,
            file,
            exclusive: false,
            checkpointer: None,
            transactions: 0,
            suspended_triggers: Vec::new(),
        }))
    }

    /// Takes the file for this connection alone, for loading into an empty registry:
    /// closes the pool's idle connections and switches from the write-ahead log to a
    /// rollback journal in memory, with an exclusive lock and no flushing to the
    /// disk until [`SqliteBulkWriter::finish`]. Returns whether it could: SQLite
    /// leaves WAL mode only when no other connection has the file open, so with a
    /// server running on it (or a pool connection busy elsewhere) the load goes on
    /// in shared mode.
    ///
    /// Until `finish`, nothing else may use the file, the pool included: it would
    /// wait `busy_timeout` and fail. A crash meanwhile can leave the file damaged,
    /// which is why this is only for a registry with nothing in it yet (`generate`
    /// into a fresh file): run it again.
    ///
    /// With the file taken, the triggers on `visits` that keep each household's and
    /// each resident's last day met (migrations 0035, 0040) are dropped for the load: fired by every one of
    /// millions of visits they made `generate` nearly twice as slow
    /// (docs/benchmarks.md). The rows bring their days instead
    /// ([`crate::bulk::HouseholdRow::last_met_on`], computed by whoever drew the
    /// visits; `figures verify` recounts them), and `finish` creates the triggers
    /// again from the text SQLite kept of them.
    pub async fn take_file(&mut self, db: &Db) -> StoreResult<bool> {
        debug_assert!(self.transactions == 0, "before the first transaction");
        // Closing is asynchronous in sqlx: a connection used a moment ago may still
        // be on its way back to the pool. Give it a few turns to arrive.
        for _ in 0..100 {
            while let Some(conn) = db.pool.try_acquire() {
                conn.close().await?;
            }
            if db.pool.size() == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        self.conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE").map_err(db_error)?;
        let mode = self.conn.query_row("PRAGMA journal_mode = MEMORY", [], |row| row.get::<_, String>(0));
        if matches!(mode.as_deref(), Ok("memory")) {
            self.conn.execute_batch("PRAGMA synchronous = OFF").map_err(db_error)?;
            self.exclusive = true;
            self.suspend_upkeep_triggers()?;
            return Ok(true);
        }
        // Someone else has the file open. A fresh connection rather than undoing
        // the exclusive locking mode, whose release in WAL mode has its own rules.
        tracing::debug!("loading in shared mode: the file is open elsewhere ({mode:?})");
        self.conn = open(&self.file)?;
        Ok(false)
    }

    /// Ends the load. With the file taken, puts it back in WAL mode: the switch
    /// commits with `synchronous = FULL`, which flushes everything the load wrote to
    /// the disk. In shared mode, stops the background checkpoints, copies what is
    /// left of the log into the database and empties the log. Either way the load's
    /// whole cost is counted here, and the file is complete without its log.
    pub fn finish(mut self) -> StoreResult<()> {
        if self.exclusive {
            self.resume_upkeep_triggers()?;
            self.conn.execute_batch("PRAGMA synchronous = FULL").map_err(db_error)?;
            let mode: String =
                self.conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(db_error)?;
            if mode != "wal" {
                return Err(StoreError::Invalid(operator(format!(
                    "the database stayed in journal mode {mode}, not WAL"
                ))));
            }
            // Dropping the connection below releases the exclusive lock.
            return Ok(());
        }
        if let Some(checkpointer) = self.checkpointer.take() {
            checkpointer.stop();
        }
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(db_error)
    }

    fn suspend_upkeep_triggers(&mut self) -> StoreResult<()> {
        let triggers: Vec<(String, String)> = self
            .conn
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'
                 AND (tbl_name = 'visits' OR name LIKE 'residents_last_met%' OR name LIKE 'area_rollup%'
                      OR name LIKE 'past_figures%')
                 ORDER BY name",
            )
            .and_then(|mut q| q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(db_error)?;
        for (name, sql) in triggers {
            self.conn.execute_batch(&format!("DROP TRIGGER \"{name}\"")).map_err(db_error)?;
            self.suspended_triggers.push(sql);
        }
        Ok(())
    }

    /// The roll-ups counted from the rows, then the triggers back, in one
    /// transaction. (The households' and residents' last met days came with the rows.)
    fn resume_upkeep_triggers(&mut self) -> StoreResult<()> {
        if self.suspended_triggers.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(db_error)?;
        tx.execute_batch("PRAGMA cache_size = -262144").map_err(db_error)?;
        // The visits loaded raised no coverage versions (migration 0061): counts of
        // closed windows kept before the load are dropped, to be counted again.
        tx.execute_batch("DELETE FROM coverage_month_ends").map_err(db_error)?;
        tx.execute_batch(crate::bulk::PAST_FIGURES_DROP).map_err(db_error)?;
        tx.execute_batch(crate::summaries::ROLLUPS_RECOUNT).map_err(db_error)?;
        for sql in &self.suspended_triggers {
            tx.execute_batch(sql).map_err(db_error)?;
        }
        tx.commit().map_err(db_error)?;
        self.suspended_triggers.clear();
        Ok(())
    }

    /// Opens a transaction that takes the write lock at once, so a busy database
    /// makes the load wait at its start rather than fail halfway.
    ///
    /// In shared mode the first transaction starts the [`Checkpointer`], and every
    /// [`RESTART_LOG_EVERY`] transactions the write-ahead log is restarted. SQLite
    /// starts writing the log from its beginning again only when a transaction
    /// begins after a complete checkpoint; a loader that begins the next transaction
    /// as soon as it commits never finds one, so without this the log would grow as
    /// large as the database. The checkpointer has copied most of the log by then;
    /// the restart copies the rest (and gives up, harmlessly, if the checkpointer
    /// is busy).
    pub fn begin(&mut self) -> StoreResult<SqliteBulkTx<'_>> {
        if !self.exclusive {
            if self.checkpointer.is_none() {
                self.checkpointer = Some(Checkpointer::start(&self.file)?);
            }
            if self.transactions > 0 && self.transactions.is_multiple_of(RESTART_LOG_EVERY) {
                self.conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())).map_err(db_error)?;
            }
        }
        self.transactions += 1;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
        Ok(SqliteBulkTx { tx, now: now_millis() })
    }

    /// Builds the indexes that [`crate::bulk::drop_resident_indexes`] dropped, on this
    /// connection, with [`INDEX_PRAGMAS`]. Fails, leaving the unique index missing, if
    /// a load put the same ID card number in twice (a loader's bug, see
    /// [`crate::bulk::create_resident_indexes`]).
    pub fn create_resident_indexes(&mut self) -> StoreResult<()> {
        self.conn.execute_batch(INDEX_PRAGMAS).map_err(db_error)?;
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
        // Not finished (a failed load): the triggers are put back all the same, so
        // that a file used anyway keeps its households' days up to date.
        if let Err(e) = self.resume_upkeep_triggers() {
            tracing::error!("creating the triggers on visits again: {e}");
        }
        if let Some(checkpointer) = self.checkpointer.take() {
            checkpointer.stop();
        }
    }
}

/// Opens the file the pool has open, read-write, with [`LOAD_PRAGMAS`]. No URI
/// parsing: the name comes from SQLite itself (`pragma_database_list`), so it is a
/// plain path.
fn open(file: &str) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(db_error)?;
    conn.execute_batch(LOAD_PRAGMAS).map_err(db_error)?;
    Ok(conn)
}

/// Copies the write-ahead log into the database file while a load in shared mode
/// goes on, from a connection and thread of its own.
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
            .map_err(|e| StoreError::Invalid(operator(format!("starting the checkpoint thread: {e}"))))?;
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

    /// `sql` prepared for one table's rows of one call (a few hundred to a few
    /// thousand), and run once per row.
    fn insert(&self, sql: &str) -> StoreResult<Insert<'_>> {
        Insert::prepare(&self.tx, sql).map_err(db_error)
    }

    /// Inserts areas made by [`areas::plan`], parents first. A code already taken is
    /// a conflict, as in [`areas::create_on`].
    pub fn areas(&self, rows: &[Area]) -> StoreResult<()> {
        let mut stmt = self.insert(
            "INSERT INTO areas (id, parent_id, level, code, name, path, boundary, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for a in rows {
            let boundary = a.boundary.as_ref().map(|b| b.to_string());
            stmt.row(&values![
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

    /// Inserts the posts with their phones sealed by [`crate::bulk::seal_posts`], and
    /// the buildings each looks after.
    pub fn grid_posts(&self, rows: &[GridPostRow], sealed: &[SealedPost]) -> StoreResult<()> {
        if rows.len() != sealed.len() {
            let detail = format!("{} posts but {} sealed phones", rows.len(), sealed.len());
            return Err(StoreError::Invalid(operator(detail)));
        }
        let mut stmt = self.insert(&format!(
            "INSERT INTO grid_posts ({GRID_POST_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))?;
        for (r, p) in rows.iter().zip(sealed) {
            stmt.row(&values![
                r.id,
                r.grid_id,
                r.post.code(),
                r.person_name,
                p.phone_enc,
                p.phone_hash,
                r.duties,
                r.resident_id,
                r.starts_on,
                self.now,
                self.now
            ])
            .map_err(db_error)?;
        }
        drop(stmt);
        let mut stmt = self.insert("INSERT INTO grid_post_buildings (post_id, building_id) VALUES (?, ?)")?;
        for r in rows {
            for b in &r.building_ids {
                stmt.row(&values![r.id, b]).map_err(db_error)?;
            }
        }
        Ok(())
    }

    pub fn buildings(&self, rows: &[BuildingRow]) -> StoreResult<()> {
        let mut stmt = self.insert(
            "INSERT INTO buildings (id, grid_id, community_id, path, number, address, kind, floors, units, lat, lng, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for r in rows {
            stmt.row(&values![
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
        let mut stmt = self.insert(
            "INSERT INTO households (id, building_id, path, unit, room, occupancy, last_met_on, last_door_on, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for r in rows {
            stmt.row(&values![
                r.id,
                r.building_id,
                r.path,
                r.unit,
                r.room,
                r.occupancy.code(),
                r.last_met_on,
                r.last_door_on,
                self.now,
                self.now
            ])
            .map_err(db_error)?;
        }
        Ok(())
    }

    /// Inserts residents, with their protected fields as [`crate::bulk::seal_residents`]
    /// sealed them (one per row, in order), and their tags.
    pub fn residents(&self, rows: &[ResidentRow], sealed: &[SealedResident]) -> StoreResult<()> {
        check_sealed(rows, sealed)?;
        let mut stmt = self.insert(
            "INSERT INTO residents (id, household_id, path, name, gender, birth_date, id_card_enc, id_card_hash, \
             id_last4_hash, phone_enc, phone_hash, phone_last4_hash, residence_type, relation, relation_term, \
             political_status, ethnicity, notes, status, registered_on, last_met_on, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for (r, SealedResident(p)) in rows.iter().zip(sealed) {
            stmt.row(&values![
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
                r.relation_term,
                r.political_status.code(),
                r.ethnicity,
                r.notes,
                r.status.code(),
                r.registered_on,
                r.last_met_on,
                self.now,
                self.now
            ])
            .map_err(db_error)?;
        }
        let mut tags = self.insert("INSERT INTO resident_tags (resident_id, tag_id) VALUES (?, ?)")?;
        for r in rows {
            for tag in &r.tag_ids {
                tags.row(&values![r.id, tag]).map_err(db_error)?;
            }
        }
        Ok(())
    }

    /// Inserts past visits with what was found as [`crate::visits::seal_findings`]
    /// sealed it (one per row, in order).
    pub fn visits(&self, rows: &[crate::visits::PastVisit], sealed: &[Option<String>]) -> StoreResult<()> {
        if rows.len() != sealed.len() {
            let detail = format!("{} visits but {} sealed findings", rows.len(), sealed.len());
            return Err(StoreError::Invalid(operator(detail)));
        }
        let mut stmt = self.insert(&format!(
            "INSERT INTO visits ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            crate::visits::PAST_COLUMNS
        ))?;
        for (v, findings) in rows.iter().zip(sealed) {
            stmt.row(&values![
                v.id,
                v.path,
                v.household_id,
                v.resident_id,
                v.channel.code(),
                v.outcome.code(),
                v.visited_on,
                v.purpose,
                findings,
                v.visitor_name,
                0_i64,
                v.created_at
            ])
            .map_err(db_error)?;
        }
        Ok(())
    }

    pub fn organisations(&self, rows: &[OrganisationRow]) -> StoreResult<()> {
        let mut stmt = self.insert(
            "INSERT INTO organisations (id, grid_id, path, name, kind, address, contact_name, phone, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for r in rows {
            stmt.row(&values![
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

// -- statements that bind in place --------------------------------------------------------

/// An INSERT prepared on the loading connection, whose text parameters SQLite reads
/// where they are.
///
/// rusqlite binds text as `SQLITE_TRANSIENT`: SQLite copies each string into memory
/// of its own and frees it at the next row. For a resident that is fifteen
/// allocations, copies and frees, about a sixth of the writer's time in the profile.
/// Bound `SQLITE_STATIC`, SQLite uses the caller's bytes as they are. That is sound
/// only while they stay alive and unchanged until SQLite is done with them, so
/// [`Insert::row`] binds, runs and resets the statement within one call over values
/// it borrows, and clears the bindings before it returns: no pointer outlives the
/// borrow.
struct Insert<'c> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: *mut ffi::sqlite3,
    params: usize,
    /// The statement belongs to this connection and must not outlive it.
    _conn: PhantomData<&'c Connection>,
}

/// A value bound to one parameter of an [`Insert`].
#[derive(Clone, Copy)]
enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
}

/// What an [`Insert`] takes as a parameter.
trait Bind {
    fn value(&self) -> Value<'_>;
}

impl Bind for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Bind for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Bind for i64 {
    fn value(&self) -> Value<'_> {
        Value::Int(*self)
    }
}

impl Bind for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

impl<T: Bind> Bind for Option<T> {
    fn value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, T::value)
    }
}

impl<T: Bind + ?Sized> Bind for &T {
    fn value(&self) -> Value<'_> {
        T::value(self)
    }
}

/// The values of one row, each borrowed for the call that takes them.
macro_rules! values {
    ($($value:expr),* $(,)?) => {
        [$(Bind::value(&$value)),*]
    };
}
use values;

impl<'c> Insert<'c> {
    fn prepare(conn: &'c Connection, sql: &str) -> rusqlite::Result<Self> {
        // SAFETY: the handle stays valid while `conn` is borrowed, which `'c` keeps
        // for as long as this statement lives; it is used on this thread only.
        let db = unsafe { conn.handle() };
        let mut stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len()).expect("a short statement");
        // SAFETY: `sql` is valid for `len` bytes; SQLite writes the statement to `stmt`.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr().cast(), len, &mut stmt, ptr::null_mut()) };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(db, rc));
        }
        let stmt = NonNull::new(stmt).expect("an INSERT compiles to a statement");
        // SAFETY: `stmt` is a live statement.
        let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) } as usize;
        Ok(Self { stmt, db, params, _conn: PhantomData })
    }

    /// Inserts one row of `values`, one per parameter in order.
    fn row(&mut self, values: &[Value<'_>]) -> rusqlite::Result<()> {
        assert_eq!(values.len(), self.params, "one value per parameter");
        let stmt = self.stmt.as_ptr();
        let mut rc = ffi::SQLITE_OK;
        for (i, value) in values.iter().enumerate() {
            let i = i as c_int + 1;
            // SAFETY: `stmt` is live and `i` one of its parameters. A text is bound
            // SQLITE_STATIC: SQLite reads it in place until the bindings are cleared
            // below, while `values` still borrows it.
            rc = unsafe {
                match *value {
                    Value::Null => ffi::sqlite3_bind_null(stmt, i),
                    Value::Int(v) => ffi::sqlite3_bind_int64(stmt, i, v),
                    Value::Real(v) => ffi::sqlite3_bind_double(stmt, i, v),
                    Value::Text(v) => ffi::sqlite3_bind_text64(
                        stmt,
                        i,
                        v.as_ptr().cast(),
                        v.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                break;
            }
        }
        if rc == ffi::SQLITE_OK {
            // SAFETY: every parameter is bound.
            rc = unsafe { ffi::sqlite3_step(stmt) };
        }
        let outcome = if rc == ffi::SQLITE_DONE || rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            // Read before the reset, which may replace the message.
            Err(last_error(self.db, rc))
        };
        // SAFETY: `stmt` is live. The reset repeats a failed step's error, already
        // taken; clearing the bindings drops every pointer into `values`.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        outcome
    }
}

impl Drop for Insert<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is live and used no more.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The error SQLite reports for `db` after a call returned `rc`, as rusqlite gives it.
fn last_error(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    // SAFETY: `db` is a live connection; its message is copied before any other call.
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db);
        let message = ffi::sqlite3_errmsg(db);
        let message = (!message.is_null()).then(|| CStr::from_ptr(message).to_string_lossy().into_owned());
        (code, message)
    };
    // The extended code carries the kind of constraint; fall back to the plain one.
    let code = if code & 0xff == rc & 0xff { code } else { rc };
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), message)
}

// -- errors ------------------------------------------------------------------------------

/// An error of the loading connection, in the store's usual form: a
/// `StoreError::Database` whose unique and foreign-key violations are recognised as
/// such, like the pool's, so callers handle both the same way.
fn db_error(err: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Database(Box::new(SqliteFailure::from(err))))
}

/// [`StoreError::on_unique`] for the loading connection.
fn on_unique(err: rusqlite::Error, message: impl FnOnce() -> wangge_domain::Message) -> StoreError {
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
