//! Backups of an SQLite database while it serves, and restoring one.
//!
//! A backup is `VACUUM INTO` a new file beside the others: SQLite copies the
//! database as one read transaction, so writers go on committing while it runs and
//! the copy is exactly the database at the moment the copy began. The copy is then
//! checked with `PRAGMA integrity_check`, renamed to `wangge-YYYYMMDD-HHMMSS.db`
//! (UTC), made readable by its owner only, and all but the newest `keep` backups of
//! the directory are removed.
//!
//! ID card numbers and phones in a backup are sealed with the key in the key file
//! (`wangge.key`), which is deliberately not inside the database: every message
//! names where that key is, and `key_to` copies it to a second place.
//!
//! `serve` holds an exclusive lock on `wangge.db.lock` beside the database
//! ([`ServeLock`]); [`restore`] takes the same lock, so it refuses while a server
//! runs and no server starts while it replaces the file.
//!
//! PostgreSQL databases are backed up with `pg_dump` / `pg_restore` (docs/security.md).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::db::key_file_beside;
use crate::vault::{KeyOrigin, Vault};
use crate::{Backend, Db};

/// How many backups `wangge backup` keeps in a directory unless told otherwise.
pub const DEFAULT_KEEP: usize = 14;
/// The name of the lock file beside a database file: `wangge.db` → `wangge.db.lock`.
pub const LOCK_SUFFIX: &str = ".lock";
/// Backups are named `wangge-YYYYMMDD-HHMMSS.db`.
const PREFIX: &str = "wangge-";

/// What can stop a backup or a restore, said so that an operator knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "wangge backup copies SQLite databases only; back up PostgreSQL with pg_dump -Fc and restore with pg_restore \
         (docs/security.md), and keep the key ({key}) apart from the dumps"
    )]
    Postgres { key: String },
    #[error(
        "not enough free space in {dir}: {free} bytes free, the database needs up to {needed}; nothing was written. \
         The key of this database is {key}"
    )]
    NoSpace { dir: PathBuf, free: u64, needed: u64, key: String },
    #[error("{what} {path}: {source}. The key of this database is {key}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error, key: String },
    #[error("{0}")]
    Sqlite(String),
    #[error(
        "the copy {path} failed its integrity check ({detail}) and was removed; the database itself was not changed. \
         The key of this database is {key}"
    )]
    Corrupt { path: PathBuf, detail: String, key: String },
    #[error(
        "a server is using {db} (it holds {lock}{holder}): stop it first, then restore; nothing was changed. \
         The key of this database is {key}"
    )]
    InUse { db: PathBuf, lock: PathBuf, holder: String, key: String },
    #[error("{0}")]
    Refused(String),
}

impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e.to_string())
    }
}

/// Where a backup goes and what else to do.
#[derive(Clone, Debug, Default)]
pub struct BackupOptions {
    /// A directory (backups named by date, the newest `keep` kept) or a file name
    /// ending in `.db`; default: the directory `backups` beside the database.
    pub to: Option<PathBuf>,
    /// How many backups to keep in the directory (at least 1).
    pub keep: Option<usize>,
    /// Also copy the key file here (a directory, or a file name ending in `.key`), mode 0600.
    pub key_to: Option<PathBuf>,
}

/// What a backup did.
#[derive(Debug)]
pub struct BackupReport {
    pub file: PathBuf,
    pub bytes: u64,
    pub elapsed: Duration,
    /// Older backups removed to keep `keep`.
    pub removed: Vec<PathBuf>,
    /// Where the key of this database is (a file, or `WANGGE_KEY`).
    pub key: String,
    /// Where the key was copied, when asked.
    pub key_copied_to: Option<PathBuf>,
}

impl std::fmt::Display for BackupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "backed up to {} ({} bytes, integrity ok, {:.1} s)",
            self.file.display(),
            self.bytes,
            self.elapsed.as_secs_f64()
        )?;
        if !self.removed.is_empty() {
            write!(f, "; removed {} older backup(s)", self.removed.len())?;
        }
        match &self.key_copied_to {
            Some(to) => write!(f, "; the key ({}) was copied to {}", self.key, to.display()),
            None => write!(
                f,
                "; ID card numbers and phones in it open only with the key {}: keep a copy of it apart from the backups",
                self.key
            ),
        }
    }
}

/// The key's location as told in messages.
pub fn key_location(vault: &Vault) -> String {
    match vault.origin() {
        KeyOrigin::File(path) => path.display().to_string(),
        other => other.to_string(),
    }
}

/// The lock file of a database file.
pub fn lock_file(db_file: &Path) -> PathBuf {
    let mut name = db_file.file_name().unwrap_or_default().to_os_string();
    name.push(LOCK_SUFFIX);
    db_file.with_file_name(name)
}

/// Backs up the SQLite database in `db_file`, served through `db`.
pub async fn backup(db: &Db, db_file: &Path, options: &BackupOptions) -> Result<BackupReport, BackupError> {
    let key = key_location(&db.vault);
    if db.backend == Backend::Postgres {
        return Err(BackupError::Postgres { key });
    }
    let started = Instant::now();
    let io = |what: &'static str, path: &Path| {
        let key = key.clone();
        let path = path.to_owned();
        move |source| BackupError::Io { what, path, source, key }
    };
    let target = options.to.clone().unwrap_or_else(|| db_file.with_file_name("backups"));
    // A name ending in .db (or an existing file) is the backup itself; anything else a directory.
    let named_file = target.extension().is_some_and(|e| e == "db" || e == "sqlite" || e == "sqlite3");
    let into_dir = target.is_dir() || !(named_file || target.is_file());
    let (dir, final_name) = if into_dir {
        (target.clone(), None)
    } else {
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
        (dir, Some(target.clone()))
    };
    std::fs::create_dir_all(&dir).map_err(io("creating the backup directory", &dir))?;

    // The copy is at most the database's pages (its WAL's newer pages replace older ones).
    let needed = std::fs::metadata(db_file).map_err(io("reading the size of", db_file))?.len();
    let stat = rustix::fs::statvfs(&dir).map_err(|e| io("measuring the free space of", &dir)(e.into()))?;
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    if free < needed {
        return Err(BackupError::NoSpace { dir, free, needed, key });
    }

    // An empty file of the owner only, which VACUUM INTO then fills (it accepts an
    // existing empty file and keeps its mode).
    let temp = tempfile::Builder::new()
        .prefix(".wangge-backup-")
        .suffix(".db")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(io("creating a file in", &dir))?;
    let temp_path = temp.path().to_owned();
    let copied = sqlx::query("VACUUM INTO $1").bind(temp_path.to_string_lossy().into_owned()).execute(&db.pool).await;
    if let Err(e) = copied {
        let e = crate::StoreError::from(e);
        if e.is_disk_full() {
            // The copy's disk filled up meanwhile (the temporary file goes with `temp`).
            let free = rustix::fs::statvfs(&dir).map_or(0, |s| s.f_bavail.saturating_mul(s.f_frsize));
            return Err(BackupError::NoSpace { dir, free, needed, key });
        }
        return Err(BackupError::Sqlite(format!(
            "copying the database into {} failed: {e}; the database itself was not changed. The key of this \
             database is {key}",
            dir.display()
        )));
    }
    let checked = {
        let path = temp_path.clone();
        tokio::task::spawn_blocking(move || integrity(&path)).await.map_err(|e| BackupError::Sqlite(e.to_string()))?
    };
    match checked {
        Ok(()) => {}
        Err(detail) => {
            return Err(BackupError::Corrupt { path: temp_path, detail, key });
        }
    }
    temp.as_file().sync_all().map_err(io("writing", &temp_path))?;
    let bytes = temp.as_file().metadata().map_err(io("reading", &temp_path))?.len();

    let file = match final_name {
        Some(name) => {
            temp.persist(&name).map_err(|e| io("naming the backup", &name)(e.error))?;
            name
        }
        None => {
            let stamp = time::OffsetDateTime::now_utc()
                .format(time::macros::format_description!("[year][month][day]-[hour][minute][second]"))
                .expect("a date formats");
            let mut temp = temp;
            let mut n = 1;
            loop {
                let name = if n == 1 {
                    dir.join(format!("{PREFIX}{stamp}.db"))
                } else {
                    dir.join(format!("{PREFIX}{stamp}-{n}.db"))
                };
                match temp.persist_noclobber(&name) {
                    Ok(_) => break name,
                    Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => {
                        temp = e.file;
                        n += 1;
                    }
                    Err(e) => return Err(io("naming the backup", &name)(e.error)),
                }
            }
        }
    };
    sync_dir(&dir);

    let removed = if into_dir { prune(&dir, options.keep.unwrap_or(DEFAULT_KEEP).max(1), &key)? } else { Vec::new() };
    let key_copied_to = match &options.key_to {
        Some(to) => Some(copy_key(&db.vault, to, &key)?),
        None => None,
    };
    Ok(BackupReport { file, bytes, elapsed: started.elapsed(), removed, key, key_copied_to })
}

/// `PRAGMA integrity_check` of a database file opened read-only: `Ok` or what it found.
pub fn integrity(path: &Path) -> Result<(), String> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let mut statement = conn.prepare("PRAGMA integrity_check").map_err(|e| e.to_string())?;
    let lines: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if lines.len() == 1 && lines[0] == "ok" {
        Ok(())
    } else {
        Err(lines.into_iter().take(5).collect::<Vec<_>>().join("; "))
    }
}

/// Whether `name` is one of our dated backups.
fn is_backup_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX).and_then(|r| r.strip_suffix(".db")) else { return false };
    let stamp = rest.get(..15).unwrap_or("");
    let (date, time) = stamp.split_at(8.min(stamp.len()));
    let suffix = &rest[stamp.len()..];
    date.len() == 8
        && date.bytes().all(|b| b.is_ascii_digit())
        && time.len() == 7
        && time.starts_with('-')
        && time[1..].bytes().all(|b| b.is_ascii_digit())
        && (suffix.is_empty() || suffix.strip_prefix('-').is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
}

/// Removes all but the newest `keep` dated backups of `dir`.
fn prune(dir: &Path, keep: usize, key: &str) -> Result<Vec<PathBuf>, BackupError> {
    let io = |source| BackupError::Io { what: "listing", path: dir.to_owned(), source, key: key.to_owned() };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_backup_name(n))
        .collect();
    // By time, and "-2" after the plain name of the same second.
    names.sort_by_key(|n| {
        let stamp = n[PREFIX.len()..PREFIX.len() + 15].to_owned();
        let n: u32 = n[PREFIX.len() + 15..].trim_end_matches(".db").trim_start_matches('-').parse().unwrap_or(1);
        (stamp, n)
    });
    let excess = names.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for name in names.into_iter().take(excess) {
        let path = dir.join(name);
        if std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Copies the key file to `to` (a directory: `wangge.key` in it), mode 0600.
fn copy_key(vault: &Vault, to: &Path, key: &str) -> Result<PathBuf, BackupError> {
    let Some(source) = vault.key_file() else {
        return Err(BackupError::Refused(format!(
            "the key comes from {key}, not from a file: keep a copy of that value apart from the backups \
             (the backup itself was made)"
        )));
    };
    // A name ending in .key (or an existing file) is the copy itself; anything else a directory.
    let target = if to.is_file() || to.extension().is_some_and(|e| e == "key") {
        to.to_owned()
    } else {
        to.join(crate::vault::KEY_FILE_NAME)
    };
    let io = |what, path: &Path| {
        let path = path.to_owned();
        let key = key.to_owned();
        move |source| BackupError::Io { what, path, source, key }
    };
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    }
    let mut text = String::new();
    File::open(source).and_then(|mut f| f.read_to_string(&mut text)).map_err(io("reading the key file", source))?;
    if let Ok(existing) = std::fs::read_to_string(&target) {
        if existing == text {
            return Ok(target);
        }
        return Err(BackupError::Refused(format!(
            "{} already holds another key; the key {key} was not copied (the backup itself was made)",
            target.display()
        )));
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&target)
        .map_err(io("creating the key copy", &target))?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(io("writing the key copy", &target))?;
    Ok(target)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The exclusive lock a server holds on `wangge.db.lock` beside its database, so
/// that `wangge restore` does not replace the file under it. Released when dropped
/// (or when the process ends, however it ends: the kernel drops the lock).
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
    pub path: PathBuf,
}

impl ServeLock {
    /// Takes the lock, or says who holds it (`Err(Some(pid))`, `Err(None)` unknown).
    pub fn acquire(db_file: &Path) -> std::io::Result<Result<Self, String>> {
        let path = lock_file(db_file);
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(&path)?;
        match file.try_lock() {
            Ok(()) => {
                // Who holds it, for the message of whoever is refused.
                file.set_len(0)?;
                let _ = writeln!(file, "{}", std::process::id());
                Ok(Ok(Self { _file: file, path }))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                Ok(Err(if pid.is_empty() { String::new() } else { format!(", process {pid}") }))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct RestoreReport {
    /// Where the replaced database was moved (with its `-wal`/`-shm`), if there was one.
    pub replaced: Option<PathBuf>,
    /// Rows of the main tables in the restored database.
    pub counts: Vec<(&'static str, i64)>,
    pub key: String,
}

/// The tables whose row counts a restore reports.
pub const MAIN_TABLES: [&str; 8] =
    ["areas", "buildings", "households", "residents", "organisations", "demands", "accounts", "audit_log"];

/// Replaces the SQLite database `db_file` with the backup `from`: refused while a
/// server holds the database, when the backup fails its integrity check, or when
/// `vault` (the key the database will be opened with) is not the key the backup's
/// protected fields are sealed with. The replaced file is kept beside, renamed
/// `NAME.replaced-YYYYMMDD-HHMMSS`.
pub fn restore(db_file: &Path, from: &Path, vault: &Vault) -> Result<RestoreReport, BackupError> {
    let key = key_location(vault);
    let lock = ServeLock::acquire(db_file).map_err(|source| BackupError::Io {
        what: "opening the lock file",
        path: lock_file(db_file),
        source,
        key: key.clone(),
    })?;
    let _lock = match lock {
        Ok(lock) => lock,
        Err(holder) => {
            return Err(BackupError::InUse { db: db_file.to_owned(), lock: lock_file(db_file), holder, key });
        }
    };
    if !from.is_file() {
        return Err(BackupError::Refused(format!("{} is not a file; nothing was changed", from.display())));
    }
    integrity(from).map_err(|detail| {
        BackupError::Refused(format!(
            "{} failed its integrity check ({detail}); nothing was changed. The key of this database is {key}",
            from.display()
        ))
    })?;
    let sealed_with: Option<String> = {
        let conn = rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let tables: i64 = conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'vault_key'",
            [],
            |r| r.get(0),
        )?;
        if tables == 0 {
            return Err(BackupError::Refused(format!(
                "{} is not a Wangge database (it has no vault_key table); nothing was changed",
                from.display()
            )));
        }
        conn.query_row("SELECT key_id FROM vault_key WHERE id = 1", [], |r| r.get(0)).ok()
    };
    if let Some(id) = &sealed_with
        && id != vault.key_id()
    {
        return Err(BackupError::Refused(format!(
            "{} holds ID card numbers and phones sealed with key {id}, but the key at {key} is {}: put the key file \
             saved with that backup there (or point --key-file / WANGGE_KEY at it); nothing was changed",
            from.display(),
            vault.key_id()
        )));
    }

    let dir = db_file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let io = |what: &'static str, path: &Path| {
        let key = key.clone();
        let path = path.to_owned();
        move |source| BackupError::Io { what, path, source, key }
    };
    // The copy first, beside the database, so that a failure leaves the database as it was.
    let mut temp = tempfile::Builder::new()
        .prefix(".wangge-restore-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(io("creating a file in", &dir))?;
    let mut source = File::open(from).map_err(io("reading", from))?;
    std::io::copy(&mut source, temp.as_file_mut()).map_err(io("copying into", &dir))?;
    temp.as_file().sync_all().map_err(io("writing", temp.path()))?;

    let replaced = if db_file.exists() {
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!("[year][month][day]-[hour][minute][second]"))
            .expect("a date formats");
        let mut name = db_file.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".replaced-{stamp}"));
        let aside = db_file.with_file_name(name);
        // The WAL and shared-memory files go with it, renamed alike so that SQLite
        // still reads them as one database.
        for suffix in ["-wal", "-shm"] {
            let mut from_name = db_file.as_os_str().to_owned();
            from_name.push(suffix);
            let mut to_name = aside.as_os_str().to_owned();
            to_name.push(suffix);
            if Path::new(&from_name).exists() {
                std::fs::rename(&from_name, &to_name).map_err(io("moving aside", Path::new(&from_name)))?;
            }
        }
        std::fs::rename(db_file, &aside).map_err(io("moving aside", db_file))?;
        Some(aside)
    } else {
        None
    };
    temp.persist(db_file).map_err(|e| io("putting the backup in place as", db_file)(e.error))?;
    sync_dir(&dir);

    let conn = rusqlite::Connection::open_with_flags(db_file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut counts = Vec::new();
    for table in MAIN_TABLES {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        if let Ok(n) = conn.query_row(&sql, [], |r| r.get::<_, i64>(0)) {
            counts.push((table, n));
        }
    }
    Ok(RestoreReport { replaced, counts, key })
}

/// The key a restore must match: `WANGGE_KEY`, else `key_file`, else `wangge.key`
/// beside the database. Never creates a key file: a new key could not open the backup.
pub fn key_for_restore(db_file: &Path, key_file: Option<&Path>) -> Result<Vault, BackupError> {
    if let Some(vault) = Vault::from_env().map_err(|e| BackupError::Refused(e.to_string()))? {
        return Ok(vault);
    }
    let path = key_file.map_or_else(|| key_file_beside(db_file), Path::to_owned);
    if !path.is_file() {
        return Err(BackupError::Refused(format!(
            "there is no key at {}: copy the key file kept with the backups there (or point --key-file or \
             WANGGE_KEY at it) before restoring; without it the restored ID card numbers and phones cannot be read. \
             Nothing was changed",
            path.display()
        )));
    }
    Vault::from_file(&path).map_err(|e| BackupError::Refused(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::is_backup_name;

    #[test]
    fn only_dated_backups_are_pruned() {
        assert!(is_backup_name("wangge-20261203-052900.db"));
        assert!(is_backup_name("wangge-20261203-052900-2.db"));
        for other in ["wangge.db", "wangge-latest.db", "wangge-20261203.db", "wangge-20261203-0529.db", "x.db"] {
            assert!(!is_backup_name(other), "{other}");
        }
    }
}
